//! Runs a program in a pseudo-terminal and reads its screen through a
//! terminal emulator (`vt100`), so tests can drive a full-screen TUI the way a
//! person would: type keys, wait for text, check how it exits.
//!
//! Every program runs with a clean environment: `TERM=xterm-256color`,
//! `HOME` and the `XDG_*` directories inside a fresh temporary directory (so
//! the user's real config is never read and logs land in the sandbox), the
//! working directory set to that sandbox, plus whatever the test adds.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

/// How often the `wait_*` helpers look at the screen.
const POLL: Duration = Duration::from_millis(50);

/// Terminal queries a program may send and expect an answer to. vt100 only
/// draws, it never answers, so the reader thread answers these itself, as a
/// real xterm would (crossterm's cursor-position and keyboard-enhancement
/// probes would otherwise wait for their own timeout).
const QUERIES: &[(&[u8], Query)] = &[
    (b"\x1b[6n", Query::CursorPosition),
    (b"\x1b[c", Query::DeviceAttributes),
    (b"\x1b[0c", Query::DeviceAttributes),
];

#[derive(Debug, Clone, Copy)]
enum Query {
    CursorPosition,
    DeviceAttributes,
}

type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// A program running in a pseudo-terminal.
pub struct Pty {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: SharedWriter,
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    reader_done: Arc<AtomicBool>,
    exit_code: Option<u32>,
    program: String,
    sandbox: tempfile::TempDir,
}

impl Pty {
    /// Starts `program args…` in a `cols`×`rows` pseudo-terminal. `env` is
    /// applied last, so it can override the defaults (e.g. `TERM`).
    pub fn spawn(program: &Path, args: &[&str], cols: u16, rows: u16, env: &[(&str, &str)]) -> Pty {
        let sandbox = tempfile::Builder::new()
            .prefix("honban-pty-")
            .tempdir()
            .expect("create the sandbox directory");
        let home = sandbox.path();
        for dir in ["config", "state", "data", "cache"] {
            std::fs::create_dir_all(home.join(dir)).expect("create the sandbox's XDG dirs");
        }

        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pseudo-terminal");

        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.cwd(home);
        cmd.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("LANG", "C.UTF-8");
        cmd.env("HOME", home);
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("XDG_STATE_HOME", home.join("state"));
        cmd.env("XDG_DATA_HOME", home.join("data"));
        cmd.env("XDG_CACHE_HOME", home.join("cache"));
        cmd.env("RUST_BACKTRACE", "1");
        for (key, value) in env {
            cmd.env(key, value);
        }

        let child = pair
            .slave
            .spawn_command(cmd)
            .unwrap_or_else(|e| panic!("spawn {} in a pty: {e}", program.display()));
        // Only the child may hold the slave end: once it exits, reads from
        // the master end fail and the reader thread stops.
        drop(pair.slave);

        let master = pair.master;
        let reader = master.try_clone_reader().expect("clone the pty reader");
        let writer: SharedWriter = Arc::new(Mutex::new(
            master.take_writer().expect("take the pty writer"),
        ));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let reader_done = Arc::new(AtomicBool::new(false));

        {
            let parser = Arc::clone(&parser);
            let raw = Arc::clone(&raw);
            let writer = Arc::clone(&writer);
            let done = Arc::clone(&reader_done);
            thread::Builder::new()
                .name("pty-reader".into())
                .spawn(move || {
                    read_loop(reader, &parser, &raw, &writer);
                    done.store(true, Ordering::SeqCst);
                })
                .expect("start the pty reader thread");
        }

        Pty {
            parser,
            raw,
            writer,
            master,
            child,
            reader_done,
            exit_code: None,
            program: program.display().to_string(),
            sandbox,
        }
    }

    /// The sandbox directory used as `HOME` and working directory.
    pub fn home(&self) -> &Path {
        self.sandbox.path()
    }

