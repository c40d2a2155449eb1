//! Suppliers, chip generations and customer tiers (docs/MODEL.md section 5,
//! "Suppliers, generations and tiers"): a supplier's quarterly output bound
//! by packaging, dies and HBM; yield learning; the die bank and the HBM
//! stock; generations sharing output newest first; tiers served in priority
//! order and the buyer lines that take a share of their tier; shocks on a
//! supplier's inputs; derating; the foreign-chip rows; validation.
//!
//! Every expected number is worked out by hand from the model's rules (the
//! working is in the comment next to each assertion), never taken from the
//! implementation. The scenarios are fixed (no draws) unless a test says
//! otherwise, so every trial gives the same value and each percentile of
//! quarters.csv is that value as the per-quarter histogram reports it
//! (`reported` below, section 6).

use std::path::Path;

use crate::common::run_quarters as run;
use crate::common::{assert_refused_at_one_of, folder_files, run_in, text, write};

/// The first quarters of every scenario here (`start = "2024Q1"`).
const QUARTERS: [&str; 6] = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"];

/// How quarters.csv reports a value `v` that every trial has (section 6,
/// "Per-quarter percentiles"): 0 for `v <= 0`, else the centre of its
/// log-linear bucket `i = bits(v) >> 43`, rounded to 3 significant digits
/// as `{:.2e}` prints it. So 2500 is reported as 2500, 0.4754 as 0.475 and
/// 4754 as 4750.
fn reported(v: f64) -> f64 {
    if v <= 0.0 {
        return 0.0;
    }
    let i = v.to_bits() >> 43;
    let lo = f64::from_bits(i << 43);
    let hi = f64::from_bits((i + 1) << 43);
    let centre = lo + (hi - lo) / 2.0;
    format!("{centre:.2e}").parse().unwrap()
}

/// The P50 of `metric` in the first `n` quarters.
fn series(quarters: &str, metric: &str, n: usize) -> Vec<f64> {
    QUARTERS[..n]
        .iter()
        .map(|q| crate::common::quarter_p50(quarters, q, metric))
        .collect()
}

/// Checks that `metric` is, quarter by quarter, `expected` as reported.
#[track_caller]
fn assert_series(quarters: &str, metric: &str, expected: &[f64]) {
    let got = series(quarters, metric, expected.len());
    let want: Vec<f64> = expected.iter().map(|&v| reported(v)).collect();
    assert_eq!(got, want, "{metric} (expected before rounding: {expected:?})");
}

/// A scenario of `horizon` quarters from 2024Q1 around `body` (chips,
/// suppliers, lines, shocks), with a training run and a milestone nobody
/// reaches so that nothing else is in play.
fn scenario(horizon: u32, body: &str) -> String {
    format!(
        r#"[scenario]
name = "suppliers"
start = "2024Q1"
horizon_quarters = {horizon}
trials = 5

{body}

[training]
mfu = 0.5

[milestones.m]
target_flop = 1e30
deadline = "2024Q4"
"#
    )
}

/// summary.json as JSON (its `suppliers` field is read without the typed
/// `Summary`, so that this suite states the format itself).
fn summary_json(folder: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap()).unwrap()
}

/// Supplier `index`'s `binding_share` in summary.json, for a fixed
/// scenario: in each of the first `n` quarters exactly one of `packaging`,
/// `dies`, `hbm`, `none` must hold all the trials (share 1, the others 0);
/// returns those names by quarter.
fn binding(folder: &Path, index: usize, n: usize) -> Vec<String> {
    let json = summary_json(folder);
    let shares = &json["suppliers"][index]["binding_share"];
    (0..n)
        .map(|q| {
            let names = ["packaging", "dies", "hbm", "none"];
            let values: Vec<f64> = names
                .iter()
                .map(|k| {
                    shares[*k][q]
                        .as_f64()
                        .unwrap_or_else(|| panic!("no binding_share.{k}[{q}]: {shares}"))
                })
                .collect();
            let ones: Vec<&str> = names
                .iter()
                .zip(&values)
                .filter(|(_, v)| **v == 1.0)
                .map(|(k, _)| *k)
                .collect();
            assert!(
                ones.len() == 1 && values.iter().sum::<f64>() == 1.0,
                "quarter {q}: {shares}"
            );
            ones[0].to_string()
        })
        .collect()
}

