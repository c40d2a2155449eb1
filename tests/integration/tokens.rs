//! Inference demand stated in tokens (docs/MODEL.md section 5, `QuarterStart`
//! step 1): `D = (T × F) / ((86,400 × u) × peak)` unit chips, with tokens
//! per day `T` and FLOP per token `F` growing by their own fractions each
//! quarter. Demand worked out by hand, the same demand as in the chip form,
//! the errors of a table that mixes the forms or lacks a key, and the new
//! quarterly rows.

use crate::common::{folder_files, read_summary, run_in, text, write};
use crate::scenario_errors::{expect, line_of, rejected};

/// Runs `scenario` (as s.toml in `dir/out`, so that the file's name is
/// the same in every run) with `extra` arguments into `dir/out/out`.
fn run_into(dir: &std::path::Path, scenario: &str, out: &str, extra: &[&str]) {
    let dir = dir.join(out);
    std::fs::create_dir(&dir).unwrap();
    write(&dir, "s.toml", scenario);
    let mut args = vec!["run", "s.toml", "--out", "out", "--quiet"];
    args.extend_from_slice(extra);
    let o = run_in(&dir, &args);
    assert!(o.status.success(), "{}", text(&o));
}

/// Runs `scenario` in a fresh folder; returns quarters.csv.
fn quarters(scenario: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    run_into(dir.path(), scenario, "run", &[]);
    std::fs::read_to_string(dir.path().join("run/out/quarters.csv")).unwrap()
}

/// The p50 of `metric` in `quarter` (every number here is fixed, so every
/// percentile is the value, to 3 significant digits).
fn value(quarters: &str, quarter: &str, metric: &str) -> f64 {
    let line = quarters
        .lines()
        .find(|l| l.starts_with(&format!("{quarter},{metric},")))
        .unwrap_or_else(|| panic!("no row {quarter},{metric} in\n{quarters}"));
    let cells: Vec<f64> = line.split(',').skip(2).map(|c| c.parse().unwrap()).collect();
    assert!(cells.iter().all(|&c| c == cells[0]), "not one value: {line}");
    cells[0]
}

/// Reported to 3 significant digits from a histogram accurate to 0.1%.
fn close(got: f64, want: f64) -> bool {
    ((got - want) / want).abs() < 5e-3
}

/// 20,000 chips of 1e14 FLOP/s serve inference at the start; 1,000 more
/// arrive in each quarter of 2024 (one second after it starts, so they are
/// allocated at the next quarter's start), under `inference_first`.
/// Demand: 1e12 tokens a day at 1e11 FLOP per token in 2024Q1, tokens
/// +20% and FLOP per token −10% a quarter, served at utilisation 0.5.
const HAND: &str = r#"
[scenario]
name = "tokens by hand"
start = "2024Q1"
horizon_quarters = 6
trials = 20

[chips.a]
peak_flops = 1e14

[supply.line]
chip = "a"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]

[fleet.a]
inference = 20000

[inference]
unit_chip = "a"
tokens_per_day = 1e12
token_growth_per_quarter = 0.2
flop_per_token = 1e11
flop_per_token_change_per_quarter = -0.1
serving_utilization = 0.5

[training]
mfu = 0.4

[milestones.m]
target_flop = 1e30
deadline = "2025Q2"
"#;

