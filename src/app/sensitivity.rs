//! `sancsim sensitivity`: what matters. A tornado (each uncertain input
//! held at its P10 and its P90 on common random numbers) and Sobol'
//! indices (first order and total, with bootstrap intervals) for every
//! milestone's indicator and its training FLOP at the deadline
//! ([`crate::analysis::sensitivity`]; docs/MODEL.md section 10).
//!
//! With `--shard K/N` a process runs its contiguous share of the tornado's
//! trials and of the Sobol' rows and writes them as an analysis partial
//! result ([`super::shard`]); `sancsim merge` adds the shards and finishes
//! the analysis, byte for byte as one process would.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::sensitivity::{
    self as sens, OutputKind, Sobol, SobolSamples, Tornado, run_sobol, run_tornado, sobol, tornado,
};
use crate::analysis::variants::VariantRun;
use crate::app::context::Ctx;
use crate::charts::{self, SobolBar, TornadoBar};
use crate::cli::SensitivityArgs;
use crate::error::Error;
use crate::model::{MAX_TRIALS, Model};
use crate::report::page::{Page, Section, Table};
use crate::runner::RunControl;
use crate::trials::MergeError;

/// Default `--sobol-rows`: with the default 10,000 tornado trials and 500
/// resamples, the default scenario's analysis takes about a minute on two
/// cores (docs/PERFORMANCE.md).
pub const DEFAULT_SOBOL_ROWS: u64 = 200_000;
/// Most `--bootstrap` resamples.
pub const MAX_BOOTSTRAP: usize = 100_000;

/// How the tornado is computed (also in sensitivity.json).
pub const TORNADO_METHOD: &str = "Each uncertain input whose distribution is not fixed is held at its P10 \
     (its 0.1 quantile, clamped to its valid range) in every trial, and then at its P90, while every other \
     input and the noise stay random; every variant runs the same trials on the same random streams (common \
     random numbers). p_at_p10 and p_at_p90 are the shares of trials that reach the milestone by its deadline; \
     swing = |p_at_p90 - p_at_p10|. An input that changes no trial has a swing of exactly 0.";
/// How the Sobol' indices are computed (also in sensitivity.json).
pub const SOBOL_METHOD: &str = "Pick-freeze design: rows j = 0..N of two independent samples A (the \
     streams of trial j) and B (those of trial 2^63 + j); each row is evaluated on A, on B and on A with one \
     group taken from B, for each group: each varying input (all its quarters together) and the noise \
     (deliveries, failures, shock occurrences), N(k + 2) trials for k groups. First-order index: Saltelli et \
     al. (2010); total index: Jansen (1999); outputs centred on their mean; 95% percentile intervals from \
     bootstrap resamples of the rows. The first-order index is the share of the output's variance an input \
     explains alone, the total index its share including its interactions with the others.";

/// The settings of an analysis, as a single process or every shard runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Seed of every stream.
    pub seed: u64,
    /// Trials of each tornado variant.
    pub trials: u64,
    /// Rows `N` of each Sobol' sample.
    pub sobol_rows: u64,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// The milestone the charts show.
    pub milestone: String,
}

/// Everything `sensitivity` reports: sensitivity.json.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sensitivity {
    /// Scenario name.
    pub scenario: String,
    /// FNV-1a-64 hash of the scenario text after `--set` overrides.
    pub scenario_hash: String,
    /// `--set` overrides, as `key.path=value` (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    /// Seed, trials, rows, resamples and the charted milestone.
    #[serde(flatten)]
    pub settings: Settings,
    /// Uncertain inputs that vary (the tornado's rows per milestone).
    pub inputs: usize,
    /// Sobol' groups: the inputs and the noise (`k`).
    pub groups: usize,
    /// Trials simulated in all: `trials · (2·inputs + 1) + sobol_rows · (k + 2)`.
    pub simulated_trials: u64,
    /// How the tornado is computed.
    pub tornado_method: String,
    /// How the Sobol' indices are computed.
    pub sobol_method: String,
    /// The tornado.
    pub tornado: Tornado,
    /// The Sobol' indices.
    pub sobol: Sobol,
    /// The sancsim version.
    pub sancsim_version: String,
}

