//! The command line: argument parsing (clap) and the commands, which read
//! files, call the library and write outputs. `main` only maps errors to
//! exit codes.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::charts;
use crate::control::Control;
use crate::error::Error;
use crate::export;
use crate::init::Template;
use crate::model::{MAX_TRIALS, Model};
use crate::output::{write_file, write_folder};
use crate::partial::{Partial, Shard};
use crate::report;
use crate::results::{PrecisionOutcome, Summary};
use crate::runner::RunControl;
use crate::show::Format as ShowFormat;
use crate::trials::{Aggregate, PRECISION_BATCH, run_to_precision_sampled, run_trials_sampled};

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
    /// A trial counts as an inference shortfall when more than this share
    /// of a quarter's inference demand goes unmet in some quarter.
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

/// A line for standard error, which `main` prints with its prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnostic {
    /// A problem that did not stop the command (`warning: ...`).
    Warning(String),
    /// A problem with one item of a command that went on (`error: ...`).
    Error(String),
}

/// What a command produced: text for standard output, lines for standard
/// error, and how it ended. The library prints nothing; `main` does.
#[derive(Debug)]
pub struct Outcome {
    /// Text for standard output (tables, where results were written).
    pub stdout: String,
    /// Lines for standard error, in order.
    pub diagnostics: Vec<Diagnostic>,
    /// How the command ended.
    pub result: Result<(), Error>,
}

/// Settings of the process that runs a command, decided by `main`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Console {
    /// Draw progress bars on standard error (only sensible on a terminal).
    pub progress: bool,
}

/// The running command: where its output and diagnostics go, its control.
pub(crate) struct Ctx<'a> {
    pub(crate) control: &'a Control,
    pub(crate) console: Console,
    pub(crate) stdout: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Runs a parsed command line. `control` is shared with the signal handler
/// that `main` installs.
pub fn execute(cli: Cli, control: &Control, console: Console) -> Outcome {
    let mut ctx = Ctx {
        control,
        console,
        stdout: String::new(),
        diagnostics: Vec::new(),
    };
    let result = dispatch(cli, &mut ctx);
    Outcome {
        stdout: ctx.stdout,
        diagnostics: ctx.diagnostics,
        result,
    }
}

fn dispatch(cli: Cli, ctx: &mut Ctx) -> Result<(), Error> {
    let out = match cli.command {
        Command::Validate { files } => validate(&files, ctx)?,
        Command::Init(args) => init(&args, ctx)?,
        Command::Show(args) => show(&args, ctx)?,
        Command::Run(args) => run(&args, ctx)?,
        Command::Batch(args) => batch(&args, ctx)?,
        Command::Check { file, sim } => check(&file, &sim, ctx)?,
        Command::Merge(args) => merge(&args, ctx)?,
        Command::Compare(args) => crate::app::compare::run(&args, ctx)?,
        Command::Sensitivity(args) => crate::app::sensitivity::run(&args, ctx)?,
        Command::Sweep(args) => crate::app::sweep::run(&args, ctx)?,
        Command::Optimize(args) => crate::app::optimize::run(&args, ctx)?,
        Command::Bench(args) => bench(&args)?,
        Command::Schema => crate::schema::json(),
        Command::BenchWorker { file, trials, threads } => {
            let (model, _) = load(&file, &[])?;
            let r = crate::bench::measure(&model, trials, threads)?;
            serde_json::to_string(&r)
                .map(|s| s + "\n")
                .map_err(|e| Error::Run(e.to_string()))?
        }
    };
    ctx.stdout.push_str(&out);
    Ok(())
}

/// A scenario's text as read and as run.
#[derive(Debug, Clone)]
pub struct ScenarioText {
    /// The file's own text.
    pub file: String,
    /// The text after the `--set` overrides (the file's text when there
    /// are none): what the model was built from and the hash covers.
    pub effective: String,
}

