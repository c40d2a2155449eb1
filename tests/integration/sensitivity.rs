//! `sancsim sensitivity`: tornado and Sobol' indices, shards and merge.

use std::path::Path;

use crate::common::*;

/// The default scenario.
fn default_scenario() -> String {
    repo().join("scenarios/default.toml").display().to_string()
}

/// A small analysis of the default scenario into `dir/out` with `extra`
/// arguments; asserts success.
fn sensitivity(dir: &Path, out: &str, extra: &[&str]) {
    let scenario = default_scenario();
    let mut args = vec![
        "sensitivity",
        scenario.as_str(),
        "--trials",
        "300",
        "--sobol-rows",
        "301",
        "--bootstrap",
        "40",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    let o = run_in(dir, &args);
    assert!(o.status.success(), "{}", text(&o));
}

/// A CSV file's header and rows, split on commas (no field of these files
/// holds one).
fn csv(path: &Path) -> (String, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    (
        header,
        lines.map(|l| l.split(',').map(String::from).collect()).collect(),
    )
}

#[test]
fn outputs_have_the_issue_columns_and_the_tornado_is_sorted_by_swing() {
    let dir = tempfile::tempdir().unwrap();
    sensitivity(dir.path(), "out", &[]);
    let out = dir.path().join("out");
    let names: Vec<String> = folder_files(&out).into_iter().map(|(n, _)| n).collect();
    for f in [
        "report.html",
        "report.md",
        "sensitivity.csv",
        "sensitivity.json",
        "sensitivity.png",
        "sensitivity.svg",
        "tornado.csv",
        "tornado.png",
        "tornado.svg",
    ] {
        assert!(names.contains(&f.to_string()), "{f} missing from {names:?}");
    }

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sensitivity.json")).unwrap()).unwrap();
    let groups: Vec<String> = json["sobol"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_string())
        .collect();
    let inputs = json["inputs"].as_u64().unwrap() as usize;
    assert_eq!(groups.len(), inputs + 1);
    assert_eq!(groups.last().map(String::as_str), Some("noise"));
    assert_eq!(json["milestone"], "dsv3_class");
    let milestones = ["dsv3_class", "gpt4_class", "llama405b_class", "frontier_1e26"];
    // k + 2 evaluations per row, 2·inputs + 1 variants per tornado trial.
    assert_eq!(
        json["simulated_trials"].as_u64().unwrap(),
        301 * (groups.len() as u64 + 2) + 300 * (2 * inputs as u64 + 1)
    );

    let (header, rows) = csv(&out.join("tornado.csv"));
    assert_eq!(header, "input,milestone,p_at_p10,p_at_p90,swing");
    assert_eq!(rows.len(), inputs * milestones.len());
    let swing: Vec<f64> = rows.iter().map(|r| r[4].parse().unwrap()).collect();
    assert!(swing.windows(2).all(|w| w[0] >= w[1]), "{swing:?}");
    for r in &rows {
        let (lo, hi): (f64, f64) = (r[2].parse().unwrap(), r[3].parse().unwrap());
        assert!((r[4].parse::<f64>().unwrap() - (hi - lo).abs()).abs() < 1e-12, "{r:?}");
        assert!(
            groups[..inputs].contains(&r[0]) && milestones.contains(&r[1].as_str()),
            "{r:?}"
        );
    }

    let (header, rows) = csv(&out.join("sensitivity.csv"));
    assert_eq!(
        header,
        "input,output,first_order,first_order_low,first_order_high,total,total_low,total_high"
    );
    let outputs: Vec<String> = milestones
        .iter()
        .flat_map(|m| [format!("reached:{m}"), format!("training_flop:{m}")])
        .collect();
    assert_eq!(rows.len(), outputs.len() * groups.len());
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.len(), 8, "{r:?}");
        assert_eq!(r[0], groups[i % groups.len()]);
        assert_eq!(r[1], outputs[i / groups.len()]);
    }

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("# What matters for dsv3_class: default"), "{report}");
    // The command that reproduces it, the file as given.
    assert!(
        report.contains("--seed 20241202 --trials 300 --sobol-rows 301 --bootstrap 40 --milestone dsv3_class`"),
        "{report}"
    );
}

