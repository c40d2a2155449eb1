//! `sancsim optimize`: searches the allocation (policy, training share,
//! reserve, minimum and maximum cluster) for the highest probability of one
//! milestone while the probability of an inference shortfall stays under a
//! bound, every candidate on common random numbers; then confirms the best
//! on fresh trials, paired against the runners-up.

use serde::{Deserialize, Serialize};

use super::{AnalysisRun, Loaded, decimal, signed_points};
use crate::analysis::paired::paired_difference;
use crate::analysis::variants::{Variant, VariantRun};
use crate::app::context::Ctx;
use crate::charts::{self, FrontierPoint};
use crate::cli::OptimizeArgs;
use crate::error::Error;
use crate::model::limits::MAX_CHIPS;
use crate::model::{Model, Policy};
use crate::report::page::{Page, Section, Table};

/// Runners-up compared with the best on the confirmation trials.
pub const RUNNERS_UP: usize = 5;

/// `allocation.policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// Inference first.
    InferenceFirst,
    /// A fixed share to training.
    FixedShare,
    /// Training filled to a reserve first.
    TrainingReserve,
}

impl PolicyKind {
    /// The name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::InferenceFirst => "inference_first",
            PolicyKind::FixedShare => "fixed_share",
            PolicyKind::TrainingReserve => "training_reserve",
        }
    }
}

/// One allocation to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// The allocation policy.
    pub policy: PolicyKind,
    /// With `fixed_share`: the share of new chips to training.
    pub training_share: Option<f64>,
    /// With `training_reserve`: chips reserved for training first.
    pub reserve_chips: Option<u64>,
    /// `training.min_cluster_chips`.
    pub min_cluster_chips: u64,
    /// `training.max_cluster_chips`.
    pub max_cluster_chips: u64,
}

impl Allocation {
    /// A short label, e.g. `fixed_share 0.3, cluster 4096-16384`.
    pub fn label(&self) -> String {
        let policy = match (self.training_share, self.reserve_chips) {
            (Some(s), _) => format!("fixed_share {}", decimal(s)),
            (_, Some(r)) => format!("training_reserve {r}"),
            _ => self.policy.name().to_string(),
        };
        let max = if self.max_cluster_chips >= MAX_CHIPS {
            "no max".to_string()
        } else {
            self.max_cluster_chips.to_string()
        };
        format!("{policy}, cluster {}-{max}", self.min_cluster_chips)
    }

    fn apply(&self, model: &Model) -> Model {
        let mut m = model.clone();
        m.policy = match (self.training_share, self.reserve_chips) {
            (Some(s), _) => Policy::FixedShare(s),
            (_, Some(r)) => Policy::TrainingReserve(r),
            _ => Policy::InferenceFirst,
        };
        m.training.min_cluster_chips = self.min_cluster_chips;
        m.training.max_cluster_chips = self.max_cluster_chips;
        // A candidate's cluster limit holds for the whole horizon.
        m.training.max_cluster_steps.clear();
        m
    }
}

fn parse_list<T: std::str::FromStr>(
    flag: &str,
    text: &Option<String>,
    valid: impl Fn(&T) -> bool,
    what: &str,
) -> Result<Option<Vec<T>>, Error> {
    let Some(text) = text else { return Ok(None) };
    let mut out = Vec::new();
    for item in text.split(',') {
        let v: T = item
            .trim()
            .replace('_', "")
            .parse()
            .ok()
            .filter(|v| valid(v))
            .ok_or_else(|| Error::Usage(format!("{flag} {text}: `{item}` is not {what}")))?;
        out.push(v);
    }
    Ok(Some(out))
}

