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

    // Line 1: name, markers, account/region — and the data age on the
    // right. The markers come first: on a narrow terminal the account and
    // region give way, never PRODUCTION, READ-ONLY or DRY RUN.
    let mut left = vec![Span::styled(" honban ", theme.header)];
    // --- drills: a practice, said first, with the time left.
    if let Some(d) = &state.drill {
        let left_s = d.remaining(state.now);
        left.push(Span::styled(
            format!(" DRILL {}:{:02} left ", left_s / 60, left_s % 60),
            theme.read_only,
        ));
        left.push(Span::styled(" ", theme.header));
    }
    left.push(Span::styled(format!(" {} ", env.name), theme.title));
    // A replay says so first, with the recorded time (not the current one).
    if let Some(replay) = &state.replay {
        // Narrow: short enough for PRODUCTION to stay whole at 80 columns.
        let wide = area.width >= 100;
        let play = match (replay.paused, wide) {
            (true, true) => "paused".to_string(),
            (true, false) => "‖".to_string(),
            (false, true) => format!("▶ {}×", replay.speed),
            (false, false) => format!("{}×", replay.speed),
        };
        let utc = if wide { " UTC" } else { "" };
        left.push(Span::styled(
            format!(" REPLAY {}{utc} {play} ", state.now.format("%H:%M:%S")),
            theme.production,
        ));
    }
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
    // Where it is: the account and region whole, or the region alone, or
    // neither — never a number or a region cut in the middle
    // (`ap-northeast-` could be any of three). "simulated" goes before
    // both: nothing simulated may pass for the real thing.
    let room = usize::from(area.width.saturating_sub(right_w));
    let used: usize = left.iter().map(Span::width).sum();
    let region = env.region.as_deref().unwrap_or("region ?");
    let simulated = if env.source != crate::config::Source::Sim {
        ""
    } else if used + " simulated ".len() <= room {
        " simulated "
    } else {
        " sim "
    };
    let whole = format!(" {} · {region} ", env.account().unwrap_or("account ?"));
    let short = format!(" {region} ");
    let fits = |where_: &str| used + where_.chars().count() + simulated.chars().count() <= room;
    if fits(&whole) {
        left.push(Span::styled(whole, theme.header));
    } else if fits(&short) {
        left.push(Span::styled(short, theme.header));
    }
    if !simulated.is_empty() {
        left.push(Span::styled(simulated, theme.dim));
    }
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
    let crumbs: Vec<String> = state.views.iter().map(crate::state::View::title).collect();
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
    // The time now in the zone every time on screen is in (config
    // `timezone`), then who we are, where there is room.
    let clock = Span::styled(
        format!(
            " {} {} ",
            super::widgets::in_zone(state.timezone, state.now, "%H:%M"),
            super::widgets::zone_label(state.timezone, state.now)
        ),
        theme.header,
    );
    let left_w = Line::from(spans.clone()).width();
    let mut right = Vec::new();
    if let Some(w) = who {
        // Where the whole identity does not fit, the role alone
        // (`assumed-role/Developer/session` → `Developer`).
        let role = w
            .strip_prefix("assumed-role/")
            .and_then(|r| r.split('/').next());
        let room = usize::from(bottom.width).saturating_sub(left_w + clock.width() + 2);
        let full = Span::styled(format!(" as {w} "), theme.dim);
        if full.width() < room {
            right.push(full);
        } else if let Some(role) = role {
            let short = Span::styled(format!(" as {role} "), theme.dim);
            if short.width() < room {
                right.push(short);
            }
        }
    }
    if usize::from(bottom.width) > left_w + clock.width() + 1 {
        right.push(clock);
    }
    let right = Line::from(right);
    let w = u16::try_from(right.width()).unwrap_or(0);
    let [l, r] = Layout::horizontal([Constraint::Min(1), Constraint::Length(w)]).areas(bottom);
    frame.render_widget(Paragraph::new(Line::from(spans)), l);
    frame.render_widget(Paragraph::new(right), r);
}