/// Reads and validates a scenario file with `--set` overrides `sets`
/// applied ([`crate::overrides`]); returns the model and the text. The
/// model's warnings are in `model.warnings` (`Ctx::load` queues them for
/// standard error).
pub fn load(path: &Path, sets: &[String]) -> Result<(Model, ScenarioText), Error> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::Usage(format!("{}: cannot read scenario file: {e}", path.display())))?;
    let file = path.display().to_string();
    let text = crate::scenario::decode(&bytes, &file)?;
    let (model, effective) = crate::overrides::load_text(text, &file, sets)?;
    Ok((
        model,
        ScenarioText {
            file: text.to_string(),
            effective,
        },
    ))
}

impl Ctx<'_> {
    /// [`load`], with the model's warnings queued for standard error.
    pub(crate) fn load(&mut self, path: &Path, sets: &[String]) -> Result<(Model, ScenarioText), Error> {
        let (model, text) = load(path, sets)?;
        self.diagnostics
            .extend(model.warnings.iter().map(|w| Diagnostic::Warning(w.to_string())));
        Ok((model, text))
    }
}

fn validate(inputs: &[PathBuf], ctx: &mut Ctx) -> Result<String, Error> {
    let files = scenario_files(inputs)?;
    let mut out = String::new();
    let mut errors = Vec::new();
    for f in &files {
        match ctx.load(f, &[]) {
            Ok((m, _)) => out.push_str(&format!(
                "{}: ok (chip types: {}, supply lines: {}, shocks: {}, milestones: {}, {} quarters from {})\n",
                f.display(),
                m.chips.len(),
                m.supply.len(),
                m.shocks.len(),
                m.milestones.len(),
                m.horizon(),
                m.calendar.start()
            )),
            Err(Error::Scenario(e)) => errors.extend(e.iter().map(ToString::to_string)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        // The files that are valid are still listed.
        ctx.stdout.push_str(&out);
        Err(Error::Usage(errors.join("\n")))
    }
}

fn init(args: &InitArgs, ctx: &Ctx) -> Result<String, Error> {
    ctx.control
        .writing(&args.file, |_| crate::init::write_new(&args.file, args.template))?;
    let f = args.file.display();
    Ok(format!(
        "wrote {f} (template {}, from {}); next: sancsim show {f}, then sancsim run {f}\n",
        args.template.name(),
        args.template.shipped_file()
    ))
}

fn show(args: &ShowArgs, ctx: &mut Ctx) -> Result<String, Error> {
    let (model, _) = ctx.load(&args.file, &args.set)?;
    let shown = crate::show::Shown::new(&model, &args.file.display().to_string());
    Ok(match args.format {
        ShowFormat::Text => crate::show::text(&shown),
        ShowFormat::Json => crate::show::json(&shown),
    })
}

fn bench(args: &BenchArgs) -> Result<String, Error> {
    if args.intervals {
        return Ok(crate::bench::interval_bench());
    }
    load(&args.file, &[])?;
    if args.trials == 0 || args.trials > MAX_TRIALS || args.threads.contains(&0) {
        return Err(Error::Usage(
            "bench needs 1 <= --trials <= 10^8 and thread counts >= 1".into(),
        ));
    }
    let exe = std::env::current_exe().map_err(|e| Error::Run(format!("cannot find the sancsim executable: {e}")))?;
    let mut runs: Vec<Vec<crate::bench::BenchResult>> = vec![Vec::new(); args.threads.len()];
    for _ in 0..args.repeat.max(1) {
        for (i, &t) in args.threads.iter().enumerate() {
            let out = std::process::Command::new(&exe)
                .arg("bench-worker")
                .arg(&args.file)
                .args(["--trials", &args.trials.to_string(), "--threads", &t.to_string()])
                .output()
                .map_err(|e| Error::Run(format!("cannot start a benchmark process: {e}")))?;
            if !out.status.success() {
                return Err(Error::Run(format!(
                    "benchmark with {t} threads failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
            let r: crate::bench::BenchResult = serde_json::from_slice(&out.stdout)
                .map_err(|e| Error::Run(format!("unreadable benchmark result: {e}")))?;
            runs[i].push(r);
        }
    }
    Ok(crate::bench::table(&args.file, &runs))
}

pub(crate) fn file_stem(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "scenario".into())
}

pub(crate) fn check_sim_args(sim: &SimArgs) -> Result<(), Error> {
    if let Some(t) = sim.trials {
        if t == 0 || t > MAX_TRIALS {
            return Err(Error::Usage(format!(
                "--trials must be between 1 and {MAX_TRIALS}, got {t}"
            )));
        }
    }
    if sim.threads == Some(0) {
        return Err(Error::Usage("--threads must be at least 1".into()));
    }
    Ok(())
}

/// Refuses runs above [`MAX_TRIAL_QUARTERS`] unless allowed.
pub(crate) fn check_size(model: &Model, trials: u64, sim: &SimArgs) -> Result<(), Error> {
    let size = trials.saturating_mul(model.horizon() as u64);
    if size > MAX_TRIAL_QUARTERS && !sim.allow_large_run {
        return Err(Error::Usage(format!(
            "{trials} trials × {} quarters = {size} trial-quarters is above the limit of {MAX_TRIAL_QUARTERS} \
             (about five minutes on two cores): pass --allow-large-run to run it here, lower --trials, \
             or spread it with --shard K/N (docs/CLUSTER.md)",
            model.horizon()
        )));
    }
    Ok(())
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
pub(crate) fn progress_bar(trials: u64, label: &str, quiet: bool, console: Console) -> ProgressBar {
    if quiet || !console.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(trials), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} trials, {rate}, ETA {eta}")
        .map(|s| {
            s.progress_chars("=> ").with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} trials/s", state.per_sec());
                },
            )
        })
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(label.to_string());
    bar
}

/// Runs trials `range` of `model` with the command line's seed and threads:
/// size limit, progress bar, Ctrl-C. Returns the aggregate and the seed used.
fn run_range(
    ctx: &Ctx,
    model: &Model,
    sim: &SimArgs,
    range: std::ops::Range<u64>,
    label: &str,
) -> Result<(Aggregate, u64), Error> {
    run_range_sampled(ctx, model, sim, range, label, 0).map(|(aggregate, _, seed)| (aggregate, seed))
}

/// [`run_range`] that also returns the samples.csv rows of the trials
/// below `samples` ([`crate::samples`]).
fn run_range_sampled(
    ctx: &Ctx,
    model: &Model,
    sim: &SimArgs,
    range: std::ops::Range<u64>,
    label: &str,
    samples: u64,
) -> Result<(Aggregate, String, u64), Error> {
    let seed = sim.seed.unwrap_or(model.seed);
    let n = range.end - range.start;
    check_size(model, n, sim)?;
    let bar = progress_bar(n, label, sim.quiet, ctx.console);
    let control = RunControl {
        threads: sim.threads,
        progress: &|k| bar.inc(k),
        cancel: ctx.control.flag(),
    };
    let (aggregate, rows) = run_trials_sampled(model, seed, range, samples, &control)?;
    bar.finish_and_clear();
    Ok((aggregate, rows, seed))
}

/// Writes a run's files as the folder `out`, unless Ctrl-C or SIGTERM
/// arrives first (see [`Control::writing`]).
pub(crate) fn write_results(ctx: &Ctx, out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), Error> {
    ctx.control
        .writing(out, |cancelled| write_folder(out, files, cancelled))
}

/// Output files of a run: (file name, bytes).
type OutputFiles = Vec<(String, Vec<u8>)>;

/// Simulates one loaded scenario and returns its summary and output files,
/// with samples.csv when `samples` (rows) is not 0. `stem` is the scenario
/// file's stem (see [`output_files`]).
fn simulate(
    ctx: &Ctx,
    model: &Model,
    text: &str,
    sim: &SimArgs,
    stem: &str,
    label: &str,
    samples: u64,
) -> Result<(Summary, OutputFiles), Error> {
    let range = 0..sim.trials.unwrap_or(model.trials);
    let (aggregate, rows, seed) = run_range_sampled(ctx, model, sim, range, label, samples)?;
    let summary = Summary::new(model, &aggregate, seed, &Model::fingerprint(text));
    let (summary, mut files) = output_files(summary, stem)?;
    if samples > 0 {
        files.push(crate::samples::file(model, &rows));
    }
    Ok((summary, files))
}

/// Every output file of a run, from its summary. `stem`, the scenario
/// file's stem, names the file in the reports' "produced by" command as
/// `<stem>.toml`: `run` and `merge` (which knows the stem from the shards)
/// name it alike, whatever path the file was given by.
fn output_files(summary: Summary, stem: &str) -> Result<(Summary, OutputFiles), Error> {
    let scenario_file = format!("{stem}.toml");
    let charts = charts::render_all(&summary).map_err(|e| Error::Run(e.to_string()))?;
    let mut files = vec![
        ("summary.json".to_string(), export::summary_json(&summary)),
        ("milestones.csv".to_string(), export::csv::milestones_csv(&summary)),
        ("quarters.csv".to_string(), export::csv::quarters_csv(&summary)),
        (
            "report.html".to_string(),
            report::html(&summary, &charts, &scenario_file),
        ),
        (
            "report.md".to_string(),
            report::markdown(&summary, &charts, &scenario_file),
        ),
    ];
    for c in &charts {
        files.push((format!("{}.svg", c.stem), c.svg.clone().into_bytes()));
        files.push((format!("{}.png", c.stem), c.png.clone()));
    }
    Ok((summary, files))
}

/// Default cap on trials of a precision-driven run.
pub const DEFAULT_PRECISION_CAP: u64 = 10_000_000;

fn run(args: &RunArgs, ctx: &mut Ctx) -> Result<String, Error> {
    check_sim_args(&args.sim)?;
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(Error::Usage)?;
    if let Some(p) = args.precision {
        if !(p > 0.0 && p < 0.5) {
            return Err(Error::Usage(format!(
                "--precision must be a half-width between 0 and 0.5, got {p}"
            )));
        }
    }
    let (model, text) = ctx.load(&args.file, &args.sim.set)?;
    if let Some(n) = args.samples {
        crate::samples::check_request(&model, n).map_err(Error::Usage)?;
    }
    let samples = args.samples.unwrap_or(0);
    let stem = file_stem(&args.file);
    let default_out = match shard {
        Some(k) => Path::new("outputs").join(format!("{stem}.shard-{}-of-{}", k.index, k.count)),
        None => Path::new("outputs").join(&stem),
    };
    crate::output::check_not_inside(args.out.as_deref().unwrap_or(&default_out), &[&args.file])?;
    if let Some(shard) = shard {
        return run_shard(ctx, args, &model, &text, &stem, shard);
    }
    let (summary, files) = match args.precision {
        None => simulate(ctx, &model, &text.effective, &args.sim, &stem, &stem, samples)?,
        Some(target) => {
            let cap = args.sim.trials.unwrap_or(DEFAULT_PRECISION_CAP);
            check_size(&model, cap, &args.sim)?;
            let seed = args.sim.seed.unwrap_or(model.seed);
            let bar = progress_bar(cap, &stem, args.sim.quiet, ctx.console);
            let control = RunControl {
                threads: args.sim.threads,
                progress: &|n| bar.inc(n),
                cancel: ctx.control.flag(),
            };
            let (agg, converged, rows) = run_to_precision_sampled(&model, seed, target, cap, samples, &control)?;
            bar.finish_and_clear();
            let mut summary = Summary::new(&model, &agg, seed, &Model::fingerprint(&text.effective));
            summary.precision = Some(PrecisionOutcome {
                target_half_width: target,
                achieved_half_width: agg.max_ci_half_width(&model),
                converged,
                batch_trials: PRECISION_BATCH,
                max_trials: cap,
            });
            let (summary, mut files) = output_files(summary, &stem)?;
            if samples > 0 {
                files.push(crate::samples::file(&model, &rows));
            }
            (summary, files)
        }
    };
    // On stderr too, so that --quiet (no standard output) still says it.
    if let Some(w) = report::precision_warning(&summary) {
        ctx.diagnostics
            .push(Diagnostic::Warning(format!("{}: {w}", args.file.display())));
    }
    let mut files = files;
    let baseline = match &args.baseline {
        None => None,
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| Error::Usage(format!("{}: cannot read baseline: {e}", path.display())))?;
            let old: Summary = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Usage(format!("{}: not a sancsim summary.json: {e}", path.display())))?;
            let identical = bytes == export::summary_json(&summary);
            let comparison = crate::check::compare(&old, &summary, identical);
            let json = serde_json::to_vec_pretty(&comparison).unwrap_or_default();
            files.push(("baseline.json".to_string(), json));
            Some(comparison)
        }
    };
    let out = args.out.clone().unwrap_or_else(|| Path::new("outputs").join(&stem));
    write_results(ctx, &out, &files)?;
    if args.sim.quiet {
        return Ok(String::new());
    }
    let baseline = baseline.map(|c| crate::check::baseline_table(&c)).unwrap_or_default();
    let precision = match &summary.precision {
        Some(p) if p.converged => format!(
            "precision: every 95% half-width <= {} after {} trials\n",
            p.target_half_width, summary.trials
        ),
        Some(p) => format!(
            "precision: NOT reached: widest 95% half-width {:.4} > {} after the cap of {} trials\n",
            p.achieved_half_width, p.target_half_width, p.max_trials
        ),
        None => String::new(),
    };
    Ok(format!(
        "{}{}{precision}{baseline}results in {}\n",
        export::table::milestone_table(&summary),
        export::table::explanation(&summary),
        out.display()
    ))
}

