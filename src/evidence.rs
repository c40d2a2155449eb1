//! Evidence: `[[observe]]` tables condition the trials on what has been
//! observed (docs/MODEL.md section 11).
//!
//! Each observation gives every trial a likelihood in [0, 1]: a hard one 1
//! or 0 (the trial is rejected), a soft one a measurement-error or
//! reliability weight. A trial's weight is the product, kept as an integer
//! in units of 2^-32 ([`WEIGHT_ONE`]), so that every weighted sum is an
//! integer and merges exactly, in any order, across threads and shards.
//! The posterior is an [`Aggregate`] whose trials count with their integer
//! weights; the prior is the ordinary aggregate of all trials.

use serde::{Deserialize, Serialize};

use crate::engine::{ChipMetric, Metric, Workspace};
use crate::model::{Model, Per, format_number};
use crate::stats::LogHistogram;
use crate::trials::{Aggregate, MergeError};

/// The weight of a trial that every observation agrees with fully.
pub const WEIGHT_ONE: u64 = 1 << 32;

/// Bins of each input's prior and posterior histograms.
pub const INPUT_BINS: usize = 40;

/// What an observation is about: `observe.quantity` as written.
pub use crate::scenario::RawObservedQuantity as Quantity;

impl Quantity {
    /// The name written in `quantity = "…"`.
    pub fn name(self) -> &'static str {
        match self {
            Quantity::DeliveredChips => "delivered_chips",
            Quantity::TrainingFlop => "training_flop",
            Quantity::TrainingFlopDomestic => "training_flop_domestic",
            Quantity::LargestRunFlop => "largest_run_flop",
            Quantity::LargestRunFlopDomestic => "largest_run_flop_domestic",
            Quantity::TrainingChips => "training_chips",
            Quantity::InferenceChips => "inference_chips",
            Quantity::Input => "input",
            Quantity::Shock => "shock",
            Quantity::TrainingStarted => "training_started",
            Quantity::Milestone => "milestone",
            Quantity::GateOpen => "gate_open",
            Quantity::SupplierOutput => "supplier_output",
        }
    }

    /// An event (happened or not), as opposed to a value.
    pub fn is_event(self) -> bool {
        matches!(
            self,
            Quantity::Shock | Quantity::TrainingStarted | Quantity::Milestone | Quantity::GateOpen
        )
    }

    /// A value that only grows (so a window `from`..`to` means what was
    /// added within it).
    pub fn is_cumulative(self) -> bool {
        matches!(
            self,
            Quantity::DeliveredChips
                | Quantity::TrainingFlop
                | Quantity::TrainingFlopDomestic
                | Quantity::SupplierOutput
        )
    }
}

/// Whose quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The totals (all domestic chips for deliveries), or the one run.
    Total,
    /// A supply line, by index.
    Line(usize),
    /// A chip type, by index.
    Chip(usize),
    /// A shock, by index.
    Shock(usize),
    /// A milestone, by index.
    Milestone(usize),
    /// A gate, by index.
    Gate(usize),
    /// An uncertain number, by id.
    Input(usize),
    /// A supplier, by index, and one of its generations (by index), if named.
    Supplier(usize, Option<usize>),
}

/// When.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// At the end of quarter `q` (a value), or by its end (an event).
    By(u32),
    /// Added within, or happened in a quarter of, `from..=to`.
    Between(u32, u32),
    /// An event at any time within the horizon; a per-trial input.
    Always,
}

/// What was observed of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Test {
    /// The value lies in `[at_least, below)` (infinite where not given).
    Range {
        /// Lower bound, inclusive (`-inf` when not given).
        at_least: f64,
        /// Upper bound, exclusive (`+inf` when not given).
        below: f64,
    },
    /// The value was measured as this (with `Strength::Sd`).
    Near(f64),
    /// The event happened (`true`) or did not.
    Happened(bool),
}

/// How much the observation is trusted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strength {
    /// Exactly true: trials that contradict it are rejected.
    Hard,
    /// Measured with normal error `sd`, on the log10 scale when `log10`.
    Sd {
        /// Standard deviation of the error (decades when `log10`).
        sd: f64,
        /// Apply the error to log10 of the value and bounds.
        log10: bool,
    },
    /// Right with this chance (0.5 < c < 1).
    Confidence(f64),
}

/// One `[[observe]]` table, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Identifier.
    pub name: String,
    /// What is observed.
    pub quantity: Quantity,
    /// Of what.
    pub subject: Subject,
    /// When.
    pub window: Window,
    /// What was seen.
    pub test: Test,
    /// How sure.
    pub strength: Strength,
    /// In words, where written.
    pub description: Option<String>,
    /// Where from, where written.
    pub source: Option<String>,
}

/// Standard normal CDF.
fn phi(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2)
}

/// Standard normal upper tail, `1 - phi(z)`, accurate far out.
fn phi_upper(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(z / std::f64::consts::SQRT_2)
}

/// log10 for the `log10` scale: `-inf` for values at or below 0.
fn log10_or_minus_inf(x: f64) -> f64 {
    if x > 0.0 { x.log10() } else { f64::NEG_INFINITY }
}

/// The chance that `x + e`, `e ~ N(0, sd²)`, lies in `[lo, hi)`:
/// `Φ((hi − x)/sd) − Φ((lo − x)/sd)`, from the upper tails when `x` lies
/// below the range (both terms near 1) so that it stays accurate.
fn in_range_with_error(x: f64, lo: f64, hi: f64, sd: f64) -> f64 {
    let upper = |b: f64| {
        if b == f64::INFINITY {
            1.0
        } else if x == f64::NEG_INFINITY {
            if b == f64::NEG_INFINITY { 0.0 } else { 1.0 }
        } else {
            phi((b - x) / sd)
        }
    };
    let w = if lo == f64::NEG_INFINITY {
        upper(hi)
    } else if x == f64::NEG_INFINITY {
        0.0
    } else if x < lo {
        // Both terms close to 1: Φc((lo − x)/sd) − Φc((hi − x)/sd).
        let tail_hi = if hi == f64::INFINITY {
            0.0
        } else {
            phi_upper((hi - x) / sd)
        };
        phi_upper((lo - x) / sd) - tail_hi
    } else {
        upper(hi) - phi((lo - x) / sd)
    };
    w.clamp(0.0, 1.0)
}

/// What a trial shows of an observation's quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seen {
    /// A value.
    Value(f64),
    /// Whether the event happened.
    Event(bool),
}

impl Observation {
    /// Without `sd` or `confidence`.
    pub fn is_hard(&self) -> bool {
        self.strength == Strength::Hard
    }

