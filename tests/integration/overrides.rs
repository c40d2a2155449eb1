//! `--set KEY.PATH=VALUE`: what-if runs without copying the scenario file.

use std::path::Path;

use crate::common::{MINIMAL, folder_files, read_summary, run_in, text, write};

/// The base case: reaches its target in about half of the trials.
fn base() -> String {
    MINIMAL.replace("target_flop = 1e23", "target_flop = 2e24")
}

/// Runs `base.toml` in `dir` with `args` (after `run base.toml --out out`)
/// and returns the milestone's probability.
fn probability(dir: &Path, out: &str, args: &[&str]) -> f64 {
    let mut all = vec!["run", "base.toml", "--out", out, "--quiet"];
    all.extend_from_slice(args);
    let o = run_in(dir, &all);
    assert!(o.status.success(), "{args:?}: {}", text(&o));
    read_summary(&dir.join(out)).milestones[0].probability
}

#[test]
fn number_quarter_bool_string_and_table_overrides_change_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "base.toml", &base());
    let p0 = probability(d, "p0", &[]);
    assert!(p0 > 0.05 && p0 < 0.95, "base case {p0}");
    // A number inside an array entry.
    let more = probability(d, "more", &["--set", "supply.line.orders[0].chips=4000"]);
    assert!(more > p0, "{more} vs {p0}");
    // An unquoted quarter.
    let later = probability(d, "later", &["--set", "milestones.m.deadline=2025Q4"]);
    assert!(later > p0, "{later} vs {p0}");
    // A boolean: foreign chips never count for a domestic milestone.
    let foreign = probability(d, "foreign", &["--set", "chips.a.domestic=false"]);
    assert_eq!(foreign, 0.0);
    // An unquoted string.
    probability(d, "named", &["--set", "scenario.name=what_if"]);
    assert_eq!(read_summary(&d.join("named")).scenario, "what_if");
    // An inline table by mean and sd: a fill rate of 0.9 instead of 0.4.
    let table = r#"supply.line.fill_rate={ dist = "beta", mean = 0.9, sd = 0.05 }"#;
    let filled = probability(d, "filled", &["--set", table]);
    assert!(filled > p0, "{filled} vs {p0}");
    // Exactly as if written in the file.
    write(
        d,
        "edited.toml",
        &base().replace(
            "fill_rate = { dist = \"beta\", alpha = 2, beta = 3 }",
            "fill_rate = { dist = \"beta\", mean = 0.9, sd = 0.05 }",
        ),
    );
    let o = run_in(d, &["run", "edited.toml", "--out", "edited", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let (by_set, by_file) = (read_summary(&d.join("filled")), read_summary(&d.join("edited")));
    assert_eq!(by_set.milestones, by_file.milestones);
    assert_eq!(by_set.scenario_hash, by_file.scenario_hash);
    // A key the file leaves out is added; later --set wins.
    let goodput = probability(
        d,
        "goodput",
        &["--set", "training.goodput=0.5", "--set", "training.goodput=0.01"],
    );
    assert!(goodput < p0, "{goodput} vs {p0}");
}

/// Exit code and stderr of `sancsim run base.toml --set <set>`.
fn refused(set: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.toml", &base());
    let o = run_in(dir.path(), &["run", "base.toml", "--out", "out", "--set", set]);
    assert_eq!(o.status.code(), Some(2), "{set}: {}", text(&o));
    assert!(!dir.path().join("out").exists());
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn an_invalid_value_is_exit_2_naming_the_set() {
    let e = refused("training.mfu=1.5");
    assert!(
        e.starts_with("error: --set training.mfu=1.5: training.mfu: must lie in [0, 1], got 1.5"),
        "{e}"
    );
    assert!(!e.contains("base.toml:"), "points at a line of the file: {e}");
    let e = refused(r#"supply.line.fill_rate={ dist = "beta", mean = 0.6, sd = 0.5 }"#);
    assert!(
        e.contains("--set supply.line.fill_rate=")
            && e.contains(
                "supply.line.fill_rate.sd: a beta with mean 0.6 must have sd below sqrt(mean·(1 − mean)) = 0.4898"
            ),
        "{e}"
    );
    let e = refused(r#"supply.line.fill_rate={ dist = "beta" mean = 0.6 }"#);
    assert!(
        e.contains("--set supply.line.fill_rate=") && e.contains("not a TOML value"),
        "{e}"
    );
    let e = refused("milestones.m.deadline=2031Q1");
    assert!(
        e.contains("--set milestones.m.deadline=2031Q1: milestones.m.deadline:"),
        "{e}"
    );
    let e = refused("training.mfu");
    assert!(e.contains("--set training.mfu: expected KEY.PATH=VALUE"), "{e}");
}

#[test]
fn an_unknown_path_is_exit_2_with_did_you_mean() {
    let e = refused("supply.lin.fill_rate=0.5");
    assert!(
        e.contains("--set supply.lin.fill_rate=0.5: supply.lin: the file has no [supply.lin] table"),
        "{e}"
    );
    assert!(e.contains("did you mean `supply.line`?"), "{e}");
    let e = refused("training.mfuu=0.5");
    assert!(
        e.contains("--set training.mfuu=0.5: training.mfuu: unknown field"),
        "{e}"
    );
    assert!(e.contains("did you mean `mfu`?"), "{e}");
    let e = refused("milestones.m.dedline=2025Q2");
    assert!(e.contains("did you mean `deadline`?"), "{e}");
    let e = refused("supply.line.orders[3].chips=1");
    assert!(e.contains("supply.line.orders: has 1 entry, [0]: no [3]"), "{e}");
}

#[test]
fn summary_records_the_overrides_and_the_hash_covers_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "base.toml", &base());
    probability(d, "plain", &[]);
    let json = std::fs::read_to_string(d.join("plain/summary.json")).unwrap();
    assert!(!json.contains("\"overrides\""), "no overrides, no key: {json}");
    probability(
        d,
        "set",
        &["--set", "milestones.m.deadline=2025Q3", "--set", "training.mfu = 0.45"],
    );
    let s = read_summary(&d.join("set"));
    assert_eq!(
        s.overrides,
        vec![
            "milestones.m.deadline=\"2025Q3\"".to_string(),
            "training.mfu=0.45".to_string()
        ]
    );
    assert_ne!(s.scenario_hash, read_summary(&d.join("plain")).scenario_hash);
    // The recorded form is itself a --set argument that gives the same run.
    let mut args = Vec::new();
    for o in &s.overrides {
        args.extend(["--set", o.as_str()]);
    }
    probability(d, "replay", &args);
    assert_eq!(
        std::fs::read(d.join("set/summary.json")).unwrap(),
        std::fs::read(d.join("replay/summary.json")).unwrap()
    );
}

#[test]
fn shards_with_set_merge_byte_identical_to_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A line at the end of the file ordering only outside the horizon
    // draws a warning, below the line that `training.goodput` adds: its
    // line in summary.json must be the file's, in both ways of running.
    let scenario = format!(
        "{}\n[supply.late]\nchip = \"a\"\norders = [{{ quarter = \"2030Q1\", chips = 5 }}]\n",
        base()
    );
    write(d, "base.toml", &scenario);
    let sets = [
        "--set",
        "training.goodput=0.8",
        "--set",
        r#"supply.line.fill_rate={ dist = "beta", mean = 0.6, sd = 0.15 }"#,
    ];
    let mut single = vec!["run", "base.toml", "--out", "single", "--trials", "500", "--quiet"];
    single.extend(sets);
    let o = run_in(d, &single);
    assert!(o.status.success(), "{}", text(&o));
    for k in ["1/3", "2/3", "3/3"] {
        let out = format!("shard{}", &k[..1]);
        let mut args = vec![
            "run",
            "base.toml",
            "--shard",
            k,
            "--out",
            &out,
            "--trials",
            "500",
            "--quiet",
        ];
        args.extend(sets);
        let o = run_in(d, &args);
        assert!(o.status.success(), "{}", text(&o));
    }
    // The scenario file may change after the shards ran: they carry it.
    std::fs::remove_file(d.join("base.toml")).unwrap();
    let o = run_in(
        d,
        &["merge", "shard1", "shard2", "shard3", "--out", "merged", "--quiet"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(folder_files(&d.join("single")), folder_files(&d.join("merged")));
    let s = read_summary(&d.join("merged"));
    assert_eq!(s.overrides.len(), 2);
    let late_line = scenario.lines().position(|l| l == "[supply.late]").unwrap() + 1;
    assert!(
        s.warnings.iter().any(|w| w.starts_with(&format!("{}:", late_line + 2))),
        "warning not at the file's line {}: {:?}",
        late_line + 2,
        s.warnings
    );
}

#[test]
fn shards_with_different_overrides_do_not_merge() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "base.toml", &base());
    for (k, mfu) in [("1/2", "0.4"), ("2/2", "0.5")] {
        let out = format!("shard{}", &k[..1]);
        let set = format!("training.mfu={mfu}");
        let o = run_in(
            d,
            &[
                "run",
                "base.toml",
                "--shard",
                k,
                "--out",
                &out,
                "--quiet",
                "--set",
                &set,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = run_in(d, &["merge", "shard1", "shard2", "--out", "merged"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not belong with"),
        "{}",
        text(&o)
    );
}

#[test]
fn batch_applies_set_to_every_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scenarios = d.join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    write(&scenarios, "a.toml", &base());
    write(&scenarios, "b.toml", &base().replace("chips = 1000", "chips = 2000"));
    let o = run_in(
        d,
        &[
            "batch",
            "scenarios",
            "--out",
            "out",
            "--quiet",
            "--set",
            "chips.a.domestic=false",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    for name in ["a", "b"] {
        let s = read_summary(&d.join("out").join(name));
        assert_eq!(s.overrides, vec!["chips.a.domestic=false".to_string()]);
        assert_eq!(s.milestones[0].probability, 0.0, "{name}");
    }
    // A scenario the path does not fit fails on its own, exit 2.
    write(
        &scenarios,
        "c.toml",
        &base()
            .replace("[chips.a]", "[chips.b]")
            .replace("chip = \"a\"", "chip = \"b\""),
    );
    let o = run_in(
        d,
        &["batch", "scenarios", "--out", "out2", "--set", "chips.a.domestic=false"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("--set chips.a.domestic=false: chips.a: the file has no [chips.a] table"),
        "{e}"
    );
    assert!(e.contains("1 of 3 scenarios failed"), "{e}");
}

#[test]
fn check_applies_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scenario = format!("{}\n[[expect]]\nmilestone = \"m\"\nmin_probability = 0.05\n", base());
    write(d, "base.toml", &scenario);
    let o = run_in(d, &["check", "base.toml", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run_in(d, &["check", "base.toml", "--quiet", "--set", "chips.a.domestic=false"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = run_in(d, &["check", "base.toml", "--set", "expect[0].min_probability=1.5"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--set expect[0].min_probability=1.5: expect[0]"),
        "{}",
        text(&o)
    );
}
