//! Property-based fuzzing of the scenario parser and validator
//! ([`Model::from_text`]) and, for inputs that validate, of a short run.
//!
//! What is fuzzed (one `#[test]` per property, so a failure of one does not
//! hide the others):
//!
//! * `random_bytes_never_panic` (500 cases): random bytes (up to 600, read
//!   as UTF-8 with replacement characters) must not panic, and every error
//!   must be well formed (see below).
//! * `random_unicode_text_never_panics` (500 cases): random Unicode text
//!   (multi-byte characters, control characters), same checks. Byte offsets
//!   inside multi-byte characters are where line/column code breaks.
//! * `toml_like_token_soup_never_panics` (500 cases): random sequences of
//!   TOML tokens (brackets, quotes, keys of the schema, numbers, multi-byte
//!   characters), which reach further into the TOML parser than random text.
//! * `mutated_scenarios_never_panic` (2,000 cases): one of the shipped
//!   scenarios with 1 to 4 random mutations (delete or duplicate a line;
//!   replace a number by an edge value or a distribution table; scale a
//!   number by a factor (keeps many files valid); replace a string by a bad
//!   quarter, another table's name or random text; rename a key to a near
//!   miss; insert a `key = value`, `[table]` or `[[expect]]` line; truncate
//!   at a character boundary). Errors must be well formed; a model that
//!   validates must satisfy the model's invariants (horizon 1..=200, trials
//!   1..=10^8, deadlines and other quarter indices inside the horizon,
//!   every chip/supply/uncertain index in range, ...) and must run 20 trials
//!   on one thread without panicking.
//! * `random_raw_bytes_never_panic` (300 cases): random bytes read as
//!   `sancsim` reads a file (`scenario::decode`, then `from_text`), not
//!   lossily: errors are well formed and a byte that is not UTF-8 is
//!   reported at its own line and column (computed independently).
//! * `corrupted_scenarios_are_rejected_where_the_corruption_is` (250
//!   cases): a shipped scenario with one corruption: a byte 0x80-0xFF
//!   inserted (rejected unless it completed a character), a byte-order mark
//!   in front (UTF-8: still valid; UTF-16/32: rejected naming the mark), an
//!   ASCII control character inserted (rejected on its line, naming U+00XX),
//!   a quoted quarter replaced by a malformed one (`+2024Q01`, `2024Q+4`,
//!   `02024Q1`, padded, full-width digits, ...: rejected as not a quarter).
//! * `missing_top_level_table_is_named_in_the_key_path` (plain test): the
//!   one violation of property 2 the fuzzer found (now fixed), kept as a
//!   regression test.
//! * `mutations_reach_every_outcome` (plain test): the mutation generator
//!   really produces valid models, semantic errors and TOML syntax errors,
//!   so the properties above are not vacuous; `checks_can_fail` feeds each
//!   check a broken error, model or panicking call and expects a failure.
//!
//! "Well formed" means: `Error::Scenario` (no other variant) with at least
//! one error; every message non-empty; `file` is the name passed in; a line,
//! when given, lies in `1..=lines + 1` and its column in `1..=chars on that
//! line + 1` (a column only ever with a line); the `Display` of the error
//! never contains "panicked"; and, when the text is valid TOML
//! (`toml::from_str::<toml::Table>`), every error names a key path (not the
//! document root) unless its message is one of the documented top-level ones
//! ("the scenario defines no chips/milestones"). The one known violation of
//! the last rule is exempted in `check_key_paths`, narrowly and with a
//! comment, and asserted by its own failing test instead.
//!
//! Every call under test runs inside `std::panic::catch_unwind` on a helper
//! thread with a generous watchdog (30 s for work that takes milliseconds),
//! so a panic or a hang fails the property instead of aborting or stalling
//! the test binary.
//!
//! Not flaky: every property uses a fixed ChaCha seed
//! (`rng_seed: RngSeed::Fixed(FUZZ_SEED)`, `rng_algorithm: ChaCha`), which
//! overrides `PROPTEST_RNG_SEED`, and a fixed case count, so every run (CI or
//! local, any thread count) tries exactly the same inputs; no failure files
//! are written (`failure_persistence: None`). The coverage test uses
//! `TestRng::deterministic_rng(ChaCha)`. For a deeper local search, set
//! `SANCSIM_FUZZ_SEED=<u64>` and/or `SANCSIM_FUZZ_SCALE=<n>` (multiplies
//! every case count); CI sets neither.
//!
//! Runtime (debug build, 2 cores, `cargo test --test fuzz_scenarios`, after
//! the build): 12-19 s measured (19 s on a loaded machine), almost all of it the 2,000 mutation cases
//! (debug `from_text` takes about 3.5 ms on default.toml, 20 trials 5 ms).
//! The two byte-level properties add about 1.2 s of CPU (`cargo test --test
//! fuzz_scenarios -- random_raw corrupted`: 2.7 s wall at load average 6);
//! the whole file measured 31 s wall, 18 s user, at load average 6.

use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, RngSeed, TestRng, TestRunner};

use sancsim::error::{Error, Seg};
use sancsim::model::{Demand, Fill, MAX_HORIZON_QUARTERS, MAX_TRIALS, Model, Policy, Trigger};
use sancsim::scenario::decode as decode_bytes;
use sancsim::trials::run_trials;

/// Seed of every property (any fixed value keeps runs reproducible).
const FUZZ_SEED: u64 = 0x5a9c_5130_f022_2024;

/// The shipped scenarios that mutations start from.
const SHIPPED: &[(&str, &str)] = &[
    ("scenarios/default.toml", include_str!("../scenarios/default.toml")),
    ("scenarios/minimal.toml", include_str!("../scenarios/minimal.toml")),
    (
        "scenarios/optimistic_yield.toml",
        include_str!("../scenarios/optimistic_yield.toml"),
    ),
    (
        "scenarios/successor_910c.toml",
        include_str!("../scenarios/successor_910c.toml"),
    ),
    (
        "scenarios/tight_controls.toml",
        include_str!("../scenarios/tight_controls.toml"),
    ),
    // Chip priorities and gates; demand in tokens; cluster steps and MFU by size.
    (
        "scenarios/foreign_mix.toml",
        include_str!("../scenarios/foreign_mix.toml"),
    ),
    ("scenarios/current.toml", include_str!("../scenarios/current.toml")),
    (
        "scenarios/supernode_scaling.toml",
        include_str!("../scenarios/supernode_scaling.toml"),
    ),
    // A supplier with generations, tiers and shocks on its inputs.
    (
        "scenarios/world_2025.toml",
        include_str!("../scenarios/world_2025.toml"),
    ),
];

/// File names passed to `from_text`; errors must echo them exactly.
const FILE_NAMES: &[&str] = &["scenario.toml", "dir/sub dir/é.toml", "", "C:\\x\\y.toml", "a:1:2.toml"];

/// Limit for one call under test; real calls take milliseconds.
const WATCHDOG: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// A fixed-seed, non-persisting configuration running `cases` cases.
fn config(cases: u32) -> ProptestConfig {
    let scale = env_u64("SANCSIM_FUZZ_SCALE").unwrap_or(1).max(1) as u32;
    ProptestConfig {
        cases: cases.saturating_mul(scale),
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(env_u64("SANCSIM_FUZZ_SEED").unwrap_or(FUZZ_SEED)),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Running the code under test
// ---------------------------------------------------------------------------

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Runs `f` under `catch_unwind` on its own thread; a panic or a call that
/// outlives [`WATCHDOG`] is an `Err` describing it.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(Ok(v)) => {
            let _ = handle.join();
            Ok(v)
        }
        Ok(Err(payload)) => {
            let _ = handle.join();
            Err(format!("{what} panicked: {}", panic_message(payload.as_ref())))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!("{what} did not return within {WATCHDOG:?}")),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(format!("{what}: its thread died without a result")),
    }
}

