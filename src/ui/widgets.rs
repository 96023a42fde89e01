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
    table_with_header(frame, area, header, rows, widths, selected, theme);
}

fn table_with_header(
    frame: &mut Frame,
    area: Rect,
    header: Row<'_>,
    rows: Vec<Row<'_>>,
    widths: &[Constraint],
    selected: Option<usize>,
    theme: &Theme,
) {
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

/// Which part of a value that must be cut is kept (the `…` marks the cut).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The start: names whose start tells them apart (`api`, `web`), task
    /// ids, reasons and messages read from the left.
    Start,
    /// The end: a task-definition label keeps its revision
    /// (`…prod-api:27`), an image its tag, ids that share a long prefix
    /// (`…-prod-db-replica`) what tells them apart.
    End,
    /// A URL keeps its path (`https://api.exa…/api/health`): as much of the
    /// start as fits beside the whole path, else the end.
    Path,
}

/// `s` fitted into `width` display columns (wide characters count two),
/// cut where `keep` says with a `…`. Never wider than `width`.
pub fn fit(s: &str, width: usize, keep: Keep) -> String {
    use unicode_width::UnicodeWidthChar;
    let cw = |c: char| c.width().unwrap_or(0);
    let total: usize = s.chars().map(cw).sum();
    if total <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    // Characters from the start (or end) that fill `room` columns.
    let head = |room: usize| -> String {
        let mut used = 0;
        s.chars()
            .take_while(|c| {
                used += cw(*c);
                used <= room
            })
            .collect()
    };
    let tail = |text: &str, room: usize| -> String {
        let mut used = 0;
        let mut out: Vec<char> = text
            .chars()
            .rev()
            .take_while(|c| {
                used += cw(*c);
                used <= room
            })
            .collect();
        out.reverse();
        out.into_iter().collect()
    };
    let room = width - 1;
    match keep {
        Keep::Start => format!("{}…", head(room)),
        Keep::End => format!("…{}", tail(s, room)),
        Keep::Path => {
            // The path starts at the first `/` after `scheme://host`.
            let after_scheme = s.find("://").map_or(0, |i| i + 3);
            let path = s
                .get(after_scheme..)
                .and_then(|rest| rest.find('/'))
                .and_then(|i| s.get(after_scheme + i..))
                .unwrap_or("");
            let path_w: usize = path.chars().map(cw).sum();
            if path.is_empty() || path_w >= room {
                return format!("…{}", tail(s, room));
            }
            let host = s.get(..s.len() - path.len()).unwrap_or("");
            let host_room = room - path_w;
            let mut used = 0;
            let start: String = host
                .chars()
                .take_while(|c| {
                    used += cw(*c);
                    used <= host_room
                })
                .collect();
            format!("{start}…{path}")
        }
    }
}

/// `s` cut to `width` columns keeping its end (see [`fit`]).
pub fn keep_end(s: &str, width: usize) -> String {
    fit(s, width, Keep::End)
}

/// The widths of a table's columns in `width` columns, as [`draw_table`]
/// lays them out (one column between them), so that cells can be fitted
/// with [`fit`] before the table would cut them blindly.
pub fn column_widths(width: u16, widths: &[Constraint]) -> Vec<usize> {
    ratatui::layout::Layout::horizontal(widths.to_vec())
        .flex(ratatui::layout::Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, width, 1))
        .iter()
        .map(|r| usize::from(r.width))
        .collect()
}

