//! `sancsim batch`: a folder of scenarios in one command, one broken file
//! reported without stopping the others.

use crate::common::{MINIMAL, repo, run_in, text, write};

#[test]
fn batch_runs_a_folder_and_reports_the_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    // A target the base case reaches in about half of its trials.
    let base = MINIMAL.replace("target_flop = 1e23", "target_flop = 2e24");
    write(&scenarios, "a_base.toml", &base);
    write(
        &scenarios,
        "b_more.toml",
        &base
            .replace("chips = 1000", "chips = 4000")
            .replace("name = \"base\"", "name = \"more\""),
    );
    write(&scenarios, "c_broken.toml", &MINIMAL.replace("mfu = 0.4", "mfu = 1.4"));
    write(&scenarios, "notes.txt", "not a scenario");
    let o = run_in(dir.path(), &["batch", "scenarios", "--out", "out", "--trials", "300"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("c_broken.toml:") && stderr.contains("training.mfu"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 3 scenarios failed"), "{stderr}");
    let out = dir.path().join("out");
    for folder in ["a_base", "b_more"] {
        for f in ["summary.json", "report.html", "deliveries.png"] {
            assert!(out.join(folder).join(f).is_file(), "{folder}/{f} missing");
        }
    }
    assert!(!out.join("c_broken").exists());
    let index = std::fs::read_to_string(out.join("index.csv")).unwrap();
    let mut lines = index.lines();
    assert_eq!(
        lines.next().unwrap(),
        "milestone,a_base:probability,a_base:ci95_low,a_base:ci95_high,b_more:probability,b_more:ci95_low,b_more:ci95_high"
    );
    let row: Vec<f64> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(row.len(), 6);
    assert!(
        row[3] > row[0],
        "four times the orders should be likelier to reach the target: {row:?}"
    );
    assert!(out.join("comparison.svg").is_file() && out.join("comparison.png").is_file());
    let md = std::fs::read_to_string(out.join("index.md")).unwrap();
    assert!(md.contains("c_broken.toml") && md.contains("| m |"), "{md}");
}

#[test]
fn batch_of_the_shipped_scenarios_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(
        dir.path(),
        &[
            "batch",
            repo().join("scenarios").to_str().unwrap(),
            "--out",
            "out",
            "--trials",
            "200",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty(), "--quiet prints nothing: {}", text(&o));
    let index = std::fs::read_to_string(dir.path().join("out/index.csv")).unwrap();
    assert!(index.lines().next().unwrap().contains("default:probability"));
}
