//! `sancsim bench`: trial throughput, draws per trial and peak memory of a
//! scenario, for several thread counts. Each thread count runs in its own
//! child process so its peak resident memory is its own.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::Model;
use crate::trials::run_trials;

/// One measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchResult {
    /// Worker threads.
    pub threads: usize,
    /// Trials run.
    pub trials: u64,
    /// Quarters per trial.
    pub horizon_quarters: u32,
    /// Wall-clock seconds for the trials alone (no parsing, no output).
    pub seconds: f64,
    /// Events processed per trial.
    pub events_per_trial: f64,
    /// Random 64-bit words drawn per trial.
    pub draws_per_trial: f64,
    /// Peak resident set size of the process, KiB (Linux `VmHWM`).
    pub peak_rss_kib: Option<u64>,
}

impl BenchResult {
    /// Trials per second.
    pub fn trials_per_second(&self) -> f64 {
        self.trials as f64 / self.seconds
    }
}

/// Runs `trials` trials of `model` on `threads` threads in this process and
/// measures them.
pub fn measure(model: &Model, trials: u64, threads: usize) -> Result<BenchResult, Error> {
    let start = Instant::now();
    let agg = run_trials(model, model.seed, 0..trials, Some(threads))?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(BenchResult {
        threads,
        trials,
        horizon_quarters: model.horizon(),
        seconds,
        events_per_trial: agg.events as f64 / trials as f64,
        draws_per_trial: agg.draws as f64 / trials as f64,
        peak_rss_kib: peak_rss_kib(),
    })
}

/// Peak resident memory of this process, from /proc/self/status.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The benchmark table, in Markdown: per thread count the median of its
/// runs (by trials/s), with the range of trials/s over the runs; speed-up is
/// the ratio of medians to the first thread count's.
pub fn table(file: &Path, runs: &[Vec<BenchResult>]) -> String {
    let medians: Vec<(&BenchResult, f64, f64)> = runs
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| {
            let mut sorted: Vec<&BenchResult> = r.iter().collect();
            sorted.sort_by(|a, b| a.trials_per_second().total_cmp(&b.trials_per_second()));
            let lo = sorted[0].trials_per_second();
            let hi = sorted[sorted.len() - 1].trials_per_second();
            (sorted[sorted.len() / 2], lo, hi)
        })
        .collect();
    let mut out = format!(
        "benchmark of {} ({} quarters per trial), median of {} runs per thread count\n\n| threads | trials | seconds | trials/s | range of trials/s | trial-quarters/s | events/trial | draws/trial | peak RSS MiB | speed-up |\n|---|---|---|---|---|---|---|---|---|---|\n",
        file.display(),
        medians.first().map(|r| r.0.horizon_quarters).unwrap_or(0),
        runs.first().map(Vec::len).unwrap_or(0)
    );
    let base = medians.first().map(|r| r.0.trials_per_second()).unwrap_or(1.0);
    for (r, lo, hi) in &medians {
        let tps = r.trials_per_second();
        out.push_str(&format!(
            "| {} | {} | {:.3} | {:.0} | {:.0}–{:.0} | {:.0} | {:.1} | {:.1} | {} | {:.2}× |\n",
            r.threads,
            r.trials,
            r.seconds,
            tps,
            lo,
            hi,
            tps * r.horizon_quarters as f64,
            r.events_per_trial,
            r.draws_per_trial,
            r.peak_rss_kib
                .map(|k| format!("{:.1}", k as f64 / 1024.0))
                .unwrap_or_else(|| "n/a".into()),
            tps / base
        ));
    }
    out
}

/// Times [`crate::stats::clopper_pearson`] (95%) over a grid of `(x, n)`:
/// for each `n` in 10, 10³, …, 10⁹, the counts 0, 1, 10, 1%, 50%, 99% of
/// `n`, n − 1 and n. Reports ns per call per `n`, the median of 5 passes.
pub fn interval_bench() -> String {
    let ns: Vec<u64> = (0..=8).map(|k| 10u64.pow(k + 1)).collect();
    let mut out = String::from(
        "Clopper–Pearson interval (95%), ns per call, median of 5 passes\n\n| n | calls per pass | ns/call |\n|---|---|---|\n",
    );
    let mut total = 0.0;
    for &n in &ns {
        let mut xs: Vec<u64> = vec![0, 1, 10, n / 100, n / 2, n - n / 100, n - 1, n];
        xs.retain(|&x| x <= n);
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let start = Instant::now();
                let mut sink = 0.0;
                for &x in &xs {
                    let (lo, hi) = crate::stats::clopper_pearson(x, n, 0.05);
                    sink += lo + hi;
                }
                std::hint::black_box(sink);
                start.elapsed().as_secs_f64() * 1e9 / xs.len() as f64
            })
            .collect();
        times.sort_by(f64::total_cmp);
        total += times[2] * xs.len() as f64;
        out.push_str(&format!("| {n} | {} | {:.0} |\n", xs.len(), times[2]));
    }
    out.push_str(&format!("\nall {} calls: {:.1} µs\n", ns.len() * 8, total / 1e3));
    out
}