/// ` ALARM 2 (1 new) · fleet 3 ` — alarms in ALARM (muted ones too) in the
/// environment on screen and in all environments, and how many of them
/// fired since the operator last looked. Red while anything in the fleet
/// is in ALARM.
pub fn alarm_badge<'a>(state: &State, theme: &Theme) -> Vec<Span<'a>> {
    // Counted here, not with `summary` (which weighs every service's
    // health too): the header is drawn with every frame.
    let count = |e: &crate::state::EnvState| {
        let firing = e
            .alarms
            .data
            .iter()
            .flatten()
            .filter(|a| a.state == crate::domain::AlarmState::Alarm)
            .count();
        (firing, e.alarm_watch.unseen.len(), e.alarms.data.is_some())
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
    // Nothing in ALARM anywhere: one short word says so for the fleet.
    if state.envs.len() > 1 && fleet > 0 {
        // What is new elsewhere; no repeat when it is all here.
        let elsewhere = if fleet_new == fresh { 0 } else { fleet_new };
        text.push_str(&format!(" · fleet {fleet}{}", new(elsewhere)));
    }
    text.push(' ');
    let style = if fleet > 0 {
        theme.production
    } else {
        theme.header
    };
    vec![Span::raw(" "), Span::styled(text, style)]
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::config::keys::Keymap;
    use crate::config::{EnvironmentConfig, RefreshIntervals, Source};
    use crate::domain::{Alarm, AlarmState, Timestamp};
    use crate::state::{EnvState, View};

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("valid time")
    }

    fn alarm(name: &str, state: AlarmState, muted: bool) -> Alarm {
        Alarm {
            name: name.into(),
            arn: format!("arn:aws:cloudwatch:ap-northeast-1:1:alarm:{name}"),
            description: None,
            state,
            state_reason:
                "Threshold Crossed: 1 datapoint [97.2] was greater than the threshold (80.0)."
                    .into(),
            state_updated_at: t0(),
            actions_enabled: !muted,
            composite: false,
            metric: None,
            comparison: None,
            threshold: None,
            period_seconds: None,
            evaluation_periods: None,
        }
    }

    /// Production and staging; production has `web-cpu` in ALARM (muted)
    /// since before the start, then `web-5xx` fires; staging's `stg-cpu`
    /// fires too.
    fn state() -> State {
        let env = |name: &str| {
            let cfg = EnvironmentConfig {
                name: name.into(),
                source: Source::Sim,
                region: Some("ap-northeast-1".into()),
                protected: name == "production",
                ..Default::default()
            };
            EnvState::from_config(&cfg, &RefreshIntervals::default(), false)
        };
        let mut s = State::new(
            vec![env("production"), env("staging")],
            0,
            Keymap::defaults(),
            t0(),
        );
        let mut load = |env: usize, alarms: Vec<Alarm>| {
            let e = &mut s.envs[env];
            e.alarm_watch.observe(&alarms, t0());
            e.alarms.data = Some(alarms);
            e.alarms.loaded_at = Some(t0());
        };
        load(
            0,
            vec![
                alarm("web-cpu", AlarmState::Alarm, true),
                alarm("web-5xx", AlarmState::Ok, false),
            ],
        );
        load(1, vec![alarm("stg-cpu", AlarmState::Ok, false)]);
        load(
            0,
            vec![
                alarm("web-cpu", AlarmState::Alarm, true),
                alarm("web-5xx", AlarmState::Alarm, false),
            ],
        );
        load(1, vec![alarm("stg-cpu", AlarmState::Alarm, false)]);
        s
    }

    fn render(state: &State, w: u16, h: u16, full: bool) -> String {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        let theme = Theme::builtin("default").expect("theme");
        terminal
            .draw(|f| {
                if full {
                    crate::ui::draw(f, state, &theme);
                } else {
                    draw(f, f.area(), state, &theme);
                }
            })
            .expect("draw");
        let buf = terminal.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..h {
            let line: String = (0..w).map(|x| buf[(x, y)].symbol()).collect();
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    #[test]
    fn the_badge_counts_the_environment_and_the_fleet_with_what_is_new() {
        let s = state();
        insta::assert_snapshot!("alarm_badge_80", render(&s, 80, 2, false));
        insta::assert_snapshot!("alarm_badge_120", render(&s, 120, 2, false));
        let text = render(&s, 120, 2, false);
        assert!(text.contains("ALARM 2 (1 new) · fleet 3 (2 new)"), "{text}");
    }

    #[test]
    fn the_badge_is_in_every_view_and_no_panel_calls_a_muted_alarm_ok() {
        let mut s = state();
        for view in [View::Overview, View::Fleet, View::Services, View::Databases] {
            s.views = vec![View::Overview, view.clone()];
            let screen = render(&s, 100, 30, true);
            assert!(screen.contains("ALARM 2 (1 new)"), "{view:?}:\n{screen}");
            assert!(!screen.contains("every alarm is OK"), "{view:?}:\n{screen}");
        }
        s.views = vec![View::Overview];
        let overview = render(&s, 100, 30, true);
        assert!(
            overview.contains("alarms 2 ALARM (1 MUTED) of 2"),
            "{overview}"
        );
        assert!(overview.contains("web-cpu MUTED"), "{overview}");
        assert!(overview.contains("NEW web-5xx"), "{overview}");
        s.views = vec![View::Overview, View::Fleet];
        let fleet = render(&s, 100, 30, true);
        assert!(fleet.contains("2 ALARM"), "{fleet}");
        // Staging's alarms view: its alarm listed, counted, no longer new
        // once seen (the reducer clears it when the view opens).
        s.active = 1;
        s.envs[1].alarm_watch.unseen.clear();
        s.views = vec![View::Overview, View::Alarms];
        let alarms = render(&s, 100, 30, true);
        assert!(alarms.contains("1 in ALARM"), "{alarms}");
        assert!(alarms.contains("ALARM 1 · fleet 3 (1 new)"), "{alarms}");
    }
}