fn check(file: &Path, sim: &SimArgs, ctx: &mut Ctx) -> Result<String, Error> {
    check_sim_args(sim)?;
    let (model, text) = ctx.load(file, &sim.set)?;
    if model.expectations.is_empty() {
        return Err(Error::NoExpectations {
            file: file.display().to_string(),
            example: format!(
                "[[expect]]\nmilestone = \"{}\"\nmin_probability = 0.5\n",
                model.milestones.first().map(|m| m.name.as_str()).unwrap_or("name")
            ),
        });
    }
    let trials = sim.trials.unwrap_or(model.trials);
    let (aggregate, seed) = run_range(ctx, &model, sim, 0..trials, &file_stem(file))?;
    let summary = Summary::new(&model, &aggregate, seed, &Model::fingerprint(&text.effective));
    let results = crate::check::evaluate(&model, &summary);
    let table = format!(
        "{} — {} trials, seed {}\n{}",
        file.display(),
        trials,
        seed,
        crate::check::expectation_table(&results)
    );
    let failed = results.iter().filter(|r| r.failed).count();
    if failed > 0 {
        ctx.stdout.push_str(&table);
        return Err(Error::Check(format!(
            "{failed} of {} expectations failed",
            results.len()
        )));
    }
    Ok(format!("{table}all {} expectations hold\n", results.len()))
}

