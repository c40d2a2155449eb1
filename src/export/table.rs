//! The short table printed after a run. (A batch's `index.md` is a report:
//! [`crate::report::index_markdown`].)

use crate::report::{milestone_title, probability};
use crate::results::Summary;

/// Milestone probabilities as an aligned text table: the probability in
/// percent with its 95% interval, as in the reports, and the milestone's
/// description (where the scenario writes one) last, so long descriptions
/// do not push the numbers apart.
pub fn milestone_table(summary: &Summary) -> String {
    let mut rows = vec![[
        "milestone".to_string(),
        "target FLOP".to_string(),
        "deadline".to_string(),
        "P(reached) [95% CI]".to_string(),
        "median quarter".to_string(),
        "description".to_string(),
    ]];
    for m in &summary.milestones {
        let title = milestone_title(m);
        rows.push([
            m.name.clone(),
            format!("{:.2e}", m.target_flop),
            m.deadline.clone(),
            probability(m.probability, m.ci95_low, m.ci95_high),
            m.quarter_p50.clone().unwrap_or_else(|| "never".to_string()),
            if title == m.name {
                String::new()
            } else {
                title.replace('\n', " ")
            },
        ]);
    }
    format!(
        "{} — {} trials, seed {}\n{}",
        summary.scenario,
        summary.trials,
        summary.seed,
        align(&rows)
    )
}

/// Rows of cells as left-aligned columns two spaces apart, each line
/// without trailing spaces.
pub fn align<R: AsRef<[String]>>(rows: &[R]) -> String {
    let columns = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .map(|r| r.as_ref().get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .as_ref()
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
