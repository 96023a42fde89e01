//! The dialogs of an operation, drawn over the view: a value to type, a
//! container to pick, a revision to roll back to, and the confirmation that
//! shows where (environment, account, region, caller), what (resource,
//! before → after) and exactly which API calls will be sent.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::config::theme::Theme;
use crate::domain::task_definition_label;
use crate::images::{ImageCheck, ImageLookup};
use crate::ops::Operation;
use crate::state::{Dialog, EnvState, InputPurpose, RestorePick, State, previous_revision_index};

use super::widgets::age_since;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, dialog: &Dialog) {
    let width = area.width.saturating_sub(4).min(100);
    let inner_w = usize::from(width.saturating_sub(4)).max(10);
    let room = usize::from(area.height.saturating_sub(2));
    let (title, danger, lines) = match dialog {
        Dialog::Input {
            env,
            purpose,
            input,
            error,
        } => input_lines(
            state,
            theme,
            *env,
            purpose,
            input,
            error.as_deref(),
            inner_w,
        ),
        Dialog::PickContainer {
            service,
            containers,
            index,
            ..
        } => {
            let mut lines = vec![Line::styled(
                "Which container gets the new image?",
                theme.base,
            )];
            for (i, (name, image)) in containers.iter().enumerate() {
                let style = if i == *index {
                    theme.selected
                } else {
                    theme.base
                };
                // The end of an image (its tag) is what tells them apart.
                lines.push(Line::styled(
                    format!(
                        " {name:<16} {}",
                        clip_start(image, inner_w.saturating_sub(18))
                    ),
                    style,
                ));
            }
            lines.push(Line::default());
            lines.push(hint_line(theme, "↑/↓ choose · enter next · esc cancel"));
            (format!("Deploy a new image to {service}"), false, lines)
        }
        Dialog::ExecContainer {
            task,
            containers,
            index,
            ..
        } => {
            let mut lines = vec![Line::styled(
                "Which container gets the shell? (those whose exec agent runs)",
                theme.base,
            )];
            for (i, (name, image)) in containers.iter().enumerate() {
                let style = if i == *index {
                    theme.selected
                } else {
                    theme.base
                };
                lines.push(Line::styled(
                    format!(
                        " {name:<16} {}",
                        clip_start(image, inner_w.saturating_sub(18))
                    ),
                    style,
                ));
            }
            lines.push(Line::default());
            lines.push(hint_line(theme, "↑/↓ choose · enter next · esc cancel"));
            (
                format!("Exec into task {}", crate::ops::task_label(task)),
                false,
                lines,
            )
        }
        Dialog::Rollback {
            env,
            service,
            family,
            index,
            typed,
            error,
        } => rollback_lines(
            state,
            theme,
            *env,
            service,
            family,
            *index,
            (typed, error.as_deref()),
            inner_w,
        ),
        Dialog::Restore {
            env,
            instance,
            from,
            target,
            error,
        } => restore_lines(
            state,
            theme,
            *env,
            instance,
            from,
            (target, error.as_deref()),
            inner_w,
        ),
        Dialog::Confirm {
            env,
            op,
            typed,
            error,
        } => (
            op.title(),
            op.is_dangerous() || deploys_missing_image(state, *env, op),
            confirm_lines(
                state,
                theme,
                *env,
                op,
                (typed, error.as_deref()),
                (inner_w, room),
            ),
        ),
    };
    // On a short terminal the last lines (the prompt: those after the
    // blank line before it, else the last two) must stay: lines just above
    // them (call details) give way, marked with an ellipsis.
    let mut lines = lines;
    let keep = lines
        .iter()
        .rposition(|l| l.width() == 0)
        .map(|i| lines.len() - i - 1)
        .filter(|k| (1..=4).contains(k))
        .unwrap_or(2);
    if lines.len() > room && room >= keep + 2 {
        while lines.len() > room {
            let at = lines.len().saturating_sub(keep + 1);
            lines.remove(at);
        }
        let at = lines.len().saturating_sub(keep + 1);
        lines[at] = Line::styled("  …", theme.dim);
    }
    let height = (lines.len() as u16 + 2).min(area.height);
    let [_, mid, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(width),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, popup, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(height),
        Constraint::Fill(1),
    ])
    .areas(mid);
    frame.render_widget(Clear, popup);
    let border = if danger {
        theme.danger
    } else {
        theme.border_focused
    };
    let block = Block::bordered()
        .border_style(border)
        .title(Line::styled(
            format!(" {title} "),
            if danger { theme.danger } else { theme.title },
        ))
        .padding(ratatui::widgets::Padding::horizontal(1))
        .style(theme.popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

/// Environment, account / region and caller: where this will happen.
fn where_lines<'a>(env: &EnvState, state: &State, theme: &Theme, w: usize) -> Vec<Line<'a>> {
    let mut first = vec![
        label("environment", theme),
        Span::styled(env.name.clone(), theme.title),
    ];
    if env.protected {
        first.push(Span::raw(" "));
        first.push(Span::styled(" PRODUCTION ", theme.production));
    }
    if state.dry_run {
        first.push(Span::raw(" "));
        first.push(Span::styled(" DRY RUN ", theme.warning));
    }
    let mut lines = vec![Line::from(first)];
    lines.push(Line::from(vec![
        label("account", theme),
        Span::raw(format!(
            "{} · {}",
            env.account().unwrap_or("? (identity not loaded)"),
            env.region.as_deref().unwrap_or("region ?")
        )),
    ]));
    if let Some(id) = &env.identity.data {
        lines.push(Line::from(vec![
            label("caller", theme),
            Span::styled(clip(&id.arn, w.saturating_sub(13)), theme.dim),
        ]));
    }
    lines
}

fn label<'a>(text: &str, theme: &Theme) -> Span<'a> {
    Span::styled(format!("{text:<12} "), theme.dim)
}

fn hint_line<'a>(theme: &Theme, text: &str) -> Line<'a> {
    Line::styled(text.to_string(), theme.dim)
}

/// The API calls, wrapped to the width.
fn calls_lines<'a>(op: &Operation, theme: &Theme, w: usize) -> Vec<Line<'a>> {
    let mut lines = vec![Line::styled("sends", theme.dim)];
    for call in op.calls() {
        for (i, part) in wrap(&call, w.saturating_sub(4)).into_iter().enumerate() {
            let indent = if i == 0 { "  " } else { "    " };
            lines.push(Line::styled(format!("{indent}{part}"), theme.key));
        }
    }
    lines
}

/// What has been typed in a confirmation, and why its last key did not
/// send.
type Typed<'t> = (&'t str, Option<&'t str>);

fn confirm_lines<'a>(
    state: &State,
    theme: &Theme,
    env: usize,
    op: &Operation,
    typed: Typed<'_>,
    (w, room): (usize, usize),
) -> Vec<Line<'a>> {
    let Some(e) = state.envs.get(env) else {
        return vec![Line::styled("the environment is gone", theme.error)];
    };
    let mut lines = where_lines(e, state, theme, w);
    lines.push(Line::from(vec![
        label(op.resource_kind(), theme),
        Span::styled(op.resource().to_string(), theme.title),
    ]));
    if let Operation::DeployImage { container, .. } = op {
        lines.push(Line::from(vec![
            label("container", theme),
            Span::raw(container.clone()),
        ]));
    }
    let (before, after) = op.before_after();
    // Cut at the start: the end of an image (its tag) is what differs.
    let before = Line::from(vec![
        label("before", theme),
        Span::raw(clip_start(&before, w.saturating_sub(13))),
    ]);
    let tail = |lines: &mut Vec<Line<'a>>| {
        lines.extend(calls_lines(op, theme, w));
        lines.push(Line::default());
        lines.extend(prompt_lines(
            theme,
            e,
            (state.dry_run, state.prompt_back, state.confirm_shown),
            op.confirmed_name(),
            typed,
            w,
        ));
    };
    if let Operation::RestoreSnapshot { settings, .. } | Operation::RestoreTime { settings, .. } =
        op
    {
        // A restore's exact call carries every value and always shows;
        // what it starts from, the notes and the settings in words come
        // (in that order) where there is room for them.
        let notes: Vec<Line<'a>> = op
            .notes()
            .iter()
            .flat_map(|note| wrap(&format!("! {note}"), w))
            .map(|part| Line::styled(part, theme.warning))
            .collect();
        let settings: Vec<Line<'a>> = crate::ops::settings_preview(settings)
            .into_iter()
            .map(|(name, text)| {
                Line::from(vec![
                    label(name, theme),
                    Span::raw(clip(&text, w.saturating_sub(13))),
                ])
            })
            .collect();
        let mut rest = Vec::new();
        tail(&mut rest);
        let mut used = lines.len() + rest.len();
        let mut fits = |n: usize| {
            let ok = used + n <= room;
            if ok {
                used += n;
            }
            ok
        };
        let (with_before, with_notes) = (fits(1), fits(notes.len()));
        let with_settings = fits(settings.len());
        if with_before {
            lines.push(before);
        }
        if with_settings {
            lines.extend(settings);
        }
        if with_notes {
            lines.extend(notes);
        }
        lines.extend(rest);
        return lines;
    }
    let after = Line::from(vec![
        label("after", theme),
        Span::styled(
            clip_start(&after, w.saturating_sub(13)),
            if op.is_dangerous() {
                theme.danger
            } else {
                theme.ok
            },
        ),
    ]);
    // What always shows: where it happens, the resource, what it becomes,
    // an outage, every call in full and the prompt. What gives way on a
    // short terminal, in this order: the image check's details (unless
    // the image is missing), the caller, the state before, the notes, the
    // account — so that an operator never confirms calls they cannot see.
    let image: Vec<Line<'a>> = match op {
        Operation::DeployImage { to, .. } => image_check_lines(state, theme, env, to, w),
        _ => Vec::new(),
    };
    let image_optional = !deploys_missing_image(state, env, op);
    let outage: Vec<Line<'a>> = op
        .outage()
        .iter()
        .flat_map(|outage| wrap(&format!("!! {outage}"), w))
        .map(|part| Line::styled(part, theme.danger))
        .collect();
    let notes: Vec<Line<'a>> = op
        .notes()
        .iter()
        .flat_map(|note| wrap(&format!("! {note}"), w))
        .map(|part| Line::styled(part, theme.warning))
        .collect();
    let mut rest = Vec::new();
    tail(&mut rest);
    let caller = e.identity.data.is_some();
    let total = lines.len() + 2 + image.len() + outage.len() + notes.len() + rest.len();
    let mut over = total.saturating_sub(room);
    let mut drop = |n: usize| {
        let gone = over > 0 && n > 0;
        over = over.saturating_sub(n);
        gone
    };
    let drop_image = image_optional && drop(image.len());
    let drop_caller = caller && drop(1);
    let drop_before = drop(1);
    let drop_notes = drop(notes.len());
    // The environment's name says where; its account and region last.
    let drop_account = drop(1);
    if drop_caller {
        // where_lines: environment, account, caller.
        lines.remove(2);
    }
    if drop_account {
        lines.remove(1);
    }
    if !drop_before {
        lines.push(before);
    }
    lines.push(after);
    if !drop_image {
        lines.extend(image);
    }
    lines.extend(outage);
    if !drop_notes {
        lines.extend(notes);
    }
    lines.extend(rest);
    lines
}

