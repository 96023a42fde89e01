//! CloudFront: the environment's distributions (domain, status,
//! invalidations in progress, the paths an invalidation names) and the
//! recent invalidations of the selected one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::action::Resource;
use crate::config::keys::{Command, KeyContext};
use crate::config::theme::Theme;
use crate::domain::Distribution;
use crate::state::{State, ViewKind};

use super::widgets::{age_since, draw_table, panel, placeholder};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let dists: &[Distribution] = env.distributions.data.as_deref().unwrap_or(&[]);
    let rows_h = (dists.len().max(1) as u16 + 3).min(area.height / 2);
    let [list_area, detail_area, inv_area] = Layout::vertical([
        Constraint::Length(rows_h),
        Constraint::Length(4),
        Constraint::Min(4),
    ])
    .areas(area);

    let meta = env.panel_meta(Resource::Distributions);
    let block = panel(
        &format!("CloudFront distributions ({})", dists.len()),
        Some(meta),
        state.now,
        theme,
        true,
    );
    let inner = block.inner(list_area);
    frame.render_widget(block, list_area);
    if env.cloudfront.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "no distribution configured (cloudfront_distributions in the environment's config)",
                theme.dim,
            )),
            inner,
        );
        return;
    }
    if dists.is_empty() {
        placeholder(frame, inner, meta, "distributions", theme);
    } else {
        let header = ["ID", "DOMAIN", "STATUS", "INVALIDATING", "LAST"];
        let widths = [
            Constraint::Length(16),
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(12),
            Constraint::Length(10),
        ];
        let rows = dists
            .iter()
            .map(|d| {
                let status_style = if d.status == "Deployed" {
                    theme.ok
                } else {
                    theme.progressing
                };
                Row::new(vec![
                    Cell::from(d.id.clone()),
                    Cell::from(d.alias.clone().unwrap_or_else(|| d.domain_name.clone())),
                    Cell::from(Span::styled(d.status.clone(), status_style)),
                    Cell::from(if d.in_progress > 0 {
                        Span::styled(format!("{} running", d.in_progress), theme.progressing)
                    } else {
                        Span::styled("none", theme.dim)
                    }),
                    Cell::from(age_since(
                        state.now,
                        d.invalidations.first().and_then(|i| i.created_at),
                    )),
                ])
            })
            .collect();
        draw_table(
            frame,
            inner,
            &header,
            rows,
            &widths,
            Some(state.selected(ViewKind::CloudFront)),
            theme,
        );
    }

    let selected = dists.get(state.selected(ViewKind::CloudFront));
    let block = panel(
        selected.map_or("Distribution", |d| d.id.as_str()),
        None,
        state.now,
        theme,
        false,
    );
    let inner = block.inner(detail_area);
    frame.render_widget(block, detail_area);
    if let Some(d) = selected {
        let paths = env
            .cloudfront
            .iter()
            .find(|c| c.id == d.id)
            .map(|c| c.paths.join(" "))
            .unwrap_or_default();
        let key = state
            .keymap
            .key_for(Command::Invalidate, KeyContext::live(ViewKind::CloudFront))
            .map_or_else(String::new, |k| format!("  ({k}: invalidate)"));
        let lines = vec![
            Line::from(vec![
                Span::styled("domain ", theme.dim),
                Span::raw(d.domain_name.clone()),
                Span::styled(if d.enabled { "" } else { "  disabled" }, theme.warning),
            ]),
            Line::from(vec![
                Span::styled("paths  ", theme.dim),
                Span::raw(paths),
                Span::styled(key, theme.dim),
            ]),
        ];
        frame.render_widget(Paragraph::new(lines), inner);
    }

    let invs = selected.map_or(&[][..], |d| d.invalidations.as_slice());
    let block = panel(
        &format!("Recent invalidations ({})", invs.len()),
        None,
        state.now,
        theme,
        false,
    );
    let inner = block.inner(inv_area);
    frame.render_widget(block, inv_area);
    if invs.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no invalidations", theme.dim)),
            inner,
        );
        return;
    }
    let header = ["ID", "STATUS", "CREATED", "AGE", "PATHS"];
    let widths = [
        Constraint::Length(15),
        Constraint::Length(11),
        Constraint::Length(11),
        Constraint::Length(6),
        Constraint::Fill(1),
    ];
    let rows = invs
        .iter()
        .map(|i| {
            Row::new(vec![
                Cell::from(i.id.clone()),
                Cell::from(Span::styled(
                    i.status.clone(),
                    if i.is_completed() {
                        theme.ok
                    } else {
                        theme.progressing
                    },
                )),
                Cell::from(i.created_at.map_or_else(
                    || "-".to_string(),
                    |t| super::widgets::in_zone(state.timezone, t, "%m-%d %H:%M"),
                )),
                Cell::from(age_since(state.now, i.created_at)),
                Cell::from(if i.paths.is_empty() {
                    "-".to_string()
                } else {
                    i.paths.join(" ")
                }),
            ])
        })
        .collect();
    draw_table(frame, inner, &header, rows, &widths, None, theme);
}
