//! Monte Carlo over trials with rayon.
//!
//! Trials are independent: trial `i` uses only streams derived from
//! (seed, i), so the thread that runs it does not matter. Results are folded
//! into an [`Aggregate`] of integer counts, whose merge is exact and
//! order-independent: any thread count gives identical bits. Memory does not
//! grow with the number of trials.

use std::ops::Range;
use std::sync::atomic::AtomicBool;

use crate::engine::supplier::Binding;
use crate::engine::{ChipMetric, Metric, Workspace, series_names, simulate_trial};
use crate::error::Error;
use crate::explain::{MissReason, MissRule};
use crate::model::{Model, Trigger};
use crate::runner::{BLOCK, RunControl, run_blocks, run_error};
use crate::samples::Rows;
use crate::stats::LogHistogram;

/// Why two aggregates cannot be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// A sum of counts would overflow; names the field.
    #[error("adding the counts of `{0}` overflows")]
    Overflow(&'static str),
    /// The aggregates are not of the same model (horizon, metrics, milestones).
    #[error("the statistics have different shapes")]
    Shape,
}

/// Streaming statistics over any number of trials.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Aggregate {
    /// Trials recorded.
    pub trials: u64,
    /// Horizon in quarters.
    pub horizon: u32,
    /// `metrics[q * Metric::COUNT + m]`: distribution of metric `m` at the end of quarter `q`.
    pub metrics: Vec<LogHistogram>,
    /// Chip types of the model.
    #[serde(default)]
    pub chip_types: usize,
    /// `chip_metrics[(q * chip_types + c) * ChipMetric::COUNT + k]`:
    /// distribution of metric `k` of chip type `c` at the end of quarter `q`
    /// (absent from partial results of older versions, which then do not
    /// have the shape of the model's aggregate).
    #[serde(default)]
    pub chip_metrics: Vec<LogHistogram>,
    /// `series[q * n + k]`: the distribution of the `k`-th of the `n`
    /// quantities of [`series_names`] at the end of quarter `q` (demand in
    /// tokens, foreign deliveries, suppliers); empty (and not written) when
    /// the scenario records none. (`demand_metrics` in earlier versions,
    /// which recorded only demand in tokens.)
    #[serde(default, skip_serializing_if = "Vec::is_empty", alias = "demand_metrics")]
    pub series: Vec<LogHistogram>,
    /// `binding_in_quarter[s * 4 + k][q]`: trials in which input `k` (in
    /// [`Binding::ALL`] order) bound supplier `s`'s output in quarter `q`
    /// (absent without suppliers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binding_in_quarter: Vec<Vec<u64>>,
    /// `reached_in_quarter[k][q]`: trials in which milestone `k` was first reached in quarter `q`.
    pub reached_in_quarter: Vec<Vec<u64>>,
    /// Trials in which the training run started within the horizon.
    pub training_started: u64,
    /// `started_in_quarter[q]`: trials whose training run started in
    /// quarter `q` (they add up to `training_started`).
    pub started_in_quarter: Vec<u64>,
    /// `shock_in_quarter[s][q]`: trials in which shock `s` happened in
    /// quarter `q` (its trigger came true, whatever its duration).
    pub shock_in_quarter: Vec<Vec<u64>>,
    /// `gate_open_in_quarter[g][q]`: trials in which gate `g` was open in
    /// quarter `q` (absent without gates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gate_open_in_quarter: Vec<Vec<u64>>,
    /// `missed[k][r]`: trials that did not reach milestone `k` by its
    /// deadline, by reason `r` in [`MissReason::ALL`] order (they add up to
    /// the trials that missed it).
    pub missed: Vec<[u64; MissReason::COUNT]>,
    /// `clamped[u]`: draws of uncertain number `u` (in model order; one per
    /// trial, or one per quarter for a per-quarter number) that fell outside
    /// its valid range and were clamped to it.
    pub clamped: Vec<u64>,
    /// With `training.max_run_quarters`: `runs[j]` is the distribution,
    /// over the trials that started run `j + 1`, of that run's domestic
    /// training FLOP (at its end, or at the horizon); its count is those
    /// trials. As long as the most runs any trial had; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<LogHistogram>,
    /// With platform risk: trials in which at least one run failed and
    /// restarted (0, and not written, otherwise).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub run_failed: u64,
    /// Events processed in all trials.
    pub events: u64,
    /// Random 64-bit words drawn in all trials.
    pub draws: u64,
    /// With `[[observe]]`: the evidence, and the posterior (docs/MODEL.md
    /// section 11); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Box<crate::evidence::Evidence>>,
}

impl Aggregate {
    /// An empty aggregate for `model`, with its evidence when the model
    /// has observations.
    pub fn new(model: &Model) -> Aggregate {
        let mut agg = Aggregate::plain(model);
        if !model.observations.is_empty() {
            agg.evidence = Some(Box::new(crate::evidence::Evidence::new(model)));
        }
        agg
    }

    /// An empty aggregate for `model`, without evidence.
    pub fn plain(model: &Model) -> Aggregate {
        let h = model.horizon();
        Aggregate {
            trials: 0,
            horizon: h,
            metrics: vec![LogHistogram::new(); h as usize * Metric::COUNT],
            chip_types: model.chips.len(),
            chip_metrics: vec![LogHistogram::new(); h as usize * model.chips.len() * ChipMetric::COUNT],
            series: vec![LogHistogram::new(); series_histograms(model)],
            binding_in_quarter: vec![vec![0; h as usize]; model.suppliers.len() * Binding::COUNT],
            reached_in_quarter: vec![vec![0; h as usize]; model.milestones.len()],
            training_started: 0,
            started_in_quarter: vec![0; h as usize],
            shock_in_quarter: vec![vec![0; h as usize]; model.shocks.len()],
            gate_open_in_quarter: vec![vec![0; h as usize]; model.gates.len()],
            missed: vec![[0; MissReason::COUNT]; model.milestones.len()],
            clamped: vec![0; model.uncertain.len()],
            runs: Vec::new(),
            run_failed: 0,
            events: 0,
            draws: 0,
            evidence: None,
        }
    }

