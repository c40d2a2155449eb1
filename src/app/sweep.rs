//! `sancsim sweep`: one or two parameters of a scenario varied over a range
//! or a list, every point on common random numbers.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{AnalysisRun, Loaded, decimal};
use crate::analysis::variants::{Variant, VariantRun};
use crate::app::context::Ctx;
use crate::charts::{self, SweepPoint, SweepSeries};
use crate::cli::SweepArgs;
use crate::error::Error;
use crate::report::page::{Page, Section, Table};

/// Most points a sweep may have.
pub const MAX_POINTS: usize = 10_000;

/// One swept parameter: its key path and the values, as TOML text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Key path in the scenario file.
    pub key: String,
    /// The values, in sweep order, as written into the scenario.
    pub values: Vec<String>,
}

/// Splits `text` at commas outside quotes, brackets and braces.
fn split_list(text: &str) -> Vec<String> {
    super::split_outside(text, ',')
}

/// Decimal places a number's text asks for: the digits after its point
/// less its exponent (`0.25` → 2, `1e-3` → 3, `2.5e2` → 0).
fn decimals(text: &str) -> usize {
    decimals_signed(text).clamp(0, 300) as usize
}

/// The power of ten of a number text's last written digit (`5e24` → 24,
/// `2.5e24` → 23, `0.25` → −2).
fn unit_exponent(text: &str) -> i64 {
    -(decimals_signed(text))
}

/// [`decimals`] without the clamp at 0.
fn decimals_signed(text: &str) -> i64 {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (text, 0),
    };
    mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i64 - exponent
}

/// `v` in exponent form with digits down to `10^unit`, trailing zeros of
/// the mantissa dropped (`1.5e25`, `1e25`).
fn exponent_text(v: f64, unit: i64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor() as i64;
    let places = (magnitude - unit).clamp(0, 16) as usize;
    let text = format!("{v:.places$e}");
    match text.split_once('e') {
        Some((m, e)) if m.contains('.') => format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.')),
        _ => text,
    }
}

/// Largest magnitude written in fixed notation; beyond it (and for more
/// than 15 decimals) values are written in the shortest exponent form.
const FIXED_LIMIT: f64 = 1e15;

/// The values of `START:STOP:STEP`: START, START + STEP, … up to STOP
/// (included when reached within a millionth of a step), each written with
/// the decimals of START and STEP.
fn range_values(arg: &str, start: &str, stop: &str, step: &str) -> Result<Vec<String>, Error> {
    let usage = |m: String| Error::Usage(format!("--set {arg}: {m}"));
    let num = |t: &str| {
        t.trim()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                usage(format!(
                    "`{t}` is not a number; a range is START:STOP:STEP, e.g. 0.2:0.8:0.1"
                ))
            })
    };
    let (a, b, s) = (num(start)?, num(stop)?, num(step)?);
    if s <= 0.0 || b < a {
        return Err(usage(
            "a range needs START <= STOP and STEP > 0, e.g. 0.2:0.8:0.1".into(),
        ));
    }
    let count = ((b - a) / s + 1e-6).floor() + 1.0;
    if count > MAX_POINTS as f64 {
        return Err(usage(format!(
            "{count} values: a sweep has at most {MAX_POINTS} points"
        )));
    }
    let places = decimals(start.trim()).max(decimals(step.trim()));
    let exponent_form = a.abs().max(b.abs()) >= FIXED_LIMIT || places > 15;
    let values: Vec<String> = (0..count as usize)
        .map(|i| {
            let v = a + i as f64 * s;
            if exponent_form {
                exponent_text(v, unit_exponent(start.trim()).min(unit_exponent(step.trim())))
            } else {
                format!("{v:.places$}")
            }
        })
        .collect();
    if values.windows(2).any(|w| w[0] == w[1]) {
        return Err(usage(format!(
            "the values repeat once written ({}): give START, STOP and STEP with the precision the values need",
            values.join(", ")
        )));
    }
    Ok(values)
}

