//! The services table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::task_definition_label;
use crate::state::{State, ViewKind};

use super::widgets::{
    Keep, column_widths, draw_sorted_table, ecs_placeholder, fit, health_span, image_tag,
    many_clusters, panel, rollout_style, service_label,
};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let meta = env.panel_meta(Resource::Services);
    let services = state.visible_services();
    let total = env.services.data.as_ref().map_or(0, Vec::len);
    let title = if services.len() == total {
        format!("Services ({total})")
    } else {
        format!("Services ({}/{total})", services.len())
    };
    let block = panel(&title, Some(meta), state.now, theme, true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if services.is_empty() {
        if total > 0 {
            frame.render_widget(
                ratatui::widgets::Paragraph::new(Span::styled(
                    "no service matches the filter",
                    theme.dim,
                )),
                inner,
            );
        } else {
            ecs_placeholder(frame, inner, env, Resource::Services, "services", theme);
        }
        return;
    }
    let wide = area.width >= 120;
    // --- metrics: the CPU trend of the chart range.
    let trend_w = if wide { 24 } else { 10 };
    let (start, end, selected) = super::widgets::window(
        services.len(),
        Some(state.selected(ViewKind::Services)),
        inner,
    );
    let mut header = vec![
        "NAME", "HEALTH", "CPU", "RUN/DES", "PEND", "ROLLOUT", "TASK DEF", "SCALE", "IMAGE",
    ];
    let mut widths = vec![
        // The cluster is part of the name where there are several.
        Constraint::Fill(if many_clusters(env) { 3 } else { 2 }),
        Constraint::Length(11),
        Constraint::Length(trend_w as u16),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Length(11),
        Constraint::Fill(3),
        Constraint::Length(5),
        Constraint::Fill(2),
    ];
    if wide {
        header.extend(["DEPLOYS", "LAUNCH"]);
        widths.extend([Constraint::Length(7), Constraint::Length(7)]);
    }
    let cols = column_widths(inner.width, &widths);
    let col = |i: usize| cols.get(i).copied().unwrap_or(0);
    let rows = services[start..end]
        .iter()
        .map(|s| {
            // The essential containers' tags first (the application's,
            // not its log router's, when they must be cut).
            let images: Vec<&str> = env
                .task_definitions
                .get(&s.task_definition)
                .map(|td| {
                    let mut c: Vec<_> = td.containers.iter().collect();
                    c.sort_by_key(|c| !c.essential);
                    c.iter().map(|c| image_tag(&c.image)).collect()
                })
                .unwrap_or_default();
            let scaling = env.scaling_of(s).map_or_else(
                || "-".to_string(),
                |t| format!("{}–{}", t.min_capacity, t.max_capacity),
            );
            let mut cells = vec![
                Cell::from(fit(&service_label(env, s), col(0), Keep::Start)),
                Cell::from(health_span(env.service_health(s, state.now), theme)),
                Cell::from(super::chart::trend_cell(
                    env,
                    |m| m.service_cpu(crate::domain::short_id(&s.cluster_arn), &s.name),
                    trend_w,
                    theme,
                )),
                Cell::from(format!("{}/{}", s.running_count, s.desired_count)),
                Cell::from(s.pending_count.to_string()),
                Cell::from(match super::blue_green::rollout_cell(env, s, theme) {
                    Some((text, style)) => Span::styled(text, style),
                    None => Span::styled(s.rollout().as_str(), rollout_style(s.rollout(), theme)),
                }),
                // The revision and the tag are what tell deploys apart.
                Cell::from(fit(
                    task_definition_label(&s.task_definition),
                    col(6),
                    Keep::End,
                )),
                Cell::from(scaling),
                Cell::from(if images.is_empty() {
                    "…".to_string()
                } else {
                    images_cell(&images, col(8))
                }),
            ];
            if wide {
                cells.push(Cell::from(s.deployments.len().to_string()));
                cells.push(Cell::from(
                    s.launch_type.clone().unwrap_or_else(|| "-".into()),
                ));
            }
            Row::new(cells)
        })
        .collect();
    draw_sorted_table(
        frame,
        inner,
        state,
        ViewKind::Services,
        &header,
        rows,
        &widths,
        selected,
        theme,
    );
}

/// The IMAGE cell: every tag when they fit, else the first (an essential
/// container's) with its end kept and how many more (`…7c1e9a2+1`), so a
/// sidecar's tag never stands in for the application's.
fn images_cell(images: &[&str], width: usize) -> String {
    let all = images.join(",");
    if images.len() < 2 || unicode_width::UnicodeWidthStr::width(all.as_str()) <= width {
        return fit(&all, width, Keep::End);
    }
    let more = format!("+{}", images.len() - 1);
    let first = images.first().copied().unwrap_or_default();
    format!(
        "{}{more}",
        fit(first, width.saturating_sub(more.len()), Keep::End)
    )
}

#[cfg(test)]
mod image_tests {
    use super::images_cell;

    #[test]
    fn a_cut_image_cell_keeps_the_first_tag_and_counts_the_rest() {
        assert_eq!(images_cell(&["v1", "2.32.4"], 20), "v1,2.32.4");
        assert_eq!(
            images_cell(&["2026.11.21-7c1e9a2", "2.32.4"], 10),
            "…7c1e9a2+1"
        );
        assert_eq!(images_cell(&["2026.11.21-7c1e9a2"], 10), "…1-7c1e9a2");
        assert_eq!(images_cell(&["a", "b", "c"], 3), "a+2");
    }
}