fn run_shard(
    ctx: &Ctx,
    args: &RunArgs,
    model: &Model,
    text: &ScenarioText,
    stem: &str,
    shard: Shard,
) -> Result<String, Error> {
    let total = args.sim.trials.unwrap_or(model.trials);
    let range = shard.trials(total);
    let samples = args.samples.unwrap_or(0);
    let (aggregate, rows, seed) = run_range_sampled(ctx, model, &args.sim, range.clone(), stem, samples)?;
    let partial = Partial {
        format: crate::partial::FORMAT.to_string(),
        sancsim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_stem: stem.to_string(),
        scenario_hash: Model::fingerprint(&text.effective),
        scenario_text: text.file.clone(),
        overrides: model.overrides.clone(),
        seed,
        total_trials: total,
        shard,
        first_trial: range.start,
        end_trial: range.end,
        aggregate,
        samples: args
            .samples
            .map(|requested| crate::partial::PartialSamples { requested, rows }),
    };
    let bytes = crate::partial::encode(&partial)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("outputs").join(format!("{stem}.shard-{}-of-{}", shard.index, shard.count)));
    write_results(ctx, &out, &[(crate::partial::FILE_NAME.to_string(), bytes)])?;
    if args.sim.quiet {
        return Ok(String::new());
    }
    Ok(format!(
        "shard {}/{}: trials {}..{} of {total}, partial result in {}\n",
        shard.index,
        shard.count,
        range.start,
        range.end,
        out.join(crate::partial::FILE_NAME).display()
    ))
}