/// `binding_share` of supplier `index` for input `name` in each quarter.
fn binding_share(folder: &Path, index: usize, name: &str) -> Vec<f64> {
    let json = summary_json(folder);
    json["suppliers"][index]["binding_share"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no binding_share.{name}: {json}"))
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// Output of the last run's folder (kept alive by `dir`).
fn out(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("out")
}

// ---------------------------------------------------------------------
// 1. Output is the least of packaging, dies and HBM
// ---------------------------------------------------------------------

/// One generation `c1` from 2024Q2; packaging 200 growing by half each
/// quarter; 100 wafers of 16 candidate dies at yield 0.5, two dies a chip;
/// four HBM stacks a chip from a stock of 2000 plus 500 imported a quarter.
const BINDING: &str = r#"
[chips.c1]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 100
packaging_per_quarter = 200
packaging_growth_per_quarter = 0.5
hbm_stock = 2000
hbm_imports_per_quarter = 500

[suppliers.hw.generations.c1]
available = "2024Q2"
dies_per_wafer = 16
dies_per_package = 2
hbm_stacks_per_package = 4
yield_initial = 0.5

[suppliers.hw.tiers.all]

[supply.buyer]
supplier = "hw"
tier = "all"
share = 1
chip = "c1"
orders = [{ from = "2024Q1", to = "2025Q1", chips = 1000 }]
"#;

#[test]
fn output_is_the_least_of_packaging_dies_and_hbm_quarter_by_quarter() {
    let (dir, q) = run(&scenario(5, BINDING), &[]);
    // a = 1 (2024Q2), ramp 1: s = 0 in quarter 0, then 1.
    // P = 200 × 1.5^q = 200, 300, 450, 675, 1012.5.
    // dies term = W s dpw y / dpp = 100 × 16 × 0.5 / 2 = 400.
    // S (stock after imports, before use) and n = floor(min(P, 400, S/4)):
    //   q0: S = 2000 + 500 = 2500, s = 0: n = 0, S stays 2500 (binding none)
    //   q1: S = 3000, n = min(300, 400, 750) = 300 (packaging), S = 3000 − 1200 = 1800
    //   q2: S = 2300, n = min(450, 400, 575) = 400 (dies), S = 2300 − 1600 = 700
    //   q3: S = 1200, n = min(675, 400, 300) = 300 (hbm), S = 0
    //   q4: S = 500, n = min(1012.5, 400, 125) = 125 (hbm), S = 0
    let n = [0.0, 300.0, 400.0, 300.0, 125.0];
    assert_series(&q, "supplier_output_chips[hw]", &n);
    assert_series(&q, "generation_output_chips[c1]", &n);
    assert_series(&q, "supplier_hbm_stock_stacks[hw]", &[2500.0, 1800.0, 700.0, 0.0, 0.0]);
    // No die bank: B = 0 throughout.
    assert_series(&q, "supplier_die_bank_dies[hw]", &[0.0; 5]);
    // y = y0 = y_max = 0.5 from its start, 0 before it.
    assert_series(&q, "generation_yield[c1]", &[0.0, 0.5, 0.5, 0.5, 0.5]);
    // The only tier takes everything (φ = 1 when N > 0), the line's share is
    // 1 and it orders 1000 > n: k = n, landing 1 s into the quarter, so the
    // cumulative deliveries are 0, 300, 700, 1000, 1125.
    assert_series(
        &q,
        "delivered_chips_cumulative[c1]",
        &[0.0, 300.0, 700.0, 1000.0, 1125.0],
    );
    assert_series(
        &q,
        "delivered_domestic_chips_cumulative",
        &[0.0, 300.0, 700.0, 1000.0, 1125.0],
    );
    // Binding input by quarter, as worked out above.
    assert_eq!(binding(&out(&dir), 0, 5), ["none", "packaging", "dies", "hbm", "hbm"]);
    let json = summary_json(&out(&dir));
    assert_eq!(json["suppliers"][0]["name"], "hw", "{}", json["suppliers"]);
    assert_eq!(json["suppliers"].as_array().unwrap().len(), 1);
    // The supplier rows are also summary.json quarterly rows.
    let rows = json["quarterly"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["metric"] == "supplier_output_chips[hw]" && r["quarter"] == "2024Q3"),
        "no supplier_output_chips[hw] in summary.json quarterly"
    );
}

#[test]
fn both_reports_show_a_suppliers_table() {
    // SPEC: "Both reports show a table "Suppliers" (per supplier and year:
    // output P50 of the year's last quarter…)".
    let (dir, _q) = run(&scenario(5, BINDING), &[]);
    let md = std::fs::read_to_string(out(&dir).join("report.md")).unwrap();
    assert!(md.contains("## Suppliers"), "{md}");
    // 2024's last quarter: output 300 (see the first test); the table has a
    // row for hw in 2024 with it, whether it is by year or by quarter.
    assert!(
        md.lines()
            .any(|l| l.starts_with("| hw") && l.contains("2024") && l.contains("300")),
        "{md}"
    );
    let html = std::fs::read_to_string(out(&dir).join("report.html")).unwrap();
    assert!(html.contains("Suppliers"));
}

#[test]
fn wafer_starts_grow_and_bind_without_packaging_or_hbm_limits() {
    let body = r#"
[chips.c1]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 1000
wafer_starts_growth_per_quarter = 0.5

[suppliers.hw.generations.c1]
available = "2024Q1"
dies_per_wafer = 1
yield_initial = 1

[suppliers.hw.tiers.all]
"#;
    let (dir, q) = run(&scenario(4, body), &[]);
    // W = 1000 × 1.5^q = 1000, 1500, 2250, 3375; y = 1, one die a chip, no
    // packaging limit (∞) and no HBM needed (∞): n = W.
    assert_series(&q, "supplier_output_chips[hw]", &[1000.0, 1500.0, 2250.0, 3375.0]);
    assert_series(&q, "supplier_hbm_stock_stacks[hw]", &[0.0; 4]);
    assert_eq!(binding(&out(&dir), 0, 4), ["dies", "dies", "dies", "dies"]);
    // No supply line buys from it: nothing is delivered.
    assert_series(&q, "delivered_chips_cumulative[c1]", &[0.0; 4]);
}

// ---------------------------------------------------------------------
// 2. Yield learning
// ---------------------------------------------------------------------

/// 1000 wafers of 10 dies, yield from 0.2 toward 0.9 with τ = 2 quarters.
const YIELD: &str = r#"
[chips.c1]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 1000

[suppliers.hw.generations.c1]
available = "AVAILABLE"
dies_per_wafer = 10
yield_initial = 0.2
yield_max = 0.9
yield_time_constant_quarters = 2

[suppliers.hw.tiers.all]

SHOCKS
"#;

/// y = y_max − (y_max − y0) exp(−Λ/τ) with y0 = 0.2, y_max = 0.9, τ = 2.
fn yield_at(learned: f64) -> f64 {
    0.9 - (0.9 - 0.2) * (-learned / 2.0).exp()
}

#[test]
fn yield_learns_toward_its_maximum_with_the_quarters_since_the_start() {
    let (_d, q) = run(
        &scenario(4, &YIELD.replace("AVAILABLE", "2024Q1").replace("SHOCKS", "")),
        &[],
    );
    // a = 0: Λ = 0, 1, 2, 3 in quarters 0..3 (learning after each output).
    // y = 0.2, 0.9 − 0.7 e^−0.5 = 0.47543, 0.9 − 0.7 e^−1 = 0.64248,
    // 0.9 − 0.7 e^−1.5 = 0.74381; reported 0.2, 0.475, 0.642, 0.744.
    let y: Vec<f64> = [0.0, 1.0, 2.0, 3.0].map(yield_at).to_vec();
    assert_series(&q, "generation_yield[c1]", &y);
    assert_eq!(series(&q, "generation_yield[c1]", 4), [0.2, 0.475, 0.642, 0.744]);
    // n = floor(1000 × 10 × y / 1) = 2000, 4754, 6424, 7438 (reported 2000,
    // 4750, 6420, 7440).
    let n: Vec<f64> = y.iter().map(|y| (10_000.0 * y).floor()).collect();
    assert_eq!(n, [2000.0, 4754.0, 6424.0, 7438.0]);
    assert_series(&q, "supplier_output_chips[hw]", &n);
}

#[test]
fn a_generation_available_before_the_start_has_already_learned() {
    let (_d, q) = run(
        &scenario(4, &YIELD.replace("AVAILABLE", "2023Q3").replace("SHOCKS", "")),
        &[],
    );
    // a = −2: Λ = max(0, 2) = 2 in quarter 0, then 3, 4, 5.
    // y = 0.64248, 0.74381, 0.9 − 0.7 e^−2 = 0.80527, 0.9 − 0.7 e^−2.5 = 0.84254.
    let y: Vec<f64> = [2.0, 3.0, 4.0, 5.0].map(yield_at).to_vec();
    assert_series(&q, "generation_yield[c1]", &y);
    // (0.84254 lies in the bucket [0.841797, 0.842773), centre 0.842285: 0.842.)
    assert_eq!(series(&q, "generation_yield[c1]", 4), [0.642, 0.744, 0.805, 0.842]);
    // n = floor(10,000 y) = 6424, 7438, 8052, 8425.
    assert_series(&q, "generation_output_chips[c1]", &[6424.0, 7438.0, 8052.0, 8425.0]);
}

#[test]
fn a_yield_learning_shock_slows_learning_while_it_is_active() {
    let shock = r#"
[shocks.slow_learning]
at = "2024Q2"
effects = [{ supplier = "hw", yield_learning_multiplier = 0.5 }]
"#;
    let (_d, q) = run(
        &scenario(4, &YIELD.replace("AVAILABLE", "2024Q1").replace("SHOCKS", shock)),
        &[],
    );
    // Quarter 0 learns a whole quarter (no shock yet): Λ = 1 in quarter 1.
    // From quarter 1 on each quarter adds m = 0.5 after the output:
    // Λ = 0, 1, 1.5, 2; y = 0.2, 0.47543, 0.9 − 0.7 e^−0.75 = 0.56934, 0.64248.
    let y: Vec<f64> = [0.0, 1.0, 1.5, 2.0].map(yield_at).to_vec();
    assert_series(&q, "generation_yield[c1]", &y);
    // n = 2000, 4754, 5693, 6424.
    assert_series(&q, "supplier_output_chips[hw]", &[2000.0, 4754.0, 5693.0, 6424.0]);
    // A multiplier of 0 stops learning: Λ stays 1 from quarter 1 on.
    let frozen = shock.replace("0.5", "0");
    let (_d, q) = run(
        &scenario(4, &YIELD.replace("AVAILABLE", "2024Q1").replace("SHOCKS", &frozen)),
        &[],
    );
    let y: Vec<f64> = [0.0, 1.0, 1.0, 1.0].map(yield_at).to_vec();
    assert_series(&q, "generation_yield[c1]", &y);
}

// ---------------------------------------------------------------------
// 3. Die bank and HBM stock
// ---------------------------------------------------------------------

/// 100 wafers of 10 dies at yield 0.5 (500 dies), two dies a chip,
/// packaging 1000, a die bank of 5000 dies. `BANK` is replaced.
const DIE_BANK: &str = r#"
[chips.c1]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 100
packaging_per_quarter = 1000
die_bank = 5000

[suppliers.hw.generations.c1]
available = "2024Q1"
dies_per_wafer = 10
dies_per_package = 2
yield_initial = 0.5
BANK

[suppliers.hw.tiers.all]

SHOCKS
"#;

#[test]
fn the_die_bank_is_used_first_and_only_by_generations_that_may() {
    let (dir, q) = run(
        &scenario(4, &DIE_BANK.replace("BANK", "die_bank = true").replace("SHOCKS", "")),
        &[],
    );
    // dies = 500 + B, n = floor(min(1000, dies / 2)); n × 2 dies used, bank first:
    //   q0: B = 5000: dies 5500, n = min(1000, 2750) = 1000 (packaging), B = 5000 − 2000 = 3000
    //   q1: dies 3500, n = min(1000, 1750) = 1000 (packaging), B = 1000
    //   q2: dies 1500, n = 750 (dies), 1500 used, B −= min(1000, 1500): B = 0
    //   q3: dies 500, n = 250 (dies), B = 0
    assert_series(&q, "supplier_output_chips[hw]", &[1000.0, 1000.0, 750.0, 250.0]);
    assert_series(&q, "supplier_die_bank_dies[hw]", &[3000.0, 1000.0, 0.0, 0.0]);
    assert_eq!(binding(&out(&dir), 0, 4), ["packaging", "packaging", "dies", "dies"]);

    // Without `die_bank = true` the generation never touches the bank:
    // n = min(1000, 500 / 2) = 250 each quarter, B stays 5000.
    let (dir, q) = run(&scenario(4, &DIE_BANK.replace("BANK", "").replace("SHOCKS", "")), &[]);
    assert_series(&q, "supplier_output_chips[hw]", &[250.0; 4]);
    assert_series(&q, "supplier_die_bank_dies[hw]", &[5000.0; 4]);
    assert_eq!(binding(&out(&dir), 0, 4), ["dies"; 4]);
}

#[test]
fn of_two_generations_only_the_one_with_die_bank_draws_on_it() {
    let body = r#"
[chips.old]
peak_flops = 1e15

[chips.new]
peak_flops = 2e15

[suppliers.hw]
wafer_starts_per_quarter = 100
packaging_per_quarter = 1000
die_bank = 5000

[suppliers.hw.generations.old]
available = "2023Q1"
dies_per_wafer = 10
dies_per_package = 2
yield_initial = 0.5
die_bank = true

[suppliers.hw.generations.new]
available = "2024Q1"
ramp_quarters = 2
dies_per_wafer = 10
dies_per_package = 2
yield_initial = 0.5

[suppliers.hw.tiers.all]
"#;
    let (dir, q) = run(&scenario(4, body), &[]);
    // new: a = 0, ramp 2: w = 0.5 in quarter 0, then 1. old takes w = 1 of
    // what is left: s_old = 0.5 in quarter 0, then 0.
    //   q0, old (file order first): dies = 100 × 0.5 × 10 × 0.5 + 5000 = 5250,
    //       n = min(1000 × 0.5, 5250 / 2) = 500 (packaging), B = 5000 − 1000 = 4000
    //   q0, new: dies = 250, n = min(500, 125) = 125 (dies), no bank
    //   q1..: new s = 1: n = min(1000, 500 / 2) = 250 (dies); old s = 0; B stays 4000.
    assert_series(&q, "generation_output_chips[old]", &[500.0, 0.0, 0.0, 0.0]);
    assert_series(&q, "generation_output_chips[new]", &[125.0, 250.0, 250.0, 250.0]);
    assert_series(&q, "supplier_output_chips[hw]", &[625.0, 250.0, 250.0, 250.0]);
    assert_series(&q, "supplier_die_bank_dies[hw]", &[4000.0; 4]);
    // Quarter 0: packaging binds old (s 0.5), dies bind new (s 0.5): a tie,
    // which goes to packaging (packaging, dies, hbm on a tie). Then dies.
    assert_eq!(binding(&out(&dir), 0, 4), ["packaging", "dies", "dies", "dies"]);
}

/// 100 wafers of 3 dies at yield 0.5: 150 chips a quarter, one HBM stack
/// each. `DOMESTIC` is replaced.
const HBM: &str = r#"
[chips.c1]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 100
hbm_stock = 1000
hbm_imports_per_quarter = 100
hbm_domestic_per_quarter = 400
DOMESTIC

[suppliers.hw.generations.c1]
available = "2024Q1"
dies_per_wafer = 3
yield_initial = 0.5
hbm_stacks_per_package = 1

[suppliers.hw.tiers.all]
"#;

#[test]
fn hbm_stock_is_drawn_down_and_refilled_by_imports_and_a_domestic_ramp() {
    let domestic = "hbm_domestic_from = \"2024Q2\"\nhbm_domestic_delay_quarters = 0.5\nhbm_domestic_ramp_quarters = 2";
    let (dir, q) = run(&scenario(5, &HBM.replace("DOMESTIC", domestic)), &[]);
    // h = index(2024Q2) + round(0.5) = 1 + 1 = 2 (half away from zero).
    // Domestic stacks: 0 before quarter 2, then 400 × min(1, (q − 2 + 1)/2):
    // 200 in quarter 2, 400 from quarter 3. Each quarter 150 chips use 150.
    //   q0: S = 1000 + 100 = 1100 → 950
    //   q1: 950 + 100 = 1050 → 900
    //   q2: 900 + 100 + 200 = 1200 → 1050
    //   q3: 1050 + 100 + 400 = 1550 → 1400
    //   q4: 1400 + 500 = 1900 → 1750
    assert_series(
        &q,
        "supplier_hbm_stock_stacks[hw]",
        &[950.0, 900.0, 1050.0, 1400.0, 1750.0],
    );
    assert_series(&q, "supplier_output_chips[hw]", &[150.0; 5]);
    assert_eq!(binding(&out(&dir), 0, 5), ["dies"; 5]);

    // Planned before the start: h = index(2023Q3) = −2, ramp 4:
    // quarter 0 adds 400 × min(1, (0 + 2 + 1)/4) = 300, then 400.
    //   q0: 1000 + 100 + 300 − 150 = 1250; then + 500 − 150 each quarter:
    //   1600, 1950, 2300, 2650.
    let domestic = "hbm_domestic_from = \"2023Q3\"\nhbm_domestic_ramp_quarters = 4";
    let (_d, q) = run(&scenario(5, &HBM.replace("DOMESTIC", domestic)), &[]);
    assert_series(
        &q,
        "supplier_hbm_stock_stacks[hw]",
        &[1250.0, 1600.0, 1950.0, 2300.0, 2650.0],
    );
}

// ---------------------------------------------------------------------
// 4. Generations: shares, ramps, slips
// ---------------------------------------------------------------------

/// `old` (available long before the start, 10 dies a wafer) and `new` (from
/// 2024Q2 over 4 quarters, 8 dies a wafer); 1000 wafers at yield 0.5, one
/// die a chip, no other limit. `NEW` and `SHOCKS` are replaced.
const GENERATIONS: &str = r#"
[chips.old]
peak_flops = 1e15

[chips.new]
peak_flops = 2e15

[suppliers.hw]
wafer_starts_per_quarter = 1000

[suppliers.hw.generations.old]
available = "2023Q1"
dies_per_wafer = 10
yield_initial = 0.5

[suppliers.hw.generations.new]
available = "2024Q2"
ramp_quarters = 4
dies_per_wafer = 8
yield_initial = 0.5
NEW

[suppliers.hw.tiers.all]

[supply.buyer]
supplier = "hw"
tier = "all"
share = 1
chip = "newest"
orders = [{ from = "2024Q1", to = "2025Q1", chips = 100000 }]

SHOCKS
"#;

fn generations(new: &str, shocks: &str) -> String {
    scenario(5, &GENERATIONS.replace("NEW", new).replace("SHOCKS", shocks))
}

#[test]
fn the_newest_generation_ramps_up_and_takes_its_share_first() {
    let (dir, q) = run(&generations("", ""), &[]);
    // new: a = 1, w = min(1, (q − 1 + 1)/4) = 0, 0.25, 0.5, 0.75, 1; old
    // takes the rest: s = 1, 0.75, 0.5, 0.25, 0.
    // n_new = floor(1000 × s × 8 × 0.5) = 0, 1000, 2000, 3000, 4000
    // n_old = floor(1000 × s × 10 × 0.5) = 5000, 3750, 2500, 1250, 0
    assert_series(
        &q,
        "generation_output_chips[new]",
        &[0.0, 1000.0, 2000.0, 3000.0, 4000.0],
    );
    assert_series(
        &q,
        "generation_output_chips[old]",
        &[5000.0, 3750.0, 2500.0, 1250.0, 0.0],
    );
    assert_series(
        &q,
        "supplier_output_chips[hw]",
        &[5000.0, 4750.0, 4500.0, 4250.0, 4000.0],
    );
    // new's yield: 0 before its start, then 0.5.
    assert_series(&q, "generation_yield[new]", &[0.0, 0.5, 0.5, 0.5, 0.5]);
    assert_series(&q, "generation_yield[old]", &[0.5; 4]);
    // The line buys "newest": the generation with n > 0 and the largest a,
    // old in quarter 0 (new made none), then new; φ = 1, share 1, orders
    // 100,000: k = n of that generation.
    //   old: 5000 in quarter 0 only; new: 1000, 2000, 3000, 4000 after.
    assert_series(&q, "delivered_chips_cumulative[old]", &[5000.0; 5]);
    assert_series(
        &q,
        "delivered_chips_cumulative[new]",
        &[0.0, 1000.0, 3000.0, 6000.0, 10000.0],
    );
    assert_eq!(binding(&out(&dir), 0, 5), ["dies"; 5]);
}

#[test]
fn a_line_gets_its_tiers_part_of_its_own_generations_output() {
    // Output as in the test above: N = 5000, 4750, 4500, 4250, 4000 and
    // n_new = 0, 1000, 2000, 3000, 4000. Tier `a` (priority 1) takes 2250
    // a quarter: φ = 2250 / N = 0.45, 0.47368, 0.5, 0.52941, 0.5625. A line
    // on `a` buying `new` with share 1 gets floor(φ × n_new) (its chip's n,
    // not the supplier's N) = 0, floor(473.68) = 473, 1000,
    // floor(1588.24) = 1588, 2250; it orders 100,000. Cumulative: 0, 473,
    // 1473, 3061, 5311.
    let text = generations("", "")
        .replace(
            "[suppliers.hw.tiers.all]",
            "[suppliers.hw.tiers.a]\ndemand_per_quarter = 2250\n\n[suppliers.hw.tiers.all]\npriority = 2",
        )
        .replace("tier = \"all\"", "tier = \"a\"")
        .replace("chip = \"newest\"", "chip = \"new\"");
    let (_d, q) = run(&text, &[]);
    assert_series(
        &q,
        "delivered_chips_cumulative[new]",
        &[0.0, 473.0, 1473.0, 3061.0, 5311.0],
    );
    assert_series(&q, "delivered_chips_cumulative[old]", &[0.0; 5]);
}

#[test]
fn a_slip_delays_a_generation_and_so_does_a_delay_shock_that_starts_in_time() {
    // slip 1: a = 1 + 1 = 2; w = 0, 0, 0.25, 0.5, 0.75.
    //   new = 0, 0, 1000, 2000, 3000; old = 5000, 5000, 3750, 2500, 1250.
    let (_d, q) = run(&generations("slip_quarters = 1", ""), &[]);
    assert_series(&q, "generation_output_chips[new]", &[0.0, 0.0, 1000.0, 2000.0, 3000.0]);
    assert_series(
        &q,
        "generation_output_chips[old]",
        &[5000.0, 5000.0, 3750.0, 2500.0, 1250.0],
    );
    // A slip of 1.4 rounds to 1: the same.
    let (_d, q2) = run(&generations("slip_quarters = 1.4", ""), &[]);
    assert_eq!(
        series(&q, "generation_output_chips[new]", 5),
        series(&q2, "generation_output_chips[new]", 5)
    );

    // A delay shock starting in quarter 0 ≤ a = 1, permanent: a = 1 + 2 = 3.
    //   new = 0, 0, 0, 1000, 2000; old = 5000, 5000, 5000, 3750, 2500.
    let delay = |at: &str, extra: &str| {
        format!(
            "[shocks.delay]\nat = \"{at}\"\n{extra}\neffects = [{{ supplier = \"hw\", generation = \"new\", delay_quarters = 2 }}]"
        )
    };
    let (_d, q) = run(&generations("", &delay("2024Q1", "")), &[]);
    assert_series(&q, "generation_output_chips[new]", &[0.0, 0.0, 0.0, 1000.0, 2000.0]);
    assert_series(
        &q,
        "generation_output_chips[old]",
        &[5000.0, 5000.0, 5000.0, 3750.0, 2500.0],
    );
    // Starting in quarter 2 > a = 1: too late to delay it (as without shock).
    let (_d, q) = run(&generations("", &delay("2024Q3", "")), &[]);
    assert_series(
        &q,
        "generation_output_chips[new]",
        &[0.0, 1000.0, 2000.0, 3000.0, 4000.0],
    );
    // A shock of duration round(0.4) = 0 has no effect.
    let (_d, q) = run(&generations("", &delay("2024Q1", "duration_quarters = 0.4")), &[]);
    assert_series(
        &q,
        "generation_output_chips[new]",
        &[0.0, 1000.0, 2000.0, 3000.0, 4000.0],
    );
}

#[test]
fn the_oldest_generation_ramping_up_leaves_the_rest_unmade_and_ties_go_to_the_later_file_entry() {
    // One generation from 2024Q1 over 2 quarters: w = 0.5, then 1; what it
    // does not take is not made: n = 1000 × 0.5 × 10 × 0.5 = 2500, then 5000.
    let body = r#"
[chips.c1]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 1000

[suppliers.hw.generations.c1]
available = "2024Q1"
ramp_quarters = 2
dies_per_wafer = 10
yield_initial = 0.5

[suppliers.hw.tiers.all]
"#;
    let (_d, q) = run(&scenario(4, body), &[]);
    assert_series(&q, "supplier_output_chips[hw]", &[2500.0, 5000.0, 5000.0, 5000.0]);
    // Two generations with the same start: the later in file order is the
    // newer and, with ramp 1 (w = 1), takes all the output.
    //   new: 1000 × 1 × 8 × 0.5 = 4000 each quarter; old: 0.
    let tie = generations("", "").replace("available = \"2023Q1\"", "available = \"2024Q2\"");
    let (_d, q) = run(&tie.replace("ramp_quarters = 4", ""), &[]);
    // Before 2024Q2 neither has started: nothing is made.
    assert_series(
        &q,
        "generation_output_chips[new]",
        &[0.0, 4000.0, 4000.0, 4000.0, 4000.0],
    );
    assert_series(&q, "generation_output_chips[old]", &[0.0; 5]);
    assert_series(&q, "generation_yield[old]", &[0.0]);
}

#[test]
fn generations_draw_on_the_shared_hbm_stock_in_file_order() {
    // old (a = −4) and new (a = 0, ramp 2): s = 0.5 each in quarter 0, then
    // new takes all. One stack a chip from a stock of 1000 (no imports);
    // dies allow 1000 × 0.5 × 10 × 0.5 = 2500 chips for each in quarter 0.
    // Generations in file order: the first listed takes the stock:
    //   q0, old first: n_old = min(2500, 1000) = 1000, S = 0; n_new = min(2500, 0) = 0
    //   q1..: S = 0, n = 0. Both bound by HBM (s 0.5 + 0.5), then new (s 1).
    let body = |first: &str, second: &str| {
        format!(
            r#"
[chips.old]
peak_flops = 1e15

[chips.new]
peak_flops = 2e15

[suppliers.hw]
wafer_starts_per_quarter = 1000
hbm_stock = 1000

{first}

{second}

[suppliers.hw.tiers.all]
"#
        )
    };
    let old = "[suppliers.hw.generations.old]\navailable = \"2023Q1\"\ndies_per_wafer = 10\nyield_initial = 0.5\nhbm_stacks_per_package = 1";
    let new = "[suppliers.hw.generations.new]\navailable = \"2024Q1\"\nramp_quarters = 2\ndies_per_wafer = 10\nyield_initial = 0.5\nhbm_stacks_per_package = 1";
    let (dir, q) = run(&scenario(4, &body(old, new)), &[]);
    assert_series(&q, "generation_output_chips[old]", &[1000.0, 0.0, 0.0, 0.0]);
    assert_series(&q, "generation_output_chips[new]", &[0.0; 4]);
    assert_series(&q, "supplier_hbm_stock_stacks[hw]", &[0.0; 4]);
    assert_eq!(binding(&out(&dir), 0, 4), ["hbm"; 4]);
    // The same with new listed first: new takes the 1000 stacks in quarter 0
    // (newest-first shares do not change which one draws first).
    let (_d, q) = run(&scenario(4, &body(new, old)), &[]);
    assert_series(&q, "generation_output_chips[new]", &[1000.0, 0.0, 0.0, 0.0]);
    assert_series(&q, "generation_output_chips[old]", &[0.0; 4]);
}

#[test]
fn a_generation_keeps_learning_after_a_newer_one_has_taken_all_output() {
    // old: a = 0, yield 0.2 → 0.9 with τ = 2; new from 2024Q2 with ramp 1
    // takes everything from quarter 1 (s_old = 0). "Every generation with
    // q ≥ a then learns", so old's Λ = 0, 1, 2, 3 whether or not it makes
    // chips, and generation_yield is 0 only before a generation's start:
    // old's y = 0.2, 0.47543, 0.64248, 0.74381; its output 2000, then 0.
    let body = r#"
[chips.old]
peak_flops = 1e15

[chips.new]
peak_flops = 2e15

[suppliers.hw]
wafer_starts_per_quarter = 1000

[suppliers.hw.generations.old]
available = "2024Q1"
dies_per_wafer = 10
yield_initial = 0.2
yield_max = 0.9
yield_time_constant_quarters = 2

[suppliers.hw.generations.new]
available = "2024Q2"
dies_per_wafer = 10
yield_initial = 0.5

[suppliers.hw.tiers.all]
"#;
    let (_d, q) = run(&scenario(4, body), &[]);
    assert_series(&q, "generation_output_chips[old]", &[2000.0, 0.0, 0.0, 0.0]);
    let y: Vec<f64> = [0.0, 1.0, 2.0, 3.0].map(yield_at).to_vec();
    assert_series(&q, "generation_yield[old]", &y);
    // new: 1000 × 10 × 0.5 = 5000 from quarter 1.
    assert_series(&q, "generation_output_chips[new]", &[0.0, 5000.0, 5000.0, 5000.0]);
}

// ---------------------------------------------------------------------
// 5. Tiers and buyer lines
// ---------------------------------------------------------------------

/// 1000 chips a quarter (100 wafers of 20 dies at 0.5, one die a chip)
/// and three tiers, written out of priority order. `LINES` is replaced.
const TIERS: &str = r#"
[chips.c1]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 100

[suppliers.hw.generations.c1]
available = "2023Q1"
dies_per_wafer = 20
yield_initial = 0.5

[suppliers.hw.tiers.rest]
priority = 3

[suppliers.hw.tiers.cloud]
priority = 2
demand_per_quarter = 500
demand_growth_per_quarter = 0.5

[suppliers.hw.tiers.gov]
priority = 1
demand_per_quarter = 250

LINES
"#;

fn tiers(lines: &str) -> String {
    scenario(4, &TIERS.replace("LINES", lines))
}

/// A line on `tier` buying `c1` with `share` and `extra` keys.
fn line(name: &str, tier: &str, share: &str, chips: u64, extra: &str) -> String {
    format!(
        "[supply.{name}]\nsupplier = \"hw\"\ntier = \"{tier}\"\nshare = {share}\nchip = \"c1\"\norders = [{{ from = \"2024Q1\", to = \"2024Q4\", chips = {chips} }}]\n{extra}\n"
    )
}

#[test]
fn tiers_are_served_in_priority_order_and_a_line_takes_its_share_of_its_tier() {
    // N = 1000. Order gov (1), cloud (2), rest (3). Cloud's demand
    // 500 × 1.5^q = 500, 750, 1125, 1687.5.
    //   q0: gov 250, cloud 500, rest 250 → φ_cloud = 0.5
    //   q1: gov 250, cloud min(750, 750) = 750, rest 0 → φ_cloud = 0.75
    //   q2, q3: gov 250, cloud min(750, …) = 750, rest 0
    // Line on cloud, share 0.5: floor(0.5 × φ × 1000) = 250, 375, 375, 375;
    // it orders 300 a quarter with a backlog:
    //   q0: N_l = 300, k = 250, backlog 50
    //   q1: N_l = 350, k = 350, backlog 0
    //   q2: N_l = 300, k = 300; q3: likewise 300
    // Cumulative (lead time 0: in the quarter ordered): 250, 600, 900, 1200.
    let (_d, q) = run(&tiers(&line("buyer", "cloud", "0.5", 300, "backlog = true")), &[]);
    assert_series(&q, "delivered_chips_cumulative[c1]", &[250.0, 600.0, 900.0, 1200.0]);
    assert_series(&q, "supplier_output_chips[hw]", &[1000.0; 4]);
    // Without the backlog the 50 not filled in quarter 0 are lost:
    // 250, 550, 850, 1150.
    let (_d, q) = run(&tiers(&line("buyer", "cloud", "0.5", 300, "")), &[]);
    assert_series(&q, "delivered_chips_cumulative[c1]", &[250.0, 550.0, 850.0, 1150.0]);
    // The lowest-priority tier has no demand: it takes what is left,
    // 250 in quarter 0 (φ = 0.25), then 0. Share 1, orders 1000: 250, 250, …
    let (_d, q) = run(&tiers(&line("buyer", "rest", "1", 1000, "")), &[]);
    assert_series(&q, "delivered_chips_cumulative[c1]", &[250.0; 4]);
    // gov always gets its 250: 250, 500, 750, 1000.
    let (_d, q) = run(&tiers(&line("buyer", "gov", "1", 1000, "")), &[]);
    assert_series(&q, "delivered_chips_cumulative[c1]", &[250.0, 500.0, 750.0, 1000.0]);
    // A quota caps the line as any line: min(250, 100) = 100 a quarter.
    let (_d, q) = run(
        &tiers(&line("buyer", "gov", "1", 1000, "quota_chips_per_quarter = 100")),
        &[],
    );
    assert_series(&q, "delivered_chips_cumulative[c1]", &[100.0, 200.0, 300.0, 400.0]);
}

#[test]
fn several_lines_in_one_tier_each_take_their_own_share() {
    // cloud's take 500, 750, 750, 750. Line x: share 0.25 → floor(0.25 × take)
    // = 125, 187, 187, 187 (187.5 floored); line y: share 0.5 → 250, 375, 375,
    // 375. Both order 10,000 (never binding). c1 delivered per quarter:
    // 375, 562, 562, 562 → cumulative 375, 937, 1499, 2061.
    let lines = format!(
        "{}\n{}",
        line("x", "cloud", "0.25", 10_000, ""),
        line("y", "cloud", "0.5", 10_000, "")
    );
    let (_d, q) = run(&tiers(&lines), &[]);
    assert_series(&q, "delivered_chips_cumulative[c1]", &[375.0, 937.0, 1499.0, 2061.0]);
}

/// Two tiers of demand 750 each from a supplier making 1000 chips a
/// quarter; a line buying all of `second`'s take. `PRIORITY` and `SHOCKS`
/// are replaced.
const TWO_TIERS: &str = r#"
[chips.c1]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 100

[suppliers.hw.generations.c1]
available = "2024Q1"
dies_per_wafer = 20
yield_initial = 0.5

[suppliers.hw.tiers.first]
PRIORITY
demand_per_quarter = 750

[suppliers.hw.tiers.second]
demand_per_quarter = 750

[supply.buyer]
supplier = "hw"
tier = "second"
share = 1
chip = "c1"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]

