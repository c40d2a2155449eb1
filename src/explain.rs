//! Why a run turned out as it did: the rule that names, for a trial that
//! missed a milestone, what held it back (docs/MODEL.md section 6, "Why
//! milestones are missed"), and the executive summary the reports open
//! with, built from the summary's figures alone.
//!
//! The rule is a counterfactual attribution: it asks whether a full cluster,
//! started when this trial's run started, would have made the target at
//! the scenario's median efficiency and at this trial's own. It says which
//! of the run's limits was binding in that sense, not what caused the miss.

use crate::engine::Workspace;
use crate::model::{Model, UncertainId};
use crate::report::percent;
use crate::results::{MilestoneResult, ShockResult, Summary};

/// Why a trial did not reach a milestone by its deadline: exactly one of
/// these, tested in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissReason {
    /// The run had not started by the end of the deadline quarter.
    NeverStarted,
    /// Even a full cluster of the fastest eligible chip type at the median
    /// MFU × goodput, from the start to the deadline, falls short.
    StartedTooLate,
    /// That full cluster at this trial's own MFU × goodput would have made
    /// it: the cluster the trial had was below its maximum.
    ClusterBelowMaximum,
    /// A full cluster would have made it at the median efficiency but not
    /// at this trial's.
    LowMfuGoodput,
}

impl MissReason {
    /// All reasons, in the order they are tested and reported.
    pub const ALL: [MissReason; 4] = [
        MissReason::NeverStarted,
        MissReason::StartedTooLate,
        MissReason::ClusterBelowMaximum,
        MissReason::LowMfuGoodput,
    ];
    /// Number of reasons.
    pub const COUNT: usize = 4;

    /// Field name in summary.json.
    pub fn name(self) -> &'static str {
        match self {
            MissReason::NeverStarted => "never_started",
            MissReason::StartedTooLate => "started_too_late",
            MissReason::ClusterBelowMaximum => "cluster_below_maximum",
            MissReason::LowMfuGoodput => "low_mfu_goodput",
        }
    }

    /// Position in [`MissReason::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The figures of the rule for one milestone, fixed for the model.
#[derive(Debug, Clone)]
struct MilestoneRule {
    /// Deadline quarter index `d`.
    deadline: u32,
    /// End of the deadline quarter, `S(d + 1)`, seconds.
    end: u64,
    /// Target, FLOP.
    target: f64,
    /// Peak FLOP/s of a full cluster: `max_cluster_chips × peak_flops` of
    /// the fastest chip type whose compute counts for this milestone.
    full_cluster: f64,
    /// `full_cluster × (median MFU × median goodput)`, FLOP/s.
    nominal_rate: f64,
    /// When the cluster limit changes over time (`max_cluster_chips_from`)
    /// or MFU falls with size (`mfu_size_exponent`): the full cluster's
    /// peak FLOP/s in each quarter, `P_q` (`full_cluster` is then unused).
    by_quarter: Option<Vec<f64>>,
}

impl MilestoneRule {
    /// The full cluster's peak FLOP/s in quarter `q`.
    fn full(&self, q: u32) -> f64 {
        self.by_quarter.as_ref().map_or(self.full_cluster, |p| p[q as usize])
    }

    /// Whether the full cluster at the nominal efficiency `u50` falls short
    /// of the target over `[a, b]`: `(P × u50) × (b − a)` for a constant
    /// `P`, else the sum of `(P_q × u50) × s_q` over its quarters in order.
    fn nominal_short(&self, cal: &crate::quarter::Calendar, u50: f64, a: u64, b: u64) -> bool {
        if self.by_quarter.is_none() {
            return self.nominal_rate * ((b - a) as f64) < self.target;
        }
        let mut flop = 0.0;
        let mut q = cal.quarter_at(a);
        while q < cal.horizon() && cal.start_of(q) < b {
            let seconds = cal.start_of(q + 1).min(b) - cal.start_of(q).max(a);
            flop += self.full(q) * u50 * seconds as f64;
            q += 1;
        }
        flop < self.target
    }
}

/// The miss-reason rule of a model: per milestone its full cluster and
/// nominal rate, computed once.
#[derive(Debug, Clone)]
pub struct MissRule {
    milestones: Vec<MilestoneRule>,
    /// `training.max_run_quarters` in seconds, when runs are bounded.
    run_seconds: Option<u64>,
    mfu: UncertainId,
    goodput: UncertainId,
    /// Median MFU × median goodput.
    nominal: f64,
}

/// The median of uncertain number `id`, clamped to its valid range (as
/// `sancsim show` reports it).
fn median(model: &Model, id: UncertainId) -> f64 {
    let u = &model.uncertain[id];
    u.dist.quantile(0.5).clamp(u.min, u.max)
}

