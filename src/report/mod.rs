//! Reports: `report.html` (one self-contained page, charts inlined as SVG)
//! and `report.md` (for pasting into documents, charts as PNG links), and a
//! batch's `index.html` and `index.md`.
//!
//! All are pure functions from summaries and their [`Chart`]s to bytes:
//! no clock, no network, no files, so the same run gives the same report.
//! The cell texts they share (percentages, quarters, the run line, the
//! command that produced them) live here so the formats never disagree.

mod comparison;
pub mod difference;
mod evidence;
mod html;
mod markdown;
pub mod page;

use crate::charts::Chart;
use crate::model::{Assumption, format_number};
use crate::results::{MilestoneResult, Summary};

pub use comparison::BatchIndex;

/// `report.html`. `scenario_file` is the scenario's file name as the
/// "produced by" line shows it (see [`run_command`]).
pub fn html(summary: &Summary, charts: &[Chart], scenario_file: &str) -> Vec<u8> {
    html::render(summary, charts, scenario_file).into_bytes()
}

/// `report.md`; charts are referenced as `<stem>.png` next to it.
pub fn markdown(summary: &Summary, charts: &[Chart], scenario_file: &str) -> Vec<u8> {
    markdown::render(summary, charts, scenario_file).into_bytes()
}

/// A batch's `index.html`: the comparison chart inlined as SVG.
pub fn index_html(index: &BatchIndex, chart: &Chart) -> Vec<u8> {
    html::render_index(index, chart).into_bytes()
}

/// A batch's `index.md`: the comparison chart linked as `<stem>.png`.
pub fn index_markdown(index: &BatchIndex, chart: &Chart) -> Vec<u8> {
    markdown::render_index(index, chart).into_bytes()
}

/// `word` as one shell word: as it is when it holds only characters no
/// shell treats specially, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.,+/=:@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The single-process command that reproduces a run's results, derived
/// from its summary (never from the command line that ran it, so a merge of
/// shards and the run it equals say the same): the scenario file, the seed
/// and trials used, `--precision` with its cap for a precision-driven run,
/// and `--allow-large-run` where the run needs it. Threads are left out:
/// they do not change results.
pub fn run_command(summary: &Summary, scenario_file: &str) -> String {
    let mut words = vec![
        "sancsim".to_string(),
        "run".to_string(),
        shell_word(scenario_file),
        "--seed".to_string(),
        summary.seed.to_string(),
    ];
    let trials = match &summary.precision {
        Some(p) => {
            words.extend(["--precision".to_string(), p.target_half_width.to_string()]);
            p.max_trials
        }
        None => summary.trials,
    };
    words.extend(["--trials".to_string(), trials.to_string()]);
    if trials.saturating_mul(u64::from(summary.horizon_quarters)) > crate::cli::MAX_TRIAL_QUARTERS {
        words.push("--allow-large-run".to_string());
    }
    words.join(" ")
}

/// Words joined into one shell command line, each quoted where a shell
/// would treat it specially.
pub fn shell_words(words: &[String]) -> String {
    words.iter().map(|w| shell_word(w)).collect::<Vec<_>>().join(" ")
}

/// The command that reproduces a batch's results: its scenario files in
/// batch order (`files`, those that failed included), `--seed` and
/// `--trials` where every scenario that ran used the same (otherwise each
/// file's own applies), and `--reference` where one was named.
pub fn batch_command(files: &[String], summaries: &[&Summary], reference: Option<&str>) -> String {
    let mut words = vec!["sancsim".to_string(), "batch".to_string()];
    words.extend(files.iter().map(|f| shell_word(f)));
    let common = |value: fn(&Summary) -> u64| {
        let first = value(summaries.first()?);
        summaries.iter().all(|s| value(s) == first).then_some(first)
    };
    if let Some(seed) = common(|s| s.seed) {
        words.extend(["--seed".to_string(), seed.to_string()]);
    }
    if let Some(trials) = common(|s| s.trials) {
        words.extend(["--trials".to_string(), trials.to_string()]);
    }
    if let Some(r) = reference {
        words.extend(["--reference".to_string(), shell_word(r)]);
    }
    words.join(" ")
}

/// The "produced by" line without its command: `Produced by sancsim 0.1.0`.
fn produced_by(version: &str) -> String {
    format!("Produced by sancsim {version}")
}

/// The warning a precision-driven run that stopped at its cap carries, or
/// `None` for any other run.
pub fn precision_warning(summary: &Summary) -> Option<String> {
    let p = summary.precision.as_ref().filter(|p| !p.converged)?;
    Some(format!(
        "precision target not reached: the widest 95% half-width is {:.4}, above the target of {}, \
         after the cap of {} trials (raise it with --trials)",
        p.achieved_half_width, p.target_half_width, p.max_trials
    ))
}

/// Column headings of the milestone table, in order.
const MILESTONE_COLUMNS: [&str; 10] = [
    "Milestone",
    "Target FLOP",
    "Deadline",
    "Domestic only",
    "Probability by deadline",
    "95% CI, %",
    "P10 quarter",
    "P50 quarter",
    "P90 quarter",
    "Never within horizon",
];

/// Which milestone columns hold numbers (right-aligned).
const MILESTONE_NUMERIC: [bool; 10] = [false, true, false, false, true, true, false, false, false, true];

/// What the milestone table's columns mean, printed under it.
const MILESTONE_NOTE: &str = "Probability (by deadline): share of trials whose training compute reaches the \
target by the end of the deadline quarter, with its 95% Clopper–Pearson interval in percent. P10, P50, P90: the quarters \
by which 10%, 50% and 90% of the trials that reach the target within the horizon have reached it. \
Never within horizon: share of trials that have not reached it by the last simulated quarter.";

/// Said under the milestone table of a run with `sampling = "lhs"`.
const LHS_NOTE: &str = "Under Latin hypercube sampling the interval is computed as if the trials were \
independent. Within each block of 256 trials the variance of a probability is at most 256/255 of that of independent \
trials (Owen 1997), and usually far below it, so the interval is conservative up to a factor of 1.002 in width.";

/// [`MILESTONE_NOTE`], followed by [`LHS_NOTE`] when the run used LHS
/// (the assumptions list `scenario.sampling` as `lhs …`).
fn milestone_note(summary: &Summary) -> String {
    let lhs = summary
        .assumptions
        .iter()
        .any(|a| a.key == "scenario.sampling" && a.value.starts_with("lhs"));
    if lhs {
        format!("{MILESTONE_NOTE} {LHS_NOTE}")
    } else {
        MILESTONE_NOTE.to_string()
    }
}

/// How many trials never started the training run, and how many ended with
/// no domestic training compute (no run, or a run on foreign chips only),
/// printed under the milestone table.
fn training_note(summary: &Summary) -> String {
    let of = evidence::counted_text(summary);
    let note = format!(
        "Trials with no training run (it never started within the horizon): {} of {of}. \
         Trials with no domestic training compute at the horizon: {} of {of} \
         (no training run, or a run on foreign chips only).",
        summary.trials_without_training, summary.trials_without_domestic_training_compute,
    );
    weighted(summary, note)
}

