//! External tools the integration tests use (Prometheus, promtool, Alertmanager, amtool,
//! node_exporter, Chromium, node and the npm/PyPI packages scripts/test installs). A plain
//! `cargo test` on a machine without them skips the tests that need them, saying so;
//! `JOLT_REQUIRE_TOOLS=1` (set by scripts/test) makes a missing tool a failure instead, so the
//! full run cannot go green by skipping.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Whether every tool in `tools` is here; call it first and return when it says `false`:
///
/// ```ignore
/// if !require_tools(&["promtool"]) { return; }
/// ```
///
/// A tool is written as:
/// - `promtool`: a program on PATH; `alertmanager|prometheus-alertmanager`: any one of them;
/// - `python3:compose`: a Python module `python3` can import;
/// - `tests/dashboards/node_modules/typescript`: a path under the repository (npm packages).
///
/// When one is missing it prints `SKIPPED <test>: <tool> not found (scripts/test installs it)`
/// on the terminal (past the test harness's capture) and returns `false`, or panics with the
/// same words when `JOLT_REQUIRE_TOOLS=1`.
pub fn require_tools(tools: &[&str]) -> bool {
    let Some(tool) = tools.iter().find(|t| !found(t)) else {
        return true;
    };
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_owned();
    let line = format!("{test}: {tool} not found (scripts/test installs it)");
    if std::env::var("JOLT_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
        panic!("{line}; JOLT_REQUIRE_TOOLS=1 makes this a failure");
    }
    // Straight to the file descriptor: println! would be captured and hidden for a passing test.
    let _ = writeln!(std::io::stderr(), "SKIPPED {line}");
    false
}

/// The first of `names` found on PATH.
pub fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn found(tool: &str) -> bool {
    if let Some((python, module)) = tool.split_once(':') {
        return on_path(&[python]).is_some_and(|bin| {
            Command::new(bin)
                .args(["-c", &format!("import {module}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    }
    if tool.contains('/') {
        return PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(tool)
            .exists();
    }
    on_path(&tool.split('|').collect::<Vec<_>>()).is_some()
}