impl MissRule {
    /// The rule for `model`.
    pub fn new(model: &Model) -> MissRule {
        let tr = &model.training;
        let nominal = median(model, tr.mfu) * median(model, tr.goodput);
        let milestones = model
            .milestones
            .iter()
            .map(|m| {
                // Chips whose compute counts: domestic ones, and foreign
                // ones that may train when the milestone counts them.
                let peak = model
                    .chips
                    .iter()
                    .filter(|c| c.domestic || (tr.allow_foreign_chips && !m.domestic_only))
                    .map(|c| c.peak_flops)
                    .fold(0.0, f64::max);
                let full_cluster = tr.max_cluster_chips as f64 * peak;
                let varying = !tr.max_cluster_steps.is_empty() || tr.mfu_size.is_some();
                let by_quarter = varying.then(|| {
                    (0..model.horizon())
                        .map(|q| {
                            let cap = tr.max_cluster_at(q);
                            let size = match tr.mfu_size {
                                Some((e, reference)) if cap > reference => (cap as f64 / reference as f64).powf(-e),
                                _ => 1.0,
                            };
                            cap as f64 * peak * size
                        })
                        .collect()
                });
                MilestoneRule {
                    by_quarter,
                    deadline: m.deadline,
                    end: model.calendar.start_of(m.deadline + 1),
                    target: m.target_flop,
                    full_cluster,
                    nominal_rate: full_cluster * nominal,
                }
            })
            .collect();
        MissRule {
            milestones,
            run_seconds: tr.max_run_seconds,
            nominal,
            mfu: tr.mfu,
            goodput: tr.goodput,
        }
    }

    /// Why a trial whose run started at `start_time` (seconds, `None` if it
    /// never did) missed milestone `k`, given its MFU × goodput in each
    /// quarter, `efficiency(q)`. Only meaningful for a trial that did miss.
    pub fn classify(
        &self,
        model: &Model,
        k: usize,
        start_time: Option<u64>,
        efficiency: impl Fn(u32) -> f64,
    ) -> MissReason {
        let m = &self.milestones[k];
        let Some(start) = start_time.filter(|&t| t < m.end) else {
            return MissReason::NeverStarted;
        };
        let cal = &model.calendar;
        if let Some(len) = self.run_seconds {
            return Self::classify_bounded(m, cal, self.nominal, len, start, efficiency);
        }
        if m.nominal_short(cal, self.nominal, start, m.end) {
            return MissReason::StartedTooLate;
        }
        let mut flop = 0.0;
        for q in cal.quarter_at(start)..=m.deadline {
            let seconds = cal.start_of(q + 1) - cal.start_of(q).max(start);
            flop += m.full(q) * efficiency(q) * seconds as f64;
        }
        if flop >= m.target {
            MissReason::ClusterBelowMaximum
        } else {
            MissReason::LowMfuGoodput
        }
    }

    /// The rule with runs of at most `len` seconds: the trial's own run
    /// windows `[t_s + jL, min(t_s + (j+1)L, E)]` that start before `E`,
    /// the longest of which lasts `min(L, E − t_s)`. Reason 2 when the full
    /// cluster at the nominal efficiency over that longest window falls
    /// short; reason 3 when the full cluster at this trial's efficiency
    /// reaches the target within some window.
    fn classify_bounded(
        m: &MilestoneRule,
        cal: &crate::quarter::Calendar,
        nominal: f64,
        len: u64,
        start: u64,
        efficiency: impl Fn(u32) -> f64,
    ) -> MissReason {
        let too_late = if m.by_quarter.is_none() {
            m.nominal_rate * (len.min(m.end - start) as f64) < m.target
        } else {
            // Every window falls short at the nominal efficiency.
            let mut a = start;
            let mut short = true;
            while a < m.end && short {
                let b = a.saturating_add(len).min(m.end);
                short = m.nominal_short(cal, nominal, a, b);
                a = b;
            }
            short
        };
        if too_late {
            return MissReason::StartedTooLate;
        }
        let mut a = start;
        while a < m.end {
            let b = a.saturating_add(len).min(m.end);
            let mut flop = 0.0;
            let mut q = cal.quarter_at(a);
            while cal.start_of(q) < b {
                let seconds = cal.start_of(q + 1).min(b) - cal.start_of(q).max(a);
                flop += m.full(q) * efficiency(q) * seconds as f64;
                q += 1;
            }
            if flop >= m.target {
                return MissReason::ClusterBelowMaximum;
            }
            a = b;
        }
        MissReason::LowMfuGoodput
    }

