//! Metric widgets: a chart with time and value axes, units, a threshold
//! line and ALARM periods marked; a sparkline for table cells and compact
//! panels. A period without data is drawn as missing (a gap, `·`), never
//! as zero.

use chrono::TimeDelta;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Wrap};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{MetricSeries, Timestamp};
use crate::metrics::MetricsData;
use crate::state::{EnvState, LoadState};

use super::widgets::{human_bytes, num};

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A value with its unit, compactly: `34%`, `0.21s`, `60.1 GB`, `1450`.
pub fn format_value(v: f64, unit: Option<&str>) -> String {
    match unit {
        Some("Percent") => format!("{v:.0}%"),
        Some("Bytes") => human_bytes(v),
        Some("Seconds") if v < 1.0 => format!("{:.0}ms", v * 1000.0),
        Some("Seconds") => format!("{v:.1}s"),
        _ if v.abs() >= 10_000.0 => format!("{:.1}k", v / 1000.0),
        _ => num(v),
    }
}

/// The series' points bucketed into `width` columns over `[start, end)`:
/// the mean of each column's points, `None` where there are none.
pub fn buckets(
    series: &MetricSeries,
    start: Timestamp,
    end: Timestamp,
    width: usize,
) -> Vec<Option<f64>> {
    let span = (end - start).num_seconds().max(1) as f64;
    let mut sums = vec![(0.0, 0u32); width];
    for (t, v) in &series.points {
        if *t < start || *t >= end || width == 0 {
            continue;
        }
        let x = ((*t - start).num_seconds() as f64 / span * width as f64) as usize;
        if let Some(slot) = sums.get_mut(x.min(width - 1)) {
            slot.0 += v;
            slot.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(s, n)| (n > 0).then(|| s / f64::from(n)))
        .collect()
}

/// A one-line sparkline of `width` cells: `▂▃▅·▃` (`·` where a period had
/// no data), scaled 0..100 for percentages and 0..max otherwise.
pub fn sparkline<'a>(
    series: &MetricSeries,
    start: Timestamp,
    end: Timestamp,
    width: usize,
    theme: &Theme,
) -> Vec<Span<'a>> {
    sparkline_up_to(series, start, end, width, None, theme)
}

/// A sparkline whose scale reaches at least `ceiling` (an alarm threshold:
/// 2 errors under a threshold of 10 are low bars, not full ones).
pub fn sparkline_up_to<'a>(
    series: &MetricSeries,
    start: Timestamp,
    end: Timestamp,
    width: usize,
    ceiling: Option<f64>,
    theme: &Theme,
) -> Vec<Span<'a>> {
    let values = buckets(series, start, end, width);
    let top = if series.unit.as_deref() == Some("Percent") {
        100.0
    } else {
        values
            .iter()
            .flatten()
            .copied()
            .chain(ceiling.filter(|c| c.is_finite()))
            .fold(0.0, f64::max)
    };
    let mut text = String::new();
    let mut spans = Vec::new();
    let mut missing = false;
    for v in values {
        let (c, is_missing) = match v {
            None => ('·', true),
            Some(v) => {
                let level = if top > 0.0 {
                    ((v.max(0.0) / top) * 7.0).round() as usize
                } else {
                    0
                };
                (BARS[level.min(7)], false)
            }
        };
        if is_missing != missing && !text.is_empty() {
            let style = if missing { theme.dim } else { theme.gauge };
            spans.push(Span::styled(std::mem::take(&mut text), style));
        }
        missing = is_missing;
        text.push(c);
    }
    if !text.is_empty() {
        spans.push(Span::styled(
            text,
            if missing { theme.dim } else { theme.gauge },
        ));
    }
    spans
}

/// The last value of a series, formatted.
pub fn latest(series: &MetricSeries) -> Option<String> {
    series
        .points
        .last()
        .map(|(_, v)| format_value(*v, series.unit.as_deref()))
}