SHOCKS
"#;

#[test]
fn equal_priorities_go_in_file_order_and_a_shock_can_change_a_tiers_priority() {
    // Both priority 1 (default): file order, first takes 750, second 250
    // (φ = 0.25): the line gets 250 a quarter.
    let (_d, q) = run(
        &scenario(4, &TWO_TIERS.replace("PRIORITY", "").replace("SHOCKS", "")),
        &[],
    );
    assert_series(&q, "delivered_chips_cumulative[c1]", &[250.0, 500.0, 750.0, 1000.0]);
    // first given priority 3 in quarters 1 and 2 (a shock at 2024Q2 for 2
    // quarters): second is served first then, 750 (φ = 0.75); 250 again in
    // quarter 3. Cumulative: 250, 1000, 1750, 2000.
    let shock = r#"
[shocks.reorder]
at = "2024Q2"
duration_quarters = 2
effects = [{ supplier = "hw", tier = "first", priority = 3 }]
"#;
    let (_d, q) = run(
        &scenario(4, &TWO_TIERS.replace("PRIORITY", "").replace("SHOCKS", shock)),
        &[],
    );
    assert_series(&q, "delivered_chips_cumulative[c1]", &[250.0, 1000.0, 1750.0, 2000.0]);
    // Written priorities: first = 2 puts second (default 1) first: 750 a
    // quarter: 750, 1500, 2250, 3000.
    let (_d, q) = run(
        &scenario(4, &TWO_TIERS.replace("PRIORITY", "priority = 2").replace("SHOCKS", "")),
        &[],
    );
    assert_series(&q, "delivered_chips_cumulative[c1]", &[750.0, 1500.0, 2250.0, 3000.0]);
    // Two active shocks setting first's priority: the last in file order
    // wins. Both from quarter 1 on, first = 3 then first = 1: first keeps
    // priority 1 and file order, so the line gets 250 a quarter as without
    // shocks: 250, 500, 750, 1000. In the other order first = 3 wins and
    // second is served first from quarter 1: 250, 1000, 1750, 2500.
    let two = |a: u32, b: u32| {
        format!(
            "[shocks.a]\nat = \"2024Q2\"\neffects = [{{ supplier = \"hw\", tier = \"first\", priority = {a} }}]\n\n[shocks.b]\nat = \"2024Q2\"\neffects = [{{ supplier = \"hw\", tier = \"first\", priority = {b} }}]\n"
        )
    };
    let (_d, q) = run(
        &scenario(4, &TWO_TIERS.replace("PRIORITY", "").replace("SHOCKS", &two(3, 1))),
        &[],
    );
    assert_series(&q, "delivered_chips_cumulative[c1]", &[250.0, 500.0, 750.0, 1000.0]);
    let (_d, q) = run(
        &scenario(4, &TWO_TIERS.replace("PRIORITY", "").replace("SHOCKS", &two(1, 3))),
        &[],
    );
    assert_series(&q, "delivered_chips_cumulative[c1]", &[250.0, 1000.0, 1750.0, 2500.0]);
}

