//! Themes: `themes/*.toml` (compiled in) and user themes, resolved into
//! concrete [`ratatui::style::Style`] values.
//!
//! A theme file has one table per semantic slot, each with an optional `fg`,
//! `bg` and `modifiers`:
//!
//! ```toml
//! selected = { fg = "cyan", modifiers = ["reversed", "bold"] }
//! ```
//!
//! Colours are the 16 ANSI names (`black red green yellow blue magenta cyan
//! gray darkgray lightred lightgreen lightyellow lightblue lightmagenta
//! lightcyan white`), `reset` (the terminal's own colour), `"#rrggbb"` or an
//! indexed colour `"0"`..`"255"`. Modifiers: `bold dim italic underlined
//! reversed`. A slot a user theme leaves out comes from the built-in theme
//! named by `extends` (default: `default`).
//!
//! User themes live in `<config dir>/themes/<name>.toml` and may override a
//! built-in theme of the same name.

use std::ops::Range;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use super::load::{ConfigError, describe_io_error, parse_document, serde_error};
use crate::domain::{AlarmState, Health};

/// The built-in themes: name and file text. The first one is the default.
pub const BUILTIN_THEMES: [(&str, &str); 3] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// The colour names a theme may use (besides `"#rrggbb"` and `"0"`..`"255"`).
pub const COLOR_NAMES: [(&str, Color); 17] = [
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("darkgray", Color::DarkGray),
    ("lightred", Color::LightRed),
    ("lightgreen", Color::LightGreen),
    ("lightyellow", Color::LightYellow),
    ("lightblue", Color::LightBlue),
    ("lightmagenta", Color::LightMagenta),
    ("lightcyan", Color::LightCyan),
    ("white", Color::White),
    ("reset", Color::Reset),
];

/// The modifier names a theme may use.
pub const MODIFIER_NAMES: [(&str, Modifier); 5] = [
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
];

/// The style of one slot as written in a theme file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotSpec {
    #[serde(default)]
    fg: Option<Spanned<String>>,
    #[serde(default)]
    bg: Option<Spanned<String>>,
    #[serde(default)]
    modifiers: Vec<Spanned<String>>,
}

impl SlotSpec {
    fn resolve(&self, slot: &str) -> Result<Style, (Range<usize>, String)> {
        let mut style = Style::new();
        if let Some(fg) = &self.fg {
            style = style.fg(color_at(fg, slot, "fg")?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(color_at(bg, slot, "bg")?);
        }
        for m in &self.modifiers {
            let modifier = parse_modifier(m.get_ref())
                .map_err(|e| (m.span(), format!("{e} ({slot}.modifiers)")))?;
            style = style.add_modifier(modifier);
        }
        Ok(style)
    }
}

fn color_at(
    value: &Spanned<String>,
    slot: &str,
    field: &str,
) -> Result<Color, (Range<usize>, String)> {
    parse_color(value.get_ref()).map_err(|e| (value.span(), format!("{e} ({slot}.{field})")))
}

/// Parses a colour: an ANSI name (case, `-`, `_` and spaces ignored:
/// `dark-gray` is `darkgray`; `grey` is `gray`), `reset`, `"#rrggbb"` or an
/// index `"0"`..`"255"`.
pub fn parse_color(text: &str) -> Result<Color, String> {
    let name: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .replace("grey", "gray");
    if let Some((_, color)) = COLOR_NAMES.iter().find(|(n, _)| *n == name) {
        return Ok(*color);
    }
    if name == "default" {
        return Ok(Color::Reset);
    }
    if let Some(hex) = name.strip_prefix('#')
        && hex.len() == 6
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
        return Ok(Color::Rgb(byte(0), byte(2), byte(4)));
    }
    if !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_digit())
        && let Ok(index) = name.parse::<u8>()
    {
        return Ok(Color::Indexed(index));
    }
    let names: Vec<&str> = COLOR_NAMES.iter().map(|(n, _)| *n).collect();
    Err(format!(
        "unknown colour \"{text}\", expected one of {}, \"#rrggbb\" or \"0\" to \"255\"",
        names.join(", ")
    ))
}

