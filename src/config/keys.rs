//! Key bindings: the key syntax of the config file, the bindable commands and
//! the keymap built from the defaults and the `[keys]` table.
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
                    return Err(format!("{:?} is a control character, not a key name", c));
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
    Alarms,
    Fleet,
    Activity,
    /// The timeline: events, operations, notes and marks.
    Timeline,
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
    pub const ALL: [Command; 52] = [
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
        Command::Alarms,
        Command::Fleet,
        Command::Activity,
        Command::Timeline,
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
            Command::Alarms => "alarms",
            Command::Fleet => "fleet",
            Command::Activity => "activity",
            Command::Timeline => "timeline",
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
            Command::Alarms => "Alarms",
            Command::Fleet => "All environments",
            Command::Activity => "Operations log",
            Command::Timeline => "Timeline",
            Command::Note => "Note (timeline)",
            Command::Scale => "Scale a service",
            Command::ScalingBounds => "Scaling min/max",
            Command::DeployImage => "Deploy new image",
            Command::Rollback => "Roll back",
            Command::Restart => "Restart service",
            Command::Snapshot => "Snapshot DB",
            Command::Reboot => "Reboot DB",
            Command::Restore => "Restore DB (new)",
            Command::Promote => "Promote replica",
            Command::MuteAlarm => "Mute / unmute",
            Command::StopTask => "Stop a task",
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
            Command::Alarms => &["5"],
            Command::Fleet => &["0"],
            Command::Activity => &["6"],
            Command::Timeline => &["7"],
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

/// Which command each key runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: BTreeMap<Command, Vec<KeyBinding>>,
}

