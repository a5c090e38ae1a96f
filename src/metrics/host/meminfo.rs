//! `node_memory_<Field>_bytes` for every field of `/proc/meminfo`, as node_exporter names them.
//!
//! Hand-parsed: `procfs::Meminfo` is a struct of known fields, so fields added by newer
//! kernels (or missing from older ones) would be dropped, while the contract is *every* field.

use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use anyhow::Context;

/// One field: node_exporter's metric name and the value in bytes (or a count).
#[derive(Debug, PartialEq)]
struct Field {
    name: String,
    value: f64,
}

/// Parses `/proc/meminfo`: `Key:   123 kB` becomes `node_memory_Key_bytes` = 123 × 1024,
/// `HugePages_Total:   0` (no unit) becomes `node_memory_HugePages_Total`, and parentheses
/// become an underscore (`Active(anon)` → `Active_anon`).
fn parse(text: &str) -> anyhow::Result<Vec<Field>> {
    let mut out = Vec::with_capacity(64);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (key, rest) = line
            .split_once(':')
            .with_context(|| format!("no colon in `{line}`"))?;
        let mut words = rest.split_whitespace();
        let number: f64 = words
            .next()
            .with_context(|| format!("`{key}` has no value"))?
            .parse()
            .with_context(|| format!("`{key}` is not a number"))?;
        let mut name = String::with_capacity(key.len() + 20);
        name.push_str("node_memory_");
        for c in key.chars() {
            match c {
                '(' => name.push('_'),
                ')' => {}
                c if c.is_ascii_alphanumeric() || c == '_' => name.push(c),
                _ => name.push('_'),
            }
        }
        let value = match words.next() {
            Some("kB") => {
                name.push_str("_bytes");
                number * 1024.0
            }
            Some(unit) => anyhow::bail!("`{key}` has an unknown unit `{unit}`"),
            None => number,
        };
        out.push(Field { name, value });
    }
    anyhow::ensure!(!out.is_empty(), "no fields");
    Ok(out)
}

/// The `meminfo` collector.
pub struct Meminfo {
    paths: Paths,
}

impl Meminfo {
    /// A collector reading under `paths`.
    pub fn new(paths: Paths) -> Self {
        Meminfo { paths }
    }
}

impl Subsystem for Meminfo {
    fn name(&self) -> &'static str {
        "meminfo"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let text = self.paths.read_proc("meminfo")?;
        let fields = parse(&text)
            .with_context(|| format!("parsing {}", self.paths.proc("meminfo").display()))?;
        for Field { name, value } in fields {
            let help = format!(
                "Memory information field {}.",
                name.trim_start_matches("node_memory_")
            );
            out.push(Family::gauge(name, help).with(&[], value));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::family::Kind;
    use crate::metrics::host::testutil::{collect, fixture_paths, kind, try_value, value};

    #[test]
    fn every_field_of_the_real_snapshot() {
        let text = std::fs::read_to_string(fixture_paths("host").proc("meminfo")).unwrap();
        let fams = collect(&Meminfo::new(fixture_paths("host")));
        assert_eq!(fams.len(), text.lines().count());
        assert_eq!(kind(&fams, "node_memory_MemTotal_bytes"), Kind::Gauge);
        assert_eq!(
            value(&fams, "node_memory_MemTotal_bytes", &[]),
            24684084.0 * 1024.0
        );
        assert!(try_value(&fams, "node_memory_Active_anon_bytes", &[]).is_some());
        assert!(try_value(&fams, "node_memory_Inactive_file_bytes", &[]).is_some());
        assert_eq!(value(&fams, "node_memory_HugePages_Total", &[]), 0.0);
        assert_eq!(
            value(&fams, "node_memory_Hugepagesize_bytes", &[]),
            2048.0 * 1024.0
        );
    }

    #[test]
    fn unknown_fields_are_kept_and_garbage_fails() {
        let f = parse("NewField(x):  7 kB\nCount:  3\n").unwrap();
        assert_eq!(f[0].name, "node_memory_NewField_x_bytes");
        assert_eq!(f[0].value, 7168.0);
        assert_eq!(f[1].name, "node_memory_Count");
        assert!(parse("MemTotal 12 kB\n").is_err());
        assert!(parse("").is_err());
    }
}
