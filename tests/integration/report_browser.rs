//! `report.html` opened in a real headless Chromium: the browser's own DOM
//! holds the tables, the four inlined charts and every milestone, and its
//! screenshot is a drawn page, not a blank one. A batch's `index.html` too:
//! its table and chart render, and every link opens a scenario's report.
//!
//! Skipped with a message where Chromium is not installed, except on CI
//! (`CI=true`), where `.ci/run` installs it and its absence is a failure.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{repo, run_in, text};

/// Longest one browser run may take before it is killed.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);
/// Width of the browser window, and so of the screenshot.
const WIDTH: u32 = 1280;
/// Height of the browser window.
const HEIGHT: u32 = 2400;

/// `/usr/bin/chromium`, else `chromium` on `PATH`.
fn find_chromium() -> Option<PathBuf> {
    let fixed = PathBuf::from("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

/// Runs Chromium headless on `url` with `extra` flags, its stdout going to
/// `stdout`; kills it after [`BROWSER_TIMEOUT`]. Returns its stderr for
/// failure messages.
fn chromium(browser: &Path, work: &Path, extra: &[String], url: &str, stdout: &Path) -> String {
    let profile = tempfile::tempdir_in(work).unwrap();
    let stderr_path = work.join("chromium-stderr.txt");
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("--window-size={WIDTH},{HEIGHT}"))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null())
    // Files, not pipes: a DOM dump is larger than a pipe's buffer, and
    // nobody reads a pipe while we wait.
    .stdout(File::create(stdout).unwrap())
    .stderr(File::create(&stderr_path).unwrap());
    let mut child = cmd.spawn().expect("chromium starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            panic!("chromium ran past {BROWSER_TIMEOUT:?} on {url}; stderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}) on {url}; stderr:\n{err}");
    err
}

/// The text as it appears in serialised HTML.
fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[test]
fn html_report_renders_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/default.toml");
    let o = run_in(
        dir.path(),
        &[
            "run",
            scenario.to_str().unwrap(),
            "--trials",
            "500",
            "--out",
            "out",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = dir.path().join("out");
    let report = out.join("report.html");
    assert!(report.is_file(), "no report.html in {}", out.display());

    let Some(browser) = find_chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI must have chromium: .ci/run installs it");
        }
        eprintln!("skipping: chromium not installed");
        return;
    };
    let report = report.canonicalize().unwrap();
    let url = format!("file://{}", report.display());
    let work = dir.path();

    // The DOM as the browser parsed it.
    let dom_path = work.join("dom.html");
    let err = chromium(&browser, work, &["--dump-dom".to_string()], &url, &dom_path);
    let dom = std::fs::read_to_string(&dom_path).unwrap();
    assert!(
        dom.contains("id=\"milestones\""),
        "no milestone table in the DOM; stderr:\n{err}"
    );
    assert!(dom.contains("id=\"assumptions\""), "no assumptions table in the DOM");
    for id in ["executive-summary", "missed", "training-start", "shocks"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no {id} in the DOM");
    }
    // The default carries two observations: its Evidence section, with
    // the two evidence charts, then the four charts of every run.
    for id in [
        "posterior-note",
        "evidence",
        "evidence-summary",
        "observations",
        "prior-posterior",
        "inputs-moved",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no {id} in the DOM");
    }
    let evidence = dom
        .split("<section id=\"evidence\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("the Evidence section");
    assert_eq!(
        evidence.matches("<figure class=\"chart\"").count(),
        2,
        "{evidence:.300}"
    );
    for stem in ["evidence_milestones", "evidence_inputs"] {
        assert!(
            evidence.contains(&format!("chart-{stem}")),
            "no {stem} in the Evidence section"
        );
        assert!(out.join(format!("{stem}.png")).is_file() && out.join(format!("{stem}.svg")).is_file());
    }
    let figures: Vec<&str> = dom.split("<figure class=\"chart\"").skip(1).collect();
    assert_eq!(figures.len(), 6, "expected six charts in the DOM");
    for figure in &figures {
        let figure = &figure[..figure.find("</figure>").expect("figure is closed")];
        assert!(figure.contains("<svg"), "a chart figure holds no SVG: {figure:.200}");
        assert!(
            figure.contains("<figcaption>"),
            "a chart figure has no caption: {figure:.200}"
        );
    }
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let executive = summary["executive_summary"].as_str().expect("an executive summary");
    assert!(
        dom.contains(&html_escaped(executive)),
        "the executive summary is not in the DOM as written"
    );
    let milestones = summary["milestones"].as_array().expect("milestones in summary.json");
    assert!(!milestones.is_empty());
    for m in milestones {
        let name = m["name"].as_str().unwrap();
        assert!(
            dom.contains(&html_escaped(name)),
            "milestone {name} missing from the DOM"
        );
    }

    // The page as drawn.
    let shot = work.join("shot.png");
    chromium(
        &browser,
        work,
        &[format!("--screenshot={}", shot.display())],
        &url,
        &work.join("screenshot-stdout.txt"),
    );
    assert!(shot.is_file(), "chromium wrote no screenshot");
    let mut decoder = png::Decoder::new(BufReader::new(File::open(&shot).unwrap()));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.width, WIDTH, "screenshot width");
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut colours = HashSet::new();
    let mut inked = 0usize;
    let mut total = 0usize;
    for px in pixels.chunks_exact(channels) {
        let rgb = match channels {
            1 | 2 => [px[0]; 3],
            _ => [px[0], px[1], px[2]],
        };
        colours.insert(rgb);
        total += 1;
        if rgb.iter().any(|&c| c < 240) {
            inked += 1;
        }
    }
    let share = inked as f64 / total as f64;
    assert!(
        share > 0.01,
        "screenshot is blank: {:.3}% non-white pixels",
        share * 100.0
    );
    assert!(colours.len() >= 20, "screenshot has only {} colours", colours.len());
}

