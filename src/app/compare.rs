//! `sancsim compare`: several variants of a scenario on common random
//! numbers, with paired differences of every milestone's probability.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{AnalysisRun, Loaded, decimal, load_variants, points, signed_points};
use crate::analysis::paired::{PairedCounts, paired_difference};
use crate::analysis::variants::VariantRun;
use crate::app::context::Ctx;
use crate::charts::{self, CurveMilestone, CurveVariant, DifferenceRow};
use crate::cli::CompareArgs;
use crate::error::Error;
use crate::report::difference::newcombe;
use crate::report::page::{Page, Section, Table};

/// How compare.csv's interval is computed (also in compare.json).
pub const METHOD: &str = "Every variant runs the same trial indices on the same random streams \
     (common random numbers, docs/MODEL.md section 2). The difference is variant minus base, \
     d = (c - b)/n, where b counts trials in which only the base reached the milestone by its \
     deadline and c those in which only the variant did; its 95% interval is Tango's (1998) \
     score interval for paired proportions, collapsing to exactly 0 when no trial disagrees.";

/// One variant of a comparison, with its probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantResult {
    /// Label: the file's stem, or the overrides of a `--variant`.
    pub label: String,
    /// The scenario file it was read from.
    pub file: String,
    /// Overrides applied to it (`--set`, then the `--variant`'s own).
    pub overrides: Vec<String>,
    /// Per milestone of this variant, in its file order.
    pub milestones: Vec<VariantMilestone>,
    /// Fraction of trials in which more than the shortfall level of a
    /// quarter's inference demand went unmet in some quarter.
    pub shortfall_probability: f64,
}

/// A variant's milestone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantMilestone {
    /// Name.
    pub name: String,
    /// Deadline quarter.
    pub deadline: String,
    /// Trials that reached it by the deadline.
    pub reached_by_deadline: u64,
    /// Fraction of trials.
    pub probability: f64,
    /// 95% Clopper–Pearson interval.
    pub ci95_low: f64,
    /// See `ci95_low`.
    pub ci95_high: f64,
    /// P(reached by the end of each quarter of the variant's horizon).
    pub probability_by_quarter: Vec<f64>,
}

/// One milestone compared between the base and one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairResult {
    /// Milestone name (matched by name between the two).
    pub milestone: String,
    /// Label of the base.
    pub base: String,
    /// Label of the variant.
    pub variant: String,
    /// Trials classified by who reached the milestone by its deadline.
    pub counts: PairedCounts,
    /// P(reached by the deadline) in the base.
    pub p_base: f64,
    /// The same in the variant.
    pub p_variant: f64,
    /// `p_variant − p_base`.
    pub difference: f64,
    /// Lower end of the paired 95% interval (Tango).
    pub difference_low: f64,
    /// Upper end.
    pub difference_high: f64,
    /// The 95% interval an unpaired comparison of independent runs of the
    /// same size would give (Newcombe's hybrid score), for reference.
    pub unpaired_low: f64,
    /// See `unpaired_low`.
    pub unpaired_high: f64,
}

/// Everything `compare` reports: compare.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// How the variants are paired and the interval computed.
    pub method: String,
    /// Seed of every variant's streams (the base's).
    pub seed: u64,
    /// Trials of every variant.
    pub trials: u64,
    /// A trial is an inference shortfall when more than this share of a
    /// quarter's demand went unmet in some quarter.
    pub shortfall_level: f64,
    /// The variants; the first is the base.
    pub variants: Vec<VariantResult>,
    /// Base against each other variant, milestone by milestone.
    pub pairs: Vec<PairResult>,
    /// The inference-shortfall indicator, base against each variant
    /// (`milestone` is `inference_shortfall`).
    pub shortfall_pairs: Vec<PairResult>,
    /// Notes on the inputs (a variant's own seed or trials not used, a
    /// milestone without a match).
    pub warnings: Vec<String>,
    /// The sancsim version.
    pub sancsim_version: String,
}

fn pair(milestone: &str, base: &str, variant: &str, counts: PairedCounts) -> PairResult {
    let n = counts.trials();
    let d = paired_difference(&counts, 0.05);
    let x_base = counts.both + counts.base_only;
    let x_variant = counts.both + counts.variant_only;
    let unpaired = newcombe(x_variant, n, x_base, n);
    PairResult {
        milestone: milestone.to_string(),
        base: base.to_string(),
        variant: variant.to_string(),
        counts,
        p_base: counts.p_base(),
        p_variant: counts.p_variant(),
        difference: d.estimate,
        difference_low: d.low,
        difference_high: d.high,
        unpaired_low: unpaired.low,
        unpaired_high: unpaired.high,
    }
}

