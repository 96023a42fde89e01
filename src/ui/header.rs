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
    // Narrow: the age without the word, so that the account keeps a little.
    let updated = if area.width < 100 { "" } else { "updated " };
    let age = if let Some(t) = env.oldest_loaded_at() {
        let age = format_age(state.now - t);
        if errors.is_empty() {
            Span::styled(format!(" {updated}{age} ago "), theme.header)
        } else {
            Span::styled(format!(" stale data · {age} "), theme.stale)
        }
    } else if errors.is_empty() {
        Span::styled(" loading… ", theme.header)
    } else {
        Span::styled(" no data ", theme.error)
    };
    // The alarms of this environment and of the fleet, in every view.
    let mut right = alarm_badge(state, theme);
    right.push(age);
    let right = Line::from(right);
    let right_w = right.width() as u16;
    let [l, r] = Layout::horizontal([Constraint::Min(1), Constraint::Length(right_w)]).areas(top);
    frame.render_widget(Paragraph::new(Line::from(left)).style(theme.header), l);
    frame.render_widget(Paragraph::new(right).style(theme.header), r);

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

/// ` ALARM 2 (1 new) · fleet 3 ` — alarms in ALARM (muted ones too) in the
/// environment on screen and in all environments, and how many of them
/// fired since the operator last looked. Red while anything in the fleet
/// is in ALARM.
pub fn alarm_badge<'a>(state: &State, theme: &Theme) -> Vec<Span<'a>> {
    let count = |e: &crate::state::EnvState| {
        let s = e.summary(state.now);
        (s.alarms_firing, s.alarms_new, e.alarms.data.is_some())
    };
    let new = |n: usize| {
        if n > 0 {
            format!(" ({n} new)")
        } else {
            String::new()
        }
    };
    let Some((firing, fresh, loaded)) = state.env().map(count) else {
        return Vec::new();
    };
    let (fleet, fleet_new) = state
        .envs
        .iter()
        .map(count)
        .fold((0, 0), |(f, n), (a, b, _)| (f + a, n + b));
    let mut text = if loaded {
        format!(" ALARM {firing}{}", new(fresh))
    } else {
        " ALARM …".to_string()
    };
    if state.envs.len() > 1 {
        text.push_str(&format!(" · fleet {fleet}{}", new(fleet_new)));
    }
    text.push(' ');
    let style = if fleet > 0 {
        theme.production
    } else {
        theme.header
    };
    vec![Span::raw(" "), Span::styled(text, style)]
}