    /// Records a block of trials whose outcomes were written into `buffer`
    /// by [`BlockBuffer::push`]: one histogram at a time, so each histogram's
    /// counts stay in cache while its values are added.
    pub fn add_block(&mut self, buffer: &mut BlockBuffer) {
        let n = buffer.len;
        if n == 0 {
            return;
        }
        if let (Some(ev), Some(block)) = (&mut self.evidence, &mut buffer.evidence) {
            block.add_to(ev, n as u64);
        }
        self.trials += buffer.weight_total;
        self.training_started += buffer.started;
        self.run_failed += buffer.run_failed;
        self.events += buffer.events;
        self.draws += buffer.draws;
        // Histograms in the buffer's order: the metrics, then the chips'
        // (unless they mirror the totals, see [`chips_mirror_totals`]),
        // then demand's (with demand in tokens).
        let recorded = if buffer.chips_recorded {
            self.metrics.len() + self.chip_metrics.len()
        } else {
            self.metrics.len()
        };
        for (h, hist) in self
            .metrics
            .iter_mut()
            .chain(&mut self.chip_metrics)
            .take(recorded)
            .chain(&mut self.series)
            .enumerate()
        {
            let values = &buffer.values[h * BLOCK as usize..h * BLOCK as usize + n];
            match &buffer.weights {
                None => hist.add_all(values),
                Some(w) => hist.add_all_weighted(values, &w[..n]),
            }
        }
        for (a, b) in self.reached_in_quarter.iter_mut().zip(&buffer.reached) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (x, y) in self.started_in_quarter.iter_mut().zip(&buffer.started_in_quarter) {
            *x += y;
        }
        for (x, y) in self.clamped.iter_mut().zip(&buffer.clamped) {
            *x += y;
        }
        for (a, b) in self.shock_in_quarter.iter_mut().zip(&buffer.shock_in_quarter) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self.gate_open_in_quarter.iter_mut().zip(&buffer.gate_open_in_quarter) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self.binding_in_quarter.iter_mut().zip(&buffer.binding_in_quarter) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self.missed.iter_mut().zip(&buffer.missed) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        if self.runs.len() < buffer.runs.len() {
            self.runs.resize(buffer.runs.len(), LogHistogram::new());
        }
        for (a, b) in self.runs.iter_mut().zip(&buffer.runs) {
            // Counts of one block cannot overflow what the trials add up to.
            let _ = a.merge(b);
        }
        buffer.clear();
    }

    /// True when `other` has the shape of an aggregate of the same model
    /// (and neither counts more trials with a training run than trials).
    pub fn same_shape(&self, other: &Aggregate) -> bool {
        self.training_started <= self.trials
            && other.training_started <= other.trials
            && self.horizon == other.horizon
            && self.metrics.len() == other.metrics.len()
            && self.chip_types == other.chip_types
            && self.chip_metrics.len() == other.chip_metrics.len()
            && self.series.len() == other.series.len()
            && self.binding_in_quarter.len() == other.binding_in_quarter.len()
            && self
                .binding_in_quarter
                .iter()
                .zip(&other.binding_in_quarter)
                .all(|(a, b)| a.len() == b.len())
            && self.reached_in_quarter.len() == other.reached_in_quarter.len()
            && self
                .reached_in_quarter
                .iter()
                .zip(&other.reached_in_quarter)
                .all(|(a, b)| a.len() == b.len())
            && self.started_in_quarter.len() == other.started_in_quarter.len()
            && self.shock_in_quarter.len() == other.shock_in_quarter.len()
            && self
                .shock_in_quarter
                .iter()
                .zip(&other.shock_in_quarter)
                .all(|(a, b)| a.len() == b.len())
            && self.gate_open_in_quarter.len() == other.gate_open_in_quarter.len()
            && self
                .gate_open_in_quarter
                .iter()
                .zip(&other.gate_open_in_quarter)
                .all(|(a, b)| a.len() == b.len())
            && self.missed.len() == other.missed.len()
            && self.clamped.len() == other.clamped.len()
            && match (&self.evidence, &other.evidence) {
                (None, None) => true,
                (Some(a), Some(b)) => a.same_shape(b),
                _ => false,
            }
    }

    /// Adds another aggregate of the same model. Every sum is checked: an
    /// overflow (or a shape mismatch) is an error, never a wrap, and only
    /// possible with aggregates read from a damaged or edited file.
    pub fn merge(mut self, other: Aggregate) -> Result<Aggregate, MergeError> {
        if !self.same_shape(&other) {
            return Err(MergeError::Shape);
        }
        let add = |a: u64, b: u64, what: &'static str| a.checked_add(b).ok_or(MergeError::Overflow(what));
        self.trials = add(self.trials, other.trials, "trials")?;
        self.events = add(self.events, other.events, "events")?;
        self.draws = add(self.draws, other.draws, "draws")?;
        self.training_started = add(self.training_started, other.training_started, "training_started")?;
        self.run_failed = add(self.run_failed, other.run_failed, "run_failed")?;
        for (a, b) in self.metrics.iter_mut().zip(&other.metrics) {
            a.merge(b).map_err(|_| MergeError::Overflow("metrics"))?;
        }
        for (a, b) in self.chip_metrics.iter_mut().zip(&other.chip_metrics) {
            a.merge(b).map_err(|_| MergeError::Overflow("chip_metrics"))?;
        }
        for (a, b) in self.series.iter_mut().zip(&other.series) {
            a.merge(b).map_err(|_| MergeError::Overflow("series"))?;
        }
        for (a, b) in self.binding_in_quarter.iter_mut().zip(&other.binding_in_quarter) {
            for (x, y) in a.iter_mut().zip(b) {
                *x = add(*x, *y, "binding_in_quarter")?;
            }
        }
        for (a, b) in self.reached_in_quarter.iter_mut().zip(&other.reached_in_quarter) {
            for (x, y) in a.iter_mut().zip(b) {
                *x = add(*x, *y, "reached_in_quarter")?;
            }
        }
        for (x, y) in self.started_in_quarter.iter_mut().zip(&other.started_in_quarter) {
            *x = add(*x, *y, "started_in_quarter")?;
        }
        for (a, b) in self.shock_in_quarter.iter_mut().zip(&other.shock_in_quarter) {
            for (x, y) in a.iter_mut().zip(b) {
                *x = add(*x, *y, "shock_in_quarter")?;
            }
        }
        for (a, b) in self.gate_open_in_quarter.iter_mut().zip(&other.gate_open_in_quarter) {
            for (x, y) in a.iter_mut().zip(b) {
                *x = add(*x, *y, "gate_open_in_quarter")?;
            }
        }
        for (a, b) in self.missed.iter_mut().zip(&other.missed) {
            for (x, y) in a.iter_mut().zip(b) {
                *x = add(*x, *y, "missed")?;
            }
        }
        for (x, y) in self.clamped.iter_mut().zip(&other.clamped) {
            *x = add(*x, *y, "clamped")?;
        }
        if self.runs.len() < other.runs.len() {
            self.runs.resize(other.runs.len(), LogHistogram::new());
        }
        for (a, b) in self.runs.iter_mut().zip(&other.runs) {
            a.merge(b).map_err(|_| MergeError::Overflow("runs"))?;
        }
        if let (Some(a), Some(b)) = (self.evidence.take(), other.evidence) {
            self.evidence = Some(Box::new(a.merge(*b)?));
        }
        Ok(self)
    }

