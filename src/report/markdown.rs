//! `report.md`: the same content as the HTML page in GitHub-flavoured
//! Markdown, with the charts as links to the PNG files beside it.

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

/// Escapes text so Markdown shows it as written: backslashes, pipes (which
/// would end a table cell), tildes (GitHub strikes through `~text~`, and
/// sources write `~300k` for "about"), asterisks and backticks are
/// backslash-escaped; `<` cannot open an HTML tag; line breaks, which would
/// end a table row, become spaces. Underscores are left alone: inside
/// identifiers such as `dsv3_class` they never make emphasis.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '|' | '~' | '*' | '`' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '\r' => {}
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text as a paragraph of its own: escaped, and with a first character that
/// would start a heading, quote or list escaped too.
pub(super) fn paragraph(s: &str) -> String {
    let text = escape(s.trim_start());
    match text.chars().next() {
        Some('#' | '>' | '-' | '+' | '=') => format!("\\{text}"),
        _ => text,
    }
}

/// A key path as a code span; pipes inside still need escaping in tables.
fn code(s: &str) -> String {
    if s.contains('`') || s.contains('\n') {
        escape(s)
    } else {
        format!("`{}`", s.replace('|', "\\|"))
    }
}

/// A code span holding `s` as it is: fenced with more backticks than any
/// run of them inside.
fn code_span(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{fence}{s}{fence}")
    } else {
        format!("{fence} {s} {fence}")
    }
}

/// `Produced by sancsim 0.1.0: `command``.
pub(super) fn produced_line(version: &str, command: &str) -> String {
    format!(
        "{}: {}",
        escape(&produced_by(version)),
        code_span(&command.replace('\n', " "))
    )
}

pub(super) fn row(out: &mut String, cells: &[String]) {
    out.push('|');
    for c in cells {
        let _ = write!(out, " {c} |");
    }
    out.push('\n');
}

pub(super) fn rule(out: &mut String, numeric: &[bool]) {
    out.push('|');
    for &n in numeric {
        out.push_str(if n { " ---: |" } else { " --- |" });
    }
    out.push('\n');
}

