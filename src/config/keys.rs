//! Key bindings: the key syntax of the config file, the bindable commands and
//! the keymap built from the defaults and the `[keys]` table.
//!
//! Bindings have a scope: global, one view, or a replay. `[keys]` binds a
//! command where it acts (the logs view's keys in the logs view, the
//! replay's in a replay, the others everywhere); `[keys.view.VIEW]` (e.g.
//! `[keys.view.services]`, `[keys.view.logs]`) and `[keys.replay]` bind a
//! command in that view (or in a replay) only, on top of its global keys. A key is looked up in the
//! replay's bindings, then the view's, then the global ones, so one key may
//! mean different commands in views that are never in use together; a key
//! bound twice where both would apply is a conflict.
//!
//! Key syntax: a single character (`"q"`, `"G"`, `":"`, `"/"`, `"?"`; an
//! uppercase letter implies shift), a named key (`enter`, `esc`, `tab`,
//! `backtab`, `space`, `backspace`, `up`, `down`, `left`, `right`, `pageup`,
//! `pagedown`, `home`, `end`, `delete`, `insert`, `f1`..`f12`), optionally
//! preceded by modifiers joined with `-` (`ctrl-r`, `alt-x`, `shift-up`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::Config;
use crate::state::ViewKind;

/// A short reminder of the key syntax, appended to key errors.
pub const KEY_SYNTAX_HINT: &str = "keys look like \"q\", \"G\", \"?\", \"ctrl-r\", \"alt-x\", \"shift-up\", \
     \"enter\", \"esc\", \"tab\", \"space\", \"pageup\", \"home\", \"f5\"";

/// The modifiers a binding can carry.
const MODIFIER_MASK: KeyModifiers = KeyModifiers::CONTROL
    .union(KeyModifiers::ALT)
    .union(KeyModifiers::SHIFT)
    .union(KeyModifiers::SUPER)
    .union(KeyModifiers::HYPER)
    .union(KeyModifiers::META);

/// Named keys: config name, key code. The first name of a code is the
/// canonical one (used by `Display`).
const NAMED_KEYS: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("return", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pageup", KeyCode::PageUp),
    ("pgup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("pgdn", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("delete", KeyCode::Delete),
    ("del", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("ins", KeyCode::Insert),
];

const MODIFIER_PREFIXES: &[(&str, KeyModifiers)] = &[
    ("ctrl-", KeyModifiers::CONTROL),
    ("alt-", KeyModifiers::ALT),
    ("shift-", KeyModifiers::SHIFT),
];

/// One key, with its modifiers, as written in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyBinding {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyBinding {
    /// A binding of `code` with `modifiers`, normalised like a parsed one.
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Self {
        normalize(code, modifiers).unwrap_or(Self { code, modifiers })
    }

    /// Parses the key syntax of the config file (see the module docs).
    pub fn parse(text: &str) -> Result<KeyBinding, String> {
        if text.is_empty() {
            return Err("empty key name".to_string());
        }
        let mut rest = text;
        let mut modifiers = KeyModifiers::NONE;
        'strip: loop {
            for (prefix, modifier) in MODIFIER_PREFIXES {
                let matches_prefix = rest
                    .get(..prefix.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(prefix));
                if matches_prefix && rest.len() > prefix.len() {
                    if modifiers.contains(*modifier) {
                        return Err(format!("\"{text}\" names the modifier {prefix} twice"));
                    }
                    modifiers |= *modifier;
                    rest = &rest[prefix.len()..];
                    continue 'strip;
                }
            }
            break;
        }

        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if c.is_control() {
                    return Err(format!("{c:?} is a control character, not a key name"));
                }
                KeyCode::Char(c)
            }
            _ => named_key(rest)?,
        };
        normalize(code, modifiers)
    }

    /// Whether a terminal key event is this key.
    ///
    /// Shift is treated leniently for characters: `G` matches
    /// `Char('G')` with or without SHIFT (and `Char('g')` with SHIFT), and
    /// `?` matches however the terminal reports the shift it took to type
    /// it. The event kind (press / repeat / release) is not looked at.
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let mut code = ev.code;
        let mut modifiers = ev.modifiers & MODIFIER_MASK;
        match code {
            KeyCode::Char(c) => {
                if modifiers.contains(KeyModifiers::SHIFT) && c.is_lowercase() {
                    let mut upper = c.to_uppercase();
                    if let (Some(u), None) = (upper.next(), upper.next()) {
                        code = KeyCode::Char(u);
                    }
                }
                modifiers.remove(KeyModifiers::SHIFT);
            }
            KeyCode::BackTab => modifiers.remove(KeyModifiers::SHIFT),
            _ => {}
        }
        code == self.code && modifiers == self.modifiers
    }
}

/// Brings a code + modifiers to the one form `parse` produces, so that
/// equal keys compare equal: shift is folded into letters, `shift-tab` is
/// `backtab`.
fn normalize(code: KeyCode, mut modifiers: KeyModifiers) -> Result<KeyBinding, String> {
    let mut code = code;
    match code {
        KeyCode::Char(c) if modifiers.contains(KeyModifiers::SHIFT) => {
            if c.is_alphabetic() {
                let mut upper = c.to_uppercase();
                if let (Some(u), None) = (upper.next(), upper.next()) {
                    code = KeyCode::Char(u);
                }
                modifiers.remove(KeyModifiers::SHIFT);
            } else {
                return Err(format!(
                    "shift- cannot be combined with {:?}: write the character shift produces \
                     itself (e.g. \"?\" or \"!\")",
                    c.to_string()
                ));
            }
        }
        KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
            code = KeyCode::BackTab;
            modifiers.remove(KeyModifiers::SHIFT);
        }
        KeyCode::BackTab => modifiers.remove(KeyModifiers::SHIFT),
        _ => {}
    }
    Ok(KeyBinding { code, modifiers })
}

fn named_key(name: &str) -> Result<KeyCode, String> {
    let lower = name.to_ascii_lowercase();
    if let Some((_, code)) = NAMED_KEYS.iter().find(|(n, _)| *n == lower) {
        return Ok(*code);
    }
    if let Some(digits) = lower.strip_prefix('f')
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return match digits.parse::<u8>() {
            Ok(n @ 1..=12) => Ok(KeyCode::F(n)),
            _ => Err(format!("there is no function key \"{name}\" (f1 to f12)")),
        };
    }
    if let Some((modifier, key)) = name.split_once('-') {
        let known = MODIFIER_PREFIXES
            .iter()
            .any(|(p, _)| p.trim_end_matches('-').eq_ignore_ascii_case(modifier));
        if known && key.is_empty() {
            return Err(format!("a key is missing after \"{modifier}-\""));
        }
        if !known {
            return Err(format!(
                "unknown modifier \"{modifier}\" (use ctrl-, alt- or shift-)"
            ));
        }
    }
    if name.contains('+') && name.len() > 1 {
        return Err(format!(
            "unknown key name \"{name}\" (join modifiers with \"-\", e.g. \"ctrl-r\")"
        ));
    }
    Err(format!("unknown key name \"{name}\""))
}

impl fmt::Display for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => match NAMED_KEYS.iter().find(|(_, c)| *c == code) {
                Some((name, _)) => f.write_str(name),
                None => write!(f, "{code:?}"),
            },
        }
    }
}

impl std::str::FromStr for KeyBinding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyBinding::parse(s)
    }
}

