//! Sorting a table by one of its columns (pure).
//!
//! k9s habit: shift + a letter of the column's name sorts by that column,
//! pressing it again flips the order. The letter of a column is the first
//! letter of its header that no command of the keymap is bound to in that
//! view (with the default keys `NAME` sorts on `M`, since `N` is the note;
//! `PEND` sorts on `P` in the console and on `E` in a replay, whose pause
//! is `P`): the header underlines it, and `:sort COLUMN [asc|desc]` names
//! any column. Remapping a command away from an uppercase letter frees that
//! letter for the columns. The order is kept per view for the session; rows equal in
//! the sorted column keep the view's default order.

use std::cmp::Ordering;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::config::keys::{KeyContext, Keymap};
use crate::state::ViewKind;

/// The order of a view's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// The column's header, as [`columns`] names it.
    pub column: &'static str,
    pub descending: bool,
}

impl Sort {
    /// `▲` ascending, `▼` descending.
    pub fn arrow(self) -> char {
        if self.descending { '▼' } else { '▲' }
    }

    /// `NAME ▲` for messages.
    pub fn describe(self) -> String {
        format!(
            "{} {}",
            self.column,
            if self.descending {
                "descending"
            } else {
                "ascending"
            }
        )
    }
}

/// The sortable columns of a view, by their headers (those shown only on
/// wide terminals included).
pub fn columns(kind: ViewKind) -> &'static [&'static str] {
    match kind {
        ViewKind::Overview => &["NAME", "HEALTH", "CPU", "TASKS", "ROLLOUT"],
        ViewKind::Services => &[
            "NAME", "HEALTH", "CPU", "RUN/DES", "PEND", "ROLLOUT", "TASK DEF", "SCALE", "IMAGE",
            "DEPLOYS", "LAUNCH",
        ],
        ViewKind::Tasks => &[
            "TASK",
            "SERVICE",
            "STATUS",
            "HEALTH",
            "AZ",
            "REV",
            "UP",
            "STOPPED REASON",
        ],
        ViewKind::ServiceDetail => &[
            "TASK",
            "STATUS",
            "HEALTH",
            "AZ",
            "REV",
            "UP",
            "STOPPED REASON",
        ],
        ViewKind::Databases => &[
            "ID", "ROLE", "ENGINE", "CLASS", "STATUS", "MULTI-AZ", "STORAGE", "BACKUP", "CPU",
        ],
        ViewKind::Hosts => &[
            "NAME", "ID", "STATE", "TYPE", "AZ", "IP", "UP", "CHECKS", "CPU", "TARGET",
        ],
        ViewKind::Redis => &["ID", "STATUS", "ENGINE", "TYPE", "NODES"],
        ViewKind::Alarms => &["STATE", "NAME", "CONDITION", "SINCE", "ACTIONS"],
        _ => &[],
    }
}

