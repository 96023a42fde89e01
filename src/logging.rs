//! tracing to a daily log file in the state directory, never to the screen.
//!
//! Nothing secret reaches the file, whatever `HONBAN_LOG` asks for:
//!
//! 1. The AWS SDK, its signer and the HTTP stack (`aws_*`, `hyper*`, `h2`,
//!    `rustls`, `tower`) are capped at `info`: at `debug` and `trace` they
//!    log signed requests (the `Authorization` header with the access key
//!    id, `x-amz-security-token`), the credentials they load and response
//!    bodies (a task definition's environment values).
//! 2. Every line is redacted before it is written: the values after
//!    `authorization`, `x-amz-security-token`, `Credential=`, `Signature=`,
//!    session tokens, secret keys and access key ids (and anything shaped
//!    like an access key id) become `[redacted]`.
//!
//! The directory is 0700 and the files 0600, opened without following a
//! symbolic link (see [`crate::paths`]).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;
use tracing::{Level, Metadata};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

/// The file name before the date: `honban.log.2026-11-23` (UTC).
const PREFIX: &str = "honban.log";

/// Targets that log secrets below `info`: the SDK, the signer, the
/// credential providers and the HTTP stack.
const CAPPED_TARGETS: &[&str] = &[
    "aws", // aws_config, aws_sigv4, aws_smithy_*, aws_sdk_*, aws_runtime...
    "hyper",
    "h2",
    "http",
    "rustls",
    "tower",
    "tokio_rustls",
];

/// Starts logging to `dir/honban.log.<date>`. Keep the guard alive until
/// exit so buffered lines are written. `HONBAN_LOG` sets the filter
/// (default `info`); the capped targets never log below `info`.
pub fn init(dir: &Path) -> io::Result<WorkerGuard> {
    let file = DailyFile::open(dir)?;
    let (writer, guard) = tracing_appender::non_blocking(Redacting(file));
    let filter = EnvFilter::try_from_env("HONBAN_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_filter(filter.and(filter_fn(allowed)));
    let _ = tracing::subscriber::set_global_default(Registry::default().with(layer));
    Ok(guard)
}

/// Whether a span or event may be logged at all: below `info` only outside
/// the capped targets.
pub fn allowed(meta: &Metadata<'_>) -> bool {
    *meta.level() <= Level::INFO || !is_capped(meta.target())
}

fn is_capped(target: &str) -> bool {
    let crate_name = target.split("::").next().unwrap_or(target);
    CAPPED_TARGETS.iter().any(|t| {
        crate_name == *t
            || crate_name
                .strip_prefix(t)
                .is_some_and(|rest| rest.starts_with('_'))
    })
}

// ------------------------------------------------------------ the file

/// `honban.log.<UTC date>` in a private directory, a new file each day.
struct DailyFile {
    dir: PathBuf,
    date: String,
    file: File,
}

impl DailyFile {
    fn open(dir: &Path) -> io::Result<Self> {
        crate::paths::create_private_dir(dir)?;
        // Files of earlier versions were world-readable.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with(PREFIX)
                    && entry.file_type().is_ok_and(|t| t.is_file())
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(
                        entry.path(),
                        std::fs::Permissions::from_mode(0o600),
                    );
                }
            }
        }
        let date = today();
        let file = crate::paths::open_private_append(&dir.join(format!("{PREFIX}.{date}")))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            date,
            file,
        })
    }
}

fn today() -> String {
    Utc::now().format("%Y-%m-%d").to_string()
}

