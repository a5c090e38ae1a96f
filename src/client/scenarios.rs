//! `jolt scenarios`, `jolt scenario start|show|put`. Runs (`jolt runs`, `jolt run …`, and
//! following one with `--follow`) are in `runs.rs`.

use super::fleet::{self, FleetArgs};
use super::runs::follow;
use super::table::{cell, print_list, render};
use super::{Client, ClientArgs};
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::time::Duration;

/// `jolt scenarios`
#[derive(Debug, Args)]
pub struct ScenariosCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    /// Print the API's JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `jolt scenario …`
#[derive(Debug, Args)]
pub struct ScenarioCmd {
    #[command(subcommand)]
    pub action: ScenarioAction,
}

/// What to do with a scenario.
// Parsed once per command line: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ScenarioAction {
    /// Start a run, e.g. `jolt scenario start ddos-attack --speed 10 --follow`
    Start(StartCmd),
    /// Print a scenario's timeline
    Show(ShowCmd),
    /// Add or replace a custom scenario from a YAML or JSON file
    Put(PutCmd),
}

/// `jolt scenario start NAME [--speed X] [--follow]`
#[derive(Debug, Args)]
pub struct StartCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    /// Scenario name (`jolt scenarios` lists them)
    pub name: String,
    /// Play the timeline this many times faster (durations and ramps too)
    #[arg(long, value_name = "FACTOR")]
    pub speed: Option<f64>,
    /// Show a live progress bar with the current step's note until the run ends
    #[arg(long, short)]
    pub follow: bool,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// With a fleet: how far ahead the common start is, so every instance has the request
    /// before it (their clocks must agree: NTP)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub start_in: Duration,
    /// With a fleet: the run id every instance uses (default: fleet-<time>-<random>)
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Wait for the verdict of the scenario's checks; exit 0 pass, 1 fail, 2 inconclusive
    /// (one daemon, not a fleet)
    #[arg(long, conflicts_with_all = ["fleet", "fleet_from_prometheus"])]
    pub verify: bool,
    /// With --verify: write a JUnit XML report here (one test case per check)
    #[arg(long, value_name = "FILE", requires = "verify")]
    pub junit: Option<std::path::PathBuf>,
}

/// `jolt scenario show NAME`
#[derive(Debug, Args)]
pub struct ShowCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    /// Scenario name
    pub name: String,
    /// Print the API's JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `jolt scenario put NAME FILE`
#[derive(Debug, Args)]
pub struct PutCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    /// Name to store it under, `[a-z0-9-]{1,64}`
    pub name: String,
    /// The scenario file (YAML or JSON)
    pub file: std::path::PathBuf,
}

/// Lists scenarios as a table.
pub fn scenarios(cmd: &ScenariosCmd) -> anyhow::Result<()> {
    let list = Client::new(&cmd.conn)?.get("/scenarios")?;
    print_list(
        &list,
        cmd.json,
        &["NAME", "TITLE", "LENGTH", "STEPS", "SOURCE"],
        |s| {
            vec![
                cell(&s["name"]),
                cell(&s["title"]),
                clock(s["duration_seconds"].as_f64().unwrap_or(0.0)),
                s["steps"].as_array().map_or(0, Vec::len).to_string(),
                if s["builtin"] == true {
                    "built-in"
                } else {
                    "custom"
                }
                .into(),
            ]
        },
    )
}

/// Runs `jolt scenario …`; `start --verify` exits with its verdict's code.
pub fn scenario(cmd: &ScenarioCmd) -> super::Outcome {
    if let ScenarioAction::Start(c) = &cmd.action
        && c.verify
    {
        return super::judged(Client::new(&c.conn).and_then(|client| {
            super::verify::start_and_judge(&client, &segment(&c.name), c.speed, c.junit.as_deref())
        }));
    }
    super::plain(scenario_cmd(cmd))
}

fn scenario_cmd(cmd: &ScenarioCmd) -> anyhow::Result<()> {
    match &cmd.action {
        ScenarioAction::Start(c) => start(c),
        ScenarioAction::Show(c) => show(c),
        ScenarioAction::Put(c) => put(c),
    }
}

fn start(cmd: &StartCmd) -> anyhow::Result<()> {
    if let Some(fleet) = cmd.fleet.resolve(&cmd.conn)? {
        if cmd.follow {
            anyhow::bail!(
                "--follow watches one instance; with a fleet, watch `jolt runs --fleet …`"
            );
        }
        let plan = fleet::commands::FleetStart {
            path: format!("/scenarios/{}/start", segment(&cmd.name)),
            speed: cmd.speed,
            start_in: cmd.start_in,
            run_id: cmd.run_id.clone(),
        };
        return fleet::commands::scenario_start(&fleet, &plan);
    }
    let client = Client::new(&cmd.conn)?;
    let body = cmd.speed.map(|s| json!({ "speed": s }));
    let path = format!("/scenarios/{}/start", segment(&cmd.name));
    let run = client.post(&path, body.as_ref())?;
    let id = cell(&run["id"]);
    println!(
        "started {id}: {} ({} at speed {})",
        cell(&run["title"]),
        clock(run["duration_seconds"].as_f64().unwrap_or(0.0)),
        cell(&run["speed"])
    );
    if !cmd.follow {
        return Ok(());
    }
    follow(&client, &id)
}

fn show(cmd: &ShowCmd) -> anyhow::Result<()> {
    let s = Client::new(&cmd.conn)?.get(&format!("/scenarios/{}", segment(&cmd.name)))?;
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!(
        "{} ({}, {})",
        cell(&s["title"]),
        cell(&s["name"]),
        clock(s["duration_seconds"].as_f64().unwrap_or(0.0))
    );
    if let Some(d) = s["description"].as_str().filter(|d| !d.is_empty()) {
        println!("{d}");
    }
    println!();
    let rows: Vec<Vec<String>> = s["steps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|st| {
            vec![
                cell(&st["at"]),
                clock(st["duration_seconds"].as_f64().unwrap_or(0.0)),
                action_line(&st["action"]),
                st["note"].as_str().unwrap_or("").into(),
            ]
        })
        .collect();
    print!("{}", render(&["AT", "FOR", "ACTION", "NOTE"], &rows));
    Ok(())
}

fn put(cmd: &PutCmd) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&cmd.file)
        .with_context(|| format!("cannot read {}", cmd.file.display()))?;
    let ct = if text.trim_start().starts_with('{') {
        "application/json"
    } else {
        "application/yaml"
    };
    let s =
        Client::new(&cmd.conn)?.put(&format!("/scenarios/{}", segment(&cmd.name)), &text, ct)?;
    println!(
        "saved {}: {} ({} steps)",
        cell(&s["name"]),
        cell(&s["title"]),
        s["steps"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}

/// `M:SS` of a number of seconds.
pub(super) fn clock(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// A step's action in one line: `traffic rps=300 target=auth`.
fn action_line(action: &Value) -> String {
    let mut out = cell(&action["kind"]);
    if let Some(map) = action.as_object() {
        for (k, v) in map.iter().filter(|(k, _)| *k != "kind") {
            out.push_str(&format!(" {k}={}", cell(v)));
        }
    }
    out
}

/// Percent-encodes one path segment the user typed.
pub(super) fn segment(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').replace('+', "%20"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_action_lines_read_well() {
        assert_eq!(clock(90.0), "1:30");
        assert_eq!(clock(0.4), "0:00");
        let a = json!({"kind": "traffic", "rps": 300, "target": "auth"});
        assert_eq!(action_line(&a), "traffic rps=300 target=auth");
        assert_eq!(segment("../etc"), "..%2Fetc");
    }
}