// ---------------------------------------------------------------------
// 6. Shocks on a supplier's inputs, on a supplier line; gates
// ---------------------------------------------------------------------

/// 1000 wafers of 10 dies at 0.5: 5000 chips a quarter. `INPUTS` (extra
/// supplier keys), `GEN` (extra generation keys), `LINE` (extra line keys)
/// and `SHOCKS` are replaced.
const SHOCKED: &str = r#"
[chips.c1]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 1000
INPUTS

[suppliers.hw.generations.c1]
available = "2024Q1"
dies_per_wafer = 10
yield_initial = 0.5
GEN

[suppliers.hw.tiers.all]

[supply.buyer]
supplier = "hw"
tier = "all"
share = 1
chip = "c1"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]
LINE

SHOCKS
"#;

fn shocked(inputs: &str, generation: &str, line: &str, shocks: &str) -> String {
    scenario(
        4,
        &SHOCKED
            .replace("INPUTS", inputs)
            .replace("GEN", generation)
            .replace("LINE", line)
            .replace("SHOCKS", shocks),
    )
}

#[test]
fn wafer_and_packaging_multipliers_act_while_their_shocks_are_active() {
    // Halved in quarters 1–2 (2024Q2 for 2 quarters) and again from quarter
    // 2 on (a permanent shock at 2024Q3): m = 1, 0.5, 0.25, 0.5.
    // n = 5000 × m = 5000, 2500, 1250, 2500.
    let shocks = r#"
[shocks.fab_a]
at = "2024Q2"
duration_quarters = 2
effects = [{ supplier = "hw", wafer_starts_multiplier = 0.5 }]

[shocks.fab_b]
at = "2024Q3"
effects = [{ supplier = "hw", wafer_starts_multiplier = 0.5 }]
"#;
    let (_d, q) = run(&shocked("", "", "", shocks), &[]);
    assert_series(&q, "supplier_output_chips[hw]", &[5000.0, 2500.0, 1250.0, 2500.0]);
    // Packaging 4000 halved from quarter 2 on: n = min(P, 5000) = 4000,
    // 4000, 2000, 2000, packaging binding throughout.
    let shocks = r#"
[shocks.osat]
at = "2024Q3"
effects = [{ supplier = "hw", packaging_multiplier = 0.5 }]
"#;
    let (dir, q) = run(&shocked("packaging_per_quarter = 4000", "", "", shocks), &[]);
    assert_series(&q, "supplier_output_chips[hw]", &[4000.0, 4000.0, 2000.0, 2000.0]);
    assert_eq!(binding(&out(&dir), 0, 4), ["packaging"; 4]);
}