/// What is wrong with a `[keys]` table, with indices to find the place in
/// the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeymapError {
    /// A `[keys]` entry whose name is not a command.
    UnknownCommand(String),
    /// Key `index` of command `command` does not parse.
    BadKey {
        command: String,
        index: usize,
        key: String,
        reason: String,
    },
    /// The same key is bound to two commands. `index` is `Some` for keys
    /// written in the file (the place to point at), `None` for defaults.
    Conflict {
        key: KeyBinding,
        first: (Command, Option<usize>),
        second: (Command, Option<usize>),
    },
}

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeymapError::UnknownCommand(name) => write!(
                f,
                "unknown command \"{name}\" in [keys]; commands: {}",
                Command::names().join(", ")
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
            KeymapError::Conflict { key, first, second } => {
                if *key == CTRL_C {
                    let other = if first.0 == Command::Quit {
                        second.0
                    } else {
                        first.0
                    };
                    return write!(f, "\"ctrl-c\" always quits and cannot be bound to {other}");
                }
                let describe = |(cmd, index): &(Command, Option<usize>)| match index {
                    Some(_) => cmd.name().to_string(),
                    None => format!("{} (by default)", cmd.name()),
                };
                write!(
                    f,
                    "key \"{key}\" is bound to both {} and {}; give one of them other keys in [keys]",
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
            bindings.insert(cmd, keys);
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

    /// The command a key event runs, if any. Key releases run nothing;
    /// `ctrl-c` is always [`Command::Quit`].
    pub fn command_for(&self, ev: &KeyEvent) -> Option<Command> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        if CTRL_C.matches(ev) {
            return Some(Command::Quit);
        }
        Command::ALL
            .into_iter()
            .find(|cmd| self.keys_for(*cmd).iter().any(|k| k.matches(ev)))
    }

    /// The keys of a command (possibly none).
    pub fn keys_for(&self, cmd: Command) -> &[KeyBinding] {
        self.bindings.get(&cmd).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Rows for the help overlay: the keys joined with ", " and the
    /// description, in [`Command::ALL`] order.
    pub fn help_rows(&self) -> Vec<(String, &'static str)> {
        self.help_rows_of(|_| true)
    }

    /// [`help_rows`](Self::help_rows) of the commands `keep` keeps.
    pub fn help_rows_of(&self, keep: impl Fn(Command) -> bool) -> Vec<(String, &'static str)> {
        Command::ALL
            .into_iter()
            .filter(|c| keep(*c))
            .map(|cmd| {
                let keys: Vec<String> = self.keys_for(cmd).iter().map(|k| k.to_string()).collect();
                (keys.join(", "), cmd.description())
            })
            .collect()
    }
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::defaults()
    }
}

/// Builds the keymap of a `[keys]` table, reporting the first mistake.
pub(crate) fn build_keymap(user: &BTreeMap<String, Vec<String>>) -> Result<Keymap, KeymapError> {
    let mut user_keys: BTreeMap<Command, Vec<(KeyBinding, usize)>> = BTreeMap::new();
    for (name, keys) in user {
        let cmd =
            Command::from_name(name).ok_or_else(|| KeymapError::UnknownCommand(name.clone()))?;
        let mut parsed = Vec::with_capacity(keys.len());
        for (index, key) in keys.iter().enumerate() {
            let binding = KeyBinding::parse(key).map_err(|reason| KeymapError::BadKey {
                command: name.clone(),
                index,
                key: key.clone(),
                reason,
            })?;
            parsed.push((binding, index));
        }
        user_keys.insert(cmd, parsed);
    }

    let mut bindings: BTreeMap<Command, Vec<KeyBinding>> = BTreeMap::new();
    let mut owner: HashMap<KeyBinding, (Command, Option<usize>)> = HashMap::new();
    for cmd in Command::ALL {
        let mut keys: Vec<(KeyBinding, Option<usize>)> = match user_keys.get(&cmd) {
            Some(list) => list.iter().map(|(k, i)| (*k, Some(*i))).collect(),
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
        let mut list: Vec<KeyBinding> = Vec::with_capacity(keys.len());
        for (key, index) in keys {
            match owner.get(&key) {
                Some((other, _)) if *other == cmd => continue,
                Some(first) => {
                    return Err(KeymapError::Conflict {
                        key,
                        first: *first,
                        second: (cmd, index),
                    });
                }
                None => {
                    owner.insert(key, (cmd, index));
                    list.push(key);
                }
            }
        }
        bindings.insert(cmd, list);
    }
    Ok(Keymap { bindings })
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

    #[test]
    fn default_keymap() {
        let map = Keymap::defaults();
        assert_eq!(build_keymap(&BTreeMap::new()), Ok(map.clone()));
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
            assert_eq!(map.command_for(&ev(code, modifiers)), Some(cmd), "{code:?}");
        }
        assert_eq!(
            map.command_for(&ev(KeyCode::Char('z'), KeyModifiers::NONE)),
            None
        );
        let release = KeyEvent {
            code: KeyCode::Char('q'),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        };
        assert_eq!(map.command_for(&release), None);
    }

    #[test]
    fn user_keys_replace_the_defaults_of_their_command() {
        let mut user = BTreeMap::new();
        user.insert(
            "refresh".to_string(),
            vec!["L".to_string(), "f5".to_string()],
        );
        user.insert("quit".to_string(), vec!["ctrl-q".to_string()]);
        let map = build_keymap(&user).expect("keymap");
        assert_eq!(
            map.command_for(&ev(KeyCode::Char('L'), KeyModifiers::NONE)),
            Some(Command::Refresh)
        );
        assert_eq!(
            map.command_for(&ev(KeyCode::Char('r'), KeyModifiers::CONTROL)),
            None
        );
        assert_eq!(
            map.command_for(&ev(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
        // ctrl-c always quits, and the help shows it.
        assert_eq!(
            map.command_for(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
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
        let one = |name: &str, keys: &[&str]| {
            let mut user = BTreeMap::new();
            user.insert(
                name.to_string(),
                keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            );
            build_keymap(&user)
        };
        assert_eq!(
            one("overview", &["1", "g"]),
            Err(KeymapError::Conflict {
                key: KeyBinding::parse("g").expect("g"),
                first: (Command::Top, None),
                second: (Command::Overview, Some(1)),
            })
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
        assert!(map.keys_for(Command::Help).is_empty());
    }
}
