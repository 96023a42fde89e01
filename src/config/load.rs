//! Loading and checking the config file.
//!
//! The file is parsed three times over the same text: once into a spanned
//! document tree (syntax errors, and the positions of every key and value),
//! once into [`Config`] through serde (unknown keys, wrong types, missing
//! keys), and then checked for what serde cannot see (unknown environment,
//! bad key names, unknown theme, duplicates, zero intervals...). Every error
//! names the file, the line and column (1-based) and what was expected.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue};
use unicode_width::UnicodeWidthChar;

use super::keys::{self, KeymapError, KeysConfig};
use super::theme;
use super::{Config, DEFAULT_CONFIG, RefreshIntervals, Source};

/// The name shown in errors about the compiled-in default configuration.
pub const BUILTIN_CONFIG_NAME: &str = "<built-in config.example.toml>";

/// The longest source line shown under an error, in columns.
const MAX_SNIPPET_WIDTH: usize = 100;

/// A loaded configuration and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    pub config: Config,
    /// The user file read, if any (`None`: the compiled-in default).
    pub path: Option<PathBuf>,
    /// Where user themes are looked for: `<config dir>/themes`, the config
    /// dir being the directory of the default (XDG) config path.
    pub theme_dir: Option<PathBuf>,
    /// The text the configuration was read from.
    pub source: String,
}

impl LoadedConfig {
    /// The name of the file read, as errors show it.
    pub fn file_name(&self) -> String {
        self.path.as_ref().map_or_else(
            || BUILTIN_CONFIG_NAME.to_string(),
            |p| p.display().to_string(),
        )
    }

    /// Refuses a configuration without environments (nothing to show
    /// outside `--demo`), pointing at `environment = [...]` if the file has
    /// one, else at its end, where an `[[environment]]` table would go.
    pub fn require_environments(&self) -> Result<(), ConfigError> {
        if !self.config.environments.is_empty() {
            return Ok(());
        }
        let name = self.file_name();
        let span = parse_document(&self.source, &name)
            .ok()
            .and_then(|doc| get(&doc, "environment").map(|(k, _)| k))
            .unwrap_or(self.source.len()..self.source.len());
        Err(ConfigError::at(
            &self.source,
            &name,
            span,
            "no environments are configured: add an [[environment]] table with a name and a region (see config.example.toml), or try `honban --demo`",
        ))
    }

    /// Loads the configured theme (see [`theme::load_theme`]).
    pub fn theme(&self, no_color: bool) -> Result<theme::Theme, ConfigError> {
        theme::load_theme(&self.config.theme, self.theme_dir.as_deref(), no_color)
    }
}

/// A mistake in a config or theme file, or a file that cannot be read.
///
/// `Display` gives `error: FILE:LINE:COLUMN: MESSAGE` followed by the
/// offending source line with a caret under the place, e.g.
///
/// ```text
/// error: config.toml:7:17: invalid type: found string "five", expected an integer (refresh.services_secs)
///   7 | services_secs = "five"
///     |                 ^^^^^^
/// ```
///
/// The caller prints it as it is (to stderr) and exits with code 78;
/// [`ConfigError::headline`] is the first line without `error: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    file: Option<String>,
    location: Option<Location>,
    message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Location {
    line: usize,
    column: usize,
    /// The source line, made printable and cut to a window around the place.
    text: String,
    /// Display columns before the caret within `text`.
    caret_offset: usize,
    /// Display width of the caret.
    caret_width: usize,
}

