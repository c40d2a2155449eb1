//! The simulation's rules, checked against numbers worked out by hand or in
//! closed form (docs/MODEL.md states each rule these tests rely on).

use sancsim::results::Summary;

use crate::common::{run_in, text, write};

/// Runs `scenario` and returns its summary and quarters.csv.
fn run(scenario: &str, extra: &[&str]) -> (Summary, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", scenario);
    let mut args = vec!["run", "s.toml", "--out", "out", "--quiet"];
    args.extend_from_slice(extra);
    let o = run_in(dir.path(), &args);
    assert!(o.status.success(), "{}", text(&o));
    let quarters = std::fs::read_to_string(dir.path().join("out/quarters.csv")).unwrap();
    (crate::common::read_summary(&dir.path().join("out")), quarters)
}

/// The p50 of `metric` in `quarter` from quarters.csv.
fn median(quarters: &str, quarter: &str, metric: &str) -> f64 {
    let line = quarters
        .lines()
        .find(|l| l.starts_with(&format!("{quarter},{metric},")))
        .unwrap_or_else(|| panic!("no row {quarter},{metric}"));
    line.split(',').nth(4).unwrap().parse().unwrap()
}

const SECONDS_PER_DAY: f64 = 86_400.0;

/// Everything fixed: 1,000 chips of 1e14 FLOP/s ordered each quarter of
/// 2024, filled in full, arriving at once and allocated at the next quarter
/// start, all to training at MFU 0.5 × goodput 0.8.
const ALL_FIXED: &str = r#"
[scenario]
name = "all fixed"
start = "2024Q1"
horizon_quarters = 6
trials = 20

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
goodput = 0.8
max_cluster_chips = 2500

[milestones.q3]
target_flop = 9e23
deadline = "2024Q3"

[milestones.q4]
target_flop = 1e24
deadline = "2024Q3"

[milestones.never]
target_flop = 1e30
deadline = "2025Q2"
"#;

#[test]
fn all_fixed_scenario_matches_hand_computation() {
    let (s, quarters) = run(ALL_FIXED, &[]);
    // Per chip: 1e14 × 0.5 × 0.8 = 4e13 FLOP/s.
    // 2024Q2 (91 days): 1,000 chips.
    let q2 = 1000.0 * 4e13 * 91.0 * SECONDS_PER_DAY; // 3.14496e23
    // 2024Q3 (92 days): 2,000 chips.
    let q3 = q2 + 2000.0 * 4e13 * 92.0 * SECONDS_PER_DAY; // 9.50400e23
    // 2024Q4 (92 days): 3,000 chips delivered, but the run spans at most 2,500.
    let q4 = q3 + 2500.0 * 4e13 * 92.0 * SECONDS_PER_DAY; // 1.745280e24
    // 2025Q1 (90 days): 4,000 chips, 2,500 used.
    let q5 = q4 + 2500.0 * 4e13 * 90.0 * SECONDS_PER_DAY;
    let rel = |a: f64, b: f64| ((a - b) / b).abs();
    for (q, expect) in [("2024Q2", q2), ("2024Q3", q3), ("2024Q4", q4), ("2025Q1", q5)] {
        let got = median(&quarters, q, "training_flop_cumulative");
        // Reported to 3 significant digits from a sketch accurate to 0.05%.
        assert!(rel(got, expect) < 5e-3, "{q}: {got} vs {expect}");
    }
    assert_eq!(median(&quarters, "2024Q1", "training_flop_cumulative"), 0.0);
    // The share above the run's maximum size goes to inference.
    assert_eq!(median(&quarters, "2024Q4", "training_chips"), 2500.0);
    assert_eq!(median(&quarters, "2024Q4", "inference_chips"), 500.0);
    assert_eq!(
        median(&quarters, "2024Q4", "delivered_domestic_chips_cumulative"),
        4000.0
    );

    let m = |name: &str| s.milestones.iter().find(|m| m.name == name).unwrap();
    // 9e23 is passed during 2024Q3, 1e24 during 2024Q4 (after the Q3 deadline).
    assert_eq!(m("q3").quarter_p50.as_deref(), Some("2024Q3"));
    assert_eq!(m("q3").probability, 1.0);
    assert_eq!(m("q4").quarter_p50.as_deref(), Some("2024Q4"));
    assert_eq!(m("q4").probability, 0.0);
    assert_eq!(m("never").probability, 0.0);
    assert_eq!(m("never").never_within_horizon, 1.0);
    assert_eq!(m("never").quarter_p50, None);
}

