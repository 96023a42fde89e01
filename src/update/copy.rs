//! `y`: the selected resource's ARN (or id), or in the logs view the line,
//! to the operator's clipboard. The reducer only says what; the event loop
//! writes it to the terminal (OSC 52) after the next frame.

use super::flash;
use crate::config::keys::Command;
use crate::state::{Selection, Severity, State, View};

pub(super) fn copy(state: &mut State) {
    match what(state) {
        Ok((what, text)) => {
            state.clipboard = Some(text);
            flash(
                state,
                &format!("copied {what} to the clipboard (OSC 52)"),
                Severity::Info,
            );
        }
        Err(text) => flash(state, &text, Severity::Info),
    }
}

/// What `y` copies here: a description for the message and the text.
fn what(state: &State) -> Result<(String, String), String> {
    let selection = state.selection();
    let env = state.env();
    let task = |arn: &str| {
        state.task(arn).map(|t| {
            (
                format!("the ARN of task {}", crate::ops::task_label(&t.arn)),
                t.arn.clone(),
            )
        })
    };
    let found = match state.view() {
        View::Overview | View::Services => state
            .selected_service_row()
            .ok()
            .map(|s| (format!("the ARN of service {}", s.name), s.arn.clone())),
        View::ServiceDetail { service } => match &selection {
            Selection::Id(arn) => task(arn),
            _ => state
                .service(service)
                .map(|s| (format!("the ARN of service {}", s.name), s.arn.clone())),
        },
        View::Tasks => match &selection {
            Selection::Id(arn) => task(arn),
            _ => None,
        },
        View::TaskDetail { task: arn } => task(arn),
        View::CloudFront => match &selection {
            Selection::Id(id) => env
                .and_then(|e| e.distributions.data.as_ref())
                .and_then(|v| v.iter().find(|d| &d.id == id))
                .map(|d| {
                    (
                        format!("the domain name of {}", d.id),
                        d.domain_name.clone(),
                    )
                }),
            _ => None,
        },
        View::Databases => match &selection {
            Selection::Id(id) => env
                .and_then(|e| e.databases.data.as_ref())
                .and_then(|v| v.iter().find(|d| &d.id == id))
                .map(|d| (format!("the ARN of database {}", d.id), d.arn.clone())),
            _ => None,
        },
        // A replication group's primary endpoint (what `redis-cli -h`
        // takes), a node's own in a group's detail.
        View::Redis => match &selection {
            Selection::Id(id) => state.replication_group(id).and_then(|g| {
                g.write_endpoint()
                    .map(|e| (format!("the endpoint of {}", g.id), e.to_string()))
            }),
            _ => None,
        },
        View::RedisGroup { group } => match &selection {
            Selection::Id(cluster) => state
                .replication_group(group)
                .and_then(|g| g.members.iter().find(|m| &m.cluster_id == cluster))
                .and_then(|m| {
                    m.endpoint
                        .as_ref()
                        .map(|e| (format!("the endpoint of {}", m.cluster_id), e.to_string()))
                }),
            _ => None,
        },
        // An EC2 host's id (what `aws ssm start-session --target` takes).
        View::Hosts => match &selection {
            Selection::Id(id) => env
                .and_then(|e| e.instances.data.as_ref())
                .and_then(|v| v.iter().find(|i| &i.id == id))
                .map(|i| (format!("the id of host {}", i.display_name()), i.id.clone())),
            _ => None,
        },
        View::Alarms | View::AlarmDetail { .. } => {
            let name = match (state.view(), &selection) {
                (View::AlarmDetail { alarm }, _) => Some(alarm.clone()),
                (_, Selection::Id(name)) => Some(name.clone()),
                _ => None,
            };
            name.and_then(|name| {
                env.and_then(|e| e.alarms.data.as_ref())
                    .and_then(|v| v.iter().find(|a| a.name == name))
                    .map(|a| (format!("the ARN of alarm {}", a.name), a.arn.clone()))
            })
        }
        View::Fleet => match &selection {
            Selection::Id(name) => state.envs.iter().find(|e| &e.name == name).and_then(|e| {
                e.account()
                    .map(|a| (format!("the account id of {name}"), a.to_string()))
            }),
            _ => None,
        },
        View::Logs => state.logs.as_ref().and_then(|l| {
            let len = l.lines.len();
            let at = if l.follow {
                len.checked_sub(1)?
            } else {
                l.cursor.min(len.checked_sub(1)?)
            };
            l.lines.get(at).map(|e| {
                (
                    format!("the log line of {} UTC", e.timestamp.format("%H:%M:%S")),
                    e.message.clone(),
                )
            })
        }),
        View::Activity | View::Timeline | View::Diagnostics => {
            return Err(format!(
                "nothing to copy here: {} copies a service's, task's, database's or alarm's \
                 ARN, or a log line",
                state.key_or(Command::Copy, "copy (no key bound)")
            ));
        }
    };
    found.ok_or_else(|| match selection {
        Selection::Lost(_) => selection.refusal("a row", "j/k", &state.move_keys()),
        _ => format!(
            "nothing selected to copy (select a row first: {})",
            state.move_keys()
        ),
    })
}
