//! `GetMetricData` and `DescribeAlarmHistory` over the simulated metrics and
//! alarms, with CloudWatch's semantics: datapoints aggregated per period
//! (aligned to the start time) with the query's statistic, a period without
//! datapoints absent, an unknown metric an empty series.

use chrono::TimeDelta;

use super::alarms::aggregate;
use super::metrics::Metric;
use crate::domain::{MetricQuery, MetricSeries, Timestamp};

/// The series of one query over `[start, end)`.
pub(crate) fn query(
    metrics: &[Metric],
    q: &MetricQuery,
    start: Timestamp,
    end: Timestamp,
) -> MetricSeries {
    let metric = metrics
        .iter()
        .find(|m| m.matches(&q.namespace, &q.name, &q.dimensions));
    let mut points = Vec::new();
    if let Some(m) = metric {
        let period = TimeDelta::seconds(i64::from(q.period_seconds.max(1)));
        let mut from = start;
        while from < end {
            let to = (from + period).min(end);
            let values: Vec<f64> = m.between(from, to).iter().map(|p| p.1).collect();
            if let Some(v) = aggregate(&q.statistic, &values) {
                points.push((from, v));
            }
            from += period;
        }
    }
    MetricSeries {
        id: q.id.clone(),
        label: q.name.clone(),
        unit: metric.and_then(|m| m.unit.clone()),
        points,
    }
}
