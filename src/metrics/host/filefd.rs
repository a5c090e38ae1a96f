//! `node_filefd_allocated` and `node_filefd_maximum` from `/proc/sys/fs/file-nr`.

use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use anyhow::Context;

/// File handles in use and the system-wide maximum.
pub fn parse(text: &str) -> anyhow::Result<(f64, f64)> {
    let v: Vec<f64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .context("not a number")?;
    match v[..] {
        [allocated, _unused, maximum] => Ok((allocated, maximum)),
        _ => anyhow::bail!("expected 3 fields, got {}", v.len()),
    }
}

/// The `filefd` collector.
pub struct Filefd {
    paths: Paths,
}

impl Filefd {
    /// A collector reading under `paths`.
    pub fn new(paths: Paths) -> Self {
        Filefd { paths }
    }
}

impl Subsystem for Filefd {
    fn name(&self) -> &'static str {
        "filefd"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let (allocated, maximum) = parse(&self.paths.read_proc("sys/fs/file-nr")?)?;
        out.push(
            Family::gauge(
                "node_filefd_allocated",
                "File descriptor statistics: allocated.",
            )
            .with(&[], allocated),
        );
        out.push(
            Family::gauge(
                "node_filefd_maximum",
                "File descriptor statistics: maximum.",
            )
            .with(&[], maximum),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::host::testutil::{collect, fixture_paths, value};

    #[test]
    fn reads_file_nr() {
        let fams = collect(&Filefd::new(fixture_paths("host")));
        assert_eq!(value(&fams, "node_filefd_allocated", &[]), 378.0);
        assert_eq!(value(&fams, "node_filefd_maximum", &[]), 2466170.0);
        assert!(parse("1 2").is_err());
    }
}