impl Write for DailyFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let date = today();
        if date != self.date {
            self.file =
                crate::paths::open_private_append(&self.dir.join(format!("{PREFIX}.{date}")))?;
            self.date = date;
        }
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Redacts every write (one formatted event each) before passing it on.
struct Redacting<W>(W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        match redact(&text) {
            Cow::Borrowed(_) => self.0.write_all(buf)?,
            Cow::Owned(clean) => self.0.write_all(clean.as_bytes())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

// ------------------------------------------------------------ redaction

const REDACTED: &str = "[redacted]";

/// Names whose value is secret (compared without case). The value is what
/// follows the name after quotes, `:`, `=` and spaces.
const SECRET_NAMES: &[&str] = &[
    "x-amz-security-token",
    "x-amz-credential",
    "x-amz-signature",
    "x-aws-ec2-metadata-token",
    "aws_session_token",
    "aws_secret_access_key",
    "aws_access_key_id",
    "session_token",
    "secret_access_key",
    "access_key_id",
    "sessiontoken",
    "secretaccesskey",
    "accesskeyid",
    "credential",
    "signature",
    "\"token\"",
    "password",
];

/// Names whose value is redacted when it is a list or table: a task
/// definition's container environment (`"environment":[{"name":…,
/// "value":…}]`, `environment: Some([KeyValuePair {…}])`).
const SECRET_GROUPS: &[&str] = &["environment", "secrets"];

/// Names whose value runs to the end of the quoted string or line
/// (`Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
/// Signature=…`).
const SECRET_LINES: &[&str] = &["authorization"];

/// `line` with every secret value replaced by `[redacted]`.
pub fn redact(line: &str) -> Cow<'_, str> {
    let lower = line.to_ascii_lowercase();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for (names, kind) in [
        (SECRET_NAMES, Kind::Value),
        (SECRET_LINES, Kind::Line),
        (SECRET_GROUPS, Kind::Group),
    ] {
        for name in names {
            let mut from = 0;
            while let Some(i) = lower[from..].find(name) {
                let start = from + i + name.len();
                from = start;
                if let Some(span) = value_after(line, start, kind) {
                    cuts.push(span);
                }
            }
        }
    }
    cuts.extend(key_ids(line));
    if cuts.is_empty() {
        return Cow::Borrowed(line);
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for (start, end) in cuts {
        if end <= at {
            continue;
        }
        let start = start.max(at);
        out.push_str(&line[at..start]);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(&line[at..]);
    Cow::Owned(out)
}

/// What of the value after a secret name is redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One word (or a Debug wrapper around it).
    Value,
    /// The rest of the quoted string or line.
    Line,
    /// Only a bracketed group (`[…]`, `{…}`, `Some([…])`).
    Group,
}

/// The byte range of the value after a name ending at `start`: past
/// quotes, backslashes, `:`, `=` and spaces; then up to a delimiter (for
/// [`Kind::Line`], up to a quote or the end of the line). `None` if nothing
/// separates it from the name (the name was part of a longer word) or the
/// value is empty or already redacted.
fn value_after(line: &str, start: usize, kind: Kind) -> Option<(usize, usize)> {
    let whole = kind == Kind::Line;
    let bytes = line.as_bytes();
    let mut i = start;
    let mut separated = false;
    while i < bytes.len() && matches!(bytes[i], b'"' | b'\'' | b'\\' | b':' | b'=' | b' ') {
        separated |= matches!(bytes[i], b':' | b'=');
        i += 1;
    }
    if !separated {
        return None;
    }
    let value_start = i;
    if kind == Kind::Group && matches!(bytes.get(i), Some(b'[' | b'{')) {
        return Some((i, closing(bytes, i)));
    }
    while i < bytes.len() {
        let b = bytes[i];
        let end = if whole {
            matches!(b, b'"' | b'\'' | b'\\' | b'\n' | b'\r')
        } else {
            b.is_ascii_whitespace()
                || matches!(
                    b,
                    b'"' | b'\'' | b'\\' | b',' | b'&' | b'}' | b')' | b';' | b'(' | b'{'
                )
        };
        if end {
            break;
        }
        i += 1;
    }
    // A Debug wrapper (`Some("…")`, `HeaderValue { _private: H1("…") }`):
    // the whole of it, to its closing bracket.
    let word = &line[value_start..i];
    let rest = line[i..].trim_start();
    if !whole
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && (rest.starts_with('{') || rest.starts_with('('))
    {
        let open = line.len() - rest.len();
        return Some((value_start, closing(bytes, open)));
    }
    if kind == Kind::Group {
        return None;
    }
    let value = &line[value_start..i];
    if value.is_empty() || value.starts_with("**") || value.starts_with('[') {
        return None;
    }
    Some((value_start, i))
}

/// The end (exclusive) of the bracketed group opened at `open`, skipping
/// quoted text; the end of the line if it is not closed.
fn closing(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut quoted = false;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'{' | b'(' | b'[' if !quoted => depth += 1,
            b'}' | b')' | b']' if !quoted => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            b'\n' => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Anything shaped like an AWS access key id: `AKIA`/`ASIA` (and the other
/// key id prefixes) followed by at least 12 upper-case letters or digits.
fn key_ids(line: &str) -> Vec<(usize, usize)> {
    const PREFIXES: &[&str] = &["AKIA", "ASIA", "AIDA", "AROA", "ABIA", "ACCA"];
    let bytes = line.as_bytes();
    let word = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    let mut found = Vec::new();
    for prefix in PREFIXES {
        let mut from = 0;
        while let Some(i) = line[from..].find(prefix) {
            let start = from + i;
            from = start + prefix.len();
            if start > 0 && word(bytes[start - 1]) {
                continue;
            }
            let mut end = from;
            while end < bytes.len() && word(bytes[end]) {
                end += 1;
            }
            if end - from >= 12 {
                found.push((start, end));
                from = end;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_every_shape_the_sdk_prints_them() {
        let token = "IQoJb3JpZ2luX2VjEMARKER/xyz+abc==";
        let cases = [
            format!("x-amz-security-token:{token}\nhost:ecs"),
            format!("{{\"x-amz-security-token\": \"{token}\", \"host\": \"x\"}}"),
            format!("X-Amz-Security-Token={token}&X-Amz-Date=1"),
            format!("headers={{\\\"x-amz-security-token\\\": \\\"{token}\\\"}}"),
            format!("{{\"SessionToken\": \"{token}\", \"Version\": 1}}"),
            format!("session_token: Some(\"{token}\")"),
            format!("\"Token\" : \"{token}\""),
            format!(
                "headers: Headers {{ headers: {{\"x-amz-security-token\": HeaderValue {{ _private: H1(\"{token}\") }}, \"host\": HeaderValue {{ _private: H1(\"ecs\") }} }} }}"
            ),
        ];
        for case in &cases {
            let clean = redact(case);
            assert!(!clean.contains("MARKER"), "{case} → {clean}");
            assert!(clean.contains(REDACTED), "{clean}");
        }
        for body in [
            "{\"containerDefinitions\":[{\"name\":\"web\",\"environment\":[{\"name\":\"DB_PASSWORD\",\"value\":\"hunter2\"}],\"image\":\"x\"}]}",
            "ContainerDefinition { environment: Some([KeyValuePair { name: Some(\"DB_PASSWORD\"), value: Some(\"hunter2\") }]), image: Some(\"x\") }",
        ] {
            let clean = redact(body);
            assert!(!clean.contains("hunter2"), "{clean}");
            assert!(clean.contains("image"), "{clean}");
        }
        let auth = "authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/ap-northeast-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";
        let clean = redact(auth);
        assert!(!clean.contains("AKIAIOSFODNN7EXAMPLE"), "{clean}");
        assert!(!clean.contains("fe5f80f7"), "{clean}");
        assert!(clean.starts_with("authorization: [redacted]"), "{clean}");
        let debug = "Credentials { provider_name: \"Environment\", access_key_id: \"AKIAIOSFODNN7EXAMPLE\", secret_access_key: \"** redacted **\" }";
        let clean = redact(debug);
        assert!(!clean.contains("AKIAIOSFODNN7EXAMPLE"), "{clean}");
        assert!(clean.contains("provider_name: \"Environment\""), "{clean}");
        // A bare key id anywhere.
        assert!(!redact("key ASIAY34FZKBOKMUTVV7A used").contains("ASIAY34FZKBOKMUTVV7A"));
    }

    #[test]
    fn ordinary_lines_are_left_alone() {
        for line in [
            "2026-11-23T03:00:00Z  INFO honban: starting version=\"0.1.0\"",
            "unknown environment: staging; environment = \"production\"",
            "WARN honban::backend::aws: request failed env=prod op=ecs:DescribeServices kind=unauthorized",
            "the token bucket is empty; credentials expired at 03:00",
            "AKIA is a prefix; ASIA too",
        ] {
            assert!(matches!(redact(line), Cow::Borrowed(_)), "{line}");
        }
    }

    #[test]
    fn the_sdk_and_http_stack_are_capped_at_info() {
        for target in [
            "aws_sigv4::http_request::sign",
            "aws_smithy_runtime::client::orchestrator",
            "aws_config::profile::credentials",
            "aws_sdk_ecs",
            "hyper_util::client",
            "hyper",
            "h2::codec",
            "rustls::client",
        ] {
            assert!(is_capped(target), "{target}");
        }
        for target in ["honban", "honban::backend::aws", "awesome", "tokio"] {
            assert!(!is_capped(target), "{target}");
        }
    }
}
