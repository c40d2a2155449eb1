//! `sancsim sweep`: one or two values over a range or a list, on common
//! random numbers; and the shards of compare and sweep.

use crate::common::*;

fn csv_lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn one_value_swept_gives_a_row_per_point_and_milestone_and_a_line_chart() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", MINIMAL);
    let o = run_in(
        dir.path(),
        &[
            "sweep",
            f.to_str().unwrap(),
            "--set",
            "training.mfu=0.2:0.5:0.1",
            "--out",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let lines = csv_lines(&dir.path().join("out/sweep.csv"));
    assert_eq!(lines[0], "training.mfu,milestone,probability,ci95_low,ci95_high");
    assert_eq!(lines.len(), 1 + 4, "{lines:?}");
    let values: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(values, ["0.2", "0.3", "0.4", "0.5"]);
    // On common random numbers a higher MFU never lowers the count of
    // trials that reach the milestone: every trial's compute only grows.
    let p: Vec<f64> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert!(p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
    assert!(p[0] < p[3], "{p:?}");
    // The point at the file's own value equals a plain run.
    let o = run_in(dir.path(), &["run", f.to_str().unwrap(), "--out", "run"]);
    assert!(o.status.success(), "{}", text(&o));
    let run = read_summary(&dir.path().join("run"));
    assert_eq!(p[2], run.milestones[0].probability);
    for f in ["sweep.json", "sweep.svg", "sweep.png", "report.html", "report.md"] {
        assert!(dir.path().join("out").join(f).is_file(), "{f}");
    }
}

#[test]
fn two_values_give_a_grid_and_a_heat_map() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", MINIMAL);
    let o = run_in(
        dir.path(),
        &[
            "sweep",
            f.to_str().unwrap(),
            "--set",
            "training.mfu=0.3,0.4,0.5",
            "--set",
            "supply.line.lead_time_quarters=0.5:1.5:0.5",
            "--set",
            "training.min_cluster_chips=100",
            "--out",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let lines = csv_lines(&dir.path().join("out/sweep.csv"));
    assert_eq!(
        lines[0],
        "training.mfu,supply.line.lead_time_quarters,milestone,probability,ci95_low,ci95_high"
    );
    assert_eq!(lines.len(), 1 + 9);
    assert!(lines[2].starts_with("0.3,1.0,m,"), "{lines:?}");
    assert!(dir.path().join("out/sweep_heatmap.png").is_file());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/sweep.json")).unwrap()).unwrap();
    assert_eq!(json["overrides"][0], "training.min_cluster_chips=100");
}

#[test]
fn a_bad_path_or_value_fails_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", MINIMAL);
    for (set, expect) in [
        ("training.mfuu=0.2:0.5:0.1", "mfu"),
        ("training.mfu=0.5:1.5:0.5", "training.mfu"),
        ("training.mfu=0.5:0.2:0.1", "START <= STOP"),
    ] {
        let o = run_in(
            dir.path(),
            &["sweep", f.to_str().unwrap(), "--set", set, "--out", "out"],
        );
        assert_eq!(o.status.code(), Some(2), "{set}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(expect),
            "{set}: {}",
            text(&o)
        );
        assert!(!dir.path().join("out").exists());
    }
    let o = run_in(
        dir.path(),
        &[
            "sweep",
            f.to_str().unwrap(),
            "--set",
            "training.mfu=0.3",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("one or two swept"),
        "{}",
        text(&o)
    );
}

/// Shards of a comparison and of a sweep, run as separate processes and
/// merged, give the bytes of one process.
#[test]
fn shards_of_compare_and_sweep_merge_to_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", MINIMAL);
    let f = f.to_str().unwrap();
    let cases: [(&str, Vec<&str>); 2] = [
        (
            "compare",
            vec!["compare", f, "--variant", "training.mfu=0.5", "--trials", "700"],
        ),
        (
            "sweep",
            vec!["sweep", f, "--set", "training.mfu=0.3,0.5", "--trials", "700"],
        ),
    ];
    for (name, args) in cases {
        let mut whole = args.clone();
        whole.extend(["--out", "whole", "--threads", "2"]);
        let o = run_in(dir.path(), &whole);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let mut parts = Vec::new();
        for k in 1..=3 {
            let shard = format!("{k}/3");
            let out = format!("{name}-shard{k}");
            let mut a = args.clone();
            a.extend(["--shard", &shard, "--out", &out, "--threads", "1"]);
            let o = run_in(dir.path(), &a);
            assert!(o.status.success(), "{name} {shard}: {}", text(&o));
            parts.push(out);
        }
        // In any order.
        let o = run_in(
            dir.path(),
            &["merge", &parts[2], &parts[0], &parts[1], "--out", "merged"],
        );
        assert!(o.status.success(), "{name}: {}", text(&o));
        assert_eq!(
            folder_files(&dir.path().join("merged")),
            folder_files(&dir.path().join("whole")),
            "{name}"
        );
        let o = run_in(dir.path(), &["merge", &parts[0], &parts[1], "--out", "merged2"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("shards missing: 3/3"),
            "{}",
            text(&o)
        );
        for d in ["whole", "merged", "merged2"] {
            let _ = std::fs::remove_dir_all(dir.path().join(d));
        }
    }
}

/// Merging an analysis's shards never replaces a folder that holds one of
/// them: not with --out, and not with the command's default folder.
#[test]
fn merge_never_replaces_a_folder_holding_an_analysis_shard() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", MINIMAL);
    let f = f.to_str().unwrap();
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let out = format!("outputs/compare-s/part{k}");
        std::fs::create_dir_all(dir.path().join("outputs/compare-s")).unwrap();
        let o = run_in(
            dir.path(),
            &[
                "compare",
                f,
                "--variant",
                "training.mfu=0.5",
                "--shard",
                &shard,
                "--out",
                &out,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let parts = ["outputs/compare-s/part1", "outputs/compare-s/part2"];
    for extra in [vec![], vec!["--out", "outputs/compare-s"]] {
        let mut args = vec!["merge"];
        args.extend(parts);
        args.extend(extra.iter().copied());
        let o = run_in(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("holds the input"),
            "{}",
            text(&o)
        );
        for p in parts {
            assert!(dir.path().join(p).join("partial.json").is_file(), "{p} was deleted");
        }
    }
}
