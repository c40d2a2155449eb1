//! sancsim: a Monte Carlo discrete-event simulator that asks whether AI chips
//! still available under export controls can train a model of a given size by
//! a given date.
//!
//! The core ([`model`], [`engine`], [`trials`], [`stats`]) knows nothing of
//! files or terminals; [`scenario`] reads TOML, [`export`] turns results into
//! bytes and [`output`] writes them.
#![warn(missing_docs)]

pub mod analysis;
pub mod app;
pub mod bench;
pub mod binomial;
pub mod charts;
pub mod check;
pub mod cli;
pub mod control;
pub mod copula;
pub mod dist;
pub mod engine;
pub mod error;
pub mod evidence;
pub mod explain;
pub mod export;
pub mod init;
pub mod model;
pub mod output;
pub mod overrides;
pub mod partial;
pub mod quarter;
pub mod report;
pub mod results;
pub mod rng;
pub mod runner;
pub mod samples;
pub mod scenario;
pub mod schema;
pub mod show;
pub mod special;
pub mod stats;
pub mod trials;