/// `Model::from_text`, asserting that it does not panic (or hang).
fn from_text(text: &str, file: &str) -> Result<Result<Model, Error>, TestCaseError> {
    let (t, f) = (text.to_string(), file.to_string());
    guarded("Model::from_text", move || Model::from_text(&t, &f)).map_err(TestCaseError::fail)
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/// Property 2: the error is `Error::Scenario` with well-formed entries.
fn check_well_formed(text: &str, file: &str, err: &Error) -> Result<(), TestCaseError> {
    let Error::Scenario(errs) = err else {
        return Err(TestCaseError::fail(format!(
            "from_text returned a non-scenario error: {err:?}"
        )));
    };
    prop_assert!(!errs.is_empty(), "Error::Scenario with no errors");
    let shown = err.to_string();
    prop_assert!(!shown.contains("panicked"), "error display mentions a panic: {shown}");
    let line_texts: Vec<&str> = text.split('\n').collect();
    let lines = text.lines().count();
    for e in errs {
        prop_assert!(!e.message.trim().is_empty(), "empty message: {e:?}");
        prop_assert_eq!(&e.file, file, "error names the wrong file: {:?}", e);
        if let Some(line) = e.line {
            prop_assert!(
                (1..=lines + 1).contains(&line),
                "line {line} outside 1..={} in {e:?}",
                lines + 1
            );
            if let Some(col) = e.column {
                let width = line_texts.get(line - 1).map(|l| l.chars().count()).unwrap_or(0);
                prop_assert!(
                    (1..=width + 1).contains(&col),
                    "column {col} outside 1..={} on line {line} in {e:?}",
                    width + 1
                );
            }
        } else {
            prop_assert!(e.column.is_none(), "a column without a line: {e:?}");
        }
    }
    Ok(())
}

/// Property 2 (key paths): on a file that is valid TOML, every error names a
/// key, except the documented top-level "defines no chips/milestones".
fn check_key_paths(text: &str, err: &Error) -> Result<(), TestCaseError> {
    let Error::Scenario(errs) = err else { return Ok(()) };
    if toml::from_str::<toml::Table>(text).is_err() {
        return Ok(());
    }
    for e in errs {
        prop_assert!(
            !e.key_path.0.is_empty() || e.message.contains("defines no"),
            "error on valid TOML has no key path: {e}"
        );
        // A key path never has an empty key unless the file wrote `"" = ...`.
        for seg in &e.key_path.0 {
            if let Seg::Key(k) = seg {
                prop_assert!(
                    !k.is_empty() || text.contains("\"\"") || text.contains("''"),
                    "empty key in {e}"
                );
            }
        }
    }
    Ok(())
}

/// Property 3: invariants of a model that validated.
fn check_model(m: &Model) -> Result<(), TestCaseError> {
    let h = m.horizon();
    let nu = m.uncertain.len();
    prop_assert!((1..=MAX_HORIZON_QUARTERS).contains(&h), "horizon {h}");
    prop_assert!((1..=MAX_TRIALS).contains(&m.trials), "trials {}", m.trials);
    prop_assert!(!m.chips.is_empty(), "no chips");
    prop_assert!(!m.milestones.is_empty(), "no milestones");
    for c in &m.chips {
        prop_assert!(
            c.peak_flops.is_finite() && c.peak_flops > 0.0,
            "peak_flops {}",
            c.peak_flops
        );
        prop_assert!(c.annual_failure_rate.is_none_or(|u| u < nu));
        prop_assert!(
            (1..=100).contains(&c.training_priority),
            "training_priority {}",
            c.training_priority
        );
        prop_assert!(
            (1..=100).contains(&c.inference_priority),
            "inference_priority {}",
            c.inference_priority
        );
    }
    let mut order = m.allocation_order.clone();
    order.sort_unstable();
    prop_assert!(
        order == (0..m.chips.len()).collect::<Vec<_>>(),
        "allocation order {:?}",
        m.allocation_order
    );
    for w in m.cluster_order.windows(2) {
        let (a, b) = (&m.chips[w[0]], &m.chips[w[1]]);
        prop_assert!(
            (a.training_priority, w[0]) < (b.training_priority, w[1]),
            "cluster order {:?}",
            m.cluster_order
        );
    }
    for ms in &m.milestones {
        prop_assert!(
            ms.deadline < h,
            "milestone {} deadline {} >= horizon {h}",
            ms.name,
            ms.deadline
        );
        prop_assert!(ms.target_flop.is_finite() && ms.target_flop > 0.0);
    }
    for s in &m.supply {
        prop_assert!(
            s.chip < m.chips.len(),
            "supply {} chip {} of {}",
            s.name,
            s.chip,
            m.chips.len()
        );
        prop_assert_eq!(s.orders.len(), h as usize);
        match s.fill {
            Fill::Rate(f) => prop_assert!(f < nu),
            Fill::Supplier {
                supplier, tier, share, ..
            } => {
                prop_assert!(
                    supplier < m.suppliers.len() && share < nu,
                    "supply {} supplier {supplier}",
                    s.name
                );
                prop_assert!(
                    tier < m.suppliers[supplier].tiers.len(),
                    "supply {} tier {tier}",
                    s.name
                );
                prop_assert!(
                    m.suppliers[supplier].generations.iter().any(|g| g.chip == s.chip),
                    "supply {} chip {} not made by its supplier",
                    s.name,
                    s.chip
                );
            }
        }
        prop_assert!(s.lead_time_quarters < nu);
        prop_assert!(
            s.gates.iter().all(|&g| g < m.gates.len()),
            "supply {} gates {:?}",
            s.name,
            s.gates
        );
        prop_assert!(s.quota_chips_per_quarter.is_none_or(|u| u < nu));
        prop_assert!(s.domestic_cap.as_ref().is_none_or(|c| c.len() == h as usize));
    }
    for sh in &m.shocks {
        match sh.trigger {
            Trigger::At { quarter, probability } => {
                prop_assert!(quarter < h, "shock {} at {quarter}", sh.name);
                prop_assert!((0.0..=1.0).contains(&probability));
            }
            Trigger::Hazard { hazard, from, until } => {
                prop_assert!(from <= until && until < h, "shock {} {from}..={until}", sh.name);
                prop_assert!((0.0..=1.0).contains(&hazard));
            }
        }
        prop_assert!(sh.duration_quarters.is_none_or(|u| u < nu));
        for e in &sh.gate_effects {
            prop_assert!(e.gate < m.gates.len(), "effect on gate {}", e.gate);
        }
        for g in &m.gates {
            prop_assert_eq!(g.events.len(), h as usize);
            prop_assert!(g.chance.start() <= g.chance.end() && *g.chance.end() < h);
            prop_assert!(g.close_probability.is_none_or(|u| u < nu) && g.open_probability.is_none_or(|u| u < nu));
        }
        for e in &sh.supplier_effects {
            prop_assert!(e.supplier < m.suppliers.len(), "effect on supplier {}", e.supplier);
            let sup = &m.suppliers[e.supplier];
            prop_assert!(e.delay.is_none_or(|(g, d)| g < sup.generations.len() && d < nu));
            prop_assert!(
                e.tier_priority
                    .is_none_or(|(t, p)| t < sup.tiers.len() && (1..=100).contains(&p))
            );
            for id in [
                e.wafer_starts,
                e.packaging,
                e.hbm_imports,
                e.yield_learning,
                e.die_bank,
                e.hbm_stock,
            ] {
                prop_assert!(id.is_none_or(|u| u < nu));
            }
        }
        for e in &sh.effects {
            prop_assert!(e.supply < m.supply.len(), "effect on supply {}", e.supply);
            prop_assert!(e.share_multiplier.is_none_or(|u| u < nu));
            prop_assert!(e.fill_rate_multiplier.is_none_or(|u| u < nu));
            prop_assert!(e.add_lead_time_quarters.is_none_or(|u| u < nu));
        }
    }
    let mut made = vec![0; m.chips.len()];
    for sup in &m.suppliers {
        prop_assert!(
            !sup.generations.is_empty() && !sup.tiers.is_empty(),
            "supplier {}",
            sup.name
        );
        prop_assert!(sup.wafer_starts < nu);
        for g in &sup.generations {
            prop_assert!(g.chip < m.chips.len());
            made[g.chip] += 1;
            prop_assert!((1..=40).contains(&g.ramp) && (1..=16).contains(&g.dies_per_package));
            prop_assert!(g.hbm_stacks_per_package <= 64 && g.dies_per_wafer > 0.0 && g.dies_per_wafer <= 1e5);
            prop_assert!(g.yield_initial < nu && g.yield_max.is_none_or(|u| u < nu));
        }
        for t in &sup.tiers {
            prop_assert!(
                (1..=100).contains(&t.priority),
                "tier {} priority {}",
                t.name,
                t.priority
            );
        }
        prop_assert!(sup.hbm_domestic.as_ref().is_none_or(|d| (1..=40).contains(&d.ramp)));
    }
    prop_assert!(made.iter().all(|&n| n <= 1), "a chip type made by two suppliers");
    for c in &m.chips {
        prop_assert!(
            c.derating > 0.0 && c.derating <= 1.0 && c.peak_flops > 0.0,
            "chip {}",
            c.name
        );
    }
    prop_assert_eq!(m.fleet_inference.len(), m.chips.len());
    prop_assert_eq!(m.fleet_training.len(), m.chips.len());
    if let Some(inf) = &m.inference {
        prop_assert!(inf.unit_chip < m.chips.len());
        match inf.demand {
            Demand::Chips {
                initial_demand_chips,
                growth_per_quarter,
            } => prop_assert!(initial_demand_chips < nu && growth_per_quarter.is_none_or(|u| u < nu)),
            Demand::Tokens {
                tokens_per_day,
                token_growth_per_quarter,
                flop_per_token,
                flop_per_token_change_per_quarter,
                serving_utilization,
            } => {
                prop_assert!(tokens_per_day < nu && flop_per_token < nu && serving_utilization < nu);
                prop_assert!(token_growth_per_quarter.is_none_or(|u| u < nu));
                prop_assert!(flop_per_token_change_per_quarter.is_none_or(|u| u < nu));
                // Draws are clamped to the valid ranges: (0, 1e18] from above,
                // and at most 1 for the utilisation.
                prop_assert!(m.uncertain[serving_utilization].max == 1.0);
                prop_assert!(m.uncertain[tokens_per_day].max == 1e18);
            }
        }
    }
    if let Policy::FixedShare(s) = m.policy {
        prop_assert!((0.0..=1.0).contains(&s), "training_share {s}");
    }
    let t = &m.training;
    prop_assert!(t.earliest_start < h, "earliest_start {}", t.earliest_start);
    prop_assert!(1 <= t.min_cluster_chips && t.min_cluster_chips <= t.max_cluster_chips);
    prop_assert!(t.mfu < nu && t.goodput < nu);
    for w in t.max_cluster_steps.windows(2) {
        prop_assert!(w[0].0 < w[1].0, "steps {:?}", t.max_cluster_steps);
    }
    for &(q, n) in &t.max_cluster_steps {
        prop_assert!(0 < q && q < h && n >= t.min_cluster_chips, "step ({q}, {n})");
    }
    if let Some((e, n)) = t.mfu_size {
        prop_assert!((0.0..=1.0).contains(&e) && n >= 1, "mfu_size ({e}, {n})");
    }
    if let Some(l) = t.max_run_quarters {
        prop_assert!((0.1..=200.0).contains(&l), "max_run_quarters {l}");
        prop_assert!(t.max_run_seconds.is_some_and(|s| s > 0));
    }
    Ok(())
}

/// Property 4: a valid model runs a few trials without panicking.
fn check_runs(m: &Model) -> Result<(), TestCaseError> {
    let model = m.clone();
    let r = guarded("run_trials", move || {
        run_trials(&model, model.seed, 0..20, Some(1)).map(|a| {
            // With observations, a posterior with any weight is summarised
            // (as `run` does once it has enough effective trials).
            let mut relaxed = model.clone();
            relaxed.min_effective_sample_size = 1;
            if sancsim::evidence::require_enough(&relaxed, &a).is_ok() {
                let _ = sancsim::results::Summary::new(&relaxed, &a, 1, "h");
            }
            (a.trials, a.horizon)
        })
    })
    .map_err(TestCaseError::fail)?;
    match r {
        Ok((trials, horizon)) => {
            prop_assert_eq!(trials, 20);
            prop_assert_eq!(horizon, m.horizon());
            Ok(())
        }
        Err(e) => Err(TestCaseError::fail(format!("run_trials failed: {e}"))),
    }
}

/// Properties 1 and 2 for one text; a failure message ends with the text.
fn check_text(text: &str, file: &str) -> Result<Option<Model>, TestCaseError> {
    let checked = match from_text(text, file) {
        Ok(Ok(m)) => Ok(Some(m)),
        Ok(Err(e)) => check_well_formed(text, file, &e)
            .and_then(|()| check_key_paths(text, &e))
            .map(|()| None),
        Err(fail) => Err(fail),
    };
    checked.map_err(|e| with_text(e, text))
}

/// Adds the input text to a failure, so it can be reproduced without proptest.
fn with_text(e: TestCaseError, text: &str) -> TestCaseError {
    match e {
        TestCaseError::Fail(reason) => TestCaseError::fail(format!(
            "{reason}\n--- scenario text ({} bytes) ---\n{text}\n--- end ---",
            text.len()
        )),
        other => other,
    }
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/// Tokens for TOML-like random text.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "[", "]", "[[", "]]", "{", "}", "=", " = ", ",", ".", "\"", "'", "\n", "\n", "\n", " ", "\t", "#", "\r\n", "\r",
    "\"\"\"", "'''", "\\", "\\u00e9", "\\uD800", "\u{0}", "\u{feff}", "é", "日本", "🦀", "\u{301}", "scenario",
    "chips", "supply", "training", "milestones", "shocks", "fleet", "inference", "allocation", "expect", "name",
    "start", "mfu", "peak_flops", "target_flop", "deadline", "orders", "chip", "quarter", "dist", "p5", "p95",
    "\"2024Q1\"", "\"2024Q4\"", "\"x\"", "\"é\"", "1", "-1", "0.5", "1e300", "nan", "inf", "-inf", "true",
    "1979-05-27", "07:32:00", "0x1F", "1_000", "a.b", "\"a.b\"", "[scenario]\nname = \"n\"\nstart = \"2024Q1\"\n",
    "[training]\nmfu = 0.4\n", "[chips.c]\npeak_flops = 1e14\n", "[milestones.m]\ntarget_flop = 1e20\n",
];

/// Keys of the schema (for renames and inserted lines).
#[rustfmt::skip]
const KEYS: &[&str] = &[
    "name", "description", "start", "horizon_quarters", "trials", "seed", "peak_flops", "domestic",
    "annual_failure_rate", "chip", "orders", "fill_rate", "lead_time_quarters", "backlog", "quarter", "from", "to",
    "chips", "source", "at", "probability", "hazard_per_quarter", "until", "duration_quarters", "effects",
    "supply", "fill_rate_multiplier", "add_lead_time_quarters", "stop", "inference", "training", "unit_chip",
    "initial_demand_chips", "growth_per_quarter", "policy", "training_share", "reserve_chips", "earliest_start",
    "min_cluster_chips", "max_cluster_chips", "mfu", "goodput", "allow_foreign_chips", "target_flop", "deadline",
    "domestic_only", "dist", "value", "low", "high", "mean", "sd", "min", "max", "mu", "sigma", "alpha", "beta",
    "mode", "p5", "p95", "per", "expect", "milestone", "min_probability", "max_probability", "scenario",
    "milestones", "shocks", "fleet", "allocation", "x", "sampling", "correlation", "inputs", "rank", "matrix",
    "repair", "observe", "quantity", "line", "shock", "key", "by", "at_least", "below", "happened", "confidence",
    "scale", "min_effective_sample_size", "max_run_quarters", "training_priority", "inference_priority",
    "gates", "initially_open", "close_probability", "open_probability", "events", "open", "gate",
    "quota_chips_per_quarter", "domestic_purchase_ratio", "max_cluster_chips_from", "mfu_size_exponent",
    "mfu_reference_chips",
    "tokens_per_day", "token_growth_per_quarter", "flop_per_token", "flop_per_token_change_per_quarter",
    "serving_utilization",
    "suppliers", "supplier", "tier", "share", "derating", "memory_gb", "wafer_starts_per_quarter",
    "wafer_starts_growth_per_quarter", "packaging_per_quarter", "packaging_growth_per_quarter", "die_bank",
    "hbm_stock", "hbm_imports_per_quarter", "hbm_domestic_per_quarter", "hbm_domestic_from",
    "hbm_domestic_delay_quarters", "hbm_domestic_ramp_quarters", "generations", "tiers", "available",
    "slip_quarters", "ramp_quarters", "dies_per_wafer", "dies_per_package", "hbm_stacks_per_package",
    "yield_initial", "yield_max", "yield_time_constant_quarters", "priority", "demand_per_quarter",
    "demand_growth_per_quarter", "share_multiplier", "wafer_starts_multiplier", "packaging_multiplier",
    "hbm_imports_multiplier", "yield_learning_multiplier", "die_bank_multiplier", "hbm_stock_multiplier",
    "generation", "delay_quarters", "run_failure_probability", "run_failure_lost_quarters",
];

/// Whole lines to insert besides `key = value` ones.
const HEADERS: &[&str] = &[
    "[chips.new_chip]",
    "[supply.extra]",
    "[shocks.extra]",
    "[milestones.extra]",
    "[fleet.ascend_910b]",
    "[fleet.ghost]",
    "[[expect]]",
    "[[expect]]\nmilestone = \"dsv3_class\"\nmin_probability = 0.2\nmax_probability = 0.9",
    "[[expect]]\nmilestone = \"one_e25\"\nmin_probability = 0.9\nmax_probability = 0.1",
    "[[expect]]\nmilestone = \"ghost\"\nmax_probability = 1.5",
    "[[expect]]\nmilestone = \"gpt4_class\"\nmin_probability = nan",
    "[[correlation]]",
    "[[correlation]]\ninputs = [\"training.mfu\", \"training.goodput\"]\nrank = 0.8",
    "[[correlation]]\ninputs = [\"training.mfu\", \"training.goodput\"]\nrank = -1",
    "[[correlation]]\ninputs = [\"training.mfu\", \"training.mfu\"]\nrank = 0.5",
    "[[correlation]]\ninputs = [\"training.mfu\", \"ghost.x\"]\nrank = nan",
    "[[correlation]]\ninputs = [\"training.mfu\", \"training.goodput\", \"inference.growth_per_quarter\"]\nmatrix = [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]\nrepair = \"nearest\"",
    "[[correlation]]\ninputs = [\"training.mfu\", \"training.goodput\", \"inference.growth_per_quarter\"]\nmatrix = [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]",
    "[[correlation]]\ninputs = [\"training.mfu\", \"training.goodput\"]\nmatrix = [[1, 0.5], [0.4, 1, 0]]",
    "[[correlation]]\ninputs = [\"training.mfu\", \"training.goodput\"]\nmatrix = []\nrank = 0.1",
    "[[correlation]]\ninputs = []\nrepair = \"farthest\"",
    "sampling = \"lhs\"",
    "min_effective_sample_size = 1",
    "max_run_quarters = 3",
    "max_run_quarters = 0.1",
    "max_run_quarters = 0",
    "max_run_quarters = { dist = \"uniform\", low = 1, high = 2 }",
    "[gates.us]\ninitially_open = false\nclose_probability = { p5 = 0.1, p95 = 0.5 }\nopen_probability = 0.3\nfrom = \"2024Q2\"\nevents = [{ quarter = \"2024Q3\", open = true }]",
    "[gates.beijing]\nevents = [{ quarter = \"2024Q2\", open = false }, { quarter = \"2024Q2\", open = true }]\nuntil = \"2023Q1\"",
    "gates = [\"us\", \"beijing\"]",
    "gates = [\"ghost\", \"us\", \"us\"]",
    "quota_chips_per_quarter = { p5 = 1000, p95 = 20000 }",
    "quota_chips_per_quarter = -5",
    "domestic_purchase_ratio = 0.5",
    "domestic_purchase_ratio = 0",
    "effects = [{ gate = \"us\", open = false }]",
    "effects = [{ gate = \"us\", supply = \"bytedance_910b\", open = true, stop = true }]",
    "max_cluster_chips_from = [{ quarter = \"2025Q1\", chips = 50000 }, { quarter = \"2026Q4\", chips = 524288 }]",
    "max_cluster_chips_from = [{ quarter = \"2026Q1\", chips = 10 }, { quarter = \"2025Q1\", chips = 0 }]",
    "mfu_size_exponent = 0.1\nmfu_reference_chips = 8192",
    "mfu_size_exponent = 2",
    "mfu_reference_chips = 0",
    "training_priority = 2",
    "training_priority = 0",
    "inference_priority = 1",
    "inference_priority = 101",
    "[chips.h20]\npeak_flops = 1.48e14\ndomestic = false\ninference_priority = 1\n[supply.h20]\nchip = \"h20\"\norders = [{ from = \"2024Q1\", to = \"2024Q4\", chips = 30000 }]\n[fleet.h20]\ntraining = 5000",
    "[[observe]]\nname = \"g\"\nquantity = \"gate_open\"\ngate = \"us\"\nfrom = \"2024Q2\"\nto = \"2024Q2\"\nhappened = false",
    "[[observe]]\nname = \"g\"\nquantity = \"gate_open\"\ngate = \"ghost\"\nby = \"2030Q1\"\nhappened = true\nconfidence = 0.9",
    "[[observe]]",
    "[[observe]]\nname = \"hw\"\nquantity = \"supplier_output\"\nsupplier = \"hw\"\nfrom = \"2024Q1\"\nto = \"2024Q4\"\nat_least = 1e5\nbelow = 8e5\nconfidence = 0.8",
    "[[observe]]\nname = \"hw\"\nquantity = \"supplier_output\"\nsupplier = \"ghost\"\nchip = \"nope\"\nby = \"2024Q2\"\nvalue = 1e5\nsd = 0.2\nscale = \"log10\"",
    "[suppliers.hw]\nwafer_starts_per_quarter = { p5 = 10000, p95 = 40000 }\nwafer_starts_growth_per_quarter = 0.05\npackaging_per_quarter = 60000\ndie_bank = 2e6\nhbm_stock = { p5 = 1e6, p95 = 3e6 }\nhbm_domestic_per_quarter = 50000\nhbm_domestic_from = \"2025Q3\"\nhbm_domestic_delay_quarters = { dist = \"uniform\", low = 0, high = 4 }\nhbm_domestic_ramp_quarters = 3\n[suppliers.hw.generations.ascend_910b]\navailable = \"2023Q4\"\ndies_per_wafer = 60\nyield_initial = 0.3\nyield_max = 0.6\nhbm_stacks_per_package = 4\ndie_bank = true\n[suppliers.hw.tiers.state]\ndemand_per_quarter = 20000\n[suppliers.hw.tiers.commercial]\npriority = 2",
    "[suppliers.hw.generations.new_chip]\navailable = \"2024Q3\"\nslip_quarters = { dist = \"uniform\", low = 0, high = 3 }\nramp_quarters = 2\ndies_per_wafer = 30\ndies_per_package = 2\nhbm_stacks_per_package = 8\nyield_initial = 0.2",
    "[suppliers.hw.tiers.ghost]\npriority = 0\ndemand_per_quarter = -1",
    "supplier = \"hw\"\ntier = \"commercial\"\nshare = { p5 = 0.1, p95 = 0.4 }",
    "supplier = \"ghost\"\ntier = \"nobody\"",
    "chip = \"newest\"",
    "derating = 0.78\nmemory_gb = 112",
    "run_failure_probability = { p5 = 0.05, p95 = 0.5 }\nrun_failure_lost_quarters = { dist = \"uniform\", low = 0, high = 2 }",
    "run_failure_probability = 0.3",
    "derating = 1.5",
    "effects = [{ supplier = \"hw\", wafer_starts_multiplier = 0.5, hbm_imports_multiplier = 0, die_bank_multiplier = 0 }]",
    "effects = [{ supplier = \"hw\", generation = \"ascend_910b\", delay_quarters = 2, tier = \"state\", priority = 3 }]",
    "effects = [{ supplier = \"hw\", supply = \"bytedance_910b\", yield_learning_multiplier = 0.5 }]",
    "effects = [{ supply = \"bytedance_910b\", share_multiplier = 0.5 }]",
    "[[observe]]\nname = \"o\"\nquantity = \"delivered_chips\"\nline = \"bytedance_910b\"\nby = \"2024Q2\"\nbelow = 30000",
    "[[observe]]\nname = \"o\"\nquantity = \"delivered_chips\"\nchip = \"ascend_910b\"\nfrom = \"2024Q3\"\nto = \"2024Q2\"\nat_least = 5\nsd = 10",
    "[[observe]]\nname = \"f\"\nquantity = \"training_flop_domestic\"\nby = \"2026Q2\"\nbelow = 2e25\nconfidence = 0.8",
    "[[observe]]\nname = \"f\"\nquantity = \"training_flop\"\nby = \"2026Q2\"\nvalue = 1e25\nsd = 0.3\nscale = \"log10\"",
    "[[observe]]\nname = \"r\"\nquantity = \"largest_run_flop_domestic\"\nby = \"2026Q2\"\nbelow = 2e25\nconfidence = 0.8",
    "[[observe]]\nname = \"r\"\nquantity = \"largest_run_flop\"\nfrom = \"2025Q1\"\nto = \"2026Q2\"\nat_least = 1e25",
    "[[observe]]\nname = \"f\"\nquantity = \"training_chips\"\nfrom = \"2025Q1\"\nto = \"2025Q2\"\nat_least = nan",
    "[[observe]]\nname = \"i\"\nquantity = \"input\"\nkey = \"training.mfu\"\nvalue = 0.4\nsd = 0.05",
    "[[observe]]\nname = \"i\"\nquantity = \"input\"\nkey = \"ghost.x\"\nat_least = 0.4\nbelow = 0.3",
    "[[observe]]\nname = \"s\"\nquantity = \"shock\"\nshock = \"hbm_rule_dec2024\"\nhappened = true\nby = \"2024Q4\"",
    "[[observe]]\nname = \"s\"\nquantity = \"shock\"\nshock = \"ghost\"\nhappened = false\nconfidence = 1",
    "[[observe]]\nname = \"m\"\nquantity = \"milestone\"\nmilestone = \"dsv3_class\"\nhappened = false\nsd = 1",
    "[[observe]]\nname = \"t\"\nquantity = \"training_started\"\nhappened = true\nfrom = \"2025Q1\"\nto = \"2026Q4\"",
    "[[observe]]\nname = \"bad name\"\nquantity = \"weather\"",
    "[inference]",
    "tokens_per_day = { p5 = 2e12, p95 = 7e12 }\nflop_per_token = 7.4e10\nserving_utilization = { p5 = 0.1, p95 = 0.35 }",
    "tokens_per_day = 1e12\ntoken_growth_per_quarter = { p5 = 0.2, p95 = 0.7, per = \"quarter\" }\nflop_per_token = { dist = \"pert\", min = 3e10, mode = 7.4e10, max = 1.5e11 }\nflop_per_token_change_per_quarter = -0.2\nserving_utilization = { dist = \"beta\", alpha = 2, beta = 6 }",
    "tokens_per_day = 0\nflop_per_token = 1e30\nserving_utilization = 0",
    "tokens_per_day = { dist = \"normal\", mean = 1e12, sd = 2e12 }\nflop_per_token = 1e18\nserving_utilization = { dist = \"normal\", mean = 0.1, sd = 0.5 }\ntoken_growth_per_quarter = 100\nflop_per_token_change_per_quarter = 10",
    "token_growth_per_quarter = -1\nflop_per_token_change_per_quarter = -0.99",
    "[inference]\nunit_chip = \"ascend_910b\"\ntokens_per_day = 3e12\nflop_per_token = 7.4e10\nserving_utilization = 0.2",
    "[inference]\nunit_chip = \"ascend_910b\"\ntokens_per_day = 3e12\ninitial_demand_chips = 5",
    "[allocation]",
    "[scenario]",
    "[training]",
    "[chips]",
    "[\"quoted key\".x]",
    "[chips.\"é\"]",
    "",
    "# comment",
];

fn toml_float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{f:?}")
    }
}

