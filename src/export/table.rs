//! The short table printed after a run.

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

/// `index.md` of a batch: probabilities side by side, the comparison chart,
/// and the scenarios that failed.
pub fn index_markdown(summaries: &[(String, Summary)], failed: &[String], chart: &crate::charts::Chart) -> Vec<u8> {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from(
        "# Scenario comparison\n\nProbability of reaching each milestone by its deadline, in percent, with its 95% interval.\n\n| milestone |",
    );
    for (folder, s) in summaries {
        out.push_str(&format!(" [{}]({folder}/report.html) |", cell(&s.scenario)));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(summaries.len()));
    out.push('\n');
    for name in super::csv::milestone_names(summaries) {
        // The first description any scenario gives this milestone, and its id.
        let title = summaries
            .iter()
            .flat_map(|(_, s)| &s.milestones)
            .filter(|m| m.name == name)
            .map(milestone_title)
            .find(|t| *t != name);
        match title {
            Some(t) => out.push_str(&format!("| {} (`{}`) |", cell(&t.replace('\n', " ")), cell(&name))),
            None => out.push_str(&format!("| {} |", cell(&name))),
        }
        for (_, s) in summaries {
            match s.milestones.iter().find(|m| m.name == name) {
                Some(m) => out.push_str(&format!(" {} |", probability(m.probability, m.ci95_low, m.ci95_high))),
                None => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }
    out.push_str(&format!("\n![{}]({}.png)\n", chart.title, chart.stem));
    if !failed.is_empty() {
        out.push_str("\n## Scenarios that failed\n\n");
        for f in failed {
            out.push_str(&format!("- {}\n", f.replace('\n', "\n  ")));
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.into_bytes()
}
