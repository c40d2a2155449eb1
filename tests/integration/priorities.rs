//! Domestic and foreign chips do not crowd each other out (docs/MODEL.md
//! section 5, `QuarterStart` step 2): chip types' `training_priority` and
//! `inference_priority`, the recall of lower-priority chips from the
//! cluster to serve inference, and making room for higher-priority chips.
//! Every expected number is worked out by hand from fixed scenarios.

use crate::common::{assert_refused, quarter_p50, repo, run_in, run_quarters, text};

/// quarters.csv of `scenario` run with `extra`.
fn quarters(scenario: &str, extra: &[&str]) -> String {
    run_quarters(scenario, extra).1
}

/// The value of `metric` in `quarter` (every number here is fixed).
fn value(quarters: &str, quarter: &str, metric: &str) -> u64 {
    quarter_p50(quarters, quarter, metric) as u64
}

/// A domestic chip `d` and a foreign chip `f` of equal speed, both allowed
/// in training. 1,000 `f` arrive in 2024Q1 (allocated at 2024Q2's start),
/// 600 `d` in 2024Q2 (allocated at 2024Q3's start); all new chips go to
/// training (`fixed_share` 1.0); the cluster holds at most 1,000.
const CROWDING: &str = r#"
[scenario]
name = "crowding"
start = "2024Q1"
horizon_quarters = 4
trials = 5

[chips.f]
peak_flops = 1e14
domestic = false
PRIORITY_F

[chips.d]
peak_flops = 1e14

[supply.f_line]
chip = "f"
orders = [{ quarter = "2024Q1", chips = 1000 }]

[supply.d_line]
chip = "d"
orders = [{ quarter = "2024Q2", chips = 600 }]

[allocation]
policy = "fixed_share"
training_share = 1.0

[training]
mfu = 0.5
max_cluster_chips = 1000
allow_foreign_chips = true

[milestones.m]
target_flop = 1e30
deadline = "2024Q4"
"#;

#[test]
fn domestic_chips_take_cluster_places_from_foreign_ones() {
    let q = quarters(&CROWDING.replace("PRIORITY_F", ""), &[]);
    // 2024Q2: the foreign chips fill the empty cluster.
    assert_eq!(value(&q, "2024Q2", "training_chips[f]"), 1000);
    assert_eq!(value(&q, "2024Q2", "inference_chips[f]"), 0);
    // 2024Q3: 600 domestic chips join (their room counts domestic chips
    // only: 1,000); 600 foreign chips move from training to inference.
    assert_eq!(value(&q, "2024Q3", "training_chips[d]"), 600);
    assert_eq!(value(&q, "2024Q3", "training_chips[f]"), 400);
    assert_eq!(value(&q, "2024Q3", "inference_chips[f]"), 600);
    assert_eq!(value(&q, "2024Q3", "training_chips"), 1000);
}

#[test]
fn equal_training_priorities_share_the_cluster_first_come_first_served() {
    // Written equal, the foreign chips keep the places they took first and
    // the domestic chips find no room (the rule before priorities existed).
    let q = quarters(&CROWDING.replace("PRIORITY_F", "training_priority = 1"), &[]);
    assert_eq!(value(&q, "2024Q3", "training_chips[f]"), 1000);
    assert_eq!(value(&q, "2024Q3", "training_chips[d]"), 0);
    assert_eq!(value(&q, "2024Q3", "inference_chips[d]"), 600);
}

/// 1,000 foreign chips start in training; inference demand, counted in `d`
/// chips of the same speed, is 100 in 2024Q1 and doubles every quarter; 500
/// domestic chips arrive in 2024Q1 and are allocated at 2024Q2's start.
const RECALL: &str = r#"
[scenario]
name = "recall"
start = "2024Q1"
horizon_quarters = 5
trials = 5

[chips.d]
peak_flops = 1e14
PRIORITY_D

[chips.f]
peak_flops = 1e14
domestic = false

[supply.d_line]
chip = "d"
orders = [{ quarter = "2024Q1", chips = 500 }]

[fleet.f]
training = 1000

[inference]
unit_chip = "d"
initial_demand_chips = 100
growth_per_quarter = 1.0

[allocation]
policy = "inference_first"

[training]
mfu = 0.5
allow_foreign_chips = true

[milestones.m]
target_flop = 1e30
deadline = "2025Q1"
"#;

#[test]
fn foreign_chips_leave_the_cluster_to_serve_inference_before_domestic_ones_do() {
    let q = quarters(&RECALL.replace("PRIORITY_D", ""), &[]);
    // Demand 100, 200, 400, 800, 1600 chips: served by foreign chips recalled
    // from training, all 1,000 of them by 2025Q1.
    for (quarter, served) in [
        ("2024Q1", 100),
        ("2024Q2", 200),
        ("2024Q3", 400),
        ("2024Q4", 800),
        ("2025Q1", 1000),
    ] {
        assert_eq!(value(&q, quarter, "inference_chips[f]"), served, "{quarter}");
        assert_eq!(value(&q, quarter, "training_chips[f]"), 1000 - served, "{quarter}");
    }
    // The domestic chips all train: no domestic chip serves inference while
    // a foreign one is in the cluster ...
    for quarter in ["2024Q2", "2024Q3", "2024Q4"] {
        assert_eq!(value(&q, quarter, "training_chips[d]"), 500, "{quarter}");
        assert_eq!(value(&q, quarter, "inference_chips[d]"), 0, "{quarter}");
    }
    // ... and installed domestic chips are never moved to inference: in
    // 2025Q1 demand (1,600) exceeds the 1,000 foreign chips, and is left short.
    assert_eq!(value(&q, "2025Q1", "training_chips[d]"), 500);
    assert_eq!(value(&q, "2025Q1", "inference_shortfall_chips"), 600);
}

