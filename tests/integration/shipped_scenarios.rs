//! Every scenario shipped in scenarios/ is valid and runs.

use crate::common::{repo, run_in, shipped_scenarios, text};

#[test]
fn all_shipped_scenarios_validate() {
    let files = shipped_scenarios();
    assert!(
        files.len() >= 7,
        "expected default, minimal, current, foreign_mix and three variants, found {files:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        let o = run_in(dir.path(), &["validate", f.to_str().unwrap()]);
        assert!(o.status.success(), "{}: {}", f.display(), text(&o));
        // No warnings either: a shipped scenario is an example to copy.
        assert!(o.stderr.is_empty(), "{}: {}", f.display(), text(&o));
    }
}

#[test]
fn all_shipped_scenarios_run() {
    let dir = tempfile::tempdir().unwrap();
    for f in shipped_scenarios() {
        let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
        let o = run_in(
            dir.path(),
            &[
                "run",
                f.to_str().unwrap(),
                "--trials",
                "200",
                "--out",
                &stem,
                "--quiet",
                crate::common::ANY_EFFECTIVE_SAMPLE[0],
                crate::common::ANY_EFFECTIVE_SAMPLE[1],
            ],
        );
        assert!(o.status.success(), "{}: {}", f.display(), text(&o));
        let s = crate::common::read_summary(&dir.path().join(&stem));
        assert_eq!(s.trials, 200, "{}", f.display());
    }
}

#[test]
fn the_new_scenarios_are_sourced_and_mix_foreign_chips() {
    // current.toml and foreign_mix.toml cite FACTS.md's sources (or say
    // ASSUMPTION) on every figure that is not a plain count or date.
    for name in ["current.toml", "foreign_mix.toml"] {
        let text = std::fs::read_to_string(repo().join("scenarios").join(name)).unwrap();
        let model = sancsim::model::Model::from_text(&text, name).unwrap();
        for u in &model.uncertain {
            if u.dist.is_fixed() {
                continue;
            }
            let a = model.assumptions.iter().find(|a| a.key == u.key).unwrap();
            assert!(a.source.is_some(), "{name}: {} has no source", a.key);
        }
    }
    let text = std::fs::read_to_string(repo().join("scenarios/foreign_mix.toml")).unwrap();
    let model = sancsim::model::Model::from_text(&text, "foreign_mix.toml").unwrap();
    assert!(model.chips.iter().any(|c| !c.domestic) && model.chips.iter().any(|c| c.domestic));
    assert!(model.training.allow_foreign_chips);
    let only: Vec<bool> = model.milestones.iter().map(|m| m.domestic_only).collect();
    assert!(only.contains(&true) && only.contains(&false), "{only:?}");
    let text = std::fs::read_to_string(repo().join("scenarios/current.toml")).unwrap();
    let model = sancsim::model::Model::from_text(&text, "current.toml").unwrap();
    let chips: Vec<&str> = model.chips.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(chips, ["ascend_910b", "ascend_910c"]);
    assert!(model.milestones.iter().any(|m| m.target_flop == 1e25));
    assert!(model.milestones.iter().any(|m| m.target_flop >= 2e25));
}

