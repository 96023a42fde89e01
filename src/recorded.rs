//! What a recording makes of a kind's data ([`Recorded`]), once per shape
//! of data rather than per kind: a list of items with an identity
//! (`Vec<T>`), a listing (its items and the describes that failed), the
//! caller identity (one object) and the metrics (queries, series and
//! their range).
//!
//! Below both `kind` (a kind's data must be [`Recorded`]) and `recording`
//! (which writes and reads it), so that neither depends on the other
//! through it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{CallerIdentity, Failure, Identified, Listing, MetricQuery, MetricSeries};
use crate::metrics::{MetricRange, MetricsData};

pub(crate) mod hash;

/// The identity of an item: its ARN, else its resource id, id or name; a
/// string is itself.
fn identity(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => ["arn", "resource_id", "id", "name"]
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

/// Items keyed by their identity, each made a `Value` only when it is
/// reached (the 3 000 tasks of a large environment are ~20 MB as `Value`s).
pub type Items<'a> = Box<dyn Iterator<Item = serde_json::Result<(String, Value)>> + 'a>;

/// A kind's data as a recording writes and reads it: keyed items (what a
/// load diffs and writes as its changes) and the rest. Required of every
/// kind's data (`Registered::Data`); implemented for each shape of data,
/// so a kind whose data is a `Vec<T>` or a `Listing<T>` of an
/// [`Identified`] `T` needs nothing here.
pub trait Recorded: Sized {
    /// Its items keyed by their identity, in order, and what is not an
    /// item (`Value::Null` when there is nothing).
    fn split(&self) -> serde_json::Result<(Items<'_>, Value)>;
    /// The data back from its keyed items and the rest (the inverse of
    /// [`split`](Self::split)).
    fn join(items: &[(String, Value)], rest: &Value) -> serde_json::Result<Self>;
    /// How many items [`split`](Self::split) gives.
    fn item_count(&self) -> usize;
    /// A hash of each item, in the order of [`split`](Self::split);
    /// `None` when it is always handed over whole or serde refuses an item.
    fn item_hashes(&self) -> Option<Vec<u128>>;
    /// A copy with only the items `same` does not place (the rest whole).
    #[must_use]
    fn pick(&self, same: &[Option<u32>]) -> Self;
    /// The key of an item of a load read back (as [`split`](Self::split)
    /// keyed it).
    fn key(item: &Value) -> String;
}

/// Items keyed by their identity, each made a `Value` when it is reached.
fn keyed<T: Serialize>(items: &[T]) -> Items<'_> {
    Box::new(items.iter().map(|i| {
        let v = serde_json::to_value(i)?;
        Ok((identity(&v), v))
    }))
}

/// Items as they were written (their keys aside).
fn list<T: DeserializeOwned>(items: &[(String, Value)]) -> serde_json::Result<Vec<T>> {
    items
        .iter()
        .map(|(_, v)| T::deserialize(v))
        .collect::<Result<Vec<T>, _>>()
}

/// A hash of each item.
fn hashes<T: Serialize>(items: &[T]) -> impl Iterator<Item = Option<u128>> + '_ {
    items.iter().map(hash::item128)
}

/// The items `same` does not place.
fn picked<T: Clone>(items: &[T], same: &[Option<u32>]) -> Vec<T> {
    items
        .iter()
        .enumerate()
        .filter(|(i, _)| same.get(*i).is_none_or(Option::is_none))
        .map(|(_, item)| item.clone())
        .collect()
}

/// One item under a key of its own.
fn one<T: Serialize>(key: String, item: &T) -> serde_json::Result<(String, Value)> {
    Ok((key, serde_json::to_value(item)?))
}

/// A list of items, each keyed by its identity.
impl<T: Identified + Serialize + DeserializeOwned + Clone> Recorded for Vec<T> {
    fn split(&self) -> serde_json::Result<(Items<'_>, Value)> {
        Ok((keyed(self), Value::Null))
    }
    fn join(items: &[(String, Value)], _: &Value) -> serde_json::Result<Self> {
        list(items)
    }
    fn item_count(&self) -> usize {
        self.len()
    }
    fn item_hashes(&self) -> Option<Vec<u128>> {
        hashes(self).collect()
    }
    fn pick(&self, same: &[Option<u32>]) -> Self {
        picked(self, same)
    }
    fn key(item: &Value) -> String {
        identity(item)
    }
}