/// Lowercase letters and digits only: `task def`, `task-def`, `TaskDef`
/// are one name.
fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The column of `kind` a typed name means: the whole name (any case,
/// spaces and dashes optional) or a prefix only one column has.
pub fn column(kind: ViewKind, name: &str) -> Option<&'static str> {
    let want = squash(name);
    if want.is_empty() {
        return None;
    }
    let cols = columns(kind);
    if let Some(c) = cols.iter().find(|c| squash(c) == want) {
        return Some(c);
    }
    let mut prefixed = cols.iter().filter(|c| squash(c).starts_with(&want));
    match (prefixed.next(), prefixed.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Whether shift + `letter` runs a command of the keymap in `ctx`.
fn bound(keymap: &Keymap, ctx: KeyContext, letter: char) -> bool {
    keymap
        .command_for(
            &KeyEvent::new(KeyCode::Char(letter), KeyModifiers::SHIFT),
            ctx,
        )
        .is_some()
}

/// Each sortable column of the view of `ctx` with the letter that sorts by
/// it (shift + the letter), `None` when every letter of its name is taken.
pub fn letters(ctx: KeyContext, keymap: &Keymap) -> Vec<(&'static str, Option<char>)> {
    let mut used: Vec<char> = Vec::new();
    columns(ctx.view)
        .iter()
        .map(|col| {
            let letter = col
                .chars()
                .filter(char::is_ascii_alphabetic)
                .map(|c| c.to_ascii_uppercase())
                .find(|c| !used.contains(c) && !bound(keymap, ctx, *c));
            if let Some(c) = letter {
                used.push(c);
            }
            (*col, letter)
        })
        .collect()
}

/// The column an unbound shift + letter key sorts by in the view of `ctx`.
pub fn column_for_key(ctx: KeyContext, keymap: &Keymap, key: &KeyEvent) -> Option<&'static str> {
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    let KeyCode::Char(c) = key.code else {
        return None;
    };
    // An uppercase letter (however the terminal reports the shift).
    let letter = if c.is_ascii_uppercase() {
        c
    } else if c.is_ascii_lowercase() && key.modifiers.contains(KeyModifiers::SHIFT) {
        c.to_ascii_uppercase()
    } else {
        return None;
    };
    letters(ctx, keymap)
        .into_iter()
        .find(|(_, l)| *l == Some(letter))
        .map(|(col, _)| col)
}

/// What a row shows in the sorted column, comparable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    /// Nothing to show (`-`): after every value, whichever the order.
    Missing,
    Num(i64),
    Text(String),
    /// Text, then a number (a metric, then its threshold).
    TextNum(String, i64),
}

impl Value {
    pub fn text(s: &str) -> Self {
        Value::Text(s.to_lowercase())
    }

    pub fn opt_num(n: Option<i64>) -> Self {
        n.map_or(Value::Missing, Value::Num)
    }
}