/// What a shard keeps (the state of its partial result): the tornado's
/// counts over its trials and the Sobol' outputs of its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardState {
    /// The tornado's counts.
    pub tornado: VariantRun,
    /// The Sobol' outputs, by row.
    pub sobol: SobolSamples,
}

impl ShardState {
    /// Adds the next shard (its trials and rows follow these).
    pub fn merge(self, next: ShardState) -> Result<ShardState, MergeError> {
        Ok(ShardState {
            tornado: self.tornado.merge(next.tornado)?,
            sobol: self.sobol.merge(next.sobol)?,
        })
    }
}

/// The settings of the command line: seed and trials (`--seed`,
/// `--trials`, else the file's), rows, resamples and the milestone
/// (`--milestone`, else the first); refuses values out of range.
fn settings(args: &SensitivityArgs, model: &Model) -> Result<Settings, Error> {
    let rows = args.sobol_rows;
    if rows == 0 || rows > MAX_TRIALS {
        return Err(Error::Usage(format!(
            "--sobol-rows must be between 1 and {MAX_TRIALS}, got {rows}"
        )));
    }
    if args.bootstrap > MAX_BOOTSTRAP {
        return Err(Error::Usage(format!(
            "--bootstrap must be at most {MAX_BOOTSTRAP}, got {}",
            args.bootstrap
        )));
    }
    let milestone = match &args.milestone {
        None => 0,
        Some(name) => super::milestone_index(model, name, "--milestone")?,
    };
    Ok(Settings {
        seed: args.sim.seed.unwrap_or(model.seed),
        trials: args.sim.trials.unwrap_or(model.trials),
        sobol_rows: rows,
        bootstrap: args.bootstrap,
        milestone: model.milestones[milestone].name.clone(),
    })
}

/// Runs `sensitivity`, or one shard of it.
pub(crate) fn run(args: &SensitivityArgs, ctx: &mut Ctx) -> Result<String, Error> {
    crate::app::context::check_sim_args(&args.sim)?;
    let shard = super::parse_shard(args.shard.as_deref())?;
    let (model, text) = ctx.load(&args.file, &args.sim.set)?;
    super::warn_prior_only(ctx, &args.file, &model, "sensitivity");
    let settings = settings(args, &model)?;
    let stem = format!("sensitivity-{}", crate::app::context::file_stem(&args.file));
    let out = super::out_folder(args.out.as_deref(), &stem, shard);
    crate::output::check_not_inside(&out, &[&args.file])?;
    let (trials, rows) = match shard {
        Some(s) => (s.trials(settings.trials), s.trials(settings.sobol_rows)),
        None => (0..settings.trials, 0..settings.sobol_rows),
    };
    let size = u64::try_from(sens::cost(&model, trials.end - trials.start, rows.end - rows.start)).unwrap_or(u64::MAX);
    crate::app::context::check_size(&model, size, &args.sim)?;

    let bar = crate::app::context::progress_bar(size, &stem, args.sim.quiet, ctx.console);
    let variants = 1 + 2 * sens::varying_inputs(&model).len() as u64;
    let evaluations = sens::Design::new(&model).evaluations() as u64;
    let tornado_run = run_tornado(
        &model,
        settings.seed,
        trials,
        &RunControl {
            threads: args.sim.threads,
            progress: &|k| bar.inc(k * variants),
            cancel: ctx.control.flag(),
        },
    )?;
    let samples = run_sobol(
        &model,
        settings.seed,
        rows,
        &RunControl {
            threads: args.sim.threads,
            progress: &|k| bar.inc(k * evaluations),
            cancel: ctx.control.flag(),
        },
    )?;
    bar.finish_and_clear();
    let state = ShardState {
        tornado: tornado_run,
        sobol: samples,
    };
    if let Some(shard) = shard {
        return super::write_shard(
            ctx,
            &out,
            words(args, &settings),
            std::slice::from_ref(&args.file),
            settings.trials,
            shard,
            &state,
            args.sim.quiet,
        );
    }
    let hash = Model::fingerprint(&text.effective);
    finish(args, ctx, &model, &hash, &settings, state, &out)
}

