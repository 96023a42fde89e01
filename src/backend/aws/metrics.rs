//! CloudWatch metric data and alarm history: `GetMetricData` with every
//! query of an environment in one request while they fit (500 a request;
//! pages only when the API returns a `NextToken`), and
//! `DescribeAlarmHistory` of one alarm.

use aws_sdk_cloudwatch::types::{
    Dimension, HistoryItemType, Metric, MetricDataQuery, MetricStat, ScanBy,
};
use aws_smithy_types::DateTime;

use super::AwsBackend;
use super::convert::{opt_time, string, time};
use crate::backend::{BackendResult, METRIC_QUERIES_PER_REQUEST};
use crate::domain::{AlarmHistoryItem, AlarmState, MetricQuery, MetricSeries, Timestamp};

/// The largest page of DescribeAlarmHistory.
const HISTORY_PAGE: i32 = 100;
/// History entries read at most (the newest).
const HISTORY_MAX: usize = 200;

pub async fn metric_data(
    b: &AwsBackend,
    queries: &[MetricQuery],
    start: Timestamp,
    end: Timestamp,
) -> BackendResult<Vec<MetricSeries>> {
    if queries.is_empty() {
        return Ok(Vec::new());
    }
    let mut series: Vec<MetricSeries> = queries
        .iter()
        .map(|q| MetricSeries {
            id: q.id.clone(),
            label: q.name.clone(),
            unit: crate::domain::known_unit(&q.namespace, &q.name).map(str::to_string),
            points: Vec::new(),
        })
        .collect();
    for chunk in queries.chunks(METRIC_QUERIES_PER_REQUEST) {
        request(b, chunk, start, end, &mut series).await?;
    }
    for s in &mut series {
        // Oldest first, one point per timestamp, whatever the server did.
        s.points.sort_by_key(|(t, _)| *t);
        s.points.dedup_by_key(|(t, _)| *t);
    }
    Ok(series)
}

/// One `GetMetricData` request (and its `NextToken` pages) of at most
/// [`METRIC_QUERIES_PER_REQUEST`] queries, its points added to `series`.
async fn request(
    b: &AwsBackend,
    queries: &[MetricQuery],
    start: Timestamp,
    end: Timestamp,
    series: &mut [MetricSeries],
) -> BackendResult<()> {
    let sdk_queries: Vec<MetricDataQuery> = queries.iter().map(sdk_query).collect();
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "cloudwatch",
                "GetMetricData",
                b.clients
                    .cloudwatch
                    .get_metric_data()
                    .set_metric_data_queries(Some(sdk_queries.clone()))
                    .start_time(DateTime::from_secs(start.timestamp()))
                    .end_time(DateTime::from_secs(end.timestamp()))
                    .scan_by(ScanBy::TimestampAscending)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        for r in page.metric_data_results() {
            let Some(s) = series.iter_mut().find(|s| Some(s.id.as_str()) == r.id()) else {
                continue;
            };
            if let Some(label) = r.label()
                && !label.is_empty()
            {
                s.label = label.to_string();
            }
            s.points.extend(
                r.timestamps()
                    .iter()
                    .zip(r.values())
                    .filter_map(|(t, v)| Some((time(t)?, *v)))
                    .filter(|(_, v)| v.is_finite()),
            );
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(());
        }
    }
}

fn sdk_query(q: &MetricQuery) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(&q.namespace)
        .metric_name(&q.name)
        .set_dimensions(Some(
            q.dimensions
                .iter()
                .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                .collect(),
        ))
        .build();
    MetricDataQuery::builder()
        .id(&q.id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(i32::try_from(q.period_seconds).unwrap_or(60))
                .stat(&q.statistic)
                .build(),
        )
        .return_data(true)
        .build()
}

pub async fn alarm_history(b: &AwsBackend, name: &str) -> BackendResult<Vec<AlarmHistoryItem>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "cloudwatch",
                "DescribeAlarmHistory",
                b.clients
                    .cloudwatch
                    .describe_alarm_history()
                    .alarm_name(name)
                    .history_item_type(HistoryItemType::StateUpdate)
                    .scan_by(ScanBy::TimestampDescending)
                    .max_records(HISTORY_PAGE)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        for item in page.alarm_history_items() {
            let Some(timestamp) = opt_time(item.timestamp()) else {
                continue;
            };
            let (old_state, new_state, reason) = parse_history_data(item.history_data());
            out.push(AlarmHistoryItem {
                timestamp,
                kind: item
                    .history_item_type()
                    .map_or_else(String::new, |k| k.as_str().to_string()),
                summary: string(item.history_summary()),
                old_state,
                new_state,
                reason,
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() || out.len() >= HISTORY_MAX {
            break;
        }
    }
    out.sort_by_key(|i| std::cmp::Reverse(i.timestamp));
    Ok(out)
}

/// `HistoryData` of a state update is JSON:
/// `{"oldState":{"stateValue":"OK",...},"newState":{"stateValue":"ALARM","stateReason":"..."}}`.
fn parse_history_data(
    data: Option<&str>,
) -> (Option<AlarmState>, Option<AlarmState>, Option<String>) {
    let Some(v) = data.and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()) else {
        return (None, None, None);
    };
    let state = |key: &str| {
        v.get(key)
            .and_then(|s| s.get("stateValue"))
            .and_then(serde_json::Value::as_str)
            .map(AlarmState::parse)
    };
    let reason = v
        .get("newState")
        .and_then(|s| s.get("stateReason"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    (state("oldState"), state("newState"), reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_data_is_read() {
        let (old, new, reason) = parse_history_data(Some(
            r#"{"version":"1.0","oldState":{"stateValue":"OK","stateReason":"fine"},
                "newState":{"stateValue":"ALARM","stateReason":"Threshold Crossed: 1 datapoint"}}"#,
        ));
        assert_eq!(old, Some(AlarmState::Ok));
        assert_eq!(new, Some(AlarmState::Alarm));
        assert_eq!(reason.as_deref(), Some("Threshold Crossed: 1 datapoint"));
        assert_eq!(parse_history_data(Some("not json")), (None, None, None));
        assert_eq!(parse_history_data(None), (None, None, None));
    }
}
