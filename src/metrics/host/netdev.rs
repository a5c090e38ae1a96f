//! `node_network_{receive,transmit}_*_total{device}` from `/proc/net/dev`.
//!
//! Hand-parsed: `procfs`'s `InterfaceDeviceStatus` splits on whitespace, but the kernel prints
//! `name:counter` without a space when both are long (`verylongname:1234567890`), which that
//! parser rejects. Interface names cannot contain `:` or whitespace, so the first `:` ends the
//! name.

use super::config::excluded;
use super::monotonic::Monotonic;
use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use anyhow::Context;
use regex::Regex;

/// The 16 columns of `/proc/net/dev`, in order, as node_exporter names them.
const COLUMNS: [&str; 16] = [
    "node_network_receive_bytes_total",
    "node_network_receive_packets_total",
    "node_network_receive_errs_total",
    "node_network_receive_drop_total",
    "node_network_receive_fifo_total",
    "node_network_receive_frame_total",
    "node_network_receive_compressed_total",
    "node_network_receive_multicast_total",
    "node_network_transmit_bytes_total",
    "node_network_transmit_packets_total",
    "node_network_transmit_errs_total",
    "node_network_transmit_drop_total",
    "node_network_transmit_fifo_total",
    "node_network_transmit_colls_total",
    "node_network_transmit_carrier_total",
    "node_network_transmit_compressed_total",
];

/// One interface line: name and its 16 counters.
fn parse_line(line: &str) -> anyhow::Result<(&str, [f64; 16])> {
    let (name, rest) = line
        .split_once(':')
        .with_context(|| format!("no `:` in `{line}`"))?;
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "empty interface name in `{line}`");
    let mut v = [0f64; 16];
    let mut words = rest.split_ascii_whitespace();
    for slot in &mut v {
        *slot = words
            .next()
            .with_context(|| format!("too few columns for {name}"))?
            .parse::<u64>()
            .with_context(|| format!("bad number for {name}"))? as f64;
    }
    Ok((name, v))
}

/// The `netdev` collector.
pub struct Netdev {
    paths: Paths,
    /// Interfaces to skip.
    exclude: Option<Regex>,
    /// Per-interface clamp so counters never step back.
    mono: Monotonic,
}

impl Netdev {
    /// A collector reading under `paths`, skipping interfaces matching `exclude`.
    pub fn new(paths: Paths, exclude: Option<Regex>) -> Self {
        Netdev {
            paths,
            exclude,
            mono: Monotonic::default(),
        }
    }
}

impl Subsystem for Netdev {
    fn name(&self) -> &'static str {
        "netdev"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let path = self.paths.proc("net/dev");
        let text = self.paths.read(&path)?;
        let mut fams: Vec<Family> = COLUMNS
            .iter()
            .map(|name| {
                let stat = name
                    .trim_start_matches("node_network_")
                    .trim_end_matches("_total");
                Family::counter(*name, format!("Network device statistic {stat}."))
            })
            .collect();
        let mut pass = self.mono.pass();
        // Two header lines, then one line per interface.
        for line in text.lines().skip(2).filter(|l| !l.trim().is_empty()) {
            let (name, mut values) =
                parse_line(line).with_context(|| format!("parsing {}", path.display()))?;
            if excluded(&self.exclude, name) {
                continue;
            }
            pass.clamp(name, &mut values);
            for (fam, v) in fams.iter_mut().zip(values) {
                fam.push(&[("device", name)], v);
            }
        }
        out.extend(fams);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::host::testutil::{collect, fixture_paths, try_value, value};

    #[test]
    fn reads_the_real_snapshot() {
        let fams = collect(&Netdev::new(fixture_paths("host"), None));
        assert_eq!(fams.len(), 16);
        assert!(
            value(
                &fams,
                "node_network_receive_bytes_total",
                &[("device", "lo")]
            ) > 0.0
        );
        assert!(
            try_value(
                &fams,
                "node_network_transmit_drop_total",
                &[("device", "eth0")]
            )
            .is_some()
        );
    }

    #[test]
    fn odd_names_and_glued_columns() {
        let re = Regex::new("^lo$").unwrap();
        let fams = collect(&Netdev::new(fixture_paths("odd"), Some(re)));
        assert_eq!(
            value(
                &fams,
                "node_network_receive_bytes_total",
                &[("device", "veth-a.b@c_1")]
            ),
            12345.0
        );
        // `averyl0ngname:1234567890` has no space after the colon.
        assert_eq!(
            value(
                &fams,
                "node_network_receive_bytes_total",
                &[("device", "averyl0ngname")]
            ),
            1234567890.0
        );
        assert_eq!(
            value(
                &fams,
                "node_network_transmit_compressed_total",
                &[("device", "averyl0ngname")]
            ),
            16.0
        );
        assert!(
            try_value(
                &fams,
                "node_network_receive_bytes_total",
                &[("device", "lo")]
            )
            .is_none()
        );
        assert!(parse_line("eth0: 1 2 3").is_err());
    }
}
