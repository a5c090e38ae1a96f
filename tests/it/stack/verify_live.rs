//! The live stack for verified-scenario tests: jolt pointed at a real Prometheus (the shipped
//! prometheus.yml and rules) and a real Alertmanager (the shipped alertmanager.yml and
//! templates) on loopback, with a fake Slack. Only addresses, ports and the Slack URL file are
//! substituted, as in `stack_e2e.rs`.

use crate::common::{Daemon, agent, poll_every};
use crate::stack::*;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// A running stack; every process is killed when it is dropped.
#[allow(dead_code)]
pub struct Live {
    pub jolt: Daemon,
    pub prometheus: Option<Proc>,
    pub alertmanager: Proc,
    pub slack: FakeSlack,
    pub prom_url: String,
    pub am_url: String,
    pub instance: String,
    pub dir: tempfile::TempDir,
}

impl Live {
    /// Starts Prometheus, Alertmanager and a jolt that knows both, and waits until
    /// Prometheus has scraped jolt.
    pub fn start() -> Live {
        let dir = tempfile::tempdir().unwrap();
        let slack = FakeSlack::start();
        let (prom_port, am_port) = (free_port(), free_port());
        let prom_url = format!("http://127.0.0.1:{prom_port}");
        let am_addr = format!("127.0.0.1:{am_port}");
        let am_url = format!("http://{am_addr}");
        let jolt = Daemon::start(&["--prometheus-url", &prom_url, "--alertmanager-url", &am_url]);
        let instance = jolt.metrics.to_string();

        let pdir = dir.path().join("prometheus");
        std::fs::create_dir_all(&pdir).unwrap();
        let shipped = compose_layout("prometheus", "/etc/prometheus", "prometheus.yml", &pdir);
        let cfg = std::fs::read_to_string(&shipped).unwrap();
        std::fs::write(
            pdir.join("prometheus.yml"),
            substitute(&cfg, "alertmanager:9093", &am_addr),
        )
        .unwrap();
        let targets_dir = pdir.join("targets");
        let shipped_targets = std::fs::read_link(&targets_dir).unwrap();
        std::fs::remove_file(&targets_dir).unwrap();
        std::fs::create_dir(&targets_dir).unwrap();
        for f in std::fs::read_dir(&shipped_targets).unwrap() {
            let f = f.unwrap();
            let t = std::fs::read_to_string(f.path()).unwrap();
            std::fs::write(
                targets_dir.join(f.file_name()),
                substitute(&t, "jolt:9477", &instance),
            )
            .unwrap();
        }
        let mut cmd = Command::new(binary(&["prometheus"]));
        cmd.arg(format!(
            "--config.file={}",
            pdir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"));
        let prometheus = Proc::spawn("prometheus", cmd, dir.path().join("prometheus.log"));

        let adir = dir.path().join("alertmanager");
        std::fs::create_dir_all(&adir).unwrap();
        let shipped = compose_layout(
            "alertmanager",
            "/etc/alertmanager",
            "alertmanager.yml",
            &adir,
        );
        let slack_file = adir.join("slack_webhook_url");
        std::fs::write(&slack_file, format!("{}\n", slack.url())).unwrap();
        let cfg = std::fs::read_to_string(&shipped).unwrap();
        let cfg = substitute(
            &cfg,
            "/run/secrets/slack_webhook_url",
            slack_file.to_str().unwrap(),
        );
        let cfg = substitute(
            &cfg,
            "http://jolt:9478",
            &format!("http://{}", jolt.control),
        );
        std::fs::write(adir.join("alertmanager.yml"), cfg).unwrap();
        let mut cmd = Command::new(binary(&["alertmanager", "prometheus-alertmanager"]));
        cmd.arg(format!(
            "--config.file={}",
            adir.join("alertmanager.yml").display()
        ))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("am-data").display()
        ))
        .arg(format!("--web.listen-address={am_addr}"))
        .arg("--cluster.listen-address=");
        let alertmanager = Proc::spawn("alertmanager", cmd, dir.path().join("alertmanager.log"));

        let mut live = Live {
            jolt,
            prometheus: Some(prometheus),
            alertmanager,
            slack,
            prom_url,
            am_url,
            instance,
            dir,
        };
        for url in [
            format!("{}/-/ready", live.prom_url),
            format!("{}/-/ready", live.am_url),
        ] {
            let ready = poll_every(Duration::from_millis(250), Duration::from_secs(30), || {
                agent().get(&url).call().ok().filter(|r| r.status() == 200)
            });
            if ready.is_none() {
                live.prometheus.as_mut().unwrap().assert_running();
                live.alertmanager.assert_running();
                panic!("{url} not ready: {}", live.logs());
            }
        }
        let up = poll_every(Duration::from_millis(250), Duration::from_secs(30), || {
            let q = format!("up{{job=\"jolt\",instance=\"{}\"}} == 1", live.instance);
            let mut r = agent()
                .post(&format!("{}/api/v1/query", live.prom_url))
                .send_form([("query", q.as_str())])
                .ok()?;
            let v: Value = serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()?;
            (!v["data"]["result"].as_array()?.is_empty()).then_some(())
        });
        assert!(up.is_some(), "jolt never scraped: {}", live.logs());
        live
    }

    /// The end of Prometheus's and Alertmanager's logs, for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "\n--- prometheus:\n{}\n--- alertmanager:\n{}",
            self.prometheus
                .as_ref()
                .map(|p| p.log_tail())
                .unwrap_or_default(),
            self.alertmanager.log_tail()
        )
    }

    /// Stops Prometheus (killed and reaped).
    pub fn stop_prometheus(&mut self) {
        self.prometheus.take();
    }
}