/// `note`, followed with evidence by [`evidence::WEIGHTED_NOTE`].
fn weighted(summary: &Summary, note: String) -> String {
    if summary.evidence.is_some() {
        format!("{note} {}", evidence::WEIGHTED_NOTE)
    } else {
        note
    }
}

/// [`SHOCK_NOTE`], followed with evidence by [`evidence::WEIGHTED_NOTE`].
fn shock_note(summary: &Summary) -> String {
    weighted(summary, SHOCK_NOTE.to_string())
}

/// [`MISSED_NOTE`] (with [`MISSED_RUNS_NOTE`] when runs are bounded),
/// followed with evidence by [`evidence::WEIGHTED_NOTE`].
fn missed_note(summary: &Summary) -> String {
    let mut note = MISSED_NOTE.to_string();
    if max_run_quarters(summary).is_some() {
        note = format!("{note} {MISSED_RUNS_NOTE}");
    }
    let written = |prefix: &str| crate::explain::has_assumption_under(summary, prefix);
    if written("training.max_cluster_chips_from") || written("training.mfu_size_exponent") {
        note = format!("{note} {MISSED_GROWTH_NOTE}");
    }
    weighted(summary, note)
}

/// Said under the miss reasons when the cluster limit changes over time or
/// MFU falls with size.
const MISSED_GROWTH_NOTE: &str = "The full cluster counts quarter by quarter: its size is the limit in force in \
each quarter (max_cluster_chips_from), its MFU reduced for that size (mfu_size_exponent).";

/// Said under the miss reasons when runs are bounded.
const MISSED_RUNS_NOTE: &str = "With runs of at most max_run_quarters, the full cluster counts over one run: \
started too late compares the target with its compute over the longest run that fits between the start and the \
deadline, and cluster below maximum asks whether it reaches the target within one of the trial's own runs.";

/// `training.max_run_quarters` as the assumptions write it, when runs are bounded.
fn max_run_quarters(summary: &Summary) -> Option<&str> {
    summary
        .assumptions
        .iter()
        .find(|a| a.key == "training.max_run_quarters")
        .map(|a| a.value.as_str())
}

/// The heading of the training-runs table.
fn runs_heading(summary: &Summary) -> String {
    format!(
        "Training runs (at most {} quarters each)",
        max_run_quarters(summary).unwrap_or("?")
    )
}

/// Column headings of the training-runs table.
const RUN_COLUMNS: [&str; 5] = ["Run", "Trials that started it", "Domestic FLOP P10", "P50", "P90"];

/// What the training-runs table shows, printed under it.
const RUNS_NOTE: &str = "Run 1 starts with the training run; each later run starts when the one before ends, \
on the cluster of that moment. A milestone counts the compute of one run. Domestic FLOP: the run's compute on \
domestic chips when it ended, or at the horizon if it was still going, over the trials that started it.";

/// The rows of the training-runs table.
fn runs_rows(summary: &Summary) -> Vec<[String; 5]> {
    summary
        .training_runs
        .iter()
        .flatten()
        .map(|r| {
            [
                r.run.to_string(),
                format!("{} of {}", r.trials, evidence::counted_text(summary)),
                format!("{:.2e}", r.domestic_flop_p10),
                format!("{:.2e}", r.domestic_flop_p50),
                format!("{:.2e}", r.domestic_flop_p90),
            ]
        })
        .collect()
}

/// The console's line on bounded runs: how many runs the trials had and
/// the median domestic FLOP of the first run; `None` when runs are not bounded.
pub fn runs_line(summary: &Summary) -> Option<String> {
    let runs = summary.training_runs.as_ref()?;
    let l = max_run_quarters(summary).unwrap_or("?");
    let failed = summary
        .run_failure_share
        .map(|s| {
            format!(
                "; a run failed and restarted (platform risk) in {} of trials",
                percent(s)
            )
        })
        .unwrap_or_default();
    Some(format!(
        "{}{failed}",
        match runs.first() {
            None => format!("training runs: at most {l} quarters each; no trial started one"),
            Some(first) => format!(
                "training runs: at most {l} quarters each; up to {} runs per trial; run 1's domestic FLOP P50 {:.2e}",
                runs.len(),
                first.domestic_flop_p50
            ),
        }
    ))
}

/// The console's lines on suppliers (none without them): for each, its
/// median output a quarter in the first and last quarter, and how often
/// each input bound over all quarters (the mean of the quarters' shares).
pub fn supplier_lines(summary: &Summary) -> Vec<String> {
    summary
        .suppliers
        .iter()
        .map(|s| {
            let p50 = |q: &str| {
                summary
                    .quarter_row(q, &format!("supplier_output_chips[{}]", s.name))
                    .map_or_else(String::new, |r| format_number(r.p50))
            };
            let first = summary.quarters.first().map(String::as_str).unwrap_or("");
            let last = summary.quarters.last().map(String::as_str).unwrap_or("");
            let b = &s.binding_share;
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
            let mut shares = [
                ("packaging", mean(&b.packaging)),
                ("dies", mean(&b.dies)),
                ("HBM", mean(&b.hbm)),
                ("none made", mean(&b.none)),
            ];
            shares.sort_by(|a, b| b.1.total_cmp(&a.1));
            let binding: Vec<String> = shares
                .iter()
                .filter(|(_, v)| *v > 0.0)
                .map(|(name, v)| format!("{name} {}", percent(*v)))
                .collect();
            format!(
                "supplier {}: output P50 {} chips in {first}, {} in {last}; binding input, share of quarters: {}",
                s.name,
                p50(first),
                p50(last),
                binding.join(", ")
            )
        })
        .collect()
}

/// Column headings of the table of miss reasons, in order.
const MISSED_COLUMNS: [&str; 6] = [
    "Milestone",
    "Missed by deadline",
    "Never started",
    "Started too late",
    "Cluster below maximum",
    "Low MFU × goodput",
];

/// Which columns of the miss-reason table hold numbers.
const MISSED_NUMERIC: [bool; 6] = [false, true, true, true, true, true];

/// What the miss reasons mean, printed under their table.
const MISSED_NOTE: &str = "Each trial that misses a milestone is counted once, under the first of these that \
holds: never started (the training run had not started by the end of the deadline quarter); started too late \
(even a full cluster, max_cluster_chips chips of the fastest chip type that counts, from the start to the \
deadline at the median MFU × median goodput, would have done less than the target); cluster below maximum \
(that full cluster at the trial's own MFU × goodput would have reached the target); low MFU × goodput \
(otherwise: a full cluster would have made it at the median efficiency, not at the trial's own). Trials and \
their share of all trials. This is a counterfactual attribution, not a proof of cause.";

