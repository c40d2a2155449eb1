//! The command line: argument parsing (clap) only. The commands themselves
//! are in [`crate::app`], one module each; `main` parses, calls
//! [`crate::app::execute`], prints and maps errors to exit codes.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::init::Template;
use crate::show::Format as ShowFormat;

/// Monte Carlo simulation of AI-chip supply under export controls: the
/// probability of reaching training-compute milestones with domestic chips.
#[derive(Debug, Parser)]
#[command(name = "sancsim", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check scenario files and report every problem found.
    Validate {
        /// Scenario files (TOML), or folders whose `*.toml` files are all checked.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a commented starter scenario (never over an existing file).
    Init(InitArgs),
    /// Print a scenario as sancsim reads it: every value with its default,
    /// each distribution's mean and P5/P50/P95, derived quantities, warnings.
    Show(ShowArgs),
    /// Simulate a scenario; write results, charts and reports into one folder.
    Run(RunArgs),
    /// Run every scenario of folders or lists of files, and compare them.
    Batch(BatchArgs),
    /// Run a scenario seeded and test its [[expect]] bounds: exit 1 if one fails.
    Check {
        /// Scenario file.
        file: PathBuf,
        /// Simulation options.
        #[command(flatten)]
        sim: SimArgs,
    },
    /// Combine the partial results of `run --shard` into the outputs of one run.
    Merge(MergeArgs),
    /// Run variants of a scenario on common random numbers and report each
    /// milestone's paired difference from the base.
    Compare(CompareArgs),
    /// What matters: a tornado (each uncertain input at its P10 and P90)
    /// and Sobol' indices (first order and total) for every milestone.
    Sensitivity(SensitivityArgs),
    /// Sweep one or two scenario values over a range or a list, every point
    /// on common random numbers.
    Sweep(SweepArgs),
    /// Search the allocation (policy, training share, reserve, cluster
    /// sizes) for the best chance of one milestone under a bound on the
    /// chance of an inference shortfall.
    Optimize(OptimizeArgs),
    /// Measure trials per second, draws per trial and peak memory.
    Bench(BenchArgs),
    /// Print the JSON Schema of scenario files (for editors: docs/scenario.schema.json is a copy).
    Schema,
    /// One measurement of `bench`, in this process (used by `bench`).
    #[command(hide = true)]
    BenchWorker {
        /// Scenario file.
        file: PathBuf,
        /// Trials.
        #[arg(long)]
        trials: u64,
        /// Threads.
        #[arg(long)]
        threads: usize,
    },
}

/// Options of `sancsim init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The scenario file to create.
    pub file: PathBuf,
    /// The shipped scenario to start from.
    #[arg(long, value_enum, default_value_t = Template::Seed)]
    pub template: Template,
}

/// Options of `sancsim show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Scenario file (TOML).
    pub file: PathBuf,
    /// `text`: an aligned listing by section; `json`: one JSON document.
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
    /// Override a value of the scenario by its key path before showing it,
    /// exactly as `run --set` does (repeatable).
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub set: Vec<String>,
}

/// Options of `sancsim bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Scenario file.
    #[arg(default_value = "scenarios/default.toml")]
    pub file: PathBuf,
    /// Trials per measurement.
    #[arg(long, default_value_t = 1_000_000, value_parser = count)]
    pub trials: u64,
    /// Thread counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<usize>,
    /// Measurements per thread count (interleaved); the median is reported.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Time the Clopper–Pearson interval instead (ns per call over a grid of
    /// counts up to 10⁹ trials); the scenario is not read.
    #[arg(long)]
    pub intervals: bool,
}

/// Options shared by `run` and `batch`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Number of trials (default: each scenario's `trials`); 1e6 and
    /// 1_000_000 are fine.
    #[arg(long, value_parser = count)]
    pub trials: Option<u64>,
    /// Seed of all random streams (default: each scenario's `seed`).
    #[arg(long, value_parser = count)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print nothing but errors, and no progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run even if trials × quarters exceeds the limit (10^9 trial-quarters,
    /// about five minutes on two cores).
    #[arg(long)]
    pub allow_large_run: bool,
    /// Override a value of the scenario by its key path, as if written in
    /// the file (repeatable; with batch, in every scenario): a number, a
    /// quarter, true/false, a string or an inline table, e.g.
    /// `--set training.mfu=0.45`, `--set supply.x.orders[0].chips=5000`,
    /// `--set 'supply.x.fill_rate={ dist = "beta", mean = 0.6, sd = 0.15 }'`.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub set: Vec<String>,
}