/// A number literal: edge values, random integers and floats.
fn scalar_literal() -> impl Strategy<Value = String> {
    #[rustfmt::skip]
    const EDGES: &[&str] = &[
        "0", "-0", "1", "-1", "2", "0.5", "0.999", "1.0", "1.5", "3", "16", "199", "200", "201", "0.0", "-0.0",
        "1e300", "-1e300", "1e-300", "5e-324", "1.7976931348623157e308", "nan", "+nan", "-nan", "inf", "+inf",
        "-inf", "4294967295", "4294967296", "9223372036854775807", "-9223372036854775808", "18446744073709551615",
        "18446744073709551616", "1000000000000", "1000000000001", "100000000", "100000001", "1e14", "3.2e14",
        "1e20", "1e21", "1e40", "1e41", "0x10", "0o7", "0b1", "1_000", "25000", "1e12", "400", "401", "100",
    ];
    prop_oneof![
        6 => select(EDGES).prop_map(str::to_string),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        2 => (0u64..1000).prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(toml_float),
        2 => (-3.0f64..3.0).prop_map(toml_float),
    ]
}

/// An inline distribution table, from a list of interesting ones or random.
fn dist_table() -> impl Strategy<Value = String> {
    const TABLES: &[&str] = &[
        "{ dist = \"beta\", alpha = 2, beta = 3, per = \"quarter\" }",
        "{ dist = \"beta\", alpha = 1e-300, beta = 1e-300 }",
        "{ dist = \"beta\", alpha = 1e300, beta = 1e-300 }",
        "{ p5 = 0.1, p95 = 0.9 }",
        "{ p5 = 1, p95 = 0 }",
        "{ p5 = -1, p95 = 1, per = \"quarter\" }",
        "{ p5 = 1e-300, p95 = 1e300 }",
        "{ dist = \"normal\", mean = 0.5, sd = 0.2, min = 0, max = 1 }",
        "{ dist = \"normal\", mean = 0.5, sd = 0.1, min = 0.9, max = 0.1 }",
        "{ dist = \"normal\", mean = 0, sd = 1e-300, min = 0.5, max = 1 }",
        "{ dist = \"normal\", mean = 1e308, sd = 1e308 }",
        "{ dist = \"normal\", mean = 0, sd = 1, min = 5, max = 5.0000001 }",
        "{ dist = \"pert\", min = 0, mode = 0, max = 1 }",
        "{ dist = \"pert\", min = 0, mode = 0, max = 0 }",
        "{ dist = \"pert\", min = 0, mode = 1, max = 1, per = \"quarter\" }",
        "{ dist = \"uniform\", low = 0, high = 1, per = \"quarter\" }",
        "{ dist = \"uniform\", low = 1, high = 1 }",
        "{ dist = \"lognormal\", mu = 0, sigma = 1 }",
        "{ dist = \"lognormal\", mu = 700, sigma = 100, per = \"quarter\" }",
        "{ dist = \"triangular\", min = 0, mode = 1, max = 1 }",
        "{ dist = \"triangular\", min = 1, mode = 0, max = 2 }",
        "{ dist = \"fixed\", value = 0.5, source = \"x\" }",
        "{ value = nan }",
        "{ value = 0.5, per = \"trial\" }",
        "{ value = 0.5, per = \"year\" }",
        "{ dist = \"gamma\", alpha = 1 }",
        "{ dist = \"beta\" }",
        "{ source = \"only a source\" }",
        "{}",
        "{ dist = 3 }",
        "[1, 2]",
        "\"0.5\"",
        "true",
    ];
    #[rustfmt::skip]
    const KINDS: &[&str] = &[
        "fixed", "uniform", "normal", "lognormal", "beta", "triangular", "pert", "interval", "Normal", "betta",
    ];
    #[rustfmt::skip]
    const PARAMS: &[&str] = &[
        "value", "low", "high", "mean", "sd", "min", "max", "mu", "sigma", "alpha", "beta", "mode", "p5", "p95",
    ];
    let random = (
        prop::option::of(select(KINDS)),
        prop::collection::vec((select(PARAMS), scalar_literal()), 0..5),
        prop::option::of(select(&["trial", "quarter", "", "day"][..])),
    )
        .prop_map(|(kind, params, per)| {
            let mut parts = Vec::new();
            if let Some(k) = kind {
                parts.push(format!("dist = \"{k}\""));
            }
            let mut seen = Vec::new();
            for (p, v) in params {
                if !seen.contains(&p) {
                    seen.push(p);
                    parts.push(format!("{p} = {v}"));
                }
            }
            if let Some(per) = per {
                parts.push(format!("per = \"{per}\""));
            }
            format!("{{ {} }}", parts.join(", "))
        });
    prop_oneof![
        2 => select(TABLES).prop_map(str::to_string),
        3 => random,
    ]
}