/// Parses a modifier name (`bold dim italic underlined reversed`;
/// `underline` and `reverse` are accepted too).
pub fn parse_modifier(text: &str) -> Result<Modifier, String> {
    let name = match text.to_ascii_lowercase().as_str() {
        "underline" => "underlined".to_string(),
        "reverse" => "reversed".to_string(),
        other => other.to_string(),
    };
    if let Some((_, m)) = MODIFIER_NAMES.iter().find(|(n, _)| *n == name) {
        Ok(*m)
    } else {
        let names: Vec<&str> = MODIFIER_NAMES.iter().map(|(n, _)| *n).collect();
        Err(format!(
            "unknown modifier \"{text}\", expected one of {}",
            names.join(", ")
        ))
    }
}

macro_rules! theme_slots {
    ($($(#[doc = $doc:expr])+ $slot:ident,)+) => {
        /// A resolved theme: one [`Style`] per semantic slot.
        ///
        /// A style leaves `fg` / `bg` unset where the theme does, so it can be
        /// patched over the style of what is under it.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            /// The theme's name.
            pub name: String,
            $($(#[doc = $doc])+ pub $slot: Style,)+
        }

        /// The slot names, as written in theme files.
        pub const SLOT_NAMES: &[&str] = &[$(stringify!($slot)),+];

        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            /// The built-in theme missing slots come from.
            #[serde(default)]
            extends: Option<Spanned<String>>,
            $(#[serde(default)] $slot: Option<SlotSpec>,)+
        }

        impl ThemeFile {
            #[cfg(test)]
            fn missing_slots(&self) -> Vec<&'static str> {
                let mut missing = Vec::new();
                $(if self.$slot.is_none() {
                    missing.push(stringify!($slot));
                })+
                missing
            }

            fn resolve(
                &self,
                name: &str,
                fallback: Option<&Theme>,
            ) -> Result<Theme, (Range<usize>, String)> {
                Ok(Theme {
                    name: name.to_string(),
                    $($slot: match &self.$slot {
                        Some(spec) => spec.resolve(stringify!($slot))?,
                        None => fallback.map(|t| t.$slot).unwrap_or_default(),
                    },)+
                })
            }
        }

        impl Theme {
            /// Every slot with plain terminal colours.
            fn plain(name: &str) -> Theme {
                Theme {
                    name: name.to_string(),
                    $($slot: Style::new(),)+
                }
            }

            /// Applies `f` to every slot.
            fn map_styles(mut self, f: impl Fn(Style) -> Style) -> Theme {
                $(self.$slot = f(self.$slot);)+
                self
            }

            /// Every slot with its name, in file order.
            pub fn slots(&self) -> Vec<(&'static str, Style)> {
                vec![$((stringify!($slot), self.$slot)),+]
            }
        }
    };
}

theme_slots! {
    /// Normal text.
    base,
    /// Secondary text: timestamps, ids, hints.
    dim,
    /// Panel titles.
    title,
    /// Panel borders.
    border,
    /// The border of the focused panel.
    border_focused,
    /// The top bar (environment, account, region, clock).
    header,
    /// The PRODUCTION marker of a protected environment: loud, and
    /// reversed + bold so it survives NO_COLOR.
    production,
    /// The READ-ONLY marker.
    read_only,
    /// The selected table row (reversed or bold in every theme).
    selected,
    /// Table column headers.
    table_header,
    /// Environment tabs.
    tab,
    /// The current environment's tab.
    tab_active,
    /// Healthy / OK.
    ok,
    /// Needs attention soon.
    warning,
    /// Broken / in ALARM.
    critical,
    /// A change in progress (deployment rolling out, instance modifying).
    progressing,
    /// State not known (INSUFFICIENT_DATA, not yet loaded).
    unknown,
    /// Data that failed to refresh and is shown from the last success.
    stale,
    /// Error text.
    error,
    /// Key names in the help overlay and the footer.
    key,
    /// The `:` command line.
    command_line,
    /// The `/` filter input.
    filter,
    /// Gauges and sparklines.
    gauge,
    /// Pop-ups and overlays (help, confirmations).
    popup,
    /// Destructive actions in confirmations (reboot, failover, rollback).
    danger,
}

impl Theme {
    /// The border style of a panel.
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.border_focused
        } else {
            self.border
        }
    }

    /// The style of a health state.
    pub fn health(&self, health: Health) -> Style {
        match health {
            Health::Critical => self.critical,
            Health::Warning => self.warning,
            Health::Progressing => self.progressing,
            Health::Unknown => self.unknown,
            Health::Ok => self.ok,
        }
    }

    /// The style of a CloudWatch alarm state.
    pub fn alarm_state(&self, state: AlarmState) -> Style {
        match state {
            AlarmState::Alarm => self.critical,
            AlarmState::InsufficientData => self.unknown,
            AlarmState::Ok => self.ok,
        }
    }

    /// The theme without any colour (NO_COLOR): modifiers are kept, so the
    /// selected row and the PRODUCTION marker stay visible.
    #[must_use]
    pub fn without_colors(self) -> Theme {
        self.map_styles(|s| {
            Style::new()
                .add_modifier(s.add_modifier)
                .remove_modifier(s.sub_modifier)
        })
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Option<Theme> {
        let (_, source) = BUILTIN_THEMES.iter().find(|(n, _)| *n == name)?;
        parse_theme_inner(source, &builtin_file_name(name), name, false).ok()
    }
}

impl Default for Theme {
    /// The built-in `default` theme.
    fn default() -> Self {
        Theme::builtin("default").unwrap_or_else(|| {
            let mut theme = Theme::plain("default");
            theme.selected = Style::new().add_modifier(Modifier::REVERSED);
            theme.production = Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD);
            theme
        })
    }
}

