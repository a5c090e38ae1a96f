//! `jolt events [--since ID] [--follow]`: the event log, one line per event.

use super::table::cell;
use super::{Client, ClientArgs};
use clap::Args;
use serde_json::Value;
use std::io::{BufRead, Write};

/// `jolt events`
#[derive(Debug, Args)]
pub struct EventsCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    /// Only events with an id greater than this
    #[arg(long, default_value_t = 0)]
    pub since: u64,
    /// Keep printing new events as they happen (the server-sent events stream)
    #[arg(long, short)]
    pub follow: bool,
}

/// Prints the retained events, or follows the stream until it ends or the user interrupts.
pub fn events(cmd: &EventsCmd) -> anyhow::Result<()> {
    let client = Client::new(&cmd.conn)?;
    if !cmd.follow {
        let list = client.get(&format!("/events?since={}", cmd.since))?;
        for e in list.as_array().map(Vec::as_slice).unwrap_or_default() {
            println!("{}", line(e));
        }
        return Ok(());
    }
    let reader = client.stream(&format!("/events/stream?since={}", cmd.since))?;
    let mut out = std::io::stdout().lock();
    let mut data = String::new();
    for l in reader.lines() {
        let l = l?;
        if let Some(d) = l.strip_prefix("data:") {
            data.push_str(d.trim_start());
        } else if l.is_empty() && !data.is_empty() {
            if let Ok(e) = serde_json::from_str::<Value>(&data) {
                writeln!(out, "{}", line(&e))?;
                out.flush()?;
            }
            data.clear();
        }
    }
    Ok(())
}

/// `#12 2024-05-01T10:00:00Z warning action_failed  cpu-1 failed: …`
pub fn line(e: &Value) -> String {
    let time = e["time"]
        .as_f64()
        .map(|t| {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(t.max(0.0));
            humantime::format_rfc3339_seconds(t).to_string()
        })
        .unwrap_or_else(|| "-".into());
    format!(
        "#{} {time} {:<8} {:<16} {}",
        cell(&e["id"]),
        cell(&e["severity"]),
        cell(&e["type"]),
        cell(&e["message"])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_readable_line() {
        let e = serde_json::json!({"id": 3, "time": 0.0, "type": "action_started",
            "severity": "info", "message": "cpu-1 started", "data": {}});
        assert_eq!(
            line(&e),
            "#3 1970-01-01T00:00:00Z info     action_started   cpu-1 started"
        );
    }
}