/// Any replacement for a number: a scalar or a distribution table.
fn number_literal() -> impl Strategy<Value = String> {
    prop_oneof![3 => scalar_literal(), 1 => dist_table()]
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A replacement string value.
#[derive(Debug, Clone)]
enum StrValue {
    /// A literal (quoted when applied).
    Text(String),
    /// The name of one of the file's `[table.name]` headers.
    NameInFile(Index),
}

fn string_value() -> impl Strategy<Value = StrValue> {
    #[rustfmt::skip]
    const STRINGS: &[&str] = &[
        "2024Q5", "2024Q0", "", "2024q1", " 2024Q1 ", "Q1", "2024Q", "2024Q1Q2", "1899Q4", "1900Q1", "2200Q4",
        "2201Q1", "-2024Q1", "99999999999Q1", "2024Q+1", "2024Q01", "２０２４Q1", "2024Ｑ1", "normal", "lognormal",
        "beta", "pert", "triangular", "uniform", "fixed", "interval", "gamma", "trial", "quarter", "year",
        "inference_first", "fixed_share", "training_reserve", "ascend_910b", "ascend_910c", "bytedance_910b",
        "nope", "é", "🦀", "a.b", "x\ny", "lhs", "independent", "nearest", "training.mfu", "training.goodput",
        "supply.bytedance_910b.fill_rate",
    ];
    prop_oneof![
        4 => select(STRINGS).prop_map(|s| StrValue::Text(s.to_string())),
        2 => (1890i32..2210, 0u8..6).prop_map(|(y, q)| StrValue::Text(format!("{y}Q{q}"))),
        4 => (2023i32..2029, 1u8..5).prop_map(|(y, q)| StrValue::Text(format!("{y}Q{q}"))),
        3 => any::<Index>().prop_map(StrValue::NameInFile),
        1 => "[a-z_0-9]{0,12}".prop_map(StrValue::Text),
        1 => "\\PC{0,8}".prop_map(StrValue::Text),
        1 => ".{0,6}".prop_map(StrValue::Text),
    ]
}

/// How a key is changed.
#[derive(Debug, Clone)]
enum KeyEdit {
    /// Drop one character.
    Drop(Index),
    /// Swap two neighbouring characters.
    Swap(Index),
    /// Write one character twice.
    Double(Index),
    /// Upper-case the key.
    Upper,
    /// Another key of the schema (valid somewhere, maybe not here).
    Other(&'static str),
}

fn key_edit() -> impl Strategy<Value = KeyEdit> {
    prop_oneof![
        3 => any::<Index>().prop_map(KeyEdit::Drop),
        3 => any::<Index>().prop_map(KeyEdit::Swap),
        1 => any::<Index>().prop_map(KeyEdit::Double),
        1 => Just(KeyEdit::Upper),
        2 => select(KEYS).prop_map(KeyEdit::Other),
    ]
}

/// One mutation of a scenario file's text.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    ReplaceNumber(Index, String),
    /// Multiply a number literal by a factor (keeps many files valid while
    /// moving values to the edges of their ranges).
    ScaleNumber(Index, f64),
    ReplaceString(Index, StrValue),
    RenameKey(Index, KeyEdit),
    /// Insert this line before line `Index`.
    InsertLine(Index, String),
    /// Keep only the text before byte `Index` (moved down to a char boundary).
    Truncate(Index),
}

fn inserted_line() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        4 => number_literal(),
        2 => string_value().prop_map(|s| match s {
            StrValue::Text(t) => quote(&t),
            StrValue::NameInFile(_) => quote("ascend_910b"),
        }),
        1 => select(&["true", "false", "[]", "{}", "[{ quarter = \"2024Q2\", chips = 5 }]",
            "[{ from = \"2024Q3\", to = \"2024Q2\", chips = 5 }]", "[{ supply = \"bytedance_910b\", stop = true }]",
            "[{ chips = 5 }]", "1979-05-27T07:32:00Z", "\"\"\"multi\nline\"\"\""][..])
            .prop_map(str::to_string),
    ];
    let key = prop_oneof![4 => select(KEYS).prop_map(str::to_string), 1 => "[a-z_]{1,10}"];
    prop_oneof![
        4 => (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => select(HEADERS).prop_map(str::to_string),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        4 => (any::<Index>(), number_literal()).prop_map(|(i, n)| Mutation::ReplaceNumber(i, n)),
        3 => (any::<Index>(), select(&[0.0, 0.01, 0.5, 0.9, 1.1, 2.0, 10.0, 1e3, 1e6, -1.0][..]))
            .prop_map(|(i, f)| Mutation::ScaleNumber(i, f)),
        3 => (any::<Index>(), string_value()).prop_map(|(i, s)| Mutation::ReplaceString(i, s)),
        2 => (any::<Index>(), key_edit()).prop_map(|(i, e)| Mutation::RenameKey(i, e)),
        2 => (any::<Index>(), inserted_line()).prop_map(|(i, l)| Mutation::InsertLine(i, l)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

/// A shipped scenario (by index into [`SHIPPED`]) and 1 to 4 mutations.
fn mutated_scenario() -> impl Strategy<Value = (usize, Vec<Mutation>)> {
    (0..SHIPPED.len(), prop::collection::vec(mutation(), 1..=4))
}

fn mutated_text(file: usize, mutations: &[Mutation]) -> String {
    let mut text = SHIPPED[file].1.to_string();
    for m in mutations {
        apply(&mut text, m);
    }
    text
}

// ---------------------------------------------------------------------------
// Applying mutations
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Number,
    Str,
    Key,
}

fn is_bare(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.')
}

/// Approximate lexer: spans of number literals, quoted strings (with their
/// quotes) and keys (each dotted segment separately) outside comments.
fn scan(text: &str) -> Vec<(Tok, Range<usize>)> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let header = line.trim_start().starts_with('[');
        let mut seen_eq = false;
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        let mut i = 0;
        while i < chars.len() {
            let (at, c) = chars[i];
            match c {
                '#' => break,
                '=' => {
                    seen_eq = true;
                    i += 1;
                }
                '"' | '\'' => {
                    let mut j = i + 1;
                    while j < chars.len() && chars[j].1 != c && chars[j].1 != '\n' {
                        if c == '"' && chars[j].1 == '\\' {
                            j += 1;
                        }
                        j += 1;
                    }
                    if j >= chars.len() || chars[j].1 != c {
                        break;
                    }
                    let end = chars[j].0 + c.len_utf8();
                    let next_eq = line[end..].trim_start().starts_with('=');
                    let tok = if next_eq || (header && !seen_eq) {
                        Tok::Key
                    } else {
                        Tok::Str
                    };
                    out.push((tok, line_start + at..line_start + end));
                    i = j + 1;
                }
                c if is_bare(c) => {
                    let mut j = i;
                    while j < chars.len() && is_bare(chars[j].1) {
                        j += 1;
                    }
                    let end = chars.get(j).map(|x| x.0).unwrap_or(line.len());
                    let word = &line[at..end];
                    let next_eq = line[end..].trim_start().starts_with('=');
                    if next_eq || (header && !seen_eq) {
                        let mut off = at;
                        for seg in word.split('.') {
                            if !seg.is_empty() {
                                out.push((Tok::Key, line_start + off..line_start + off + seg.len()));
                            }
                            off += seg.len() + 1;
                        }
                    } else {
                        let first = word.trim_start_matches(['+', '-']);
                        let numeric = first.starts_with(|c: char| c.is_ascii_digit()) || matches!(first, "inf" | "nan");
                        if numeric {
                            out.push((Tok::Number, line_start + at..line_start + end));
                        }
                    }
                    i = j;
                }
                _ => i += 1,
            }
        }
        line_start += line.len();
    }
    out
}