    /// The observed quantity in the trial just simulated in `ws`.
    pub fn seen(&self, model: &Model, ws: &Workspace) -> Seen {
        let o = &ws.outcome;
        if let Subject::Gate(g) = self.subject {
            // Open in at least one quarter of the window.
            let gates = model.gates.len();
            let (a, b) = match self.window {
                Window::Always => (0, model.horizon() - 1),
                Window::By(b) => (0, b),
                Window::Between(a, b) => (a, b),
            };
            return Seen::Event((a..=b).any(|q| o.gate_open[q as usize * gates + g]));
        }
        if self.quantity.is_event() {
            let quarter = match self.subject {
                Subject::Shock(s) => o.shocks[s],
                Subject::Milestone(k) => o.reached[k],
                _ => o.start_time.map(|t| model.calendar.quarter_at(t)),
            };
            let happened = match (self.window, quarter) {
                (_, None) => false,
                (Window::Always, Some(_)) => true,
                (Window::By(b), Some(q)) => q <= b,
                (Window::Between(a, b), Some(q)) => a <= q && q <= b,
            };
            return Seen::Event(happened);
        }
        if let Subject::Supplier(s, g) = self.subject {
            // Chips made in the quarters of the window, added up.
            let (a, b) = match self.window {
                Window::Always => (0, model.horizon() - 1),
                Window::By(b) => (0, b),
                Window::Between(a, b) => (a, b),
            };
            let k = match g {
                None => crate::engine::supplier_output_series(model, s),
                Some(g) => crate::engine::generation_output_series(model, s, g),
            };
            let n = o.series.len() / model.horizon() as usize;
            return Seen::Value((a..=b).map(|q| o.series[q as usize * n + k]).sum());
        }
        if let Subject::Input(id) = self.subject {
            let slots = ws.input_slots(model, id);
            let q = match (model.uncertain[id].per, self.window) {
                (Per::Quarter, Window::By(q)) => q as usize,
                _ => 0,
            };
            return Seen::Value(ws.inputs()[slots.start + q]);
        }
        let at = |q: u32| -> f64 {
            let chips = model.chips.len();
            let chip = |c: usize, k: ChipMetric| {
                let idx = ChipMetric::ALL.iter().position(|x| *x == k).unwrap_or(0);
                o.chip_metrics[(q as usize * chips + c) * ChipMetric::COUNT + idx]
            };
            let metric = |m: Metric| o.metrics[q as usize][m as usize];
            match (self.quantity, self.subject) {
                (Quantity::DeliveredChips, Subject::Line(l)) => o.line_delivered[q as usize * model.supply.len() + l],
                (Quantity::DeliveredChips, Subject::Chip(c)) => chip(c, ChipMetric::Delivered),
                (Quantity::DeliveredChips, _) => metric(Metric::DeliveredDomestic),
                (Quantity::TrainingFlop, _) => metric(Metric::TrainingFlop),
                (Quantity::TrainingFlopDomestic, _) => metric(Metric::TrainingFlopDomestic),
                (Quantity::LargestRunFlop, _) => o.largest_run_flop[q as usize][0],
                (Quantity::LargestRunFlopDomestic, _) => o.largest_run_flop[q as usize][1],
                (Quantity::TrainingChips, Subject::Chip(c)) => chip(c, ChipMetric::Training),
                (Quantity::TrainingChips, _) => metric(Metric::TrainingChips),
                (Quantity::InferenceChips, Subject::Chip(c)) => chip(c, ChipMetric::Inference),
                (Quantity::InferenceChips, _) => metric(Metric::InferenceChips),
                _ => 0.0,
            }
        };
        Seen::Value(match self.window {
            Window::By(q) => at(q),
            Window::Between(a, b) => at(b) - if a == 0 { 0.0 } else { at(a - 1) },
            Window::Always => at(model.horizon() - 1),
        })
    }

    /// The likelihood of the observation in the trial just simulated, in
    /// [0, 1]: 1 where the trial agrees with it.
    pub fn likelihood(&self, model: &Model, ws: &Workspace) -> f64 {
        self.likelihood_of(self.seen(model, ws))
    }

    /// The likelihood of the observation given what a trial shows.
    pub fn likelihood_of(&self, seen: Seen) -> f64 {
        let agrees = match (self.test, seen) {
            (Test::Range { at_least, below }, Seen::Value(x)) => at_least <= x && x < below,
            (Test::Happened(h), Seen::Event(e)) => h == e,
            _ => false,
        };
        match (self.strength, self.test, seen) {
            (Strength::Hard, ..) => f64::from(u8::from(agrees)),
            (Strength::Confidence(c), ..) => {
                if agrees {
                    1.0
                } else {
                    (1.0 - c) / c
                }
            }
            (Strength::Sd { sd, log10 }, test, Seen::Value(x)) => {
                let t = |v: f64| if log10 { log10_or_minus_inf(v) } else { v };
                match test {
                    Test::Range { at_least, below } => {
                        let lo = if at_least == f64::NEG_INFINITY {
                            at_least
                        } else {
                            t(at_least)
                        };
                        let hi = if below == f64::INFINITY { below } else { t(below) };
                        in_range_with_error(t(x), lo, hi, sd)
                    }
                    Test::Near(v) => {
                        let z = (t(x) - t(v)) / sd;
                        if z.is_finite() { (-0.5 * z * z).exp() } else { 0.0 }
                    }
                    Test::Happened(_) => f64::from(u8::from(agrees)),
                }
            }
            (Strength::Sd { .. }, _, Seen::Event(_)) => f64::from(u8::from(agrees)),
        }
    }

    /// Whether its value is kept in a histogram for the outputs: values
    /// other than inputs (which have their own bins).
    pub fn records_value(&self) -> bool {
        !self.quantity.is_event() && self.quantity != Quantity::Input
    }

    /// `hard` or `soft`, as the outputs say.
    pub fn kind(&self) -> &'static str {
        if self.is_hard() { "hard" } else { "soft" }
    }
}

/// A likelihood (or product of them) in [0, 1] as an integer weight in
/// units of 2^-32, rounded to nearest.
pub fn to_weight(w: f64) -> u64 {
    (w.clamp(0.0, 1.0) * WEIGHT_ONE as f64).round() as u64
}

/// The evidence of one trial: whether it passes every hard observation,
/// its weight (the product of all the likelihoods, in [0, 1]) and each
/// observation's own likelihood, written into `each`.
pub fn trial_weight(model: &Model, ws: &Workspace, each: &mut [f64]) -> (bool, f64) {
    let mut w = 1.0;
    let mut accepted = true;
    for (o, slot) in model.observations.iter().zip(each.iter_mut()) {
        let l = o.likelihood(model, ws);
        *slot = l;
        w *= l;
        if o.is_hard() && l == 0.0 {
            accepted = false;
        }
    }
    (accepted, w)
}

