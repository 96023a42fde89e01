//! Drill scenarios: `assets/scenarios/*.toml` (compiled in) and the user's
//! `scenarios/` in the config directory (overriding by id), parsed and
//! checked against the simulated world they run in. Every mistake is a
//! [`ConfigError`] with file, line and column. The format is documented in
//! `assets/scenarios/README.md`.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use crate::backend::sim::{WorldCatalog, world_catalog};
use crate::config::ConfigError;
use crate::config::keys::{Command, Keymap};
/// The scenario's types, shared with the simulation that runs its faults.
pub use crate::domain::scenario::{
    Condition, Difficulty, EffectSpec, Forbidden, Inject, Objectives, Scenario, Signal, Target,
    span_secs,
};

/// The shipped scenarios: (file name, text).
pub const SHIPPED: [(&str, &str); 10] = [
    (
        "bad-deploy.toml",
        include_str!("../../assets/scenarios/bad-deploy.toml"),
    ),
    (
        "cpu-spike.toml",
        include_str!("../../assets/scenarios/cpu-spike.toml"),
    ),
    (
        "db-failover.toml",
        include_str!("../../assets/scenarios/db-failover.toml"),
    ),
    (
        "bad-task-5xx.toml",
        include_str!("../../assets/scenarios/bad-task-5xx.toml"),
    ),
    (
        "replica-lag.toml",
        include_str!("../../assets/scenarios/replica-lag.toml"),
    ),
    (
        "stuck-deploy.toml",
        include_str!("../../assets/scenarios/stuck-deploy.toml"),
    ),
    (
        "storage-falling.toml",
        include_str!("../../assets/scenarios/storage-falling.toml"),
    ),
    (
        "az-outage.toml",
        include_str!("../../assets/scenarios/az-outage.toml"),
    ),
    (
        "expired-credentials.toml",
        include_str!("../../assets/scenarios/expired-credentials.toml"),
    ),
    (
        "redis-memory.toml",
        include_str!("../../assets/scenarios/redis-memory.toml"),
    ),
];

/// The fault names a scenario may inject (AWS FIS action names where one
/// exists, `honban:` otherwise).
pub const FAULTS: [&str; 11] = [
    "aws:fis:inject-api-throttle-error",
    "honban:sts:credentials-expire",
    "aws:ecs:stop-task",
    "aws:ecs:task-cpu-stress",
    "aws:rds:reboot-db-instances",
    "aws:network:disrupt-connectivity",
    "honban:ecs:bad-image",
    "honban:ecs:bad-task",
    "honban:ecs:stale-connections",
    "honban:rds:replica-lag",
    "honban:metric:offset",
];

/// The faults on the API itself: they take no target.
pub const API_FAULTS: [&str; 2] = [
    "aws:fis:inject-api-throttle-error",
    "honban:sts:credentials-expire",
];

/// The operations a `[[forbidden]]` entry may name (as the audit log
/// names them), plus `scale-to-zero` and `scale-in`.
pub const ACTIONS: [&str; 15] = [
    "scale",
    "scale-to-zero",
    "scale-in",
    "scaling-bounds",
    "deploy-image",
    "rollback",
    "restart",
    "db-snapshot",
    "db-reboot",
    "db-reboot-failover",
    "db-restore-snapshot",
    "db-restore-time",
    "db-promote",
    "alarm-mute",
    "stop-task",
];

/// Parses and checks one scenario file.
pub fn parse(text: &str, file: &str) -> Result<Scenario, ConfigError> {
    let mut scenario: Scenario = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_string();
        match e.span() {
            Some(span) => ConfigError::at(text, file, span, message),
            None => ConfigError::new(Some(file), message),
        }
    })?;
    let at = |span: Range<usize>, message: String| ConfigError::at(text, file, span, message);
    check(&scenario).map_err(|(span, m)| at(span, m))?;
    scenario.source = file.to_string();
    Ok(scenario)
}

type Problem = (Range<usize>, String);

fn duration(s: &Spanned<String>, what: &str) -> Result<i64, Problem> {
    span_secs(s.get_ref()).ok_or_else(|| {
        (
            s.span(),
            format!(
                "bad {what} {:?}: write e.g. 90s, 5m, 1h or 2m30s (at most 24h)",
                s.get_ref()
            ),
        )
    })
}