/// The whole document.
pub(super) fn render(summary: &Summary, charts: &[Chart], scenario_file: &str) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# {}\n", escape(&summary.scenario));
    if !summary.description.is_empty() {
        let _ = writeln!(m, "{}\n", paragraph(&summary.description));
    }
    if !summary.executive_summary.is_empty() {
        let _ = writeln!(m, "**Summary.** {}\n", escape(&summary.executive_summary));
    }
    let facts: Vec<String> = run_facts(summary).iter().map(|f| escape(f)).collect();
    let _ = writeln!(m, "{}\n", facts.join(" · "));
    let _ = writeln!(
        m,
        "{}\n",
        produced_line(&summary.sancsim_version, &run_command(summary, scenario_file))
    );
    if let Some(w) = precision_warning(summary) {
        let _ = writeln!(m, "**Warning:** {}.\n", escape(&w));
    }

    // With evidence, its charts go in its section.
    let (evidence_charts, charts) = ev::split_charts(summary, charts);
    m.push_str("## Milestones\n\n");
    if summary.evidence.is_some() {
        let _ = writeln!(m, "**{}**\n", escape(ev::POSTERIOR_NOTE));
    }
    let heads: Vec<String> = MILESTONE_COLUMNS.iter().map(|c| escape(c)).collect();
    row(&mut m, &heads);
    rule(&mut m, &MILESTONE_NUMERIC);
    for ms in &summary.milestones {
        let mut cells = milestone_cells(ms).map(|c| escape(&c));
        let (mantissa, exponent) = scientific(ms.target_flop);
        cells[1] = escape(&format!("{mantissa}e{exponent}"));
        // The description where written, with the id beside it.
        if milestone_title(ms) != ms.name {
            cells[0] = format!("{} ({})", escape(milestone_title(ms)), code(&ms.name));
        }
        row(&mut m, &cells);
    }
    let _ = writeln!(m, "\n{}\n", escape(&milestone_note(summary)));
    let _ = writeln!(m, "{}\n", escape(&training_note(summary)));

    if let Some(e) = &summary.evidence {
        evidence(&mut m, summary, e, &evidence_charts);
    }

    m.push_str("## Why milestones are missed\n\n");
    let heads: Vec<String> = MISSED_COLUMNS.iter().map(|c| escape(c)).collect();
    row(&mut m, &heads);
    rule(&mut m, &MISSED_NUMERIC);
    for ms in &summary.milestones {
        row(&mut m, &missed_cells(summary, ms).map(|c| escape(&c)));
    }
    let _ = writeln!(m, "\n{}\n", escape(&missed_note(summary)));

    m.push_str("## Training start\n\n");
    let _ = writeln!(m, "{}\n", escape(&start_line(summary)));
    row(&mut m, &START_COLUMNS.map(escape));
    rule(&mut m, &[false, true, true]);
    for r in start_rows(summary) {
        row(&mut m, &r.map(|c| escape(&c)));
    }
    m.push('\n');

    if summary.training_runs.is_some() {
        let _ = writeln!(m, "## {}\n", escape(&runs_heading(summary)));
        row(&mut m, &RUN_COLUMNS.map(escape));
        rule(&mut m, &[true; 5]);
        for r in runs_rows(summary) {
            row(&mut m, &r.map(|c| escape(&c)));
        }
        let _ = writeln!(m, "\n{}\n", escape(RUNS_NOTE));
    }

    if !summary.shocks.is_empty() {
        m.push_str("## Shocks\n\n");
        row(&mut m, &SHOCK_COLUMNS.map(escape));
        rule(&mut m, &[false, true, false]);
        for s in &summary.shocks {
            row(&mut m, &shock_cells(summary, s).map(|c| escape(&c)));
        }
        let _ = writeln!(m, "\n{}\n", escape(&shock_note(summary)));
    }

    if !summary.gates.is_empty() {
        m.push_str("## Gates\n\n");
        row(&mut m, &GATE_COLUMNS.map(escape));
        rule(&mut m, &[false, false]);
        for g in &summary.gates {
            row(&mut m, &gate_cells(summary, g).map(|c| escape(&c)));
        }
        let _ = writeln!(m, "\n{}\n", escape(&gate_note(summary)));
    }

    if !summary.suppliers.is_empty() {
        m.push_str("## Suppliers\n\n");
        row(&mut m, &SUPPLIER_COLUMNS.map(escape));
        rule(&mut m, &[false, true, true, true, false]);
        for r in supplier_rows(summary) {
            row(&mut m, &r.map(|c| escape(&c)));
        }
        let _ = writeln!(m, "\n{}\n", escape(&supplier_note(summary)));
    }

    if !charts.is_empty() {
        m.push_str("## Charts\n\n");
        for chart in charts {
            image(&mut m, chart);
        }
    }

    m.push_str("## Key assumptions\n\n");
    row(&mut m, &["Key".into(), "Value".into(), "Source".into()]);
    rule(&mut m, &[false, false, false]);
    for a in &summary.assumptions {
        row(&mut m, &[code(&a.key), escape(&a.value), escape(assumption_source(a))]);
    }
    let _ = writeln!(m, "\nScenario file hash {}.", escape(&summary.scenario_hash));
    m
}

/// A chart as an image link to `<stem>.png`, its title as the alt text.
fn image(m: &mut String, chart: &Chart) {
    let alt = escape(&chart.title).replace('[', "\\[").replace(']', "\\]");
    let _ = writeln!(m, "![{alt}]({}.png)\n", chart.stem);
}

/// A table of plain cells: headings, which columns are numeric, rows.
fn table<const N: usize>(m: &mut String, heads: &[&str; N], numeric: &[bool; N], rows: &[[String; N]]) {
    row(m, &heads.map(escape));
    rule(m, numeric);
    for r in rows {
        row(m, &r.clone().map(|c| escape(&c)));
    }
    m.push('\n');
}