/// Merges the shards of an analysis (`states`, in trial order) into its
/// outputs in `out`.
pub(crate) fn merge(
    args: &SensitivityArgs,
    ctx: &mut Ctx,
    states: Vec<serde_json::Value>,
    out: &Path,
    quiet: bool,
) -> Result<String, Error> {
    let (model, text) = ctx.load(&args.file, &args.sim.set)?;
    let settings = settings(args, &model)?;
    let state = super::merge_states::<ShardState>(states, ShardState::merge)?;
    let mut args = args.clone();
    args.sim.quiet = quiet;
    let hash = Model::fingerprint(&text.effective);
    finish(&args, ctx, &model, &hash, &settings, state, out)
}

/// Checks the counts and samples of all trials and rows (a merge's come
/// from files), computes the results and writes the outputs into `out`.
fn finish(
    args: &SensitivityArgs,
    ctx: &mut Ctx,
    model: &Model,
    hash: &str,
    settings: &Settings,
    state: ShardState,
    out: &Path,
) -> Result<String, Error> {
    let corrupt = |e: String| Error::Usage(format!("the shards' results do not fit this analysis: {e}"));
    check_tornado(model, &state.tornado, settings.trials).map_err(corrupt)?;
    state.sobol.check(model).map_err(corrupt)?;
    if (state.sobol.first_row, state.sobol.rows) != (0, settings.sobol_rows) {
        return Err(corrupt(format!(
            "they hold Sobol' rows {}..{}, not 0..{}",
            state.sobol.first_row,
            state.sobol.end_row(),
            settings.sobol_rows
        )));
    }
    let bar = bootstrap_bar(2 * model.milestones.len() as u64, args.sim.quiet, ctx.console);
    let control = RunControl {
        threads: args.sim.threads,
        progress: &|k| bar.inc(k),
        cancel: ctx.control.flag(),
    };
    let s = results(model, hash, settings, &state.tornado, &state.sobol, &control)?;
    bar.finish_and_clear();
    let files = files(&s, model, &crate::report::shell_words(&words(args, settings)))?;
    crate::app::context::write_results(ctx, out, &files)?;
    if args.sim.quiet {
        return Ok(String::new());
    }
    Ok(format!("{}results in {}\n", summary(&s, model), out.display()))
}

/// A progress bar on stderr for the bootstrap, counting outputs (drawn
/// only when stderr is a terminal, as the trials' bar).
fn bootstrap_bar(outputs: u64, quiet: bool, console: crate::app::context::Console) -> indicatif::ProgressBar {
    if quiet || !console.progress {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(outputs), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} outputs, ETA {eta}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("bootstrap");
    bar
}

/// The command that reproduces the outputs in one process, as words.
fn words(args: &SensitivityArgs, settings: &Settings) -> Vec<String> {
    let mut words: Vec<String> = vec!["sancsim".into(), "sensitivity".into(), args.file.display().to_string()];
    for s in &args.sim.set {
        words.push("--set".into());
        words.push(s.clone());
    }
    for (flag, value) in [
        ("--seed", settings.seed.to_string()),
        ("--trials", settings.trials.to_string()),
        ("--sobol-rows", settings.sobol_rows.to_string()),
        ("--bootstrap", settings.bootstrap.to_string()),
        ("--milestone", settings.milestone.clone()),
    ] {
        words.push(flag.into());
        words.push(value);
    }
    if args.sim.allow_large_run {
        words.push("--allow-large-run".into());
    }
    words
}