/// Reads `--set` arguments: a sweep (`KEY=START:STOP:STEP`, or a list
/// `KEY=a,b,c` of two or more values) is an axis; any other is a fixed
/// override, passed on as it is.
pub fn axes(sets: &[String]) -> Result<(Vec<Axis>, Vec<String>), Error> {
    let mut axes = Vec::new();
    let mut fixed = Vec::new();
    for arg in sets {
        let Some((key, text)) = arg.split_once('=') else {
            fixed.push(arg.clone());
            continue;
        };
        let text = text.trim();
        let valid_toml = text.parse::<toml_edit::Value>().is_ok();
        let parts: Vec<&str> = text.split(':').collect();
        // Three numbers are a range even where they also read as a TOML
        // time (`10:50:10`): no scenario value is a time.
        let values = if parts.len() == 3 && parts.iter().all(|p| p.trim().replace('_', "").parse::<f64>().is_ok()) {
            range_values(arg, parts[0], parts[1], parts[2])?
        } else if !valid_toml && split_list(text).len() >= 2 {
            let items = split_list(text);
            if items.iter().any(String::is_empty) {
                return Err(Error::Usage(format!(
                    "--set {arg}: an empty value in the list; write values separated by commas, e.g. 0.3,0.35,0.4"
                )));
            }
            items
        } else {
            fixed.push(arg.clone());
            continue;
        };
        axes.push(Axis {
            key: key.trim().to_string(),
            values,
        });
    }
    Ok((axes, fixed))
}

/// One point of a sweep: its values (one per axis) and its probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    /// The axes' values at this point, as TOML text, in axis order.
    pub values: Vec<String>,
    /// Per milestone of the scenario.
    pub milestones: Vec<PointMilestone>,
    /// Fraction of trials with an inference shortfall above the level.
    pub shortfall_probability: f64,
}

/// A milestone at one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointMilestone {
    /// Name.
    pub name: String,
    /// Trials that reached it by its deadline.
    pub reached_by_deadline: u64,
    /// Fraction of trials.
    pub probability: f64,
    /// 95% Clopper–Pearson interval.
    pub ci95_low: f64,
    /// See `ci95_low`.
    pub ci95_high: f64,
}

/// Everything `sweep` reports: sweep.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// The scenario file.
    pub file: String,
    /// Fixed overrides applied at every point.
    pub overrides: Vec<String>,
    /// The swept parameters; points run over the last axis fastest.
    pub axes: Vec<Axis>,
    /// Seed of every point's streams.
    pub seed: u64,
    /// Trials per point.
    pub trials: u64,
    /// The inference-shortfall level.
    pub shortfall_level: f64,
    /// The points, the first axis varying slowest.
    pub points: Vec<PointResult>,
    /// Numbers clamped in more than 1% of their draws at some point, each
    /// prefixed by the point; absent when none was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The sancsim version.
    pub sancsim_version: String,
}

/// Every combination of the axes' values, the last axis fastest.
fn grid(axes: &[Axis]) -> Vec<Vec<String>> {
    let mut points = vec![Vec::new()];
    for axis in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                axis.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(v.clone());
                    q
                })
            })
            .collect();
    }
    points
}

/// sweep.csv: one row per point and milestone, the axes' key paths first.
pub fn csv(s: &Sweep) -> Vec<u8> {
    use crate::export::csv::field;
    let mut out: Vec<String> = s.axes.iter().map(|a| field(&a.key)).collect();
    out.extend(["milestone", "probability", "ci95_low", "ci95_high"].map(String::from));
    let mut text = out.join(",") + "\n";
    for p in &s.points {
        for m in &p.milestones {
            let mut cells: Vec<String> = p.values.iter().map(|v| field(v)).collect();
            cells.push(field(&m.name));
            cells.extend([m.probability, m.ci95_low, m.ci95_high].map(|v| v.to_string()));
            text.push_str(&cells.join(","));
            text.push('\n');
        }
    }
    text.into_bytes()
}