/// Options of `sancsim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub file: PathBuf,
    /// Output folder (default: outputs/<file stem>/, or
    /// outputs/<file stem>.shard-K-of-N/ with --shard).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Compare the results with a saved summary.json: identical when seed,
    /// scenario, version and trials match, otherwise flag milestones whose
    /// probability moved by more than its noise; writes baseline.json.
    #[arg(long, value_name = "SUMMARY_JSON")]
    pub baseline: Option<PathBuf>,
    /// Run only shard K of N (contiguous blocks of trials) and write its
    /// partial result, to be combined by `sancsim merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Keep adding batches of 10,000 trials until every milestone's 95%
    /// interval half-width is at most this (e.g. 0.005); --trials is then
    /// the cap (default 10,000,000).
    #[arg(long, value_name = "HALF_WIDTH", conflicts_with = "shard")]
    pub precision: Option<f64>,
    /// Also write samples.csv: the first N trials, one row each (every
    /// uncertain number as drawn, the quarter the run started, each
    /// milestone's quarter, training FLOP at the horizon); at most
    /// 1,000,000 rows, held in memory until written.
    #[arg(long, value_name = "N", value_parser = count)]
    pub samples: Option<u64>,
    /// Simulation options.
    #[command(flatten)]
    pub sim: SimArgs,
}

/// Options of `sancsim compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// Scenario files: the first is the base, each other one a variant.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// A variant of the first file: its overrides, `KEY.PATH=VALUE`,
    /// several separated by `;` (repeatable: one variant each), e.g.
    /// `--variant 'supply.x.fill_rate={ dist = "beta", mean = 0.6, sd = 0.15 }'`.
    #[arg(long = "variant", value_name = "KEY=VALUE[;KEY=VALUE…]")]
    pub variants: Vec<String>,
    /// Output folder (default: outputs/compare-<first file's stem>/, or
    /// outputs/compare-<stem>.shard-K-of-N/ with --shard).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard K of N (contiguous blocks of trials, every variant)
    /// and write its partial result, to be combined by `sancsim merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// A trial counts as an inference shortfall when more than this share
    /// of a quarter's inference demand goes unmet in some quarter.
    #[arg(long, default_value_t = crate::app::DEFAULT_SHORTFALL_LEVEL, value_name = "SHARE")]
    pub shortfall_level: f64,
    /// Simulation options (--trials, --seed: every variant runs the base's).
    #[command(flatten)]
    pub sim: SimArgs,
}

/// Options of `sancsim sensitivity`.
#[derive(Debug, Clone, clap::Args)]
pub struct SensitivityArgs {
    /// Scenario file (TOML).
    pub file: PathBuf,
    /// Output folder (default: outputs/sensitivity-<file stem>/, or
    /// outputs/sensitivity-<file stem>.shard-K-of-N/ with --shard).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The milestone the charts and the console show (default: the first);
    /// the CSV and JSON files hold every milestone.
    #[arg(long, value_name = "NAME")]
    pub milestone: Option<String>,
    /// Rows N of each Sobol' sample: N·(k+2) trials for k groups (the
    /// varying inputs and the noise).
    #[arg(long, value_name = "N", default_value_t = crate::app::sensitivity::DEFAULT_SOBOL_ROWS, value_parser = count)]
    pub sobol_rows: u64,
    /// Bootstrap resamples for the 95% intervals of the Sobol' indices
    /// (0: no intervals).
    #[arg(long, value_name = "B", default_value_t = crate::analysis::sensitivity::DEFAULT_BOOTSTRAP)]
    pub bootstrap: usize,
    /// Run only shard K of N (its share of the tornado's trials and of the
    /// Sobol' rows) and write its partial result, to be combined by
    /// `sancsim merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Simulation options (--trials: the tornado's trials per variant).
    #[command(flatten)]
    pub sim: SimArgs,
}

/// Options of `sancsim sweep`.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// Scenario file (TOML).
    pub file: PathBuf,
    /// Output folder (default: outputs/sweep-<file stem>/, or
    /// outputs/sweep-<stem>.shard-K-of-N/ with --shard).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard K of N (contiguous blocks of trials, every point)
    /// and write its partial result, to be combined by `sancsim merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// The milestone of the heat map when two values are swept (default: the first).
    #[arg(long, value_name = "NAME")]
    pub milestone: Option<String>,
    /// A trial counts as an inference shortfall when more than this share
    /// of a quarter's inference demand goes unmet in some quarter.
    #[arg(long, default_value_t = crate::app::DEFAULT_SHORTFALL_LEVEL, value_name = "SHARE")]
    pub shortfall_level: f64,
    /// Simulation options. `--set KEY=START:STOP:STEP` or `--set KEY=a,b,c`
    /// sweeps that value (one or two of them); any other `--set` applies
    /// at every point.
    #[command(flatten)]
    pub sim: SimArgs,
}