/// A table cell: a sparkline of the range and the latest value, or `-`
/// when the metric has no data (or `…` while loading).
pub fn trend_cell<'a>(
    env: &EnvState,
    series: impl FnOnce(&MetricsData) -> Option<&MetricSeries>,
    width: usize,
    theme: &Theme,
) -> Line<'a> {
    trend_cell_up_to(env, series, width, None, theme)
}

/// [`trend_cell`] with the sparkline's scale reaching at least `ceiling`.
pub fn trend_cell_up_to<'a>(
    env: &EnvState,
    series: impl FnOnce(&MetricsData) -> Option<&MetricSeries>,
    width: usize,
    ceiling: Option<f64>,
    theme: &Theme,
) -> Line<'a> {
    let Some(data) = &env.metrics.data else {
        return Line::styled(
            if matches!(env.metrics.load, LoadState::Failed(_)) {
                "?"
            } else {
                "…"
            },
            theme.dim,
        );
    };
    match series(data) {
        Some(s) if !s.points.is_empty() => {
            let value = latest(s).unwrap_or_default();
            let bars = width.saturating_sub(value.chars().count() + 1).max(1);
            let mut spans = sparkline_up_to(s, data.start, data.end, bars, ceiling, theme);
            spans.push(Span::raw(format!(" {value}")));
            Line::from(spans)
        }
        _ => Line::styled("no data", theme.dim),
    }
}

/// The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ)
/// at or above `v`: the top of a value axis, so that its labels (top, half,
/// zero) read as round numbers.
fn nice_ceiling(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let scale = 10f64.powf(v.log10().floor());
    let f = v / scale;
    let step = [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .find(|s| *s >= f - 1e-9)
        .unwrap_or(10.0);
    step * scale
}

/// What one chart draws.
pub struct ChartSpec<'a> {
    pub title: String,
    pub series: Option<&'a MetricSeries>,
    pub period_seconds: u32,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The alarm threshold, drawn as a line.
    pub threshold: Option<f64>,
    /// Periods in ALARM, marked along the top.
    pub alarm_periods: &'a [(Timestamp, Timestamp)],
    /// How old the data is, for the right corner: [`data_age`].
    pub age: DataAge<'a>,
}

/// How old a chart's data is: `12s ago` (`12s` on a narrow chart), or
/// `stale 3m unavailable` after failed polls.
pub struct DataAge<'a> {
    pub full: Line<'a>,
    pub short: Line<'a>,
}

/// The age of an environment's metric data, as a chart's corner shows it.
pub fn data_age<'a>(env: &EnvState, now: Timestamp, theme: &Theme) -> DataAge<'a> {
    let meta = env.panel_meta(Resource::Metrics);
    let short = match meta.loaded_at.map(|t| crate::state::format_age(now - t)) {
        Some(age) if meta.is_stale() => Line::styled(format!(" stale {age} "), theme.stale),
        Some(age) => Line::styled(format!(" {age} "), theme.dim),
        None => Line::default(),
    };
    DataAge {
        full: super::widgets::status_line(meta, now, theme),
        short,
    }
}

