//! The report of a strategy question (compare, sweep, sensitivity,
//! optimize): one [`Page`] of sections, each with paragraphs, a table and
//! notes, plus the charts, rendered as `report.html` (self-contained, the
//! charts inlined as SVG) and `report.md` (charts as PNG links), with the
//! same stylesheet, escaping and "produced by" line as a run's report.

use std::fmt::Write;

use super::{html, markdown};
use crate::charts::Chart;

/// A table of a section: header cells, rows, and which columns are numeric
/// (right-aligned).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column headings.
    pub header: Vec<String>,
    /// Rows of cells, as many as the header.
    pub rows: Vec<Vec<String>>,
    /// Per column: right-aligned numbers.
    pub numeric: Vec<bool>,
}

/// One section of a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    /// Heading.
    pub heading: String,
    /// HTML id of the section (letters, digits and dashes).
    pub id: String,
    /// Paragraphs before the table.
    pub paragraphs: Vec<String>,
    /// The section's table, if any.
    pub table: Option<Table>,
    /// Notes after the table, in small print.
    pub notes: Vec<String>,
}

/// A whole report page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// The small line above the title, e.g. "sancsim comparison".
    pub kicker: String,
    /// Title.
    pub title: String,
    /// The opening paragraph: what was asked and the answer in short.
    pub lead: String,
    /// Facts of the run (seed, trials, …), shown on one line.
    pub facts: Vec<String>,
    /// The sancsim version.
    pub version: String,
    /// The command that reproduces the outputs.
    pub command: String,
    /// Warnings, shown prominently under the header.
    pub warnings: Vec<String>,
    /// The sections, in order; the charts follow them.
    pub sections: Vec<Section>,
}

/// `report.html` of a strategy question.
pub fn page_html(page: &Page, charts: &[Chart]) -> Vec<u8> {
    let e = html::escape;
    let mut h = String::new();
    html::head(&mut h, &format!("{} — sancsim", e(&page.title)), "");
    let _ = writeln!(h, "<header>\n<p class=\"kicker\">{}</p>", e(&page.kicker));
    let _ = writeln!(h, "<h1>{}</h1>", e(&page.title));
    if !page.lead.is_empty() {
        let _ = writeln!(h, "<p class=\"description\" id=\"lead\">{}</p>", e(&page.lead));
    }
    h.push_str("<p class=\"run\">");
    for fact in &page.facts {
        let _ = write!(h, "<span>{}</span>", e(fact));
    }
    h.push_str("</p>\n");
    html::produced(&mut h, &page.version, &page.command);
    for w in &page.warnings {
        let _ = writeln!(
            h,
            "<p class=\"warning\" role=\"alert\"><strong>Warning:</strong> {}</p>",
            e(w)
        );
    }
    h.push_str("</header>\n");
    for s in &page.sections {
        let _ = writeln!(h, "<section id=\"{}\">\n<h2>{}</h2>", e(&s.id), e(&s.heading));
        for p in &s.paragraphs {
            let _ = writeln!(h, "<p>{}</p>", e(p));
        }
        if let Some(t) = &s.table {
            h.push_str("<div class=\"table-wrap\">\n<table>\n<thead>\n<tr>");
            for (c, head) in t.header.iter().enumerate() {
                let class = if t.numeric.get(c) == Some(&true) {
                    " class=\"num\""
                } else {
                    ""
                };
                let _ = write!(h, "<th{class}>{}</th>", e(head));
            }
            h.push_str("</tr>\n</thead>\n<tbody>\n");
            for row in &t.rows {
                h.push_str("<tr>");
                for (c, cell) in row.iter().enumerate() {
                    let class = if t.numeric.get(c) == Some(&true) {
                        " class=\"num\""
                    } else {
                        ""
                    };
                    let _ = write!(h, "<td{class}>{}</td>", e(cell));
                }
                h.push_str("</tr>\n");
            }
            h.push_str("</tbody>\n</table>\n</div>\n");
        }
        for n in &s.notes {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", e(n));
        }
        h.push_str("</section>\n");
    }
    html::figures(&mut h, charts);
    let _ = writeln!(h, "<footer>sancsim {}</footer>", e(&page.version));
    h.push_str("</main>\n</body>\n</html>\n");
    h.into_bytes()
}

