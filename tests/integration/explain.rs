//! Explaining a run: when the training run started, the shocks, why each
//! milestone was missed and the executive summary, in summary.json, both
//! reports and the console; and `run --samples N`'s samples.csv.

use std::path::Path;

use crate::common::{read_summary, run_in, text, write};

/// Runs the default scenario with `args` after `run FILE` in `dir`; asserts
/// success and returns stdout.
fn run_default(dir: &Path, args: &[&str]) -> String {
    // Without its observations: these tests count every trial once (the
    // posterior's weighted counts are tests/evidence.rs's).
    let scenario = write(dir, "default.toml", &crate::common::default_without_evidence());
    let mut all = vec!["run", scenario.to_str().unwrap()];
    all.extend_from_slice(args);
    let o = run_in(dir, &all);
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn summary_reports_and_console_explain_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run_default(dir.path(), &["--trials", "2000", "--out", "out"]);
    let out = dir.path().join("out");
    let s = read_summary(&out);
    // summary.json: the start, the shocks, the miss reasons, the summary.
    let ts = &s.training_start;
    assert_eq!(ts.trials_never_started, s.trials_without_training);
    assert_eq!(ts.started_by_quarter.len(), 16);
    let last = ts.started_by_quarter.last().unwrap();
    assert_eq!(
        (last.probability * s.trials as f64).round() as u64 + ts.trials_never_started,
        s.trials
    );
    assert!(last.ci95_low < last.probability && last.probability < last.ci95_high);
    assert_eq!((ts.quarter_p10.as_str(), ts.quarter_p90.as_str()), ("2025Q1", "never"));
    for m in &s.milestones {
        assert_eq!(m.missed.total() + m.reached_by_deadline, s.trials, "{}", m.name);
    }
    let names: Vec<&str> = s.shocks.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(
        names,
        ["hbm_rule_dec2024", "hbm_stockpile_exhausted", "further_tightening"]
    );
    assert_eq!(s.shocks[0].by_quarter.len(), 1);
    assert_eq!(s.shocks[2].by_quarter.len(), 12);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "never_started",
        "started_too_late",
        "cluster_below_maximum",
        "low_mfu_goodput",
    ] {
        assert!(json["milestones"][3]["missed"][key].is_u64(), "{key}");
    }
    for key in [
        "quarter_p10",
        "quarter_p50",
        "quarter_p90",
        "never_started",
        "trials_never_started",
    ] {
        assert!(!json["training_start"][key].is_null(), "{key}");
    }
    assert!(json["shocks"][0]["by_quarter"][0]["trials"].is_u64());
    let e = &s.executive_summary;
    assert!(e.starts_with("In ") && e.contains("never starts by 2027Q4"), "{e}");
    // The reports open with it and show the three tables.
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let head: String = md.lines().take(6).collect::<Vec<_>>().join("\n");
    assert!(
        head.contains(&format!("**Summary.** {}", e.replace('*', "\\*"))),
        "{head}"
    );
    for section in ["## Why milestones are missed", "## Training start", "## Shocks"] {
        assert!(md.contains(section), "{section}");
    }
    let frontier = &s.milestones[3];
    let row = format!("| frontier_1e26 | {} (", frontier.missed.total());
    assert!(md.contains(&row), "{row}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in report.html"))
    };
    assert!(at("id=\"executive-summary\"") < at("id=\"milestones\""));
    assert!(at("id=\"milestones\"") < at("id=\"missed\""));
    at("id=\"training-start\"");
    at("id=\"shocks\"");
    // The console: the start, the reasons per milestone, the summary.
    assert!(stdout.contains("training run: started by "), "{stdout}");
    assert!(stdout.contains("  frontier_1e26  "), "{stdout}");
    let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(e.as_str()), "{stdout}");
}

/// The columns of samples.csv for the default scenario, from the library.
fn columns() -> Vec<String> {
    let text = crate::common::default_without_evidence();
    let model = sancsim::model::Model::from_text(&text, "default.toml").unwrap();
    sancsim::samples::columns(&model)
}

