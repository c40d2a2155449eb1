//! What `sancsim run` writes: every file, valid PNG/SVG of the stated size,
//! identical bytes when run again, no progress bar when not on a terminal.

use crate::common::{MINIMAL, run_in, text, write};

const CHARTS: [&str; 4] = ["deliveries", "milestones", "training_flop", "allocation"];

#[test]
fn run_writes_results_charts_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", MINIMAL);
    let o = run_in(dir.path(), &["run", "s.toml", "--out", "out"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        o.stderr.is_empty(),
        "stderr is not a terminal: no progress bar expected: {}",
        text(&o)
    );
    let out = dir.path().join("out");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut expected: Vec<String> = [
        "summary.json",
        "milestones.csv",
        "quarters.csv",
        "report.html",
        "report.md",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(CHARTS.iter().flat_map(|c| [format!("{c}.png"), format!("{c}.svg")]))
    .collect();
    expected.sort();
    assert_eq!(names, expected);
    for c in CHARTS {
        let png = std::fs::File::open(out.join(format!("{c}.png"))).unwrap();
        let reader = png::Decoder::new(std::io::BufReader::new(png))
            .read_info()
            .expect("valid PNG");
        assert_eq!((reader.info().width, reader.info().height), (960, 540), "{c}.png");
        let svg = std::fs::read_to_string(out.join(format!("{c}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("width=\"960\"") && svg.contains("height=\"540\""),
            "{c}.svg"
        );
        assert!(svg.trim_end().ends_with("</svg>"), "{c}.svg is truncated");
    }
}

#[test]
fn running_again_gives_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", MINIMAL);
    for out in ["a", "b"] {
        let o = run_in(dir.path(), &["run", "s.toml", "--out", out, "--quiet"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    for entry in std::fs::read_dir(dir.path().join("a")).unwrap() {
        let name = entry.unwrap().file_name();
        let a = std::fs::read(dir.path().join("a").join(&name)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(&name)).unwrap();
        assert!(a == b, "{name:?} differs between two identical runs");
    }
}

/// On a terminal, a long run shows a progress bar (trials, rate, ETA) on
/// stderr; `--quiet` silences it. `script` (util-linux) provides the terminal.
#[test]
fn progress_bar_appears_only_on_a_terminal() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipping: `script` (util-linux) not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = crate::common::repo().join("scenarios/default.toml");
    let bin = env!("CARGO_BIN_EXE_sancsim");
    let on_tty = |extra: &str| {
        let cmd = format!(
            "{bin} run {} --trials 20000 --threads 1 --out out {extra}",
            scenario.display()
        );
        let o = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let shown = on_tty("");
    assert!(
        shown.contains("trials/s") && shown.contains("ETA"),
        "no progress bar: {shown}"
    );
    let quiet = on_tty("--quiet");
    assert!(quiet.trim().is_empty(), "--quiet printed: {quiet}");
}
