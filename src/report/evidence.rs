//! The cell texts of a report's Evidence section, shared by `report.html`
//! and `report.md`: present only for a run with `[[observe]]` tables,
//! whose summary is the posterior (its trials weighted by how well they
//! agree with the observations) and carries the prior beside it.

use super::comparison::points;
use super::{percent, probability};
use crate::charts::{Chart, EVIDENCE_STEMS};
use crate::evidence::{EvidenceSummary, InputShift};
use crate::results::Summary;

/// Said over the milestone table of a run conditioned on evidence.
pub(super) const POSTERIOR_NOTE: &str = "Probabilities are given the evidence (posterior): each trial counts \
by how well it agrees with the observations. The prior, over all trials, is in the Evidence section.";

/// Most inputs in the table of those that moved.
pub(super) const TOP_INPUTS: usize = 6;

/// Column headings of the observations table.
pub(super) const OBSERVATION_COLUMNS: [&str; 7] = [
    "Observation",
    "What was observed",
    "Kind",
    "Prior agreement (hard: share of trials; soft: mean likelihood)",
    "Its value, prior P10 / P50 / P90",
    "Its value given the evidence, P10 / P50 / P90",
    "Source",
];

/// Which columns of the observations table hold numbers.
pub(super) const OBSERVATION_NUMERIC: [bool; 7] = [false, false, false, true, true, true, false];

/// Column headings of the prior against posterior table.
pub(super) const CHANGE_COLUMNS: [&str; 4] = [
    "Milestone",
    "Prior (all trials), 95% CI",
    "Posterior (given the evidence), 95% CI",
    "Change, percentage points",
];

/// Which columns of the prior against posterior table hold numbers.
pub(super) const CHANGE_NUMERIC: [bool; 4] = [false, true, true, true];

/// Column headings of the table of the inputs that moved most.
pub(super) const INPUT_COLUMNS: [&str; 8] = [
    "Input",
    "Prior P10",
    "Prior P50",
    "Prior P90",
    "Posterior P10",
    "Posterior P50",
    "Posterior P90",
    "Moved",
];

/// Which columns of the inputs table hold numbers.
pub(super) const INPUT_NUMERIC: [bool; 8] = [false, true, true, true, true, true, true, true];

/// What the prior against posterior table shows, printed under it.
pub(super) const CHANGE_NOTE: &str = "Probability of reaching each milestone by its deadline before the evidence \
(all trials, equally weighted) and given it (the trials weighted by how well they agree with the observations), each \
with its 95% interval in percent; the posterior's interval counts its effective sample size. Change: posterior \
minus prior.";