#[test]
fn an_hbm_import_ban_starves_output_while_it_lasts() {
    // Stock 500 and 1000 imported a quarter, one stack a chip, dies for
    // 5000; imports × 0 in quarter 2 only.
    //   q0: S = 1500, n = 1500, S = 0
    //   q1: S = 1000, n = 1000; q2: S = 0, n = 0; q3: S = 1000, n = 1000
    let shocks = r#"
[shocks.ban]
at = "2024Q3"
duration_quarters = 1
effects = [{ supplier = "hw", hbm_imports_multiplier = 0 }]
"#;
    let (dir, q) = run(
        &shocked(
            "hbm_stock = 500\nhbm_imports_per_quarter = 1000",
            "hbm_stacks_per_package = 1",
            "",
            shocks,
        ),
        &[],
    );
    assert_series(&q, "supplier_output_chips[hw]", &[1500.0, 1000.0, 0.0, 1000.0]);
    assert_series(&q, "supplier_hbm_stock_stacks[hw]", &[0.0; 4]);
    // HBM binds every quarter (the generation has s = 1 even when n = 0).
    assert_eq!(binding(&out(&dir), 0, 4), ["hbm"; 4]);
}

#[test]
fn die_bank_and_hbm_stock_multipliers_seize_once_when_the_shock_starts() {
    // The die bank scenario of the die bank test, with the bank seized
    // (× 0) in quarter 1 by a one-quarter shock:
    //   q0: n = 1000, B = 3000 (as before)
    //   q1: B = 3000 × 0 = 0: dies 500, n = 250; q2, q3: 250, B stays 0 after
    //   the shock ends (a seizure is not undone).
    let shocks = r#"
[shocks.seizure]
at = "2024Q2"
duration_quarters = 1
effects = [{ supplier = "hw", die_bank_multiplier = 0 }]
"#;
    let (_d, q) = run(
        &scenario(
            4,
            &DIE_BANK.replace("BANK", "die_bank = true").replace("SHOCKS", shocks),
        ),
        &[],
    );
    assert_series(&q, "supplier_output_chips[hw]", &[1000.0, 250.0, 250.0, 250.0]);
    assert_series(&q, "supplier_die_bank_dies[hw]", &[3000.0, 0.0, 0.0, 0.0]);

    // Once, not every quarter: a permanent shock from quarter 1 halving a
    // bank of 8000 that no generation uses (no die_bank = true), and a stock
    // of 8000 HBM stacks that no generation needs: both 8000, 4000, 4000, 4000.
    let shocks = r#"
[shocks.seizure]
at = "2024Q2"
effects = [{ supplier = "hw", die_bank_multiplier = 0.5, hbm_stock_multiplier = 0.5 }]
"#;
    let (_d, q) = run(&shocked("die_bank = 8000\nhbm_stock = 8000", "", "", shocks), &[]);
    assert_series(&q, "supplier_die_bank_dies[hw]", &[8000.0, 4000.0, 4000.0, 4000.0]);
    assert_series(&q, "supplier_hbm_stock_stacks[hw]", &[8000.0, 4000.0, 4000.0, 4000.0]);
    assert_series(&q, "supplier_output_chips[hw]", &[5000.0; 4]);
    // The seizure comes before the quarter's imports: a stock of 8000 plus
    // 1000 a quarter, halved once in quarter 1, no generation using it:
    //   q0: 8000 + 1000 = 9000; q1: 9000 × 0.5 + 1000 = 5500; q2: 6500; q3: 7500
    // (imports first would give (9000 + 1000) × 0.5 = 5000 in quarter 1).
    let shocks = r#"
[shocks.seizure]
at = "2024Q2"
effects = [{ supplier = "hw", hbm_stock_multiplier = 0.5 }]
"#;
    let (_d, q) = run(
        &shocked("hbm_stock = 8000\nhbm_imports_per_quarter = 1000", "", "", shocks),
        &[],
    );
    assert_series(&q, "supplier_hbm_stock_stacks[hw]", &[9000.0, 5500.0, 6500.0, 7500.0]);
}