/// A value's position on a chart axis: the number it is, else its index.
fn x_of(value: &str, index: usize) -> f64 {
    value.replace('_', "").parse::<f64>().unwrap_or(index as f64)
}

fn charts(s: &Sweep, milestone: usize) -> Result<Vec<charts::Chart>, Error> {
    let err = |e: charts::ChartError| Error::Run(e.to_string());
    let subtitle = format!("{} trials per point, seed {}, common random numbers", s.trials, s.seed);
    match s.axes.as_slice() {
        [axis] => {
            let names: Vec<String> = s.points[0].milestones.iter().map(|m| m.name.clone()).collect();
            let series: Vec<SweepSeries> = names
                .iter()
                .enumerate()
                .map(|(k, name)| SweepSeries {
                    name: name.clone(),
                    points: s
                        .points
                        .iter()
                        .enumerate()
                        .map(|(i, p)| SweepPoint {
                            x: x_of(&p.values[0], i),
                            probability: p.milestones[k].probability,
                            low: p.milestones[k].ci95_low,
                            high: p.milestones[k].ci95_high,
                        })
                        .collect(),
                })
                .collect();
            Ok(vec![
                charts::sweep_line(
                    &format!("P(milestone reached by its deadline) against {}", axis.key),
                    &subtitle,
                    &axis.key,
                    &series,
                )
                .map_err(err)?,
            ])
        }
        [a, b] => {
            let xs: Vec<f64> = b.values.iter().enumerate().map(|(i, v)| x_of(v, i)).collect();
            let ys: Vec<f64> = a.values.iter().enumerate().map(|(i, v)| x_of(v, i)).collect();
            let grid: Vec<Vec<f64>> = (0..a.values.len())
                .map(|yi| {
                    (0..b.values.len())
                        .map(|xi| s.points[yi * b.values.len() + xi].milestones[milestone].probability)
                        .collect()
                })
                .collect();
            let name = &s.points[0].milestones[milestone].name;
            Ok(vec![
                charts::sweep_heatmap(
                    &format!("P({name} reached by its deadline)"),
                    &subtitle,
                    &b.key,
                    &a.key,
                    &xs,
                    &ys,
                    &grid,
                )
                .map_err(err)?,
            ])
        }
        _ => Ok(Vec::new()),
    }
}

/// The report page.
fn page(s: &Sweep, command: &str) -> Page {
    let mut header: Vec<String> = s.axes.iter().map(|a| a.key.clone()).collect();
    let names: Vec<String> = s.points[0].milestones.iter().map(|m| m.name.clone()).collect();
    header.extend(names.iter().cloned());
    let mut numeric = vec![true; header.len()];
    numeric[..s.axes.len()].fill(false);
    let rows = s
        .points
        .iter()
        .map(|p| {
            let mut row = p.values.clone();
            row.extend(
                p.milestones
                    .iter()
                    .map(|m| crate::report::probability(m.probability, m.ci95_low, m.ci95_high)),
            );
            row
        })
        .collect();
    let mut lead = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let best = s
            .points
            .iter()
            .max_by(|a, b| a.milestones[k].probability.total_cmp(&b.milestones[k].probability));
        let worst = s
            .points
            .iter()
            .min_by(|a, b| a.milestones[k].probability.total_cmp(&b.milestones[k].probability));
        if let (Some(b), Some(w)) = (best, worst) {
            let at = |p: &PointResult| {
                s.axes
                    .iter()
                    .zip(&p.values)
                    .map(|(a, v)| format!("{} = {v}", a.key))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            lead.push(format!(
                "{name}: from {} (at {}) to {} (at {}).",
                crate::report::percent(w.milestones[k].probability),
                at(w),
                crate::report::percent(b.milestones[k].probability),
                at(b)
            ));
        }
    }
    Page {
        kicker: "sancsim sweep".into(),
        title: format!(
            "{}: {}",
            s.file,
            s.axes.iter().map(|a| a.key.as_str()).collect::<Vec<_>>().join(" × ")
        ),
        lead: lead.join(" "),
        facts: vec![
            format!("{} points", s.points.len()),
            format!("{} trials per point", s.trials),
            format!("seed {}", s.seed),
            "common random numbers".into(),
        ],
        version: s.sancsim_version.clone(),
        command: command.to_string(),
        warnings: s.warnings.clone(),
        sections: vec![Section {
            heading: "P(reached by the deadline) at each point".into(),
            id: "points".into(),
            paragraphs: vec![
                "Every point runs the same trials on the same random streams, so neighbouring points differ by the parameter, not by noise; each interval is the 95% Clopper–Pearson interval of that point alone.".into(),
            ],
            table: Some(Table { header, rows, numeric }),
            notes: s.overrides.iter().map(|o| format!("At every point: {o}")).collect(),
        }],
    }
}

