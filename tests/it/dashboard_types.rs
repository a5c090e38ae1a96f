//! The dashboards checked against Grafana's own TypeScript model (npm `@grafana/schema`, pinned
//! in tests/dashboards/package-lock.json; scripts/setup-browser installs it): each
//! grafana/dashboards/*.json becomes `export const d: Dashboard = <json>;` and `tsc --strict`
//! must accept it, and must refuse broken copies.

use crate::stack;

/// node and the pinned npm packages, for `require_tools`.
pub const TSC: &[&str] = &[
    "node",
    "tests/dashboards/node_modules/typescript/bin/tsc",
    "tests/dashboards/node_modules/@grafana/schema",
];

use serde_json::Value;
use stack::{dashboards, repo, run, text};
use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs tsc on `dashes` (name → JSON) pasted into .ts files; returns its output.
fn type_check(dashes: &[(String, Value)]) -> Output {
    let npm = repo().join("tests/dashboards");
    let tsc = npm.join("node_modules/typescript/bin/tsc");
    assert!(
        tsc.is_file() && npm.join("node_modules/@grafana/schema").is_dir(),
        "the pinned npm packages are missing: run scripts/setup-browser"
    );
    let dir = tempfile::tempdir().unwrap();
    for (name, d) in dashes {
        let ts = format!(
            "import type {{ Dashboard }} from '{}/model';\nexport const d: Dashboard = {};\n",
            npm.display(),
            serde_json::to_string_pretty(d).unwrap()
        );
        std::fs::write(dir.path().join(format!("{name}.ts")), ts).unwrap();
    }
    let config = serde_json::json!({
        "extends": npm.join("tsconfig.json"),
        "include": ["*.ts"],
    });
    std::fs::write(dir.path().join("tsconfig.json"), config.to_string()).unwrap();
    run(Command::new("node")
        .arg(tsc)
        .arg("-p")
        .arg(dir.path().join("tsconfig.json"))
        .arg("--pretty")
        .arg("false"))
}

/// The shipped dashboards, named by file stem.
fn shipped() -> Vec<(String, Value)> {
    dashboards()
        .into_iter()
        .map(|(f, d)| {
            let stem = PathBuf::from(&f)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (stem, d)
        })
        .collect()
}

#[test]
fn every_dashboard_fits_grafanas_typescript_model() {
    if !crate::common::require_tools(crate::dashboard_types::TSC) {
        return;
    }
    let dashes = shipped();
    assert!(dashes.len() >= 3);
    let out = type_check(&dashes);
    assert!(
        out.status.success(),
        "tsc refused a dashboard:\n{}",
        text(&out)
    );
}

/// The first panel (rows' children included) of type `ty`, mutably.
fn first_of<'a>(d: &'a mut Value, ty: &str) -> &'a mut Value {
    fn find<'a>(list: &'a mut Value, ty: &str) -> Option<&'a mut Value> {
        for p in list.as_array_mut()? {
            if p["type"] == ty {
                return Some(p);
            }
            if let Some(found) = find(&mut p["panels"], ty) {
                return Some(found);
            }
        }
        None
    }
    find(&mut d["panels"], ty).unwrap_or_else(|| panic!("no {ty} panel"))
}

#[test]
fn broken_copies_fail_the_type_check() {
    if !crate::common::require_tools(crate::dashboard_types::TSC) {
        return;
    }
    let (_, load) = shipped()
        .into_iter()
        .find(|(n, _)| n == "load-control")
        .unwrap();
    let mut breaks: Vec<(&str, &str, Value)> = Vec::new();
    let mut d = load.clone();
    first_of(&mut d, "timeseries")["type"] = "timeseriez".into();
    breaks.push(("typo_type", "timeseriez", d));
    let mut d = load.clone();
    first_of(&mut d, "stat")["gridPos"]["w"] = "3".into();
    breaks.push(("string_gridpos", "not assignable to type 'number'", d));
    let mut d = load.clone();
    first_of(&mut d, "stat")["options"]["colourMode"] = "background".into();
    breaks.push(("unknown_option", "colourMode", d));
    let mut d = load.clone();
    first_of(&mut d, "timeseries")["options"]["legend"]["displayMode"] = "cards".into();
    breaks.push(("bad_enum", "\"cards\"", d));
    let mut d = load.clone();
    first_of(&mut d, "stat")["gridPos"]
        .as_object_mut()
        .unwrap()
        .remove("h");
    breaks.push(("missing_gridpos_field", "'h'", d));
    let mut d = load.clone();
    first_of(&mut d, "stat")["datasource"]
        .as_object_mut()
        .unwrap()
        .remove("uid");
    breaks.push(("datasource_without_uid", "'uid'", d));
    let mut d = load.clone();
    first_of(&mut d, "stat")["fieldConfig"]["defaults"]["actions"][0]["fetch"]["method"] =
        "SEND".into();
    breaks.push(("bad_action_method", "\"SEND\"", d));

    let named: Vec<(String, Value)> = breaks
        .iter()
        .map(|(n, _, d)| (n.to_string(), d.clone()))
        .collect();
    let out = type_check(&named);
    let report = text(&out);
    assert!(!out.status.success(), "tsc accepted broken copies");
    for (name, needle, _) in &breaks {
        let lines: Vec<&str> = report
            .lines()
            .filter(|l| l.contains(&format!("{name}.ts(")))
            .collect();
        assert!(
            lines.iter().any(|l| l.contains(needle)),
            "{name}: expected an error mentioning {needle}:\n{report}"
        );
    }
}