/// One order of 10 chips, each filled with probability 0.3: the milestone
/// needs at least 4 chips, so P = P(Binomial(10, 0.3) >= 4) = 0.3503892816.
#[test]
fn binomial_delivery_gives_the_closed_form_probability() {
    let chip_quarter = 1e14 * 0.5 * 91.0 * SECONDS_PER_DAY; // FLOP of one chip in 2024Q2
    let scenario = format!(
        r#"
[scenario]
name = "binomial"
start = "2024Q1"
horizon_quarters = 2
trials = 20000
seed = 11

[chips.a]
peak_flops = 1e14

[supply.line]
chip = "a"
orders = [{{ quarter = "2024Q1", chips = 10 }}]
fill_rate = 0.3

[allocation]
policy = "fixed_share"
training_share = 1.0

[training]
mfu = 0.5

[milestones.four_chips]
target_flop = {target:e}
deadline = "2024Q2"
"#,
        target = 3.5 * chip_quarter
    );
    let (s, _) = run(&scenario, &[]);
    let m = &s.milestones[0];
    let p = 0.350_389_281_6;
    // Fixed seed: deterministic. The bound (5 standard errors, 0.017) would
    // fail by chance with probability < 1e-6 for an arbitrary seed.
    let se = (p * (1.0 - p) / 20_000.0f64).sqrt();
    assert!((m.probability - p).abs() < 5.0 * se, "{} vs {p}", m.probability);
    assert!(
        m.ci95_low < p && p < m.ci95_high,
        "[{}, {}] misses {p}",
        m.ci95_low,
        m.ci95_high
    );
    assert!(m.ci95_high - m.ci95_low < 0.02);
}

/// A shock at 2024Q1 with probability 0.25 stops the only line: the
/// milestone is reached exactly when the shock does not happen.
/// A hazard shock (0.2 per quarter) stops a second line for good: all four
/// quarterly orders arrive only if it never fires, P = 0.8^4 = 0.4096.
#[test]
fn shocks_follow_their_probabilities() {
    let q2 = 1e14 * 91.0 * SECONDS_PER_DAY; // one chip, MFU 1, 2024Q2
    let scenario = format!(
        r#"
[scenario]
name = "shocks"
start = "2024Q1"
horizon_quarters = 6
trials = 20000
seed = 5

[chips.a]
peak_flops = 1e14

[chips.b]
peak_flops = 1e14

[supply.one]
chip = "a"
orders = [{{ quarter = "2024Q1", chips = 100 }}]

[supply.two]
chip = "b"
orders = [{{ from = "2024Q1", to = "2024Q4", chips = 1 }}]

[shocks.embargo]
at = "2024Q1"
probability = 0.25
effects = [{{ supply = "one", stop = true }}]

[shocks.creeping]
hazard_per_quarter = 0.2
from = "2024Q1"
until = "2024Q4"
effects = [{{ supply = "two", stop = true }}]

[allocation]
policy = "fixed_share"
training_share = 1.0

[training]
mfu = 1.0

[milestones.first_order]
target_flop = {t1:e}
deadline = "2024Q2"

[milestones.all_of_line_two]
target_flop = {t2:e}
deadline = "2025Q2"
"#,
        // Line one's 100 chips make 100·q2 in 2024Q2 alone; line two adds at most 1 chip.
        t1 = 50.0 * q2,
        // Chip-days to the horizon (2024Q2..2025Q2 = 91+92+92+90+91 days):
        // line one 100 × 456 = 45,600; line two's four chips 456 + 365 + 273
        // + 181 = 1,275, or at most 1,094 if any is missing. 46,800 needs
        // line one and every chip of line two.
        t2 = 1e14 * SECONDS_PER_DAY * 46_800.0,
    );
    let (s, _) = run(&scenario, &[]);
    let check = |name: &str, p: f64| {
        let m = s.milestones.iter().find(|m| m.name == name).unwrap();
        let se = (p * (1.0 - p) / 20_000.0f64).sqrt();
        assert!((m.probability - p).abs() < 5.0 * se, "{name}: {} vs {p}", m.probability);
    };
    check("first_order", 0.75);
    // Needs line one (0.75) and all of line two (0.8^4), independent streams.
    check("all_of_line_two", 0.75 * 0.4096);
}

