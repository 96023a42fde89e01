//! The EC2 hosts of the environment: state, type, zone, address, uptime,
//! the two status checks, the CPU trend and the health where each is a
//! target; the selected host's details below (each target group).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{CheckStatus, Health, Instance, InstanceHealth};
use crate::state::{State, ViewKind};

use super::widgets::{age_since, panel, placeholder};

fn state_style(i: &Instance, theme: &Theme) -> Style {
    match i.state.as_str() {
        "running" => theme.ok,
        "pending" | "stopping" => theme.progressing,
        _ => theme.critical,
    }
}

fn check_style(c: CheckStatus, theme: &Theme) -> Style {
    match c {
        CheckStatus::Ok => theme.ok,
        CheckStatus::Impaired => theme.critical,
        CheckStatus::Initializing => theme.progressing,
        CheckStatus::InsufficientData => theme.unknown,
        CheckStatus::NotApplicable => theme.dim,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let hosts = state.visible_instances();
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(5)]).areas(area);

    let meta = env.panel_meta(Resource::Instances);
    let block = panel(
        &format!("EC2 hosts ({})", hosts.len()),
        Some(meta),
        state.now,
        theme,
        true,
    );
    let inner = block.inner(table_area);
    frame.render_widget(block, table_area);
    if hosts.is_empty() {
        if env.has_ec2() {
            placeholder(frame, inner, meta, "EC2 hosts", theme);
        } else {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "no EC2 hosts configured (ec2_instances / ec2_tags)",
                    theme.dim,
                )),
                inner,
            );
        }
    } else {
        // Narrow: the address and the uptime are in the detail below.
        let wide = area.width >= 110;
        let trend_w: usize = if wide { 24 } else { 10 };
        let mut header = vec!["NAME", "ID", "STATE"];
        let mut widths = vec![
            Constraint::Fill(1),
            Constraint::Length(19),
            Constraint::Length(8),
        ];
        if wide {
            header.extend(["TYPE", "AZ", "IP", "UP"]);
            widths.extend([
                Constraint::Length(11),
                Constraint::Length(15),
                Constraint::Length(15),
                Constraint::Length(4),
            ]);
        } else {
            header.push("AZ");
            widths.push(Constraint::Length(3));
        }
        header.extend(["CHECKS", "CPU", "TARGET"]);
        widths.extend([
            Constraint::Length(if wide { 12 } else { 7 }),
            Constraint::Length(trend_w as u16),
            Constraint::Length(9),
        ]);
        let rows = hosts
            .iter()
            .map(|i| {
                let health = env.host_health(i);
                let name = Span::styled(
                    i.name.clone().unwrap_or_else(|| "-".into()),
                    match health {
                        InstanceHealth::Failing => theme.critical,
                        _ => Style::default(),
                    },
                );
                let mut cells = vec![
                    Cell::from(name),
                    Cell::from(i.id.clone()),
                    Cell::from(Span::styled(i.state.clone(), state_style(i, theme))),
                ];
                let az = i.availability_zone.clone().unwrap_or_else(|| "-".into());
                if wide {
                    cells.extend([
                        Cell::from(i.instance_type.clone()),
                        Cell::from(az),
                        Cell::from(i.private_ip.clone().unwrap_or_else(|| "-".into())),
                        Cell::from(age_since(state.now, i.launched_at)),
                    ]);
                } else {
                    // The zone's letter and digit (`1a`) say it.
                    cells.push(Cell::from(short_az(&az).to_string()));
                }
                let checks = i.checks_summary();
                cells.extend([
                    Cell::from(Span::styled(
                        if wide {
                            checks
                        } else {
                            checks.replace(" ok", "").replace("initializing", "init")
                        },
                        theme.health(checks_health(i)),
                    )),
                    // A host that does not run has no CPU: its last
                    // value would read as a live one.
                    if matches!(i.state.as_str(), "running" | "stopping") {
                        Cell::from(super::chart::trend_cell(
                            env,
                            |m| m.host_cpu(&i.id),
                            trend_w,
                            theme,
                        ))
                    } else {
                        Cell::from(Span::styled("-", theme.dim))
                    },
                    Cell::from(target_span(env, i, theme)),
                ]);
                Row::new(cells)
            })
            .collect();
        super::widgets::draw_sorted_table(
            frame,
            inner,
            state,
            ViewKind::Hosts,
            &header,
            rows,
            &widths,
            Some(state.selected(ViewKind::Hosts)),
            theme,
        );
    }

    let selected = hosts.get(state.selected(ViewKind::Hosts)).copied();
    let block = panel(
        selected.map_or("Host", Instance::display_name),
        None,
        state.now,
        theme,
        false,
    );
    let inner = block.inner(detail_area);
    frame.render_widget(block, detail_area);
    if let Some(i) = selected {
        frame.render_widget(Paragraph::new(detail_lines(i, state, theme)), inner);
    }
}