/// The results from all trials' counts and all rows' samples.
fn results(
    model: &Model,
    hash: &str,
    settings: &Settings,
    run: &VariantRun,
    samples: &SobolSamples,
    control: &RunControl,
) -> Result<Sensitivity, Error> {
    let t = tornado(model, run);
    let s = sobol(model, settings.seed, samples, settings.bootstrap, control)?;
    let inputs = t.inputs.len();
    Ok(Sensitivity {
        scenario: model.name.clone(),
        scenario_hash: hash.to_string(),
        overrides: model.overrides.clone(),
        settings: settings.clone(),
        inputs,
        groups: s.groups.len(),
        simulated_trials: u64::try_from(sens::cost(model, settings.trials, settings.sobol_rows)).unwrap_or(u64::MAX),
        tornado_method: TORNADO_METHOD.to_string(),
        sobol_method: SOBOL_METHOD.to_string(),
        tornado: t,
        sobol: s,
        sancsim_version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// A value to three significant digits: `0.279`, `2.05e4`.
fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return crate::model::format_number(v);
    }
    let rounded: f64 = format!("{v:.2e}").parse().unwrap_or(v);
    crate::model::format_number(rounded)
}

/// An index with its interval: `0.41 [0.39, 0.43]`, or `n/a`.
fn index(i: &Option<crate::analysis::sobol::Interval>) -> String {
    match i {
        Some(i) if i.low.is_finite() && i.high.is_finite() => {
            format!("{:.2} [{:.2}, {:.2}]", i.estimate, i.low, i.high)
        }
        Some(i) => format!("{:.2}", i.estimate),
        None => "n/a".into(),
    }
}

/// The outputs of the charted milestone: its index in the model and its
/// two Sobol' outputs.
fn charted<'a>(s: &'a Sensitivity, model: &Model) -> (usize, &'a sens::OutputIndices, &'a sens::OutputIndices) {
    let m = model
        .milestones
        .iter()
        .position(|m| m.name == s.settings.milestone)
        .unwrap_or(0);
    let find = |kind: OutputKind| {
        s.sobol
            .outputs
            .iter()
            .find(|o| o.milestone == s.settings.milestone && o.kind == kind)
            .unwrap_or(&s.sobol.outputs[0])
    };
    (m, find(OutputKind::Reached), find(OutputKind::TrainingFlop))
}

/// One row per group for the charted milestone: tornado ends and swing
/// (inputs, largest swing first), then Sobol' indices; the noise last.
fn milestone_rows(s: &Sensitivity, model: &Model) -> Vec<Vec<String>> {
    let (_, reached, _) = charted(s, model);
    let group = |name: &str| reached.indices.iter().find(|g| g.input == name);
    let mut rows = Vec::new();
    for r in s.tornado.rows.iter().filter(|r| r.milestone == s.settings.milestone) {
        let g = group(&r.input);
        rows.push(vec![
            r.input.clone(),
            crate::report::percent(r.p_at_p10),
            crate::report::percent(r.p_at_p90),
            format!("{:.1} pp", r.swing * 100.0),
            index(&g.and_then(|g| g.first_order)),
            index(&g.and_then(|g| g.total)),
        ]);
    }
    if let Some(g) = group(sens::NOISE) {
        rows.push(vec![
            g.input.clone(),
            "—".into(),
            "—".into(),
            "—".into(),
            index(&g.first_order),
            index(&g.total),
        ]);
    }
    rows
}

/// The console summary.
fn summary(s: &Sensitivity, model: &Model) -> String {
    let (m, reached, _) = charted(s, model);
    let base = &s.tornado.base[m];
    let deadline = model.calendar.quarter(model.milestones[m].deadline);
    let mut rows = vec![
        [
            "input",
            "P at P10",
            "P at P90",
            "swing",
            "first order [95% CI]",
            "total [95% CI]",
        ]
        .map(String::from)
        .to_vec(),
    ];
    rows.extend(milestone_rows(s, model));
    format!(
        "sensitivity: {} — tornado {} trials per variant, Sobol' {} rows × {} = {} trials, {} resamples, seed {}\n\
         {}: P(reached by {deadline}) = {} in the base run; variance of reached:{} {:.4}\n{}",
        s.scenario,
        s.settings.trials,
        s.settings.sobol_rows,
        s.groups + 2,
        s.settings.sobol_rows.saturating_mul(s.groups as u64 + 2),
        s.settings.bootstrap,
        s.settings.seed,
        base.milestone,
        crate::report::percent(base.probability),
        base.milestone,
        reached.variance,
        crate::export::table::align(&rows)
    )
}