/// Every candidate: inference_first, each training share, each reserve,
/// times each minimum and maximum cluster size with min <= max (and a
/// reserve at least the minimum cluster: a smaller one never starts the run
/// on its own).
pub fn candidates(model: &Model, args: &OptimizeArgs) -> Result<Vec<Allocation>, Error> {
    let min0 = model.training.min_cluster_chips.max(1);
    let max0 = model.training.max_cluster_chips;
    let dedup = |mut v: Vec<u64>| {
        v.sort_unstable();
        v.dedup();
        v
    };
    let mins = parse_list::<u64>(
        "--min-cluster",
        &args.min_cluster,
        |v| (1..=MAX_CHIPS).contains(v),
        "a whole number of chips from 1 to 10^12",
    )?
    .unwrap_or_else(|| dedup(vec![(min0 / 2).max(1), min0, min0.saturating_mul(2).min(MAX_CHIPS)]));
    let maxs = parse_list::<u64>(
        "--max-cluster",
        &args.max_cluster,
        |v| (1..=MAX_CHIPS).contains(v),
        "a whole number of chips from 1 to 10^12",
    )?
    .unwrap_or_else(|| {
        if max0 >= MAX_CHIPS {
            dedup(vec![min0.saturating_mul(2), min0.saturating_mul(4), MAX_CHIPS])
        } else {
            dedup(vec![(max0 / 2).max(1), max0, max0.saturating_mul(2).min(MAX_CHIPS)])
        }
    });
    let shares = parse_list::<f64>(
        "--shares",
        &args.shares,
        |v| (0.0..=1.0).contains(v),
        "a share from 0 to 1",
    )?
    .unwrap_or_else(|| (1..=9).map(|i| i as f64 / 10.0).collect());
    let reserve_base = if max0 >= MAX_CHIPS {
        min0.saturating_mul(4)
    } else {
        max0
    };
    let reserves = parse_list::<u64>(
        "--reserves",
        &args.reserves,
        |v| *v <= MAX_CHIPS,
        "a whole number of chips up to 10^12",
    )?
    .unwrap_or_else(|| dedup([1u64, 2, 3, 4].iter().map(|k| (reserve_base * k / 4).max(1)).collect()));
    let mut out = Vec::new();
    for &min in &mins {
        for &max in maxs.iter().filter(|&&m| m >= min) {
            let base = Allocation {
                policy: PolicyKind::InferenceFirst,
                training_share: None,
                reserve_chips: None,
                min_cluster_chips: min,
                max_cluster_chips: max,
            };
            out.push(base);
            out.extend(shares.iter().map(|&s| Allocation {
                policy: PolicyKind::FixedShare,
                training_share: Some(s),
                ..base
            }));
            out.extend(reserves.iter().filter(|&&r| r >= min).map(|&r| Allocation {
                policy: PolicyKind::TrainingReserve,
                reserve_chips: Some(r),
                ..base
            }));
        }
    }
    if out.is_empty() {
        return Err(Error::Usage(
            "no candidate: every --min-cluster is above every --max-cluster".into(),
        ));
    }
    Ok(out)
}

/// One candidate's estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateResult {
    /// Position in the search (the order of optimize.csv).
    pub candidate: usize,
    /// The allocation.
    pub allocation: Allocation,
    /// Its label.
    pub label: String,
    /// P(objective milestone reached by its deadline).
    pub probability: f64,
    /// 95% Clopper–Pearson interval.
    pub ci95_low: f64,
    /// See `ci95_low`.
    pub ci95_high: f64,
    /// P(inference shortfall): the probability that a quarter of the
    /// horizon ends with more than the shortfall level of its inference
    /// demand unmet (the mean over trials of the share of such quarters).
    pub shortfall_probability: f64,
    /// 95% interval (normal approximation to that mean).
    pub shortfall_ci95_low: f64,
    /// See `shortfall_ci95_low`.
    pub shortfall_ci95_high: f64,
    /// Its shortfall probability is within the bound (always, without one).
    pub feasible: bool,
    /// No other candidate has both a higher probability and a lower
    /// shortfall probability (ties count as not better).
    pub on_frontier: bool,
    /// Rank among feasible candidates by probability (1 = best), none if infeasible.
    pub rank: Option<usize>,
}

