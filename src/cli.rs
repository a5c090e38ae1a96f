//! The command line: `jolt` (serve) and the client subcommands that talk to a running daemon.

use crate::client::{self, plain};
use crate::config::{Config, ServeArgs};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// jolt — a Prometheus exporter and load controller for observability demos.
///
/// With no subcommand, serves /metrics, the control API and the simulated services.
/// Every flag also reads a JOLT_* environment variable; precedence is
/// defaults < --config file < environment < flags.
#[derive(Debug, Parser)]
#[command(name = "jolt", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve (the default when no subcommand is given).
    Serve,
    /// Start an action on a running daemon, e.g. `jolt action cpu --percent 90 --duration 10s`
    Action(client::actions::ActionCmd),
    /// List active and recently finished actions
    Actions(client::actions::ActionsCmd),
    /// Stop one action by id, or all with --all
    Stop(client::actions::StopCmd),
    /// Print the event log; --follow streams new events as they happen
    Events(client::events::EventsCmd),
    /// List built-in and custom scenarios
    Scenarios(client::scenarios::ScenariosCmd),
    /// Start (optionally --follow), show or upload a scenario
    Scenario(client::scenarios::ScenarioCmd),
    /// Upload a scenario file, run it and judge its checks (CI): exit 0 pass, 1 fail, 2 inconclusive
    Verify(client::verify::VerifyCmd),
    /// List scenario runs with their progress and current step
    Runs(client::runs::RunsCmd),
    /// Pause, resume or stop a scenario run
    Run(client::runs::RunCmd),
    /// A recorded run's report (html, md, json, csv, junit, promtool), or two runs compared
    Report(client::report::ReportCmd),
    /// Internal: the process that holds a memory action's memory (started by the daemon).
    #[command(name = "__memory-worker", hide = true)]
    MemoryWorker {
        /// Largest target the daemon will ask for.
        #[arg(long)]
        max_bytes: u64,
        /// The daemon's pid; the worker dies with it.
        #[arg(long)]
        parent: u32,
    },
}

/// Parses the command line and runs what it asks for.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => serve(&cli.serve),
        Some(Command::Action(c)) => finish(plain(client::actions::action(&c))),
        Some(Command::Actions(c)) => finish(plain(client::actions::actions(&c))),
        Some(Command::Stop(c)) => finish(plain(client::actions::stop(&c))),
        Some(Command::Events(c)) => finish(plain(client::events::events(&c))),
        Some(Command::Scenarios(c)) => finish(plain(client::scenarios::scenarios(&c))),
        Some(Command::Scenario(c)) => finish(client::scenarios::scenario(&c)),
        Some(Command::Verify(c)) => finish(client::verify::verify(&c)),
        Some(Command::Runs(c)) => finish(plain(client::runs::runs(&c))),
        Some(Command::Run(c)) => finish(plain(client::runs::run(&c))),
        Some(Command::Report(c)) => finish(plain(client::report::report(&c))),
        Some(Command::MemoryWorker { max_bytes, parent }) => {
            crate::actions::memory::worker::main(max_bytes, parent)
        }
    }
}

/// Loads the configuration, starts the runtime and serves until SIGINT/SIGTERM.
fn serve(args: &ServeArgs) -> ExitCode {
    let config = match Config::load(args) {
        Ok(c) => c,
        Err(e) => return fail(e.into()),
    };
    crate::logging::init(config.log_format, &config.log_level);
    raise_open_files_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(e.into()),
    };
    let signal = {
        let _in_runtime = runtime.enter();
        crate::server::shutdown_signal()
    };
    let result = runtime.block_on(crate::server::run(config, signal));
    runtime.shutdown_timeout(std::time::Duration::from_millis(300));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Raises the soft open-files limit to the hard one: a traffic action may hold a thousand
/// connections (two descriptors each over loopback), past the common soft default of 1024.
fn raise_open_files_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            let wanted = lim.rlim_max;
            lim.rlim_cur = wanted;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                tracing::debug!("could not raise the open-files limit to {wanted}");
            }
        }
    }
}

/// Ends a client command: its exit code, or a one-line error and the failure's code.
fn finish(outcome: client::Outcome) -> ExitCode {
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("jolt: error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

/// Prints a one-line error and returns the failure exit code.
pub fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("jolt: error: {e:#}");
    ExitCode::FAILURE
}
