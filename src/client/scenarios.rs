//! `jolt scenarios`, `jolt scenario start|show|put`, `jolt runs`, `jolt run pause|resume|stop`.
//!
//! `jolt scenario start NAME --follow` polls the run and draws a progress bar with the
//! current step's note; each new step is also printed as a line, so the story stays in the
//! terminal (or in a log when stderr is not a terminal and the bar is hidden). Ctrl-C asks
//! whether to stop the run rather than leaving it running unseen.

use super::fleet::{self, FleetArgs};
use super::table::{cell, print_list, render};
use super::{Client, ClientArgs};
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often `--follow` asks the daemon for the run.
const POLL: Duration = Duration::from_millis(250);

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

/// `jolt runs`
#[derive(Debug, Args)]
pub struct RunsCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Print the API's JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `jolt run pause|resume|stop ID`
#[derive(Debug, Args)]
pub struct RunCmd {
    #[command(subcommand)]
    pub action: RunAction,
}

/// What to do with a run.
#[derive(Debug, Subcommand)]
pub enum RunAction {
    /// Pause the timeline and the run's actions (their load goes away)
    Pause(RunIdCmd),
    /// Resume a paused run
    Resume(RunIdCmd),
    /// Stop the run and its actions
    Stop(RunIdCmd),
}

/// A run id and the connection.
#[derive(Debug, Args)]
pub struct RunIdCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    /// Run id, e.g. run-1 (`jolt runs` lists them)
    pub id: String,
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

/// Columns of the runs table.
pub const RUN_HEADER: [&str; 7] = [
    "ID",
    "SCENARIO",
    "STATE",
    "PROGRESS",
    "TIMELINE",
    "SPEED",
    "CURRENT STEP",
];

/// One row of the runs table.
pub fn run_row(r: &Value) -> Vec<String> {
    vec![
        cell(&r["id"]),
        cell(&r["scenario"]),
        cell(&r["state"]),
        format!("{:.0}%", r["progress"].as_f64().unwrap_or(0.0) * 100.0),
        format!(
            "{}/{}",
            clock(r["elapsed_seconds"].as_f64().unwrap_or(0.0)),
            clock(r["duration_seconds"].as_f64().unwrap_or(0.0))
        ),
        cell(&r["speed"]),
        r["current_step"]["note"].as_str().unwrap_or("-").into(),
    ]
}

/// Lists runs as a table.
pub fn runs(cmd: &RunsCmd) -> anyhow::Result<()> {
    if let Some(fleet) = cmd.fleet.resolve(&cmd.conn)? {
        return fleet::commands::runs(&fleet, cmd.json);
    }
    let list = Client::new(&cmd.conn)?.get("/runs")?;
    print_list(&list, cmd.json, &RUN_HEADER, run_row)
}

/// Runs `jolt run pause|resume|stop ID`.
pub fn run(cmd: &RunCmd) -> anyhow::Result<()> {
    let (c, view) = match &cmd.action {
        RunAction::Pause(c) => (
            c,
            Client::new(&c.conn)?.post(&run_path(&c.id, "/pause"), None)?,
        ),
        RunAction::Resume(c) => (
            c,
            Client::new(&c.conn)?.post(&run_path(&c.id, "/resume"), None)?,
        ),
        RunAction::Stop(c) => (c, Client::new(&c.conn)?.delete(&run_path(&c.id, ""))?),
    };
    println!(
        "{} {} ({:.0}%)",
        c.id,
        cell(&view["state"]),
        view["progress"].as_f64().unwrap_or(0.0) * 100.0
    );
    Ok(())
}

fn run_path(id: &str, tail: &str) -> String {
    format!("/runs/{}{tail}", segment(id))
}

/// Follows a run until it ends; Ctrl-C asks whether to stop it.
fn follow(client: &Client, id: &str) -> anyhow::Result<()> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    let bar = ProgressBar::new(1000).with_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(id.to_string());
    let mut last_step = None;
    loop {
        let run = client.get(&format!("/runs/{}", segment(id)))?;
        let step = run["current_step"]["step"].as_u64();
        if step.is_some() && step != last_step {
            last_step = step;
            let cur = &run["current_step"];
            let line = format!(
                "{} {}",
                cell(&cur["at"]),
                cur["note"].as_str().unwrap_or("(no note)")
            );
            if bar.is_hidden() {
                println!("{line}");
            } else {
                bar.println(line);
            }
        }
        bar.set_position((run["progress"].as_f64().unwrap_or(0.0) * 1000.0) as u64);
        bar.set_message(format!(
            "{}/{} {} {}",
            clock(run["elapsed_seconds"].as_f64().unwrap_or(0.0)),
            clock(run["duration_seconds"].as_f64().unwrap_or(0.0)),
            cell(&run["state"]),
            run["current_step"]["note"].as_str().unwrap_or("")
        ));
        let state = cell(&run["state"]);
        if matches!(state.as_str(), "completed" | "stopped" | "failed") {
            bar.finish_and_clear();
            println!("{id} {state}");
            for s in run["steps"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if let Some(e) = s["error"].as_str() {
                    println!("  step {} at {}: {e}", cell(&s["step"]), cell(&s["at"]));
                }
            }
            if state == "failed" {
                anyhow::bail!("{id} failed: some steps could not run");
            }
            return Ok(());
        }
        std::thread::sleep(POLL);
        if interrupted.swap(false, Ordering::SeqCst) && bar.suspend(|| ask_stop(id)) {
            let view = client.delete(&run_path(id, ""))?;
            bar.finish_and_clear();
            println!("{id} {}", cell(&view["state"]));
            return Ok(());
        }
    }
}

/// Asks on the terminal whether to stop the run; anything but y/yes (or end of input) is no.
fn ask_stop(id: &str) -> bool {
    eprint!("\nstop {id}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).unwrap_or(0) == 0 {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// `M:SS` of a number of seconds.
fn clock(secs: f64) -> String {
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
fn segment(text: &str) -> String {
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