fn merge(args: &MergeArgs, ctx: &mut Ctx) -> Result<String, Error> {
    // Replacing an output folder deletes what it holds: never a shard's
    // partial result (given as its folder or its file), checked before
    // anything is read or written, and again below for the default folder.
    let inputs: Vec<&Path> = args.parts.iter().map(PathBuf::as_path).collect();
    if let Some(out) = &args.out {
        crate::output::check_not_inside(out, &inputs)?;
    }
    let files: Vec<PathBuf> = args
        .parts
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.join(crate::partial::FILE_NAME)
            } else {
                p.clone()
            }
        })
        .collect();
    // The shards of a strategy question (compare, sweep, sensitivity)
    // finish that command instead.
    if let Some(first) = files.first() {
        let bytes = std::fs::read(first)
            .map_err(|e| Error::Usage(format!("{}: cannot read partial result: {e}", first.display())))?;
        if crate::app::shard::is_analysis_partial(&bytes) {
            let mut parts = Vec::new();
            for f in &files {
                let bytes = std::fs::read(f)
                    .map_err(|e| Error::Usage(format!("{}: cannot read partial result: {e}", f.display())))?;
                parts.push((f.display().to_string(), bytes));
            }
            if let Some(out) = &args.out {
                crate::output::check_not_inside(out, &inputs)?;
            }
            return crate::app::merge(parts, args.out.as_deref(), args.quiet, ctx);
        }
    }
    let mut parts = Vec::new();
    for file in &files {
        parts.push((file.display().to_string(), crate::partial::read(file)?));
    }
    let crate::partial::Merged {
        head,
        model,
        aggregate,
        samples,
    } = crate::partial::merge(parts)?;
    if head.sancsim_version != env!("CARGO_PKG_VERSION") {
        return Err(Error::Usage(format!(
            "partial results were made by sancsim {}, this is {}: merge them with the same version",
            head.sancsim_version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("outputs").join(&head.scenario_stem));
    crate::output::check_not_inside(&out, &inputs)?;
    let summary = Summary::new(&model, &aggregate, head.seed, &head.scenario_hash);
    let (summary, mut files) = output_files(summary, &head.scenario_stem)?;
    if let Some(rows) = samples {
        files.push(crate::samples::file(&model, &rows));
    }
    write_results(ctx, &out, &files)?;
    if args.quiet {
        return Ok(String::new());
    }
    Ok(format!(
        "merged {} shards\n{}{}results in {}\n",
        head.shard.count,
        export::table::milestone_table(&summary),
        export::table::explanation(&summary),
        out.display()
    ))
}

/// The scenario files named by `inputs`: files as given, folders as their
/// `*.toml` files in name order.
fn scenario_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| Error::io(input, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(Error::Usage(format!(
                    "{}: no *.toml scenario files in this folder",
                    input.display()
                )));
            }
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

fn batch(args: &BatchArgs, ctx: &mut Ctx) -> Result<String, Error> {
    check_sim_args(&args.sim)?;
    let files = scenario_files(&args.inputs)?;
    // Folder per scenario: the file stem, made unique within the batch.
    let mut used = std::collections::BTreeSet::new();
    let folders: Vec<String> = files
        .iter()
        .map(|file| {
            let stem = file_stem(file);
            let mut folder = stem.clone();
            let mut k = 2;
            while !used.insert(folder.clone()) {
                folder = format!("{stem}-{k}");
                k += 1;
            }
            folder
        })
        .collect();
    if let Some(r) = &args.reference {
        if !folders.contains(r) {
            return Err(Error::Usage(format!(
                "--reference {r}: no scenario of this batch has that file stem; the batch has {}",
                folders.join(", ")
            )));
        }
    }
    let mut done: Vec<(String, Summary)> = Vec::new();
    let mut failures: Vec<(PathBuf, Error)> = Vec::new();
    let mut out = String::new();
    for (file, folder) in files.iter().zip(&folders) {
        let result = ctx.load(file, &args.sim.set).and_then(|(model, text)| {
            // Replacing the folder must never delete the scenario itself.
            crate::output::check_not_inside(&args.out.join(folder), &[file])?;
            let (summary, files) = simulate(ctx, &model, &text.effective, &args.sim, &file_stem(file), folder, 0)?;
            write_results(ctx, &args.out.join(folder), &files)?;
            Ok(summary)
        });
        match result {
            Ok(summary) => {
                if !args.sim.quiet {
                    out.push_str(&export::table::milestone_table(&summary));
                    out.push_str(&format!("results in {}\n\n", args.out.join(folder).display()));
                }
                done.push((folder.clone(), summary));
            }
            Err(Error::Interrupted) => return Err(Error::Interrupted),
            Err(e) => {
                ctx.diagnostics
                    .extend(e.to_string().lines().map(|l| Diagnostic::Error(l.to_string())));
                failures.push((file.clone(), e));
            }
        }
    }
    if !done.is_empty() {
        let index = args.out.join("index.csv");
        let names: Vec<String> = files.iter().map(|f| format!("{}.toml", file_stem(f))).collect();
        let summaries: Vec<&Summary> = done.iter().map(|(_, s)| s).collect();
        let command = report::batch_command(&names, &summaries, args.reference.as_deref());
        ctx.control.writing(&index, |_| {
            write_index(&args.out, &done, &failures, args.reference.as_deref(), &command)
        })?;
        if !args.sim.quiet {
            out.push_str(&format!(
                "comparison of {} scenarios in {}\n",
                done.len(),
                args.out.join("index.html").display()
            ));
        }
    }
    if failures.is_empty() {
        return Ok(out);
    }
    ctx.stdout.push_str(&out);
    let worst = failures.iter().map(|(_, e)| e.exit_code()).max().unwrap_or(1);
    let msg = format!(
        "{} of {} scenarios failed: {}",
        failures.len(),
        files.len(),
        failed_list(&failures)
    );
    Err(if worst == 2 { Error::Usage(msg) } else { Error::Run(msg) })
}

fn failed_list(failures: &[(PathBuf, Error)]) -> String {
    failures
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `index.csv` (milestone probabilities side by side), `index.html` and
/// `index.md` (the same with differences from the reference scenario,
/// `reference` or else the first) and the comparison chart.
fn write_index(
    dir: &Path,
    done: &[(String, Summary)],
    failures: &[(PathBuf, Error)],
    reference: Option<&str>,
    command: &str,
) -> Result<(), Error> {
    let rows: Vec<(String, Vec<crate::results::MilestoneResult>)> = done
        .iter()
        .map(|(_, s)| (s.scenario.clone(), s.milestones.clone()))
        .collect();
    write_file(&dir.join("index.csv"), &export::csv::index_csv(done))?;
    let chart = charts::batch_comparison(&rows).map_err(|e| Error::Run(e.to_string()))?;
    write_file(&dir.join(format!("{}.svg", chart.stem)), chart.svg.as_bytes())?;
    write_file(&dir.join(format!("{}.png", chart.stem)), &chart.png)?;
    let failed: Vec<(String, String)> = failures
        .iter()
        .map(|(p, e)| (p.display().to_string(), e.to_string()))
        .collect();
    let index = report::BatchIndex {
        done,
        reference: match reference {
            Some(r) => done.iter().position(|(folder, _)| folder == r),
            None => (!done.is_empty()).then_some(0),
        },
        reference_named: reference,
        failed: &failed,
        command,
    };
    write_file(&dir.join("index.html"), &report::index_html(&index, &chart))?;
    write_file(&dir.join("index.md"), &report::index_markdown(&index, &chart))?;
    Ok(())
}

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
