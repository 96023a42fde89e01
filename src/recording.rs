//! This session's recording: the timeline events of every environment and
//! the data the console loaded, appended as JSON Lines to
//! `recordings/<session>.jsonl` in the state directory by a thread of its
//! own (writing never blocks the console; each message is written and
//! flushed as it arrives, so a crash or `kill -9` loses at most what was
//! still in the channel: well under a second).
//!
//! The first line is a [`Header`] (format version, honban version, the
//! environments). Then, in the order they happened:
//! - timeline events, one [`Event`] a line (no `rec` field: `honban
//!   timeline export` reads these);
//! - `{"rec":"load",…}`: a load of one resource kind of an environment —
//!   the first in full, then only what changed, keyed by identity
//!   ([`Load`]); an unchanged load is a short line (its time moves the
//!   data's age);
//! - task definitions, health-check answers, audit records of operations
//!   (intent, result, final) and the number of log lines read (never the
//!   lines themselves).
//!
//! Nothing secret is written: the data types hold secret *references*
//! only, and a health check's URL is kept without its query string or
//! credentials. `honban replay` reads it back ([`crate::replay`]).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::action::{Action, Data, Resource};
use crate::backend::BackendError;
use crate::domain::{TaskDefinition, Timestamp};
use crate::kind::{Registered, with_data, with_kind};
use crate::state::State;
use crate::timeline::Event;

pub use crate::recorded::Recorded;
use crate::recorded::{Items, hash};

/// The version of the recording format (the header's `format`). A reader
/// refuses a recording of a newer format.
pub const FORMAT: u32 = 2;

/// The writer's buffer is kept between lines up to this capacity.
const KEPT_BUFFER: usize = 256 * 1024;