#[test]
fn without_a_priority_between_them_nothing_is_recalled() {
    // The domestic chip type written at priority 2, like the foreign one:
    // no recall; the 500 domestic chips serve 2024Q2's unmet 200 first.
    let q = quarters(&RECALL.replace("PRIORITY_D", "training_priority = 2"), &[]);
    assert_eq!(value(&q, "2024Q2", "training_chips[f]"), 1000);
    assert_eq!(value(&q, "2024Q2", "inference_chips[d]"), 200);
    assert_eq!(value(&q, "2024Q2", "training_chips[d]"), 300);
}

/// 500 `d` and 500 foreign `f` (not allowed in training) arrive in 2024Q1;
/// inference demand is 100 chips.
const SERVING: &str = r#"
[scenario]
name = "serving"
start = "2024Q1"
horizon_quarters = 3
trials = 5

[chips.d]
peak_flops = 1e14
PRIORITY_D

[chips.f]
peak_flops = 1e14
domestic = false
PRIORITY_F

[supply.d_line]
chip = "d"
orders = [{ quarter = "2024Q1", chips = 500 }]

[supply.f_line]
chip = "f"
orders = [{ quarter = "2024Q1", chips = 500 }]

[inference]
unit_chip = "d"
initial_demand_chips = 100

[training]
mfu = 0.5

[milestones.m]
target_flop = 1e30
deadline = "2024Q3"
"#;

#[test]
fn foreign_chips_serve_inference_first_unless_the_scenario_says_otherwise() {
    // Default: the foreign chips (inference priority 1) are placed first; all
    // go to inference (they may not train), so every domestic chip trains.
    let q = quarters(&SERVING.replace("PRIORITY_D", "").replace("PRIORITY_F", ""), &[]);
    assert_eq!(value(&q, "2024Q2", "training_chips[d]"), 500);
    assert_eq!(value(&q, "2024Q2", "inference_chips[f]"), 500);
    // Domestic chips written to serve first: they cover the 100 chips of
    // demand before the foreign chips are placed.
    let q = quarters(
        &SERVING
            .replace("PRIORITY_D", "inference_priority = 1")
            .replace("PRIORITY_F", "inference_priority = 2"),
        &[],
    );
    assert_eq!(value(&q, "2024Q2", "inference_chips[d]"), 100);
    assert_eq!(value(&q, "2024Q2", "training_chips[d]"), 400);
}

#[test]
fn allowing_foreign_chips_never_lowers_a_trials_domestic_compute() {
    // scenarios/foreign_mix.toml: H20s (no failure rate) and 910Bs. With
    // the priorities, the 910Bs' places in inference and in the cluster do
    // not depend on whether H20s may train, trial by trial on common random
    // numbers (the 910Bs' failure draws see the same counts); letting H20s
    // train can only start the run earlier. So each trial's domestic
    // compute at the horizon is at least what it is without foreign chips
    // (to 1e-9, for sums taken in a different order of events). Before the
    // priorities, H20s filled the cluster and P(domestic GPT-4 class) fell
    // from 0.33 to 0.06 when foreign chips were allowed.
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/foreign_mix.toml");
    let scenario = scenario.to_str().unwrap();
    let mut rows = Vec::new();
    for allow in ["false", "true"] {
        let out = format!("out_{allow}");
        let set = format!("training.allow_foreign_chips={allow}");
        let o = run_in(
            dir.path(),
            &[
                "run",
                scenario,
                "--out",
                &out,
                "--quiet",
                "--trials",
                "400",
                "--samples",
                "400",
                "--set",
                &set,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let csv = std::fs::read_to_string(dir.path().join(&out).join("samples.csv")).unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = header
            .iter()
            .position(|h| *h == "training_flop_domestic_at_horizon")
            .unwrap();
        let values: Vec<f64> = lines.map(|l| l.split(',').nth(col).unwrap().parse().unwrap()).collect();
        rows.push(values);
    }
    assert_eq!(rows[0].len(), 400);
    let mut more = 0;
    for (t, (without, with)) in rows[0].iter().zip(&rows[1]).enumerate() {
        assert!(
            *with >= without * (1.0 - 1e-9),
            "trial {t}: domestic compute {with:e} with foreign chips allowed < {without:e} without"
        );
        more += usize::from(*with > without * (1.0 + 1e-9));
    }
    // The comparison is not vacuous: some trials start earlier with H20s.
    assert!(rows[0].iter().filter(|&&v| v > 0.0).count() > 50);
    assert!(more > 0, "no trial gained domestic compute from an earlier start");
}

#[test]
fn invalid_priorities_are_refused_with_file_line_and_key() {
    for (key, value, words) in [
        (
            "training_priority",
            "0",
            "must be a whole number from 1 (first) to 100, got 0",
        ),
        ("training_priority", "101", "got 101"),
        ("inference_priority", "0", "got 0"),
        ("inference_priority", "-1", ""),
        ("inference_priority", "1.5", ""),
        ("training_priority", "\"high\"", ""),
    ] {
        let scenario = CROWDING.replace("PRIORITY_F", &format!("{key} = {value}"));
        let line = scenario.lines().position(|l| l.starts_with(key)).unwrap() + 1;
        let found = assert_refused(&scenario, &format!("chips.f.{key}"), words);
        assert!(found.contains(&format!("s.toml:{line}:")), "{key} = {value}: {found}");
    }
}