/// Byte ranges of the lines of `text`, each with its newline.
fn line_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    for l in text.split_inclusive('\n') {
        out.push(at..at + l.len());
        at += l.len();
    }
    out
}

/// Names of the file's `[table.name]` headers.
fn table_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let inner = l.strip_prefix('[')?.split(']').next()?;
            let (_, name) = inner.split_once('.')?;
            Some(name.trim().trim_matches('"').to_string())
        })
        .collect()
}

fn edit_key(key: &str, edit: &KeyEdit) -> String {
    let mut cs: Vec<char> = key.chars().collect();
    if cs.is_empty() {
        return key.to_string();
    }
    match edit {
        KeyEdit::Drop(i) => {
            cs.remove(i.index(cs.len()));
        }
        KeyEdit::Swap(i) => {
            if cs.len() >= 2 {
                let k = i.index(cs.len() - 1);
                cs.swap(k, k + 1);
            }
        }
        KeyEdit::Double(i) => {
            let k = i.index(cs.len());
            cs.insert(k, cs[k]);
        }
        KeyEdit::Upper => return key.to_uppercase(),
        KeyEdit::Other(k) => return k.to_string(),
    }
    cs.into_iter().collect()
}

fn apply(text: &mut String, m: &Mutation) {
    let pick = |tok: Tok, i: &Index| -> Option<Range<usize>> {
        let spans: Vec<Range<usize>> = scan(text)
            .into_iter()
            .filter(|(t, _)| *t == tok)
            .map(|(_, r)| r)
            .collect();
        (!spans.is_empty()).then(|| spans[i.index(spans.len())].clone())
    };
    match m {
        Mutation::DeleteLine(i) => {
            let lines = line_ranges(text);
            if !lines.is_empty() {
                text.replace_range(lines[i.index(lines.len())].clone(), "");
            }
        }
        Mutation::DuplicateLine(i) => {
            let lines = line_ranges(text);
            if !lines.is_empty() {
                let r = lines[i.index(lines.len())].clone();
                let mut line = text[r.clone()].to_string();
                if !line.ends_with('\n') {
                    line.insert(0, '\n');
                }
                text.insert_str(if line.starts_with('\n') { r.end } else { r.start }, &line);
            }
        }
        Mutation::ReplaceNumber(i, n) => {
            if let Some(r) = pick(Tok::Number, i) {
                text.replace_range(r, n);
            }
        }
        Mutation::ScaleNumber(i, f) => {
            if let Some(r) = pick(Tok::Number, i) {
                let old = text[r.clone()].replace('_', "");
                let scaled = if let Ok(n) = old.parse::<i64>() {
                    let x = n as f64 * f;
                    if x.fract() == 0.0 && x.abs() < 9e15 {
                        format!("{}", x as i64)
                    } else {
                        toml_float(x)
                    }
                } else if let Ok(x) = old.parse::<f64>() {
                    toml_float(x * f)
                } else {
                    return;
                };
                text.replace_range(r, &scaled);
            }
        }
        Mutation::ReplaceString(i, s) => {
            if let Some(r) = pick(Tok::Str, i) {
                let value = match s {
                    StrValue::Text(t) => quote(t),
                    StrValue::NameInFile(k) => {
                        let names = table_names(text);
                        if names.is_empty() {
                            quote("none")
                        } else {
                            quote(&names[k.index(names.len())])
                        }
                    }
                };
                text.replace_range(r, &value);
            }
        }
        Mutation::RenameKey(i, e) => {
            if let Some(r) = pick(Tok::Key, i) {
                let key = text[r.clone()].to_string();
                let new = if key.starts_with(['"', '\'']) {
                    quote(&edit_key(&key[1..key.len() - 1], e))
                } else {
                    edit_key(&key, e)
                };
                text.replace_range(r, &new);
            }
        }
        Mutation::InsertLine(i, l) => {
            let lines = line_ranges(text);
            let at = if lines.is_empty() {
                0
            } else {
                lines[i.index(lines.len())].start
            };
            text.insert_str(at, &format!("{l}\n"));
        }
        Mutation::Truncate(i) => {
            let mut at = i.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.truncate(at);
        }
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(500))]

    /// Property 1 + 2 on random bytes (lossily decoded).
    #[test]
    fn random_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        file in select(FILE_NAMES),
    ) {
        let text = String::from_utf8_lossy(&bytes);
        check_text(&text, file)?;
    }

    /// Property 1 + 2 on random Unicode text.
    #[test]
    fn random_unicode_text_never_panics(text in ".{0,200}", file in select(FILE_NAMES)) {
        check_text(&text, file)?;
    }

    /// Property 1 + 2 on random sequences of TOML tokens.
    #[test]
    fn toml_like_token_soup_never_panics(
        tokens in prop::collection::vec(select(TOKENS), 0..80),
        file in select(FILE_NAMES),
    ) {
        let text = tokens.concat();
        check_text(&text, file)?;
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// Properties 1-4 on mutated shipped scenarios.
    #[test]
    fn mutated_scenarios_never_panic((base, mutations) in mutated_scenario(), file in select(FILE_NAMES)) {
        let text = mutated_text(base, &mutations);
        if let Some(model) = check_text(&text, file)? {
            check_model(&model).and_then(|()| check_runs(&model)).map_err(|e| with_text(e, &text))?;
        }
    }
}

