//! `jolt runs`, `jolt run pause|resume|stop`, and following a run (`jolt scenario start
//! NAME --follow`): polls the run and draws a progress bar with the current step's note; each
//! new step is also printed as a line, so the story stays in the terminal (or in a log when
//! stderr is not a terminal and the bar is hidden). Ctrl-C asks whether to stop the run rather
//! than leaving it running unseen.

use super::fleet::{self, FleetArgs};
use super::scenarios::{clock, segment};
use super::table::{cell, print_list};
use super::{Client, ClientArgs};
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often `--follow` asks the daemon for the run.
const POLL: Duration = Duration::from_millis(250);

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
pub(super) fn follow(client: &Client, id: &str) -> anyhow::Result<()> {
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