/// The bins of an input's histograms: [`INPUT_BINS`] equal bins from `lo`
/// to `hi`, its distribution's 0.1% and 99.9% quantiles within its valid
/// range; draws outside fall in the end bins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputBins {
    /// The uncertain number.
    pub id: usize,
    /// Lower edge of the first bin.
    pub lo: f64,
    /// Upper edge of the last bin.
    pub hi: f64,
}

impl InputBins {
    /// The bin of a value.
    pub fn bin(&self, v: f64) -> usize {
        let x = (v - self.lo) / (self.hi - self.lo) * INPUT_BINS as f64;
        if x >= 0.0 { (x as usize).min(INPUT_BINS - 1) } else { 0 }
    }
}

/// The inputs whose prior and posterior are binned: every uncertain number
/// that has a distribution (not a fixed value), in model order, whose
/// 0.1%–99.9% range within its valid range is not empty.
pub fn binned_inputs(model: &Model) -> Vec<InputBins> {
    model
        .uncertain
        .iter()
        .enumerate()
        .filter(|(_, u)| !u.dist.is_fixed())
        .filter_map(|(id, u)| {
            let lo = u.dist.quantile(0.001).clamp(u.min, u.max);
            let hi = u.dist.quantile(0.999).clamp(u.min, u.max);
            (hi > lo && lo.is_finite() && hi.is_finite()).then_some(InputBins { id, lo, hi })
        })
        .collect()
}

/// Everything a run keeps about the evidence, beside the prior aggregate:
/// integer sums only, so that merging is exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Trials simulated (the prior's).
    pub trials: u64,
    /// Trials that pass every hard observation.
    pub accepted: u64,
    /// Σ over trials of `W²` (`W` the trial's integer weight), exactly, for
    /// the effective sample size (a decimal string in partial results:
    /// JSON readers need not hold 128-bit integers).
    #[serde(with = "u128_text")]
    pub weight_squares: u128,
    /// Per observation, Σ over all trials of its own likelihood in units of
    /// 2^-32: for a hard one, 2^32 × the trials that agree with it.
    pub support: Vec<u64>,
    /// Per binned input ([`binned_inputs`]): draws per bin, over all trials.
    pub input_prior: Vec<Vec<u64>>,
    /// Per binned input: weights per bin (units of 2^-32).
    pub input_posterior: Vec<Vec<u64>>,
    /// Per observation of a value (not an input): its value in every
    /// trial (empty for the others).
    pub observed_prior: Vec<LogHistogram>,
    /// The same values, each with its trial's weight (units of 2^-32).
    pub observed_posterior: Vec<LogHistogram>,
    /// The posterior: every trial counted with its weight (units of 2^-32).
    pub posterior: Aggregate,
}

impl Evidence {
    /// Empty, for `model`.
    pub fn new(model: &Model) -> Evidence {
        let bins = binned_inputs(model).len();
        Evidence {
            trials: 0,
            accepted: 0,
            weight_squares: 0,
            support: vec![0; model.observations.len()],
            input_prior: vec![vec![0; INPUT_BINS]; bins],
            input_posterior: vec![vec![0; INPUT_BINS]; bins],
            observed_prior: vec![LogHistogram::new(); model.observations.len()],
            observed_posterior: vec![LogHistogram::new(); model.observations.len()],
            posterior: Aggregate::plain(model),
        }
    }

    /// Σ of the weights, in trials (full-weight trials count 1).
    pub fn weight_total(&self) -> f64 {
        self.posterior.trials as f64 / WEIGHT_ONE as f64
    }

    /// Kish's effective sample size `(Σw)² / Σw²`; with hard observations
    /// only, exactly the accepted trials. 0 when no trial has weight.
    pub fn effective_sample_size(&self) -> f64 {
        if self.weight_squares == 0 {
            return 0.0;
        }
        if self.all_weights_whole() {
            return self.accepted as f64;
        }
        let sum = self.posterior.trials as f64;
        sum * sum / self.weight_squares as f64
    }

    /// Whether every trial's weight is 0 or 1 (hard observations only, or
    /// soft ones that never weighed a trial below 1): then the posterior
    /// is the accepted trials, counted as trials.
    pub fn all_weights_whole(&self) -> bool {
        self.posterior.trials == self.accepted.saturating_mul(WEIGHT_ONE)
            && self.weight_squares == self.posterior.trials as u128 * WEIGHT_ONE as u128
    }

    pub(crate) fn same_shape(&self, other: &Evidence) -> bool {
        self.support.len() == other.support.len()
            && self.input_prior.len() == other.input_prior.len()
            && self.input_posterior.len() == other.input_posterior.len()
            && self
                .input_prior
                .iter()
                .chain(&self.input_posterior)
                .chain(&other.input_prior)
                .chain(&other.input_posterior)
                .all(|b| b.len() == INPUT_BINS)
            && self.observed_prior.len() == self.support.len()
            && self.observed_posterior.len() == self.support.len()
            && other.observed_prior.len() == other.support.len()
            && other.observed_posterior.len() == other.support.len()
            && self.posterior.same_shape(&other.posterior)
    }

    /// Adds another evidence of the same model; every sum checked.
    pub fn merge(mut self, other: Evidence) -> Result<Evidence, MergeError> {
        if !self.same_shape(&other) {
            return Err(MergeError::Shape);
        }
        let add = |a: u64, b: u64, what: &'static str| a.checked_add(b).ok_or(MergeError::Overflow(what));
        self.trials = add(self.trials, other.trials, "evidence.trials")?;
        self.accepted = add(self.accepted, other.accepted, "evidence.accepted")?;
        self.weight_squares = self
            .weight_squares
            .checked_add(other.weight_squares)
            .ok_or(MergeError::Overflow("evidence.weight_squares"))?;
        for (x, y) in self.support.iter_mut().zip(&other.support) {
            *x = add(*x, *y, "evidence.support")?;
        }
        for (a, b) in self
            .input_prior
            .iter_mut()
            .zip(&other.input_prior)
            .chain(self.input_posterior.iter_mut().zip(&other.input_posterior))
        {
            for (x, y) in a.iter_mut().zip(b) {
                *x = add(*x, *y, "evidence.inputs")?;
            }
        }
        for (a, b) in self
            .observed_prior
            .iter_mut()
            .zip(&other.observed_prior)
            .chain(self.observed_posterior.iter_mut().zip(&other.observed_posterior))
        {
            a.merge(b).map_err(|_| MergeError::Overflow("evidence.observed"))?;
        }
        self.posterior = self.posterior.merge(other.posterior)?;
        Ok(self)
    }

