//! Blue/green deployments as the services list and a service's detail show
//! them: a CODE_DEPLOY service's CodeDeploy deployment (status, traffic
//! shifted, original and replacement task sets, lifecycle events, a wait
//! for a continue) and an ECS-native blue/green service's stage.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::config::keys::Command;
use crate::config::theme::Theme;
use crate::domain::{BgTaskSet, BlueGreen, CdDeployment, Service, task_definition_label};
use crate::state::{EnvState, State};

use super::widgets::{Keep, age_since, fit};

/// The services list's ROLLOUT cell of a blue/green service: `B/G Ready`,
/// `B/G 10%`, `B/G Stopped`, …; `None` for a rolling one.
pub fn rollout_cell(env: &EnvState, s: &Service, theme: &Theme) -> Option<(String, Style)> {
    if s.is_code_deploy() {
        let d = env.blue_green(&s.name).and_then(|g| g.deployment.as_ref());
        return Some(match d {
            Some(d) if d.waits() => ("B/G Ready".to_string(), theme.warning),
            Some(d) if d.is_active() => (
                match d.traffic_shifted() {
                    Some(t) if t > 0.0 => format!("B/G {t:.0}%"),
                    _ => format!("B/G {}", d.status),
                },
                theme.progressing,
            ),
            Some(d) if d.is_failed() => (format!("B/G {}", d.status), theme.critical),
            Some(d) if d.creator.as_deref() == Some("codeDeployRollback") => {
                ("B/G rolled bk".to_string(), theme.warning)
            }
            Some(_) => ("B/G done".to_string(), theme.ok),
            None => ("B/G".to_string(), theme.dim),
        });
    }
    if s.is_ecs_blue_green()
        && let Some(d) = s.service_deployment.as_ref().filter(|d| d.is_active())
    {
        let stage = d.lifecycle_stage.as_deref().unwrap_or(d.status.as_str());
        return Some((format!("B/G {}", short_stage(stage)), theme.progressing));
    }
    None
}

/// `PRODUCTION_TRAFFIC_SHIFT` → `prod shift`: what fits a narrow cell.
fn short_stage(stage: &str) -> &str {
    match stage {
        "RECONCILE_SERVICE" => "reconcile",
        "PRE_SCALE_UP" | "SCALE_UP" | "POST_SCALE_UP" => "scale up",
        "TEST_TRAFFIC_SHIFT" | "POST_TEST_TRAFFIC_SHIFT" => "test",
        "PRODUCTION_TRAFFIC_SHIFT" | "POST_PRODUCTION_TRAFFIC_SHIFT" => "prod shift",
        "BAKE_TIME" => "bake",
        "CLEAN_UP" => "clean up",
        other => other,
    }
}

/// The service detail's info line of a service not deployed by ECS's
/// rolling update: who deploys it and, for ECS-native blue/green, the
/// current stage. `None` for a rolling ECS service.
pub fn info_line<'a>(s: &Service, theme: &Theme) -> Option<Line<'a>> {
    if s.is_code_deploy() {
        return Some(Line::from(vec![
            Span::styled("deploys ", theme.dim),
            Span::raw("CodeDeploy blue/green (CODE_DEPLOY controller)"),
        ]));
    }
    if s.is_ecs_blue_green() {
        let mut spans = vec![
            Span::styled("deploys ", theme.dim),
            Span::raw("ECS blue/green (strategy BLUE_GREEN)"),
        ];
        if let Some(d) = &s.service_deployment {
            spans.push(Span::styled("  stage ", theme.dim));
            spans.push(Span::styled(
                d.lifecycle_stage.clone().unwrap_or_else(|| "-".to_string()),
                if d.is_active() {
                    theme.progressing
                } else {
                    theme.dim
                },
            ));
            spans.push(Span::styled(format!(" ({})", d.status), theme.dim));
            if let Some(w) = d.production_traffic {
                spans.push(Span::styled(format!("  {w:.0}% production"), theme.dim));
            }
        }
        return Some(Line::from(spans));
    }
    if s.deployment_controller == crate::domain::DeploymentController::External {
        return Some(Line::from(vec![
            Span::styled("deploys ", theme.dim),
            Span::raw("an external controller (EXTERNAL: task sets)"),
        ]));
    }
    None
}