/// Everything a key can be bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    Quit,
    Back,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Select,
    Filter,
    CommandLine,
    Help,
    Refresh,
    NextEnvironment,
    Overview,
    Services,
    Tasks,
    Databases,
    /// The EC2 hosts of the environment.
    Hosts,
    Alarms,
    Fleet,
    Activity,
    /// The timeline: events, operations, notes and marks.
    Timeline,
    /// The CloudFront distributions and their invalidations.
    CloudFront,
    /// The ElastiCache (Redis) replication groups and their nodes.
    Redis,
    /// A note on the timeline (opens `:note `).
    Note,
    Scale,
    ScalingBounds,
    DeployImage,
    Rollback,
    Restart,
    Snapshot,
    Reboot,
    /// RDS restore of the selected instance to a new one: from a snapshot
    /// or to a point in time.
    Restore,
    /// RDS `PromoteReadReplica` of the selected replica.
    Promote,
    MuteAlarm,
    /// ECS `StopTask` of the selected task.
    StopTask,
    /// CloudFront `CreateInvalidation` of the selected distribution.
    Invalidate,
    /// EC2 `StopInstances` of the selected host (the hosts view).
    StopHost,
    /// EC2 `StartInstances` of the selected host (the hosts view).
    StartHost,
    /// CodeDeploy `ContinueDeployment`: a blue/green replacement waiting
    /// for its traffic gets it.
    ContinueDeployment,
    /// ECS Exec: a shell in a container of the selected task.
    Exec,
    /// The selected resource's ARN (a log line) to the clipboard.
    Copy,
    /// Opens `:sort ` (shift + a column's letter sorts directly).
    Sort,
    // --- metrics
    MetricRange,
    // --- logs
    Logs,
    /// The logs view's own keys (they act there only).
    LogsPause,
    LogsFollow,
    LogsErrors,
    LogsJump,
    LogsWrap,
    // --- replay (`honban replay`; elsewhere they say so)
    /// Pause / resume the replay.
    ReplayPause,
    ReplayFaster,
    ReplaySlower,
    /// Seek to a time (a prompt: HH:MM[:SS] UTC or +/-offset).
    ReplaySeek,
    ReplayNextEvent,
    ReplayPreviousEvent,
    ReplayNextMark,
    ReplayPreviousMark,
}

impl Command {
    /// Every command, in the order of the help overlay.
    pub const ALL: [Command; 59] = [
        Command::Quit,
        Command::Back,
        Command::Up,
        Command::Down,
        Command::Top,
        Command::Bottom,
        Command::PageUp,
        Command::PageDown,
        Command::Select,
        Command::Filter,
        Command::CommandLine,
        Command::Help,
        Command::Refresh,
        Command::NextEnvironment,
        Command::Overview,
        Command::Services,
        Command::Tasks,
        Command::Databases,
        Command::Hosts,
        Command::Alarms,
        Command::Fleet,
        Command::Activity,
        Command::Timeline,
        Command::CloudFront,
        Command::Redis,
        Command::Note,
        Command::Scale,
        Command::ScalingBounds,
        Command::DeployImage,
        Command::Rollback,
        Command::Restart,
        Command::Snapshot,
        Command::Reboot,
        Command::Restore,
        Command::Promote,
        Command::MuteAlarm,
        Command::StopTask,
        Command::Invalidate,
        Command::StopHost,
        Command::StartHost,
        Command::ContinueDeployment,
        Command::Exec,
        Command::Copy,
        Command::Sort,
        // --- metrics
        Command::MetricRange,
        // --- logs
        Command::Logs,
        Command::LogsPause,
        Command::LogsFollow,
        Command::LogsErrors,
        Command::LogsJump,
        Command::LogsWrap,
        // --- replay
        Command::ReplayPause,
        Command::ReplayFaster,
        Command::ReplaySlower,
        Command::ReplaySeek,
        Command::ReplayNextEvent,
        Command::ReplayPreviousEvent,
        Command::ReplayNextMark,
        Command::ReplayPreviousMark,
    ];

