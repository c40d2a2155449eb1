//! The application layer: one module per command, each turning parsed
//! arguments ([`crate::cli`]) into a run of the library and output files;
//! [`execute`] dispatches a command line and returns what to print, which
//! `main` prints. [`context`] holds what every command shares.
//!
//! The strategy-question commands (compare, sweep, optimize, sensitivity)
//! build variants of a scenario, run them on common random numbers through
//! [`crate::runner`], and turn the counts into files.
//!
//! [`load_variants`] reads the scenario files and `--variant` overrides
//! (each validated exactly as a file is); [`AnalysisRun`] holds the seed,
//! trials and run control they all share.

pub mod author;
pub mod batch;
pub mod check;
pub mod compare;
pub mod context;
pub mod merge;
pub mod optimize;
pub mod run;
pub mod sensitivity;
pub mod shard;
pub mod sweep;

use std::ops::Range;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::analysis::variants::{Variant, VariantRun, run_variants};
use crate::app::context::{Ctx, Diagnostic};
use crate::cli::SimArgs;
use crate::cli::{Cli, Command};
use crate::control::Control;
use crate::error::Error;
use crate::partial::Shard;
use crate::runner::RunControl;
use context::{Console, Outcome};

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

pub(crate) fn dispatch(cli: Cli, ctx: &mut Ctx) -> Result<(), Error> {
    let out = match cli.command {
        Command::Validate { files } => author::validate(&files, ctx)?,
        Command::Init(args) => author::init(&args, ctx)?,
        Command::Show(args) => author::show(&args, ctx)?,
        Command::Run(args) => run::run(&args, ctx)?,
        Command::Batch(args) => batch::batch(&args, ctx)?,
        Command::Check { file, sim } => check::check(&file, &sim, ctx)?,
        Command::Merge(args) => merge::merge(&args, ctx)?,
        Command::Compare(args) => crate::app::compare::run(&args, ctx)?,
        Command::Sweep(args) => crate::app::sweep::run(&args, ctx)?,
        Command::Sensitivity(args) => crate::app::sensitivity::run(&args, ctx)?,
        Command::Optimize(args) => crate::app::optimize::run(&args, ctx)?,
        Command::Bench(args) => author::bench(&args)?,
        Command::Schema => crate::schema::json(),
        Command::BenchWorker { file, trials, threads } => {
            let (model, _) = context::load(&file, &[])?;
            let r = crate::bench::measure(&model, trials, threads)?;
            serde_json::to_string(&r)
                .map(|s| s + "\n")
                .map_err(|e| Error::Run(e.to_string()))?
        }
    };
    ctx.stdout.push_str(&out);
    Ok(())
}

/// Default `--shortfall-level`: a trial is an inference shortfall when more
/// than this share of a quarter's demand goes unmet in some quarter.
pub const DEFAULT_SHORTFALL_LEVEL: f64 = 0.1;

/// Variants read from the command line, the first the base.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The variants, in command-line order: the files, then `--variant`s.
    pub variants: Vec<Variant>,
    /// The file each variant was read from, as given.
    pub files: Vec<String>,
    /// Notes for the outputs (and standard error).
    pub warnings: Vec<String>,
}

/// Splits `text` at `separator` where it stands outside quotes, brackets
/// and braces, trimming each item.
pub fn split_outside(text: &str, separator: char) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut current = String::new();
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, c) if c == separator && depth == 0 => {
                items.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current.trim().to_string());
    items
}

/// Splits a `--variant` value into its overrides: `KEY=VALUE` items
/// separated by `;` outside quotes, brackets and braces.
pub fn split_variant(text: &str) -> Vec<String> {
    let mut items = split_outside(text, ';');
    items.retain(|s| !s.is_empty());
    items
}

