//! Same scenario and seed give byte-identical outputs (samples.csv and the
//! explanation of the run included), whatever the thread count; another
//! seed gives other results.

use crate::common::{MINIMAL, repo, run_in, text, write};

/// Every file of an output folder (results, charts, reports), sorted by name.
fn outputs(dir: &std::path::Path, out: &str) -> Vec<(String, Vec<u8>)> {
    let files = crate::common::folder_files(&dir.join(out));
    assert!(files.len() >= 13, "expected results, charts and reports in {out}");
    files
}

#[test]
fn thread_count_does_not_change_a_byte() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/default.toml");
    let s = scenario.to_str().unwrap();
    for (threads, out) in [("1", "t1"), ("2", "t2"), ("3", "t3")] {
        let o = run_in(
            dir.path(),
            &[
                "run",
                s,
                "--trials",
                "3000",
                "--threads",
                threads,
                "--samples",
                "1000",
                "--out",
                out,
                "--quiet",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let one = outputs(dir.path(), "t1");
    assert!(one.iter().any(|(name, _)| name == "samples.csv"));
    assert_eq!(one, outputs(dir.path(), "t2"));
    assert_eq!(one, outputs(dir.path(), "t3"));
}

#[test]
fn seed_from_the_command_line_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", MINIMAL);
    for (seed, out) in [("1", "a"), ("1", "b"), ("2", "c")] {
        let o = run_in(dir.path(), &["run", "s.toml", "--seed", seed, "--out", out, "--quiet"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    assert_eq!(outputs(dir.path(), "a"), outputs(dir.path(), "b"));
    assert_ne!(outputs(dir.path(), "a"), outputs(dir.path(), "c"));
    let json = std::fs::read_to_string(dir.path().join("c/summary.json")).unwrap();
    assert!(json.contains("\"seed\": 2"), "{json}");
}
