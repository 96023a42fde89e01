//! The header: which environment this is, unmistakably, and how fresh the
//! data is.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::config::theme::Theme;
use crate::state::{State, format_age};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let [top, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    frame.render_widget(Paragraph::new("").style(theme.header), top);
    let Some(env) = state.env() else {
        frame.render_widget(
            Paragraph::new(" honban · no environment").style(theme.header),
            top,
        );
        return;
    };

    // Line 1: name, account/region, markers — and the data age on the right.
    // The markers come before the account: on a narrow terminal it is the
    // account that gets cut, never PRODUCTION, READ-ONLY or DRY RUN.
    let mut left = vec![
        Span::styled(" honban ", theme.header),
        Span::styled(format!(" {} ", env.name), theme.title),
    ];
    if env.protected {
        left.push(Span::styled(" ", theme.header));
        left.push(Span::styled(" PRODUCTION ", theme.production));
    }
    if env.read_only {
        left.push(Span::styled(" ", theme.header));
        left.push(Span::styled(" READ-ONLY ", theme.read_only));
    }
    if state.dry_run {
        left.push(Span::styled(" ", theme.header));
        left.push(Span::styled(" DRY RUN ", theme.read_only));
    }
    left.push(Span::styled(
        format!(
            " {} · {} ",
            env.account().unwrap_or("account ?"),
            env.region.as_deref().unwrap_or("region ?")
        ),
        theme.header,
    ));
    if env.source == crate::config::Source::Sim {
        left.push(Span::styled(" simulated ", theme.dim));
    }
    let errors = env.errors();
    let right = if let Some(t) = env.oldest_loaded_at() {
        let age = format_age(state.now - t);
        if errors.is_empty() {
            Span::styled(format!(" updated {age} ago "), theme.header)
        } else {
            Span::styled(format!(" stale data · {age} "), theme.stale)
        }
    } else if errors.is_empty() {
        Span::styled(" loading… ", theme.header)
    } else {
        Span::styled(" no data ", theme.error)
    };
    let right_w = right.width() as u16;
    let [l, r] = Layout::horizontal([Constraint::Min(1), Constraint::Length(right_w)]).areas(top);
    frame.render_widget(Paragraph::new(Line::from(left)).style(theme.header), l);
    frame.render_widget(Paragraph::new(Line::from(right)).style(theme.header), r);

    // Line 2: the first error if any, else where we are and the other
    // environments.
    if let Some((resource, err)) = errors.first() {
        let more = if errors.len() > 1 {
            format!(" (+{} more)", errors.len() - 1)
        } else {
            String::new()
        };
        let line = Line::from(vec![
            Span::styled(" ⚠ ", theme.error),
            Span::styled(format!("{}: {err}{more}", resource.label()), theme.error),
        ]);
        frame.render_widget(Paragraph::new(line), bottom);
        return;
    }
    let crumbs: Vec<String> = state.views.iter().map(|v| v.title()).collect();
    let mut spans = vec![Span::styled(format!(" {}", crumbs.join(" › ")), theme.dim)];
    // Who we are talking to AWS as (STS caller identity), shortened.
    let who = env.identity.data.as_ref().map(|i| {
        let arn = i.arn.as_str();
        arn.split_once(':')
            .and_then(|_| arn.rsplit(':').next())
            .unwrap_or(arn)
            .to_string()
    });
    if state.envs.len() > 1 {
        let mut envs = vec![Span::styled("   envs: ", theme.dim)];
        for (i, e) in state.envs.iter().enumerate() {
            let style = if i == state.active {
                theme.title
            } else {
                theme.dim
            };
            envs.push(Span::styled(e.name.clone(), style));
            envs.push(Span::raw(" "));
        }
        spans.extend(envs);
    }
    let who = who.map(|w| Span::styled(format!(" as {w} "), theme.dim));
    match who {
        Some(who)
            if bottom.width as usize > Line::from(spans.clone()).width() + who.width() + 2 =>
        {
            let w = who.width() as u16;
            let [l, r] =
                Layout::horizontal([Constraint::Min(1), Constraint::Length(w)]).areas(bottom);
            frame.render_widget(Paragraph::new(Line::from(spans)), l);
            frame.render_widget(Paragraph::new(Line::from(who)), r);
        }
        _ => frame.render_widget(Paragraph::new(Line::from(spans)), bottom),
    }
}