/// Cuts title spans to `width` columns, ending in `…` when cut.
fn cut_spans(spans: Vec<Span<'_>>, width: usize) -> Vec<Span<'_>> {
    let total: usize = spans.iter().map(Span::width).sum();
    if total <= width {
        return spans;
    }
    let mut out = Vec::new();
    let mut left = width.saturating_sub(1);
    for s in spans {
        if left == 0 {
            break;
        }
        let text: String = s.content.chars().take(left).collect();
        left -= text.chars().count();
        out.push(Span::styled(text, s.style));
    }
    out.push(Span::raw("…"));
    out
}

/// Draws a bordered chart with time (UTC) and value axes. Gaps in the data
/// stay gaps; a series without data says so.
pub fn draw_chart(frame: &mut Frame, area: Rect, spec: &ChartSpec<'_>, theme: &Theme) {
    let unit = spec.series.and_then(|s| s.unit.as_deref());
    let mut title = vec![Span::styled(format!(" {} ", spec.title), theme.title)];
    if let Some(s) = spec.series
        && let Some(v) = latest(s)
    {
        title.push(Span::styled(format!("{v} "), theme.base));
    }
    // The data's age stays in the right corner: the short form where the
    // title needs the room, the title cut where even that does not fit.
    let avail = usize::from(area.width.saturating_sub(2));
    let title_w = |t: &[Span]| t.iter().map(Span::width).sum::<usize>();
    let age = if title_w(&title) + spec.age.full.width() <= avail {
        spec.age.full.clone()
    } else {
        spec.age.short.clone()
    };
    if let Some(t) = spec.threshold {
        // The word gives way before the value does on a narrow chart.
        let used: usize = title_w(&title) + age.width();
        let value = format_value(t, unit);
        let long = format!("─ threshold {value} ");
        let short = format!("─ {value} ");
        let fits = |t: &str| used + t.chars().count() + 2 <= usize::from(area.width);
        // Cut, a value would mislead (`─ 1` of 136): the line alone then.
        if fits(&long) {
            title.push(Span::styled(long, theme.critical));
        } else if fits(&short) {
            title.push(Span::styled(short, theme.critical));
        }
    }
    if !spec.alarm_periods.is_empty() {
        title.push(Span::styled("▀ ALARM ", theme.critical));
    }
    let title = cut_spans(title, avail.saturating_sub(age.width()));
    let block = Block::bordered()
        .border_style(theme.border(false))
        .title(Line::from(title))
        .title(age.right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(series) = spec.series.filter(|s| !s.points.is_empty()) else {
        let hours = (spec.end - spec.start).num_hours();
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("no data in the last {hours}h"),
                theme.dim,
            ))
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let span = (spec.end - spec.start).num_seconds().max(1) as f64;
    let x = |t: Timestamp| (t - spec.start).num_seconds() as f64;
    // Contiguous runs of datapoints; a missing period breaks the line.
    let gap = f64::from(spec.period_seconds.max(1)) * 1.5;
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut last_x = f64::NEG_INFINITY;
    for (t, v) in &series.points {
        let px = x(*t);
        if !(0.0..=span).contains(&px) {
            continue;
        }
        if px - last_x > gap || runs.is_empty() {
            runs.push(Vec::new());
        }
        if let Some(run) = runs.last_mut() {
            run.push((px, *v));
        }
        last_x = px;
    }
    let max = series
        .points
        .iter()
        .map(|p| p.1)
        .chain(spec.threshold)
        .fold(0.0_f64, f64::max);
    let min = series
        .points
        .iter()
        .map(|p| p.1)
        .chain(spec.threshold)
        .fold(0.0_f64, f64::min);
    let top = if unit == Some("Percent") && max <= 100.0 {
        100.0
    } else {
        nice_ceiling(max * 1.05)
    };
    let threshold_line: Vec<(f64, f64)> = spec
        .threshold
        .map(|t| vec![(0.0, t), (span, t)])
        .unwrap_or_default();
    let alarm_lines: Vec<Vec<(f64, f64)>> = spec
        .alarm_periods
        .iter()
        .map(|(a, b)| {
            let (a, b) = (x(*a).clamp(0.0, span), x(*b).clamp(0.0, span));
            vec![(a, top), (b.max(a), top)]
        })
        .collect();
    let mut datasets = Vec::new();
    for line in &alarm_lines {
        datasets.push(line_set(line, theme.critical));
    }
    if !threshold_line.is_empty() {
        datasets.push(line_set(&threshold_line, theme.critical));
    }
    for run in &runs {
        let set = if run.len() == 1 {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Scatter)
                .style(theme.gauge)
                .data(run)
        } else {
            line_set(run, theme.gauge)
        };
        datasets.push(set);
    }
    let time = |t: Timestamp| Span::styled(t.format("%H:%M").to_string(), theme.dim);
    let mid = spec.start + TimeDelta::seconds((span / 2.0) as i64);
    let value = |v: f64| Span::styled(format_value(v, unit), theme.dim);
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .style(theme.dim)
                .bounds([0.0, span])
                .labels(vec![time(spec.start), time(mid), time(spec.end)]),
        )
        .y_axis(
            Axis::default()
                .style(theme.dim)
                .bounds([min, top])
                .labels(vec![value(min), value(f64::midpoint(min, top)), value(top)]),
        );
    frame.render_widget(chart, inner);
}

