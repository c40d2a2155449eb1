//! A run's maximum size that changes over time (`max_cluster_chips_from`:
//! supernode and SuperPoD limits) and MFU that falls with the run's size
//! (`mfu_size_exponent`, `mfu_reference_chips`), docs/MODEL.md section 5.
//! Expected numbers are worked out by hand.

use crate::common::{assert_refused, quarter_p50, run_in, run_quarters, text, write};

const SECONDS_PER_DAY: f64 = 86_400.0;

/// 1,000 chips of 1e14 FLOP/s ordered each quarter, each allocated at the
/// next quarter's start, all to training at MFU 0.5; the run may span 1,000
/// chips, then `STEPS`.
const SCENARIO: &str = r#"
[scenario]
name = "growth"
start = "2024Q1"
horizon_quarters = 5
trials = 5

[chips.a]
peak_flops = 1e14

[supply.line]
chip = "a"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]

[allocation]
policy = "fixed_share"
training_share = 1.0

[training]
mfu = 0.5
max_cluster_chips = 1000
STEPS

[milestones.m]
target_flop = 1e30
deadline = "2025Q1"
"#;

fn quarters(steps: &str) -> String {
    run_quarters(&SCENARIO.replace("STEPS", steps), &[]).1
}

fn value(quarters: &str, quarter: &str, metric: &str) -> f64 {
    quarter_p50(quarters, quarter, metric)
}

const QUARTERS: [&str; 5] = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"];
const DAYS: [f64; 5] = [91.0, 91.0, 92.0, 92.0, 90.0];

/// Checks training_flop_cumulative against `used[q] × 5e13 × s(q) × days`.
fn check_flop(q: &str, used: [f64; 5], size: impl Fn(f64) -> f64) {
    let mut flop = 0.0;
    for (i, quarter) in QUARTERS.iter().enumerate() {
        flop += used[i] * 5e13 * size(used[i]) * DAYS[i] * SECONDS_PER_DAY;
        let got = value(q, quarter, "training_flop_cumulative");
        // quarters.csv keeps 3 significant digits.
        assert!((got - flop).abs() <= 5e-3 * flop, "{quarter}: {got:e} vs {flop:e}");
    }
}

#[test]
fn the_cluster_limit_follows_its_steps() {
    let q = quarters(
        "max_cluster_chips_from = [{ quarter = \"2024Q3\", chips = 2500 }, { quarter = \"2025Q1\", chips = 500 }]",
    );
    // 2024Q2: 1,000 chips (limit 1,000). 2024Q3: limit 2,500, 2,000
    // delivered, all train. 2024Q4: 3,000 delivered, 2,500 train, 500 to
    // inference. 2025Q1: the limit falls to 500: the 2,500 stay in
    // training, 500 of them used, and the new 1,000 go to inference.
    let training: Vec<f64> = QUARTERS.iter().map(|x| value(&q, x, "training_chips")).collect();
    assert_eq!(training, [0.0, 1000.0, 2000.0, 2500.0, 2500.0]);
    assert_eq!(value(&q, "2024Q4", "inference_chips"), 500.0);
    assert_eq!(value(&q, "2025Q1", "inference_chips"), 1500.0);
    check_flop(&q, [0.0, 1000.0, 2000.0, 2500.0, 500.0], |_| 1.0);
    // Without the steps the limit stays 1,000.
    let q = quarters("");
    check_flop(&q, [0.0, 1000.0, 1000.0, 1000.0, 1000.0], |_| 1.0);
}

#[test]
fn mfu_falls_with_the_runs_size_above_the_reference() {
    let q = quarters(
        "max_cluster_chips_from = [{ quarter = \"2024Q3\", chips = 2500 }]\nmfu_size_exponent = 0.5\nmfu_reference_chips = 1000",
    );
    // 1,000 chips: at the reference, MFU 0.5; 2,000: MFU 0.5 × 2^-0.5;
    // 2,500 (and 4,000 delivered, 2,500 used): 0.5 × 2.5^-0.5.
    check_flop(&q, [0.0, 1000.0, 2000.0, 2500.0, 2500.0], |n| {
        if n > 1000.0 { (n / 1000.0_f64).powf(-0.5) } else { 1.0 }
    });
}

