//! ECS Exec, as `aws ecs execute-command` does it: `ExecuteCommand`
//! (interactive) opens a session through the SDK, then the terminal is
//! handed to the `session-manager-plugin` on the operator's `PATH`, with
//! the arguments the AWS CLI passes, and given back to the console when the
//! plugin exits.
//!
//! Here: the session ExecuteCommand returned (its token never printed),
//! the plugin's arguments, finding the plugin and running it. The terminal
//! side (leaving the alternate screen and raw mode, pausing the input
//! thread) is in [`app`](crate::app); the audit records in the runner.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::domain::short_id;

/// The plugin's executable name, looked up on `PATH`.
pub const PLUGIN: &str = "session-manager-plugin";

/// Where to get the plugin, for the message when it is missing.
pub const PLUGIN_HELP: &str = "install the Session Manager plugin (the same one `aws ecs \
     execute-command` needs): https://docs.aws.amazon.com/systems-manager/latest/userguide/\
     session-manager-working-with-install-plugin.html — e.g. the .deb or .rpm from that page, \
     or `brew install --cask session-manager-plugin` — and put it on PATH";

/// The environment variable the AWS CLI hands the session to the plugin in
/// (plugins newer than 1.2.497.0 read it), rather than in an argument that
/// any user on the machine can read in the process list.
pub const SESSION_ENV: &str = "AWS_SSM_START_SESSION_RESPONSE";

/// The last plugin version that only takes the session as an argument.
const LAST_VERSION_WITHOUT_ENV: [u32; 4] = [1, 2, 497, 0];

/// The session type, shared with the backends that open one.
pub use crate::domain::ExecSession;

impl ExecSession {
    /// `ecs:<cluster>_<task id>_<runtime id>`: the Session Manager target.
    pub fn target(&self) -> String {
        target(&self.cluster_arn, &self.task_arn, &self.runtime_id)
    }

    /// The session as ExecuteCommand returned it (`sessionId`,
    /// `streamUrl`, `tokenValue`), as the CLI serialises it for the plugin.
    pub fn session_json(&self) -> String {
        json!({
            "sessionId": self.session_id,
            "streamUrl": self.stream_url,
            "tokenValue": self.token_value,
        })
        .to_string()
    }

    /// The plugin's arguments, as the AWS CLI passes them: the session
    /// (or, for a plugin that reads it from [`SESSION_ENV`], that
    /// variable's name), the region, `StartSession`, the profile, the
    /// request parameters `{"Target": …}` and the endpoint.
    pub fn plugin_args(&self, session_in_env: bool) -> Vec<String> {
        vec![
            if session_in_env {
                SESSION_ENV.to_string()
            } else {
                self.session_json()
            },
            self.region.clone(),
            "StartSession".to_string(),
            self.profile.clone(),
            json!({ "Target": self.target() }).to_string(),
            self.ssm_endpoint.clone(),
        ]
    }
}

/// Why a shell cannot be opened in a task: a short sentence for the
/// message line (what is wrong first) and the whole of it, with what to do,
/// for the task's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unready {
    pub short: String,
    pub detail: String,
}

/// The containers of `task` a shell can be opened in (`(name, image)`:
/// RUNNING, exec enabled when it started, the ExecuteCommandAgent RUNNING,
/// a runtime id), or why none.
pub fn readiness(task: &crate::domain::Task) -> Result<Vec<(String, String)>, Unready> {
    let id = crate::ops::task_label(&task.arn);
    if task.last_status != "RUNNING" || task.desired_status != "RUNNING" {
        let status = if task.desired_status == "STOPPED" && task.last_status != "STOPPED" {
            format!("{} and stopping", task.last_status)
        } else {
            task.last_status.clone()
        };
        return Err(Unready {
            short: format!("task {id} is {status}: a shell opens only in a RUNNING task"),
            detail: format!("the task is {status}: a shell opens only in a RUNNING task"),
        });
    }
    if !task.enable_execute_command {
        let enable = match task.service_name() {
            Some(service) => format!(
                "enable it on {service}: aws ecs update-service --cluster {} --service \
                 {service} --enable-execute-command --force-new-deployment, then open a shell \
                 in one of the new tasks",
                short_id(&task.cluster_arn)
            ),
            None => "run a new task with --enable-execute-command".to_string(),
        };
        return Err(Unready {
            short: format!("no ECS Exec on task {id}: not enabled when it started"),
            detail: format!(
                "not enabled (enableExecuteCommand is false; it is set when a task starts) — \
                 {enable}; the task role needs the ssmmessages:* permissions"
            ),
        });
    }
    let ready: Vec<(String, String)> = task
        .containers
        .iter()
        .filter(|c| c.exec_agent.as_deref() == Some("RUNNING") && c.runtime_id.is_some())
        .map(|c| (c.name.clone(), c.image.clone()))
        .collect();
    if ready.is_empty() {
        let agents: Vec<String> = task
            .containers
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c.name,
                    c.exec_agent.as_deref().unwrap_or("no agent")
                )
            })
            .collect();
        return Err(Unready {
            short: format!("no ECS Exec agent RUNNING in task {id}"),
            detail: format!(
                "no container's ExecuteCommandAgent is RUNNING ({}): it may still be starting \
                 (try again in a minute), or it cannot reach Systems Manager (the task role's \
                 ssmmessages:* permissions, a route to the ssmmessages endpoint)",
                agents.join(", ")
            ),
        });
    }
    Ok(ready)
}