    /// Checks evidence read from a file against the aggregate of
    /// `prior_trials` trials it came with and its model; the error names
    /// the field.
    pub fn check(&self, model: &Model, prior_trials: u64) -> Result<(), String> {
        if self.trials != prior_trials {
            return Err(format!(
                "evidence.trials is {} where the aggregate has {prior_trials}",
                self.trials
            ));
        }
        if self.accepted > self.trials {
            return Err("evidence.accepted exceeds the trials".into());
        }
        let most = (self.trials as u128) * WEIGHT_ONE as u128;
        if self.support.len() != model.observations.len() {
            return Err(format!(
                "evidence.support has {} entries for {} observations",
                self.support.len(),
                model.observations.len()
            ));
        }
        if self.support.iter().any(|&s| s as u128 > most) || self.weight_squares > most * WEIGHT_ONE as u128 {
            return Err("evidence: a weight sum exceeds the trials".into());
        }
        if self.posterior.trials as u128 > most {
            return Err("evidence.posterior weighs more than the trials".into());
        }
        let binned = binned_inputs(model);
        if self.input_prior.len() != binned.len() || self.input_posterior.len() != binned.len() {
            return Err("evidence: the binned inputs do not match the scenario's".into());
        }
        for ((b, row), post) in binned.iter().zip(&self.input_prior).zip(&self.input_posterior) {
            let per = match model.uncertain[b.id].per {
                Per::Quarter => model.horizon() as u128,
                Per::Trial => 1,
            };
            let sum: u128 = row.iter().map(|&c| c as u128).sum();
            let weighed: u128 = post.iter().map(|&c| c as u128).sum();
            if row.len() != INPUT_BINS
                || post.len() != INPUT_BINS
                || sum != self.trials as u128 * per
                || weighed != self.posterior.trials as u128 * per
            {
                return Err(format!(
                    "evidence.input_prior or input_posterior of `{}` does not count every draw",
                    model.uncertain[b.id].key
                ));
            }
        }
        if self.observed_prior.len() != model.observations.len()
            || self.observed_posterior.len() != model.observations.len()
        {
            return Err("evidence: the observed values do not match the observations".into());
        }
        for (k, o) in model.observations.iter().enumerate() {
            let (prior, post) = if o.records_value() {
                (self.trials, self.posterior.trials)
            } else {
                (0, 0)
            };
            self.observed_prior[k]
                .check(prior)
                .and_then(|_| self.observed_posterior[k].check(post))
                .map_err(|e| format!("evidence.observed[{k}]: {e}"))?;
        }
        let p = &self.posterior;
        if p.horizon != model.horizon()
            || p.shock_in_quarter.len() != model.shocks.len()
            || p.gate_open_in_quarter.len() != model.gates.len()
            || p.missed.len() != model.milestones.len()
            || p.reached_in_quarter.len() != model.milestones.len()
        {
            return Err(format!(
                "evidence.posterior: statistics of {} quarters, {} shocks, {} gates and {} milestones where the \
                 scenario has {}, {}, {} and {}",
                p.horizon,
                p.shock_in_quarter.len(),
                p.gate_open_in_quarter.len(),
                p.missed.len(),
                model.horizon(),
                model.shocks.len(),
                model.gates.len(),
                model.milestones.len()
            ));
        }
        self.posterior.check().map_err(|e| format!("evidence.posterior: {e}"))
    }
}

/// A `u128` written as a decimal string.
mod u128_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map_err(|_| D::Error::custom(format!("\"{text}\" is not a whole number below 2^128")))
    }
}

/// One block's evidence, summed before it is added to [`Evidence`].
#[derive(Debug, Clone)]
pub struct EvidenceBlock {
    pub(crate) posterior: crate::trials::BlockBuffer,
    accepted: u64,
    weight_squares: u128,
    support: Vec<u64>,
    bins: Vec<InputBins>,
    input_prior: Vec<Vec<u64>>,
    input_posterior: Vec<Vec<u64>>,
    /// Per observation of a value: the block's (value, weight) pairs.
    observed: Vec<Vec<(f64, u64)>>,
    each: Vec<f64>,
}

impl EvidenceBlock {
    /// Empty, for `model`.
    pub fn new(model: &Model) -> EvidenceBlock {
        let bins = binned_inputs(model);
        EvidenceBlock {
            posterior: crate::trials::BlockBuffer::weighted(model),
            accepted: 0,
            weight_squares: 0,
            support: vec![0; model.observations.len()],
            input_prior: vec![vec![0; INPUT_BINS]; bins.len()],
            input_posterior: vec![vec![0; INPUT_BINS]; bins.len()],
            bins,
            observed: vec![Vec::new(); model.observations.len()],
            each: vec![0.0; model.observations.len()],
        }
    }

    /// Weighs the trial just simulated in `ws` and records it.
    pub fn push(&mut self, model: &Model, ws: &Workspace) {
        let (accepted, w) = trial_weight(model, ws, &mut self.each);
        let weight = to_weight(w);
        self.accepted += u64::from(accepted);
        self.weight_squares += weight as u128 * weight as u128;
        for (s, &l) in self.support.iter_mut().zip(&self.each) {
            *s += to_weight(l);
        }
        let inputs = ws.inputs();
        for ((b, prior), post) in self
            .bins
            .iter()
            .zip(&mut self.input_prior)
            .zip(&mut self.input_posterior)
        {
            for &v in &inputs[ws.input_slots(model, b.id)] {
                let i = b.bin(v);
                prior[i] += 1;
                post[i] += weight;
            }
        }
        for (k, o) in model.observations.iter().enumerate() {
            if o.records_value() {
                if let Seen::Value(v) = o.seen(model, ws) {
                    self.observed[k].push((v, weight));
                }
            }
        }
        if weight > 0 {
            self.posterior.push_weighted(model, ws, weight);
        }
    }

