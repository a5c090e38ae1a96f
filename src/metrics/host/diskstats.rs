//! `node_disk_*{device}` from `/proc/diskstats`, lines parsed by `procfs::DiskStat`.
//!
//! Sectors are always 512 bytes in this file and times are milliseconds, whatever the device.

use super::config::excluded;
use super::monotonic::Monotonic;
use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use anyhow::Context;
use regex::Regex;

/// Bytes per `/proc/diskstats` sector.
const SECTOR: f64 = 512.0;
/// Milliseconds to seconds.
const MS: f64 = 0.001;

/// The counter families in the order [`counters`] fills them, with node_exporter's help.
const COUNTERS: [(&str, &str); 16] = [
    (
        "node_disk_reads_completed_total",
        "The total number of reads completed successfully.",
    ),
    (
        "node_disk_reads_merged_total",
        "The total number of reads merged.",
    ),
    (
        "node_disk_read_bytes_total",
        "The total number of bytes read successfully.",
    ),
    (
        "node_disk_read_time_seconds_total",
        "The total number of seconds spent by all reads.",
    ),
    (
        "node_disk_writes_completed_total",
        "The total number of writes completed successfully.",
    ),
    (
        "node_disk_writes_merged_total",
        "The number of writes merged.",
    ),
    (
        "node_disk_written_bytes_total",
        "The total number of bytes written successfully.",
    ),
    (
        "node_disk_write_time_seconds_total",
        "This is the total number of seconds spent by all writes.",
    ),
    (
        "node_disk_io_time_seconds_total",
        "Total seconds spent doing I/Os.",
    ),
    (
        "node_disk_io_time_weighted_seconds_total",
        "The weighted # of seconds spent doing I/Os.",
    ),
    (
        "node_disk_discards_completed_total",
        "The total number of discards completed successfully.",
    ),
    (
        "node_disk_discards_merged_total",
        "The total number of discards merged.",
    ),
    (
        "node_disk_discarded_sectors_total",
        "The total number of sectors discarded successfully.",
    ),
    (
        "node_disk_discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
    ),
    (
        "node_disk_flush_requests_total",
        "The total number of flush requests completed successfully",
    ),
    (
        "node_disk_flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
    ),
];
/// How many of [`COUNTERS`] every kernel has; the discard ones need 4.18, flush 5.5.
const BASE_COUNTERS: usize = 10;
const IO_NOW: &str = "node_disk_io_now";

/// The counters of one line, `None` where the kernel does not report the column.
fn counters(d: &procfs::DiskStat) -> [Option<f64>; 16] {
    let f = |v: u64| Some(v as f64);
    let o = |v: Option<u64>, scale: f64| v.map(|v| v as f64 * scale);
    [
        f(d.reads),
        f(d.merged),
        f(d.sectors_read).map(|v| v * SECTOR),
        f(d.time_reading).map(|v| v * MS),
        f(d.writes),
        f(d.writes_merged),
        f(d.sectors_written).map(|v| v * SECTOR),
        f(d.time_writing).map(|v| v * MS),
        f(d.time_in_progress).map(|v| v * MS),
        f(d.weighted_time_in_progress).map(|v| v * MS),
        o(d.discards, 1.0),
        o(d.discards_merged, 1.0),
        o(d.sectors_discarded, 1.0),
        o(d.time_discarding, MS),
        o(d.flushes, 1.0),
        o(d.time_flushing, MS),
    ]
}

/// The `diskstats` collector.
pub struct Diskstats {
    paths: Paths,
    /// Devices to skip.
    exclude: Option<Regex>,
    /// Per-device clamp so counters never step back.
    mono: Monotonic,
}

impl Diskstats {
    /// A collector reading under `paths`, skipping devices matching `exclude`.
    pub fn new(paths: Paths, exclude: Option<Regex>) -> Self {
        Diskstats {
            paths,
            exclude,
            mono: Monotonic::default(),
        }
    }
}

