//! One runner for every question: trials in blocks of [`BLOCK`] on a rayon
//! pool, each block feeding a per-thread accumulator, the accumulators
//! combined by an exact merge.
//!
//! Trial `i` uses only streams addressed by (seed, i, …), so the thread that
//! runs it does not matter; an accumulator whose merge is exact and
//! order-independent (integer counts, values kept by trial index) gives the
//! same bits for any thread count, shard count or machine. [`crate::trials`]
//! feeds today's histograms ([`crate::trials::Aggregate`]); compare, sweep,
//! sensitivity and optimize feed their own accumulators through the same
//! [`run_blocks`].

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::error::Error;
use crate::trials::MergeError;

/// Trials per unit of parallel work.
pub const BLOCK: u64 = 256;

/// How a run is carried out: threads, progress and cancellation.
#[derive(Clone, Copy)]
pub struct RunControl<'a> {
    /// Worker threads (all available cores when `None`).
    pub threads: Option<usize>,
    /// Called with the number of trials of each finished block, from
    /// worker threads, in no particular order.
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// Once set, the run stops before its next block with [`Error::Interrupted`].
    pub cancel: &'a AtomicBool,
}

impl std::fmt::Debug for RunControl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunControl")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

/// Runs the trials of `range` in blocks of [`BLOCK`] (the first block starts
/// at `range.start`). Each worker makes its scratch space once with
/// `scratch` (workspaces, buffers) and its accumulator with `empty`;
/// `block(scratch, acc, trials)` runs one block's trials into the
/// accumulator; accumulators are combined with `merge`, which must be exact
/// and not depend on the order or grouping of the combination.
pub fn run_blocks<S, A>(
    range: Range<u64>,
    control: &RunControl,
    scratch: impl Fn() -> S + Sync + Send,
    empty: impl Fn() -> A + Sync + Send,
    block: impl Fn(&mut S, &mut A, Range<u64>) + Sync + Send,
    merge: impl Fn(A, A) -> Result<A, MergeError> + Sync + Send,
) -> Result<A, Error>
where
    A: Send,
    S: Send,
{
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = control.threads {
        builder = builder.num_threads(t);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Run(format!("cannot start {:?} threads: {e}", control.threads)))?;
    let blocks = (range.end - range.start).div_ceil(BLOCK);
    let cancel = control.cancel;
    let result = pool.install(|| {
        (0..blocks)
            .into_par_iter()
            .fold(
                || (scratch(), empty()),
                |(mut s, mut acc), b| {
                    if cancel.load(Ordering::Relaxed) {
                        return (s, acc);
                    }
                    let first = range.start + b * BLOCK;
                    let last = (first + BLOCK).min(range.end);
                    block(&mut s, &mut acc, first..last);
                    (control.progress)(last - first);
                    (s, acc)
                },
            )
            .map(|(_, acc)| Ok(acc))
            .try_reduce(&empty, &merge)
    });
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    result.map_err(run_error)
}

/// A merge that failed while running trials: counts are bounded by the
/// trials (at most [`crate::model::MAX_TRIALS`]), so this is a bug, reported
/// as a failed run rather than a wrapped count.
pub fn run_error(e: MergeError) -> Error {
    Error::Run(format!("cannot add the statistics of the trials: {e}"))
}