/// Options of `sancsim optimize`.
#[derive(Debug, Clone, clap::Args)]
pub struct OptimizeArgs {
    /// Scenario file (TOML).
    pub file: PathBuf,
    /// The milestone whose probability (by its deadline) is maximised.
    #[arg(long, value_name = "MILESTONE")]
    pub objective: String,
    /// Only allocations whose probability of an inference shortfall is at
    /// most this are eligible (default: no bound).
    #[arg(long, value_name = "P")]
    pub max_shortfall_prob: Option<f64>,
    /// A quarter is short of inference when more than this share of its
    /// demand goes unmet; P(inference shortfall) is the chance that a
    /// quarter of the horizon is short (the mean share of short quarters).
    #[arg(long, default_value_t = crate::app::DEFAULT_SHORTFALL_LEVEL, value_name = "SHARE")]
    pub shortfall_level: f64,
    /// Training shares tried with `fixed_share`, comma-separated (default 0.1,0.2,…,0.9).
    #[arg(long, value_name = "LIST")]
    pub shares: Option<String>,
    /// Reserves tried with `training_reserve`, chips, comma-separated
    /// (default: a quarter, half, three quarters and all of the maximum
    /// cluster, or of 4 × the minimum cluster when there is no maximum).
    #[arg(long, value_name = "LIST")]
    pub reserves: Option<String>,
    /// Minimum cluster sizes tried, chips, comma-separated (default: half, once and twice the scenario's).
    #[arg(long, value_name = "LIST")]
    pub min_cluster: Option<String>,
    /// Maximum cluster sizes tried, chips, comma-separated (default: half,
    /// once and twice the scenario's; 2× and 4× the minimum and none when
    /// it has none).
    #[arg(long, value_name = "LIST")]
    pub max_cluster: Option<String>,
    /// Output folder (default: outputs/optimize-<file stem>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Simulation options (--trials: per candidate, and again for the confirmation).
    #[command(flatten)]
    pub sim: SimArgs,
}

/// Options of `sancsim merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Shard output folders (or their partial.json files).
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output folder (default: outputs/<scenario file stem>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Options of `sancsim batch`.
#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// Scenario files, or folders whose `*.toml` files are all run.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder: one subfolder per scenario plus the index.
    #[arg(long, default_value = "outputs")]
    pub out: PathBuf,
    /// The scenario the index compares the others with, by file stem
    /// (its output folder's name); default: the first of the batch.
    #[arg(long, value_name = "NAME")]
    pub reference: Option<String>,
    /// Simulation options.
    #[command(flatten)]
    pub sim: SimArgs,
}

/// A count on the command line, as in a scenario file: `1000000`,
/// `1_000_000` or a float that is exactly whole, `1e6`.
pub fn count(text: &str) -> Result<u64, String> {
    let digits = text.replace('_', "");
    let well_placed = !text.starts_with('_') && !text.ends_with('_') && !text.contains("__");
    if let (true, Ok(n)) = (well_placed, digits.parse::<u64>()) {
        return Ok(n);
    }
    match digits.parse::<f64>() {
        Ok(v) if well_placed && !digits.starts_with('+') && v.is_finite() => {
            crate::scenario::count_from_float(v, u64::MAX)
        }
        _ => Err(format!(
            "`{text}` is not a whole number >= 0; write a count as 25000, 25_000 or 2.5e4"
        )),
    }
}

/// Most trial-quarters (trials × horizon) a run may have without
/// `--allow-large-run`.
pub const MAX_TRIAL_QUARTERS: u64 = 1_000_000_000;

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_take_underscores_and_whole_floats() {
        assert_eq!(count("1000000"), Ok(1_000_000));
        assert_eq!(count("1_000_000"), Ok(1_000_000));
        assert_eq!(count("1e6"), Ok(1_000_000));
        assert_eq!(count("2.5e4"), Ok(25_000));
        assert_eq!(count("1e3"), Ok(1000));
        assert_eq!(count("18446744073709551615"), Ok(u64::MAX));
        for bad in ["1.5", "1e30", "-1", "_1", "1_", "1__0", "abc", "inf", "NaN", "", "+1e3"] {
            let e = count(bad).unwrap_err();
            assert!(e.contains(&format!("`{bad}`")) || e.contains("too large"), "{bad}: {e}");
        }
    }
}
