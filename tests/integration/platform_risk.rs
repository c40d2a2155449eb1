//! Platform risk (docs/MODEL.md section 5, `RunRestart`): a run that uses
//! chips of a type with `run_failure_probability` may fail at its start,
//! lose `run_failure_lost_quarters` and restart from 0 as a full run.
//! Expected numbers are worked out by hand.

use crate::common::{assert_refused, read_summary, run_in, text, write};

/// 100 chips of 1e14 FLOP/s in training from the start at MFU 1: the run
/// computes 1e16 FLOP/s. Runs last 2 quarters; 8 quarters from 2024Q1,
/// S(8) = 731 days = 63,158,400 s; seconds(1 quarter) = 7,889,400.
const BASE: &str = r#"
[scenario]
name = "platform"
start = "2024Q1"
horizon_quarters = 8
trials = 20
seed = 3

[chips.new]
peak_flops = 1e14
RISK

[fleet.new]
training = 100

[training]
mfu = 1
max_run_quarters = 2

[milestones.m]
target_flop = 1e30
deadline = "2025Q4"
"#;

/// The runs' domestic FLOP P50, in order, and the share of trials with a failure.
fn runs(risk: &str) -> (Vec<f64>, Option<f64>) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "s.toml", &BASE.replace("RISK", risk));
    let o = run_in(dir.path(), &["run", file.to_str().unwrap(), "--out", "out", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let s = read_summary(&dir.path().join("out"));
    let runs = s.training_runs.unwrap().iter().map(|r| r.domestic_flop_p50).collect();
    (runs, s.run_failure_share)
}

#[track_caller]
fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} against {want:?}");
    for (g, w) in got.iter().zip(want) {
        // Histogram buckets and 3 significant digits: within 0.2%.
        assert!((g / w - 1.0).abs() < 2e-3, "{got:?} against {want:?}");
    }
}

#[test]
fn a_run_that_always_fails_loses_its_time_and_restarts_as_a_full_run() {
    // Without risk: runs of 2 quarters = 15,778,800 s, 1.57788e23 FLOP
    // each; run 5 starts at 63,115,200 and has 43,200 s to the horizon.
    let (plain, share) = runs("");
    assert_close(&plain, &[1.57788e23, 1.57788e23, 1.57788e23, 1.57788e23, 4.32e20]);
    assert_eq!(share, None);
    // Always failing, losing 1 quarter: run 1 restarts at 7,889,400 and
    // ends at 23,668,200; run 2 restarts at 31,557,600 and ends at
    // 47,336,400; run 3 restarts at 55,225,800 and is still going at
    // 63,158,400 with 7,932,600 s: 7.9326e22.
    let (risky, share) = runs("run_failure_probability = 1\nrun_failure_lost_quarters = 1");
    assert_close(&risky, &[1.57788e23, 1.57788e23, 7.9326e22]);
    assert_eq!(share, Some(1.0));
    // Losing 3 quarters: the restart would come after the run's end, so
    // nothing happens (and no run counts as failed).
    let (late, share) = runs("run_failure_probability = 1\nrun_failure_lost_quarters = 3");
    assert_close(&late, &plain);
    assert_eq!(share, Some(0.0));
}

#[test]
fn platform_risk_needs_bounded_runs_and_its_lost_time_needs_a_probability() {
    let no_runs = BASE
        .replace("RISK", "run_failure_probability = 0.2")
        .replace("max_run_quarters = 2\n", "");
    assert_refused(&no_runs, "chips.new.run_failure_probability", "max_run_quarters");
    let lost_alone = BASE.replace("RISK", "run_failure_lost_quarters = 2");
    assert_refused(
        &lost_alone,
        "chips.new.run_failure_lost_quarters",
        "run_failure_probability",
    );
}