    /// [`MissRule::classify`] for the trial just simulated in `ws`.
    pub fn classify_trial(&self, model: &Model, ws: &Workspace, k: usize) -> MissReason {
        let inputs = ws.inputs();
        let mfu = &inputs[ws.input_slots(model, self.mfu)];
        let goodput = &inputs[ws.input_slots(model, self.goodput)];
        // One value per trial, or one per quarter.
        let at = |v: &[f64], q: u32| if v.len() == 1 { v[0] } else { v[q as usize] };
        self.classify(model, k, ws.outcome.start_time, |q| at(mfu, q) * at(goodput, q))
    }
}

/// The value of assumption `key` as written in summary.json, if any.
fn assumption<'a>(summary: &'a Summary, key: &str) -> Option<&'a str> {
    summary
        .assumptions
        .iter()
        .find(|a| a.key == key)
        .map(|a| a.value.as_str())
}

/// Whether the scenario wrote a key under `prefix` (its assumption rows
/// list it), e.g. a `training.max_cluster_chips_from` entry.
pub(crate) fn has_assumption_under(summary: &Summary, prefix: &str) -> bool {
    summary.assumptions.iter().any(|a| a.key.starts_with(prefix))
}

/// A count of chips as a reader reads it: `4,096`; a value that is not a
/// whole number below 10^9 stays as written (`1e12`).
fn chips(value: &str) -> String {
    match value.parse::<f64>() {
        Ok(v) if v.fract() == 0.0 && (0.0..1e9).contains(&v) => {
            let digits = (v as u64).to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            out
        }
        _ => value.to_string(),
    }
}

/// What the allocation policy does with new chips, as the model's rule
/// says it (docs/MODEL.md section 5), for the sentence on runs that never
/// start.
fn policy_clause(summary: &Summary) -> String {
    match assumption(summary, "allocation.policy") {
        Some("fixed_share") => {
            let share = assumption(summary, "allocation.training_share")
                .and_then(|v| v.parse::<f64>().ok())
                .map(percent)
                .unwrap_or_else(|| "a fixed share".to_string());
            format!("with a fixed share, only {share} of the chips delivered go to training")
        }
        Some("training_reserve") => {
            let reserve = assumption(summary, "allocation.reserve_chips").map(chips);
            format!(
                "new chips fill a training reserve of {} chips before inference",
                reserve.as_deref().unwrap_or("some")
            )
        }
        _ if summary.inference_unit_chip.is_none() => "no inference demand competes for its chips".to_string(),
        _ => "with inference served first, only chips beyond inference demand go to training".to_string(),
    }
}

/// Trials whose run had started by the end of each quarter, recovered from
/// the shares of `training_start.started_by_quarter` (`k / N` read back).
fn started_counts(summary: &Summary) -> Vec<u64> {
    let n = summary.counted_trials();
    summary
        .training_start
        .started_by_quarter
        .iter()
        .map(|s| (s.probability * n).round() as u64)
        .collect()
}

/// The sentence on when the run starts.
fn start_sentence(summary: &Summary) -> String {
    let ts = &summary.training_start;
    let last = summary.quarters.last().map(String::as_str).unwrap_or("the horizon");
    if ts.trials_never_started == 0 {
        let when = if ts.quarter_p10 == ts.quarter_p90 {
            format!("in {}", ts.quarter_p50)
        } else {
            format!(
                "by {} in half of them (P10 {}, P90 {})",
                ts.quarter_p50, ts.quarter_p10, ts.quarter_p90
            )
        };
        return format!("The training run starts in every simulated future, {when}.");
    }
    let needed = match assumption(summary, "training.min_cluster_chips").map(chips) {
        Some(n) if n != "1" => format!("{n} chips"),
        _ => "at least one chip".to_string(),
    };
    format!(
        "In {} of futures the training run never starts by {last}: it needs {needed} in its training pool, and {}.",
        percent(ts.never_started),
        policy_clause(summary)
    )
}

