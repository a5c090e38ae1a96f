//! JUnit XML of a judged run: one suite (the scenario), one case per check; a failed check is
//! a `failure`, an inconclusive one an `error`, both with expected vs observed. `jolt verify
//! --junit` writes the same document.

use crate::reports::Error;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::Value;

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The JUnit document of `run` (the run object of `GET /runs/{id}`).
pub fn report(run: &Value) -> Result<String, Error> {
    let scenario = cell(&run["scenario"]);
    let mut suite = TestSuite::new(format!("jolt scenario {scenario} ({})", cell(&run["id"])));
    for c in run["checks"].as_array().into_iter().flatten() {
        let message = format!(
            "expected: {}; observed: {}",
            cell(&c["expected"]),
            cell(&c["observed"])
        );
        let status = match c["result"].as_str() {
            Some("pass") => TestCaseStatus::success(),
            Some("fail") => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(message).set_type("check_failed");
                s
            }
            other => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(message)
                    .set_type(format!("check_{}", other.unwrap_or("inconclusive")));
                s
            }
        };
        let mut case = TestCase::new(cell(&c["name"]), status);
        case.set_classname(format!("jolt.{scenario}"));
        suite.add_test_case(case);
    }
    let mut report = Report::new("jolt verify");
    report.add_test_suite(suite);
    report.to_string().map_err(|e| Error::Render(e.to_string()))
}
