//! `node_pressure_{cpu,io,memory}_{waiting,stalled}_seconds_total` from `/proc/pressure/*`
//! (pressure stall information). A kernel without PSI has no `/proc/pressure`: that is not
//! an error, the collector just contributes nothing.

use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use anyhow::Context;

/// (resource, `some` family and help, `full` family and help). node_exporter 1.5 has no cpu
/// `stalled`; newer releases expose it from the `full` line, which jolt does when present.
const RESOURCES: [(&str, [(&str, &str); 2]); 3] = [
    (
        "cpu",
        [
            (
                "node_pressure_cpu_waiting_seconds_total",
                "Total time in seconds that processes have waited for CPU time.",
            ),
            (
                "node_pressure_cpu_stalled_seconds_total",
                "Total time in seconds no process could make progress due to CPU congestion.",
            ),
        ],
    ),
    (
        "io",
        [
            (
                "node_pressure_io_waiting_seconds_total",
                "Total time in seconds that processes have waited due to IO congestion.",
            ),
            (
                "node_pressure_io_stalled_seconds_total",
                "Total time in seconds no process could make progress due to IO congestion.",
            ),
        ],
    ),
    (
        "memory",
        [
            (
                "node_pressure_memory_waiting_seconds_total",
                "Total time in seconds that processes have waited for memory.",
            ),
            (
                "node_pressure_memory_stalled_seconds_total",
                "Total time in seconds no process could make progress due to memory congestion.",
            ),
        ],
    ),
];

/// The `pressure` collector.
pub struct Pressure {
    paths: Paths,
}

impl Pressure {
    /// A collector reading under `paths`.
    pub fn new(paths: Paths) -> Self {
        Pressure { paths }
    }
}

/// The `total=` of the `some` and `full` lines, in seconds (the kernel counts microseconds).
/// Lines are parsed with procfs's `parse_pressure_record`; the pair reader `get_pressure`
/// does not fit because kernels before 5.13 have no `full` line for cpu.
fn parse(text: &str) -> anyhow::Result<[Option<f64>; 2]> {
    let mut totals = [None, None];
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let slot = match line.split_whitespace().next() {
            Some("some") => 0,
            Some("full") => 1,
            _ => continue,
        };
        let rec = procfs::parse_pressure_record(line)
            .map_err(|e| anyhow::anyhow!("bad line `{line}`: {e}"))?;
        totals[slot] = Some(rec.total as f64 / 1e6);
    }
    anyhow::ensure!(totals[0].is_some(), "no `some` line");
    Ok(totals)
}

impl Subsystem for Pressure {
    fn name(&self) -> &'static str {
        "pressure"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        if !self.paths.proc("pressure").is_dir() {
            return Ok(());
        }
        for (resource, families) in RESOURCES {
            let path = self.paths.proc(&format!("pressure/{resource}"));
            let text = match self.paths.read_small(&path) {
                Ok(t) => t,
                // Some kernels build PSI in but expose only some resources.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
            };
            let totals = parse(&text).with_context(|| format!("parsing {}", path.display()))?;
            for ((name, help), total) in families.iter().zip(totals) {
                if let Some(v) = total {
                    out.push(Family::counter(*name, *help).with(&[], v));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::host::testutil::{collect, fixture_paths, try_value, value};

    #[test]
    fn reads_the_real_snapshot_in_seconds() {
        let fams = collect(&Pressure::new(fixture_paths("host")));
        assert_eq!(
            value(&fams, "node_pressure_io_waiting_seconds_total", &[]),
            8.513272
        );
        assert_eq!(
            value(&fams, "node_pressure_io_stalled_seconds_total", &[]),
            8.017524
        );
        assert_eq!(fams.len(), 6);
    }

    #[test]
    fn missing_psi_is_empty_not_an_error() {
        let fams = collect(&Pressure::new(fixture_paths("no-psi")));
        assert!(fams.is_empty());
    }

    #[test]
    fn old_kernels_have_no_cpu_full_line() {
        let t = parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=2000000\n").unwrap();
        assert_eq!(t, [Some(2.0), None]);
        assert!(parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n").is_err());
        let fams =
            vec![Family::counter("node_pressure_cpu_waiting_seconds_total", "h").with(&[], 2.0)];
        assert_eq!(
            try_value(&fams, "node_pressure_cpu_stalled_seconds_total", &[]),
            None
        );
    }
}