/// The sentence on why milestones are missed where the run started.
fn shortfall_sentence(summary: &Summary) -> String {
    let ts = &summary.training_start;
    let lead = if ts.trials_never_started == 0 {
        String::new()
    } else {
        // The median start among the trials whose run started.
        let counts = started_counts(summary);
        let started = counts.last().copied().unwrap_or(0);
        match counts.iter().position(|&c| 2 * c >= started) {
            Some(q) if started > 0 => format!("Where it starts (median {}), ", summary.quarters[q]),
            _ => String::new(),
        }
    };
    let cap = |s: String| {
        if lead.is_empty() {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        } else {
            format!("{lead}{s}")
        }
    };
    // The milestone most often missed by a run that had started.
    let worst = summary
        .milestones
        .iter()
        .map(|m| (m, m.missed.total() - m.missed.never_started))
        .fold(None, |best: Option<(&MilestoneResult, u64)>, (m, n)| match best {
            Some((_, b)) if b >= n => best,
            _ => Some((m, n)),
        });
    let Some((m, _)) = worst.filter(|w| w.1 > 0) else {
        if summary.milestones.iter().all(|m| m.missed.total() == 0) {
            return cap("every milestone is reached by its deadline in every future.".to_string());
        }
        if ts.never_started >= 1.0 {
            // Without a run there is no training compute.
            return "So no milestone is reached in any future.".to_string();
        }
        return cap("every run that has started by a milestone's deadline reaches that milestone.".to_string());
    };
    // With later limits (max_cluster_chips_from) the first one is only the start.
    let grows = has_assumption_under(summary, "training.max_cluster_chips_from");
    let full = assumption(summary, "training.max_cluster_chips")
        .map(|v| match grows {
            false => format!("a full cluster of {} chips", chips(v)),
            true => format!(
                "a full cluster ({} chips at first, then as max_cluster_chips_from says)",
                chips(v)
            ),
        })
        .unwrap_or_else(|| "a full cluster".to_string());
    let mut reasons = [
        (m.missed.started_too_late, MissReason::StartedTooLate),
        (m.missed.cluster_below_maximum, MissReason::ClusterBelowMaximum),
        (m.missed.low_mfu_goodput, MissReason::LowMfuGoodput),
    ];
    // Largest first; equal counts keep the order of the rule.
    reasons.sort_by_key(|r| std::cmp::Reverse(r.0));
    let (top, second) = (reasons[0], reasons[1]);
    // The first clause names the cluster and says "of futures"; a second
    // reason is given when it is at least a third as common.
    let clause = |(count, reason): (u64, MissReason), first: bool| {
        let share = percent(count as f64 / summary.counted_trials());
        let (share, cluster) = if first {
            (format!("{share} of futures"), full.as_str())
        } else {
            (share, "a full cluster")
        };
        match reason {
            MissReason::StartedTooLate => match assumption(summary, "training.max_run_quarters") {
                Some(l) => format!(
                    "in {share} the run started too late, or a run of at most {l} quarters is too short, for even \
                     {cluster} at the median MFU × goodput to make it in one run"
                ),
                None => {
                    format!(
                        "in {share} the run started too late for even {cluster} at the median MFU × goodput to make it"
                    )
                }
            },
            MissReason::ClusterBelowMaximum => format!(
                "in {share} {cluster} at the run's own MFU × goodput would have made it (the cluster stayed below \
                 its maximum)"
            ),
            _ => {
                format!("in {share} {cluster} would have made it at the median MFU × goodput but not at the run's own")
            }
        }
    };
    let mut text = format!(
        "{} {} ({:.2e} FLOP by {}): {}",
        if lead.is_empty() {
            "the milestone a started run misses most often is"
        } else {
            "the milestone it misses most often is"
        },
        m.name,
        m.target_flop,
        m.deadline,
        clause(top, true)
    );
    if second.0 > 0 && 3 * second.0 >= top.0 {
        text.push_str("; ");
        text.push_str(&clause(second, false));
    }
    text.push('.');
    cap(text)
}

/// The sentence on the shock that happens most often, if the scenario has
/// shocks.
fn shock_sentence(summary: &Summary) -> Option<String> {
    let top = summary
        .shocks
        .iter()
        .fold(None, |best: Option<&ShockResult>, s| match best {
            Some(b) if b.fired >= s.fired => best,
            _ => Some(s),
        })?;
    if top.fired == 0 {
        let n = summary.shocks.len();
        return Some(if n == 1 {
            format!("The shock {} happens in no simulated future.", top.name)
        } else {
            format!("None of the {n} shocks happens in any simulated future.")
        });
    }
    let busiest = top
        .by_quarter
        .iter()
        .fold(None, |best: Option<&crate::results::ShockQuarter>, q| match best {
            Some(b) if b.trials >= q.trials => best,
            _ => Some(q),
        });
    let when = match busiest {
        Some(q) if q.trials == top.fired => format!("all in {}", q.quarter),
        Some(q) => format!(
            "most often in {} ({} of those)",
            q.quarter,
            percent(q.trials as f64 / top.fired as f64)
        ),
        None => String::new(),
    };
    Some(format!(
        "The shock that happens most often is {}: in {} of futures, {when}.",
        top.name,
        percent(top.probability)
    ))
}