#[test]
fn demand_in_tokens_matches_hand_computation() {
    let q = quarters(HAND);
    // D0 = 1e12 × 1e11 / (86,400 × 0.5 × 1e14) = 1e23 / 4.32e18 = 23,148.1
    // unit chips; then × 1.2 × 0.9 = 1.08 a quarter: 25,000, 27,000,
    // 29,160, 31,492.8, 34,012.2.
    let demand = [23_148.148, 25_000.0, 27_000.0, 29_160.0, 31_492.8, 34_012.224];
    let tokens = [1e12, 1.2e12, 1.44e12, 1.728e12, 2.0736e12, 2.48832e12];
    let flop = [1e11, 9e10, 8.1e10, 7.29e10, 6.561e10, 5.9049e10];
    // Demand always exceeds the chips, so every new chip serves inference:
    // 20,000 in 2024Q1, 1,000 more at each quarter start up to 2025Q1.
    let serving = [20_000.0, 21_000.0, 22_000.0, 23_000.0, 24_000.0, 24_000.0];
    let labels = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"];
    for (i, quarter) in labels.iter().enumerate() {
        let d = value(&q, quarter, "inference_demand_chips");
        assert!(close(d, demand[i]), "{quarter}: demand {d} vs {}", demand[i]);
        let t = value(&q, quarter, "inference_tokens_per_day");
        assert!(close(t, tokens[i]), "{quarter}: tokens {t} vs {}", tokens[i]);
        let f = value(&q, quarter, "inference_flop_per_token");
        assert!(close(f, flop[i]), "{quarter}: FLOP per token {f} vs {}", flop[i]);
        assert_eq!(value(&q, quarter, "inference_chips"), serving[i], "{quarter}");
        assert_eq!(value(&q, quarter, "training_chips"), 0.0, "{quarter}");
        let short = value(&q, quarter, "inference_shortfall_chips");
        let want = demand[i] - serving[i];
        assert!(close(short, want), "{quarter}: shortfall {short} vs {want}");
    }
    // The three rows follow each quarter's seven totals, before the rows by chip type.
    let metrics: Vec<&str> = q
        .lines()
        .filter(|l| l.starts_with("2024Q3,"))
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(
        metrics[7..10],
        [
            "inference_demand_chips",
            "inference_tokens_per_day",
            "inference_flop_per_token"
        ],
        "{metrics:?}"
    );
}

#[test]
fn demand_is_capped_and_a_served_demand_of_zero_gives_no_shortfall() {
    // Tokens × 101 and FLOP per token × 11 a quarter: demand would be
    // 23,148 × 1,111^5 = 3.9e19 unit chips in 2025Q2; it is capped at 1e15.
    let q = quarters(
        &HAND
            .replace("token_growth_per_quarter = 0.2", "token_growth_per_quarter = 100")
            .replace(
                "flop_per_token_change_per_quarter = -0.1",
                "flop_per_token_change_per_quarter = 10",
            ),
    );
    assert!(close(value(&q, "2025Q2", "inference_demand_chips"), 1e15));
    assert!(close(
        value(&q, "2024Q3", "inference_demand_chips"),
        23_148.148 * 1111.0 * 1111.0
    ));
    // Tokens fall to 0 after the first quarter (growth −1): no demand, no shortfall.
    let q = quarters(&HAND.replace("token_growth_per_quarter = 0.2", "token_growth_per_quarter = -1"));
    assert!(close(value(&q, "2024Q1", "inference_demand_chips"), 23_148.148));
    for quarter in ["2024Q2", "2025Q2"] {
        assert_eq!(value(&q, quarter, "inference_demand_chips"), 0.0);
        assert_eq!(value(&q, quarter, "inference_tokens_per_day"), 0.0);
        assert_eq!(value(&q, quarter, "inference_shortfall_chips"), 0.0);
    }
}

/// A scenario whose demand is exactly representable in both forms: the
/// unit chip has 2^46 FLOP/s, so `(86,400 × 0.5) × 2^46 = 675 × 2^52`;
/// 6,750 × 2^20 tokens a day at 2^32 FLOP per token is 10 unit chips, and
/// tokens × 1.5 with FLOP per token × 0.75 is demand × 1.125 a quarter, every
/// product and quotient exact in floating point for the 8 quarters. Orders
/// are filled by an uncertain share, so the allocation (and the training
/// compute) depends on the demand trial by trial.
const EXACT: &str = r#"
[scenario]
name = "same demand"
start = "2024Q1"
horizon_quarters = 8
trials = 400
seed = 5

[chips.a]
peak_flops = 70368744177664

[supply.line]
chip = "a"
orders = [{ from = "2024Q1", to = "2025Q3", chips = 12 }]
fill_rate = { dist = "beta", alpha = 2, beta = 2 }

[inference]
unit_chip = "a"
DEMAND

[training]
mfu = { p5 = 0.2, p95 = 0.5 }

[milestones.m]
target_flop = 1e17
deadline = "2025Q4"
"#;