/// The host's health where it is a target: the worst state among its
/// target groups (`healthy`, `unhealthy`, `draining`, ...), `-` where it
/// is in none read.
fn target_span<'a>(env: &crate::state::EnvState, i: &Instance, theme: &Theme) -> Span<'a> {
    let targets = env.host_targets(&i.id);
    let Some((_, worst)) = targets.iter().max_by_key(|(_, t)| t.rank()) else {
        return Span::styled(
            if env.targets.data.is_none() && !env.ec2_target_groups.is_empty() {
                "…"
            } else {
                "-"
            },
            theme.dim,
        );
    };
    Span::styled(worst.state.clone(), target_style(&worst.state, theme))
}

fn target_style(state: &str, theme: &Theme) -> Style {
    match state {
        "healthy" => theme.ok,
        "initial" | "draining" => theme.progressing,
        "unused" => theme.dim,
        _ => theme.critical,
    }
}

/// The checks' column: ok when both are, failing when one is impaired.
fn checks_health(i: &Instance) -> Health {
    let both = [i.system_status, i.instance_status];
    if both.contains(&CheckStatus::Impaired) {
        Health::Critical
    } else if both.iter().all(|c| *c == CheckStatus::Ok) {
        Health::Ok
    } else if both.contains(&CheckStatus::Initializing) {
        Health::Progressing
    } else {
        Health::Unknown
    }
}

/// `ap-northeast-1a` → `1a`.
fn short_az(az: &str) -> &str {
    az.rsplit('-').next().unwrap_or(az)
}

fn detail_lines<'a>(i: &Instance, state: &State, theme: &Theme) -> Vec<Line<'a>> {
    let first = vec![
        Span::styled("type ", theme.dim),
        Span::raw(i.instance_type.clone()),
        Span::styled("  az ", theme.dim),
        Span::raw(i.availability_zone.clone().unwrap_or_else(|| "-".into())),
        Span::styled("  launched ", theme.dim),
        Span::raw(i.launched_at.map_or_else(
            || "-".into(),
            |t| {
                format!(
                    "{} {} ({} ago)",
                    super::widgets::in_zone(state.timezone, t, "%Y-%m-%d %H:%M"),
                    super::widgets::zone_label(state.timezone, state.now),
                    age_since(state.now, Some(t))
                )
            },
        )),
    ];
    let checks = vec![
        Span::styled("system check ", theme.dim),
        Span::styled(i.system_status.word(), check_style(i.system_status, theme)),
        Span::styled("  instance check ", theme.dim),
        Span::styled(
            i.instance_status.word(),
            check_style(i.instance_status, theme),
        ),
    ];
    let mut checks = checks;
    checks.extend([
        Span::styled("  ip ", theme.dim),
        Span::raw(i.private_ip.clone().unwrap_or_else(|| "-".into())),
    ]);
    let env = state.env();
    let targets = env.map(|e| e.host_targets(&i.id)).unwrap_or_default();
    let mut third = vec![Span::styled("target ", theme.dim)];
    if targets.is_empty() {
        third.push(Span::styled("in no target group read", theme.dim));
    }
    for (n, (g, t)) in targets.iter().enumerate() {
        if n > 0 {
            third.push(Span::styled(" · ", theme.dim));
        }
        third.push(Span::raw(format!("{} ", g.name)));
        third.push(Span::styled(t.state.clone(), target_style(&t.state, theme)));
        if let Some(why) = t.description.as_deref().or(t.reason.as_deref())
            && t.state != "healthy"
        {
            third.push(Span::styled(format!(" ({why})"), theme.dim));
        }
    }
    vec![Line::from(first), Line::from(checks), Line::from(third)]
}