/// The cells of one row of the miss-reason table: the milestone and its
/// counts, each with its share of all trials.
fn missed_cells(summary: &Summary, m: &MilestoneResult) -> [String; 6] {
    let cell = |c: u64| format!("{c} ({})", percent(c as f64 / summary.counted_trials()));
    let [a, b, c, d] = m.missed.counts();
    [
        m.name.clone(),
        cell(m.missed.total()),
        cell(a),
        cell(b),
        cell(c),
        cell(d),
    ]
}

/// The line above the training-start table: its percentiles and the
/// trials without a run.
fn start_line(summary: &Summary) -> String {
    let ts = &summary.training_start;
    format!(
        "Start quarter over all trials (trials without a run count as later than the horizon): P10 {}, P50 {}, \
         P90 {}. The run never started within the horizon in {} of the trials ({} of {}).",
        ts.quarter_p10,
        ts.quarter_p50,
        ts.quarter_p90,
        percent(ts.never_started),
        ts.trials_never_started,
        evidence::counted_text(summary)
    )
}

/// Column headings of the training-start table.
const START_COLUMNS: [&str; 3] = ["Quarter", "Run started by its end", "95% CI, %"];

/// The rows of the training-start table, one per quarter.
fn start_rows(summary: &Summary) -> Vec<[String; 3]> {
    summary
        .training_start
        .started_by_quarter
        .iter()
        .map(|s| {
            [
                s.quarter.clone(),
                percent(s.probability),
                interval(s.ci95_low, s.ci95_high),
            ]
        })
        .collect()
}

/// Column headings of the shock table.
const SHOCK_COLUMNS: [&str; 3] = ["Shock", "Happened in", "Trials by quarter it happened in"];

/// What the shock table counts, printed under it.
const SHOCK_NOTE: &str = "A shock happens in a trial when its trigger comes true (at its quarter with its \
probability, or in the first quarter its hazard strikes); one whose duration rounds to zero quarters counts, \
though it changes nothing. Happened in: share of all trials, with the trials.";

/// Column headings of the gate table.
const GATE_COLUMNS: [&str; 2] = ["Gate", "Share of trials in which it was open, by quarter"];

/// What the gate table shows, printed under it.
const GATE_NOTE: &str = "A supply line that names gates fills orders only in quarters when all of them are \
open. A gate's state each quarter follows its dated events and, between them, its chance of closing or opening \
from one quarter to the next; a shock may hold it open or closed while active.";

/// [`GATE_NOTE`], followed with evidence by [`evidence::WEIGHTED_NOTE`].
fn gate_note(summary: &Summary) -> String {
    weighted(summary, GATE_NOTE.to_string())
}

/// The cells of one row of the gate table.
fn gate_cells(summary: &Summary, gate: &crate::results::GateResult) -> [String; 2] {
    let quarters: Vec<String> = summary
        .quarters
        .iter()
        .zip(&gate.open_share)
        .map(|(q, &share)| format!("{q} {}", percent(share)))
        .collect();
    [gate.name.clone(), quarters.join(", ")]
}

/// Column headings of the supplier table.
const SUPPLIER_COLUMNS: [&str; 5] = [
    "Supplier, quarter",
    "Output, chips: P50 (P5–P95)",
    "Die bank left, dies: P50",
    "HBM left, stacks: P50",
    "Binding input (share of trials)",
];

/// What the supplier table shows, printed under it.
const SUPPLIER_NOTE: &str = "A supplier's output each quarter is the least that its wafer starts (times good dies \
per wafer), its die bank, its HBM stock and its packaging capacity allow, for the generations it makes then \
(docs/MODEL.md section 5, Suppliers). The binding input is the one that limited the largest share of the \
quarter's planned output.";

/// [`SUPPLIER_NOTE`], followed with evidence by [`evidence::WEIGHTED_NOTE`].
fn supplier_note(summary: &Summary) -> String {
    weighted(summary, SUPPLIER_NOTE.to_string())
}

/// The rows of the supplier table: per supplier and quarter, its output,
/// what is left of its stocks, and how often each input bound.
fn supplier_rows(summary: &Summary) -> Vec<[String; 5]> {
    let find = |q: &str, metric: &str| summary.quarter_row(q, metric);
    let mut rows = Vec::new();
    for s in &summary.suppliers {
        for (i, q) in summary.quarters.iter().enumerate() {
            let output = find(q, &format!("supplier_output_chips[{}]", s.name));
            let bank = find(q, &format!("supplier_die_bank_dies[{}]", s.name));
            let hbm = find(q, &format!("supplier_hbm_stock_stacks[{}]", s.name));
            let b = &s.binding_share;
            let mut binding: Vec<(&str, f64)> = [
                ("packaging", b.packaging[i]),
                ("dies", b.dies[i]),
                ("HBM", b.hbm[i]),
                ("none made", b.none[i]),
            ]
            .into_iter()
            .filter(|&(_, share)| share > 0.0)
            .collect();
            binding.sort_by(|a, b| b.1.total_cmp(&a.1));
            rows.push([
                format!("{} {q}", s.name),
                output.map_or_else(String::new, |r| {
                    format!(
                        "{} ({}–{})",
                        format_number(r.p50),
                        format_number(r.p5),
                        format_number(r.p95)
                    )
                }),
                bank.map_or_else(String::new, |r| format_number(r.p50)),
                hbm.map_or_else(String::new, |r| format_number(r.p50)),
                binding
                    .iter()
                    .map(|(name, share)| format!("{name} {}", percent(*share)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]);
        }
    }
    rows
}

/// The cells of one row of the shock table.
fn shock_cells(summary: &Summary, shock: &crate::results::ShockResult) -> [String; 3] {
    let quarters: Vec<String> = shock
        .by_quarter
        .iter()
        .map(|q| format!("{} {}", q.quarter, q.trials))
        .collect();
    [
        shock.name.clone(),
        format!(
            "{} ({} of {})",
            percent(shock.probability),
            shock.fired,
            evidence::counted_text(summary)
        ),
        quarters.join(", "),
    ]
}

/// The source cell of an assumption: its source, `default (not in the
/// file)` for a value the file leaves to its default, or a dash.
fn assumption_source(a: &Assumption) -> &str {
    match (&a.source, a.default) {
        (Some(s), _) => s,
        (None, true) => "default (not in the file)",
        (None, false) => "—",
    }
}

/// A share in `[0, 1]` as a percentage with one decimal; shares too close to
/// 0 or 1 to show are written `<0.1%` and `>99.9%` rather than rounded to a
/// certainty the run does not support.
pub(crate) fn percent(p: f64) -> String {
    if p.is_nan() {
        return "n/a".to_string();
    }
    format!("{}%", percent_number(p))
}

/// [`percent`] without the sign: `56.5`, `0`, `<0.1`, `>99.9`, `100`.
fn percent_number(p: f64) -> String {
    let pct = p * 100.0;
    if p.is_nan() {
        "n/a".to_string()
    } else if p <= 0.0 {
        "0".to_string()
    } else if p >= 1.0 {
        "100".to_string()
    } else if pct < 0.05 {
        "<0.1".to_string()
    } else if pct >= 99.95 {
        ">99.9".to_string()
    } else {
        format!("{pct:.1}")
    }
}

/// A 95% interval in percent, in brackets: `[55.5, 57.5]`.
pub(crate) fn interval(low: f64, high: f64) -> String {
    format!("[{}, {}]", percent_number(low), percent_number(high))
}

/// A probability with its 95% interval, as every table and chart writes
/// it: `56.5% [55.5, 57.5]`.
pub(crate) fn probability(p: f64, low: f64, high: f64) -> String {
    format!("{} {}", percent(p), interval(low, high))
}

/// What a milestone is called for people: its description where the
/// scenario writes one, else its id.
pub(crate) fn milestone_title(m: &MilestoneResult) -> &str {
    m.description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or(&m.name)
}

/// Mantissa and exponent of `v` in scientific notation, three significant
/// digits: `3.3e24` gives `("3.30", "24")`.
fn scientific(v: f64) -> (String, String) {
    let s = format!("{v:.2e}");
    match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.to_string()),
        None => (s, String::new()),
    }
}