/// Reads `files` (each with the `--set` overrides `sets`) and, for each
/// `--variant`, the first file with `sets` and the variant's own overrides.
/// Labels are file stems and the variants' texts, made unique.
pub(crate) fn load_variants(
    ctx: &mut Ctx,
    files: &[PathBuf],
    variants: &[String],
    sets: &[String],
) -> Result<Loaded, Error> {
    let mut loaded = Loaded {
        variants: Vec::new(),
        files: Vec::new(),
        warnings: Vec::new(),
    };
    let mut push = |loaded: &mut Loaded, label: String, file: &PathBuf, sets: &[String]| -> Result<(), Error> {
        let (model, _) = ctx.load(file, sets)?;
        if !loaded.files.contains(&file.display().to_string()) {
            warn_prior_only(ctx, file, &model, "compare");
        }
        let mut label = label;
        let taken = |l: &str, loaded: &Loaded| loaded.variants.iter().any(|v| v.label == l);
        if taken(&label, loaded) {
            let mut n = 2;
            while taken(&format!("{label} ({n})"), loaded) {
                n += 1;
            }
            label = format!("{label} ({n})");
        }
        loaded.variants.push(Variant {
            label,
            model,
            pins: Vec::new(),
        });
        loaded.files.push(file.display().to_string());
        Ok(())
    };
    for f in files {
        push(&mut loaded, crate::app::context::file_stem(f), f, sets)?;
    }
    for v in variants {
        let own = split_variant(v);
        if own.is_empty() {
            return Err(Error::Usage(format!(
                "--variant '{v}' holds no override: write KEY.PATH=VALUE, several separated by ';'"
            )));
        }
        let mut all = sets.to_vec();
        all.extend(own.iter().cloned());
        push(&mut loaded, own.join("; "), &files[0], &all)?;
    }
    if let Some(base) = loaded.variants.first() {
        let (seed, trials) = (base.model.seed, base.model.trials);
        for v in &loaded.variants[1..] {
            if v.model.seed != seed {
                loaded.warnings.push(format!(
                    "{}: its seed {} is not used: every variant runs on the base's streams (seed {seed}) so that they are paired",
                    v.label, v.model.seed
                ));
            }
            if v.model.trials != trials {
                loaded.warnings.push(format!(
                    "{}: its trials ({}) are not used: every variant runs the base's {trials} trials",
                    v.label, v.model.trials
                ));
            }
        }
    }
    Ok(loaded)
}

/// The seed, trials and run settings shared by every variant of an analysis.
#[derive(Debug, Clone)]
pub struct AnalysisRun {
    /// Seed of every variant's streams: `--seed`, else the base's.
    pub seed: u64,
    /// Trials of every variant: `--trials`, else the base's.
    pub trials: u64,
    /// The inference-shortfall level.
    pub shortfall_level: f64,
    sim: SimArgs,
}

impl AnalysisRun {
    /// Seed and trials for `loaded`'s variants; refuses a run above the size
    /// limit (trials × quarters × variants) without `--allow-large-run`, and
    /// a shortfall level outside [0, 1).
    pub fn new(loaded: &Loaded, sim: &SimArgs, shortfall_level: f64) -> Result<AnalysisRun, Error> {
        if !(0.0..1.0).contains(&shortfall_level) {
            return Err(Error::Usage(format!(
                "--shortfall-level must be at least 0 and below 1 (a share of a quarter's demand), got {shortfall_level}"
            )));
        }
        let base = &loaded.variants[0].model;
        let trials = sim.trials.unwrap_or(base.trials);
        let total = trials.saturating_mul(loaded.variants.len() as u64);
        crate::app::context::check_size(base, total, sim)?;
        Ok(AnalysisRun {
            seed: sim.seed.unwrap_or(base.seed),
            trials,
            shortfall_level,
            sim: sim.clone(),
        })
    }

    /// Runs `variants` on trials `range` with a progress bar and Ctrl-C.
    pub(crate) fn run(
        &self,
        ctx: &Ctx,
        variants: &[Variant],
        range: Range<u64>,
        label: &str,
    ) -> Result<VariantRun, Error> {
        let n = (range.end - range.start).saturating_mul(variants.len() as u64);
        let bar = crate::app::context::progress_bar(n, label, self.sim.quiet, ctx.console);
        let per = variants.len() as u64;
        let control = RunControl {
            threads: self.sim.threads,
            progress: &|k| bar.inc(k * per),
            cancel: ctx.control.flag(),
        };
        let run = run_variants(variants, self.seed, range, self.shortfall_level, &control)?;
        bar.finish_and_clear();
        Ok(run)
    }
}

