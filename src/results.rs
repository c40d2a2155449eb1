//! The result schema: what a run reports, as serde structs. `summary.json`
//! is [`Summary`] serialised; CSV and text exports are views of it.

use serde::{Deserialize, Serialize};

use crate::engine::supplier::Binding;
use crate::engine::{ChipMetric, Metric, series_names};
use crate::error::KeyPath;
use crate::explain::MissReason;
use crate::model::{Assumption, Model, Trigger, format_number};
use crate::stats::{clopper_pearson, round_significant};
use crate::trials::Aggregate;

/// Significant digits reported for sketch quantiles (they carry about four).
pub const QUANTILE_DIGITS: usize = 3;
/// Percentiles reported per quarter.
pub const PERCENTILES: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

/// How often the draws of one uncertain number were clamped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClampedInput {
    /// Its key path.
    pub key: String,
    /// Draws made: the trials, times the quarters for a per-quarter number.
    pub draws: u64,
    /// Draws outside its valid range, clamped to the nearest bound.
    pub clamped: u64,
    /// `clamped / draws`.
    pub share: f64,
}

/// Share of an uncertain number's draws clamped above which the summary
/// (and standard error) warns.
pub const CLAMP_WARNING_SHARE: f64 = 0.01;

/// [`ClampedInput`]s of `model` from `clamped` (per uncertain number) over
/// `trials` trials of `horizon` quarters: every number that can be clamped.
pub fn clamped_inputs_of(model: &Model, trials: u64, horizon: u32, clamped: &[u64]) -> Vec<ClampedInput> {
    model
        .uncertain
        .iter()
        .zip(clamped)
        .filter(|(u, c)| **c > 0 || u.clamp_bounds() != (None, None))
        .map(|(u, &clamped)| {
            let per = match u.per {
                crate::model::Per::Trial => 1,
                crate::model::Per::Quarter => u64::from(horizon),
            };
            let draws = trials.saturating_mul(per);
            ClampedInput {
                key: u.key.clone(),
                draws,
                clamped,
                share: clamped as f64 / draws.max(1) as f64,
            }
        })
        .collect()
}

fn clamped_inputs(model: &Model, agg: &Aggregate) -> Vec<ClampedInput> {
    clamped_inputs_of(model, agg.trials, agg.horizon, &agg.clamped)
}

fn clamp_warnings(model: &Model, agg: &Aggregate) -> Vec<String> {
    clamp_warnings_of(model, &clamped_inputs(model, agg))
}

/// `key: x% of its draws fell outside …` for each number of `inputs`
/// clamped in more than [`CLAMP_WARNING_SHARE`] of its draws.
pub fn clamp_warnings_of(model: &Model, inputs: &[ClampedInput]) -> Vec<String> {
    inputs
        .iter()
        .filter(|c| c.share > CLAMP_WARNING_SHARE)
        .map(|c| {
            let u = model.uncertain.iter().find(|u| u.key == c.key);
            let range = u
                .map(|u| format!(" [{}, {}]", format_number(u.min), format_number(u.max)))
                .unwrap_or_default();
            format!(
                "{}: {:.1}% of its draws ({} of {}) fell outside its valid range{range} and were clamped to it, \
                 which piles probability on the bound; give a distribution that stays inside (a beta or PERT, \
                 or {{ p5, p95 }} inside the range)",
                c.key,
                100.0 * c.share,
                c.clamped,
                c.draws
            )
        })
        .collect()
}