    /// Adds the block to `ev` and empties it.
    pub fn add_to(&mut self, ev: &mut Evidence, trials: u64) {
        ev.trials += trials;
        ev.accepted += self.accepted;
        ev.weight_squares += self.weight_squares;
        for (x, y) in ev.support.iter_mut().zip(&self.support) {
            *x += y;
        }
        for (a, b) in ev
            .input_prior
            .iter_mut()
            .zip(&self.input_prior)
            .chain(ev.input_posterior.iter_mut().zip(&self.input_posterior))
        {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (k, values) in self.observed.iter_mut().enumerate() {
            for &(v, w) in values.iter() {
                ev.observed_prior[k].add(v);
                ev.observed_posterior[k].add_n(v, w);
            }
            values.clear();
        }
        ev.posterior.add_block(&mut self.posterior);
        self.accepted = 0;
        self.weight_squares = 0;
        self.support.fill(0);
        self.input_prior.iter_mut().for_each(|r| r.fill(0));
        self.input_posterior.iter_mut().for_each(|r| r.fill(0));
    }
}

/// How the observations acted, as summary.json reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceSummary {
    /// Trials simulated.
    pub trials: u64,
    /// Trials that pass every hard observation.
    pub accepted_trials: u64,
    /// `accepted_trials / trials`.
    pub acceptance_rate: f64,
    /// The posterior weights added up (a trial every observation agrees
    /// with fully counts 1).
    pub posterior_weight: f64,
    /// Kish's effective sample size `(Σw)² / Σw²`.
    pub effective_sample_size: f64,
    /// `scenario.min_effective_sample_size`: fewer effective trials is an error.
    pub min_effective_sample_size: u64,
    /// Each observation, in file order.
    pub observations: Vec<ObservationResult>,
    /// Each input with a distribution, prior against posterior, the one
    /// that moved most first.
    pub inputs: Vec<InputShift>,
}

/// One observation in the outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservationResult {
    /// Its name.
    pub name: String,
    /// `quantity`.
    pub quantity: String,
    /// `hard` (rejects the trials that contradict it) or `soft` (weights them).
    pub kind: String,
    /// What was observed, in one line generated from the table.
    pub observed: String,
    /// Its `description`, where written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its `source`, where written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How well the prior agreed with it: the share of all trials that
    /// agree (hard), or the mean of its likelihood over all trials (soft).
    pub prior_agreement: f64,
    /// For a value other than an input: its P10, P50 and P90 over all
    /// trials (3 significant digits, from the log-linear histogram).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_quantiles: Option<[f64; 3]>,
    /// The same, given the evidence (trials weighted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posterior_quantiles: Option<[f64; 3]>,
}

/// An input's prior and posterior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputShift {
    /// Key path of the uncertain number.
    pub key: String,
    /// How far the belief moved: the largest gap between the prior's and
    /// the posterior's cumulative shares at a bin edge (a Kolmogorov–Smirnov
    /// distance on the bins, 0 to 1).
    pub moved: f64,
    /// Prior P10, P50, P90 (linear within a bin).
    pub prior: [f64; 3],
    /// Posterior P10, P50, P90.
    pub posterior: [f64; 3],
    /// Lower edge of the first bin and upper edge of the last (the
    /// distribution's 0.1% and 99.9% quantiles within its valid range;
    /// draws beyond fall in the end bins).
    pub range: [f64; 2],
    /// Share of the prior's draws in each of the equal bins.
    pub prior_shares: Vec<f64>,
    /// Share of the posterior's weight in each bin.
    pub posterior_shares: Vec<f64>,
}

/// The P10, P50 and P90 of binned shares, linear within a bin.
fn bin_quantiles(shares: &[f64], lo: f64, hi: f64) -> [f64; 3] {
    let width = (hi - lo) / shares.len() as f64;
    [0.1, 0.5, 0.9].map(|p| {
        let mut cum = 0.0;
        for (i, &s) in shares.iter().enumerate() {
            if s > 0.0 && cum + s >= p {
                return lo + width * (i as f64 + ((p - cum) / s).clamp(0.0, 1.0));
            }
            cum += s;
        }
        hi
    })
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let total: u128 = counts.iter().map(|&c| c as u128).sum();
    counts
        .iter()
        .map(|&c| if total == 0 { 0.0 } else { c as f64 / total as f64 })
        .collect()
}

impl Observation {
    /// What was observed, in one line: `delivered_chips of supply line x by
    /// the end of 2024Q2: below 30000 (hard)`.
    pub fn describe(&self, model: &Model) -> String {
        let cal = &model.calendar;
        let of = match self.subject {
            Subject::Total if self.quantity == Quantity::DeliveredChips => " of all domestic chips".to_string(),
            Subject::Total => String::new(),
            Subject::Line(l) => format!(" of supply line {}", model.supply[l].name),
            Subject::Chip(c) => format!(" of chip type {}", model.chips[c].name),
            Subject::Shock(s) => format!(" {}", model.shocks[s].name),
            Subject::Milestone(k) => format!(" {}", model.milestones[k].name),
            Subject::Gate(g) => format!(" {}", model.gates[g].name),
            Subject::Input(id) => format!(" {}", model.uncertain[id].key),
            Subject::Supplier(s, None) => format!(" of {}", model.suppliers[s].name),
            Subject::Supplier(s, Some(g)) => format!(
                " of {}, generation {}",
                model.suppliers[s].name, model.chips[model.suppliers[s].generations[g].chip].name
            ),
        };
        let when = match self.window {
            Window::By(q) if self.quantity.is_event() => format!(" by the end of {}", cal.quarter(q)),
            Window::By(q) if self.quantity == Quantity::Input => format!(" in {}", cal.quarter(q)),
            Window::By(q) => format!(" at the end of {}", cal.quarter(q)),
            Window::Between(a, b) if self.quantity.is_event() => {
                format!(" in {}..{}", cal.quarter(a), cal.quarter(b))
            }
            Window::Between(a, b) => format!(", added in {}..{}", cal.quarter(a), cal.quarter(b)),
            Window::Always if self.quantity.is_event() => " within the horizon".to_string(),
            Window::Always => String::new(),
        };
        let seen = match self.test {
            Test::Happened(true) => "happened".to_string(),
            Test::Happened(false) => "did not happen".to_string(),
            Test::Near(v) => format!("about {}", format_number(v)),
            Test::Range { at_least, below } => match (at_least.is_finite(), below.is_finite()) {
                (true, true) => format!(
                    "at least {} and below {}",
                    format_number(at_least),
                    format_number(below)
                ),
                (true, false) => format!("at least {}", format_number(at_least)),
                _ => format!("below {}", format_number(below)),
            },
        };
        let how = match self.strength {
            Strength::Hard => "hard".to_string(),
            Strength::Sd { sd, log10: false } => format!("soft, sd {}", format_number(sd)),
            Strength::Sd { sd, log10: true } => format!("soft, sd {} decades", format_number(sd)),
            Strength::Confidence(c) => format!("soft, confidence {}", format_number(c)),
        };
        format!("{}{of}{when}: {seen} ({how})", self.quantity.name())
    }
}

