//! Run reports without Prometheus: every run is recorded into `<state_dir>/runs/<id>/` when it
//! ends (the bundle says its series are missing), every format renders, bad requests get JSON
//! 4xx (409 while a run plays), past runs survive a restart, retention drops the oldest, a
//! plain time window can be recorded, and headless Chromium reads the HTML page (every chart's
//! SVG and the verdict, no network request) from a file and from the API.

use crate::common;
use crate::stack;

use common::{Daemon, call, wait_for};
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const SHORT: &str = r#"title: Short report
duration: 4s
steps:
  - {id: slow, at: 0, note: payment slows down, action: {kind: fault, service: payment, latency: 5ms}, duration: 3s}
  - {at: 1, note: a little CPU, action: {kind: cpu, percent: 10, cores: 1}, duration: 2s}
expect:
  - alert: ServiceDown
    never: true
"#;

const LONG: &str = r#"title: Long
duration: 60s
steps:
  - {at: 0, action: {kind: fault, service: search, latency: 1ms}, duration: 60s}
"#;

/// Headless Chromium, as `require_tools` names it.
pub const CHROMIUM: &str = "chromium|chromium-browser";

/// `GET path` → (status, content type, body).
pub fn fetch(d: &Daemon, path: &str, accept: Option<&str>) -> (u16, String, String) {
    common::get(&d.control_url(path), accept)
}

/// Uploads `yaml` as scenario `name` and starts it; returns the run id.
pub fn start(d: &Daemon, name: &str, yaml: &str) -> String {
    let (status, put) = common::put_scenario(d, name, yaml);
    assert!((200..300).contains(&status), "PUT {name}: {status} {put}");
    let (status, run) = call(
        "POST",
        &d.control_url(&format!("/scenarios/{name}/start")),
        "",
    );
    assert_eq!(status, 201, "{run}");
    run["id"].as_str().unwrap().to_string()
}

/// Waits (generously) until `GET /runs/{id}` says the run is recorded.
pub fn wait_recorded(d: &Daemon, id: &str, limit: Duration) -> Value {
    wait_for(limit, || {
        let (_, run) = call("GET", &d.control_url(&format!("/runs/{id}")), "");
        (run["recorded"] == true).then_some(run)
    })
    .unwrap_or_else(|| {
        panic!(
            "run {id} was never recorded; logs: {:?}",
            d.logs.lock().unwrap()
        )
    })
}