    /// Checks an aggregate read from a file against the invariants every
    /// aggregate of trials keeps: `horizon × Metric::COUNT` histograms and
    /// `horizon × chip_types × ChipMetric::COUNT` per chip type, each
    /// holding exactly one value per trial within the valid bucket range;
    /// one row of `horizon` counts per milestone, whose sum (trials that
    /// reached it within the horizon) is at most the trials; `horizon`
    /// start counts adding up to `training_started` (at most the trials);
    /// one row of `horizon` counts per shock, adding up to at most the
    /// trials; per milestone four miss counts adding up to at most the
    /// trials. (What only the model can tell, such as how many trials
    /// missed a milestone, is [`Aggregate::check_model`]'s.) The error names
    /// the offending field.
    pub fn check(&self) -> Result<(), String> {
        let h = self.horizon as usize;
        if self.metrics.len() != h.saturating_mul(Metric::COUNT) {
            return Err(format!(
                "aggregate: {} histograms (metrics) where a horizon of {h} quarters has {}",
                self.metrics.len(),
                h.saturating_mul(Metric::COUNT)
            ));
        }
        for (i, hist) in self.metrics.iter().enumerate() {
            hist.check(self.trials)
                .map_err(|e| format!("aggregate.metrics[{i}]: {e}"))?;
        }
        let per_chip = h.saturating_mul(self.chip_types).saturating_mul(ChipMetric::COUNT);
        if self.chip_metrics.len() != per_chip {
            return Err(format!(
                "aggregate: {} histograms (chip_metrics) where a horizon of {h} quarters and {} chip types have {per_chip}",
                self.chip_metrics.len(),
                self.chip_types
            ));
        }
        for (i, hist) in self.chip_metrics.iter().enumerate() {
            hist.check(self.trials)
                .map_err(|e| format!("aggregate.chip_metrics[{i}]: {e}"))?;
        }
        if h > 0 && self.series.len() % h != 0 {
            return Err(format!(
                "aggregate: {} histograms (series) where a horizon of {h} quarters needs a multiple of {h}",
                self.series.len()
            ));
        }
        for (i, hist) in self.series.iter().enumerate() {
            hist.check(self.trials)
                .map_err(|e| format!("aggregate.series[{i}]: {e}"))?;
        }
        if self.binding_in_quarter.len() % Binding::COUNT != 0 {
            return Err(format!(
                "aggregate.binding_in_quarter: {} rows where each supplier has {}",
                self.binding_in_quarter.len(),
                Binding::COUNT
            ));
        }
        for (s, rows) in self.binding_in_quarter.chunks(Binding::COUNT).enumerate() {
            for q in 0..h {
                let mut sum = 0u64;
                for row in rows {
                    if row.len() != h {
                        return Err(format!(
                            "aggregate.binding_in_quarter[{s}]: {} quarters where the horizon has {h}",
                            row.len()
                        ));
                    }
                    sum = sum.saturating_add(row[q]);
                }
                if sum != self.trials {
                    return Err(format!(
                        "aggregate.binding_in_quarter[{s}]: {sum} trials have a binding input in quarter {q}, where \
                         the aggregate has {} trials",
                        self.trials
                    ));
                }
            }
        }
        for (k, row) in self.reached_in_quarter.iter().enumerate() {
            if row.len() != h {
                return Err(format!(
                    "aggregate.reached_in_quarter[{k}]: {} quarters where the horizon has {h}",
                    row.len()
                ));
            }
            let reached = row.iter().try_fold(0u64, |acc, &c| acc.checked_add(c));
            if reached.is_none_or(|r| r > self.trials) {
                let reached = reached.map_or_else(|| "more than 2^64".to_string(), |r| r.to_string());
                return Err(format!(
                    "aggregate.reached_in_quarter[{k}]: {reached} trials reached the milestone, \
                     more than the {} trials of the aggregate",
                    self.trials
                ));
            }
        }
        let total = |row: &[u64]| row.iter().try_fold(0u64, |acc, &c| acc.checked_add(c));
        let shown = |t: Option<u64>| t.map_or_else(|| "more than 2^64".to_string(), |t| t.to_string());
        if self.started_in_quarter.len() != h {
            return Err(format!(
                "aggregate.started_in_quarter: {} quarters where the horizon has {h}",
                self.started_in_quarter.len()
            ));
        }
        let started = total(&self.started_in_quarter);
        if started != Some(self.training_started) || self.training_started > self.trials {
            return Err(format!(
                "aggregate.started_in_quarter: {} trials started their run, where training_started says {} \
                 (of {} trials)",
                shown(started),
                self.training_started,
                self.trials
            ));
        }
        for (s, row) in self.shock_in_quarter.iter().enumerate() {
            if row.len() != h {
                return Err(format!(
                    "aggregate.shock_in_quarter[{s}]: {} quarters where the horizon has {h}",
                    row.len()
                ));
            }
            let fired = total(row);
            if fired.is_none_or(|f| f > self.trials) {
                return Err(format!(
                    "aggregate.shock_in_quarter[{s}]: the shock happened in {} trials, more than the {} \
                     trials of the aggregate",
                    shown(fired),
                    self.trials
                ));
            }
        }
        for (g, row) in self.gate_open_in_quarter.iter().enumerate() {
            if row.len() != h {
                return Err(format!(
                    "aggregate.gate_open_in_quarter[{g}]: {} quarters where the horizon has {h}",
                    row.len()
                ));
            }
            if let Some(q) = row.iter().position(|&n| n > self.trials) {
                return Err(format!(
                    "aggregate.gate_open_in_quarter[{g}]: the gate was open in {} trials in quarter {q}, more \
                     than the {} trials of the aggregate",
                    row[q], self.trials
                ));
            }
        }
        if self.run_failed > self.training_started {
            return Err(format!(
                "aggregate.run_failed: {} trials had a run fail, more than the {} that started a run",
                self.run_failed, self.training_started
            ));
        }
        let mut previous = self.training_started;
        for (j, hist) in self.runs.iter().enumerate() {
            let n = hist.count();
            hist.check(n).map_err(|e| format!("aggregate.runs[{j}]: {e}"))?;
            if n > previous {
                return Err(format!(
                    "aggregate.runs[{j}]: {n} trials started run {}, more than the {previous} that started the \
                     run before (or a training run)",
                    j + 1
                ));
            }
            previous = n;
        }
        for (k, row) in self.missed.iter().enumerate() {
            let missed = total(row);
            if missed.is_none_or(|m| m > self.trials) {
                return Err(format!(
                    "aggregate.missed[{k}]: {} trials missed the milestone, more than the {} trials of the \
                     aggregate",
                    shown(missed),
                    self.trials
                ));
            }
        }
        Ok(())
    }

