//! `sancsim batch`: a folder of scenarios in one command, one broken file
//! reported without stopping the others.

use crate::common::{MINIMAL, repo, run_in, text, write};

#[test]
fn batch_runs_a_folder_and_reports_the_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    // A target the base case reaches in about half of its trials.
    let base = MINIMAL.replace("target_flop = 1e23", "target_flop = 2e24");
    write(&scenarios, "a_base.toml", &base);
    write(
        &scenarios,
        "b_more.toml",
        &base
            .replace("chips = 1000", "chips = 4000")
            .replace("name = \"base\"", "name = \"more\""),
    );
    write(&scenarios, "c_broken.toml", &MINIMAL.replace("mfu = 0.4", "mfu = 1.4"));
    write(&scenarios, "notes.txt", "not a scenario");
    let o = run_in(dir.path(), &["batch", "scenarios", "--out", "out", "--trials", "300"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("c_broken.toml:") && stderr.contains("training.mfu"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 3 scenarios failed"), "{stderr}");
    let out = dir.path().join("out");
    for folder in ["a_base", "b_more"] {
        for f in ["summary.json", "report.html", "deliveries.png"] {
            assert!(out.join(folder).join(f).is_file(), "{folder}/{f} missing");
        }
    }
    assert!(!out.join("c_broken").exists());
    let index = std::fs::read_to_string(out.join("index.csv")).unwrap();
    let mut lines = index.lines();
    assert_eq!(
        lines.next().unwrap(),
        "milestone,a_base:probability,a_base:ci95_low,a_base:ci95_high,b_more:probability,b_more:ci95_low,b_more:ci95_high"
    );
    let row: Vec<f64> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(row.len(), 6);
    assert!(
        row[3] > row[0],
        "four times the orders should be likelier to reach the target: {row:?}"
    );
    assert!(out.join("comparison.svg").is_file() && out.join("comparison.png").is_file());
    let md = std::fs::read_to_string(out.join("index.md")).unwrap();
    assert!(
        md.contains("## Scenarios that failed") && md.contains("c_broken.toml"),
        "{md}"
    );
    assert!(md.contains("| m<br>2.00e24 FLOP by 2025Q2 |"), "{md}");
    assert!(
        md.contains(&format!(
            "Produced by sancsim {}: `sancsim batch a_base.toml b_more.toml c_broken.toml --seed 7 --trials 300`",
            env!("CARGO_PKG_VERSION")
        )),
        "{md}"
    );

    // index.html: the first scenario is the reference, the other shows its
    // difference in percentage points with an interval, both link to their
    // reports, and the failure is listed.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("<a href=\"a_base/report.html\">base</a>"), "{html}");
    assert!(html.contains("<a href=\"b_more/report.html\">more</a>"), "{html}");
    assert!(html.contains("Reference: base (a_base), the first scenario of the batch"));
    let row = &html[html.find("<tr><th scope=\"row\">m<").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    let cells: Vec<&str> = row.split("<td").skip(1).collect();
    assert_eq!(cells.len(), 2, "{row}");
    assert!(cells[0].contains("reference") && !cells[0].contains("pp"), "{row}");
    // four times the orders: a clear rise.
    assert!(cells[1].contains("<span class=\"diff clear\">+"), "{row}");
    assert!(cells[1].contains(" pp</span><span class=\"ci\">+"), "{row}");
    assert!(html.contains("<figure class=\"chart\" id=\"chart-comparison\">\n<svg"));
    assert!(
        html.contains("<code>c_broken.toml</code>") || html.contains("c_broken.toml</code>"),
        "{html}"
    );
    assert!(html.contains("training.mfu"));
}

#[test]
fn batch_reference_names_the_scenario_to_compare_with() {
    let dir = tempfile::tempdir().unwrap();
    let base = MINIMAL.replace("target_flop = 1e23", "target_flop = 2e24");
    write(dir.path(), "a_base.toml", &base);
    write(
        dir.path(),
        "b_more.toml",
        &base
            .replace("chips = 1000", "chips = 4000")
            .replace("name = \"base\"", "name = \"more\""),
    );
    let args = ["batch", "a_base.toml", "b_more.toml", "--trials", "300"];
    let o = run_in(
        dir.path(),
        &[&args[..], &["--out", "out", "--reference", "b_more", "--quiet"]].concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let html = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    assert!(
        html.contains("Reference: more (b_more), named with --reference"),
        "{html}"
    );
    // The reference's column comes first; base shows a clear drop from it.
    let head = &html[html.find("<thead>").unwrap()..html.find("</thead>").unwrap()];
    assert!(
        head.find("b_more/report.html").unwrap() < head.find("a_base/report.html").unwrap(),
        "{head}"
    );
    assert!(html.contains("<span class=\"diff clear\">−"), "{html}");
    assert!(html.contains("--reference b_more</code>"), "{html}");

    // A name that is not in the batch is refused before anything runs.
    let o = run_in(
        dir.path(),
        &[&args[..], &["--out", "out2", "--reference", "nope"]].concat(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("--reference nope") && stderr.contains("a_base, b_more"),
        "{stderr}"
    );
    assert!(!dir.path().join("out2").exists());
}

#[test]
fn batch_with_a_failed_reference_shows_no_differences() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.toml", MINIMAL);
    write(dir.path(), "b.toml", &MINIMAL.replace("mfu = 0.4", "mfu = 1.4"));
    let o = run_in(
        dir.path(),
        &[
            "batch",
            "a.toml",
            "b.toml",
            "--out",
            "out",
            "--trials",
            "100",
            "--reference",
            "b",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let html = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    assert!(
        html.contains("The reference scenario b failed: no differences are shown."),
        "{html}"
    );
    assert!(!html.contains("class=\"diff"), "{html}");
    assert!(html.contains("1 scenario failed"));
}

#[test]
fn batch_of_the_shipped_scenarios_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(
        dir.path(),
        &[
            "batch",
            repo().join("scenarios").to_str().unwrap(),
            "--out",
            "out",
            "--trials",
            "200",
            "--quiet",
            crate::common::ANY_EFFECTIVE_SAMPLE[0],
            crate::common::ANY_EFFECTIVE_SAMPLE[1],
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty(), "--quiet prints nothing: {}", text(&o));
    let index = std::fs::read_to_string(dir.path().join("out/index.csv")).unwrap();
    assert!(index.lines().next().unwrap().contains("default:probability"));
    let html = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    // The reference is the first scenario in batch order: the folder's
    // files sorted by name.
    let shipped = crate::common::shipped_scenarios();
    let first = shipped[0].file_stem().unwrap().to_string_lossy();
    let first = format!("Reference: {first}, the first scenario");
    assert!(html.contains(&first), "{first}\n{html}");
}

/// A scenario kept inside the folder batch would replace is refused, not
/// deleted with the old results.
#[test]
fn batch_never_replaces_a_folder_holding_its_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(
        dir.path(),
        &[
            "run",
            "--quiet",
            "--out",
            "out/s",
            &write(dir.path(), "s.toml", MINIMAL).display().to_string(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let inside = write(&dir.path().join("out/s"), "s.toml", MINIMAL);
    let o = run_in(
        dir.path(),
        &["batch", inside.to_str().unwrap(), "--out", "out", "--quiet"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("holds the input"),
        "{}",
        text(&o)
    );
    assert!(inside.is_file(), "the scenario was deleted");
}