/// The title of the blue/green panel of a CODE_DEPLOY service.
pub fn title(env: &EnvState, s: &Service) -> String {
    match env.blue_green(&s.name) {
        Some(g) => format!(
            "Blue/green · CodeDeploy {}/{}",
            g.application, g.deployment_group
        ),
        None => "Blue/green · CodeDeploy".to_string(),
    }
}

/// The blue/green panel's lines of a CODE_DEPLOY service.
pub fn lines<'a>(
    state: &State,
    env: &EnvState,
    s: &Service,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'a>> {
    let Some(g) = env.blue_green(&s.name) else {
        let text = match env.blue_greens.data {
            None => "deployment group …",
            Some(_) => "no CodeDeploy deployment group names this service",
        };
        return vec![Line::styled(text, theme.dim)];
    };
    let Some(d) = &g.deployment else {
        return vec![Line::styled(
            format!("no deployment in the past day · {}", config_summary(g)),
            theme.dim,
        )];
    };
    let mut out = vec![status_line(state, g, d, theme, width)];
    // CodeDeploy's rollback deploys the original over the replacement.
    let rollback = d
        .rollback
        .as_ref()
        .is_some_and(|r| r.triggering_deployment_id.is_some());
    let shifted = d.traffic_shifted();
    let mut traffic = vec![Span::styled("traffic ", theme.dim)];
    match shifted {
        Some(t) => {
            let filled = ((t / 10.0).round() as usize).min(10);
            traffic.push(Span::styled(
                format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled)),
                theme.gauge,
            ));
            traffic.push(Span::raw(if rollback {
                format!(" {t:.0}% back on the original")
            } else {
                format!(" {t:.0}% on the replacement")
            }));
        }
        None => traffic.push(Span::styled("…", theme.dim)),
    }
    traffic.push(Span::styled(format!(" · {}", config_summary(g)), theme.dim));
    out.push(Line::from(traffic));
    if let Some(t) = &d.target {
        let labels = if rollback {
            ["removed    ", "restored   "]
        } else {
            ["original   ", "replacement"]
        };
        for (label, set) in labels.into_iter().zip([t.original(), t.replacement()]) {
            let Some(set) = set else {
                continue;
            };
            // The original's task definition, when CodeDeploy does not
            // say it, is the service's (not for a rollback: there it is
            // the replacement being removed).
            let fallback = (!rollback).then_some(s.task_definition.as_str());
            out.push(task_set_line(label, set, fallback, theme, width));
        }
        let mut events = Vec::new();
        for e in &t.lifecycle_events {
            let (mark, style) = match e.status.as_str() {
                "Succeeded" => ("✓", theme.ok),
                "InProgress" => ("▸", theme.progressing),
                "Failed" => ("✗", theme.critical),
                "Skipped" => ("-", theme.dim),
                _ => ("·", theme.dim),
            };
            events.push(Span::styled(format!("{mark}{} ", e.name), style));
        }
        out.extend(wrap_spans(events, width));
    }
    // Why it ended or was rolled back (the progress messages are on the
    // lines above).
    let why = d
        .error
        .clone()
        .or_else(|| d.rollback.as_ref().and_then(|r| r.message.clone()));
    if let Some(why) = why {
        out.push(Line::styled(fit(&why, width, Keep::Start), theme.dim));
    }
    out
}

