//! Expectations (`[[expect]]`) and baselines: what a CI job asserts about a
//! scenario's results.
//!
//! * An expectation fails only when the whole 95% Clopper–Pearson interval
//!   lies outside its bound, so Monte Carlo noise alone cannot fail a check
//!   whose bound the true probability meets (up to the interval's 2.5%
//!   one-sided error, and not at all with a fixed seed).
//! * A baseline comparison reports each milestone's difference in
//!   percentage points with a 95% interval, and flags a milestone whose
//!   probability moved by more than its noise. When the baseline's folder
//!   holds its scenario (`scenario.toml`) and seed, trials and version
//!   match, both scenarios are re-run on the same trials and the difference
//!   is paired (Tango's interval; flagged when its 99% interval excludes 0);
//!   otherwise it is unpaired (Newcombe's interval; flagged by a two-sided
//!   two-proportion z-test with pooled variance at level 0.01, |z| > 2.5758).

use serde::Serialize;

use crate::export::table::align;

use crate::model::Model;
use crate::results::Summary;

/// Level of the baseline two-proportion test.
pub const BASELINE_ALPHA: f64 = 0.01;
/// Two-sided critical value for [`BASELINE_ALPHA`].
pub const BASELINE_Z: f64 = 2.575_829_303_548_901;

/// The verdict on one expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectationResult {
    /// Milestone name.
    pub milestone: String,
    /// Lower bound, if any.
    pub min_probability: Option<f64>,
    /// Upper bound, if any.
    pub max_probability: Option<f64>,
    /// Estimated probability.
    pub probability: f64,
    /// 95% interval.
    pub ci95: (f64, f64),
    /// Failed: the whole interval lies outside a bound.
    pub failed: bool,
    /// In words.
    pub verdict: String,
}

/// Evaluates every expectation of `model` against `summary`.
pub fn evaluate(model: &Model, summary: &Summary) -> Vec<ExpectationResult> {
    model
        .expectations
        .iter()
        .filter_map(|e| {
            let m = summary.milestones.get(e.milestone)?;
            let (lo, hi) = (m.ci95_low, m.ci95_high);
            let below = e.min_probability.is_some_and(|min| hi < min);
            let above = e.max_probability.is_some_and(|max| lo > max);
            let outside_point = e.min_probability.is_some_and(|min| m.probability < min)
                || e.max_probability.is_some_and(|max| m.probability > max);
            let verdict = if below {
                "FAILED: whole 95% CI below min".to_string()
            } else if above {
                "FAILED: whole 95% CI above max".to_string()
            } else if outside_point {
                "ok (estimate outside the bound, but the 95% CI overlaps it: run more trials)".to_string()
            } else {
                "ok".to_string()
            };
            Some(ExpectationResult {
                milestone: m.name.clone(),
                min_probability: e.min_probability,
                max_probability: e.max_probability,
                probability: m.probability,
                ci95: (lo, hi),
                failed: below || above,
                verdict,
            })
        })
        .collect()
}

/// The expectations as an aligned text table.
pub fn expectation_table(results: &[ExpectationResult]) -> String {
    let bound = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
    let mut rows = vec![["milestone", "expected", "got", "95% CI", "verdict"].map(String::from)];
    for r in results {
        rows.push([
            r.milestone.clone(),
            format!("[{}, {}]", bound(r.min_probability), bound(r.max_probability)),
            format!("{:.3}", r.probability),
            format!("[{:.3}, {:.3}]", r.ci95.0, r.ci95.1),
            r.verdict.clone(),
        ]);
    }
    align(&rows)
}

/// How one milestone compares with a baseline run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MilestoneChange {
    /// Milestone name.
    pub milestone: String,
    /// Probability in the baseline (absent: new milestone).
    pub baseline: Option<f64>,
    /// Probability now (absent: removed milestone).
    pub current: Option<f64>,
    /// Two-proportion z statistic.
    pub z: Option<f64>,
    /// Moved by more than its noise at level [`BASELINE_ALPHA`].
    pub flagged: bool,
    /// Now minus baseline (a fraction; absent for a new or removed milestone).
    pub difference: Option<f64>,
    /// Lower end of its 95% interval (paired or not, as `method` says).
    pub difference_low: Option<f64>,
    /// Upper end.
    pub difference_high: Option<f64>,
}

/// The comparison of a run with a baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineComparison {
    /// Same seed, scenario, version and trials: results must be identical.
    pub same_run: bool,
    /// With `same_run`: whether summary.json is byte-identical.
    pub identical: Option<bool>,
    /// How the differences were computed: `paired` (both scenarios re-run
    /// on the same trials, Tango's interval), `unpaired` (Newcombe's), or
    /// `identical` (the same run again, identical results: every difference 0).
    pub method: String,
    /// Per milestone, by name, current file order then removed ones.
    pub milestones: Vec<MilestoneChange>,
}

