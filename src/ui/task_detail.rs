//! One task: why it stopped (the stop code and the whole reason, wrapped),
//! each container (status, exit code, reason, health, image and digest),
//! its times, network and size, and the keys to its logs.
//!
//! What an operator looks for after a failed deploy comes first, so that a
//! small terminal still shows it; the rest follows and is cut at the bottom.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::action::Resource;
use crate::config::keys::Command;
use crate::config::theme::Theme;
use crate::domain::{Task, Timestamp, task_definition_label};
use crate::state::State;

use super::widgets::{age_since, missing_detail, panel};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, arn: &str) {
    let Some(env) = state.env() else {
        return;
    };
    let meta = env.panel_meta(Resource::Tasks);
    let id = crate::domain::short_id(arn);
    let Some(task) = state.task(arn) else {
        let listed = env.tasks.data.is_some();
        missing_detail(frame, area, ("task", id), listed, meta, state.now, theme);
        return;
    };
    let title = match task.service_name() {
        Some(service) => format!("Task {id} ({service})"),
        None => format!("Task {id}"),
    };
    let block = panel(&title, Some(meta), state.now, theme, true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    frame.render_widget(Paragraph::new(lines(task, state, theme, width)), inner);
}

/// Width of the label column.
const LABEL: usize = 10;

/// A field: its label, then its value wrapped at word boundaries (a word
/// longer than the line is cut) with the continuation under the value.
fn field<'a>(out: &mut Vec<Line<'a>>, label: Span<'a>, value: Vec<Span<'a>>, width: usize) {
    let room = width.saturating_sub(LABEL).max(10);
    // Pieces: words with their trailing spaces, each in its span's style.
    let mut pieces: Vec<(String, ratatui::style::Style)> = Vec::new();
    for span in value {
        let mut word = String::new();
        let mut in_space = false;
        for c in span.content.chars() {
            if c != ' ' && in_space {
                pieces.push((std::mem::take(&mut word), span.style));
            }
            in_space = c == ' ';
            word.push(c);
        }
        if !word.is_empty() {
            pieces.push((word, span.style));
        }
    }
    let mut line: Vec<Span<'a>> = vec![label];
    let mut used = 0;
    let mut first = true;
    let mut flush = |line: &mut Vec<Span<'a>>, first: &mut bool| {
        let taken = std::mem::replace(line, vec![Span::raw(" ".repeat(LABEL))]);
        out.push(Line::from(taken));
        *first = false;
    };
    for (mut piece, style) in pieces {
        let len = piece.trim_end().chars().count();
        if used > 0 && used + len > room {
            flush(&mut line, &mut first);
            used = 0;
        }
        // A word longer than a whole line: cut it.
        while piece.chars().count() > room {
            let head: String = piece.chars().take(room).collect();
            piece = piece.chars().skip(room).collect();
            line.push(Span::styled(head, style));
            flush(&mut line, &mut first);
        }
        used += piece.chars().count();
        line.push(Span::styled(piece, style));
    }
    if line.len() > 1 || first {
        out.push(Line::from(line));
    }
}