/// Sorts `rows` (already in the view's default order) by `sort`, keeping
/// that order among equal values; rows without a value go last.
pub fn apply<T>(rows: &mut Vec<T>, sort: Option<Sort>, value: impl Fn(&T, &str) -> Value) {
    let Some(sort) = sort else {
        return;
    };
    let mut keyed: Vec<(Value, T)> = rows
        .drain(..)
        .map(|r| (value(&r, sort.column), r))
        .collect();
    keyed.sort_by(|(a, _), (b, _)| match (a, b) {
        (Value::Missing, Value::Missing) => Ordering::Equal,
        (Value::Missing, _) => Ordering::Greater,
        (_, Value::Missing) => Ordering::Less,
        _ if sort.descending => b.cmp(a),
        _ => a.cmp(b),
    });
    rows.extend(keyed.into_iter().map(|(_, r)| r));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_forgiving_but_unambiguous() {
        assert_eq!(column(ViewKind::Services, "task def"), Some("TASK DEF"));
        assert_eq!(column(ViewKind::Services, "taskdef"), Some("TASK DEF"));
        assert_eq!(column(ViewKind::Services, "Image"), Some("IMAGE"));
        assert_eq!(column(ViewKind::Services, "dep"), Some("DEPLOYS"));
        // `p` could be PEND only; `r` is RUN/DES or ROLLOUT.
        assert_eq!(column(ViewKind::Services, "p"), Some("PEND"));
        assert_eq!(column(ViewKind::Services, "r"), None);
        assert_eq!(
            column(ViewKind::Tasks, "stopped-reason"),
            Some("STOPPED REASON")
        );
        assert_eq!(column(ViewKind::Tasks, "nope"), None);
        assert_eq!(column(ViewKind::Logs, "name"), None);
    }

    const SERVICES: KeyContext = KeyContext {
        view: ViewKind::Services,
        replay: false,
    };

    #[test]
    fn letters_avoid_bound_keys_and_each_other() {
        let keymap = Keymap::defaults();
        let services = letters(SERVICES, &keymap);
        let of = |name: &str| {
            services
                .iter()
                .find(|(c, _)| *c == name)
                .and_then(|(_, l)| *l)
        };
        // N is the note, A the scaling bounds, R the chart range.
        assert_eq!(of("NAME"), Some('M'));
        assert_eq!(of("HEALTH"), Some('H'));
        // C continues a blue/green deployment: CPU takes P.
        assert_eq!(of("CPU"), Some('P'));
        assert_eq!(of("RUN/DES"), Some('U'));
        assert_eq!(of("ROLLOUT"), Some('O'));
        assert_eq!(of("TASK DEF"), Some('T'));
        assert_eq!(of("IMAGE"), Some('I'));
        // P is the replay's pause in a replay only: live, CPU has it,
        // and PEND its next free letter (E opens the Redis view).
        assert_eq!(of("PEND"), Some('D'));
        let mut all: Vec<char> = services.iter().filter_map(|(_, l)| *l).collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "no letter twice");
        for l in all {
            assert!(!bound(&keymap, SERVICES, l), "{l} is a command's key");
        }
        // In a replay P is the pause (and E the Redis view everywhere):
        // CPU and PEND take other letters there.
        let replay = KeyContext {
            replay: true,
            ..SERVICES
        };
        let pend = letters(replay, &keymap)
            .into_iter()
            .find(|(c, _)| *c == "PEND")
            .and_then(|(_, l)| l);
        // P, E, N and D are all taken there: PEND is sorted with `o`.
        assert_eq!(pend, None);
        let tasks = KeyContext {
            view: ViewKind::Tasks,
            ..SERVICES
        };
        let rev = letters(tasks, &keymap)
            .into_iter()
            .find(|(c, _)| *c == "REV")
            .and_then(|(_, l)| l);
        // R is the chart range, E the Redis view, V an invalidation.
        assert_eq!(rev, None);
        let key = KeyEvent::new(KeyCode::Char('P'), KeyModifiers::SHIFT);
        assert_eq!(column_for_key(SERVICES, &keymap, &key), Some("CPU"));
        assert_eq!(column_for_key(replay, &keymap, &key), None);
    }

    #[test]
    fn a_freed_letter_goes_to_its_column() {
        let mut user = crate::config::keys::KeysConfig::default();
        user.commands
            .insert("note".to_string(), vec!["ctrl-n".to_string()]);
        let keymap = crate::config::keys::build_keymap(&user).expect("keymap");
        let key = KeyEvent::new(KeyCode::Char('N'), KeyModifiers::SHIFT);
        assert_eq!(column_for_key(SERVICES, &keymap, &key), Some("NAME"));
        // With the defaults, shift-N is the note's, not a column's.
        assert_eq!(column_for_key(SERVICES, &Keymap::defaults(), &key), None);
        // Lowercase without shift, or with ctrl, is never a sort key.
        let plain = KeyEvent::new(KeyCode::Char('m'), KeyModifiers::NONE);
        assert_eq!(column_for_key(SERVICES, &keymap, &plain), None);
        let shifted = KeyEvent::new(KeyCode::Char('m'), KeyModifiers::SHIFT);
        assert_eq!(
            column_for_key(SERVICES, &Keymap::defaults(), &shifted),
            Some("NAME")
        );
    }

    #[test]
    fn sorting_is_stable_and_puts_missing_values_last() {
        let rows = vec![("a", Some(2)), ("b", None), ("c", Some(1)), ("d", Some(2))];
        let value = |r: &(&str, Option<i64>), _: &str| Value::opt_num(r.1);
        let mut asc = rows.clone();
        apply(
            &mut asc,
            Some(Sort {
                column: "X",
                descending: false,
            }),
            value,
        );
        assert_eq!(
            asc.iter().map(|r| r.0).collect::<Vec<_>>(),
            ["c", "a", "d", "b"]
        );
        let mut desc = rows.clone();
        apply(
            &mut desc,
            Some(Sort {
                column: "X",
                descending: true,
            }),
            value,
        );
        assert_eq!(
            desc.iter().map(|r| r.0).collect::<Vec<_>>(),
            ["a", "d", "c", "b"]
        );
        let mut none = rows.clone();
        apply(&mut none, None, value);
        assert_eq!(none, rows);
    }
}