/// The best against one runner-up on the confirmation trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The runner-up's label.
    pub label: String,
    /// P(objective) of the runner-up on the confirmation trials.
    pub probability: f64,
    /// Best minus runner-up, paired (Tango 95% interval).
    pub difference: f64,
    /// Lower end.
    pub difference_low: f64,
    /// Upper end.
    pub difference_high: f64,
    /// The interval excludes 0: the best is significantly better.
    pub significantly_better: bool,
}

/// Everything `optimize` reports: optimize.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Optimization {
    /// The scenario file.
    pub file: String,
    /// The objective milestone.
    pub objective: String,
    /// The bound on P(shortfall), if any.
    pub max_shortfall_probability: Option<f64>,
    /// The shortfall level (share of a quarter's demand unmet).
    pub shortfall_level: f64,
    /// Seed; the search runs trials 0..trials, the confirmation trials..2·trials.
    pub seed: u64,
    /// Trials per candidate in the search, and in the confirmation.
    pub trials: u64,
    /// Every candidate evaluated.
    pub candidates: Vec<CandidateResult>,
    /// The best feasible candidate's index in `candidates`, if any is feasible.
    pub best: Option<usize>,
    /// The best's P(objective) on the confirmation trials, with its 95% interval.
    pub best_confirmed: Option<(f64, f64, f64)>,
    /// The best against each runner-up on the confirmation trials.
    pub runners_up: Vec<Confirmation>,
    /// Numbers clamped in more than 1% of their draws; absent when none was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The sancsim version.
    pub sancsim_version: String,
}

fn estimates(
    variant: &Variant,
    stats: &crate::analysis::variants::VariantStats,
    k: usize,
) -> (f64, f64, f64, f64, f64, f64) {
    let (_, p, lo, hi) = stats.probability(&variant.model, k);
    let (s, slo, shi) = stats.short_quarter_share();
    (p, lo, hi, s, slo, shi)
}