// ---------------------------------------------------------------------------
// Bytes: encodings, byte-order marks, control characters, quarter syntax
// ---------------------------------------------------------------------------

/// `scenario::decode` (as `cli::load` calls it), asserting that it does not panic.
fn decode(bytes: &[u8], file: &str) -> Result<Result<String, Error>, TestCaseError> {
    let (b, f) = (bytes.to_vec(), file.to_string());
    guarded("scenario::decode", move || decode_bytes(&b, &f).map(str::to_string)).map_err(TestCaseError::fail)
}

/// Line and column (in characters, a leading UTF-8 byte-order mark not
/// counted) of the first byte that is not UTF-8, computed independently of
/// the library.
fn first_bad_byte(bytes: &[u8]) -> Option<(usize, usize)> {
    let at = std::str::from_utf8(bytes).err()?.valid_up_to();
    let prefix = std::str::from_utf8(&bytes[..at]).unwrap();
    let line = prefix.split('\n').count();
    let last = prefix.rsplit('\n').next().unwrap();
    let last = if line == 1 {
        last.strip_prefix('\u{feff}').unwrap_or(last)
    } else {
        last
    };
    Some((line, last.chars().count() + 1))
}

/// Properties 1 and 2 for raw bytes, decoded as `sancsim` reads a file: an
/// encoding error is well formed (against the lossily decoded text) and,
/// for bytes that are not UTF-8 (and no other byte-order mark), sits at the
/// first bad byte; text that decodes is checked as text.
fn check_bytes(bytes: &[u8], file: &str) -> Result<Option<Model>, TestCaseError> {
    let lossy = String::from_utf8_lossy(bytes).to_string();
    match decode(bytes, file)? {
        Ok(text) => check_text(&text, file),
        Err(e) => {
            check_well_formed(&lossy, file, &e).map_err(|f| with_text(f, &lossy))?;
            let Error::Scenario(errs) = &e else {
                unreachable!("checked above")
            };
            prop_assert!(errs[0].message.contains("UTF-8"), "no advice to use UTF-8: {e}");
            let bom = [&[0xFF, 0xFE][..], &[0xFE, 0xFF], &[0, 0, 0xFE, 0xFF]]
                .iter()
                .any(|b| bytes.starts_with(b));
            if let (Some((line, col)), false) = (first_bad_byte(bytes), bom) {
                prop_assert_eq!((errs[0].line, errs[0].column), (Some(line), Some(col)), "{}", e);
            }
            Ok(None)
        }
    }
}

