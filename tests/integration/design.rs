//! Correlated inputs and Latin hypercube sampling change no byte with the
//! thread count or with sharding (LHS blocks are defined by absolute trial
//! index, so a shard starting inside a block draws what one process does).

use crate::common::{folder_files, repo, run_in, text, write};

/// The default scenario with `sampling = "lhs"` and a correlation between
/// two per-trial numbers and a 3×3 matrix over three others.
fn designed() -> String {
    let s = std::fs::read_to_string(repo().join("scenarios/default.toml")).unwrap();
    let s = s.replacen("seed = 20241202", "seed = 20241202\nsampling = \"lhs\"", 1);
    assert!(s.contains("sampling = \"lhs\""));
    format!(
        "{s}\n[[correlation]]\ninputs = [\"training.mfu\", \"training.goodput\"]\nrank = 0.6\n\n[[correlation]]\ninputs = [\"supply.bytedance_910b.fill_rate\", \"inference.initial_demand_chips\", \"inference.growth_per_quarter\"]\nmatrix = [[1, -0.4, 0.3], [-0.4, 1, 0.5], [0.3, 0.5, 1]]\n"
    )
}

#[test]
fn correlated_lhs_runs_are_identical_across_threads_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "d.toml", &designed());
    let run = |extra: &[&str], out: &str| {
        let mut args = vec!["run", "d.toml", "--trials", "1000", "--quiet", "--out", out];
        args.extend_from_slice(extra);
        let o = run_in(dir.path(), &args);
        assert!(o.status.success(), "{}", text(&o));
    };
    run(&["--threads", "1", "--samples", "300"], "t1");
    run(&["--threads", "2", "--samples", "300"], "t2");
    let one = folder_files(&dir.path().join("t1"));
    assert_eq!(one, folder_files(&dir.path().join("t2")));
    // 1000 trials in 3 shards: the shards start inside LHS blocks.
    for k in 1..=3 {
        run(&["--threads", "2", "--shard", &format!("{k}/3")], &format!("s{k}"));
    }
    let o = run_in(dir.path(), &["merge", "s1", "s2", "s3", "--out", "merged", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    run(&["--threads", "2"], "single");
    assert_eq!(
        folder_files(&dir.path().join("merged")),
        folder_files(&dir.path().join("single")),
        "the merged shards differ from the single run"
    );
}

#[test]
fn show_and_report_state_the_design() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "d.toml", &designed());
    let o = run_in(dir.path(), &["show", "d.toml"]);
    assert!(o.status.success(), "{}", text(&o));
    let shown = String::from_utf8_lossy(&o.stdout).to_string();
    for want in [
        "scenario.sampling",
        "lhs (Latin hypercube, blocks of 256 trials)",
        "[correlation]",
        "correlation[0].inputs",
        "training.mfu, training.goodput",
        "correlation[0].rank",
        "0.6 (Spearman)",
        "correlation[1].matrix",
        "[[1, -0.4, 0.3], [-0.4, 1, 0.5], [0.3, 0.5, 1]] (Spearman)",
    ] {
        assert!(shown.contains(want), "`{want}` not in:\n{shown}");
    }
    let o = run_in(
        dir.path(),
        &["run", "d.toml", "--trials", "300", "--quiet", "--out", "out"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(report.contains("Owen 1997"), "{report}");
    // Without LHS the note is not there.
    let plain = designed().replace("sampling = \"lhs\"\n", "");
    write(dir.path(), "p.toml", &plain);
    let o = run_in(
        dir.path(),
        &["run", "p.toml", "--trials", "300", "--quiet", "--out", "plain"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report = std::fs::read_to_string(dir.path().join("plain/report.md")).unwrap();
    assert!(!report.contains("Owen 1997"));
}