/// A table's header row with the sort of view `kind`: each sortable
/// column's letter underlined (shift + it sorts), the sorted column marked
/// `▲` / `▼` (in place of its last letter when the column is too narrow).
pub fn header_row<'a>(
    state: &crate::state::State,
    kind: crate::state::ViewKind,
    header: &[&str],
    widths: &[usize],
    theme: &Theme,
) -> Row<'a> {
    use ratatui::style::Modifier;
    let ctx = crate::config::keys::KeyContext {
        view: kind,
        replay: state.replay.is_some(),
    };
    let letters = crate::sort::letters(ctx, &state.keymap);
    let sort = state.sort(kind);
    let cells = header.iter().enumerate().map(|(i, h)| {
        let width = widths.get(i).copied().unwrap_or(usize::MAX);
        let mut label = (*h).to_string();
        if let Some(s) = sort.filter(|s| s.column == *h) {
            if label.chars().count() + 1 > width {
                label = label.chars().take(width.saturating_sub(1)).collect();
            }
            label.push(s.arrow());
        }
        let letter = letters.iter().find(|(c, _)| c == h).and_then(|(_, l)| *l);
        let Some(at) = letter.and_then(|l| label.find(l)) else {
            return Cell::from(label);
        };
        let (before, rest) = label.split_at(at);
        let mut chars = rest.chars();
        let first = chars.next().map(String::from).unwrap_or_default();
        Cell::from(Line::from(vec![
            Span::raw(before.to_string()),
            Span::styled(first, Style::default().add_modifier(Modifier::UNDERLINED)),
            Span::raw(chars.as_str().to_string()),
        ]))
    });
    Row::new(cells.collect::<Vec<_>>()).style(theme.table_header)
}

/// [`draw_table`] for a sortable view: its header from [`header_row`].
#[allow(clippy::too_many_arguments)]
pub fn draw_sorted_table(
    frame: &mut Frame,
    area: Rect,
    state: &crate::state::State,
    kind: crate::state::ViewKind,
    header: &[&str],
    rows: Vec<Row<'_>>,
    widths: &[Constraint],
    selected: Option<usize>,
    theme: &Theme,
) {
    let header = header_row(
        state,
        kind,
        header,
        &column_widths(area.width, widths),
        theme,
    );
    table_with_header(frame, area, header, rows, widths, selected, theme);
}

/// A time as the screen shows it, in the configured zone: `14:03:07`
/// within a day of `now`, else with its date (`2026-11-20 14:03:07`).
pub fn clock(state: &crate::state::State, t: Timestamp) -> String {
    let recent = (state.now - t).abs() < TimeDelta::days(1);
    let format = if recent {
        "%H:%M:%S"
    } else {
        "%Y-%m-%d %H:%M:%S"
    };
    in_zone(state.timezone, t, format)
}

/// A full date and time with its zone (`2026-11-20 14:03:07 UTC`).
pub fn stamp(state: &crate::state::State, t: Timestamp) -> String {
    format!(
        "{} {}",
        in_zone(state.timezone, t, "%Y-%m-%d %H:%M:%S"),
        zone_label(state.timezone, state.now)
    )
}

/// `t` formatted in `zone`.
pub fn in_zone(zone: crate::config::TimeZone, t: Timestamp, format: &str) -> String {
    match zone {
        crate::config::TimeZone::Utc => t.format(format).to_string(),
        crate::config::TimeZone::Local => {
            t.with_timezone(&chrono::Local).format(format).to_string()
        }
    }
}

/// The zone's name for labels: `UTC`, or the local offset (`UTC+09:00`).
pub fn zone_label(zone: crate::config::TimeZone, now: Timestamp) -> String {
    match zone {
        crate::config::TimeZone::Utc => "UTC".to_string(),
        crate::config::TimeZone::Local => {
            let local = now.with_timezone(&chrono::Local);
            let offset = local.offset().to_string();
            if offset == "+00:00" {
                "UTC (local)".to_string()
            } else {
                format!("UTC{offset}")
            }
        }
    }
}