/// Inference first: demand of 500 unit chips is met before training gets any.
#[test]
fn inference_first_serves_demand_before_training() {
    let scenario = r#"
[scenario]
name = "inference first"
start = "2024Q1"
horizon_quarters = 3
trials = 10

[chips.a]
peak_flops = 1e14

[supply.line]
chip = "a"
orders = [{ quarter = "2024Q1", chips = 1000 }, { quarter = "2024Q2", chips = 100 }]

[inference]
unit_chip = "a"
initial_demand_chips = 500
growth_per_quarter = 0.5

[allocation]
policy = "inference_first"

[training]
mfu = 0.4

[milestones.m]
target_flop = 1e30
deadline = "2024Q3"
"#;
    let (_, q) = run(scenario, &[]);
    assert_eq!(median(&q, "2024Q1", "inference_shortfall_chips"), 500.0);
    // 2024Q2: demand 750; 1,000 new chips: 750 to inference, 250 to training.
    assert_eq!(median(&q, "2024Q2", "inference_chips"), 750.0);
    assert_eq!(median(&q, "2024Q2", "training_chips"), 250.0);
    assert_eq!(median(&q, "2024Q2", "inference_shortfall_chips"), 0.0);
    // 2024Q3: demand 1,125; 100 new chips all to inference, 275 short.
    assert_eq!(median(&q, "2024Q3", "inference_chips"), 850.0);
    assert_eq!(median(&q, "2024Q3", "inference_shortfall_chips"), 275.0);
}

/// Failures: with half the chips failing per year, each chip survives a
/// 91-day quarter with probability 0.5^(91/365.25).
#[test]
fn chip_failures_follow_the_annual_rate() {
    let scenario = r#"
[scenario]
name = "failures"
start = "2024Q1"
horizon_quarters = 1
trials = 2000

[chips.a]
peak_flops = 1e14
annual_failure_rate = 0.5

[fleet.a]
training = 10000

[training]
mfu = 0.4

[milestones.m]
target_flop = 1e30
deadline = "2024Q1"
"#;
    let (_, q) = run(scenario, &[]);
    let expect = 10_000.0 * 0.5f64.powf(91.0 / 365.25); // 8,413
    let got = median(&q, "2024Q1", "training_chips");
    // Binomial sd of one trial's count is 37; the median of 2,000 trials is
    // within a few chips, plus 3-digit rounding (±5).
    assert!((got - expect).abs() < 15.0, "{got} vs {expect}");
}

