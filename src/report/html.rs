//! `report.html`: one page that opens anywhere, offline. The stylesheet is
//! inline, the charts are inlined as SVG, and a Content-Security-Policy
//! forbids the page from loading anything at all.

use std::fmt::Write;

use super::comparison::{self, BatchIndex, METHOD_NOTE};
use super::evidence as ev;
use super::{
    GATE_COLUMNS, MILESTONE_COLUMNS, MILESTONE_NUMERIC, MISSED_COLUMNS, MISSED_NUMERIC, RUN_COLUMNS, RUNS_NOTE,
    SHOCK_COLUMNS, START_COLUMNS, SUPPLIER_COLUMNS, assumption_source, gate_cells, gate_note, milestone_cells,
    milestone_note, milestone_title, missed_cells, missed_note, precision_warning, produced_by, run_command, run_facts,
    runs_heading, runs_rows, scientific, shock_cells, shock_note, start_line, start_rows, supplier_note, supplier_rows,
    training_note,
};
use crate::charts::Chart;
use crate::evidence::EvidenceSummary;
use crate::results::Summary;

/// The page's stylesheet: system fonts, readable line length, quiet tables.
const STYLE: &str = r#"
:root {
  color-scheme: light;
  --fg: #1f2328;
  --muted: #59636e;
  --line: #d8dee4;
  --head: #f3f5f7;
  --stripe: #fafbfc;
  --accent: #1f5fa8;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  background: #ffffff;
  color: var(--fg);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans",
    "Liberation Sans", Arial, sans-serif;
}
main { max-width: 1120px; margin: 0 auto; padding: 40px 28px 64px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 20px; }
.kicker {
  margin: 0;
  color: var(--accent);
  font-size: 0.78rem;
  font-weight: 600;
  letter-spacing: 0.08em;
  text-transform: uppercase;
}
h1 { margin: 4px 0 10px; font-size: 2.1rem; line-height: 1.2; overflow-wrap: anywhere; }
.description { margin: 0 0 14px; max-width: 75ch; font-size: 1.08rem; }
.executive {
  margin: 0 0 16px;
  padding: 12px 16px;
  max-width: 90ch;
  border-left: 4px solid var(--accent);
  background: #f1f6fc;
  border-radius: 6px;
}
.run { margin: 0; color: var(--muted); font-size: 0.9rem; }
.run span { white-space: nowrap; }
.run span + span::before { content: "\00b7"; margin: 0 0.55em; color: var(--line); }
h2 { margin: 40px 0 12px; font-size: 1.35rem; line-height: 1.3; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
table { width: 100%; border-collapse: collapse; font-size: 0.875rem; }
th, td { padding: 7px 10px; text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); }
thead th {
  background: var(--head);
  font-weight: 600;
  vertical-align: bottom;
  border-bottom: 1px solid #c4ccd4;
}
thead th.group { text-align: center; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
thead tr + tr th { padding-top: 4px; }
tbody tr:last-child td { border-bottom: none; }
tbody tr:nth-child(even) { background: var(--stripe); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
#milestones td:first-child { font-weight: 600; overflow-wrap: break-word; }
#milestones td:first-child code.id { font-weight: 400; font-size: 0.85em; color: var(--muted); }
#milestones thead th.single { max-width: 7.5em; }
#milestones td.prob { font-weight: 600; color: var(--accent); }
#assumptions td:first-child {
  padding-top: 9px;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.8rem;
  overflow-wrap: break-word;
  width: 30%;
}
#assumptions td.value { min-width: 12em; }
#assumptions td.source { color: var(--muted); overflow-wrap: anywhere; }
sup { font-size: 0.7em; line-height: 0; }
.note { margin: 10px 0 0; max-width: 90ch; color: var(--muted); font-size: 0.82rem; }
.charts { display: grid; gap: 24px; }
figure.chart { margin: 0; padding: 16px; border: 1px solid var(--line); border-radius: 8px; background: #ffffff; }
figure.chart svg { display: block; width: 100%; height: auto; }
figcaption { margin-top: 8px; color: var(--muted); font-size: 0.85rem; }
.figure-number { color: var(--fg); font-weight: 600; }
footer { margin-top: 48px; color: var(--muted); font-size: 0.8rem; }
.produced { margin: 8px 0 0; color: var(--muted); font-size: 0.85rem; }
.produced code, .failures code {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.82rem;
  overflow-wrap: anywhere;
}
.warning {
  margin: 14px 0 0;
  padding: 8px 12px;
  border: 1px solid #d4a72c;
  border-left-width: 4px;
  border-radius: 6px;
  background: #fff8c5;
  color: #4d2d00;
  font-size: 0.92rem;
}
@media print {
  main { max-width: none; padding: 0; }
  figure.chart, tr { break-inside: avoid; }
}
"#;

/// Escapes text for HTML element content and quoted attribute values.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Value of attribute `name` in the tag text `tag`, if quoted.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    for quote in ['"', '\''] {
        let key = format!(" {name}={quote}");
        if let Some(at) = tag.find(&key) {
            let rest = &tag[at + key.len()..];
            return rest.find(quote).map(|end| &rest[..end]);
        }
    }
    None
}