/// A deploy of an image its registry says does not exist.
fn deploys_missing_image(state: &State, env: usize, op: &Operation) -> bool {
    match op {
        Operation::DeployImage { to, .. } => state
            .image_checks
            .get(&(env, to.clone()))
            .is_some_and(ImageCheck::is_missing),
        _ => false,
    }
}

/// What the image's registry says about the image a deploy would run:
/// exists (digest, push time), does not exist (a warning: the operator may
/// still send it), could not be checked, or cannot be (not ECR).
fn image_check_lines<'a>(
    state: &State,
    theme: &Theme,
    env: usize,
    image: &str,
    w: usize,
) -> Vec<Line<'a>> {
    let check = state.image_checks.get(&(env, image.to_string()));
    // (label, text, style) of each field.
    let mut fields: Vec<(&str, String, Style)> = Vec::new();
    let mut warning = None;
    match check {
        None | Some(ImageCheck::Checking) => fields.push((
            "image",
            "checking in ECR (ecr:DescribeImages)…".to_string(),
            theme.dim,
        )),
        Some(ImageCheck::NotEcr) => fields.push((
            "image",
            "cannot check: not in an Amazon ECR registry (only ECR images are checked)".to_string(),
            theme.dim,
        )),
        Some(ImageCheck::Failed(e)) => fields.push((
            "image",
            format!("could not check: {e} — whether it exists is not known"),
            theme.warning,
        )),
        Some(ImageCheck::Done(ImageLookup::Found(d))) => {
            let pushed = d.pushed_at.map_or_else(
                || "push time unknown".to_string(),
                |t| {
                    format!(
                        "pushed {} ({} ago)",
                        t.format("%Y-%m-%d %H:%M UTC"),
                        age_since(state.now, Some(t))
                    )
                },
            );
            fields.push(("image", format!("exists in ECR · {pushed}"), theme.ok));
            fields.push(("digest", d.digest.clone(), theme.dim));
        }
        Some(ImageCheck::Done(ImageLookup::Missing { what })) => {
            fields.push(("image", format!("NOT FOUND in ECR: {what}"), theme.danger));
            warning = Some(
                "!! its tasks would fail to pull it (CannotPullContainerError). You can still \
                 confirm (if you know it is being pushed now), or esc and check the tag",
            );
        }
    }
    let mut lines = Vec::new();
    for (name, text, style) in fields {
        for (i, part) in wrap(&text, w.saturating_sub(13)).into_iter().enumerate() {
            let head = if i == 0 {
                label(name, theme)
            } else {
                Span::raw(" ".repeat(13))
            };
            lines.push(Line::from(vec![head, Span::styled(part, style)]));
        }
    }
    if let Some(text) = warning {
        for part in wrap(text, w) {
            lines.push(Line::styled(part, theme.danger));
        }
    }
    lines
}