fn charts(s: &Sensitivity, model: &Model) -> Result<Vec<charts::Chart>, Error> {
    let (m, reached, _) = charted(s, model);
    let name = &s.settings.milestone;
    let deadline = model.calendar.quarter(model.milestones[m].deadline);
    let inputs = &s.tornado.inputs;
    let bars: Vec<TornadoBar> = s
        .tornado
        .rows
        .iter()
        .filter(|r| &r.milestone == name)
        .map(|r| {
            let input = inputs.iter().find(|i| i.input == r.input);
            TornadoBar {
                input: r.input.clone(),
                low_label: format!("P10 = {}", input.map(|i| short(i.p10)).unwrap_or_default()),
                high_label: format!("P90 = {}", input.map(|i| short(i.p90)).unwrap_or_default()),
                p_at_low: r.p_at_p10,
                p_at_high: r.p_at_p90,
            }
        })
        .collect();
    let mut groups: Vec<&sens::GroupIndices> = reached.indices.iter().collect();
    let total = |g: &sens::GroupIndices| g.total.map_or(f64::NEG_INFINITY, |t| t.estimate);
    groups.sort_by(|a, b| total(b).total_cmp(&total(a)));
    let sobol_rows: Vec<SobolBar> = groups
        .iter()
        .map(|g| SobolBar {
            input: g.input.clone(),
            first_order: g.first_order.map(|i| (i.estimate, i.low, i.high)),
            total: g.total.map(|i| (i.estimate, i.low, i.high)),
        })
        .collect();
    let err = |e: charts::ChartError| Error::Run(e.to_string());
    Ok(vec![
        charts::tornado(
            &format!("P({name} by {deadline}) with each input at its P10 and P90"),
            &format!(
                "{} trials per variant, seed {}, common random numbers; line: base {}",
                s.settings.trials,
                s.settings.seed,
                crate::report::percent(s.tornado.base[m].probability)
            ),
            s.tornado.base[m].probability,
            &bars,
        )
        .map_err(err)?,
        charts::sobol_bars(
            &format!("Share of the variance of reached:{name} (Sobol' indices)"),
            &format!(
                "{} rows × {} evaluations, {} bootstrap resamples (95% intervals), seed {}",
                s.settings.sobol_rows,
                s.groups + 2,
                s.settings.bootstrap,
                s.settings.seed
            ),
            &sobol_rows,
        )
        .map_err(err)?,
    ])
}