/// Malformed quarters, each differing from `YYYYQn` in one way.
#[rustfmt::skip]
const BAD_QUARTERS: &[&str] = &[
    "+2024Q01", "2024Q01", "2024Q+4", "02024Q1", "+2024Q1", "-2024Q1", " 2024Q1", "2024Q1 ", "2024Q 1", "2024 Q1",
    "2024Q0", "2024Q5", "24Q1", "2024", "Q1", "2024Q", "2024-Q1", "2024QQ1", "2024Q1x", "２０２４Q1", "2024Q1\\u0000",
    "1899Q4", "2201Q1", "",
];

/// One corruption of a shipped scenario's bytes.
#[derive(Debug, Clone)]
enum Corruption {
    /// Insert one byte 0x80-0xFF (never valid UTF-8 on its own... unless it
    /// completes a character, which the check allows for).
    HighByte(u8, Index),
    /// Put a byte-order mark in front: UTF-8 (valid), UTF-16 or UTF-32.
    Bom(&'static [u8]),
    /// Insert an ASCII control character other than tab, LF and CR.
    Control(u8, Index),
    /// Replace a quoted `"YYYYQn"` value by a malformed quarter.
    Quarter(&'static str, Index),
}

fn corruption() -> impl Strategy<Value = Corruption> {
    const BOMS: &[&[u8]] = &[
        &[0xEF, 0xBB, 0xBF],
        &[0xFF, 0xFE],
        &[0xFE, 0xFF],
        &[0xFF, 0xFE, 0, 0],
        &[0, 0, 0xFE, 0xFF],
    ];
    prop_oneof![
        (0x80u8..=0xFF, any::<Index>()).prop_map(|(b, i)| Corruption::HighByte(b, i)),
        select(BOMS).prop_map(Corruption::Bom),
        (
            prop_oneof![0u8..=8, 0x0Bu8..=0x0C, 0x0Eu8..=0x1F, Just(0x7Fu8)],
            any::<Index>()
        )
            .prop_map(|(b, i)| Corruption::Control(b, i)),
        (select(BAD_QUARTERS), any::<Index>()).prop_map(|(q, i)| Corruption::Quarter(q, i)),
    ]
}

/// Byte offsets of every quoted `"YYYYQn"` value in `text` (the quotes included).
fn quarter_strings(text: &str) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(7))
        .filter(|&i| {
            let w = &b[i..i + 8];
            w[0] == b'"'
                && w[1..5].iter().all(u8::is_ascii_digit)
                && w[5] == b'Q'
                && (b'1'..=b'4').contains(&w[6])
                && w[7] == b'"'
        })
        .map(|i| i..i + 8)
        .collect()
}

/// The bytes of shipped scenario `base` with `c` applied.
fn corrupted(base: usize, c: &Corruption) -> Vec<u8> {
    let text = SHIPPED[base].1;
    let mut bytes = text.as_bytes().to_vec();
    // Insert at a character boundary, so the corruption is the only bad byte.
    let boundary = |i: &Index| {
        let mut at = i.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    match c {
        Corruption::HighByte(b, i) => bytes.insert(boundary(i), *b),
        Corruption::Bom(bom) => bytes.splice(0..0, bom.iter().copied()).for_each(drop),
        Corruption::Control(b, i) => bytes.insert(boundary(i), *b),
        Corruption::Quarter(q, i) => {
            let spots = quarter_strings(text);
            let r = spots[i.index(spots.len())].clone();
            bytes.splice(r, format!("\"{q}\"").into_bytes()).for_each(drop);
        }
    }
    bytes
}

proptest! {
    #![proptest_config(config(300))]

    /// Property 1 + 2 on random bytes read as `sancsim` reads a file (not
    /// lossily): most are not UTF-8.
    #[test]
    fn random_raw_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        file in select(FILE_NAMES),
    ) {
        check_bytes(&bytes, file)?;
    }
}