#[test]
fn a_share_multiplier_and_a_closed_gate_act_on_a_supplier_line() {
    // The line's share is 1 of a tier taking all 5000 (φ = 1); it orders
    // 1000. share × 0.125 in quarter 1: floor(0.125 × 1 × 5000) = 625 < 1000.
    //   k = 1000, 625, 1000, 1000 → 1000, 1625, 2625, 3625.
    let shocks = r#"
[shocks.cut]
at = "2024Q2"
duration_quarters = 1
effects = [{ supply = "buyer", share_multiplier = 0.125 }]
"#;
    let (_d, q) = run(&shocked("", "", "", shocks), &[]);
    assert_series(&q, "delivered_chips_cumulative[c1]", &[1000.0, 1625.0, 2625.0, 3625.0]);
    // A gate closed in quarter 1 only, with a backlog:
    //   q0: 1000; q1: closed, k = 0, backlog 1000; q2: N_l = 2000,
    //   k = min(2000, 5000) = 2000; q3: 1000 → 1000, 1000, 3000, 4000.
    let gate = r#"
[gates.licence]
events = [{ quarter = "2024Q2", open = false }, { quarter = "2024Q3", open = true }]
"#;
    let (_d, q) = run(&shocked("", "", "gates = [\"licence\"]\nbacklog = true", gate), &[]);
    assert_series(&q, "delivered_chips_cumulative[c1]", &[1000.0, 1000.0, 3000.0, 4000.0]);
    // The supplier's output does not depend on the gate.
    assert_series(&q, "supplier_output_chips[hw]", &[5000.0; 4]);
    // A `stop` shock on the line stops it as any line: nothing in quarter 1
    // (no backlog): 1000, 1000, 2000, 3000.
    let stop = r#"
[shocks.stop]
at = "2024Q2"
duration_quarters = 1
effects = [{ supply = "buyer", stop = true }]
"#;
    let (_d, q) = run(&shocked("", "", "", stop), &[]);
    assert_series(&q, "delivered_chips_cumulative[c1]", &[1000.0, 1000.0, 2000.0, 3000.0]);
    // A lead time of 1 quarter (round(91.3125 × 86,400) = 7,889,400 s) as
    // on any line: the order of quarter q lands at S(q) + 7,889,400, in
    // quarter q itself when q lasts at least that long, else in q + 1.
    // 2024Q1 and Q2 have 91 days (7,862,400 s, shorter), Q3 and Q4 92
    // (7,948,800 s, longer): q0's order lands in q1, q1's in q2, q2's in
    // q2, q3's in q3. Per quarter 0, 1000, 2000, 1000: 0, 1000, 3000, 4000.
    let (_d, q) = run(&shocked("", "", "lead_time_quarters = 1", ""), &[]);
    assert_series(&q, "delivered_chips_cumulative[c1]", &[0.0, 1000.0, 3000.0, 4000.0]);
}

// ---------------------------------------------------------------------
// 7. Derating
// ---------------------------------------------------------------------

#[test]
fn derating_scales_the_peak_flops_used_everywhere() {
    // A supplier chip announced at 2e15 and shipped at 0.78 of it: 1.56e15.
    // The line gets 1000 a quarter (orders 1000 ≤ 5000 made):
    // delivered peak = 1000, 2000, 3000, 4000 × 1.56e15.
    let body = SHOCKED
        .replace(
            "peak_flops = 1e15",
            "peak_flops = 2e15\nderating = 0.78\nmemory_gb = 96",
        )
        .replace("INPUTS", "")
        .replace("GEN", "")
        .replace("LINE", "")
        .replace("SHOCKS", "");
    let (_d, q) = run(&scenario(4, &body), &[]);
    let peak = 2e15 * 0.78;
    assert_series(
        &q,
        "delivered_domestic_peak_flops_cumulative",
        &[1000.0 * peak, 2000.0 * peak, 3000.0 * peak, 4000.0 * peak],
    );
    assert_eq!(series(&q, "delivered_domestic_peak_flops_cumulative", 1), [1.56e18]);

    // Training compute on a plain chip (no supplier): 1000 chips in training
    // from the start at 1e15 × 0.5 = 5e14 FLOP/s each, MFU 0.5; 2024Q1 has
    // 91 days = 7,862,400 s: F = 1000 × 5e14 × 0.5 × 7,862,400 = 1.9656e24
    // (reported 1.97e24; without derating it would be 3.93e24).
    let plain = r#"
[chips.c1]
peak_flops = 1e15
derating = 0.5

[fleet.c1]
training = 1000
"#;
    let (_d, q) = run(&scenario(4, plain), &[]);
    let f = 1000.0 * (1e15 * 0.5) * 0.5 * 7_862_400.0;
    assert_series(&q, "training_flop_cumulative", &[f]);
    assert_eq!(series(&q, "training_flop_cumulative", 1), [1.97e24]);
}

// ---------------------------------------------------------------------
// 8. Foreign chips
// ---------------------------------------------------------------------

/// The rows of `quarter` in quarters.csv, in order, by metric.
fn metrics_of(quarters: &str, quarter: &str) -> Vec<String> {
    quarters
        .lines()
        .filter(|l| l.starts_with(&format!("{quarter},")))
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect()
}

