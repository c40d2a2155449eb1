//! Signals at any point of a command, and standard output that cannot be
//! written: no panic, no half-written outputs, exit codes as README says.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{MINIMAL, repo, run_in, sancsim, text, write};

/// A scenario whose trials are almost free (one trial) but whose outputs
/// are not: 40 milestones over 200 quarters make the summary, charts and
/// reports the bulk of the run.
fn output_heavy() -> String {
    let mut s = String::from(
        "[scenario]\nname = \"heavy\"\nstart = \"2024Q1\"\nhorizon_quarters = 200\ntrials = 1\n\n\
         [chips.a]\npeak_flops = 1e14\n\n\
         [supply.line]\nchip = \"a\"\norders = [{ from = \"2024Q1\", to = \"2073Q4\", chips = 100 }]\n\n\
         [training]\nmfu = 0.4\n",
    );
    for i in 0..40 {
        s.push_str(&format!(
            "\n[milestones.m{i}]\ntarget_flop = 1e{}\ndeadline = \"2073Q4\"\n",
            20 + i % 6
        ));
    }
    s
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    sancsim()
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn kill(child: &Child, signal: &str) {
    let ok = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Waits for `child`, failing if it takes more than `limit` from now.
fn wait_within(mut child: Child, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), start.elapsed());
        }
        assert!(start.elapsed() < limit, "still running {limit:?} after the signal");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

/// A signal during the summary, chart and report work (the one trial is
/// done within milliseconds) stops the run at once: exit 130, nothing
/// written, no temporary folder. The signal goes at half the duration of an
/// uninterrupted run; on a loaded machine the second run may still finish
/// first, so it is tried again at a quarter and an eighth of it, and the
/// test fails only if no try lands inside the run.
fn interrupt_output_work(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "heavy.toml", &output_heavy());
    let start = Instant::now();
    let o = run_in(dir.path(), &["run", "heavy.toml", "--out", "first", "--quiet"]);
    let whole = start.elapsed();
    assert!(o.status.success(), "{}", text(&o));
    for divisor in [2, 4, 8] {
        let child = spawn(dir.path(), &["run", "heavy.toml", "--out", "second"]);
        std::thread::sleep(whole / divisor);
        kill(&child, signal);
        let (out, took) = wait_within(child, Duration::from_secs(10));
        if out.status.success() {
            eprintln!(
                "{signal}: the run finished before the signal at {:?}; trying earlier",
                whole / divisor
            );
            std::fs::remove_dir_all(dir.path().join("second")).unwrap();
            continue;
        }
        assert_eq!(out.status.code(), Some(130), "{signal}: {}", text(&out));
        assert!(took < Duration::from_secs(1), "{signal}: took {took:?} to stop");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("interrupted") && err.contains("before any result"),
            "{err}"
        );
        assert_eq!(
            names(dir.path()),
            ["first", "heavy.toml"],
            "{signal}: something was written"
        );
        return;
    }
    panic!("{signal}: every run finished before its signal (uninterrupted run: {whole:?})");
}

#[test]
fn sigint_during_summary_charts_and_reports_writes_nothing() {
    interrupt_output_work("-INT");
}

#[test]
fn sigterm_during_summary_charts_and_reports_writes_nothing() {
    interrupt_output_work("-TERM");
}

/// A batch interrupted after its first scenario says which folder it kept
/// (complete) rather than "no results written".
#[test]
fn an_interrupted_batch_names_the_complete_folders_it_kept() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    write(&scenarios, "a.toml", MINIMAL);
    write(
        &scenarios,
        "b.toml",
        &MINIMAL.replace("trials = 200", "trials = 100000000"),
    );
    let child = spawn(dir.path(), &["batch", "scenarios", "--out", "out", "--allow-large-run"]);
    let first = dir.path().join("out/a/summary.json");
    let start = Instant::now();
    while !first.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "first scenario never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    kill(&child, "-INT");
    let (out, _) = wait_within(child, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kept") && err.contains("out/a"), "{err}");
    assert!(!err.contains("no results written"), "{err}");
    assert_eq!(names(&dir.path().join("out")), ["a"]);
    assert!(crate::common::folder_files(&dir.path().join("out/a")).len() > 10);
}

/// `sancsim validate … | true`: the reader is gone before sancsim writes.
/// That is not a failure (exit 0, nothing on stderr), as with cargo and
/// ripgrep; it used to panic with exit 101.
#[test]
fn a_closed_pipe_on_standard_output_is_not_an_error() {
    let script = format!(
        "{{ sleep 0.5; '{}' validate '{}'; }} | true; exit ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_sancsim"),
        repo().join("scenarios/minimal.toml").display()
    );
    let o = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stderr.is_empty(), "{}", text(&o));
}

/// Standard output on a full disk is an I/O error: exit 1 with a message.
#[test]
fn a_full_standard_output_is_an_io_error() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let o = sancsim()
        .args(["validate", &repo().join("scenarios/minimal.toml").display().to_string()])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error: cannot write to standard output"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// `check` on a scenario without bounds suggests a snippet that can be
/// pasted as it is: no `error: ` in front of its lines, and valid TOML that
/// makes the scenario checkable.
#[test]
fn checks_suggested_expect_snippet_can_be_pasted() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", MINIMAL);
    let o = run_in(dir.path(), &["check", "s.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let snippet: String = err
        .lines()
        .skip_while(|l| !l.starts_with("[[expect]]"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(snippet.starts_with("[[expect]]\nmilestone = \"m\"\n"), "{err}");
    assert!(!snippet.contains("error:"), "{err}");
    write(dir.path(), "s.toml", &format!("{MINIMAL}\n{snippet}"));
    let o = run_in(dir.path(), &["check", "s.toml"]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "the pasted snippet does not make a checkable scenario: {}",
        text(&o)
    );
}

#[test]
fn batch_help_states_its_default_once() {
    let o = sancsim().args(["batch", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    let line = help.lines().find(|l| l.contains("--out <OUT>")).unwrap();
    assert_eq!(line.matches("default").count(), 1, "{line}");
    assert!(line.ends_with("[default: outputs]"), "{line}");
}