/// Whether the `NO_COLOR` environment variable asks for no colour (set and
/// not empty, per no-color.org).
pub fn no_color_from_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn builtin_file_name(name: &str) -> String {
    format!("<built-in themes/{name}.toml>")
}

/// Whether `name` can be a theme file name (no paths, no hidden files).
fn valid_theme_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// The theme names available: the built-in ones, then user themes from
/// `user_theme_dir` (`*.toml`), sorted, without duplicates.
pub fn theme_names(user_theme_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN_THEMES.iter().map(|(n, _)| n.to_string()).collect();
    let mut user = Vec::new();
    if let Some(entries) = user_theme_dir.and_then(|d| std::fs::read_dir(d).ok()) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml")
                && path.is_file()
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && valid_theme_name(stem)
                && !names.iter().any(|n| n == stem)
            {
                user.push(stem.to_string());
            }
        }
    }
    user.sort();
    user.dedup();
    names.extend(user);
    names
}

/// Loads a theme: `<user_theme_dir>/<name>.toml` if it exists, else the
/// built-in theme of that name. With `no_color`, every colour is dropped
/// (modifiers stay).
pub fn load_theme(
    name: &str,
    user_theme_dir: Option<&Path>,
    no_color: bool,
) -> Result<Theme, ConfigError> {
    let theme = load_theme_colored(name, user_theme_dir)?;
    Ok(if no_color {
        theme.without_colors()
    } else {
        theme
    })
}

fn load_theme_colored(name: &str, user_theme_dir: Option<&Path>) -> Result<Theme, ConfigError> {
    if valid_theme_name(name)
        && let Some(dir) = user_theme_dir
    {
        let path = dir.join(format!("{name}.toml"));
        if path.is_file() {
            let file = path.display().to_string();
            let bytes = std::fs::read(&path).map_err(|e| {
                ConfigError::new(
                    Some(&file),
                    format!("cannot read the theme file: {}", describe_io_error(&e)),
                )
            })?;
            let source = super::load::utf8(bytes, &file)?;
            return parse_theme(&source, &file, name);
        }
    }
    match BUILTIN_THEMES.iter().find(|(n, _)| *n == name) {
        Some((_, source)) => parse_theme_inner(source, &builtin_file_name(name), name, false),
        None => Err(ConfigError::new(
            None,
            format!(
                "unknown theme \"{name}\"; available: {}",
                theme_names(user_theme_dir).join(", ")
            ),
        )),
    }
}