/// The points of a sweep, each built (and so validated) as a variant.
struct Prepared {
    axes: Vec<Axis>,
    fixed: Vec<String>,
    loaded: Loaded,
    milestone: usize,
}

fn prepare(args: &SweepArgs, ctx: &mut Ctx) -> Result<Prepared, Error> {
    crate::app::context::check_sim_args(&args.sim)?;
    let (axes, fixed) = axes(&args.sim.set)?;
    if axes.is_empty() || axes.len() > 2 {
        return Err(Error::Usage(format!(
            "sweep needs one or two swept parameters, got {}: write --set KEY=START:STOP:STEP or --set KEY=a,b,c",
            axes.len()
        )));
    }
    let size = axes.iter().fold(1usize, |n, a| n.saturating_mul(a.values.len()));
    if size > MAX_POINTS {
        return Err(Error::Usage(format!("{size} points: a sweep has at most {MAX_POINTS}")));
    }
    let points = grid(&axes);
    let (base_model, text) = ctx.load(&args.file, &fixed)?;
    super::warn_prior_only(ctx, &args.file, &base_model, "sweep");
    if base_model.milestones.is_empty() {
        return Err(Error::Usage(format!(
            "{}: the scenario has no milestones to sweep",
            args.file.display()
        )));
    }
    let milestone = match &args.milestone {
        None => 0,
        Some(name) => super::milestone_index(&base_model, name, "--milestone")?,
    };
    // Every point is built (and so validated) before anything runs, from
    // the file's text as read once.
    let file = args.file.display().to_string();
    let mut variants = Vec::with_capacity(points.len());
    for p in &points {
        let mut sets = fixed.clone();
        sets.extend(axes.iter().zip(p).map(|(a, v)| format!("{}={v}", a.key)));
        let (model, _) = crate::overrides::load_text(&text.file, &file, &sets)?;
        if model.milestones.len() != base_model.milestones.len() {
            return Err(Error::Usage(format!(
                "--set {}: a sweep cannot change which milestones the scenario has",
                sets.join(" --set ")
            )));
        }
        variants.push(Variant {
            label: p.join(", "),
            model,
            pins: Vec::new(),
        });
    }
    let loaded = Loaded {
        variants,
        files: vec![args.file.display().to_string(); points.len()],
        warnings: Vec::new(),
    };
    Ok(Prepared {
        axes,
        fixed,
        loaded,
        milestone,
    })
}