/// The detail, most important first.
fn lines<'a>(t: &Task, state: &State, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let key = |c: Command| state.key_for(c).unwrap_or_else(|| "-".to_string());
    let label = |s: &str| Span::styled(format!("{s:<LABEL$}"), theme.dim);
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
    let stopped = t.last_status == "STOPPED";
    let status = if t.last_status == t.desired_status {
        t.last_status.clone()
    } else {
        format!("{} → {}", t.last_status, t.desired_status)
    };
    let mut out = Vec::new();
    let mut head = vec![Span::styled(status, theme.health(t.health()))];
    if !stopped {
        head.push(Span::styled(
            format!("  health {}", t.health_status),
            theme.health(t.health()),
        ));
    }
    head.push(Span::raw(format!(
        "  revision {}",
        task_definition_label(&t.task_definition)
    )));
    head.push(Span::styled(
        format!("  {} logs", key(Command::Logs)),
        theme.key,
    ));
    field(&mut out, label("status"), head, width);

    // Why it stopped: the code and the whole reason.
    if t.stop_code.is_some() || t.stopped_reason.is_some() {
        field(
            &mut out,
            label("stop code"),
            vec![Span::styled(dash(&t.stop_code), theme.warning)],
            width,
        );
        field(
            &mut out,
            label("reason"),
            vec![Span::raw(dash(&t.stopped_reason))],
            width,
        );
    }

    // Each container.
    for c in &t.containers {
        let mut head = vec![
            Span::styled(c.name.clone(), theme.title),
            Span::raw(format!("  {}", c.last_status)),
        ];
        if let Some(code) = c.exit_code {
            let style = if code == 0 { theme.ok } else { theme.critical };
            head.push(Span::styled(format!("  exit {code}"), style));
        }
        if let Some(h) = c.health_status.as_deref().filter(|_| !stopped) {
            head.push(Span::styled(format!("  health {h}"), theme.dim));
        }
        // ECS Exec's agent: whether a shell can be opened here.
        if let Some(agent) = c.exec_agent.as_deref().filter(|_| !stopped) {
            let style = if agent == "RUNNING" {
                theme.ok
            } else {
                theme.dim
            };
            head.push(Span::styled(format!("  exec agent {agent}"), style));
        }
        field(&mut out, label("container"), head, width);
        if let Some(reason) = &c.reason {
            field(
                &mut out,
                label("  reason"),
                vec![Span::raw(reason.clone())],
                width,
            );
        }
        field(
            &mut out,
            label("  image"),
            vec![Span::raw(c.image.clone())],
            width,
        );
        if let Some(digest) = &c.image_digest {
            field(
                &mut out,
                label("  digest"),
                vec![Span::styled(digest.clone(), theme.dim)],
                width,
            );
        }
    }

    // ECS Exec: whether a shell can be opened here, else why and what to do
    // (wrapped: the message line has room for the first words only).
    let simulated = state
        .env()
        .is_none_or(|e| e.source == crate::config::Source::Sim);
    if !simulated && !stopped {
        let (text, style) = match crate::exec::readiness(t) {
            Ok(ready) => {
                let names: Vec<&str> = ready.iter().map(|(n, _)| n.as_str()).collect();
                (
                    format!(
                        "ready — {} opens a shell in {}",
                        key(Command::Exec),
                        names.join(", ")
                    ),
                    theme.ok,
                )
            }
            Err(u) => (u.detail, theme.dim),
        };
        field(
            &mut out,
            label("exec"),
            vec![Span::styled(text, style)],
            width,
        );
    }

    // When (in the configured zone; with the date once over a day old).
    let time = |name: &str, at: Option<Timestamp>| -> Vec<Span<'a>> {
        let Some(at) = at else {
            return Vec::new();
        };
        vec![
            Span::styled(format!("{name} "), theme.dim),
            Span::raw(super::widgets::clock(state, at)),
            Span::styled(
                format!(" ({} ago)  ", age_since(state.now, Some(at))),
                theme.dim,
            ),
        ]
    };
    let mut started = time("created", t.created_at);
    started.extend(time("started", t.started_at));
    if !started.is_empty() {
        let zone = super::widgets::zone_label(state.timezone, state.now);
        field(&mut out, label(&zone), started, width);
    }
    let mut ended = time("stopping", t.stopping_at);
    ended.extend(time("stopped", t.stopped_at));
    if !ended.is_empty() {
        field(&mut out, label(""), ended, width);
    }

    // Where and how big.
    let mut network = Vec::new();
    for (name, value) in [
        ("ip", &t.private_ip),
        ("eni", &t.eni),
        ("az", &t.availability_zone),
    ] {
        if let Some(v) = value {
            network.push(Span::styled(format!("{name} "), theme.dim));
            network.push(Span::raw(format!("{v}  ")));
        }
    }
    if !network.is_empty() {
        field(&mut out, label("network"), network, width);
    }
    let mut launch = vec![Span::raw(dash(&t.launch_type))];
    if let Some(p) = &t.platform_version {
        launch.push(Span::styled("  platform ", theme.dim));
        launch.push(Span::raw(p.clone()));
    }
    launch.push(Span::styled("  cpu ", theme.dim));
    launch.push(Span::raw(dash(&t.cpu)));
    launch.push(Span::styled("  memory ", theme.dim));
    launch.push(Span::raw(dash(&t.memory)));
    field(&mut out, label("launch"), launch, width);
    field(
        &mut out,
        label("arn"),
        vec![Span::styled(t.arn.clone(), theme.dim)],
        width,
    );
    out
}