#[test]
fn demand_in_tokens_gives_the_results_of_the_same_demand_in_chips() {
    let tokens = EXACT.replace(
        "DEMAND",
        "tokens_per_day = 7077888000\ntoken_growth_per_quarter = 0.5\nflop_per_token = 4294967296\n\
         flop_per_token_change_per_quarter = -0.25\nserving_utilization = 0.5",
    );
    let chips = EXACT.replace("DEMAND", "initial_demand_chips = 10\ngrowth_per_quarter = 0.125");
    let dir = tempfile::tempdir().unwrap();
    run_into(dir.path(), &tokens, "tokens", &[]);
    run_into(dir.path(), &chips, "chips", &[]);
    let read = |out: &str, file: &str| std::fs::read_to_string(dir.path().join(out).join("out").join(file)).unwrap();
    // (1 + 0.5)(1 − 0.25) − 1 = 0.125: the same demand, so the same
    // allocation, shortfall and training compute in every trial.
    assert_eq!(read("tokens", "milestones.csv"), read("chips", "milestones.csv"));
    let token_rows = read("tokens", "quarters.csv");
    let without_demand: String = token_rows
        .lines()
        .filter(|l| !l.contains(",inference_demand_chips,") && !l.contains(",inference_tokens_per_day,"))
        .filter(|l| !l.contains(",inference_flop_per_token,"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(without_demand, read("chips", "quarters.csv"));
    assert!(!read("chips", "quarters.csv").contains("inference_demand_chips"));
    // Demand is a distribution of one value: 10 × 1.125^q.
    let s = read_summary(&dir.path().join("tokens/out"));
    let mut d = 10.0;
    for label in &s.quarters {
        let row = s
            .quarterly
            .iter()
            .find(|r| &r.quarter == label && r.metric == "inference_demand_chips")
            .unwrap();
        assert!(close(row.p5, d) && row.p5 == row.p95, "{label}: {row:?} vs {d}");
        d *= 1.125;
    }
    // The shortfall is not always 0 nor always the whole demand: it depends
    // on the fill rate, so the comparison above is not vacuous.
    let short = s
        .quarterly
        .iter()
        .find(|r| r.quarter == "2025Q4" && r.metric == "inference_shortfall_chips")
        .unwrap();
    assert!(short.p5 < short.p95, "{short:?}");
}

#[test]
fn token_form_outputs_do_not_depend_on_the_thread_count() {
    let scenario = EXACT.replace(
        "DEMAND",
        "tokens_per_day = { p5 = 5e9, p95 = 9e9 }\ntoken_growth_per_quarter = { p5 = 0.2, p95 = 0.6, per = \"quarter\" }\n\
         flop_per_token = { dist = \"pert\", min = 3e9, mode = 4e9, max = 6e9 }\n\
         flop_per_token_change_per_quarter = { dist = \"uniform\", low = -0.3, high = 0 }\n\
         serving_utilization = { p5 = 0.3, p95 = 0.7, per = \"quarter\" }",
    );
    let dir = tempfile::tempdir().unwrap();
    run_into(dir.path(), &scenario, "t1", &["--threads", "1", "--trials", "1500"]);
    run_into(dir.path(), &scenario, "t2", &["--threads", "2", "--trials", "1500"]);
    let one = folder_files(&dir.path().join("t1/out"));
    let two = folder_files(&dir.path().join("t2/out"));
    let names = |files: &[(String, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&one), names(&two));
    assert!(names(&one).contains(&"quarters.csv".to_string()), "{:?}", names(&one));
    for (a, b) in one.iter().zip(&two) {
        assert!(a.1 == b.1, "{} differs between 1 and 2 threads", a.0);
    }
    // Two shards merged give the single run's statistics: the demand's
    // histograms travel in the partial results.
    for k in ["1", "2"] {
        let shard = format!("--shard={k}/2");
        run_into(
            dir.path(),
            &scenario,
            &format!("shard{k}"),
            &["--trials", "1500", &shard],
        );
    }
    let o = run_in(
        dir.path(),
        &["merge", "shard1/out", "shard2/out", "--out", "merged", "--quiet"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let csv = |p: &str| std::fs::read_to_string(dir.path().join(p).join("quarters.csv")).unwrap();
    assert_eq!(csv("merged"), csv("t1/out"));
    // Uncertain demand gives a spread, and the rows list every quarter.
    let s = read_summary(&dir.path().join("t1/out"));
    let rows: Vec<_> = s
        .quarterly
        .iter()
        .filter(|r| r.metric == "inference_tokens_per_day")
        .collect();
    assert_eq!(rows.len(), 8);
    assert!(rows[7].p5 < rows[7].p95, "{:?}", rows[7]);
    // The assumptions list the token keys with their defaults filled in.
    for key in [
        "inference.tokens_per_day",
        "inference.token_growth_per_quarter",
        "inference.flop_per_token",
        "inference.flop_per_token_change_per_quarter",
        "inference.serving_utilization",
    ] {
        assert!(s.assumptions.iter().any(|a| a.key == key), "{key}");
    }
    assert!(!s.assumptions.iter().any(|a| a.key == "inference.initial_demand_chips"));
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// `validate`s `scenario` (as s.toml), expects exit code 2, and returns
#[test]
fn mixing_the_chip_and_token_forms_is_refused_at_the_chip_keys() {
    let text = HAND.replace(
        "serving_utilization = 0.5",
        "serving_utilization = 0.5\ninitial_demand_chips = 100\ngrowth_per_quarter = 0.1",
    );
    let found = rejected(&text);
    for key in ["initial_demand_chips", "growth_per_quarter"] {
        expect(
            &found,
            &format!("inference.{key}"),
            text.lines().position(|l| l.starts_with(&format!("{key} ="))).unwrap() + 1,
            &[
                "demand in chips",
                "in tokens",
                "use one form",
                &format!("remove `{key}`"),
            ],
        );
    }
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[test]
fn a_token_form_without_a_required_key_names_it_at_the_table() {
    let header = line_of(HAND, "[inference]");
    for key in ["tokens_per_day", "flop_per_token", "serving_utilization"] {
        let text: String = HAND
            .lines()
            .filter(|l| !l.starts_with(&format!("{key} =")))
            .map(|l| format!("{l}\n"))
            .collect();
        let found = rejected(&text);
        expect(
            &found,
            &format!("inference.{key}"),
            header,
            &[&format!("needs `{key}`"), "such as", "initial_demand_chips"],
        );
        assert_eq!(found.len(), 1, "{found:#?}");
    }
    // Neither form: the chip form's key is asked for, with the token form as the other way.
    let text: String = HAND
        .lines()
        .filter(|l| !(l.starts_with("tok") || l.starts_with("flop") || l.starts_with("serving")))
        .map(|l| format!("{l}\n"))
        .collect();
    let found = rejected(&text);
    expect(
        &found,
        "inference.initial_demand_chips",
        header,
        &["demand is missing", "tokens_per_day"],
    );
}

#[test]
fn token_keys_out_of_range_are_refused_with_their_valid_range() {
    for (from, to, key, range) in [
        (
            "tokens_per_day = 1e12",
            "tokens_per_day = 0",
            "tokens_per_day",
            "(0, 1e18]",
        ),
        (
            "tokens_per_day = 1e12",
            "tokens_per_day = 2e18",
            "tokens_per_day",
            "(0, 1e18]",
        ),
        (
            "flop_per_token = 1e11",
            "flop_per_token = -1",
            "flop_per_token",
            "(0, 1e18]",
        ),
        (
            "serving_utilization = 0.5",
            "serving_utilization = 1.5",
            "serving_utilization",
            "(0, 1]",
        ),
        (
            "serving_utilization = 0.5",
            "serving_utilization = { dist = \"uniform\", low = 0, high = 0.5 }",
            "serving_utilization",
            "(0, 1]",
        ),
        (
            "token_growth_per_quarter = 0.2",
            "token_growth_per_quarter = -1.5",
            "token_growth_per_quarter",
            "[-1, 100]",
        ),
        (
            "flop_per_token_change_per_quarter = -0.1",
            "flop_per_token_change_per_quarter = -1",
            "flop_per_token_change_per_quarter",
            "[-0.99, 10]",
        ),
    ] {
        let text = HAND.replace(from, to);
        let found = rejected(&text);
        expect(&found, &format!("inference.{key}"), line_of(&text, to), &[range]);
    }
    // A 90% interval outside the range names its end.
    let text = HAND.replace(
        "serving_utilization = 0.5",
        "serving_utilization = { p5 = 0.2, p95 = 1.2 }",
    );
    let found = rejected(&text);
    expect(
        &found,
        "inference.serving_utilization.p95",
        line_of(&text, "p95 = 1.2"),
        &["(0, 1]"],
    );
}

#[test]
fn numbers_used_in_the_first_quarter_only_warn_when_drawn_each_quarter() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = HAND.replace(
        "tokens_per_day = 1e12",
        "tokens_per_day = { p5 = 1e12, p95 = 2e12, per = \"quarter\" }",
    );
    write(dir.path(), "s.toml", &scenario);
    let o = run_in(dir.path(), &["validate", "s.toml"]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = line_of(&scenario, "tokens_per_day =");
    assert!(
        err.contains(&format!("warning: s.toml:{line}:")) && err.contains("inference.tokens_per_day.per"),
        "{err}"
    );
}