/// Everything a run reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: String,
    /// Hash of the scenario file's text (FNV-1a 64, hex).
    pub scenario_hash: String,
    /// Seed of all random streams.
    pub seed: u64,
    /// Trials simulated.
    pub trials: u64,
    /// Version of sancsim that produced this.
    pub sancsim_version: String,
    /// First quarter.
    pub start: String,
    /// Quarters simulated.
    pub horizon_quarters: u32,
    /// Label of each quarter.
    pub quarters: Vec<String>,
    /// Two or three sentences on the run, generated from the figures of
    /// this summary ([`crate::explain::executive_summary`]). (Absent from
    /// older summaries, where it is read as empty, as are `training_start`,
    /// `shocks` and each milestone's `missed`.)
    #[serde(default)]
    pub executive_summary: String,
    /// One entry per milestone, in file order.
    pub milestones: Vec<MilestoneResult>,
    /// Percentiles of each metric at the end of each quarter; with
    /// inference demand in tokens, each quarter's rows end with
    /// `inference_demand_chips`, `inference_tokens_per_day` and
    /// `inference_flop_per_token`.
    pub quarterly: Vec<QuarterRow>,
    /// The chip types, in file order. (Absent from summaries of older
    /// versions, where it is read as empty, as are the two fields below.)
    #[serde(default)]
    pub chip_types: Vec<ChipType>,
    /// The chip type inference demand is counted in (`inference.unit_chip`),
    /// if the scenario has inference demand.
    #[serde(default)]
    pub inference_unit_chip: Option<String>,
    /// Percentiles of each chip type's metrics at the end of each quarter:
    /// per quarter, per chip type in file order, per metric.
    #[serde(default)]
    pub quarterly_by_chip: Vec<ChipQuarterRow>,
    /// Chips of domestic types ordered by the end of each quarter, cumulative
    /// (backlog re-orders not counted twice).
    pub ordered_domestic_cumulative: Vec<f64>,
    /// The same orders weighed by peak throughput: Σ chips ordered × the
    /// chip type's `peak_flops`, FLOP/s, cumulative. (Absent from older
    /// summaries, where it is read as empty.)
    #[serde(default)]
    pub ordered_domestic_peak_flops_cumulative: Vec<f64>,
    /// Distribution of cumulative domestic training FLOP at the horizon
    /// (`training_flop_domestic_cumulative` at the end of the last quarter):
    /// trials per bin of a tenth of a decade, `[log10 of the bin's lower edge, trials]`.
    /// Trials with zero domestic training FLOP are not binned; they are
    /// counted in `trials_without_domestic_training_compute`.
    pub training_flop_domestic_at_horizon: Vec<(f64, u64)>,
    /// Trials whose training run never started within the horizon.
    pub trials_without_training: u64,
    /// Trials with zero domestic training FLOP at the horizon: those without
    /// a training run, and those whose run computed on foreign chips only.
    /// (Absent from summaries of older versions, where it is read as 0.)
    #[serde(default)]
    pub trials_without_domestic_training_compute: u64,
    /// When the training run started.
    #[serde(default)]
    pub training_start: TrainingStart,
    /// Each shock, in file order: how often and in which quarters it happened.
    #[serde(default)]
    pub shocks: Vec<ShockResult>,
    /// Each gate, in file order: the share of trials in which it was open,
    /// quarter by quarter; absent without `[gates]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateResult>,
    /// Each supplier, in file order: the share of trials in which each
    /// input bound its output, quarter by quarter; absent without `[suppliers]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppliers: Vec<SupplierResult>,
    /// With `training.max_run_quarters`: each training run by its index
    /// (1 is the run started by `TrainingStart`), as many as any trial had,
    /// with the trials that started it and its domestic compute; absent
    /// when runs are not bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_runs: Option<Vec<TrainingRun>>,
    /// With platform risk (`chips.*.run_failure_probability`): the share
    /// of trials in which at least one run failed and restarted; absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_failure_share: Option<f64>,
    /// Every uncertain number whose distribution reaches outside its valid
    /// range, in model order, with how many of its draws fell outside and
    /// were clamped to it (0 included); absent when no number can be clamped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clamped_inputs: Vec<ClampedInput>,
    /// Every figure of the scenario file, with its source where given.
    pub assumptions: Vec<Assumption>,
    /// How a precision-driven run (`--precision`) ended; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<PrecisionOutcome>,
    /// Warnings about the scenario file, each `line:column: key.path: message`
    /// (as `sancsim validate` prints them, without the file name); absent
    /// when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `--set` overrides the run applied to the scenario file, each
    /// `key.path=value` with the value as TOML, in the order given; absent
    /// when there are none. `scenario_hash` is of the overridden text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    /// With `[[observe]]`: Kish's effective sample size of the posterior
    /// (the accepted trials, with hard observations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_sample_size: Option<f64>,
    /// With `[[observe]]`: how the observations acted (docs/MODEL.md section 11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<crate::evidence::EvidenceSummary>,
}

/// How a precision-driven run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrecisionOutcome {
    /// Target 95% half-width for every milestone probability.
    pub target_half_width: f64,
    /// Widest half-width reached.
    pub achieved_half_width: f64,
    /// Whether every milestone met the target.
    pub converged: bool,
    /// Trials per batch.
    pub batch_trials: u64,
    /// Most trials the run was allowed.
    pub max_trials: u64,
}

/// A chip type, as the charts need it to weigh types against each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChipType {
    /// Chip type id (the `[chips.<name>]` key).
    pub name: String,
    /// Peak dense BF16 throughput per chip, FLOP/s.
    pub peak_flops: f64,
    /// Made domestically.
    pub domestic: bool,
}

/// Percentiles of one metric of one chip type at the end of one quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChipQuarterRow {
    /// Quarter label.
    pub quarter: String,
    /// Chip type id.
    pub chip: String,
    /// Metric name: `delivered_chips_cumulative`, `inference_chips` or
    /// `training_chips` (chips of this type; see docs/MODEL.md).
    pub metric: String,
    /// 5th percentile.
    pub p5: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// Results for one milestone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneResult {
    /// Milestone name.
    pub name: String,
    /// The milestone's `description` from the scenario, if written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Training compute target, FLOP.
    pub target_flop: f64,
    /// Deadline quarter (reached by its end).
    pub deadline: String,
    /// Counts domestic chips' FLOP only.
    pub domestic_only: bool,
    /// Trials that reached the target by the deadline.
    pub reached_by_deadline: u64,
    /// Share of trials that reached the target by the deadline.
    pub probability: f64,
    /// Lower end of the 95% Clopper–Pearson interval of `probability`.
    pub ci95_low: f64,
    /// Upper end of the 95% Clopper–Pearson interval of `probability`.
    pub ci95_high: f64,
    /// Quarter by which 10% of the trials that reach it within the horizon have.
    pub quarter_p10: Option<String>,
    /// Median quarter of reaching it, among trials that do within the horizon.
    pub quarter_p50: Option<String>,
    /// 90th-percentile quarter, among trials that reach it within the horizon.
    pub quarter_p90: Option<String>,
    /// Share of trials that never reach it within the horizon.
    pub never_within_horizon: f64,
    /// Share of trials that reached it by the end of each quarter.
    pub probability_by_quarter: Vec<f64>,
    /// The trials that did not reach it by the deadline, by what held them
    /// back (docs/MODEL.md section 6); they add up to `trials −
    /// reached_by_deadline`.
    #[serde(default)]
    pub missed: MissedCounts,
    /// With `[[observe]]`: the probability before the evidence (all trials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<Estimate>,
    /// With `[[observe]]`: the probability given the evidence, the same as
    /// `probability` and its interval above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posterior: Option<Estimate>,
}

