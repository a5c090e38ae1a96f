//! `--fleet-from-prometheus`: a real Prometheus scrapes three jolt daemons (job `jolt`, from a
//! file_sd file) and one more target under another job; the CLI takes exactly the `jolt` job's
//! targets from Prometheus's API and acts on them, `--select` working on their labels.

use crate::fleet_lab;
use crate::stack;

use fleet_lab::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn the_fleet_comes_from_the_targets_prometheus_scrapes() {
    if !crate::common::require_tools(&[crate::stack::PROMETHEUS]) {
        return;
    }
    let lab = Lab::start();
    let dir = tempfile::tempdir().unwrap();
    let port = stack::free_port();
    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\n\
         scrape_configs:\n\
         - job_name: jolt\n  file_sd_configs: [{{files: ['{}'], refresh_interval: 1s}}]\n\
         - job_name: other\n  static_configs: [{{targets: ['{}']}}]\n",
        lab.sd(),
        lab.daemons[0].metrics
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let mut cmd = Command::new(stack::binary(&["prometheus"]));
    cmd.arg(format!(
        "--config.file={}",
        dir.path().join("prometheus.yml").display()
    ))
    .arg(format!(
        "--storage.tsdb.path={}",
        dir.path().join("tsdb").display()
    ))
    .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let mut prom = stack::Proc::spawn("prometheus", cmd, dir.path().join("prometheus.log"));
    let url = format!("http://127.0.0.1:{port}");

    // Prometheus lists every target once its discovery ran.
    let listed = wait_for(Duration::from_secs(20), || {
        prom.assert_running();
        let out = lab.jolt(&["actions", "--fleet-from-prometheus", &url]);
        let table = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success() && table.lines().count() == 4).then_some(table)
    })
    .unwrap_or_else(|| panic!("the fleet never came from Prometheus:\n{}", prom.log_tail()));
    for i in 0..3 {
        assert!(listed.contains(&lab.instance(i)), "{listed}");
    }
    assert!(
        listed
            .lines()
            .all(|l| l.starts_with("INSTANCE") || l.contains("no actions") || l.contains(" -")),
        "{listed}"
    );

    // Labels from the file reach the CLI through Prometheus: only role=db is acted on.
    let out = ok(&lab.jolt(&action_args(&[
        "--fleet-from-prometheus",
        &url,
        "--select",
        "role=db",
    ])));
    let counts: Vec<usize> = (0..3).map(|i| lab.running(i).len()).collect();
    assert_eq!(counts, [0, 0, 1], "{out}");
    // The job of the other target is not part of the fleet: all three jolt targets, no fourth.
    let out = ok(&lab.jolt(&["stop", "--all", "--fleet-from-prometheus", &url]));
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(lab.running(2).is_empty());
    // Another job name finds nothing and says so.
    let none = lab.jolt(&[
        "actions",
        "--fleet-from-prometheus",
        &url,
        "--fleet-job",
        "nope",
    ]);
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no instance"));
}