fn check(s: &Scenario) -> Result<(), Problem> {
    let id = s.id.get_ref();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err((
            s.id.span(),
            format!("bad id {id:?}: lower-case letters, digits and hyphens"),
        ));
    }
    let Some(world) = world_catalog(s.world.get_ref()) else {
        return Err((
            s.world.span(),
            format!(
                "unknown world {:?} (known: {})",
                s.world.get_ref(),
                crate::backend::sim::world_names().join(", ")
            ),
        ));
    };
    let limit = duration(&s.time_limit, "time_limit")?;
    if limit < 60 {
        return Err((s.time_limit.span(), "time_limit must be at least 1m".into()));
    }
    if let Some(t) = &s.target_ttm {
        duration(t, "target_ttm")?;
    }
    if s.injects.is_empty() {
        return Err((
            s.id.span(),
            "a scenario needs at least one [[inject]]".into(),
        ));
    }
    for i in &s.injects {
        check_inject(i, &world)?;
    }
    for a in &s.affected {
        if !world.services.contains(a.get_ref()) && !world.dbs.contains(a.get_ref()) {
            return Err((
                a.span(),
                format!(
                    "affected: {:?} is neither a service nor a DB instance of world {}",
                    a.get_ref(),
                    world.name
                ),
            ));
        }
    }
    for (n, at) in s.inject_offsets().iter().enumerate() {
        if *at >= limit {
            let span = s
                .injects
                .get(n)
                .map_or_else(|| s.time_limit.span(), |i| i.fault.span());
            return Err((span, format!("inject {} comes after the time limit", n + 1)));
        }
    }
    for sig in &s.expected {
        if !world.alarms.contains(sig.alarm.get_ref()) {
            return Err((
                sig.alarm.span(),
                format!(
                    "unknown alarm {:?} in world {}",
                    sig.alarm.get_ref(),
                    world.name
                ),
            ));
        }
        duration(&sig.by, "by")?;
    }
    if s.objectives.mitigated.is_empty() || s.objectives.recovered.is_empty() {
        return Err((
            s.id.span(),
            "objectives need at least one mitigated and one recovered condition".into(),
        ));
    }
    for c in s.objectives.mitigated.iter().chain(&s.objectives.recovered) {
        check_condition(c.get_ref(), s.injects.len(), &world).map_err(|m| (c.span(), m))?;
    }
    if let Some(h) = &s.hint {
        for name in key_refs(h.get_ref()) {
            if Command::from_name(name).is_none() {
                return Err((
                    h.span(),
                    format!(
                        "hint: unknown command {{key:{name}}} (known: {})",
                        Command::names().join(", ")
                    ),
                ));
            }
        }
    }
    for f in &s.forbidden {
        if !ACTIONS.contains(&f.action.get_ref().as_str()) {
            return Err((
                f.action.span(),
                format!(
                    "unknown action {:?} (known: {})",
                    f.action.get_ref(),
                    ACTIONS.join(", ")
                ),
            ));
        }
        if let Some(svc) = &f.service
            && !world.services.contains(svc.get_ref())
        {
            return Err((svc.span(), format!("unknown service {:?}", svc.get_ref())));
        }
        if let Some(db) = &f.db
            && !world.dbs.contains(db.get_ref())
        {
            return Err((db.span(), format!("unknown DB instance {:?}", db.get_ref())));
        }
    }
    Ok(())
}

