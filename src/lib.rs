//! honban (本番): a terminal console for running a production AWS environment.
//!
//! See `ARCHITECTURE.md` for the module map.

pub mod action;
pub mod activity;
pub mod alerts;
pub mod app;
pub mod audit;
pub mod backend;
pub mod cli;
pub mod clipboard;
pub mod clock;
pub mod config;
pub mod domain;
// --- drills
pub mod drill;
pub mod effect;
pub mod exec;
pub mod health;
pub mod images;
pub mod kind;
pub mod logging;
pub mod metrics;
// --- logs
pub mod logs;
pub mod ops;
pub mod panel;
pub mod paths;
pub mod probe;
pub mod prompt;
pub mod reconcile;
pub mod recorded;
pub mod recording;
pub mod request;
// --- replay
pub mod replay;
pub mod runner;
pub mod setup;
pub mod sort;
pub mod state;
pub mod status;
pub mod supervise;
pub mod timeline;
pub mod trail;
pub mod ui;
pub mod update;
pub mod watch;