/// Runs `optimize`.
pub(crate) fn run(args: &OptimizeArgs, ctx: &mut Ctx) -> Result<String, Error> {
    crate::app::context::check_sim_args(&args.sim)?;
    if let Some(p) = args.max_shortfall_prob {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::Usage(format!(
                "--max-shortfall-prob must be a probability from 0 to 1, got {p}"
            )));
        }
    }
    let (model, _) = ctx.load(&args.file, &args.sim.set)?;
    super::warn_prior_only(ctx, &args.file, &model, "optimize");
    let steps = model.training.max_cluster_steps.len();
    if steps > 0 {
        ctx.diagnostics.push(super::Diagnostic::Warning(format!(
            "{}: `optimize` holds each candidate's max_cluster_chips for the whole horizon; the scenario's {steps} \
             training.max_cluster_chips_from step{} not applied",
            args.file.display(),
            if steps == 1 { " is" } else { "s are" }
        )));
    }
    let k = super::milestone_index(&model, &args.objective, "--objective")?;
    let allocations = candidates(&model, args)?;
    let variants: Vec<Variant> = allocations
        .iter()
        .map(|a| Variant {
            label: a.label(),
            model: a.apply(&model),
            pins: Vec::new(),
        })
        .collect();
    let out = super::out_folder(
        args.out.as_deref(),
        &format!("optimize-{}", crate::app::context::file_stem(&args.file)),
        None,
    );
    crate::output::check_not_inside(&out, &[args.file.as_path()])?;
    let loaded = Loaded {
        files: vec![args.file.display().to_string(); variants.len()],
        variants,
        warnings: Vec::new(),
    };
    let analysis = AnalysisRun::new(&loaded, &args.sim, args.shortfall_level)?;
    let search = analysis.run(ctx, &loaded.variants, 0..analysis.trials, "optimize")?;
    let mut results: Vec<CandidateResult> = loaded
        .variants
        .iter()
        .zip(&search.variants)
        .zip(&allocations)
        .enumerate()
        .map(|(i, ((v, stats), a))| {
            let (p, lo, hi, s, slo, shi) = estimates(v, stats, k);
            CandidateResult {
                candidate: i,
                allocation: *a,
                label: v.label.clone(),
                probability: p,
                ci95_low: lo,
                ci95_high: hi,
                shortfall_probability: s,
                shortfall_ci95_low: slo,
                shortfall_ci95_high: shi,
                feasible: args.max_shortfall_prob.is_none_or(|m| s <= m),
                on_frontier: false,
                rank: None,
            }
        })
        .collect();
    for i in 0..results.len() {
        let (p, s) = (results[i].probability, results[i].shortfall_probability);
        results[i].on_frontier = !results.iter().any(|o| {
            o.probability >= p && o.shortfall_probability <= s && (o.probability > p || o.shortfall_probability < s)
        });
    }
    // Feasible candidates by probability, ties by lower shortfall, then search order.
    let mut order: Vec<usize> = (0..results.len()).filter(|&i| results[i].feasible).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&results[a], &results[b]);
        y.probability
            .total_cmp(&x.probability)
            .then(x.shortfall_probability.total_cmp(&y.shortfall_probability))
            .then(a.cmp(&b))
    });
    for (r, &i) in order.iter().enumerate() {
        results[i].rank = Some(r + 1);
    }
    let best = order.first().copied();
    // Confirmation on fresh trials: the best first, then the runners-up,
    // paired against it.
    let (mut best_confirmed, mut runners_up) = (None, Vec::new());
    if let Some(b) = best {
        let chosen: Vec<usize> = order.iter().take(1 + RUNNERS_UP).copied().collect();
        let confirm: Vec<Variant> = chosen.iter().map(|&i| loaded.variants[i].clone()).collect();
        let n = analysis.trials;
        let run = analysis.run(ctx, &confirm, n..n.saturating_mul(2), "confirm")?;
        let (p, lo, hi, ..) = estimates(&loaded.variants[b], &run.variants[0], k);
        best_confirmed = Some((p, lo, hi));
        for (v, stats) in confirm.iter().zip(&run.variants).skip(1) {
            let Some(Some(counts)) = stats.paired.get(k) else {
                continue;
            };
            // The pair counts the best as base: best minus runner-up is −d.
            let d = paired_difference(counts, 0.05);
            // `+ 0.0` turns a negated zero into 0 (no "-0.0 pp").
            let (diff, low, high) = (-d.estimate + 0.0, -d.high + 0.0, -d.low + 0.0);
            runners_up.push(Confirmation {
                label: v.label.clone(),
                probability: counts.p_variant(),
                difference: diff,
                difference_low: low,
                difference_high: high,
                significantly_better: low > 0.0,
            });
        }
    }
    let o = Optimization {
        file: args.file.display().to_string(),
        objective: args.objective.clone(),
        max_shortfall_probability: args.max_shortfall_prob,
        shortfall_level: args.shortfall_level,
        seed: analysis.seed,
        trials: analysis.trials,
        candidates: results,
        best,
        best_confirmed,
        runners_up,
        // Candidates differ by allocation only, so their inputs clamp alike:
        // the first one's warnings stand for all.
        warnings: super::clamp_warnings(
            &loaded.variants[..1],
            &VariantRun {
                variants: search.variants[..1].to_vec(),
            },
        ),
        sancsim_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    super::warn(ctx, &o.warnings);
    let files = output_files(&o, &command(args, &analysis))?;
    crate::app::context::write_results(ctx, &out, &files)?;
    if args.sim.quiet {
        return Ok(String::new());
    }
    Ok(format!("{}results in {}\n", summary_text(&o), out.display()))
}