#[test]
fn invalid_cluster_steps_and_size_scaling_are_refused_with_file_line_and_key() {
    for (steps, key, words) in [
        (
            "min_cluster_chips = 100\nmax_cluster_chips_from = [{ quarter = \"2024Q3\", chips = 50 }]",
            "training.max_cluster_chips_from[0].chips",
            "at least min_cluster_chips (100), got 50",
        ),
        (
            "max_cluster_chips_from = [{ quarter = \"2024Q4\", chips = 50 }, { quarter = \"2024Q3\", chips = 60 }]",
            "training.max_cluster_chips_from[1].quarter",
            "increasing order",
        ),
        (
            "max_cluster_chips_from = [{ quarter = \"2024Q1\", chips = 50 }]",
            "training.max_cluster_chips_from[0].quarter",
            "write the size from the start as max_cluster_chips",
        ),
        (
            "max_cluster_chips_from = [{ quarter = \"2024Q3\", chips = -5 }]",
            "training.max_cluster_chips_from[0].chips",
            "",
        ),
        (
            "mfu_size_exponent = 0.1",
            "training.mfu_size_exponent",
            "needs mfu_reference_chips",
        ),
        (
            "mfu_reference_chips = 8192",
            "training.mfu_reference_chips",
            "goes with mfu_size_exponent",
        ),
        (
            "mfu_size_exponent = 1.5\nmfu_reference_chips = 8192",
            "training.mfu_size_exponent",
            "got 1.5",
        ),
        (
            "mfu_size_exponent = { p5 = 0.1, p95 = 0.2 }\nmfu_reference_chips = 8192",
            "training.mfu_size_exponent",
            "fixed",
        ),
    ] {
        assert_refused(&SCENARIO.replace("STEPS", steps), key, words);
    }
}

#[test]
fn the_reports_say_that_the_full_cluster_grows() {
    let dir = tempfile::tempdir().unwrap();
    let steps = "max_cluster_chips_from = [{ quarter = \"2024Q3\", chips = 2500 }]";
    write(dir.path(), "s.toml", &SCENARIO.replace("STEPS", steps));
    let o = run_in(dir.path(), &["run", "s.toml", "--out", "out", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(
        md.contains("a full cluster (1,000 chips at first, then as max_cluster_chips_from says)"),
        "{md}"
    );
    assert!(md.contains("its size is the limit in force in each quarter"), "{md}");
    // Without the steps, neither.
    write(dir.path(), "t.toml", &SCENARIO.replace("STEPS", ""));
    let o = run_in(dir.path(), &["run", "t.toml", "--out", "plain", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let md = std::fs::read_to_string(dir.path().join("plain/report.md")).unwrap();
    assert!(md.contains("a full cluster of 1,000 chips"), "{md}");
    assert!(!md.contains("limit in force"), "{md}");
}

#[test]
fn show_and_optimize_say_what_they_do_with_the_steps() {
    let dir = tempfile::tempdir().unwrap();
    let steps = "max_cluster_chips_from = [{ quarter = \"2024Q3\", chips = 2500 }]\nmfu_size_exponent = 0.5\n\
                 mfu_reference_chips = 500";
    write(dir.path(), "s.toml", &SCENARIO.replace("STEPS", steps));
    let o = run_in(dir.path(), &["show", "s.toml"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // 1,000 chips against the reference 500: MFU x 2^-0.5 = 0.7071; the
    // cluster's FLOP per quarter is 1000 x 1e14 x 0.5 x 0.7071 x 91.3125 days.
    assert!(
        out.contains("(MFU x 0.7071 at 1000 chips, for mfu_size_exponent)"),
        "{out}"
    );
    assert!(out.contains("2500 chips from 2024Q3"), "{out}");
    assert!(out.contains("2.789e23"), "{out}");
    let o = run_in(
        dir.path(),
        &["optimize", "s.toml", "--objective", "m", "--out", "opt", "--quiet"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("the scenario's 1 training.max_cluster_chips_from step is not applied"),
        "{err}"
    );
}
