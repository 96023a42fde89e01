//! CloudWatch Logs: the shared audit trail (PutLogEvents into the
//! environment's `audit_log_group`, creating the session's stream on first
//! use).

use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use super::AwsBackend;
use crate::backend::{BackendError, BackendResult};
use crate::domain::Timestamp;

/// Puts `records` (oldest first) into `group`/`stream`; creates the stream
/// when it does not exist yet (the group must exist: it is the team's).
pub async fn put_records(
    b: &AwsBackend,
    group: &str,
    stream: &str,
    records: &[(Timestamp, String)],
) -> BackendResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    let mut events = Vec::with_capacity(records.len());
    for (time, message) in records {
        let event = InputLogEvent::builder()
            .timestamp(time.timestamp_millis())
            .message(message)
            .build()
            .map_err(|e| BackendError::Invalid {
                message: e.to_string(),
            })?;
        events.push(event);
    }
    let put = || {
        b.call(
            "logs",
            "PutLogEvents",
            b.clients
                .logs
                .put_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .set_log_events(Some(events.clone()))
                .send(),
        )
    };
    match put().await {
        Ok(_) => Ok(()),
        Err(BackendError::NotFound { .. }) => {
            // The session's stream is new: create it, then put again.
            let created = b
                .call(
                    "logs",
                    "CreateLogStream",
                    b.clients
                        .logs
                        .create_log_stream()
                        .log_group_name(group)
                        .log_stream_name(stream)
                        .send(),
                )
                .await;
            match created {
                Ok(_) => {}
                // Created meanwhile by another put of this session.
                Err(BackendError::Invalid { message }) if message.contains("exists") => {}
                Err(BackendError::NotFound { .. }) => {
                    return Err(BackendError::NotFound {
                        resource: format!("log group {group}"),
                    });
                }
                Err(e) => return Err(e),
            }
            put().await.map(|_| ())
        }
        Err(e) => Err(e),
    }
}