/// The report page.
pub fn page(s: &Sensitivity, model: &Model, command: &str) -> Page {
    let (m, reached, flop) = charted(s, model);
    let name = &s.settings.milestone;
    let deadline = model.calendar.quarter(model.milestones[m].deadline);
    let mut lead = Vec::new();
    if let Some(top) = s.tornado.rows.iter().find(|r| &r.milestone == name) {
        lead.push(format!(
            "Holding one input at a time at its P10 and then its P90, {} moves P({name} by {deadline}) most: \
             from {} to {} (base {}).",
            top.input,
            crate::report::percent(top.p_at_p10),
            crate::report::percent(top.p_at_p90),
            crate::report::percent(s.tornado.base[m].probability)
        ));
    }
    let top_total = reached
        .indices
        .iter()
        .filter_map(|g| g.total.map(|t| (g, t.estimate)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((g, _)) = top_total {
        lead.push(format!(
            "By variance, {} explains the most of whether it is reached: first-order index {}, total {}.",
            g.input,
            index(&g.first_order),
            index(&g.total)
        ));
    }
    let per_milestone = Table {
        header: [
            "input",
            "P at P10",
            "P at P90",
            "swing",
            "first order [95% CI]",
            "total [95% CI]",
        ]
        .map(String::from)
        .to_vec(),
        rows: milestone_rows(s, model),
        numeric: vec![false, true, true, true, true, true],
    };
    let tornado_table = Table {
        header: ["input", "milestone", "P10", "P90", "P at P10", "P at P90", "swing"]
            .map(String::from)
            .to_vec(),
        rows: s
            .tornado
            .rows
            .iter()
            .map(|r| {
                let input = s.tornado.inputs.iter().find(|i| i.input == r.input);
                vec![
                    r.input.clone(),
                    r.milestone.clone(),
                    input.map(|i| short(i.p10)).unwrap_or_default(),
                    input.map(|i| short(i.p90)).unwrap_or_default(),
                    crate::report::percent(r.p_at_p10),
                    crate::report::percent(r.p_at_p90),
                    format!("{:.1} pp", r.swing * 100.0),
                ]
            })
            .collect(),
        numeric: vec![false, false, true, true, true, true, true],
    };
    let flop_table = Table {
        header: ["input", "first order [95% CI]", "total [95% CI]"]
            .map(String::from)
            .to_vec(),
        rows: flop
            .indices
            .iter()
            .map(|g| vec![g.input.clone(), index(&g.first_order), index(&g.total)])
            .collect(),
        numeric: vec![false, true, true],
    };
    Page {
        kicker: "sancsim sensitivity".into(),
        title: format!("What matters for {name}: {}", s.scenario),
        lead: lead.join(" "),
        facts: vec![
            format!("tornado: {} trials per variant", s.settings.trials),
            format!("Sobol': {} rows × {} evaluations", s.settings.sobol_rows, s.groups + 2),
            format!("{} bootstrap resamples", s.settings.bootstrap),
            format!("seed {}", s.settings.seed),
            format!("{} trials in all", s.simulated_trials),
        ],
        version: s.sancsim_version.clone(),
        command: command.to_string(),
        warnings: Vec::new(),
        sections: vec![
            Section {
                heading: format!("{name}: each input"),
                id: "milestone".into(),
                paragraphs: vec![format!(
                    "P({name} by {deadline}) with each input held at its P10 and at its P90, largest swing first, \
                     and the input's Sobol' indices for whether the milestone is reached. The noise (deliveries, \
                     failures, shock occurrences) has no P10 or P90; its indices say how much of the outcome is \
                     luck rather than any input."
                )],
                table: Some(per_milestone),
                notes: Vec::new(),
            },
            Section {
                heading: format!("{name}: training FLOP at the deadline"),
                id: "training-flop".into(),
                paragraphs: vec![format!(
                    "Sobol' indices of the training FLOP at the end of {deadline} (mean {}, variance {}).",
                    short(flop.mean),
                    short(flop.variance)
                )],
                table: Some(flop_table),
                notes: Vec::new(),
            },
            Section {
                heading: "Which fact is worth finding out".into(),
                id: "worth-finding-out".into(),
                paragraphs: vec![
                    "For each milestone, the inputs whose exact value would move its probability most, by first-order \
                     Sobol' index: learning input i removes, on average, that share of the variance of whether the \
                     milestone is reached, and moves the probability by √(S_i · p(1 − p)) in root-mean-square (the \
                     spread of P(reached | the input) around p). The noise is left out: luck cannot be found out."
                        .into(),
                ],
                table: Some(worth_finding_out(s)),
                notes: Vec::new(),
            },
            Section {
                heading: "Tornado: every milestone".into(),
                id: "tornado".into(),
                paragraphs: vec!["Every input and milestone, largest swing first (tornado.csv).".into()],
                table: Some(tornado_table),
                notes: Vec::new(),
            },
            Section {
                heading: "Method".into(),
                id: "method".into(),
                paragraphs: vec![
                    TORNADO_METHOD.to_string(),
                    SOBOL_METHOD.to_string(),
                    "sensitivity.csv holds the indices of every milestone's indicator (reached:<milestone>) and \
                     training FLOP at its deadline (training_flop:<milestone>); sensitivity.json holds everything."
                        .into(),
                ],
                table: None,
                notes: vec![
                    "Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S. (2010). \
                     Variance based sensitivity analysis of model output. Design and estimator for the total \
                     sensitivity index. Computer Physics Communications 181, 259–270."
                        .into(),
                    "Jansen, M. J. W. (1999). Analysis of variance designs for model output. Computer Physics \
                     Communications 117, 35–43."
                        .into(),
                ],
            },
        ],
    }
}

/// Per milestone, the three inputs (not the noise) with the largest
/// first-order index of its indicator, each with that index and the
/// root-mean-square change in probability that learning it would bring,
/// `√(max(S_i, 0) · V)`, `V = p(1 − p)` the indicator's variance.
pub fn worth_finding_out(s: &Sensitivity) -> Table {
    let mut rows = Vec::new();
    for o in s.sobol.outputs.iter().filter(|o| o.kind == OutputKind::Reached) {
        let mut ranked: Vec<(&str, f64)> = o
            .indices
            .iter()
            .filter(|g| g.input != "noise")
            .filter_map(|g| g.first_order.map(|f| (g.input.as_str(), f.estimate)))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let cells: Vec<String> = ranked
            .iter()
            .take(3)
            .map(|(input, s1)| {
                let rms = (s1.max(0.0) * o.variance).sqrt();
                format!("{input} (S₁ {s1:.2}, ±{:.1} pp)", rms * 100.0)
            })
            .collect();
        let mut row = vec![o.milestone.clone(), crate::report::percent(o.mean)];
        row.extend((0..3).map(|i| cells.get(i).cloned().unwrap_or_default()));
        rows.push(row);
    }
    Table {
        header: ["milestone", "P", "first", "second", "third"]
            .map(String::from)
            .to_vec(),
        rows,
        numeric: vec![false, true, false, false, false],
    }
}

/// Every output file.
fn files(s: &Sensitivity, model: &Model, command: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let charts = charts(s, model)?;
    let page = page(s, model, command);
    let mut json = serde_json::to_vec_pretty(s).map_err(|e| Error::Run(e.to_string()))?;
    json.push(b'\n');
    let files = vec![
        ("sensitivity.json".to_string(), json),
        ("tornado.csv".to_string(), sens::tornado_csv(&s.tornado)),
        ("sensitivity.csv".to_string(), sens::sensitivity_csv(&s.sobol)),
    ];
    Ok(super::analysis_files(files, &page, &charts))
}

/// Checks that `run` holds the tornado's counts over `trials` trials of
/// `model`: one base and two variants per input, each with `trials` trials,
/// counts no larger than that, and every trial paired with the base.
fn check_tornado(model: &Model, run: &VariantRun, trials: u64) -> Result<(), String> {
    let want = 1 + 2 * sens::varying_inputs(model).len();
    if run.variants.len() != want {
        return Err(format!(
            "its tornado has {} variants, its scenario needs {want}",
            run.variants.len()
        ));
    }
    let h = model.horizon() as usize;
    for (v, stats) in run.variants.iter().enumerate() {
        let bad = |what: &str| Err(format!("its tornado's variant {v} {what}"));
        if stats.trials != trials {
            return bad(&format!("holds {} trials, not {trials}", stats.trials));
        }
        if stats.reached_in_quarter.len() != model.milestones.len()
            || stats.reached_in_quarter.iter().any(|r| r.len() != h)
            || stats.paired.len() != model.milestones.len()
        {
            return bad("does not fit its scenario's milestones and quarters");
        }
        for r in &stats.reached_in_quarter {
            let sum = r.iter().try_fold(0u64, |a, &c| a.checked_add(c));
            if sum.is_none_or(|s| s > trials) {
                return bad("counts more trials reaching a milestone than it ran");
            }
        }
        let paired_ok = |c: &crate::analysis::paired::PairedCounts| {
            [c.both, c.base_only, c.variant_only, c.neither]
                .iter()
                .try_fold(0u64, |a, &x| a.checked_add(x))
                == Some(trials)
        };
        if stats.shortfall > trials
            || !paired_ok(&stats.paired_shortfall)
            || stats.paired.iter().any(|p| !p.as_ref().is_some_and(paired_ok))
        {
            return bad("has pair counts that do not add up to its trials");
        }
    }
    Ok(())
}
