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
        svg.contains("not shown: 100 with no domestic training compute (0 with no training run)"),
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