impl ConfigError {
    /// An error with no position (`file` may be `None` for errors about the
    /// command line).
    pub fn new(file: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            file: file.map(str::to_string),
            location: None,
            message: message.into(),
        }
    }

    /// An error at byte range `span` of `source`, the text of `file`.
    pub fn at(source: &str, file: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            file: Some(file.to_string()),
            location: Some(locate(source, span)),
            message: message.into(),
        }
    }

    /// The file the error is in, if any.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The 1-based line of the mistake, if it has a position.
    pub fn line(&self) -> Option<usize> {
        self.location.as_ref().map(|l| l.line)
    }

    /// The 1-based column (in characters) of the mistake, if it has a
    /// position.
    pub fn column(&self) -> Option<usize> {
        self.location.as_ref().map(|l| l.column)
    }

    /// What is wrong and what was expected, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The first line of the report: `FILE:LINE:COLUMN: MESSAGE`.
    pub fn headline(&self) -> String {
        match (&self.file, &self.location) {
            (Some(file), Some(loc)) => {
                format!("{file}:{}:{}: {}", loc.line, loc.column, self.message)
            }
            (Some(file), None) => format!("{file}: {}", self.message),
            (None, _) => self.message.clone(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.headline())?;
        if let Some(loc) = &self.location {
            let number = loc.line.to_string();
            let gutter = " ".repeat(number.len());
            write!(f, "\n  {number} | {}", loc.text)?;
            write!(
                f,
                "\n  {gutter} | {}{}",
                " ".repeat(loc.caret_offset),
                "^".repeat(loc.caret_width.max(1))
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Computes line, column and a printable snippet for a byte range.
fn locate(source: &str, span: Range<usize>) -> Location {
    let mut start = span.start.min(source.len());
    while start > 0 && !source.is_char_boundary(start) {
        start -= 1;
    }
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let mut end = span.end.clamp(start, line_end);
    while end > start && !source.is_char_boundary(end) {
        end -= 1;
    }
    let line = source[..line_start].bytes().filter(|b| *b == b'\n').count() + 1;
    let before = &source[line_start..start];
    let column = before.chars().count() + 1;

    // Printable cells of the line: (char, width); tabs and control
    // characters become one space.
    let cells: Vec<(char, usize)> = source[line_start..line_end]
        .trim_end_matches('\r')
        .chars()
        .map(|c| {
            if c.is_control() {
                (' ', 1)
            } else {
                (c, c.width().unwrap_or(0))
            }
        })
        .collect();
    let caret_index = before.chars().count().min(cells.len());
    let caret_len = source[start..end].chars().count().max(1);

    // Cut long lines to a window that keeps the place visible.
    let mut first = 0;
    let mut prefix_width: usize = cells[..caret_index].iter().map(|(_, w)| w).sum();
    while prefix_width > MAX_SNIPPET_WIDTH / 2 && first < caret_index {
        prefix_width -= cells[first].1;
        first += 1;
    }
    let mut text = String::new();
    let mut width = 0;
    let mut caret_offset = 0;
    let mut caret_width = 0;
    if first > 0 {
        text.push('…');
        width += 1;
    }
    for (i, (c, w)) in cells.iter().enumerate().skip(first) {
        if width + w > MAX_SNIPPET_WIDTH {
            text.push('…');
            break;
        }
        if i == caret_index {
            caret_offset = width;
        }
        if i >= caret_index && i < caret_index + caret_len {
            caret_width += w;
        }
        text.push(*c);
        width += w;
    }
    if caret_index >= cells.len() {
        caret_offset = width;
    }
    Location {
        line,
        column,
        text,
        caret_offset,
        caret_width: caret_width.max(1),
    }
}

/// Loads the configuration.
///
/// `path` is `--config PATH` (it must exist); otherwise `default_path` (the
/// XDG path) is read if that file exists; otherwise the compiled-in
/// [`DEFAULT_CONFIG`] is used. Keys left out of a user file take the
/// defaults documented in `config.example.toml`; environments come only from
/// the file read.
pub fn load_config(
    path: Option<&Path>,
    default_path: Option<&Path>,
) -> Result<LoadedConfig, ConfigError> {
    let theme_dir = default_path
        .and_then(Path::parent)
        .map(|dir| dir.join("themes"));
    let chosen = match path {
        Some(p) => Some(p),
        None => default_path.filter(|p| p.exists()),
    };
    let (config, path) = match chosen {
        Some(p) => {
            let name = p.display().to_string();
            let bytes = std::fs::read(p).map_err(|e| {
                ConfigError::new(
                    Some(&name),
                    format!("cannot read the config file: {}", describe_io_error(&e)),
                )
            })?;
            let source = utf8(bytes, &name)?;
            let config = parse_config_in(&source, &name, theme_dir.as_deref())?;
            (config, Some((p.to_path_buf(), source)))
        }
        None => (
            parse_config_in(DEFAULT_CONFIG, BUILTIN_CONFIG_NAME, theme_dir.as_deref())?,
            None,
        ),
    };
    let (path, source) = match path {
        Some((p, s)) => (Some(p), s),
        None => (None, DEFAULT_CONFIG.to_string()),
    };
    Ok(LoadedConfig {
        config,
        path,
        theme_dir,
        source,
    })
}

/// The text of a file, or where its first byte that is not UTF-8 is.
pub(crate) fn utf8(bytes: Vec<u8>, file_name: &str) -> Result<String, ConfigError> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes().get(at).copied().unwrap_or_default();
            // The lossy text equals the original up to `at`, where the
            // replacement character (3 bytes) stands for the bad byte.
            let lossy = String::from_utf8_lossy(e.as_bytes());
            Err(ConfigError::at(
                &lossy,
                file_name,
                at..at + 3,
                format!("the file is not valid UTF-8 (byte 0x{byte:02X}); save it as UTF-8"),
            ))
        }
    }
}

pub(crate) fn describe_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::InvalidData => "the file is not valid UTF-8".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        _ => e.to_string(),
    }
}

/// Parses and checks a config file's text. `file_name` is used in errors.
/// The theme name is checked against the built-in themes only; see
/// [`parse_config_in`].
pub fn parse_config(source: &str, file_name: &str) -> Result<Config, ConfigError> {
    parse_config_in(source, file_name, None)
}

/// Like [`parse_config`], with user themes looked for in `theme_dir`.
pub fn parse_config_in(
    source: &str,
    file_name: &str,
    theme_dir: Option<&Path>,
) -> Result<Config, ConfigError> {
    let doc = parse_document(source, file_name)?;
    let mut config: Config =
        toml::from_str(source).map_err(|e| serde_error(source, file_name, &doc, &e))?;
    let check = Checker {
        source,
        file: file_name,
        doc: &doc,
    };
    check.theme(&config, theme_dir)?;
    check.refresh(&config)?;
    check.logs_buffer(&config)?;
    check.environments(&config)?;
    check.connections(&config)?;
    check.health_checks(&config)?;
    check.cloudfront(&config)?;
    check.default_environment(&config)?;
    check.keys(&config)?;
    inherit_refresh(&mut config, &doc);
    Ok(config)
}

/// Checks an environment name given on the command line (`--env NAME`).
pub fn validate_environment_name(config: &Config, name: &str) -> Result<(), ConfigError> {
    if config.environments.iter().any(|e| e.name == name) {
        Ok(())
    } else {
        Err(ConfigError::new(
            None,
            unknown_environment(config, name, ""),
        ))
    }
}

fn unknown_environment(config: &Config, name: &str, place: &str) -> String {
    if config.environments.is_empty() {
        format!("unknown environment \"{name}\"{place}; no environments are configured")
    } else {
        let names: Vec<&str> = config
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        format!(
            "unknown environment \"{name}\"{place}; configured: {}",
            names.join(", ")
        )
    }
}

// ------------------------------------------------------------ TOML errors