fn line_set(data: &[(f64, f64)], style: Style) -> Dataset<'_> {
    Dataset::default()
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(style)
        .data(data)
}

/// What a chart shows while the metrics have not loaded.
pub fn draw_unloaded(frame: &mut Frame, area: Rect, title: &str, env: &EnvState, theme: &Theme) {
    let block = Block::bordered()
        .border_style(theme.border(false))
        .title(Line::styled(format!(" {title} "), theme.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let line = match &env.metrics.load {
        LoadState::Failed(err) => Line::styled(format!("cannot load metrics: {err}"), theme.error),
        _ => Line::styled("loading metrics…", theme.dim),
    };
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), inner);
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "expected values are exact: rates, factors and round numbers"
)]
mod tests {
    use super::*;

    #[test]
    fn value_axes_end_on_round_numbers() {
        assert_eq!(nice_ceiling(10.5), 12.0);
        assert_eq!(nice_ceiling(42.7), 50.0);
        assert_eq!(nice_ceiling(3.3), 4.0);
        assert_eq!(nice_ceiling(100.0), 100.0);
        assert!((nice_ceiling(0.021) - 0.025).abs() < 1e-12);
        assert_eq!(nice_ceiling(6.76e10), 8e10);
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(f64::NAN), 1.0);
    }
    use chrono::{TimeZone, Utc};

    fn t(min: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("time")
            + TimeDelta::minutes(min)
    }

    #[test]
    fn missing_periods_stay_missing() {
        let s = MetricSeries {
            id: "m0".into(),
            label: "CPU".into(),
            unit: Some("Percent".into()),
            points: vec![(t(0), 10.0), (t(1), 30.0), (t(3), 100.0)],
        };
        assert_eq!(
            buckets(&s, t(0), t(4), 4),
            vec![Some(10.0), Some(30.0), None, Some(100.0)]
        );
        let theme = crate::config::theme::Theme::builtin("default").expect("theme");
        let text: String = sparkline(&s, t(0), t(4), 4, &theme)
            .iter()
            .map(|s| s.content.to_string())
            .collect();
        assert_eq!(text, "▂▃·█");
    }

    #[test]
    fn a_threshold_raises_the_sparkline_scale() {
        let s = MetricSeries {
            id: "m0".into(),
            label: "5XX".into(),
            unit: Some("Count".into()),
            points: vec![(t(0), 0.0), (t(1), 1.0), (t(2), 2.0)],
        };
        let theme = crate::config::theme::Theme::builtin("default").expect("theme");
        let text = |ceiling| -> String {
            sparkline_up_to(&s, t(0), t(3), 3, ceiling, &theme)
                .iter()
                .map(|s| s.content.to_string())
                .collect()
        };
        assert_eq!(text(None), "▁▅█", "scaled to its own maximum");
        assert_eq!(text(Some(10.0)), "▁▂▂", "2 of a threshold of 10 is low");
        assert_eq!(text(Some(1.0)), "▁▅█", "a lower threshold changes nothing");
    }

    #[test]
    fn values_have_units() {
        assert_eq!(format_value(34.4, Some("Percent")), "34%");
        assert_eq!(format_value(0.21, Some("Seconds")), "210ms");
        assert_eq!(format_value(3.0, Some("Seconds")), "3.0s");
        assert_eq!(format_value(64_424_509_440.0, Some("Bytes")), "64.4 GB");
        assert_eq!(format_value(12.0, Some("Count")), "12");
    }
}
