//! Fleet control: the same client command on many jolts at once.
//!
//! `--fleet FILE` (Prometheus file_sd, the format of `prometheus/targets/`) or
//! `--fleet-from-prometheus URL` names the instances; `--select` and `--sample` narrow them.
//! Each instance gets its own request on its own thread, bounded by `--fleet-timeout`, and the
//! answers come back as one table with an INSTANCE column. A host that fails is a row with its
//! error and makes the command exit non-zero; the others are still acted on, and a start that
//! only partly succeeded says so (or is undone everywhere with `--all-or-nothing`).

pub mod commands;
pub mod targets;

use super::{Client, ClientArgs};
use anyhow::bail;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;
pub use targets::Target;

/// Which instances a command acts on; flattened into the commands that can act on a fleet.
#[derive(Debug, Clone, Default, Args)]
pub struct FleetArgs {
    /// Act on every jolt listed in this Prometheus file_sd file (JSON or YAML, as in
    /// prometheus/targets/); a target's control address is its `jolt_control` label, else its
    /// host with --fleet-control-port
    #[arg(
        long,
        env = "JOLT_FLEET",
        value_name = "FILE",
        conflicts_with = "fleet_from_prometheus"
    )]
    pub fleet: Option<PathBuf>,
    /// Act on every target this Prometheus scrapes for job --fleet-job
    #[arg(long, env = "JOLT_FLEET_FROM_PROMETHEUS", value_name = "URL")]
    pub fleet_from_prometheus: Option<String>,
    /// The job whose targets --fleet-from-prometheus takes
    #[arg(long, value_name = "JOB", default_value = "jolt")]
    pub fleet_job: String,
    /// Control port of targets without a `jolt_control` label
    #[arg(long, value_name = "PORT", default_value_t = 9478)]
    pub fleet_control_port: u16,
    /// Only the instances whose label matches (LABEL=VALUE or LABEL!=VALUE; repeat to AND)
    #[arg(long = "select", value_name = "LABEL=VALUE")]
    pub select: Vec<String>,
    /// Only a random share of them: a count (2) or a percentage (30%)
    #[arg(long, value_name = "N|P%")]
    pub sample: Option<String>,
    /// Longest wait for one instance's answer
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub fleet_timeout: Duration,
    /// When a start fails on some instances, stop it on the others too
    #[arg(long)]
    pub all_or_nothing: bool,
}

/// The chosen instances and how to reach them.
pub struct Fleet {
    /// In file (or Prometheus) order.
    pub targets: Vec<Target>,
    token: Option<String>,
    timeout: Duration,
    /// Undo a partial start.
    pub all_or_nothing: bool,
}

impl FleetArgs {
    /// The fleet these flags name, or `None` when no fleet was asked for (one daemon).
    pub fn resolve(&self, conn: &ClientArgs) -> anyhow::Result<Option<Fleet>> {
        let all = match (&self.fleet, &self.fleet_from_prometheus) {
            (Some(file), _) => targets::from_file_sd(file, self.fleet_control_port)?,
            (None, Some(url)) => {
                targets::from_prometheus(url, &self.fleet_job, self.fleet_control_port)?
            }
            (None, None) => {
                if !self.select.is_empty() || self.sample.is_some() {
                    bail!(
                        "--select and --sample choose among a fleet: add --fleet FILE or --fleet-from-prometheus URL"
                    );
                }
                return Ok(None);
            }
        };
        let listed = all.len();
        let mut chosen = targets::select(all, &self.select)?;
        if let Some(spec) = &self.sample {
            chosen = targets::sample(chosen, spec, &mut fastrand::Rng::new())?;
        }
        if chosen.is_empty() {
            bail!(
                "the fleet has no instance to act on ({listed} listed, none left after --select {})",
                self.select.join(" --select ")
            );
        }
        let token = conn.token()?;
        Ok(Some(Fleet {
            targets: chosen,
            token,
            timeout: self.fleet_timeout,
            all_or_nothing: self.all_or_nothing,
        }))
    }
}

/// What one instance answered.
pub struct Outcome<'a, T> {
    /// Who.
    pub target: &'a Target,
    /// Its answer, or why there is none.
    pub result: anyhow::Result<T>,
}

impl Fleet {
    /// Runs `f(index, client)` against every instance at once, each on its own thread with its
    /// own client; outcomes in fleet order.
    pub fn each<T: Send>(
        &self,
        f: impl Fn(usize, &Client) -> anyhow::Result<T> + Sync,
    ) -> Vec<Outcome<'_, T>> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .targets
                .iter()
                .enumerate()
                .map(|(i, target)| {
                    let f = &f;
                    let conn = ClientArgs {
                        control: target.control.clone(),
                        control_token_file: None,
                        control_token: self.token.clone(),
                    };
                    let timeout = self.timeout;
                    scope.spawn(move || {
                        let result =
                            Client::with_timeout(&conn, timeout).and_then(|client| f(i, &client));
                        Outcome { target, result }
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(&self.targets)
                .map(|(h, target)| {
                    h.join().unwrap_or_else(|_| Outcome {
                        target,
                        result: Err(anyhow::anyhow!("the request thread panicked")),
                    })
                })
                .collect()
        })
    }
}

/// `Err` naming the failed instances when any outcome failed, so the command exits non-zero.
pub fn failures<T>(outcomes: &[Outcome<'_, T>], what: &str) -> anyhow::Result<()> {
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.result.is_err())
        .map(|o| o.target.instance.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    bail!(
        "{what} failed on {} of {} instance(s): {}",
        failed.len(),
        outcomes.len(),
        failed.join(", ")
    )
}