/// A quarter percentile, or `never` when no trial reached the milestone.
fn quarter(q: &Option<String>) -> String {
    q.clone().unwrap_or_else(|| "never".to_string())
}

/// The milestone table's cells that are plain text (all but the target),
/// in column order, with the target left empty for the format to fill in.
fn milestone_cells(m: &MilestoneResult) -> [String; 10] {
    [
        m.name.clone(),
        String::new(),
        m.deadline.clone(),
        if m.domestic_only { "yes" } else { "no" }.to_string(),
        percent(m.probability),
        interval(m.ci95_low, m.ci95_high),
        quarter(&m.quarter_p10),
        quarter(&m.quarter_p50),
        quarter(&m.quarter_p90),
        percent(m.never_within_horizon),
    ]
}

/// The parts of the run line: trials, seed, version, quarters simulated.
fn run_facts(summary: &Summary) -> Vec<String> {
    let last = summary.quarters.last().unwrap_or(&summary.start);
    vec![
        format!("{} trials", summary.trials),
        format!("seed {}", summary.seed),
        format!("sancsim {}", summary.sancsim_version),
        format!("{} to {} ({} quarters)", summary.start, last, summary.horizon_quarters),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::trials::run_trials;
    use evidence::quantiles as quantile_cell;

    const SCENARIO: &str = r#"[scenario]
name = "NAME"
description = "DESC"
start = "2024Q1"
horizon_quarters = 8
trials = 200
seed = 7

[chips.a]
peak_flops = { value = 1e14, source = "SOURCE" }
domestic = true

[supply.line]
chip = "a"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 1000 }]
fill_rate = { dist = "beta", alpha = 2, beta = 3 }
lead_time_quarters = 0.5

[training]
mfu = 0.4

[milestones.small]
target_flop = 1e20
deadline = "2025Q2"

[milestones.huge]
target_flop = 3.3e30
deadline = "2025Q2"
"#;

    fn summary(name: &str, description: &str, source: &str) -> Summary {
        let text = SCENARIO
            .replace("NAME", name)
            .replace("DESC", description)
            .replace("SOURCE", source);
        let model = Model::from_text(&text, "x.toml").unwrap();
        let agg = run_trials(&model, 7, 0..200, Some(1)).unwrap();
        Summary::new(&model, &agg, 7, "hash")
    }

    /// Two observations of the scenario's run: a hard one that about a
    /// third of the trials pass, and a soft one.
    const OBSERVATIONS: &str = r#"
[[observe]]
name = "few_chips"
quantity = "delivered_chips"
line = "line"
by = "2024Q2"
below = 600
description = "Fewer | chips <than> ordered"
source = "A *source*, 2024"

