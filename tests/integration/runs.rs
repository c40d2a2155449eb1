//! Bounded training runs, `training.max_run_quarters` (docs/MODEL.md
//! sections 4–6): identical across threads and shards, validated with
//! file, line and key, never raising a milestone's probability, and the
//! `training_runs` statistics consistent with the trials.

use std::path::Path;

use sancsim::results::Summary;

use crate::common::{folder_files, read_summary, run_in, text, write};

/// Deliveries build the cluster up over three years (uncertain fill rate
/// and lead time), MFU per trial, goodput per quarter; runs of at most 3
/// quarters. `m2` (3e25 by 2026Q4, all chips) needs more than most single
/// runs do, though the cumulative compute usually passes it.
const SCENARIO: &str = r#"[scenario]
name = "runs"
start = "2024Q1"
horizon_quarters = 12
trials = 400
seed = 7

[chips.a]
peak_flops = 3.2e14

[supply.line]
chip = "a"
orders = [{ from = "2024Q1", to = "2026Q4", chips = 2000 }]
fill_rate = { dist = "beta", alpha = 4, beta = 2 }
lead_time_quarters = { dist = "uniform", low = 0, high = 2 }

[training]
min_cluster_chips = 4000
max_cluster_chips = 20000
mfu = { dist = "pert", min = 0.2, mode = 0.35, max = 0.5 }
goodput = { dist = "uniform", low = 0.8, high = 1, per = "quarter" }
max_run_quarters = 3

[milestones.m1]
target_flop = 5e24
deadline = "2025Q4"

[milestones.m2]
target_flop = 3e25
deadline = "2026Q4"
domestic_only = false
"#;

/// [`SCENARIO`] with its `max_run_quarters` line replaced by `line`.
fn with_runs(line: &str) -> String {
    SCENARIO.replace("max_run_quarters = 3", line)
}

/// Runs `scenario` in `dir` into `out` with `extra` arguments; returns stdout.
fn run(dir: &Path, scenario: &str, out: &str, extra: &[&str]) -> String {
    let file = format!("{out}.toml");
    write(dir, &file, scenario);
    let mut args = vec!["run", file.as_str(), "--out", out];
    args.extend_from_slice(extra);
    let o = run_in(dir, &args);
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn summary(dir: &Path, out: &str) -> Summary {
    read_summary(&dir.join(out))
}

#[test]
fn threads_and_shards_give_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s.toml", SCENARIO);
    let go = |args: &[&str]| {
        let o = run_in(d, args);
        assert!(o.status.success(), "{}", text(&o));
    };
    go(&["run", "s.toml", "--out", "t1", "--threads", "1", "--quiet"]);
    go(&["run", "s.toml", "--out", "t2", "--threads", "2", "--quiet"]);
    go(&["run", "s.toml", "--out", "p1", "--shard", "1/2", "--quiet"]);
    go(&["run", "s.toml", "--out", "p2", "--shard", "2/2", "--quiet"]);
    go(&["merge", "p2", "p1", "--out", "merged", "--quiet"]);
    let one = folder_files(&d.join("t1"));
    assert!(one.iter().any(|(n, _)| n == "report.html"));
    assert!(one == folder_files(&d.join("t2")), "--threads 1 and 2 differ");
    assert!(
        one == folder_files(&d.join("merged")),
        "the merged shards differ from one run"
    );
    // The partial results carry the runs' histograms.
    let partial = std::fs::read_to_string(d.join("p1/partial.json")).unwrap();
    assert!(partial.contains("\"runs\""), "no runs in the partial result");
    let s = summary(d, "t1");
    assert!(
        s.training_runs.as_ref().is_some_and(|r| r.len() >= 2),
        "{:?}",
        s.training_runs
    );
}

#[test]
fn invalid_run_lengths_are_refused_with_file_line_and_key() {
    let line = SCENARIO
        .lines()
        .position(|l| l.starts_with("max_run_quarters"))
        .unwrap()
        + 1;
    for (value, words) in [
        ("0", "must be a number in [0.1, 200], got 0"),
        ("-1", "must be a number in [0.1, 200], got -1"),
        ("0.05", "got 0.05"),
        ("201", "got 201"),
        ("{ dist = \"uniform\", low = 1, high = 2 }", "must be a fixed number"),
        ("\"3\"", ""),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "s.toml", &with_runs(&format!("max_run_quarters = {value}")));
        for cmd in ["validate", "run"] {
            let o = run_in(
                dir.path(),
                &[cmd, "s.toml", "--quiet"][..if cmd == "run" { 3 } else { 2 }],
            );
            assert_eq!(o.status.code(), Some(2), "{value}: {}", text(&o));
            let err = String::from_utf8_lossy(&o.stderr);
            let want = format!("s.toml:{line}:");
            assert!(
                err.lines()
                    .any(|l| l.contains(&want) && l.contains("training.max_run_quarters") && l.contains(words)),
                "{value}: {err}"
            );
        }
    }
}