/// The chart's SVG element ready to sit in HTML: anything before `<svg`
/// (the XML prologue, a doctype, comments) is dropped, and a `viewBox` is
/// added from `width` and `height` where missing, so CSS can scale it.
fn inline_svg(svg: &str) -> Option<String> {
    let start = svg.find("<svg")?;
    let svg = svg[start..].trim_end();
    let tag_end = svg.find('>')?;
    let tag = &svg[..tag_end];
    if attribute(tag, "viewBox").is_some() {
        return Some(svg.to_string());
    }
    let number = |name| attribute(tag, name).and_then(|v: &str| v.trim_end_matches("px").parse::<f64>().ok());
    match (number("width"), number("height")) {
        (Some(w), Some(h)) => {
            let (head, tail) = svg.split_at(tag_end);
            let head = head.strip_suffix('/').unwrap_or(head);
            let slash = if tag.ends_with('/') { "/" } else { "" };
            Some(format!("{head} viewBox=\"0 0 {w} {h}\"{slash}{tail}"))
        }
        _ => Some(svg.to_string()),
    }
}

/// The document up to `<main>`: doctype, the Content-Security-Policy, the
/// title (already escaped) and the stylesheet with `extra_style` after it.
pub(super) fn head(h: &mut String, title: &str, extra_style: &str) {
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:\">\n",
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<meta name=\"generator\" content=\"sancsim\">\n");
    let _ = writeln!(h, "<title>{title}</title>");
    let _ = writeln!(h, "<style>{STYLE}{extra_style}</style>\n</head>\n<body>\n<main>");
}

/// The "produced by" paragraph: the version and the command, as code.
pub(super) fn produced(h: &mut String, version: &str, command: &str) {
    let _ = writeln!(
        h,
        "<p class=\"produced\">{}: <code>{}</code></p>",
        escape(&produced_by(version)),
        escape(command)
    );
}

