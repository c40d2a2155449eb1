//! sancsim in CI: `check` with [[expect]] bounds, `--baseline`, size limits,
//! interrupted runs that leave earlier results intact, and outputs that
//! never escape their folder.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{MINIMAL, repo, run_in, sancsim, text, write};

fn with_expect(extra: &str) -> String {
    format!("{MINIMAL}\n{extra}")
}

#[test]
fn check_passes_fails_and_rejects_like_a_ci_gate() {
    let dir = tempfile::tempdir().unwrap();
    // MINIMAL's milestone is reached in every trial.
    write(
        dir.path(),
        "ok.toml",
        &with_expect("[[expect]]\nmilestone = \"m\"\nmin_probability = 0.9\n"),
    );
    let o = run_in(dir.path(), &["check", "ok.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("all 1 expectations hold"),
        "{}",
        text(&o)
    );

    write(
        dir.path(),
        "bad.toml",
        &with_expect("[[expect]]\nmilestone = \"m\"\nmax_probability = 0.5\n"),
    );
    let o = run_in(dir.path(), &["check", "bad.toml"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("FAILED: whole 95% CI above max") && out.contains("[-, 0.500]"),
        "{}",
        text(&o)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 of 1 expectations failed"));

    write(
        dir.path(),
        "typo.toml",
        &with_expect("[[expect]]\nmilestone = \"mm\"\nmin_probability = 0.5\n"),
    );
    let o = run_in(dir.path(), &["check", "typo.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("expect[0].milestone"),
        "{}",
        text(&o)
    );
}

/// A bound the estimate misses while its 95% interval still overlaps it is
/// not a failure: noise alone must not fail CI.
#[test]
fn check_fails_only_when_the_whole_interval_is_outside() {
    let dir = tempfile::tempdir().unwrap();
    // Binomial delivery of 10 chips at 0.3 with a target of 4 chips:
    // P = 0.350. With 200 trials the interval is about ±0.07.
    let scenario = MINIMAL
        .replace(
            "orders = [{ from = \"2024Q1\", to = \"2024Q4\", chips = 1000 }]",
            "orders = [{ quarter = \"2024Q1\", chips = 10 }]",
        )
        .replace(
            "fill_rate = { dist = \"beta\", alpha = 2, beta = 3 }",
            "fill_rate = 0.3",
        )
        .replace("lead_time_quarters = 0.5", "lead_time_quarters = 0")
        .replace("target_flop = 1e23", "target_flop = 1.1e21")
        .replace("deadline = \"2025Q2\"", "deadline = \"2024Q2\"");
    let scenario = format!("{scenario}\n[allocation]\npolicy = \"fixed_share\"\ntraining_share = 1.0\n");
    write(dir.path(), "s.toml", &scenario);
    let o = run_in(dir.path(), &["run", "s.toml", "--out", "o", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let s = crate::common::read_summary(&dir.path().join("o"));
    let m = &s.milestones[0];
    // A bound just above the estimate but inside the interval.
    let min = (m.probability + m.ci95_high) / 2.0;
    write(
        dir.path(),
        "near.toml",
        &format!("{scenario}\n[[expect]]\nmilestone = \"m\"\nmin_probability = {min}\n"),
    );
    let o = run_in(dir.path(), &["check", "near.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("CI overlaps"),
        "{}",
        text(&o)
    );
    // A bound above the whole interval fails.
    let min = (m.ci95_high + 1.0) / 2.0;
    write(
        dir.path(),
        "far.toml",
        &format!("{scenario}\n[[expect]]\nmilestone = \"m\"\nmin_probability = {min}\n"),
    );
    let o = run_in(dir.path(), &["check", "far.toml"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn baseline_is_identical_for_the_same_run_and_flags_real_changes() {
    let dir = tempfile::tempdir().unwrap();
    let default = repo().join("scenarios/default.toml");
    let tight = repo().join("scenarios/tight_controls.toml");
    let o = run_in(
        dir.path(),
        &[
            "run",
            default.to_str().unwrap(),
            "--trials",
            "3000",
            "--out",
            "base",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run_in(
        dir.path(),
        &[
            "run",
            default.to_str().unwrap(),
            "--trials",
            "3000",
            "--out",
            "again",
            "--baseline",
            "base/summary.json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("results identical"),
        "{}",
        text(&o)
    );
    let o = run_in(
        dir.path(),
        &[
            "run",
            tight.to_str().unwrap(),
            "--trials",
            "3000",
            "--out",
            "tight",
            "--baseline",
            "base/summary.json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("CHANGED"), "{}", text(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("tight/baseline.json")).unwrap()).unwrap();
    assert_eq!(json["same_run"], false);
    assert!(
        json["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["flagged"] == true)
    );
    // Another seed of the same scenario: differences are noise, not flagged
    // (each flag has a 1% false-alarm rate; with this fixed seed none fires).
    let o = run_in(
        dir.path(),
        &[
            "run",
            default.to_str().unwrap(),
            "--trials",
            "3000",
            "--seed",
            "99",
            "--out",
            "seed99",
            "--baseline",
            "base/summary.json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("CHANGED"), "{}", text(&o));
}

/// With the same seed and trials, and the baseline's scenario beside its
/// summary.json, the comparison is paired: both scenarios re-run on the
/// same trials. A small change (MFU 0.35 → 0.40) that the unpaired z-test
/// cannot see is then measured with an interval that excludes 0, in
/// percentage points; the same run again differs by exactly 0.
#[test]
fn baseline_with_matching_seed_and_trials_is_paired() {
    let dir = tempfile::tempdir().unwrap();
    // Paired counts are of all trials: the default without its observations
    // (a baseline with observations is compared unpaired, tests/evidence.rs).
    let default = crate::common::write(dir.path(), "default.toml", &crate::common::default_without_evidence());
    let d = default.to_str().unwrap();
    let o = run_in(dir.path(), &["run", d, "--trials", "4000", "--out", "base", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("base/scenario.toml").is_file());
    let o = run_in(
        dir.path(),
        &[
            "run",
            d,
            "--trials",
            "4000",
            "--set",
            "training.mfu=0.40",
            "--out",
            "mfu",
            "--baseline",
            "base/summary.json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("baseline: paired"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("mfu/baseline.json")).unwrap()).unwrap();
    assert_eq!(json["method"], "paired");
    let dsv3 = json["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["milestone"] == "dsv3_class")
        .unwrap();
    let (lo, hi) = (
        dsv3["difference_low"].as_f64().unwrap(),
        dsv3["difference_high"].as_f64().unwrap(),
    );
    assert!(lo > 0.0 && hi < 0.02, "{dsv3}");
    // The unpaired test misses it (|z| far below 2.58), the paired one flags it.
    assert!(dsv3["z"].as_f64().unwrap().abs() < 2.0, "{dsv3}");
    assert_eq!(dsv3["flagged"], true);
    // Without the baseline's scenario the comparison is unpaired.
    std::fs::remove_file(dir.path().join("base/scenario.toml")).unwrap();
    let o = run_in(
        dir.path(),
        &[
            "run",
            d,
            "--trials",
            "4000",
            "--set",
            "training.mfu=0.40",
            "--out",
            "mfu2",
            "--baseline",
            "base/summary.json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("mfu2/baseline.json")).unwrap()).unwrap();
    assert_eq!(json["method"], "unpaired");
    let o = run_in(
        dir.path(),
        &[
            "run",
            d,
            "--trials",
            "4000",
            "--out",
            "again",
            "--baseline",
            "base/summary.json",
        ],
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("again/baseline.json")).unwrap()).unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(json["method"], "identical");
    assert!(
        json["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["difference_low"] == 0.0 && m["difference_high"] == 0.0)
    );
}

#[test]
fn runs_beyond_the_size_limit_need_an_explicit_override() {
    let dir = tempfile::tempdir().unwrap();
    let long = MINIMAL.replace("horizon_quarters = 8", "horizon_quarters = 200");
    write(dir.path(), "s.toml", &long);
    let o = run_in(dir.path(), &["run", "s.toml", "--trials", "10000000", "--out", "o"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--allow-large-run") && err.contains("--shard"), "{err}");
    assert!(!dir.path().join("o").exists());
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    crate::common::folder_files(dir)
}

/// Starts a long run over existing results, sends `signal` after a second,
/// and checks the earlier results are untouched.
fn interrupt_with(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", MINIMAL);
    let o = run_in(dir.path(), &["run", "s.toml", "--out", "out", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let before = snapshot(&dir.path().join("out"));
    let mut child = sancsim()
        .current_dir(dir.path())
        .args([
            "run",
            "s.toml",
            "--out",
            "out",
            "--trials",
            "100000000",
            "--allow-large-run",
            "--seed",
            "5",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let sent = Instant::now();
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = loop {
        if let Some(_status) = child.try_wait().unwrap() {
            break child.wait_with_output().unwrap();
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "{signal}: still running 10 s after the signal"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let stopped_in = sent.elapsed();
    if signal != "-KILL" {
        assert!(
            stopped_in < Duration::from_secs(1),
            "{signal}: took {stopped_in:?} to stop"
        );
        assert_eq!(output.status.code(), Some(130), "{signal}: {}", text(&output));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("interrupted"),
            "{}",
            text(&output)
        );
    }
    assert_eq!(
        snapshot(&dir.path().join("out")),
        before,
        "{signal}: earlier results changed"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    if signal != "-KILL" {
        assert!(
            !names.iter().any(|n| n.contains(".tmp-")),
            "{signal}: temporary folder left: {names:?}"
        );
    }
}

#[test]
fn ctrl_c_stops_within_a_second_and_keeps_earlier_results() {
    interrupt_with("-INT");
}

#[test]
fn sigterm_stops_within_a_second_and_keeps_earlier_results() {
    interrupt_with("-TERM");
}

#[test]
fn sigkill_keeps_earlier_results() {
    interrupt_with("-KILL");
}

#[test]
fn scenario_names_never_choose_output_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("work")).unwrap();
    let evil = MINIMAL.replace("name = \"base\"", "name = \"../../escape\"");
    write(&dir.path().join("work"), "s.toml", &evil);
    let o = run_in(&dir.path().join("work"), &["run", "s.toml", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("work/outputs/s/summary.json").is_file());
    assert!(!dir.path().join("escape").exists());
    let o = run_in(&dir.path().join("work"), &["batch", ".", "--out", "b", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("work/b/s/summary.json").is_file());
    assert!(!dir.path().join("escape").exists());
}

#[test]
fn an_unwritable_output_location_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", MINIMAL);
    // /proc is read-only even for root.
    let o = run_in(dir.path(), &["run", "s.toml", "--out", "/proc/sancsim-test/out"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error: /proc/sancsim-test"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Unmounts a test file system when dropped.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A full disk: a 64 KiB tmpfs (needs root; skipped where mounting is not
/// allowed). The run fails with the path and the OS error, and leaves no
/// temporary folder on the full file system.
#[test]
fn a_full_disk_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&full)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipping: cannot mount a small tmpfs here (needs root)");
        return;
    }
    let _guard = Mounted(full.clone());
    write(dir.path(), "s.toml", MINIMAL);
    let out = full.join("out");
    let o = run_in(dir.path(), &["run", "s.toml", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(full.to_str().unwrap()) && err.contains("No space left"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&full).unwrap().count(),
        0,
        "something was left on the full disk"
    );
}

/// `--out` never wipes a folder that is not sancsim's own, nor one holding
/// the run's input.
#[test]
fn out_never_replaces_a_foreign_folder_or_the_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("thesis")).unwrap();
    write(&dir.path().join("thesis"), "chapter1.txt", "precious");
    write(dir.path(), "s.toml", MINIMAL);
    let o = run_in(dir.path(), &["run", "s.toml", "--out", "thesis"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not hold sancsim results"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("thesis/chapter1.txt")).unwrap(),
        "precious"
    );
    // A results folder that also holds the scenario file.
    let o = run_in(dir.path(), &["run", "s.toml", "--out", "res", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::copy(dir.path().join("s.toml"), dir.path().join("res/s.toml")).unwrap();
    let o = run_in(&dir.path().join("res"), &["run", "s.toml", "--out", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(dir.path().join("res/s.toml").is_file());
}
