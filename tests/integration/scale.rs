//! Runs at the sizes people use on clusters: 10^7 trials in one process and
//! a merge of real shards totalling 10^8 trials. Both used to hang for ever
//! after their last trial, in the exact binomial interval (statrs' inverse
//! incomplete beta loops for n above about 8·10^6).
//!
//! The scenario is tiny (two quarters) and has closed-form answers, so the
//! size of the run also buys a sharp check of the engine:
//! * a fleet of 10 chips trains from time 0; 100 chips are ordered in the
//!   first quarter with a fill rate drawn uniformly on (0, 1), so the number
//!   delivered, K ~ Binomial(100, U), is uniform on 0..=100; they arrive
//!   within the first quarter and join the run at the second quarter's start;
//! * both quarters last 91 days, so the compute at the horizon is
//!   (20 + K) units of 10^14 FLOP/s × 0.4 × 7,862,400 s = 3.14496e20 FLOP;
//! * `half` needs 69.5 units: reached exactly when K >= 50, P = 51/101;
//! * `never` needs 10^30 FLOP (0 successes), `always` 10^20 FLOP, which the
//!   fleet alone passes in the first quarter (n successes): the two closed
//!   forms of the interval.

use std::path::Path;

use crate::common::{read_summary, run_in, text, write};

const SCENARIO: &str = r#"[scenario]
name = "scale"
start = "2024Q1"
horizon_quarters = 2
trials = 1000
seed = 11

[chips.a]
peak_flops = 1e14

[fleet.a]
training = 10

[supply.line]
chip = "a"
orders = [{ quarter = "2024Q1", chips = 100 }]
fill_rate = { dist = "uniform", low = 0, high = 1 }

[training]
mfu = 0.4

[milestones.half]
target_flop = 2.1857472e22
deadline = "2024Q2"

[milestones.never]
target_flop = 1e30
deadline = "2024Q2"

[milestones.always]
target_flop = 1e20
deadline = "2024Q1"
"#;

/// Checks a summary of `n` trials against the closed forms.
fn check_closed_forms(folder: &Path, n: u64) {
    let s = read_summary(folder);
    assert_eq!(s.trials, n);
    let m = |name: &str| s.milestones.iter().find(|m| m.name == name).unwrap().clone();
    let (half, never, always) = (m("half"), m("never"), m("always"));
    // P(K >= 50) = 51/101. The seed is fixed, so this cannot flake; the
    // tolerance is 4.5 standard errors (a false failure for a fresh seed
    // would have probability 7e-6).
    let p = 51.0 / 101.0;
    let se = (p * (1.0 - p) / n as f64).sqrt();
    assert!(
        (half.probability - p).abs() < 4.5 * se,
        "P(half) = {} vs {p} (se {se})",
        half.probability
    );
    // The exact interval is close to the normal one at this size: half-width
    // 1.96 se within 1%.
    let width = (half.ci95_high - half.ci95_low) / 2.0;
    assert!(
        (width / (1.959964 * se) - 1.0).abs() < 0.01,
        "half-width {width} vs {}",
        1.959964 * se
    );
    assert!(half.ci95_low < half.probability && half.probability < half.ci95_high);
    // 0 of n: [0, 1 - 0.025^(1/n)]; n of n: [0.025^(1/n), 1].
    let edge = -(0.025f64.ln() / n as f64).exp_m1();
    assert_eq!(never.probability, 0.0);
    assert_eq!(never.ci95_low, 0.0);
    assert!(
        (never.ci95_high / edge - 1.0).abs() < 1e-9,
        "{} vs {edge}",
        never.ci95_high
    );
    assert_eq!(always.probability, 1.0);
    assert_eq!(always.ci95_high, 1.0);
    // Near 1 a double is spaced 1.1e-16 apart: two of those apart at most.
    let low = (0.025f64.ln() / n as f64).exp();
    assert!((always.ci95_low - low).abs() <= 2.3e-16, "{} vs {low}", always.ci95_low);
}

#[test]
fn ten_million_trials_finish_with_exact_intervals() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scale.toml", SCENARIO);
    let o = run_in(
        dir.path(),
        &["run", "scale.toml", "--trials", "10000000", "--out", "out", "--quiet"],
    );
    assert!(o.status.success(), "{}", text(&o));
    check_closed_forms(&dir.path().join("out"), 10_000_000);
    assert!(dir.path().join("out/milestones.png").is_file());
}

#[test]
fn a_merge_of_real_shards_totalling_a_hundred_million_trials() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scale.toml", SCENARIO);
    let shards = 4;
    let mut folders = Vec::new();
    for k in 1..=shards {
        let folder = format!("shard{k}");
        let o = run_in(
            dir.path(),
            &[
                "run",
                "scale.toml",
                "--trials",
                "100000000",
                "--shard",
                &format!("{k}/{shards}"),
                "--out",
                &folder,
                "--quiet",
            ],
        );
        assert!(o.status.success(), "shard {k}: {}", text(&o));
        folders.push(folder);
    }
    let mut args = vec!["merge"];
    args.extend(folders.iter().map(String::as_str));
    args.extend(["--out", "merged", "--quiet"]);
    let o = run_in(dir.path(), &args);
    assert!(o.status.success(), "{}", text(&o));
    check_closed_forms(&dir.path().join("merged"), 100_000_000);
}
