//! Charts as inline SVG, drawn by plotters' SVG backend (text is emitted as `<text>`; no font
//! is read at render time). x is seconds from the run's start.

use crate::reports::Error;
use plotters::prelude::*;

/// Width and height of a chart in pixels (the SVG scales with the page).
const WIDTH: u32 = 900;
const HEIGHT: u32 = 250;
/// Height of the alert state strip under a chart.
const STRIP: u32 = 26;
/// Most points drawn per line; more are reduced to each bucket's min and max.
const MAX_DRAWN: usize = 400;

/// A span of time with what it was: (from, to, state or `step`).
pub type Span = (f64, f64, String);
/// A row of a Gantt chart: its label and spans.
pub type Row = (String, Vec<Span>);

/// One line of a chart.
pub struct Line {
    /// Legend text.
    pub label: String,
    /// (seconds from start, value).
    pub points: Vec<(f64, f64)>,
}

/// A chart: lines, an optional threshold, step bands and an alert state strip.
pub struct Chart<'a> {
    /// Unit of the y axis (`ratio` draws percentages).
    pub unit: &'a str,
    /// The lines.
    pub lines: Vec<Line>,
    /// Drawn as a dashed red line.
    pub threshold: Option<f64>,
    /// Steps: (from, to, label).
    pub bands: &'a [(f64, f64, String)],
    /// Alert states under the chart: (from, to, state).
    pub strip: Option<Vec<(f64, f64, String)>>,
    /// x range.
    pub x: (f64, f64),
}

/// The y axis label of `v` in `unit`.
pub fn fmt_value(v: f64, unit: &str) -> String {
    let scaled = |v: f64, units: &[&str], base: f64| {
        let mut v = v;
        let mut i = 0;
        while v.abs() >= base && i + 1 < units.len() {
            v /= base;
            i += 1;
        }
        format!("{}{}", trim(v), units[i])
    };
    match unit {
        "ratio" => format!("{}%", trim(v * 100.0)),
        "seconds" if v.abs() < 1.0 && v != 0.0 => format!("{}ms", trim(v * 1000.0)),
        "seconds" => format!("{}s", trim(v)),
        "bytes" => scaled(v, &["B", "KiB", "MiB", "GiB", "TiB"], 1024.0),
        "bytes/s" => scaled(v, &["B/s", "KiB/s", "MiB/s", "GiB/s"], 1024.0),
        "req/s" => format!("{}/s", trim(v)),
        _ => trim(v),
    }
}

fn trim(v: f64) -> String {
    let s = if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// At most [`MAX_DRAWN`] points: each bucket's lowest and highest, in time order.
pub fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_DRAWN {
        return points.to_vec();
    }
    let per = points.len().div_ceil(MAX_DRAWN / 2);
    let mut out = Vec::with_capacity(MAX_DRAWN + 2);
    for chunk in points.chunks(per) {
        let lo = chunk.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
        let hi = chunk.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1));
        let (Some(lo), Some(hi)) = (lo, hi) else {
            continue;
        };
        if lo.0 <= hi.0 {
            out.extend([lo, hi]);
        } else {
            out.extend([hi, lo]);
        }
    }
    out.dedup();
    out
}

fn render_err(e: impl std::fmt::Display) -> Error {
    Error::Render(e.to_string())
}

/// The color of an alert state.
fn state_color(state: &str) -> RGBColor {
    match state {
        "pending" => RGBColor(240, 180, 40),
        "firing" => RGBColor(210, 50, 50),
        "notified" => RGBColor(120, 40, 160),
        _ => RGBColor(120, 170, 120),
    }
}

