//! What the reports say: the trials without a training run and without
//! domestic training compute, each under its own name, in summary.json,
//! report.html, report.md and the training-compute chart.

use std::path::Path;

use crate::common::{read_summary, repo, run_in, text, write};

/// Runs `scenario` (a file's text) and returns the output folder.
fn run(dir: &Path, scenario: &str) -> std::path::PathBuf {
    write(dir, "s.toml", scenario);
    let o = run_in(dir, &["run", "s.toml", "--out", "out", "--trials", "100", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    dir.join("out")
}

fn read(folder: &Path, name: &str) -> String {
    std::fs::read_to_string(folder.join(name)).unwrap()
}

#[test]
fn a_run_on_foreign_chips_is_a_run_without_domestic_compute() {
    // The minimal scenario with its one chip type foreign and allowed to
    // train: every trial runs, none computes on domestic chips.
    let scenario = std::fs::read_to_string(repo().join("scenarios/minimal.toml"))
        .unwrap()
        .replace("[supply.", "domestic = false\n\n[supply.")
        .replace("[training]\n", "[training]\nallow_foreign_chips = true\n")
        .replace(
            "[milestones.one_e25]\n",
            "[milestones.one_e25]\ndomestic_only = false\n",
        );
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &scenario);
    let s = read_summary(&out);
    assert_eq!(s.trials, 100);
    assert_eq!(s.trials_without_training, 0);
    assert_eq!(s.trials_without_domestic_training_compute, 100);
    assert!(s.milestones[0].probability > 0.9, "{}", s.milestones[0].probability);
    let json: serde_json::Value = serde_json::from_str(&read(&out, "summary.json")).unwrap();
    assert_eq!(json["trials_without_training"], 0);
    assert_eq!(json["trials_without_domestic_training_compute"], 100);

    let runs = "Trials with no training run (it never started within the horizon): 0 of 100.";
    let domestic = "Trials with no domestic training compute at the horizon: 100 of 100";
    for report in ["report.html", "report.md"] {
        let r = read(&out, report);
        assert!(r.contains(runs) && r.contains(domestic), "{report}: {r}");
    }
    let svg = read(&out, "training_flop.svg");
    assert!(
        svg.contains("grey bar: 100 with no domestic training compute (0 with no training run)"),
        "{svg}"
    );
}

#[test]
fn a_run_that_never_starts_is_counted_in_both() {
    // The cluster needs more chips than are ever ordered.
    let scenario = std::fs::read_to_string(repo().join("scenarios/minimal.toml"))
        .unwrap()
        .replace("[training]\n", "[training]\nmin_cluster_chips = 20000\n");
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &scenario);
    let s = read_summary(&out);
    assert_eq!(s.trials_without_training, 100);
    assert_eq!(s.trials_without_domestic_training_compute, 100);
    assert!(s.training_flop_domestic_at_horizon.is_empty());
    let md = read(&out, "report.md");
    assert!(md.contains("Trials with no training run (it never started within the horizon): 100 of 100."));
}

/// Fields of a number written as a table (`{ dist = "pert", …, source = … }`).
const NUMBER_FIELDS: [&str; 16] = [
    "value", "dist", "low", "high", "mean", "sd", "min", "max", "mu", "sigma", "alpha", "beta", "mode", "p5", "p95",
    "per",
];

/// The key paths a scenario file writes, each with the source written for
/// it: a number table or an order is one value (its `source` is that
/// value's); a section's own `source` (as in `[fleet.x]`) belongs to every
/// value of the section.
fn written_keys(path: &str, value: &toml::Value, out: &mut Vec<(String, Option<String>)>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        toml::Value::Table(t) => {
            let is_number = t.keys().any(|k| NUMBER_FIELDS.contains(&k.as_str()));
            let is_order = t.contains_key("chips") && path.ends_with(']');
            let source = t.get("source").and_then(|s| s.as_str()).map(str::to_string);
            if is_number || is_order {
                out.push((path.to_string(), source));
                return;
            }
            let first = out.len();
            for (k, v) in t.iter().filter(|(k, _)| k.as_str() != "source") {
                written_keys(&join(k), v, out);
            }
            if let Some(src) = source {
                out[first..].iter_mut().for_each(|e| e.1 = Some(src.clone()));
            }
        }
        toml::Value::Array(a) if a.iter().all(|v| v.is_table()) => {
            for (i, v) in a.iter().enumerate() {
                written_keys(&format!("{path}[{i}]"), v, out);
            }
        }
        _ => out.push((path.to_string(), None)),
    }
}

#[test]
fn the_assumptions_table_lists_every_value_written_in_the_shipped_scenarios() {
    for name in ["default", "minimal"] {
        let file = repo().join(format!("scenarios/{name}.toml"));
        let toml_text = std::fs::read_to_string(&file).unwrap();
        let mut written = Vec::new();
        let document: toml::Table = toml::from_str(&toml_text).expect("the shipped scenario is TOML");
        written_keys("", &toml::Value::Table(document), &mut written);
        assert!(written.len() >= 8, "{name}: {written:?}");

        let dir = tempfile::tempdir().unwrap();
        let o = run_in(
            dir.path(),
            &[
                "run",
                file.to_str().unwrap(),
                "--out",
                "out",
                // Enough for an effective sample of 100 where the scenario
                // has observations (optimistic_yield keeps about 7% of its
                // trials), without a --set that would add a row.
                "--trials",
                "2000",
                "--quiet",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let out = dir.path().join("out");
        let s = read_summary(&out);
        let md = read(&out, "report.md");
        let html = read(&out, "report.html");
        for (key, source) in &written {
            let row = s.assumptions.iter().find(|a| &a.key == key);
            let row = row.unwrap_or_else(|| panic!("{name}: {key} is not in the assumptions table"));
            assert!(!row.default, "{name}: {key} is written, not a default");
            assert_eq!(&row.source, source, "{name}: {key}");
            assert!(md.contains(&format!("| `{key}` |")), "{name}: {key} not in report.md");
            let html_key = key.replace('.', ".<wbr>");
            assert!(
                html.contains(&format!("<tr><td>{html_key}</td>")),
                "{name}: {key} not in report.html"
            );
        }
        // Values the file leaves out are listed too, marked as defaults.
        let defaults: Vec<&str> = s
            .assumptions
            .iter()
            .filter(|a| a.default)
            .map(|a| a.key.as_str())
            .collect();
        assert_eq!(
            s.assumptions.len(),
            written.len() + defaults.len(),
            "{name}: no duplicates"
        );
        let assumptions = md.split("## Key assumptions").nth(1).expect("the assumptions section");
        let rows = assumptions.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(rows, s.assumptions.len(), "{name}: one report.md row per value");
        assert!(md.contains("| default (not in the file) |") || defaults.is_empty());
        if name == "minimal" {
            for key in [
                "supply.ascend_910b_orders.fill_rate",
                "supply.ascend_910b_orders.backlog",
                "allocation.policy",
                "training.earliest_start",
                "training.goodput",
                "fleet.ascend_910b.inference",
                "milestones.one_e25.domestic_only",
            ] {
                assert!(defaults.contains(&key), "{key} missing among defaults {defaults:?}");
            }
            let value = |key: &str| s.assumptions.iter().find(|a| a.key == key).unwrap().value.clone();
            assert_eq!(value("chips.ascend_910b.peak_flops"), "3.2e14");
            assert_eq!(value("supply.ascend_910b_orders.orders[0]"), "10000 chips in 2024Q1");
            assert_eq!(value("training.earliest_start"), "2024Q1");
            assert_eq!(value("training.max_cluster_chips"), "1e12");
        }
    }
}