/// `ecs:<cluster>_<task id>_<runtime id>`.
pub fn target(cluster_arn: &str, task_arn: &str, runtime_id: &str) -> String {
    format!(
        "ecs:{}_{}_{runtime_id}",
        short_id(cluster_arn),
        short_id(task_arn)
    )
}

pub use crate::domain::ssm_endpoint;

/// The plugin found on `PATH`, or a message that says how to install it.
pub fn find_plugin(path: Option<OsString>) -> Result<PathBuf, String> {
    let path = path.unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(PLUGIN))
        .find(|p| is_executable(p))
        .ok_or_else(|| format!("{PLUGIN} is not on PATH: {PLUGIN_HELP}"))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The plugin, checked before ExecuteCommand is sent (as the CLI does: a
/// session nobody can attach to is not opened): its path and whether it
/// takes the session from [`SESSION_ENV`]. Looked up in `search` (a
/// `PATH`-style list; `None`: the process's `PATH`). Blocking (runs
/// `--version`).
pub fn check_plugin(search: Option<OsString>) -> Result<Plugin, String> {
    let path = find_plugin(search.or_else(|| std::env::var_os("PATH")))?;
    let out = run_with_timeout(
        Command::new(&path)
            .arg("--version")
            .stdin(Stdio::null())
            .stderr(Stdio::null()),
        Duration::from_secs(10),
    )
    .map_err(|e| format!("{} --version failed: {e}", path.display()))?;
    let version = out.trim().to_string();
    Ok(Plugin {
        session_in_env: takes_session_from_env(&version),
        path,
        version,
    })
}

/// The plugin to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    pub path: PathBuf,
    pub version: String,
    /// Newer than 1.2.497.0: the session goes in [`SESSION_ENV`].
    pub session_in_env: bool,
}

/// Whether a plugin of this `--version` reads the session from
/// [`SESSION_ENV`] (a version that does not parse is taken as new).
pub fn takes_session_from_env(version: &str) -> bool {
    let parts: Vec<u32> = version
        .trim()
        .split('.')
        .map_while(|p| p.parse().ok())
        .collect();
    if parts.is_empty() {
        return true;
    }
    let mut v = [0u32; 4];
    for (slot, n) in v.iter_mut().zip(parts) {
        *slot = n;
    }
    v > LAST_VERSION_WITHOUT_ENV
}

/// Runs a short command and returns its standard output, or why not.
fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<String, String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let mut out = String::new();
                if let Some(mut stdout) = child.stdout.take() {
                    use std::io::Read;
                    let _ = stdout.read_to_string(&mut out);
                }
                return if status.success() {
                    Ok(out)
                } else {
                    Err(format!("exited with {status}"))
                };
            }
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {}s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// A session ready to be handed the terminal: what the event loop runs
/// after drawing (the operation's id pairs its end with its start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// The activity (and audit) id of the exec operation.
    pub id: String,
    pub env: usize,
    pub session: ExecSession,
    pub command: String,
}

/// How a session ended: the plugin's exit status, or why it did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnd {
    /// The exit code (`None`: ended by a signal, or it never ran).
    pub code: Option<i32>,
    /// Why the plugin could not be run.
    pub error: Option<String>,
    pub seconds: u64,
}

impl SessionEnd {
    pub fn is_failure(&self) -> bool {
        self.error.is_some() || self.code != Some(0)
    }