/// The Evidence section, as the HTML page has it.
fn evidence(m: &mut String, summary: &Summary, e: &EvidenceSummary, charts: &[&Chart]) {
    m.push_str("## Evidence\n\n");
    let _ = writeln!(m, "{}\n", escape(&ev::sentence(e)));

    m.push_str("### Observations\n\n");
    table(
        m,
        &ev::OBSERVATION_COLUMNS,
        &ev::OBSERVATION_NUMERIC,
        &ev::observation_rows(e),
    );
    let _ = writeln!(m, "{}\n", escape(&ev::observation_note(e)));

    m.push_str("### Prior and posterior\n\n");
    table(m, &ev::CHANGE_COLUMNS, &ev::CHANGE_NUMERIC, &ev::change_rows(summary));
    let _ = writeln!(m, "{}\n", escape(ev::CHANGE_NOTE));

    m.push_str("### Inputs that moved most\n\n");
    let rows = ev::input_rows(e);
    if !rows.is_empty() {
        row(m, &ev::INPUT_COLUMNS.map(escape));
        rule(m, &ev::INPUT_NUMERIC);
        for r in &rows {
            let mut cells = r.clone().map(|c| escape(&c));
            cells[0] = code(&r[0]);
            row(m, &cells);
        }
        m.push('\n');
    }
    let _ = writeln!(m, "{}\n", escape(&ev::input_note(e)));
    for chart in charts {
        image(m, chart);
    }
}

/// A batch's `index.md`.
pub(super) fn render_index(index: &BatchIndex, chart: &Chart) -> String {
    let mut m = String::from("# Scenario comparison\n\n");
    let _ = writeln!(m, "{}\n", escape(&comparison::intro(index)));
    let _ = writeln!(m, "{}\n", produced_line(comparison::version(index), index.command));

    let table = comparison::table(index);
    let mut heads = vec!["Milestone".to_string()];
    for c in &table.columns {
        let role = if c.reference { " (reference)" } else { "" };
        let link = format!("{}/report.html", comparison::url_segment(c.folder));
        heads.push(format!(
            "[{}]({link}){role}<br>{}",
            escape(c.name).replace('[', "\\[").replace(']', "\\]"),
            escape(&c.facts)
        ));
    }
    row(&mut m, &heads);
    let mut numeric = vec![false];
    numeric.extend(table.columns.iter().map(|_| true));
    rule(&mut m, &numeric);
    for r in &table.rows {
        let mut cells = vec![format!("{}<br>{}", escape(&r.name), escape(&r.definition))];
        for cell in &r.cells {
            let Some(cell) = cell else {
                cells.push("—".to_string());
                continue;
            };
            let mut text = format!("{} ({})", escape(&cell.probability), escape(&cell.interval));
            if let Some(own) = &cell.own_definition {
                let _ = write!(text, "<br>here: {}", escape(own));
            }
            if let Some(d) = &cell.difference {
                let estimate = escape(&d.estimate);
                let estimate = if d.clear { format!("**{estimate}**") } else { estimate };
                let _ = write!(text, "<br>{estimate} ({})", escape(&d.interval));
            }
            cells.push(text);
        }
        row(&mut m, &cells);
    }
    let _ = writeln!(m, "\n{}\n", escape(METHOD_NOTE));
    let alt = escape(&chart.title).replace('[', "\\[").replace(']', "\\]");
    let _ = writeln!(m, "![{alt}]({}.png)", chart.stem);
    if !index.failed.is_empty() {
        m.push_str("\n## Scenarios that failed\n\n");
        for (file, message) in index.failed {
            let _ = writeln!(m, "- {}", code(file));
            for line in message.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(m, "  - {}", escape(line));
            }
        }
    }
    m
}

/// [`code_span`], for the tests of the parent module.
#[cfg(test)]
pub(super) fn code_span_for_tests(s: &str) -> String {
    code_span(s)
}
