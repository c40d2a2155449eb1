//! Writing scenarios: `init` (starter files from the shipped scenarios),
//! `show` (the model as sancsim reads it) and `validate` on folders.

use crate::common::{MINIMAL, repo, run_in, text, write};

const TEMPLATES: [(&str, &str); 4] = [
    ("seed", "default.toml"),
    ("current", "current.toml"),
    ("minimal", "minimal.toml"),
    ("foreign-mix", "foreign_mix.toml"),
];

/// The starter `init` writes from a shipped scenario: the same text, except
/// that the first line (the `#:schema` path, which holds only inside the
/// repository) becomes two comment lines on how to get the schema.
fn starter_of(shipped: &str) -> String {
    let text = std::fs::read_to_string(repo().join("scenarios").join(shipped)).unwrap();
    let (directive, rest) = text.split_once('\n').unwrap();
    assert_eq!(directive, "#:schema ../docs/scenario.schema.json");
    format!(
        "# Editor completion: run `sancsim schema > scenario.schema.json` in this\n\
         # file's folder and make the next line `#:schema scenario.schema.json`.\n{rest}"
    )
}

#[test]
fn init_writes_each_template_which_validates_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    for (name, shipped) in TEMPLATES {
        let file = format!("{name}.toml");
        let o = run_in(dir.path(), &["init", "--template", name, &file]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains(&file), "{}", text(&o));
        let written = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        assert_eq!(written, starter_of(shipped), "{name}");
        let o = run_in(dir.path(), &["validate", &file]);
        assert!(o.status.success() && o.stderr.is_empty(), "{name}: {}", text(&o));
        let mut args = vec!["run", &file, "--trials", "50", "--out", name, "--quiet"];
        args.extend(crate::common::ANY_EFFECTIVE_SAMPLE);
        let o = run_in(dir.path(), &args);
        assert!(o.status.success(), "{name}: {}", text(&o));
        assert!(dir.path().join(name).join("summary.json").is_file());
    }
}

#[test]
fn init_defaults_to_the_seed_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(dir.path(), &["init", "mine.toml"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine.toml")).unwrap(),
        starter_of("default.toml")
    );
}