/// A probability with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The share.
    pub probability: f64,
    /// Lower end of its 95% interval.
    pub ci95_low: f64,
    /// Upper end of its 95% interval.
    pub ci95_high: f64,
}

impl Estimate {
    fn of(m: &MilestoneResult) -> Estimate {
        Estimate {
            probability: m.probability,
            ci95_low: m.ci95_low,
            ci95_high: m.ci95_high,
        }
    }
}

/// How an aggregate's counts are reported: an ordinary aggregate counts
/// trials; a posterior counts weights in units of 2^-32 (docs/MODEL.md
/// section 11), reported as trials (rounded), with intervals from the
/// effective sample size when the weights are not all 0 or 1.
#[derive(Debug, Clone, Copy)]
struct Counting {
    unit: u64,
    /// With weights that are not all 0 or 1: the effective sample size and
    /// the posterior's total weight (units of 2^-32).
    effective: Option<f64>,
    total: u64,
}

impl Counting {
    const TRIALS: Counting = Counting {
        unit: 1,
        effective: None,
        total: 0,
    };

    /// A count in trials: exact for an ordinary aggregate and for a
    /// posterior whose weights are all 0 or 1 (the accepted trials); else
    /// in effective trials, `round(c / ΣW × ESS)`, and at least 1 when `c`
    /// is not 0, so that a count is 0 exactly when no weight is behind it.
    fn count(self, c: u64) -> u64 {
        match self.effective {
            _ if self.unit == 1 => c,
            None => c / self.unit + u64::from(c % self.unit >= self.unit / 2),
            Some(_) if c == 0 => 0,
            Some(ess) => ((c as f64 / self.total as f64 * ess).round() as u64).max(1),
        }
    }

    /// The 95% interval of `x` of `n`.
    fn interval(self, x: u64, n: u64) -> (f64, f64) {
        match self.effective {
            None => clopper_pearson(self.count(x), self.count(n), 0.05),
            Some(ess) => crate::stats::clopper_pearson_real(x as f64 / n as f64 * ess, ess, 0.05),
        }
    }
}

/// Trials that missed a milestone, by reason: exactly one each, tested in
/// this order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MissedCounts {
    /// The run had not started by the end of the deadline quarter.
    pub never_started: u64,
    /// It started, but even a full cluster (`max_cluster_chips` of the
    /// fastest eligible chip type) at the median MFU × goodput, from the
    /// start to the deadline, would have done less than the target.
    pub started_too_late: u64,
    /// That full cluster at the trial's own MFU × goodput would have
    /// reached the target: the cluster was below its maximum.
    pub cluster_below_maximum: u64,
    /// A full cluster would have made it at the median MFU × goodput, not
    /// at the trial's own.
    pub low_mfu_goodput: u64,
}

impl MissedCounts {
    /// The counts in [`MissReason::ALL`] order.
    pub fn counts(&self) -> [u64; MissReason::COUNT] {
        [
            self.never_started,
            self.started_too_late,
            self.cluster_below_maximum,
            self.low_mfu_goodput,
        ]
    }

    /// Trials that missed the milestone.
    pub fn total(&self) -> u64 {
        self.counts().iter().sum()
    }
}

/// When the training run started, over all trials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingStart {
    /// For each quarter, the share of trials whose run had started by its end.
    pub started_by_quarter: Vec<StartedBy>,
    /// Quarter by which the run had started in 10% of all trials, or
    /// `never` when fewer than 10% start within the horizon.
    pub quarter_p10: String,
    /// Median start quarter over all trials (trials without a run counted
    /// as later than the horizon), or `never`.
    pub quarter_p50: String,
    /// 90th-percentile start quarter over all trials, or `never`.
    pub quarter_p90: String,
    /// Share of trials whose run never started within the horizon.
    pub never_started: f64,
    /// Trials whose run never started within the horizon.
    pub trials_never_started: u64,
}

/// The share of trials whose run had started by the end of one quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartedBy {
    /// Quarter label.
    pub quarter: String,
    /// Share of trials whose run started in this quarter or before.
    pub probability: f64,
    /// Lower end of the 95% Clopper–Pearson interval.
    pub ci95_low: f64,
    /// Upper end of the 95% Clopper–Pearson interval.
    pub ci95_high: f64,
}

/// One training run (by its index) over the trials that started it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRun {
    /// Run index: 1 for the run `TrainingStart` starts, then 2, 3, …
    pub run: u32,
    /// Trials that started this run within the horizon.
    pub trials: u64,
    /// P10 of the run's domestic training FLOP (at its end, or at the
    /// horizon when still going), over those trials.
    pub domestic_flop_p10: f64,
    /// Median of the same.
    pub domestic_flop_p50: f64,
    /// P90 of the same.
    pub domestic_flop_p90: f64,
}