#[test]
fn samples_csv_holds_the_first_trials_as_the_engine_drew_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_default(
        d,
        &[
            "--trials",
            "600",
            "--samples",
            "300",
            "--threads",
            "1",
            "--out",
            "t1",
            "--quiet",
        ],
    );
    run_default(
        d,
        &[
            "--trials",
            "600",
            "--samples",
            "300",
            "--threads",
            "2",
            "--out",
            "t2",
            "--quiet",
        ],
    );
    run_default(d, &["--trials", "600", "--out", "none", "--quiet"]);
    let csv = std::fs::read_to_string(d.join("t1/samples.csv")).unwrap();
    assert_eq!(csv, std::fs::read_to_string(d.join("t2/samples.csv")).unwrap());
    assert!(!d.join("none/samples.csv").exists());
    // Everything else is as without --samples.
    for f in ["summary.json", "report.md", "report.html", "quarters.csv"] {
        assert_eq!(
            std::fs::read(d.join("t1").join(f)).unwrap(),
            std::fs::read(d.join("none").join(f)).unwrap(),
            "{f}"
        );
    }
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header, columns());
    assert_eq!(header[0], "trial");
    assert!(header.contains(&"training.mfu") && header.contains(&"supply.bytedance_910b.fill_rate"));
    let tail = &header[header.len() - 7..];
    assert_eq!(
        tail,
        [
            "start_quarter",
            "dsv3_class_quarter",
            "gpt4_class_quarter",
            "llama405b_class_quarter",
            "frontier_1e26_quarter",
            "training_flop_at_horizon",
            "training_flop_domestic_at_horizon"
        ]
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 300);
    // Row 123 is trial 123 as the engine draws and simulates it.
    let text = crate::common::default_without_evidence();
    let model = sancsim::model::Model::from_text(&text, "default.toml").unwrap();
    let mut ws = sancsim::engine::Workspace::new(&model);
    sancsim::engine::simulate_trial(&model, model.seed, 123, &mut ws);
    let fields: Vec<&str> = rows[123].split(',').collect();
    assert_eq!(fields[0], "123");
    let inputs: Vec<f64> = fields[1..1 + ws.inputs().len()]
        .iter()
        .map(|f| f.parse().unwrap())
        .collect();
    assert_eq!(inputs, ws.inputs());
    let quarter = |q: Option<u32>| q.map(|q| model.calendar.quarter(q).to_string()).unwrap_or_default();
    let start = ws.outcome.start_time.map(|t| model.calendar.quarter_at(t));
    assert_eq!(fields[header.len() - 7], quarter(start));
    for (k, r) in ws.outcome.reached.iter().enumerate() {
        assert_eq!(fields[header.len() - 6 + k], quarter(*r));
    }
    let flop: f64 = fields[header.len() - 2].parse().unwrap();
    assert_eq!(flop, ws.outcome.metrics[15][4]);
    // Trials without a run have empty quarters and no compute.
    assert!(rows.iter().any(|r| r.ends_with(",,,,,,0,0")), "no trial without a run");
    // More rows asked for than trials run: one per trial.
    run_default(d, &["--trials", "40", "--samples", "100", "--out", "few", "--quiet"]);
    let few = std::fs::read_to_string(d.join("few/samples.csv")).unwrap();
    assert_eq!(few.lines().count(), 41);
}

#[test]
fn samples_above_the_cap_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", crate::common::MINIMAL);
    for (n, says) in [("1000001", "above the limit of 1000000 rows"), ("0", "at least 1")] {
        let o = run_in(dir.path(), &["run", "s.toml", "--samples", n, "--out", "out"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains("--samples") && stderr.contains(says), "{stderr}");
        assert!(!dir.path().join("out").exists());
    }
    let o = run_in(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--samples",
            "1e6",
            "--trials",
            "10",
            "--out",
            "out",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/samples.csv"))
            .unwrap()
            .lines()
            .count(),
        11
    );
}

#[test]
fn a_precision_run_keeps_the_rows_of_its_first_trials_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s.toml", crate::common::MINIMAL);
    for args in [
        &["--precision", "0.0001", "--trials", "15000", "--out", "p"][..],
        &["--trials", "15000", "--out", "plain"][..],
    ] {
        let mut all = vec!["run", "s.toml", "--samples", "12000", "--quiet"];
        all.extend_from_slice(args);
        let o = run_in(d, &all);
        assert!(o.status.success(), "{}", text(&o));
    }
    // The precision run reaches its cap in two batches (10,000 and 5,000
    // trials); its rows run across both.
    assert_eq!(read_summary(&d.join("p")).trials, 15_000);
    assert_eq!(
        std::fs::read_to_string(d.join("p/samples.csv"))
            .unwrap()
            .lines()
            .count(),
        12_001
    );
    assert_eq!(
        std::fs::read(d.join("p/samples.csv")).unwrap(),
        std::fs::read(d.join("plain/samples.csv")).unwrap()
    );
}