/// Compares `current` with `baseline`. `identical` says whether the two
/// summaries serialise to the same bytes.
pub fn compare(baseline: &Summary, current: &Summary, identical: bool) -> BaselineComparison {
    let same_run = baseline.seed == current.seed
        && baseline.scenario_hash == current.scenario_hash
        && baseline.sancsim_version == current.sancsim_version
        && baseline.trials == current.trials;
    let mut milestones = Vec::new();
    for m in &current.milestones {
        let old = baseline.milestones.iter().find(|b| b.name == m.name);
        let (x, n) = current.milestone_counts(m);
        let z = old.map(|b| {
            let (xb, nb) = baseline.milestone_counts(b);
            two_proportion_z_real(xb, nb, x, n)
        });
        let d = old.map(|b| {
            let (xb, nb) = baseline.milestone_counts(b);
            crate::report::difference::newcombe_real(x, n, xb, nb)
        });
        milestones.push(MilestoneChange {
            milestone: m.name.clone(),
            baseline: old.map(|b| b.probability),
            current: Some(m.probability),
            z,
            flagged: old.is_none() || z.is_some_and(|z| z.abs() > BASELINE_Z),
            difference: d.map(|d| d.estimate),
            difference_low: d.map(|d| d.low),
            difference_high: d.map(|d| d.high),
        });
    }
    for b in &baseline.milestones {
        if !current.milestones.iter().any(|m| m.name == b.name) {
            milestones.push(MilestoneChange {
                milestone: b.name.clone(),
                baseline: Some(b.probability),
                current: None,
                z: None,
                flagged: true,
                difference: None,
                difference_low: None,
                difference_high: None,
            });
        }
    }
    if same_run && identical {
        // The same trials gave the same results: every difference is
        // exactly 0, as a paired comparison of the two runs would say.
        for m in milestones.iter_mut().filter(|m| m.difference.is_some()) {
            (m.difference, m.difference_low, m.difference_high) = (Some(0.0), Some(0.0), Some(0.0));
        }
    }
    BaselineComparison {
        same_run,
        identical: same_run.then_some(identical),
        method: if same_run && identical { "identical" } else { "unpaired" }.into(),
        milestones,
    }
}

/// Replaces the unpaired differences by paired ones: `pairs[i]` holds the
/// paired counts (baseline as base) of the comparison's milestone `i`, if
/// both runs have it. The flag becomes: the paired interval at level
/// [`BASELINE_ALPHA`] excludes 0.
pub fn pair(comparison: &mut BaselineComparison, pairs: &[Option<crate::analysis::paired::PairedCounts>]) {
    use crate::analysis::paired::paired_difference;
    comparison.method = "paired".into();
    for (m, counts) in comparison.milestones.iter_mut().zip(pairs) {
        let Some(counts) = counts else { continue };
        let d95 = paired_difference(counts, 0.05);
        let d99 = paired_difference(counts, BASELINE_ALPHA);
        m.difference = Some(d95.estimate);
        m.difference_low = Some(d95.low);
        m.difference_high = Some(d95.high);
        m.flagged = d99.low > 0.0 || d99.high < 0.0;
    }
}

/// z statistic of the difference between x2/n2 and x1/n1 with pooled variance;
/// 0 when both proportions are 0 or both are 1.
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> f64 {
    two_proportion_z_real(x1 as f64, n1 as f64, x2 as f64, n2 as f64)
}

/// [`two_proportion_z`] of real counts (effective sample sizes,
/// docs/MODEL.md section 11); the same number for whole ones.
pub fn two_proportion_z_real(x1: f64, n1: f64, x2: f64, n2: f64) -> f64 {
    let (p1, p2) = (x1 / n1, x2 / n2);
    let pooled = (x1 + x2) / (n1 + n2);
    let var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    if var <= 0.0 || !var.is_finite() {
        0.0
    } else {
        (p2 - p1) / var.sqrt()
    }
}

/// The comparison as text.
pub fn baseline_table(c: &BaselineComparison) -> String {
    let mut out = String::new();
    match c.identical {
        Some(true) => out.push_str("baseline: same seed, scenario, version and trials: results identical\n"),
        Some(false) => {
            out.push_str("baseline: same seed, scenario, version and trials, but results DIFFER (not reproducible)\n")
        }
        None if c.method == "paired" => out.push_str(&format!(
            "baseline: paired (both scenarios re-run on the same trials); changes flagged where the {}% interval excludes 0\n",
            100.0 * (1.0 - BASELINE_ALPHA)
        )),
        None => out.push_str(&format!(
            "baseline: unpaired; changes flagged where |z| > {BASELINE_Z:.3} (two-proportion test, level {BASELINE_ALPHA})\n"
        )),
    }
    let p = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
    // The z column is the unpaired test's; a paired comparison flags by its
    // interval, so it says so in the heading.
    let z_head = if c.method == "paired" { "unpaired z" } else { "z" };
    let mut rows = vec![["milestone", "baseline", "now", "difference [95% CI]", z_head, "flag"].map(String::from)];
    for m in &c.milestones {
        rows.push([
            m.milestone.clone(),
            p(m.baseline),
            p(m.current),
            match (m.difference, m.difference_low, m.difference_high) {
                (Some(d), Some(lo), Some(hi)) => crate::app::signed_points(d, lo, hi),
                _ => "-".into(),
            },
            m.z.map(|z| format!("{z:+.2}")).unwrap_or_else(|| "-".into()),
            match (m.flagged, m.baseline, m.current) {
                (_, None, _) => "new".into(),
                (_, _, None) => "removed".into(),
                (true, _, _) => "CHANGED".into(),
                _ => String::new(),
            },
        ]);
    }
    out.push_str(&align(&rows));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_statistic_matches_a_hand_computation() {
        // 500/1000 vs 550/1000: pooled 0.525, se = sqrt(0.525·0.475·0.002) = 0.022332.
        let z = two_proportion_z(500, 1000, 550, 1000);
        assert!((z - 0.05 / 0.022_332_09).abs() < 1e-4, "{z}");
        assert_eq!(two_proportion_z(0, 10, 0, 20), 0.0);
    }
}