/// `d-… Ready: waiting for a continue (C reroutes, b stops and rolls back)`.
fn status_line<'a>(
    state: &State,
    g: &BlueGreen,
    d: &CdDeployment,
    theme: &Theme,
    width: usize,
) -> Line<'a> {
    let style = if d.waits() {
        theme.warning
    } else if d.is_active() {
        theme.progressing
    } else if d.is_failed() {
        theme.critical
    } else {
        theme.ok
    };
    let mut spans = vec![
        Span::raw(format!("{} ", d.id)),
        Span::styled(d.status.clone(), style),
    ];
    let key = |c: Command| state.key_for(c);
    let what = if d.waits() {
        let mut hint = "waits for a continue".to_string();
        if let (Some(m), Some(since)) = (g.ready_wait_minutes, waiting_since(d)) {
            let left = i64::from(m) * 60 - (state.now - since).num_seconds();
            if left > 0 {
                hint.push_str(&format!(" ({}m left)", (left + 59) / 60));
            }
        }
        let keys: Vec<String> = [
            key(Command::ContinueDeployment).map(|k| format!("{k} reroutes")),
            key(Command::Rollback).map(|k| format!("{k} rolls back")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !keys.is_empty() {
            hint.push_str(&format!(" · {}", keys.join(", ")));
        }
        hint
    } else if d.is_active() {
        let mut hint = d
            .target
            .as_ref()
            .and_then(|t| t.lifecycle_events.iter().find(|e| e.status == "InProgress"))
            .map_or_else(String::new, |e| e.name.clone());
        let rolls_back = d
            .rollback
            .as_ref()
            .and_then(|r| r.triggering_deployment_id.as_deref());
        if let Some(of) = rolls_back {
            hint.push_str(&format!(" · rolls back {of}"));
        } else if let Some(k) = key(Command::Rollback) {
            hint.push_str(&format!(" · {k} stops and rolls back"));
        }
        hint
    } else {
        let mut hint = format!(
            "{} ago",
            age_since(state.now, d.completed_at.or(d.created_at))
        );
        if d.creator.as_deref() == Some("codeDeployRollback") {
            hint.push_str(" · a rollback");
        } else if d.rolled_back() {
            hint.push_str(" · rolled back");
        }
        hint
    };
    spans.push(Span::styled(
        fit(
            &format!(
                ": {what}{}",
                d.creator
                    .as_deref()
                    .filter(|c| *c != "user" && !d.is_active())
                    .map(|c| format!(" · by {c}"))
                    .unwrap_or_default()
            ),
            width.saturating_sub(d.id.len() + d.status.len() + 1),
            Keep::Start,
        ),
        theme.dim,
    ));
    Line::from(spans)
}

/// When the replacement started waiting (AfterAllowTestTraffic ended).
fn waiting_since(d: &CdDeployment) -> Option<crate::domain::Timestamp> {
    d.target
        .as_ref()?
        .lifecycle_events
        .iter()
        .filter(|e| e.status == "Succeeded")
        .filter_map(|e| e.ended_at)
        .max()
}

/// `canary 10% then 5m · wait 60m · keep 5m · auto rollback`.
fn config_summary(g: &BlueGreen) -> String {
    let mut v = vec![shift_summary(&g.deployment_config)];
    if let Some(m) = g.ready_wait_minutes {
        v.push(format!("wait {m}m"));
    }
    if let Some(m) = g.termination_wait_minutes {
        v.push(format!("keep {m}m"));
    }
    if g.auto_rollback {
        v.push("auto rollback".to_string());
    }
    v.join(" · ")
}

/// A deployment configuration as read: `ECSCanary10Percent5Minutes` →
/// `canary 10% then 5m`, `ECSLinear10PercentEvery1Minutes` → `linear
/// 10%/1m`, `ECSAllAtOnce` → `all at once`; another name as it is.
fn shift_summary(config: &str) -> String {
    let name = config.strip_prefix("CodeDeployDefault.").unwrap_or(config);
    let parse = |rest: &str| -> Option<(String, String)> {
        let (pct, rest) = rest.split_once("Percent")?;
        let minutes: String = rest.chars().filter(char::is_ascii_digit).collect();
        Some((pct.to_string(), minutes))
    };
    if let Some((p, m)) = name.strip_prefix("ECSCanary").and_then(parse) {
        return format!("canary {p}% then {m}m");
    }
    if let Some((p, m)) = name.strip_prefix("ECSLinear").and_then(parse) {
        return format!("linear {p}%/{m}m");
    }
    if name == "ECSAllAtOnce" {
        return "all at once".to_string();
    }
    name.to_string()
}

fn task_set_line<'a>(
    label: &str,
    set: &BgTaskSet,
    fallback: Option<&str>,
    theme: &Theme,
    width: usize,
) -> Line<'a> {
    let td = set
        .task_definition
        .as_deref()
        .or_else(|| fallback.filter(|_| set.label.as_deref() == Some("Blue")))
        .map_or("-", task_definition_label);
    let counts = format!(
        "{}/{} run{}",
        set.running,
        set.desired,
        if set.pending > 0 {
            format!(" {} pend", set.pending)
        } else {
            String::new()
        }
    );
    let rest = format!(
        " {:>3.0}%  {}  {}",
        set.traffic_weight,
        set.status,
        set.target_group.as_deref().unwrap_or("")
    );
    let room = width.saturating_sub(label.len() + counts.len() + rest.len() + 3);
    Line::from(vec![
        Span::styled(format!("{label} "), theme.dim),
        Span::raw(fit(td, room.max(8), Keep::End)),
        Span::raw(format!(" {counts}")),
        Span::styled(rest, theme.dim),
    ])
}

