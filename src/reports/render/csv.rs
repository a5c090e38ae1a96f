//! `series.csv`: one row per timestamp (`time` in unix seconds, `offset_seconds` from the
//! run's start), one column per series, an empty cell where a series has no sample.

use crate::reports::Error;
use crate::reports::bundle::{Series, SeriesMeta};
use crate::reports::float_text;
use std::collections::BTreeMap;

/// Timestamps are kept to the millisecond so columns of one step share their rows.
fn key(t: f64) -> i64 {
    (t * 1000.0).round() as i64
}

/// The CSV text of `series`; `start` is the run's start (for `offset_seconds`).
pub fn write_with_offset(series: &[Series], start: f64) -> String {
    let mut rows: BTreeMap<i64, Vec<Option<f64>>> = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        for &(t, v) in &s.points {
            rows.entry(key(t))
                .or_insert_with(|| vec![None; series.len()])[i] = Some(v);
        }
    }
    let mut out = String::from("time,offset_seconds");
    for s in series {
        out.push(',');
        out.push_str(&quote(&s.meta.column));
    }
    out.push('\n');
    for (t, cells) in rows {
        let t = t as f64 / 1000.0;
        out.push_str(&format!("{t:.3},{:.3}", t - start));
        for c in cells {
            out.push(',');
            if let Some(v) = c {
                out.push_str(&float_text(v));
            }
        }
        out.push('\n');
    }
    out
}

/// The bundle's `series.csv` (offsets from the first row).
pub fn write(series: &[Series]) -> String {
    let start = series
        .iter()
        .filter_map(|s| s.points.first().map(|p| p.0))
        .fold(f64::INFINITY, f64::min);
    write_with_offset(series, if start.is_finite() { start } else { 0.0 })
}

/// A CSV cell, quoted when it holds a comma, a quote or a line break.
pub fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Splits one CSV line into cells (quotes as [`quote`] writes them).
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Reads `series.csv` back into the series `metas` describe (matched by column name).
pub fn parse(text: &str, metas: &[SeriesMeta]) -> Result<Vec<Series>, Error> {
    let mut lines = text.lines();
    let header = cells(lines.next().unwrap_or("time"));
    let mut cols: Vec<Option<usize>> = Vec::new();
    let mut out: Vec<Series> = metas
        .iter()
        .map(|m| Series {
            meta: m.clone(),
            points: Vec::new(),
        })
        .collect();
    for h in &header {
        cols.push(metas.iter().position(|m| &m.column == h));
    }
    for line in lines.filter(|l| !l.is_empty()) {
        let row = cells(line);
        let t: f64 = row
            .first()
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| Error::Corrupt(format!("series.csv: bad row `{line}`")))?;
        for (i, cell) in row.iter().enumerate() {
            if let (Some(Some(s)), Ok(v)) = (cols.get(i), cell.parse::<f64>()) {
                out[*s].points.push((t, v));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(column: &str) -> SeriesMeta {
        SeriesMeta {
            column: column.into(),
            group: "host".into(),
            name: "x".into(),
            expr: "x".into(),
            labels: Default::default(),
            unit: String::new(),
            threshold: None,
            check: None,
        }
    }

    #[test]
    fn round_trips_quoted_columns_and_gaps() {
        let a = meta("up{instance=\"a:1\",job=\"jolt\"}");
        let b = meta("plain");
        let series = vec![
            Series {
                meta: a.clone(),
                points: vec![(10.0, 1.0), (11.0, 0.5)],
            },
            Series {
                meta: b.clone(),
                points: vec![(11.0, 2.0)],
            },
        ];
        let text = write(&series);
        assert!(
            text.starts_with(
                "time,offset_seconds,\"up{instance=\"\"a:1\"\",job=\"\"jolt\"\"}\",plain\n"
            ),
            "{text}"
        );
        assert!(text.contains("10.000,0.000,1,\n"), "{text}");
        let back = parse(&text, &[a, b]).unwrap();
        assert_eq!(back[0].points, vec![(10.0, 1.0), (11.0, 0.5)]);
        assert_eq!(back[1].points, vec![(11.0, 2.0)]);
    }
}