fn command(args: &OptimizeArgs, analysis: &AnalysisRun) -> String {
    let mut w: Vec<String> = vec![
        "sancsim".into(),
        "optimize".into(),
        args.file.display().to_string(),
        "--objective".into(),
        args.objective.clone(),
    ];
    if let Some(p) = args.max_shortfall_prob {
        w.extend(["--max-shortfall-prob".into(), decimal(p)]);
    }
    if args.shortfall_level != super::DEFAULT_SHORTFALL_LEVEL {
        w.extend(["--shortfall-level".into(), decimal(args.shortfall_level)]);
    }
    for (flag, v) in [
        ("--shares", &args.shares),
        ("--reserves", &args.reserves),
        ("--min-cluster", &args.min_cluster),
        ("--max-cluster", &args.max_cluster),
    ] {
        if let Some(v) = v {
            w.extend([flag.to_string(), v.clone()]);
        }
    }
    for s in &args.sim.set {
        w.extend(["--set".into(), s.clone()]);
    }
    w.extend([
        "--seed".into(),
        analysis.seed.to_string(),
        "--trials".into(),
        analysis.trials.to_string(),
    ]);
    crate::report::shell_words(&w)
}

/// The answer in two or three sentences.
fn summary_text(o: &Optimization) -> String {
    let bound = o
        .max_shortfall_probability
        .map(|m| format!(" with P(inference shortfall) at most {}", crate::report::percent(m)))
        .unwrap_or_default();
    let Some(b) = o.best.map(|i| &o.candidates[i]) else {
        return format!(
            "No allocation of the {} searched keeps P(inference shortfall) under {}: the lowest is {}.\n",
            o.candidates.len(),
            o.max_shortfall_probability
                .map(crate::report::percent)
                .unwrap_or_default(),
            crate::report::percent(
                o.candidates
                    .iter()
                    .map(|c| c.shortfall_probability)
                    .fold(f64::INFINITY, f64::min)
            )
        );
    };
    let mut text = format!(
        "Best of {} allocations for {}{bound}: {} — {} (P(shortfall) {}).",
        o.candidates.len(),
        o.objective,
        b.label,
        crate::report::probability(b.probability, b.ci95_low, b.ci95_high),
        crate::report::percent(b.shortfall_probability)
    );
    if let Some((p, lo, hi)) = o.best_confirmed {
        text.push_str(&format!(
            " On {} fresh trials it gives {}.",
            o.trials,
            crate::report::probability(p, lo, hi)
        ));
    }
    if let Some(r) = o.runners_up.first() {
        text.push_str(&format!(
            " Against the runner-up ({}) it is {} (paired): {}.",
            r.label,
            signed_points(r.difference, r.difference_low, r.difference_high),
            if r.significantly_better {
                "significantly better"
            } else {
                "not significantly better, so the two are equally good choices at this precision"
            }
        ));
    }
    text.push('\n');
    text
}

/// optimize.csv: every candidate evaluated.
pub fn csv(o: &Optimization) -> Vec<u8> {
    let mut s = String::from(
        "candidate,policy,training_share,reserve_chips,min_cluster_chips,max_cluster_chips,probability,ci95_low,ci95_high,shortfall_probability,shortfall_ci95_low,shortfall_ci95_high,feasible,on_frontier,rank\n",
    );
    let opt = |v: Option<String>| v.unwrap_or_default();
    for c in &o.candidates {
        let a = &c.allocation;
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            c.candidate,
            a.policy.name(),
            opt(a.training_share.map(decimal)),
            opt(a.reserve_chips.map(|r| r.to_string())),
            a.min_cluster_chips,
            a.max_cluster_chips,
            c.probability,
            c.ci95_low,
            c.ci95_high,
            c.shortfall_probability,
            c.shortfall_ci95_low,
            c.shortfall_ci95_high,
            c.feasible,
            c.on_frontier,
            opt(c.rank.map(|r| r.to_string()))
        ));
    }
    s.into_bytes()
}