    /// The name used in the `[keys]` table of the config file.
    pub fn name(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::Back => "back",
            Command::Up => "up",
            Command::Down => "down",
            Command::Top => "top",
            Command::Bottom => "bottom",
            Command::PageUp => "page_up",
            Command::PageDown => "page_down",
            Command::Select => "select",
            Command::Filter => "filter",
            Command::CommandLine => "command",
            Command::Help => "help",
            Command::Refresh => "refresh",
            Command::NextEnvironment => "next_environment",
            Command::Overview => "overview",
            Command::Services => "services",
            Command::Tasks => "tasks",
            Command::Databases => "databases",
            Command::Hosts => "hosts",
            Command::Alarms => "alarms",
            Command::Fleet => "fleet",
            Command::Activity => "activity",
            Command::Timeline => "timeline",
            Command::CloudFront => "cloudfront",
            Command::Redis => "redis",
            Command::Note => "note",
            Command::Scale => "scale",
            Command::ScalingBounds => "scaling_bounds",
            Command::DeployImage => "deploy_image",
            Command::Rollback => "rollback",
            Command::Restart => "restart",
            Command::Snapshot => "snapshot",
            Command::Reboot => "reboot",
            Command::Restore => "restore",
            Command::Promote => "promote",
            Command::MuteAlarm => "mute_alarm",
            Command::StopTask => "stop_task",
            Command::Invalidate => "invalidate",
            Command::StopHost => "stop_host",
            Command::StartHost => "start_host",
            Command::ContinueDeployment => "continue_deployment",
            Command::Exec => "exec",
            Command::Copy => "copy",
            Command::Sort => "sort",
            // --- metrics
            Command::MetricRange => "metric_range",
            // --- logs
            Command::Logs => "logs",
            Command::LogsPause => "logs_pause",
            Command::LogsFollow => "logs_follow",
            Command::LogsErrors => "logs_errors",
            Command::LogsJump => "logs_jump",
            Command::LogsWrap => "logs_wrap",
            // --- replay
            Command::ReplayPause => "replay_pause",
            Command::ReplayFaster => "replay_faster",
            Command::ReplaySlower => "replay_slower",
            Command::ReplaySeek => "replay_seek",
            Command::ReplayNextEvent => "replay_next_event",
            Command::ReplayPreviousEvent => "replay_previous_event",
            Command::ReplayNextMark => "replay_next_mark",
            Command::ReplayPreviousMark => "replay_previous_mark",
        }
    }

    /// A key of `honban replay` (pause, speed, seek, events, marks).
    pub fn is_replay(self) -> bool {
        matches!(
            self,
            Command::ReplayPause
                | Command::ReplayFaster
                | Command::ReplaySlower
                | Command::ReplaySeek
                | Command::ReplayNextEvent
                | Command::ReplayPreviousEvent
                | Command::ReplayNextMark
                | Command::ReplayPreviousMark
        )
    }

    /// A key that starts an operation (refused in a replay).
    pub fn is_operation(self) -> bool {
        matches!(
            self,
            Command::Scale
                | Command::ScalingBounds
                | Command::DeployImage
                | Command::Rollback
                | Command::Restart
                | Command::Snapshot
                | Command::Reboot
                | Command::Restore
                | Command::Promote
                | Command::MuteAlarm
                | Command::StopTask
                | Command::Invalidate
                | Command::StopHost
                | Command::StartHost
                | Command::ContinueDeployment
        )
    }

    /// The command of a `[keys]` name.
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }

    /// One line for the help overlay.
    pub fn description(self) -> &'static str {
        match self {
            Command::Quit => "Quit",
            Command::Back => "Back / close",
            Command::Up => "Move up",
            Command::Down => "Move down",
            Command::Top => "Go to the top",
            Command::Bottom => "Go to the bottom",
            Command::PageUp => "Page up",
            Command::PageDown => "Page down",
            Command::Select => "Open, drill down",
            Command::Filter => "Filter the list",
            Command::CommandLine => "Command line",
            Command::Help => "Show this help",
            Command::Refresh => "Refresh now",
            Command::NextEnvironment => "Next environment",
            Command::Overview => "Overview",
            Command::Services => "ECS services",
            Command::Tasks => "ECS tasks",
            Command::Databases => "RDS databases",
            Command::Hosts => "EC2 hosts",
            Command::Alarms => "Alarms",
            Command::Fleet => "All environments",
            Command::Activity => "Operations log",
            Command::Timeline => "Timeline",
            Command::CloudFront => "CloudFront",
            Command::Redis => "Redis caches",
            Command::Note => "Note (timeline)",
            Command::Scale => "Scale a service",
            Command::ScalingBounds => "Scaling min/max",
            Command::DeployImage => "Deploy new image",
            Command::Rollback => "Roll back / stop",
            Command::Restart => "Restart service",
            Command::Snapshot => "Snapshot DB",
            Command::Reboot => "Reboot DB/host",
            Command::Restore => "Restore DB (new)",
            Command::Promote => "Promote replica",
            Command::MuteAlarm => "Mute / unmute",
            Command::StopTask => "Stop a task",
            Command::Invalidate => "Invalidate cache",
            Command::StopHost => "Stop host",
            Command::StartHost => "Start host",
            Command::ContinueDeployment => "Continue b/g",
            Command::Exec => "Shell (ECS Exec)",
            Command::Copy => "Copy ARN / line",
            Command::Sort => "Sort by a column",
            // --- metrics
            Command::MetricRange => "Chart time range",
            // --- logs
            Command::Logs => "Logs",
            Command::LogsPause => "Logs: pause",
            Command::LogsFollow => "Logs: follow",
            Command::LogsErrors => "Logs: errors",
            Command::LogsJump => "Logs: jump to",
            Command::LogsWrap => "Logs: wrap",
            // --- replay
            Command::ReplayPause => "Replay: pause",
            Command::ReplayFaster => "Replay: faster",
            Command::ReplaySlower => "Replay: slower",
            Command::ReplaySeek => "Replay: seek",
            Command::ReplayNextEvent => "Next event",
            Command::ReplayPreviousEvent => "Previous event",
            Command::ReplayNextMark => "Next mark",
            Command::ReplayPreviousMark => "Previous mark",
        }
    }

    /// The default keys (k9s / e1s conventions), in config syntax.
    pub fn default_keys(self) -> &'static [&'static str] {
        match self {
            Command::Quit => &["q", "ctrl-c"],
            Command::Back => &["esc"],
            Command::Up => &["k", "up"],
            Command::Down => &["j", "down"],
            Command::Top => &["g", "home"],
            Command::Bottom => &["G", "end"],
            Command::PageUp => &["pageup", "ctrl-b"],
            Command::PageDown => &["pagedown", "ctrl-f"],
            Command::Select => &["enter"],
            Command::Filter => &["/"],
            Command::CommandLine => &[":"],
            Command::Help => &["?"],
            Command::Refresh => &["ctrl-r"],
            Command::NextEnvironment => &["tab"],
            Command::Overview => &["1"],
            Command::Services => &["2"],
            Command::Tasks => &["3"],
            Command::Databases => &["4"],
            Command::Hosts => &["9"],
            Command::Alarms => &["5"],
            Command::Fleet => &["0"],
            Command::Activity => &["6"],
            Command::Timeline => &["7"],
            Command::CloudFront => &["8"],
            Command::Redis => &["E"],
            Command::Note => &["N"],
            Command::Scale => &["s"],
            Command::ScalingBounds => &["A"],
            Command::DeployImage => &["i"],
            Command::Rollback => &["b"],
            Command::Restart => &["r"],
            Command::Snapshot => &["n"],
            Command::Reboot => &["F"],
            Command::Restore => &["u"],
            Command::Promote => &["ctrl-p"],
            Command::MuteAlarm => &["m"],
            Command::StopTask => &["ctrl-k"],
            Command::Invalidate => &["V"],
            Command::StopHost => &["S"],
            Command::StartHost => &["T"],
            Command::ContinueDeployment => &["C"],
            // k9s and e1s use `s` for a shell; here `s` scales.
            Command::Exec => &["x"],
            Command::Copy => &["y"],
            Command::Sort => &["o"],
            // --- metrics
            Command::MetricRange => &["R"],
            // --- logs
            Command::Logs => &["l"],
            Command::LogsPause => &["space"],
            Command::LogsFollow => &["f"],
            Command::LogsErrors => &["e"],
            Command::LogsJump => &["t"],
            Command::LogsWrap => &["w"],
            // --- replay
            Command::ReplayPause => &["P"],
            Command::ReplayFaster => &[">"],
            Command::ReplaySlower => &["<"],
            Command::ReplaySeek => &["@"],
            Command::ReplayNextEvent => &["]"],
            Command::ReplayPreviousEvent => &["["],
            Command::ReplayNextMark => &["}"],
            Command::ReplayPreviousMark => &["{"],
        }
    }

    /// The names of every command, for error messages.
    pub fn names() -> Vec<&'static str> {
        Command::ALL.iter().map(|c| c.name()).collect()
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `ctrl-c`, which always quits.
pub const CTRL_C: KeyBinding = KeyBinding {
    code: KeyCode::Char('c'),
    modifiers: KeyModifiers::CONTROL,
};

/// Where a binding acts: in every view, in one view, or in a replay.
///
/// A key is looked up in the replay's bindings (in a replay), then the
/// view's, then the global ones; a key may so mean different commands in
/// places that are never on screen together (two views, the logs view and
/// a replay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every view: the fallback of the others (`[keys]`).
    Global,
    /// One view (`[keys.view.services]`, `[keys.view.logs]`, ...).
    View(ViewKind),
    /// `honban replay`, whichever view it shows (`[keys.replay]`).
    Replay,
}

/// The tables of `[keys]` (`[keys.view.NAME]`, `[keys.replay]`) by their
/// path under `[keys]`, in the order error messages list them. (A view's
/// table is under `view` because `[keys]` has commands named like views.)
pub const SECTIONS: [(&str, Scope); 18] = [
    ("view.overview", Scope::View(ViewKind::Overview)),
    ("view.services", Scope::View(ViewKind::Services)),
    ("view.service_detail", Scope::View(ViewKind::ServiceDetail)),
    ("view.tasks", Scope::View(ViewKind::Tasks)),
    ("view.task_detail", Scope::View(ViewKind::TaskDetail)),
    ("view.databases", Scope::View(ViewKind::Databases)),
    ("view.hosts", Scope::View(ViewKind::Hosts)),
    ("view.alarms", Scope::View(ViewKind::Alarms)),
    ("view.alarm_detail", Scope::View(ViewKind::AlarmDetail)),
    ("view.activity", Scope::View(ViewKind::Activity)),
    ("view.timeline", Scope::View(ViewKind::Timeline)),
    ("view.cloudfront", Scope::View(ViewKind::CloudFront)),
    ("view.redis", Scope::View(ViewKind::Redis)),
    ("view.redis_group", Scope::View(ViewKind::RedisGroup)),
    ("view.fleet", Scope::View(ViewKind::Fleet)),
    ("view.diagnostics", Scope::View(ViewKind::Diagnostics)),
    ("view.logs", Scope::View(ViewKind::Logs)),
    ("replay", Scope::Replay),
];