/// How often one shock happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShockResult {
    /// Shock name (the `[shocks.<name>]` key).
    pub name: String,
    /// Trials in which it happened (its trigger came true; a shock whose
    /// duration rounds to zero quarters counts, though it has no effect).
    pub fired: u64,
    /// `fired` as a share of all trials.
    pub probability: f64,
    /// Trials in which it happened, per quarter it can happen in (its `at`
    /// quarter, or each quarter from `from` to `until`).
    pub by_quarter: Vec<ShockQuarter>,
}

/// How often one gate was open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    /// Gate name (the `[gates.<name>]` key).
    pub name: String,
    /// `open_share[q]`: the share of trials (of the posterior weight, with
    /// `[[observe]]`) in which the gate was open in quarter `q`, one per
    /// quarter of `quarters`.
    pub open_share: Vec<f64>,
}

/// The chip type a supply line's orders of quarter `q` are counted as in
/// `ordered_domestic_peak_flops_cumulative`: its `chip`, or, for a line
/// ordering the newest generation of a supplier, the generation whose
/// announced `available` is the latest at or before `q` (the later in file
/// order on a tie; the first generation when none is announced by then).
fn ordered_chip(model: &Model, line: &crate::model::SupplyLine, q: usize) -> usize {
    match line.fill {
        crate::model::Fill::Supplier {
            supplier, newest: true, ..
        } => model.suppliers[supplier]
            .generations
            .iter()
            .filter(|g| g.available <= q as i64)
            .max_by_key(|g| g.available)
            .map_or(line.chip, |g| g.chip),
        _ => line.chip,
    }
}

/// Which input bound one supplier's output, how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplierResult {
    /// Supplier name (the `[suppliers.<name>]` key).
    pub name: String,
    /// Per quarter of `quarters`, the share of trials (of the posterior
    /// weight, with `[[observe]]`) in which each input bound its output.
    pub binding_share: BindingShares,
}

/// Shares of trials by binding input, one per quarter each; in each
/// quarter they add up to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BindingShares {
    /// Packaging capacity.
    pub packaging: Vec<f64>,
    /// Logic dies (wafers × yield, and the die bank).
    pub dies: Vec<f64>,
    /// HBM stacks.
    pub hbm: Vec<f64>,
    /// No generation was being made.
    pub none: Vec<f64>,
}

/// Trials in which a shock happened in one quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShockQuarter {
    /// Quarter label.
    pub quarter: String,
    /// Trials in which the shock happened in this quarter.
    pub trials: u64,
}

/// Percentiles of one metric at the end of one quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarterRow {
    /// Quarter label.
    pub quarter: String,
    /// Metric name (see docs/MODEL.md for units).
    pub metric: String,
    /// 5th percentile.
    pub p5: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// The reported [`PERCENTILES`] of a per-quarter histogram, rounded to
/// the digits the sketch carries.
fn percentiles(h: &crate::stats::LogHistogram) -> [f64; 5] {
    PERCENTILES.map(|x| round_significant(h.quantile(x).unwrap_or(0.0), QUANTILE_DIGITS))
}

/// Nearest-rank quantile of a quarter-index distribution given as counts.
fn quarter_quantile(counts: &[u64], p: f64) -> Option<usize> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = crate::stats::nearest_rank(p, total);
    let mut seen = 0;
    counts.iter().position(|&c| {
        seen += c;
        seen >= rank
    })
}

impl Summary {
    /// The quarterly row of `metric` in quarter `quarter` (a label), if recorded.
    pub fn quarter_row(&self, quarter: &str, metric: &str) -> Option<&QuarterRow> {
        self.quarterly
            .iter()
            .find(|r| r.quarter == quarter && r.metric == metric)
    }

    /// What this summary's trial counts add up to, as a share's
    /// denominator: the trials, or with observations the posterior's
    /// effective sample size (its counts are in effective trials,
    /// docs/MODEL.md section 11).
    pub fn counted_trials(&self) -> f64 {
        self.evidence
            .as_ref()
            .map_or(self.trials as f64, |e| e.effective_sample_size)
    }

    /// A milestone's successes and trials for an unpaired comparison:
    /// reached and trials, or for a posterior its share times its
    /// effective sample size and that size (Kish; docs/MODEL.md section 11).
    pub fn milestone_counts(&self, m: &MilestoneResult) -> (f64, f64) {
        match &self.evidence {
            None => (m.reached_by_deadline as f64, self.trials as f64),
            Some(e) => (m.probability * e.effective_sample_size, e.effective_sample_size),
        }
    }

    /// Builds the summary of an aggregate. With observations its figures
    /// are the posterior's, each milestone's `prior` and `posterior` side
    /// by side, and `evidence` says how the observations acted.
    pub fn new(model: &Model, agg: &Aggregate, seed: u64, scenario_hash: &str) -> Summary {
        let Some(ev) = &agg.evidence else {
            return Summary::build(model, agg, Counting::TRIALS, agg.trials, seed, scenario_hash);
        };
        let prior = Summary::build(model, agg, Counting::TRIALS, agg.trials, seed, scenario_hash);
        let counting = Counting {
            unit: crate::evidence::WEIGHT_ONE,
            effective: (!ev.all_weights_whole()).then(|| ev.effective_sample_size()),
            total: ev.posterior.trials,
        };
        let mut post = Summary::build(model, &ev.posterior, counting, agg.trials, seed, scenario_hash);
        for (m, p) in post.milestones.iter_mut().zip(&prior.milestones) {
            m.prior = Some(Estimate::of(p));
            m.posterior = Some(Estimate::of(m));
        }
        post.clamped_inputs = prior.clamped_inputs;
        post.warnings = prior.warnings;
        post.effective_sample_size = Some(ev.effective_sample_size());
        post.evidence = Some(crate::evidence::EvidenceSummary::new(model, agg, ev));
        post.executive_summary = crate::explain::executive_summary(&post);
        post
    }

