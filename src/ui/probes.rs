//! The health checks panel of the overview: per HTTP endpoint its status,
//! latency now, a latency sparkline of the recent probes (failures marked
//! `×`), failures in a row and in total, and then why each failing one fails.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::config::theme::Theme;
use crate::probe::{ProbeState, counts, format_latency};
use crate::state::{EnvState, State, format_age};

use super::widgets::{Keep, panel};

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Rows the panel wants: a header, a line per check, a line per failing
/// check, and the borders. 0 when the environment has no health checks.
pub fn height(env: &EnvState) -> u16 {
    if env.probes.is_empty() {
        return 0;
    }
    let failing = env
        .probes
        .iter()
        .filter(|p| p.current_error().is_some())
        .count();
    (env.probes.len() + failing + 3).min(20) as u16
}

/// Whether a health check is failing now (its panel must stay on screen).
pub fn any_failing(env: &EnvState) -> bool {
    env.probes.iter().any(|p| p.current_error().is_some())
}

/// `  http 2/2` for the overview's summary line.
pub fn summary<'a>(env: &EnvState, theme: &Theme) -> Vec<Span<'a>> {
    if env.probes.is_empty() {
        return Vec::new();
    }
    let (ok, bad, total) = counts(&env.probes);
    let style = if bad > 0 {
        theme.critical
    } else if ok == total {
        theme.ok
    } else {
        theme.dim
    };
    vec![
        Span::styled("  http ", theme.dim),
        Span::styled(format!("{ok}/{total}"), style),
    ]
}

/// The fleet view's cell: `2/2`, `1/2` (critical), `…`, or `-`.
pub fn fleet_cell<'a>(env: &EnvState, theme: &Theme) -> Span<'a> {
    if env.probes.is_empty() {
        return Span::styled("-", theme.dim);
    }
    let (ok, bad, total) = counts(&env.probes);
    if ok + bad == 0 {
        return Span::styled("…", theme.dim);
    }
    Span::styled(
        format!("{ok}/{total}"),
        if bad > 0 { theme.critical } else { theme.ok },
    )
}

/// Cuts `text` to `width` columns (with `…`) and pads it to `width`.
/// `text` fitted into `width` columns (see [`widgets::fit`]) and padded
/// to it: the columns of the panel line up.
fn fit(text: &str, width: usize, keep: Keep) -> String {
    let mut out = super::widgets::fit(text, width, keep);
    let pad = width.saturating_sub(out.width());
    out.push_str(&" ".repeat(pad));
    out
}