/// Bytes as GB/MB for display.
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
/// `input` cut to `room` columns with its cursor (`back` characters from
/// the end) in view: what is before the cursor from its end (`…` where it
/// is cut), then what follows in what is left. Returns the text to show and
/// its `back`.
pub fn input_window(input: &str, back: usize, room: usize) -> (String, usize) {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let (before, after) = crate::prompt::split(input, back);
    if input.width() <= room {
        return (input.to_string(), after.chars().count());
    }
    let mut kept: Vec<char> = Vec::new();
    let mut used = 1;
    for c in before.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        kept.push(c);
    }
    let shown_before: String = if kept.len() < before.chars().count() {
        std::iter::once('…').chain(kept.into_iter().rev()).collect()
    } else {
        kept.into_iter().rev().collect()
    };
    let mut shown_after = String::new();
    for c in after.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        shown_after.push(c);
    }
    let back = shown_after.chars().count();
    (format!("{shown_before}{shown_after}"), back)
}

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
    fn a_long_input_keeps_its_cursor_in_view() {
        // Fits: as it is.
        assert_eq!(input_window("abc", 1, 10), ("abc".to_string(), 1));
        // At the end: the end, cut at its start.
        assert_eq!(
            input_window("works-logue-prod-db-restored-20261201-162526", 0, 12),
            ("…1201-162526".to_string(), 0)
        );
        // In the middle: what is before it from its end, then what follows
        // in the room left.
        assert_eq!(input_window("abcdefghij", 3, 6), ("…cdefg".to_string(), 0));
        // Near the start: the start, then what fits after the cursor.
        assert_eq!(input_window("abcdefghij", 8, 6), ("abcde".to_string(), 3));
    }

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
    fn fit_keeps_the_meaningful_part_in_display_columns() {
        // Fits: unchanged.
        assert_eq!(fit("api", 10, Keep::End), "api");
        assert_eq!(fit("api", 3, Keep::Start), "api");
        // A task-definition label keeps its revision, an image its tag.
        assert_eq!(
            fit("works-logue-prod-api:27", 12, Keep::End),
            "…prod-api:27"
        );
        assert_eq!(
            fit("works-logue/api:2026.11.20-3f8a6d5", 23, Keep::End),
            "…api:2026.11.20-3f8a6d5"
        );
        // Names and reasons read from the left.
        assert_eq!(
            fit("Essential container in task exited", 20, Keep::Start),
            "Essential container…"
        );
        // A URL keeps its whole path and what fits of its host.
        assert_eq!(
            fit("https://works-logue.example.com/api/health", 25, Keep::Path),
            "https://works…/api/health"
        );
        // A path too long for the room: the end, like any other.
        assert_eq!(fit("https://h/aaaaaaaaaa/bbbb", 6, Keep::Path), "…/bbbb");
        // Wide characters count two columns: never wider than asked.
        use unicode_width::UnicodeWidthStr;
        for keep in [Keep::Start, Keep::End, Keep::Path] {
            for w in 0..12 {
                let out = fit("本番-api-サービス:27", w, keep);
                assert!(out.width() <= w, "{keep:?} {w}: {out}");
            }
        }
        assert_eq!(fit("本番本番", 5, Keep::Start), "本番…");
        assert_eq!(fit("本番本番", 5, Keep::End), "…本番");
        assert_eq!(fit("abc", 0, Keep::End), "");
        assert_eq!(fit("abc", 1, Keep::End), "…");
    }

    #[test]
    fn times_show_their_date_once_over_a_day_old_in_the_zone_chosen() {
        use chrono::TimeZone;
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("valid");
        let mut state =
            crate::state::State::new(Vec::new(), 0, crate::config::keys::Keymap::defaults(), now);
        let hours = |h: i64| now - TimeDelta::hours(h);
        assert_eq!(clock(&state, hours(5)), "22:00:00");
        assert_eq!(clock(&state, hours(23)), "04:00:00");
        assert_eq!(clock(&state, hours(25)), "2026-11-22 02:00:00");
        assert_eq!(stamp(&state, hours(25)), "2026-11-22 02:00:00 UTC");
        assert_eq!(zone_label(state.timezone, now), "UTC");
        // Local: the machine's offset, named in the label.
        state.timezone = crate::config::TimeZone::Local;
        let local = hours(5).with_timezone(&chrono::Local);
        assert_eq!(
            clock(&state, hours(5)),
            local.format("%H:%M:%S").to_string()
        );
        assert!(zone_label(state.timezone, now).starts_with("UTC"));
    }

    #[test]
    fn column_widths_are_the_tables() {
        let w = column_widths(
            40,
            &[
                Constraint::Length(8),
                Constraint::Fill(1),
                Constraint::Length(4),
            ],
        );
        // 40 = 8 + 1 + fill + 1 + 4
        assert_eq!(w, vec![8, 26, 4]);
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