/// The whole page.
pub(super) fn render(summary: &Summary, charts: &[Chart], scenario_file: &str) -> String {
    let mut h = String::new();
    let name = escape(&summary.scenario);
    let extra_style = if summary.evidence.is_some() { EVIDENCE_STYLE } else { "" };
    head(&mut h, &format!("{name} — sancsim report"), extra_style);

    h.push_str("<header>\n<p class=\"kicker\">sancsim scenario report</p>\n");
    let _ = writeln!(h, "<h1>{name}</h1>");
    if !summary.description.is_empty() {
        let _ = writeln!(h, "<p class=\"description\">{}</p>", escape(&summary.description));
    }
    if !summary.executive_summary.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"executive\" id=\"executive-summary\">{}</p>",
            escape(&summary.executive_summary)
        );
    }
    h.push_str("<p class=\"run\">");
    for fact in run_facts(summary) {
        let _ = write!(h, "<span>{}</span>", escape(&fact));
    }
    h.push_str("</p>\n");
    produced(&mut h, &summary.sancsim_version, &run_command(summary, scenario_file));
    if let Some(w) = precision_warning(summary) {
        let _ = writeln!(
            h,
            "<p class=\"warning\" id=\"precision-warning\" role=\"alert\"><strong>Warning:</strong> {}.</p>",
            escape(&w)
        );
    }
    h.push_str("</header>\n");

    // With evidence, its charts sit in its section and are numbered first.
    let (evidence_charts, charts) = ev::split_charts(summary, charts);
    milestones(&mut h, summary);
    if let Some(e) = &summary.evidence {
        evidence(&mut h, summary, e, &evidence_charts);
    }
    explanation(&mut h, summary);
    numbered_figures(&mut h, &charts, evidence_charts.len() + 1);
    assumptions(&mut h, summary);

    let _ = writeln!(
        h,
        "<footer>Scenario file hash {} · sancsim {}</footer>",
        escape(&summary.scenario_hash),
        escape(&summary.sancsim_version)
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

fn milestones(h: &mut String, summary: &Summary) {
    h.push_str("<section>\n<h2>Milestones</h2>\n");
    if summary.evidence.is_some() {
        let _ = writeln!(
            h,
            "<p class=\"posterior\" id=\"posterior-note\">{}</p>",
            escape(ev::POSTERIOR_NOTE)
        );
    }
    h.push_str("<div class=\"table-wrap\">\n<table id=\"milestones\">\n<thead>\n");
    // Two header rows group the probability with its interval and the
    // three quarter percentiles; the cells below follow MILESTONE_COLUMNS.
    let single = |h: &mut String, col: usize| {
        let class = if MILESTONE_NUMERIC[col] { " num" } else { "" };
        let _ = write!(
            h,
            "<th scope=\"col\" rowspan=\"2\" class=\"single{class}\">{}</th>",
            escape(MILESTONE_COLUMNS[col])
        );
    };
    h.push_str("<tr>");
    for col in 0..4 {
        single(h, col);
    }
    h.push_str("<th scope=\"colgroup\" colspan=\"2\" class=\"group\">Reached by deadline</th>");
    h.push_str("<th scope=\"colgroup\" colspan=\"3\" class=\"group\">Quarter reached</th>");
    single(h, 9);
    h.push_str("</tr>\n<tr>");
    for label in ["Probability", "95% CI, %", "P10", "P50", "P90"] {
        let class = if matches!(label, "Probability" | "95% CI, %") {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(h, "<th scope=\"col\"{class}>{label}</th>");
    }
    h.push_str("</tr>\n</thead>\n<tbody>\n");
    for m in &summary.milestones {
        let mut cells = milestone_cells(m).map(|c| escape(&c));
        let (mantissa, exponent) = scientific(m.target_flop);
        cells[1] = format!("{} × 10<sup>{}</sup>", escape(&mantissa), escape(&exponent));
        // The description where written, with the id under it.
        if milestone_title(m) != m.name {
            cells[0] = format!(
                "{}<br><code class=\"id\">{}</code>",
                escape(milestone_title(m)),
                escape(&m.name)
            );
        }
        h.push_str("<tr>");
        for (i, (cell, numeric)) in cells.iter().zip(MILESTONE_NUMERIC).enumerate() {
            let class = match (i, numeric) {
                (4, _) => " class=\"num prob\"",
                (_, true) => " class=\"num\"",
                _ => "",
            };
            let _ = write!(h, "<td{class}>{cell}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</div>\n");
    let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&milestone_note(summary)));
    let _ = writeln!(
        h,
        "<p class=\"note\" id=\"training-runs\">{}</p>\n</section>",
        escape(&training_note(summary))
    );
}

/// Rules only a report with evidence needs.
const EVIDENCE_STYLE: &str = r#"
.posterior { margin: 0 0 12px; max-width: 90ch; font-size: 0.92rem; }
#evidence h3 { margin: 28px 0 10px; font-size: 1.08rem; line-height: 1.3; }
#evidence-summary { margin: 0 0 8px; max-width: 90ch; }
#evidence .charts { margin-top: 24px; }
#observations td:first-child, #inputs-moved td:first-child { overflow-wrap: anywhere; }
#inputs-moved td:first-child {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.8rem;
}
"#;

/// The Evidence section: what the observations did, their table, each
/// milestone's prior against its posterior, the inputs that moved most,
/// and the evidence charts, numbered from 1.
fn evidence(h: &mut String, summary: &Summary, e: &EvidenceSummary, charts: &[&Chart]) {
    h.push_str("<section id=\"evidence\">\n<h2>Evidence</h2>\n");
    let _ = writeln!(h, "<p id=\"evidence-summary\">{}</p>", escape(&ev::sentence(e)));

    h.push_str("<h3>Observations</h3>\n");
    let rows: Vec<Vec<String>> = ev::observation_rows(e).into_iter().map(|r| r.to_vec()).collect();
    table(
        h,
        "observations",
        &ev::OBSERVATION_COLUMNS,
        &ev::OBSERVATION_NUMERIC,
        &rows,
    );
    let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&ev::observation_note(e)));

    h.push_str("<h3>Prior and posterior</h3>\n");
    let rows: Vec<Vec<String>> = ev::change_rows(summary).into_iter().map(|r| r.to_vec()).collect();
    table(h, "prior-posterior", &ev::CHANGE_COLUMNS, &ev::CHANGE_NUMERIC, &rows);
    let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(ev::CHANGE_NOTE));

    h.push_str("<h3>Inputs that moved most</h3>\n");
    let rows: Vec<Vec<String>> = ev::input_rows(e).into_iter().map(|r| r.to_vec()).collect();
    if !rows.is_empty() {
        table(h, "inputs-moved", &ev::INPUT_COLUMNS, &ev::INPUT_NUMERIC, &rows);
    }
    let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&ev::input_note(e)));

    if !charts.is_empty() {
        h.push_str("<div class=\"charts\">\n");
        for (n, chart) in charts.iter().enumerate() {
            figure(h, chart, n + 1);
        }
        h.push_str("</div>\n");
    }
    h.push_str("</section>\n");
}