/// Percent-decodes a relative URL (the index percent-encodes folder names).
fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn batch_index_renders_and_its_links_resolve_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    // A space in a file name: its folder's link must be percent-encoded.
    for (from, to) in [("default", "a_default.toml"), ("tight_controls", "b tight.toml")] {
        std::fs::copy(repo().join(format!("scenarios/{from}.toml")), scenarios.join(to)).unwrap();
    }
    let o = run_in(
        dir.path(),
        &["batch", "scenarios", "--trials", "300", "--out", "out", "--quiet"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let index = dir.path().join("out/index.html");
    assert!(index.is_file());

    let Some(browser) = find_chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI must have chromium: .ci/run installs it");
        }
        eprintln!("skipping: chromium not installed");
        return;
    };
    let index = index.canonicalize().unwrap();
    let work = dir.path();
    let dom_path = work.join("index-dom.html");
    let err = chromium(
        &browser,
        work,
        &["--dump-dom".to_string()],
        &format!("file://{}", index.display()),
        &dom_path,
    );
    let dom = std::fs::read_to_string(&dom_path).unwrap();
    assert!(
        dom.contains("id=\"comparison\""),
        "no comparison table in the DOM; stderr:\n{err}"
    );
    let figure = &dom[dom.find("<figure class=\"chart\"").expect("a chart figure")..];
    let figure = &figure[..figure.find("</figure>").expect("figure is closed")];
    assert!(
        figure.contains("<svg") && figure.contains("<figcaption>"),
        "{figure:.300}"
    );
    assert!(dom.contains(" pp<"), "no difference in the DOM");
    for name in ["dsv3_class", "frontier_1e26"] {
        assert!(dom.contains(name), "milestone {name} missing from the DOM");
    }

    // Every link points at a report beside the index, which opens.
    let links: Vec<&str> = dom
        .split("<a href=\"")
        .skip(1)
        .map(|l| &l[..l.find('"').unwrap()])
        .collect();
    assert_eq!(links, ["a_default/report.html", "b%20tight/report.html"]);
    for link in links {
        let target = index.parent().unwrap().join(url_decode(link));
        assert!(target.is_file(), "{link}: no {}", target.display());
        let url = format!("file://{}", index.parent().unwrap().display()) + "/" + link;
        let out = work.join("linked-dom.html");
        chromium(&browser, work, &["--dump-dom".to_string()], &url, &out);
        let linked = std::fs::read_to_string(&out).unwrap();
        assert!(linked.contains("id=\"milestones\""), "{link} did not open a report");
    }
}
