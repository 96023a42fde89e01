//! CloudWatch Logs: the shared audit trail (PutLogEvents into the
//! environment's `audit_log_group`, creating the session's stream on first
//! use).

use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use super::AwsBackend;
use crate::backend::{BackendError, BackendResult};
use crate::backend::{Logs, LogsChanges};
use crate::domain::Timestamp;
use crate::domain::{LogPage, LogQuery};
use async_trait::async_trait;

#[async_trait]
impl Logs for AwsBackend {
    async fn log_events(&self, query: &LogQuery) -> BackendResult<LogPage> {
        filter_events(self, query).await
    }
}

#[async_trait]
impl LogsChanges for AwsBackend {
    async fn put_audit_records(
        &self,
        group: &str,
        stream: &str,
        records: &[(Timestamp, String)],
    ) -> BackendResult<()> {
        put_records(self, group, stream, records).await
    }
}

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
                .customize()
                .config_override(super::once!(aws_sdk_cloudwatchlogs))
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

// --- logs

/// CloudWatch Logs allows at most 10,000 events a page.
const MAX_PAGE: u32 = 10_000;

/// One page of `FilterLogEvents` for `query`.
pub async fn filter_events(
    b: &AwsBackend,
    query: &crate::domain::LogQuery,
) -> BackendResult<crate::domain::LogPage> {
    let out = b
        .call(
            "logs",
            "FilterLogEvents",
            b.clients
                .logs
                .filter_log_events()
                .log_group_name(&query.group)
                .set_log_stream_name_prefix(query.stream_prefix.clone())
                .set_filter_pattern(
                    query
                        .filter_pattern
                        .clone()
                        .filter(|p| !p.trim().is_empty()),
                )
                .start_time(query.start.timestamp_millis())
                .set_end_time(query.end.map(|t| t.timestamp_millis()))
                .limit(i32::try_from(query.limit.clamp(1, MAX_PAGE)).unwrap_or(10_000))
                .set_next_token(query.next_token.clone())
                .send(),
        )
        .await?;
    let millis = |ms: i64| chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms);
    let events = out
        .events()
        .iter()
        .filter_map(|e| {
            let timestamp = millis(e.timestamp()?)?;
            Some(crate::domain::LogEvent {
                // An event without an id cannot be de-duplicated: derive one.
                id: e.event_id().map_or_else(
                    || {
                        format!(
                            "{}:{}:{}",
                            e.log_stream_name().unwrap_or_default(),
                            timestamp.timestamp_millis(),
                            e.message().unwrap_or_default().len()
                        )
                    },
                    str::to_string,
                ),
                timestamp,
                ingested: e.ingestion_time().and_then(millis),
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().to_string(),
            })
        })
        .collect();
    Ok(crate::domain::LogPage {
        events,
        next_token: out.next_token().map(str::to_string),
    })
}
