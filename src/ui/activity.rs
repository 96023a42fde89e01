//! Activity: this session's operations, live (sending, accepted, followed
//! to completion or failure), then earlier ones from the audit log.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};

use crate::audit::{Outcome, Phase, Record};
use crate::config::theme::Theme;
use crate::reconcile::Verdict;
use crate::state::{State, ViewKind};
use crate::watch::{Activity, OpStatus};

use super::widgets::{age_since, draw_table, panel, progress_bar, window};

/// One row: this session's activity or an earlier audit record.
enum Item<'a> {
    Live(&'a Activity),
    Past(&'a Record),
}

fn items(state: &State) -> Vec<Item<'_>> {
    state
        .activity
        .iter()
        .rev()
        .map(Item::Live)
        .chain(state.history.iter().map(Item::Past))
        .collect()
}

/// A status word and its style for a live activity.
pub fn live_status(a: &Activity, theme: &Theme) -> (String, Style) {
    match (&a.status, &a.watch) {
        (OpStatus::Sending, _) => ("sending…".to_string(), theme.progressing),
        (OpStatus::DryRun { .. }, _) => ("dry run".to_string(), theme.dim),
        (OpStatus::Failed { .. }, _) => ("FAILED".to_string(), theme.critical),
        (OpStatus::Checking { .. }, _) => ("reading back…".to_string(), theme.warning),
        (OpStatus::NotApplied { .. }, _) => ("not applied".to_string(), theme.critical),
        (OpStatus::Unknown { .. }, _) => ("UNKNOWN".to_string(), theme.critical),
        (OpStatus::Accepted { .. }, None) => ("accepted".to_string(), theme.ok),
        (OpStatus::Accepted { .. }, Some(w)) => {
            let style = if w.status.is_failure() {
                theme.critical
            } else if w.status.is_final() {
                theme.ok
            } else {
                theme.progressing
            };
            let word = match &w.status {
                crate::watch::WatchStatus::InProgress {
                    progress: Some((p, _)),
                    ..
                } if matches!(w.target, crate::watch::WatchTarget::Snapshot { .. }) => {
                    format!("{p}%")
                }
                crate::watch::WatchStatus::InProgress {
                    progress: Some((r, d)),
                    ..
                } => progress_bar(*r, *d, 6),
                s => s.word().to_string(),
            };
            (word, style)
        }
    }
}