/// What a confirmation says in the moment before it accepts keys.
const NOT_ARMED: &str = "read it first: keys answer in a moment · esc cancel";

/// The confirmation's last lines: what confirms (`ENV/RESOURCE` typed in
/// a protected environment, else `y`), then why the last key did not send,
/// or the keys. Until the confirmation has been on screen long enough to
/// be read (`armed`), it says so instead of offering the keys.
fn prompt_lines<'a>(
    theme: &Theme,
    env: &EnvState,
    (dry_run, back, armed): (bool, usize, bool),
    resource: &str,
    (typed, error): Typed<'_>,
    w: usize,
) -> Vec<Line<'a>> {
    let verb = if dry_run { "record (dry run)" } else { "send" };
    let mut lines = Vec::new();
    let keys = if env.protected {
        let wanted = crate::ops::confirmation_text(&env.name, resource);
        let ask = format!("type {wanted} to confirm: ");
        let field = super::widgets::cursor_spans(
            typed,
            back,
            if typed == wanted {
                theme.ok
            } else {
                theme.command_line
            },
        );
        // The typed text must stay in view: on a line of its own when the
        // question and the answer would not fit on one.
        if ask.chars().count() + wanted.chars().count() < w {
            let mut spans = vec![Span::styled(ask, theme.warning)];
            spans.extend(field);
            lines.push(Line::from(spans));
        } else {
            lines.push(Line::styled(ask.trim_end().to_string(), theme.warning));
            let mut spans = vec![Span::styled("> ", theme.dim)];
            spans.extend(field);
            lines.push(Line::from(spans));
        }
        if armed {
            Some(format!("then enter {verb} · esc cancel"))
        } else {
            Some(NOT_ARMED.to_string())
        }
    } else if armed {
        lines.push(Line::from(vec![
            Span::styled(format!("y {verb}"), theme.key),
            Span::styled(" · n/esc cancel", theme.dim),
        ]));
        None
    } else {
        lines.push(Line::styled(NOT_ARMED, theme.dim));
        None
    };
    match (error, keys) {
        (Some(err), _) => {
            for part in wrap(err, w) {
                lines.push(Line::styled(part, theme.error));
            }
        }
        (None, Some(keys)) => lines.push(hint_line(theme, &keys)),
        (None, None) => {}
    }
    lines
}