/// The index of milestone `name` of `model`; a usage error naming the
/// closest milestone when there is none of that name.
pub fn milestone_index(model: &crate::model::Model, name: &str, flag: &str) -> Result<usize, Error> {
    model.milestones.iter().position(|m| m.name == name).ok_or_else(|| {
        let names = model.milestones.iter().map(|m| m.name.as_str());
        let hint = crate::error::closest(name, names.clone())
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        Error::Usage(format!(
            "{flag} {name}: no such milestone{hint} (the scenario has: {})",
            names.collect::<Vec<_>>().join(", ")
        ))
    })
}

/// Parses `--shard K/N`.
pub fn parse_shard(text: Option<&str>) -> Result<Option<Shard>, Error> {
    text.map(|t| Shard::parse(t).map_err(|e| Error::Usage(format!("--shard: {e}"))))
        .transpose()
}

/// The output folder: `--out`, else `outputs/<stem>` (a shard's
/// `outputs/<stem>.shard-K-of-N`).
pub fn out_folder(out: Option<&Path>, stem: &str, shard: Option<Shard>) -> PathBuf {
    match (out, shard) {
        (Some(o), _) => o.to_path_buf(),
        (None, None) => Path::new("outputs").join(stem),
        (None, Some(s)) => Path::new("outputs").join(format!("{stem}.shard-{}-of-{}", s.index, s.count)),
    }
}

/// Writes a shard's partial result into `out` and says so.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_shard(
    ctx: &Ctx,
    out: &Path,
    words: Vec<String>,
    files: &[PathBuf],
    total: u64,
    shard: Shard,
    state: &impl serde::Serialize,
    quiet: bool,
) -> Result<String, Error> {
    let bytes = shard::seal(words[1..].to_vec(), files, total, shard, state)?;
    crate::app::context::write_results(ctx, out, &[(crate::partial::FILE_NAME.to_string(), bytes)])?;
    if quiet {
        return Ok(String::new());
    }
    let range = shard.trials(total);
    Ok(format!(
        "shard {}/{}: trials {}..{} of {total}, partial result in {}\n",
        shard.index,
        shard.count,
        range.start,
        range.end,
        out.join(crate::partial::FILE_NAME).display()
    ))
}

/// Adds the shards' states, in trial order, with the accumulator's exact merge.
pub fn merge_states<T: serde::de::DeserializeOwned>(
    states: Vec<serde_json::Value>,
    merge: impl Fn(T, T) -> Result<T, crate::trials::MergeError>,
) -> Result<T, Error> {
    let mut total: Option<T> = None;
    for (k, s) in states.into_iter().enumerate() {
        let part: T = serde_json::from_value(s)
            .map_err(|e| Error::Usage(format!("shard {}: its counts are not readable: {e}", k + 1)))?;
        total = Some(match total {
            None => part,
            Some(t) => merge(t, part).map_err(|e| Error::Usage(format!("shard {}: {e}", k + 1)))?,
        });
    }
    total.ok_or_else(|| Error::Usage("merge needs at least one partial result".into()))
}