/// Its items as a list's; the describes that failed are the rest.
impl<T: Identified + Serialize + DeserializeOwned + Clone> Recorded for Listing<T> {
    fn split(&self) -> serde_json::Result<(Items<'_>, Value)> {
        let rest = if self.failures.is_empty() {
            Value::Null
        } else {
            serde_json::to_value(&self.failures)?
        };
        Ok((keyed(&self.items), rest))
    }
    fn join(items: &[(String, Value)], rest: &Value) -> serde_json::Result<Self> {
        Ok(Listing {
            items: list(items)?,
            failures: if rest.is_null() {
                Vec::new()
            } else {
                Vec::<Failure>::deserialize(rest)?
            },
        })
    }
    fn item_count(&self) -> usize {
        self.items.len()
    }
    fn item_hashes(&self) -> Option<Vec<u128>> {
        self.items.item_hashes()
    }
    fn pick(&self, same: &[Option<u32>]) -> Self {
        Listing {
            items: picked(&self.items, same),
            failures: self.failures.clone(),
        }
    }
    fn key(item: &Value) -> String {
        identity(item)
    }
}

/// One item, `identity`, always handed over whole.
impl Recorded for CallerIdentity {
    fn split(&self) -> serde_json::Result<(Items<'_>, Value)> {
        Ok((
            Box::new(std::iter::once(one("identity".into(), self))),
            Value::Null,
        ))
    }
    fn join(items: &[(String, Value)], _: &Value) -> serde_json::Result<Self> {
        let v = items.first().map_or(&Value::Null, |(_, v)| v);
        CallerIdentity::deserialize(v)
    }
    fn item_count(&self) -> usize {
        1
    }
    fn item_hashes(&self) -> Option<Vec<u128>> {
        None
    }
    fn pick(&self, _: &[Option<u32>]) -> Self {
        self.clone()
    }
    fn key(_: &Value) -> String {
        "identity".to_string()
    }
}

/// The queries (`q:<id>`) then the series (`s:<id>`); the range is the
/// rest.
impl Recorded for MetricsData {
    fn split(&self) -> serde_json::Result<(Items<'_>, Value)> {
        let queries = self.queries.iter().map(|q| one(format!("q:{}", q.id), q));
        let series = self.series.iter().map(|s| one(format!("s:{}", s.id), s));
        let rest = serde_json::json!({"range": self.range, "start": self.start, "end": self.end});
        Ok((Box::new(queries.chain(series)), rest))
    }
    fn join(items: &[(String, Value)], rest: &Value) -> serde_json::Result<Self> {
        #[derive(Deserialize)]
        struct Meta {
            range: MetricRange,
            start: crate::domain::Timestamp,
            end: crate::domain::Timestamp,
        }
        let mut queries = Vec::new();
        let mut series = Vec::new();
        for (k, v) in items {
            if k.starts_with("q:") {
                queries.push(MetricQuery::deserialize(v)?);
            } else {
                series.push(MetricSeries::deserialize(v)?);
            }
        }
        let meta = Meta::deserialize(rest)?;
        Ok(MetricsData {
            range: meta.range,
            start: meta.start,
            end: meta.end,
            queries,
            series,
        })
    }
    fn item_count(&self) -> usize {
        self.queries.len() + self.series.len()
    }
    fn item_hashes(&self) -> Option<Vec<u128>> {
        hashes(&self.queries).chain(hashes(&self.series)).collect()
    }
    fn pick(&self, same: &[Option<u32>]) -> Self {
        let (queries, series) = same.split_at(self.queries.len().min(same.len()));
        MetricsData {
            range: self.range,
            start: self.start,
            end: self.end,
            queries: picked(&self.queries, queries),
            series: picked(&self.series, series),
        }
    }
    fn key(item: &Value) -> String {
        let prefix = if item.get("points").is_some() {
            "s"
        } else {
            "q"
        };
        format!("{prefix}:{}", identity(item))
    }
}
