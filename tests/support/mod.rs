//! Helpers shared by the integration tests: a pseudo-terminal harness for
//! driving the TUI ([`pty::Pty`]) and a plain runner for the non-interactive
//! command lines ([`run`]).

// Each test binary uses only part of the helpers.
#![allow(dead_code)]

pub mod moto;
pub mod pty;
pub mod schema;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The `honban` binary built for these tests.
pub fn honban() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_honban"))
}

/// What a non-interactive run printed and how it ended.
#[derive(Debug)]
pub struct Output {
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The sandbox used as `HOME` (kept alive so its paths stay valid).
    pub home: tempfile::TempDir,
}

impl Output {
    /// stdout and stderr together, for assertions that do not care which.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// [`run`] in a session of its own (util-linux `setsid --wait`): no
/// controlling terminal at all, not even /dev/tty, as under cron or `ssh`
/// without `-t`.
#[allow(dead_code)] // not every test binary uses it
pub fn run_detached(
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> Output {
    let program = program.to_str().expect("a UTF-8 path");
    let mut all = vec!["--wait", program];
    all.extend_from_slice(args);
    run(Path::new("setsid"), &all, env, timeout)
}

/// Runs `program args…` without a terminal (stdin is /dev/null), in the same
/// kind of clean sandbox as [`pty::Pty::spawn`], killing it after `timeout`.
pub fn run(program: &Path, args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Output {
    let home = tempfile::Builder::new()
        .prefix("honban-run-")
        .tempdir()
        .expect("create the sandbox directory");
    let h = home.path();
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(h)
        .env_clear()
        .env("HOME", h)
        .env("XDG_CONFIG_HOME", h.join("config"))
        .env("XDG_STATE_HOME", h.join("state"))
        .env("XDG_DATA_HOME", h.join("data"))
        .env("XDG_CACHE_HOME", h.join("cache"))
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));

    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });

    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if start.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = out_reader.join().unwrap_or_default();
            let stderr = err_reader.join().unwrap_or_default();
            panic!(
                "`{} {}` did not exit within {timeout:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                program.display(),
                args.join(" "),
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Output {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        home,
    }
}