/// Parses the document tree, reporting syntax errors.
pub(crate) fn parse_document<'i>(
    source: &'i str,
    file_name: &str,
) -> Result<DeTable<'i>, ConfigError> {
    match DeTable::parse(source) {
        Ok(doc) => Ok(doc.into_inner()),
        Err(e) => Err(syntax_error(source, file_name, &e)),
    }
}

fn syntax_error(source: &str, file_name: &str, e: &toml::de::Error) -> ConfigError {
    let message = if e.message() == "duplicate key" {
        let key = e
            .span()
            .and_then(|s| source.get(s))
            .map(|k| format!(" \"{}\"", k.trim_matches(['"', '\''])))
            .unwrap_or_default();
        format!("duplicate key{key}: a key may be set only once per table")
    } else {
        format!("TOML syntax error: {}", e.message())
    };
    match e.span() {
        Some(span) => ConfigError::at(source, file_name, span, message),
        None => ConfigError::new(Some(file_name), message),
    }
}

/// Turns a serde error (with its span) into our message, naming the key.
pub(crate) fn serde_error(
    source: &str,
    file_name: &str,
    doc: &DeTable<'_>,
    e: &toml::de::Error,
) -> ConfigError {
    let mut path = Vec::new();
    if let Some(span) = e.span() {
        find_in_table(doc, span.start, &mut path);
    }
    let message = describe_serde_error(e.message(), &path);
    match e.span() {
        Some(span) => ConfigError::at(source, file_name, span, message),
        None => ConfigError::new(Some(file_name), message),
    }
}

/// One key of a path into the document; `array` is set when the value was
/// reached through an array (an `[[array of tables]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seg {
    key: String,
    array: bool,
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    (span.start <= offset && offset < span.end) || (span.is_empty() && span.start == offset)
}

/// Finds the deepest key or value at `offset`, pushing the keys on the way.
fn find_in_table(table: &DeTable<'_>, offset: usize, path: &mut Vec<Seg>) -> bool {
    for (key, value) in table {
        path.push(Seg {
            key: key.get_ref().to_string(),
            array: false,
        });
        if contains(&key.span(), offset) || find_in_value(value, offset, path) {
            return true;
        }
        path.pop();
    }
    false
}

fn find_in_value(value: &Spanned<DeValue<'_>>, offset: usize, path: &mut Vec<Seg>) -> bool {
    match value.get_ref() {
        DeValue::Table(t) if find_in_table(t, offset, path) => return true,
        DeValue::Array(items) => {
            for item in items {
                if let Some(last) = path.last_mut() {
                    last.array = true;
                }
                if find_in_value(item, offset, path) {
                    return true;
                }
                if let Some(last) = path.last_mut() {
                    last.array = false;
                }
            }
        }
        _ => {}
    }
    contains(&value.span(), offset)
}

fn dotted(path: &[Seg]) -> String {
    path.iter()
        .map(|s| s.key.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// "at the top level", "in [refresh]", "in [[environment]]".
fn section(path: &[Seg]) -> String {
    match path.last() {
        None => "at the top level".to_string(),
        Some(last) if last.array => format!("in [[{}]]", dotted(path)),
        Some(_) => format!("in [{}]", dotted(path)),
    }
}

/// The names between backticks in a serde message tail.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn human_expected(expected: &str, invalid_value: bool) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" if invalid_value => {
            "a non-negative integer".to_string()
        }
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" => {
            "an integer".to_string()
        }
        "a sequence" => "a list".to_string(),
        "a map" => "a table".to_string(),
        e if e.starts_with("struct ") => "a table".to_string(),
        e => e.to_string(),
    }
}

fn human_found(found: &str) -> String {
    match found {
        "map" => "a table".to_string(),
        "sequence" => "a list".to_string(),
        f => f.to_string(),
    }
}

fn with_path(message: String, path: &[Seg]) -> String {
    if path.is_empty() {
        message
    } else {
        format!("{message} ({})", dotted(path))
    }
}

fn describe_serde_error(message: &str, path: &[Seg]) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((name, tail)) = rest.split_once('`')
    {
        let parent = &path[..path.len().saturating_sub(1)];
        let allowed = backticked(tail);
        let allowed = if allowed.is_empty() {
            "none".to_string()
        } else {
            allowed.join(", ")
        };
        return format!(
            "unknown key \"{name}\" {}; allowed keys: {allowed}",
            section(parent)
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.trim_end_matches('`');
        return format!("missing required key \"{name}\" {}", section(path));
    }
    for (prefix, invalid_value) in [("invalid type: ", false), ("invalid value: ", true)] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((found, expected)) = rest.rsplit_once(", expected ")
        {
            return with_path(
                format!(
                    "{prefix}found {}, expected {}",
                    human_found(found),
                    human_expected(expected, invalid_value)
                ),
                path,
            );
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((name, tail)) = rest.split_once('`')
    {
        let allowed: Vec<String> = backticked(tail)
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect();
        return with_path(
            format!(
                "unknown value \"{name}\", expected {}",
                allowed.join(" or ")
            ),
            path,
        );
    }
    with_path(message.to_string(), path)
}

// ------------------------------------------------------------ checks

fn get<'a, 'i>(
    table: &'a DeTable<'i>,
    key: &str,
) -> Option<(Range<usize>, &'a Spanned<DeValue<'i>>)> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(k, v)| (k.span(), v))
}