    /// Checks an aggregate read from a file against its model, beyond
    /// [`Aggregate::check`] (which it runs first): one row per shock and
    /// per milestone, shocks counted only in quarters their trigger can
    /// fire in, and for each milestone miss counts that add up to the
    /// trials that did not reach it by its deadline, of which
    /// `never_started` are exactly the trials whose run had not started by
    /// then.
    pub fn check_model(&self, model: &Model) -> Result<(), String> {
        self.check()?;
        match (&self.evidence, model.observations.is_empty()) {
            (None, true) => {}
            (Some(ev), false) => ev.check(model, self.trials)?,
            (None, false) => {
                return Err("aggregate: no evidence, but the scenario has [[observe]] tables".to_string());
            }
            (Some(_), true) => {
                return Err("aggregate: evidence, but the scenario has no [[observe]] tables".to_string());
            }
        }
        if self.horizon != model.horizon()
            || self.shock_in_quarter.len() != model.shocks.len()
            || self.missed.len() != model.milestones.len()
            || self.reached_in_quarter.len() != model.milestones.len()
        {
            return Err(format!(
                "aggregate: statistics of {} quarters, {} shocks and {} milestones where the scenario has {}, {} \
                 and {}",
                self.horizon,
                self.shock_in_quarter.len(),
                self.missed.len(),
                model.horizon(),
                model.shocks.len(),
                model.milestones.len()
            ));
        }
        if self.gate_open_in_quarter.len() != model.gates.len() {
            return Err(format!(
                "aggregate.gate_open_in_quarter: statistics of {} gates where the scenario has {}",
                self.gate_open_in_quarter.len(),
                model.gates.len()
            ));
        }
        let series = series_histograms(model);
        let posterior_series = self.evidence.as_ref().map_or(series, |e| e.posterior.series.len());
        if self.series.len() != series || posterior_series != series {
            return Err(format!(
                "aggregate.series: {} histograms where the scenario records {series} ({} quantities a quarter: {})",
                self.series.len(),
                series_names(model).len(),
                if series == 0 {
                    "no demand in tokens, foreign chips or suppliers".to_string()
                } else {
                    series_names(model).join(", ")
                }
            ));
        }
        let binding = model.suppliers.len() * Binding::COUNT;
        let posterior_binding = self
            .evidence
            .as_ref()
            .map_or(binding, |e| e.posterior.binding_in_quarter.len());
        if self.binding_in_quarter.len() != binding || posterior_binding != binding {
            return Err(format!(
                "aggregate.binding_in_quarter: {} rows where the scenario's {} suppliers have {binding}",
                self.binding_in_quarter.len(),
                model.suppliers.len()
            ));
        }
        if !model.training.run_failures && self.run_failed > 0 {
            return Err(
                "aggregate.run_failed: runs failed, but no chip type of the scenario has \
                        run_failure_probability"
                    .to_string(),
            );
        }
        if model.training.max_run_seconds.is_none() && !self.runs.is_empty() {
            return Err("aggregate.runs: statistics of training runs, but the scenario has no \
                        training.max_run_quarters"
                .to_string());
        }
        if model.training.max_run_seconds.is_some()
            && self.runs.first().map_or(0, |h| h.count()) != self.training_started
        {
            return Err(format!(
                "aggregate.runs: {} trials started a first run, where {} started their training run",
                self.runs.first().map_or(0, |h| h.count()),
                self.training_started
            ));
        }
        if self.clamped.len() != model.uncertain.len() {
            return Err(format!(
                "aggregate.clamped: {} uncertain numbers where the scenario has {}",
                self.clamped.len(),
                model.uncertain.len()
            ));
        }
        for (c, u) in self.clamped.iter().zip(&model.uncertain) {
            let slots = match u.per {
                crate::model::Per::Trial => 1,
                crate::model::Per::Quarter => u64::from(self.horizon),
            };
            if self.trials.checked_mul(slots).is_none_or(|draws| *c > draws) {
                return Err(format!(
                    "aggregate.clamped: {c} clamped draws of {}, more than its draws",
                    u.key
                ));
            }
        }
        for (s, (row, shock)) in self.shock_in_quarter.iter().zip(&model.shocks).enumerate() {
            let possible = match shock.trigger {
                Trigger::At { quarter, .. } => quarter..=quarter,
                Trigger::Hazard { from, until, .. } => from..=until,
            };
            if let Some(q) = (0..row.len()).find(|&q| row[q] > 0 && !possible.contains(&(q as u32))) {
                return Err(format!(
                    "aggregate.shock_in_quarter[{s}]: {} trials have shock {} happen in quarter {q}, where it \
                     cannot",
                    row[q], shock.name
                ));
            }
        }
        for (k, m) in model.milestones.iter().enumerate() {
            let d = m.deadline as usize;
            let reached: u64 = self.reached_in_quarter[k][..=d].iter().sum();
            let missed: u64 = self.missed[k].iter().sum();
            let started: u64 = self.started_in_quarter[..=d].iter().sum();
            let not_started = self.trials - started;
            if reached.checked_add(missed) != Some(self.trials)
                || self.missed[k][MissReason::NeverStarted.index()] != not_started
            {
                return Err(format!(
                    "aggregate.missed[{k}]: {missed} trials missed milestone {} ({} with no run by its deadline), \
                     where {} of {} reached it and {not_started} had no run by then",
                    m.name,
                    self.missed[k][MissReason::NeverStarted.index()],
                    reached,
                    self.trials
                ));
            }
        }
        Ok(())
    }

    /// Distribution of metric `m` at the end of quarter `q`.
    pub fn metric(&self, q: u32, m: Metric) -> &LogHistogram {
        let idx = Metric::ALL.iter().position(|x| *x == m).unwrap_or(0);
        &self.metrics[q as usize * Metric::COUNT + idx]
    }

    /// Fills the per-chip-type histograms from the totals where they mirror
    /// them ([`chips_mirror_totals`]): they were not recorded trial by
    /// trial, and the copies are exactly what recording would have given.
    fn fill_mirrored_chip_metrics(&mut self, model: &Model) {
        if let Some(ev) = &mut self.evidence {
            ev.posterior.fill_mirrored_chip_metrics(model);
        }
        if !chips_mirror_totals(model) {
            return;
        }
        for q in 0..self.horizon {
            for (k, m) in MIRRORED {
                let total = self.metric(q, m).clone();
                let idx = ChipMetric::ALL.iter().position(|x| *x == k).unwrap_or(0);
                self.chip_metrics[q as usize * ChipMetric::COUNT + idx] = total;
            }
        }
    }

    /// Distribution of metric `k` of chip type `c` at the end of quarter `q`.
    pub fn chip_metric(&self, q: u32, c: usize, k: ChipMetric) -> &LogHistogram {
        let idx = ChipMetric::ALL.iter().position(|x| *x == k).unwrap_or(0);
        &self.chip_metrics[(q as usize * self.chip_types + c) * ChipMetric::COUNT + idx]
    }

    /// Distribution of the `k`-th of the `n` quantities of
    /// [`series_names`] at the end of quarter `q`.
    pub fn series_metric(&self, q: u32, k: usize, n: usize) -> &LogHistogram {
        &self.series[q as usize * n + k]
    }

    /// The share of trials in which `input` bound supplier `s`'s output in
    /// quarter `q` (0 for an aggregate of no trials).
    pub fn binding_share(&self, s: usize, input: Binding, q: u32) -> f64 {
        let n = self.binding_in_quarter[s * Binding::COUNT + input as usize][q as usize];
        if self.trials == 0 {
            0.0
        } else {
            n as f64 / self.trials as f64
        }
    }
}

/// For serde: a count of 0 is not written.
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Histograms of [`series_names`] an aggregate of `model` keeps: one per
/// quarter and quantity.
fn series_histograms(model: &Model) -> usize {
    model.horizon() as usize * series_names(model).len()
}

/// Whether the per-chip-type histograms repeat the totals, value for value
/// in every trial: one chip type, domestic (its deliveries are the domestic
/// deliveries; its chips in inference and training are all of them). They
/// are then copied from the totals after the trials instead of recorded
/// trial by trial, which saves three histogram updates per quarter.
fn chips_mirror_totals(model: &Model) -> bool {
    model.chips.len() == 1 && model.chips[0].domestic
}

