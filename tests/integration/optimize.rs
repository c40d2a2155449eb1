//! `sancsim optimize`: the allocation search.

use crate::common::*;

/// MINIMAL with inference demand that competes with training for chips.
fn scenario() -> String {
    MINIMAL.replace(
        "[training]",
        "[inference]\nunit_chip = \"a\"\ninitial_demand_chips = 100\ngrowth_per_quarter = 0.3\n\n[allocation]\npolicy = \"inference_first\"\n\n[training]\nmin_cluster_chips = 100\nmax_cluster_chips = 800",
    )
}

fn rows(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    (
        header,
        lines.map(|l| l.split(',').map(String::from).collect()).collect(),
    )
}

#[test]
fn every_candidate_is_listed_and_the_best_is_the_most_likely_feasible_one() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", &scenario());
    let o = run_in(
        dir.path(),
        &[
            "optimize",
            f.to_str().unwrap(),
            "--objective",
            "m",
            "--max-shortfall-prob",
            "0.6",
            "--shares",
            "0.2,0.5,0.8",
            "--reserves",
            "200,400",
            "--min-cluster",
            "100",
            "--max-cluster",
            "400,800",
            "--out",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let (header, rows) = rows(&dir.path().join("out/optimize.csv"));
    assert_eq!(
        header.join(","),
        "candidate,policy,training_share,reserve_chips,min_cluster_chips,max_cluster_chips,probability,ci95_low,ci95_high,shortfall_probability,shortfall_ci95_low,shortfall_ci95_high,feasible,on_frontier,rank"
    );
    // 2 maximum sizes × (inference_first + 3 shares + 2 reserves).
    assert_eq!(rows.len(), 2 * 6);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let num = |r: &Vec<String>, c: &str| r[col(c)].parse::<f64>().unwrap();
    for r in &rows {
        assert_eq!(
            r[col("feasible")] == "true",
            num(r, "shortfall_probability") <= 0.6,
            "{r:?}"
        );
    }
    let best = rows.iter().find(|r| r[col("rank")] == "1").expect("a best candidate");
    let best_p = num(best, "probability");
    for r in rows.iter().filter(|r| r[col("feasible")] == "true") {
        assert!(num(r, "probability") <= best_p, "{r:?} beats {best:?}");
    }
    // The policies trade training against inference: giving training a
    // fixed 80% leaves inference shorter than serving it first.
    let shortfall = |policy: &str, share: &str| {
        rows.iter()
            .find(|r| {
                r[col("policy")] == policy && r[col("training_share")] == share && r[col("max_cluster_chips")] == "800"
            })
            .map(|r| num(r, "shortfall_probability"))
            .unwrap()
    };
    assert!(shortfall("fixed_share", "0.8") > shortfall("inference_first", ""));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/optimize.json")).unwrap()).unwrap();
    assert_eq!(json["runners_up"].as_array().unwrap().len(), 5);
    assert!(json["best_confirmed"].is_array());
    for f in ["frontier.svg", "frontier.png", "report.html", "report.md"] {
        assert!(dir.path().join("out").join(f).is_file(), "{f}");
    }
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("Best of 12 allocations for m"), "{stdout}");
}

#[test]
fn results_do_not_depend_on_threads_and_bad_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", &scenario());
    let f = f.to_str().unwrap();
    let mut outs = Vec::new();
    for t in ["1", "2"] {
        let out = format!("out{t}");
        let o = run_in(
            dir.path(),
            &["optimize", f, "--objective", "m", "--threads", t, "--out", &out],
        );
        assert!(o.status.success(), "{}", text(&o));
        outs.push(folder_files(&dir.path().join(&out)));
    }
    assert_eq!(outs[0], outs[1]);
    for (args, expect) in [
        (vec!["--objective", "mm"], "did you mean `m`"),
        (vec!["--objective", "m", "--shares", "0.2,1.5"], "--shares"),
        (
            vec!["--objective", "m", "--max-shortfall-prob", "2"],
            "--max-shortfall-prob",
        ),
        (
            vec!["--objective", "m", "--min-cluster", "900", "--max-cluster", "800"],
            "no candidate",
        ),
    ] {
        let mut a = vec!["optimize", f];
        a.extend(args);
        a.extend(["--out", "bad"]);
        let o = run_in(dir.path(), &a);
        assert_eq!(o.status.code(), Some(2), "{a:?}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(expect),
            "{a:?}: {}",
            text(&o)
        );
        assert!(!dir.path().join("bad").exists());
    }
}
