//! The daemon's side of the memory worker: starts `jolt __memory-worker`, sends it targets,
//! reads its reports, and kills it.

use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// The hidden subcommand that runs [`super::worker::main`].
pub const SUBCOMMAND: &str = "__memory-worker";

/// A running memory worker.
pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    reports: Lines<BufReader<ChildStdout>>,
    /// The last `error …` line, kept for the failure message.
    last_error: Option<String>,
}

/// What the worker said.
pub enum Report {
    /// Resident bytes.
    Resident(u64),
    /// It ended; the sentence says how.
    Exited(String),
}

impl Worker {
    /// Starts the worker for targets up to `max_bytes`; it is killed if this value is dropped.
    pub fn spawn(max_bytes: u64) -> std::io::Result<Worker> {
        let exe = std::env::current_exe()?;
        let mut child = tokio::process::Command::new(exe)
            .arg(SUBCOMMAND)
            .arg("--max-bytes")
            .arg(max_bytes.to_string())
            .arg("--parent")
            .arg(std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        Ok(Worker {
            child,
            stdin,
            reports: BufReader::new(stdout).lines(),
            last_error: None,
        })
    }

    /// The worker's pid.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Asks the worker to hold `bytes`; an error means it is gone (the next report says why).
    pub async fn set_target(&mut self, bytes: u64) -> std::io::Result<()> {
        self.stdin
            .write_all(format!("{bytes}\n").as_bytes())
            .await?;
        self.stdin.flush().await
    }

    /// The next report; cancel-safe.
    pub async fn next(&mut self) -> Report {
        loop {
            match self.reports.next_line().await {
                Ok(Some(line)) => {
                    if let Some(e) = line.strip_prefix("error ") {
                        self.last_error = Some(e.to_string());
                    } else if let Ok(n) = line.trim().parse() {
                        return Report::Resident(n);
                    }
                }
                Ok(None) | Err(_) => return Report::Exited(self.exit_reason().await),
            }
        }
    }

    /// Waits for the exited worker and says how it ended.
    async fn exit_reason(&mut self) -> String {
        use std::os::unix::process::ExitStatusExt;
        let status = match self.child.wait().await {
            Ok(s) => s,
            Err(e) => return format!("memory worker vanished: {e}"),
        };
        match (status.signal(), status.code(), &self.last_error) {
            (Some(libc::SIGKILL), _, _) => {
                "memory worker was killed by signal 9 (out of memory?)".into()
            }
            (Some(sig), _, _) => format!("memory worker was killed by signal {sig}"),
            (_, _, Some(e)) => format!("memory worker failed: {e}"),
            (_, Some(code), None) => format!("memory worker exited with status {code}"),
            _ => format!("memory worker ended: {status}"),
        }
    }

    /// Kills the worker and waits until it is gone, its memory with it.
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}