impl Scope {
    /// The `[keys.SECTION]` of a view or the replay (`None`: `[keys]`).
    pub fn section(self) -> Option<&'static str> {
        SECTIONS.iter().find(|(_, s)| *s == self).map(|(n, _)| *n)
    }

    /// The scope of a `[keys.SECTION]` name.
    pub fn from_section(name: &str) -> Option<Scope> {
        SECTIONS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    /// `the logs view`, `a replay`, for messages.
    pub fn describe(self) -> String {
        match self {
            Scope::Global => "every view".to_string(),
            Scope::Replay => "a replay".to_string(),
            Scope::View(_) => format!(
                "the {} view",
                self.section()
                    .and_then(|s| s.strip_prefix("view."))
                    .unwrap_or("")
                    .replace('_', " ")
            ),
        }
    }

    /// Whether the bindings of both scopes can be in use at once.
    fn meets(self, other: Scope) -> bool {
        match (self, other) {
            (a, b) if a == b => true,
            (Scope::Global, _) | (_, Scope::Global) => true,
            // The logs view is not replayed.
            (Scope::View(v), Scope::Replay) | (Scope::Replay, Scope::View(v)) => {
                v != ViewKind::Logs
            }
            (Scope::View(_), Scope::View(_)) | (Scope::Replay, Scope::Replay) => false,
        }
    }
}

impl Command {
    /// Where the command's `[keys]` entry (and its default keys) bind it:
    /// the logs view's keys in the logs view, the replay's in a replay,
    /// every other command everywhere.
    pub fn home(self) -> Scope {
        match self {
            Command::LogsPause
            | Command::LogsFollow
            | Command::LogsErrors
            | Command::LogsJump
            | Command::LogsWrap => Scope::View(ViewKind::Logs),
            Command::StopHost | Command::StartHost => Scope::View(ViewKind::Hosts),
            c if c.is_replay() => Scope::Replay,
            _ => Scope::Global,
        }
    }

    /// Whether the command does anything in a replay (operations, ECS
    /// Exec, refresh, notes and the logs view are refused there, so a
    /// replay key may share their keys).
    pub fn applies_in_replay(self) -> bool {
        !(self.is_operation()
            || matches!(
                self,
                Command::Exec | Command::Refresh | Command::Note | Command::Logs
            )
            || self.home() == Scope::View(ViewKind::Logs))
    }

    /// Whether `[keys.SECTION]` of `scope` may bind the command.
    fn bindable_in(self, scope: Scope) -> bool {
        let home = self.home();
        home == scope
            || (home == Scope::Global && (scope != Scope::Replay || self.applies_in_replay()))
    }
}

/// Where keys are read: the view on screen, and whether it is a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyContext {
    pub view: ViewKind,
    pub replay: bool,
}

impl KeyContext {
    /// A view of the live console.
    pub fn live(view: ViewKind) -> Self {
        KeyContext {
            view,
            replay: false,
        }
    }

    /// The scopes looked up, first to last.
    pub fn scopes(self) -> impl Iterator<Item = Scope> {
        [
            self.replay.then_some(Scope::Replay),
            Some(Scope::View(self.view)),
            Some(Scope::Global),
        ]
        .into_iter()
        .flatten()
    }

    /// Whether `scope`'s bindings are looked up here.
    pub fn has(self, scope: Scope) -> bool {
        self.scopes().any(|s| s == scope)
    }
}

/// The `[keys]` table as written: `command = keys` entries (each in the
/// command's [`home`](Command::home) scope) and the `[keys.view.VIEW]` and
/// `[keys.replay]` tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeysConfig {
    /// `command = keys` at the top of `[keys]`.
    pub commands: BTreeMap<String, Vec<String>>,
    /// The tables of `[keys]` by their path (`view.services`, `replay`):
    /// their `command = keys` entries.
    pub sections: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// Which command each key runs, per scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: BTreeMap<(Scope, Command), Vec<KeyBinding>>,
}

/// Where a key of the file is: its `[keys.SECTION]` (`None`: `[keys]`) and
/// its index in the command's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin {
    pub section: Option<&'static str>,
    pub index: usize,
}

/// One binding, for a conflict's message: `at` is `None` for a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    pub command: Command,
    pub scope: Scope,
    pub at: Option<Origin>,
}

/// What is wrong with a `[keys]` table, with indices to find the place in
/// the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeymapError {
    /// An entry whose name is not a command (in `[keys.SECTION]` when
    /// `section` is set).
    UnknownCommand {
        section: Option<String>,
        name: String,
    },
    /// A `[keys.SECTION]` that names no view.
    UnknownSection(String),
    /// Key `index` of command `command` does not parse.
    BadKey {
        section: Option<String>,
        command: String,
        index: usize,
        key: String,
        reason: String,
    },
    /// A command bound in a section where it does nothing.
    Misplaced { section: String, command: Command },
    /// A command bound both in `[keys]` and in the section of its scope.
    Twice { section: String, command: Command },
    /// The same key is bound to two commands where both are in use.
    Conflict {
        key: KeyBinding,
        first: Bound,
        second: Bound,
    },
}

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = |section: &Option<String>| match section {
            Some(s) => format!("[keys.{s}]"),
            None => "[keys]".to_string(),
        };
        match self {
            KeymapError::UnknownCommand { section, name } => write!(
                f,
                "unknown command \"{name}\" in {}; commands: {}",
                table(section),
                Command::names().join(", ")
            ),
            KeymapError::UnknownSection(name) => write!(
                f,
                "unknown table [keys.{name}]; the tables of [keys] are [keys.replay] and [keys.view.VIEW] for one of the views: {}",
                SECTIONS
                    .iter()
                    .filter_map(|(n, _)| n.strip_prefix("view."))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            KeymapError::BadKey {
                command,
                key,
                reason,
                ..
            } => write!(
                f,
                "invalid key \"{key}\" for {command}: {reason}; {KEY_SYNTAX_HINT}"
            ),
            KeymapError::Misplaced { section, command } => {
                let home = command.home();
                let where_ = match home.section() {
                    Some(s) => format!("in [keys] or [keys.{s}]"),
                    None => "in [keys] or a view's [keys.view.VIEW]".to_string(),
                };
                if home == Scope::Global {
                    write!(
                        f,
                        "{command} does nothing in a replay, so [keys.{section}] cannot bind it; bind it {where_}"
                    )
                } else {
                    write!(
                        f,
                        "{command} acts in {} only, so [keys.{section}] cannot bind it; bind it {where_}",
                        home.describe()
                    )
                }
            }
            KeymapError::Twice { section, command } => write!(
                f,
                "{command} is bound both in [keys] and in [keys.{section}]; keep one of them"
            ),
            KeymapError::Conflict { key, first, second } => {
                if *key == CTRL_C {
                    let other = if first.command == Command::Quit {
                        second.command
                    } else {
                        first.command
                    };
                    return write!(f, "\"ctrl-c\" always quits and cannot be bound to {other}");
                }
                let describe = |b: &Bound| match b.at {
                    None => format!("{} (by default)", b.command),
                    Some(Origin {
                        section: Some(s), ..
                    }) if Scope::from_section(s) != Some(b.command.home()) => {
                        format!("{} in [keys.{s}]", b.command)
                    }
                    Some(_) => b.command.to_string(),
                };
                // Where both are in use: the narrower scope.
                let place = if first.scope == Scope::Global {
                    second.scope
                } else {
                    first.scope
                };
                let (prefix, tables) = match place.section() {
                    Some(s) => (
                        format!("in {}, ", place.describe()),
                        format!("[keys] or [keys.{s}]"),
                    ),
                    None => (String::new(), "[keys]".to_string()),
                };
                write!(
                    f,
                    "{prefix}key \"{key}\" is bound to both {} and {}; give one of them other keys in {tables}",
                    describe(first),
                    describe(second)
                )
            }
        }
    }
}

impl Keymap {
    /// The default keymap.
    pub fn defaults() -> Keymap {
        let mut bindings = BTreeMap::new();
        for cmd in Command::ALL {
            let keys = cmd
                .default_keys()
                .iter()
                .filter_map(|k| KeyBinding::parse(k).ok())
                .collect();
            bindings.insert((cmd.home(), cmd), keys);
        }
        Keymap { bindings }
    }

