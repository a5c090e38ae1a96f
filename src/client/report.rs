//! `jolt report RUN [--format F] [-o FILE] [--compare B]`: a recorded run's report, a
//! comparison of two runs, or the run as a promtool rule test, from a running daemon.

use super::{Client, ClientArgs};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// `jolt report RUN`
#[derive(Debug, Args)]
pub struct ReportCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    /// Run id (`jolt runs` lists them, past runs too)
    pub run: String,
    /// html | md | json | csv | junit | promtool [default: from -o's extension, else md]
    #[arg(long, short = 'f', value_name = "FORMAT")]
    pub format: Option<String>,
    /// Write here instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Compare with this run (aligned by scenario time; html, md or json)
    #[arg(long, value_name = "RUN")]
    pub compare: Option<String>,
}

/// The format a file name suggests.
fn by_extension(path: &std::path::Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    Some(match name.rsplit('.').next()? {
        "html" | "htm" => "html",
        "md" | "markdown" => "md",
        "json" => "json",
        "csv" => "csv",
        "xml" => "junit",
        "yml" | "yaml" => "promtool",
        _ => return None,
    })
}

/// Fetches the report and writes it out.
pub fn report(cmd: &ReportCmd) -> anyhow::Result<()> {
    let client = Client::new(&cmd.conn)?;
    let format = cmd
        .format
        .clone()
        .or_else(|| {
            cmd.output
                .as_deref()
                .and_then(by_extension)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "md".into());
    let enc = |s: &str| -> String {
        serde_urlencoded::to_string([("", s)]).unwrap_or_default()[1..].to_string()
    };
    let path = match &cmd.compare {
        Some(b) => format!(
            "/runs/{}/compare/{}?format={}",
            enc(&cmd.run),
            enc(b),
            enc(&format)
        ),
        None => format!("/runs/{}/report?format={}", enc(&cmd.run), enc(&format)),
    };
    let body = match client.get(&path)? {
        serde_json::Value::String(s) => s,
        other => serde_json::to_string_pretty(&other)? + "\n",
    };
    match &cmd.output {
        Some(p) => {
            std::fs::write(p, body).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => std::io::stdout().write_all(body.as_bytes())?,
    }
    Ok(())
}
