//! CloudWatch metric alarms evaluated from the simulated metrics.

use chrono::DateTime;

use super::SimBackend;
use super::metrics::Metric;
use super::world::AlarmDesc;
use crate::backend::{BackendResult, CloudWatch, CloudWatchChanges};
use crate::domain::{Alarm, AlarmHistoryItem, AlarmState, Timestamp};
use crate::domain::{MetricQuery, MetricSeries};
use async_trait::async_trait;

#[async_trait]
impl CloudWatch for SimBackend {
    async fn alarms(&self, prefixes: &[String]) -> BackendResult<Vec<Alarm>> {
        self.gate()?;
        Ok(self.with(|w| w.alarms(prefixes)))
    }

    async fn metric_data(
        &self,
        queries: &[MetricQuery],
        start: Timestamp,
        end: Timestamp,
    ) -> BackendResult<Vec<MetricSeries>> {
        self.gate()?;
        Ok(self.with(|w| {
            queries
                .iter()
                .map(|q| super::metric_data::query(&w.metrics, q, start, end))
                .collect()
        }))
    }

    async fn alarm_history(&self, name: &str) -> BackendResult<Vec<AlarmHistoryItem>> {
        self.gate()?;
        // CloudWatch answers an unknown name with an empty history.
        Ok(self.with(|w| {
            w.alarms
                .iter()
                .find(|a| a.name == name)
                .map(|a| a.history.iter().rev().cloned().collect())
                .unwrap_or_default()
        }))
    }
}

#[async_trait]
impl CloudWatchChanges for SimBackend {
    async fn set_alarm_actions(&self, names: &[String], enabled: bool) -> BackendResult<()> {
        self.gate()?;
        self.with(|w| w.set_alarm_actions(names, enabled));
        Ok(())
    }
}

/// State changes kept per alarm (CloudWatch keeps two weeks).
const HISTORY_KEPT: usize = 200;

/// One simulated metric alarm.
#[derive(Debug, Clone)]
pub(crate) struct SimAlarm {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    /// Index of the metric in the world's metric list.
    pub metric: usize,
    pub statistic: String,
    pub comparison: String,
    pub threshold: f64,
    pub period: u32,
    pub evaluation_periods: u32,
    pub unit: Option<String>,
    pub actions_enabled: bool,
    pub state: AlarmState,
    pub reason: String,
    pub updated_at: Timestamp,
    /// State changes, oldest first (`DescribeAlarmHistory`).
    pub history: Vec<AlarmHistoryItem>,
}

impl SimAlarm {
    pub fn new(d: &AlarmDesc, metric: usize, arn: String, created: Timestamp) -> Self {
        Self {
            name: d.name.clone(),
            arn,
            description: d.description.clone(),
            metric,
            statistic: d.statistic.clone(),
            comparison: d.comparison.clone(),
            threshold: d.threshold,
            period: d.period,
            evaluation_periods: d.evaluation_periods,
            unit: d.unit.clone(),
            actions_enabled: d.actions_enabled,
            state: AlarmState::InsufficientData,
            reason: "Unchecked: Initial alarm creation".to_string(),
            updated_at: created,
            history: Vec::new(),
        }
    }

    /// Whether `at` ends one of this alarm's periods.
    pub fn due(&self, at: Timestamp) -> bool {
        at.timestamp().rem_euclid(i64::from(self.period)) == 0
    }

    /// Evaluates the periods ending at `at` (aligned down to the period);
    /// returns whether the state changed.
    pub fn evaluate(&mut self, metric: &Metric, at: Timestamp) -> bool {
        let period = i64::from(self.period);
        let end = at.timestamp() - at.timestamp().rem_euclid(period);
        let n = self.evaluation_periods as usize;
        // Newest first, as CloudWatch lists them.
        let mut present: Vec<(Timestamp, f64)> = Vec::with_capacity(n);
        for i in 0..n as i64 {
            let hi = end - i * period;
            let (Some(from), Some(to)) = (
                DateTime::from_timestamp(hi - period, 0),
                DateTime::from_timestamp(hi, 0),
            ) else {
                continue;
            };
            let values: Vec<f64> = metric.between(from, to).iter().map(|p| p.1).collect();
            if let Some(v) = aggregate(&self.statistic, &values) {
                present.push((from, v));
            }
        }
        let breaching: Vec<(Timestamp, f64)> = present
            .iter()
            .copied()
            .filter(|(_, v)| self.breaches(*v))
            .collect();
        let words = comparison_words(&self.comparison);
        let threshold = format_value(self.threshold);
        let (state, reason) = if present.is_empty() {
            (
                AlarmState::InsufficientData,
                format!(
                    "Insufficient Data: {n} datapoint{} {} unknown.",
                    plural(n),
                    was_were(n)
                ),
            )
        } else if breaching.len() == n {
            let reason = if n == 1 {
                format!(
                    "Threshold Crossed: 1 datapoint [{}] was {words} the threshold ({threshold}).",
                    list(&breaching)
                )
            } else {
                format!(
                    "Threshold Crossed: {n} out of the last {n} datapoints [{}] were {words} the \
                     threshold ({threshold}) (minimum {n} datapoints for OK -> ALARM transition).",
                    list(&breaching)
                )
            };
            (AlarmState::Alarm, reason)
        } else {
            let fine: Vec<(Timestamp, f64)> = present
                .iter()
                .copied()
                .filter(|(_, v)| !self.breaches(*v))
                .collect();
            if fine.is_empty() {
                // Some periods are missing and the rest breach: not enough
                // to go into ALARM, nothing to leave it either.
                return false;
            }
            let k = fine.len();
            let reason = if n == 1 {
                format!(
                    "Threshold Crossed: 1 datapoint [{}] was not {words} the threshold ({threshold}).",
                    list(&fine)
                )
            } else {
                format!(
                    "Threshold Crossed: {k} out of the last {n} datapoints [{}] {} not {words} the \
                     threshold ({threshold}) (minimum 1 datapoint for ALARM -> OK transition).",
                    list(&fine),
                    was_were(k)
                )
            };
            (AlarmState::Ok, reason)
        };
        if state == self.state {
            return false;
        }
        let old = self.state;
        self.state = state;
        self.reason = reason;
        self.updated_at = DateTime::from_timestamp(end, 0).unwrap_or(at);
        self.history.push(AlarmHistoryItem {
            timestamp: self.updated_at,
            kind: "StateUpdate".to_string(),
            summary: format!("Alarm updated from {} to {}", old.as_str(), state.as_str()),
            old_state: Some(old),
            new_state: Some(state),
            reason: Some(self.reason.clone()),
        });
        if self.history.len() > HISTORY_KEPT {
            self.history.remove(0);
        }
        true
    }