/// Each per-chip-type metric and the total it equals for one domestic type.
const MIRRORED: [(ChipMetric, Metric); 3] = [
    (ChipMetric::Delivered, Metric::DeliveredDomestic),
    (ChipMetric::Inference, Metric::InferenceChips),
    (ChipMetric::Training, Metric::TrainingChips),
];

/// An uncertain number whose draws can be clamped: where its values are in
/// a workspace, and each bound its distribution reaches beyond.
#[derive(Debug, Clone)]
pub(crate) struct Clampable {
    id: usize,
    slots: std::ops::Range<usize>,
    below: Option<f64>,
    above: Option<f64>,
}

/// Adds to `clamped[u]` the draws of the trial in `ws` that were clamped.
pub(crate) fn count_clamped(clampable: &[Clampable], ws: &Workspace, clamped: &mut [u64]) {
    let inputs = ws.inputs();
    for c in clampable {
        for &v in &inputs[c.slots.clone()] {
            if Some(v) == c.below || Some(v) == c.above {
                clamped[c.id] += 1;
            }
        }
    }
}

/// The uncertain numbers whose distribution reaches outside their valid
/// range, with where their values lie in a workspace and the bounds that
/// can clamp: a value equal to such a bound was clamped (a continuous draw
/// lands on the bound itself with probability 0; a discrete one, a fixed
/// value or a bound inside the support, is never listed).
pub(crate) fn clampable(model: &Model) -> Vec<Clampable> {
    let layout = crate::engine::input_layout(model);
    model
        .uncertain
        .iter()
        .enumerate()
        .filter_map(|(id, u)| {
            let (below, above) = u.clamp_bounds();
            (below.is_some() || above.is_some()).then(|| Clampable {
                id,
                slots: layout[id].clone(),
                below,
                above,
            })
        })
        .collect()
}

/// The outcomes of up to [`BLOCK`] trials, laid out histogram by histogram.
#[derive(Debug, Clone)]
pub struct BlockBuffer {
    /// `values[h * BLOCK + i]`: value for histogram `h` of the block's trial
    /// `i`, the metrics' histograms first, then the chip types' (when
    /// recorded), then demand's (with inference demand in tokens).
    values: Vec<f64>,
    reached: Vec<Vec<u64>>,
    started: u64,
    started_in_quarter: Vec<u64>,
    shock_in_quarter: Vec<Vec<u64>>,
    gate_open_in_quarter: Vec<Vec<u64>>,
    binding_in_quarter: Vec<Vec<u64>>,
    missed: Vec<[u64; MissReason::COUNT]>,
    clamped: Vec<u64>,
    /// With bounded runs: each run's domestic FLOP, by run index.
    runs: Vec<LogHistogram>,
    /// Trials in which a run failed (weighted).
    run_failed: u64,
    /// The uncertain numbers a draw can fall outside the valid range of:
    /// (id, where its values are, the lower bound when the distribution
    /// reaches below it, the upper bound when it reaches above it).
    clampable: Vec<Clampable>,
    /// Why a trial missed a milestone, and each milestone's deadline.
    rule: MissRule,
    deadlines: Vec<u32>,
    events: u64,
    draws: u64,
    len: usize,
    /// Whether the chip types' values are kept (not when they mirror the
    /// totals, see [`chips_mirror_totals`]).
    chips_recorded: bool,
    /// A posterior's buffer: each trial's weight (units of 2^-32).
    weights: Option<Vec<u64>>,
    /// The trials' weights added up (their number when unweighted).
    weight_total: u64,
    /// With observations: the block's evidence and posterior.
    evidence: Option<Box<crate::evidence::EvidenceBlock>>,
}

impl BlockBuffer {
    /// An empty buffer for `model`, without evidence.
    fn plain(model: &Model) -> BlockBuffer {
        let h = model.horizon() as usize;
        let chips_recorded = !chips_mirror_totals(model);
        let per_chip = if chips_recorded {
            model.chips.len() * ChipMetric::COUNT
        } else {
            0
        };
        let per_series = series_names(model).len();
        BlockBuffer {
            chips_recorded,
            values: vec![0.0; h * (Metric::COUNT + per_chip + per_series) * BLOCK as usize],
            reached: vec![vec![0; h]; model.milestones.len()],
            started: 0,
            started_in_quarter: vec![0; h],
            shock_in_quarter: vec![vec![0; h]; model.shocks.len()],
            gate_open_in_quarter: vec![vec![0; h]; model.gates.len()],
            binding_in_quarter: vec![vec![0; h]; model.suppliers.len() * Binding::COUNT],
            missed: vec![[0; MissReason::COUNT]; model.milestones.len()],
            clamped: vec![0; model.uncertain.len()],
            runs: Vec::new(),
            run_failed: 0,
            clampable: clampable(model),
            rule: MissRule::new(model),
            deadlines: model.milestones.iter().map(|m| m.deadline).collect(),
            events: 0,
            draws: 0,
            len: 0,
            weights: None,
            weight_total: 0,
            evidence: None,
        }
    }

    /// An empty buffer for `model`, with its evidence when the model has
    /// observations.
    pub fn new(model: &Model) -> BlockBuffer {
        let mut b = BlockBuffer::plain(model);
        if !model.observations.is_empty() {
            b.evidence = Some(Box::new(crate::evidence::EvidenceBlock::new(model)));
        }
        b
    }

    /// An empty buffer for a posterior's trials, each with its weight.
    pub fn weighted(model: &Model) -> BlockBuffer {
        let mut b = BlockBuffer::plain(model);
        b.weights = Some(vec![0; BLOCK as usize]);
        b
    }

    /// Appends the trial just simulated in `ws` (at most [`BLOCK`] per
    /// block): its outcome, and why it missed each milestone it missed;
    /// with observations, also its evidence and, if it has weight, its
    /// place in the posterior.
    pub fn push(&mut self, model: &Model, ws: &Workspace) {
        self.record(model, ws, 1);
        if let Some(ev) = &mut self.evidence {
            ev.push(model, ws);
        }
    }

    /// Appends a trial to a posterior's buffer ([`BlockBuffer::weighted`])
    /// with weight `w`.
    pub(crate) fn push_weighted(&mut self, model: &Model, ws: &Workspace, w: u64) {
        if let Some(weights) = &mut self.weights {
            weights[self.len] = w;
        }
        self.record(model, ws, w);
    }

