//! Every environment side by side: health counts, errors and data age.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::config::theme::Theme;
use crate::state::{EnvSummary, ServiceHealth, State, ViewKind, format_age};

use super::widgets::{Keep, draw_table, fit, panel};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = panel(
        &format!(
            "Fleet ({} environments) · {} opens",
            state.envs.len(),
            state.key_or(crate::config::keys::Command::Select, ":env NAME")
        ),
        None,
        state.now,
        theme,
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let wide = area.width >= 110;
    let mut header = vec![
        "ENVIRONMENT",
        // Narrow: the account only (the region is cut from the cells too).
        if wide { "ACCOUNT / REGION" } else { "ACCOUNT" },
        "SVC OK",
        "TASKS",
        "DB",
        "ALARMS",
        "HTTP",
    ];
    let mut widths = vec![
        Constraint::Length(16),
        Constraint::Length(if wide { 28 } else { 14 }),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(9),
        Constraint::Length(5),
    ];
    // EC2 hosts, after the databases, where an environment has some.
    let ec2 = state.envs.iter().any(crate::state::EnvState::has_ec2);
    if ec2 {
        header.insert(5, "EC2");
        widths.insert(5, Constraint::Length(5));
        if !wide {
            // Room for the status (an error, the data's age) at 80
            // columns: the name, the services and tasks give a little.
            widths[0] = Constraint::Length(14);
            widths[2] = Constraint::Length(6);
            widths[3] = Constraint::Length(6);
        }
    }
    if wide {
        header.push("MODE");
        widths.push(Constraint::Length(9));
    }
    header.push("STATUS");
    widths.push(Constraint::Fill(1));
    let cols = super::widgets::column_widths(inner.width, &widths);
    let name_w = cols.first().copied().unwrap_or(0);
    let status_w = cols.last().copied().unwrap_or(0);
    let rows = state
        .envs
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let s = e.summary(state.now);
            let ratio = |ok: usize, total: usize, loaded: bool| {
                if loaded {
                    Span::styled(
                        format!("{ok}/{total}"),
                        if ok >= total {
                            theme.ok
                        } else {
                            theme.critical
                        },
                    )
                } else {
                    Span::styled("…", theme.dim)
                }
            };
            let errors = e.errors();
            let status = match (errors.first(), e.oldest_loaded_at()) {
                (Some((r, err)), _) => Span::styled(
                    fit(&format!("{}: {err}", r.label()), status_w, Keep::Start),
                    theme.error,
                ),
                (None, Some(t)) => {
                    Span::styled(format!("{} ago", format_age(state.now - t)), theme.dim)
                }
                (None, None) => Span::styled("loading…", theme.dim),
            };
            // The start of a name is what tells environments apart.
            let name = if i == state.active {
                format!("▸ {}", fit(&e.name, name_w.saturating_sub(2), Keep::Start))
            } else {
                fit(&e.name, name_w, Keep::Start)
            };
            let mut cells = vec![
                Cell::from(Span::styled(
                    name,
                    if e.protected {
                        theme.production
                    } else {
                        theme.base
                    },
                )),
                Cell::from(if wide {
                    format!(
                        "{} {}",
                        e.account().unwrap_or("?"),
                        e.region.as_deref().unwrap_or("?")
                    )
                } else {
                    e.account().unwrap_or("?").to_string()
                }),
                Cell::from(services_cell(&s, e.services.data.is_some(), theme)),
                Cell::from(ratio(
                    s.tasks_running.min(s.tasks_desired),
                    s.tasks_desired,
                    e.services.data.is_some(),
                )),
                Cell::from(ratio(
                    s.databases_available,
                    s.databases_total,
                    e.databases.data.is_some(),
                )),
                Cell::from(if e.alarms.data.is_none() {
                    Span::styled("…", theme.dim)
                } else if s.alarms_firing > 0 {
                    // Muted ones included: they are in ALARM all the same.
                    Span::styled(format!("{} ALARM", s.alarms_firing), theme.critical)
                } else if s.alarms_insufficient > 0 {
                    Span::styled(format!("{} no data", s.alarms_insufficient), theme.unknown)
                } else {
                    Span::styled("0", theme.ok)
                }),
                // --- probes
                Cell::from(super::probes::fleet_cell(e, theme)),
            ];
            // EC2 hosts ok of all, as the overview counts them; `-` where
            // the environment has none.
            if ec2 {
                cells.insert(
                    5,
                    Cell::from(if e.has_ec2() {
                        ratio(s.hosts_ok, s.hosts_total, e.instances.data.is_some())
                    } else {
                        Span::styled("-", theme.dim)
                    }),
                );
            }
            if wide {
                cells.push(Cell::from(if e.read_only { "read-only" } else { "" }));
            }
            cells.push(Cell::from(status));
            Row::new(cells)
        })
        .collect();
    draw_table(
        frame,
        inner,
        &header,
        rows,
        &widths,
        Some(state.selected(ViewKind::Fleet)),
        theme,
    );
}

/// `2/3` ok of all services, in the style of the worst; `1 FAIL` when a
/// service is failing (a ratio would hide which way it is off).
fn services_cell<'a>(s: &EnvSummary, loaded: bool, theme: &Theme) -> Span<'a> {
    if !loaded {
        return Span::styled("…", theme.dim);
    }
    if s.services_failing > 0 {
        return Span::styled(format!("{} FAIL", s.services_failing), theme.critical);
    }
    let worst = s.worst_service_health().unwrap_or(ServiceHealth::Ok);
    Span::styled(
        format!("{}/{}", s.services_healthy, s.services_total),
        theme.health(worst.style()),
    )
}