/// `report.md` of a strategy question; charts are linked as `<stem>.png`.
pub fn page_markdown(page: &Page, charts: &[Chart]) -> Vec<u8> {
    let e = markdown::escape;
    let mut m = String::new();
    let _ = writeln!(m, "# {}\n", e(&page.title));
    if !page.lead.is_empty() {
        let _ = writeln!(m, "{}\n", markdown::paragraph(&page.lead));
    }
    if !page.facts.is_empty() {
        let facts: Vec<String> = page.facts.iter().map(|f| e(f)).collect();
        let _ = writeln!(m, "{}\n", facts.join(" · "));
    }
    let _ = writeln!(m, "{}\n", markdown::produced_line(&page.version, &page.command));
    for w in &page.warnings {
        let _ = writeln!(m, "**Warning:** {}\n", e(w));
    }
    for s in &page.sections {
        let _ = writeln!(m, "## {}\n", e(&s.heading));
        for p in &s.paragraphs {
            let _ = writeln!(m, "{}\n", markdown::paragraph(p));
        }
        if let Some(t) = &s.table {
            markdown::row(&mut m, &t.header.iter().map(|c| e(c)).collect::<Vec<_>>());
            let numeric: Vec<bool> = (0..t.header.len()).map(|c| t.numeric.get(c) == Some(&true)).collect();
            markdown::rule(&mut m, &numeric);
            for row in &t.rows {
                markdown::row(&mut m, &row.iter().map(|c| e(c)).collect::<Vec<_>>());
            }
            m.push('\n');
        }
        for n in &s.notes {
            let _ = writeln!(m, "{}\n", markdown::paragraph(n));
        }
    }
    if !charts.is_empty() {
        m.push_str("## Charts\n\n");
        for (n, c) in charts.iter().enumerate() {
            let _ = writeln!(
                m,
                "Figure {}. {}\n\n![{}]({}.png)\n",
                n + 1,
                e(&c.title),
                e(&c.title),
                c.stem
            );
        }
    }
    m.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Page {
        Page {
            kicker: "sancsim comparison".into(),
            title: "a <b> & c".into(),
            lead: "- starts like a list".into(),
            facts: vec!["seed 1".into(), "1000 trials".into()],
            version: "0.1.0".into(),
            command: "sancsim compare a.toml b.toml".into(),
            warnings: vec!["careful | pipes".into()],
            sections: vec![Section {
                heading: "Differences".into(),
                id: "differences".into(),
                paragraphs: vec!["Paired.".into()],
                table: Some(Table {
                    header: vec!["milestone".into(), "difference".into()],
                    rows: vec![vec!["x|y".into(), "+1.0 pp".into()]],
                    numeric: vec![false, true],
                }),
                notes: vec!["Tango's interval.".into()],
            }],
        }
    }

    #[test]
    fn html_escapes_and_holds_every_part() {
        let html = String::from_utf8(page_html(&page(), &[])).unwrap();
        assert!(html.contains("<h1>a &lt;b&gt; &amp; c</h1>"), "{html}");
        assert!(html.contains("<section id=\"differences\">"));
        assert!(html.contains("<td class=\"num\">+1.0 pp</td>"));
        assert!(html.contains("Content-Security-Policy"));
        assert!(html.contains("<code>sancsim compare a.toml b.toml</code>"));
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn markdown_escapes_tables_and_paragraphs() {
        let md = String::from_utf8(page_markdown(&page(), &[])).unwrap();
        assert!(md.contains("| x\\|y | +1.0 pp |"), "{md}");
        assert!(md.contains("| --- | ---: |"));
        assert!(md.contains("\\- starts like a list"));
        assert!(md.contains("**Warning:** careful \\| pipes"));
    }
}