/// The restore dialog: the source instance, the snapshot to start from
/// (or the point in time), the new identifier, and the keys.
fn restore_lines<'a>(
    state: &State,
    theme: &Theme,
    env: usize,
    instance: &str,
    from: &RestorePick,
    (target, error): (&str, Option<&str>),
    w: usize,
) -> (String, bool, Vec<Line<'a>>) {
    let title = format!("Restore {instance} to a new instance");
    let Some(e) = state.envs.get(env) else {
        return (title, false, Vec::new());
    };
    let mut lines = where_lines(e, state, theme, w);
    let db = e.databases.data.iter().flatten().find(|d| d.id == instance);
    lines.push(Line::from(vec![
        label("source", theme),
        Span::styled(instance.to_string(), theme.title),
        Span::styled(
            db.map(|d| format!("  {} · {}", d.class, d.status))
                .unwrap_or_default(),
            theme.dim,
        ),
    ]));
    let back = state.prompt_back;
    let field = |text: &str, focused: bool| -> Vec<Span<'a>> {
        if focused {
            // After a 13-column label; the cursor stays in view.
            let room = w.saturating_sub(14).max(1);
            let (shown, back) = super::widgets::input_window(text, back, room);
            super::widgets::cursor_spans(&shown, back, theme.command_line)
        } else {
            vec![Span::raw(text.to_string())]
        }
    };
    match from {
        RestorePick::Snapshot { id } => {
            let snaps = state.restorable_snapshots(instance);
            lines.push(Line::styled(
                "from the snapshot (UTC; ↑/↓ choose · tab: a point in time instead)",
                theme.dim,
            ));
            if snaps.is_empty() {
                lines.push(Line::styled(
                    if e.snapshots.data.is_some() {
                        "  no available snapshot of this instance"
                    } else {
                        "  loading the snapshots…"
                    },
                    theme.warning,
                ));
            }
            let chosen = id
                .as_ref()
                .and_then(|id| snaps.iter().position(|s| &s.id == id))
                .unwrap_or(0);
            let shown = 4usize;
            let start = chosen
                .saturating_sub(shown / 2)
                .min(snaps.len().saturating_sub(shown));
            for (i, snap) in snaps.iter().enumerate().skip(start).take(shown) {
                let mark = if i == chosen { ">" } else { " " };
                let when = snap
                    .created_at
                    .map_or_else(|| "-".to_string(), |t| t.format("%m-%d %H:%M").to_string());
                let age = format!("{} ago", age_since(state.now, snap.created_at));
                let head = format!("{mark} {when} {age:>8} {:<9} ", snap.snapshot_type);
                lines.push(Line::styled(
                    format!(
                        "{head}{}",
                        super::widgets::keep_end(&snap.id, w.saturating_sub(head.chars().count()))
                    ),
                    if i == chosen {
                        theme.selected
                    } else {
                        theme.base
                    },
                ));
            }
        }
        RestorePick::PointInTime { time, on_time } => {
            lines.push(Line::styled(
                "to a point in time (tab: from a snapshot instead)",
                theme.dim,
            ));
            let window = db.and_then(|d| {
                let latest = d.latest_restorable_time?;
                let earliest = crate::update::restorable_from(state, d, latest);
                Some(format!(
                    "restorable from {} to {}",
                    earliest.format("%Y-%m-%d %H:%M"),
                    latest.format("%Y-%m-%d %H:%M:%S UTC")
                ))
            });
            lines.push(Line::styled(
                clip(
                    &window.unwrap_or_else(|| "no restorable window reported".to_string()),
                    w,
                ),
                theme.dim,
            ));
            let mut spans = vec![label("time (UTC)", theme)];
            spans.extend(field(time, *on_time));
            if time.is_empty() && !*on_time {
                spans.push(Span::styled("latest restorable time", theme.dim));
            } else if time.is_empty() {
                spans.push(Span::styled(
                    " empty: the latest restorable time",
                    theme.dim,
                ));
            }
            lines.push(Line::from(spans));
        }
    }
    let on_target = !matches!(from, RestorePick::PointInTime { on_time: true, .. });
    let mut spans = vec![label("new id", theme)];
    spans.extend(field(target, on_target));
    lines.push(Line::from(spans));
    if let Some(err) = error {
        for part in wrap(err, w) {
            lines.push(Line::styled(part, theme.error));
        }
    } else {
        let keys = match from {
            RestorePick::Snapshot { .. } => {
                "type to edit the id · enter preview · tab point in time · esc cancel"
            }
            RestorePick::PointInTime { .. } => {
                "↑/↓ time or id · enter preview · tab snapshot · esc cancel"
            }
        };
        lines.push(hint_line(theme, keys));
    }
    (title, false, lines)
}