/// Spans laid out on as many lines of `width` as they need.
fn wrap_spans(spans: Vec<Span<'_>>, width: usize) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut line = Vec::new();
    let mut used = 0;
    for span in spans {
        let w = unicode_width::UnicodeWidthStr::width(span.content.as_ref());
        if used > 0 && used + w > width {
            lines.push(Line::from(std::mem::take(&mut line)));
            used = 0;
        }
        used += w;
        line.push(span);
    }
    if !line.is_empty() {
        lines.push(Line::from(line));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EnvironmentConfig, RefreshIntervals};
    use crate::domain::{DeploymentController, EcsServiceDeployment};

    fn theme() -> Theme {
        crate::config::theme::load_theme("default", None, false).expect("theme")
    }

    fn service(controller: DeploymentController, strategy: Option<&str>) -> Service {
        Service {
            arn: "arn:aws:ecs:ap-northeast-1:1:service/c/web".into(),
            name: "web".into(),
            cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/c".into(),
            status: "ACTIVE".into(),
            desired_count: 1,
            running_count: 1,
            pending_count: 0,
            launch_type: None,
            task_definition: "arn:aws:ecs:ap-northeast-1:1:task-definition/web:3".into(),
            deployments: Vec::new(),
            events: Vec::new(),
            load_balancers: Vec::new(),
            created_at: None,
            circuit_breaker: None,
            deployment_controller: controller,
            strategy: strategy.map(str::to_string),
            service_deployment: None,
        }
    }

    #[test]
    fn configurations_read_as_words() {
        assert_eq!(
            shift_summary("CodeDeployDefault.ECSCanary10Percent5Minutes"),
            "canary 10% then 5m"
        );
        assert_eq!(
            shift_summary("CodeDeployDefault.ECSLinear10PercentEvery3Minutes"),
            "linear 10%/3m"
        );
        assert_eq!(
            shift_summary("CodeDeployDefault.ECSAllAtOnce"),
            "all at once"
        );
        assert_eq!(shift_summary("MyOwnConfig"), "MyOwnConfig");
    }

    /// An ECS-native blue/green service says its stage where a rolling
    /// one says its rollout; a rolling service gets no cell of its own.
    #[test]
    fn the_rollout_cell_of_each_controller() {
        let env = EnvState::from_config(
            &EnvironmentConfig::default(),
            &RefreshIntervals::default(),
            false,
        );
        let theme = theme();
        assert!(rollout_cell(&env, &service(DeploymentController::Ecs, None), &theme).is_none());
        let mut native = service(DeploymentController::Ecs, Some("BLUE_GREEN"));
        native.service_deployment = Some(EcsServiceDeployment {
            arn: "arn".into(),
            status: "IN_PROGRESS".into(),
            lifecycle_stage: Some("PRODUCTION_TRAFFIC_SHIFT".into()),
            production_traffic: Some(50.0),
            started_at: None,
            status_reason: None,
        });
        let cell = rollout_cell(&env, &native, &theme).map(|c| c.0);
        assert_eq!(cell.as_deref(), Some("B/G prod shift"));
        let line = info_line(&native, &theme).expect("a line");
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(text.contains("stage PRODUCTION_TRAFFIC_SHIFT"), "{text}");
        assert!(text.contains("50% production"), "{text}");
        // CodeDeploy's group not read yet.
        let cd = service(DeploymentController::CodeDeploy, None);
        assert_eq!(
            rollout_cell(&env, &cd, &theme).map(|c| c.0).as_deref(),
            Some("B/G")
        );
    }
}
