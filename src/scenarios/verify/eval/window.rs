//! The window judges: `never` (no firing during the run) and query checks (an expression's
//! values over a window, always / eventually / at the end within a bound).

use super::{Now, Outcome, Verdict, clock_s, decided, firing_spans, gap_in, pending};
use crate::scenarios::verify::check::{Check, What};
use crate::scenarios::verify::spec::Mode;
use crate::scenarios::verify::timeline::{Recording, Series};

/// `never` and query checks: judged over a window.
pub(super) fn judge(check: &Check, rec: &Recording, at: Now) -> Outcome {
    let now = at.now;
    match &check.what {
        What::Never { alert } => {
            let end = at.ended.unwrap_or(f64::INFINITY);
            if let Some((s, _)) = firing_spans(rec, alert)
                .into_iter()
                .find(|(s, _)| *s <= end)
            {
                return decided(
                    Verdict::Fail,
                    format!("fired at {} into the run", clock_s(s)),
                    s,
                    None,
                );
            }
            let Some(end) = at.ended else {
                return pending();
            };
            if let Some((g0, g1)) = gap_in(rec, now, 0.0, end) {
                return decided(
                    Verdict::Inconclusive,
                    format!(
                        "did not fire while seen, but no data from Prometheus from {} to {}",
                        clock_s(g0),
                        clock_s(g1)
                    ),
                    end,
                    None,
                );
            }
            decided(
                Verdict::Pass,
                "never fired during the run".into(),
                end,
                None,
            )
        }
        What::Query {
            bound,
            from,
            to,
            mode,
            ..
        } => {
            let to_wall = to.at.as_secs_f64() / at.speed;
            let idx = check_index(check);
            match rec.queries.get(&idx) {
                None if at.stopped && at.ended.is_some_and(|e| e < to_wall) => decided(
                    Verdict::Inconclusive,
                    format!(
                        "the run was stopped before the window ({} to {}) ended",
                        from.label, to.label
                    ),
                    now,
                    None,
                ),
                None => pending(),
                Some(Err(e)) => decided(
                    Verdict::Inconclusive,
                    format!("query failed: {e}"),
                    now,
                    None,
                ),
                Some(Ok(series)) => {
                    let (result, observed) = judge_series(series, *bound, *mode);
                    decided(result, observed, now, None)
                }
            }
        }
        _ => unreachable!("window::judge is only called for never and query checks"),
    }
}

/// The entry index doubles as the key of a query's data (one query check per entry).
pub fn check_index(check: &Check) -> usize {
    check.entry
}

/// Judges the series of a query check's window.
pub fn judge_series(
    series: &[Series],
    bound: crate::scenarios::verify::check::Bound,
    mode: Mode,
) -> (Verdict, String) {
    let n: usize = series.iter().map(|s| s.samples.len()).sum();
    if n == 0 {
        return (
            Verdict::Inconclusive,
            "no data: the query returned no samples in the window".into(),
        );
    }
    let all = || series.iter().flat_map(|s| s.samples.iter().copied());
    let range = || {
        let (lo, hi) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| {
            (lo.min(v), hi.max(v))
        });
        format!("{} samples from {lo:.4} to {hi:.4}", n)
    };
    match mode {
        Mode::Always => match all().find(|(_, v)| !bound.holds(*v)) {
            Some((t, v)) => (
                Verdict::Fail,
                format!("{v:.4} at {} is not {bound} ({})", clock_s(t), range()),
            ),
            None => (Verdict::Pass, format!("always {bound}: {}", range())),
        },
        Mode::Eventually => match all().find(|(_, v)| bound.holds(*v)) {
            Some((t, v)) => (
                Verdict::Pass,
                format!("{v:.4} at {} is {bound}", clock_s(t)),
            ),
            None => (Verdict::Fail, format!("never {bound}: {}", range())),
        },
        Mode::AtEnd => {
            let last: Vec<(f64, f64)> = series
                .iter()
                .filter_map(|s| s.samples.last().copied())
                .collect();
            match last.iter().find(|(_, v)| !bound.holds(*v)) {
                Some((t, v)) => (
                    Verdict::Fail,
                    format!("last value {v:.4} at {} is not {bound}", clock_s(*t)),
                ),
                None => (
                    Verdict::Pass,
                    format!("last values {bound} ({} series)", last.len()),
                ),
            }
        }
    }
}