    /// The defaults with the `[keys]` entries of `config` in place of the
    /// defaults of their commands. `ctrl-c` always quits.
    ///
    /// Errors are reported with positions when the config is loaded, so
    /// this does not fail for a loaded config.
    pub fn from_config(config: &Config) -> Result<Keymap, String> {
        build_keymap(&config.keys).map_err(|e| e.to_string())
    }

    /// The command a key event runs in `ctx`, if any: the replay's
    /// bindings first (in a replay), then the view's, then the global
    /// ones. Key releases run nothing; `ctrl-c` is always
    /// [`Command::Quit`].
    pub fn command_for(&self, ev: &KeyEvent, ctx: KeyContext) -> Option<Command> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        if CTRL_C.matches(ev) {
            return Some(Command::Quit);
        }
        self.resolve(ctx, |k| k.matches(ev))
    }

    /// The command of the first scope of `ctx` with a key `hit` accepts.
    fn resolve(&self, ctx: KeyContext, hit: impl Fn(&KeyBinding) -> bool) -> Option<Command> {
        ctx.scopes().find_map(|scope| {
            self.bindings
                .iter()
                .filter(|((s, _), _)| *s == scope)
                .find(|(_, keys)| keys.iter().any(&hit))
                .map(|((_, cmd), _)| *cmd)
        })
    }

    /// The keys that run `cmd` in `ctx` (possibly none): the view's or the
    /// replay's own first, then the global ones.
    pub fn keys_for(&self, cmd: Command, ctx: KeyContext) -> Vec<KeyBinding> {
        let mut keys: Vec<KeyBinding> = Vec::new();
        for scope in ctx.scopes() {
            for k in self.bindings.get(&(scope, cmd)).into_iter().flatten() {
                let runs = *k == CTRL_C || self.resolve(ctx, |b| b == k) == Some(cmd);
                if runs && !keys.contains(k) {
                    keys.push(*k);
                }
            }
        }
        keys
    }

    /// The first key of `cmd` in `ctx`, as the help writes it: for hints
    /// and messages that name a key.
    pub fn key_for(&self, cmd: Command, ctx: KeyContext) -> Option<String> {
        self.keys_for(cmd, ctx).first().map(ToString::to_string)
    }

    /// The keys of a command in its [`home`](Command::home) scope (where
    /// `[keys]` binds it), whether or not that scope is in use.
    pub fn home_keys(&self, cmd: Command) -> &[KeyBinding] {
        self.bindings
            .get(&(cmd.home(), cmd))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Rows for the help overlay: each command's keys in its home scope
    /// joined with ", " and the description, in [`Command::ALL`] order.
    pub fn help_rows(&self) -> Vec<(String, &'static str)> {
        Command::ALL
            .into_iter()
            .map(|cmd| (join(self.home_keys(cmd)), cmd.description()))
            .collect()
    }

    /// The help's rows in `ctx` for the commands `keep` keeps: the keys
    /// that run each there (a command of a scope not in use, like the
    /// logs view's, shows the keys it has in its own).
    pub fn help_rows_of(
        &self,
        ctx: KeyContext,
        keep: impl Fn(Command) -> bool,
    ) -> Vec<(String, &'static str)> {
        Command::ALL
            .into_iter()
            .filter(|c| keep(*c))
            .map(|cmd| {
                let keys = if ctx.has(cmd.home()) {
                    join(&self.keys_for(cmd, ctx))
                } else {
                    join(self.home_keys(cmd))
                };
                (keys, cmd.description())
            })
            .collect()
    }
}

fn join(keys: &[KeyBinding]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::defaults()
    }
}

/// Keys, each with its place in the file (`None`: a default).
type Placed = Vec<(KeyBinding, Option<Origin>)>;

/// The parsed keys of one entry, each with its place in the file.
fn parse_entry(
    section: Option<&'static str>,
    name: &str,
    keys: &[String],
) -> Result<Placed, KeymapError> {
    keys.iter()
        .enumerate()
        .map(|(index, key)| {
            KeyBinding::parse(key)
                .map(|b| (b, Some(Origin { section, index })))
                .map_err(|reason| KeymapError::BadKey {
                    section: section.map(str::to_string),
                    command: name.to_string(),
                    index,
                    key: key.clone(),
                    reason,
                })
        })
        .collect()
}

/// Builds the keymap of a `[keys]` table, reporting the first mistake.
///
/// A conflict is the same key bound to two commands whose scopes are in
/// use together ([`Scope::meets`]); a replay binding does not conflict
/// with a command that does nothing in a replay.
pub(crate) fn build_keymap(user: &KeysConfig) -> Result<Keymap, KeymapError> {
    // The user's entries: (scope, command) → keys with their places.
    let mut entries: BTreeMap<(Scope, Command), Placed> = BTreeMap::new();
    for (name, keys) in &user.commands {
        let cmd = Command::from_name(name).ok_or_else(|| KeymapError::UnknownCommand {
            section: None,
            name: name.clone(),
        })?;
        entries.insert((cmd.home(), cmd), parse_entry(None, name, keys)?);
    }
    for (section, table) in &user.sections {
        let Some((section, scope)) = SECTIONS.iter().find(|(n, _)| n == section).copied() else {
            return Err(KeymapError::UnknownSection(section.clone()));
        };
        for (name, keys) in table {
            let cmd = Command::from_name(name).ok_or_else(|| KeymapError::UnknownCommand {
                section: Some(section.to_string()),
                name: name.clone(),
            })?;
            if !cmd.bindable_in(scope) {
                return Err(KeymapError::Misplaced {
                    section: section.to_string(),
                    command: cmd,
                });
            }
            if cmd.home() == scope && user.commands.contains_key(name) {
                return Err(KeymapError::Twice {
                    section: section.to_string(),
                    command: cmd,
                });
            }
            entries.insert((scope, cmd), parse_entry(Some(section), name, keys)?);
        }
    }

    // Every command in its home scope (the user's keys or the defaults),
    // in the help's order, then the sections' extra bindings.
    let mut order: Vec<((Scope, Command), Placed)> = Vec::new();
    for cmd in Command::ALL {
        let at = (cmd.home(), cmd);
        let mut keys = match entries.remove(&at) {
            Some(list) => list,
            None => cmd
                .default_keys()
                .iter()
                .filter_map(|k| KeyBinding::parse(k).ok())
                .map(|k| (k, None))
                .collect(),
        };
        if cmd == Command::Quit && !keys.iter().any(|(k, _)| *k == CTRL_C) {
            keys.push((CTRL_C, None));
        }
        order.push((at, keys));
    }
    order.extend(entries);

    let mut bindings: BTreeMap<(Scope, Command), Vec<KeyBinding>> = BTreeMap::new();
    let mut owners: HashMap<KeyBinding, Vec<Bound>> = HashMap::new();
    for ((scope, cmd), keys) in order {
        let mut list: Vec<KeyBinding> = Vec::with_capacity(keys.len());
        for (key, at) in keys {
            if list.contains(&key) {
                continue;
            }
            let this = Bound {
                command: cmd,
                scope,
                at,
            };
            let seen = owners.entry(key).or_default();
            if let Some(first) = seen.iter().find(|b| clash(key, b, &this)) {
                return Err(KeymapError::Conflict {
                    key,
                    first: *first,
                    second: this,
                });
            }
            seen.push(this);
            list.push(key);
        }
        bindings.insert((scope, cmd), list);
    }
    Ok(Keymap { bindings })
}

