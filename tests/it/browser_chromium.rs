//! A real browser against jolt: headless Chromium loads a page from one loopback port (the test
//! origin) that tries to start load on jolt, listening on another port, the three ways a page
//! can: an auto-submitted HTML form, a `no-cors` fetch with a text/plain body, and a JSON fetch
//! (which needs a CORS preflight). The page reports what it could read back to its own server.

use crate::common;
use crate::stack;

use common::Daemon;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The attacker's (or Grafana's) page; `JOLT` is replaced by jolt's control URL.
const PAGE: &str = r#"<!doctype html><html><body>
<iframe name="sink" id="sink"></iframe>
<form id="f" method="POST" target="sink" action="JOLT/actions/cpu">
  <input name="percent" value="30"><input name="duration" value="2s">
  <input name="cores" value="1"></form>
<script>
const jolt = "JOLT", results = {};
async function run() {
  await new Promise(done => {
    document.getElementById('sink').onload = done;
    setTimeout(done, 5000);
    document.getElementById('f').submit();
  });
  results.form = 'submitted';
  try {
    const r = await fetch(jolt + '/actions/cpu', {method: 'POST', mode: 'no-cors',
      headers: {'Content-Type': 'text/plain'},
      body: '{"percent": 30, "duration": "2s", "cores": 1}'});
    results.nocors = r.type;
  } catch (e) { results.nocors = 'error: ' + e; }
  try {
    const r = await fetch(jolt + '/actions/cpu', {method: 'POST',
      headers: {'Content-Type': 'application/json', 'X-Grafana-Action': '1'},
      body: JSON.stringify({percent: 30, duration: '2s', cores: 1})});
    results.json = {status: r.status, body: await r.json()};
  } catch (e) { results.json = {error: String(e)}; }
  await fetch('/report', {method: 'POST', body: JSON.stringify(results)});
}
run();
</script></body></html>"#;

/// Serves the page on `listener` (the test origin) and forwards the page's report.
fn serve_page(
    listener: TcpListener,
    jolt: SocketAddr,
) -> (SocketAddr, mpsc::Receiver<serde_json::Value>) {
    let addr = listener.local_addr().unwrap();
    let page = PAGE.replace("JOLT", &format!("http://{jolt}"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            if let Some(report) = answer(stream, &page) {
                let _ = tx.send(report);
            }
        }
    });
    (addr, rx)
}

/// One request: `GET /` → the page, `POST /report` → the report; anything else 404.
fn answer(mut s: TcpStream, page: &str) -> Option<serde_json::Value> {
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(s.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut length = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (status, ctype, out) = if line.starts_with("GET / ") {
        ("200 OK", "text/html", page.to_string())
    } else if line.starts_with("POST /report ") {
        ("204 No Content", "text/plain", String::new())
    } else {
        ("404 Not Found", "text/plain", String::new())
    };
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{out}",
        out.len()
    );
    line.starts_with("POST /report ")
        .then(|| serde_json::from_slice(&body).ok())
        .flatten()
}

/// Headless Chromium in its own process group (its helpers included), killed on drop.
struct Chromium {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Chromium {
    fn open(url: &str) -> Chromium {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(stack::binary(&["chromium", "chromium-browser"]))
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            // Chromium's scratch dirs (`org.chromium.Chromium.*`) outlive a killed browser:
            // kept in the profile, they go with it.
            .env("TMPDIR", profile.path())
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning chromium");
        Chromium {
            child,
            _profile: profile,
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // The group id is the child's pid: only processes this test started.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Runs the page, served by `listener`, in Chromium against `d` and returns its report.
fn attack(listener: TcpListener, d: &Daemon) -> serde_json::Value {
    let (page, reports) = serve_page(listener, d.control);
    let _browser = Chromium::open(&format!("http://{page}/"));
    reports
        .recv_timeout(Duration::from_secs(60))
        .expect("the page did not report within 60 s")
}

fn actions(d: &Daemon) -> Vec<serde_json::Value> {
    let (status, body) = common::call("GET", &d.control_url("/actions"), "");
    assert_eq!(status, 200);
    body.as_array().unwrap().clone()
}

#[test]
fn a_page_from_another_origin_cannot_start_load() {
    if !crate::common::require_tools(&["chromium|chromium-browser"]) {
        return;
    }
    let d = Daemon::start(&["--control-allow-origin", "http://localhost:3000"]);
    let report = attack(TcpListener::bind("127.0.0.1:0").unwrap(), &d);
    assert_eq!(report["form"], "submitted", "{report}");
    assert_eq!(report["nocors"], "opaque", "{report}");
    // The preflight was refused, so the browser never sent the JSON request.
    assert!(
        report["json"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("TypeError")),
        "{report}"
    );
    assert_eq!(actions(&d), Vec::<serde_json::Value>::new());
    // The browser did reach jolt each time: the form POST, the no-cors POST, the preflight.
    let refused = |method: &str| {
        d.logs.lock().unwrap().iter().any(|l| {
            l.contains("refused a browser request")
                && l.contains(&format!("\"method\":\"{method}\""))
        })
    };
    let seen = common::wait_for(Duration::from_secs(5), || {
        (refused("POST") && refused("OPTIONS")).then_some(())
    });
    assert!(seen.is_some(), "{:?}", d.logs.lock().unwrap());
}

#[test]
fn an_allowed_origin_starts_an_action_and_reads_the_answer() {
    if !crate::common::require_tools(&["chromium|chromium-browser"]) {
        return;
    }
    // The page's origin is only known once its server listens: bind it first.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let d = Daemon::start(&["--control-allow-origin", &origin]);
    let report = attack(listener, &d);
    assert_eq!(report["json"]["status"], 201, "{report}");
    assert_eq!(report["json"]["body"]["kind"], "cpu", "{report}");
    let id = report["json"]["body"]["id"].as_str().unwrap();
    let listed = actions(&d);
    assert!(listed.iter().any(|a| a["id"] == id), "{listed:?}");
    // From an allowed origin the form and the no-cors fetch are accepted too: three actions.
    assert_eq!(listed.len(), 3, "{listed:?}");
    for a in &listed {
        common::wait_ended(&d, a["id"].as_str().unwrap(), Duration::from_secs(20));
    }
}
