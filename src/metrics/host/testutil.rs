//! Helpers for the collectors' unit tests: fixture locations and sample lookup.

use super::Paths;
use crate::metrics::family::{Family, Kind};
use std::path::PathBuf;

/// `tests/fixtures/<name>`.
pub fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Paths whose proc, sys and root are `proc`, `sys` and `root` under the fixture `name`.
pub fn fixture_paths(name: &str) -> Paths {
    let d = fixture_dir(name);
    Paths::new(d.join("proc"), d.join("sys"), d.join("root"))
}

/// The family called `name`; panics listing what exists when absent.
pub fn family<'a>(fams: &'a [Family], name: &str) -> &'a Family {
    fams.iter().find(|f| f.name == name).unwrap_or_else(|| {
        let names: Vec<_> = fams.iter().map(|f| &f.name).collect();
        panic!("no family {name}; have {names:?}")
    })
}

/// The value of the series of `name` whose labels include all of `labels`.
pub fn value(fams: &[Family], name: &str, labels: &[(&str, &str)]) -> f64 {
    try_value(fams, name, labels)
        .unwrap_or_else(|| panic!("no series {name}{labels:?} in {:?}", family(fams, name)))
}

/// Like [`value`], `None` when the series is absent.
pub fn try_value(fams: &[Family], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let f = fams.iter().find(|f| f.name == name)?;
    f.samples
        .iter()
        .find(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.iter().any(|(k2, v2)| k2 == k && v2 == v))
        })
        .map(|s| s.value)
}

/// The kind of family `name`.
pub fn kind(fams: &[Family], name: &str) -> Kind {
    family(fams, name).kind
}

/// Runs one subsystem and returns its families, panicking on error.
pub fn collect(s: &dyn super::Subsystem) -> Vec<Family> {
    let mut out = Vec::new();
    s.collect(&mut out)
        .unwrap_or_else(|e| panic!("{} failed: {e:#}", s.name()));
    out
}