proptest! {
    #![proptest_config(config(250))]

    /// Properties 1-2 on shipped scenarios with one corruption: a byte that
    /// is not UTF-8 is located exactly; a UTF-8 byte-order mark changes
    /// nothing; UTF-16/32 marks are named; a control character is rejected
    /// on its own line, naming it (U+00XX); a malformed quarter is rejected
    /// as not a quarter.
    #[test]
    fn corrupted_scenarios_are_rejected_where_the_corruption_is(
        base in 0..SHIPPED.len(),
        c in corruption(),
        file in select(FILE_NAMES),
    ) {
        let bytes = corrupted(base, &c);
        let result = check_bytes(&bytes, file).map_err(|e| with_text(e, &format!("{c:?}")))?;
        let errors = || match decode_bytes(&bytes, file).map(|t| Model::from_text(t, file)) {
            Err(Error::Scenario(e)) | Ok(Err(Error::Scenario(e))) => e,
            _ => Vec::new(),
        };
        match &c {
            Corruption::HighByte(..) => {
                // Inserted before a continuation byte it may complete a
                // character; otherwise the file is not UTF-8.
                prop_assert!(result.is_none() || std::str::from_utf8(&bytes).is_ok(), "{c:?} accepted");
            }
            Corruption::Bom(bom) if bom.len() == 3 => {
                prop_assert!(result.is_some(), "a UTF-8 byte-order mark is valid: {:?}", errors());
            }
            Corruption::Bom(_) => {
                let e = errors();
                prop_assert!(e.len() == 1 && e[0].message.contains("byte-order mark"), "{c:?}: {e:?}");
            }
            Corruption::Control(b, i) => {
                let e = errors();
                let at = {
                    let text = SHIPPED[base].1;
                    let mut at = i.index(text.len() + 1);
                    while !text.is_char_boundary(at) { at -= 1; }
                    at
                };
                let line = bytes[..at].iter().filter(|&&x| x == b'\n').count() + 1;
                let named = format!("U+{b:04X}");
                prop_assert!(
                    result.is_none() && e.iter().any(|e| e.line == Some(line) && e.message.contains(&named)),
                    "{c:?}: control character on line {line} not reported as {named}: {e:?}"
                );
            }
            Corruption::Quarter(..) => {
                let e = errors();
                prop_assert!(
                    result.is_none() && e.iter().any(|e| e.message.contains("is not a quarter")),
                    "{c:?}: malformed quarter accepted or not named: {e:?}"
                );
            }
        }
    }
}

/// Found by this fuzzer and fixed: a missing top-level table used to be
/// reported at the root key path. Property 2 says an
/// error on a file that is valid TOML names a key path, unless it is a
/// documented top-level message ("defines no ..."). A missing `[training]`
/// or `[scenario]` table breaks it: the error is
/// `s.toml:1:1: (top level): missing field `training`` with an empty key
/// path and no useful position. Suggested: name the missing key (`training`,
/// `scenario`), or make it a documented top-level message. This test fails
/// until that is fixed (then also delete the exemption in `check_key_paths`).
#[test]
fn missing_top_level_table_is_named_in_the_key_path() {
    let cases = [
        ("no [training]", "[scenario]\nname = \"n\"\nstart = \"2024Q1\"\n"),
        ("no [scenario]", "[training]\nmfu = 0.4\n"),
        ("empty file", ""),
    ];
    let mut bad = Vec::new();
    for (what, text) in cases {
        let Err(Error::Scenario(errs)) = Model::from_text(text, "s.toml") else {
            panic!("{what}: accepted or not a scenario error")
        };
        for e in errs {
            if e.key_path.0.is_empty() && !e.message.contains("defines no") {
                bad.push(format!("{what}: {e}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "errors on valid TOML without a key path:\n{}",
        bad.join("\n")
    );
}

/// The shipped files are valid: the mutations start from valid models.
#[test]
fn shipped_scenarios_are_valid() {
    for (name, text) in SHIPPED {
        let m = Model::from_text(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!m.chips.is_empty(), "{name}");
    }
}

/// The mutation generator reaches valid models, semantic (or schema) errors
/// and TOML syntax errors in useful proportions, so no property above is
/// vacuous. Deterministic: a fixed ChaCha seed, 400 samples.
#[test]
fn mutations_reach_every_outcome() {
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = mutated_scenario();
    let (mut valid, mut semantic, mut syntax) = (0, 0, 0);
    for _ in 0..400 {
        let (base, mutations) = strategy.new_tree(&mut runner).expect("strategy").current();
        let text = mutated_text(base, &mutations);
        match Model::from_text(&text, "scenario.toml") {
            Ok(_) => valid += 1,
            Err(_) if toml::from_str::<toml::Table>(&text).is_ok() => semantic += 1,
            Err(_) => syntax += 1,
        }
    }
    eprintln!("mutated scenarios: {valid} valid, {semantic} rejected after parsing, {syntax} not TOML");
    assert!(valid >= 40, "only {valid} of 400 mutated scenarios validate");
    assert!(
        semantic >= 80,
        "only {semantic} of 400 are valid TOML but invalid scenarios"
    );
    assert!(syntax >= 20, "only {syntax} of 400 are not valid TOML");
}

/// The mutation helpers do what they say (so the fuzzer mutates what it means to).
#[test]
fn scanner_finds_numbers_strings_and_keys() {
    let text = "[chips.a] # x = 1\npeak_flops = 3.2e14 # 5\nname = \"x = 2\"\nf = { p5 = -1, p95 = inf }\n";
    let toks: Vec<(Tok, &str)> = scan(text).into_iter().map(|(t, r)| (t, &text[r])).collect();
    assert_eq!(
        toks,
        vec![
            (Tok::Key, "chips"),
            (Tok::Key, "a"),
            (Tok::Key, "peak_flops"),
            (Tok::Number, "3.2e14"),
            (Tok::Key, "name"),
            (Tok::Str, "\"x = 2\""),
            (Tok::Key, "f"),
            (Tok::Key, "p5"),
            (Tok::Number, "-1"),
            (Tok::Key, "p95"),
            (Tok::Number, "inf"),
        ]
    );
    assert_eq!(table_names(text), vec!["a".to_string()]);
    assert_eq!(line_ranges("ab\ncd"), vec![0..3, 3..5]);
}

/// Each check above can fail: fed a broken error, model or call, it reports it.
#[test]
fn checks_can_fail() {
    use sancsim::error::{KeyPath, ScenarioError};
    let text = "a = 1\nb = 2\n";
    let err = |line: Option<usize>, column: Option<usize>, key_path: KeyPath, message: &str, file: &str| {
        Error::Scenario(vec![ScenarioError {
            file: file.into(),
            line,
            column,
            key_path,
            message: message.into(),
        }])
    };
    let key = KeyPath::root().key("a");
    assert!(check_well_formed(text, "f", &err(Some(1), Some(1), key.clone(), "m", "f")).is_ok());
    assert!(check_well_formed(text, "f", &err(Some(3), Some(1), key.clone(), "m", "f")).is_ok());
    assert!(check_well_formed(text, "f", &err(Some(4), Some(1), key.clone(), "m", "f")).is_err());
    assert!(check_well_formed(text, "f", &err(Some(0), Some(1), key.clone(), "m", "f")).is_err());
    assert!(check_well_formed(text, "f", &err(Some(1), Some(0), key.clone(), "m", "f")).is_err());
    assert!(check_well_formed(text, "f", &err(Some(1), Some(7), key.clone(), "m", "f")).is_err());
    assert!(check_well_formed(text, "f", &err(None, Some(1), key.clone(), "m", "f")).is_err());
    assert!(check_well_formed(text, "f", &err(Some(1), Some(1), key.clone(), " ", "f")).is_err());
    assert!(check_well_formed(text, "f", &err(Some(1), Some(1), key.clone(), "m", "g")).is_err());
    assert!(check_well_formed(text, "f", &err(Some(1), Some(1), key.clone(), "panicked", "f")).is_err());
    assert!(check_well_formed(text, "f", &Error::Scenario(Vec::new())).is_err());
    assert!(check_well_formed(text, "f", &Error::Usage("u".into())).is_err());
    let root = KeyPath::root();
    assert!(check_key_paths(text, &err(None, None, root.clone(), "it defines no chips", "f")).is_ok());
    assert!(check_key_paths(text, &err(None, None, root.clone(), "bad", "f")).is_err());
    assert!(check_key_paths("a = ", &err(None, None, root.clone(), "bad", "f")).is_ok());
    assert!(check_key_paths(text, &err(None, None, root.key(""), "bad", "f")).is_err());

    let good = Model::from_text(SHIPPED[0].1, "d.toml").unwrap();
    assert!(check_model(&good).is_ok() && check_runs(&good).is_ok());
    let h = good.horizon();
    let mut m = good.clone();
    m.milestones[0].deadline = h;
    assert!(check_model(&m).is_err());
    let mut m = good.clone();
    m.supply[0].chip = m.chips.len();
    assert!(check_model(&m).is_err());
    let mut m = good.clone();
    m.trials = MAX_TRIALS + 1;
    assert!(check_model(&m).is_err());
    let mut m = good.clone();
    m.trials = 0;
    assert!(check_model(&m).is_err());
    // A shock effect on a supply line that does not exist.
    let mut m = good.clone();
    m.shocks[0].effects[0].supply = 99;
    m.shocks[0].trigger = Trigger::At {
        quarter: 0,
        probability: 1.0,
    };
    assert!(check_model(&m).is_err());
    // (The panic messages this prints to stderr are expected.)
    let mut m = good;
    m.supply[0].chip = 99;
    assert!(check_runs(&m).is_err(), "a panic in run_trials is caught and reported");
    assert!(guarded("boom", || panic!("boom")).unwrap_err().contains("boom"));
}