/// The one-line account of a live activity: its error, or how far it got.
pub fn live_detail(a: &Activity) -> String {
    match (&a.status, &a.watch) {
        (OpStatus::Sending, _) => "recording the intent and sending".to_string(),
        (OpStatus::DryRun { .. }, _) => {
            "previewed and recorded in the audit log; nothing was sent".to_string()
        }
        (OpStatus::Failed { error, .. }, _) => error.clone(),
        (OpStatus::Checking { error, .. }, _) => {
            format!("{error}: reading the change back; nothing is sent again")
        }
        (OpStatus::NotApplied { detail, .. } | OpStatus::Unknown { detail, .. }, _) => {
            detail.clone()
        }
        (OpStatus::Accepted { detail, .. }, None) => detail.clone(),
        (OpStatus::Accepted { detail, .. }, Some(w)) => {
            format!("{} · {detail}", w.status.text())
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let rows = items(state);
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(7)]).areas(area);
    let hidden = if state.history_hidden > 0 {
        format!(", {} not shown", state.history_hidden)
    } else {
        String::new()
    };
    let title = format!(
        "Activity ({} this session, {} earlier{hidden})",
        state.activity.len(),
        state.history.len()
    );
    let block = panel(&title, None, state.now, theme, true);
    let inner = block.inner(list_area);
    frame.render_widget(block, list_area);
    let selected_index = state.selected(ViewKind::Activity);
    if rows.is_empty() {
        let text = vec![
            Line::styled("no operations yet", theme.dim),
            Line::styled(operation_keys(state), theme.dim),
            Line::styled(
                format!(
                    "audit log: {}",
                    state.audit_path.as_deref().unwrap_or("(none)")
                ),
                theme.dim,
            ),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
    } else {
        let wide = area.width >= 110;
        let (start, end, selected) = window(rows.len(), Some(selected_index), inner);
        let table_rows = rows[start..end]
            .iter()
            .map(|item| match item {
                Item::Live(a) => {
                    let (word, style) = live_status(a, theme);
                    let (before, after) = a.op.before_after();
                    let mut cells = vec![
                        Cell::from(age_since(state.now, Some(a.started_at))),
                        Cell::from(a.env_name.clone()),
                        Cell::from(a.op.name()),
                        Cell::from(a.op.resource().to_string()),
                    ];
                    if wide {
                        cells.push(Cell::from(format!("{before} → {after}")));
                    }
                    cells.push(Cell::from(Span::styled(word, style)));
                    Row::new(cells)
                }
                Item::Past(r) => {
                    let (word, style) = if state.history_checking.contains(&r.id) {
                        ("reading back…".to_string(), theme.warning)
                    } else {
                        past_status(r, theme)
                    };
                    let mut cells = vec![
                        Cell::from(age_since(state.now, Some(r.time))),
                        Cell::from(r.environment.clone()),
                        Cell::from(r.operation.clone()),
                        Cell::from(r.resource.clone()),
                    ];
                    if wide {
                        cells.push(Cell::from(format!(
                            "{} → {}",
                            r.before.as_deref().unwrap_or("?"),
                            r.after.as_deref().unwrap_or("?")
                        )));
                    }
                    cells.push(Cell::from(Span::styled(word, style)));
                    Row::new(cells).style(theme.dim)
                }
            })
            .collect();
        let (header, widths): (Vec<&str>, Vec<Constraint>) = if wide {
            (
                vec!["AGE", "ENV", "OPERATION", "RESOURCE", "CHANGE", "STATUS"],
                vec![
                    Constraint::Length(4),
                    Constraint::Length(12),
                    Constraint::Length(18),
                    Constraint::Fill(2),
                    Constraint::Fill(3),
                    Constraint::Length(16),
                ],
            )
        } else {
            (
                vec!["AGE", "ENV", "OPERATION", "RESOURCE", "STATUS"],
                vec![
                    Constraint::Length(4),
                    Constraint::Length(10),
                    Constraint::Length(14),
                    Constraint::Fill(1),
                    Constraint::Length(16),
                ],
            )
        };
        draw_table(frame, inner, &header, table_rows, &widths, selected, theme);
    }

    let block = panel("Details", None, state.now, theme, false);
    let inner = block.inner(detail_area);
    frame.render_widget(block, detail_area);
    let lines: Vec<Line> = match rows.get(selected_index) {
        Some(Item::Live(a)) => {
            let mut l = vec![Line::from(vec![
                Span::styled(a.op.title(), theme.title),
                Span::styled(format!("  id {}", a.id), theme.dim),
            ])];
            l.push(Line::raw(live_detail(a)));
            for call in a.op.calls() {
                l.push(Line::styled(call, theme.dim));
            }
            l
        }
        Some(Item::Past(r)) => {
            let mut l = vec![Line::from(vec![
                Span::styled(format!("{} {}", r.operation, r.resource), theme.title),
                Span::styled(
                    format!(
                        "  {} · {} · {}",
                        super::widgets::stamp(state, r.time),
                        r.account.as_deref().unwrap_or("?"),
                        r.caller.as_deref().unwrap_or("caller ?")
                    ),
                    theme.dim,
                ),
            ])];
            if let Some(rb) = &r.read_back {
                let style = if rb.verdict == Verdict::Applied {
                    theme.warning
                } else {
                    theme.error
                };
                l.push(Line::styled(rb.summary(), style));
            }
            if let (Some(ended), Some(detail)) = (&r.ended, &r.detail) {
                let style = if r.outcome == Some(Outcome::Error) {
                    theme.error
                } else {
                    theme.base
                };
                l.push(Line::styled(format!("{ended}: {detail}"), style));
            } else if let Some(e) = r.error.as_ref().filter(|_| r.read_back.is_none()) {
                l.push(Line::styled(e.clone(), theme.error));
            } else if r.phase == Phase::Intent && state.history_checking.contains(&r.id) {
                l.push(Line::styled(
                    "only the intent was recorded (the console stopped before the result): \
                     reading the resource back…",
                    theme.warning,
                ));
            } else if r.phase == Phase::Intent {
                l.push(Line::styled(
                    "only the intent was recorded: the console stopped before the result came back; \
                     check the resource",
                    theme.warning,
                ));
            } else if r.phase == Phase::Result && r.outcome == Some(Outcome::Success) {
                l.push(Line::styled(
                    "accepted; how it ended was not recorded (the console did not follow it to the end)",
                    theme.warning,
                ));
            }
            if r.error.is_none() && !r.result.is_null() {
                l.push(Line::raw(r.result.to_string()));
            }
            for call in &r.calls {
                l.push(Line::styled(call.clone(), theme.dim));
            }
            l
        }
        None => vec![Line::styled(
            format!(
                "audit log: {}",
                state.audit_path.as_deref().unwrap_or("(none)")
            ),
            theme.dim,
        )],
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
}

fn past_status(r: &Record, theme: &Theme) -> (String, Style) {
    match (r.phase, r.outcome) {
        (Phase::Intent, _) => ("no result".to_string(), theme.warning),
        // Unanswered, then read back: what the resource showed.
        (Phase::Result, _) if r.read_back.is_some() => {
            let verdict = r
                .read_back
                .as_ref()
                .map_or(Verdict::Unknown, |rb| rb.verdict);
            let style = if verdict == Verdict::Applied {
                theme.ok
            } else {
                theme.critical
            };
            (verdict.word().to_string(), style)
        }
        // How a followed change ended: its own word, not just "sent".
        (Phase::Final, outcome) => {
            let word = r.ended.clone().unwrap_or_else(|| "ended".to_string());
            let style = if outcome == Some(Outcome::Error) {
                theme.critical
            } else {
                theme.ok
            };
            (word, style)
        }
        (_, Some(Outcome::Success)) => ("sent".to_string(), theme.ok),
        (_, Some(Outcome::DryRun)) => ("dry run".to_string(), theme.dim),
        (_, Some(Outcome::Error)) => ("FAILED".to_string(), theme.critical),
        (_, Some(Outcome::Unknown)) => ("UNKNOWN".to_string(), theme.critical),
        (_, None) => ("?".to_string(), theme.dim),
    }
}

/// Where the operations start, with their keys in those views (from the
/// keymap: a remapped key shows as remapped; an unbound one is left out).
fn operation_keys(state: &State) -> String {
    use crate::config::keys::{Command, KeyContext};
    let place = |view: ViewKind, what: &str, ops: &[(Command, &str)]| {
        let ctx = KeyContext::live(view);
        let keys: Vec<String> = ops
            .iter()
            .filter_map(|(cmd, name)| {
                state
                    .keymap
                    .key_for(*cmd, ctx)
                    .map(|k| format!("{k} {name}"))
            })
            .collect();
        format!("from {what}: {}", keys.join(" · "))
    };
    [
        place(
            ViewKind::Services,
            "a service",
            &[
                (Command::Scale, "scale"),
                (Command::ScalingBounds, "bounds"),
                (Command::DeployImage, "image"),
                (Command::Rollback, "rollback"),
                (Command::Restart, "restart"),
            ],
        ),
        place(
            ViewKind::Databases,
            "a database",
            &[(Command::Snapshot, "snapshot"), (Command::Reboot, "reboot")],
        ),
        place(
            ViewKind::Alarms,
            "an alarm",
            &[(Command::MuteAlarm, "mute")],
        ),
        place(
            ViewKind::Tasks,
            "a task",
            &[
                (Command::StopTask, "stop"),
                (Command::Exec, "exec (a shell)"),
            ],
        ),
    ]
    .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::keys::Keymap;

    fn state_with(keys: &str) -> State {
        let config: Config = toml::from_str(keys).expect("config");
        let keymap = Keymap::from_config(&config).expect("keymap");
        State::new(Vec::new(), 0, keymap, chrono::Utc::now())
    }

    #[test]
    fn the_operation_keys_come_from_the_keymap() {
        assert_eq!(
            operation_keys(&state_with("")),
            "from a service: s scale · A bounds · i image · b rollback · r restart; \
             from a database: n snapshot · F reboot; from an alarm: m mute; from a \
             task: ctrl-k stop · x exec (a shell)"
        );
        // Remapped (globally, or in the view the operation starts from).
        let s =
            state_with("[keys]\nrollback = \"B\"\nscale = []\n\n[keys.view.tasks]\nexec = \"e\"\n");
        let text = operation_keys(&s);
        assert!(
            text.starts_with("from a service: A bounds · i image · B rollback · r restart;"),
            "{text}"
        );
        assert!(text.ends_with("ctrl-k stop · e exec (a shell)"), "{text}");
    }
}
