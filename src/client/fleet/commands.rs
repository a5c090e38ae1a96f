//! The client commands on a fleet: start an action or a scenario everywhere, list actions and
//! runs of every instance in one table, stop everywhere.

use super::{Fleet, Outcome, failures};
use crate::client::actions::{ACTION_HEADER, action_row, urlencode_path};
use crate::client::runs::{RUN_HEADER, run_row};
use crate::client::table::{cell, render};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// One table of every instance's rows (a row of `-` for an instance with none): `INSTANCE`
/// first, and a `HOST ERROR` column when some instance did not answer.
fn table<T>(
    outcomes: &[Outcome<'_, T>],
    header: &[&str],
    rows: impl Fn(&T) -> Vec<Vec<String>>,
) -> String {
    let any_error = outcomes.iter().any(|o| o.result.is_err());
    let mut head = vec!["INSTANCE"];
    head.extend_from_slice(header);
    if any_error {
        head.push("HOST ERROR");
    }
    let mut out = Vec::new();
    for o in outcomes {
        match &o.result {
            Ok(v) => {
                let mut rows = rows(v);
                if rows.is_empty() {
                    // An instance with nothing to list still shows that it answered.
                    rows.push(header.iter().map(|_| "-".to_string()).collect());
                }
                for row in rows {
                    let mut r = vec![o.target.instance.clone()];
                    r.extend(row);
                    if any_error {
                        r.push(String::new());
                    }
                    out.push(r);
                }
            }
            Err(e) => {
                let mut r = vec![o.target.instance.clone()];
                r.extend(header.iter().map(|_| "-".to_string()));
                r.push(format!("{e:#}"));
                out.push(r);
            }
        }
    }
    render(&head, &out)
}

/// Rows of a JSON list answer.
fn list_rows(list: &Value, row: fn(&Value) -> Vec<String>) -> Vec<Vec<String>> {
    list.as_array()
        .map_or(Vec::new(), |l| l.iter().map(row).collect())
}

/// Prints `[{"instance", "<key>": answer} | {"instance", "error"}]`.
fn print_json(outcomes: &[Outcome<'_, Value>], key: &str) -> anyhow::Result<()> {
    let all: Vec<Value> = outcomes
        .iter()
        .map(|o| match &o.result {
            Ok(v) => json!({ "instance": o.target.instance, key: v }),
            Err(e) => json!({ "instance": o.target.instance, "error": format!("{e:#}") }),
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&all)?);
    Ok(())
}

/// After a start that failed somewhere: undo it where it worked (`--all-or-nothing`) or say
/// loudly where it is running.
fn partial_start(
    fleet: &Fleet,
    outcomes: &mut [Outcome<'_, Value>],
    what: &str,
    undo: impl Fn(&crate::client::Client, &Value) -> anyhow::Result<Value> + Sync,
) {
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    if failed == 0 || failed == outcomes.len() {
        return;
    }
    if !fleet.all_or_nothing {
        eprintln!(
            "jolt: {what} runs on {} of {} instances; stop it there or retry with --all-or-nothing",
            outcomes.len() - failed,
            outcomes.len()
        );
        return;
    }
    let started: Vec<Option<Value>> = outcomes
        .iter()
        .map(|o| o.result.as_ref().ok().cloned())
        .collect();
    let undone = fleet.each(|i, client| match &started[i] {
        Some(v) => undo(client, v).map(Some),
        None => Ok(None),
    });
    for (o, u) in outcomes.iter_mut().zip(undone) {
        if let Ok(v) = &mut o.result {
            match u.result {
                Ok(Some(after)) => *v = after,
                Ok(None) => {}
                Err(e) => eprintln!(
                    "jolt: could not undo {what} on {}: {e:#}",
                    o.target.instance
                ),
            }
        }
    }
    eprintln!("jolt: --all-or-nothing: {what} was stopped on the instances where it had started");
}

/// `jolt action KIND … --fleet`: POST `path` on every instance.
pub fn action(fleet: &Fleet, path: &str) -> anyhow::Result<()> {
    let mut outcomes = fleet.each(|_, c| c.post(path, None));
    partial_start(fleet, &mut outcomes, "the action", |c, v| {
        c.delete(&format!("/actions/{}", urlencode_path(&cell(&v["id"]))))
    });
    print!(
        "{}",
        table(&outcomes, &ACTION_HEADER, |v| vec![action_row(v)])
    );
    failures(&outcomes, "starting the action")
}

/// `jolt actions --fleet`.
pub fn actions(fleet: &Fleet, json: bool) -> anyhow::Result<()> {
    let outcomes = fleet.each(|_, c| c.get("/actions"));
    if json {
        print_json(&outcomes, "actions")?;
    } else {
        print!(
            "{}",
            table(&outcomes, &ACTION_HEADER, |v| list_rows(v, action_row))
        );
    }
    failures(&outcomes, "listing actions")
}

/// `jolt stop ID|--all --fleet`: DELETE `path` everywhere.
pub fn stop(fleet: &Fleet, path: &str) -> anyhow::Result<()> {
    let outcomes = fleet.each(|_, c| c.delete(path));
    print!(
        "{}",
        table(&outcomes, &["STOPPED", "STATE"], |v| vec![vec![
            v.get("stopped").map_or_else(|| cell(&v["id"]), cell),
            v.get("state").map_or("-".into(), cell),
        ]])
    );
    failures(&outcomes, "stopping")
}

/// `jolt runs --fleet`.
pub fn runs(fleet: &Fleet, json: bool) -> anyhow::Result<()> {
    let outcomes = fleet.each(|_, c| c.get("/runs"));
    if json {
        print_json(&outcomes, "runs")?;
    } else {
        print!(
            "{}",
            table(&outcomes, &RUN_HEADER, |v| list_rows(v, run_row))
        );
    }
    failures(&outcomes, "listing runs")
}

/// What `jolt scenario start NAME --fleet` asks of every instance.
pub struct FleetStart {
    /// `/scenarios/NAME/start`.
    pub path: String,
    /// Timeline compression.
    pub speed: Option<f64>,
    /// How far ahead the common start is.
    pub start_in: Duration,
    /// Shared run id, or a fresh `fleet-…` one.
    pub run_id: Option<String>,
}

/// Starts one scenario on every instance at one wall-clock moment under one run id.
pub fn scenario_start(fleet: &Fleet, plan: &FleetStart) -> anyhow::Result<()> {
    let at = SystemTime::now() + plan.start_in;
    let start_at = humantime::format_rfc3339_millis(at).to_string();
    let id = plan.run_id.clone().unwrap_or_else(|| {
        let secs = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        format!("fleet-{secs}-{:04x}", fastrand::u16(..))
    });
    let mut body = json!({ "start_at": start_at, "id": id });
    if let Some(s) = plan.speed {
        body["speed"] = json!(s);
    }
    let mut outcomes = fleet.each(|_, c| c.post(&plan.path, Some(&body)));
    partial_start(fleet, &mut outcomes, &format!("run {id}"), |c, _| {
        c.delete(&format!("/runs/{}", urlencode_path(&id)))
    });
    println!(
        "run {id} starts at {start_at} on {} instance(s)",
        outcomes.len()
    );
    print!(
        "{}",
        table(&outcomes, &["RUN", "STATE", "START AT"], |v| vec![vec![
            cell(&v["id"]),
            cell(&v["state"]),
            cell(&v["start_at"]),
        ]])
    );
    failures(&outcomes, "starting the scenario")
}