/// The executive summary of a run: two or three sentences built from the
/// summary's own figures (training start, miss reasons, shocks) and the
/// scenario's rules as its assumptions state them; nothing else.
pub fn executive_summary(summary: &Summary) -> String {
    let mut sentences = vec![start_sentence(summary), shortfall_sentence(summary)];
    sentences.extend(shock_sentence(summary));
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::simulate_trial;

    /// One domestic chip type of 1e15 FLOP/s (and a faster foreign one), a
    /// full cluster of 1,000 chips (1e18 FLOP/s), MFU 0.35–0.65 (median
    /// 0.5) and goodput 1; quarters of 2024
    /// (91, 91, 92, 92 days). A milestone of 1e25 FLOP by 2024Q4 needs
    /// 1e25 / 5e17 = 2e7 s ≈ 231 days of the full cluster at the median.
    const RULE: &str = r#"[scenario]
name = "rule"
start = "2024Q1"
horizon_quarters = 4

[chips.a]
peak_flops = 1e15

[chips.f]
peak_flops = 1e16
domestic = false

[training]
max_cluster_chips = 1000
mfu = { dist = "uniform", low = 0.35, high = 0.65 }

[milestones.m]
target_flop = 1e25
deadline = "2024Q4"
"#;

    fn rule_model() -> Model {
        Model::from_text(RULE, "rule.toml").unwrap()
    }

    #[test]
    fn a_cluster_limit_that_grows_counts_quarter_by_quarter() {
        // From 2024Q3 the cluster may span 3,000 chips (3e18 FLOP/s), with
        // MFU falling as (n / 1000)^-0.5 above 1,000 chips: 3e18 × 3^-0.5
        // = 1.732e18 FLOP/s in 2024Q3 and Q4, 1e18 before.
        let text = RULE.replace(
            "max_cluster_chips = 1000\n",
            "max_cluster_chips = 1000\nmax_cluster_chips_from = [{ quarter = \"2024Q3\", chips = 3000 }]\n\
             mfu_size_exponent = 0.5\nmfu_reference_chips = 1000\n",
        );
        let model = Model::from_text(&text, "rule.toml").unwrap();
        let rule = MissRule::new(&model);
        let p = rule.milestones[0].by_quarter.as_ref().unwrap();
        assert_eq!(p[..2], [1e18, 1e18]);
        assert!((p[2] - 3e18 / 3f64.sqrt()).abs() < 1e3 && p[3] == p[2]);
        let cal = &model.calendar;
        let day = crate::quarter::SECONDS_PER_DAY;
        // Started at 2024Q3's start: 184 days at 1.732e18 × 0.5 = 1.38e25
        // FLOP at the median: not too late, though 1e18 × 0.5 × 184 days
        // (7.9e24) would have been.
        let start = cal.start_of(2);
        assert!(1e18 * 0.5 * 184.0 * (day as f64) < 1e25);
        assert_eq!(
            rule.classify(&model, 0, Some(start), |_| 0.5),
            MissReason::ClusterBelowMaximum
        );
        // At MFU 0.35 the full cluster makes 9.6e24: low MFU.
        assert_eq!(
            rule.classify(&model, 0, Some(start), |_| 0.35),
            MissReason::LowMfuGoodput
        );
        // Started 120 days before the end: 120 days × 8.66e17 = 8.98e24.
        let late = cal.end() - 120 * day;
        assert_eq!(
            rule.classify(&model, 0, Some(late), |_| 0.5),
            MissReason::StartedTooLate
        );
    }

    #[test]
    fn each_reason_on_hand_built_trials() {
        let model = rule_model();
        let rule = MissRule::new(&model);
        let cal = &model.calendar;
        // The foreign chip, ten times faster, does not count: domestic only.
        assert_eq!(rule.milestones[0].full_cluster, 1e18);
        assert_eq!(rule.milestones[0].nominal_rate, 5e17);
        let day = crate::quarter::SECONDS_PER_DAY;
        let median = |_| 0.5;
        // Never started, or started only after the deadline's end.
        assert_eq!(rule.classify(&model, 0, None, median), MissReason::NeverStarted);
        assert_eq!(
            rule.classify(&model, 0, Some(cal.end()), median),
            MissReason::NeverStarted
        );
        // Started in 2024Q3: 184 days < 231 days even at full size.
        assert_eq!(
            rule.classify(&model, 0, Some(cal.start_of(2)), median),
            MissReason::StartedTooLate
        );
        // Started at the start with the median efficiency: a full cluster
        // would have made it, so the cluster it had was too small.
        assert_eq!(
            rule.classify(&model, 0, Some(0), median),
            MissReason::ClusterBelowMaximum
        );
        // Started in 2024Q2 (275 days): at 0.3 a full cluster does 0.3e18 ×
        // 275 days = 7.1e24 < 1e25, at the median 1.19e25 would have done.
        assert_eq!(
            rule.classify(&model, 0, Some(cal.start_of(1)), |_| 0.3),
            MissReason::LowMfuGoodput
        );
        // Efficiency that changes by quarter counts quarter by quarter:
        // 0.3 in Q2, 0.6 in Q3 and Q4: (0.3 × 91 + 0.6 × 184) days × 1e18
        // = 1.19e25 >= 1e25.
        let by_quarter = |q| if q == 1 { 0.3 } else { 0.6 };
        assert_eq!(
            rule.classify(&model, 0, Some(cal.start_of(1)), by_quarter),
            MissReason::ClusterBelowMaximum
        );
        assert_eq!(cal.start_of(1), 91 * day);
    }

    /// With bounded runs the full cluster counts one run: runs of 2
    /// quarters (ℓ = 15,778,800 s, 182.6 days) do 5e17 × ℓ = 7.9e24 at the
    /// median, short of 1e25 however early the start; runs of 3 quarters
    /// (273.9 days, 1.18e25) are long enough at the median, not at 0.4
    /// (9.5e24), which without bounded runs (366 days, 1.26e25) would have
    /// been enough.
    #[test]
    fn bounded_runs_count_the_best_single_run_window() {
        let bounded = |l: &str, target: &str| {
            let text = RULE
                .replace("[training]\n", &format!("[training]\nmax_run_quarters = {l}\n"))
                .replace("target_flop = 1e25", &format!("target_flop = {target}"));
            Model::from_text(&text, "rule.toml").unwrap()
        };
        let median = |_| 0.5;
        let m2 = bounded("2", "1e25");
        let rule = MissRule::new(&m2);
        assert_eq!(rule.classify(&m2, 0, Some(0), median), MissReason::StartedTooLate);
        assert_eq!(rule.classify(&m2, 0, None, median), MissReason::NeverStarted);
        let m3 = bounded("3", "1e25");
        let rule = MissRule::new(&m3);
        assert_eq!(rule.classify(&m3, 0, Some(0), median), MissReason::ClusterBelowMaximum);
        assert_eq!(rule.classify(&m3, 0, Some(0), |_| 0.4), MissReason::LowMfuGoodput);
        let plain = rule_model();
        assert_eq!(
            MissRule::new(&plain).classify(&plain, 0, Some(0), |_| 0.4),
            MissReason::ClusterBelowMaximum
        );
        // From 2024Q2 the longest window is min(ℓ, E − t_s) = ℓ (E − t_s
        // = 275 days): still long enough at the median.
        let cal = &m3.calendar;
        assert_eq!(
            rule.classify(&m3, 0, Some(cal.start_of(1)), median),
            MissReason::ClusterBelowMaximum
        );
        // From 2024Q3 only 184 days remain: too late.
        assert_eq!(
            rule.classify(&m3, 0, Some(cal.start_of(2)), median),
            MissReason::StartedTooLate
        );
        // The trial's own windows decide: 5e24 with runs of 2 quarters from
        // the start, 0.2 in Q1–Q2 and x in Q3–Q4. Window 1 ([0, ℓ], 54,000
        // s into Q3) does about 3.2e24; window 2 ([ℓ, 2ℓ], all in Q3–Q4)
        // x × 1.58e25: enough at 0.35, not at 0.3.
        let m = bounded("2", "5e24");
        let rule = MissRule::new(&m);
        let eff = |x: f64| move |q: u32| if q < 2 { 0.2 } else { x };
        assert_eq!(
            rule.classify(&m, 0, Some(0), eff(0.35)),
            MissReason::ClusterBelowMaximum
        );
        assert_eq!(rule.classify(&m, 0, Some(0), eff(0.3)), MissReason::LowMfuGoodput);
    }

    #[test]
    fn a_milestone_that_counts_foreign_chips_takes_the_fastest_eligible_type() {
        let text = RULE
            .replace("[training]\n", "[training]\nallow_foreign_chips = true\n")
            .replace(
                "deadline = \"2024Q4\"\n",
                "deadline = \"2024Q4\"\ndomestic_only = false\n",
            );
        let model = Model::from_text(&text, "rule.toml").unwrap();
        let rule = MissRule::new(&model);
        assert_eq!(rule.milestones[0].full_cluster, 1e19);
        // Foreign chips may train but the milestone counts domestic only.
        let text = RULE.replace("[training]\n", "[training]\nallow_foreign_chips = true\n");
        let rule = MissRule::new(&Model::from_text(&text, "rule.toml").unwrap());
        assert_eq!(rule.milestones[0].full_cluster, 1e18);
    }

    /// Real trials of the engine, one per reason, with the reason each must
    /// get: the run's start and cluster set by the fleet and the start
    /// rules, the efficiency by the drawn MFU.
    #[test]
    fn each_reason_on_simulated_trials() {
        let cases = [
            // Needs more chips than it has: never starts.
            (999, "min_cluster_chips = 1000\n", MissReason::NeverStarted),
            // Starts in 2024Q4 with a full cluster: 92 days is too short.
            (1000, "earliest_start = \"2024Q4\"\n", MissReason::StartedTooLate),
            // 100 chips from the start (at most 0.65 × 1e17 FLOP/s, 2.1e24 in
            // the year): a full cluster would have made it at any drawn MFU.
            (100, "", MissReason::ClusterBelowMaximum),
        ];
        for (fleet, extra, want) in cases {
            let text = RULE.replace(
                "[training]\n",
                &format!("[fleet.a]\ntraining = {fleet}\n\n[training]\n{extra}"),
            );
            let model = Model::from_text(&text, "rule.toml").unwrap();
            let rule = MissRule::new(&model);
            let mut ws = Workspace::new(&model);
            for trial in 0..20 {
                simulate_trial(&model, 1, trial, &mut ws);
                assert_eq!(ws.outcome.reached[0], None, "{extra}: trial {trial}");
                assert_eq!(rule.classify_trial(&model, &ws, 0), want, "{extra}: trial {trial}");
            }
        }
        // A full cluster from 2024Q2 on: reached when the drawn MFU is high
        // enough (1e25 / (1e18 × 275 days) = 0.421), missed otherwise, and
        // such a miss is always low MFU × goodput.
        let text = RULE.replace(
            "[training]\n",
            "[fleet.a]\ntraining = 1000\n\n[training]\nearliest_start = \"2024Q2\"\n",
        );
        let model = Model::from_text(&text, "rule.toml").unwrap();
        let rule = MissRule::new(&model);
        let mut ws = Workspace::new(&model);
        let (mut reached, mut low) = (0, 0);
        for trial in 0..200 {
            simulate_trial(&model, 1, trial, &mut ws);
            let mfu = ws.inputs()[ws.input_slots(&model, model.training.mfu)][0];
            if ws.outcome.reached[0].is_some() {
                assert!(mfu > 0.42, "trial {trial}: mfu {mfu}");
                reached += 1;
            } else {
                assert!(mfu < 0.43, "trial {trial}: mfu {mfu}");
                assert_eq!(rule.classify_trial(&model, &ws, 0), MissReason::LowMfuGoodput);
                low += 1;
            }
        }
        assert!(reached > 50 && low > 20, "{reached} reached, {low} low");
    }

    /// The summary of `trials` trials of a scenario's text.
    fn summary_of(text: &str, trials: u64) -> Summary {
        let model = Model::from_text(text, "s.toml").unwrap();
        let agg = crate::trials::run_trials(&model, model.seed, 0..trials, Some(1)).unwrap();
        Summary::new(&model, &agg, model.seed, "h")
    }

    /// The sentences of a summary (split after a period and a space).
    fn sentences(text: &str) -> Vec<&str> {
        text.split_inclusive(". ").map(str::trim).collect()
    }

    #[test]
    fn every_shipped_scenario_gets_two_or_three_sentences_from_its_figures() {
        let shipped = [
            ("current", include_str!("../scenarios/current.toml")),
            ("default", include_str!("../scenarios/default.toml")),
            ("foreign_mix", include_str!("../scenarios/foreign_mix.toml")),
            ("minimal", include_str!("../scenarios/minimal.toml")),
            ("optimistic_yield", include_str!("../scenarios/optimistic_yield.toml")),
            ("successor_910c", include_str!("../scenarios/successor_910c.toml")),
            ("supernode_scaling", include_str!("../scenarios/supernode_scaling.toml")),
            ("tight_controls", include_str!("../scenarios/tight_controls.toml")),
        ];
        for (name, text) in shipped {
            let s = summary_of(text, 2000);
            let e = &s.executive_summary;
            let n = sentences(e).len();
            let want = if s.shocks.is_empty() { 2 } else { 3 };
            assert_eq!(n, want, "{name}: {e}");
            assert!(
                e.ends_with('.') && !e.contains("NaN") && !e.contains("  "),
                "{name}: {e}"
            );
            let ts = &s.training_start;
            if ts.trials_never_started > 0 {
                let never = format!(
                    "In {} of futures the training run never starts by",
                    percent(ts.never_started)
                );
                assert!(e.starts_with(&never), "{name}: {e}");
            } else {
                assert!(
                    e.starts_with("The training run starts in every simulated future"),
                    "{name}: {e}"
                );
                assert!(e.contains(&ts.quarter_p50), "{name}: {e}");
            }
            // The milestone named is the one most often missed after a start.
            let worst = s
                .milestones
                .iter()
                .map(|m| m.missed.total() - m.missed.never_started)
                .max()
                .unwrap();
            if worst > 0 {
                let m = s
                    .milestones
                    .iter()
                    .find(|m| m.missed.total() - m.missed.never_started == worst)
                    .unwrap();
                assert!(e.contains(&format!("most often is {} (", m.name)), "{name}: {e}");
            }
            if let Some(top) = s
                .shocks
                .iter()
                .max_by_key(|x| (x.fired, std::cmp::Reverse(x.name.clone())))
            {
                assert!(
                    e.contains(&format!(
                        "most often is {}: in {} of futures",
                        top.name,
                        percent(top.probability)
                    )),
                    "{name}: {e}"
                );
            }
        }
    }

    /// The default scenario's summary says what its figures say, number by
    /// number.
    #[test]
    fn the_default_scenario_summary_quotes_its_own_figures() {
        let s = summary_of(include_str!("../scenarios/default.toml"), 3000);
        let e = &s.executive_summary;
        let ts = &s.training_start;
        assert!(ts.trials_never_started > 0);
        assert!(
            e.contains(
                "it needs 4,096 chips in its training pool, and with inference served first, only chips beyond \
                 inference demand go to training."
            ),
            "{e}"
        );
        let frontier = s.milestones.iter().find(|m| m.name == "frontier_1e26").unwrap();
        let share = |c: u64| percent(c as f64 / s.counted_trials());
        assert!(e.contains("frontier_1e26 (1.00e26 FLOP by 2027Q4)"), "{e}");
        assert!(
            e.contains(&format!("in {} of futures", share(frontier.missed.low_mfu_goodput)))
                || e.contains(&format!("in {} of futures", share(frontier.missed.started_too_late))),
            "{e}"
        );
        assert!(e.contains("hbm_rule_dec2024") && e.contains("all in 2024Q4"), "{e}");
        // The median start among the trials that started.
        let started = (s.counted_trials() - ts.trials_never_started as f64).round() as u64;
        let first_half = ts
            .started_by_quarter
            .iter()
            .find(|q| 2 * (q.probability * s.counted_trials()).round() as u64 >= started)
            .unwrap();
        assert!(
            e.contains(&format!("Where it starts (median {}), ", first_half.quarter)),
            "{e}"
        );
    }

    /// The branches the shipped scenarios do not reach: other policies, no
    /// shocks, shocks that never happen, milestones never missed by a run.
    #[test]
    fn other_policies_and_quiet_runs_say_so() {
        // A cluster that never gathers under a fixed share: no milestone
        // missed by a started run, and no shocks.
        let text = RULE.replace(
            "[training]\n",
            "[fleet.a]\ntraining = 500\n\n[allocation]\npolicy = \"fixed_share\"\ntraining_share = 0.25\n\n\
             [training]\nmin_cluster_chips = 1000\n",
        );
        let s = summary_of(&text, 50);
        assert_eq!(
            s.executive_summary,
            "In 100% of futures the training run never starts by 2024Q4: it needs 1,000 chips in its training \
             pool, and with a fixed share, only 25.0% of the chips delivered go to training. So no milestone is \
             reached in any future."
        );
        // Runs that start after a deadline miss it, the others reach it.
        let text = RULE.replace(
            "[training]\n",
            "[fleet.a]\ntraining = 1000\n\n[training]\nearliest_start = \"2024Q2\"\n",
        )
        .replace("target_flop = 1e25\ndeadline = \"2024Q4\"", "target_flop = 1e20\ndeadline = \"2024Q4\"\n\n[milestones.early]\ntarget_flop = 1e20\ndeadline = \"2024Q1\"");
        let s = summary_of(&text, 20);
        assert_eq!(s.milestones[1].missed.never_started, 20);
        assert_eq!(
            s.executive_summary,
            "The training run starts in every simulated future, in 2024Q2. Every run that has started by a \
             milestone's deadline reaches that milestone."
        );
        // Reserve policy; a shock that cannot happen; every milestone reached.
        let text = RULE
            .replace(
                "[training]\n",
                "[fleet.a]\ntraining = 1000\n\n[allocation]\npolicy = \"training_reserve\"\nreserve_chips = 2000\n\n\
                 [shocks.embargo]\nat = \"2024Q2\"\nprobability = 0\neffects = [{ supply = \"l\", stop = true }]\n\n\
                 [supply.l]\nchip = \"a\"\norders = [{ quarter = \"2024Q1\", chips = 10 }]\n\n[training]\n",
            )
            .replace("target_flop = 1e25", "target_flop = 1e20");
        let s = summary_of(&text, 50);
        assert_eq!(
            s.executive_summary,
            "The training run starts in every simulated future, in 2024Q1. Every milestone is reached by its \
             deadline in every future. The shock embargo happens in no simulated future."
        );
        // Without inference demand, a run that never starts for lack of chips.
        let text = RULE.replace("[training]\n", "[training]\nmin_cluster_chips = 1\n");
        let s = summary_of(&text, 20);
        assert!(
            s.executive_summary.starts_with(
                "In 100% of futures the training run never starts by 2024Q4: it needs at least one chip in its \
                 training pool, and no inference demand competes for its chips."
            ),
            "{}",
            s.executive_summary
        );
    }
}
