//! `--precision`: batches of trials in a fixed order until every milestone's
//! 95% half-width meets the target, reproducibly.

use sancsim::results::Summary;

use crate::common::{run_in, text};

fn summary(dir: &std::path::Path, out: &str) -> Summary {
    crate::common::read_summary(&dir.join(out))
}

#[test]
fn precision_run_stops_when_every_interval_is_narrow_enough() {
    let dir = tempfile::tempdir().unwrap();
    // Without its observations (a posterior's precision is tests/evidence.rs's).
    let f = crate::common::write(dir.path(), "default.toml", &crate::common::default_without_evidence());
    let f = f.to_str().unwrap();
    for (threads, out) in [("1", "a"), ("2", "b")] {
        let o = run_in(
            dir.path(),
            &["run", f, "--precision", "0.01", "--threads", threads, "--out", out],
        );
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("precision: every 95% half-width <= 0.01"),
            "{}",
            text(&o)
        );
        assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"), "{}", text(&o));
    }
    let s = summary(dir.path(), "a");
    let p = s.precision.clone().expect("precision recorded");
    assert!(p.converged);
    assert_eq!(s.trials % p.batch_trials, 0, "whole batches");
    for m in &s.milestones {
        let half = (m.probability - m.ci95_low).max(m.ci95_high - m.probability);
        assert!(half <= 0.01, "{}: half-width {half}", m.name);
    }
    // One batch fewer would not have been enough: the widest half-width of a
    // proportion near 0.5 with 10,000 trials is about 0.0098, so 0.01 needs
    // exactly one batch; the run must not have gone on.
    assert_eq!(s.trials, p.batch_trials);
    // A run that met its target carries no warning.
    assert!(!String::from_utf8_lossy(&std::fs::read(dir.path().join("a/report.md")).unwrap()).contains("Warning"));
    // Same bytes whatever the thread count.
    for file in ["summary.json", "quarters.csv", "milestones.csv"] {
        assert_eq!(
            std::fs::read(dir.path().join("a").join(file)).unwrap(),
            std::fs::read(dir.path().join("b").join(file)).unwrap()
        );
    }
}

#[test]
fn precision_run_reports_when_the_cap_is_reached_first() {
    let dir = tempfile::tempdir().unwrap();
    // Without its observations (a posterior's precision is tests/evidence.rs's).
    let f = crate::common::write(dir.path(), "default.toml", &crate::common::default_without_evidence());
    let o = run_in(
        dir.path(),
        &[
            "run",
            f.to_str().unwrap(),
            "--precision",
            "0.001",
            "--trials",
            "20000",
            "--out",
            "o",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("NOT reached"),
        "{}",
        text(&o)
    );
    let s = summary(dir.path(), "o");
    let p = s.precision.unwrap();
    assert!(!p.converged);
    assert_eq!(s.trials, 20_000);
    assert!(p.achieved_half_width > 0.001);
    // The reports say so, with the achieved and target half-widths and the cap.
    let warning = format!(
        "precision target not reached: the widest 95% half-width is {:.4}, above the target of 0.001, \
         after the cap of 20000 trials",
        p.achieved_half_width
    );
    let md = std::fs::read_to_string(dir.path().join("o/report.md")).unwrap();
    assert!(md.contains(&format!("**Warning:** {warning}")), "{md}");
    let html = std::fs::read_to_string(dir.path().join("o/report.html")).unwrap();
    assert!(html.contains(&format!("<strong>Warning:</strong> {warning}")), "{html}");
    assert!(md.contains("`sancsim run default.toml --seed 20241202 --precision 0.001 --trials 20000`"));
    // And so does stderr, as a warning, even with --quiet.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("warning: {}: {warning}", f.display())),
        "{}",
        text(&o)
    );
    let o = run_in(
        dir.path(),
        &[
            "run",
            f.to_str().unwrap(),
            "--precision",
            "0.001",
            "--trials",
            "20000",
            "--out",
            "q",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("warning:") && l.contains(&warning))
            .count(),
        1,
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(dir.path().join("q/report.md")).unwrap(), md.into_bytes());
}

#[test]
fn precision_must_be_a_sensible_half_width() {
    let dir = tempfile::tempdir().unwrap();
    // Without its observations (a posterior's precision is tests/evidence.rs's).
    let f = crate::common::write(dir.path(), "default.toml", &crate::common::default_without_evidence());
    for bad in ["0", "-0.1", "0.7", "nan"] {
        let o = run_in(
            dir.path(),
            &["run", f.to_str().unwrap(), "--precision", bad, "--out", "o"],
        );
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        assert!(!dir.path().join("o").exists());
    }
}