/// Adding an unrelated supply line leaves every other draw unchanged, so
/// variants of a scenario stay paired trial by trial.
#[test]
fn adding_an_element_does_not_change_the_others_draws() {
    let base = crate::common::MINIMAL.to_string();
    let extended = format!(
        "{base}\n[chips.foreign]\npeak_flops = 9.9e14\ndomestic = false\n\n[supply.imports]\nchip = \"foreign\"\norders = [{{ quarter = \"2024Q2\", chips = 50 }}]\nfill_rate = {{ dist = \"uniform\", low = 0.1, high = 0.9 }}\n"
    );
    let (a, qa) = run(&base, &[]);
    let (b, qb) = run(&extended, &[]);
    assert_eq!(a.milestones[0].reached_by_deadline, b.milestones[0].reached_by_deadline);
    let training_rows = |q: &str| {
        q.lines()
            .filter(|l| l.contains(",training_flop"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(training_rows(&qa), training_rows(&qb));
    assert_ne!(qa, qb, "the foreign chips should show up in inference");
}

/// A target met exactly at a quarter boundary counts for the quarter that
/// ends there (MODEL.md §1), even though the crossing time is computed from
/// a rounded quotient: 13 chips × 1e14 FLOP/s × 0.55 for 91 days is exactly
/// 5.621616e21 FLOP at the end of 2024Q1.
#[test]
fn a_target_met_exactly_at_the_boundary_counts_for_that_quarter() {
    let scenario = r#"
[scenario]
name = "edge"
start = "2024Q1"
horizon_quarters = 2
trials = 5

[chips.a]
peak_flops = 1e14

[fleet.a]
training = 13

[training]
mfu = 0.55

[milestones.exact]
target_flop = 5.621616e21
deadline = "2024Q1"
"#;
    let (s, _) = run(scenario, &[]);
    assert_eq!(s.milestones[0].quarter_p50.as_deref(), Some("2024Q1"));
    assert_eq!(s.milestones[0].probability, 1.0);
}

/// Demand growing a hundredfold each quarter for 50 years stays finite:
/// capped, so summary.json holds numbers, not nulls.
#[test]
fn runaway_demand_stays_finite() {
    let scenario = crate::common::MINIMAL
        .replace("horizon_quarters = 8", "horizon_quarters = 200")
        .replace("trials = 200", "trials = 20")
        + "\n[inference]\nunit_chip = \"a\"\ninitial_demand_chips = 1000\ngrowth_per_quarter = 100\n";
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", &scenario);
    let o = run_in(dir.path(), &["run", "s.toml", "--out", "out", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap()).unwrap();
    // serde_json writes a non-finite number as null.
    for row in json["quarterly"].as_array().unwrap() {
        for p in ["p5", "p25", "p50", "p75", "p95"] {
            assert!(row[p].is_number(), "{row}");
        }
    }
}

/// Chips that land exactly on a quarter boundary belong to the quarter that
/// ends there (section 1: time t belongs to quarter q when S(q) < t <=
/// S(q+1)): counted in its delivered total, and allocated at that instant by
/// the next quarter's start. One landing at the horizon's last instant is
/// counted too. A lead time of 0.99657769 quarters is 7,862,400 s, exactly
/// 2024Q1's 91 days.
#[test]
fn chips_landing_on_a_boundary_count_for_the_quarter_that_ends_there() {
    let scenario = |horizon: u32| {
        format!(
            r#"
[scenario]
name = "boundary"
start = "2024Q1"
horizon_quarters = {horizon}
trials = 10

[chips.a]
peak_flops = 1e14

[supply.line]
chip = "a"
orders = [{{ quarter = "2024Q1", chips = 100 }}]
lead_time_quarters = 0.99657769

[training]
mfu = 0.5

[milestones.m]
target_flop = 1e20
deadline = "2024Q1"
"#
        )
    };
    let (_, quarters) = run(&scenario(2), &[]);
    assert_eq!(
        median(&quarters, "2024Q1", "delivered_domestic_chips_cumulative"),
        100.0
    );
    assert_eq!(median(&quarters, "2024Q1", "training_chips"), 0.0);
    assert_eq!(median(&quarters, "2024Q2", "training_chips"), 100.0);
    let q2 = 100.0 * 1e14 * 0.5 * 91.0 * SECONDS_PER_DAY;
    let got = median(&quarters, "2024Q2", "training_flop_cumulative");
    assert!(((got - q2) / q2).abs() < 5e-3, "{got} vs {q2}");
    // At the horizon (the end of 2024Q1): counted, never allocated.
    let (_, quarters) = run(&scenario(1), &[]);
    assert_eq!(
        median(&quarters, "2024Q1", "delivered_domestic_chips_cumulative"),
        100.0
    );
    assert_eq!(median(&quarters, "2024Q1", "training_chips"), 0.0);
}
