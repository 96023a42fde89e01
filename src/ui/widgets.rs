//! Pieces shared by the views: panel blocks that show data age and errors,
//! the empty/loading/failed placeholder, table helpers and formatting.

use chrono::TimeDelta;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{RolloutState, Service, Timestamp};
use crate::state::{EnvState, LoadState, PanelMeta, format_age};

/// A bordered panel whose title shows the data's age, or that it is loading,
/// or stale with the error.
pub fn panel<'a>(
    title: &str,
    meta: Option<PanelMeta<'_>>,
    now: Timestamp,
    theme: &Theme,
    focused: bool,
) -> Block<'a> {
    let mut block = Block::bordered()
        .border_style(theme.border(focused))
        .title(Line::styled(format!(" {title} "), theme.title));
    if let Some(meta) = meta {
        let status = status_line(meta, now, theme);
        block = block.title(status.right_aligned());
    }
    block
}

/// `3s ago`, `loading…`, `stale 2m · unavailable: …`.
pub fn status_line<'a>(meta: PanelMeta<'_>, now: Timestamp, theme: &Theme) -> Line<'a> {
    let age = meta.loaded_at.map(|t| format_age(now - t));
    match (meta.load, age) {
        (LoadState::Failed(err), Some(age)) => Line::from(vec![
            Span::styled(format!(" stale {age} "), theme.stale),
            Span::styled(format!("{} ", err.kind()), theme.error),
        ]),
        (LoadState::Failed(err), None) => Line::styled(format!(" {} ", err.kind()), theme.error),
        (_, Some(age)) => {
            let mut spans = vec![Span::styled(format!(" {age} ago "), theme.dim)];
            if !meta.failures.is_empty() {
                spans.push(Span::styled(
                    format!("{} failed ", meta.failures.len()),
                    theme.warning,
                ));
            }
            Line::from(spans)
        }
        (LoadState::Loading, None) => Line::styled(" loading… ", theme.dim),
        (LoadState::Idle | LoadState::Loaded, None) => Line::default(),
    }
}

/// Draws what a panel shows when it has no data: loading, or the error.
pub fn placeholder(frame: &mut Frame, area: Rect, meta: PanelMeta<'_>, what: &str, theme: &Theme) {
    let line = match meta.load {
        LoadState::Failed(err) => vec![
            Line::styled(format!("cannot load {what}"), theme.error),
            Line::styled(err.to_string(), theme.error),
        ],
        LoadState::Loaded => vec![Line::styled(format!("no {what}"), theme.dim)],
        _ => vec![Line::styled(format!("loading {what}…"), theme.dim)],
    };
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), area);
}

/// What an ECS panel (services, tasks) shows without data. In an
/// environment that names no cluster that depends on the discovery first:
/// clusters still being listed (or failing to be), or none at all — said
/// plainly, never "loading" for ever.
pub fn ecs_placeholder(
    frame: &mut Frame,
    area: Rect,
    env: &EnvState,
    resource: Resource,
    what: &str,
    theme: &Theme,
) {
    if !env.discovers_clusters() {
        return placeholder(frame, area, env.panel_meta(resource), what, theme);
    }
    match env.ecs_clusters() {
        None => placeholder(
            frame,
            area,
            env.panel_meta(Resource::Clusters),
            "ECS clusters",
            theme,
        ),
        Some([]) => {
            let mut lines = vec![Line::styled(
                "no ECS clusters in this account/region",
                theme.warning,
            )];
            let place: Vec<&str> = [env.account(), env.region.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if !place.is_empty() {
                lines.push(Line::styled(place.join(" · "), theme.dim));
            }
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), area);
        }
        Some(_) => placeholder(frame, area, env.panel_meta(resource), what, theme),
    }
}

/// Whether an environment's services come from more than one cluster.
pub fn many_clusters(env: &EnvState) -> bool {
    env.ecs_clusters().is_some_and(|c| c.len() > 1)
}

/// A service's name in a table; `name (cluster)` where the environment
/// reads more than one cluster (two of them may well have a service `web`),
/// the name first so that a narrow column still shows it.
pub fn service_label(env: &EnvState, s: &Service) -> String {
    if many_clusters(env) {
        format!("{} ({})", s.name, crate::domain::short_id(&s.cluster_arn))
    } else {
        s.name.clone()
    }
}

/// The whole panel of a detail view whose resource is not in the data:
/// gone (`listed`: the list has loaded without it), else loading / failed.
pub fn missing_detail(
    frame: &mut Frame,
    area: Rect,
    (kind, name): (&str, &str),
    listed: bool,
    meta: PanelMeta<'_>,
    now: Timestamp,
    theme: &Theme,
) {
    let mut letters = kind.chars();
    let capital: String = letters
        .next()
        .into_iter()
        .flat_map(char::to_uppercase)
        .collect();
    let title = format!("{capital}{} {name}", letters.as_str());
    let block = panel(&title, Some(meta), now, theme, true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if listed {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("{kind} {name} is no longer listed in this environment"),
                theme.warning,
            )),
            inner,
        );
    } else {
        placeholder(frame, inner, meta, &format!("the {kind}"), theme);
    }
}

