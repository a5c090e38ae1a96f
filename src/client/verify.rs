//! Verified runs from the command line, for CI: `jolt verify FILE.yaml` uploads a scenario,
//! runs it and judges it; `jolt scenario start NAME --verify` does the same for a stored one.
//! Both wait for the verdict, print the checks as a table, optionally write a JUnit file (one
//! test case per check) and exit 0 pass, 1 fail, 2 inconclusive or unverified (or when the
//! run could not be started or judged).

use super::table::{cell, render};
use super::{Client, ClientArgs};
use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often the run is read while waiting for its verdict.
const POLL: Duration = Duration::from_secs(1);

/// `jolt verify FILE [--junit FILE]`
#[derive(Debug, Args)]
pub struct VerifyCmd {
    #[command(flatten)]
    pub conn: ClientArgs,
    /// The scenario file (YAML or JSON) with its `expect:` checks
    pub file: PathBuf,
    /// Name to store it under [default: the file's `name:`, else its file name]
    #[arg(long)]
    pub name: Option<String>,
    /// Play the timeline this many times faster (budgets do not shrink)
    #[arg(long, value_name = "FACTOR")]
    pub speed: Option<f64>,
    /// Write a JUnit XML report here (one test case per check)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Exit code of a verdict: 0 pass, 1 fail, 2 anything else.
pub fn exit_code(verdict: &str) -> u8 {
    match verdict {
        "pass" => 0,
        "fail" => 1,
        _ => 2,
    }
}

/// Runs `jolt verify`.
pub fn verify(cmd: &VerifyCmd) -> super::Outcome {
    super::judged(upload_and_run(cmd))
}

fn upload_and_run(cmd: &VerifyCmd) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(&cmd.file)
        .with_context(|| format!("cannot read {}", cmd.file.display()))?;
    let name = match &cmd.name {
        Some(n) => n.clone(),
        None => name_of(&text, &cmd.file)?,
    };
    let client = Client::new(&cmd.conn)?;
    let ct = if text.trim_start().starts_with('{') {
        "application/json"
    } else {
        "application/yaml"
    };
    client.put(&format!("/scenarios/{name}"), &text, ct)?;
    start_and_judge(&client, &name, cmd.speed, cmd.junit.as_deref())
}

/// The file's `name:`, else its file name without extension.
fn name_of(text: &str, file: &Path) -> anyhow::Result<String> {
    let doc: Value = serde_yaml_ng::from_str(text).unwrap_or(Value::Null);
    if let Some(n) = doc["name"].as_str() {
        return Ok(n.to_string());
    }
    file.file_stem()
        .and_then(|s| s.to_str())
        .map(str::to_string)
        .context("cannot name the scenario from the file name; give --name")
}

/// Starts a verified run of `name`, waits for its verdict and returns the exit code.
pub fn start_and_judge(
    client: &Client,
    name: &str,
    speed: Option<f64>,
    junit: Option<&Path>,
) -> anyhow::Result<u8> {
    let mut body = json!({ "verify": true });
    if let Some(s) = speed {
        body["speed"] = json!(s);
    }
    let run = client.post(&format!("/scenarios/{name}/start"), Some(&body))?;
    let id = cell(&run["id"]);
    println!(
        "started {id}: {} ({} checks)",
        cell(&run["title"]),
        run["checks"].as_array().map_or(0, Vec::len)
    );
    let mut last_step = None;
    let mut seen = std::collections::HashSet::new();
    let run = loop {
        let run = client.get(&format!("/runs/{id}"))?;
        let step = run["current_step"]["step"].as_u64();
        if step.is_some() && step != last_step {
            last_step = step;
            let cur = &run["current_step"];
            println!(
                "  {} {}",
                cell(&cur["at"]),
                cur["note"].as_str().unwrap_or("")
            );
        }
        for c in run["checks"].as_array().into_iter().flatten() {
            let result = cell(&c["result"]);
            if result != "pending" && seen.insert(cell(&c["name"])) {
                println!(
                    "  {} {}: {}",
                    result.to_uppercase(),
                    cell(&c["name"]),
                    cell(&c["observed"])
                );
            }
        }
        let ended = matches!(
            cell(&run["state"]).as_str(),
            "completed" | "stopped" | "failed"
        );
        let undecided = run["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["result"] == "pending");
        if ended && run["verdict"] != "pending" && !undecided {
            break run;
        }
        std::thread::sleep(POLL);
    };
    let verdict = match run["verdict"].as_str() {
        Some(v) => v.to_string(),
        None => {
            println!("{id}: scenario {name} has no checks: nothing was verified");
            "unverified".to_string()
        }
    };
    print_table(&run);
    println!(
        "{id}: {} (score {})",
        verdict.to_uppercase(),
        run["score"].as_u64().unwrap_or(0)
    );
    if let Some(path) = junit {
        let xml = junit_report(&run)?;
        std::fs::write(path, xml).with_context(|| format!("cannot write {}", path.display()))?;
        println!("JUnit report: {}", path.display());
    }
    Ok(exit_code(&verdict))
}

fn print_table(run: &Value) {
    let rows: Vec<Vec<String>> = run["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            vec![
                cell(&c["result"]).to_uppercase(),
                cell(&c["name"]),
                cell(&c["expected"]),
                cell(&c["observed"]),
            ]
        })
        .collect();
    if !rows.is_empty() {
        print!(
            "{}",
            render(&["RESULT", "CHECK", "EXPECTED", "OBSERVED"], &rows)
        );
    }
}

/// The JUnit XML of a judged run (the same document as a report's `junit` format).
pub fn junit_report(run: &Value) -> anyhow::Result<String> {
    Ok(crate::reports::render::junit::report(run)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_has_one_case_per_check_with_expected_and_observed() {
        let run = json!({"id": "run-1", "scenario": "s", "checks": [
            {"name": "A fires", "result": "pass", "expected": "e1", "observed": "o1"},
            {"name": "B never", "result": "fail", "expected": "B never fires", "observed": "fired at 0:05 <&>"},
            {"name": "q", "result": "inconclusive", "expected": "e3", "observed": "no data"},
        ]});
        let xml = junit_report(&run).unwrap();
        assert!(
            xml.contains(r#"tests="3""#)
                && xml.contains(r#"failures="1""#)
                && xml.contains(r#"errors="1""#),
            "{xml}"
        );
        assert!(
            xml.contains("expected: B never fires; observed: fired at 0:05 &lt;&amp;&gt;"),
            "{xml}"
        );
        assert_eq!(exit_code("pass"), 0);
        assert_eq!(exit_code("fail"), 1);
        assert_eq!(exit_code("unverified"), 2);
    }
}
