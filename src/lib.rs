//! honban (本番): a terminal console for running a production AWS environment.
//!
//! See `ARCHITECTURE.md` for the module map.

pub mod backend;
pub mod config;
pub mod domain;
pub mod action;
pub mod app;
pub mod cli;
pub mod effect;
pub mod logging;
pub mod paths;
pub mod runner;
pub mod setup;
pub mod state;
pub mod ui;
pub mod update;