    #[inline(always)]
    fn record(&mut self, model: &Model, ws: &Workspace, w: u64) {
        let outcome = &ws.outcome;
        let i = self.len;
        for (q, row) in outcome.metrics.iter().enumerate() {
            for (m, &v) in row.iter().enumerate() {
                self.values[(q * Metric::COUNT + m) * BLOCK as usize + i] = v;
            }
        }
        let mut first = outcome.metrics.len() * Metric::COUNT;
        if self.chips_recorded {
            for (h, &v) in outcome.chip_metrics.iter().enumerate() {
                self.values[(first + h) * BLOCK as usize + i] = v;
            }
            first += outcome.chip_metrics.len();
        }
        for (h, &v) in outcome.series.iter().enumerate() {
            self.values[(first + h) * BLOCK as usize + i] = v;
        }
        for (k, r) in outcome.reached.iter().enumerate() {
            if let Some(q) = r {
                self.reached[k][*q as usize] += w;
            }
            if r.is_none_or(|q| q > self.deadlines[k]) {
                let reason = self.rule.classify_trial(model, ws, k);
                self.missed[k][reason.index()] += w;
            }
        }
        if let Some(t) = outcome.start_time {
            self.started_in_quarter[model.calendar.quarter_at(t) as usize] += w;
        }
        if self.weights.is_none() {
            count_clamped(&self.clampable, ws, &mut self.clamped);
        }
        for (s, q) in outcome.shocks.iter().enumerate() {
            if let Some(q) = q {
                self.shock_in_quarter[s][*q as usize] += w;
            }
        }
        let gates = self.gate_open_in_quarter.len();
        for (i, &open) in outcome.gate_open.iter().enumerate() {
            if open {
                self.gate_open_in_quarter[i % gates][i / gates] += w;
            }
        }
        let suppliers = self.binding_in_quarter.len() / Binding::COUNT;
        for (i, &b) in outcome.binding.iter().enumerate() {
            self.binding_in_quarter[(i % suppliers) * Binding::COUNT + b as usize][i / suppliers] += w;
        }
        if self.runs.len() < outcome.runs.len() {
            self.runs.resize(outcome.runs.len(), LogHistogram::new());
        }
        for (hist, &flop) in self.runs.iter_mut().zip(&outcome.runs) {
            hist.add_n(flop, w);
        }
        self.started += if outcome.started { w } else { 0 };
        self.run_failed += if outcome.run_failures > 0 { w } else { 0 };
        self.events += outcome.events;
        self.draws += outcome.draws;
        self.weight_total += w;
        self.len += 1;
    }

    fn clear(&mut self) {
        self.len = 0;
        self.weight_total = 0;
        self.started = 0;
        self.run_failed = 0;
        self.events = 0;
        self.draws = 0;
        self.reached.iter_mut().for_each(|r| r.fill(0));
        self.started_in_quarter.fill(0);
        self.shock_in_quarter.iter_mut().for_each(|r| r.fill(0));
        self.gate_open_in_quarter.iter_mut().for_each(|r| r.fill(0));
        self.binding_in_quarter.iter_mut().for_each(|r| r.fill(0));
        self.missed.iter_mut().for_each(|r| r.fill(0));
        self.clamped.fill(0);
        self.runs.clear();
    }
}

/// Trials per batch of a precision-driven run.
pub const PRECISION_BATCH: u64 = 10_000;

impl Aggregate {
    /// The widest 95% Clopper–Pearson half-width among the milestones'
    /// probabilities (`max(p - low, high - p)`); 0 without milestones.
    pub fn max_ci_half_width(&self, model: &Model) -> f64 {
        if let Some(ev) = &self.evidence {
            // The posterior's intervals (docs/MODEL.md section 11); not
            // converged while the posterior has fewer effective trials than
            // the scenario asks for (nor while no trial has weight).
            let ess = ev.effective_sample_size();
            if ess < 1.0 || ess < model.min_effective_sample_size as f64 {
                return 1.0;
            }
            let s = crate::results::Summary::new(model, self, 0, "");
            return s
                .milestones
                .iter()
                .map(|m| (m.probability - m.ci95_low).max(m.ci95_high - m.probability))
                .fold(0.0, f64::max);
        }
        model
            .milestones
            .iter()
            .zip(&self.reached_in_quarter)
            .map(|(m, counts)| {
                let x: u64 = counts[..=m.deadline as usize].iter().sum();
                let (lo, hi) = crate::stats::clopper_pearson(x, self.trials, 0.05);
                let p = x as f64 / self.trials.max(1) as f64;
                (p - lo).max(hi - p)
            })
            .fold(0.0, f64::max)
    }
}

