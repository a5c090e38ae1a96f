//! `jolt action KIND --name value…`, `jolt actions`, `jolt stop ID|--all`.

use super::fleet::{FleetArgs, commands};
use super::table::{cell, render, rows};
use super::{Client, ClientArgs};
use anyhow::bail;
use clap::Args;
use serde_json::Value;

/// `jolt action KIND [--param value]…`
#[derive(Debug, Args)]
pub struct ActionCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    /// Fleet options go before KIND
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Action kind: cpu, memory, disk, traffic, network or fault
    pub kind: String,
    /// Parameters as `--name value` (or `--name=value`; a bare `--flag` means true), passed to
    /// the API unchanged, which validates them; e.g. `--percent 90 --duration 10s`
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "--NAME VALUE"
    )]
    pub params: Vec<String>,
}

/// `jolt actions`
#[derive(Debug, Args)]
pub struct ActionsCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Print the API's JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `jolt stop ID|--all`
#[derive(Debug, Args)]
pub struct StopCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// The action to stop
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub id: Option<String>,
    /// Stop every running action
    #[arg(long)]
    pub all: bool,
}

/// Starts an action and prints a one-line summary.
pub fn action(cmd: &ActionCmd) -> anyhow::Result<()> {
    // Everything after KIND goes to the API, so a fleet option there would be sent as a
    // parameter to one daemon instead of choosing the fleet.
    if let Some(f) = cmd.params.iter().find(|p| {
        let name = p.split('=').next().unwrap_or("");
        name.starts_with("--fleet") || name == "--select" || name == "--sample"
    }) {
        bail!(
            "{f} goes before the action kind: jolt action {f} … {} --param value",
            cmd.kind
        );
    }
    let query = params_query(&cmd.params)?;
    let path = format!("/actions/{}{query}", urlencode_path(&cmd.kind));
    if let Some(fleet) = cmd.fleet.resolve(&cmd.conn)? {
        return commands::action(&fleet, &path);
    }
    let client = Client::new(&cmd.conn)?;
    let view = client.post(&path, None)?;
    println!(
        "started {} ({}): {}",
        cell(&view["id"]),
        cell(&view["state"]),
        params_line(&view["params"])
    );
    Ok(())
}

/// Lists actions as a table.
pub fn actions(cmd: &ActionsCmd) -> anyhow::Result<()> {
    if let Some(fleet) = cmd.fleet.resolve(&cmd.conn)? {
        return commands::actions(&fleet, cmd.json);
    }
    let list = Client::new(&cmd.conn)?.get("/actions")?;
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    print!("{}", actions_table(&list));
    Ok(())
}

/// Stops one action or all of them.
pub fn stop(cmd: &StopCmd) -> anyhow::Result<()> {
    if let Some(fleet) = cmd.fleet.resolve(&cmd.conn)? {
        let path = match &cmd.id {
            Some(id) if !cmd.all => format!("/actions/{}", urlencode_path(id)),
            _ => "/actions".to_string(),
        };
        return commands::stop(&fleet, &path);
    }
    let client = Client::new(&cmd.conn)?;
    match (&cmd.id, cmd.all) {
        (_, true) => {
            let out = client.delete("/actions")?;
            println!("stopped {} action(s)", cell(&out["stopped"]));
        }
        (Some(id), false) => {
            let view = client.delete(&format!("/actions/{}", urlencode_path(id)))?;
            println!("{} {}", cell(&view["id"]), cell(&view["state"]));
        }
        (None, false) => bail!("give an action id or --all"),
    }
    Ok(())
}

/// `--percent 90 --duration=10s --sync` → `?percent=90&duration=10s&sync=true`; dashes in
/// names become underscores so `--block-size` reaches the API as `block_size`.
pub fn params_query(args: &[String]) -> anyhow::Result<String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        let Some(name) = arg.strip_prefix("--").filter(|n| !n.is_empty()) else {
            bail!("expected a parameter like `--percent 90`, got `{arg}`");
        };
        let (name, value) = match name.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => match it.next_if(|next| !next.starts_with("--")) {
                Some(v) => (name.to_string(), v.clone()),
                None => (name.to_string(), "true".to_string()),
            },
        };
        pairs.push((name.replace('-', "_"), value));
    }
    if pairs.is_empty() {
        return Ok(String::new());
    }
    Ok(format!("?{}", serde_urlencoded::to_string(&pairs)?))
}

/// Percent-encodes one path segment the user typed.
pub fn urlencode_path(segment: &str) -> String {
    serde_urlencoded::to_string([("", segment)])
        .map(|s| s.trim_start_matches('=').replace('+', "%20"))
        .unwrap_or_default()
}

/// `percent=90 duration=10s …` from the resolved params object.
fn params_line(params: &Value) -> String {
    match params.as_object() {
        Some(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(" "),
        None => cell(params),
    }
}

/// Columns of the actions table.
pub const ACTION_HEADER: [&str; 8] = [
    "ID", "KIND", "STATE", "PROGRESS", "ACHIEVED", "STARTED", "RUN", "ERROR",
];

/// One row of the actions table.
pub fn action_row(a: &Value) -> Vec<String> {
    let progress = a["progress"]
        .as_f64()
        .map_or("-".into(), |p| format!("{:.0}%", p * 100.0));
    vec![
        cell(&a["id"]),
        cell(&a["kind"]),
        cell(&a["state"]),
        progress,
        cell(&a["achieved"]),
        cell(&a["started_at"]),
        cell(&a["run"]),
        cell(&a["error"]),
    ]
}

/// The table `jolt actions` prints.
fn actions_table(list: &Value) -> String {
    let rows = rows(list, action_row);
    if rows.is_empty() {
        return "no actions\n".into();
    }
    render(&ACTION_HEADER, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn params_become_a_query_string() {
        let q = params_query(&args(&["--percent", "90", "--duration=1m30s", "--sync"])).unwrap();
        assert_eq!(q, "?percent=90&duration=1m30s&sync=true");
        let q = params_query(&args(&["--block-size", "64KiB", "--flag", "--x", "1"])).unwrap();
        assert_eq!(q, "?block_size=64KiB&flag=true&x=1");
        assert_eq!(params_query(&[]).unwrap(), "");
    }

    #[test]
    fn a_bare_value_is_an_error() {
        let err = params_query(&args(&["90"])).unwrap_err().to_string();
        assert!(err.contains("`90`"), "{err}");
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(urlencode_path("cpu-1"), "cpu-1");
        assert_eq!(urlencode_path("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn table_shows_progress_as_percent() {
        let list = serde_json::json!([{"id": "cpu-1", "kind": "cpu", "state": "running",
            "progress": 0.25, "achieved": {"host_cpu_percent": 88.0},
            "started_at": "2024-01-01T00:00:00Z", "run": null, "error": null}]);
        let t = actions_table(&list);
        assert!(t.starts_with("ID"), "{t}");
        assert!(t.contains("cpu-1  cpu   running  25%"), "{t}");
        assert_eq!(actions_table(&serde_json::json!([])), "no actions\n");
    }
}
