//! Reports: `report.html` (one self-contained page, charts inlined as SVG)
//! and `report.md` (for pasting into documents, charts as PNG links).
//!
//! Both are pure functions from a [`Summary`] and its [`Chart`]s to bytes:
//! no clock, no network, no files, so the same run gives the same report.
//! The cell texts they share (percentages, quarters, the run line) live here
//! so the two formats never disagree.

mod html;
mod markdown;

use crate::charts::Chart;
use crate::model::Assumption;
use crate::results::{MilestoneResult, Summary};

/// `report.html`.
pub fn html(summary: &Summary, charts: &[Chart]) -> Vec<u8> {
    html::render(summary, charts).into_bytes()
}

/// `report.md`; charts are referenced as `<stem>.png` next to it.
pub fn markdown(summary: &Summary, charts: &[Chart]) -> Vec<u8> {
    markdown::render(summary, charts).into_bytes()
}

/// Column headings of the milestone table, in order.
const MILESTONE_COLUMNS: [&str; 10] = [
    "Milestone",
    "Target FLOP",
    "Deadline",
    "Domestic only",
    "Probability by deadline",
    "95% CI, %",
    "P10 quarter",
    "P50 quarter",
    "P90 quarter",
    "Never within horizon",
];

/// Which milestone columns hold numbers (right-aligned).
const MILESTONE_NUMERIC: [bool; 10] = [false, true, false, false, true, true, false, false, false, true];

/// What the milestone table's columns mean, printed under it.
const MILESTONE_NOTE: &str = "Probability (by deadline): share of trials whose training compute reaches the \
target by the end of the deadline quarter, with its 95% Clopper–Pearson interval in percent. P10, P50, P90: the quarters \
by which 10%, 50% and 90% of the trials that reach the target within the horizon have reached it. \
Never within horizon: share of trials that have not reached it by the last simulated quarter.";

/// How many trials never started the training run, and how many ended with
/// no domestic training compute (no run, or a run on foreign chips only),
/// printed under the milestone table.
fn training_note(summary: &Summary) -> String {
    format!(
        "Trials with no training run (it never started within the horizon): {} of {}. \
         Trials with no domestic training compute at the horizon: {} of {} \
         (no training run, or a run on foreign chips only).",
        summary.trials_without_training,
        summary.trials,
        summary.trials_without_domestic_training_compute,
        summary.trials
    )
}

/// The source cell of an assumption: its source, `default (not in the
/// file)` for a value the file leaves to its default, or a dash.
fn assumption_source(a: &Assumption) -> &str {
    match (&a.source, a.default) {
        (Some(s), _) => s,
        (None, true) => "default (not in the file)",
        (None, false) => "—",
    }
}

/// A share in `[0, 1]` as a percentage with one decimal; shares too close to
/// 0 or 1 to show are written `<0.1%` and `>99.9%` rather than rounded to a
/// certainty the run does not support.
pub(crate) fn percent(p: f64) -> String {
    if p.is_nan() {
        return "n/a".to_string();
    }
    format!("{}%", percent_number(p))
}

/// [`percent`] without the sign: `56.5`, `0`, `<0.1`, `>99.9`, `100`.
fn percent_number(p: f64) -> String {
    let pct = p * 100.0;
    if p.is_nan() {
        "n/a".to_string()
    } else if p <= 0.0 {
        "0".to_string()
    } else if p >= 1.0 {
        "100".to_string()
    } else if pct < 0.05 {
        "<0.1".to_string()
    } else if pct >= 99.95 {
        ">99.9".to_string()
    } else {
        format!("{pct:.1}")
    }
}

/// A 95% interval in percent, in brackets: `[55.5, 57.5]`.
pub(crate) fn interval(low: f64, high: f64) -> String {
    format!("[{}, {}]", percent_number(low), percent_number(high))
}

/// A probability with its 95% interval, as every table and chart writes
/// it: `56.5% [55.5, 57.5]`.
pub(crate) fn probability(p: f64, low: f64, high: f64) -> String {
    format!("{} {}", percent(p), interval(low, high))
}

/// What a milestone is called for people: its description where the
/// scenario writes one, else its id.
pub(crate) fn milestone_title(m: &MilestoneResult) -> &str {
    m.description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or(&m.name)
}

/// Mantissa and exponent of `v` in scientific notation, three significant
/// digits: `3.3e24` gives `("3.30", "24")`.
fn scientific(v: f64) -> (String, String) {
    let s = format!("{v:.2e}");
    match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.to_string()),
        None => (s, String::new()),
    }
}

/// A quarter percentile, or `never` when no trial reached the milestone.
fn quarter(q: &Option<String>) -> String {
    q.clone().unwrap_or_else(|| "never".to_string())
}