    fn build(
        model: &Model,
        agg: &Aggregate,
        counting: Counting,
        trials: u64,
        seed: u64,
        scenario_hash: &str,
    ) -> Summary {
        let cal = &model.calendar;
        let label = |q: usize| cal.quarter(q as u32).to_string();
        let n = agg.trials;
        let milestones = model
            .milestones
            .iter()
            .zip(&agg.reached_in_quarter)
            .zip(&agg.missed)
            .map(|((m, counts), missed)| {
                let [never_started, started_too_late, cluster_below_maximum, low_mfu_goodput] = *missed;
                let by_deadline: u64 = counts[..=m.deadline as usize].iter().sum();
                let ever: u64 = counts.iter().sum();
                let (lo, hi) = counting.interval(by_deadline, n);
                let mut cum = 0;
                let by_quarter = counts
                    .iter()
                    .map(|c| {
                        cum += c;
                        cum as f64 / n as f64
                    })
                    .collect();
                let description_key = KeyPath::root()
                    .key("milestones")
                    .key(&m.name)
                    .key("description")
                    .to_string();
                MilestoneResult {
                    name: m.name.clone(),
                    description: model
                        .assumptions
                        .iter()
                        .find(|a| a.key == description_key)
                        .map(|a| a.value.clone()),
                    target_flop: m.target_flop,
                    deadline: label(m.deadline as usize),
                    domestic_only: m.domestic_only,
                    reached_by_deadline: counting.count(by_deadline),
                    probability: by_deadline as f64 / n as f64,
                    ci95_low: lo,
                    ci95_high: hi,
                    quarter_p10: quarter_quantile(counts, 0.1).map(label),
                    quarter_p50: quarter_quantile(counts, 0.5).map(label),
                    quarter_p90: quarter_quantile(counts, 0.9).map(label),
                    never_within_horizon: (n - ever) as f64 / n as f64,
                    probability_by_quarter: by_quarter,
                    missed: MissedCounts {
                        never_started: counting.count(never_started),
                        started_too_late: counting.count(started_too_late),
                        cluster_below_maximum: counting.count(cluster_below_maximum),
                        low_mfu_goodput: counting.count(low_mfu_goodput),
                    },
                    prior: None,
                    posterior: None,
                }
            })
            .collect();
        let mut quarterly = Vec::new();
        let series = series_names(model);
        for q in 0..model.horizon() {
            let totals = Metric::ALL.map(|m| (m.name(), Some(agg.metric(q, m))));
            // Then the quantities the scenario records beyond them (demand in
            // tokens, foreign deliveries, suppliers).
            let extra = series
                .iter()
                .enumerate()
                .map(|(k, name)| (name.as_str(), Some(agg.series_metric(q, k, series.len()))));
            for (name, hist) in totals.into_iter().chain(extra) {
                let Some(hist) = hist else { continue };
                let [p5, p25, p50, p75, p95] = percentiles(hist);
                quarterly.push(QuarterRow {
                    quarter: label(q as usize),
                    metric: name.to_string(),
                    p5,
                    p25,
                    p50,
                    p75,
                    p95,
                });
            }
        }
        let mut quarterly_by_chip = Vec::new();
        for q in 0..model.horizon() {
            for (c, chip) in model.chips.iter().enumerate() {
                for k in ChipMetric::ALL {
                    let [p5, p25, p50, p75, p95] = percentiles(agg.chip_metric(q, c, k));
                    quarterly_by_chip.push(ChipQuarterRow {
                        quarter: label(q as usize),
                        chip: chip.name.clone(),
                        metric: k.name().to_string(),
                        p5,
                        p25,
                        p50,
                        p75,
                        p95,
                    });
                }
            }
        }
        let mut ordered = 0.0;
        let ordered_domestic_cumulative = (0..model.horizon() as usize)
            .map(|q| {
                ordered += model
                    .supply
                    .iter()
                    .filter(|l| model.chips[l.chip].domestic)
                    .map(|l| l.orders[q] as f64)
                    .sum::<f64>();
                ordered
            })
            .collect();
        let mut ordered_flops = 0.0;
        let ordered_domestic_peak_flops_cumulative = (0..model.horizon() as usize)
            .map(|q| {
                ordered_flops += model
                    .supply
                    .iter()
                    .filter(|l| model.chips[l.chip].domestic)
                    .map(|l| l.orders[q] as f64 * model.chips[ordered_chip(model, l, q)].peak_flops)
                    .sum::<f64>();
                ordered_flops
            })
            .collect();
        let last = agg.metric(model.horizon() - 1, Metric::TrainingFlopDomestic);
        let mut decades: Vec<(f64, u64)> = Vec::new();
        let mut trials_without_domestic_training_compute = 0;
        for (v, c) in last.buckets() {
            if v <= 0.0 {
                trials_without_domestic_training_compute += c;
                continue;
            }
            let bin = (v.log10() * 10.0).floor() / 10.0;
            let bin = round_significant(bin, 6);
            match decades.last_mut() {
                Some((b, n)) if *b == bin => *n += c,
                _ => decades.push((bin, c)),
            }
        }
        for (_, c) in &mut decades {
            *c = counting.count(*c);
        }
        let trials_without_domestic_training_compute = counting.count(trials_without_domestic_training_compute);
        let mut summary = Summary {
            scenario: model.name.clone(),
            description: model.description.clone(),
            scenario_hash: scenario_hash.to_string(),
            seed,
            trials,
            sancsim_version: env!("CARGO_PKG_VERSION").to_string(),
            start: cal.start().to_string(),
            horizon_quarters: model.horizon(),
            quarters: (0..model.horizon() as usize).map(label).collect(),
            executive_summary: String::new(),
            milestones,
            quarterly,
            chip_types: model
                .chips
                .iter()
                .map(|c| ChipType {
                    name: c.name.clone(),
                    peak_flops: c.peak_flops,
                    domestic: c.domestic,
                })
                .collect(),
            inference_unit_chip: model.inference.as_ref().map(|i| model.chips[i.unit_chip].name.clone()),
            quarterly_by_chip,
            ordered_domestic_cumulative,
            ordered_domestic_peak_flops_cumulative,
            training_flop_domestic_at_horizon: decades,
            // A corrupt partial result could count more runs than trials.
            trials_without_training: counting.count(n.saturating_sub(agg.training_started)),
            trials_without_domestic_training_compute,
            training_start: training_start(model, agg, counting),
            shocks: shocks(model, agg, counting),
            gates: model
                .gates
                .iter()
                .zip(&agg.gate_open_in_quarter)
                .map(|(gate, counts)| GateResult {
                    name: gate.name.clone(),
                    open_share: counts.iter().map(|&c| c as f64 / agg.trials as f64).collect(),
                })
                .collect(),
            suppliers: model
                .suppliers
                .iter()
                .enumerate()
                .map(|(s, sup)| {
                    let shares = |b: Binding| (0..model.horizon()).map(|q| agg.binding_share(s, b, q)).collect();
                    SupplierResult {
                        name: sup.name.clone(),
                        binding_share: BindingShares {
                            packaging: shares(Binding::Packaging),
                            dies: shares(Binding::Dies),
                            hbm: shares(Binding::Hbm),
                            none: shares(Binding::None),
                        },
                    }
                })
                .collect(),
            training_runs: training_runs(model, agg, counting),
            run_failure_share: model
                .training
                .run_failures
                .then(|| agg.run_failed as f64 / agg.trials.max(1) as f64),
            clamped_inputs: clamped_inputs(model, agg),
            assumptions: model.assumptions.clone(),
            precision: None,
            warnings: model
                .warnings
                .iter()
                .map(warning_text)
                .chain(clamp_warnings(model, agg))
                .collect(),
            overrides: model.overrides.clone(),
            effective_sample_size: None,
            evidence: None,
        };
        summary.executive_summary = crate::explain::executive_summary(&summary);
        summary
    }
}

