//! The short table printed after a run. (A batch's `index.md` is a report:
//! [`crate::report::index_markdown`].)

use crate::report::{milestone_title, percent, probability};
use crate::results::Summary;

/// Milestone probabilities as an aligned text table: the probability in
/// percent with its 95% interval, as in the reports, and the milestone's
/// description (where the scenario writes one) last, so long descriptions
/// do not push the numbers apart.
pub fn milestone_table(summary: &Summary) -> String {
    if summary.evidence.is_some() {
        return evidence_table(summary);
    }
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

/// [`milestone_table`] of a run with observations: the prior and the
/// posterior side by side, and a line on how the evidence acted.
fn evidence_table(summary: &Summary) -> String {
    let mut rows = vec![[
        "milestone".to_string(),
        "target FLOP".to_string(),
        "deadline".to_string(),
        "prior [95% CI]".to_string(),
        "given the evidence [95% CI]".to_string(),
        "median quarter".to_string(),
    ]];
    for m in &summary.milestones {
        let prior = m
            .prior
            .map(|p| probability(p.probability, p.ci95_low, p.ci95_high))
            .unwrap_or_default();
        rows.push([
            m.name.clone(),
            format!("{:.2e}", m.target_flop),
            m.deadline.clone(),
            prior,
            probability(m.probability, m.ci95_low, m.ci95_high),
            m.quarter_p50.clone().unwrap_or_else(|| "never".to_string()),
        ]);
    }
    let evidence = summary.evidence.as_ref().map(evidence_line).unwrap_or_default();
    format!(
        "{} — {} trials, seed {}\n{}{evidence}",
        summary.scenario,
        summary.trials,
        summary.seed,
        align(&rows)
    )
}

/// One line on the observations: how many trials pass the hard ones and
/// the effective sample size.
pub fn evidence_line(e: &crate::evidence::EvidenceSummary) -> String {
    let hard = e.observations.iter().filter(|o| o.kind == "hard").count();
    let soft = e.observations.len() - hard;
    let passed = if hard > 0 {
        format!(
            "{} of {} trials ({}) agree with the {hard} hard observation{}",
            e.accepted_trials,
            e.trials,
            percent(e.acceptance_rate),
            if hard == 1 { "" } else { "s" }
        )
    } else {
        format!("{} trials", e.trials)
    };
    let weighted = if soft > 0 {
        format!(", weighted by {soft} soft one{}", if soft == 1 { "" } else { "s" })
    } else {
        String::new()
    };
    format!(
        "evidence: {passed}{weighted}; effective sample size {:.0}\n",
        e.effective_sample_size
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

/// The lines printed under the milestone table: when the training run
/// starts, why each milestone is missed (shares of all trials, in the
/// order the rule tests the reasons) and the executive summary, wrapped.
pub fn explanation(summary: &Summary) -> String {
    let ts = &summary.training_start;
    let last = summary.quarters.last().map(String::as_str).unwrap_or("the horizon");
    let median = if ts.quarter_p50 == crate::results::NEVER {
        "not started in half of the trials or more".to_string()
    } else {
        format!("started by {} in half of the trials", ts.quarter_p50)
    };
    let mut out = format!(
        "training run: {median} (P10 {}, P90 {}); never started by {last}: {}\n",
        ts.quarter_p10,
        ts.quarter_p90,
        percent(ts.never_started)
    );
    if let Some(line) = crate::report::runs_line(summary) {
        out.push_str(&line);
        out.push('\n');
    }
    for line in crate::report::supplier_lines(summary) {
        out.push_str(&line);
        out.push('\n');
    }
    let missed: Vec<_> = summary.milestones.iter().filter(|m| m.missed.total() > 0).collect();
    if !missed.is_empty() {
        out.push_str(
            if summary.evidence.is_some() {
                "missed by the deadline, % of the posterior (never started / started too late / cluster below maximum / low MFU × goodput):\n"
            } else {
                "missed by the deadline, % of trials (never started / started too late / cluster below maximum / low MFU × goodput):\n"
            },
        );
        let width = missed.iter().map(|m| m.name.chars().count()).max().unwrap_or(0);
        for m in missed {
            let shares: Vec<String> = m
                .missed
                .counts()
                .iter()
                .map(|&c| percent(c as f64 / summary.counted_trials()))
                .collect();
            out.push_str(&format!("  {:<width$}  {}\n", m.name, shares.join(" / ")));
        }
    }
    out.push('\n');
    out.push_str(&wrap(&summary.executive_summary, WRAP));
    out
}

/// Width the executive summary is wrapped to on the console.
const WRAP: usize = 100;

/// `text` wrapped at spaces into lines of at most `width` characters (a
/// longer word gets a line of its own), each ending in a line break.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_every_word_and_the_width() {
        let text = "In 37.5% of futures the training run never starts by 2027Q4: it needs 4,096 chips.";
        let wrapped = wrap(text, 30);
        assert!(wrapped.lines().all(|l| l.chars().count() <= 30), "{wrapped}");
        assert_eq!(wrapped.split_whitespace().collect::<Vec<_>>().join(" "), text);
        assert_eq!(wrap("a-very-long-word b", 5), "a-very-long-word\nb\n");
        assert_eq!(wrap("", 5), "");
    }
}
