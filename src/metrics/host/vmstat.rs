//! `node_vmstat_{pgfault,pgmajfault,pswpin,pswpout,oom_kill}` from `/proc/vmstat`.
//!
//! node_exporter exposes these as `untyped` under exactly these names (no `_total`).
//! jolt's family model has counters (which must end in `_total`) and gauges, so they are
//! gauges here: the names stay node_exporter's, so dashboards and `rate()` work unchanged,
//! and `promtool check metrics` stays silent (it would flag a counter without `_total`).

use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use anyhow::Context;

/// The fields node_exporter's default `--collector.vmstat.fields` selects that jolt exposes.
const FIELDS: [&str; 5] = ["pgfault", "pgmajfault", "pswpin", "pswpout", "oom_kill"];

/// The `vmstat` collector.
pub struct Vmstat {
    paths: Paths,
}

impl Vmstat {
    /// A collector reading under `paths`.
    pub fn new(paths: Paths) -> Self {
        Vmstat { paths }
    }
}

/// Finds the wanted fields in the text of `/proc/vmstat` (absent fields are skipped: old
/// kernels have no `oom_kill`).
fn parse(text: &str) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let mut out = Vec::with_capacity(FIELDS.len());
    for line in text.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        if let Some(field) = FIELDS.iter().find(|f| **f == key) {
            let v: f64 = value
                .trim()
                .parse()
                .with_context(|| format!("`{key}` is not a number"))?;
            out.push((*field, v));
        }
    }
    anyhow::ensure!(!out.is_empty(), "none of {FIELDS:?} found");
    Ok(out)
}

impl Subsystem for Vmstat {
    fn name(&self) -> &'static str {
        "vmstat"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let text = self.paths.read_proc("vmstat")?;
        for (field, v) in parse(&text)? {
            out.push(
                Family::gauge(
                    format!("node_vmstat_{field}"),
                    format!("/proc/vmstat information field {field}."),
                )
                .with(&[], v),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::host::testutil::{collect, fixture_paths, value};

    #[test]
    fn reads_the_five_fields() {
        let fams = collect(&Vmstat::new(fixture_paths("host")));
        assert_eq!(fams.len(), 5);
        let text = std::fs::read_to_string(fixture_paths("host").proc("vmstat")).unwrap();
        let want: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("pgfault "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(value(&fams, "node_vmstat_pgfault", &[]), want);
        assert!(parse("nr_free_pages 5\n").is_err());
        assert_eq!(parse("pswpin 3\n").unwrap(), [("pswpin", 3.0)]);
    }
}