/// When the run started: by quarter with intervals, and the start quarter's
/// P10/P50/P90 over all trials, those without a run counted after the
/// horizon (so a percentile may be `never`).
fn training_start(model: &Model, agg: &Aggregate, counting: Counting) -> TrainingStart {
    let cal = &model.calendar;
    let n = agg.trials;
    let started: u64 = agg.started_in_quarter.iter().sum();
    let never = n.saturating_sub(started);
    let mut cum = 0;
    let started_by_quarter = agg
        .started_in_quarter
        .iter()
        .enumerate()
        .map(|(q, c)| {
            cum += c;
            let (lo, hi) = counting.interval(cum, n);
            StartedBy {
                quarter: cal.quarter(q as u32).to_string(),
                probability: cum as f64 / n as f64,
                ci95_low: lo,
                ci95_high: hi,
            }
        })
        .collect();
    let mut counts = agg.started_in_quarter.clone();
    counts.push(never);
    let quantile = |p: f64| match quarter_quantile(&counts, p) {
        Some(q) if q < model.horizon() as usize => cal.quarter(q as u32).to_string(),
        _ => NEVER.to_string(),
    };
    TrainingStart {
        started_by_quarter,
        quarter_p10: quantile(0.1),
        quarter_p50: quantile(0.5),
        quarter_p90: quantile(0.9),
        never_started: never as f64 / n as f64,
        trials_never_started: counting.count(never),
    }
}

/// With bounded runs: each run index up to the last that some (weighted)
/// trial started, its trials and its domestic FLOP's P10/P50/P90
/// (nearest rank on the log-linear histogram, 3 significant digits).
fn training_runs(model: &Model, agg: &Aggregate, counting: Counting) -> Option<Vec<TrainingRun>> {
    model.training.max_run_seconds?;
    let last = agg.runs.iter().rposition(|h| h.count() > 0).map_or(0, |j| j + 1);
    let q = |h: &crate::stats::LogHistogram, p: f64| round_significant(h.quantile(p).unwrap_or(0.0), QUANTILE_DIGITS);
    Some(
        agg.runs[..last]
            .iter()
            .enumerate()
            .map(|(j, h)| TrainingRun {
                run: j as u32 + 1,
                trials: counting.count(h.count()),
                domestic_flop_p10: q(h, 0.1),
                domestic_flop_p50: q(h, 0.5),
                domestic_flop_p90: q(h, 0.9),
            })
            .collect(),
    )
}

