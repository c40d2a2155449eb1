//! The strategy-question commands, one module each: they build variants of
//! a scenario, run them on common random numbers through
//! [`crate::runner`], and turn the counts into files.
//!
//! [`load_variants`] reads the scenario files and `--variant` overrides
//! (each validated exactly as a file is); [`AnalysisRun`] holds the seed,
//! trials and run control they all share.

pub mod compare;
pub mod sensitivity;

use std::ops::Range;
use std::path::PathBuf;

use crate::analysis::variants::{Variant, VariantRun, run_variants};
use crate::cli::{Ctx, Diagnostic, SimArgs};
use crate::error::Error;
use crate::runner::RunControl;

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

/// Splits a `--variant` value into its overrides: `KEY=VALUE` items
/// separated by `;` outside quotes, brackets and braces.
pub fn split_variant(text: &str) -> Vec<String> {
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
            (None, ';') if depth == 0 => {
                items.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current.trim().to_string());
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
        push(&mut loaded, crate::cli::file_stem(f), f, sets)?;
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
        crate::cli::check_size(base, total, sim)?;
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
        let bar = crate::cli::progress_bar(n, label, self.sim.quiet, ctx.console);
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
