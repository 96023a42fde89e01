//! Metrics: a mean-reverting random walk around a daily shape, sampled every
//! simulated second and kept as one-minute datapoints for a day.

use std::collections::VecDeque;
use std::f64::consts::TAU;

use chrono::DateTime;
use fastrand::Rng;

use super::world::MetricDesc;
use crate::domain::{MetricRef, MetricSeries, Timestamp};

/// One-minute datapoints kept per metric (a day).
pub(crate) const HISTORY_MINUTES: usize = 24 * 60;

/// One simulated CloudWatch metric.
#[derive(Debug, Clone)]
pub(crate) struct Metric {
    pub id: String,
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    pub unit: Option<String>,
    mean: f64,
    noise: f64,
    amplitude: f64,
    peak_hour: f64,
    min: f64,
    max: Option<f64>,
    integer: bool,
    reporting: bool,
    reversion_secs: f64,
    /// The walk's current distance from the daily shape.
    deviation: f64,
    /// What a running incident adds.
    pub effect: f64,
    /// What a drill's faults add (set every second while one runs).
    pub drill_effect: f64,
    acc_sum: f64,
    acc_max: f64,
    acc_count: u32,
    /// A minute's datapoint is its highest sample, not its average: a
    /// status check that failed at any moment of the minute reads 1 (as
    /// EC2 publishes StatusCheckFailed).
    peak: bool,
    acc_minute: i64,
    /// `(minute start, value)`, oldest first.
    history: VecDeque<(Timestamp, f64)>,
}

impl Metric {
    pub fn new(d: &MetricDesc, peak_hour: f64) -> Self {
        Self {
            id: d.id.clone(),
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            dimensions: d
                .dimensions
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            unit: d.unit.clone(),
            mean: d.mean,
            noise: d.noise,
            amplitude: d.daily_amplitude,
            peak_hour,
            min: d.min,
            max: d.max,
            integer: d.integer,
            reporting: d.reporting,
            reversion_secs: d.reversion.0.max(1) as f64,
            deviation: 0.0,
            effect: 0.0,
            drill_effect: 0.0,
            acc_sum: 0.0,
            acc_max: 0.0,
            acc_count: 0,
            peak: d.name.starts_with("StatusCheckFailed"),
            acc_minute: 0,
            history: VecDeque::with_capacity(HISTORY_MINUTES + 1),
        }
    }

