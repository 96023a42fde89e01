//! The team's shared timeline in CloudWatch Logs: the timeline events and
//! notes of every console are put, next to the audit records, into the
//! environment's `audit_log_group`, one JSON object a log event wrapped as
//! `{"honban_timeline": <event>}` (so they are told apart from the audit
//! records sharing the group). `honban timeline export --from-cloudwatch`
//! reads them back from every stream of the group, whichever console
//! recorded them, and tells one story: what several consoles each derived
//! from the same change is kept once.

use std::collections::HashMap;

use chrono::TimeDelta;

use crate::domain::{LogQuery, Timestamp};
use crate::timeline::Event;

/// The key wrapping a timeline event in a shared log event.
pub const KEY: &str = "honban_timeline";

/// Pages of `FilterLogEvents` read at most (10,000 events each).
const MAX_PAGES: usize = 200;

/// How far apart two consoles may see the same change and still have it
/// counted once (a poll interval or two).
const SAME_CHANGE: TimeDelta = TimeDelta::minutes(2);

/// The log message of `event` in the shared group.
pub fn message(event: &Event) -> Option<String> {
    serde_json::to_string(&serde_json::json!({ KEY: event })).ok()
}

/// The timeline event in a shared log message, if it holds one (audit
/// records and foreign lines do not).
pub fn parse(message: &str) -> Option<Event> {
    let mut value: serde_json::Value = serde_json::from_str(message).ok()?;
    let inner = value.get_mut(KEY)?.take();
    serde_json::from_value(inner).ok()
}

/// Events of what the console saw (not what an operator did or wrote):
/// several consoles see them each, so they are merged.
fn derived(e: &Event) -> bool {
    !matches!(e.kind.as_str(), "operation" | "recovery" | "note" | "mark")
}

/// One story from the events of several consoles: time order, and an
/// observation that another console made of the same change (same
/// environment, kind, resource and text within two minutes) kept once, at
/// the first time it was seen. Operations, notes and marks are each kept.
pub fn merge(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.session.cmp(&b.session)));
    let mut last_seen: HashMap<(String, String, String, String), (String, Timestamp)> =
        HashMap::new();
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        if derived(&e) {
            let key = (
                e.env.clone(),
                e.kind.clone(),
                e.resource.clone(),
                e.text.clone(),
            );
            if let Some((session, at)) = last_seen.get(&key)
                && *session != e.session
                && e.time - *at <= SAME_CHANGE
            {
                continue;
            }
            last_seen.insert(key, (e.session.clone(), e.time));
        }
        out.push(e);
    }
    out
}

/// Every shared timeline event of `group` from `since` on, through
/// `backend` (every page, every stream). `env` names the environment the
/// events must be of (a group may be shared by several).
pub async fn fetch(
    backend: &dyn crate::backend::Backend,
    group: &str,
    env: &str,
    since: Timestamp,
    until: Option<Timestamp>,
) -> Result<Vec<Event>, String> {
    let mut query = LogQuery {
        group: group.to_string(),
        stream_prefix: None,
        filter_pattern: None,
        start: since,
        end: until,
        limit: 10_000,
        next_token: None,
    };
    let mut out = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = async { backend.logs()?.log_events(&query).await }
            .await
            .map_err(|e| format!("cannot read {group} (CloudWatch Logs): {e}"))?;
        out.extend(
            page.events
                .iter()
                .filter_map(|l| parse(&l.message))
                .filter(|e| e.env == env),
        );
        match page.next_token {
            Some(token) if query.next_token.as_deref() != Some(token.as_str()) => {
                query.next_token = Some(token);
            }
            _ => return Ok(out),
        }
    }
    tracing::warn!(
        group,
        pages = MAX_PAGES,
        "shared timeline cut at the page cap"
    );
    Ok(out)
}