/// The effective sample size as written: whole trials, a decimal below 100.
fn ess(v: f64) -> String {
    if !v.is_finite() {
        "n/a".to_string()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// How many observations are hard.
fn hard_count(ev: &EvidenceSummary) -> usize {
    ev.observations.iter().filter(|o| o.kind == "hard").count()
}

/// The section's opening sentence: how many observations condition how
/// many trials, how many trials pass the hard ones, and the effective
/// sample size.
pub(super) fn sentence(ev: &EvidenceSummary) -> String {
    let n = ev.observations.len();
    let observations = if n == 1 {
        "1 observation conditions".to_string()
    } else {
        format!("{n} observations condition")
    };
    let hard = hard_count(ev);
    let kept = match hard {
        0 => "none is hard, so every trial is kept, weighted by the soft ones".to_string(),
        1 if n == 1 => format!("{} ({}) pass it", ev.accepted_trials, percent(ev.acceptance_rate)),
        1 => format!(
            "{} ({}) pass the hard one",
            ev.accepted_trials,
            percent(ev.acceptance_rate)
        ),
        _ => format!(
            "{} ({}) pass the hard ones",
            ev.accepted_trials,
            percent(ev.acceptance_rate)
        ),
    };
    let sep = if hard == 0 { ";" } else { ":" };
    format!(
        "{observations} the {} trials{sep} {kept}; the effective sample size is {} (Kish).",
        ev.trials,
        ess(ev.effective_sample_size)
    )
}

/// What hard and soft observations do, printed under their table.
pub(super) fn observation_note(ev: &EvidenceSummary) -> String {
    let mut note = "Hard observations keep only the trials that agree with them; soft ones weight each trial by \
                    how likely the observation is given it (1 where it agrees fully)."
        .to_string();
    note.push_str(&format!(
        " Kish's effective sample size (Σw)² / Σw² is {}; the scenario asks for at least {} \
         (scenario.min_effective_sample_size).",
        ess(ev.effective_sample_size),
        ev.min_effective_sample_size
    ));
    note
}

/// The rows of the observations table, in file order.
pub(super) fn observation_rows(ev: &EvidenceSummary) -> Vec<[String; 7]> {
    ev.observations
        .iter()
        .map(|o| {
            let name = match o.description.as_deref().filter(|d| !d.trim().is_empty()) {
                Some(d) => format!("{}: {d}", o.name),
                None => o.name.clone(),
            };
            [
                name,
                o.observed.clone(),
                o.kind.clone(),
                percent(o.prior_agreement),
                quantiles(o.prior_quantiles),
                quantiles(o.posterior_quantiles),
                o.source.clone().unwrap_or_else(|| "—".to_string()),
            ]
        })
        .collect()
}

/// P10 / P50 / P90 of an observed value; a dash for an event or an input
/// (whose prior and posterior are in the inputs table).
pub(super) fn quantiles(q: Option<[f64; 3]>) -> String {
    q.map_or_else(
        || "—".to_string(),
        |[a, b, c]| format!("{} / {} / {}", value(a), value(b), value(c)),
    )
}

/// The rows of the prior against posterior table, one per milestone.
pub(super) fn change_rows(summary: &Summary) -> Vec<[String; 4]> {
    summary
        .milestones
        .iter()
        .map(|m| {
            let show = |e: &Option<crate::results::Estimate>| {
                e.map_or_else(
                    || "—".to_string(),
                    |e| probability(e.probability, e.ci95_low, e.ci95_high),
                )
            };
            let change = match (m.prior, m.posterior) {
                (Some(a), Some(b)) => points(b.probability - a.probability),
                _ => "—".to_string(),
            };
            [m.name.clone(), show(&m.prior), show(&m.posterior), change]
        })
        .collect()
}

/// The inputs the table shows: those that moved, the one that moved most
/// first, at most [`TOP_INPUTS`].
pub(super) fn moved_inputs(ev: &EvidenceSummary) -> Vec<&InputShift> {
    ev.inputs
        .iter()
        .filter(|i| i.moved.is_finite() && i.moved > 0.0)
        .take(TOP_INPUTS)
        .collect()
}

/// A value of an input: three significant digits, in scientific notation
/// from a million up and below a thousandth (`3.30e24`, as targets are).
pub(super) fn value(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{v:.2e}");
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    let scale = 10f64.powi(magnitude - 2);
    let rounded = (v / scale).round() * scale;
    // Rounding up may add a digit (999.6 → 1000): write it as it now is.
    let decimals = if rounded.abs() >= 10f64.powi(magnitude + 1) {
        decimals.saturating_sub(1)
    } else {
        decimals
    };
    format!("{rounded:.decimals$}")
}

/// The rows of the table of the inputs that moved most.
pub(super) fn input_rows(ev: &EvidenceSummary) -> Vec<[String; 8]> {
    moved_inputs(ev)
        .into_iter()
        .map(|i| {
            [
                i.key.clone(),
                value(i.prior[0]),
                value(i.prior[1]),
                value(i.prior[2]),
                value(i.posterior[0]),
                value(i.posterior[1]),
                value(i.posterior[2]),
                format!("{:.2}", i.moved),
            ]
        })
        .collect()
}

/// What the inputs table shows, printed under it; or, where no input
/// moved, the sentence that says so.
pub(super) fn input_note(ev: &EvidenceSummary) -> String {
    let shown = moved_inputs(ev).len();
    if shown == 0 {
        return format!(
            "The evidence moved no input (of {} with a distribution).",
            ev.inputs.len()
        );
    }
    let bins = ev.inputs.first().map_or(0, |i| i.prior_shares.len());
    let inputs = if shown == 1 {
        "the input".to_string()
    } else {
        format!("the {shown} inputs")
    };
    format!(
        "Shown: {inputs} the evidence moved most, of {} with a distribution. Moved: the largest gap between the \
         prior's and the posterior's cumulative shares over {bins} equal bins (a Kolmogorov–Smirnov distance, 0 to \
         1). P10, P50 and P90 are read from the same bins, linear within a bin.",
        ev.inputs.len()
    )
}

/// Whether a chart belongs to the Evidence section.
pub(super) fn is_evidence_chart(chart: &Chart) -> bool {
    EVIDENCE_STEMS.contains(&chart.stem)
}

/// The charts split into the Evidence section's and the others, each in
/// their order; without evidence every chart is among the others.
pub(super) fn split_charts<'a>(summary: &Summary, charts: &'a [Chart]) -> (Vec<&'a Chart>, Vec<&'a Chart>) {
    if summary.evidence.is_none() {
        return (Vec::new(), charts.iter().collect());
    }
    charts.iter().partition(|c| is_evidence_chart(c))
}

/// What a share's counts are of, written after "of": `10000`, or `6698
/// effective` with evidence ([`Summary::counted_trials`]).
pub(super) fn counted_text(summary: &Summary) -> String {
    match &summary.evidence {
        Some(_) => format!("{:.0} effective", summary.counted_trials()),
        None => summary.trials.to_string(),
    }
}

/// Said after the counts of a run conditioned on evidence.
pub(super) const WEIGHTED_NOTE: &str = "Given the evidence, counts are in effective trials: each trial counts by its \
weight, and a count is its share of the posterior times the effective sample size (Kish), rounded (at least 1 when \
any weight is behind it).";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::ObservationResult;

    fn observation(name: &str, kind: &str) -> ObservationResult {
        ObservationResult {
            name: name.into(),
            quantity: "delivered_chips".into(),
            kind: kind.into(),
            observed: "x".into(),
            description: None,
            source: None,
            prior_agreement: 0.5,
            prior_quantiles: None,
            posterior_quantiles: None,
        }
    }

    fn summary(kinds: &[&str]) -> EvidenceSummary {
        EvidenceSummary {
            trials: 1000,
            accepted_trials: 400,
            acceptance_rate: 0.4,
            posterior_weight: 400.0,
            effective_sample_size: 312.4,
            min_effective_sample_size: 100,
            observations: kinds
                .iter()
                .enumerate()
                .map(|(i, k)| observation(&format!("o{i}"), k))
                .collect(),
            inputs: Vec::new(),
        }
    }

    #[test]
    fn the_sentence_says_what_the_hard_observations_kept() {
        assert_eq!(
            sentence(&summary(&["hard", "soft"])),
            "2 observations condition the 1000 trials: 400 (40.0%) pass the hard one; the effective sample size \
             is 312 (Kish)."
        );
        assert_eq!(
            sentence(&summary(&["hard", "hard"])),
            "2 observations condition the 1000 trials: 400 (40.0%) pass the hard ones; the effective sample size \
             is 312 (Kish)."
        );
        assert_eq!(
            sentence(&summary(&["hard"])),
            "1 observation conditions the 1000 trials: 400 (40.0%) pass it; the effective sample size is 312 (Kish)."
        );
        let mut soft = summary(&["soft"]);
        soft.effective_sample_size = 87.25;
        assert_eq!(
            sentence(&soft),
            "1 observation conditions the 1000 trials; none is hard, so every trial is kept, weighted by the soft \
             ones; the effective sample size is 87.2 (Kish)."
        );
        // The note gives one size, the effective one.
        assert!(observation_note(&soft).contains("effective sample size (Σw)² / Σw² is 87.2"));
        assert!(!observation_note(&soft).contains("posterior weight"));
    }

    #[test]
    fn input_values_have_three_significant_digits() {
        assert_eq!(value(22_403.19), "22400");
        assert_eq!(value(0.164_788), "0.165");
        assert_eq!(value(1.060_05), "1.06");
        assert_eq!(value(1.1), "1.10");
        assert_eq!(value(999.6), "1000");
        assert_eq!(value(0.099_96), "0.100");
        assert_eq!(value(-42.42), "-42.4");
        assert_eq!(value(0.0), "0");
        assert_eq!(value(3.3e24), "3.30e24");
        assert_eq!(value(0.000_25), "2.50e-4");
        assert_eq!(value(f64::NAN), "n/a");
    }

    #[test]
    fn only_inputs_that_moved_are_listed_at_most_six() {
        let shift = |key: &str, moved: f64| InputShift {
            key: key.into(),
            moved,
            prior: [1.0, 2.0, 3.0],
            posterior: [1.5, 2.5, 3.5],
            range: [0.0, 4.0],
            prior_shares: vec![0.025; 40],
            posterior_shares: vec![0.025; 40],
        };
        let mut ev = summary(&["hard"]);
        ev.inputs = (0..9)
            .map(|i| shift(&format!("k{i}"), 0.5 - 0.05 * f64::from(i)))
            .collect();
        ev.inputs.push(shift("still", 0.0));
        let rows = input_rows(&ev);
        assert_eq!(rows.len(), TOP_INPUTS);
        assert_eq!(rows[0][0], "k0");
        assert_eq!(
            rows[0][1..].to_vec(),
            ["1.00", "2.00", "3.00", "1.50", "2.50", "3.50", "0.50"]
        );
        assert!(input_note(&ev).starts_with("Shown: the 6 inputs the evidence moved most, of 10 with a"));
        ev.inputs.truncate(1);
        assert!(input_note(&ev).starts_with("Shown: the input the evidence moved most, of 1 with a"));
        ev.inputs[0].moved = 0.0;
        assert!(input_rows(&ev).is_empty());
        assert_eq!(
            input_note(&ev),
            "The evidence moved no input (of 1 with a distribution)."
        );
    }
}