    /// The value of a dimension, if the metric has it.
    pub fn dimension(&self, key: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is the metric `namespace/name` with exactly `dimensions`
    /// (in any order).
    pub fn matches(&self, namespace: &str, name: &str, dimensions: &[(String, String)]) -> bool {
        self.namespace == namespace
            && self.name == name
            && self.dimensions.len() == dimensions.len()
            && dimensions
                .iter()
                .all(|(k, v)| self.dimension(k) == Some(v.as_str()))
    }

    /// The daily shape at `t`.
    fn baseline(&self, t: Timestamp) -> f64 {
        let hours = t.timestamp().rem_euclid(86_400) as f64 / 3_600.0;
        let phase = (hours - self.peak_hour) / 24.0 * TAU;
        self.mean * (1.0 + self.amplitude * phase.cos())
    }

    fn clamp(&self, v: f64) -> f64 {
        let v = v.max(self.min);
        match self.max {
            Some(max) => v.min(max),
            None => v,
        }
    }

    /// Fills the last day of one-minute datapoints before `start`, quietly
    /// (no incidents), so that everything has data at once.
    pub fn prefill(&mut self, start: Timestamp, rng: &mut Rng) {
        let start_minute = start.timestamp().div_euclid(60);
        let k = 1.0 / self.reversion_secs;
        let keep = (1.0 - k).powi(60);
        let kick = (1.0 - keep * keep).max(0.0).sqrt();
        self.deviation = self.noise * gaussian(rng);
        self.history.clear();
        for minute in start_minute - HISTORY_MINUTES as i64..start_minute {
            self.deviation = self.deviation * keep + self.noise * kick * gaussian(rng);
            if !self.reporting {
                continue;
            }
            let Some(at) = DateTime::from_timestamp(minute * 60, 0) else {
                continue;
            };
            let middle = at + chrono::TimeDelta::seconds(30);
            // A minute's average varies less than single samples.
            let v = self.clamp(self.baseline(middle) + 0.8 * self.deviation);
            self.history
                .push_back((at, if self.integer { v.round() } else { v }));
        }
        self.acc_minute = start_minute;
        self.acc_sum = 0.0;
        self.acc_count = 0;
    }

    /// Samples the second starting at `t`. `factor` scales the value (load
    /// spread over tasks); `None` means nothing reports this second.
    pub fn sample(&mut self, t: Timestamp, factor: Option<f64>, rng: &mut Rng) {
        let k = 1.0 / self.reversion_secs;
        let g = gaussian(rng);
        self.deviation = self.deviation * (1.0 - k) + self.noise * (2.0 * k - k * k).sqrt() * g;
        let minute = t.timestamp().div_euclid(60);
        if minute != self.acc_minute {
            self.flush();
            self.acc_minute = minute;
        }
        let (true, Some(factor)) = (self.reporting, factor) else {
            return;
        };
        let v = self
            .clamp((self.baseline(t) + self.deviation + self.effect + self.drill_effect) * factor);
        self.accumulate(v);
    }

    /// Records the second starting at `t` as `value` exactly (a value
    /// the world derives, like a status check's 0 or 1), without the
    /// walk; `None`: nothing reports this second.
    pub fn record(&mut self, t: Timestamp, value: Option<f64>) {
        let minute = t.timestamp().div_euclid(60);
        if minute != self.acc_minute {
            self.flush();
            self.acc_minute = minute;
        }
        if let (true, Some(v)) = (self.reporting, value) {
            self.accumulate(self.clamp(v));
        }
    }

    fn accumulate(&mut self, v: f64) {
        self.acc_max = if self.acc_count == 0 {
            v
        } else {
            self.acc_max.max(v)
        };
        self.acc_sum += v;
        self.acc_count += 1;
    }

    /// Closes the current minute into a datapoint (if anything reported).
    pub fn flush(&mut self) {
        if self.acc_count > 0 {
            let avg = if self.peak {
                self.acc_max
            } else {
                self.acc_sum / f64::from(self.acc_count)
            };
            let v = if self.integer { avg.round() } else { avg };
            if let Some(at) = DateTime::from_timestamp(self.acc_minute * 60, 0) {
                self.history.push_back((at, v));
                while self.history.len() > HISTORY_MINUTES {
                    self.history.pop_front();
                }
            }
        }
        self.acc_sum = 0.0;
        self.acc_max = 0.0;
        self.acc_count = 0;
    }

    /// Datapoints with `from <= t < to`, oldest first.
    pub fn between(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, f64)> {
        let mut out: Vec<_> = self
            .history
            .iter()
            .rev()
            .skip_while(|(t, _)| *t >= to)
            .take_while(|(t, _)| *t >= from)
            .copied()
            .collect();
        out.reverse();
        out
    }

    /// The last `n` datapoint values, oldest first.
    pub fn last_values(&self, n: usize) -> Vec<f64> {
        let skip = self.history.len().saturating_sub(n);
        self.history.iter().skip(skip).map(|(_, v)| *v).collect()
    }

    pub fn metric_ref(&self, statistic: &str, unit: Option<&str>) -> MetricRef {
        MetricRef {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            dimensions: self.dimensions.clone(),
            statistic: Some(statistic.to_string()),
            unit: unit.map(str::to_string).or_else(|| self.unit.clone()),
        }
    }

    pub fn series(&self) -> MetricSeries {
        MetricSeries {
            id: self.id.replace('-', "_"),
            label: self.name.clone(),
            unit: self.unit.clone(),
            points: self.history.iter().copied().collect(),
        }
    }
}

/// A standard normal sample (Box-Muller).
pub(crate) fn gaussian(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.f64();
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
}