    /// "exit status 0 after 2m 5s", as the audit log and the console say it.
    pub fn describe(&self) -> String {
        let took = format!("{}m {}s", self.seconds / 60, self.seconds % 60);
        match (&self.error, self.code) {
            (Some(e), _) => format!("the plugin could not be run: {e}"),
            (None, Some(code)) => format!("exit status {code} after {took}"),
            (None, None) => format!("ended by a signal after {took}"),
        }
    }
}

/// Runs the plugin with the terminal (blocking: until it exits). The
/// caller has given the terminal up; the plugin inherits it.
pub fn run_plugin(h: &Handover, search: Option<OsString>) -> SessionEnd {
    let started = std::time::Instant::now();
    let plugin = match check_plugin(search) {
        Ok(p) => p,
        Err(e) => {
            return SessionEnd {
                code: None,
                error: Some(e),
                seconds: 0,
            };
        }
    };
    let mut cmd = Command::new(&plugin.path);
    cmd.args(h.session.plugin_args(plugin.session_in_env));
    if plugin.session_in_env {
        cmd.env(SESSION_ENV, h.session.session_json());
    }
    let status = cmd.status();
    let seconds = started.elapsed().as_secs();
    match status {
        Ok(s) => SessionEnd {
            code: s.code(),
            error: None,
            seconds,
        },
        Err(e) => SessionEnd {
            code: None,
            error: Some(format!("{}: {e}", plugin.path.display())),
            seconds,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> ExecSession {
        ExecSession {
            cluster_arn: "arn:aws:ecs:ap-northeast-1:123456789012:cluster/prod".into(),
            task_arn: "arn:aws:ecs:ap-northeast-1:123456789012:task/prod/0123abcd".into(),
            container: "web".into(),
            runtime_id: "0123abcd-1234567890".into(),
            session_id: "ecs-execute-command-abc".into(),
            stream_url: "wss://ssmmessages.ap-northeast-1.amazonaws.com/v1/data-channel/x".into(),
            token_value: "SECRET-TOKEN".into(),
            region: "ap-northeast-1".into(),
            profile: String::new(),
            ssm_endpoint: ssm_endpoint("ap-northeast-1", None),
        }
    }

    #[test]
    fn the_plugin_gets_the_arguments_the_cli_passes() {
        let s = session();
        let args = s.plugin_args(true);
        assert_eq!(
            args,
            vec![
                SESSION_ENV.to_string(),
                "ap-northeast-1".to_string(),
                "StartSession".to_string(),
                String::new(),
                r#"{"Target":"ecs:prod_0123abcd_0123abcd-1234567890"}"#.to_string(),
                "https://ssm.ap-northeast-1.amazonaws.com".to_string(),
            ]
        );
        // An old plugin takes the session itself.
        let old = s.plugin_args(false);
        let parsed: serde_json::Value = serde_json::from_str(&old[0]).expect("json");
        assert_eq!(parsed["tokenValue"], "SECRET-TOKEN");
        assert_eq!(parsed["sessionId"], "ecs-execute-command-abc");
        // The token never shows in Debug (logs, panics).
        assert!(!format!("{s:?}").contains("SECRET"));
    }

    #[test]
    fn plugin_versions_and_endpoints() {
        assert!(takes_session_from_env("1.2.707.0\n"));
        assert!(takes_session_from_env("1.3.0.0"));
        assert!(!takes_session_from_env("1.2.497.0"));
        assert!(!takes_session_from_env("1.2.331.0"));
        assert!(takes_session_from_env("unknown"));
        assert_eq!(
            ssm_endpoint("cn-north-1", None),
            "https://ssm.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            ssm_endpoint("us-east-1", Some("http://127.0.0.1:5001")),
            "http://127.0.0.1:5001"
        );
    }

    #[test]
    fn a_missing_plugin_says_how_to_install_it() {
        let dir = tempfile::tempdir().expect("dir");
        let e = find_plugin(Some(dir.path().as_os_str().to_owned())).expect_err("missing");
        assert!(e.contains("session-manager-plugin is not on PATH"), "{e}");
        assert!(
            e.contains("session-manager-working-with-install-plugin"),
            "{e}"
        );
        // Found once there, and only if executable.
        let p = dir.path().join(PLUGIN);
        std::fs::write(&p, "#!/bin/sh\n").expect("write");
        assert!(find_plugin(Some(dir.path().as_os_str().to_owned())).is_err());
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(
            find_plugin(Some(dir.path().as_os_str().to_owned())).as_deref(),
            Ok(p.as_path())
        );
    }
}
