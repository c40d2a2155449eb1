//! `sancsim run`: one scenario, in one process or as one shard; with
//! `--precision`, `--samples` and `--baseline`.

use std::path::Path;

use super::context::*;
use crate::charts;
use crate::cli::*;
use crate::error::Error;
use crate::export;
use crate::model::Model;
use crate::partial::{Partial, Shard};
use crate::report;
use crate::results::{PrecisionOutcome, Summary};
use crate::runner::RunControl;
use crate::trials::{Aggregate, PRECISION_BATCH, run_to_precision_sampled, run_trials_sampled};

/// Runs trials `range` of `model` with the command line's seed and threads:
/// size limit, progress bar, Ctrl-C. Returns the aggregate and the seed used.
pub(crate) fn run_range(
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
pub(crate) fn run_range_sampled(
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

/// Simulates one loaded scenario and returns its summary and output files,
/// with samples.csv when `samples` (rows) is not 0. `stem` is the scenario
/// file's stem (see [`output_files`]).
pub(crate) fn simulate(
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
    crate::evidence::require_enough(model, &aggregate)?;
    let summary = Summary::new(model, &aggregate, seed, &Model::fingerprint(text));
    let (summary, mut files) = output_files(summary, stem, text)?;
    if samples > 0 {
        files.push(crate::samples::file(model, &rows));
    }
    Ok((summary, files))
}

/// Every output file of a run, from its summary. `stem`, the scenario
/// file's stem, names the file in the reports' "produced by" command as
/// `<stem>.toml`: `run` and `merge` (which knows the stem from the shards)
/// name it alike, whatever path the file was given by.
pub(crate) fn output_files(summary: Summary, stem: &str, scenario: &str) -> Result<(Summary, OutputFiles), Error> {
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
        // The scenario as run (after any --set): what a later
        // `run --baseline` re-runs to pair its trials with this run's.
        ("scenario.toml".to_string(), scenario.as_bytes().to_vec()),
    ];
    for c in &charts {
        files.push((format!("{}.svg", c.stem), c.svg.clone().into_bytes()));
        files.push((format!("{}.png", c.stem), c.png.clone()));
    }
    Ok((summary, files))
}

/// Default cap on trials of a precision-driven run.
pub const DEFAULT_PRECISION_CAP: u64 = 10_000_000;

pub(crate) fn run(args: &RunArgs, ctx: &mut Ctx) -> Result<String, Error> {
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
            crate::evidence::require_enough(&model, &agg)?;
            let mut summary = Summary::new(&model, &agg, seed, &Model::fingerprint(&text.effective));
            summary.precision = Some(PrecisionOutcome {
                target_half_width: target,
                achieved_half_width: agg.max_ci_half_width(&model),
                converged,
                batch_trials: PRECISION_BATCH,
                max_trials: cap,
            });
            let (summary, mut files) = output_files(summary, &stem, &text.effective)?;
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
    // Warnings found while running (clamped draws) follow the file's own,
    // which were printed when it was read.
    for w in summary.warnings.iter().skip(model.warnings.len()) {
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
            let mut comparison = crate::check::compare(&old, &summary, identical);
            if comparison.identical.is_none() {
                if let Some(pairs) = baseline_pairs(ctx, path, &old, &summary, &model, &args.sim)? {
                    crate::check::pair(&mut comparison, &pairs);
                }
            }
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

/// Paired counts of each milestone of the baseline comparison, when the
/// baseline can be re-run on the same trials: its folder holds the
/// scenario it ran (`scenario.toml`), and seed, trials and version match
/// the run's (neither precision-driven). Both scenarios are then run on the
/// same trials (common random numbers); `None` otherwise.
pub(crate) fn baseline_pairs(
    ctx: &Ctx,
    path: &Path,
    old: &Summary,
    now: &Summary,
    model: &Model,
    sim: &SimArgs,
) -> Result<Option<Vec<Option<crate::analysis::paired::PairedCounts>>>, Error> {
    let scenario = path.with_file_name("scenario.toml");
    let Ok(text) = std::fs::read_to_string(&scenario) else {
        return Ok(None);
    };
    if old.seed != now.seed
        || old.trials != now.trials
        || old.sancsim_version != now.sancsim_version
        || old.precision.is_some()
        || now.precision.is_some()
        || Model::fingerprint(&text) != old.scenario_hash
    {
        return Ok(None);
    }
    let old_model = Model::from_text(&text, &scenario.display().to_string())?;
    // Paired counts are of all trials (the prior); a run with observations
    // reports the posterior, which is compared unpaired.
    if !old_model.observations.is_empty() || !model.observations.is_empty() {
        return Ok(None);
    }
    let variants = [
        crate::analysis::variants::Variant {
            label: "baseline".into(),
            model: old_model,
            pins: Vec::new(),
        },
        crate::analysis::variants::Variant {
            label: "now".into(),
            model: model.clone(),
            pins: Vec::new(),
        },
    ];
    let bar = progress_bar(now.trials * 2, "baseline", sim.quiet, ctx.console);
    let control = RunControl {
        threads: sim.threads,
        progress: &|n| bar.inc(n * 2),
        cancel: ctx.control.flag(),
    };
    let run = crate::analysis::variants::run_variants(
        &variants,
        now.seed,
        0..now.trials,
        crate::app::DEFAULT_SHORTFALL_LEVEL,
        &control,
    )?;
    bar.finish_and_clear();
    // Pairs are keyed by the baseline's milestones; the comparison lists
    // the current ones, then removed ones.
    let by_name = |name: &str| {
        variants[0]
            .model
            .milestones
            .iter()
            .position(|m| m.name == name)
            .and_then(|k| run.variants[1].paired[k])
    };
    let mut pairs: Vec<_> = now.milestones.iter().map(|m| by_name(&m.name)).collect();
    pairs.extend(
        old.milestones
            .iter()
            .filter(|b| !now.milestones.iter().any(|m| m.name == b.name))
            .map(|_| None),
    );
    Ok(Some(pairs))
}

pub(crate) fn run_shard(
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