/// The milestone table's cells that are plain text (all but the target),
/// in column order, with the target left empty for the format to fill in.
fn milestone_cells(m: &MilestoneResult) -> [String; 10] {
    [
        m.name.clone(),
        String::new(),
        m.deadline.clone(),
        if m.domestic_only { "yes" } else { "no" }.to_string(),
        percent(m.probability),
        interval(m.ci95_low, m.ci95_high),
        quarter(&m.quarter_p10),
        quarter(&m.quarter_p50),
        quarter(&m.quarter_p90),
        percent(m.never_within_horizon),
    ]
}

/// The parts of the run line: trials, seed, version, quarters simulated.
fn run_facts(summary: &Summary) -> Vec<String> {
    let last = summary.quarters.last().unwrap_or(&summary.start);
    vec![
        format!("{} trials", summary.trials),
        format!("seed {}", summary.seed),
        format!("sancsim {}", summary.sancsim_version),
        format!("{} to {} ({} quarters)", summary.start, last, summary.horizon_quarters),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::trials::run_trials;

    const SCENARIO: &str = r#"[scenario]
name = "NAME"
description = "DESC"
start = "2024Q1"
horizon_quarters = 8
trials = 200
seed = 7

[chips.a]
peak_flops = { value = 1e14, source = "SOURCE" }
domestic = true

[supply.line]
chip = "a"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]
fill_rate = { dist = "beta", alpha = 2, beta = 3 }
lead_time_quarters = 0.5

[training]
mfu = 0.4

[milestones.small]
target_flop = 1e20
deadline = "2025Q2"

[milestones.huge]
target_flop = 3.3e30
deadline = "2025Q2"
"#;

    fn summary(name: &str, description: &str, source: &str) -> Summary {
        let text = SCENARIO
            .replace("NAME", name)
            .replace("DESC", description)
            .replace("SOURCE", source);
        let model = Model::from_text(&text, "x.toml").unwrap();
        let agg = run_trials(&model, 7, 0..200, Some(1)).unwrap();
        Summary::new(&model, &agg, 7, "hash")
    }

    fn chart(stem: &'static str, title: &str) -> Chart {
        Chart {
            stem,
            title: title.into(),
            svg: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
                  width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>\n"
                .into(),
            png: vec![],
        }
    }

    fn charts() -> Vec<Chart> {
        vec![
            chart("deliveries", "Deliveries <fan> & more"),
            chart("milestones", "Milestone curves"),
            chart("training", "Training compute"),
            chart("allocation", "Allocation"),
        ]
    }

    fn html_text(s: &Summary) -> String {
        String::from_utf8(html(s, &charts())).unwrap()
    }

    fn md_text(s: &Summary) -> String {
        String::from_utf8(markdown(s, &charts())).unwrap()
    }

    #[test]
    fn html_has_tables_figures_and_run_line() {
        let s = summary("plain", "A plain scenario.", "Somewhere, 2024");
        let h = html_text(&s);
        assert!(h.starts_with("<!DOCTYPE html>\n"));
        assert!(h.contains("<h1>plain</h1>"), "{h}");
        assert!(h.contains("A plain scenario."));
        assert!(h.contains("200 trials"));
        assert!(h.contains("seed 7"));
        assert!(h.contains(&format!("sancsim {}", env!("CARGO_PKG_VERSION"))));
        assert!(h.contains("2024Q1 to 2025Q4"));
        assert!(h.contains("<table id=\"milestones\">"));
        assert!(h.contains("<table id=\"assumptions\">"));
        for name in ["small", "huge"] {
            assert!(h.contains(&format!("<td>{name}</td>")), "{name}");
        }
        assert!(h.contains("3.30 × 10<sup>30</sup>"), "{h}");
        assert!(h.contains("2025Q2"));
        // The huge milestone is never reached.
        assert!(h.contains("<td>never</td>"));
        assert!(h.contains("<td>chips.<wbr>a.<wbr>peak_flops</td>"), "{h}");
        assert!(h.contains("Somewhere, 2024"));
        for stem in ["deliveries", "milestones", "training", "allocation"] {
            let tag = format!("<figure class=\"chart\" id=\"chart-{stem}\">");
            let at = h.find(&tag).unwrap_or_else(|| panic!("{tag}"));
            let figure = &h[at..at + h[at..].find("</figure>").unwrap()];
            assert!(figure.contains("<svg xmlns="), "{figure}");
            assert!(figure.contains("<figcaption>"), "{figure}");
        }
        assert_eq!(h.matches("<figure class=\"chart\"").count(), 4);
        assert!(h.contains(
            "<figcaption><span class=\"figure-number\">Figure 1.</span> Deliveries &lt;fan&gt; &amp; more</figcaption>"
        ));
        assert!(!h.contains("<?xml"), "prologue must be stripped");
    }

    #[test]
    fn html_escapes_user_text() {
        let s = summary(
            "a<b & \\\"c\\\"",
            "<script>alert('x')</script> & more",
            "<i>src</i> \\\"q\\\"",
        );
        let h = html_text(&s);
        assert!(h.contains("<h1>a&lt;b &amp; &quot;c&quot;</h1>"), "{h}");
        assert!(h.contains("<title>a&lt;b &amp; &quot;c&quot; — sancsim report</title>"));
        assert!(h.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert!(h.contains("&lt;i&gt;src&lt;/i&gt; &quot;q&quot;"));
        assert!(!h.contains("<script"));
        assert!(!h.contains("<i>"));
        assert!(!h.contains("a<b"));
    }

    #[test]
    fn html_is_self_contained() {
        let s = summary("plain", "A plain scenario.", "see https://example.org/x");
        let h = html_text(&s);
        // Links in user text are text, not references; only the SVG
        // namespace may name a URL in markup.
        let stripped = h
            .replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
            .replace("see https://example.org/x", "");
        assert!(!stripped.contains("http://"), "{stripped}");
        assert!(!stripped.contains("https://"), "{stripped}");
        for tag in ["<link", "<script", "<img", "<iframe", "@import", "url("] {
            assert!(!h.contains(tag), "{tag}");
        }
    }

    #[test]
    fn html_is_deterministic() {
        let s = summary("plain", "A plain scenario.", "src");
        assert_eq!(html(&s, &charts()), html(&s, &charts()));
        assert_eq!(markdown(&s, &charts()), markdown(&s, &charts()));
    }

    #[test]
    fn html_adds_a_view_box_so_charts_scale() {
        let s = summary("plain", "d", "s");
        let h = html_text(&s);
        assert!(h.contains("viewBox=\"0 0 10 10\""), "{h}");
        let mut with_box = chart("deliveries", "t");
        with_box.svg = "<svg width=\"10\" height=\"10\" viewBox=\"0 0 5 5\"></svg>".into();
        let h = String::from_utf8(html(&s, &[with_box])).unwrap();
        assert!(
            h.contains("<svg width=\"10\" height=\"10\" viewBox=\"0 0 5 5\"></svg>"),
            "{h}"
        );
    }

    #[test]
    fn markdown_has_rows_and_image_links() {
        let s = summary("plain", "A plain scenario.", "Somewhere, 2024");
        let m = md_text(&s);
        assert!(m.starts_with("# plain\n\nA plain scenario.\n\n"), "{m}");
        assert!(m.contains("200 trials"));
        assert!(m.contains("| Milestone | Target FLOP |"), "{m}");
        assert!(m.contains("| small | 1.00e20 | 2025Q2 | yes | 100% |"), "{m}");
        assert!(
            m.contains("| huge | 3.30e30 | 2025Q2 | yes | 0% | [0, 1.8] | never | never | never | 100% |"),
            "{m}"
        );
        assert!(m.contains("| Key | Value | Source |"));
        assert!(m.contains("| `chips.a.peak_flops` | 1e14 | Somewhere, 2024 |"), "{m}");
        for (stem, title) in [
            ("deliveries", "Deliveries &lt;fan> & more"),
            ("milestones", "Milestone curves"),
            ("training", "Training compute"),
            ("allocation", "Allocation"),
        ] {
            assert!(m.contains(&format!("![{title}]({stem}.png)")), "{stem}: {m}");
        }
        assert!(m.ends_with('\n') && !m.ends_with("\n\n"));
    }

    #[test]
    fn markdown_escapes_pipes_in_cells() {
        let s = summary("a|b", "# not a heading", "x | y, ~300k *each*");
        let m = md_text(&s);
        assert!(m.starts_with("# a\\|b\n\n\\# not a heading\n"), "{m}");
        assert!(m.contains("| x \\| y, \\~300k \\*each\\* |"), "{m}");
        // Every table row keeps its column count.
        for line in m.lines().filter(|l| l.starts_with('|')) {
            let cells = line.replace("\\|", "").matches('|').count();
            assert!(cells == 11 || cells == 4, "{line}");
        }
    }

    #[test]
    fn percentages_do_not_round_to_certainty() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0001), "<0.1%");
        assert_eq!(percent(0.9999), ">99.9%");
        assert_eq!(percent(0.1234), "12.3%");
        assert_eq!(percent(f64::NAN), "n/a");
        assert_eq!(probability(0.5652, 0.5553, 0.5751), "56.5% [55.5, 57.5]");
        assert_eq!(probability(0.0, 0.0, 0.018), "0% [0, 1.8]");
        assert_eq!(probability(1.0, 0.99998, 1.0), "100% [>99.9, 100]");
        assert_eq!(scientific(3.3e24), ("3.30".to_string(), "24".to_string()));
    }
}