    fn breaches(&self, v: f64) -> bool {
        match self.comparison.as_str() {
            "GreaterThanThreshold" => v > self.threshold,
            "GreaterThanOrEqualToThreshold" => v >= self.threshold,
            "LessThanThreshold" => v < self.threshold,
            "LessThanOrEqualToThreshold" => v <= self.threshold,
            _ => false,
        }
    }

    pub fn to_domain(&self, metric: &Metric) -> Alarm {
        Alarm {
            name: self.name.clone(),
            arn: self.arn.clone(),
            description: self.description.clone(),
            state: self.state,
            state_reason: self.reason.clone(),
            state_updated_at: self.updated_at,
            actions_enabled: self.actions_enabled,
            composite: false,
            metric: Some(metric.metric_ref(&self.statistic, self.unit.as_deref())),
            comparison: Some(self.comparison.clone()),
            threshold: Some(self.threshold),
            period_seconds: Some(self.period),
            evaluation_periods: Some(self.evaluation_periods),
        }
    }
}

/// The statistic of one period's one-minute datapoints.
pub(crate) fn aggregate(statistic: &str, values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let sum: f64 = values.iter().sum();
    Some(match statistic {
        "Sum" => sum,
        "Minimum" => values.iter().copied().fold(f64::INFINITY, f64::min),
        "Maximum" => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        "SampleCount" => values.len() as f64,
        _ => sum / values.len() as f64,
    })
}

fn comparison_words(comparison: &str) -> &'static str {
    match comparison {
        "GreaterThanOrEqualToThreshold" => "greater than or equal to",
        "LessThanThreshold" => "less than",
        "LessThanOrEqualToThreshold" => "less than or equal to",
        _ => "greater than",
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn was_were(n: usize) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

/// `93.1 (23/11/26 03:12:00), 88.0 (23/11/26 03:11:00)`.
fn list(points: &[(Timestamp, f64)]) -> String {
    points
        .iter()
        .map(|(t, v)| format!("{} ({})", format_value(*v), t.format("%d/%m/%y %H:%M:%S")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A number as CloudWatch writes it in state reasons: `80.0`, `93.1667`,
/// `5.36870912E9`.
pub(crate) fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.abs() >= 1e7 {
        let exp = v.abs().log10().floor() as i32;
        let mantissa = v / 10f64.powi(exp);
        return format!("{}E{exp}", trim(format!("{mantissa:.9}")));
    }
    trim(format!("{v:.4}"))
}

/// Drops trailing zeros but keeps one decimal.
fn trim(s: String) -> String {
    if !s.contains('.') {
        return s;
    }
    let t = s.trim_end_matches('0');
    if t.ends_with('.') {
        format!("{t}0")
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_like_cloudwatch() {
        assert_eq!(format_value(80.0), "80.0");
        assert_eq!(format_value(93.16666), "93.1667");
        assert_eq!(format_value(3.0), "3.0");
        assert_eq!(format_value(5_368_709_120.0), "5.36870912E9");
        assert_eq!(format_value(0.0), "0.0");
    }

    #[test]
    fn statistics() {
        let v = [1.0, 4.0, 2.0];
        assert_eq!(aggregate("Sum", &v), Some(7.0));
        assert_eq!(aggregate("Maximum", &v), Some(4.0));
        assert_eq!(aggregate("Minimum", &v), Some(1.0));
        assert_eq!(aggregate("Average", &[2.0, 4.0]), Some(3.0));
        assert_eq!(aggregate("Average", &[]), None);
    }
}
