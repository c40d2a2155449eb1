//! Integration tests: the built `sancsim` binary on real files in temporary
//! folders. One module per topic.

mod common;
mod determinism;
mod engine_rules;
mod scenario_errors;
mod shipped_scenarios;