#[test]
fn milestone_chooses_the_charts_and_an_unknown_one_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    sensitivity(dir.path(), "out", &["--milestone", "gpt4_class"]);
    let svg = std::fs::read_to_string(dir.path().join("out/tornado.svg")).unwrap();
    assert!(svg.contains("P(gpt4_class by 2026Q4)"));

    let scenario = default_scenario();
    let o = run_in(
        dir.path(),
        &["sensitivity", &scenario, "--milestone", "gpt4", "--out", "bad"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no such milestone"),
        "{}",
        text(&o)
    );
    assert!(!dir.path().join("bad").exists());
    let o = run_in(dir.path(), &["sensitivity", &scenario, "--milestone", "gtp4_class"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("did you mean `gpt4_class`?"),
        "{}",
        text(&o)
    );
}

#[test]
fn threads_do_not_change_the_outputs() {
    let dir = tempfile::tempdir().unwrap();
    sensitivity(dir.path(), "one", &["--threads", "1"]);
    sensitivity(dir.path(), "two", &["--threads", "2"]);
    assert_eq!(
        folder_files(&dir.path().join("one")),
        folder_files(&dir.path().join("two"))
    );
}

#[test]
fn shards_merged_are_byte_identical_to_one_process() {
    let dir = tempfile::tempdir().unwrap();
    sensitivity(dir.path(), "single", &[]);
    for k in 1..=3 {
        sensitivity(dir.path(), &format!("shard-{k}"), &["--shard", &format!("{k}/3")]);
        let files = folder_files(&dir.path().join(format!("shard-{k}")));
        assert!(files.iter().any(|(n, _)| n == "partial.json"), "{files:?}");
    }
    // Given in any order.
    let o = run_in(
        dir.path(),
        &["merge", "shard-3", "shard-1", "shard-2/partial.json", "--out", "merged"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("merged 3 shards\n"),
        "{}",
        text(&o)
    );
    assert_eq!(
        folder_files(&dir.path().join("single")),
        folder_files(&dir.path().join("merged"))
    );

    // Missing shard, a shard of `run` among them, an edited partial result.
    let o = run_in(dir.path(), &["merge", "shard-1", "shard-3", "--out", "m2"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("shards missing: 2/3"),
        "{}",
        text(&o)
    );

    let scenario = default_scenario();
    let o = run_in(
        dir.path(),
        &[
            "run",
            &scenario,
            "--trials",
            "100",
            "--shard",
            "1/1",
            "--out",
            "run-shard",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    for parts in [["run-shard", "shard-1"], ["shard-1", "run-shard"]] {
        let o = run_in(dir.path(), &["merge", parts[0], parts[1], "--out", "m3"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    }

    let path = dir.path().join("shard-2/partial.json");
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("\"total\":300", "\"total\":301", 1);
    std::fs::write(&path, edited).unwrap();
    let o = run_in(dir.path(), &["merge", "shard-1", "shard-2", "shard-3", "--out", "m4"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("checksum"), "{}", text(&o));
    for m in ["m2", "m3", "m4"] {
        assert!(!dir.path().join(m).exists());
    }
}

/// The report ranks, for every milestone, the inputs worth finding out by
/// their first-order index of its indicator (issue 11), largest first, with
/// the noise left out; the indices agree with sensitivity.csv.
#[test]
fn the_report_says_which_fact_is_worth_finding_out() {
    let dir = tempfile::tempdir().unwrap();
    sensitivity(dir.path(), "out", &[]);
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    let section = md
        .split("## Which fact is worth finding out")
        .nth(1)
        .expect("the section")
        .split("\n## ")
        .next()
        .unwrap();
    let (_, rows) = csv(&dir.path().join("out/sensitivity.csv"));
    for milestone in ["dsv3_class", "gpt4_class", "llama405b_class", "frontier_1e26"] {
        let line = section
            .lines()
            .find(|l| l.starts_with(&format!("| {milestone} |")))
            .unwrap_or_else(|| panic!("{milestone}: {section}"));
        assert!(!line.contains("noise"), "{line}");
        // The first named input has the largest first-order index among the
        // inputs for this milestone's indicator.
        let output = format!("reached:{milestone}");
        let best = rows
            .iter()
            .filter(|r| r[1] == output && r[0] != "noise" && !r[2].is_empty())
            .max_by(|a, b| a[2].parse::<f64>().unwrap().total_cmp(&b[2].parse::<f64>().unwrap()))
            .unwrap();
        let first = line.split('|').nth(3).unwrap().trim();
        assert!(first.starts_with(&format!("{} (", best[0])), "{line} vs {best:?}");
    }
}
