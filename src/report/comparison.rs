//! The batch index's table, format-agnostic: one row per milestone name, one
//! column per scenario with the reference first, each cell the probability
//! of reaching the milestone by its deadline with its 95% interval and, off
//! the reference, the difference from the reference in percentage points
//! with its 95% interval ([`super::difference`]). `index.html` and
//! `index.md` render the same cells.

use super::difference::{Difference, newcombe_real};
use super::{percent, scientific};
use crate::results::{MilestoneResult, Summary};

/// What a batch index shows.
#[derive(Debug, Clone, Copy)]
pub struct BatchIndex<'a> {
    /// Scenarios that ran, in batch order: (output folder, summary).
    pub done: &'a [(String, Summary)],
    /// Position in `done` of the reference scenario; `None` when the
    /// scenario named as the reference failed (no differences are shown).
    pub reference: Option<usize>,
    /// Folder name of the reference when it was named with `--reference`.
    pub reference_named: Option<&'a str>,
    /// Scenarios that failed: (file, message).
    pub failed: &'a [(String, String)],
    /// The command that reproduces the batch ([`super::batch_command`]).
    pub command: &'a str,
}

/// How the cells are computed, printed under the table.
pub(super) const METHOD_NOTE: &str = "Each cell: the share of trials that reach the milestone by its deadline, \
with its 95% Clopper–Pearson interval. Off the reference, the difference from the reference in percentage points \
(pp), with its 95% interval by Newcombe's hybrid score method (Newcombe 1998, method 10: built from each \
scenario's Wilson score interval); differences whose interval leaves out 0 are in bold. The method treats the two \
scenarios' trials as independent samples. Scenarios of a batch share the seed, and each uncertain element draws \
from a stream of (seed, trial, key path), so their trials are paired and, for variants that share most \
elements, positively correlated: a paired interval would be narrower, but needs joint counts that the results \
do not record, so this interval errs on the wide side.";

/// One scenario's column heading.
pub(super) struct Column<'a> {
    /// Output folder (the link goes to `<folder>/report.html`).
    pub folder: &'a str,
    /// Scenario name.
    pub name: &'a str,
    /// Trials and seed, e.g. `10000 trials, seed 7`, after the folder
    /// where it is not the scenario's name.
    pub facts: String,
    /// Whether this is the reference.
    pub reference: bool,
}

/// A difference as text.
pub(super) struct DifferenceCell {
    /// `+3.2 pp`.
    pub estimate: String,
    /// `+1.8 to +4.6`.
    pub interval: String,
    /// The interval leaves out 0.
    pub clear: bool,
}

/// One scenario's cell of one milestone.
pub(super) struct Cell {
    /// `56.5%`.
    pub probability: String,
    /// `55.5% – 57.5%`.
    pub interval: String,
    /// The difference from the reference, off the reference.
    pub difference: Option<DifferenceCell>,
    /// This scenario's target and deadline, when they are not the row's.
    pub own_definition: Option<String>,
}

/// One milestone.
pub(super) struct Row {
    /// The milestone's description and id (`GPT-4 class (gpt4_class)`), or
    /// its id alone.
    pub name: String,
    /// `2.10e25 FLOP by 2026Q4` (from the reference, else the first
    /// scenario that has it).
    pub definition: String,
    /// Cells in column order; `None` where the scenario lacks the milestone.
    pub cells: Vec<Option<Cell>>,
}

/// The table.
pub(super) struct Table<'a> {
    /// Columns, the reference first, the others in batch order.
    pub columns: Vec<Column<'a>>,
    /// Rows, milestones in first-seen order.
    pub rows: Vec<Row>,
}

/// A difference in percentage points, one decimal, signed: `+3.2`, `−0.4`
/// (with a minus sign), `0.0`.
pub(super) fn points(d: f64) -> String {
    let s = format!("{:.1}", d * 100.0);
    match s.strip_prefix('-') {
        Some("0.0") => "0.0".to_string(),
        Some(rest) => format!("−{rest}"),
        None if s == "0.0" => s,
        None => format!("+{s}"),
    }
}

fn definition(m: &MilestoneResult) -> String {
    let (mantissa, exponent) = scientific(m.target_flop);
    format!("{mantissa}e{exponent} FLOP by {}", m.deadline)
}

fn difference_cell(d: Difference) -> DifferenceCell {
    DifferenceCell {
        estimate: format!("{} pp", points(d.estimate)),
        interval: format!("{} to {}", points(d.low), points(d.high)),
        clear: d.excludes_zero(),
    }
}