/// The comparison of a finished run.
pub fn comparison(loaded: &Loaded, run: &VariantRun, seed: u64, shortfall_level: f64) -> Comparison {
    let variants = &loaded.variants;
    let base = &variants[0];
    let mut results = Vec::new();
    for (v, stats) in variants.iter().zip(&run.variants) {
        let n = stats.trials;
        let milestones = v
            .model
            .milestones
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let (x, p, lo, hi) = stats.probability(&v.model, k);
                let mut cumulative = 0;
                VariantMilestone {
                    name: m.name.clone(),
                    deadline: v.model.calendar.quarter(m.deadline).to_string(),
                    reached_by_deadline: x,
                    probability: p,
                    ci95_low: lo,
                    ci95_high: hi,
                    probability_by_quarter: stats.reached_in_quarter[k]
                        .iter()
                        .map(|c| {
                            cumulative += c;
                            cumulative as f64 / n as f64
                        })
                        .collect(),
                }
            })
            .collect();
        results.push(VariantResult {
            label: v.label.clone(),
            file: loaded.files[results.len()].clone(),
            overrides: v.model.overrides.clone(),
            milestones,
            shortfall_probability: stats.shortfall as f64 / n as f64,
        });
    }
    let mut pairs = Vec::new();
    let mut shortfall_pairs = Vec::new();
    let mut warnings = loaded.warnings.clone();
    warnings.extend(super::clamp_warnings(&loaded.variants, run));
    for (v, stats) in variants.iter().zip(&run.variants).skip(1) {
        for (k, counts) in stats.paired.iter().enumerate() {
            let name = &base.model.milestones[k].name;
            match counts {
                Some(c) => pairs.push(pair(name, &base.label, &v.label, *c)),
                None => warnings.push(format!(
                    "{}: no milestone `{name}`, so it is not compared on it",
                    v.label
                )),
            }
        }
        shortfall_pairs.push(pair(
            "inference_shortfall",
            &base.label,
            &v.label,
            stats.paired_shortfall,
        ));
    }
    Comparison {
        method: METHOD.to_string(),
        seed,
        trials: run.variants[0].trials,
        shortfall_level,
        variants: results,
        pairs,
        shortfall_pairs,
        warnings,
        sancsim_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// compare.csv: one row per milestone and pair, fractions.
pub fn csv(c: &Comparison) -> Vec<u8> {
    let mut out = String::from("milestone,base,variant,p_base,p_variant,difference,difference_low,difference_high\n");
    for p in &c.pairs {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            crate::export::csv::field(&p.milestone),
            crate::export::csv::field(&p.base),
            crate::export::csv::field(&p.variant),
            p.p_base,
            p.p_variant,
            p.difference,
            p.difference_low,
            p.difference_high
        ));
    }
    out.into_bytes()
}

