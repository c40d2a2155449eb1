//! `report.md`: the same content as the HTML page in GitHub-flavoured
//! Markdown, with the charts as links to the PNG files beside it.

use std::fmt::Write;

use super::{
    MILESTONE_COLUMNS, MILESTONE_NOTE, MILESTONE_NUMERIC, assumption_source, milestone_cells, milestone_title,
    run_facts, scientific, training_note,
};
use crate::charts::Chart;
use crate::results::Summary;

/// Escapes text so Markdown shows it as written: backslashes, pipes (which
/// would end a table cell), tildes (GitHub strikes through `~text~`, and
/// sources write `~300k` for "about"), asterisks and backticks are
/// backslash-escaped; `<` cannot open an HTML tag; line breaks, which would
/// end a table row, become spaces. Underscores are left alone: inside
/// identifiers such as `dsv3_class` they never make emphasis.
fn escape(s: &str) -> String {
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
fn paragraph(s: &str) -> String {
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

fn row(out: &mut String, cells: &[String]) {
    out.push('|');
    for c in cells {
        let _ = write!(out, " {c} |");
    }
    out.push('\n');
}

fn rule(out: &mut String, numeric: &[bool]) {
    out.push('|');
    for &n in numeric {
        out.push_str(if n { " ---: |" } else { " --- |" });
    }
    out.push('\n');
}

/// The whole document.
pub(super) fn render(summary: &Summary, charts: &[Chart]) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# {}\n", escape(&summary.scenario));
    if !summary.description.is_empty() {
        let _ = writeln!(m, "{}\n", paragraph(&summary.description));
    }
    let facts: Vec<String> = run_facts(summary).iter().map(|f| escape(f)).collect();
    let _ = writeln!(m, "{}\n", facts.join(" · "));

    m.push_str("## Milestones\n\n");
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
    let _ = writeln!(m, "\n{}\n", escape(MILESTONE_NOTE));
    let _ = writeln!(m, "{}\n", escape(&training_note(summary)));

    if !charts.is_empty() {
        m.push_str("## Charts\n\n");
        for chart in charts {
            let alt = escape(&chart.title).replace('[', "\\[").replace(']', "\\]");
            let _ = writeln!(m, "![{alt}]({}.png)\n", chart.stem);
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