    /// `$XDG_CONFIG_HOME` of the program.
    pub fn config_home(&self) -> PathBuf {
        self.home().join("config")
    }

    /// `$XDG_STATE_HOME` of the program (logs go below it).
    pub fn state_home(&self) -> PathBuf {
        self.home().join("state")
    }

    // ---- input -----------------------------------------------------------

    /// Writes raw bytes to the program's terminal.
    pub fn send(&mut self, bytes: &[u8]) {
        let mut w = lock(&self.writer);
        w.write_all(bytes).expect("write to the pty");
        w.flush().expect("flush the pty");
    }

    pub fn send_str(&mut self, s: &str) {
        self.send(s.as_bytes());
    }

    /// Types `s` one character at a time, with a short pause between keys,
    /// as a person would (some programs treat a burst as a paste).
    pub fn type_str(&mut self, s: &str) {
        let mut buf = [0u8; 4];
        for c in s.chars() {
            self.send(c.encode_utf8(&mut buf).as_bytes());
            thread::sleep(Duration::from_millis(15));
        }
    }

    pub fn key_enter(&mut self) {
        self.send(b"\r");
    }

    /// Sends Esc and waits a little, so it is not read as the prefix of an
    /// Alt-key or an escape sequence together with the next key.
    pub fn key_esc(&mut self) {
        self.send(b"\x1b");
        thread::sleep(Duration::from_millis(50));
    }

    pub fn key_tab(&mut self) {
        self.send(b"\t");
    }

    pub fn key_backspace(&mut self) {
        self.send(b"\x7f");
    }

    pub fn key_up(&mut self) {
        self.send(b"\x1b[A");
    }

    pub fn key_down(&mut self) {
        self.send(b"\x1b[B");
    }

    pub fn key_right(&mut self) {
        self.send(b"\x1b[C");
    }

    pub fn key_left(&mut self) {
        self.send(b"\x1b[D");
    }

    /// Ctrl + a letter (or one of `@[\]^_`).
    pub fn ctrl(&mut self, c: char) {
        let byte = u8::try_from(c.to_ascii_lowercase()).expect("ctrl takes an ASCII char");
        self.send(&[byte & 0x1f]);
    }