[[observe]]
name = "some_compute"
quantity = "training_flop_domestic"
by = "2025Q2"
below = 1e21
confidence = 0.7
"#;

    /// The summary of [`SCENARIO`] conditioned on [`OBSERVATIONS`].
    fn evidence_summary() -> Summary {
        let text = format!("{}{OBSERVATIONS}", SCENARIO)
            .replace("NAME", "observed")
            .replace("DESC", "d")
            .replace("SOURCE", "s");
        let model = Model::from_text(&text, "x.toml").unwrap();
        let agg = run_trials(&model, 7, 0..200, Some(1)).unwrap();
        let s = Summary::new(&model, &agg, 7, "hash");
        assert!(s.evidence.is_some());
        s
    }

    /// The run's charts and, after them, the two evidence charts.
    fn evidence_charts() -> Vec<Chart> {
        let mut all = charts();
        all.push(chart("evidence_milestones", "Prior and posterior"));
        all.push(chart("evidence_inputs", "Inputs <moved>"));
        all
    }

    /// The text of `h` from `from` up to (not including) `to`.
    fn between<'a>(h: &'a str, from: &str, to: &str) -> &'a str {
        let start = h.find(from).unwrap_or_else(|| panic!("no {from}"));
        let end = start + h[start..].find(to).unwrap_or_else(|| panic!("no {to} after {from}"));
        &h[start..end]
    }

    #[test]
    fn html_with_evidence_has_its_section_after_the_milestones() {
        let s = evidence_summary();
        let ev = s.evidence.as_ref().unwrap();
        let h = String::from_utf8(html(&s, &evidence_charts(), "x.toml")).unwrap();
        // The milestone table says it is the posterior, and the section
        // sits between it and the miss reasons.
        let milestones = between(&h, "<h2>Milestones</h2>", "</section>");
        assert!(
            milestones.contains(
                "<p class=\"posterior\" id=\"posterior-note\">Probabilities are given the evidence (posterior)"
            ),
            "{milestones}"
        );
        let at = |needle: &str| h.find(needle).unwrap_or_else(|| panic!("no {needle}"));
        assert!(at("<table id=\"milestones\">") < at("<section id=\"evidence\">"));
        assert!(at("<section id=\"evidence\">") < at("<h2>Why milestones are missed</h2>"));
        let section = between(&h, "<section id=\"evidence\">", "<h2>Why milestones are missed</h2>");
        assert!(section.contains("<h2>Evidence</h2>"));
        let sentence = format!(
            "<p id=\"evidence-summary\">2 observations condition the 200 trials: {} ({}) pass the hard one; \
             the effective sample size is ",
            ev.accepted_trials,
            percent(ev.acceptance_rate)
        );
        assert!(section.contains(&sentence), "{section}");
        assert!(section.contains(" (Kish).</p>"));

        // Observations: name with its description, escaped; what was
        // observed; kind; how often the prior agreed; source.
        let observations = between(section, "<table id=\"observations\">", "</table>");
        assert!(observations.contains(
            "<th scope=\"col\" class=\"num\">Prior agreement (hard: share of trials; soft: mean likelihood)</th>"
        ));
        assert!(
            observations.contains(&format!(
                "<tr><td>few_chips: Fewer | chips &lt;than&gt; ordered</td><td>{}</td><td>hard</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>A *source*, 2024</td></tr>",
                escape_html(&ev.observations[0].observed),
                percent(ev.observations[0].prior_agreement),
                quantile_cell(ev.observations[0].prior_quantiles),
                quantile_cell(ev.observations[0].posterior_quantiles)
            )),
            "{observations}"
        );
        assert!(observations.contains("<td>some_compute</td>"));
        assert!(observations.contains("<td>soft</td>") && observations.contains("<td>—</td>"));

        // Prior and posterior per milestone, with the change.
        let change = between(section, "<table id=\"prior-posterior\">", "</table>");
        for m in &s.milestones {
            let (a, b) = (m.prior.unwrap(), m.posterior.unwrap());
            let row = format!(
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                m.name,
                probability(a.probability, a.ci95_low, a.ci95_high),
                probability(b.probability, b.ci95_low, b.ci95_high),
                comparison::points(b.probability - a.probability)
            );
            assert!(change.contains(&row), "{row}\n{change}");
        }

        // The inputs that moved, with two decimals.
        let inputs = between(section, "<table id=\"inputs-moved\">", "</table>");
        let moved = &ev.inputs[0];
        assert!(moved.moved > 0.0);
        assert!(inputs.contains(&format!("<td>{}</td>", moved.key)), "{inputs}");
        assert!(inputs.contains(&format!("<td class=\"num\">{:.2}</td></tr>", moved.moved)));
        assert!(inputs.contains(&format!(
            "<td class=\"num\">{}</td>",
            evidence::value(moved.posterior[1])
        )));

        // The evidence charts are figures 1 and 2 of the section; the
        // others follow in the Charts section from figure 3.
        assert_eq!(section.matches("<figure class=\"chart\"").count(), 2);
        assert!(section.contains("<figure class=\"chart\" id=\"chart-evidence_milestones\">\n<svg"));
        assert!(section.contains("<span class=\"figure-number\">Figure 1.</span> Prior and posterior"));
        assert!(section.contains("<span class=\"figure-number\">Figure 2.</span> Inputs &lt;moved&gt;"));
        let others = between(&h, "<h2>Charts</h2>", "</section>");
        assert_eq!(others.matches("<figure class=\"chart\"").count(), 4);
        assert!(!others.contains("evidence_"));
        assert!(others.contains("<span class=\"figure-number\">Figure 3.</span> Deliveries"));
        assert!(others.contains("<span class=\"figure-number\">Figure 6.</span> Allocation"));
        assert!(h.contains("#evidence h3"), "the section's rules are in the stylesheet");
    }

    #[test]
    fn counts_given_the_evidence_are_shares_of_the_posterior_weight() {
        let s = evidence_summary();
        let effective = s.evidence.as_ref().unwrap().effective_sample_size;
        assert!(effective < s.trials as f64);
        assert_eq!(s.counted_trials(), effective);
        for m in &s.milestones {
            // Missed by the deadline is the complement of the posterior,
            // in effective trials (each count rounded).
            let cells = missed_cells(&s, m);
            let shown = percent(m.missed.total() as f64 / effective);
            assert!(cells[1].ends_with(&format!("({shown})")), "{cells:?}");
            let complement = 1.0 - m.probability;
            assert!(
                (m.missed.total() as f64 / effective - complement).abs() < 4.0 / effective,
                "{cells:?}"
            );
        }
        let of = format!("of {effective:.0} effective");
        assert!(training_note(&s).contains(&of), "{}", training_note(&s));
        assert!(training_note(&s).ends_with(evidence::WEIGHTED_NOTE));
        assert!(start_line(&s).contains(&of));
        assert!(missed_note(&s).ends_with(evidence::WEIGHTED_NOTE));
        // Without evidence the texts are those of a plain run.
        let plain = summary("plain", "d", "s");
        assert_eq!(missed_note(&plain), MISSED_NOTE);
        assert_eq!(shock_note(&plain), SHOCK_NOTE);
        assert!(
            training_note(&plain).contains(": 0 of 200. "),
            "{}",
            training_note(&plain)
        );
    }

    #[test]
    fn markdown_with_evidence_has_its_section_and_tables() {
        let s = evidence_summary();
        let ev = s.evidence.as_ref().unwrap();
        let m = String::from_utf8(markdown(&s, &evidence_charts(), "x.toml")).unwrap();
        assert!(m.contains(
            "## Milestones\n\n**Probabilities are given the evidence (posterior): each trial counts by how well it \
             agrees with the observations. The prior, over all trials, is in the Evidence section.**\n\n| Milestone |"
        ));
        let section = between(&m, "## Evidence\n", "## Why milestones are missed");
        assert!(
            section.contains("\n2 observations condition the 200 trials: "),
            "{section}"
        );
        assert!(section.contains(
            "| Observation | What was observed | Kind | Prior agreement (hard: share of trials; soft: mean likelihood) \
             | Its value, prior P10 / P50 / P90 | Its value given the evidence, P10 / P50 / P90 \
             | Source |\n| --- | --- | --- | ---: | ---: | ---: | --- |\n"
        ));
        assert!(
            section.contains(&format!(
                "| few_chips: Fewer \\| chips &lt;than> ordered | {} | hard | {} | {} | {} | A \\*source\\*, 2024 |",
                ev.observations[0].observed,
                percent(ev.observations[0].prior_agreement),
                quantile_cell(ev.observations[0].prior_quantiles),
                quantile_cell(ev.observations[0].posterior_quantiles)
            )),
            "{section}"
        );
        assert!(section.contains("### Prior and posterior\n\n| Milestone | Prior (all trials), 95% CI |"));
        assert!(section.contains("| huge | 0% [0, 1.8] | 0% [0, "), "{section}");
        let key = &ev.inputs[0].key;
        assert!(section.contains(&format!("| `{key}` | ")), "{section}");
        assert!(section.contains("![Prior and posterior](evidence_milestones.png)\n"));
        assert!(section.contains("![Inputs &lt;moved>](evidence_inputs.png)\n"));
        let charts = between(&m, "## Charts\n", "## Key assumptions");
        assert!(!charts.contains("evidence_"), "{charts}");
        assert_eq!(charts.matches("![").count(), 4);
        // Every table row of the section keeps its column count.
        for line in section.lines().filter(|l| l.starts_with('|')) {
            let cells = line.replace("\\|", "").matches('|').count() - 1;
            assert!([7, 4, 8].contains(&cells), "{cells}: {line}");
        }
    }

    #[test]
    fn a_report_without_evidence_has_no_evidence_section() {
        let s = summary("plain", "A plain scenario.", "Somewhere, 2024");
        let h = html_text(&s);
        let m = md_text(&s);
        for text in ["Evidence", "posterior", "weighted"] {
            assert!(!h.contains(text), "{text}");
            assert!(!m.contains(text), "{text}");
        }
        assert!(!h.contains("#evidence"));
        // Charts with evidence stems stay in the Charts section when the
        // summary carries no evidence (render_all never draws them then).
        let h = String::from_utf8(html(&s, &evidence_charts(), "x.toml")).unwrap();
        let charts = between(&h, "<h2>Charts</h2>", "</section>");
        assert_eq!(charts.matches("<figure class=\"chart\"").count(), 6);
        assert!(charts.contains("<span class=\"figure-number\">Figure 1.</span> Deliveries"));
    }

    /// Text as the HTML report escapes it.
    fn escape_html(s: &str) -> String {
        html::escape(s)
    }

    fn chart(stem: &'static str, title: &str) -> Chart {
        Chart {
            stem,
            title: title.into(),
            svg: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
                  width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>\n"
                .into(),
            png: vec![],
        }
    }

    fn charts() -> Vec<Chart> {
        vec![
            chart("deliveries", "Deliveries <fan> & more"),
            chart("milestones", "Milestone curves"),
            chart("training", "Training compute"),
            chart("allocation", "Allocation"),
        ]
    }

    fn html_text(s: &Summary) -> String {
        String::from_utf8(html(s, &charts(), "x.toml")).unwrap()
    }

    fn md_text(s: &Summary) -> String {
        String::from_utf8(markdown(s, &charts(), "x.toml")).unwrap()
    }

    #[test]
    fn html_has_tables_figures_and_run_line() {
        let s = summary("plain", "A plain scenario.", "Somewhere, 2024");
        let h = html_text(&s);
        assert!(h.starts_with("<!DOCTYPE html>\n"));
        assert!(h.contains("<h1>plain</h1>"), "{h}");
        assert!(h.contains("A plain scenario."));
        assert!(h.contains("200 trials"));
        assert!(h.contains("seed 7"));
        assert!(h.contains(&format!("sancsim {}", env!("CARGO_PKG_VERSION"))));
        assert!(h.contains("2024Q1 to 2025Q4"));
        assert!(h.contains("<table id=\"milestones\">"));
        assert!(h.contains("<table id=\"assumptions\">"));
        for name in ["small", "huge"] {
            assert!(h.contains(&format!("<td>{name}</td>")), "{name}");
        }
        assert!(h.contains("3.30 × 10<sup>30</sup>"), "{h}");
        assert!(h.contains("2025Q2"));
        // The huge milestone is never reached.
        assert!(h.contains("<td>never</td>"));
        assert!(h.contains("<td>chips.<wbr>a.<wbr>peak_flops</td>"), "{h}");
        assert!(h.contains("Somewhere, 2024"));
        for stem in ["deliveries", "milestones", "training", "allocation"] {
            let tag = format!("<figure class=\"chart\" id=\"chart-{stem}\">");
            let at = h.find(&tag).unwrap_or_else(|| panic!("{tag}"));
            let figure = &h[at..at + h[at..].find("</figure>").unwrap()];
            assert!(figure.contains("<svg xmlns="), "{figure}");
            assert!(figure.contains("<figcaption>"), "{figure}");
        }
        assert_eq!(h.matches("<figure class=\"chart\"").count(), 4);
        assert!(h.contains(
            "<figcaption><span class=\"figure-number\">Figure 1.</span> Deliveries &lt;fan&gt; &amp; more</figcaption>"
        ));
        assert!(!h.contains("<?xml"), "prologue must be stripped");
    }

    #[test]
    fn html_escapes_user_text() {
        let s = summary(
            "a<b & \\\"c\\\"",
            "<script>alert('x')</script> & more",
            "<i>src</i> \\\"q\\\"",
        );
        let h = html_text(&s);
        assert!(h.contains("<h1>a&lt;b &amp; &quot;c&quot;</h1>"), "{h}");
        assert!(h.contains("<title>a&lt;b &amp; &quot;c&quot; — sancsim report</title>"));
        assert!(h.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert!(h.contains("&lt;i&gt;src&lt;/i&gt; &quot;q&quot;"));
        assert!(!h.contains("<script"));
        assert!(!h.contains("<i>"));
        assert!(!h.contains("a<b"));
    }

    #[test]
    fn html_is_self_contained() {
        let s = summary("plain", "A plain scenario.", "see https://example.org/x");
        let h = html_text(&s);
        // Links in user text are text, not references; only the SVG
        // namespace may name a URL in markup.
        let stripped = h
            .replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
            .replace("see https://example.org/x", "");
        assert!(!stripped.contains("http://"), "{stripped}");
        assert!(!stripped.contains("https://"), "{stripped}");
        for tag in ["<link", "<script", "<img", "<iframe", "@import", "url("] {
            assert!(!h.contains(tag), "{tag}");
        }
    }

    #[test]
    fn html_is_deterministic() {
        let s = summary("plain", "A plain scenario.", "src");
        assert_eq!(html(&s, &charts(), "x.toml"), html(&s, &charts(), "x.toml"));
        assert_eq!(markdown(&s, &charts(), "x.toml"), markdown(&s, &charts(), "x.toml"));
    }

    #[test]
    fn html_adds_a_view_box_so_charts_scale() {
        let s = summary("plain", "d", "s");
        let h = html_text(&s);
        assert!(h.contains("viewBox=\"0 0 10 10\""), "{h}");
        let mut with_box = chart("deliveries", "t");
        with_box.svg = "<svg width=\"10\" height=\"10\" viewBox=\"0 0 5 5\"></svg>".into();
        let h = String::from_utf8(html(&s, &[with_box], "x.toml")).unwrap();
        assert!(
            h.contains("<svg width=\"10\" height=\"10\" viewBox=\"0 0 5 5\"></svg>"),
            "{h}"
        );
    }

    #[test]
    fn markdown_has_rows_and_image_links() {
        let s = summary("plain", "A plain scenario.", "Somewhere, 2024");
        let m = md_text(&s);
        assert!(m.starts_with("# plain\n\nA plain scenario.\n\n"), "{m}");
        assert!(m.contains("200 trials"));
        assert!(m.contains("| Milestone | Target FLOP |"), "{m}");
        assert!(m.contains("| small | 1.00e20 | 2025Q2 | yes | 100% |"), "{m}");
        assert!(
            m.contains("| huge | 3.30e30 | 2025Q2 | yes | 0% | [0, 1.8] | never | never | never | 100% |"),
            "{m}"
        );
        assert!(m.contains("| Key | Value | Source |"));
        assert!(m.contains("| `chips.a.peak_flops` | 1e14 | Somewhere, 2024 |"), "{m}");
        for (stem, title) in [
            ("deliveries", "Deliveries &lt;fan> & more"),
            ("milestones", "Milestone curves"),
            ("training", "Training compute"),
            ("allocation", "Allocation"),
        ] {
            assert!(m.contains(&format!("![{title}]({stem}.png)")), "{stem}: {m}");
        }
        assert!(m.ends_with('\n') && !m.ends_with("\n\n"));
    }

    #[test]
    fn markdown_escapes_pipes_in_cells() {
        let s = summary("a|b", "# not a heading", "x | y, ~300k *each*");
        let m = md_text(&s);
        assert!(m.starts_with("# a\\|b\n\n\\# not a heading\n"), "{m}");
        assert!(m.contains("| x \\| y, \\~300k \\*each\\* |"), "{m}");
        // Every table row keeps its column count.
        for line in m.lines().filter(|l| l.starts_with('|')) {
            let cells = line.replace("\\|", "").matches('|').count();
            assert!(cells == 11 || cells == 7 || cells == 4, "{line}");
        }
    }

    #[test]
    fn percentages_do_not_round_to_certainty() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0001), "<0.1%");
        assert_eq!(percent(0.9999), ">99.9%");
        assert_eq!(percent(0.1234), "12.3%");
        assert_eq!(percent(f64::NAN), "n/a");
        assert_eq!(probability(0.5652, 0.5553, 0.5751), "56.5% [55.5, 57.5]");
        assert_eq!(probability(0.0, 0.0, 0.018), "0% [0, 1.8]");
        assert_eq!(probability(1.0, 0.99998, 1.0), "100% [>99.9, 100]");
        assert_eq!(scientific(3.3e24), ("3.30".to_string(), "24".to_string()));
    }

    fn version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    #[test]
    fn the_command_is_derived_from_the_summary() {
        let mut s = summary("plain", "d", "s");
        assert_eq!(
            run_command(&s, "plain.toml"),
            "sancsim run plain.toml --seed 7 --trials 200"
        );
        assert_eq!(
            run_command(&s, "my plan's.toml"),
            "sancsim run 'my plan'\\''s.toml' --seed 7 --trials 200"
        );
        s.precision = Some(crate::results::PrecisionOutcome {
            target_half_width: 0.005,
            achieved_half_width: 0.004,
            converged: true,
            batch_trials: 10_000,
            max_trials: 10_000_000,
        });
        assert_eq!(
            run_command(&s, "plain.toml"),
            "sancsim run plain.toml --seed 7 --precision 0.005 --trials 10000000"
        );
        // 8 quarters × 2·10^8 trials is above the limit.
        s.precision = None;
        s.trials = 200_000_000;
        assert_eq!(
            run_command(&s, "plain.toml"),
            "sancsim run plain.toml --seed 7 --trials 200000000 --allow-large-run"
        );
    }

    #[test]
    fn reports_say_which_command_and_version_produced_them() {
        let s = summary("plain", "d", "s");
        let line = format!("Produced by sancsim {}: ", version());
        let h = String::from_utf8(html(&s, &charts(), "plain.toml")).unwrap();
        assert!(
            h.contains(&format!(
                "<p class=\"produced\">{line}<code>sancsim run plain.toml --seed 7 --trials 200</code></p>"
            )),
            "{h}"
        );
        let m = String::from_utf8(markdown(&s, &charts(), "plain.toml")).unwrap();
        assert!(
            m.contains(&format!("\n{line}`sancsim run plain.toml --seed 7 --trials 200`\n")),
            "{m}"
        );
        // A command holding backticks still makes one code span.
        assert_eq!(markdown::code_span_for_tests("a`b"), "`` a`b ``");
    }

    #[test]
    fn a_precision_run_that_stopped_at_its_cap_warns() {
        let mut s = summary("plain", "d", "s");
        let outcome = |converged| crate::results::PrecisionOutcome {
            target_half_width: 0.001,
            achieved_half_width: 0.00693,
            converged,
            batch_trials: 10_000,
            max_trials: 20_000,
        };
        s.precision = Some(outcome(true));
        assert_eq!(precision_warning(&s), None);
        assert!(!html_text(&s).contains("Warning"));
        assert!(!md_text(&s).contains("Warning"));
        s.precision = Some(outcome(false));
        let w = precision_warning(&s).unwrap();
        assert_eq!(
            w,
            "precision target not reached: the widest 95% half-width is 0.0069, above the target of 0.001, \
             after the cap of 20000 trials (raise it with --trials)"
        );
        let h = html_text(&s);
        assert!(
            h.contains(&format!(
                "<p class=\"warning\" id=\"precision-warning\" role=\"alert\"><strong>Warning:</strong> {w}.</p>"
            )),
            "{h}"
        );
        assert!(
            md_text(&s).contains(&format!("\n**Warning:** {w}.\n")),
            "{}",
            md_text(&s)
        );
    }

    #[test]
    fn the_batch_command_names_shared_settings_only() {
        let a = summary("a", "d", "s");
        let mut b = summary("b", "d", "s");
        let files = ["a.toml".to_string(), "b c.toml".to_string()];
        assert_eq!(
            batch_command(&files, &[&a, &b], None),
            "sancsim batch a.toml 'b c.toml' --seed 7 --trials 200"
        );
        b.seed = 8;
        assert_eq!(
            batch_command(&files, &[&a, &b], Some("b c")),
            "sancsim batch a.toml 'b c.toml' --trials 200 --reference 'b c'"
        );
        assert_eq!(batch_command(&files, &[], None), "sancsim batch a.toml 'b c.toml'");
    }

    /// Summaries of three scenarios: the base (which reaches `small` in
    /// every trial), one with nine times the orders whose `small` has a far
    /// larger target (reached in about three trials of four), and one
    /// without the `huge` milestone.
    fn batch_summaries() -> Vec<(String, Summary)> {
        let base = summary("base", "d", "s");
        let text = SCENARIO
            .replace("NAME", "more <b>")
            .replace("DESC", "d")
            .replace("SOURCE", "s")
            .replace("chips = 1000", "chips = 9000")
            .replace("target_flop = 1e20", "target_flop = 1e25");
        let model = Model::from_text(&text, "x.toml").unwrap();
        let more = Summary::new(&model, &run_trials(&model, 7, 0..200, Some(1)).unwrap(), 7, "h");
        let text = SCENARIO
            .replace("NAME", "other")
            .replace("DESC", "d")
            .replace("SOURCE", "s")
            .replace("[milestones.huge]\ntarget_flop = 3.3e30\ndeadline = \"2025Q2\"\n", "");
        let model = Model::from_text(&text, "x.toml").unwrap();
        let other = Summary::new(&model, &run_trials(&model, 7, 0..200, Some(1)).unwrap(), 7, "h");
        vec![
            ("base".to_string(), base),
            ("more b".to_string(), more),
            ("other".to_string(), other),
        ]
    }

    fn comparison_chart() -> Chart {
        chart("comparison", "Comparison <chart>")
    }

    #[test]
    fn index_html_compares_with_the_reference() {
        let done = batch_summaries();
        let failed = vec![(
            "bad.toml".to_string(),
            "bad.toml:1:1: x: <broken>\nsecond line".to_string(),
        )];
        let index = BatchIndex {
            done: &done,
            reference: Some(1),
            reference_named: Some("more b"),
            failed: &failed,
            command: "sancsim batch base.toml 'more b.toml' other.toml bad.toml --reference 'more b'",
        };
        let h = String::from_utf8(index_html(&index, &comparison_chart())).unwrap();
        assert!(h.starts_with("<!DOCTYPE html>\n"));
        assert!(h.contains("Content-Security-Policy"));
        assert!(h.contains(&format!(
            "Produced by sancsim {}: <code>sancsim batch base.toml &#39;more b.toml&#39; other.toml bad.toml \
             --reference &#39;more b&#39;</code>",
            version()
        )));
        // The reference comes first, named and linked; the others follow in
        // batch order, each linked to its report.
        let head = &h[h.find("<table id=\"comparison\">").unwrap()..h.find("</thead>").unwrap()];
        let links: Vec<&str> = head
            .split("<a href=\"")
            .skip(1)
            .map(|l| &l[..l.find('"').unwrap()])
            .collect();
        assert_eq!(links, ["more%20b/report.html", "base/report.html", "other/report.html"]);
        assert!(head.contains("<th scope=\"col\" class=\"reference\"><span class=\"role\">reference</span>"));
        assert!(head.contains(">more &lt;b&gt;</a>"), "{head}");
        // The folder is named where it is not the scenario's name.
        assert!(
            head.contains("<span class=\"facts\">more b · 200 trials, seed 7</span>"),
            "{head}"
        );
        assert!(
            head.contains(">base</a><span class=\"facts\">200 trials, seed 7</span>"),
            "{head}"
        );
        assert!(h.contains("Reference: more &lt;b&gt; (more b), named with --reference"));
        // small: base reaches it in every trial, `more b` (a far larger
        // target) in fewer; the difference is positive and clear of 0.
        let more_small = &done[1].1.milestones[0];
        assert!(more_small.probability < 1.0, "{more_small:?}");
        let d = difference::newcombe(200, 200, more_small.reached_by_deadline, 200);
        assert!(d.excludes_zero());
        let row = &h[h.find("<tr><th scope=\"row\">small").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        let cells: Vec<&str> = row.split("<td").skip(1).collect();
        assert_eq!(cells.len(), 3);
        assert!(
            !cells[0].contains("diff"),
            "the reference has no difference: {}",
            cells[0]
        );
        assert!(cells[0].contains(&percent(more_small.probability)));
        assert!(cells[1].contains("<span class=\"prob\">100%</span>"), "{}", cells[1]);
        assert!(cells[1].contains("<span class=\"diff clear\">+"), "{}", cells[1]);
        assert!(cells[1].contains("here: 1.00e20 FLOP by 2025Q2"), "{}", cells[1]);
        assert!(
            row.contains("<span class=\"definition\">1.00e25 FLOP by 2025Q2</span>"),
            "{row}"
        );
        // huge: nobody reaches it; no difference is clear; `other` lacks it.
        let row = &h[h.find("<tr><th scope=\"row\">huge").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("<span class=\"diff\">0.0 pp</span>"), "{row}");
        assert!(row.ends_with("<td class=\"num\">—</td>"), "{row}");
        // The chart is inline, the failures listed, the method stated.
        assert!(h.contains("<figure class=\"chart\" id=\"chart-comparison\">\n<svg"));
        assert!(h.contains("Comparison &lt;chart&gt;"));
        assert!(h.contains("<li><code>bad.toml</code><pre>bad.toml:1:1: x: &lt;broken&gt;\nsecond line</pre></li>"));
        assert!(h.contains("Newcombe"));
        assert!(h.contains("1 scenario failed"));
        for tag in ["<script", "<link", "<img", "<iframe", "url("] {
            assert!(!h.contains(tag), "{tag}");
        }
    }

    #[test]
    fn index_markdown_has_the_same_cells() {
        let done = batch_summaries();
        let failed = vec![("bad.toml".to_string(), "first | line\nsecond line".to_string())];
        let index = BatchIndex {
            done: &done,
            reference: Some(0),
            reference_named: None,
            failed: &failed,
            command: "sancsim batch base.toml",
        };
        let m = String::from_utf8(index_markdown(&index, &comparison_chart())).unwrap();
        assert!(m.starts_with("# Scenario comparison\n\n"), "{m}");
        assert!(m.contains("Reference: base, the first scenario of the batch"), "{m}");
        assert!(m.contains(&format!("Produced by sancsim {}: `sancsim batch base.toml`", version())));
        assert!(
            m.contains("| Milestone | [base](base/report.html) (reference)<br>200 trials, seed 7 | [more &lt;b>](more%20b/report.html)<br>"),
            "{m}"
        );
        let small = m.lines().find(|l| l.starts_with("| small")).unwrap();
        assert!(
            small.starts_with("| small<br>1.00e20 FLOP by 2025Q2 | 100% ("),
            "{small}"
        );
        assert!(small.contains("<br>**−"), "a clear drop, in bold: {small}");
        let huge = m.lines().find(|l| l.starts_with("| huge")).unwrap();
        assert!(huge.contains("<br>0.0 pp (") && huge.ends_with("| — |"), "{huge}");
        for line in m.lines().filter(|l| l.starts_with('|')) {
            assert_eq!(line.replace("\\|", "").matches('|').count(), 5, "{line}");
        }
        assert!(m.contains("![Comparison &lt;chart>](comparison.png)"));
        assert!(
            m.contains("## Scenarios that failed\n\n- `bad.toml`\n  - first \\| line\n  - second line\n"),
            "{m}"
        );
        assert!(m.ends_with('\n') && !m.ends_with("\n\n"));
    }

    #[test]
    fn index_without_its_reference_shows_no_differences() {
        let done = batch_summaries();
        let index = BatchIndex {
            done: &done,
            reference: None,
            reference_named: Some("gone"),
            failed: &[],
            command: "c",
        };
        let h = String::from_utf8(index_html(&index, &comparison_chart())).unwrap();
        assert!(h.contains("The reference scenario gone failed: no differences are shown."));
        assert!(!h.contains("class=\"diff"), "{h}");
        assert!(!h.contains("class=\"reference\""));
        let m = String::from_utf8(index_markdown(&index, &comparison_chart())).unwrap();
        assert!(!m.contains(" pp"), "{m}");
    }
}