/// The command names of a text's `{key:COMMAND}` references.
fn key_refs(text: &str) -> impl Iterator<Item = &str> {
    text.split("{key:")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// `text` with each `{key:COMMAND}` replaced by the first key the keymap
/// binds to the command where `[keys]` binds it (its home scope), or by
/// "COMMAND (no key bound)".
pub fn with_keys(text: &str, keymap: &Keymap) -> String {
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split("{key:");
    out.push_str(parts.next().unwrap_or_default());
    for part in parts {
        if let Some((name, rest)) = part.split_once('}') {
            let key = Command::from_name(name)
                .and_then(|cmd| keymap.home_keys(cmd).first().map(ToString::to_string));
            if let Some(k) = key {
                out.push_str(&k);
            } else {
                out.push_str(name);
                out.push_str(" (no key bound)");
            }
            out.push_str(rest);
        } else {
            out.push_str("{key:");
            out.push_str(part);
        }
    }
    out
}

fn check_inject(i: &Inject, world: &WorldCatalog) -> Result<(), Problem> {
    let fault = i.fault.get_ref().as_str();
    if !FAULTS.contains(&fault) {
        return Err((
            i.fault.span(),
            format!("unknown fault {fault:?} (known: {})", FAULTS.join(", ")),
        ));
    }
    match (&i.at, &i.after) {
        (Some(_), Some(a)) => {
            return Err((a.span(), "give `at` or `after`, not both".into()));
        }
        (None, None) => {
            return Err((i.fault.span(), "an inject needs `at` or `after`".into()));
        }
        (Some(t), None) => {
            duration(t, "at")?;
        }
        (None, Some(t)) => {
            duration(t, "after")?;
        }
    }
    if let Some(d) = &i.duration {
        duration(d, "duration")?;
    }
    let api = API_FAULTS.contains(&fault);
    if api && i.duration.is_none() {
        return Err((i.fault.span(), format!("{fault} needs a duration")));
    }
    let Some(spanned) = &i.target else {
        if api {
            return Ok(());
        }
        return Err((i.fault.span(), format!("{fault} needs a target")));
    };
    if api {
        return Err((
            spanned.span(),
            format!("{fault} acts on every API call: give it no target"),
        ));
    }
    let target = spanned.get_ref();
    let subjects = [&target.service, &target.db, &target.az]
        .iter()
        .filter(|x| x.is_some())
        .count();
    if subjects != 1 {
        return Err((
            spanned.span(),
            "a target names exactly one of service, db, az".into(),
        ));
    }
    let wants = match fault {
        "aws:rds:reboot-db-instances" | "honban:rds:replica-lag" => "db",
        "aws:network:disrupt-connectivity" => "az",
        "honban:metric:offset" => "any",
        _ => "service",
    };
    let ok = match wants {
        "db" => target.db.as_ref().is_some_and(|d| world.dbs.contains(d)),
        "az" => target.az.as_ref().is_some_and(|a| world.azs.contains(a)),
        "service" => target
            .service
            .as_ref()
            .is_some_and(|s| world.services.contains(s)),
        _ => {
            target
                .service
                .as_ref()
                .is_none_or(|s| world.services.contains(s))
                && target.db.as_ref().is_none_or(|d| world.dbs.contains(d))
                && target.az.as_ref().is_none_or(|a| world.azs.contains(a))
        }
    };
    if !ok {
        let known = match wants {
            "db" => world.dbs.join(", "),
            "az" => world.azs.join(", "),
            _ => world.services.join(", "),
        };
        let what = if wants == "any" { "service" } else { wants };
        return Err((
            spanned.span(),
            format!(
                "{fault} needs a {what} of world {} as its target (known: {known})",
                world.name
            ),
        ));
    }
    if let Some(mode) = &i.mode
        && (fault != "honban:ecs:bad-image"
            || !["crash", "pull", "runs"].contains(&mode.get_ref().as_str()))
    {
        return Err((
            mode.span(),
            "mode is for honban:ecs:bad-image: crash, pull or runs".into(),
        ));
    }
    if let Some(cb) = &i.circuit_breaker
        && (fault != "honban:ecs:bad-image"
            || !["as-configured", "no-rollback", "off"].contains(&cb.get_ref().as_str()))
    {
        return Err((
            cb.span(),
            "circuit_breaker is for honban:ecs:bad-image: as-configured, no-rollback or off".into(),
        ));
    }
    if fault == "aws:fis:inject-api-throttle-error"
        && i.percent.is_some_and(|p| !(1.0..=100.0).contains(&p))
    {
        return Err((i.fault.span(), "percent must be 1 to 100".into()));
    }
    if fault == "aws:ecs:task-cpu-stress" && i.percent.is_none_or(|p| !(1.0..=100.0).contains(&p)) {
        return Err((
            i.fault.span(),
            "aws:ecs:task-cpu-stress needs percent (1 to 100)".into(),
        ));
    }
    let timed = [
        "aws:ecs:task-cpu-stress",
        "aws:network:disrupt-connectivity",
        "honban:rds:replica-lag",
        "honban:metric:offset",
    ];
    if timed.contains(&fault) && i.duration.is_none() {
        return Err((i.fault.span(), format!("{fault} needs a duration")));
    }
    for e in &i.effects {
        if !world.metrics.contains(e.metric.get_ref()) {
            return Err((
                e.metric.span(),
                format!(
                    "unknown metric {:?} in world {} (known: {})",
                    e.metric.get_ref(),
                    world.name,
                    world.metrics.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn check_condition(c: &Condition, injects: usize, world: &WorldCatalog) -> Result<(), String> {
    let subjects = [
        c.cleared.is_some(),
        c.service.is_some(),
        c.alarm.is_some(),
        c.db.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if subjects != 1 {
        return Err("a condition names exactly one of cleared, service, alarm, db".into());
    }
    if let Some(n) = c.cleared
        && (n == 0 || n > injects)
    {
        return Err(format!(
            "cleared = {n}: there are {injects} injects (numbered from 1)"
        ));
    }
    if let Some(s) = &c.service {
        if !world.services.contains(s) {
            return Err(format!("unknown service {s:?}"));
        }
        if c.steady.is_none() && c.min_desired.is_none() {
            return Err(format!(
                "service {s:?}: say what must hold (steady = true, min_desired = N)"
            ));
        }
    }
    if let Some(a) = &c.alarm {
        if !world.alarms.contains(a) {
            return Err(format!("unknown alarm {a:?}"));
        }
        if !matches!(c.state.as_deref(), Some("OK" | "ALARM")) {
            return Err(format!("alarm {a:?}: state must be \"OK\" or \"ALARM\""));
        }
    }
    if let Some(d) = &c.db {
        if !world.dbs.contains(d) {
            return Err(format!("unknown DB instance {d:?}"));
        }
        if c.state.as_deref().is_some_and(|s| s != "available") {
            return Err(format!("DB {d:?}: state must be \"available\""));
        }
    }
    Ok(())
}

/// The shipped scenarios overridden by the user's (`dir/*.toml`, by id),
/// sorted by difficulty then id.
pub fn load_all(user_dir: Option<&Path>) -> Result<Vec<Scenario>, ConfigError> {
    let mut all = Vec::new();
    for (name, text) in SHIPPED {
        all.push(parse(text, &format!("assets/scenarios/{name}"))?);
    }
    if let Some(dir) = user_dir
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let shown = path.display().to_string();
            let bytes = std::fs::read(&path).map_err(|e| {
                ConfigError::new(
                    Some(&shown),
                    format!(
                        "cannot read it: {}",
                        crate::config::load::describe_io_error(&e)
                    ),
                )
            })?;
            let text = crate::config::load::utf8(bytes, &shown)?;
            let s = parse(&text, &shown)?;
            all.retain(|o: &Scenario| o.id() != s.id());
            all.push(s);
        }
    }
    all.sort_by(|a, b| {
        a.difficulty
            .cmp(&b.difficulty)
            .then_with(|| a.id().cmp(b.id()))
    });
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse() {
        assert_eq!(span_secs("90s"), Some(90));
        assert_eq!(span_secs("2m30s"), Some(150));
        assert_eq!(span_secs("1h"), Some(3600));
        assert_eq!(span_secs("5"), None);
        assert_eq!(span_secs("25h"), None);
    }

    #[test]
    fn every_shipped_scenario_parses() {
        let all = load_all(None).expect("the shipped scenarios parse");
        assert_eq!(all.len(), SHIPPED.len());
        let mut ids: Vec<&str> = all.iter().map(Scenario::id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), SHIPPED.len(), "ids are unique");
    }

    /// A hint names the keys the operator has, and a hint naming an
    /// unknown command is refused where it is written.
    #[test]
    fn hints_name_the_bound_keys() {
        let keys = Keymap::defaults();
        assert_eq!(
            with_keys("Roll web back ({key:rollback}), then {key:logs}.", &keys),
            "Roll web back (b), then l."
        );
        assert_eq!(with_keys("no refs {key:", &keys), "no refs {key:");
        for s in load_all(None).expect("the shipped scenarios parse") {
            let hint = s.hint.as_ref().map(|h| with_keys(h.get_ref(), &keys));
            assert!(
                !hint.unwrap_or_default().contains("{key:"),
                "{}: every reference is replaced",
                s.id()
            );
        }
        let text = SHIPPED[0].1.replace("{key:rollback}", "{key:rollbak}");
        let err = parse(&text, "bad.toml").map(|_| ()).expect_err("refused");
        assert!(
            err.to_string().contains("unknown command {key:rollbak}"),
            "{err}"
        );
    }
}
