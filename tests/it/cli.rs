//! The CLI client against a live daemon: `jolt action`, `jolt actions`, `jolt stop`,
//! `jolt events [--follow]`, and errors that carry the API's message.

use crate::common;

use common::Daemon;
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// `jolt <args>` aimed at `d` through `JOLT_CONTROL_ADDR`, with `env` on top.
fn jolt(d: &Daemon, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jolt"));
    cmd.args(args)
        .env("JOLT_CONTROL_ADDR", d.control.to_string())
        .env_remove("JOLT_CONTROL_TOKEN")
        .env_remove("JOLT_CONTROL_TOKEN_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running jolt")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn start_list_and_stop_actions() {
    let d = Daemon::start(&[]);
    assert_eq!(stdout(&jolt(&d, &["actions"], &[])), "no actions\n");

    let out = stdout(&jolt(
        &d,
        &[
            "action",
            "cpu",
            "--percent",
            "50",
            "--duration",
            "1s",
            "--cores",
            "1",
        ],
        &[],
    ));
    assert!(out.starts_with("started cpu-"), "{out}");
    assert!(
        out.contains("percent=50") && out.contains("duration=1s"),
        "{out}"
    );
    let id = out.split_whitespace().nth(1).unwrap().to_string();

    let table = stdout(&jolt(&d, &["actions"], &[]));
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("ID"), "{table}");
    assert!(
        lines.any(|l| l.starts_with(&format!("{id} ")) && l.contains("cpu")),
        "{table}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&jolt(&d, &["actions", "--json"], &[]))).unwrap();
    assert_eq!(json[0]["id"], id);

    // A second, long action to stop with --all.
    let out = stdout(&jolt(
        &d,
        &[
            "action",
            "cpu",
            "--percent=10",
            "--duration=60s",
            "--cores=1",
        ],
        &[],
    ));
    let long = out.split_whitespace().nth(1).unwrap().to_string();
    let out = stdout(&jolt(&d, &["stop", "--all"], &[]));
    assert!(out.starts_with("stopped "), "{out}");
    let (_, _, body) = common::get(&d.control_url(&format!("/actions/{long}")), None);
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_ne!(view["state"], "running", "{view}");

    // Stopping it again: the API's 409 message, non-zero exit.
    let o = jolt(&d, &["stop", &long], &[]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("HTTP 409"), "{err}");
}

#[test]
fn bad_parameters_exit_non_zero_with_the_api_message() {
    let d = Daemon::start(&[]);
    let cases: [(&[&str], &str); 4] = [
        (&["action", "cpu", "--bogus", "1"], "unknown field `bogus`"),
        (
            &["action", "cpu", "--percent", "500"],
            "percent must be between 1 and 100, not 500",
        ),
        (&["action", "warp"], "unknown action kind `warp`"),
        (&["stop", "cpu-999"], "no action with id `cpu-999`"),
    ];
    for (args, expected) in cases {
        let o = jolt(&d, args, &[]);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.starts_with("jolt: error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
    }
    assert_eq!(stdout(&jolt(&d, &["actions"], &[])), "no actions\n");
    // Unreachable daemon: a clear error, not a panic.
    let o = jolt(&d, &["actions", "--control", "127.0.0.1:1"], &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot reach the jolt control API"));
}

#[test]
fn the_token_comes_from_the_environment() {
    let d = Daemon::start_with_env(&[], &[("JOLT_CONTROL_TOKEN", "t0ken")]);
    let o = jolt(&d, &["actions"], &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 401"));
    assert_eq!(
        stdout(&jolt(&d, &["actions"], &[("JOLT_CONTROL_TOKEN", "t0ken")])),
        "no actions\n"
    );
}

#[test]
fn events_print_and_follow() {
    let d = Daemon::start(&[]);
    assert!(
        !jolt(&d, &["action", "cpu", "--percent", "0"], &[])
            .status
            .success()
    );
    let out = stdout(&jolt(&d, &["events"], &[]));
    let line = out
        .lines()
        .find(|l| l.contains("action_refused"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.starts_with('#') && line.contains("warning"), "{line}");

    let mut follow = Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args(["events", "--follow", "--since", "999999"])
        .env("JOLT_CONTROL_ADDR", d.control.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reader = BufReader::new(follow.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in reader.lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    // The stream is open once the CLI has connected; retry the trigger until a line arrives.
    let mut got = None;
    for _ in 0..20 {
        assert!(
            !jolt(&d, &["action", "cpu", "--percent", "101"], &[])
                .status
                .success()
        );
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(500)) {
            got = Some(l);
            break;
        }
    }
    let _ = follow.kill();
    let _ = follow.wait();
    let l = got.expect("jolt events --follow printed a line");
    assert!(l.contains("action_refused") && l.contains("101"), "{l}");
}
