//! The command line: argument parsing (clap) and the commands, which read
//! files, call the library and write outputs. `main` only maps errors to
//! exit codes.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::error::Error;
use crate::export;
use crate::model::{MAX_TRIALS, Model};
use crate::output::write_folder;
use crate::results::Summary;
use crate::trials::run_trials;

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
        /// Scenario files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Simulate a scenario and write summary.json, milestones.csv and quarters.csv.
    Run(RunArgs),
}

/// Options of `sancsim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub file: PathBuf,
    /// Number of trials (default: the scenario's `trials`).
    #[arg(long)]
    pub trials: Option<u64>,
    /// Seed of all random streams (default: the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output folder (default: outputs/<file stem>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs a parsed command line; returns what to print on stdout.
pub fn execute(cli: Cli) -> Result<String, Error> {
    match cli.command {
        Command::Validate { files } => validate(&files),
        Command::Run(args) => run(&args),
    }
}

/// Reads and validates a scenario file; returns the model and the file's text.
pub fn load(path: &Path) -> Result<(Model, String), Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("{}: cannot read scenario file: {e}", path.display())))?;
    let model = Model::from_text(&text, &path.display().to_string())?;
    Ok((model, text))
}

fn validate(files: &[PathBuf]) -> Result<String, Error> {
    let mut out = String::new();
    let mut errors = Vec::new();
    for f in files {
        match load(f) {
            Ok((m, _)) => out.push_str(&format!(
                "{}: ok ({} chips, {} supply lines, {} shocks, {} milestones, {} quarters from {})\n",
                f.display(),
                m.chips.len(),
                m.supply.len(),
                m.shocks.len(),
                m.milestones.len(),
                m.horizon(),
                m.calendar.start()
            )),
            Err(Error::Scenario(e)) => errors.extend(e),
            Err(e) => return Err(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Error::Scenario(errors))
    }
}

fn default_out(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "scenario".into());
    Path::new("outputs").join(stem)
}

fn run(args: &RunArgs) -> Result<String, Error> {
    let (model, text) = load(&args.file)?;
    let trials = args.trials.unwrap_or(model.trials);
    if trials == 0 || trials > MAX_TRIALS {
        return Err(Error::Usage(format!(
            "--trials must be between 1 and {MAX_TRIALS}, got {trials}"
        )));
    }
    if args.threads == Some(0) {
        return Err(Error::Usage("--threads must be at least 1".into()));
    }
    let seed = args.seed.unwrap_or(model.seed);
    let aggregate = run_trials(&model, seed, 0..trials, args.threads)?;
    let summary = Summary::new(&model, &aggregate, seed, &Model::fingerprint(&text));
    let files = vec![
        ("summary.json".to_string(), export::summary_json(&summary)),
        ("milestones.csv".to_string(), export::csv::milestones_csv(&summary)),
        ("quarters.csv".to_string(), export::csv::quarters_csv(&summary)),
    ];
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.file));
    write_folder(&out, &files)?;
    if args.quiet {
        return Ok(String::new());
    }
    Ok(format!(
        "{}results in {}\n",
        export::table::milestone_table(&summary),
        out.display()
    ))
}