/// The console table: each pair's difference in percentage points.
pub fn table(c: &Comparison) -> String {
    let mut rows = vec![
        ["milestone", "variant", "base", "variant P", "difference [95% CI]"]
            .map(String::from)
            .to_vec(),
    ];
    for p in &c.pairs {
        rows.push(vec![
            p.milestone.clone(),
            p.variant.clone(),
            crate::report::percent(p.p_base),
            crate::report::percent(p.p_variant),
            signed_points(p.difference, p.difference_low, p.difference_high),
        ]);
    }
    format!(
        "compare: {} against {} — {} trials each, seed {}, paired\n{}",
        c.variants[1..]
            .iter()
            .map(|v| v.label.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        c.variants[0].label,
        c.trials,
        c.seed,
        crate::export::table::align(&rows)
    )
}

fn charts(c: &Comparison, loaded: &Loaded) -> Result<Vec<charts::Chart>, Error> {
    let base = &loaded.variants[0].model;
    let quarters: Vec<String> = (0..base.horizon())
        .map(|q| base.calendar.quarter(q).to_string())
        .collect();
    let curves: Vec<CurveVariant> = c
        .variants
        .iter()
        .zip(&loaded.variants)
        .map(|(r, v)| CurveVariant {
            name: r.label.clone(),
            milestones: r
                .milestones
                .iter()
                .zip(&v.model.milestones)
                .map(|(m, mm)| CurveMilestone {
                    name: m.name.clone(),
                    deadline: mm.deadline as usize,
                    probability_by_quarter: m.probability_by_quarter.clone(),
                })
                .collect(),
        })
        .collect();
    let rows: Vec<DifferenceRow> = c
        .pairs
        .iter()
        .map(|p| DifferenceRow {
            milestone: p.milestone.clone(),
            variant: p.variant.clone(),
            difference: p.difference,
            low: p.difference_low,
            high: p.difference_high,
        })
        .collect();
    let subtitle = format!(
        "{} trials per variant, seed {}, common random numbers",
        c.trials, c.seed
    );
    let err = |e: charts::ChartError| Error::Run(e.to_string());
    Ok(vec![
        charts::compare_curves(
            "P(milestone reached) by quarter, each variant",
            &subtitle,
            &quarters,
            &curves,
        )
        .map_err(err)?,
        charts::compare_difference(
            "Difference from the base, percentage points (paired 95% interval)",
            &subtitle,
            &rows,
        )
        .map_err(err)?,
    ])
}

/// The report page.
pub fn page(c: &Comparison, command: &str) -> Page {
    let base = &c.variants[0];
    let mut lead = Vec::new();
    for v in &c.variants[1..] {
        let mut moved: Vec<&PairResult> = c.pairs.iter().filter(|p| p.variant == v.label).collect();
        moved.sort_by(|a, b| b.difference.abs().total_cmp(&a.difference.abs()));
        match moved.first() {
            Some(p) if p.difference_low > 0.0 || p.difference_high < 0.0 => lead.push(format!(
                "Against {}, {} moves {} most: {} (paired 95% interval), from {} to {}.",
                base.label,
                v.label,
                p.milestone,
                signed_points(p.difference, p.difference_low, p.difference_high),
                crate::report::percent(p.p_base),
                crate::report::percent(p.p_variant)
            )),
            Some(p) => lead.push(format!(
                "Against {}, {} changes no milestone by more than its noise: the largest difference, on {}, is {}.",
                base.label,
                v.label,
                p.milestone,
                signed_points(p.difference, p.difference_low, p.difference_high)
            )),
            None => {}
        }
    }
    let numeric = vec![false, false, true, true, true, true, true];
    let differences = Table {
        header: [
            "milestone",
            "variant",
            "base",
            "variant P",
            "difference",
            "paired 95% interval",
            "unpaired 95% interval",
        ]
        .map(String::from)
        .to_vec(),
        rows: c
            .pairs
            .iter()
            .chain(&c.shortfall_pairs)
            .map(|p| {
                vec![
                    p.milestone.clone(),
                    p.variant.clone(),
                    crate::report::percent(p.p_base),
                    crate::report::percent(p.p_variant),
                    points(p.difference),
                    format!("[{}, {}]", points(p.difference_low), points(p.difference_high)),
                    format!("[{}, {}]", points(p.unpaired_low), points(p.unpaired_high)),
                ]
            })
            .collect(),
        numeric,
    };
    let mut probabilities = Table {
        header: ["variant", "milestone", "deadline", "P(reached) [95% CI]", "overrides"]
            .map(String::from)
            .to_vec(),
        numeric: vec![false, false, false, true, false],
        ..Table::default()
    };
    for v in &c.variants {
        for m in &v.milestones {
            probabilities.rows.push(vec![
                v.label.clone(),
                m.name.clone(),
                m.deadline.clone(),
                crate::report::probability(m.probability, m.ci95_low, m.ci95_high),
                v.overrides.join("; "),
            ]);
        }
    }
    Page {
        kicker: "sancsim comparison".into(),
        title: format!("{} against {}", c.variants[1..].iter().map(|v| v.label.as_str()).collect::<Vec<_>>().join(", "), base.label),
        lead: lead.join(" "),
        facts: vec![
            format!("{} trials per variant", c.trials),
            format!("seed {}", c.seed),
            "common random numbers".into(),
            format!("shortfall level {}", decimal(c.shortfall_level)),
        ],
        version: c.sancsim_version.clone(),
        command: command.to_string(),
        warnings: c.warnings.clone(),
        sections: vec![
            Section {
                heading: "Differences".into(),
                id: "differences".into(),
                paragraphs: vec![
                    "Variant minus base, in percentage points, with the paired 95% interval; the unpaired interval is what two independent runs of the same size would give.".into(),
                ],
                table: Some(differences),
                notes: vec![
                    METHOD.to_string(),
                    format!(
                        "inference_shortfall: the share of trials in which more than {} of a quarter's inference demand went unmet in some quarter.",
                        decimal(c.shortfall_level)
                    ),
                ],
            },
            Section {
                heading: "Probabilities".into(),
                id: "probabilities".into(),
                table: Some(probabilities),
                ..Section::default()
            },
        ],
    }
}

/// Runs `compare`, or one shard of it.
pub(crate) fn run(args: &CompareArgs, ctx: &mut Ctx) -> Result<String, Error> {
    crate::app::context::check_sim_args(&args.sim)?;
    let shard = super::parse_shard(args.shard.as_deref())?;
    let loaded = load_variants(ctx, &args.files, &args.variants, &args.sim.set)?;
    if loaded.variants.len() < 2 {
        return Err(Error::Usage(
            "compare needs a base and at least one variant: give two or more scenario files, or one file and --variant 'KEY=VALUE' (repeatable)".into(),
        ));
    }
    let stem = format!("compare-{}", crate::app::context::file_stem(&args.files[0]));
    let out = super::out_folder(args.out.as_deref(), &stem, shard);
    let inputs: Vec<&Path> = args.files.iter().map(PathBuf::as_path).collect();
    crate::output::check_not_inside(&out, &inputs)?;
    let analysis = AnalysisRun::new(&loaded, &args.sim, args.shortfall_level)?;
    super::warn(ctx, &loaded.warnings);
    if let Some(shard) = shard {
        let range = shard.trials(analysis.trials);
        let run = analysis.run(ctx, &loaded.variants, range.clone(), "compare")?;
        return super::write_shard(
            ctx,
            &out,
            words(args, &analysis),
            &args.files,
            analysis.trials,
            shard,
            &run,
            args.sim.quiet,
        );
    }
    let run = analysis.run(ctx, &loaded.variants, 0..analysis.trials, "compare")?;
    finish(args, ctx, &loaded, &analysis, &run, &out)
}

/// Merges the shards of a comparison (`states`, in trial order) into its outputs in `out`.
pub(crate) fn merge(
    args: &CompareArgs,
    ctx: &mut Ctx,
    states: Vec<serde_json::Value>,
    out: &Path,
    quiet: bool,
) -> Result<String, Error> {
    let loaded = load_variants(ctx, &args.files, &args.variants, &args.sim.set)?;
    let analysis = AnalysisRun::new(&loaded, &args.sim, args.shortfall_level)?;
    let run = super::merge_states::<VariantRun>(states, VariantRun::merge)?;
    let mut args = args.clone();
    args.sim.quiet = quiet;
    finish(&args, ctx, &loaded, &analysis, &run, out)
}

fn finish(
    args: &CompareArgs,
    ctx: &mut Ctx,
    loaded: &Loaded,
    analysis: &AnalysisRun,
    run: &VariantRun,
    out: &Path,
) -> Result<String, Error> {
    let c = comparison(loaded, run, analysis.seed, args.shortfall_level);
    super::warn(ctx, &super::clamp_warnings(&loaded.variants, run));
    let files = output_files(&c, loaded, &crate::report::shell_words(&words(args, analysis)))?;
    crate::app::context::write_results(ctx, out, &files)?;
    if args.sim.quiet {
        return Ok(String::new());
    }
    Ok(format!("{}results in {}\n", table(&c), out.display()))
}

/// The command that reproduces a comparison's outputs, as words.
fn words(args: &CompareArgs, analysis: &AnalysisRun) -> Vec<String> {
    let mut words: Vec<String> = vec!["sancsim".into(), "compare".into()];
    words.extend(args.files.iter().map(|f| f.display().to_string()));
    for v in &args.variants {
        words.push("--variant".into());
        words.push(v.clone());
    }
    for s in &args.sim.set {
        words.push("--set".into());
        words.push(s.clone());
    }
    words.extend(["--seed".into(), analysis.seed.to_string()]);
    words.extend(["--trials".into(), analysis.trials.to_string()]);
    if args.shortfall_level != super::DEFAULT_SHORTFALL_LEVEL {
        words.extend(["--shortfall-level".into(), decimal(args.shortfall_level)]);
    }
    if args.sim.allow_large_run {
        words.push("--allow-large-run".into());
    }
    words
}

/// Every output file of a comparison.
fn output_files(c: &Comparison, loaded: &Loaded, command: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let charts = charts(c, loaded)?;
    let page = page(c, command);
    let json = serde_json::to_vec_pretty(c).map_err(|e| Error::Run(e.to_string()))?;
    let files = vec![("compare.csv".to_string(), csv(c)), ("compare.json".to_string(), json)];
    Ok(super::analysis_files(files, &page, &charts))
}