/// Whether two bindings of `key` cannot both stand.
fn clash(key: KeyBinding, a: &Bound, b: &Bound) -> bool {
    if a.command == b.command {
        return false;
    }
    if key == CTRL_C {
        return true;
    }
    if !a.scope.meets(b.scope) {
        return false;
    }
    // In a replay the replay's key wins over a command refused there.
    match (a.scope, b.scope) {
        (Scope::Replay, Scope::Replay) => true,
        (Scope::Replay, _) => b.command.applies_in_replay(),
        (_, Scope::Replay) => a.command.applies_in_replay(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventState;

    fn ev(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn parses_the_documented_syntax() {
        let cases: &[(&str, KeyCode, KeyModifiers)] = &[
            ("q", KeyCode::Char('q'), KeyModifiers::NONE),
            ("G", KeyCode::Char('G'), KeyModifiers::NONE),
            ("ctrl-c", KeyCode::Char('c'), KeyModifiers::CONTROL),
            ("ctrl-r", KeyCode::Char('r'), KeyModifiers::CONTROL),
            ("alt-x", KeyCode::Char('x'), KeyModifiers::ALT),
            ("enter", KeyCode::Enter, KeyModifiers::NONE),
            ("esc", KeyCode::Esc, KeyModifiers::NONE),
            ("tab", KeyCode::Tab, KeyModifiers::NONE),
            ("backtab", KeyCode::BackTab, KeyModifiers::NONE),
            ("shift-tab", KeyCode::BackTab, KeyModifiers::NONE),
            ("space", KeyCode::Char(' '), KeyModifiers::NONE),
            ("backspace", KeyCode::Backspace, KeyModifiers::NONE),
            ("up", KeyCode::Up, KeyModifiers::NONE),
            ("down", KeyCode::Down, KeyModifiers::NONE),
            ("left", KeyCode::Left, KeyModifiers::NONE),
            ("right", KeyCode::Right, KeyModifiers::NONE),
            ("pageup", KeyCode::PageUp, KeyModifiers::NONE),
            ("pagedown", KeyCode::PageDown, KeyModifiers::NONE),
            ("home", KeyCode::Home, KeyModifiers::NONE),
            ("end", KeyCode::End, KeyModifiers::NONE),
            ("f1", KeyCode::F(1), KeyModifiers::NONE),
            ("f12", KeyCode::F(12), KeyModifiers::NONE),
            (":", KeyCode::Char(':'), KeyModifiers::NONE),
            ("/", KeyCode::Char('/'), KeyModifiers::NONE),
            ("?", KeyCode::Char('?'), KeyModifiers::NONE),
            ("-", KeyCode::Char('-'), KeyModifiers::NONE),
            ("ctrl--", KeyCode::Char('-'), KeyModifiers::CONTROL),
            ("shift-g", KeyCode::Char('G'), KeyModifiers::NONE),
            (
                "Ctrl-Alt-Up",
                KeyCode::Up,
                KeyModifiers::CONTROL.union(KeyModifiers::ALT),
            ),
            ("shift-up", KeyCode::Up, KeyModifiers::SHIFT),
            ("ENTER", KeyCode::Enter, KeyModifiers::NONE),
        ];
        for (text, code, modifiers) in cases {
            let parsed = KeyBinding::parse(text);
            assert_eq!(
                parsed,
                Ok(KeyBinding {
                    code: *code,
                    modifiers: *modifiers
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_bad_keys_with_a_reason() {
        let cases = [
            ("", "empty"),
            ("ctrl+", "join modifiers with \"-\""),
            ("ctrl+c", "join modifiers with \"-\""),
            ("hyper-x", "unknown modifier \"hyper\""),
            ("f99", "no function key \"f99\" (f1 to f12)"),
            ("f0", "no function key"),
            ("ctrl-", "a key is missing after \"ctrl-\""),
            ("ctrl-ctrl-x", "twice"),
            ("shift-1", "shift- cannot be combined"),
            ("bogus", "unknown key name \"bogus\""),
            ("\t", "control character"),
        ];
        for (text, expected) in cases {
            let err = KeyBinding::parse(text).expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn display_round_trips() {
        let texts = [
            "q",
            "G",
            "ctrl-c",
            "alt-x",
            "enter",
            "esc",
            "tab",
            "backtab",
            "space",
            "backspace",
            "up",
            "down",
            "left",
            "right",
            "pageup",
            "pagedown",
            "home",
            "end",
            "f1",
            "f12",
            ":",
            "/",
            "?",
            "ctrl-alt-up",
            "shift-end",
            "delete",
            "insert",
            "ctrl--",
        ];
        for text in texts {
            let key = KeyBinding::parse(text).expect(text);
            assert_eq!(key.to_string(), text);
            assert_eq!(KeyBinding::parse(&key.to_string()), Ok(key));
        }
        // Aliases display canonically.
        assert_eq!(
            KeyBinding::parse("escape").map(|k| k.to_string()),
            Ok("esc".into())
        );
        assert_eq!(
            KeyBinding::parse("shift-tab").map(|k| k.to_string()),
            Ok("backtab".into())
        );
        assert_eq!(
            KeyBinding::parse("shift-g").map(|k| k.to_string()),
            Ok("G".into())
        );
    }

    #[test]
    fn matching_is_lenient_about_shift_for_characters() {
        let big_g = KeyBinding::parse("G").expect("G");
        assert!(big_g.matches(&ev(KeyCode::Char('G'), KeyModifiers::NONE)));
        assert!(big_g.matches(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(big_g.matches(&ev(KeyCode::Char('g'), KeyModifiers::SHIFT)));
        assert!(!big_g.matches(&ev(KeyCode::Char('g'), KeyModifiers::NONE)));

        let small_g = KeyBinding::parse("g").expect("g");
        assert!(small_g.matches(&ev(KeyCode::Char('g'), KeyModifiers::NONE)));
        assert!(!small_g.matches(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)));

        let question = KeyBinding::parse("?").expect("?");
        assert!(question.matches(&ev(KeyCode::Char('?'), KeyModifiers::SHIFT)));
        assert!(question.matches(&ev(KeyCode::Char('?'), KeyModifiers::NONE)));

        let ctrl_r = KeyBinding::parse("ctrl-r").expect("ctrl-r");
        assert!(ctrl_r.matches(&ev(KeyCode::Char('r'), KeyModifiers::CONTROL)));
        assert!(!ctrl_r.matches(&ev(KeyCode::Char('r'), KeyModifiers::NONE)));
        assert!(!ctrl_r.matches(&ev(KeyCode::Char('r'), KeyModifiers::ALT)));

        let backtab = KeyBinding::parse("backtab").expect("backtab");
        assert!(backtab.matches(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)));

        let up = KeyBinding::parse("up").expect("up");
        assert!(!up.matches(&ev(KeyCode::Up, KeyModifiers::SHIFT)));
    }

    #[test]
    fn command_names_round_trip() {
        for cmd in Command::ALL {
            assert_eq!(Command::from_name(cmd.name()), Some(cmd));
            assert!(!cmd.description().is_empty());
            for key in cmd.default_keys() {
                assert!(KeyBinding::parse(key).is_ok(), "{cmd}: {key}");
            }
        }
        assert_eq!(Command::from_name("command"), Some(Command::CommandLine));
        assert_eq!(Command::from_name("nope"), None);
    }

    const SERVICES: KeyContext = KeyContext {
        view: ViewKind::Services,
        replay: false,
    };
    const LOGS: KeyContext = KeyContext {
        view: ViewKind::Logs,
        replay: false,
    };
    const REPLAY: KeyContext = KeyContext {
        view: ViewKind::Services,
        replay: true,
    };

    fn key(text: &str) -> KeyBinding {
        KeyBinding::parse(text).expect(text)
    }

    /// The event a terminal sends for a key of the config syntax.
    fn press(text: &str) -> KeyEvent {
        let k = key(text);
        ev(k.code, k.modifiers)
    }

    /// `[keys]` entries, then `[keys.SECTION]` entries.
    fn config(commands: &[(&str, &[&str])], sections: &[(&str, &str, &[&str])]) -> KeysConfig {
        let list = |keys: &[&str]| keys.iter().map(ToString::to_string).collect::<Vec<_>>();
        let mut c = KeysConfig::default();
        for (name, keys) in commands {
            c.commands.insert(name.to_string(), list(keys));
        }
        for (section, name, keys) in sections {
            c.sections
                .entry(section.to_string())
                .or_default()
                .insert(name.to_string(), list(keys));
        }
        c
    }

    #[test]
    fn default_keymap() {
        let map = Keymap::defaults();
        assert_eq!(build_keymap(&KeysConfig::default()), Ok(map.clone()));
        let cases = [
            (KeyCode::Char('q'), KeyModifiers::NONE, Command::Quit),
            (KeyCode::Char('c'), KeyModifiers::CONTROL, Command::Quit),
            (KeyCode::Esc, KeyModifiers::NONE, Command::Back),
            (KeyCode::Char('k'), KeyModifiers::NONE, Command::Up),
            (KeyCode::Down, KeyModifiers::NONE, Command::Down),
            (KeyCode::Char('g'), KeyModifiers::NONE, Command::Top),
            (KeyCode::Char('G'), KeyModifiers::SHIFT, Command::Bottom),
            (KeyCode::Char('b'), KeyModifiers::CONTROL, Command::PageUp),
            (KeyCode::PageDown, KeyModifiers::NONE, Command::PageDown),
            (KeyCode::Enter, KeyModifiers::NONE, Command::Select),
            (KeyCode::Char('/'), KeyModifiers::NONE, Command::Filter),
            (
                KeyCode::Char(':'),
                KeyModifiers::SHIFT,
                Command::CommandLine,
            ),
            (KeyCode::Char('?'), KeyModifiers::SHIFT, Command::Help),
            (KeyCode::Char('r'), KeyModifiers::CONTROL, Command::Refresh),
            (KeyCode::Tab, KeyModifiers::NONE, Command::NextEnvironment),
            (KeyCode::Char('1'), KeyModifiers::NONE, Command::Overview),
            (KeyCode::Char('5'), KeyModifiers::NONE, Command::Alarms),
            (KeyCode::Char('0'), KeyModifiers::NONE, Command::Fleet),
        ];
        for (code, modifiers, cmd) in cases {
            for ctx in [SERVICES, LOGS, REPLAY] {
                assert_eq!(
                    map.command_for(&ev(code, modifiers), ctx),
                    Some(cmd),
                    "{code:?}"
                );
            }
        }
        assert_eq!(map.command_for(&press("z"), SERVICES), None);
        let release = KeyEvent {
            code: KeyCode::Char('q'),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        };
        assert_eq!(map.command_for(&release, SERVICES), None);
    }

    #[test]
    fn the_logs_and_replay_keys_act_in_their_scope_only() {
        let map = Keymap::defaults();
        // The logs view's keys: there only.
        assert_eq!(
            map.command_for(&press("f"), LOGS),
            Some(Command::LogsFollow)
        );
        assert_eq!(
            map.command_for(&press("space"), LOGS),
            Some(Command::LogsPause)
        );
        assert_eq!(map.command_for(&press("f"), SERVICES), None);
        assert_eq!(map.command_for(&press("space"), REPLAY), None);
        // The replay's keys: in a replay only.
        assert_eq!(
            map.command_for(&press("P"), REPLAY),
            Some(Command::ReplayPause)
        );
        assert_eq!(
            map.command_for(&press("]"), REPLAY),
            Some(Command::ReplayNextEvent)
        );
        assert_eq!(map.command_for(&press("P"), SERVICES), None);
        assert_eq!(map.command_for(&press("["), LOGS), None);
        // Global keys everywhere.
        assert_eq!(map.command_for(&press("s"), LOGS), Some(Command::Scale));
        // Hints name the keys that act where they are asked for.
        assert_eq!(map.key_for(Command::LogsWrap, LOGS).as_deref(), Some("w"));
        assert_eq!(map.key_for(Command::LogsWrap, SERVICES), None);
        assert_eq!(
            map.key_for(Command::ReplaySeek, REPLAY).as_deref(),
            Some("@")
        );
        assert_eq!(map.key_for(Command::ReplaySeek, SERVICES), None);
        assert_eq!(map.key_for(Command::Quit, LOGS).as_deref(), Some("q"));
    }

    #[test]
    fn a_view_section_binds_a_command_in_that_view_on_top_of_its_global_keys() {
        let map = build_keymap(&config(&[], &[("view.services", "exec", &["e"])])).expect("keymap");
        assert_eq!(map.command_for(&press("e"), SERVICES), Some(Command::Exec));
        assert_eq!(map.command_for(&press("x"), SERVICES), Some(Command::Exec));
        // In the logs view `e` is still the errors filter; elsewhere nothing.
        assert_eq!(
            map.command_for(&press("e"), LOGS),
            Some(Command::LogsErrors)
        );
        let tasks = KeyContext::live(ViewKind::Tasks);
        assert_eq!(map.command_for(&press("e"), tasks), None);
        // The view's own key comes first in its hints.
        assert_eq!(map.key_for(Command::Exec, SERVICES).as_deref(), Some("e"));
        assert_eq!(map.key_for(Command::Exec, tasks).as_deref(), Some("x"));
        // `[keys.view.logs]` is the same as the flat entry for the logs keys.
        let a = build_keymap(&config(&[("logs_follow", &["L"])], &[])).expect("flat");
        let b =
            build_keymap(&config(&[], &[("view.logs", "logs_follow", &["L"])])).expect("section");
        assert_eq!(a, b);
        // A replay key of a global command: in a replay only.
        let map = build_keymap(&config(&[], &[("replay", "timeline", &["T"])])).expect("replay");
        assert_eq!(
            map.command_for(&press("T"), REPLAY),
            Some(Command::Timeline)
        );
        assert_eq!(map.command_for(&press("T"), SERVICES), None);
    }

    #[test]
    fn replay_keys_no_longer_reserve_their_keys_in_the_console() {
        // `P` for a command that does nothing in a replay: fine, and the
        // replay's pause wins in a replay.
        let map = build_keymap(&config(&[("restart", &["P"])], &[])).expect("keymap");
        assert_eq!(
            map.command_for(&press("P"), SERVICES),
            Some(Command::Restart)
        );
        assert_eq!(
            map.command_for(&press("P"), REPLAY),
            Some(Command::ReplayPause)
        );
        assert_eq!(map.key_for(Command::Restart, REPLAY), None);
        assert_eq!(
            map.key_for(Command::Restart, SERVICES).as_deref(),
            Some("P")
        );
        // `[` in the logs view (never replayed) is fine too.
        let map = build_keymap(&config(&[], &[("view.logs", "top", &["["])])).expect("logs");
        assert_eq!(map.command_for(&press("["), LOGS), Some(Command::Top));
        assert_eq!(
            map.command_for(&press("["), REPLAY),
            Some(Command::ReplayPreviousEvent)
        );
        // Two views may give one key to different commands.
        let map = build_keymap(&config(
            &[],
            &[
                ("view.services", "exec", &["e"]),
                ("view.tasks", "copy", &["e"]),
            ],
        ))
        .expect("two views");
        let tasks = KeyContext::live(ViewKind::Tasks);
        assert_eq!(map.command_for(&press("e"), tasks), Some(Command::Copy));
        assert_eq!(map.command_for(&press("e"), SERVICES), Some(Command::Exec));
    }

    #[test]
    fn conflicts_are_per_scope() {
        let conflict = |c: &KeysConfig| match build_keymap(c) {
            Err(e @ KeymapError::Conflict { .. }) => e.to_string(),
            other => panic!("{other:?}"),
        };
        // A global key and the logs view's: both in use in the logs view.
        assert_eq!(
            conflict(&config(&[("fleet", &["0", "f"])], &[])),
            "in the logs view, key \"f\" is bound to both fleet and logs_follow (by default); \
             give one of them other keys in [keys] or [keys.view.logs]"
        );
        // A view's key and a global one.
        assert_eq!(
            conflict(&config(&[], &[("view.services", "exec", &["s"])])),
            "in the services view, key \"s\" is bound to both scale (by default) and \
             exec in [keys.view.services]; give one of them other keys in [keys] or [keys.view.services]"
        );
        // A replay key and a global command that works in a replay.
        assert_eq!(
            conflict(&config(&[("timeline", &["P"])], &[])),
            "in a replay, key \"P\" is bound to both timeline and replay_pause (by default); \
             give one of them other keys in [keys] or [keys.replay]"
        );
        // A view's key and a replay key (the view is replayed).
        assert!(
            conflict(&config(&[], &[("view.services", "timeline", &["P"])]))
                .starts_with("in a replay, key \"P\" is bound to both")
        );
        // Two keys inside one view.
        assert!(
            conflict(&config(&[], &[("view.logs", "logs_wrap", &["f"])]))
                .starts_with("in the logs view, key \"f\" is bound to both logs_follow")
        );
        // The place of the conflict is the one written in the file.
        let Err(KeymapError::Conflict { second, .. }) =
            build_keymap(&config(&[], &[("view.services", "exec", &["x", "s"])]))
        else {
            panic!("conflict");
        };
        assert_eq!(
            second.at,
            Some(Origin {
                section: Some("view.services"),
                index: 1
            })
        );
        // ctrl-c, in a section too.
        assert_eq!(
            build_keymap(&config(&[], &[("replay", "replay_pause", &["ctrl-c"])]))
                .map_err(|e| e.to_string()),
            Err("\"ctrl-c\" always quits and cannot be bound to replay_pause".to_string())
        );
    }

    #[test]
    fn section_mistakes_are_reported() {
        let err = |c: &KeysConfig| build_keymap(c).expect_err("error").to_string();
        assert!(
            err(&config(&[], &[("view.servcies", "exec", &["e"])])).starts_with(
                "unknown table [keys.view.servcies]; the tables of [keys] are [keys.replay] and \
                 [keys.view.VIEW] for one of the views: overview, services,"
            )
        );
        assert!(
            err(&config(&[], &[("view.logs", "reload", &["e"])]))
                .starts_with("unknown command \"reload\" in [keys.view.logs]; commands: quit,")
        );
        assert_eq!(
            err(&config(&[], &[("view.services", "logs_follow", &["F"])])),
            "logs_follow acts in the logs view only, so [keys.view.services] cannot bind it; \
             bind it in [keys] or [keys.view.logs]"
        );
        assert_eq!(
            err(&config(&[], &[("replay", "scale", &["S"])])),
            "scale does nothing in a replay, so [keys.replay] cannot bind it; \
             bind it in [keys] or a view's [keys.view.VIEW]"
        );
        assert_eq!(
            err(&config(
                &[("logs_pause", &["p"])],
                &[("view.logs", "logs_pause", &["P"])]
            )),
            "logs_pause is bound both in [keys] and in [keys.view.logs]; keep one of them"
        );
        assert_eq!(
            build_keymap(&config(&[], &[("view.logs", "logs_jump", &["f99"])])),
            Err(KeymapError::BadKey {
                section: Some("view.logs".into()),
                command: "logs_jump".into(),
                index: 0,
                key: "f99".into(),
                reason: "there is no function key \"f99\" (f1 to f12)".into(),
            })
        );
    }

    #[test]
    fn help_rows_in_a_context() {
        let map = build_keymap(&config(&[], &[("view.services", "exec", &["e"])])).expect("keymap");
        let exec = |ctx| {
            map.help_rows_of(ctx, |c| c == Command::Exec)
                .first()
                .map(|(k, _)| k.clone())
        };
        assert_eq!(exec(SERVICES).as_deref(), Some("e, x"));
        assert_eq!(exec(LOGS).as_deref(), Some("x"));
        // The logs view's keys are shown (as they are in the logs view)
        // from any view.
        let pause = map.help_rows_of(SERVICES, |c| c == Command::LogsPause);
        assert_eq!(pause, [("space".to_string(), "Logs: pause")]);
    }

    #[test]
    fn user_keys_replace_the_defaults_of_their_command() {
        let user = config(&[("refresh", &["L", "f5"]), ("quit", &["ctrl-q"])], &[]);
        let map = build_keymap(&user).expect("keymap");
        assert_eq!(
            map.command_for(&press("L"), SERVICES),
            Some(Command::Refresh)
        );
        assert_eq!(map.command_for(&press("ctrl-r"), SERVICES), None);
        assert_eq!(map.command_for(&press("q"), SERVICES), None);
        // ctrl-c always quits, and the help shows it.
        assert_eq!(
            map.command_for(&press("ctrl-c"), SERVICES),
            Some(Command::Quit)
        );
        let rows = map.help_rows();
        assert_eq!(rows.len(), Command::ALL.len());
        assert_eq!(rows[0], ("ctrl-q, ctrl-c".to_string(), "Quit"));
        let refresh = Command::ALL
            .iter()
            .position(|c| *c == Command::Refresh)
            .expect("refresh");
        assert_eq!(rows[refresh], ("L, f5".to_string(), "Refresh now"));
    }

    #[test]
    fn help_rows_of_the_defaults() {
        let rows = Keymap::defaults().help_rows();
        assert_eq!(rows[0], ("q, ctrl-c".to_string(), "Quit"));
        assert_eq!(rows[5], ("G, end".to_string(), "Go to the bottom"));
    }

    #[test]
    fn conflicts_and_mistakes_are_reported() {
        let one = |name: &str, keys: &[&str]| build_keymap(&config(&[(name, keys)], &[]));
        assert_eq!(
            one("overview", &["1", "g"]),
            Err(KeymapError::Conflict {
                key: key("g"),
                first: Bound {
                    command: Command::Top,
                    scope: Scope::Global,
                    at: None
                },
                second: Bound {
                    command: Command::Overview,
                    scope: Scope::Global,
                    at: Some(Origin {
                        section: None,
                        index: 1
                    })
                },
            })
        );
        assert_eq!(
            one("overview", &["1", "g"]).map_err(|e| e.to_string()),
            Err("key \"g\" is bound to both top (by default) and overview; \
                 give one of them other keys in [keys]"
                .to_string())
        );
        let err = one("refresh", &["ctrl-c"]).expect_err("ctrl-c");
        assert_eq!(
            err.to_string(),
            "\"ctrl-c\" always quits and cannot be bound to refresh"
        );
        let err = one("reload", &["r"]).expect_err("unknown");
        assert!(
            err.to_string()
                .starts_with("unknown command \"reload\" in [keys]; commands: quit, back")
        );
        assert_eq!(
            one("help", &["?", "f99"]),
            Err(KeymapError::BadKey {
                section: None,
                command: "help".into(),
                index: 1,
                key: "f99".into(),
                reason: "there is no function key \"f99\" (f1 to f12)".into(),
            })
        );
        // Repeating a key of the same command is harmless.
        assert!(one("help", &["?", "?", "f1"]).is_ok());
        // Unbinding is allowed.
        let map = one("help", &[]).expect("unbound");
        assert!(map.keys_for(Command::Help, SERVICES).is_empty());
    }
}