/// A plain table: its id, headings, which columns are numeric, and rows.
fn table(h: &mut String, id: &str, heads: &[&str], numeric: &[bool], rows: &[Vec<String>]) {
    let _ = write!(h, "<div class=\"table-wrap\">\n<table id=\"{id}\">\n<thead><tr>");
    let class = |n: bool| if n { " class=\"num\"" } else { "" };
    for (head, &n) in heads.iter().zip(numeric) {
        let _ = write!(h, "<th scope=\"col\"{}>{}</th>", class(n), escape(head));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        h.push_str("<tr>");
        for (cell, &n) in row.iter().zip(numeric) {
            let _ = write!(h, "<td{}>{}</td>", class(n), escape(cell));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</div>\n");
}

/// Why milestones are missed, when the run started, and the shocks.
fn explanation(h: &mut String, summary: &Summary) {
    h.push_str("<section>\n<h2>Why milestones are missed</h2>\n");
    let rows: Vec<Vec<String>> = summary
        .milestones
        .iter()
        .map(|m| missed_cells(summary, m).to_vec())
        .collect();
    table(h, "missed", &MISSED_COLUMNS, &MISSED_NUMERIC, &rows);
    let _ = writeln!(h, "<p class=\"note\">{}</p>\n</section>", escape(&missed_note(summary)));

    h.push_str("<section>\n<h2>Training start</h2>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\" id=\"start-percentiles\">{}</p>",
        escape(&start_line(summary))
    );
    let rows: Vec<Vec<String>> = start_rows(summary).into_iter().map(|r| r.to_vec()).collect();
    table(h, "training-start", &START_COLUMNS, &[false, true, true], &rows);
    h.push_str("</section>\n");

    if summary.training_runs.is_some() {
        let _ = writeln!(h, "<section>\n<h2>{}</h2>", escape(&runs_heading(summary)));
        let rows: Vec<Vec<String>> = runs_rows(summary).into_iter().map(|r| r.to_vec()).collect();
        table(h, "training-runs", &RUN_COLUMNS, &[true; 5], &rows);
        let _ = writeln!(h, "<p class=\"note\">{}</p>\n</section>", escape(RUNS_NOTE));
    }

    if !summary.shocks.is_empty() {
        h.push_str("<section>\n<h2>Shocks</h2>\n");
        let rows: Vec<Vec<String>> = summary
            .shocks
            .iter()
            .map(|s| shock_cells(summary, s).to_vec())
            .collect();
        table(h, "shocks", &SHOCK_COLUMNS, &[false, true, false], &rows);
        let _ = writeln!(h, "<p class=\"note\">{}</p>\n</section>", escape(&shock_note(summary)));
    }

    if !summary.gates.is_empty() {
        h.push_str("<section>\n<h2>Gates</h2>\n");
        let rows: Vec<Vec<String>> = summary.gates.iter().map(|g| gate_cells(summary, g).to_vec()).collect();
        table(h, "gates", &GATE_COLUMNS, &[false, false], &rows);
        let _ = writeln!(h, "<p class=\"note\">{}</p>\n</section>", escape(&gate_note(summary)));
    }

    if !summary.suppliers.is_empty() {
        h.push_str("<section>\n<h2>Suppliers</h2>\n");
        let rows: Vec<Vec<String>> = supplier_rows(summary).iter().map(|r| r.to_vec()).collect();
        table(
            h,
            "suppliers",
            &SUPPLIER_COLUMNS,
            &[false, true, true, true, false],
            &rows,
        );
        let _ = writeln!(
            h,
            "<p class=\"note\">{}</p>\n</section>",
            escape(&supplier_note(summary))
        );
    }
}

pub(super) fn figures(h: &mut String, charts: &[Chart]) {
    numbered_figures(h, &charts.iter().collect::<Vec<_>>(), 1);
}

/// The Charts section, its figures numbered from `first`.
fn numbered_figures(h: &mut String, charts: &[&Chart], first: usize) {
    if charts.is_empty() {
        return;
    }
    h.push_str("<section>\n<h2>Charts</h2>\n<div class=\"charts\">\n");
    for (n, chart) in charts.iter().enumerate() {
        figure(h, chart, first + n);
    }
    h.push_str("</div>\n</section>\n");
}

/// One chart as a figure, inlined as SVG, captioned `Figure <number>.`.
fn figure(h: &mut String, chart: &Chart, number: usize) {
    let _ = writeln!(h, "<figure class=\"chart\" id=\"chart-{}\">", escape(chart.stem));
    match inline_svg(&chart.svg) {
        Some(svg) => h.push_str(&svg),
        None => h.push_str("<p class=\"note\">This chart could not be drawn.</p>"),
    }
    let _ = writeln!(
        h,
        "\n<figcaption><span class=\"figure-number\">Figure {number}.</span> {}</figcaption>\n</figure>",
        escape(&chart.title)
    );
}

fn assumptions(h: &mut String, summary: &Summary) {
    h.push_str("<section>\n<h2>Key assumptions</h2>\n<div class=\"table-wrap\">\n<table id=\"assumptions\">\n");
    h.push_str("<thead><tr><th scope=\"col\">Key</th><th scope=\"col\">Value</th><th scope=\"col\">Source</th></tr></thead>\n<tbody>\n");
    for a in &summary.assumptions {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"value\">{}</td><td class=\"source\">{}</td></tr>",
            // Long key paths may wrap after a dot, not inside a name.
            escape(&a.key).replace('.', ".<wbr>"),
            escape(&a.value),
            escape(assumption_source(a))
        );
    }
    h.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

/// Rules only the batch index needs.
const INDEX_STYLE: &str = r#"
#comparison th a, #comparison td a { color: var(--accent); }
#comparison thead th { vertical-align: bottom; }
#comparison thead .facts { display: block; color: var(--muted); font-weight: 400; font-size: 0.78rem; }
#comparison thead .role {
  display: block;
  color: var(--accent);
  font-size: 0.7rem;
  font-weight: 600;
  letter-spacing: 0.06em;
  text-transform: uppercase;
}
#comparison th.reference, #comparison td.reference { background: #f1f6fc; }
#comparison tbody th { font-weight: 600; text-align: left; overflow-wrap: break-word; }
#comparison tbody th .definition { display: block; color: var(--muted); font-weight: 400; font-size: 0.78rem; }
#comparison td .prob { font-weight: 600; color: var(--accent); }
#comparison td .ci, #comparison td .own { display: block; color: var(--muted); font-size: 0.78rem; }
#comparison td .diff { display: block; margin-top: 4px; }
#comparison td .diff.clear { font-weight: 700; }
.failures li { margin: 6px 0; }
.failures pre { margin: 4px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.8rem; }
"#;

/// A batch's `index.html`.
pub(super) fn render_index(index: &BatchIndex, chart: &Chart) -> String {
    let mut h = String::new();
    head(&mut h, "Scenario comparison — sancsim batch", INDEX_STYLE);
    h.push_str("<header>\n<p class=\"kicker\">sancsim batch</p>\n<h1>Scenario comparison</h1>\n");
    let _ = writeln!(h, "<p class=\"description\">{}</p>", escape(&comparison::intro(index)));
    produced(&mut h, comparison::version(index), index.command);
    if !index.failed.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"warning\" role=\"alert\"><strong>Warning:</strong> {} scenario{} failed (listed below).</p>",
            index.failed.len(),
            if index.failed.len() == 1 { "" } else { "s" }
        );
    }
    h.push_str("</header>\n");

    let table = comparison::table(index);
    h.push_str("<section>\n<h2>Milestones</h2>\n<div class=\"table-wrap\">\n<table id=\"comparison\">\n<thead>\n<tr>");
    h.push_str("<th scope=\"col\">Milestone</th>");
    for c in &table.columns {
        let class = if c.reference { " class=\"reference\"" } else { "" };
        let role = if c.reference {
            "<span class=\"role\">reference</span>"
        } else {
            ""
        };
        let _ = write!(
            h,
            "<th scope=\"col\"{class}>{role}<a href=\"{}/report.html\">{}</a><span class=\"facts\">{}</span></th>",
            escape(&comparison::url_segment(c.folder)),
            escape(c.name),
            escape(&c.facts)
        );
    }
    h.push_str("</tr>\n</thead>\n<tbody>\n");
    for row in &table.rows {
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{}<span class=\"definition\">{}</span></th>",
            escape(&row.name),
            escape(&row.definition)
        );
        for (cell, column) in row.cells.iter().zip(&table.columns) {
            let class = if column.reference { "num reference" } else { "num" };
            let Some(cell) = cell else {
                let _ = write!(h, "<td class=\"{class}\">—</td>");
                continue;
            };
            let _ = write!(
                h,
                "<td class=\"{class}\"><span class=\"prob\">{}</span><span class=\"ci\">{}</span>",
                escape(&cell.probability),
                escape(&cell.interval)
            );
            if let Some(own) = &cell.own_definition {
                let _ = write!(h, "<span class=\"own\">here: {}</span>", escape(own));
            }
            if let Some(d) = &cell.difference {
                let clear = if d.clear { " clear" } else { "" };
                let _ = write!(
                    h,
                    "<span class=\"diff{clear}\">{}</span><span class=\"ci\">{}</span>",
                    escape(&d.estimate),
                    escape(&d.interval)
                );
            }
            h.push_str("</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</div>\n");
    let _ = writeln!(h, "<p class=\"note\">{}</p>\n</section>", escape(METHOD_NOTE));

    h.push_str("<section>\n<h2>Chart</h2>\n<div class=\"charts\">\n");
    let _ = writeln!(h, "<figure class=\"chart\" id=\"chart-{}\">", escape(chart.stem));
    match inline_svg(&chart.svg) {
        Some(svg) => h.push_str(&svg),
        None => h.push_str("<p class=\"note\">This chart could not be drawn.</p>"),
    }
    let _ = writeln!(
        h,
        "\n<figcaption><span class=\"figure-number\">Figure 1.</span> {}</figcaption>\n</figure>\n</div>\n</section>",
        escape(&chart.title)
    );

    if !index.failed.is_empty() {
        h.push_str("<section>\n<h2>Scenarios that failed</h2>\n<ul class=\"failures\">\n");
        for (file, message) in index.failed {
            let _ = writeln!(
                h,
                "<li><code>{}</code><pre>{}</pre></li>",
                escape(file),
                escape(message)
            );
        }
        h.push_str("</ul>\n</section>\n");
    }
    h.push_str("</main>\n</body>\n</html>\n");
    h
}