#[test]
fn every_figure_of_the_default_scenario_is_sourced_or_derived() {
    // The default scenario is calibrated from shared/FACTS.md: its uncertain
    // numbers carry `source = "…"`, echoed in summary.json for audit.
    let dir = tempfile::tempdir().unwrap();
    let f = repo().join("scenarios/default.toml");
    let o = run_in(
        dir.path(),
        &["run", f.to_str().unwrap(), "--trials", "500", "--out", "out"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let s = crate::common::read_summary(&dir.path().join("out"));
    let sourced = s.assumptions.iter().filter(|a| a.source.is_some()).count();
    assert!(sourced >= 5, "only {sourced} sourced figures: {:#?}", s.assumptions);
    assert!(s.milestones.len() >= 3);
    let stdout = String::from_utf8_lossy(&o.stdout);
    for m in &s.milestones {
        assert!(stdout.contains(&m.name), "table lacks {}: {stdout}", m.name);
    }
}

#[test]
fn the_scenario_walked_through_in_readme_is_valid() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let walk = readme
        .split("## A scenario file, walked through\n")
        .nth(1)
        .expect("README walks through a scenario file");
    let block = walk
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a toml block");
    let dir = tempfile::tempdir().unwrap();
    crate::common::write(dir.path(), "readme.toml", block);
    let o = run_in(dir.path(), &["validate", "readme.toml"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn outputs_follow_the_files_order() {
    let dir = tempfile::tempdir().unwrap();
    let f = repo().join("scenarios/default.toml");
    let o = run_in(
        dir.path(),
        &["run", f.to_str().unwrap(), "--trials", "300", "--out", "out", "--quiet"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let toml = std::fs::read_to_string(&f).unwrap();
    let in_file: Vec<&str> = toml
        .lines()
        .filter_map(|l| l.strip_prefix("[milestones.")?.strip_suffix(']'))
        .collect();
    let csv = std::fs::read_to_string(dir.path().join("out/milestones.csv")).unwrap();
    let in_csv: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(in_file, in_csv);
}

/// docs/example is what README shows: it must be the current output of the
/// documented command (`sancsim run scenarios/default.toml --out
/// docs/example`). When the model changes on purpose, regenerate it and
/// review the difference.
#[test]
fn readme_example_is_the_current_output_of_the_default_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let f = repo().join("scenarios/default.toml");
    let o = run_in(dir.path(), &["run", f.to_str().unwrap(), "--out", "example", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let list = |p: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    let committed = repo().join("docs/example");
    assert_eq!(list(&committed), list(&dir.path().join("example")));
    for name in list(&committed) {
        let a = std::fs::read(committed.join(&name)).unwrap();
        let b = std::fs::read(dir.path().join("example").join(&name)).unwrap();
        assert!(
            a == b,
            "docs/example/{name} is out of date: regenerate with `cargo run --release -- run scenarios/default.toml --out docs/example`"
        );
    }
}

/// The table README's quick start shows is what the first command prints.
#[test]
fn readme_quick_start_table_is_the_current_output() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let shown = readme
        .split("The first command prints a table such as\n\n```\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the quick start's table");
    let dir = tempfile::tempdir().unwrap();
    let f = repo().join("scenarios/default.toml");
    let o = run_in(dir.path(), &["run", f.to_str().unwrap(), "--out", "out"]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let table: String = stdout
        .lines()
        .filter(|l| !l.starts_with("results in "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(shown, table, "README's quick-start table is out of date");
}

/// docs/CALIBRATION.md quotes the Evidence section of docs/example's
/// report (which the test above keeps current), headings one level down
/// and chart links pointing into docs/example/.
#[test]
fn calibration_md_quotes_the_current_report() {
    let report = std::fs::read_to_string(repo().join("docs/example/report.md")).unwrap();
    let start = report
        .find("## Evidence\n")
        .expect("the default's report has an Evidence section")
        + "## Evidence\n".len();
    let end = start + report[start..].find("\n## ").expect("a section follows");
    let section: String = report[start..end]
        .trim_matches('\n')
        .replace("](evidence_", "](example/evidence_")
        .lines()
        .map(|l| {
            if l.starts_with("### ") {
                format!("#{l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let doc = std::fs::read_to_string(repo().join("docs/CALIBRATION.md")).unwrap();
    let quoted = doc
        .split("<!-- BEGIN generated: Evidence section of docs/example/report.md -->\n")
        .nth(1)
        .and_then(|b| b.split("<!-- END generated -->").next())
        .expect("docs/CALIBRATION.md has the generated block");
    assert_eq!(
        quoted, section,
        "docs/CALIBRATION.md is out of date: paste the Evidence section of docs/example/report.md into it"
    );
    // Every chart it links to exists.
    for link in ["example/evidence_milestones.png", "example/evidence_inputs.png"] {
        assert!(doc.contains(link) && repo().join("docs").join(link).exists(), "{link}");
    }
}