/// What a start-quarter percentile says when it lies beyond the horizon.
pub const NEVER: &str = "never";

/// Each shock: trials in which it happened, in all and per quarter it can
/// happen in.
fn shocks(model: &Model, agg: &Aggregate, counting: Counting) -> Vec<ShockResult> {
    let cal = &model.calendar;
    model
        .shocks
        .iter()
        .zip(&agg.shock_in_quarter)
        .map(|(shock, counts)| {
            let quarters = match shock.trigger {
                Trigger::At { quarter, .. } => quarter..=quarter,
                Trigger::Hazard { from, until, .. } => from..=until,
            };
            let fired: u64 = counts.iter().sum();
            ShockResult {
                name: shock.name.clone(),
                fired: counting.count(fired),
                probability: fired as f64 / agg.trials as f64,
                by_quarter: quarters
                    .map(|q| ShockQuarter {
                        quarter: cal.quarter(q).to_string(),
                        trials: counting.count(counts[q as usize]),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// A warning as summary.json shows it: `line:column: key.path: message`.
fn warning_text(w: &crate::error::ScenarioError) -> String {
    match (w.line, w.column) {
        (Some(l), Some(c)) => format!("{l}:{c}: {}: {}", w.key_path, w.message),
        (Some(l), None) => format!("{l}: {}: {}", w.key_path, w.message),
        _ => format!("{}: {}", w.key_path, w.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trials::run_trials;

    /// Two chip types, one foreign; foreign chips may train. The run needs
    /// 2,500 chips, which a low fill rate sometimes never gathers, and the
    /// domestic chips' lead time often lands them beyond the horizon: some
    /// trials have no run, some a run on foreign chips only, some both kinds.
    const MIXED: &str = r#"[scenario]
name = "mixed"
start = "2024Q1"
horizon_quarters = 8

[chips.dom]
peak_flops = 1e14

[chips.imp]
peak_flops = 1e14
domestic = false

[supply.dom_line]
chip = "dom"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]
lead_time_quarters = { dist = "uniform", low = 0, high = 20 }

[supply.imp_line]
chip = "imp"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]
fill_rate = { dist = "beta", alpha = 2, beta = 3 }

[training]
mfu = 0.4
min_cluster_chips = 2500
allow_foreign_chips = true

[milestones.m]
target_flop = 1e20
deadline = "2025Q4"
domestic_only = false
"#;

    fn model() -> Model {
        Model::from_text(MIXED, "mixed.toml").unwrap()
    }

    #[test]
    fn trials_without_a_run_and_without_domestic_compute_are_counted_apart() {
        let model = model();
        let agg = run_trials(&model, 3, 0..400, Some(1)).unwrap();
        let s = Summary::new(&model, &agg, 3, "hash");
        // A run that starts computes from its first quarter on (mfu > 0), so
        // the trials without a run are those with no training FLOP at all.
        let last = model.horizon() - 1;
        let no_flop = |m: Metric| {
            agg.metric(last, m)
                .buckets()
                .iter()
                .filter(|b| b.0 <= 0.0)
                .map(|b| b.1)
                .sum::<u64>()
        };
        assert_eq!(s.trials_without_training, no_flop(Metric::TrainingFlop));
        assert_eq!(
            s.trials_without_domestic_training_compute,
            no_flop(Metric::TrainingFlopDomestic)
        );
        assert!(0 < s.trials_without_training, "{}", s.trials_without_training);
        assert!(s.trials_without_training < s.trials_without_domestic_training_compute);
        assert!(s.trials_without_domestic_training_compute < s.trials);
        let binned: u64 = s.training_flop_domestic_at_horizon.iter().map(|b| b.1).sum();
        assert_eq!(binned + s.trials_without_domestic_training_compute, s.trials);
    }

    #[test]
    fn chip_types_descriptions_and_per_type_rows_are_reported() {
        let model = model();
        let agg = run_trials(&model, 3, 0..200, Some(1)).unwrap();
        let s = Summary::new(&model, &agg, 3, "h");
        assert_eq!(s.chip_types.len(), 2);
        assert_eq!(
            (s.chip_types[1].name.as_str(), s.chip_types[1].domestic),
            ("imp", false)
        );
        assert_eq!(s.chip_types[0].peak_flops, 1e14);
        assert_eq!(s.inference_unit_chip, None);
        assert_eq!(s.quarterly_by_chip.len(), 8 * 2 * ChipMetric::COUNT);
        let row = &s.quarterly_by_chip[2 * ChipMetric::COUNT + 1];
        assert_eq!(
            (row.quarter.as_str(), row.chip.as_str(), row.metric.as_str()),
            ("2024Q2", "dom", "inference_chips")
        );
        assert_eq!(s.milestones[0].description, None);
        let described = MIXED.replace(
            "[milestones.m]\n",
            "[milestones.m]\ndescription = \"GPT-4 class, | and more\"\n",
        );
        let model = Model::from_text(&described, "d.toml").unwrap();
        let s = Summary::new(&model, &run_trials(&model, 3, 0..10, Some(1)).unwrap(), 3, "h");
        assert_eq!(s.milestones[0].description.as_deref(), Some("GPT-4 class, | and more"));
        // Older summaries, without the new fields, still read.
        let mut json: serde_json::Value = serde_json::to_value(&s).unwrap();
        for key in ["chip_types", "inference_unit_chip", "quarterly_by_chip"] {
            json.as_object_mut().unwrap().remove(key);
        }
        let old: Summary = serde_json::from_value(json).unwrap();
        assert!(old.chip_types.is_empty() && old.quarterly_by_chip.is_empty());
    }

    #[test]
    fn runs_started_merge_exactly_and_cannot_exceed_trials() {
        let model = model();
        let whole = run_trials(&model, 3, 0..300, Some(1)).unwrap();
        let parts = run_trials(&model, 3, 0..123, Some(1))
            .unwrap()
            .merge(run_trials(&model, 3, 123..300, Some(2)).unwrap())
            .unwrap();
        assert_eq!(parts.training_started, whole.training_started);
        assert_eq!(
            Summary::new(&model, &parts, 3, "h"),
            Summary::new(&model, &whole, 3, "h")
        );
        let mut corrupt = whole.clone();
        corrupt.training_started = corrupt.trials + 1;
        assert!(!whole.same_shape(&corrupt) && !corrupt.same_shape(&whole));
        assert!(whole.same_shape(&whole.clone()));
        // Built anyway, the summary does not wrap around.
        assert_eq!(Summary::new(&model, &corrupt, 3, "h").trials_without_training, 0);
    }

    #[test]
    fn start_quarters_count_runs_that_never_start_as_later_than_the_horizon() {
        let model = Model::from_text(include_str!("../scenarios/default.toml"), "d.toml").unwrap();
        let mut agg = Aggregate::plain(&model);
        agg.trials = 10;
        agg.training_started = 5;
        agg.started_in_quarter[1] = 2;
        agg.started_in_quarter[2] = 3;
        agg.shock_in_quarter[0][3] = 9;
        agg.shock_in_quarter[2][4] = 1;
        agg.shock_in_quarter[2][15] = 2;
        agg.missed[0] = [5, 1, 2, 2];
        let s = Summary::new(&model, &agg, 1, "h");
        let ts = &s.training_start;
        // Ranks 1, 5 and 9 of 10: 2024Q2, 2024Q3 and beyond the horizon.
        assert_eq!(
            (
                ts.quarter_p10.as_str(),
                ts.quarter_p50.as_str(),
                ts.quarter_p90.as_str()
            ),
            ("2024Q2", "2024Q3", "never")
        );
        assert_eq!((ts.never_started, ts.trials_never_started), (0.5, 5));
        assert_eq!(ts.started_by_quarter.len(), 16);
        let q3 = &ts.started_by_quarter[2];
        assert_eq!((q3.quarter.as_str(), q3.probability), ("2024Q3", 0.5));
        assert_eq!((q3.ci95_low, q3.ci95_high), clopper_pearson(5, 10, 0.05));
        assert_eq!(ts.started_by_quarter[0].probability, 0.0);
        // Shocks: the quarter of an `at` shock, every quarter of a hazard's window.
        assert_eq!(s.shocks.len(), 3);
        assert_eq!(
            (s.shocks[0].name.as_str(), s.shocks[0].fired, s.shocks[0].probability),
            ("hbm_rule_dec2024", 9, 0.9)
        );
        assert_eq!(
            s.shocks[0].by_quarter,
            [ShockQuarter {
                quarter: "2024Q4".into(),
                trials: 9
            }]
        );
        assert_eq!(s.shocks[1].fired, 0);
        assert_eq!(s.shocks[1].by_quarter.len(), 1);
        let hazard = &s.shocks[2];
        assert_eq!(hazard.by_quarter.len(), 12);
        assert_eq!(hazard.by_quarter[0].quarter, "2025Q1");
        assert_eq!(
            (hazard.by_quarter[0].trials, hazard.by_quarter[11].trials, hazard.fired),
            (1, 2, 3)
        );
        assert_eq!(
            s.milestones[0].missed,
            MissedCounts {
                never_started: 5,
                started_too_late: 1,
                cluster_below_maximum: 2,
                low_mfu_goodput: 2
            }
        );
        assert_eq!(s.milestones[0].missed.total(), 10);
        // Every run started: the percentiles are quarters.
        agg.started_in_quarter[2] = 8;
        agg.training_started = 10;
        let ts = Summary::new(&model, &agg, 1, "h").training_start;
        assert_eq!((ts.quarter_p90.as_str(), ts.trials_never_started), ("2024Q3", 0));
        // Older summaries, without the new fields, still read.
        let mut json = serde_json::to_value(&s).unwrap();
        for key in ["training_start", "shocks", "executive_summary"] {
            json.as_object_mut().unwrap().remove(key);
        }
        json["milestones"][0].as_object_mut().unwrap().remove("missed");
        let old: Summary = serde_json::from_value(json).unwrap();
        assert_eq!(old.training_start, TrainingStart::default());
        assert_eq!(old.milestones[0].missed.total(), 0);
    }
}