/// `sancsim merge` of an analysis's shards (`parts`: file and bytes):
/// checks them ([`shard::gather`]), then finishes the command they record
/// with their added counts, writing into `out` (default: that command's
/// own default folder).
pub(crate) fn merge_analysis(
    parts: Vec<(String, Vec<u8>)>,
    out: Option<&Path>,
    inputs: &[&Path],
    quiet: bool,
    ctx: &mut Ctx,
) -> Result<String, Error> {
    let decoded = parts
        .iter()
        .map(|(f, b)| Ok((f.clone(), shard::decode(f, b)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    let (head, states) = shard::gather(decoded)?;
    let argv = std::iter::once("sancsim".to_string()).chain(head.command.iter().cloned());
    let cli = Cli::try_parse_from(argv)
        .map_err(|e| Error::Usage(format!("the shards record a command this sancsim cannot read: {e}")))?;
    let count = head.shard.count;
    let stem = |kind: &str, file: &Path| format!("{kind}-{}", crate::app::context::file_stem(file));
    // Replacing the output folder deletes what it holds: never a shard.
    let folder = |stem: String| -> Result<PathBuf, Error> {
        let out = out_folder(out, &stem, None);
        crate::output::check_not_inside(&out, inputs)?;
        Ok(out)
    };
    let text = match cli.command {
        Command::Compare(args) => {
            let out = folder(stem("compare", &args.files[0]))?;
            compare::merge(&args, ctx, states, &out, quiet)?
        }
        Command::Sweep(args) => {
            let out = folder(stem("sweep", &args.file))?;
            sweep::merge(&args, ctx, states, &out, quiet)?
        }
        Command::Sensitivity(args) => {
            let out = folder(stem("sensitivity", &args.file))?;
            sensitivity::merge(&args, ctx, states, &out, quiet)?
        }
        _ => return Err(Error::Usage("the shards record a command that cannot be merged".into())),
    };
    if quiet {
        return Ok(String::new());
    }
    Ok(format!("merged {count} shards\n{text}"))
}

/// The files of a strategy question: its own data files, then
/// report.html and report.md of `page`, then each chart as SVG and PNG.
pub fn analysis_files(
    mut files: Vec<(String, Vec<u8>)>,
    page: &crate::report::page::Page,
    charts: &[crate::charts::Chart],
) -> Vec<(String, Vec<u8>)> {
    files.push(("report.html".to_string(), crate::report::page::page_html(page, charts)));
    files.push((
        "report.md".to_string(),
        crate::report::page::page_markdown(page, charts),
    ));
    for chart in charts {
        files.push((format!("{}.svg", chart.stem), chart.svg.clone().into_bytes()));
        files.push((format!("{}.png", chart.stem), chart.png.clone()));
    }
    files
}

/// Each variant's clamp warnings ([`crate::analysis::variants::VariantStats::clamp_warnings`]),
/// prefixed by the variant's label, in variant order.
pub fn clamp_warnings(variants: &[Variant], run: &VariantRun) -> Vec<String> {
    variants
        .iter()
        .zip(&run.variants)
        .flat_map(|(v, stats)| {
            stats
                .clamp_warnings(&v.model)
                .into_iter()
                .map(move |w| format!("{}: {w}", v.label))
        })
        .collect()
}

/// A fraction as written on a command line: shortest round-trip decimal.
pub fn decimal(v: f64) -> String {
    format!("{v}")
}

/// A difference in percentage points with one decimal and a sign.
pub fn points(d: f64) -> String {
    format!("{:+.1} pp", d * 100.0)
}

/// A difference with its interval: `+4.2 pp [+3.1, +5.3]`.
pub fn signed_points(d: f64, low: f64, high: f64) -> String {
    format!("{:+.1} pp [{:+.1}, {:+.1}]", d * 100.0, low * 100.0, high * 100.0)
}

/// Warns that a command which compares or searches over variants reports
/// probabilities before the evidence: it does not apply `[[observe]]`
/// (docs/MODEL.md section 11).
pub(crate) fn warn_prior_only(ctx: &mut Ctx, file: &Path, model: &crate::model::Model, command: &str) {
    let n = model.observations.len();
    if n > 0 {
        ctx.diagnostics.push(Diagnostic::Warning(format!(
            "{}: `{command}` does not apply the scenario's {n} [[observe]] table{}: its probabilities are before the evidence (the prior, all trials); `sancsim run` reports them given the evidence",
            file.display(),
            if n == 1 { "" } else { "s" }
        )));
    }
}

/// Queues `warnings` for standard error.
pub(crate) fn warn(ctx: &mut Ctx, warnings: &[String]) {
    ctx.diagnostics
        .extend(warnings.iter().map(|w| Diagnostic::Warning(w.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_text_splits_on_semicolons_outside_values() {
        assert_eq!(split_variant("a=1; b=2"), vec!["a=1", "b=2"]);
        assert_eq!(
            split_variant("x.fill_rate={ dist = \"beta\", mean = 0.6, sd = 0.15 }; y=\"a;b\""),
            vec!["x.fill_rate={ dist = \"beta\", mean = 0.6, sd = 0.15 }", "y=\"a;b\""]
        );
        assert_eq!(split_variant(" ; "), Vec::<String>::new());
        assert_eq!(split_variant("o=[1; 2]"), vec!["o=[1; 2]"]);
    }
}