/// A single run's compute never exceeds the compute since the start, so
/// with the key no trial reaches a milestone earlier than without it (on
/// the same seed every trial draws the same); `m2` is missed far more often.
#[test]
fn bounded_runs_never_raise_a_milestone_probability() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(d, SCENARIO, "bounded", &["--quiet", "--samples", "400"]);
    run(d, &with_runs(""), "plain", &["--quiet", "--samples", "400"]);
    let (b, p) = (summary(d, "bounded"), summary(d, "plain"));
    for (mb, mp) in b.milestones.iter().zip(&p.milestones) {
        assert!(mb.reached_by_deadline <= mp.reached_by_deadline, "{}", mb.name);
        for (x, y) in mb.probability_by_quarter.iter().zip(&mp.probability_by_quarter) {
            assert!(x <= y, "{}: {x} > {y}", mb.name);
        }
        // The miss reasons still add up, never_started unchanged.
        assert_eq!(mb.missed.total() + mb.reached_by_deadline, b.trials, "{}", mb.name);
        assert_eq!(mb.missed.never_started, mp.missed.never_started, "{}", mb.name);
    }
    assert!(b.milestones[1].reached_by_deadline + 100 < p.milestones[1].reached_by_deadline);
    // Trial by trial: the quarter reached is never earlier.
    let csv = |out: &str| std::fs::read_to_string(d.join(out).join("samples.csv")).unwrap();
    let (cb, cp) = (csv("bounded"), csv("plain"));
    assert_eq!(cb.lines().next(), cp.lines().next(), "samples.csv gains no column");
    let cols: Vec<&str> = cb.lines().next().unwrap().split(',').collect();
    for name in ["m1_quarter", "m2_quarter"] {
        let i = cols.iter().position(|c| *c == name).unwrap();
        for (lb, lp) in cb.lines().zip(cp.lines()).skip(1) {
            let (qb, qp) = (lb.split(',').nth(i).unwrap(), lp.split(',').nth(i).unwrap());
            // Quarter labels compare in time order; empty is never.
            assert!(
                qb.is_empty() || (!qp.is_empty() && qb >= qp),
                "{name}: {qb} before {qp}"
            );
        }
    }
    // The cumulative compute recorded per quarter is the same.
    let q = |out: &str| std::fs::read_to_string(d.join(out).join("quarters.csv")).unwrap();
    assert_eq!(q("bounded"), q("plain"));
    // Runs at least as long as the horizon change no milestone.
    run(d, &with_runs("max_run_quarters = 200"), "long", &["--quiet"]);
    assert_eq!(summary(d, "long").milestones, p.milestones);
}

#[test]
fn training_runs_are_counted_consistently() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = run(d, SCENARIO, "bounded", &[]);
    let s = summary(d, "bounded");
    let runs = s.training_runs.as_ref().expect("training_runs with the key");
    assert_eq!(runs[0].trials, s.trials - s.trials_without_training);
    for (j, r) in runs.iter().enumerate() {
        assert_eq!(r.run as usize, j + 1);
        assert!(r.trials > 0);
        assert!(r.domestic_flop_p10 <= r.domestic_flop_p50 && r.domestic_flop_p50 <= r.domestic_flop_p90);
        if j > 0 {
            assert!(
                r.trials <= runs[j - 1].trials,
                "run {} has more trials than run {j}",
                r.run
            );
        }
    }
    // 12 quarters of at most 3: at most 4 runs after a start in 2024Q1
    // (or 5 when 4 quarters of run length end before the horizon's end).
    assert!(runs.len() >= 3 && runs.len() <= 5, "{}", runs.len());
    // A full run of 3 quarters on a cluster of at most 20,000 chips at
    // MFU ≤ 0.5 does at most 20,000 × 3.2e14 × 0.5 × 23,668,200 s.
    assert!(runs[0].domestic_flop_p90 <= 7.6e25);
    assert!(
        stdout.contains("training runs: at most 3 quarters each; up to"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(d.join("bounded/report.md")).unwrap();
    assert!(md.contains("## Training runs (at most 3 quarters each)"), "{md}");
    let html = std::fs::read_to_string(d.join("bounded/report.html")).unwrap();
    assert!(html.contains("Training runs (at most 3 quarters each)"));
    let row = s
        .assumptions
        .iter()
        .find(|a| a.key == "training.max_run_quarters")
        .unwrap();
    assert_eq!((row.value.as_str(), row.default), ("3", false));
    // Without the key: no training_runs, no line, no table, no assumption.
    let stdout = run(d, &with_runs(""), "plain", &[]);
    let json = std::fs::read_to_string(d.join("plain/summary.json")).unwrap();
    assert!(!json.contains("training_runs") && !json.contains("max_run_quarters"));
    assert!(!stdout.contains("training runs:"), "{stdout}");
    let md = std::fs::read_to_string(d.join("plain/report.md")).unwrap();
    assert!(!md.contains("Training runs (at most"));
}
