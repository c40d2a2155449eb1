//! Sharded runs as a cluster runs them: shards in separate, concurrent
//! processes, merged into outputs byte-identical to one process; merges of
//! shards that do not make one run refused; and the Slurm templates of
//! docs/cluster/ run end to end on a real (single-node) Slurm cluster.
//!
//! The Slurm test is skipped with a message where `sbatch` is not installed
//! or no controller answers, except on CI (`CI=true`), where `.ci/run`
//! starts a cluster (`.ci/start-slurm.sh`) and its absence is a failure.
//! Its files live in a temporary folder under `SANCSIM_SLURM_DIR` (default:
//! the system's temporary folder), which must be visible to the nodes that
//! run the jobs: on a multi-node cluster, point it at a shared file system.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{MINIMAL, repo, run_in, sancsim, text, write};

/// Trials of the sharded runs of the default scenario.
const TRIALS: &str = "3000";
/// Seed of those runs (not the scenario's own, so `--seed` is exercised).
const SEED: &str = "11";
/// Longest the Slurm jobs (array and merge) may take before the test fails.
const SLURM_TIMEOUT: Duration = Duration::from_secs(120);

/// Every file of an output folder by name; panics on anything but plain
/// files (outputs are flat).
fn folder_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    entries
        .map(|e| {
            let path = e.unwrap().path();
            assert!(path.is_file(), "{}: not a plain file", path.display());
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// Asserts that folders `a` and `b` hold the same file names with the same
/// bytes.
fn assert_same_outputs(a: &Path, b: &Path) {
    let (fa, fb) = (folder_files(a), folder_files(b));
    let names = |f: &BTreeMap<String, Vec<u8>>| f.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&fa),
        names(&fb),
        "{} and {} hold other files",
        a.display(),
        b.display()
    );
    assert!(fa.contains_key("report.html"), "{}: no report.html", a.display());
    for (name, bytes) in &fa {
        assert!(
            bytes == &fb[name],
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// The default scenario run in one process with [`TRIALS`] and [`SEED`],
/// into `dir/out`.
fn single_run(dir: &Path, scenario: &str, out: &str) -> PathBuf {
    let o = run_in(
        dir,
        &[
            "run", scenario, "--trials", TRIALS, "--seed", SEED, "--out", out, "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    dir.join(out)
}

#[test]
fn shards_in_separate_processes_merge_to_the_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/default.toml");
    let s = scenario.to_str().unwrap();
    let children: Vec<_> = (1..=3)
        .map(|k| {
            sancsim()
                .current_dir(dir.path())
                .args(["run", s, "--trials", TRIALS, "--seed", SEED, "--quiet"])
                .args(["--shard", &format!("{k}/3"), "--out", &format!("shard-{k}")])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("sancsim starts")
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    for k in 1..=3 {
        let files = folder_files(&dir.path().join(format!("shard-{k}")));
        assert_eq!(files.keys().collect::<Vec<_>>(), [".sancsim-output", "partial.json"]);
    }
    // Out of order on purpose: the merge sorts the shards.
    let o = run_in(
        dir.path(),
        &["merge", "shard-3", "shard-1", "shard-2", "--out", "merged", "--quiet"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
    let single = single_run(dir.path(), s, "single");
    assert_same_outputs(&dir.path().join("merged"), &single);
    // Both reports name the one command that reproduces them (the run was
    // given the file by its full path, the merge knows only its stem).
    let line = format!(
        "Produced by sancsim {}: `sancsim run default.toml --seed {SEED} --trials {TRIALS}`",
        env!("CARGO_PKG_VERSION")
    );
    let report = std::fs::read_to_string(dir.path().join("merged/report.md")).unwrap();
    assert_eq!(report.matches(&line).count(), 1, "{line} not in:\n{report}");
    let html = std::fs::read_to_string(dir.path().join("merged/report.html")).unwrap();
    assert!(html.contains(&format!(
        "<code>sancsim run default.toml --seed {SEED} --trials {TRIALS}</code>"
    )));
}

#[test]
fn merge_refuses_missing_and_mismatched_shards() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", MINIMAL);
    let shard = |k: u32, seed: &str, out: &str| {
        let o = run_in(
            dir.path(),
            &[
                "run",
                "s.toml",
                "--trials",
                "300",
                "--seed",
                seed,
                "--shard",
                &format!("{k}/3"),
                "--out",
                out,
                "--quiet",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    };
    shard(1, "5", "a1");
    shard(2, "5", "a2");
    shard(3, "5", "a3");
    shard(2, "6", "b2");
    write(dir.path(), "not-partial.json", "{\"format\": \"something else\"}\n");
    // Shard 2 with its scenario text edited (hash left as it was), and with
    // text and hash both changed to another scenario (a longer horizon).
    let edit = |from: &str, to: &str, with_hash: bool| {
        let mut p: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("a2/partial.json")).unwrap()).unwrap();
        let text = p["scenario_text"]
            .as_str()
            .unwrap()
            .replace("horizon_quarters = 8", "horizon_quarters = 12");
        if with_hash {
            p["scenario_hash"] = serde_json::Value::String(sancsim::model::Model::fingerprint(&text));
        }
        p["scenario_text"] = serde_json::Value::String(text);
        // With the checksum recomputed, so that the scenario checks are what
        // refuses it.
        write_partial(dir.path(), to, &resealed(&p));
        let _ = from;
    };
    edit("a2", "edited2", false);
    edit("a2", "other2", true);

    let cases: [(&str, &[&str], &str); 7] = [
        ("edited", &["a1", "edited2", "a3"], "does not match its scenario hash"),
        ("other scenario", &["a1", "other2", "a3"], "scenario hash"),
        ("missing", &["a1", "a3"], "missing shards: 2/3"),
        ("seed", &["a1", "b2", "a3"], "seed"),
        ("twice", &["a1", "a2", "a2", "a3"], "given twice"),
        (
            "json",
            &["a1", "a2", "a3", "not-partial.json"],
            "not a sancsim partial result",
        ),
        ("toml", &["a1", "a2", "s.toml"], "not a sancsim partial result"),
    ];
    for (case, parts, expect) in cases {
        let out = format!("merged-{case}");
        let mut args = vec!["merge"];
        args.extend_from_slice(parts);
        args.extend_from_slice(&["--out", &out]);
        let o = run_in(dir.path(), &args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{case}: {}", text(&o));
        assert!(
            stderr.contains(expect),
            "{case}: stderr should name `{expect}`: {}",
            text(&o)
        );
        assert!(!dir.path().join(&out).exists(), "{case}: {out} was created");
    }
    // Nothing half-written left behind either (write_folder's temporaries).
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("merged"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    // The shards themselves do merge.
    let o = run_in(dir.path(), &["merge", "a1", "a2", "a3", "--out", "merged", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
}

/// Whether `program` is an executable file in a folder of `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
}

/// Why Slurm cannot be used here, if it cannot.
fn slurm_missing() -> Option<String> {
    if !on_path("sbatch") {
        return Some("Slurm not installed (no sbatch on PATH)".into());
    }
    match Command::new("sinfo").args(["-h", "-o", "%T"]).output() {
        Ok(o) if o.status.success() && !o.stdout.is_empty() => None,
        Ok(o) => Some(format!(
            "no Slurm controller answers (start one with .ci/start-slurm.sh): {}",
            text(&o)
        )),
        Err(e) => Some(format!("sinfo does not run: {e}")),
    }
}

/// Runs `cmd` with stdout and stderr into files of `dir`; kills it after
/// `timeout`. Returns its output, or None if it timed out.
fn run_with_timeout(mut cmd: Command, dir: &Path, timeout: Duration) -> Option<Output> {
    let (out_path, err_path) = (dir.join("submit.stdout"), dir.join("submit.stderr"));
    // Its own process group, so that a timeout kills the sbatch it waits on too.
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("submit-slurm.sh starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let status = status?;
    Some(Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    })
}

/// The logs of the Slurm jobs, for failure messages.
fn job_logs(out: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(out.join("logs")) else {
        return "(no logs)".into();
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            format!(
                "--- {}\n{}",
                p.display(),
                std::fs::read_to_string(p).unwrap_or_default()
            )
        })
        .collect()
}

/// `JobState` of a job as `scontrol` reports it.
fn job_state(id: &str) -> String {
    let o = Command::new("scontrol").args(["show", "job", id]).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .find_map(|w| w.strip_prefix("JobState="))
        .unwrap_or("unknown")
        .to_string()
}

#[test]
fn slurm_array_job_merges_to_the_single_run() {
    let Some((dir, merged)) = slurm_job("run", "") else {
        return;
    };
    let scenario = dir.path().join("default.toml");
    let single = single_run(dir.path(), scenario.to_str().unwrap(), "single");
    assert_same_outputs(&merged, &single);
}

/// A comparison sharded by the same Slurm scripts (COMMAND=compare) merges
/// to the bytes of one process.
#[test]
fn slurm_array_job_merges_a_comparison_to_the_single_process() {
    let variant = "training.mfu=0.40";
    let Some((dir, merged)) = slurm_job("compare", &format!("--variant {variant}")) else {
        return;
    };
    let scenario = dir.path().join("default.toml");
    let o = run_in(
        dir.path(),
        &[
            "compare",
            scenario.to_str().unwrap(),
            "--variant",
            variant,
            "--trials",
            TRIALS,
            "--seed",
            SEED,
            "--out",
            "single",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(merged.join("compare.csv").is_file());
    assert_same_outputs(&merged, &dir.path().join("single"));
}

/// Submits `command` of the default scenario as a Slurm array of 3 shards
/// and a merge, waits, and checks the jobs; returns the test folder and the
/// merged outputs (None when Slurm is missing outside CI).
fn slurm_job(command: &str, extra: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    if let Some(why) = slurm_missing() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI must provide Slurm: .ci/run starts it ({why})");
        }
        eprintln!("skipping: {why}");
        return None;
    }
    let base = std::env::var_os("SANCSIM_SLURM_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = tempfile::Builder::new()
        .prefix("sancsim-slurm-")
        .tempdir_in(&base)
        .unwrap();
    // The jobs get their own copies of the binary and the scenario: cargo
    // may rebuild target/ while they wait in the queue.
    let bin = dir.path().join("sancsim");
    std::fs::copy(env!("CARGO_BIN_EXE_sancsim"), &bin).unwrap();
    let scenario = dir.path().join("default.toml");
    std::fs::copy(repo().join("scenarios/default.toml"), &scenario).unwrap();
    let out = dir.path().join("run");
    let job_name = format!("sancsim-test-{}-{command}", std::process::id());

    let mut submit = Command::new("bash");
    submit
        .arg(repo().join("docs/cluster/submit-slurm.sh"))
        .arg("--wait")
        .arg(&scenario)
        .args([TRIALS, SEED, "3"])
        .arg(&out)
        .arg(&bin)
        .current_dir(dir.path())
        .env("JOB_NAME", &job_name)
        .env("COMMAND", command)
        .env("EXTRA_ARGS", extra)
        // Jobs left behind by a failed test end on their own.
        .env("SBATCH_TIMELIMIT", "5");
    let start = Instant::now();
    let Some(o) = run_with_timeout(submit, dir.path(), SLURM_TIMEOUT) else {
        for name in [job_name.clone(), format!("{job_name}-merge")] {
            let _ = Command::new("scancel").args(["--name", &name]).status();
        }
        panic!(
            "the Slurm jobs did not finish within {SLURM_TIMEOUT:?}\nsubmit-slurm.sh said: {}\n{}\nqueue:\n{}",
            std::fs::read_to_string(dir.path().join("submit.stdout")).unwrap_or_default(),
            job_logs(&out),
            String::from_utf8_lossy(&Command::new("squeue").output().map(|o| o.stdout).unwrap_or_default())
        );
    };
    assert!(o.status.success(), "{}\n{}", text(&o), job_logs(&out));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let merge_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("merge job: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no merge job id in: {}", text(&o)))
        .to_string();
    // sbatch --wait returns 0 for a merge job cancelled because a shard
    // failed: look at the outputs and the job's state too.
    let merged = out.join("merged");
    while !merged.join("report.html").is_file() && start.elapsed() < SLURM_TIMEOUT {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        merged.join("report.html").is_file(),
        "no merged outputs\n{}\n{}",
        text(&o),
        job_logs(&out)
    );
    assert_eq!(job_state(&merge_id), "COMPLETED", "{}", job_logs(&out));
    eprintln!("Slurm array of 3 shards and merge took {:?}", start.elapsed());

    for k in 1..=3 {
        assert!(
            out.join(format!("shard-{k}/partial.json")).is_file(),
            "{}",
            job_logs(&out)
        );
    }
    Some((dir, merged))
}

/// Runs shard `k`/`n` of MINIMAL (`s.toml` in `dir`, 300 trials, seed 5)
/// into `dir/out`.
fn minimal_shard(dir: &Path, k: u32, n: u32, out: &str) {
    if !dir.join("s.toml").is_file() {
        write(dir, "s.toml", MINIMAL);
    }
    let shard = format!("{k}/{n}");
    let o = run_in(
        dir,
        &[
            "run", "s.toml", "--trials", "300", "--seed", "5", "--shard", &shard, "--out", out, "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
}

/// `dir/from/partial.json` as JSON.
fn partial_json(dir: &Path, from: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(from).join("partial.json")).unwrap()).unwrap()
}

/// Writes `bytes` as `dir/to/partial.json`.
fn write_partial(dir: &Path, to: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir.join(to)).unwrap();
    std::fs::write(dir.join(to).join("partial.json"), bytes).unwrap();
}

/// Merges `parts` in `dir` into `dir/merged-<case>`; asserts exit 2, that
/// stderr names `file` and says `expect`, and that nothing was written.
fn assert_merge_refused(dir: &Path, case: &str, parts: &[&str], file: &str, expect: &str) {
    let out = format!("merged-{case}");
    let mut args = vec!["merge"];
    args.extend_from_slice(parts);
    args.extend_from_slice(&["--out", &out]);
    let o = run_in(dir, &args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{case}: {}", text(&o));
    assert!(
        stderr.contains(file) && stderr.contains(expect),
        "{case}: stderr should name {file} and say `{expect}`: {}",
        text(&o)
    );
    assert!(!stderr.contains("panicked"), "{case}: {}", text(&o));
    assert!(!dir.join(&out).exists(), "{case}: {out} was created");
}

/// Ways of hand-editing a partial result's statistics, each with the
/// shard it edits and what the merge must say when the checksum was
/// recomputed after the edit (so that only the invariants can catch it).
type Tamper = (&'static str, &'static str, fn(&mut serde_json::Value), &'static str);

const TAMPERINGS: [Tamper; 12] = [
    (
        // Was: probability 3.78 and never_within_horizon 6.1e13, exit 0.
        "reached",
        "a2",
        |p| p["aggregate"]["reached_in_quarter"][0][3] = 1000.into(),
        "reached_in_quarter[0]",
    ),
    (
        // Was: NaN probabilities, exit 0.
        "zero-trials",
        "one",
        |p| {
            p["total_trials"] = 0.into();
            p["end_trial"] = 0.into();
            p["aggregate"]["trials"] = 0.into();
        },
        "total_trials",
    ),
    (
        // Was: panic "capacity overflow".
        "first",
        "a2",
        |p| p["aggregate"]["metrics"][5]["first"] = i32::MAX.into(),
        "metrics[5]",
    ),
    (
        "negative-first",
        "a2",
        |p| p["aggregate"]["metrics"][7]["first"] = (-3).into(),
        "metrics[7]",
    ),
    (
        "zeros",
        "a2",
        |p| p["aggregate"]["metrics"][0]["zeros"] = u64::MAX.into(),
        "metrics[0]",
    ),
    (
        "reached-sum-wraps",
        "a2",
        |p| {
            p["aggregate"]["reached_in_quarter"][0][0] = u64::MAX.into();
            p["aggregate"]["reached_in_quarter"][0][1] = 2.into();
        },
        "reached_in_quarter[0]",
    ),
    (
        "shape",
        "a2",
        |p| {
            p["aggregate"]["metrics"].as_array_mut().unwrap().pop();
        },
        "histograms",
    ),
    (
        // The stem names the default output folder: never a path out of outputs/.
        "stem-path",
        "a2",
        |p| p["scenario_stem"] = "../../elsewhere".into(),
        "scenario_stem",
    ),
    (
        // A run counted as started in a quarter, without the total.
        "started",
        "a2",
        |p| {
            let n = p["aggregate"]["started_in_quarter"][0].as_u64().unwrap();
            p["aggregate"]["started_in_quarter"][0] = (n + 1).into();
        },
        "started_in_quarter",
    ),
    (
        // Misses that no longer add up to the trials that missed.
        "missed",
        "a2",
        |p| {
            let n = p["aggregate"]["missed"][0][2].as_u64().unwrap();
            p["aggregate"]["missed"][0][2] = (n + 5).into();
        },
        "missed[0]",
    ),
    (
        // A reason moved: the sum holds, the trials without a run do not.
        "missed-moved",
        "a2",
        |p| {
            let m = &mut p["aggregate"]["missed"][0];
            let counts: Vec<u64> = (0..4).map(|r| m[r].as_u64().unwrap()).collect();
            let (from, to) = match (1..4).find(|&r| counts[r] > 0) {
                Some(r) => (r, 0),
                None => (0, 1),
            };
            m[from] = (counts[from] - 1).into();
            m[to] = (counts[to] + 1).into();
        },
        "missed[0]",
    ),
    (
        // Was: a panic on subtraction overflow (debug) or a wrap.
        "shard-zero",
        "a2",
        |p| p["shard"]["index"] = 0.into(),
        "shard",
    ),
];

/// `value` as the bytes of a partial.json with its checksum recomputed, as
/// someone who edits the file knowing the checksum would write it.
fn resealed(value: &serde_json::Value) -> Vec<u8> {
    let p: sancsim::partial::Partial = serde_json::from_value(value.clone()).unwrap();
    sancsim::partial::encode(&p).unwrap()
}

#[test]
fn merge_refuses_hand_edited_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for k in 1..=3 {
        minimal_shard(d, k, 3, &format!("a{k}"));
    }
    minimal_shard(d, 1, 1, "one");
    for (case, from, edit, expect) in TAMPERINGS {
        let mut p = partial_json(d, from);
        edit(&mut p);
        // As edited (caught by the checksum), and with the checksum
        // recomputed (caught by the invariants).
        for (variant, bytes, expect) in [
            ("edited", serde_json::to_vec(&p).unwrap(), "checksum"),
            ("resealed", resealed(&p), expect),
        ] {
            let to = format!("{case}-{variant}");
            write_partial(d, &to, &bytes);
            let parts: Vec<String> = match from {
                "one" => vec![to.clone()],
                _ => ["a1", "a2", "a3"]
                    .iter()
                    .map(|s| if *s == from { to.clone() } else { s.to_string() })
                    .collect(),
            };
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            assert_merge_refused(d, &to, &parts, &format!("{to}/partial.json"), expect);
        }
    }
    // Counts that are each valid but whose sum does not fit: two shards
    // claiming 2^64-1 events each (which wrapped silently before).
    for from in ["a1", "a2"] {
        let mut p = partial_json(d, from);
        p["aggregate"]["events"] = u64::MAX.into();
        write_partial(d, &format!("{from}-events"), &resealed(&p));
    }
    assert_merge_refused(
        d,
        "events",
        &["a1-events", "a2-events", "a3"],
        "a2-events/partial.json",
        "overflows",
    );
}

#[test]
fn merge_never_deletes_an_input_shard() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    minimal_shard(d, 1, 2, "s1");
    minimal_shard(d, 2, 2, "s2");
    // The default output folder of a merge of s.toml is outputs/s.
    minimal_shard(d, 1, 1, "outputs/s");
    let cases: [(&str, &[&str]); 4] = [
        ("folder", &["merge", "s1", "s2", "--out", "s1"]),
        ("file", &["merge", "s1/partial.json", "s2", "--out", "s1"]),
        ("spelled otherwise", &["merge", "s1", "s2", "--out", "./s2/."]),
        ("default", &["merge", "outputs/s"]),
    ];
    for (case, args) in cases {
        let before: Vec<_> = ["s1", "s2", "outputs/s"]
            .iter()
            .map(|s| std::fs::read(d.join(s).join("partial.json")).unwrap())
            .collect();
        let o = run_in(d, args);
        assert_eq!(o.status.code(), Some(2), "{case}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("would delete"),
            "{case}: {}",
            text(&o)
        );
        for (s, bytes) in ["s1", "s2", "outputs/s"].iter().zip(before) {
            assert_eq!(
                std::fs::read(d.join(s).join("partial.json")).ok(),
                Some(bytes),
                "{case}: {s}/partial.json changed"
            );
            assert!(!d.join(s).join("summary.json").exists(), "{case}: merged into {s}");
        }
    }
}

#[test]
fn merge_refuses_partial_results_of_an_older_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    minimal_shard(d, 1, 1, "one");
    let mut p = partial_json(d, "one");
    p["format"] = "sancsim-partial/1".into();
    p.as_object_mut().unwrap().remove("checksum");
    write_partial(d, "old", &serde_json::to_vec(&p).unwrap());
    assert_merge_refused(d, "old", &["old"], "old/partial.json", "re-run the shards");
}

#[test]
fn shards_with_samples_merge_to_the_single_runs_samples() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s.toml", MINIMAL);
    // 300 trials in 4 shards, rows for the first 130: the first shard holds
    // 75 rows, the second 55, the others none.
    let run = |args: &[&str]| {
        let mut all = vec![
            "run",
            "s.toml",
            "--trials",
            "300",
            "--seed",
            "5",
            "--samples",
            "130",
            "--quiet",
        ];
        all.extend_from_slice(args);
        let o = run_in(d, &all);
        assert!(o.status.success(), "{}", text(&o));
    };
    for k in 1..=4 {
        run(&["--shard", &format!("{k}/4"), "--out", &format!("s{k}")]);
    }
    run(&["--out", "single"]);
    let o = run_in(d, &["merge", "s4", "s2", "s3", "s1", "--out", "merged", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_outputs(&d.join("merged"), &d.join("single"));
    let rows = |k: u32| {
        partial_json(d, &format!("s{k}"))["samples"]["rows"]
            .as_str()
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!([rows(1), rows(2), rows(3), rows(4)], [75, 55, 0, 0]);
    assert_eq!(
        std::fs::read_to_string(d.join("merged/samples.csv"))
            .unwrap()
            .lines()
            .count(),
        131
    );
    // Shards of one run must all have the same --samples, or none.
    let o = run_in(
        d,
        &[
            "run", "s.toml", "--trials", "300", "--seed", "5", "--shard", "2/4", "--out", "plain2", "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_merge_refused(d, "mixed", &["s1", "plain2", "s3", "s4"], "plain2", "samples");
    // Rows edited (and the checksum recomputed) are refused.
    let mut p = partial_json(d, "s2");
    let edited = p["samples"]["rows"].as_str().unwrap().replacen("75,", "76,", 1);
    p["samples"]["rows"] = edited.into();
    write_partial(d, "rows", &resealed(&p));
    assert_merge_refused(d, "rows", &["s1", "rows", "s3", "s4"], "rows/partial.json", "trial 75");
}
