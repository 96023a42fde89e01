//! The `?` overlay, generated from the active keymap and the command list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::config::keys::Command;
use crate::config::theme::Theme;
use crate::state::State;
use crate::update::COMMANDS;

/// The help's lines for a body `width` columns wide.
fn lines<'a>(state: &State, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    // A replay's keys in a replay, in place of the operations (refused
    // there); elsewhere not at all.
    let replay = state.replay.is_some();
    let mut rows = state.keymap.help_rows_of(state.key_context(), |cmd| {
        if cmd.is_replay() {
            replay
        } else {
            !(replay && cmd.is_operation())
        }
    });
    // From 80 to 110 columns: three columns with the first key of each
    // command, so that most of the list fits an 80×24 terminal; else two
    // (with all keys from 110; below 80 the first key, so that the
    // descriptions stay readable — the help scrolls).
    let columns = if (80..110).contains(&width) { 3 } else { 2 };
    if width < 110 {
        for (keys, _) in &mut rows {
            if let Some((first, _)) = keys.split_once(", ") {
                *keys = first.to_string();
            }
            *keys = keys.replace("pagedown", "pgdn").replace("pageup", "pgup");
        }
    }
    let per_column = rows.len().div_ceil(columns);
    let key_w = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(4)
        .min(16);
    // The popup's inner width, shared by the columns.
    let col_w = usize::from(width.saturating_sub(4).min(112)) / columns;
    let cell = |(keys, what): &(String, &'static str)| -> Vec<Span<'static>> {
        let text_w = col_w.saturating_sub(key_w + 3);
        let what: String = what.chars().take(text_w).collect();
        vec![
            Span::styled(format!(" {keys:<key_w$} "), theme.key),
            Span::styled(format!("{what:<text_w$} "), theme.base),
        ]
    };
    let mut lines: Vec<Line> = Vec::new();
    for i in 0..per_column {
        let mut spans = Vec::new();
        for c in 0..columns {
            if let Some(row) = rows.get(i + c * per_column) {
                spans.extend(cell(row));
            }
        }
        lines.push(Line::from(spans));
    }
    let text_w = usize::from(width.saturating_sub(6).min(110));
    // Words wrapped into lines of `text_w`, each line one style.
    let mut wrapped = |first: &str, words: Vec<String>, style| {
        let mut line = String::from(first);
        for c in words {
            if line.chars().count() + 1 + c.chars().count() > text_w {
                lines.push(Line::styled(std::mem::take(&mut line), style));
                line.push(' ');
            }
            line.push(' ');
            line.push_str(&c);
        }
        lines.push(Line::styled(line, style));
    };
    // Commands as one wrapped list.
    let mut commands: Vec<String> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (cmd, what) in COMMANDS {
        // :seek moves a replay; :note and :mark add to a live timeline.
        let shown = if *cmd == "seek" {
            replay
        } else {
            !(replay && matches!(*cmd, "note" | "mark"))
        };
        if shown && !seen.contains(what) {
            seen.push(what);
            commands.push(match *cmd {
                "env" => ":env NAME".to_string(),
                "sort" => ":sort COL [asc|desc]".to_string(),
                _ => format!(":{cmd}"),
            });
        }
    }
    wrapped(" Commands (tab completes):", commands, theme.key);
    // The sort keys of the view under the help.
    let letters = crate::sort::letters(state.key_context(), &state.keymap);
    if !letters.is_empty() {
        let n = letters.len();
        let keys: Vec<String> = letters
            .iter()
            .enumerate()
            .map(|(i, (col, l))| {
                let sep = if i + 1 < n { "," } else { "" };
                match l {
                    Some(l) => format!("{l} {}{sep}", col.to_lowercase()),
                    None => format!(":sort {}{sep}", col.to_lowercase().replace(' ', "-")),
                }
            })
            .collect();
        wrapped(" Sort (shift + letter, again flips):", keys, theme.dim);
    }
    // Blue/green: what the service keys do to a CODE_DEPLOY service.
    if !replay {
        let key = |c: Command, fallback: &str| state.key_or(c, fallback);
        let text = format!(
            "{} on a CODE_DEPLOY service with a CodeDeploy deployment under way stops it \
             with a rollback (StopDeployment); {} reroutes traffic to a replacement that waits \
             (ContinueDeployment); {} deploys through CodeDeploy (CreateDeployment)",
            key(Command::Rollback, ":rollback"),
            key(Command::ContinueDeployment, ":continue_deployment"),
            key(Command::DeployImage, ":deploy_image"),
        );
        wrapped(
            " Blue/green:",
            text.split(' ').map(str::to_string).collect(),
            theme.dim,
        );
    }
    lines.push(Line::styled(
        " Filters: words match any column; svc:web status:stopped health:unhealthy az:1a !term",
        theme.dim,
    ));
    lines
}

/// The popup's height (borders included) in a body `body_h` rows high.
fn popup_height(body_h: u16, lines: usize) -> u16 {
    body_h
        .saturating_sub(2)
        .min(u16::try_from(lines).unwrap_or(u16::MAX).saturating_add(2))
}

/// How far the help can scroll on the terminal last reported: the lines
/// that do not fit its popup.
pub fn max_scroll(state: &State) -> usize {
    let (w, h) = state.screen;
    if w < super::MIN_WIDTH || h < super::MIN_HEIGHT {
        return 0;
    }
    // Header (2), footer (1) and the operations bar when shown.
    let body_h = h.saturating_sub(3 + u16::from(state.bar_activity().is_some()));
    let n = lines(state, w, &Theme::default()).len();
    let inner = usize::from(popup_height(body_h, n).saturating_sub(2));
    n.saturating_sub(inner)
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let lines = lines(state, area.width, theme);
    let total = lines.len();
    let width = area.width.saturating_sub(2).min(114);
    let height = popup_height(area.height, total);
    let [_, mid, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(width),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, popup, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(height),
        Constraint::Fill(1),
    ])
    .areas(mid);
    frame.render_widget(Clear, popup);
    let visible = usize::from(height.saturating_sub(2));
    let scroll = state.help_scroll.min(total.saturating_sub(visible));
    let fits = total <= visible;
    let closes = if fits {
        "any key closes".to_string()
    } else {
        format!(
            "{} scroll · {} closes",
            state.move_keys(),
            state.key_or(Command::Back, "any other key")
        )
    };
    let title = match state.env() {
        Some(e) if e.read_only => format!(
            "Help · {} is read-only: operations unavailable · {closes}",
            e.name
        ),
        _ if state.dry_run => {
            format!("Help · dry run: operations are recorded, not sent · {closes}")
        }
        _ => format!("Help · {closes}"),
    };
    let mut block = super::widgets::panel(&title, None, state.now, theme, true);
    if !fits {
        let below = total - scroll - visible.min(total - scroll);
        let key = |c: Command| {
            state
                .key_or(c, "")
                .replace("pagedown", "pgdn")
                .replace("pageup", "pgup")
        };
        let more = match (scroll > 0, below > 0) {
            (_, true) => format!(
                " ↓ {below} more · {} {}/{} ",
                state.move_keys(),
                key(Command::PageDown),
                key(Command::PageUp)
            ),
            (true, false) => format!(
                " ↑ {scroll} above · {} {} {} ",
                key(Command::Up),
                key(Command::PageUp),
                key(Command::Top)
            ),
            (false, false) => String::new(),
        };
        block = block.title_bottom(Line::styled(more, theme.key).right_aligned());
    }
    let shown: Vec<Line> = lines.into_iter().skip(scroll).collect();
    frame.render_widget(Paragraph::new(shown).block(block).style(theme.base), popup);
}