/// Builds the table of `index`.
pub(super) fn table<'a>(index: &BatchIndex<'a>) -> Table<'a> {
    let mut order: Vec<usize> = (0..index.done.len()).collect();
    if let Some(r) = index.reference.filter(|&r| r < index.done.len()) {
        order.retain(|&i| i != r);
        order.insert(0, r);
    }
    let reference = index.reference.and_then(|r| index.done.get(r)).map(|(_, s)| s);
    let columns = order
        .iter()
        .map(|&i| {
            let (folder, s) = &index.done[i];
            Column {
                folder,
                name: &s.scenario,
                facts: format!("{}{} trials, seed {}", folder_note(folder, s, " · "), s.trials, s.seed),
                reference: Some(i) == index.reference,
            }
        })
        .collect();
    let rows = crate::export::csv::milestone_names(index.done)
        .into_iter()
        .map(|name| {
            let find = |s: &Summary| s.milestones.iter().find(|m| m.name == name).cloned();
            let base = reference
                .and_then(find)
                .or_else(|| index.done.iter().find_map(|(_, s)| find(s)));
            let row_definition = base.as_ref().map(definition).unwrap_or_default();
            // Successes and trials of the reference: for a posterior, its
            // share times its effective sample size (docs/MODEL.md section 11).
            let reference_m = reference.and_then(|s| find(s).map(|m| s.milestone_counts(&m)));
            let cells = order
                .iter()
                .map(|&i| {
                    let s = &index.done[i].1;
                    let m = find(s)?;
                    let own = definition(&m);
                    let difference = match &reference_m {
                        Some((xr, nr)) if Some(i) != index.reference => {
                            let (x, n) = s.milestone_counts(&m);
                            Some(difference_cell(newcombe_real(x, n, *xr, *nr)))
                        }
                        _ => None,
                    };
                    Some(Cell {
                        probability: percent(m.probability),
                        interval: format!("{} – {}", percent(m.ci95_low), percent(m.ci95_high)),
                        difference,
                        own_definition: (own != row_definition).then_some(own),
                    })
                })
                .collect();
            // The milestone's description where the scenario writes one, with its id.
            let title = base
                .as_ref()
                .map(super::milestone_title)
                .unwrap_or(&name)
                .replace('\n', " ");
            Row {
                name: if title == name {
                    name
                } else {
                    format!("{title} ({name})")
                },
                definition: row_definition,
                cells,
            }
        })
        .collect();
    Table { columns, rows }
}

/// `folder` followed by `separator` where it is not the scenario's name
/// (a file whose stem differs from its name, or a stem made unique), else
/// nothing.
fn folder_note(folder: &str, s: &Summary, separator: &str) -> String {
    if folder == s.scenario {
        String::new()
    } else {
        format!("{folder}{separator}")
    }
}

/// The sentence naming the reference, under the heading.
/// The index's opening sentences (plain text, to be escaped by the
/// renderer): what the table shows, for how many scenarios, against which
/// reference.
pub(super) fn intro(index: &BatchIndex) -> String {
    format!(
        "Probability of reaching each milestone by its deadline, {} scenario{}. {}",
        index.done.len(),
        if index.done.len() == 1 { "" } else { "s" },
        reference_sentence(index)
    )
}

/// The sancsim version that produced the batch's results.
pub(super) fn version<'a>(index: &BatchIndex<'a>) -> &'a str {
    index
        .done
        .first()
        .map(|(_, s)| s.sancsim_version.as_str())
        .unwrap_or("")
}

pub(super) fn reference_sentence(index: &BatchIndex) -> String {
    let name = |folder: &str, s: &Summary| match folder_note(folder, s, "") {
        f if f.is_empty() => s.scenario.clone(),
        f => format!("{} ({f})", s.scenario),
    };
    match (index.reference.and_then(|r| index.done.get(r)), index.reference_named) {
        (Some((folder, s)), Some(_)) => format!(
            "Reference: {}, named with --reference; the other scenarios show their difference from it.",
            name(folder, s)
        ),
        (Some((folder, s)), None) => format!(
            "Reference: {}, the first scenario of the batch; the other scenarios show their difference from it.",
            name(folder, s)
        ),
        (None, Some(named)) => format!("The reference scenario {named} failed: no differences are shown."),
        (None, None) => "No reference scenario: no differences are shown.".to_string(),
    }
}

/// `folder` as a relative URL path segment: every byte outside the
/// unreserved set of RFC 3986 percent-encoded.
pub(super) fn url_segment(folder: &str) -> String {
    let mut out = String::with_capacity(folder.len());
    for b in folder.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_signed_with_a_real_minus() {
        assert_eq!(points(0.0321), "+3.2");
        assert_eq!(points(-0.004), "−0.4");
        assert_eq!(points(-0.0001), "0.0");
        assert_eq!(points(0.0), "0.0");
        assert_eq!(points(-1.0), "−100.0");
    }

    #[test]
    fn folders_become_safe_links() {
        assert_eq!(url_segment("a_b-c.d"), "a_b-c.d");
        assert_eq!(url_segment("a b#?%\"<"), "a%20b%23%3F%25%22%3C");
        assert_eq!(url_segment("é"), "%C3%A9");
    }
}