impl EvidenceSummary {
    /// From a run's aggregate and its evidence.
    pub fn new(model: &Model, agg: &Aggregate, ev: &Evidence) -> EvidenceSummary {
        let trials = agg.trials;
        let observations = model
            .observations
            .iter()
            .zip(&ev.support)
            .map(|(o, &s)| ObservationResult {
                name: o.name.clone(),
                quantity: o.quantity.name().to_string(),
                kind: o.kind().to_string(),
                observed: o.describe(model),
                description: o.description.clone(),
                source: o.source.clone(),
                prior_agreement: s as f64 / WEIGHT_ONE as f64 / trials.max(1) as f64,
                prior_quantiles: None,
                posterior_quantiles: None,
            })
            .collect::<Vec<ObservationResult>>();
        let quantiles = |h: &LogHistogram| -> Option<[f64; 3]> {
            let q = |p: f64| h.quantile(p).map(|v| crate::stats::round_significant(v, 3));
            Some([q(0.1)?, q(0.5)?, q(0.9)?])
        };
        let mut observations = observations;
        for (k, o) in model.observations.iter().enumerate() {
            if o.records_value() {
                observations[k].prior_quantiles = quantiles(&ev.observed_prior[k]);
                observations[k].posterior_quantiles = quantiles(&ev.observed_posterior[k]);
            }
        }
        let mut inputs: Vec<InputShift> = binned_inputs(model)
            .iter()
            .zip(ev.input_prior.iter().zip(&ev.input_posterior))
            .map(|(b, (prior, post))| {
                let (ps, qs) = (shares(prior), shares(post));
                let (mut cp, mut cq, mut moved) = (0.0f64, 0.0f64, 0.0f64);
                for (a, b) in ps.iter().zip(&qs) {
                    cp += a;
                    cq += b;
                    moved = moved.max((cp - cq).abs());
                }
                InputShift {
                    key: model.uncertain[b.id].key.clone(),
                    moved: crate::stats::round_significant(moved, 12),
                    prior: bin_quantiles(&ps, b.lo, b.hi),
                    posterior: bin_quantiles(&qs, b.lo, b.hi),
                    range: [b.lo, b.hi],
                    prior_shares: ps,
                    posterior_shares: qs,
                }
            })
            .collect();
        inputs.sort_by(|a, b| b.moved.total_cmp(&a.moved));
        EvidenceSummary {
            trials,
            accepted_trials: ev.accepted,
            acceptance_rate: ev.accepted as f64 / trials.max(1) as f64,
            posterior_weight: ev.weight_total(),
            effective_sample_size: ev.effective_sample_size(),
            min_effective_sample_size: model.min_effective_sample_size,
            observations,
            inputs,
        }
    }
}