/// Runs `sweep`, or one shard of it.
pub(crate) fn run(args: &SweepArgs, ctx: &mut Ctx) -> Result<String, Error> {
    let shard = super::parse_shard(args.shard.as_deref())?;
    let prepared = prepare(args, ctx)?;
    let stem = format!("sweep-{}", crate::app::context::file_stem(&args.file));
    let out = super::out_folder(args.out.as_deref(), &stem, shard);
    crate::output::check_not_inside(&out, &[args.file.as_path()])?;
    let analysis = AnalysisRun::new(&prepared.loaded, &args.sim, args.shortfall_level)?;
    if let Some(shard) = shard {
        let range = shard.trials(analysis.trials);
        let run = analysis.run(ctx, &prepared.loaded.variants, range, "sweep")?;
        return super::write_shard(
            ctx,
            &out,
            words(args, &analysis),
            std::slice::from_ref(&args.file),
            analysis.trials,
            shard,
            &run,
            args.sim.quiet,
        );
    }
    let run = analysis.run(ctx, &prepared.loaded.variants, 0..analysis.trials, "sweep")?;
    finish(args, ctx, prepared, &analysis, &run, &out)
}

/// Merges the shards of a sweep (`states`, in trial order) into its outputs in `out`.
pub(crate) fn merge(
    args: &SweepArgs,
    ctx: &mut Ctx,
    states: Vec<serde_json::Value>,
    out: &Path,
    quiet: bool,
) -> Result<String, Error> {
    let prepared = prepare(args, ctx)?;
    let analysis = AnalysisRun::new(&prepared.loaded, &args.sim, args.shortfall_level)?;
    let run = super::merge_states::<VariantRun>(states, VariantRun::merge)?;
    let mut args = args.clone();
    args.sim.quiet = quiet;
    finish(&args, ctx, prepared, &analysis, &run, out)
}

fn finish(
    args: &SweepArgs,
    ctx: &mut Ctx,
    prepared: Prepared,
    analysis: &AnalysisRun,
    run: &VariantRun,
    out: &Path,
) -> Result<String, Error> {
    if run.variants.len() != prepared.loaded.variants.len() {
        return Err(Error::Usage(
            "the shards hold another number of points than this sweep".into(),
        ));
    }
    let sweep = summarise(
        &args.file,
        &prepared.fixed,
        prepared.axes,
        &prepared.loaded,
        run,
        analysis,
    );
    super::warn(ctx, &sweep.warnings);
    let files = output_files(
        &sweep,
        prepared.milestone,
        &crate::report::shell_words(&words(args, analysis)),
    )?;
    crate::app::context::write_results(ctx, out, &files)?;
    if args.sim.quiet {
        return Ok(String::new());
    }
    Ok(format!("{}results in {}\n", table(&sweep), out.display()))
}

