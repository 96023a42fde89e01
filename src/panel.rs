//! A panel: one kind of data with its load state and age, and the
//! bookkeeping of the requests that load it.

use chrono::TimeDelta;

use crate::backend::BackendError;
use crate::domain::{Failure, Timestamp};
use crate::request::{Ask, Request};

/// How far a panel's data has got.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    /// Never requested.
    Idle,
    /// A request is in flight (the data, if any, is from an earlier one).
    Loading,
    /// The last request succeeded.
    Loaded,
    /// The last request failed; the data, if any, is stale.
    Failed(BackendError),
}

/// One panel of data with its load state and age, and the bookkeeping of
/// the requests that load it ([`Request`]: generation, in flight, backoff;
/// its fields read as the panel's own through `Deref`).
#[derive(Debug, Clone, PartialEq)]
pub struct Panel<T> {
    pub data: Option<T>,
    pub load: LoadState,
    pub request: Request,
    /// When the data on screen was fetched.
    pub loaded_at: Option<Timestamp>,
    /// When the last failure happened.
    pub failed_at: Option<Timestamp>,
    /// Resources a describe call could not return.
    pub failures: Vec<Failure>,
}

impl<T> Default for Panel<T> {
    fn default() -> Self {
        Self {
            data: None,
            load: LoadState::Idle,
            request: Request::default(),
            loaded_at: None,
            failed_at: None,
            failures: Vec::new(),
        }
    }
}

impl<T> std::ops::Deref for Panel<T> {
    type Target = Request;
    fn deref(&self) -> &Request {
        &self.request
    }
}

impl<T> std::ops::DerefMut for Panel<T> {
    fn deref_mut(&mut self) -> &mut Request {
        &mut self.request
    }
}

impl<T> Panel<T> {
    /// Starts a request if `ask` may ([`Request::try_begin`]): its
    /// generation, the panel marked loading.
    pub fn try_begin(&mut self, now: Timestamp, ask: Ask) -> Option<u64> {
        let generation = self.request.try_begin(now, ask)?;
        if !matches!(self.load, LoadState::Failed(_)) {
            self.load = LoadState::Loading;
        }
        Some(generation)
    }

    /// Applies the answer of `generation` received at `at`, unless it is
    /// stale (then `false`, nothing changed). A failure keeps the old data,
    /// marked stale, and backs the pollers off.
    pub fn apply(
        &mut self,
        generation: u64,
        at: Timestamp,
        result: Result<(T, Vec<Failure>), BackendError>,
    ) -> bool {
        if !self.request.accept(generation) {
            return false;
        }
        match result {
            Ok((data, failures)) => {
                self.data = Some(data);
                self.failures = failures;
                self.loaded_at = Some(at);
                self.load = LoadState::Loaded;
                self.request.succeeded();
            }
            Err(err) => {
                self.failed_at = Some(at);
                self.load = LoadState::Failed(err);
                self.request.failed(at);
            }
        }
        true
    }

    /// Its bookkeeping, independent of its data type.
    pub fn meta(&self) -> PanelMeta<'_> {
        PanelMeta {
            load: &self.load,
            in_flight: self.request.in_flight,
            has_data: self.data.is_some(),
            loaded_at: self.loaded_at,
            failures: &self.failures,
        }
    }

    /// Whether the data shown failed to refresh.
    pub fn is_stale(&self) -> bool {
        matches!(self.load, LoadState::Failed(_)) && self.data.is_some()
    }

    pub fn error(&self) -> Option<&BackendError> {
        match &self.load {
            LoadState::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// Age of the data on screen.
    pub fn age(&self, now: Timestamp) -> Option<TimeDelta> {
        self.loaded_at.map(|t| (now - t).max(TimeDelta::zero()))
    }
}

/// Bookkeeping of a panel, independent of its data type.
#[derive(Debug, Clone, Copy)]
pub struct PanelMeta<'a> {
    pub load: &'a LoadState,
    pub in_flight: bool,
    pub has_data: bool,
    pub loaded_at: Option<Timestamp>,
    pub failures: &'a [Failure],
}

impl PanelMeta<'_> {
    pub fn is_stale(&self) -> bool {
        matches!(self.load, LoadState::Failed(_)) && self.has_data
    }
}