#[allow(clippy::too_many_arguments)]
fn rollback_lines<'a>(
    state: &State,
    theme: &Theme,
    env: usize,
    service: &str,
    family: &str,
    index: Option<usize>,
    typed: Typed<'_>,
    w: usize,
) -> (String, bool, Vec<Line<'a>>) {
    let title = format!("Roll back {service}");
    let Some(e) = state.envs.get(env) else {
        return (title, true, Vec::new());
    };
    let mut lines = where_lines(e, state, theme, w);
    let Some(current) = state.service(service).map(|s| s.task_definition.clone()) else {
        lines.push(Line::styled(
            format!("service {service} is no longer listed"),
            theme.error,
        ));
        return (title, true, lines);
    };
    let describe = |arn: &str| -> (String, String) {
        match e.task_definitions.get(arn) {
            Some(td) => (
                td.containers
                    .iter()
                    .map(|c| super::widgets::image_tag(&c.image).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                td.registered_at
                    .map(|t| format!("registered {} ago", age_since(state.now, Some(t))))
                    .unwrap_or_default(),
            ),
            None => ("…".to_string(), String::new()),
        }
    };
    let (img, when) = describe(&current);
    lines.push(Line::from(vec![
        label("now", theme),
        Span::styled(task_definition_label(&current).to_string(), theme.title),
        Span::raw(format!("  {img}  ")),
        Span::styled(when, theme.dim),
    ]));
    let panel = e.revisions.get(family);
    let candidates = state.rollback_candidates(env, family, &current);
    let Some(candidates) = candidates else {
        let text = match panel.and_then(|p| p.error()) {
            Some(err) => format!("cannot list the revisions of {family}: {err}"),
            None => format!("listing the revisions of {family}…"),
        };
        lines.push(Line::styled(text, theme.dim));
        lines.push(hint_line(theme, "esc cancel"));
        return (title, true, lines);
    };
    if candidates.is_empty() {
        lines.push(Line::styled(
            format!("{family} has no other active revision to roll back to"),
            theme.warning,
        ));
        lines.push(hint_line(theme, "esc cancel"));
        return (title, true, lines);
    }
    let chosen = index
        .or_else(|| previous_revision_index(&candidates, &current))
        .map(|i| i.min(candidates.len() - 1));
    lines.push(match chosen {
        Some(_) => Line::styled("roll back to (↑/↓ choose another revision)", theme.dim),
        None => Line::styled(
            "no older revision is listed: ↑/↓ choose one to go to",
            theme.warning,
        ),
    });
    let shown = 5usize;
    let start = chosen
        .unwrap_or(0)
        .saturating_sub(shown / 2)
        .min(candidates.len().saturating_sub(shown));
    for (i, arn) in candidates.iter().enumerate().skip(start).take(shown) {
        let (img, when) = describe(arn);
        let style: Style = if Some(i) == chosen {
            theme.selected
        } else {
            theme.base
        };
        let mark = if Some(i) == chosen { ">" } else { " " };
        let newer = match (
            crate::state::revision_number(arn),
            crate::state::revision_number(&current),
        ) {
            (Some(a), Some(c)) if a > c => " (newer)",
            _ => "",
        };
        lines.push(Line::styled(
            clip(
                &format!(
                    "{mark} {:<22} {img:<24} {when}{newer}",
                    task_definition_label(arn)
                ),
                w,
            ),
            style,
        ));
    }
    let Some(s) = state.service(service) else {
        return (title, true, lines);
    };
    if let Some(to) = chosen.and_then(|i| candidates.get(i)) {
        let op = Operation::Rollback {
            cluster: crate::domain::short_id(&s.cluster_arn).to_string(),
            service: service.to_string(),
            from: current.clone(),
            to: to.clone(),
        };
        lines.extend(calls_lines(&op, theme, w));
    }
    lines.extend(prompt_lines(
        theme,
        e,
        (state.dry_run, state.prompt_back, state.confirm_shown),
        service,
        typed,
        w,
    ));
    (title, true, lines)
}

#[allow(clippy::too_many_arguments)]
fn input_lines<'a>(
    state: &State,
    theme: &Theme,
    env: usize,
    purpose: &InputPurpose,
    input: &str,
    error: Option<&str>,
    w: usize,
) -> (String, bool, Vec<Line<'a>>) {
    let mut lines = match state.envs.get(env) {
        Some(e) => where_lines(e, state, theme, w),
        None => Vec::new(),
    };
    let e = state.envs.get(env);
    let (title, prompt) = match purpose {
        InputPurpose::Scale { service } => {
            if let Some(s) = state.service(service) {
                lines.push(Line::from(vec![
                    label("now", theme),
                    Span::raw(format!(
                        "desired {} · running {} · pending {}",
                        s.desired_count, s.running_count, s.pending_count
                    )),
                ]));
            }
            if let Some(t) = e.and_then(|e| e.scaling_for(service)) {
                for part in wrap(
                    &format!(
                        "! auto scaling ({}–{}) manages {service}: the scaler may override a new \
                         count. tab: change min/max instead",
                        t.min_capacity, t.max_capacity
                    ),
                    w,
                ) {
                    lines.push(Line::styled(part, theme.warning));
                }
            }
            (format!("Scale service {service}"), "new desired count: ")
        }
        InputPurpose::Bounds { service } => {
            if let Some(t) = e.and_then(|e| e.scaling_for(service)) {
                lines.push(Line::from(vec![
                    label("now", theme),
                    Span::raw(format!("min {} max {}", t.min_capacity, t.max_capacity)),
                ]));
                for p in &t.policies {
                    lines.push(Line::styled(
                        format!(
                            "             {} target {}",
                            p.metric,
                            super::widgets::num(p.target_value)
                        ),
                        theme.dim,
                    ));
                }
            }
            (
                format!("Auto-scaling bounds of {service}"),
                "new min and max: ",
            )
        }
        InputPurpose::Image { service, container } => {
            let current = state
                .service(service)
                .and_then(|s| e?.task_definitions.get(&s.task_definition))
                .and_then(|td| td.containers.iter().find(|c| &c.name == container))
                .map(|c| c.image.clone())
                .unwrap_or_default();
            lines.push(Line::from(vec![
                label("container", theme),
                Span::styled(container.clone(), theme.title),
            ]));
            lines.push(Line::from(vec![
                label("image now", theme),
                Span::raw(clip_start(&current, w.saturating_sub(13))),
            ]));
            lines.push(Line::styled(
                "a tag (v1.4.3) keeps the repository; @sha256:… pins a digest; or a full image",
                theme.dim,
            ));
            (format!("Deploy a new image to {service}"), "tag or image: ")
        }
        InputPurpose::ExecCommand { task, container } => {
            lines.push(Line::from(vec![
                label("ECS task", theme),
                Span::styled(crate::ops::task_label(task).to_string(), theme.title),
            ]));
            lines.push(Line::from(vec![
                label("container", theme),
                Span::styled(container.clone(), theme.title),
            ]));
            for part in wrap(
                "ECS Exec (interactive): the session-manager-plugin takes this terminal until \
                 the command exits",
                w,
            ) {
                lines.push(Line::styled(part, theme.dim));
            }
            (
                format!(
                    "Exec into {container} of task {}",
                    crate::ops::task_label(task)
                ),
                "command: ",
            )
        }
    };
    lines.push(Line::default());
    let mut spans = vec![Span::styled(prompt, theme.base)];
    // The cursor stays in view however long the value.
    let room = w
        .saturating_sub(unicode_width::UnicodeWidthStr::width(prompt) + 1)
        .max(1);
    let (shown, back) = super::widgets::input_window(input, state.prompt_back, room);
    spans.extend(super::widgets::cursor_spans(
        &shown,
        back,
        theme.command_line,
    ));
    lines.push(Line::from(spans));
    if let Some(err) = error {
        for part in wrap(err, w) {
            lines.push(Line::styled(part, theme.error));
        }
    }
    lines.push(hint_line(
        theme,
        "enter next (a confirmation follows) · esc cancel",
    ));
    (title, false, lines)
}

/// Cuts `s` to `w` characters, marking the cut.
fn clip(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Cuts `s` to its last `w` characters, marking the cut.
fn clip_start(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        s.to_string()
    } else {
        let tail: String = s.chars().skip(n + 1 - w.max(1)).collect();
        format!("…{tail}")
    }
}

/// Splits `s` into lines of at most `w` characters, at spaces when it can.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let w = w.max(8);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split(' ') {
        let word_len = word.chars().count();
        let line_len = line.chars().count();
        if line_len > 0 && line_len + 1 + word_len > w {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        // A word longer than the line is cut.
        while line.chars().count() > w {
            let head: String = line.chars().take(w).collect();
            let tail: String = line.chars().skip(w).collect();
            lines.push(head);
            line = tail;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("a b c", 80), vec!["a b c"]);
        assert_eq!(
            wrap("ecs:UpdateService cluster=prod service=web", 20),
            vec!["ecs:UpdateService", "cluster=prod", "service=web"]
        );
        assert_eq!(
            wrap(&"x".repeat(20), 8),
            vec!["xxxxxxxx", "xxxxxxxx", "xxxx"]
        );
    }
}