#[test]
fn foreign_rows_exist_exactly_when_a_chip_type_is_foreign() {
    // No suppliers: a foreign chip (100 a quarter, all filled, 1e14 each)
    // and a domestic one nobody orders.
    let body = r#"
[chips.f]
peak_flops = 1e14
domestic = false

[chips.d]
peak_flops = 1e14

[supply.f_line]
chip = "f"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 100 }]
"#;
    let (dir, q) = run(&scenario(4, body), &[]);
    // Cumulative foreign deliveries 100, 200, 300, 400; × 1e14 FLOP/s.
    assert_series(&q, "delivered_foreign_chips_cumulative", &[100.0, 200.0, 300.0, 400.0]);
    assert_series(&q, "delivered_foreign_peak_flops_cumulative", &[1e16, 2e16, 3e16, 4e16]);
    assert_series(&q, "delivered_domestic_chips_cumulative", &[0.0; 4]);
    // Right after the seven base rows, in each quarter.
    for quarter in &QUARTERS[..4] {
        let m = metrics_of(&q, quarter);
        assert_eq!(m[6], "delivered_domestic_peak_flops_cumulative", "{m:?}");
        assert_eq!(m[7], "delivered_foreign_chips_cumulative", "{m:?}");
        assert_eq!(m[8], "delivered_foreign_peak_flops_cumulative", "{m:?}");
    }
    let json = summary_json(&out(&dir));
    assert!(
        json["quarterly"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["metric"] == "delivered_foreign_chips_cumulative")
    );

    // Derating counts for foreign chips too: 100 × 1e14 × 0.5 = 5e15.
    let derated = body.replace("domestic = false", "domestic = false\nderating = 0.5");
    let (_d, q) = run(&scenario(4, &derated), &[]);
    assert_series(
        &q,
        "delivered_foreign_peak_flops_cumulative",
        &[5e15, 1e16, 1.5e16, 2e16],
    );

    // All chips domestic (with or without a supplier): no foreign rows.
    for text in [
        scenario(4, &body.replace("domestic = false", "")),
        scenario(4, &DIE_BANK.replace("BANK", "").replace("SHOCKS", "")),
    ] {
        let (dir, q) = run(&text, &[]);
        assert!(!q.contains("delivered_foreign"), "{q}");
        let json = std::fs::read_to_string(out(&dir).join("summary.json")).unwrap();
        assert!(!json.contains("delivered_foreign"));
    }

    // A supplier scenario with a foreign chip bought on an ordinary line
    // has them too (and the supplier rows).
    let mixed = format!(
        "{}\n[chips.f]\npeak_flops = 1e14\ndomestic = false\n\n[supply.f_line]\nchip = \"f\"\norders = [{{ from = \"2024Q1\", to = \"2024Q4\", chips = 100 }}]\n",
        DIE_BANK.replace("BANK", "").replace("SHOCKS", "")
    );
    let (_d, q) = run(&scenario(4, &mixed), &[]);
    assert_series(&q, "delivered_foreign_chips_cumulative", &[100.0, 200.0, 300.0, 400.0]);
    assert_series(&q, "supplier_output_chips[hw]", &[250.0; 4]);
}

#[test]
fn scenarios_without_suppliers_have_no_supplier_rows_or_field() {
    let body =
        "[chips.d]\npeak_flops = 1e14\n\n[supply.l]\nchip = \"d\"\norders = [{ quarter = \"2024Q1\", chips = 10 }]\n";
    let (dir, q) = run(&scenario(4, body), &[]);
    for prefix in ["supplier_", "generation_"] {
        assert!(!q.contains(&format!(",{prefix}")), "{q}");
    }
    let json = summary_json(&out(&dir));
    assert!(json.get("suppliers").is_none(), "{}", json["suppliers"]);
}

// ---------------------------------------------------------------------
// 9. Validation
// ---------------------------------------------------------------------

/// A valid supplier scenario that each case below breaks in one place.
const VALID: &str = r#"
[chips.c1]
peak_flops = 1e15

[chips.c2]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 100
hbm_stock = 1000

[suppliers.hw.generations.c1]
available = "2024Q1"
dies_per_wafer = 20
yield_initial = 0.5
hbm_stacks_per_package = 1

[suppliers.hw.tiers.all]

[supply.buyer]
supplier = "hw"
tier = "all"
share = 1
chip = "c1"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]

[supply.plain]
chip = "c2"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 10 }]
"#;

