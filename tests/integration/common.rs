//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built binary.
pub fn sancsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sancsim"))
}

/// Runs the binary with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    sancsim().current_dir(dir).args(args).output().expect("sancsim runs")
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Every file of a folder as (name, bytes), sorted by name.
pub fn folder_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The summary.json of an output folder.
pub fn read_summary(folder: &Path) -> sancsim::results::Summary {
    let json = std::fs::read_to_string(folder.join("summary.json")).unwrap();
    serde_json::from_str(&json).unwrap()
}

/// The repository root (for shipped scenarios).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped scenarios (`scenarios/*.toml`), sorted by name: the order
/// in which `batch scenarios/` runs them.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// stdout and stderr as text, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A small valid scenario used as the base of many tests.
pub const MINIMAL: &str = r#"[scenario]
name = "base"
start = "2024Q1"
horizon_quarters = 8
trials = 200
seed = 7

[chips.a]
peak_flops = 1e14

[supply.line]
chip = "a"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]
fill_rate = { dist = "beta", alpha = 2, beta = 3 }
lead_time_quarters = 0.5

[training]
mfu = 0.4

[milestones.m]
target_flop = 1e23
deadline = "2025Q2"
"#;

/// `--set` arguments that let a short run of a scenario with `[[observe]]`
/// tables report however few effective trials it has (docs/MODEL.md
/// section 11), for tests that are about something else.
pub const ANY_EFFECTIVE_SAMPLE: [&str; 2] = ["--set", "scenario.min_effective_sample_size=1"];

/// The default scenario's text without its `[[observe]]` tables (the
/// file's last tables), for tests of runs without evidence.
pub fn default_without_evidence() -> String {
    let text = std::fs::read_to_string(repo().join("scenarios/default.toml")).unwrap();
    let cut = text
        .find("\n[[observe]]")
        .expect("the default scenario has observations");
    text[..cut + 1].to_string()
}

/// Runs `scenario` (written to `s.toml` in a fresh folder) with `run --out
/// out --quiet` and `extra`; returns the folder (kept alive) and its
/// quarters.csv.
pub fn run_quarters(scenario: &str, extra: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", scenario);
    let mut args = vec!["run", "s.toml", "--out", "out", "--quiet"];
    args.extend_from_slice(extra);
    let o = run_in(dir.path(), &args);
    assert!(o.status.success(), "{}", text(&o));
    let q = std::fs::read_to_string(dir.path().join("out/quarters.csv")).unwrap();
    (dir, q)
}

/// The P50 of `metric` in `quarter` from a quarters.csv (for a fixed
/// scenario, every percentile is the value).
pub fn quarter_p50(quarters: &str, quarter: &str, metric: &str) -> f64 {
    let line = quarters
        .lines()
        .find(|l| l.starts_with(&format!("{quarter},{metric},")))
        .unwrap_or_else(|| panic!("no row {quarter},{metric}"));
    line.split(',').nth(4).unwrap().parse().unwrap()
}

/// Writes `scenario` to `s.toml` in a fresh folder and checks that both
/// `validate` and `run` refuse it with exit code 2, no panic, and a line
/// naming the file and `key` (`s.toml:LINE:COL: key: …`) that contains
/// `words`; returns that line (from `validate`).
pub fn assert_refused(scenario: &str, key: &str, words: &str) -> String {
    assert_refused_at_one_of(scenario, &[key], words)
}

/// [`assert_refused`] where the error may name any one of `keys` (rules
/// whose message could sit at one of several key paths).
pub fn assert_refused_at_one_of(scenario: &str, keys: &[&str], words: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", scenario);
    let mut found = Vec::new();
    for args in [&["validate", "s.toml"][..], &["run", "s.toml", "--quiet"][..]] {
        let o = run_in(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{keys:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(!err.contains("panicked"), "{err}");
        let line = err
            .lines()
            .find(|l| {
                l.contains("s.toml:") && keys.iter().any(|k| l.contains(&format!(": {k}: "))) && l.contains(words)
            })
            .unwrap_or_else(|| panic!("{keys:?} / {words}: {err}"))
            .to_string();
        found.push(line);
    }
    found.swap_remove(0)
}