/// Parses a user theme file's text; missing slots come from the built-in
/// theme named by `extends` (default `default`).
pub fn parse_theme(source: &str, file_name: &str, name: &str) -> Result<Theme, ConfigError> {
    parse_theme_inner(source, file_name, name, true)
}

fn parse_theme_inner(
    source: &str,
    file_name: &str,
    name: &str,
    inherit: bool,
) -> Result<Theme, ConfigError> {
    let doc = parse_document(source, file_name)?;
    let file: ThemeFile =
        toml::from_str(source).map_err(|e| serde_error(source, file_name, &doc, &e))?;
    let fallback = if inherit {
        let parent = file
            .extends
            .as_ref()
            .map_or("default", |e| e.get_ref().as_str());
        if let Some((parent, parent_source)) = BUILTIN_THEMES.iter().find(|(n, _)| *n == parent) {
            Some(parse_theme_inner(
                parent_source,
                &builtin_file_name(parent),
                parent,
                false,
            )?)
        } else {
            let names: Vec<&str> = BUILTIN_THEMES.iter().map(|(n, _)| *n).collect();
            let message = format!(
                "unknown theme \"{parent}\" in extends, expected a built-in theme: {}",
                names.join(", ")
            );
            return Err(match &file.extends {
                Some(e) => ConfigError::at(source, file_name, e.span(), message),
                None => ConfigError::new(Some(file_name), message),
            });
        }
    } else {
        None
    };
    file.resolve(name, fallback.as_ref())
        .map_err(|(span, message)| ConfigError::at(source, file_name, span, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_themes_parse_and_define_every_slot() {
        for (name, source) in BUILTIN_THEMES {
            let file: ThemeFile = toml::from_str(source).expect(name);
            assert_eq!(file.missing_slots(), Vec::<&str>::new(), "{name}");
            assert!(
                file.extends.is_none(),
                "{name}: built-in themes stand alone"
            );
            let theme = Theme::builtin(name).expect(name);
            assert_eq!(theme.name, name);
        }
    }

    #[test]
    fn shipped_themes_use_only_the_16_ansi_colours() {
        for (name, _) in BUILTIN_THEMES {
            let theme = Theme::builtin(name).expect(name);
            for (slot, style) in theme.slots() {
                for color in [style.fg, style.bg].into_iter().flatten() {
                    assert!(
                        !matches!(color, Color::Rgb(..) | Color::Indexed(_)),
                        "{name}.{slot} uses {color:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn selection_and_production_survive_no_color() {
        for (name, _) in BUILTIN_THEMES {
            let theme = load_theme(name, None, true).expect(name);
            for (slot, style) in theme.slots() {
                assert_eq!(style.fg, None, "{name}.{slot}");
                assert_eq!(style.bg, None, "{name}.{slot}");
            }
            assert!(
                theme.selected.add_modifier.contains(Modifier::REVERSED)
                    || theme.selected.add_modifier.contains(Modifier::BOLD),
                "{name}: selected"
            );
            assert!(
                theme
                    .production
                    .add_modifier
                    .contains(Modifier::REVERSED | Modifier::BOLD),
                "{name}: production"
            );
            assert!(
                theme.read_only.add_modifier.contains(Modifier::REVERSED)
                    || theme.read_only.add_modifier.contains(Modifier::BOLD),
                "{name}: read_only"
            );
        }
    }

    #[test]
    fn no_color_keeps_modifiers() {
        let theme = Theme::builtin("default").expect("default");
        let plain = theme.clone().without_colors();
        for ((slot, a), (_, b)) in theme.slots().into_iter().zip(plain.slots()) {
            assert_eq!(a.add_modifier, b.add_modifier, "{slot}");
            assert_eq!((b.fg, b.bg), (None, None), "{slot}");
        }
    }

    #[test]
    fn colours_parse() {
        assert_eq!(parse_color("red"), Ok(Color::Red));
        assert_eq!(parse_color("DarkGray"), Ok(Color::DarkGray));
        assert_eq!(parse_color("dark-grey"), Ok(Color::DarkGray));
        assert_eq!(parse_color("light_cyan"), Ok(Color::LightCyan));
        assert_eq!(parse_color("reset"), Ok(Color::Reset));
        assert_eq!(parse_color("#ff8000"), Ok(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("208"), Ok(Color::Indexed(208)));
        assert!(parse_color("256").is_err());
        assert!(parse_color("#ff80").is_err());
        assert!(parse_color("#gg0000").is_err());
        assert!(parse_color("").is_err());
        let err = parse_color("pink").expect_err("pink");
        assert!(
            err.starts_with("unknown colour \"pink\", expected one of black, red,"),
            "{err}"
        );
        assert_eq!(parse_modifier("BOLD"), Ok(Modifier::BOLD));
        assert_eq!(parse_modifier("reverse"), Ok(Modifier::REVERSED));
        assert!(parse_modifier("blink").is_err());
    }

    #[test]
    fn user_themes_inherit_missing_slots() {
        let theme = parse_theme(
            "extends = \"light\"\nselected = { fg = \"#102030\", modifiers = [\"bold\"] }\n",
            "mine.toml",
            "mine",
        )
        .expect("mine");
        let light = Theme::builtin("light").expect("light");
        assert_eq!(theme.name, "mine");
        assert_eq!(
            theme.selected,
            Style::new()
                .fg(Color::Rgb(16, 32, 48))
                .add_modifier(Modifier::BOLD)
        );
        assert_eq!(theme.ok, light.ok);
        assert_eq!(theme.production, light.production);

        let theme = parse_theme("", "empty.toml", "empty").expect("empty");
        assert_eq!(theme.slots(), Theme::default().slots());
    }

    #[test]
    fn theme_errors_are_positioned() {
        let err = parse_theme("[selected]\nfg = \"pink\"\n", "t.toml", "t").expect_err("pink");
        assert!(
            err.headline()
                .starts_with("t.toml:2:6: unknown colour \"pink\""),
            "{err}"
        );
        assert!(err.message().ends_with("(selected.fg)"), "{err}");

        let err = parse_theme("selectd = {}\n", "t.toml", "t").expect_err("slot");
        assert!(
            err.headline().starts_with("t.toml:1:1: unknown key \"selectd\" at the top level; allowed keys: extends, base, dim,"),
            "{err}"
        );

        let err = parse_theme("extends = \"nope\"\n", "t.toml", "t").expect_err("extends");
        assert!(
            err.headline()
                .starts_with("t.toml:1:11: unknown theme \"nope\" in extends"),
            "{err}"
        );

        let err =
            parse_theme("ok = { modifiers = [\"blink\"] }\n", "t.toml", "t").expect_err("modifier");
        assert!(
            err.headline()
                .starts_with("t.toml:1:21: unknown modifier \"blink\""),
            "{err}"
        );
    }

    #[test]
    fn unknown_theme_lists_the_available_ones() {
        let err = load_theme("nope", None, false).expect_err("nope");
        assert_eq!(
            err.to_string(),
            "error: unknown theme \"nope\"; available: default, light, high-contrast"
        );
        assert!(load_theme("../etc/passwd", None, false).is_err());
    }

    #[test]
    fn helpers_pick_slots() {
        let t = Theme::default();
        assert_eq!(t.border(true), t.border_focused);
        assert_eq!(t.border(false), t.border);
        assert_eq!(t.health(Health::Critical), t.critical);
        assert_eq!(t.health(Health::Ok), t.ok);
        assert_eq!(t.alarm_state(AlarmState::Alarm), t.critical);
        assert_eq!(t.alarm_state(AlarmState::InsufficientData), t.unknown);
    }
}