fn as_table<'a, 'i>(value: &'a Spanned<DeValue<'i>>) -> Option<&'a DeTable<'i>> {
    match value.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

/// The span of the value of `key` in `table`, or of the table itself.
fn value_span(table: Option<&DeTable<'_>>, key: &str) -> Option<Range<usize>> {
    table.and_then(|t| get(t, key)).map(|(_, v)| v.span())
}

struct Checker<'a, 'i> {
    source: &'a str,
    file: &'a str,
    doc: &'a DeTable<'i>,
}

impl<'i> Checker<'_, 'i> {
    fn error(&self, span: Option<Range<usize>>, message: String) -> ConfigError {
        match span {
            Some(span) => ConfigError::at(self.source, self.file, span, message),
            None => ConfigError::new(Some(self.file), message),
        }
    }

    /// The `[[environment]]` tables with their spans, in file order.
    fn environment_tables(&self) -> Vec<(Range<usize>, &DeTable<'i>)> {
        match get(self.doc, "environment").map(|(_, v)| v.get_ref()) {
            Some(DeValue::Array(items)) => items
                .iter()
                .filter_map(|item| as_table(item).map(|t| (item.span(), t)))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn theme(&self, config: &Config, theme_dir: Option<&Path>) -> Result<(), ConfigError> {
        let names = theme::theme_names(theme_dir);
        if names.contains(&config.theme) {
            return Ok(());
        }
        Err(self.error(
            value_span(Some(self.doc), "theme"),
            format!(
                "unknown theme \"{}\"; available: {}",
                config.theme,
                names.join(", ")
            ),
        ))
    }

    /// The logs view's ring buffer: big enough to be useful, small enough
    /// to stay a bounded amount of memory.
    fn logs_buffer(&self, config: &Config) -> Result<(), ConfigError> {
        let range = crate::logs::BUFFER_LINES_RANGE;
        if range.contains(&config.logs_buffer_lines) {
            return Ok(());
        }
        Err(self.error(
            value_span(Some(self.doc), "logs_buffer_lines"),
            format!(
                "logs_buffer_lines must be between {} and {}, found {}",
                range.start(),
                range.end(),
                config.logs_buffer_lines
            ),
        ))
    }

    fn refresh(&self, config: &Config) -> Result<(), ConfigError> {
        let top = get(self.doc, "refresh").and_then(|(_, v)| as_table(v));
        self.intervals(&config.refresh, top, "refresh")?;
        for (env, (_, table)) in config.environments.iter().zip(self.environment_tables()) {
            if let Some(refresh) = &env.refresh {
                let section = get(table, "refresh").and_then(|(_, v)| as_table(v));
                self.intervals(refresh, section, "environment.refresh")?;
            }
        }
        Ok(())
    }

    fn intervals(
        &self,
        refresh: &RefreshIntervals,
        table: Option<&DeTable<'_>>,
        name: &str,
    ) -> Result<(), ConfigError> {
        let fields = [
            ("services_secs", refresh.services_secs),
            ("tasks_secs", refresh.tasks_secs),
            ("databases_secs", refresh.databases_secs),
            ("alarms_secs", refresh.alarms_secs),
            // --- metrics
            ("metrics_secs", refresh.metrics_secs),
        ];
        for (field, value) in fields {
            if value == 0 {
                return Err(self.error(
                    value_span(table, field),
                    format!(
                        "a refresh interval must be at least 1 second, found 0 ({name}.{field})"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn environments(&self, config: &Config) -> Result<(), ConfigError> {
        let tables = self.environment_tables();
        let mut seen: BTreeMap<&str, Option<Range<usize>>> = BTreeMap::new();
        for (i, env) in config.environments.iter().enumerate() {
            let table = tables.get(i).map(|(_, t)| *t);
            let table_span = tables.get(i).map(|(s, _)| s.clone());
            let name_span = value_span(table, "name").or(table_span.clone());
            if env.name.trim().is_empty() {
                return Err(self.error(
                    name_span,
                    "an environment name cannot be empty (environment.name)".to_string(),
                ));
            }
            if let Some(first) = seen.get(env.name.as_str()) {
                let also = first
                    .as_ref()
                    .map(|s| {
                        format!(
                            " (first defined on line {})",
                            locate(self.source, s.clone()).line
                        )
                    })
                    .unwrap_or_default();
                return Err(self.error(
                    name_span,
                    format!(
                        "duplicate environment name \"{}\"{also}; environment names must be unique",
                        env.name
                    ),
                ));
            }
            seen.insert(env.name.as_str(), name_span);
            if env.source == Source::Aws
                && env.region.as_deref().is_none_or(|r| r.trim().is_empty())
            {
                let span = value_span(table, "region")
                    .or_else(|| value_span(table, "source"))
                    .or(table_span);
                return Err(self.error(
                    span,
                    format!(
                        "environment \"{}\" has source = \"aws\" but no region; add e.g. region = \"ap-northeast-1\"",
                        env.name
                    ),
                ));
            }
            if env.rto_minutes == Some(0) {
                return Err(self.error(
                    value_span(table, "rto_minutes").or(table_span),
                    format!(
                        "environment \"{}\": rto_minutes must be at least 1 minute, found 0",
                        env.name
                    ),
                ));
            }
        }
        Ok(())
    }

    fn default_environment(&self, config: &Config) -> Result<(), ConfigError> {
        let Some(name) = &config.default_environment else {
            return Ok(());
        };
        if config.environments.iter().any(|e| e.name == *name) {
            return Ok(());
        }
        Err(self.error(
            value_span(Some(self.doc), "default_environment"),
            unknown_environment(config, name, " in default_environment"),
        ))
    }

    fn keys(&self, config: &Config) -> Result<(), ConfigError> {
        let Err(err) = keys::build_keymap(&config.keys) else {
            return Ok(());
        };
        let keys_table = get(self.doc, "keys").and_then(|(_, v)| as_table(v));
        // The table at a path under `[keys]` (`view.services`), or
        // `[keys]` itself.
        let table = |section: Option<&str>| {
            section
                .into_iter()
                .flat_map(|s| s.split('.'))
                .try_fold(keys_table?, |t, name| {
                    get(t, name).and_then(|(_, v)| as_table(v))
                })
        };
        let key_span = |section: Option<&str>, name: &str| {
            table(section).and_then(|t| get(t, name)).map(|(k, _)| k)
        };
        let entry_span = |section: Option<&str>, name: &str, index: usize| {
            let (_, value) = table(section).and_then(|t| get(t, name))?;
            match value.get_ref() {
                DeValue::Array(items) => items.get(index).map(Spanned::span),
                _ => Some(value.span()),
            }
        };
        let span = match &err {
            KeymapError::UnknownCommand { section, name } => key_span(section.as_deref(), name),
            KeymapError::UnknownSection(path) => {
                // The last name of the path, in the table that holds it.
                let (parent, name) = match path.rsplit_once('.') {
                    Some((p, n)) => (Some(p), n),
                    None => (None, path.as_str()),
                };
                key_span(parent, name)
            }
            KeymapError::BadKey {
                section,
                command,
                index,
                ..
            } => entry_span(section.as_deref(), command, *index),
            KeymapError::Misplaced { section, command }
            | KeymapError::Twice { section, command } => key_span(Some(section), command.name()),
            KeymapError::Conflict { first, second, .. } => {
                let bound = if second.at.is_some() { second } else { first };
                bound
                    .at
                    .and_then(|at| entry_span(at.section, bound.command.name(), at.index))
            }
        };
        let span = span.or_else(|| get(self.doc, "keys").map(|(k, _)| k));
        Err(self.error(span, err.to_string()))
    }
}

/// Fills the keys an `[environment.refresh]` table leaves out from the
/// top-level `[refresh]`, rather than from the built-in defaults.
fn inherit_refresh(config: &mut Config, doc: &DeTable<'_>) {
    let defaults = config.refresh;
    let tables: Vec<Option<&DeTable<'_>>> = match get(doc, "environment").map(|(_, v)| v.get_ref())
    {
        Some(DeValue::Array(items)) => items.iter().map(as_table).collect(),
        _ => Vec::new(),
    };
    for (env, table) in config.environments.iter_mut().zip(tables) {
        let Some(refresh) = env.refresh.as_mut() else {
            continue;
        };
        let section = table
            .and_then(|t| get(t, "refresh"))
            .and_then(|(_, v)| as_table(v));
        let set = |field: &str| section.is_some_and(|s| get(s, field).is_some());
        if !set("services_secs") {
            refresh.services_secs = defaults.services_secs;
        }
        if !set("tasks_secs") {
            refresh.tasks_secs = defaults.tasks_secs;
        }
        if !set("databases_secs") {
            refresh.databases_secs = defaults.databases_secs;
        }
        if !set("alarms_secs") {
            refresh.alarms_secs = defaults.alarms_secs;
        }
        // --- metrics
        if !set("metrics_secs") {
            refresh.metrics_secs = defaults.metrics_secs;
        }
    }
}

// ------------------------------------------------------------ serde helpers

/// Deserializes the `[keys]` table, whose values are a key or a list of
/// keys (`quit = "q"` or `quit = ["q", "ctrl-c"]`), or tables of such
/// entries (`[keys.replay]`, `[keys.view.services]`), kept by their path.
pub(crate) fn key_tables<'de, D>(deserializer: D) -> Result<KeysConfig, D::Error>
where
    D: Deserializer<'de>,
{
    fn flatten(keys: &mut KeysConfig, path: &str, table: BTreeMap<String, KeyNode>) {
        for (name, node) in table {
            match node {
                KeyNode::Keys(list) if path.is_empty() => {
                    keys.commands.insert(name, list);
                }
                KeyNode::Keys(list) => {
                    keys.sections
                        .entry(path.to_string())
                        .or_default()
                        .insert(name, list);
                }
                KeyNode::Table(t) if path.is_empty() => flatten(keys, &name, t),
                KeyNode::Table(t) => flatten(keys, &format!("{path}.{name}"), t),
            }
        }
    }
    let map: BTreeMap<String, KeyNode> = BTreeMap::deserialize(deserializer)?;
    let mut keys = KeysConfig::default();
    flatten(&mut keys, "", map);
    Ok(keys)
}

/// A value in `[keys]`: keys, or a table.
enum KeyNode {
    Keys(Vec<String>),
    Table(BTreeMap<String, KeyNode>),
}

impl<'de> Deserialize<'de> for KeyNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyNodeVisitor;

        impl<'de> Visitor<'de> for KeyNodeVisitor {
            type Value = KeyNode;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key name or a list of key names")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyNode, E> {
                KeyListVisitor.visit_str(v).map(|l| KeyNode::Keys(l.0))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<KeyNode, A::Error> {
                KeyListVisitor.visit_seq(seq).map(|l| KeyNode::Keys(l.0))
            }

            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<KeyNode, A::Error> {
                BTreeMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(KeyNode::Table)
            }
        }

        deserializer.deserialize_any(KeyNodeVisitor)
    }
}

struct KeyList(Vec<String>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyListVisitor)
    }
}

struct KeyListVisitor;

impl<'de> Visitor<'de> for KeyListVisitor {
    type Value = KeyList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key name or a list of key names")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyList, E> {
        Ok(KeyList(vec![v.to_string()]))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyList, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = seq.next_element::<String>()? {
            keys.push(key);
        }
        Ok(KeyList(keys))
    }
}

// ------------------------------------------------------------ connections

impl Checker<'_, '_> {
    /// How each environment is reached: a region AWS could have, an
    /// endpoint URL the SDK can send to (and not in clear text across the
    /// network unless allowed), a role ARN STS would take, a simulated
    /// world that exists. A value the SDK cannot use would otherwise fail,
    /// or panic, on every request.
    fn connections(&self, config: &Config) -> Result<(), ConfigError> {
        let tables = self.environment_tables();
        for (i, env) in config.environments.iter().enumerate() {
            let table = tables.get(i).map(|(_, t)| *t);
            let table_span = tables.get(i).map(|(s, _)| s.clone());
            let at = |key: &str| value_span(table, key).or(table_span.clone());
            let place = format!("environment \"{}\"", env.name);
            if let Some(region) = &env.region
                && let Some(problem) = region_problem(region)
            {
                return Err(self.error(at("region"), format!("{place}: {problem} (region)")));
            }
            if let Some(url) = &env.endpoint_url
                && let Some(problem) = endpoint_problem(url, env.allow_insecure_endpoint)
            {
                return Err(self.error(
                    at("endpoint_url"),
                    format!("{place}: {problem} (endpoint_url)"),
                ));
            }
            if let Some(arn) = &env.role_arn
                && let Some(problem) = role_arn_problem(arn)
            {
                return Err(self.error(at("role_arn"), format!("{place}: {problem} (role_arn)")));
            }
            if let Some(profile) = &env.profile
                && (profile.trim().is_empty() || profile.trim() != profile)
            {
                return Err(self.error(
                    at("profile"),
                    format!(
                        "{place}: profile {profile:?} is not a profile name; remove it to use the default credential chain (profile)"
                    ),
                ));
            }
            if let Some(id) = env.ec2_instances.iter().find(|i| !is_instance_id(i)) {
                return Err(self.error(
                    at("ec2_instances"),
                    format!(
                        "{place}: {id:?} is not an EC2 instance id; write e.g. \"i-0123456789abcdef0\" (ec2_instances)"
                    ),
                ));
            }
            if let Some(arn) = env
                .ec2_target_groups
                .iter()
                .find(|a| !is_target_group_arn(a))
            {
                return Err(self.error(
                    at("ec2_target_groups"),
                    format!(
                        "{place}: {arn:?} is not a target group ARN; write e.g. \"arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/app-web/93c4a1e7d6b20f58\" (ec2_target_groups)"
                    ),
                ));
            }
            if let Some((key, value)) = env
                .ec2_tags
                .iter()
                .find(|(k, v)| k.trim().is_empty() || v.is_empty())
            {
                return Err(self.error(
                    at("ec2_tags"),
                    format!(
                        "{place}: tag {key:?} = {value:?}: a tag filter needs a key and a value (\"*\" for any); write e.g. ec2_tags = {{ Name = \"app-*\" }} (ec2_tags)"
                    ),
                ));
            }
            if let Some(id) = env
                .elasticache_replication_groups
                .iter()
                .find(|i| !is_replication_group_id(i))
            {
                return Err(self.error(
                    at("elasticache_replication_groups"),
                    format!(
                        "{place}: {id:?} is not an ElastiCache replication group id (1 to 40 letters, digits and single hyphens, starting with a letter); write e.g. \"app-prod-redis\" (elasticache_replication_groups)"
                    ),
                ));
            }
            if env.source == Source::Sim {
                let world = env.sim_world.as_deref().unwrap_or(&env.name);
                let worlds = crate::backend::sim::world_names();
                if !worlds.iter().any(|w| w == world) {
                    let (key, how) = if env.sim_world.is_some() {
                        ("sim_world", "")
                    } else {
                        ("name", " (sim_world defaults to the name)")
                    };
                    return Err(self.error(
                        at(key),
                        format!(
                            "{place}: unknown simulated world \"{world}\"{how}; available: {} (sim_world)",
                            worlds.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Whether `id` is an ElastiCache replication group id: 1 to 40 letters,
/// digits and hyphens, starting with a letter, no two hyphens in a row,
/// not ending with one.
pub fn is_replication_group_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.contains("--")
        && !id.ends_with('-')
}

/// Whether `id` is an EC2 instance id: `i-` and 8 or 17 lowercase hex
/// digits.
pub fn is_instance_id(id: &str) -> bool {
    id.strip_prefix("i-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// Whether `arn` is an ELBv2 target group ARN
/// (`arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID`).
pub fn is_target_group_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_word, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    let mut r = resource.split('/');
    *arn_word == "arn"
        && partition.starts_with("aws")
        && *service == "elasticloadbalancing"
        && !region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && r.next() == Some("targetgroup")
        && r.next().is_some_and(|n| !n.is_empty())
        && r.next().is_some_and(hex)
        && r.next().is_none()
}

/// Why `region` cannot be an AWS region: regions are lowercase letters,
/// digits and single hyphens between them (`ap-northeast-1`,
/// `us-gov-west-1`); the SDK puts them into host names and signatures.
pub fn region_problem(region: &str) -> Option<String> {
    let example = "write e.g. \"ap-northeast-1\"";
    if region.trim().is_empty() {
        return Some(format!("the region is empty; {example}"));
    }
    let well_formed = region.len() <= 63
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && !region.ends_with('-')
        && !region.contains("--")
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if well_formed {
        None
    } else {
        Some(format!(
            "{region:?} is not a region: a region is lowercase letters, digits and hyphens; {example}"
        ))
    }
}

/// Why `url` cannot be an endpoint URL: it must be `http://` or `https://`
/// with a host, no user name or password, a valid port; plain `http://` only
/// to this machine (loopback) unless `allow_insecure` says otherwise.
pub fn endpoint_problem(url: &str, allow_insecure: bool) -> Option<String> {
    let example =
        "write e.g. \"http://127.0.0.1:5000\" for an emulator, or remove endpoint_url to use AWS";
    if url.trim().is_empty() {
        return Some(format!("the endpoint URL is empty; {example}"));
    }
    if url.trim() != url {
        return Some(format!("{url:?} has spaces around it; {example}"));
    }
    let Some((scheme, _)) = url.split_once("://") else {
        return Some(format!("{url:?} is not a URL (no scheme); {example}"));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Some(format!(
            "{url:?}: the scheme must be http or https, found \"{scheme}\""
        ));
    }
    let uri = match url.parse::<http::Uri>() {
        Ok(u) => u,
        Err(e) => return Some(format!("{url:?} is not a URL ({e}); {example}")),
    };
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        Some(other) => {
            return Some(format!(
                "{url:?}: the scheme must be http or https, found \"{other}\""
            ));
        }
        None => return Some(format!("{url:?} has no scheme; {example}")),
    };
    let Some(authority) = uri.authority() else {
        return Some(format!("{url:?} has no host; {example}"));
    };
    if authority.as_str().contains('@') {
        return Some(format!(
            "{url:?} carries a user name or password: credentials come from the profile, never from the URL"
        ));
    }
    let host = authority.host();
    if host.is_empty() || host == "[]" {
        return Some(format!("{url:?} has no host; {example}"));
    }
    let port_text = authority
        .as_str()
        .rsplit_once(']')
        .map_or(authority.as_str(), |(_, rest)| rest)
        .rsplit_once(':')
        .map(|(_, p)| p);
    if let Some(port) = port_text
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Some(format!(
            "{url:?}: the port must be 1 to 65535, found \"{port}\""
        ));
    }
    if uri.query().is_some() {
        return Some(format!("{url:?}: an endpoint URL has no query (?...)"));
    }
    if !https && !allow_insecure && !is_loopback(host) {
        return Some(format!(
            "{url:?} is plain http to another machine: requests and the data they return would cross the network unencrypted; use https, or set allow_insecure_endpoint = true in this environment if that is really meant"
        ));
    }
    None
}

/// `localhost`, `127.0.0.0/8` and `::1`.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why `arn` cannot be the ARN of an IAM role:
/// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`.
pub fn role_arn_problem(arn: &str) -> Option<String> {
    let expected = "expected arn:aws:iam::123456789012:role/NAME";
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return Some(format!("{arn:?} is not an IAM role ARN; {expected}"));
    };
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    };
    let path_ok = |s: &str| {
        s.split('/')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_graphic()))
    };
    let ok = *prefix == "arn"
        && partition.starts_with("aws")
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
        && *service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && resource.strip_prefix("role/").is_some_and(|rest| {
            let (path, name) = rest.rsplit_once('/').unwrap_or(("", rest));
            name_ok(name) && (path.is_empty() || path_ok(path))
        });
    if ok {
        None
    } else {
        Some(format!("{arn:?} is not an IAM role ARN; {expected}"))
    }
}

// --- probes
impl Checker<'_, '_> {
    /// `[[environment.health_checks]]`: a URL that can be probed, intervals
    /// and timeouts of at least a second, a status code that exists.
    fn health_checks(&self, config: &Config) -> Result<(), ConfigError> {
        let tables = self.environment_tables();
        for (i, env) in config.environments.iter().enumerate() {
            let env_table = tables.get(i).map(|(_, t)| *t);
            let checks: Vec<(Range<usize>, &DeTable<'_>)> = match env_table
                .and_then(|t| get(t, "health_checks"))
                .map(|(_, v)| v.get_ref())
            {
                Some(DeValue::Array(items)) => items
                    .iter()
                    .filter_map(|item| as_table(item).map(|t| (item.span(), t)))
                    .collect(),
                _ => Vec::new(),
            };
            for (j, check) in env.health_checks.iter().enumerate() {
                let table = checks.get(j).map(|(_, t)| *t);
                let table_span = checks.get(j).map(|(s, _)| s.clone());
                let at = |key: &str| value_span(table, key).or(table_span.clone());
                let place = format!("environment \"{}\", health check {}", env.name, j + 1);
                if let Some(problem) = check.url_problem() {
                    return Err(
                        self.error(at("url"), format!("{place}: {problem} (health_checks.url)"))
                    );
                }
                for (field, value) in [
                    ("interval_secs", check.interval_secs),
                    ("timeout_secs", check.timeout_secs),
                ] {
                    if value == 0 {
                        return Err(self.error(
                            at(field),
                            format!(
                                "{place}: must be at least 1 second, found 0 (health_checks.{field})"
                            ),
                        ));
                    }
                }
                if let Some(service) = &check.service
                    && let Some(problem) = service_problem(env, service)
                {
                    return Err(self.error(
                        at("service"),
                        format!("{place}: {problem} (health_checks.service)"),
                    ));
                }
                if let Some(status) = check.expect_status
                    && !(100..=599).contains(&status)
                {
                    return Err(self.error(
                        at("expect_status"),
                        format!(
                            "{place}: an HTTP status is 100 to 599, found {status} (health_checks.expect_status)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Each environment's `cloudfront_distributions`: an id CloudFront
    /// would take, once; paths it would take (at least one); services the
    /// environment shows.
    fn cloudfront(&self, config: &Config) -> Result<(), ConfigError> {
        let tables = self.environment_tables();
        for (i, env) in config.environments.iter().enumerate() {
            let env_table = tables.get(i).map(|(_, t)| *t);
            let items: Vec<(Range<usize>, &DeTable<'_>)> = match env_table
                .and_then(|t| get(t, "cloudfront_distributions"))
                .map(|(_, v)| v.get_ref())
            {
                Some(DeValue::Array(items)) => items
                    .iter()
                    .filter_map(|item| as_table(item).map(|t| (item.span(), t)))
                    .collect(),
                _ => Vec::new(),
            };
            let mut seen: Vec<&str> = Vec::new();
            for (j, d) in env.cloudfront_distributions.iter().enumerate() {
                let table = items.get(j).map(|(_, t)| *t);
                let table_span = items.get(j).map(|(s, _)| s.clone());
                let at = |key: &str| value_span(table, key).or(table_span.clone());
                let place = format!(
                    "environment \"{}\", CloudFront distribution {}",
                    env.name,
                    j + 1
                );
                if !super::is_distribution_id(&d.id) {
                    return Err(self.error(
                        at("id"),
                        format!(
                            "{place}: a distribution id is upper-case letters and digits \
                             (E2ABCDEF123456), found \"{}\" (cloudfront_distributions.id)",
                            d.id
                        ),
                    ));
                }
                if seen.contains(&d.id.as_str()) {
                    return Err(self.error(
                        at("id"),
                        format!(
                            "{place}: distribution {} is listed twice \
                             (cloudfront_distributions.id)",
                            d.id
                        ),
                    ));
                }
                seen.push(&d.id);
                if d.paths.is_empty() {
                    return Err(self.error(
                        at("paths"),
                        format!(
                            "{place}: at least one path, e.g. [\"/*\"] \
                             (cloudfront_distributions.paths)"
                        ),
                    ));
                }
                for path in &d.paths {
                    if let Some(problem) = super::cloudfront_path_problem(path) {
                        return Err(self.error(
                            at("paths"),
                            format!("{place}: {problem} (cloudfront_distributions.paths)"),
                        ));
                    }
                }
                for service in &d.services {
                    if let Some(problem) = service_problem(env, service) {
                        return Err(self.error(
                            at("services"),
                            format!("{place}: {problem} (cloudfront_distributions.services)"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Why a health check's `service` cannot name a service of `env`: blank,
/// or not among the services every cluster of the environment lists.
fn service_problem(env: &super::EnvironmentConfig, service: &str) -> Option<String> {
    if service.trim().is_empty() {
        return Some("the service name is empty".to_string());
    }
    // A cluster without a list shows all its services: any name may exist.
    let listed: Vec<&str> = env
        .clusters
        .iter()
        .flat_map(|c| c.services.iter().map(String::as_str))
        .collect();
    let all_listed =
        !env.clusters.is_empty() && env.clusters.iter().all(|c| !c.services.is_empty());
    if all_listed && !listed.contains(&service) {
        return Some(format!(
            "\"{service}\" is not a service this environment shows; its clusters list {}",
            listed.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_counts_lines_and_characters() {
        let src = "a = 1\nb = \"日本\" x\n";
        let loc = locate(src, 19..20);
        assert_eq!((loc.line, loc.column), (2, 10));
        assert_eq!(loc.text, "b = \"日本\" x");
        assert_eq!(loc.caret_offset, 11);
        assert_eq!(loc.caret_width, 1);
        // Past the end, and in the middle of a character: no panic.
        let loc = locate(src, 100..200);
        assert_eq!(loc.line, 3);
        let loc = locate(src, 12..13);
        assert_eq!((loc.line, loc.column), (2, 6));
        let loc = locate("", 0..0);
        assert_eq!((loc.line, loc.column), (1, 1));
    }

    #[test]
    fn long_lines_are_cut_around_the_place() {
        let src = format!("a = \"{}\" b", "x".repeat(500));
        let loc = locate(&src, 507..508);
        assert!(loc.text.chars().count() <= MAX_SNIPPET_WIDTH + 2);
        assert!(loc.text.starts_with('…'));
        assert_eq!(loc.text.chars().nth(loc.caret_offset), Some('b'));
    }

    #[test]
    fn display_has_position_and_caret() {
        let src = "[refresh]\nservices_secs = \"five\"\n";
        let err = ConfigError::at(src, "c.toml", 26..32, "bad");
        assert_eq!(
            err.to_string(),
            "error: c.toml:2:17: bad\n  2 | services_secs = \"five\"\n    |                 ^^^^^^"
        );
        assert_eq!(err.line(), Some(2));
        assert_eq!(err.column(), Some(17));
        assert_eq!(ConfigError::new(None, "plain").to_string(), "error: plain");
        assert_eq!(ConfigError::new(Some("f"), "m").to_string(), "error: f: m");
    }

    #[test]
    fn serde_messages_are_rewritten() {
        let path = [
            Seg {
                key: "refresh".into(),
                array: false,
            },
            Seg {
                key: "services_secs".into(),
                array: false,
            },
        ];
        assert_eq!(
            describe_serde_error("invalid type: string \"five\", expected u64", &path),
            "invalid type: found string \"five\", expected an integer (refresh.services_secs)"
        );
        assert_eq!(
            describe_serde_error("invalid value: integer `-5`, expected u64", &path),
            "invalid value: found integer `-5`, expected a non-negative integer (refresh.services_secs)"
        );
        assert_eq!(
            describe_serde_error("unknown field `x`, expected `a` or `b`", &path),
            "unknown key \"x\" in [refresh]; allowed keys: a, b"
        );
    }

    #[test]
    fn the_example_config_keeps_serde_defaults() {
        let example = parse_config(DEFAULT_CONFIG, BUILTIN_CONFIG_NAME).expect("example parses");
        let empty = parse_config("", "empty.toml").expect("empty parses");
        assert_eq!(example.theme, empty.theme);
        assert_eq!(example.refresh, empty.refresh);
        assert_eq!(example.read_only, empty.read_only);
    }
}
