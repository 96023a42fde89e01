//! The tasks table: running first, stopped ones with their reason.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{Task, task_definition_label};

/// The revision number of a task-definition ARN (`web:42` → `42`).
pub fn revision_of(arn: &str) -> &str {
    let label = task_definition_label(arn);
    label.rsplit(':').next().unwrap_or(label)
}
use crate::state::{State, ViewKind};

use super::widgets::{
    Keep, age_since, column_widths, draw_sorted_table, ecs_placeholder, fit, panel,
};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let meta = env.panel_meta(Resource::Tasks);
    let tasks = state.visible_tasks();
    let total = env.tasks.data.as_ref().map_or(0, Vec::len);
    let title = if tasks.len() == total {
        format!("Tasks ({total})")
    } else {
        format!("Tasks ({}/{total})", tasks.len())
    };
    let block = panel(&title, Some(meta), state.now, theme, true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if tasks.is_empty() {
        if total > 0 {
            frame.render_widget(
                Paragraph::new(Span::styled("no task matches the filter", theme.dim)),
                inner,
            );
        } else {
            ecs_placeholder(frame, inner, env, Resource::Tasks, "tasks", theme);
        }
        return;
    }
    draw_task_table(
        frame,
        inner,
        state,
        theme,
        &tasks,
        ViewKind::Tasks,
        Some(state.selected(ViewKind::Tasks)),
    );
}

/// A table of tasks, shared with the service detail view (`kind`, which
/// leaves the service out).
pub fn draw_task_table(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    tasks: &[&Task],
    kind: ViewKind,
    selected: Option<usize>,
) {
    let with_service = kind == ViewKind::Tasks;
    let (start, end, selected) = super::widgets::window(tasks.len(), selected, area);
    let mut header = vec!["TASK"];
    let mut widths = vec![Constraint::Length(8)];
    if with_service {
        header.push("SERVICE");
        widths.push(Constraint::Length(10));
    }
    header.extend(["STATUS", "HEALTH", "AZ", "REV", "UP", "STOPPED REASON"]);
    widths.extend([
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Length(3),
        Constraint::Length(4),
        Constraint::Length(4),
        // The stopped reason gets what the others leave.
        Constraint::Fill(1),
    ]);
    let cols = column_widths(area.width, &widths);
    let reason_w = cols.last().copied().unwrap_or(0);
    let service_w = if with_service {
        cols.get(1).copied().unwrap_or(0)
    } else {
        0
    };
    let rows = tasks[start..end]
        .iter()
        .map(|t| {
            let status = if t.last_status == t.desired_status {
                t.last_status.clone()
            } else {
                format!("{}→{}", t.last_status, t.desired_status)
            };
            let stopped = t.last_status == "STOPPED";
            let reason = match (&t.stop_code, &t.stopped_reason) {
                (_, Some(r)) => r.clone(),
                (Some(c), None) => c.clone(),
                _ => String::new(),
            };
            let mut cells = vec![Cell::from(t.id().get(..8).unwrap_or(t.id()).to_string())];
            if with_service {
                cells.push(Cell::from(fit(
                    t.service_name().unwrap_or("-"),
                    service_w,
                    Keep::Start,
                )));
            }
            cells.extend([
                Cell::from(Span::styled(status, theme.health(t.health()))),
                // A stopped task has no health and no uptime, whatever the
                // API still reports for it.
                Cell::from(if stopped {
                    Span::styled("-", theme.dim)
                } else {
                    Span::styled(t.health_status.clone(), theme.health(t.health()))
                }),
                Cell::from(
                    t.availability_zone
                        .as_deref()
                        .map_or("-", |z| z.rsplit('-').next().unwrap_or(z))
                        .to_string(),
                ),
                Cell::from(revision_of(&t.task_definition).to_string()),
                Cell::from(if stopped {
                    "-".to_string()
                } else {
                    age_since(state.now, t.started_at)
                }),
                // Read from the left; the task detail has it whole.
                Cell::from(Span::styled(fit(&reason, reason_w, Keep::Start), theme.dim)),
            ]);
            Row::new(cells)
        })
        .collect();
    draw_sorted_table(
        frame, area, state, kind, &header, rows, &widths, selected, theme,
    );
}
