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