fn summarise(
    file: &Path,
    fixed: &[String],
    axes: Vec<Axis>,
    loaded: &Loaded,
    run: &VariantRun,
    analysis: &AnalysisRun,
) -> Sweep {
    let points = loaded
        .variants
        .iter()
        .zip(&run.variants)
        .zip(grid(&axes))
        .map(|((v, stats), values)| PointResult {
            values,
            milestones: v
                .model
                .milestones
                .iter()
                .enumerate()
                .map(|(k, m)| {
                    let (x, p, lo, hi) = stats.probability(&v.model, k);
                    PointMilestone {
                        name: m.name.clone(),
                        reached_by_deadline: x,
                        probability: p,
                        ci95_low: lo,
                        ci95_high: hi,
                    }
                })
                .collect(),
            shortfall_probability: stats.shortfall as f64 / stats.trials as f64,
        })
        .collect();
    Sweep {
        file: file.display().to_string(),
        overrides: fixed.to_vec(),
        axes,
        seed: analysis.seed,
        trials: analysis.trials,
        shortfall_level: analysis.shortfall_level,
        points,
        warnings: super::clamp_warnings(&loaded.variants, run),
        sancsim_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// The console table: each point's probabilities.
fn table(s: &Sweep) -> String {
    let mut header: Vec<String> = s.axes.iter().map(|a| a.key.clone()).collect();
    header.extend(s.points[0].milestones.iter().map(|m| m.name.clone()));
    let mut rows = vec![header];
    for p in &s.points {
        let mut row = p.values.clone();
        row.extend(p.milestones.iter().map(|m| crate::report::percent(m.probability)));
        rows.push(row);
    }
    format!(
        "sweep: {} points × {} trials, seed {}, common random numbers\n{}",
        s.points.len(),
        s.trials,
        s.seed,
        crate::export::table::align(&rows)
    )
}

/// The command that reproduces a sweep's outputs, as words.
fn words(args: &SweepArgs, analysis: &AnalysisRun) -> Vec<String> {
    let mut words: Vec<String> = vec!["sancsim".into(), "sweep".into(), args.file.display().to_string()];
    for s in &args.sim.set {
        words.push("--set".into());
        words.push(s.clone());
    }
    if let Some(m) = &args.milestone {
        words.extend(["--milestone".into(), m.clone()]);
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

fn output_files(s: &Sweep, milestone: usize, command: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let charts = charts(s, milestone)?;
    let page = page(s, command);
    let json = serde_json::to_vec_pretty(s).map_err(|e| Error::Run(e.to_string()))?;
    let files = vec![("sweep.csv".to_string(), csv(s)), ("sweep.json".to_string(), json)];
    Ok(super::analysis_files(files, &page, &charts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_lists_and_fixed_values_are_told_apart() {
        let (axes, fixed) = axes(&[
            "training.mfu=0.3:0.5:0.1".to_string(),
            "a.b=1,2,4".to_string(),
            "c={ dist = \"beta\", alpha = 2, beta = 3 }".to_string(),
            "d=0.4".to_string(),
            "e=[1, 2]".to_string(),
        ])
        .unwrap();
        assert_eq!(axes[0].values, vec!["0.3", "0.4", "0.5"]);
        assert_eq!(axes[1].values, vec!["1", "2", "4"]);
        assert_eq!(fixed.len(), 3);
        let (axes, _) = axes_of("x=1000:5000:2000");
        assert_eq!(axes[0].values, vec!["1000", "3000", "5000"]);
        let (axes, _) = axes_of("x=0.05:0.2:0.05");
        assert_eq!(axes[0].values, vec!["0.05", "0.10", "0.15", "0.20"]);
        let (axes, _) = axes_of("x=0.3:0.305:1e-3");
        assert_eq!(
            axes[0].values,
            vec!["0.300", "0.301", "0.302", "0.303", "0.304", "0.305"]
        );
        let (axes, _) = axes_of("x=1e25:2e25:5e24");
        assert_eq!(axes[0].values, vec!["1e25", "1.5e25", "2e25"]);
        let (axes, _) = axes_of("x=10:50:10");
        assert_eq!(axes[0].values, vec!["10", "20", "30", "40", "50"]);
        assert!(super::axes(&["x=0:1e-20:1e-21".to_string()]).is_ok());
        let (axes, _) = axes_of("x=\"2025Q1\",\"2025Q3\"");
        assert_eq!(axes[0].values, vec!["\"2025Q1\"", "\"2025Q3\""]);
        assert!(super::axes(&["x=0.5:0.1:0.1".to_string()]).is_err());
        assert!(super::axes(&["x=0:1:0".to_string()]).is_err());
        assert!(super::axes(&["x=0:1e9:1".to_string()]).is_err());
    }

    fn axes_of(arg: &str) -> (Vec<Axis>, Vec<String>) {
        super::axes(&[arg.to_string()]).unwrap()
    }

    #[test]
    fn the_grid_runs_the_last_axis_fastest() {
        let a = Axis {
            key: "a".into(),
            values: vec!["1".into(), "2".into()],
        };
        let b = Axis {
            key: "b".into(),
            values: vec!["x".into(), "y".into(), "z".into()],
        };
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 6);
        assert_eq!(g[1], vec!["1", "y"]);
        assert_eq!(g[3], vec!["2", "x"]);
    }
}
