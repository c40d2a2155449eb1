//! The short table printed after a run. (A batch's `index.md` is a report:
//! [`crate::report::index_markdown`].)

use crate::results::Summary;

/// Milestone probabilities as an aligned text table.
pub fn milestone_table(summary: &Summary) -> String {
    let mut rows = vec![[
        "milestone".to_string(),
        "target FLOP".to_string(),
        "deadline".to_string(),
        "P(reached)".to_string(),
        "95% CI".to_string(),
        "median quarter".to_string(),
    ]];
    for m in &summary.milestones {
        rows.push([
            m.name.clone(),
            format!("{:.2e}", m.target_flop),
            m.deadline.clone(),
            format!("{:.3}", m.probability),
            format!("[{:.3}, {:.3}]", m.ci95_low, m.ci95_high),
            m.quarter_p50.clone().unwrap_or_else(|| "never".to_string()),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "{} — {} trials, seed {}\n",
        summary.scenario, summary.trials, summary.seed
    );
    for r in &rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(s, w)| format!("{s:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
