//! CloudWatch alarms: metric and composite, every page, by name prefix.

use aws_sdk_cloudwatch::types::{self as t, AlarmType};
use futures_util::future::try_join_all;

use super::AwsBackend;
use super::convert::{opt_count, opt_string, opt_time, string};
use crate::backend::BackendResult;
use crate::backend::{CloudWatch, CloudWatchChanges};
use crate::domain::{Alarm, AlarmState, MetricRef};
use crate::domain::{AlarmHistoryItem, MetricQuery, MetricSeries, Timestamp};
use async_trait::async_trait;

#[async_trait]
impl CloudWatch for AwsBackend {
    async fn alarms(&self, prefixes: &[String]) -> BackendResult<Vec<Alarm>> {
        alarms(self, prefixes).await
    }

    // --- metrics
    async fn metric_data(
        &self,
        queries: &[MetricQuery],
        start: Timestamp,
        end: Timestamp,
    ) -> BackendResult<Vec<MetricSeries>> {
        super::metrics::metric_data(self, queries, start, end).await
    }

    async fn alarm_history(&self, name: &str) -> BackendResult<Vec<AlarmHistoryItem>> {
        super::metrics::alarm_history(self, name).await
    }
}

#[async_trait]
impl CloudWatchChanges for AwsBackend {
    async fn set_alarm_actions(&self, names: &[String], enabled: bool) -> BackendResult<()> {
        set_alarm_actions(self, names, enabled).await
    }
}

/// The largest page of DescribeAlarms.
pub const PAGE: i32 = 100;

pub async fn alarms(b: &AwsBackend, prefixes: &[String]) -> BackendResult<Vec<Alarm>> {
    let scopes: Vec<Option<&str>> = if prefixes.is_empty() {
        vec![None]
    } else {
        prefixes.iter().map(|p| Some(p.as_str())).collect()
    };
    // Every prefix at once, each page after the one before.
    let chains = scopes.into_iter().map(|prefix| alarm_pages(b, prefix));
    let mut out: Vec<Alarm> = Vec::new();
    for found in try_join_all(chains).await? {
        for a in found {
            push_unique(&mut out, a);
        }
    }
    Ok(out)
}

async fn alarm_pages(b: &AwsBackend, prefix: Option<&str>) -> BackendResult<Vec<Alarm>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "cloudwatch",
                "DescribeAlarms",
                b.clients
                    .cloudwatch
                    .describe_alarms()
                    .set_alarm_name_prefix(prefix.map(str::to_string))
                    .alarm_types(AlarmType::MetricAlarm)
                    .alarm_types(AlarmType::CompositeAlarm)
                    .max_records(PAGE)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        out.extend(page.metric_alarms().iter().map(metric_alarm));
        out.extend(page.composite_alarms().iter().map(composite_alarm));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

/// Overlapping prefixes must not list an alarm twice.
fn push_unique(out: &mut Vec<Alarm>, a: Alarm) {
    if !out.iter().any(|x| x.arn == a.arn && x.name == a.name) {
        out.push(a);
    }
}

fn metric_alarm(a: &t::MetricAlarm) -> Alarm {
    Alarm {
        name: string(a.alarm_name()),
        arn: string(a.alarm_arn()),
        description: opt_string(a.alarm_description()),
        state: a.state_value().map_or(AlarmState::InsufficientData, |s| {
            AlarmState::parse(s.as_str())
        }),
        state_reason: string(a.state_reason()),
        state_updated_at: opt_time(a.state_updated_timestamp()).unwrap_or_default(),
        actions_enabled: a.actions_enabled().unwrap_or(true),
        composite: false,
        metric: a.metric_name().map(|name| MetricRef {
            namespace: string(a.namespace()),
            name: name.to_string(),
            dimensions: a
                .dimensions()
                .iter()
                .map(|d| (string(d.name()), string(d.value())))
                .collect(),
            statistic: a
                .statistic()
                .map(|s| s.as_str().to_string())
                .or_else(|| opt_string(a.extended_statistic())),
            unit: a.unit().map(|u| u.as_str().to_string()),
        }),
        comparison: a.comparison_operator().map(|c| c.as_str().to_string()),
        threshold: a.threshold(),
        period_seconds: a.period().map(|p| opt_count(Some(p))),
        evaluation_periods: a.evaluation_periods().map(|p| opt_count(Some(p))),
    }
}

fn composite_alarm(a: &t::CompositeAlarm) -> Alarm {
    Alarm {
        name: string(a.alarm_name()),
        arn: string(a.alarm_arn()),
        description: opt_string(a.alarm_description()).or_else(|| opt_string(a.alarm_rule())),
        state: a.state_value().map_or(AlarmState::InsufficientData, |s| {
            AlarmState::parse(s.as_str())
        }),
        state_reason: string(a.state_reason()),
        state_updated_at: opt_time(a.state_updated_timestamp()).unwrap_or_default(),
        actions_enabled: a.actions_enabled().unwrap_or(true),
        composite: true,
        metric: None,
        comparison: None,
        threshold: None,
        period_seconds: None,
        evaluation_periods: None,
    }
}

pub async fn set_alarm_actions(
    b: &AwsBackend,
    names: &[String],
    enabled: bool,
) -> BackendResult<()> {
    if enabled {
        b.call(
            "cloudwatch",
            "EnableAlarmActions",
            b.clients
                .cloudwatch
                .enable_alarm_actions()
                .set_alarm_names(Some(names.to_vec()))
                .customize()
                .config_override(super::once!(aws_sdk_cloudwatch))
                .send(),
        )
        .await?;
    } else {
        b.call(
            "cloudwatch",
            "DisableAlarmActions",
            b.clients
                .cloudwatch
                .disable_alarm_actions()
                .set_alarm_names(Some(names.to_vec()))
                .customize()
                .config_override(super::once!(aws_sdk_cloudwatch))
                .send(),
        )
        .await?;
    }
    Ok(())
}