impl Subsystem for Diskstats {
    fn name(&self) -> &'static str {
        "diskstats"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let path = self.paths.proc("diskstats");
        let text = self.paths.read(&path)?;
        let mut fams: Vec<Family> = COUNTERS
            .iter()
            .map(|(name, help)| Family::counter(*name, *help))
            .collect();
        let mut io_now = Family::gauge(IO_NOW, "The number of I/Os currently in progress.");
        let mut pass = self.mono.pass();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let d = procfs::DiskStat::from_line(line)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("parsing `{line}` in {}", path.display()))?;
            if excluded(&self.exclude, &d.name) {
                continue;
            }
            let values = counters(&d);
            let present = values.iter().take_while(|v| v.is_some()).count();
            let mut row: Vec<f64> = values[..present].iter().flatten().copied().collect();
            pass.clamp(&d.name, &mut row);
            let labels = [("device", d.name.as_str())];
            for (fam, v) in fams.iter_mut().zip(&row) {
                fam.push(&labels, *v);
            }
            io_now.push(&labels, d.in_progress as f64);
        }
        // Empty families (no discard/flush columns on old kernels) are not encoded.
        fams.insert(BASE_COUNTERS, io_now);
        out.extend(fams);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::family::Kind;
    use crate::metrics::host::HostConfig;
    use crate::metrics::host::testutil::{collect, fixture_paths, kind, try_value, value};

    fn default_exclude() -> Option<Regex> {
        HostConfig::default().filters().unwrap().disk
    }

    #[test]
    fn converts_the_real_snapshot_and_skips_loop_devices() {
        let fams = collect(&Diskstats::new(fixture_paths("host"), default_exclude()));
        let vda = [("device", "vda")];
        assert_eq!(
            value(&fams, "node_disk_reads_completed_total", &vda),
            62992.0
        );
        assert_eq!(
            value(&fams, "node_disk_read_bytes_total", &vda),
            4120834.0 * 512.0
        );
        assert_eq!(
            value(&fams, "node_disk_read_time_seconds_total", &vda),
            34.571
        );
        assert_eq!(
            value(&fams, "node_disk_io_time_seconds_total", &vda),
            12200.0 * MS
        );
        assert_eq!(value(&fams, "node_disk_flush_requests_total", &vda), 2421.0);
        assert_eq!(value(&fams, IO_NOW, &vda), 0.0);
        assert_eq!(kind(&fams, IO_NOW), Kind::Gauge);
        assert_eq!(kind(&fams, "node_disk_written_bytes_total"), Kind::Counter);
        assert!(
            try_value(
                &fams,
                "node_disk_reads_completed_total",
                &[("device", "zram0")]
            )
            .is_some()
        );
        assert!(
            try_value(
                &fams,
                "node_disk_reads_completed_total",
                &[("device", "loop0")]
            )
            .is_none()
        );
    }

    #[test]
    fn partitions_are_skipped_and_old_kernels_lack_discards() {
        let fams = collect(&Diskstats::new(fixture_paths("odd"), default_exclude()));
        assert!(
            try_value(
                &fams,
                "node_disk_reads_completed_total",
                &[("device", "sda")]
            )
            .is_some()
        );
        assert!(
            try_value(
                &fams,
                "node_disk_reads_completed_total",
                &[("device", "sda1")]
            )
            .is_none()
        );
        assert!(
            try_value(
                &fams,
                "node_disk_reads_completed_total",
                &[("device", "nvme0n1p1")]
            )
            .is_none()
        );
        // sda reports only the 11 classic columns: no discard family at all.
        let discards = fams
            .iter()
            .find(|f| f.name == "node_disk_discards_completed_total")
            .unwrap();
        assert!(discards.samples.iter().all(|s| s.labels[0].1 != "sda"));
    }

    #[test]
    fn an_empty_exclude_keeps_everything() {
        let fams = collect(&Diskstats::new(fixture_paths("host"), None));
        assert!(
            try_value(
                &fams,
                "node_disk_reads_completed_total",
                &[("device", "loop0")]
            )
            .is_some()
        );
    }
}