/// `honban timeline export --from-cloudwatch`: reads the shared timeline
/// of the selected environments (`--env`, else every one with an
/// `audit_log_group`), prints it as the local export does and returns the
/// exit code: 0, 1 when it cannot be read or nothing matches, 64 for an
/// unknown `--env`, 78 when no environment has a shared group.
pub fn export(
    cli: &crate::cli::Cli,
    args: &crate::cli::ExportArgs,
    config: &crate::config::Config,
    config_path: &str,
) -> u8 {
    use std::io::Write;

    let now = chrono::Utc::now();
    let since = match args.since.as_deref() {
        Some(t) => match crate::recording::parse_time(t, now) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("honban: {e}");
                return crate::cli::EX_USAGE;
            }
        },
        None => now - TimeDelta::hours(24),
    };
    let until = match args
        .until
        .as_deref()
        .map(|t| crate::recording::parse_time(t, now))
    {
        Some(Err(e)) => {
            eprintln!("honban: {e}");
            return crate::cli::EX_USAGE;
        }
        Some(Ok(t)) => Some(t),
        None => None,
    };
    let envs = crate::setup::environments(config, cli.demo, &cli.worlds);
    if let Some(name) = &cli.env
        && !envs.iter().any(|e| &e.name == name)
    {
        let known: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
        eprintln!(
            "honban: unknown environment \"{name}\"; configured: {}",
            known.join(", ")
        );
        return crate::cli::EX_USAGE;
    }
    let chosen: Vec<&crate::config::EnvironmentConfig> = envs
        .iter()
        .filter(|e| cli.env.as_ref().is_none_or(|n| &e.name == n))
        .collect();
    let shared: Vec<(&crate::config::EnvironmentConfig, &str)> = chosen
        .iter()
        .filter(|e| e.source == crate::config::Source::Aws)
        .filter_map(|e| e.audit_log_group.as_deref().map(|g| (*e, g)))
        .collect();
    if shared.is_empty() {
        eprintln!(
            "honban: no shared timeline to read: {} (set `audit_log_group` on an AWS environment in {config_path}; simulated environments keep theirs in the session)",
            if cli.env.is_some() {
                "that environment is simulated or has no audit_log_group"
            } else {
                "no AWS environment has an audit_log_group"
            }
        );
        return crate::cli::EX_CONFIG;
    }
    let runtime = match crate::setup::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("honban: cannot start the runtime: {e}");
            return 1;
        }
    };
    let result: Result<Vec<Event>, String> = runtime.block_on(async {
        let mut all = Vec::new();
        for (env, group) in &shared {
            let backend = crate::backend::aws::AwsBackend::connect(
                env,
                crate::backend::aws::ConnectOptions::default(),
            )
            .await;
            let backend =
                crate::backend::guard::ReadOnly::new(std::sync::Arc::new(backend), &env.name);
            all.extend(fetch(&backend, group, &env.name, since, until).await?);
        }
        Ok(all)
    });
    runtime.shutdown_background();
    let events = match result {
        Ok(events) => merge(events),
        Err(e) => {
            eprintln!("honban: {e}");
            return 1;
        }
    };
    let groups: Vec<&str> = shared.iter().map(|(_, g)| *g).collect();
    let source = format!("shared timeline: {}", groups.join(", "));
    match crate::recording::render_export(&events, None, args, now, &source) {
        Ok(text) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::stdout().write_all(text.as_bytes());
            0
        }
        Err(e) => {
            eprintln!("honban: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::timeline::{MarkKind, Severity};

    fn t(sec: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0)
            .single()
            .expect("time")
            + TimeDelta::seconds(sec)
    }

    fn event(session: &str, sec: i64, kind: &str, text: &str) -> Event {
        let mut e = Event::new(
            "production",
            t(sec),
            kind,
            "web",
            text.into(),
            Severity::Error,
        );
        e.session = session.into();
        e
    }

    #[test]
    fn a_shipped_event_reads_back_and_audit_records_do_not() {
        let mut e = event("s1", 0, "mark", "impact started");
        e.mark = Some(MarkKind::ImpactStarted);
        let m = message(&e).expect("serializes");
        assert!(m.starts_with("{\"honban_timeline\":"));
        assert_eq!(parse(&m), Some(e));
        assert_eq!(
            parse(r#"{"time":"2026-12-01T03:00:00Z","phase":"intent","id":"x"}"#),
            None
        );
        assert_eq!(parse("not json"), None);
        assert_eq!(parse(r#"{"honban_timeline":{"kind":1}}"#), None);
    }

    #[test]
    fn two_consoles_seeing_one_change_tell_it_once_but_keep_both_notes() {
        let merged = merge(vec![
            event("s2", 20, "deployment_failed", "web: rollout failed"),
            event("s1", 5, "deployment_failed", "web: rollout failed"),
            event("s1", 30, "note", "looking at web"),
            event("s2", 31, "note", "looking at web"),
            // The same text much later is a second failure, not an echo.
            event("s2", 900, "deployment_failed", "web: rollout failed"),
        ]);
        let got: Vec<(&str, i64)> = merged
            .iter()
            .map(|e| (e.kind.as_str(), (e.time - t(0)).num_seconds()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("deployment_failed", 5),
                ("note", 30),
                ("note", 31),
                ("deployment_failed", 900),
            ]
        );
        assert_eq!(merged[0].session, "s1");
    }

    #[test]
    fn one_console_repeating_itself_is_kept() {
        // A flapping check seen twice by one console happened twice.
        let merged = merge(vec![
            event("s1", 0, "check_failing", "api down"),
            event("s1", 60, "check_failing", "api down"),
        ]);
        assert_eq!(merged.len(), 2);
    }
}