    /// Resizes the terminal (the program gets SIGWINCH). The emulator keeps
    /// at least 2 columns: vt100 overflows placing a wide character (what
    /// the program drew for the size before) in a 1-column screen.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        lock(&self.parser).screen_mut().set_size(rows, cols.max(2));
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize the pty");
    }

    // ---- output ----------------------------------------------------------

    /// The visible screen as text: one line per row, joined with `\n`.
    pub fn screen_text(&self) -> String {
        let parser = lock(&self.parser);
        let screen = parser.screen();
        let (_, cols) = screen.size();
        screen.rows(0, cols).collect::<Vec<_>>().join("\n")
    }

    /// Everything the program wrote so far, lossily decoded (escape
    /// sequences included). Useful for messages printed to the normal screen
    /// and for debugging.
    pub fn raw_output(&self) -> String {
        String::from_utf8_lossy(&lock(&self.raw)).into_owned()
    }

    /// Runs `f` on the emulator's screen (colours, cursor, modes…).
    pub fn with_screen<T>(&self, f: impl FnOnce(&vt100::Screen) -> T) -> T {
        f(lock(&self.parser).screen())
    }

    /// The screen framed and numbered, for failure messages.
    pub fn dump(&self) -> String {
        let text = self.screen_text();
        let width = usize::from(self.with_screen(|s| s.size().1));
        let mut out = format!(
            "screen of `{}`:\n    +{}+\n",
            self.program,
            "-".repeat(width)
        );
        for (i, line) in text.split('\n').enumerate() {
            let pad = width.saturating_sub(line.chars().count());
            out.push_str(&format!("{i:>3} |{line}{}|\n", " ".repeat(pad)));
        }
        out.push_str(&format!("    +{}+", "-".repeat(width)));
        let (alternate, hidden) = self.with_screen(|s| (s.alternate_screen(), s.hide_cursor()));
        out.push_str(&format!(
            "\n    alternate screen: {alternate}, cursor hidden: {hidden}, exited: {}",
            self.exit_code
                .map_or_else(|| "no".to_string(), |c| format!("with code {c}"))
        ));
        out
    }

    /// Waits until the screen contains `needle`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> Result<(), String> {
        self.wait_until(&format!("{needle:?} on screen"), timeout, |s| {
            s.contains(needle)
        })
    }

    /// Waits until the screen contains every one of `needles`.
    pub fn wait_for_all(&self, needles: &[&str], timeout: Duration) -> Result<(), String> {
        self.wait_until(&format!("all of {needles:?} on screen"), timeout, |s| {
            needles.iter().all(|n| s.contains(n))
        })
        .map_err(|e| {
            let screen = self.screen_text();
            let missing: Vec<_> = needles.iter().filter(|n| !screen.contains(**n)).collect();
            format!("{e}\nmissing: {missing:?}")
        })
    }

    /// Waits until the screen contains one of `needles`; returns which.
    pub fn wait_for_any<'a>(
        &self,
        needles: &[&'a str],
        timeout: Duration,
    ) -> Result<&'a str, String> {
        self.wait_until(&format!("any of {needles:?} on screen"), timeout, |s| {
            needles.iter().any(|n| s.contains(n))
        })?;
        let screen = self.screen_text();
        Ok(needles
            .iter()
            .copied()
            .find(|n| screen.contains(n))
            .unwrap_or_default())
    }

    /// Waits until `predicate(screen text)` holds. `what` names the
    /// condition in the error, which also holds the whole screen.
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut predicate: impl FnMut(&str) -> bool,
    ) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if predicate(&self.screen_text()) {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(format!(
                    "timed out after {timeout:?} waiting for {what}\n{}",
                    self.dump()
                ));
            }
            if self.reader_done.load(Ordering::SeqCst) {
                // The program is gone: the screen will not change any more.
                let screen = self.screen_text();
                if predicate(&screen) {
                    return Ok(());
                }
                return Err(format!(
                    "the program's terminal closed while waiting for {what}\n{}\nraw output (last 2000 bytes):\n{}",
                    self.dump(),
                    tail(&self.raw_output(), 2000)
                ));
            }
            thread::sleep(POLL);
        }
    }

    // ---- exit ------------------------------------------------------------

    /// Waits for the program to exit and returns its exit code. Also waits
    /// (briefly) for the reader to drain the last output, so the screen is
    /// final when this returns.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<u32, String> {
        if let Some(code) = self.exit_code {
            return Ok(code);
        }
        let start = Instant::now();
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => return Err(format!("waiting for the program failed: {e}")),
            }
            if start.elapsed() >= timeout {
                return Err(format!(
                    "the program did not exit within {timeout:?}\n{}",
                    self.dump()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        };
        let drain_start = Instant::now();
        while !self.reader_done.load(Ordering::SeqCst)
            && drain_start.elapsed() < Duration::from_secs(3)
        {
            thread::sleep(Duration::from_millis(10));
        }
        self.exit_code = Some(status.exit_code());
        if let Some(signal) = status.signal() {
            return Err(format!(
                "the program was killed by {signal}\n{}",
                self.dump()
            ));
        }
        Ok(status.exit_code())
    }

    /// Checks that the program gave the terminal back as it found it: off
    /// the alternate screen, cursor visible and (on Linux) cooked mode with
    /// echo. Call after [`Pty::wait_exit`].
    pub fn check_restored(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let (alternate, hidden) = self.with_screen(|s| (s.alternate_screen(), s.hide_cursor()));
        if alternate {
            problems.push("still on the alternate screen");
        }
        if hidden {
            problems.push("cursor still hidden");
        }
        if let Some(false) = self.cooked_mode() {
            problems.push("terminal still in raw mode (ICANON/ECHO off)");
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "terminal not restored: {}\n{}",
                problems.join(", "),
                self.dump()
            ))
        }
    }

    /// Whether the terminal is in cooked mode (canonical input with echo),
    /// as set by the program; `None` where that cannot be read.
    pub fn cooked_mode(&self) -> Option<bool> {
        #[cfg(target_os = "linux")]
        {
            // On Linux the master's termios requests act on the slave.
            const ICANON: u32 = 0o2;
            const ECHO: u32 = 0o10;
            let termios = self.master.get_termios()?;
            let flags: u32 = termios.local_flags.bits();
            Some(flags & ICANON != 0 && flags & ECHO != 0)
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// Sends `signal` (`"TERM"`, `"HUP"`, `"INT"`…) to the program, as
    /// `kill -SIGNAL PID` would.
    pub fn kill(&mut self, signal: &str) {
        let pid = self.child.process_id().expect("the program has a pid");
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Whether the program is still running.
    pub fn is_running(&mut self) -> bool {
        self.exit_code.is_none() && matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.exit_code.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn read_loop(
    mut reader: Box<dyn Read + Send>,
    parser: &Mutex<vt100::Parser>,
    raw: &Mutex<Vec<u8>>,
    writer: &SharedWriter,
) {
    let mut buf = [0u8; 8192];
    // Bytes read but not yet given to the parser: at most the start of a
    // query split across two reads.
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // EIO once the child and its descendants closed the terminal.
            Err(_) => break,
        };
        lock(raw).extend_from_slice(&buf[..n]);
        pending.extend_from_slice(&buf[..n]);

        let mut parser = lock(parser);
        let mut start = 0;
        let mut i = 0;
        while i < pending.len() {
            if pending[i] == 0x1b {
                let rest = &pending[i..];
                if let Some((query, kind)) = QUERIES.iter().find(|(q, _)| rest.starts_with(q)) {
                    let end = i + query.len();
                    feed(&mut parser, &pending[start..end]);
                    answer(*kind, parser.screen(), writer);
                    i = end;
                    start = end;
                    continue;
                }
                if QUERIES.iter().any(|(q, _)| q.starts_with(rest)) {
                    // Maybe a query cut in two: wait for the next read.
                    break;
                }
            }
            i += 1;
        }
        feed(&mut parser, &pending[start..i]);
        pending.drain(..i);
    }
    if !pending.is_empty() {
        feed(&mut lock(parser), &pending);
    }
}

/// Gives `bytes` to the emulator. The vt100 crate (0.16) can overflow on a
/// wide character while a storm of resizes leaves it a column or two wide;
/// that is the test's emulator failing, not the program under test, so the
/// screen starts afresh at its size and the reader goes on (the program
/// redraws whole frames).
fn feed(parser: &mut vt100::Parser, bytes: &[u8]) {
    let fed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.process(bytes)));
    if fed.is_err() {
        let (rows, cols) = parser.screen().size();
        *parser = vt100::Parser::new(rows.max(1), cols.max(2), 0);
    }
}

fn answer(kind: Query, screen: &vt100::Screen, writer: &SharedWriter) {
    let reply = match kind {
        Query::CursorPosition => {
            let (row, col) = screen.cursor_position();
            format!("\x1b[{};{}R", row + 1, col + 1)
        }
        // "VT100 with advanced video option", as xterm's minimal answer.
        Query::DeviceAttributes => "\x1b[?1;2c".to_string(),
    };
    let mut w = lock(writer);
    let _ = w.write_all(reply.as_bytes());
    let _ = w.flush();
}

/// Locks, ignoring poisoning (a panicking test thread must not hide the
/// screen from the failure message).
fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn tail(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut cut = s.len() - max_bytes;
    while !s.is_char_boundary(cut) {
        cut += 1;
    }
    &s[cut..]
}