/// Where the recordings of a state directory are.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("recordings")
}

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT`] of the honban that wrote it.
    pub format: u32,
    /// The honban version that wrote it.
    pub honban: String,
    pub session: String,
    pub started: Timestamp,
    /// The environments, in the console's order.
    pub envs: Vec<EnvHeader>,
    /// What was kept of log lines: `counts`.
    pub logs: String,
}

/// One environment as a replay needs it to lay out the views.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvHeader {
    pub name: String,
    pub simulated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub protected: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckHeader>,
}

/// A health check of an environment (its URL without query or
/// credentials).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckHeader {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub url: String,
    pub interval_secs: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl Header {
    /// The header of a session of `state` (its environments as configured).
    pub fn of(state: &State, started: Timestamp) -> Self {
        Self {
            format: FORMAT,
            honban: env!("CARGO_PKG_VERSION").to_string(),
            session: state.session.clone(),
            started,
            envs: state
                .envs
                .iter()
                .map(|e| EnvHeader {
                    name: e.name.clone(),
                    simulated: e.source == crate::config::Source::Sim,
                    region: e.region.clone(),
                    protected: e.protected,
                    clusters: e.clusters.clone(),
                    checks: e
                        .probes
                        .iter()
                        .map(|p| CheckHeader {
                            name: Some(p.name.clone()),
                            url: public_url(&p.url),
                            interval_secs: p.interval_secs,
                            expect_status: p.expect_status,
                            service: p.service.clone(),
                        })
                        .collect(),
                })
                .collect(),
            logs: state.recording_logs.word().to_string(),
        }
    }
}

/// A URL without its credentials, query and fragment.
fn public_url(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..cut];
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let host_end = url[scheme + 3..]
                .find('/')
                .map_or(url.len(), |i| i + scheme + 3);
            if at < host_end {
                return format!("{}{}", &url[..scheme + 3], &url[at + 1..]);
            }
            url.to_string()
        }
        _ => url.to_string(),
    }
}

/// One line of a recording other than a timeline event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rec", rename_all = "snake_case")]
pub enum Line {
    Header(Header),
    Load(Load),
    TaskDefinition {
        t: Timestamp,
        env: String,
        def: Box<TaskDefinition>,
    },
    Probe {
        t: Timestamp,
        env: String,
        probe: usize,
        report: crate::probe::ProbeReport,
    },
    Audit {
        t: Timestamp,
        record: Box<crate::audit::Record>,
    },
    /// An alarm's history, read when its detail was opened.
    AlarmHistory {
        t: Timestamp,
        env: String,
        alarm: String,
        items: Vec<crate::domain::AlarmHistoryItem>,
    },
    /// A poll of the logs view read this many lines; `kept` holds those
    /// the config's `recording_logs` keeps (by default the error lines).
    Logs {
        t: Timestamp,
        env: String,
        lines: usize,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        kept: Vec<KeptLine>,
    },
    /// The size cap was reached: data is no longer recorded (timeline
    /// events still are).
    Capped {
        t: Timestamp,
        bytes: u64,
    },
}

/// A log line kept by the recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptLine {
    pub t: Timestamp,
    pub stream: String,
    pub message: String,
}

/// A load of one resource kind: what changed since the previous one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Load {
    pub t: Timestamp,
    pub env: String,
    /// [`resource_key`].
    pub kind: String,
    /// `set` holds every item (the first load, or after a reset).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
    /// Items added or changed, whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<Value>,
    /// Identities of the items removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub del: Vec<String>,
    /// Items added or moved, with their index in the new order (ascending),
    /// unless the only change of order is additions appended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub place: Vec<(String, usize)>,
    /// What is not an item (partial failures of a listing, the metrics'
    /// range), when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest: Option<Value>,
    /// Items changed in a few fields: those fields (a list that moved on,
    /// like a metric's points or a service's events, as its change).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patch: Vec<Patch>,
    /// The load failed: the data stays, the panel says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<BackendError>,
}

impl Load {
    /// A load that found everything as it was.
    pub fn is_unchanged(&self) -> bool {
        !self.full
            && self.error.is_none()
            && self.set.is_empty()
            && self.del.is_empty()
            && self.place.is_empty()
            && self.patch.is_empty()
            && self.rest.is_none()
    }
}

/// The changed fields of one item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    /// The item's identity (as `del` and `place` name it).
    pub id: String,
    /// Fields replaced whole.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub set: serde_json::Map<String, Value>,
    /// List fields as their change.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub list: std::collections::BTreeMap<String, ListDelta>,
}

/// A list after a load: `head`, then `keep` of the previous items from
/// `drop`, then `tail` (a window that moved on, items put in front).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListDelta {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub head: Vec<Value>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub drop: usize,
    pub keep: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tail: Vec<Value>,
}

impl ListDelta {
    fn apply(&self, old: &[Value]) -> Vec<Value> {
        let from = self.drop.min(old.len());
        let to = (from + self.keep).min(old.len());
        let mut out = self.head.clone();
        out.extend_from_slice(&old[from..to]);
        out.extend(self.tail.iter().cloned());
        out
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if
fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// `new` as a change of `old`: items dropped from the front and added at
/// the back, or added in front and dropped from the back; `None` when
/// neither keeps anything.
#[cfg(test)]
fn list_delta(old: &[Value], new: &[Value]) -> Option<ListDelta> {
    list_change(old, new).map(|c| c.of(new))
}

/// How a list became another: `new[..head]`, then `keep` items of the old
/// list from `drop`, then `new[tail..]`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ListChange {
    head: usize,
    drop: usize,
    keep: usize,
    tail: usize,
}

impl ListChange {
    /// The change as it is written, its new items taken from `new`.
    fn of(self, new: &[Value]) -> ListDelta {
        ListDelta {
            head: new[..self.head].to_vec(),
            drop: self.drop,
            keep: self.keep,
            tail: new[self.tail..].to_vec(),
        }
    }
}

/// [`list_delta`] of lists of anything compared (the writer compares the
/// items' hashes): the window moved on, or items were put in front;
/// whichever writes fewer items; `None` when neither keeps anything.
fn list_change<T: PartialEq>(old: &[T], new: &[T]) -> Option<ListChange> {
    let run = |o: &[T], n: &[T]| o.iter().zip(n).take_while(|(a, b)| a == b).count();
    let mut best: Option<ListChange> = None;
    // The window moved on: new starts inside old.
    if let Some(first) = new.first()
        && let Some(drop) = old.iter().position(|v| v == first)
    {
        let keep = run(&old[drop..], new);
        best = Some(ListChange {
            head: 0,
            drop,
            keep,
            tail: keep,
        });
    }
    // Items put in front: old starts inside new.
    if let Some(first) = old.first()
        && let Some(at) = new.iter().position(|v| v == first)
    {
        let keep = run(old, &new[at..]);
        let c = ListChange {
            head: at,
            drop: 0,
            keep,
            tail: at + keep,
        };
        let written = |c: &ListChange| c.head + (new.len() - c.tail);
        if best.as_ref().is_none_or(|b| written(&c) < written(b)) {
            best = Some(c);
        }
    }
    best.filter(|c| c.keep > 0)
}

/// The fields in which `new` differs from `old` (both objects with the
/// same fields), lists as their change; `None` when that is not smaller
/// than the item. `Kept` holds only hashes of the old item's fields and
/// of its lists' items: enough to tell what changed, and the new values
/// are taken from `new`.
fn patch_of(id: &str, old: &Kept, kept: &Kept, new: &Value) -> Option<Patch> {
    let Value::Object(n) = new else {
        return None;
    };
    if old.shape.is_none() || old.shape != kept.shape {
        return None;
    }
    let mut patch = Patch {
        id: id.to_string(),
        ..Patch::default()
    };
    for (i, (k, v)) in n.iter().enumerate() {
        if old.fields.get(i) == kept.fields.get(i) {
            continue;
        }
        if let Value::Array(b) = v
            && let (Some(before), Some(after)) = (old.list(i), kept.list(i))
            && let Some(c) = list_change(before, after)
        {
            patch.list.insert(k.clone(), c.of(b));
            continue;
        }
        patch.set.insert(k.clone(), v.clone());
    }
    (patch.set.len() + patch.list.len() < n.len()).then_some(patch)
}

/// Of `(new index, old index)` pairs in new order, the new indices of a
/// longest run whose old indices increase (patience sorting).
fn longest_increasing(pairs: &[(usize, usize)]) -> std::collections::HashSet<usize> {
    // tails[k]: the pair index ending the best run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev: Vec<Option<usize>> = vec![None; pairs.len()];
    for (p, &(_, old)) in pairs.iter().enumerate() {
        let k = tails.partition_point(|&t| pairs[t].1 < old);
        prev[p] = k.checked_sub(1).map(|j| tails[j]);
        if k == tails.len() {
            tails.push(p);
        } else {
            tails[k] = p;
        }
    }
    let mut out = std::collections::HashSet::new();
    let mut at = tails.last().copied();
    while let Some(p) = at {
        out.insert(pairs[p].0);
        at = prev[p];
    }
    out
}

/// The name of a resource kind in a recording ([`crate::kind::Kind::KEY`]).
pub fn resource_key(r: Resource) -> &'static str {
    r.key()
}

/// The resource kind of a recording's name.
pub fn resource_of(key: &str) -> Option<Resource> {
    Resource::ALL.into_iter().find(|r| resource_key(*r) == key)
}

/// Data as keyed items and the rest ([`Recorded::split`]).
pub(crate) fn split(data: &Data) -> serde_json::Result<(Items<'_>, Value)> {
    with_data!(data, K, d => <<K as Registered>::Data as Recorded>::split(d))
}

/// Data of kind `resource` from its keyed items and the rest (the inverse
/// of [`split`]: [`Recorded::join`]).
pub(crate) fn join(
    resource: Resource,
    items: &[(String, Value)],
    rest: &Value,
) -> serde_json::Result<Data> {
    with_kind!(resource, K => <<K as Registered>::Data as Recorded>::join(items, rest).map(K::wrap))
}

/// The last data of one resource kind of one environment, as keyed items
/// in order: what the writer diffs against and the reader patches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mirror {
    pub items: Vec<(String, Value)>,
    pub rest: Value,
}

/// The writer's copy of the last data of one resource kind of one
/// environment: what it needs to tell what changed, not the data. Each
/// item is kept as hashes ([`Kept`]): the 3 000 tasks of a large
/// environment would be ~3 MB as text and ~20 MB as `Value`s, for the
/// whole session, and twice that while a load is compared.
#[derive(Debug, Default)]
struct Written {
    items: Vec<Kept>,
    rest: Value,
    /// The field names of the items, each list once (the items of a kind
    /// have a few).
    shapes: Vec<Box<[String]>>,
}

/// One item as the writer keeps it: its identity, a 128-bit hash of the
/// whole (does it differ?) and, for an object, a hash of each field and of
/// each item of its list fields (which fields differ, how a list moved on:
/// [`patch_of`]). Equal values hash equal; a change goes unseen only if
/// the hashes of both collide.
#[derive(Debug, Clone, Default)]
struct Kept {
    id: String,
    hash: u128,
    /// Its field names (`Written::shapes`); `None` for what is not an
    /// object.
    shape: Option<u32>,
    /// A hash of each field, in the order of the shape's names.
    fields: Box<[u64]>,
    /// For each field that is a list (by its place among the fields), a
    /// hash of each of its items.
    lists: Box<[(u32, Box<[u64]>)]>,
}

impl Kept {
    fn new(shapes: &mut Vec<Box<[String]>>, id: String, hash: u128, v: &Value) -> Self {
        let Value::Object(m) = v else {
            return Self {
                id,
                hash,
                ..Self::default()
            };
        };
        let shape = if let Some(i) = shapes
            .iter()
            .position(|s| s.len() == m.len() && s.iter().zip(m.keys()).all(|(a, b)| a == b))
        {
            i
        } else {
            shapes.push(m.keys().cloned().collect());
            shapes.len() - 1
        };
        let lists = m
            .values()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Value::Array(items) => Some((
                    u32::try_from(i).ok()?,
                    items.iter().map(hash::value64).collect(),
                )),
                _ => None,
            })
            .collect();
        Self {
            id,
            hash,
            shape: u32::try_from(shape).ok(),
            fields: m.values().map(hash::value64).collect(),
            lists,
        }
    }

    /// The hashes of the items of field `i`, if it is a list.
    fn list(&self, i: usize) -> Option<&[u64]> {
        self.lists
            .iter()
            .find(|(f, _)| usize::try_from(*f).is_ok_and(|f| f == i))
            .map(|(_, h)| h.as_ref())
    }
}

/// Why a load could not be compared with the writer's copy.
#[derive(Debug, thiserror::Error)]
enum DiffError {
    #[error("an item could not be encoded: {0}")]
    Json(#[from] serde_json::Error),
    /// The console named an item of a previous load the copy does not
    /// have (it was lost to an earlier error).
    #[error("the load names items the recording does not have")]
    Unknown,
}

impl Written {
    /// What turns this copy into the new data (and does so): `same` says,
    /// for each item of the new data in order, at which place of the copy
    /// it is unchanged, or that it is the next of `items` (an empty `same`:
    /// every item is in `items`). `load` gets the removals, places,
    /// patches and rest; the items to set whole are returned, as their
    /// text (see [`write_load`]), if `texts` (a load in full is written
    /// from its data: [`write_full`]). Each item is a `Value` only while
    /// it is compared.
    fn diff(
        &mut self,
        same: &[Option<u32>],
        mut items: Items<'_>,
        rest: Value,
        load: &mut Load,
        texts: bool,
    ) -> Result<Vec<Box<RawValue>>, DiffError> {
        /// An item of the new data: the same as the old one at that index,
        /// or kept anew.
        enum Next {
            Same(usize),
            New(Kept),
        }
        let mut old = std::mem::take(&mut self.items);
        let mut set = Vec::new();
        let mut next = Vec::new();
        {
            let at: HashMap<&str, usize> = old
                .iter()
                .enumerate()
                .map(|(i, k)| (k.id.as_str(), i))
                .collect();
            let mut used = vec![false; old.len()];
            let mut refs = same.iter();
            loop {
                let place = if same.is_empty() {
                    None
                } else {
                    match refs.next() {
                        Some(r) => *r,
                        None => break,
                    }
                };
                if let Some(i) = place {
                    let i = usize::try_from(i).map_err(|_| DiffError::Unknown)?;
                    let kept = old.get(i).ok_or(DiffError::Unknown)?;
                    if used[i] {
                        next.push(Next::New(kept.clone()));
                    } else {
                        used[i] = true;
                        next.push(Next::Same(i));
                    }
                    continue;
                }
                let Some(item) = items.next() else {
                    if same.is_empty() {
                        break;
                    }
                    return Err(DiffError::Unknown);
                };
                let (id, v) = item?;
                let hash = hash::value128(&v);
                match at.get(id.as_str()).copied() {
                    Some(i) if old[i].hash == hash => {
                        if used[i] {
                            next.push(Next::New(Kept::new(&mut self.shapes, id, hash, &v)));
                        } else {
                            used[i] = true;
                            next.push(Next::Same(i));
                        }
                    }
                    Some(i) => {
                        let kept = Kept::new(&mut self.shapes, id, hash, &v);
                        match patch_of(&kept.id, &old[i], &kept, &v) {
                            Some(patch) => load.patch.push(patch),
                            None if texts => set.push(serde_json::value::to_raw_value(&v)?),
                            None => {}
                        }
                        next.push(Next::New(kept));
                    }
                    None => {
                        if texts {
                            set.push(serde_json::value::to_raw_value(&v)?);
                        }
                        next.push(Next::New(Kept::new(&mut self.shapes, id, hash, &v)));
                    }
                }
            }
            let old_ids: Vec<&str> = old.iter().map(|k| k.id.as_str()).collect();
            let new_ids: Vec<&str> = next
                .iter()
                .map(|n| match n {
                    Next::Same(i) => old[*i].id.as_str(),
                    Next::New(k) => k.id.as_str(),
                })
                .collect();
            let (del, place) = order_delta(&old_ids, &new_ids);
            load.del = del;
            load.place = place;
        }
        self.items = next
            .into_iter()
            .map(|n| match n {
                Next::Same(i) => std::mem::take(&mut old[i]),
                Next::New(k) => k,
            })
            .collect();
        if rest != self.rest {
            load.rest = Some(rest.clone());
        }
        self.rest = rest;
        Ok(set)
    }
}

/// The identities of `old` not in `new`, and the items of `new` to place
/// (added or moved, with their index): the items that keep their relative
/// order (the longest such run) stay; none are placed when the only change
/// of order is additions appended.
fn order_delta(old: &[&str], new: &[&str]) -> (Vec<String>, Vec<(String, usize)>) {
    let new_ids: std::collections::HashSet<&str> = new.iter().copied().collect();
    let del = old
        .iter()
        .filter(|k| !new_ids.contains(*k))
        .map(|k| (*k).to_string())
        .collect();
    let old_pos: HashMap<&str, usize> = old.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let kept: Vec<(usize, usize)> = new
        .iter()
        .enumerate()
        .filter_map(|(i, k)| old_pos.get(k).map(|&o| (i, o)))
        .collect();
    let stay = longest_increasing(&kept);
    let placed: Vec<(String, usize)> = new
        .iter()
        .enumerate()
        .filter(|(i, k)| !old_pos.contains_key(*k) || !stay.contains(i))
        .map(|(i, k)| ((*k).to_string(), i))
        .collect();
    let appended = placed
        .iter()
        .enumerate()
        .all(|(n, (k, i))| !old_pos.contains_key(k.as_str()) && *i == stay.len() + n);
    (del, if appended { Vec::new() } else { placed })
}

/// Writes the line of `load` (whose own `set` is empty) with `set`, the
/// items to set whole, copied from their text: a first load of a large
/// environment is never held as `Value`s. Read back, it is a `Line::Load`.
fn write_load(buf: &mut Vec<u8>, load: &Load, set: &[Box<RawValue>]) -> serde_json::Result<()> {
    #[derive(Serialize)]
    struct LoadLine<'a> {
        rec: &'static str,
        #[serde(flatten)]
        load: &'a Load,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        set: &'a [Box<RawValue>],
    }
    debug_assert!(
        load.set.is_empty(),
        "the set of a written load is given apart"
    );
    serde_json::to_writer(
        buf,
        &LoadLine {
            rec: "load",
            load,
            set,
        },
    )
}

/// Writes the line of a load in full (`load` without its items) with
/// every item of `data` as `set`, each made a `Value` only while it is
/// written: the first load of a large environment's tasks is megabytes,
/// never held as text or `Value`s. The same line as [`write_load`]'s.
fn write_full<W: Write>(w: W, load: &Load, data: &Data) -> serde_json::Result<()> {
    /// The items of the data, as a list.
    struct Every<'a>(&'a Data);
    impl Serialize for Every<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{Error as _, SerializeSeq as _};
            let (items, _) = split(self.0).map_err(S::Error::custom)?;
            let mut seq = s.serialize_seq(None)?;
            for item in items {
                let (_, v) = item.map_err(S::Error::custom)?;
                seq.serialize_element(&v)?;
            }
            seq.end()
        }
    }
    #[derive(Serialize)]
    struct FullLine<'a> {
        rec: &'static str,
        #[serde(flatten)]
        load: &'a Load,
        #[serde(skip_serializing_if = "is_empty")]
        set: Every<'a>,
    }
    fn is_empty(every: &Every<'_>) -> bool {
        item_count(every.0) == 0
    }
    serde_json::to_writer(
        w,
        &FullLine {
            rec: "load",
            load,
            set: Every(data),
        },
    )
}

/// How many items `data` has ([`split`]'s).
fn item_count(data: &Data) -> usize {
    with_data!(data, K, d => <<K as Registered>::Data as Recorded>::item_count(d))
}

/// A writer that only counts: the length of a line before it is written.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Mirror {
    /// Applies a load's changes (the reader's side of [`diff`](Self::diff));
    /// `key` names the items of `set` the way the writer did.
    pub fn apply(&mut self, load: &Load, resource: Resource) {
        let key: fn(&Value) -> String =
            with_kind!(resource, K => <<K as Registered>::Data as Recorded>::key);
        if load.full {
            self.items = load.set.iter().map(|v| (key(v), v.clone())).collect();
        } else {
            if !load.del.is_empty() {
                let del: std::collections::HashSet<&str> =
                    load.del.iter().map(String::as_str).collect();
                self.items.retain(|(k, _)| !del.contains(k.as_str()));
            }
            let at: HashMap<String, usize> = self
                .items
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
            let mut added: HashMap<String, Value> = HashMap::new();
            let mut appended = Vec::new();
            for v in &load.set {
                let k = key(v);
                match at.get(&k) {
                    Some(&i) => self.items[i].1 = v.clone(),
                    None if load.place.is_empty() => appended.push((k, v.clone())),
                    None => {
                        added.insert(k, v.clone());
                    }
                }
            }
            self.items.extend(appended);
            if !load.place.is_empty() {
                // Moved items leave their place; then each placed item goes
                // to its index in the new order, the lowest first.
                let moving: std::collections::HashSet<&str> =
                    load.place.iter().map(|(k, _)| k.as_str()).collect();
                let mut moved: HashMap<String, Value> = HashMap::new();
                let mut stay = Vec::with_capacity(self.items.len());
                for (k, v) in std::mem::take(&mut self.items) {
                    if moving.contains(k.as_str()) {
                        moved.insert(k, v);
                    } else {
                        stay.push((k, v));
                    }
                }
                self.items = stay;
                for (k, i) in &load.place {
                    let v = moved.remove(k).or_else(|| added.remove(k));
                    if let Some(v) = v {
                        let i = (*i).min(self.items.len());
                        self.items.insert(i, (k.clone(), v));
                    }
                }
            }
            if !load.patch.is_empty() {
                let at: HashMap<String, usize> = self
                    .items
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect();
                for patch in &load.patch {
                    let Some(Value::Object(item)) =
                        at.get(&patch.id).map(|&i| &mut self.items[i].1)
                    else {
                        continue;
                    };
                    for (k, v) in &patch.set {
                        item.insert(k.clone(), v.clone());
                    }
                    for (k, delta) in &patch.list {
                        if let Some(Value::Array(list)) = item.get_mut(k) {
                            *list = delta.apply(list);
                        }
                    }
                }
            }
        }
        if let Some(rest) = &load.rest {
            self.rest = rest.clone();
        } else if load.full {
            self.rest = Value::Null;
        }
    }
}

/// What the console hands to the writer thread.
#[derive(Debug)]
enum Msg {
    Events(Vec<Event>),
    Load {
        t: Timestamp,
        env: String,
        resource: Resource,
        /// The items that changed since the load handed over before (all
        /// of them without `same`).
        result: Result<Data, BackendError>,
        /// For each item of the load, in order: its place in the previous
        /// load, where it is unchanged, or `None`: the next of `result`'s.
        /// Empty: `result` holds every item.
        same: Vec<Option<u32>>,
    },
    Line(Box<Line>),
    /// Answered once everything handed over before it is written.
    Sync(Sender<()>),
}

/// What of an action goes into the recording, read before `update` applies
/// it (a result for an older request than the one waited for is dropped by
/// `update`, and so it is here). A load is borrowed: [`Recorder::data`]
/// copies only what changed.
#[derive(Debug)]
pub struct Capture<'a>(Captured<'a>);

#[derive(Debug)]
enum Captured<'a> {
    Load {
        t: Timestamp,
        env: String,
        resource: Resource,
        result: &'a Result<Data, BackendError>,
    },
    Msg(Msg),
}

impl Capture<'_> {
    /// The log lines this capture keeps (tests look inside).
    #[cfg(test)]
    pub(crate) fn kept_log_lines(&self) -> Option<(usize, Vec<String>)> {
        match &self.0 {
            Captured::Msg(Msg::Line(line)) => match line.as_ref() {
                Line::Logs { lines, kept, .. } => {
                    Some((*lines, kept.iter().map(|k| k.message.clone()).collect()))
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// The part of `action` a recording keeps, if any.
pub fn capture<'a>(state: &State, action: &'a Action) -> Option<Capture<'a>> {
    match action {
        Action::Loaded {
            env,
            resource,
            generation,
            at,
            result,
        } => {
            let e = state.envs.get(*env)?;
            if e.generation_of(*resource) != *generation {
                return None;
            }
            Some(Capture(Captured::Load {
                t: *at,
                env: e.name.clone(),
                resource: *resource,
                result,
            }))
        }
        Action::TaskDefinitionLoaded {
            env,
            result: Ok(def),
            ..
        } => {
            let e = state.envs.get(*env)?;
            Some(Capture(Captured::Msg(Msg::Line(Box::new(
                Line::TaskDefinition {
                    t: state.now,
                    env: e.name.clone(),
                    def: Box::new(def.clone()),
                },
            )))))
        }
        Action::ProbeDone {
            env,
            probe,
            generation,
            at,
            report,
        } => {
            let e = state.envs.get(*env)?;
            if e.probes.get(*probe)?.generation != *generation {
                return None;
            }
            let mut report = report.clone();
            // The start of a body could hold anything: not kept.
            report.body = String::new();
            Some(Capture(Captured::Msg(Msg::Line(Box::new(Line::Probe {
                t: *at,
                env: e.name.clone(),
                probe: *probe,
                report,
            })))))
        }
        Action::AlarmHistoryLoaded {
            env,
            alarm,
            generation,
            at,
            result: Ok(items),
        } => {
            let e = state.envs.get(*env)?;
            if e.alarm_history.get(alarm)?.generation != *generation {
                return None;
            }
            Some(Capture(Captured::Msg(Msg::Line(Box::new(
                Line::AlarmHistory {
                    t: *at,
                    env: e.name.clone(),
                    alarm: alarm.clone(),
                    items: items.clone(),
                },
            )))))
        }
        Action::LogsLoaded {
            at,
            result: Ok(batch),
            ..
        } => {
            let env = state
                .logs
                .as_ref()
                .and_then(|l| state.envs.get(l.target.env))
                .map(|e| e.name.clone())?;
            let keep = state.recording_logs;
            let kept = batch
                .events
                .iter()
                .filter(|l| keep.keeps(&l.message))
                .map(|l| KeptLine {
                    t: l.timestamp,
                    stream: l.stream.clone(),
                    message: l.message.clone(),
                })
                .collect();
            Some(Capture(Captured::Msg(Msg::Line(Box::new(Line::Logs {
                t: *at,
                env,
                lines: batch.events.len(),
                kept,
            })))))
        }
        _ => None,
    }
}

/// The writer of one session's recording.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    tx: Sender<Msg>,
    /// Of each environment's resource kinds, a hash of each item of the
    /// load last handed to the writer, in order: a load hands over only
    /// the items that changed (and where the others were).
    handed: Mutex<HashMap<(String, Resource), Vec<u128>>>,
    /// Set by the writer when it lost its copy of a kind (an item it could
    /// not encode): then every kind is handed over whole again.
    lost: Arc<AtomicBool>,
}

impl Recorder {
    /// Opens (creates) `dir/<session>.jsonl`, writes `header` and starts
    /// the writer thread. Data stops being recorded once the file reaches
    /// `cap_bytes` (timeline events go on).
    pub fn start(dir: &Path, header: &Header, cap_bytes: u64) -> std::io::Result<Self> {
        create_private_dir(dir)?;
        let path = dir.join(format!("{}.jsonl", header.session));
        let mut file = open_append(&path)?;
        let mut first = serde_json::to_vec(&Line::Header(header.clone()))?;
        first.push(b'\n');
        file.write_all(&first)?;
        file.flush()?;
        let (tx, rx) = channel::<Msg>();
        let shown = path.display().to_string();
        let mut written = first.len() as u64;
        let lost = Arc::new(AtomicBool::new(false));
        let lost_here = lost.clone();
        std::thread::Builder::new()
            .name("honban-recorder".into())
            .spawn(move || {
                let mut mirrors: HashMap<(String, Resource), Written> = HashMap::new();
                let mut capped = false;
                let mut buf = Vec::new();
                for msg in rx {
                    if let Msg::Sync(done) = msg {
                        let _ = done.send(());
                        continue;
                    }
                    buf.clear();
                    let data = !matches!(msg, Msg::Events(_));
                    if capped && data {
                        continue;
                    }
                    let mut full = encode(msg, &mut mirrors, &mut buf, &lost_here);
                    let mut size = buf.len() as u64;
                    if let Some((load, data)) = full.take() {
                        let mut count = Count(1);
                        match write_full(&mut count, &load, &data) {
                            Ok(()) => {
                                size = count.0;
                                full = Some((load, data));
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "a recording line could not be encoded");
                                // The copy holds what was not written: dropped.
                                mirrors.retain(|(env, r), _| {
                                    *env != load.env || resource_key(*r) != load.kind
                                });
                                lost_here.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                    if data && written + size > cap_bytes {
                        capped = true;
                        full = None;
                        buf.clear();
                        let line = Line::Capped {
                            t: chrono::Utc::now(),
                            bytes: written,
                        };
                        if serde_json::to_writer(&mut buf, &line).is_ok() {
                            buf.push(b'\n');
                        }
                        tracing::warn!(path = %shown, written, "the recording reached its size cap: data no longer recorded");
                    }
                    // A first load in full is written as it is made, a
                    // piece at a time.
                    let line = if let Some((load, data)) = &full {
                        let mut w = std::io::BufWriter::with_capacity(64 * 1024, &mut file);
                        write_full(&mut w, load, data)
                            .map_err(std::io::Error::from)
                            .and_then(|()| w.write_all(b"\n"))
                            .and_then(|()| w.flush())
                    } else {
                        size = buf.len() as u64;
                        file.write_all(&buf).and_then(|()| file.flush())
                    };
                    written += size;
                    if let Err(e) = line {
                        tracing::error!(path = %shown, error = %e, "cannot write the recording");
                    }
                    // The line of a first load in full is megabytes: a
                    // buffer that large is not kept for the next one.
                    if buf.capacity() > KEPT_BUFFER {
                        buf = Vec::new();
                    }
                }
            })?;
        Ok(Self {
            path,
            tx,
            handed: Mutex::new(HashMap::new()),
            lost,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hands a batch of timeline events to the writer (never blocks).
    pub fn record(&self, events: Vec<Event>) {
        self.send(Msg::Events(events));
    }

    /// Hands captured data to the writer (never blocks). Of a load, only
    /// the items that changed since the load of its kind handed over
    /// before are copied (compared by a hash of each): most of a large
    /// environment's 3 000 tasks are the same from one load to the next.
    pub fn data(&self, capture: Capture<'_>) {
        let msg = match capture.0 {
            Captured::Msg(msg) => msg,
            Captured::Load {
                t,
                env,
                resource,
                result: Err(e),
            } => Msg::Load {
                t,
                env,
                resource,
                result: Err(e.clone()),
                same: Vec::new(),
            },
            Captured::Load {
                t,
                env,
                resource,
                result: Ok(data),
            } => {
                let (data, same) = self.changed(&env, resource, data);
                Msg::Load {
                    t,
                    env,
                    resource,
                    result: Ok(data),
                    same,
                }
            }
        };
        self.send(msg);
    }

    /// Of `data`, the items that changed since the last load of its kind
    /// handed over, and where the others were in it ([`Msg::Load`]).
    fn changed(&self, env: &str, resource: Resource, data: &Data) -> (Data, Vec<Option<u32>>) {
        let hashes = item_hashes(data);
        let mut handed = self
            .handed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.lost.swap(false, Ordering::Relaxed) {
            handed.clear();
        }
        let key = (env.to_string(), resource);
        let Some(hashes) = hashes else {
            handed.remove(&key);
            return (data.clone(), Vec::new());
        };
        let before: HashMap<u128, u32> = handed
            .get(&key)
            .map(|old| {
                old.iter()
                    .enumerate()
                    .filter_map(|(i, h)| Some((*h, u32::try_from(i).ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        let same: Vec<Option<u32>> = hashes.iter().map(|h| before.get(h).copied()).collect();
        handed.insert(key, hashes);
        drop(handed);
        if same.iter().all(Option::is_none) {
            return (data.clone(), Vec::new());
        }
        (pick(data, &same), same)
    }

    /// Hands an audit record (an operation's intent, result or end).
    pub fn audit(&self, record: &crate::audit::Record) {
        self.send(Msg::Line(Box::new(Line::Audit {
            t: record.time,
            record: Box::new(record.clone()),
        })));
    }

    /// Waits (at most `timeout`) until everything handed over so far is
    /// written: at the end of a session, and in tests. `false` when it
    /// was not in time.
    pub fn sync(&self, timeout: std::time::Duration) -> bool {
        let (tx, rx) = channel();
        self.send(Msg::Sync(tx));
        rx.recv_timeout(timeout).is_ok()
    }

    fn send(&self, msg: Msg) {
        if self.tx.send(msg).is_err() {
            tracing::error!("the recording's writer has stopped");
        }
    }
}

/// A hash of each item of `data`, in the order of [`split`]; `None` for
/// the caller identity (one item: always handed over) or an item serde
/// refuses ([`Recorded::item_hashes`]).
fn item_hashes(data: &Data) -> Option<Vec<u128>> {
    with_data!(data, K, d => <<K as Registered>::Data as Recorded>::item_hashes(d))
}

/// A copy of `data` with only the items `same` does not place (the rest
/// whole: failures, the metrics' range; [`Recorded::pick`]).
fn pick(data: &Data, same: &[Option<u32>]) -> Data {
    with_data!(data, K, d => K::wrap(<<K as Registered>::Data as Recorded>::pick(d, same)))
}

/// A load in full, to be written from its data ([`write_full`]).
type Full = (Load, Data);

/// Appends the lines of `msg` to `buf` (a load diffed against `mirrors`;
/// `lost` is set when a copy had to be dropped), or returns the load in
/// full that is its line.
fn encode(
    msg: Msg,
    mirrors: &mut HashMap<(String, Resource), Written>,
    buf: &mut Vec<u8>,
    lost: &AtomicBool,
) -> Option<Full> {
    let put = |buf: &mut Vec<u8>, r: serde_json::Result<()>| match r {
        Ok(()) => buf.push(b'\n'),
        Err(e) => tracing::error!(error = %e, "a recording line could not be encoded"),
    };
    match msg {
        Msg::Events(events) => {
            for e in &events {
                let r = serde_json::to_writer(&mut *buf, e);
                put(buf, r);
            }
        }
        Msg::Line(line) => {
            let r = serde_json::to_writer(&mut *buf, &line);
            put(buf, r);
        }
        Msg::Sync(_) => {}
        Msg::Load {
            t,
            env,
            resource,
            result,
            same,
        } => {
            let mut load = Load {
                t,
                env: env.clone(),
                kind: resource_key(resource).to_string(),
                ..Load::default()
            };
            let mut set = Vec::new();
            match result {
                Err(e) => load.error = Some(e),
                Ok(data) => {
                    let key = (env, resource);
                    let diffed = split(&data)
                        .map_err(DiffError::from)
                        .and_then(|(items, rest)| {
                            let m = match mirrors.entry(key.clone()) {
                                std::collections::hash_map::Entry::Occupied(m) => m.into_mut(),
                                std::collections::hash_map::Entry::Vacant(v) => {
                                    load.full = true;
                                    v.insert(Written::default())
                                }
                            };
                            let texts = !load.full;
                            m.diff(&same, items, rest, &mut load, texts)
                        });
                    match diffed {
                        Ok(s) => set = s,
                        Err(e) => {
                            // What the copy holds is unknown now: the
                            // console hands every kind over whole again
                            // and this one is written in full.
                            mirrors.remove(&key);
                            lost.store(true, Ordering::Relaxed);
                            tracing::error!(error = %e, "data could not be encoded for the recording");
                            return None;
                        }
                    }
                    if load.full {
                        load.del.clear();
                        load.place.clear();
                        return Some((load, data));
                    }
                }
            }
            let r = write_load(&mut *buf, &load, &set);
            put(buf, r);
        }
    }
    None
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// A recording read back: its events and the lines that could not be read
/// (a torn last line after a crash, a newer format) with their numbers.
#[derive(Debug, Default)]
pub struct ReadBack {
    pub events: Vec<Event>,
    pub damaged: Vec<(PathBuf, usize, String)>,
}

/// Reads every recording in `dir` (or only `session`'s), events in time
/// order.
pub fn read_all(dir: &Path, session: Option<&str>) -> std::io::Result<ReadBack> {
    let mut out = ReadBack::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .filter(|p| session.is_none_or(|s| p.file_stem().is_some_and(|stem| stem == s)))
        .collect();
    files.sort();
    for path in files {
        let reader = BufReader::new(File::open(&path)?);
        for (i, line) in reader.lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    out.damaged.push((path.clone(), i + 1, e.to_string()));
                    break;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            // Data lines and the header carry `rec`; events do not.
            if line.starts_with("{\"rec\":") {
                if let Ok(Line::Header(h)) = serde_json::from_str::<Line>(&line)
                    && h.format > FORMAT
                {
                    out.damaged.push((
                        path.clone(),
                        i + 1,
                        format!(
                            "written by a newer honban ({}, format {})",
                            h.honban, h.format
                        ),
                    ));
                    break;
                }
                continue;
            }
            match serde_json::from_str::<Event>(&line) {
                Ok(e) if e.v <= crate::timeline::FORMAT_VERSION => out.events.push(e),
                Ok(e) => out.damaged.push((
                    path.clone(),
                    i + 1,
                    format!("written by a newer honban (format {})", e.v),
                )),
                Err(e) => out.damaged.push((path.clone(), i + 1, e.to_string())),
            }
        }
    }
    out.events.sort_by_key(|e| e.time);
    Ok(out)
}

/// Removes recordings last written more than `keep_days` ago, then, oldest
/// first, as many as it takes for the rest to fit in `max_bytes` (leaving
/// room for a new one of up to `reserve` bytes); returns how many.
pub fn prune(dir: &Path, keep_days: u64, max_bytes: u64, reserve: u64) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let limit = std::time::Duration::from_secs(keep_days.saturating_mul(86_400));
    let now = std::time::SystemTime::now();
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    files.sort();
    let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
    let budget = max_bytes.saturating_sub(reserve.min(max_bytes / 2));
    let mut removed = 0;
    for (modified, len, path) in files {
        let old = now.duration_since(modified).is_ok_and(|age| age > limit);
        if (old || total > budget) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
            total = total.saturating_sub(len);
        }
    }
    removed
}

/// A time as `--since` / `--until` take it: RFC 3339, `YYYY-MM-DD HH:MM`
/// (UTC), or an age before `now` (`90m`, `6h`, `2d`).
pub fn parse_time(
    text: &str,
    now: crate::domain::Timestamp,
) -> Result<crate::domain::Timestamp, String> {
    let t = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(at) = chrono::NaiveDateTime::parse_from_str(t, format) {
            return Ok(at.and_utc());
        }
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = digits.parse().map_err(|_| bad_time(t))?;
    let age = match unit {
        "s" => chrono::TimeDelta::seconds(n),
        "m" => chrono::TimeDelta::minutes(n),
        "h" => chrono::TimeDelta::hours(n),
        "d" => chrono::TimeDelta::days(n),
        _ => return Err(bad_time(t)),
    };
    Ok(now - age)
}

fn bad_time(t: &str) -> String {
    format!(
        "\"{t}\" is not a time: write 2026-12-01T03:00:00Z, \"2026-12-01 03:00\" (UTC) or an age like 90m, 6h, 2d"
    )
}

/// `honban timeline export`: the recordings in `dir`, filtered, printed as
/// Markdown postmortems (one per environment) or CloudEvents JSON Lines.
/// Returns the text, or a message for the operator.
pub fn export(
    dir: &Path,
    env: Option<&str>,
    args: &crate::cli::ExportArgs,
    now: crate::domain::Timestamp,
) -> Result<String, String> {
    let read = read_all(dir, args.session.as_deref())
        .map_err(|e| format!("cannot read the recordings in {}: {e}", dir.display()))?;
    for (path, line, why) in &read.damaged {
        eprintln!("honban: {}:{line}: skipped ({why})", path.display());
    }
    let shown = format!(
        "recordings: {}; sessions are recorded while the console runs",
        dir.display()
    );
    render_export(&read.events, env, args, now, &shown)
}

/// Filters `events` (by environment, `--session`, `--since`, `--until`)
/// and prints them as `honban timeline export` does; `source` says where
/// they came from when none matches.
pub fn render_export(
    events: &[Event],
    env: Option<&str>,
    args: &crate::cli::ExportArgs,
    now: crate::domain::Timestamp,
    source: &str,
) -> Result<String, String> {
    let since = args
        .since
        .as_deref()
        .map(|t| parse_time(t, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| parse_time(t, now))
        .transpose()?;
    let events: Vec<&Event> = events
        .iter()
        .filter(|e| args.session.as_deref().is_none_or(|s| e.session == s))
        .filter(|e| env.is_none_or(|n| e.env == n))
        .filter(|e| since.is_none_or(|t| e.time >= t))
        .filter(|e| until.is_none_or(|t| e.time <= t))
        .collect();
    if events.is_empty() {
        return Err(format!("no recorded event matches ({source})"));
    }
    let mut out = String::new();
    match args.format {
        crate::cli::ExportFormat::Json => {
            for (i, e) in events.iter().enumerate() {
                out.push_str(&crate::timeline::cloud_event(e, i).to_string());
                out.push('\n');
            }
        }
        crate::cli::ExportFormat::Markdown => {
            let mut envs: Vec<&str> = events.iter().map(|e| e.env.as_str()).collect();
            envs.sort_unstable();
            envs.dedup();
            for (i, name) in envs.iter().enumerate() {
                if i > 0 {
                    out.push_str("\n---\n\n");
                }
                let of_env: Vec<&Event> =
                    events.iter().copied().filter(|e| e.env == *name).collect();
                out.push_str(&crate::timeline::markdown(name, &of_env, now));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::cli::{ExportArgs, ExportFormat};
    use crate::timeline::{Event, MarkKind, Severity};

    fn t(min: i64) -> crate::domain::Timestamp {
        Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0)
            .single()
            .expect("time")
            + chrono::TimeDelta::minutes(min)
    }

    fn event(min: i64, kind: &str, text: &str, mark: Option<MarkKind>) -> Event {
        let mut e = Event::new(
            "production",
            t(min),
            kind,
            "web",
            text.into(),
            Severity::Error,
        );
        e.session = "20261201T030000".into();
        e.mark = mark;
        e
    }

    fn args(format: ExportFormat) -> ExportArgs {
        ExportArgs {
            session: None,
            since: None,
            until: None,
            format,
            from_cloudwatch: false,
        }
    }

    /// Each kind keeps the name recordings already on disk give it, and
    /// each name reads back as its kind.
    #[test]
    fn every_kind_keeps_its_recorded_name() {
        let legacy = [
            (Resource::Identity, "identity"),
            (Resource::Clusters, "clusters"),
            (Resource::Services, "services"),
            (Resource::Scaling, "scaling"),
            (Resource::Tasks, "tasks"),
            (Resource::Databases, "databases"),
            (Resource::Snapshots, "snapshots"),
            (Resource::Alarms, "alarms"),
            (Resource::Targets, "targets"),
            (Resource::Metrics, "metrics"),
        ];
        for (r, key) in legacy {
            assert_eq!(resource_key(r), key, "{r:?}");
        }
        for r in Resource::ALL {
            assert_eq!(resource_of(resource_key(r)), Some(r), "{r:?}");
        }
        assert_eq!(resource_of("nothing"), None);
    }

    #[test]
    fn a_recording_exports_a_postmortem_and_cloud_events() {
        let dir = tempfile::tempdir().expect("temp dir");
        let header = Header {
            format: FORMAT,
            honban: "test".into(),
            session: "20261201T030000".into(),
            started: t(0),
            envs: Vec::new(),
            logs: "counts".into(),
        };
        let rec = Recorder::start(dir.path(), &header, u64::MAX).expect("recorder");
        rec.record(vec![
            event(
                0,
                "mark",
                "impact started: marked",
                Some(MarkKind::ImpactStarted),
            ),
            event(4, "alarm_state", "OK → ALARM: 5XX > 10", None),
            event(4, "mark", "detected: OK → ALARM", Some(MarkKind::Detected)),
        ]);
        let mut op = event(6, "operation", "sent: Roll back web", None);
        op.caller = Some("arn:aws:sts::1:assumed-role/OnCall/alice".into());
        op.calls = vec!["ecs:UpdateService service=web taskDefinition=web:41".into()];
        rec.record(vec![
            op,
            event(9, "mark", "mitigated", Some(MarkKind::Mitigated)),
            event(15, "mark", "recovered", Some(MarkKind::Recovered)),
        ]);
        let path = rec.path().to_path_buf();
        drop(rec);
        // The writer thread flushes each batch; wait for the header and
        // the six events.
        let mut lines = 0;
        for _ in 0..200 {
            lines = std::fs::read_to_string(&path).map_or(0, |s| s.lines().count());
            if lines == 7 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(lines, 7);

        let md = export(dir.path(), None, &args(ExportFormat::Markdown), t(30)).expect("markdown");
        assert!(md.contains("# Postmortem: production"), "{md}");
        assert!(md.contains("TTD 4m 00s · TTM 9m 00s · TTR 15m 00s"), "{md}");
        assert!(
            md.contains("by `arn:aws:sts::1:assumed-role/OnCall/alice`"),
            "{md}"
        );
        assert!(
            md.contains("`ecs:UpdateService service=web taskDefinition=web:41`"),
            "{md}"
        );
        assert!(md.contains("## Action items"), "{md}");

        let json = export(dir.path(), None, &args(ExportFormat::Json), t(30)).expect("json");
        let first: serde_json::Value =
            serde_json::from_str(json.lines().next().expect("a line")).expect("JSON");
        for field in [
            "id",
            "source",
            "type",
            "time",
            "subject",
            "data",
            "specversion",
        ] {
            assert!(first.get(field).is_some(), "{field} in {first}");
        }
        assert_eq!(first["type"], "honban.mark");

        // --since filters; nothing left is a clear error.
        let mut late = args(ExportFormat::Json);
        late.since = Some("2026-12-01 03:10".into());
        let json = export(dir.path(), None, &late, t(30)).expect("json");
        assert_eq!(json.lines().count(), 1, "{json}");
        late.since = Some("2027-01-01".into());
        assert!(export(dir.path(), None, &late, t(30)).is_err());
    }

    #[test]
    fn a_torn_last_line_and_a_newer_format_are_reported_not_fatal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = serde_json::to_string(&event(0, "note", "hello", None)).expect("json");
        let mut newer = event(1, "note", "from the future", None);
        newer.v = crate::timeline::FORMAT_VERSION + 1;
        let newer = serde_json::to_string(&newer).expect("json");
        std::fs::write(
            dir.path().join("s.jsonl"),
            format!("{good}\n{newer}\n{{\"v\":1,\"sess"),
        )
        .expect("write");
        let read = read_all(dir.path(), None).expect("read");
        assert_eq!(read.events.len(), 1);
        assert_eq!(read.damaged.len(), 2);
        assert_eq!(read.damaged[0].1, 2);
        assert!(read.damaged[0].2.contains("newer honban"));
        assert_eq!(read.damaged[1].1, 3);
    }

    /// What the writer diffs, the reader patches back to the same data:
    /// changed, added, removed and re-ordered items, a window of metric
    /// points that moved on.
    #[test]
    fn loads_round_trip_through_their_changes() {
        use serde_json::json;
        let series = |id: &str, from: i64, n: i64| {
            json!({"id": id, "label": id, "unit": null,
                   "points": (from..from + n).map(|m| json!([t(m), m as f64])).collect::<Vec<_>>()})
        };
        let rounds: Vec<Vec<(String, Value)>> = vec![
            vec![
                ("a".into(), json!({"arn": "a", "n": 1})),
                ("b".into(), json!({"arn": "b", "n": 1})),
            ],
            vec![
                ("b".into(), json!({"arn": "b", "n": 2})),
                ("a".into(), json!({"arn": "a", "n": 1})),
                ("c".into(), json!({"arn": "c"})),
            ],
            vec![("c".into(), json!({"arn": "c"}))],
            vec![
                ("d".into(), json!({"arn": "d"})),
                ("c".into(), json!({"arn": "c", "n": 3})),
                ("e".into(), json!({"arn": "e"})),
            ],
            vec![
                ("d".into(), json!({"arn": "d"})),
                ("f".into(), json!({"arn": "f"})),
                ("c".into(), json!({"arn": "c", "n": 3})),
                ("g".into(), json!({"arn": "g"})),
                ("e".into(), json!({"arn": "e"})),
            ],
            vec![
                ("e".into(), json!({"arn": "e"})),
                ("d".into(), json!({"arn": "d"})),
                ("c".into(), json!({"arn": "c", "n": 3})),
                ("f".into(), json!({"arn": "f"})),
                ("g".into(), json!({"arn": "g", "n": 1})),
            ],
            vec![
                ("g".into(), json!({"arn": "g", "n": 1})),
                ("h".into(), json!({"arn": "h"})),
                ("e".into(), json!({"arn": "e"})),
                ("c".into(), json!({"arn": "c", "n": 4})),
            ],
            vec![
                ("s:x".into(), series("x", 0, 60)),
                ("q:x".into(), json!({"id": "x"})),
            ],
            vec![
                ("s:x".into(), series("x", 1, 60)),
                ("q:x".into(), json!({"id": "x"})),
            ],
            vec![
                ("s:x".into(), series("x", 5, 58)),
                ("q:x".into(), json!({"id": "x"})),
            ],
        ];
        let mut writer = Written::default();
        let mut reader = Mirror::default();
        for (i, items) in rounds.into_iter().enumerate() {
            let resource = if i >= 7 {
                Resource::Metrics
            } else {
                Resource::Services
            };
            let mut load = Load {
                full: i == 0 || i == 7,
                ..Load::default()
            };
            if load.full {
                writer = Written::default();
            }
            let values = Box::new(items.clone().into_iter().map(Ok));
            let set = writer
                .diff(&[], values, Value::Null, &mut load, true)
                .expect("diff");
            if i == 4 {
                assert_eq!(load.place, [("f".to_string(), 1), ("g".to_string(), 3)]);
            }
            if i == 5 {
                // Two moved (e, and c or f): two places, not the whole order.
                assert_eq!(load.place.len(), 2, "{load:?}");
            }
            if i == 8 {
                assert!(set.is_empty() && load.patch.len() == 1, "{load:?}");
                let d = &load.patch[0].list["points"];
                assert_eq!((d.drop, d.keep, d.tail.len()), (1, 59, 1));
            }
            let mut line = Vec::new();
            write_load(&mut line, &load, &set).expect("json");
            let line = String::from_utf8(line).expect("utf-8");
            let Ok(Line::Load(load)) = serde_json::from_str::<Line>(&line) else {
                panic!("not a load: {line}");
            };
            reader.apply(&load, resource);
            assert_eq!(reader.items, items, "round {i}");
        }
    }

    #[test]
    fn a_list_is_recorded_as_its_change() {
        use serde_json::json;
        let list = |r: std::ops::Range<i64>| r.map(|i| json!(i)).collect::<Vec<_>>();
        // Events put in front, the oldest dropped (ECS service events).
        let (old, new) = (list(0..100), [list(100..102), list(0..98)].concat());
        let d = list_delta(&old, &new).expect("a delta");
        assert_eq!((d.head.len(), d.drop, d.keep, d.tail.len()), (2, 0, 98, 0));
        assert_eq!(d.apply(&old), new);
        // A window that moved on (metric points).
        let (old, new) = (list(0..60), list(3..63));
        let d = list_delta(&old, &new).expect("a delta");
        assert_eq!((d.head.len(), d.drop, d.keep, d.tail.len()), (0, 3, 57, 3));
        assert_eq!(d.apply(&old), new);
        // Nothing in common: no delta.
        assert_eq!(list_delta(&list(0..3), &list(5..8)), None);
        // An item changed in one field is patched, not rewritten.
        let old = json!({"arn": "a", "events": list(0..100), "running": 1});
        let events = [list(100..101), list(0..99)].concat();
        let new = json!({"arn": "a", "events": events, "running": 2});
        let mut shapes = Vec::new();
        let before = Kept::new(&mut shapes, "a".into(), hash::value128(&old), &old);
        let after = Kept::new(&mut shapes, "a".into(), hash::value128(&new), &new);
        let p = patch_of("a", &before, &after, &new).expect("a patch");
        assert_eq!(p.set.get("running"), Some(&json!(2)));
        assert_eq!(p.list["events"].head, [json!(100)]);
    }

    /// Handing the writer only the items that changed (and where the
    /// others were) records what handing it every item records: items
    /// unchanged, changed in a field, added, removed and moved; a window
    /// of metric points that moved on.
    #[test]
    fn a_load_handed_over_by_its_changes_is_recorded_as_a_whole_one() {
        let series = |id: &str, from: i64, n: i64| crate::domain::MetricSeries {
            id: id.into(),
            label: id.into(),
            unit: None,
            points: (from..from + n).map(|m| (t(m), m as f64)).collect(),
        };
        let metrics = |series: Vec<crate::domain::MetricSeries>| {
            Data::Metrics(crate::metrics::MetricsData {
                range: crate::metrics::MetricRange::Hour,
                start: t(0),
                end: t(60),
                queries: Vec::new(),
                series,
            })
        };
        let clusters = |names: &[&str]| Data::Clusters(names.iter().map(|n| (*n).into()).collect());
        let loads = [
            (Resource::Clusters, clusters(&["a", "b", "c"])),
            (Resource::Clusters, clusters(&["a", "b", "c"])),
            (Resource::Clusters, clusters(&["c", "a", "d"])),
            (Resource::Clusters, clusters(&["d", "c"])),
            (
                Resource::Metrics,
                metrics(vec![series("x", 0, 60), series("y", 0, 60)]),
            ),
            (
                Resource::Metrics,
                metrics(vec![series("x", 1, 60), series("y", 0, 60)]),
            ),
            (
                Resource::Metrics,
                metrics(vec![series("y", 0, 60), series("x", 1, 60)]),
            ),
            (
                Resource::Metrics,
                metrics(vec![series("x", 3, 58), series("z", 0, 2)]),
            ),
        ];
        let header = Header {
            format: FORMAT,
            honban: "test".into(),
            session: "handed".into(),
            started: t(0),
            envs: Vec::new(),
            logs: "counts".into(),
        };
        let (by_changes, whole) = (
            tempfile::tempdir().expect("temp dir"),
            tempfile::tempdir().expect("temp dir"),
        );
        let a = Recorder::start(by_changes.path(), &header, u64::MAX).expect("recorder");
        let b = Recorder::start(whole.path(), &header, u64::MAX).expect("recorder");
        for (i, (resource, data)) in loads.iter().enumerate() {
            let result = Ok(data.clone());
            a.data(Capture(Captured::Load {
                t: t(i64::try_from(i).expect("small")),
                env: "production".into(),
                resource: *resource,
                result: &result,
            }));
            b.send(Msg::Load {
                t: t(i64::try_from(i).expect("small")),
                env: "production".into(),
                resource: *resource,
                result,
                same: Vec::new(),
            });
        }
        assert!(a.sync(std::time::Duration::from_secs(10)));
        assert!(b.sync(std::time::Duration::from_secs(10)));
        let a = std::fs::read_to_string(a.path()).expect("read");
        let b = std::fs::read_to_string(b.path()).expect("read");
        assert_eq!(a.lines().count(), 1 + loads.len());
        assert_eq!(a, b);
        // The second load of each kind found nothing changed.
        assert!(a.lines().nth(2).is_some_and(|l| !l.contains("\"set\"")));
    }

    /// A load in full written from its data is the line written from its
    /// items' text (with items, and with none).
    #[test]
    fn a_load_in_full_is_written_as_its_items_text_would_be() {
        let series = crate::domain::MetricSeries {
            id: "x".into(),
            label: "x \"quoted\"".into(),
            unit: Some("Percent".into()),
            points: vec![(t(0), 1.5), (t(1), -0.0)],
        };
        for data in [
            Data::Metrics(crate::metrics::MetricsData {
                range: crate::metrics::MetricRange::Hour,
                start: t(0),
                end: t(60),
                queries: Vec::new(),
                series: vec![series],
            }),
            Data::Clusters(vec!["a".into(), "b".into()]),
            Data::Clusters(Vec::new()),
        ] {
            let mut load = Load {
                t: t(0),
                env: "production".into(),
                kind: "metrics".into(),
                full: true,
                ..Load::default()
            };
            let (items, rest) = split(&data).expect("split");
            let set = Written::default()
                .diff(&[], items, rest, &mut load, true)
                .expect("diff");
            let (mut text, mut full) = (Vec::new(), Vec::new());
            write_load(&mut text, &load, &set).expect("json");
            write_full(&mut full, &load, &data).expect("json");
            assert_eq!(String::from_utf8(full), String::from_utf8(text));
        }
    }

    #[test]
    fn past_its_cap_a_recording_keeps_its_timeline_not_its_data() {
        let dir = tempfile::tempdir().expect("temp dir");
        let header = Header {
            format: FORMAT,
            honban: "test".into(),
            session: "capped".into(),
            started: t(0),
            envs: Vec::new(),
            logs: "counts".into(),
        };
        let rec = Recorder::start(dir.path(), &header, 2_000).expect("recorder");
        for i in 0..20 {
            let clusters: Vec<String> = (0..10).map(|c| format!("cluster-{i}-{c}")).collect();
            rec.send(Msg::Load {
                t: t(i),
                env: "production".into(),
                resource: Resource::Clusters,
                result: Ok(Data::Clusters(clusters)),
                same: Vec::new(),
            });
        }
        rec.record(vec![event(30, "note", "still recorded", None)]);
        assert!(rec.sync(std::time::Duration::from_secs(10)));
        let text = std::fs::read_to_string(rec.path()).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        let capped = lines
            .iter()
            .position(|l| l.starts_with("{\"rec\":\"capped\""))
            .expect("a capped line");
        assert!(
            lines[capped + 1..]
                .iter()
                .all(|l| !l.contains("\"rec\":\"load\""))
        );
        assert!(lines.last().is_some_and(|l| l.contains("still recorded")));
        let before: usize = lines[..capped].iter().map(|l| l.len() + 1).sum();
        assert!(before <= 2_000, "{before} bytes before the cap");
    }

    #[test]
    fn prune_removes_the_old_then_the_oldest_until_the_rest_fits() {
        let dir = tempfile::tempdir().expect("temp dir");
        let now = std::time::SystemTime::now();
        let day = std::time::Duration::from_hours(24);
        // (name, age in days, size)
        for (name, age, size) in [("a", 40, 100), ("b", 3, 400), ("c", 2, 400), ("d", 1, 400)] {
            let path = dir.path().join(format!("{name}.jsonl"));
            std::fs::write(&path, vec![b'x'; size]).expect("write");
            let file = std::fs::File::options()
                .write(true)
                .open(&path)
                .expect("open");
            file.set_modified(now - day * age).expect("mtime");
        }
        std::fs::write(dir.path().join("notes.txt"), "not a recording").expect("write");
        // 30 days; 1 000 bytes with room for a new one of 200: a (too old)
        // and b (the oldest left) go.
        assert_eq!(prune(dir.path(), 30, 1_000, 200), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        assert_eq!(left, ["c.jsonl", "d.jsonl", "notes.txt"]);
    }

    #[test]
    fn times_parse_in_every_form_or_say_how_to_write_them() {
        let now = t(60);
        assert_eq!(parse_time("2026-12-01T03:10:00Z", now), Ok(t(10)));
        assert_eq!(parse_time("2026-12-01 03:10", now), Ok(t(10)));
        assert_eq!(parse_time("30m", now), Ok(t(30)));
        assert_eq!(parse_time("1h", now), Ok(t(0)));
        assert!(parse_time("yesterday", now).is_err_and(|e| e.contains("90m")));
    }
}