/// Runs batches of [`PRECISION_BATCH`] trials, in trial order (0.., then
/// the next batch), until every milestone's 95% half-width is at most
/// `target` or `max_trials` trials have run. Returns the aggregate and
/// whether the target was met. The result depends only on the model, seed,
/// target and cap, not on threads.
pub fn run_to_precision(
    model: &Model,
    seed: u64,
    target: f64,
    max_trials: u64,
    threads: Option<usize>,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<(Aggregate, bool), Error> {
    let control = RunControl {
        threads,
        progress,
        cancel,
    };
    run_to_precision_sampled(model, seed, target, max_trials, 0, &control).map(|(agg, converged, _)| (agg, converged))
}

/// [`run_to_precision`] that also keeps the samples.csv rows of the trials
/// below `samples` that ran ([`run_trials_sampled`]), in trial order.
pub fn run_to_precision_sampled(
    model: &Model,
    seed: u64,
    target: f64,
    max_trials: u64,
    samples: u64,
    control: &RunControl,
) -> Result<(Aggregate, bool, String), Error> {
    let mut agg = Aggregate::new(model);
    let mut rows = String::new();
    loop {
        let start = agg.trials;
        let end = (start + PRECISION_BATCH).min(max_trials);
        let (batch, batch_rows) = run_trials_sampled(model, seed, start..end, samples, control)?;
        agg = agg.merge(batch).map_err(run_error)?;
        rows.push_str(&batch_rows);
        let converged = agg.max_ci_half_width(model) <= target;
        if converged || agg.trials >= max_trials {
            return Ok((agg, converged, rows));
        }
    }
}

/// Runs trials `range` of `model` with `seed` on `threads` threads (all
/// available cores when `None`).
pub fn run_trials(model: &Model, seed: u64, range: Range<u64>, threads: Option<usize>) -> Result<Aggregate, Error> {
    run_trials_with_progress(model, seed, range, threads, &|_| {})
}

/// [`run_trials`], calling `progress(n)` each time a block of `n` trials is done
/// (from worker threads, in no particular order).
pub fn run_trials_with_progress(
    model: &Model,
    seed: u64,
    range: Range<u64>,
    threads: Option<usize>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Aggregate, Error> {
    run_trials_controlled(model, seed, range, threads, progress, &AtomicBool::new(false))
}

/// [`run_trials_with_progress`] that stops early, with
/// [`Error::Interrupted`], once `cancel` is set (checked before each block
/// of [`BLOCK`] trials, i.e. every few milliseconds).
pub fn run_trials_controlled(
    model: &Model,
    seed: u64,
    range: Range<u64>,
    threads: Option<usize>,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<Aggregate, Error> {
    let control = RunControl {
        threads,
        progress,
        cancel,
    };
    run_trials_sampled(model, seed, range, 0, &control).map(|(agg, _)| agg)
}

/// Runs trials `range` as [`run_trials_controlled`] does and also returns
/// the samples.csv rows ([`crate::samples::write_row`]) of its trials below
/// `samples`, in trial order (empty when `samples` is 0): the same text for
/// any thread count.
pub fn run_trials_sampled(
    model: &Model,
    seed: u64,
    range: Range<u64>,
    samples: u64,
    control: &RunControl,
) -> Result<(Aggregate, String), Error> {
    let (mut aggregate, rows) = run_blocks(
        range,
        control,
        || (Workspace::new(model), BlockBuffer::new(model)),
        || (Aggregate::new(model), Rows::default()),
        |(ws, buffer), (agg, rows), trials| {
            let first = trials.start;
            let mut text = String::new();
            for trial in trials {
                simulate_trial(model, seed, trial, ws);
                buffer.push(model, ws);
                if trial < samples {
                    crate::samples::write_row(model, ws, trial, &mut text);
                }
            }
            agg.add_block(buffer);
            rows.add(first, text);
        },
        |(a, ra), (b, rb)| Ok((a.merge(b)?, ra.merge(rb))),
    )?;
    aggregate.fill_mirrored_chip_metrics(model);
    Ok((aggregate, rows.into_text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregate(range: Range<u64>) -> (Model, Aggregate) {
        let model = Model::from_text(include_str!("../scenarios/minimal.toml"), "minimal.toml").unwrap();
        let agg = run_trials(&model, 3, range, Some(1)).unwrap();
        (model, agg)
    }

    #[test]
    fn merge_is_checked() {
        let (model, a) = aggregate(0..300);
        let (_, b) = aggregate(300..600);
        let whole = run_trials(&model, 3, 0..600, Some(1)).unwrap();
        assert_eq!(a.clone().merge(b.clone()), Ok(whole));
        let mut huge = a.clone();
        huge.events = u64::MAX;
        assert_eq!(huge.merge(b.clone()), Err(MergeError::Overflow("events")));
        let mut many = a.clone();
        many.reached_in_quarter[0][0] = u64::MAX;
        let mut other = b.clone();
        other.reached_in_quarter[0][0] = 1;
        assert_eq!(many.merge(other), Err(MergeError::Overflow("reached_in_quarter")));
        let mut short = b;
        short.metrics.pop();
        assert_eq!(a.merge(short), Err(MergeError::Shape));
    }

    #[test]
    fn check_accepts_every_real_aggregate_and_refuses_impossible_ones() {
        let (model, agg) = aggregate(0..300);
        assert_eq!(agg.check(), Ok(()));
        assert_eq!(Aggregate::new(&model).check(), Ok(()));
        let mut reached = agg.clone();
        reached.reached_in_quarter[0][2] += 1000;
        let err = reached.check().unwrap_err();
        assert!(err.starts_with("aggregate.reached_in_quarter[0]:"), "{err}");
        let mut trials = agg.clone();
        trials.trials += 1;
        let err = trials.check().unwrap_err();
        assert!(err.starts_with("aggregate.metrics[0]:"), "{err}");
        let mut rows = agg.clone();
        rows.reached_in_quarter[0].pop();
        assert!(rows.check().is_err());
        let mut horizon = agg.clone();
        horizon.horizon = u32::MAX;
        assert!(horizon.check().unwrap_err().contains("histograms"));
        let mut chips = agg.clone();
        chips.chip_metrics.pop();
        assert!(
            chips.check().unwrap_err().contains("(chip_metrics)"),
            "{:?}",
            chips.check()
        );
        let mut types = agg.clone();
        types.chip_types += 1;
        assert!(types.check().unwrap_err().contains("(chip_metrics)"));
        let mut count = agg.clone();
        count.chip_metrics[5].add(1.0);
        let err = count.check().unwrap_err();
        assert!(err.starts_with("aggregate.chip_metrics[5]:"), "{err}");
        let mut old = agg;
        (old.chip_types, old.chip_metrics) = (0, Vec::new());
        assert!(!old.same_shape(&Aggregate::new(&model)));
    }

    /// With one domestic chip type the per-type histograms are copied from
    /// the totals; the engine's per-trial values (still computed) must be
    /// the totals' exactly, or the copy would differ from recording.
    #[test]
    fn one_domestic_chip_type_mirrors_the_totals_exactly() {
        let model = Model::from_text(include_str!("../scenarios/default.toml"), "d.toml").unwrap();
        assert!(chips_mirror_totals(&model));
        let mut ws = Workspace::new(&model);
        for trial in 0..200 {
            simulate_trial(&model, 9, trial, &mut ws);
            for (q, row) in ws.outcome.metrics.iter().enumerate() {
                for (k, m) in MIRRORED {
                    let ki = ChipMetric::ALL.iter().position(|x| *x == k).unwrap();
                    let mi = Metric::ALL.iter().position(|x| *x == m).unwrap();
                    let per_type = ws.outcome.chip_metrics[q * ChipMetric::COUNT + ki];
                    assert_eq!(per_type.to_bits(), row[mi].to_bits(), "trial {trial} q{q} {k:?}");
                }
            }
        }
        let agg = run_trials(&model, 9, 0..700, Some(2)).unwrap();
        agg.check().unwrap();
        for q in 0..model.horizon() {
            for (k, m) in MIRRORED {
                assert_eq!(agg.chip_metric(q, 0, k), agg.metric(q, m));
            }
        }
    }

    #[test]
    fn chip_types_add_up_to_the_totals_in_every_trial() {
        let model = Model::from_text(include_str!("../scenarios/successor_910c.toml"), "s.toml").unwrap();
        assert!(model.chips.len() >= 2);
        let n = model.chips.len();
        let mut ws = Workspace::new(&model);
        let mut delivered_some = false;
        for trial in 0..40 {
            simulate_trial(&model, 5, trial, &mut ws);
            for (q, row) in ws.outcome.metrics.iter().enumerate() {
                let cells = &ws.outcome.chip_metrics[q * n * ChipMetric::COUNT..][..n * ChipMetric::COUNT];
                let sum = |k: usize, domestic_only: bool| -> f64 {
                    (0..n)
                        .filter(|&c| !domestic_only || model.chips[c].domestic)
                        .map(|c| cells[c * ChipMetric::COUNT + k])
                        .sum()
                };
                let flops: f64 = (0..n)
                    .filter(|&c| model.chips[c].domestic)
                    .map(|c| cells[c * ChipMetric::COUNT] * model.chips[c].peak_flops)
                    .sum();
                assert_eq!(sum(0, true), row[0], "trial {trial}, quarter {q}");
                assert_eq!(sum(1, false), row[1]);
                assert_eq!(sum(2, false), row[2]);
                assert_eq!(flops, row[6]);
                delivered_some |= (0..n).all(|c| cells[c * ChipMetric::COUNT] > 0.0);
            }
        }
        assert!(delivered_some, "no quarter with deliveries of every chip type");
        // And the aggregate of the per-type histograms merges exactly.
        let whole = run_trials(&model, 5, 0..700, Some(1)).unwrap();
        let parts = run_trials(&model, 5, 0..300, Some(2))
            .unwrap()
            .merge(run_trials(&model, 5, 300..700, Some(1)).unwrap())
            .unwrap();
        assert_eq!(parts, whole);
        assert_eq!(whole.check(), Ok(()));
        assert_eq!(whole.chip_metric(3, 1, ChipMetric::Training).count(), 700);
    }

    /// The default scenario: shocks at a quarter and by hazard, runs that
    /// start in several quarters or never, every miss reason.
    fn default_aggregate(range: Range<u64>, threads: usize) -> (Model, Aggregate) {
        let model = Model::from_text(include_str!("../scenarios/default.toml"), "d.toml").unwrap();
        let agg = run_trials(&model, 5, range, Some(threads)).unwrap();
        (model, agg)
    }

    #[test]
    fn start_shock_and_miss_counts_add_up_and_merge_exactly() {
        let (model, whole) = default_aggregate(0..1500, 1);
        let (_, a) = default_aggregate(0..700, 2);
        let (_, b) = default_aggregate(700..1500, 1);
        assert_eq!(a.merge(b).unwrap(), whole);
        assert_eq!(whole.check_model(&model), Ok(()));
        assert_eq!(whole.started_in_quarter.iter().sum::<u64>(), whole.training_started);
        assert!(whole.started_in_quarter.iter().filter(|&&c| c > 0).count() > 2);
        for (k, m) in model.milestones.iter().enumerate() {
            let reached: u64 = whole.reached_in_quarter[k][..=m.deadline as usize].iter().sum();
            assert_eq!(
                whole.missed[k].iter().sum::<u64>() + reached,
                whole.trials,
                "{}",
                m.name
            );
        }
        // frontier_1e26 is missed for every reason.
        assert!(whole.missed[3].iter().all(|&c| c > 0), "{:?}", whole.missed[3]);
        // The December 2024 rule happens only in 2024Q4; the hazard in 2025Q1 on.
        let q4 = 3;
        assert_eq!(
            whole.shock_in_quarter[0][q4],
            whole.shock_in_quarter[0].iter().sum::<u64>()
        );
        assert!(whole.shock_in_quarter[2][..4].iter().all(|&c| c == 0));
        assert!(whole.shock_in_quarter[2][4..].iter().sum::<u64>() > 0);
    }

    #[test]
    fn check_refuses_start_shock_and_miss_counts_no_run_can_give() {
        let (model, agg) = default_aggregate(0..300, 1);
        let refused = |edit: &dyn Fn(&mut Aggregate), field: &str| {
            let mut bad = agg.clone();
            edit(&mut bad);
            let err = bad.check_model(&model).unwrap_err();
            assert!(err.starts_with(&format!("aggregate.{field}")), "{field}: {err}");
        };
        refused(&|a| a.started_in_quarter[5] += 1, "started_in_quarter");
        refused(
            &|a| {
                a.started_in_quarter[5] += 1;
                a.training_started += 1;
            },
            // Now consistent with itself, but not with the misses.
            "missed[0]",
        );
        refused(&|a| a.started_in_quarter.push(0), "started_in_quarter");
        refused(&|a| a.shock_in_quarter[0][3] = u64::MAX, "shock_in_quarter[0]");
        refused(&|a| a.shock_in_quarter[0][2] += 1, "shock_in_quarter[0]");
        refused(
            &|a| {
                a.shock_in_quarter[1].pop();
            },
            "shock_in_quarter[1]",
        );
        refused(&|a| a.missed[1][2] += 1, "missed[1]");
        refused(
            &|a| {
                // Moved from one reason to another: the sum holds, the
                // trials without a run by the deadline do not.
                a.missed[1][0] -= 1;
                a.missed[1][1] += 1;
            },
            "missed[1]",
        );
        refused(&|a| a.missed[2] = [u64::MAX, 1, 0, 0], "missed[2]");
        assert!(agg.clone().check_model(&model).is_ok());
        let mut short = agg.clone();
        short.missed.pop();
        assert!(!agg.same_shape(&short));
        let mut wrapped = agg.clone();
        wrapped.missed[0][0] = u64::MAX;
        assert_eq!(wrapped.merge(agg.clone()), Err(MergeError::Overflow("missed")));
        let mut wrapped = agg.clone();
        wrapped.shock_in_quarter[0][3] = u64::MAX;
        assert_eq!(
            wrapped.merge(agg.clone()),
            Err(MergeError::Overflow("shock_in_quarter"))
        );
        let mut wrapped = agg.clone();
        wrapped.started_in_quarter[4] = u64::MAX;
        assert_eq!(wrapped.merge(agg), Err(MergeError::Overflow("started_in_quarter")));
    }

    #[test]
    fn samples_rows_are_the_same_for_any_thread_count_and_split() {
        let model = Model::from_text(include_str!("../scenarios/successor_910c.toml"), "s.toml").unwrap();
        let flag = AtomicBool::new(false);
        let control = |threads| RunControl {
            threads: Some(threads),
            progress: &|_| {},
            cancel: &flag,
        };
        let (agg1, rows1) = run_trials_sampled(&model, 3, 0..900, 600, &control(1)).unwrap();
        let (agg2, rows2) = run_trials_sampled(&model, 3, 0..900, 600, &control(2)).unwrap();
        assert_eq!((&agg1, &rows1), (&agg2, &rows2));
        assert_eq!(agg1, run_trials(&model, 3, 0..900, Some(2)).unwrap());
        assert_eq!(rows1.lines().count(), 600);
        let (_, a) = run_trials_sampled(&model, 3, 0..300, 600, &control(2)).unwrap();
        let (_, b) = run_trials_sampled(&model, 3, 300..900, 600, &control(1)).unwrap();
        assert_eq!(a + &b, rows1);
        assert_eq!(b.lines().count(), 300);
        assert!(b.starts_with("300,"));
        let (_, none) = run_trials_sampled(&model, 3, 0..900, 0, &control(2)).unwrap();
        assert!(none.is_empty());
    }

    /// Clamped draws are counted per uncertain number, add up exactly over
    /// splits, and are refused by `check_model` when more than the draws.
    #[test]
    fn clamped_draws_merge_exactly_and_are_checked() {
        let text = r#"
[scenario]
name = "c"
start = "2024Q1"
horizon_quarters = 8
trials = 100
seed = 1

[chips.a]
peak_flops = 1e14

[supply.line]
chip = "a"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]
fill_rate = { dist = "normal", mean = 0.9, sd = 0.1, per = "quarter" }

[training]
mfu = 0.4

[milestones.m]
target_flop = 1e23
deadline = "2025Q2"
"#;
        let model = Model::from_text(text, "c.toml").unwrap();
        let whole = run_trials(&model, 3, 0..700, Some(1)).unwrap();
        let parts = run_trials(&model, 3, 0..300, Some(2))
            .unwrap()
            .merge(run_trials(&model, 3, 300..700, Some(1)).unwrap())
            .unwrap();
        assert_eq!(whole, parts);
        let fill = model
            .uncertain
            .iter()
            .position(|u| u.key.ends_with("fill_rate"))
            .unwrap();
        assert!(whole.clamped[fill] > 0, "{:?}", whole.clamped);
        whole.check_model(&model).unwrap();
        let mut bad = whole;
        bad.clamped[fill] = u64::MAX;
        assert!(bad.check_model(&model).unwrap_err().contains("clamped"));
    }
}