/// The newest `width` samples as bars scaled to their maximum; a failed
/// probe is `×`.
fn sparkline<'a>(p: &ProbeState, width: usize, theme: &Theme) -> Vec<Span<'a>> {
    let skip = p.history.len().saturating_sub(width);
    let shown: Vec<_> = p.history.iter().skip(skip).collect();
    let max = shown
        .iter()
        .filter_map(|s| s.latency_ms)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut spans = Vec::with_capacity(shown.len() + 1);
    for s in &shown {
        match (s.ok, s.latency_ms) {
            (true, Some(ms)) => {
                let i = (u64::from(ms) * 7).div_ceil(u64::from(max)).min(7) as usize;
                spans.push(Span::styled(BARS[i].to_string(), theme.ok));
            }
            _ => spans.push(Span::styled("×", theme.critical)),
        }
    }
    if shown.len() < width {
        spans.push(Span::raw(" ".repeat(width - shown.len())));
    }
    spans
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, env: &EnvState, theme: &Theme) {
    if area.height < 3 {
        return;
    }
    let newest = env
        .probes
        .iter()
        .filter_map(|p| p.last().map(|s| s.at))
        .max();
    let mut block = panel("Health checks", None, state.now, theme, false);
    if let Some(t) = newest {
        block = block.title(
            Line::styled(format!(" {} ago ", format_age(state.now - t)), theme.dim).right_aligned(),
        );
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let wide = width >= 100;
    // NAME [URL] STATUS NOW LATENCY… FAIL
    let name_w = env
        .probes
        .iter()
        .map(|p| p.name.width())
        .max()
        .unwrap_or(4)
        .clamp(4, if wide { 24 } else { 16 });
    let url_w = if wide { 36 } else { 0 };
    let (status_w, now_w, fail_w) = (8, 6, 9);
    let fixed = name_w + url_w + status_w + now_w + fail_w + if wide { 5 } else { 4 };
    let spark_w = width.saturating_sub(fixed).min(crate::probe::HISTORY);
    let mut lines = Vec::new();
    let mut header = vec![Span::styled(
        fit("NAME", name_w, Keep::Start),
        theme.table_header,
    )];
    if wide {
        header.push(Span::styled(
            format!(" {}", fit("URL", url_w, Keep::Start)),
            theme.table_header,
        ));
    }
    header.extend([Span::styled(
        format!(
            " {} {} {} {}",
            fit("STATUS", status_w, Keep::Start),
            fit("NOW", now_w, Keep::Start),
            fit("LATENCY", spark_w, Keep::Start),
            fit("FAIL", fail_w, Keep::Start)
        ),
        theme.table_header,
    )]);
    lines.push(Line::from(header));
    // Why each failing check fails, after every check's row (a panel
    // squeezed by a short terminal loses these lines first).
    let mut errors = Vec::new();
    for p in &env.probes {
        let last = p.last();
        let (status, style): (String, Style) = match last {
            None if p.in_flight => ("…".into(), theme.dim),
            None => ("-".into(), theme.dim),
            Some(s) => {
                let text = match (s.status, s.ok) {
                    (Some(code), _) => code.to_string(),
                    (None, _) => p
                        .last_error
                        .as_ref()
                        .map_or("error", |(_, e)| short_error(e))
                        .to_string(),
                };
                (text, if s.ok { theme.ok } else { theme.critical })
            }
        };
        let now = last
            .and_then(|s| s.latency_ms)
            .map_or_else(|| "-".to_string(), format_latency);
        let fails = if p.total_failures == 0 {
            "0".to_string()
        } else {
            format!("{}/{}", p.consecutive_failures, p.total_failures)
        };
        let fail_style = if p.consecutive_failures > 0 {
            theme.critical
        } else if p.total_failures > 0 {
            theme.warning
        } else {
            theme.dim
        };
        let mut spans = vec![Span::styled(fit(&p.name, name_w, Keep::Start), theme.base)];
        if wide {
            spans.push(Span::styled(
                format!(" {}", fit(&p.url, url_w, Keep::Path)),
                theme.dim,
            ));
        }
        spans.push(Span::styled(
            format!(" {}", fit(&status, status_w, Keep::Start)),
            style,
        ));
        spans.push(Span::styled(
            format!(" {}", fit(&now, now_w, Keep::Start)),
            theme.base,
        ));
        spans.push(Span::raw(" "));
        spans.extend(sparkline(p, spark_w, theme));
        spans.push(Span::styled(
            format!(" {}", fit(&fails, fail_w, Keep::Start)),
            fail_style,
        ));
        lines.push(Line::from(spans));
        if let Some(err) = p.current_error() {
            let since = p
                .failing_since
                .map(|t| format!("failing for {}: ", format_age(state.now - t)))
                .unwrap_or_default();
            let text = format!("{} {since}{err}", p.name);
            errors.push(Line::styled(fit(&text, width, Keep::Start), theme.critical));
        }
    }
    lines.extend(errors);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A word for a failure without an HTTP status.
fn short_error(e: &str) -> &'static str {
    if e.starts_with("timeout") {
        "timeout"
    } else if e.starts_with("DNS") {
        "dns"
    } else if e.starts_with("connection refused") {
        "refused"
    } else if e.starts_with("TLS") {
        "tls"
    } else {
        "error"
    }
}