fn output_files(o: &Optimization, command: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let points: Vec<FrontierPoint> = o
        .candidates
        .iter()
        .map(|c| FrontierPoint {
            label: c.label.clone(),
            shortfall_probability: c.shortfall_probability,
            probability: c.probability,
            low: c.ci95_low,
            high: c.ci95_high,
            feasible: c.feasible,
            best: o.best == Some(c.candidate),
            on_frontier: c.on_frontier,
        })
        .collect();
    let chart = charts::frontier(
        &format!("P({}) against P(inference shortfall), every allocation", o.objective),
        &format!(
            "{} candidates × {} trials, seed {}; shortfall: a quarter > {} short of demand",
            o.candidates.len(),
            o.trials,
            o.seed,
            crate::report::percent(o.shortfall_level)
        ),
        &o.objective,
        o.max_shortfall_probability,
        &points,
    )
    .map_err(|e| Error::Run(e.to_string()))?;
    let charts = vec![chart];
    let mut ranked: Vec<&CandidateResult> = o.candidates.iter().filter(|c| c.rank.is_some()).collect();
    ranked.sort_by_key(|c| c.rank);
    let table = Table {
        header: [
            "rank",
            "allocation",
            "P(objective) [95% CI]",
            "P(shortfall) [95% CI]",
            "frontier",
        ]
        .map(String::from)
        .to_vec(),
        rows: ranked
            .iter()
            .take(20)
            .map(|c| {
                vec![
                    c.rank.map(|r| r.to_string()).unwrap_or_default(),
                    c.label.clone(),
                    crate::report::probability(c.probability, c.ci95_low, c.ci95_high),
                    crate::report::probability(c.shortfall_probability, c.shortfall_ci95_low, c.shortfall_ci95_high),
                    if c.on_frontier { "yes".into() } else { String::new() },
                ]
            })
            .collect(),
        numeric: vec![true, false, true, true, false],
    };
    let confirm = Table {
        header: [
            "runner-up",
            "P(objective), fresh trials",
            "best minus runner-up (paired 95%)",
            "best significantly better",
        ]
        .map(String::from)
        .to_vec(),
        rows: o
            .runners_up
            .iter()
            .map(|r| {
                vec![
                    r.label.clone(),
                    crate::report::percent(r.probability),
                    signed_points(r.difference, r.difference_low, r.difference_high),
                    if r.significantly_better {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                ]
            })
            .collect(),
        numeric: vec![false, true, true, false],
    };
    let page = Page {
        kicker: "sancsim optimisation".into(),
        title: format!("{}: the allocation for {}", o.file, o.objective),
        lead: summary_text(o).trim().to_string(),
        facts: vec![
            format!("{} candidates", o.candidates.len()),
            format!("{} trials each", o.trials),
            format!("seed {}", o.seed),
            "common random numbers".into(),
        ],
        version: o.sancsim_version.clone(),
        command: command.to_string(),
        warnings: o.warnings.clone(),
        sections: vec![
            Section {
                heading: "Best allocations".into(),
                id: "ranking".into(),
                paragraphs: vec![
                    "Feasible candidates by P(objective), the best first (the first 20; optimize.csv lists every candidate). Each runs the same trials on the same random streams.".into(),
                ],
                table: Some(table),
                notes: vec![
                    "The best of many noisy estimates is biased upward (the winner's curse); the confirmation below re-runs the leaders on fresh trials.".into(),
                ],
            },
            Section {
                heading: "Confirmation on fresh trials".into(),
                id: "confirmation".into(),
                paragraphs: vec![format!(
                    "The best and the {RUNNERS_UP} runners-up re-run on trials {}..{} (not used in the search), paired; Tango's 95% interval of the difference.",
                    o.trials,
                    o.trials.saturating_mul(2)
                )],
                table: Some(confirm),
                notes: Vec::new(),
            },
        ],
    };
    let json = serde_json::to_vec_pretty(o).map_err(|e| Error::Run(e.to_string()))?;
    let files = vec![
        ("optimize.csv".to_string(), csv(o)),
        ("optimize.json".to_string(), json),
    ];
    Ok(super::analysis_files(files, &page, &charts))
}
