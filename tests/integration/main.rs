//! Integration tests: the built `sancsim` binary on real files in temporary
//! folders. One module per topic.

mod authoring;
mod batch;
mod calibration;
mod ci_use;
mod cluster;
mod cluster_growth;
mod common;
mod compare;
mod design;
mod determinism;
mod engine_rules;
mod evidence;
mod explain;
mod gates;
mod interrupts;
mod optimize;
mod outputs;
mod overrides;
mod platform_risk;
mod precision;
mod priorities;
mod report_browser;
mod report_contents;
mod runs;
mod scale;
mod scenario_errors;
mod schema;
mod sensitivity;
mod shipped_scenarios;
mod suppliers;
mod sweep;
mod tokens;