#[test]
fn the_valid_base_of_the_error_cases_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", &scenario(4, VALID));
    let o = run_in(dir.path(), &["validate", "s.toml"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn invalid_suppliers_are_refused_with_file_line_and_key() {
    let s = |body: String| scenario(4, &body);
    let v = VALID;
    let shock = |effect: &str| s(format!("{v}\n[shocks.s]\nat = \"2024Q2\"\neffects = [{effect}]\n"));
    let cases: Vec<(String, &[&str], &str)> = vec![
        // A supplier line takes a share, not a fill rate.
        (
            s(v.replace("share = 1\n", "share = 1\nfill_rate = 0.9\n")),
            &["supply.buyer.fill_rate"],
            "supplier",
        ),
        // A share without a supplier.
        (
            s(v.replace("chips = 10 }]", "chips = 10 }]\nshare = 0.5")),
            &["supply.plain.share"],
            "supplier",
        ),
        // Unknown names.
        (
            s(v.replace("supplier = \"hw\"", "supplier = \"hv\"")),
            &["supply.buyer.supplier"],
            "hv",
        ),
        (
            s(v.replace("tier = \"all\"", "tier = \"al\"")),
            &["supply.buyer.tier"],
            "al",
        ),
        // c2 is a chip type but not a generation of hw.
        (
            s(v.replace("chip = \"c1\"", "chip = \"c2\"")),
            &["supply.buyer.chip"],
            "c2",
        ),
        (
            shock("{ supplier = \"hv\", wafer_starts_multiplier = 0.5 }"),
            &["shocks.s.effects[0].supplier"],
            "hv",
        ),
        (
            shock("{ supplier = \"hw\", generation = \"c2\", delay_quarters = 1 }"),
            &["shocks.s.effects[0].generation"],
            "c2",
        ),
        (
            shock("{ supplier = \"hw\", tier = \"al\", priority = 2 }"),
            &["shocks.s.effects[0].tier"],
            "al",
        ),
        (
            shock("{ supply = \"nope\", share_multiplier = 0.5 }"),
            &["shocks.s.effects[0].supply"],
            "nope",
        ),
        // A generation key that is not a chip type.
        (
            s(v.replace("generations.c1]", "generations.c9]")),
            &["suppliers.hw.generations.c9"],
            "c9",
        ),
        // One chip type made by two suppliers.
        (
            s(format!(
                "{v}\n[suppliers.hw2]\nwafer_starts_per_quarter = 100\n\n[suppliers.hw2.generations.c1]\navailable = \"2024Q1\"\ndies_per_wafer = 20\nyield_initial = 0.5\n\n[suppliers.hw2.tiers.all]\n"
            )),
            &["suppliers.hw2.generations.c1", "suppliers.hw.generations.c1"],
            "c1",
        ),
        // "newest" needs a supplier.
        (
            s(v.replace("chip = \"c2\"", "chip = \"newest\"")),
            &["supply.plain.chip"],
            "newest",
        ),
        // A supplier without generations (the line's chip then is no
        // generation either) or without tiers.
        (
            s(v.replace(
                "[suppliers.hw.generations.c1]\navailable = \"2024Q1\"\ndies_per_wafer = 20\nyield_initial = 0.5\nhbm_stacks_per_package = 1\n",
                "",
            )),
            &["suppliers.hw", "suppliers.hw.generations"],
            "generation",
        ),
        (
            s(v.replace("[suppliers.hw.tiers.all]\n", "")),
            &["suppliers.hw", "suppliers.hw.tiers"],
            "tier",
        ),
        // Domestic HBM needs its start.
        (
            s(v.replace("hbm_stock = 1000", "hbm_stock = 1000\nhbm_domestic_per_quarter = 100")),
            &[
                "suppliers.hw.hbm_domestic_from",
                "suppliers.hw.hbm_domestic_per_quarter",
            ],
            "hbm_domestic_from",
        ),
        // HBM stacks needed with no source of HBM at all.
        (
            s(v.replace("hbm_stock = 1000\n", "")),
            &["suppliers.hw.generations.c1.hbm_stacks_per_package"],
            "hbm_stock",
        ),
        // Ranges.
        (
            s(v.replace("yield_initial = 0.5", "yield_initial = 1.5")),
            &["suppliers.hw.generations.c1.yield_initial"],
            "1.5",
        ),
        (
            s(v.replace("yield_initial = 0.5", "yield_initial = 0.5\ndies_per_package = 0")),
            &["suppliers.hw.generations.c1.dies_per_package"],
            "16",
        ),
        (
            s(v.replace("yield_initial = 0.5", "yield_initial = 0.5\nramp_quarters = 0")),
            &["suppliers.hw.generations.c1.ramp_quarters"],
            "40",
        ),
        (
            s(v.replace("dies_per_wafer = 20", "dies_per_wafer = 0")),
            &["suppliers.hw.generations.c1.dies_per_wafer"],
            "0",
        ),
        (
            s(v.replace(
                "hbm_stock = 1000",
                "hbm_stock = 1000\nhbm_domestic_per_quarter = 100\nhbm_domestic_from = \"2024Q2\"\nhbm_domestic_ramp_quarters = 41",
            )),
            &["suppliers.hw.hbm_domestic_ramp_quarters"],
            "41",
        ),
        (
            s(v.replace("[suppliers.hw.tiers.all]", "[suppliers.hw.tiers.all]\npriority = 0")),
            &["suppliers.hw.tiers.all.priority"],
            "100",
        ),
        (
            s(v.replace("peak_flops = 1e15\n\n[chips.c2]", "peak_flops = 1e15\nderating = 1.5\n\n[chips.c2]")),
            &["chips.c1.derating"],
            "1.5",
        ),
    ];
    for (scenario, keys, words) in cases {
        assert_refused_at_one_of(&scenario, keys, words);
    }
}

// ---------------------------------------------------------------------
// 10. Uncertain suppliers: a distribution and determinism
// ---------------------------------------------------------------------

#[test]
fn an_uncertain_slip_is_rounded_and_shows_in_the_binding_shares() {
    // slip uniform on [0, 2), rounded half away from zero: 0 on [0, 0.5)
    // (1/4), 1 on [0.5, 1.5) (1/2), 2 on [1.5, 2) (1/4). The only generation
    // starts at a = slip, so no generation has s > 0 (binding `none`) in
    // quarter 0 with probability 3/4, in quarter 1 with 1/4, in quarter 2
    // never; otherwise dies bind (no packaging or HBM limit). Each share is
    // a mean of 20,000 independent trials (sd <= 0.0031): 0.02 is over 6 sd;
    // the seed is fixed.
    let body = r#"
[chips.c1]
peak_flops = 1e15

[suppliers.hw]
wafer_starts_per_quarter = 100

[suppliers.hw.generations.c1]
available = "2024Q1"
slip_quarters = { dist = "uniform", low = 0, high = 2 }
dies_per_wafer = 10
yield_initial = 0.5

[suppliers.hw.tiers.all]
"#;
    let (dir, _) = run(&scenario(4, body), &["--trials", "20000", "--seed", "11"]);
    let none = binding_share(&out(&dir), 0, "none");
    let dies = binding_share(&out(&dir), 0, "dies");
    let expected = [0.75, 0.25, 0.0, 0.0];
    for q in 0..4 {
        assert!((none[q] - expected[q]).abs() < 0.02, "{none:?} vs {expected:?}");
        assert!((none[q] + dies[q] - 1.0).abs() < 1e-9, "{none:?} {dies:?}");
    }
    assert_eq!(&none[2..], &[0.0, 0.0]);
    assert_eq!(binding_share(&out(&dir), 0, "packaging"), [0.0; 4]);
    assert_eq!(binding_share(&out(&dir), 0, "hbm"), [0.0; 4]);
}

#[test]
fn uncertain_suppliers_give_identical_outputs_for_any_thread_count() {
    let body = r#"
[chips.c1]
peak_flops = 1e15

[chips.c2]
peak_flops = 2e15
derating = 0.8

[suppliers.hw]
wafer_starts_per_quarter = { dist = "lognormal", mean = 1000, sd = 200, per = "quarter" }
wafer_starts_growth_per_quarter = { dist = "uniform", low = 0.0, high = 0.1 }
packaging_per_quarter = { p5 = 3000, p95 = 6000 }
hbm_stock = { dist = "uniform", low = 2000, high = 8000 }
hbm_imports_per_quarter = { dist = "uniform", low = 0, high = 2000, per = "quarter" }
hbm_domestic_per_quarter = 1500
hbm_domestic_from = "2024Q3"
hbm_domestic_delay_quarters = { dist = "uniform", low = 0, high = 3 }
hbm_domestic_ramp_quarters = 3
die_bank = { dist = "uniform", low = 0, high = 5000 }

[suppliers.hw.generations.c1]
available = "2023Q3"
dies_per_wafer = 10
yield_initial = { dist = "uniform", low = 0.3, high = 0.6 }
yield_max = 0.8
hbm_stacks_per_package = 1
die_bank = true

[suppliers.hw.generations.c2]
available = "2024Q3"
slip_quarters = { dist = "uniform", low = 0, high = 3 }
ramp_quarters = 3
dies_per_wafer = 5
yield_initial = { dist = "uniform", low = 0.1, high = 0.4 }
yield_max = 0.7
yield_time_constant_quarters = { dist = "uniform", low = 2, high = 6 }
dies_per_package = 2
hbm_stacks_per_package = 2

[suppliers.hw.tiers.gov]
priority = 1
demand_per_quarter = { dist = "uniform", low = 500, high = 1500 }
demand_growth_per_quarter = 0.05

[suppliers.hw.tiers.rest]
priority = 2

[supply.buyer]
supplier = "hw"
tier = "rest"
share = { dist = "uniform", low = 0.3, high = 0.7 }
chip = "newest"
orders = [{ from = "2024Q1", to = "2025Q4", chips = 3000 }]
backlog = true
lead_time_quarters = { dist = "uniform", low = 0, high = 1 }

[shocks.fab]
hazard_per_quarter = 0.2
duration_quarters = 2
effects = [{ supplier = "hw", wafer_starts_multiplier = 0.5 }, { supply = "buyer", share_multiplier = 0.5 }]
"#;
    let text_ = scenario(8, body);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s.toml", &text_);
    let go = |args: &[&str]| {
        let o = run_in(d, args);
        assert!(o.status.success(), "{}", text(&o));
    };
    let n = ["--trials", "3000", "--quiet"];
    go(&[&["run", "s.toml", "--out", "t1", "--threads", "1"][..], &n].concat());
    go(&[&["run", "s.toml", "--out", "t2", "--threads", "2"][..], &n].concat());
    assert!(
        folder_files(&d.join("t1")) == folder_files(&d.join("t2")),
        "--threads 1 and 2 differ"
    );
    // The scenario is uncertain: the binding input varies between trials in
    // some quarter (not every share 0 or 1).
    let json = summary_json(&d.join("t1"));
    let shares = &json["suppliers"][0]["binding_share"];
    let varies = ["packaging", "dies", "hbm", "none"].iter().any(|k| {
        shares[*k]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v.as_f64().unwrap() > 0.0 && v.as_f64().unwrap() < 1.0)
    });
    assert!(varies, "{shares}");
}

/// A supplier whose output is uncertain: wafer starts uniform on
/// [1000, 2000), 10 dies a wafer at yield 1, nothing else binding, so a
/// quarter's output is floor(10 W), uniform on [10,000, 20,000).
const UNCERTAIN_OUTPUT: &str = r#"
[chips.a]
peak_flops = 1e14

[suppliers.s]
wafer_starts_per_quarter = { dist = "uniform", low = 1000, high = 2000 }

[suppliers.s.generations.a]
available = "2024Q1"
dies_per_wafer = 10
yield_initial = 1

[suppliers.s.tiers.all]

OBSERVE
"#;

#[test]
fn supplier_output_is_evidence_added_up_over_its_window() {
    // Two quarters' output is 2 floor(10 W): below 30,000 exactly when
    // W < 1500 (floor(10 W) < 15,000), half of the uniform's range. Hard,
    // so the accepted share is that of 4,000 trials with p = 0.5: sd
    // 0.0079; the tolerance of 0.04 is five sd (a false failure about 1 in
    // 3.5 million, and the seed is fixed anyway).
    let observe = r#"[[observe]]
name = "made"
quantity = "supplier_output"
supplier = "s"
chip = "a"
from = "2024Q1"
to = "2024Q2"
below = 30000"#;
    let body = scenario(4, &UNCERTAIN_OUTPUT.replace("OBSERVE", observe)).replace("trials = 5", "trials = 4000");
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "s.toml", &body);
    let o = run_in(dir.path(), &["run", file.to_str().unwrap(), "--out", "out", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let json = summary_json(&dir.path().join("out"));
    let rate = json["evidence"]["acceptance_rate"].as_f64().unwrap();
    assert!((rate - 0.5).abs() < 0.04, "acceptance rate {rate}");
    // quarters.csv: the output's median lies in the uniform's range.
    let quarters = std::fs::read_to_string(dir.path().join("out/quarters.csv")).unwrap();
    let p50 = crate::common::quarter_p50(&quarters, "2024Q1", "supplier_output_chips[s]");
    assert!((10_000.0..15_000.0).contains(&p50), "prior P50 of output {p50}");
    // A name that is not the supplier's generation is refused at `chip`.
    let bad = scenario(
        4,
        &UNCERTAIN_OUTPUT.replace("OBSERVE", &observe.replace("chip = \"a\"", "chip = \"b\"")),
    );
    crate::common::assert_refused(&bad, "observe[0].chip", "makes no generation \"b\"");
}