/// The DOM Chromium builds from `url` (`--dump-dom`), in its own process group. Its net log
/// must name no http(s) URL but the page itself (and its origin).
pub fn chromium_dom(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let netlog = profile.path().join("net.json");
    let out = Command::new(stack::binary(&["chromium", "chromium-browser"]))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .args(["--dump-dom", url])
        // Chromium's scratch dirs (`org.chromium.Chromium.*`) go with the profile.
        .env("TMPDIR", profile.path())
        .process_group(0)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("running chromium");
    assert!(out.status.success(), "chromium --dump-dom {url} failed");
    let log = std::fs::read_to_string(&netlog).expect("chromium wrote its net log");
    // The page's own origin appears as its connection group (`http://host:port/`).
    let origin: String = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    let others: Vec<String> = logged_urls(&log)
        .into_iter()
        .filter(|u| u != url && u.trim_end_matches('/') != origin)
        .collect();
    assert!(others.is_empty(), "the page made requests: {others:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The http(s) URLs a Chromium net log names, but Chromium's own calls home (update, time,
/// accounts: Google hosts, whatever the page holds).
fn logged_urls(log: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in log.split("\"url\":\"").skip(1) {
        let u = part.split('"').next().unwrap_or("");
        let host = u.split('/').nth(2).unwrap_or("");
        let own = [".google.com", ".googleapis.com", ".gstatic.com"]
            .iter()
            .any(|h| host.ends_with(h));
        if (u.starts_with("http://") || u.starts_with("https://"))
            && !own
            && !out.iter().any(|x| x == u)
        {
            out.push(u.to_string());
        }
    }
    out
}

/// Checks the DOM of an HTML report: as many `<svg` as chart figures (at least `min`), the
/// verdict element, nothing that would make a request.
pub fn check_dom(dom: &str, verdict: &str, min: usize) {
    let figures = dom.matches("<figure class=\"chart\"").count();
    let svgs = dom.matches("<svg").count();
    assert!(figures >= min, "{figures} charts, expected at least {min}");
    assert_eq!(svgs, figures, "every chart has its <svg>");
    assert!(
        dom.contains(&format!("id=\"verdict\">{verdict}<")),
        "verdict {verdict} not in the DOM"
    );
    assert_no_requests(dom);
}

/// A self-contained page: no script, no `src=`, no stylesheet link, no `@import` or `url(`,
/// and a CSP that forbids every fetch.
pub fn assert_no_requests(html: &str) {
    let lower = html.to_lowercase();
    for bad in [
        "<script", " src=", "<link", "@import", "url(", "<img", "<iframe",
    ] {
        assert!(
            !lower.contains(bad),
            "the page would make a request: `{bad}`"
        );
    }
    assert!(lower.contains("default-src 'none'"), "no CSP");
}

/// Every file under `dir`, relative.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn runs_are_recorded_reported_and_survive_a_restart() {
    // jolt's temp dir and home are empty dirs of the test: nothing may appear there.
    let outside = tempfile::tempdir().unwrap();
    let tmp = outside.path().join("tmp");
    let home = outside.path().join("home");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let env = [
        ("TMPDIR", tmp.to_str().unwrap()),
        ("HOME", home.to_str().unwrap()),
    ];
    let flags = [
        "--reports-keep",
        "3",
        "--grafana-url",
        "http://grafana.example:3000",
    ];
    let mut d = Daemon::start_in(tempfile::tempdir().unwrap(), &flags, &env);

    // A run that plays answers 409; unknown ids 404.
    let long = start(&d, "long", LONG);
    let (status, _, body) = fetch(&d, &format!("/runs/{long}/report"), None);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("still running"), "{body}");
    let (status, _, body) = fetch(&d, "/runs/nope/report", None);
    assert_eq!(status, 404, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "not_found", "{v}");

    let first = start(&d, "short-report", SHORT);
    let run = wait_recorded(&d, &first, Duration::from_secs(60));
    assert_eq!(run["state"], "completed");
    let bundle = d.state_dir.path().join("runs").join(&first);
    for f in ["manifest.json", "events.ndjson", "series.csv"] {
        assert!(
            bundle.join(f).is_file(),
            "{f} missing in {}",
            bundle.display()
        );
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).unwrap())
            .unwrap();
    assert!(
        manifest["series_missing"]
            .as_str()
            .unwrap()
            .contains("--prometheus-url"),
        "{manifest}"
    );
    assert_eq!(manifest["run"]["steps"].as_array().unwrap().len(), 2);
    assert_eq!(
        manifest["actions"].as_array().unwrap().len(),
        2,
        "{manifest}"
    );
    let events = std::fs::read_to_string(bundle.join("events.ndjson")).unwrap();
    assert!(
        events.lines().any(|l| l.contains("\"run_completed\"")),
        "{events}"
    );

    // Every format renders; format= wins, Accept picks otherwise.
    let path = format!("/runs/{first}/report");
    let (status, ct, html) = fetch(&d, &path, None);
    assert_eq!((status, ct.starts_with("text/html")), (200, true), "{ct}");
    assert!(
        html.contains("series missing"),
        "the page says the series are missing"
    );
    assert!(
        html.contains("grafana.example:3000") && html.contains("jolt-load-control"),
        "the Load Control dashboard link"
    );
    assert!(html.contains("payment slows down"), "the story");
    assert_no_requests(&html);
    let (_, ct, first_md) = fetch(&d, &path, Some("text/markdown"));
    assert!(ct.starts_with("text/markdown"), "{ct}");
    assert!(
        first_md.contains("**Verdict: UNVERIFIED**")
            && first_md.contains("| 0:00 | fault | payment slows down |"),
        "{first_md}"
    );
    let (_, _, json) = fetch(&d, &format!("{path}?format=json"), Some("text/html"));
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["manifest"]["id"], first.as_str());
    assert_eq!(json["series"].as_array().unwrap().len(), 0);
    let (_, ct, csv) = fetch(&d, &format!("{path}?format=csv"), None);
    assert!(
        ct.starts_with("text/csv") && csv.starts_with("time,offset_seconds"),
        "{csv}"
    );
    let (_, ct, xml) = fetch(&d, &format!("{path}?format=junit"), None);
    assert!(
        ct.starts_with("application/xml") && xml.contains("ServiceDown never"),
        "{xml}"
    );
    let (status, _, body) = fetch(&d, &format!("/runs/{first}/promtool-test"), None);
    assert_eq!(status, 422, "no series, no rule test: {body}");

    // The CLI writes the same report; the format comes from the file name.
    let out_dir = tempfile::tempdir().unwrap();
    let md_file = out_dir.path().join("first.md");
    let cli = Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args(["report", &first, "--control", &d.control.to_string(), "-o"])
        .arg(&md_file)
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert_eq!(std::fs::read_to_string(&md_file).unwrap(), first_md);
    let cli = Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args(["report", "nope", "--control", &d.control.to_string()])
        .output()
        .unwrap();
    assert!(!cli.status.success());
    assert!(String::from_utf8_lossy(&cli.stderr).contains("no run or recorded run with id `nope`"));

    // Bad input.
    let (status, _, body) = fetch(&d, &format!("{path}?format=pdf"), None);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("unknown format `pdf`"), "{body}");
    let (status, _, body) = fetch(&d, &format!("/runs/{first}/compare/{first}"), None);
    assert_eq!(status, 422, "{body}");
    let (status, _, body) = fetch(&d, &format!("/runs/{first}/compare/nope"), None);
    assert_eq!(status, 404, "{body}");
    let (status, _, body) = fetch(&d, &format!("/runs/{first}/compare/{long}"), None);
    assert_eq!(status, 409, "a run without a bundle: {body}");
    let (status, v) = call(
        "POST",
        &d.control_url("/runs/record"),
        r#"{"name": "w", "from": "yesterday"}"#,
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["field"], "from", "{v}");
    let (status, v) = call(
        "POST",
        &d.control_url("/runs/record"),
        r#"{"name": "w", "from": 2000, "to": 1000}"#,
    );
    assert_eq!(status, 422, "{v}");
    let (status, v) = call("DELETE", &d.control_url(&format!("/runs/{long}")), "");
    assert_eq!(status, 200, "{v}");

    // A plain time window of single actions.
    let (status, a) = call(
        "POST",
        &d.control_url("/actions/cpu"),
        r#"{"percent": 5, "duration": "1s", "cores": 1}"#,
    );
    assert_eq!(status, 201, "{a}");
    common::wait_ended(&d, a["id"].as_str().unwrap(), Duration::from_secs(30));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let body = format!(r#"{{"name": "game day", "from": {}}}"#, now - 30.0);
    let (status, w) = call("POST", &d.control_url("/runs/record"), &body);
    assert_eq!(status, 201, "{w}");
    let window = w["id"].as_str().unwrap().to_string();
    assert!(window.starts_with("window-"), "{w}");
    let (status, _, md) = fetch(&d, &format!("/runs/{window}/report?format=md"), None);
    assert_eq!(status, 200);
    assert!(
        md.contains("# game day") && md.contains(a["id"].as_str().unwrap()),
        "{md}"
    );

    // Chromium reads the page from a file and from the API.
    if crate::common::require_tools(&[CHROMIUM]) {
        let file = tempfile::tempdir().unwrap();
        let page = file.path().join("report.html");
        std::fs::write(&page, &html).unwrap();
        check_dom(
            &chromium_dom(&format!("file://{}", page.display())),
            "UNVERIFIED",
            3,
        );
        check_dom(&chromium_dom(&d.control_url(&path)), "UNVERIFIED", 3);
    }

    // Restart with the same state dir: the past run and its report are still there.
    let (_, stopped_run) = call("GET", &d.control_url(&format!("/runs/{long}")), "");
    wait_recorded(&d, &long, Duration::from_secs(60));
    assert_eq!(stopped_run["state"], "stopped");
    d.terminate(Duration::from_secs(10));
    let state = std::mem::replace(&mut d.state_dir, tempfile::tempdir().unwrap());
    let d = Daemon::start_in(state, &flags, &env);
    let (_, runs) = call("GET", &d.control_url("/runs"), "");
    let past: Vec<&Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["past"] == true)
        .collect();
    let ids: Vec<&str> = past.iter().filter_map(|r| r["id"].as_str()).collect();
    assert!(
        ids.contains(&first.as_str()) && ids.contains(&long.as_str()),
        "{runs}"
    );
    assert!(past.iter().all(|r| r["recorded"] == true));
    let (status, _, again) = fetch(&d, &format!("{path}?format=md"), None);
    assert_eq!(status, 200);
    assert_eq!(again, first_md, "the same report after a restart");
    // A new run does not take a past run's id.
    let next = start(&d, "short-report", SHORT);
    assert!(next != first && next != long, "{next}");
    wait_recorded(&d, &next, Duration::from_secs(60));

    // Retention: at most 3 bundles; the oldest (the first run) went first.
    let dirs: Vec<String> = std::fs::read_dir(d.state_dir.path().join("runs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(dirs.len(), 3, "{dirs:?}");
    assert!(
        !dirs.contains(&first),
        "the oldest bundle is dropped: {dirs:?}"
    );
    let (status, _, _) = fetch(&d, &path, None);
    assert_eq!(status, 404);

    // Nothing was written outside the state dir.
    assert_eq!(files_under(&tmp), Vec::<String>::new());
    assert_eq!(files_under(&home), Vec::<String>::new());
    for f in files_under(d.state_dir.path()) {
        assert!(
            f.starts_with("runs/") || f.starts_with("scratch/"),
            "unexpected {f}"
        );
    }
}
