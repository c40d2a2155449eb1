//! Monte Carlo over trials with rayon.
//!
//! Trials are independent: trial `i` uses only streams derived from
//! (seed, i), so the thread that runs it does not matter. Results are folded
//! into an [`Aggregate`] of integer counts, whose merge is exact and
//! order-independent: any thread count gives identical bits. Memory does not
//! grow with the number of trials.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::engine::{Metric, TrialOutcome, Workspace, simulate_trial};
use crate::error::Error;
use crate::model::Model;
use crate::stats::LogHistogram;

/// Trials per unit of parallel work.
const BLOCK: u64 = 256;

/// Streaming statistics over any number of trials.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Aggregate {
    /// Trials recorded.
    pub trials: u64,
    /// Horizon in quarters.
    pub horizon: u32,
    /// `metrics[q * Metric::COUNT + m]`: distribution of metric `m` at the end of quarter `q`.
    pub metrics: Vec<LogHistogram>,
    /// `reached_in_quarter[k][q]`: trials in which milestone `k` was first reached in quarter `q`.
    pub reached_in_quarter: Vec<Vec<u64>>,
    /// Trials in which the training run started within the horizon.
    pub training_started: u64,
    /// Events processed in all trials.
    pub events: u64,
    /// Random 64-bit words drawn in all trials.
    pub draws: u64,
}

impl Aggregate {
    /// An empty aggregate for `model`.
    pub fn new(model: &Model) -> Aggregate {
        let h = model.horizon();
        Aggregate {
            trials: 0,
            horizon: h,
            metrics: vec![LogHistogram::new(); h as usize * Metric::COUNT],
            reached_in_quarter: vec![vec![0; h as usize]; model.milestones.len()],
            training_started: 0,
            events: 0,
            draws: 0,
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
        self.trials += n as u64;
        self.training_started += buffer.started;
        self.events += buffer.events;
        self.draws += buffer.draws;
        for (h, hist) in self.metrics.iter_mut().enumerate() {
            for &v in &buffer.values[h * BLOCK as usize..h * BLOCK as usize + n] {
                hist.add(v);
            }
        }
        for (a, b) in self.reached_in_quarter.iter_mut().zip(&buffer.reached) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
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
            && self.reached_in_quarter.len() == other.reached_in_quarter.len()
            && self
                .reached_in_quarter
                .iter()
                .zip(&other.reached_in_quarter)
                .all(|(a, b)| a.len() == b.len())
    }

    /// Adds another aggregate of the same model.
    pub fn merge(mut self, other: Aggregate) -> Aggregate {
        self.trials += other.trials;
        self.training_started += other.training_started;
        self.events += other.events;
        self.draws += other.draws;
        for (a, b) in self.metrics.iter_mut().zip(&other.metrics) {
            a.merge(b);
        }
        for (a, b) in self.reached_in_quarter.iter_mut().zip(&other.reached_in_quarter) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self
    }

    /// Distribution of metric `m` at the end of quarter `q`.
    pub fn metric(&self, q: u32, m: Metric) -> &LogHistogram {
        let idx = Metric::ALL.iter().position(|x| *x == m).unwrap_or(0);
        &self.metrics[q as usize * Metric::COUNT + idx]
    }
}

/// The outcomes of up to [`BLOCK`] trials, laid out histogram by histogram.
#[derive(Debug, Clone)]
pub struct BlockBuffer {
    /// `values[h * BLOCK + i]`: value for histogram `h` of the block's trial `i`.
    values: Vec<f64>,
    reached: Vec<Vec<u64>>,
    started: u64,
    events: u64,
    draws: u64,
    len: usize,
}

impl BlockBuffer {
    /// An empty buffer for `model`.
    pub fn new(model: &Model) -> BlockBuffer {
        let h = model.horizon() as usize;
        BlockBuffer {
            values: vec![0.0; h * Metric::COUNT * BLOCK as usize],
            reached: vec![vec![0; h]; model.milestones.len()],
            started: 0,
            events: 0,
            draws: 0,
            len: 0,
        }
    }

    /// Appends one trial (at most [`BLOCK`] per block).
    pub fn push(&mut self, outcome: &TrialOutcome) {
        let i = self.len;
        for (q, row) in outcome.metrics.iter().enumerate() {
            for (m, &v) in row.iter().enumerate() {
                self.values[(q * Metric::COUNT + m) * BLOCK as usize + i] = v;
            }
        }
        for (k, r) in outcome.reached.iter().enumerate() {
            if let Some(q) = r {
                self.reached[k][*q as usize] += 1;
            }
        }
        self.started += u64::from(outcome.started);
        self.events += outcome.events;
        self.draws += outcome.draws;
        self.len += 1;
    }

    fn clear(&mut self) {
        self.len = 0;
        self.started = 0;
        self.events = 0;
        self.draws = 0;
        self.reached.iter_mut().for_each(|r| r.fill(0));
    }
}

/// Trials per batch of a precision-driven run.
pub const PRECISION_BATCH: u64 = 10_000;

impl Aggregate {
    /// The widest 95% Clopper–Pearson half-width among the milestones'
    /// probabilities (`max(p - low, high - p)`); 0 without milestones.
    pub fn max_ci_half_width(&self, model: &Model) -> f64 {
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
    let mut agg = Aggregate::new(model);
    loop {
        let start = agg.trials;
        let end = (start + PRECISION_BATCH).min(max_trials);
        agg = agg.merge(run_trials_controlled(
            model,
            seed,
            start..end,
            threads,
            progress,
            cancel,
        )?);
        let converged = agg.max_ci_half_width(model) <= target;
        if converged || agg.trials >= max_trials {
            return Ok((agg, converged));
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
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Run(format!("cannot start {threads:?} threads: {e}")))?;
    let blocks = (range.end - range.start).div_ceil(BLOCK);
    let aggregate = pool.install(|| {
        (0..blocks)
            .into_par_iter()
            .fold(
                || (Workspace::new(model), BlockBuffer::new(model), Aggregate::new(model)),
                |(mut ws, mut buffer, mut agg), b| {
                    if cancel.load(Ordering::Relaxed) {
                        return (ws, buffer, agg);
                    }
                    let first = range.start + b * BLOCK;
                    let last = (first + BLOCK).min(range.end);
                    for trial in first..last {
                        simulate_trial(model, seed, trial, &mut ws);
                        buffer.push(&ws.outcome);
                    }
                    agg.add_block(&mut buffer);
                    progress(last - first);
                    (ws, buffer, agg)
                },
            )
            .map(|(_, _, agg)| agg)
            .reduce(|| Aggregate::new(model), Aggregate::merge)
    });
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    Ok(aggregate)
}