/// Draws `c` into an SVG document.
pub fn svg(c: &Chart) -> Result<String, Error> {
    let mut buf = String::new();
    let height = HEIGHT + if c.strip.is_some() { STRIP } else { 0 };
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(render_err)?;
        let (top, bottom) = root.split_vertically(HEIGHT);
        let values = c.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
        let values = values.chain(c.threshold).filter(|v| v.is_finite());
        let (lo, hi) = values.fold((0.0f64, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let hi = if hi <= lo {
            lo + 1.0
        } else {
            hi + (hi - lo) * 0.08
        };
        let (x0, x1) = (c.x.0, c.x.1.max(c.x.0 + 1.0));
        let mut chart = ChartBuilder::on(&top)
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(62)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(render_err)?;
        let unit = c.unit.to_string();
        chart
            .configure_mesh()
            .x_labels(10)
            .y_labels(5)
            .light_line_style(RGBColor(235, 235, 235))
            .x_label_formatter(&|x| format!("{x:.0}s"))
            .y_label_formatter(&|y| fmt_value(*y, &unit))
            .draw()
            .map_err(render_err)?;
        for (i, (a, b, _)) in c.bands.iter().enumerate() {
            let color = if i % 2 == 0 {
                RGBColor(70, 130, 180)
            } else {
                RGBColor(160, 120, 60)
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a.max(x0), lo), (b.min(x1), hi)],
                    color.mix(0.08).filled(),
                )))
                .map_err(render_err)?;
        }
        for (i, line) in c.lines.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(thin(&line.points), color.stroke_width(2)))
                .map_err(render_err)?
                .label(line.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        if let Some(t) = c.threshold {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x0, t), (x1, t)],
                    8,
                    5,
                    RGBColor(200, 0, 0).stroke_width(1),
                ))
                .map_err(render_err)?
                .label(format!("threshold {}", fmt_value(t, c.unit)))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RGBColor(200, 0, 0)));
        }
        if !c.lines.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(render_err)?;
        }
        if let Some(strip) = &c.strip {
            let mut s = ChartBuilder::on(&bottom)
                .margin_left(6 + 62)
                .margin_right(6)
                .build_cartesian_2d(x0..x1, 0.0..1.0)
                .map_err(render_err)?;
            s.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.15), (x1, 0.85)],
                state_color("inactive").mix(0.35).filled(),
            )))
            .map_err(render_err)?;
            for (a, b, state) in strip {
                s.draw_series(std::iter::once(Rectangle::new(
                    [(a.max(x0), 0.15), (b.min(x1), 0.85)],
                    state_color(state).filled(),
                )))
                .map_err(render_err)?;
            }
        }
        root.present().map_err(render_err)?;
    }
    Ok(buf)
}

/// The story as a Gantt chart: one row per step (label, from, to), or per alert. Each row
/// has its label on a line of its own above its bars, so a long label never covers a bar.
pub fn gantt(rows: &[Row], x: (f64, f64)) -> Result<String, Error> {
    let mut buf = String::new();
    let height = 40 + 34 * rows.len().max(1) as u32;
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(render_err)?;
        let (x0, x1) = (x.0, x.1.max(x.0 + 1.0));
        let n = rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(0)
            .build_cartesian_2d(x0..x1, 0.0..n)
            .map_err(render_err)?;
        chart
            .configure_mesh()
            .x_labels(10)
            .disable_y_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .x_label_formatter(&|x| format!("{x:.0}s"))
            .draw()
            .map_err(render_err)?;
        for (i, (label, spans)) in rows.iter().enumerate() {
            let y = n - i as f64;
            for (a, b, state) in spans {
                let color = match state.as_str() {
                    "step" => Palette99::pick(i).to_rgba().mix(0.55),
                    s => state_color(s).to_rgba(),
                };
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(a.max(x0), y - 0.95), (b.min(x1).max(a + 0.3), y - 0.55)],
                        color.filled(),
                    )))
                    .map_err(render_err)?;
            }
            let start = spans.first().map_or(x0, |s| s.0).max(x0);
            chart
                .draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (start, y - 0.08),
                    ("sans-serif", 12).into_font().color(&BLACK),
                )))
                .map_err(render_err)?;
        }
        root.present().map_err(render_err)?;
    }
    Ok(buf)
}