#[test]
fn init_never_overwrites_a_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "taken.toml", "# mine\n");
    let o = run_in(dir.path(), &["init", "--template", "minimal", "taken.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("taken.toml") && stderr.contains("already exists") && stderr.contains("never overwrites"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("taken.toml")).unwrap(),
        "# mine\n"
    );
    // An unknown template is refused with the valid names.
    let o = run_in(dir.path(), &["init", "--template", "seeds", "new.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("foreign-mix"), "{stderr}");
    assert!(!dir.path().join("new.toml").exists());
}

#[test]
fn show_lists_every_value_of_the_assumptions_table() {
    let dir = tempfile::tempdir().unwrap();
    let f = repo().join("scenarios/default.toml");
    let o = run_in(dir.path(), &["show", f.to_str().unwrap()]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let model = sancsim::model::Model::from_text(&std::fs::read_to_string(&f).unwrap(), "default.toml").unwrap();
    assert!(model.assumptions.len() > 50);
    for a in &model.assumptions {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{} ", a.key)))
            .unwrap_or_else(|| panic!("{} missing:\n{out}", a.key));
        assert!(line.contains(&a.value), "{line}");
        assert_eq!(line.ends_with("(default)"), a.default, "{line}");
    }
    for part in [
        "[scenario]",
        "[shocks]",
        "[training]",
        "[derived]",
        "[warnings] 0",
        // beta(3.5, 6.5): scipy.stats.beta.ppf([0.05, 0.5, 0.95], 3.5, 6.5)
        // = [0.1317, 0.3396, 0.6040].
        "mean 0.35  P5 0.1317  P50 0.3396  P95 0.604",
        // 12,288 910B × 3.2e14 FLOP/s.
        "ascend_910b  yes       3.932e18",
        "bytedance_910b  ascend_910b  340000",
    ] {
        assert!(out.contains(part), "{part} missing:\n{out}");
    }
}

#[test]
fn show_json_is_one_document_with_computed_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let f = repo().join("scenarios/default.toml");
    let o = run_in(dir.path(), &["show", f.to_str().unwrap(), "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let s: sancsim::show::Shown = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((s.format.as_str(), s.scenario.as_str()), ("sancsim-show/1", "default"));
    let v = s.values.iter().find(|v| v.key == "training.goodput").unwrap();
    let d = v.distribution.as_ref().unwrap();
    // PERT(0.6, 0.9, 0.97): 0.6 + 0.37 · scipy.stats.beta.ppf(0.5, 1 + 4·0.3/0.37, 1 + 4·0.07/0.37).
    assert!((d.p50 - 0.870_598_984_700_517_3).abs() < 1e-12, "{d:?}");
    assert_eq!(d.drawn_per, "trial");
    let c = &s.derived.training_clusters[0];
    assert_eq!((c.chip.as_str(), c.peak_flop_per_s), ("ascend_910b", 12288.0 * 3.2e14));
    let want = 12288.0 * 3.2e14 * s.derived.mfu_p50 * s.derived.goodput_p50 * 91.3125 * 86_400.0;
    assert!((c.flop_per_quarter_at_medians - want).abs() <= 1e-9 * want);
    assert_eq!(
        s.derived.supply[0].chips_ordered_within_horizon,
        4 * 25_000 + 12 * 20_000
    );
    let raw: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(raw["values"].as_array().unwrap().len() == s.values.len());
}

#[test]
fn show_reports_warnings_and_refuses_invalid_files() {
    let dir = tempfile::tempdir().unwrap();
    let warned = MINIMAL.replace(
        "orders = [{ from = \"2024Q1\", to = \"2024Q4\", chips = 1000 }]",
        "orders = [{ from = \"2024Q1\", to = \"2024Q4\", chips = 1000 }, { quarter = \"2030Q1\", chips = 5 }]",
    );
    write(dir.path(), "w.toml", &warned);
    let o = run_in(dir.path(), &["show", "w.toml"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("[warnings] 1\n  w.toml:"), "{out}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("warning: w.toml:"),
        "{}",
        text(&o)
    );
    let o = run_in(dir.path(), &["show", "w.toml", "--format", "json"]);
    let s: sancsim::show::Shown = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s.warnings.len(), 1);
    assert!(s.warnings[0].contains("supply.line.orders[1]"), "{:?}", s.warnings);

    write(dir.path(), "bad.toml", &MINIMAL.replace("mfu = 0.4", "mfu = 1.4"));
    let o = run_in(dir.path(), &["show", "bad.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(o.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("bad.toml:") && stderr.contains("training.mfu"),
        "{stderr}"
    );
}

#[test]
fn validate_checks_every_scenario_of_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mine");
    std::fs::create_dir(&folder).unwrap();
    write(&folder, "a.toml", MINIMAL);
    write(&folder, "b_broken.toml", &MINIMAL.replace("mfu = 0.4", "mfu = 1.4"));
    write(&folder, "notes.txt", "not a scenario");
    let o = run_in(dir.path(), &["validate", "mine"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stdout.contains("a.toml: ok"), "{}", text(&o));
    assert!(
        stderr.contains("b_broken.toml:") && stderr.contains("training.mfu"),
        "{stderr}"
    );
    assert!(!text(&o).contains("notes.txt"), "{}", text(&o));

    // Every shipped scenario, by its folder.
    let o = run_in(dir.path(), &["validate", repo().join("scenarios").to_str().unwrap()]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for name in ["current.toml", "default.toml", "foreign_mix.toml", "minimal.toml"] {
        assert!(stdout.contains(&format!("{name}: ok")), "{stdout}");
    }

    // A folder without scenarios is an error, not a silent success.
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let o = run_in(dir.path(), &["validate", "empty"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no *.toml"), "{}", text(&o));
}

/// `show --set` shows the scenario as `run --set` would simulate it: the
/// override in place, the derived figures recomputed, a bad path refused.
#[test]
fn show_applies_set_like_run() {
    let dir = tempfile::tempdir().unwrap();
    let f = repo().join("scenarios/default.toml");
    let f = f.to_str().unwrap();
    let o = run_in(
        dir.path(),
        &[
            "show",
            f,
            "--format",
            "json",
            "--set",
            "training.max_cluster_chips=8192",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let s: sancsim::show::Shown = serde_json::from_slice(&o.stdout).unwrap();
    let v = s.values.iter().find(|v| v.key == "training.max_cluster_chips").unwrap();
    assert_eq!(v.value, "8192");
    assert_eq!(s.derived.training_clusters[0].peak_flop_per_s, 8192.0 * 3.2e14);
    let o = run_in(dir.path(), &["show", f, "--set", "training.max_cluster_chip=1000"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("did you mean `max_cluster_chips`"),
        "{}",
        text(&o)
    );
}