/// A table with our header and selection styles, drawn with the selection
/// kept in view.
pub fn draw_table(
    frame: &mut Frame,
    area: Rect,
    header: &[&str],
    rows: Vec<Row<'_>>,
    widths: &[Constraint],
    selected: Option<usize>,
    theme: &Theme,
) {
    let header = Row::new(header.iter().map(|h| Cell::from(*h))).style(theme.table_header);
    let table = Table::new(rows, widths.to_vec())
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.selected);
    let mut ts = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut ts);
}

/// The rows of a table that fit `area` (one line is the header), keeping
/// the selection in view: `(first row, rows, selection within them)`. Only
/// these rows are built, so a 5000-task table costs what 40 rows cost.
pub fn window(len: usize, selected: Option<usize>, area: Rect) -> (usize, usize, Option<usize>) {
    let visible = usize::from(area.height.saturating_sub(1)).max(1);
    let sel = selected.map(|s| s.min(len.saturating_sub(1)));
    let start = match sel {
        Some(s) if s >= visible => s + 1 - visible,
        _ => 0,
    };
    let end = (start + visible).min(len);
    (start, end, sel.map(|s| s - start))
}

/// A service's health word with its style.
pub fn health_span<'a>(h: crate::state::ServiceHealth, theme: &Theme) -> Span<'a> {
    Span::styled(crate::state::health_word(h), theme.health(h.style()))
}

pub fn rollout_style(r: RolloutState, theme: &Theme) -> Style {
    match r {
        RolloutState::Completed => theme.ok,
        RolloutState::InProgress => theme.progressing,
        RolloutState::Failed => theme.critical,
        RolloutState::Unknown => theme.dim,
    }
}

/// `12s`, `4m`, … since a time, or `-`.
pub fn age_since(now: Timestamp, t: Option<Timestamp>) -> String {
    t.map_or_else(
        || "-".to_string(),
        |t| format_age((now - t).max(TimeDelta::zero())),
    )
}

/// The tag of an image (`repo:tag` → `tag`; digests shortened).
pub fn image_tag(image: &str) -> &str {
    let last = image.rsplit('/').next().unwrap_or(image);
    if let Some((_, digest)) = last.split_once('@') {
        return digest.get(..19).unwrap_or(digest);
    }
    last.split_once(':').map_or("latest", |(_, tag)| tag)
}

/// Bytes as GB/MB for display.
/// `s` cut to `width` columns from the left, `…` marking the cut: of names
/// that share a long prefix (`works-logue-prod-db`, `…-prod-db-replica`)
/// the end is what tells them apart.
pub fn keep_end(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let tail: String = s.chars().skip(n - (width - 1)).collect();
    format!("…{tail}")
}

pub fn human_bytes(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.1} GB", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.0} MB", v / 1e6)
    } else {
        format!("{v:.0} B")
    }
}

/// A compact number: no decimals for whole numbers.
pub fn num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A running/desired bar like `██████░░ 3/4`.
pub fn progress_bar(running: u32, desired: u32, width: usize) -> String {
    if desired == 0 {
        return format!("{} {running}/{desired}", "░".repeat(width));
    }
    let filled = ((running.min(desired) as usize) * width) / desired as usize;
    format!(
        "{}{} {running}/{desired}",
        "█".repeat(filled),
        "░".repeat(width - filled)
    )
}

/// A prompt's text with its cursor (`back` characters from the end, see
/// [`crate::prompt`]): the character under the cursor in reverse video, or
/// a block after the last one.
pub fn cursor_spans<'a>(text: &str, back: usize, style: ratatui::style::Style) -> Vec<Span<'a>> {
    let (before, after) = crate::prompt::split(text, back);
    let mut rest = after.chars();
    match rest.next() {
        None => vec![
            Span::styled(before.to_string(), style),
            Span::styled("█", style),
        ],
        Some(c) => vec![
            Span::styled(before.to_string(), style),
            Span::styled(
                c.to_string(),
                style.add_modifier(ratatui::style::Modifier::REVERSED),
            ),
            Span::styled(rest.as_str().to_string(), style),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_keep_their_end() {
        assert_eq!(keep_end("works-logue-prod-db", 30), "works-logue-prod-db");
        assert_eq!(
            keep_end("works-logue-prod-db-replica", 19),
            "…ue-prod-db-replica"
        );
        assert_eq!(keep_end("abcdef", 4), "…def");
        assert_eq!(keep_end("abc", 0), "");
    }

    #[test]
    fn image_tags() {
        assert_eq!(
            image_tag("123.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web:v1.4.2"),
            "v1.4.2"
        );
        assert_eq!(image_tag("nginx"), "latest");
        assert_eq!(
            image_tag("repo@sha256:0123456789abcdef0123"),
            "sha256:0123456789ab"
        );
        assert_eq!(image_tag("localhost:5000/app:1"), "1");
    }

    #[test]
    fn bars() {
        assert_eq!(progress_bar(1, 2, 4), "██░░ 1/2");
        assert_eq!(progress_bar(3, 2, 4), "████ 3/2");
        assert_eq!(progress_bar(0, 0, 2), "░░ 0/0");
    }
}