/// Refuses a posterior with fewer effective trials than the scenario's
/// `min_effective_sample_size`: the error says how many trials would do
/// and which observation the prior agrees with least.
pub fn require_enough(model: &Model, agg: &Aggregate) -> Result<(), crate::error::Error> {
    let Some(ev) = &agg.evidence else { return Ok(()) };
    let ess = ev.effective_sample_size();
    let min = model.min_effective_sample_size as f64;
    if ess >= min {
        return Ok(());
    }
    let n = agg.trials;
    let worst = model
        .observations
        .iter()
        .zip(&ev.support)
        .min_by(|a, b| a.1.cmp(b.1))
        .map(|(o, &s)| {
            let share = s as f64 / WEIGHT_ONE as f64 / n.max(1) as f64;
            if o.is_hard() {
                format!(
                    "; the trials agree least with `{}` ({:.2}% of them do)",
                    o.name,
                    100.0 * share
                )
            } else {
                format!(
                    "; the trials agree least with `{}` (mean likelihood {share:.3})",
                    o.name
                )
            }
        })
        .unwrap_or_default();
    let advice = if ess > 0.0 {
        let needed = (n as f64 * min / ess).ceil();
        // Two significant digits, rounded up, so the advice is a round number.
        let scale = 10f64.powi(needed.log10().floor() as i32 - 1).max(1.0);
        let needed = (needed / scale).ceil() * scale;
        let most = crate::model::limits::MAX_TRIALS;
        if needed > most as f64 {
            format!(
                "that would take about {needed:.1e} trials, beyond the {most} a run allows: widen the beliefs, soften the observations, or lower `scenario.min_effective_sample_size`"
            )
        } else {
            let needed = needed as u64;
            format!(
                "run about {needed} trials or more (--trials {needed}), or lower `scenario.min_effective_sample_size`"
            )
        }
    } else {
        "no trial has any weight, so more trials may not help: the observations contradict the scenario's beliefs; widen the beliefs or check the observations".to_string()
    };
    Err(crate::error::Error::Run(format!(
        "too few trials agree with the observations: {} of {n} pass the hard ones, an effective sample size of {ess:.1}, below the {min} that `scenario.min_effective_sample_size` asks for{worst}; {advice}",
        ev.accepted
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trials::run_trials;

    fn obs(test: Test, strength: Strength) -> Observation {
        Observation {
            name: "o".into(),
            quantity: Quantity::TrainingFlop,
            subject: Subject::Total,
            window: Window::By(0),
            test,
            strength,
            description: None,
            source: None,
        }
    }

    const INF: f64 = f64::INFINITY;

    #[test]
    fn hard_and_confidence_likelihoods() {
        let range = Test::Range {
            at_least: 10.0,
            below: 20.0,
        };
        let hard = obs(range, Strength::Hard);
        assert_eq!(hard.likelihood_of(Seen::Value(10.0)), 1.0, "at_least is inclusive");
        assert_eq!(hard.likelihood_of(Seen::Value(19.999)), 1.0);
        assert_eq!(hard.likelihood_of(Seen::Value(20.0)), 0.0, "below is exclusive");
        assert_eq!(hard.likelihood_of(Seen::Value(9.0)), 0.0);
        let sure = obs(range, Strength::Confidence(0.8));
        assert_eq!(sure.likelihood_of(Seen::Value(15.0)), 1.0);
        assert!((sure.likelihood_of(Seen::Value(25.0)) - 0.25).abs() < 1e-15);
        let event = obs(Test::Happened(false), Strength::Hard);
        assert_eq!(event.likelihood_of(Seen::Event(false)), 1.0);
        assert_eq!(event.likelihood_of(Seen::Event(true)), 0.0);
    }

    #[test]
    fn measurement_error_likelihoods() {
        let sd = Strength::Sd { sd: 2.0, log10: false };
        // One-sided: P(x + e < 10) = Φ((10 − x)/2).
        let below = obs(
            Test::Range {
                at_least: -INF,
                below: 10.0,
            },
            sd,
        );
        assert!((below.likelihood_of(Seen::Value(10.0)) - 0.5).abs() < 1e-15);
        // Φ(1) = 0.8413447460685429 (mpmath); statrs's erfc is good to
        // about 1e-11 here, far below the 2^-32 resolution of a weight.
        let w = below.likelihood_of(Seen::Value(8.0));
        assert!((w - 0.841_344_746_068_542_9).abs() < 1e-10, "{w:e}");
        // Far below a two-sided range the upper-tail form stays accurate:
        // Φc(10) − Φc(15) with Φc(10) = 7.619853024160527e-24 (mpmath).
        let band = obs(
            Test::Range {
                at_least: 20.0,
                below: 30.0,
            },
            sd,
        );
        let w = band.likelihood_of(Seen::Value(0.0));
        assert!((w / 7.619_853_024_160_527e-24 - 1.0).abs() < 1e-9, "{w}");
        let near = obs(Test::Near(5.0), sd);
        assert_eq!(near.likelihood_of(Seen::Value(5.0)), 1.0);
        assert!((near.likelihood_of(Seen::Value(7.0)) - (-0.5f64).exp()).abs() < 1e-15);
        // log10: sd in decades; zero is −inf, below every positive bound.
        let decades = obs(
            Test::Range {
                at_least: 1e24,
                below: INF,
            },
            Strength::Sd { sd: 1.0, log10: true },
        );
        assert!((decades.likelihood_of(Seen::Value(1e24)) - 0.5).abs() < 1e-12);
        assert!((decades.likelihood_of(Seen::Value(1e25)) - 0.841_344_746_068_542_9).abs() < 1e-10);
        assert_eq!(decades.likelihood_of(Seen::Value(0.0)), 0.0);
        let open = obs(
            Test::Range {
                at_least: -INF,
                below: 1e24,
            },
            Strength::Sd { sd: 1.0, log10: true },
        );
        assert_eq!(open.likelihood_of(Seen::Value(0.0)), 1.0);
    }

    #[test]
    fn weights_round_to_units_of_two_to_the_minus_32() {
        assert_eq!(to_weight(1.0), WEIGHT_ONE);
        assert_eq!(to_weight(0.25), WEIGHT_ONE / 4);
        assert_eq!(to_weight(0.0), 0);
        assert_eq!(to_weight(2f64.powi(-34)), 0);
        assert_eq!(to_weight(2f64.powi(-32)), 1);
        assert_eq!(to_weight(f64::NAN.max(0.0)), 0);
    }

    fn model(extra: &str) -> Model {
        let text = format!("{}\n{extra}", include_str!("../scenarios/default.toml"));
        Model::from_text(&text, "default.toml").unwrap()
    }

    #[test]
    fn evidence_merges_exactly_in_any_grouping() {
        let m = model("");
        assert_eq!(m.observations.len(), 2, "the default carries two observations");
        let whole = run_trials(&m, 5, 0..700, Some(1)).unwrap();
        let parts = run_trials(&m, 5, 0..300, Some(2))
            .unwrap()
            .merge(run_trials(&m, 5, 300..700, Some(1)).unwrap())
            .unwrap();
        assert_eq!(whole, parts);
        let ev = whole.evidence.as_deref().unwrap();
        assert_eq!(ev.check(&m, whole.trials), Ok(()));
        assert!(ev.accepted > 0 && ev.accepted < 700, "{}", ev.accepted);
        // Weights are 0, 1/4 or 1, so the ESS lies between the trials of
        // weight 1 and the accepted ones.
        let ess = ev.effective_sample_size();
        assert!(ess > 0.0 && ess <= ev.accepted as f64, "{ess}");
        let mut broken = whole.clone();
        broken.evidence.as_mut().unwrap().accepted = 701;
        assert!(broken.check_model(&m).is_err());
        // A posterior that lost a shock's (or a gate's) statistics.
        let mut shapeless = whole.clone();
        shapeless.evidence.as_mut().unwrap().posterior.shock_in_quarter.pop();
        assert!(
            shapeless
                .check_model(&m)
                .unwrap_err()
                .contains("evidence.posterior: statistics of")
        );
        let mut missing = whole;
        missing.evidence = None;
        assert!(missing.check_model(&m).unwrap_err().contains("[[observe]]"));
    }

    #[test]
    fn a_posterior_without_its_gates_is_refused() {
        let text = include_str!("../scenarios/default.toml").replacen(
            "[training]\n",
            "[gates.us]\nclose_probability = 0.5\n\n[training]\n",
            1,
        );
        let m = Model::from_text(&text, "gated.toml").unwrap();
        let agg = run_trials(&m, 5, 0..200, Some(1)).unwrap();
        assert_eq!(agg.check_model(&m), Ok(()));
        let mut broken = agg;
        broken.evidence.as_mut().unwrap().posterior.gate_open_in_quarter.clear();
        assert!(broken.check_model(&m).unwrap_err().contains("0 gates"));
    }

    #[test]
    fn hard_observations_count_accepted_trials_exactly() {
        // Only the hard observation: weights are 0 or 1.
        let text = include_str!("../scenarios/default.toml");
        let cut = text.find("[[observe]]\nname = \"no_public").unwrap();
        let m = Model::from_text(&text[..cut], "d.toml").unwrap();
        let agg = run_trials(&m, 3, 0..500, Some(1)).unwrap();
        let ev = agg.evidence.as_deref().unwrap();
        assert!(ev.all_weights_whole());
        assert_eq!(ev.effective_sample_size(), ev.accepted as f64);
        assert_eq!(ev.posterior.trials, ev.accepted * WEIGHT_ONE);
        let s = crate::results::Summary::new(&m, &agg, 3, "h");
        let k = &s.milestones[0];
        let reached = ev.posterior.reached_in_quarter[0][..=m.milestones[0].deadline as usize]
            .iter()
            .sum::<u64>()
            / WEIGHT_ONE;
        assert_eq!(k.reached_by_deadline, reached);
        assert_eq!(
            (k.ci95_low, k.ci95_high),
            crate::stats::clopper_pearson(reached, ev.accepted, 0.05)
        );
        assert_eq!(
            k.prior.unwrap().probability,
            agg.reached_in_quarter[0][..=m.milestones[0].deadline as usize]
                .iter()
                .sum::<u64>() as f64
                / 500.0
        );
        let e = s.evidence.as_ref().unwrap();
        assert_eq!(e.accepted_trials, ev.accepted);
        assert_eq!(e.observations[0].prior_agreement, ev.accepted as f64 / 500.0);
    }

    /// Weights far below 2^-16 (whose squares would round to 0 in units of
    /// 2^-32) still count in Σw²: the effective sample size is Kish's, and
    /// never more than the trials with weight.
    #[test]
    fn small_weights_keep_the_effective_sample_size_honest() {
        let m = model(
            "[[observe]]\nname = \"far\"\nquantity = \"input\"\nkey = \"training.mfu\"\nat_least = 2.7\nsd = 0.5\n",
        );
        let agg = run_trials(&m, 3, 0..1000, Some(1)).unwrap();
        let ev = agg.evidence.as_deref().unwrap();
        let (mut sum, mut squares, mut weighted) = (0.0f64, 0.0f64, 0u64);
        let mut ws = crate::engine::Workspace::new(&m);
        let mut each = vec![0.0; m.observations.len()];
        for trial in 0..1000 {
            crate::engine::simulate_trial(&m, 3, trial, &mut ws);
            let w = to_weight(trial_weight(&m, &ws, &mut each).1) as f64;
            sum += w;
            squares += w * w;
            weighted += u64::from(w > 0.0);
        }
        let kish = sum * sum / squares;
        let ess = ev.effective_sample_size();
        assert!((ess / kish - 1.0).abs() < 1e-9, "{ess} vs {kish}");
        assert!(ess <= weighted as f64 && ess > 1.0, "{ess} of {weighted}");
        assert!(ev.weight_total() < 0.1, "the weights are small: {}", ev.weight_total());
    }

    /// Bounded runs under observations: each run's statistics are of the
    /// posterior too, merge exactly, and run 1 counts the trials that
    /// started (in effective trials, each count rounded).
    #[test]
    fn bounded_runs_are_counted_in_the_posterior() {
        let text =
            include_str!("../scenarios/default.toml").replacen("[training]\n", "[training]\nmax_run_quarters = 3\n", 1);
        let m = Model::from_text(&text, "d.toml").unwrap();
        let whole = run_trials(&m, 5, 0..700, Some(1)).unwrap();
        let parts = run_trials(&m, 5, 0..300, Some(2))
            .unwrap()
            .merge(run_trials(&m, 5, 300..700, Some(1)).unwrap())
            .unwrap();
        assert_eq!(whole, parts);
        assert_eq!(whole.check_model(&m), Ok(()));
        let s = crate::results::Summary::new(&m, &whole, 5, "h");
        let runs = s.training_runs.as_ref().expect("runs are bounded");
        assert!(runs.len() > 1, "{runs:?}");
        let started = s.counted_trials() - s.training_start.trials_never_started as f64;
        assert!(
            (runs[0].trials as f64 - started).abs() <= 1.5,
            "{} vs {started}",
            runs[0].trials
        );
        assert!(runs.windows(2).all(|w| w[0].trials >= w[1].trials));
    }

    #[test]
    fn too_few_trials_are_refused_with_advice() {
        let m = model("");
        let agg = run_trials(&m, 3, 0..60, Some(1)).unwrap();
        let err = require_enough(&m, &agg).unwrap_err().to_string();
        assert!(
            err.contains("--trials") && err.contains("effective sample size"),
            "{err}"
        );
        let mut lenient = m.clone();
        lenient.min_effective_sample_size = 1;
        assert!(require_enough(&lenient, &agg).is_ok());
        let none = model(
            "[[observe]]\nname = \"impossible\"\nquantity = \"delivered_chips\"\nby = \"2024Q1\"\nat_least = 1e12\n",
        );
        let agg = run_trials(&none, 3, 0..60, Some(1)).unwrap();
        let err = require_enough(&none, &agg).unwrap_err().to_string();
        assert!(
            err.contains("more trials may not help") && err.contains("`impossible`"),
            "{err}"
        );
    }

    #[test]
    fn input_bins_cover_the_prior_and_moved_is_a_distance() {
        let m = model("");
        let agg = run_trials(&m, 3, 0..400, Some(1)).unwrap();
        let s = crate::results::Summary::new(&m, &agg, 3, "h");
        let e = s.evidence.unwrap();
        assert!(!e.inputs.is_empty());
        for i in &e.inputs {
            assert!((0.0..=1.0).contains(&i.moved), "{}: {}", i.key, i.moved);
            assert_eq!(i.prior_shares.len(), INPUT_BINS);
            assert!((i.prior_shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert!((i.posterior_shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert!(i.prior[0] <= i.prior[1] && i.prior[1] <= i.prior[2]);
        }
        assert!(e.inputs.windows(2).all(|w| w[0].moved >= w[1].moved));
        // The hard observation selects low fill rates: that input moves.
        let fill = e
            .inputs
            .iter()
            .find(|i| i.key == "supply.bytedance_910b.fill_rate")
            .unwrap();
        assert!(fill.posterior[1] < fill.prior[1], "{fill:?}");
    }
}

#[cfg(test)]
mod largest_run_tests {
    use crate::engine::{Metric, Workspace, simulate_trial};
    use crate::model::Model;

    fn model(extra: &str) -> Model {
        let text =
            include_str!("../scenarios/default.toml").replacen("[training]\n", &format!("[training]\n{extra}"), 1);
        Model::from_text(&text, "default.toml").unwrap()
    }

    #[test]
    fn the_largest_run_is_all_compute_with_one_run_and_the_best_run_with_bounded_ones() {
        let dom = Metric::ALL
            .iter()
            .position(|m| *m == Metric::TrainingFlopDomestic)
            .unwrap();
        let all = Metric::ALL.iter().position(|m| *m == Metric::TrainingFlop).unwrap();
        let one = model("");
        let mut ws = Workspace::new(&one);
        for trial in 0..200 {
            simulate_trial(&one, 3, trial, &mut ws);
            for (q, row) in ws.outcome.metrics.iter().enumerate() {
                assert_eq!(
                    ws.outcome.largest_run_flop[q],
                    [row[all], row[dom]],
                    "trial {trial} quarter {q}"
                );
            }
        }
        let bounded = model("max_run_quarters = 3\n");
        let mut ws = Workspace::new(&bounded);
        let mut split = 0;
        for trial in 0..200 {
            simulate_trial(&bounded, 3, trial, &mut ws);
            let h = ws.outcome.metrics.len() - 1;
            let largest = ws.outcome.largest_run_flop[h][1];
            // The runs' domestic compute, the one still going included.
            let best = ws.outcome.runs.iter().copied().fold(0.0, f64::max);
            assert_eq!(largest, best, "trial {trial}");
            assert!(largest <= ws.outcome.metrics[h][dom]);
            split += usize::from(ws.outcome.runs.len() > 1 && largest < ws.outcome.metrics[h][dom]);
            for q in 1..=h {
                assert!(ws.outcome.largest_run_flop[q][1] >= ws.outcome.largest_run_flop[q - 1][1]);
            }
        }
        assert!(split > 10, "some trials have several runs: {split}");
    }
}
