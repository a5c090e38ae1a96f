//! Fleet control over real sockets: three jolt daemons on loopback behind one token and a
//! Prometheus file_sd file naming them; the `jolt` CLI acts on all, some or a sample of them,
//! and a dead instance is reported and fails the command while the others are acted on.

use crate::fleet_lab;

use fleet_lab::*;
use serde_json::Value;

#[test]
fn an_action_starts_lists_and_stops_on_every_instance() {
    let lab = Lab::start();
    let sd = lab.sd();
    let out = ok(&lab.jolt(&action_args(&["--fleet", &sd])));
    for i in 0..3 {
        assert_eq!(lab.running(i).len(), 1, "instance {i}: {out}");
        assert!(out.contains(&lab.instance(i)), "{out}");
    }
    assert!(out.starts_with("INSTANCE"), "{out}");

    let table = ok(&lab.jolt(&["actions", "--fleet", &sd]));
    for i in 0..3 {
        let line = table
            .lines()
            .find(|l| l.starts_with(&lab.instance(i)))
            .unwrap_or_else(|| panic!("no row for instance {i}: {table}"));
        assert!(line.contains("fault") && line.contains("running"), "{line}");
    }
    let json: Value =
        serde_json::from_str(&ok(&lab.jolt(&["actions", "--fleet", &sd, "--json"]))).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3, "{json}");

    let stopped = ok(&lab.jolt(&["stop", "--all", "--fleet", &sd]));
    assert_eq!(stopped.lines().count(), 4, "{stopped}");
    for i in 0..3 {
        assert!(
            lab.running(i).is_empty(),
            "instance {i} still runs: {stopped}"
        );
    }
}

#[test]
fn select_and_sample_pick_the_right_instances() {
    let lab = Lab::start();
    let sd = lab.sd();
    ok(&lab.jolt(&action_args(&["--fleet", &sd, "--select", "role=web"])));
    let counts: Vec<usize> = (0..3).map(|i| lab.running(i).len()).collect();
    assert_eq!(counts, [1, 1, 0]);
    lab.stop_all();

    ok(&lab.jolt(&action_args(&["--fleet", &sd, "--select", "role!=web"])));
    let counts: Vec<usize> = (0..3).map(|i| lab.running(i).len()).collect();
    assert_eq!(counts, [0, 0, 1]);
    lab.stop_all();

    for (spec, want) in [("2", 2), ("33%", 1), ("100%", 3)] {
        let out = ok(&lab.jolt(&action_args(&["--fleet", &sd, "--sample", spec])));
        let counts: Vec<usize> = (0..3).map(|i| lab.running(i).len()).collect();
        assert_eq!(counts.iter().sum::<usize>(), want, "--sample {spec}: {out}");
        assert!(
            counts.iter().all(|c| *c <= 1),
            "--sample {spec}: {counts:?}"
        );
        assert_eq!(out.lines().count(), want + 1, "{out}");
        lab.stop_all();
    }

    let none = lab.jolt(&action_args(&["--fleet", &sd, "--select", "role=cache"]));
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no instance"));
    let after_kind = lab.jolt(&["action", "fault", "--service", "auth", "--fleet", &sd]);
    assert!(!after_kind.status.success());
    assert!(String::from_utf8_lossy(&after_kind.stderr).contains("goes before the action kind"));
    let no_fleet = lab.jolt(&action_args(&["--select", "role=web"]));
    assert!(!no_fleet.status.success());
    assert!(String::from_utf8_lossy(&no_fleet.stderr).contains("--fleet"));
}

#[test]
fn a_dead_instance_is_reported_and_fails_the_command() {
    let lab = Lab::start();
    let dead = dead_address();
    let sd = lab.write_sd("with-dead.json", &[("dead-host:9477", &dead)]);
    let out = lab.jolt(&action_args(&["--fleet", &sd, "--fleet-timeout", "3s"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stderr.contains("failed on 1 of 4 instance(s): dead-host:9477"),
        "{stderr}"
    );
    assert!(stderr.contains("runs on 3 of 4 instances"), "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("dead-host:9477"))
        .expect(&stdout);
    assert!(row.contains("cannot reach"), "{row}");
    for i in 0..3 {
        assert_eq!(
            lab.running(i).len(),
            1,
            "the others are still acted on: {stdout}"
        );
    }
    let listed = lab.jolt(&["actions", "--fleet", &sd]);
    assert!(!listed.status.success());
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout)
            .matches("running")
            .count(),
        3
    );
    lab.stop_all();

    // --all-or-nothing: the start is undone where it had worked.
    let out = lab.jolt(&action_args(&["--fleet", &sd, "--all-or-nothing"]));
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("stopped").count(), 3, "{stdout}");
    for i in 0..3 {
        assert!(lab.running(i).is_empty(), "instance {i} kept a half-start");
    }
}
