//! `node_load1`, `node_load5`, `node_load15` from `/proc/loadavg`.

use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use anyhow::Context;

/// Reads `/proc/loadavg`.
pub struct LoadAvg {
    paths: Paths,
}

impl LoadAvg {
    /// A collector reading under `paths`.
    pub fn new(paths: Paths) -> Self {
        LoadAvg { paths }
    }
}

/// Parses the three averages from the text of `/proc/loadavg`.
fn parse(text: &str) -> anyhow::Result<[f64; 3]> {
    let mut it = text.split_whitespace().map(str::parse::<f64>);
    let mut next = || it.next().context("too few fields")?.context("not a number");
    Ok([next()?, next()?, next()?])
}

impl Subsystem for LoadAvg {
    fn name(&self) -> &'static str {
        "loadavg"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let path = self.paths.proc("loadavg");
        let text = self.paths.read(&path)?;
        let [l1, l5, l15] = parse(&text).with_context(|| format!("parsing {}", path.display()))?;
        out.push(Family::gauge("node_load1", "1m load average.").with(&[], l1));
        out.push(Family::gauge("node_load5", "5m load average.").with(&[], l5));
        out.push(Family::gauge("node_load15", "15m load average.").with(&[], l15));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loadavg() {
        assert_eq!(
            parse("0.50 1.25 2.00 3/456 7890\n").unwrap(),
            [0.5, 1.25, 2.0]
        );
        assert!(parse("garbage").is_err());
    }
}
