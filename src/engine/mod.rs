//! The discrete-event engine: one trial of one scenario.
//!
//! [`simulate_trial`] takes a validated [`Model`], a trial index and a
//! reusable [`Workspace`], runs the trial's events in time order and leaves
//! its outcome in the workspace. It does no I/O and reads no clock. The rules
//! are written out in docs/MODEL.md.

pub mod event;
pub mod policy;
pub mod queue;
pub mod supplier;

use crate::binomial::binomial;

use crate::copula::{LHS_BLOCK, lhs_permutation, normal_cdf_open, normal_quantile};
use crate::dist::unit_open;
use crate::model::{Demand, Fill, Model, Per, Policy, Sampling, Trigger, UncertainId};
use crate::quarter::{SECONDS_PER_DAY, quarters_to_seconds};
use crate::rng::{TrialStreams, WHOLE_TRIAL};
use event::Event;
use policy::{AllocationInput, split};
use queue::EventQueue;

/// The per-quarter quantities a trial records, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Domestic chips delivered since the start, cumulative.
    DeliveredDomestic,
    /// Chips serving inference.
    InferenceChips,
    /// Chips allocated to the training run (including any beyond its maximum size).
    TrainingChips,
    /// Inference demand not met, in unit chips.
    InferenceShortfall,
    /// Training compute since the start, all chips, FLOP.
    TrainingFlop,
    /// Training compute since the start from domestic chips, FLOP.
    TrainingFlopDomestic,
    /// Peak throughput of the domestic chips delivered since the start,
    /// cumulative, FLOP/s (chips of each type × its `peak_flops`).
    DeliveredDomesticPeakFlops,
}

impl Metric {
    /// All metrics, in output order.
    pub const ALL: [Metric; 7] = [
        Metric::DeliveredDomestic,
        Metric::InferenceChips,
        Metric::TrainingChips,
        Metric::InferenceShortfall,
        Metric::TrainingFlop,
        Metric::TrainingFlopDomestic,
        Metric::DeliveredDomesticPeakFlops,
    ];
    /// Number of metrics.
    pub const COUNT: usize = 7;

    /// Column name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Metric::DeliveredDomestic => "delivered_domestic_chips_cumulative",
            Metric::InferenceChips => "inference_chips",
            Metric::TrainingChips => "training_chips",
            Metric::InferenceShortfall => "inference_shortfall_chips",
            Metric::TrainingFlop => "training_flop_cumulative",
            Metric::TrainingFlopDomestic => "training_flop_domestic_cumulative",
            Metric::DeliveredDomesticPeakFlops => "delivered_domestic_peak_flops_cumulative",
        }
    }
}

/// The per-quarter quantities a trial records for each chip type, in
/// output order: whole chips, so the counts of all types add up to the
/// totals of [`Metric`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipMetric {
    /// Chips of this type delivered since the start, cumulative (domestic or not).
    Delivered,
    /// Chips of this type serving inference.
    Inference,
    /// Chips of this type allocated to the training run.
    Training,
}

impl ChipMetric {
    /// All per-chip-type metrics, in output order.
    pub const ALL: [ChipMetric; 3] = [ChipMetric::Delivered, ChipMetric::Inference, ChipMetric::Training];
    /// Number of per-chip-type metrics.
    pub const COUNT: usize = 3;

    /// Metric name in outputs (the chip type is given beside it).
    pub fn name(self) -> &'static str {
        match self {
            ChipMetric::Delivered => "delivered_chips_cumulative",
            ChipMetric::Inference => "inference_chips",
            ChipMetric::Training => "training_chips",
        }
    }
}

/// The per-quarter quantities of inference demand stated in tokens
/// (`[inference]`'s token form), in output order; recorded only for a
/// scenario in that form, so that files in the chip form keep their outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandMetric {
    /// Inference demand `D` after `QuarterStart` step 1, in unit chips.
    DemandChips,
    /// Tokens served per day.
    TokensPerDay,
    /// FLOP to serve one token.
    FlopPerToken,
}

impl DemandMetric {
    /// All demand metrics, in output order.
    pub const ALL: [DemandMetric; 3] = [
        DemandMetric::DemandChips,
        DemandMetric::TokensPerDay,
        DemandMetric::FlopPerToken,
    ];
    /// Number of demand metrics.
    pub const COUNT: usize = 3;

    /// Metric name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            DemandMetric::DemandChips => "inference_demand_chips",
            DemandMetric::TokensPerDay => "inference_tokens_per_day",
            DemandMetric::FlopPerToken => "inference_flop_per_token",
        }
    }
}

/// What one trial produced.
#[derive(Debug, Clone, Default)]
pub struct TrialOutcome {
    /// `metrics[q][m]`: metric `m` at the end of quarter `q`.
    pub metrics: Vec<[f64; Metric::COUNT]>,
    /// `chip_metrics[(q * chip_types + c) * ChipMetric::COUNT + k]`: metric
    /// `k` of chip type `c` at the end of quarter `q` (whole chips, exact as
    /// `f64` within the chip limits of docs/MODEL.md section 7).
    pub chip_metrics: Vec<f64>,
    /// `series[q * n + k]`: the `k`-th of the `n` quantities of
    /// [`series_names`] at the end of quarter `q` (demand in tokens,
    /// foreign deliveries, suppliers; empty when the scenario has none).
    pub series: Vec<f64>,
    /// `binding[q * suppliers + s]`: the input that bound supplier `s`'s
    /// output in quarter `q` (empty without suppliers).
    pub binding: Vec<supplier::Binding>,
    /// Quarter index in which each milestone was reached, if within the horizon.
    pub reached: Vec<Option<u32>>,
    /// Whether the training run started within the horizon.
    pub started: bool,
    /// When the training run started (seconds from the start), if it did.
    pub start_time: Option<u64>,
    /// `shocks[s]`: the quarter in which shock `s` happened (its trigger
    /// came true, even if its duration rounds to zero quarters), if it did.
    pub shocks: Vec<Option<u32>>,
    /// `shortfall_share[q]`: the share of quarter `q`'s inference demand
    /// left unmet at its end, `shortfall / demand` (0 without demand).
    pub shortfall_share: Vec<f64>,
    /// `line_delivered[q * lines + l]`: chips supply line `l` delivered
    /// since the start, at the end of quarter `q`.
    pub line_delivered: Vec<f64>,
    /// With `training.max_run_quarters`: the domestic training FLOP of each
    /// run that started, in order (at its end, or at the horizon for the
    /// run still going); empty otherwise.
    pub runs: Vec<f64>,
    /// `largest_run_flop[q]`: the compute of the largest single training
    /// run by the end of quarter `q`, `[all chips, domestic chips]` (the
    /// runs that ended and the one going; without
    /// `training.max_run_quarters` the one run's, `F_all` and `F_dom`).
    pub largest_run_flop: Vec<[f64; 2]>,
    /// `gate_open[q * gates + g]`: gate `g` was open in quarter `q`
    /// (empty without gates).
    pub gate_open: Vec<bool>,
    /// With platform risk: the runs that failed and restarted.
    pub run_failures: u64,
    /// Events processed (for benchmarks).
    pub events: u64,
    /// Random 64-bit words drawn (for benchmarks).
    pub draws: u64,
}

/// Buffers reused from trial to trial so a trial allocates nothing.
#[derive(Debug, Default)]
pub struct Workspace {
    queue: EventQueue,
    /// Drawn values of uncertain numbers: `values[offset[u] + q]` for
    /// per-quarter ones, `values[offset[u]]` for per-trial ones.
    values: Vec<f64>,
    offset: Vec<usize>,
    /// Random words drawn by the noise (deliveries, failures, shocks) of the trial.
    noise_draws: u64,
    backlog: Vec<u64>,
    pool: Vec<u64>,
    inference: Vec<u64>,
    training: Vec<u64>,
    /// Chips delivered since the start, per chip type.
    delivered: Vec<u64>,
    /// Chips delivered since the start, per supply line.
    line_delivered: Vec<u64>,
    shock_active: Vec<bool>,
    /// Per gate: the state of its Markov chain (events included, shocks' holds not).
    gate_chain: Vec<bool>,
    /// Per gate: open this quarter (the chain's state unless a shock holds it).
    gate_open: Vec<bool>,
    /// Chips filled since the start, per supply line (for domestic-purchase caps).
    line_filled: Vec<u64>,
    /// Per shock: the quarter it starts in, when it happens with an effect
    /// (a duration that rounds to 0 has none).
    shock_start: Vec<Option<u32>>,
    /// Suppliers' state.
    supply: supplier::SupplyState,
    /// Quantities of [`series_names`] recorded per quarter, and whether the
    /// scenario has a foreign chip type (recorded among them).
    series_len: usize,
    has_foreign: bool,
    /// Some chip type has a failure rate (so quarters have a failures event).
    has_failures: bool,
    /// Per chip type: (annual failure rate, ln(1 - rate)) last computed.
    failure_p: Vec<(f64, f64)>,
    /// The trial's outcome after [`simulate_trial`].
    pub outcome: TrialOutcome,
    /// Design scratch ([`draw_inputs`] with correlations): each correlated
    /// number's `z = Φ⁻¹(u)`.
    uniforms: Vec<f64>,
    /// Latin hypercube permutations cached per uncertain number, with the
    /// (seed, block, key hash) they were drawn for.
    lhs_tag: Vec<Option<(u64, u64, u64)>>,
    lhs_perm: Vec<[u8; LHS_BLOCK as usize]>,
}

impl Workspace {
    /// A workspace sized for `model`.
    pub fn new(model: &Model) -> Workspace {
        let h = model.horizon() as usize;
        let layout = input_layout(model);
        let offset: Vec<usize> = layout.iter().map(|r| r.start).collect();
        let n = layout.last().map_or(0, |r| r.end);
        let series_len = series_names(model).len();
        Workspace {
            queue: EventQueue::new(),
            values: vec![0.0; n],
            offset,
            noise_draws: 0,
            backlog: vec![0; model.supply.len()],
            pool: vec![0; model.chips.len()],
            inference: vec![0; model.chips.len()],
            training: vec![0; model.chips.len()],
            delivered: vec![0; model.chips.len()],
            line_delivered: vec![0; model.supply.len()],
            shock_active: vec![false; model.shocks.len()],
            gate_chain: vec![false; model.gates.len()],
            gate_open: vec![false; model.gates.len()],
            line_filled: vec![0; model.supply.len()],
            shock_start: vec![None; model.shocks.len()],
            supply: supplier::SupplyState::new(model),
            series_len,
            has_foreign: model.chips.iter().any(|c| !c.domestic),
            uniforms: vec![0.0; model.uncertain.len()],
            lhs_tag: vec![None; model.uncertain.len()],
            lhs_perm: vec![[0; LHS_BLOCK as usize]; model.uncertain.len()],
            has_failures: model.chips.iter().any(|c| c.annual_failure_rate.is_some()),
            failure_p: vec![(f64::NAN, 0.0); model.chips.len()],
            outcome: TrialOutcome {
                metrics: vec![[0.0; Metric::COUNT]; h],
                chip_metrics: vec![0.0; h * model.chips.len() * ChipMetric::COUNT],
                series: vec![0.0; h * series_len],
                binding: vec![supplier::Binding::None; h * model.suppliers.len()],
                reached: vec![None; model.milestones.len()],
                started: false,
                start_time: None,
                shocks: vec![None; model.shocks.len()],
                shortfall_share: vec![0.0; h],
                line_delivered: vec![0.0; h * model.supply.len()],
                runs: Vec::new(),
                largest_run_flop: vec![[0.0; 2]; h],
                run_failures: 0,
                gate_open: vec![false; h * model.gates.len()],
                events: 0,
                draws: 0,
            },
        }
    }

    /// The trial's input values: every uncertain number of the model, in
    /// model order, one value each (per trial) or one per quarter.
    pub fn inputs(&self) -> &[f64] {
        &self.values
    }

    /// The input values, to be changed before [`simulate`] (pinned at a
    /// quantile, taken from another sample); slots as [`Workspace::input_slots`].
    pub fn inputs_mut(&mut self) -> &mut [f64] {
        &mut self.values
    }

    /// Where uncertain number `id`'s values are in [`Workspace::inputs`].
    pub fn input_slots(&self, model: &Model, id: UncertainId) -> std::ops::Range<usize> {
        let off = self.offset[id];
        match model.uncertain[id].per {
            Per::Trial => off..off + 1,
            Per::Quarter => off..off + model.horizon() as usize,
        }
    }

    fn value(&self, model: &Model, id: UncertainId, quarter: u32) -> f64 {
        supplier::value_of(model, &self.values, &self.offset, id, quarter)
    }
}

/// Where each uncertain number's values lie in [`Workspace::inputs`], in
/// model order: one slot for a per-trial number, one per quarter for a
/// per-quarter one, packed in that order.
pub fn input_layout(model: &Model) -> Vec<std::ops::Range<usize>> {
    let h = model.horizon() as usize;
    let mut n = 0;
    model
        .uncertain
        .iter()
        .map(|u| {
            let len = if u.per == Per::Quarter { h } else { 1 };
            n += len;
            n - len..n
        })
        .collect()
}

/// The names of the per-quarter quantities a trial of `model` records
/// beyond [`Metric`] and [`ChipMetric`], in output order (docs/MODEL.md
/// section 5, `QuarterEnd`): with demand in tokens the [`DemandMetric`]s;
/// with a foreign chip type, its deliveries in chips and FLOP/s; with
/// suppliers, each supplier's output, die bank and HBM stock, then each
/// generation's output and yield. Empty for a scenario with none of these,
/// whose outputs are then those of earlier versions.
pub fn series_names(model: &Model) -> Vec<String> {
    let mut names = Vec::new();
    if records_demand(model) {
        names.extend(DemandMetric::ALL.map(|k| k.name().to_string()));
    }
    if model.chips.iter().any(|c| !c.domestic) {
        names.push("delivered_foreign_chips_cumulative".to_string());
        names.push("delivered_foreign_peak_flops_cumulative".to_string());
    }
    for s in &model.suppliers {
        names.push(format!("supplier_output_chips[{}]", s.name));
        names.push(format!("supplier_die_bank_dies[{}]", s.name));
        names.push(format!("supplier_hbm_stock_stacks[{}]", s.name));
    }
    for s in &model.suppliers {
        for g in &s.generations {
            let chip = &model.chips[g.chip].name;
            names.push(format!("generation_output_chips[{chip}]"));
            names.push(format!("generation_yield[{chip}]"));
        }
    }
    names
}

/// Where supplier `s`'s output is among [`series_names`].
pub fn supplier_output_series(model: &Model, s: usize) -> usize {
    series_base(model) + 3 * s
}

/// Where generation `g` of supplier `s`'s output is among [`series_names`].
pub fn generation_output_series(model: &Model, s: usize, g: usize) -> usize {
    let before: usize = model.suppliers[..s].iter().map(|x| x.generations.len()).sum();
    series_base(model) + 3 * model.suppliers.len() + 2 * (before + g)
}

/// The first supplier quantity among [`series_names`].
fn series_base(model: &Model) -> usize {
    3 * usize::from(records_demand(model)) + 2 * usize::from(model.chips.iter().any(|c| !c.domestic))
}

/// Inference demand is capped here (unit chips) so that runaway growth stays
/// finite.
pub const MAX_DEMAND_CHIPS: f64 = 1e15;

/// Whether a trial of `model` records the [`DemandMetric`]s: when its
/// inference demand is stated in tokens.
pub fn records_demand(model: &Model) -> bool {
    model.inference.as_ref().is_some_and(|i| i.in_tokens())
}

/// Inference demand in unit chips of `tokens` per day at `flop` FLOP per
/// token, served at utilisation `u` of chips of `peak` FLOP/s:
/// `(tokens × flop) / ((86,400 × u) × peak)`, evaluated in that order,
/// clamped to [0, [`MAX_DEMAND_CHIPS`]]; 0 when the quotient is not a
/// number (0/0: no tokens, or no FLOP, at a utilisation drawn as 0).
/// docs/MODEL.md section 5, `QuarterStart` step 1.
pub fn token_demand_chips(tokens: f64, flop: f64, u: f64, peak: f64) -> f64 {
    let d = (tokens * flop) / (SECONDS_PER_DAY as f64 * u * peak);
    if d.is_nan() {
        0.0
    } else {
        d.clamp(0.0, MAX_DEMAND_CHIPS)
    }
}

/// Phase of [`Event::MilestoneReached`].
const MILESTONE_PHASE: u8 = 7;

/// Mutable state of the trial being simulated.
struct State {
    now: u64,
    quarter: u32,
    delivered_domestic: u64,
    demand_chips: f64,
    /// Most chips one run can span this quarter (`max_cluster_chips`, or
    /// the step of `max_cluster_chips_from` in force).
    max_cluster: u64,
    /// With demand in tokens: tokens served per day, and FLOP per token.
    tokens_per_day: f64,
    flop_per_token: f64,
    started: bool,
    rate_total: f64,
    rate_domestic: f64,
    flop_total: f64,
    flop_domestic: f64,
    /// Compute of the current run (`F_run_all`, `F_run_dom`), from 0 at its
    /// start; used by milestones when runs are bounded.
    run_flop_total: f64,
    run_flop_domestic: f64,
    /// The largest compute of a run that has ended (all, domestic).
    ended_run_flop_total: f64,
    ended_run_flop_domestic: f64,
    /// When the current run ends (its `RunEnd`), if runs are bounded and it
    /// ends before the horizon.
    run_end: Option<u64>,
    /// The current run's index `j` (1 for the run `TrainingStart` starts;
    /// 0 before it).
    run_index: u64,
    /// The next milestone crossing (time, milestone), if any within the horizon.
    next_milestone: Option<(u64, usize)>,
    /// The next calendar event (quarter start, failures, quarter end).
    calendar: Option<(u64, Event)>,
}

/// Where the next event comes from.
#[derive(Clone, Copy)]
enum Source {
    Calendar,
    Heap,
    Milestone,
}

/// Runs trial `trial` of `model` with the scenario's seed `seed`: draws its
/// inputs ([`draw_inputs`]) and simulates it ([`simulate`]) on the same
/// streams; the outcome is left in `ws.outcome`.
pub fn simulate_trial(model: &Model, seed: u64, trial: u64, ws: &mut Workspace) {
    let streams = TrialStreams::new(seed, trial);
    draw_inputs(model, &streams, ws);
    simulate(model, &streams, ws);
}

/// Draws every uncertain number of the trial from its own streams into
/// [`Workspace::inputs`]: slot [`WHOLE_TRIAL`] for a per-trial number, slot
/// `q` for its quarter-`q` value; each draw clamped to the number's range.
pub fn draw_inputs(model: &Model, streams: &TrialStreams, ws: &mut Workspace) {
    if model.sampling == Sampling::Lhs || !model.correlations.is_empty() {
        return draw_designed_inputs(model, streams, ws);
    }
    let h = model.horizon() as u64;
    let mut draws = 0;
    for (id, u) in model.uncertain.iter().enumerate() {
        let off = ws.offset[id];
        if u.per == Per::Quarter {
            for (q, slot) in ws.values[off..off + h as usize].iter_mut().enumerate() {
                let mut rng = streams.stream(u.key_hash, q as u64);
                *slot = u.dist.sample(&mut rng).clamp(u.min, u.max);
                draws += rng.draws;
            }
        } else {
            let mut rng = streams.stream(u.key_hash, WHOLE_TRIAL);
            ws.values[off] = u.dist.sample(&mut rng).clamp(u.min, u.max);
            draws += rng.draws;
        }
    }
    ws.outcome.draws = draws;
}

/// [`draw_inputs`] under a Latin hypercube or correlations (docs/MODEL.md
/// section 3, "Correlations and sampling"). Per-quarter and fixed numbers
/// draw as without them; each other per-trial number takes a uniform `v`,
/// the first [`unit_open`] of its own stream, stratified under LHS to
/// `u = (π_{b,k}(j) + v) / 256`; an uncorrelated number is `F⁻¹(u)`, and
/// the numbers of a correlation are `F_i⁻¹(Φ((L z)_i))` with `z_i = Φ⁻¹(u_i)`;
/// every value clamped to the number's valid range.
fn draw_designed_inputs(model: &Model, streams: &TrialStreams, ws: &mut Workspace) {
    let h = model.horizon() as u64;
    let lhs = model.sampling == Sampling::Lhs;
    let (block, j) = (streams.trial() / LHS_BLOCK, (streams.trial() % LHS_BLOCK) as usize);
    let mut draws = 0;
    for (id, u) in model.uncertain.iter().enumerate() {
        let off = ws.offset[id];
        if u.per == Per::Quarter {
            for (q, slot) in ws.values[off..off + h as usize].iter_mut().enumerate() {
                let mut rng = streams.stream(u.key_hash, q as u64);
                *slot = u.dist.sample(&mut rng).clamp(u.min, u.max);
                draws += rng.draws;
            }
            continue;
        }
        let correlated = model.correlated.get(id).copied().flatten().is_some();
        if u.dist.is_fixed() || (!lhs && !correlated) {
            let mut rng = streams.stream(u.key_hash, WHOLE_TRIAL);
            ws.values[off] = u.dist.sample(&mut rng).clamp(u.min, u.max);
            draws += rng.draws;
            continue;
        }
        let mut rng = streams.stream(u.key_hash, WHOLE_TRIAL);
        let mut p = unit_open(&mut rng);
        draws += rng.draws;
        if lhs {
            let tag = Some((streams.seed(), block, u.key_hash));
            if ws.lhs_tag[id] != tag {
                lhs_permutation(streams.seed(), block, &u.key, &mut ws.lhs_perm[id]);
                // Not counted in `draws`: a cached permutation draws nothing.
                ws.lhs_tag[id] = tag;
            }
            p = (f64::from(ws.lhs_perm[id][j]) + p) / LHS_BLOCK as f64;
        }
        if correlated {
            ws.uniforms[id] = normal_quantile(p);
        } else {
            ws.values[off] = u.dist.quantile(p).clamp(u.min, u.max);
        }
    }
    for c in &model.correlations {
        for (i, row) in c.factor.iter().enumerate() {
            let z: f64 = row[..=i]
                .iter()
                .zip(&c.inputs)
                .map(|(l, &id)| l * ws.uniforms[id])
                .sum();
            let u = &model.uncertain[c.inputs[i]];
            ws.values[ws.offset[c.inputs[i]]] = u.dist.quantile(normal_cdf_open(z)).clamp(u.min, u.max);
        }
    }
    ws.outcome.draws = draws;
}

/// Simulates one trial on the inputs in [`Workspace::inputs`] (as left by
/// [`draw_inputs`], possibly changed since), drawing its noise (deliveries,
/// failures, whether and when shocks happen) from `noise`; the outcome is
/// left in `ws.outcome`. `ws.outcome.draws` adds the noise's draws to those
/// already counted there.
pub fn simulate(model: &Model, noise: &TrialStreams, ws: &mut Workspace) {
    let cal = &model.calendar;
    let h = cal.horizon();
    ws.noise_draws = 0;

    // 2. Reset state.
    ws.queue.clear();
    ws.backlog.fill(0);
    ws.pool.fill(0);
    ws.delivered.fill(0);
    ws.line_delivered.fill(0);
    ws.inference.copy_from_slice(&model.fleet_inference);
    ws.training.copy_from_slice(&model.fleet_training);
    ws.shock_active.fill(false);
    ws.shock_start.fill(None);
    ws.line_filled.fill(0);
    ws.outcome.reached.fill(None);
    ws.outcome.shocks.fill(None);
    ws.outcome.start_time = None;
    ws.outcome.runs.clear();
    ws.outcome.run_failures = 0;
    ws.outcome.events = 0;
    let mut st = State {
        now: 0,
        quarter: 0,
        delivered_domestic: 0,
        demand_chips: 0.0,
        max_cluster: model.training.max_cluster_chips,
        tokens_per_day: 0.0,
        flop_per_token: 0.0,
        started: false,
        rate_total: 0.0,
        rate_domestic: 0.0,
        flop_total: 0.0,
        flop_domestic: 0.0,
        run_flop_total: 0.0,
        run_flop_domestic: 0.0,
        ended_run_flop_total: 0.0,
        ended_run_flop_domestic: 0.0,
        run_end: None,
        run_index: 0,
        next_milestone: None,
        calendar: Some((0, Event::QuarterStart { quarter: 0 })),
    };

    // 3. Schedule the shocks. The calendar (quarter starts, failures,
    // quarter ends) follows a fixed sequence and is held in its own slot.
    for (s, shock) in model.shocks.iter().enumerate() {
        let mut happens = |q: u32, p: f64| {
            let mut rng = noise.stream(shock.occurrence_stream, q as u64);
            let u = unit_open(&mut rng);
            ws.noise_draws += rng.draws;
            u < p
        };
        let start = match shock.trigger {
            Trigger::At { quarter, probability } => happens(quarter, probability).then_some(quarter),
            Trigger::Hazard { hazard, from, until } => (from..=until).find(|&q| happens(q, hazard)),
        };
        let Some(q0) = start else { continue };
        ws.outcome.shocks[s] = Some(q0);
        let end = shock
            .duration_quarters
            .map(|d| q0 as u64 + ws.value(model, d, q0).round() as u64);
        if end == Some(q0 as u64) {
            continue; // lasts zero quarters: no effect
        }
        ws.shock_start[s] = Some(q0);
        ws.queue.schedule(cal.start_of(q0), Event::ShockStart { shock: s });
        if let Some(end) = end.filter(|&e| e < h as u64) {
            ws.queue
                .schedule(cal.start_of(end as u32), Event::ShockEnd { shock: s });
        }
    }

    if !model.suppliers.is_empty() {
        ws.supply.start_trial(model, &ws.values, &ws.offset, &ws.shock_start);
    }

    // 4. Run the events: the earliest (time, phase) among the calendar slot,
    // the heap and the milestone slot. Phases differ between the three, so
    // they never tie.
    loop {
        let mut best: Option<((u64, u8), Source)> = None;
        let candidates = [
            (st.calendar.map(|(t, e)| (t, e.phase())), Source::Calendar),
            (ws.queue.peek_key(), Source::Heap),
            (st.next_milestone.map(|(t, _)| (t, MILESTONE_PHASE)), Source::Milestone),
        ];
        for (key, source) in candidates {
            if let Some(key) = key {
                if best.is_none_or(|(b, _)| key < b) {
                    best = Some((key, source));
                }
            }
        }
        let next = match best {
            None => None,
            Some((_, Source::Calendar)) => st.calendar.take(),
            Some((_, Source::Heap)) => ws.queue.pop(),
            Some((_, Source::Milestone)) => st
                .next_milestone
                .take()
                .map(|(t, k)| (t, Event::MilestoneReached { milestone: k })),
        };
        let Some(event) = next else { break };
        let (t, event) = event;
        ws.outcome.events += 1;
        advance(&mut st, t);
        match event {
            Event::QuarterEnd { quarter } => {
                record(model, ws, &st, quarter);
                if quarter + 1 < h {
                    st.calendar = Some((cal.start_of(quarter + 1), Event::QuarterStart { quarter: quarter + 1 }));
                }
            }
            Event::ShockEnd { shock } => ws.shock_active[shock] = false,
            Event::ShockStart { shock } => ws.shock_active[shock] = true,
            Event::ShipmentArrival { line, chip, chips } => {
                ws.pool[chip] += chips;
                ws.delivered[chip] += chips;
                ws.line_delivered[line] += chips;
                if model.chips[chip].domestic {
                    st.delivered_domestic += chips;
                }
            }
            Event::ChipFailures { quarter } => {
                st.calendar = Some((cal.start_of(quarter + 1), Event::QuarterEnd { quarter }));
                fail_chips(model, noise, ws, quarter);
                set_rates(model, ws, &mut st);
            }
            Event::QuarterStart { quarter } => quarter_start(model, noise, ws, &mut st, quarter),
            Event::TrainingStart => {
                st.started = true;
                ws.outcome.start_time = Some(t);
                schedule_run_end(model, ws, &mut st);
                set_rates(model, ws, &mut st);
                st.run_index = 1;
                run_at_risk(model, noise, ws, &st);
            }
            Event::MilestoneReached { milestone } => {
                ws.outcome.reached[milestone] = Some(cal.quarter_reached_at(t));
                st.next_milestone = next_crossing(model, ws, &st);
            }
            // A run that restarted after a failure has a later end; its
            // first end is no longer the run's.
            Event::RunEnd if st.run_end != Some(t) => {}
            Event::RunEnd => {
                // The run ends; the next starts now on the same cluster, at
                // the same rate, its compute counted from 0.
                ws.outcome.runs.push(st.run_flop_domestic);
                st.ended_run_flop_total = st.ended_run_flop_total.max(st.run_flop_total);
                st.ended_run_flop_domestic = st.ended_run_flop_domestic.max(st.run_flop_domestic);
                st.run_flop_total = 0.0;
                st.run_flop_domestic = 0.0;
                schedule_run_end(model, ws, &mut st);
                st.next_milestone = next_crossing(model, ws, &st);
                st.run_index += 1;
                run_at_risk(model, noise, ws, &st);
            }
            Event::RunRestart => {
                // The failed run's compute is lost; it starts again now, a
                // full run, and is not at risk again.
                ws.outcome.run_failures += 1;
                st.run_flop_total = 0.0;
                st.run_flop_domestic = 0.0;
                schedule_run_end(model, ws, &mut st);
                st.next_milestone = next_crossing(model, ws, &st);
            }
        }
    }
    if st.started && model.training.max_run_seconds.is_some() {
        // The run still going at the horizon.
        ws.outcome.runs.push(st.run_flop_domestic);
    }
    ws.outcome.started = st.started;
    ws.outcome.draws += ws.noise_draws;
}

/// Accumulates training FLOP from the last event up to `t`: since the
/// start, and in the current run.
fn advance(st: &mut State, t: u64) {
    let dt = (t - st.now) as f64;
    st.flop_total += st.rate_total * dt;
    st.flop_domestic += st.rate_domestic * dt;
    st.run_flop_total += st.rate_total * dt;
    st.run_flop_domestic += st.rate_domestic * dt;
    st.now = t;
}

/// With bounded runs, the run starting now ends at `now + seconds(L)`:
/// its `RunEnd` is scheduled when that is before the horizon's end `S(H)`
/// (a run reaching `S(H)` is still going at the horizon).
fn schedule_run_end(model: &Model, ws: &mut Workspace, st: &mut State) {
    st.run_end = model
        .training
        .max_run_seconds
        .map(|len| st.now.saturating_add(len))
        .filter(|&end| end < model.calendar.end());
    if let Some(end) = st.run_end {
        ws.queue.schedule(end, Event::RunEnd);
    }
}

/// Platform risk at the start of run `j` (docs/MODEL.md section 5,
/// `RunRestart`): for each chip type of the cluster order that the run
/// uses (chips counted in its rate) and whose `run_failure_probability` in
/// this quarter is above 0, one uniform from its stream at slot `j`; at the
/// first below that probability the run fails, and restarts after the
/// time it loses, if that is before its end and the horizon.
fn run_at_risk(model: &Model, noise: &TrialStreams, ws: &mut Workspace, st: &State) {
    if !model.training.run_failures {
        return;
    }
    let mut room = st.max_cluster;
    for &c in &model.cluster_order {
        let used = ws.training[c].min(room);
        room -= used;
        let chip = &model.chips[c];
        let Some((prob, lost)) = chip.run_failure.filter(|_| used > 0) else {
            continue;
        };
        let p = ws.value(model, prob, st.quarter);
        if p <= 0.0 {
            continue;
        }
        let mut rng = noise.stream(chip.run_failure_stream, st.run_index);
        let u = unit_open(&mut rng);
        ws.noise_draws += rng.draws;
        if u < p {
            let at = st.now + quarters_to_seconds(ws.value(model, lost, st.quarter)).max(1);
            if at < st.run_end.unwrap_or(model.calendar.end()) {
                ws.queue.schedule(at, Event::RunRestart);
            }
            return;
        }
    }
}

/// Peak FLOP/s of all chips serving inference.
fn inference_flops(model: &Model, ws: &Workspace) -> f64 {
    ws.inference
        .iter()
        .zip(&model.chips)
        .map(|(&n, c)| n as f64 * c.peak_flops)
        .sum()
}

fn record(model: &Model, ws: &mut Workspace, st: &State, quarter: u32) {
    let inference_chips: u64 = ws.inference.iter().sum();
    let training_chips: u64 = ws.training.iter().sum();
    let shortfall = match &model.inference {
        Some(inf) => (st.demand_chips - inference_flops(model, ws) / model.chips[inf.unit_chip].peak_flops).max(0.0),
        None => 0.0,
    };
    ws.outcome.shortfall_share[quarter as usize] = if shortfall > 0.0 {
        shortfall / st.demand_chips
    } else {
        0.0
    };
    ws.outcome.metrics[quarter as usize] = [
        st.delivered_domestic as f64,
        inference_chips as f64,
        training_chips as f64,
        shortfall,
        st.flop_total,
        st.flop_domestic,
        delivered_domestic_flops(model, ws),
    ];
    let n = model.chips.len();
    let row = &mut ws.outcome.chip_metrics[quarter as usize * n * ChipMetric::COUNT..][..n * ChipMetric::COUNT];
    for (c, cell) in row.chunks_exact_mut(ChipMetric::COUNT).enumerate() {
        cell.copy_from_slice(&[ws.delivered[c] as f64, ws.inference[c] as f64, ws.training[c] as f64]);
    }
    ws.outcome.largest_run_flop[quarter as usize] = [
        st.ended_run_flop_total.max(st.run_flop_total),
        st.ended_run_flop_domestic.max(st.run_flop_domestic),
    ];
    if ws.series_len > 0 {
        record_series(model, ws, st, quarter);
    }
    let lines = model.supply.len();
    for (slot, &n) in ws.outcome.line_delivered[quarter as usize * lines..][..lines]
        .iter_mut()
        .zip(&ws.line_delivered)
    {
        *slot = n as f64;
    }
}

/// Records the quantities of [`series_names`] for quarter `quarter`.
fn record_series(model: &Model, ws: &mut Workspace, st: &State, quarter: u32) {
    let n = ws.series_len;
    let row = &mut ws.outcome.series[quarter as usize * n..][..n];
    let mut k = 0;
    let mut put = |v: f64| {
        row[k] = v;
        k += 1;
    };
    if records_demand(model) {
        put(st.demand_chips);
        put(st.tokens_per_day);
        put(st.flop_per_token);
    }
    if ws.has_foreign {
        let (mut chips, mut flops) = (0u64, 0.0);
        for (&d, c) in ws.delivered.iter().zip(&model.chips) {
            if !c.domestic {
                chips += d;
                flops += d as f64 * c.peak_flops;
            }
        }
        put(chips as f64);
        put(flops);
    }
    let sup = &ws.supply;
    for s in 0..model.suppliers.len() {
        put(sup.output[s]);
        // Stocks are recorded in whole dies and stacks: fractions left by
        // real-valued imports would spread their histograms over many
        // binades below 1 for nothing (docs/MODEL.md section 5, QuarterEnd).
        put(sup.bank[s].floor());
        put(sup.hbm[s].floor());
    }
    for i in 0..sup.made.len() {
        put(sup.made[i]);
        put(sup.yields[i]);
    }
    let suppliers = model.suppliers.len();
    if suppliers > 0 {
        ws.outcome.binding[quarter as usize * suppliers..][..suppliers].copy_from_slice(&ws.supply.binding);
    }
}

/// Peak FLOP/s of all domestic chips delivered so far, summed in file order.
fn delivered_domestic_flops(model: &Model, ws: &Workspace) -> f64 {
    ws.delivered
        .iter()
        .zip(&model.chips)
        .filter(|(_, c)| c.domestic)
        .map(|(&n, c)| n as f64 * c.peak_flops)
        .sum()
}

fn fail_chips(model: &Model, noise: &TrialStreams, ws: &mut Workspace, quarter: u32) {
    let days = model.calendar.days_in(quarter);
    for (c, chip) in model.chips.iter().enumerate() {
        let Some(afr) = chip.annual_failure_rate else { continue };
        let annual = ws.value(model, afr, quarter);
        // p = 1 - (1 - annual)^(days / 365.25) = -expm1(days/365.25 · ln(1 - annual)),
        // with the logarithm remembered per chip type (the rate is usually per trial).
        let ln_survive = match ws.failure_p[c] {
            (a, l) if a == annual => l,
            _ => {
                let l = (-annual).ln_1p();
                ws.failure_p[c] = (annual, l);
                l
            }
        };
        let p = -(days as f64 / 365.25 * ln_survive).exp_m1();
        let mut rng = noise.stream(chip.failure_stream, quarter as u64);
        ws.inference[c] -= binomial(&mut rng, ws.inference[c], p);
        ws.training[c] -= binomial(&mut rng, ws.training[c], p);
        ws.noise_draws += rng.draws;
    }
}

fn quarter_start(model: &Model, noise: &TrialStreams, ws: &mut Workspace, st: &mut State, q: u32) {
    let cal = &model.calendar;
    st.quarter = q;
    st.max_cluster = model.training.max_cluster_at(q);
    st.calendar = Some(if ws.has_failures {
        let mid = cal.start_of(q) + cal.days_in(q) / 2 * SECONDS_PER_DAY;
        (mid, Event::ChipFailures { quarter: q })
    } else {
        (cal.start_of(q + 1), Event::QuarterEnd { quarter: q })
    });

    // Demand for this quarter.
    if let Some(inf) = &model.inference {
        st.demand_chips = match inf.demand {
            Demand::Chips {
                initial_demand_chips,
                growth_per_quarter,
            } => if q == 0 {
                ws.value(model, initial_demand_chips, 0)
            } else {
                let g = growth_per_quarter.map(|g| ws.value(model, g, q)).unwrap_or(0.0);
                st.demand_chips * (1.0 + g)
            }
            .clamp(0.0, MAX_DEMAND_CHIPS),
            Demand::Tokens {
                tokens_per_day,
                token_growth_per_quarter,
                flop_per_token,
                flop_per_token_change_per_quarter,
                serving_utilization,
            } => {
                if q == 0 {
                    st.tokens_per_day = ws.value(model, tokens_per_day, 0);
                    st.flop_per_token = ws.value(model, flop_per_token, 0);
                } else {
                    // Capped at 1e300, so that a later growth of -1 gives
                    // 0, not inf × 0, and the recorded percentiles stay
                    // finite after rounding to significant digits.
                    let g = token_growth_per_quarter.map_or(0.0, |g| ws.value(model, g, q));
                    let c = flop_per_token_change_per_quarter.map_or(0.0, |c| ws.value(model, c, q));
                    st.tokens_per_day = (st.tokens_per_day * (1.0 + g)).min(TOKEN_STATE_CAP);
                    st.flop_per_token = (st.flop_per_token * (1.0 + c)).min(TOKEN_STATE_CAP);
                }
                let u = ws.value(model, serving_utilization, q);
                token_demand_chips(
                    st.tokens_per_day,
                    st.flop_per_token,
                    u,
                    model.chips[inf.unit_chip].peak_flops,
                )
            }
        };
    }

    // Allocate the chips that arrived since the last quarter start.
    let unit_flops = model
        .inference
        .as_ref()
        .map(|inf| model.chips[inf.unit_chip].peak_flops);
    // Under inference_first, unmet demand first takes back chips of the
    // lower training priorities from the cluster, so that they, not chips of
    // the first priority, serve inference (docs/MODEL.md section 5).
    if let (Policy::InferenceFirst, Some(unit)) = (model.policy, unit_flops) {
        recall_to_inference(model, ws, st.demand_chips * unit);
    }
    // Chip types in allocation order (inference priority, then file order);
    // a type's cluster room counts only chips of its own or a higher
    // training priority, and chips of a lower one that no longer fit move
    // to inference (docs/MODEL.md section 5).
    for &c in &model.allocation_order {
        let chip = &model.chips[c];
        let new_chips = std::mem::take(&mut ws.pool[c]);
        if new_chips == 0 {
            continue;
        }
        let unmet = match unit_flops {
            Some(unit) => (st.demand_chips * unit - inference_flops(model, ws)).max(0.0),
            None => 0.0,
        };
        let ahead = cluster_chips_up_to(model, ws, chip.training_priority);
        let s = split(
            model.policy,
            AllocationInput {
                new_chips,
                peak_flops: chip.peak_flops,
                eligible_for_training: chip.domestic || model.training.allow_foreign_chips,
                unmet_inference_flops: unmet,
                training_room: st.max_cluster.saturating_sub(ahead),
                training_chips: ahead,
            },
        );
        ws.training[c] += s.training;
        ws.inference[c] += s.inference;
        if s.training > 0 {
            make_room(model, ws, chip.training_priority, st.max_cluster);
        }
    }

    // Start the run, or update its rate for this quarter's MFU and goodput.
    if !st.started
        && q >= model.training.earliest_start
        && eligible_training_chips(model, ws) >= model.training.min_cluster_chips
    {
        ws.queue.schedule(st.now, Event::TrainingStart);
    }
    set_rates(model, ws, st);

    // Gates for this quarter, then this quarter's orders.
    if !model.gates.is_empty() {
        set_gates(model, noise, ws, q);
    }
    if !model.suppliers.is_empty() {
        ws.supply
            .step(model, &ws.values, &ws.offset, &ws.shock_active, &ws.shock_start, q);
    }
    for (l, line) in model.supply.iter().enumerate() {
        let ordered = line.orders[q as usize] + ws.backlog[l];
        if ordered == 0 {
            continue;
        }
        let mut fill = match line.fill {
            Fill::Rate(id) | Fill::Supplier { share: id, .. } => ws.value(model, id, q),
        };
        let mut lead = ws.value(model, line.lead_time_quarters, q);
        let mut stopped = line.gates.iter().any(|&g| !ws.gate_open[g]);
        for (s, shock) in model.shocks.iter().enumerate() {
            if !ws.shock_active[s] {
                continue;
            }
            for e in shock.effects.iter().filter(|e| e.supply == l) {
                stopped |= e.stop;
                if let Some(m) = e.fill_rate_multiplier.or(e.share_multiplier) {
                    fill *= ws.value(model, m, q);
                }
                if let Some(a) = e.add_lead_time_quarters {
                    lead += ws.value(model, a, q);
                }
            }
        }
        let mut chip = line.chip;
        let mut taken = None;
        let filled = if stopped {
            0
        } else {
            let mut k = match line.fill {
                Fill::Rate(_) => {
                    let mut rng = noise.stream(line.delivery_stream, q as u64);
                    let k = binomial(&mut rng, ordered, fill.clamp(0.0, 1.0));
                    ws.noise_draws += rng.draws;
                    k
                }
                Fill::Supplier {
                    supplier, tier, newest, ..
                } => match ws.supply_chip(model, supplier, line.chip, newest) {
                    Some((g, c)) => {
                        chip = c;
                        taken = Some((supplier, tier, g));
                        ws.supply.available(supplier, tier, g, fill, ordered)
                    }
                    None => 0,
                },
            };
            if let Some(quota) = line.quota_chips_per_quarter {
                k = k.min(ws.value(model, quota, q).floor() as u64);
            }
            if let Some(cap) = &line.domestic_cap {
                k = k.min(cap[q as usize].saturating_sub(ws.line_filled[l]));
            }
            ws.line_filled[l] += k;
            if let Some((s, t, g)) = taken {
                ws.supply.spend(s, t, g, k);
            }
            k
        };
        ws.backlog[l] = if line.backlog { ordered - filled } else { 0 };
        if filled > 0 {
            let arrival = st.now + quarters_to_seconds(lead).max(1);
            if arrival <= cal.end() {
                ws.queue.schedule(
                    arrival,
                    Event::ShipmentArrival {
                        line: l,
                        chip,
                        chips: filled,
                    },
                );
            }
        }
    }
}

impl Workspace {
    /// For a line buying from `supplier`: the generation it receives (its
    /// index within the supplier) and its chip type: `chip`, or, with
    /// `newest`, the newest generation that made chips (none if none did).
    fn supply_chip(&self, model: &Model, supplier: usize, chip: usize, newest: bool) -> Option<(usize, usize)> {
        let sup = &model.suppliers[supplier];
        if newest {
            let first = self.supply.generation(supplier, 0);
            self.supply
                .newest_first(supplier)
                .iter()
                .find(|&&i| self.supply.made[i] > 0.0)
                .map(|&i| (i - first, sup.generations[i - first].chip))
        } else {
            let g = sup.generations.iter().position(|g| g.chip == chip)?;
            Some((g, chip))
        }
    }
}

fn eligible_training_chips(model: &Model, ws: &Workspace) -> u64 {
    model.cluster_order.iter().map(|&c| ws.training[c]).sum()
}

/// Largest value of tokens per day and FLOP per token (docs/MODEL.md
/// section 5, step 1).
const TOKEN_STATE_CAP: f64 = 1e300;

/// Sets each gate's state for quarter `q` (docs/MODEL.md section 5,
/// `QuarterStart` step 5): a dated event sets the chain; else the first
/// quarter takes `initially_open`, and a later one within `from..=until`
/// makes one Markov step from a uniform of the gate's stream at slot `q`
/// (outside it the state stays); then an active shock's hold,
/// closed before open, overrides the chain for this quarter.
fn set_gates(model: &Model, noise: &TrialStreams, ws: &mut Workspace, q: u32) {
    for (g, gate) in model.gates.iter().enumerate() {
        let chain = match gate.events[q as usize] {
            Some(open) => open,
            None if q == 0 => gate.initially_open,
            None if !gate.chance.contains(&q) => ws.gate_chain[g],
            None => {
                let open = ws.gate_chain[g];
                let p = if open {
                    gate.close_probability
                } else {
                    gate.open_probability
                };
                match p.map(|id| ws.value(model, id, q)) {
                    Some(p) if p > 0.0 => {
                        let mut rng = noise.stream(gate.stream, q as u64);
                        let u = unit_open(&mut rng);
                        ws.noise_draws += rng.draws;
                        if u < p { !open } else { open }
                    }
                    _ => open,
                }
            }
        };
        ws.gate_chain[g] = chain;
        let mut held = None;
        for (s, shock) in model.shocks.iter().enumerate() {
            if ws.shock_active[s] {
                for e in shock.gate_effects.iter().filter(|e| e.gate == g) {
                    held = Some(held.unwrap_or(true) && e.open);
                }
            }
        }
        let open = held.unwrap_or(chain);
        ws.gate_open[g] = open;
        ws.outcome.gate_open[q as usize * model.gates.len() + g] = open;
    }
}

/// Chips in training of eligible types whose training priority is `priority`
/// or better (a lower number).
fn cluster_chips_up_to(model: &Model, ws: &Workspace, priority: u64) -> u64 {
    model
        .cluster_order
        .iter()
        .take_while(|&&c| model.chips[c].training_priority <= priority)
        .map(|&c| ws.training[c])
        .sum()
}

/// After chips of training priority `priority` joined the cluster: while it
/// holds more than `max_cluster` (this quarter's limit), chips of types with a lower priority
/// (a higher number), the lowest first and, among equals, the last in file
/// order first, move from training to inference.
fn make_room(model: &Model, ws: &mut Workspace, priority: u64, max_cluster: u64) {
    // Nothing to move without a type of a lower priority.
    if model
        .cluster_order
        .last()
        .is_none_or(|&c| model.chips[c].training_priority <= priority)
    {
        return;
    }
    let mut excess = eligible_training_chips(model, ws).saturating_sub(max_cluster);
    for &c in model.cluster_order.iter().rev() {
        if excess == 0 || model.chips[c].training_priority <= priority {
            break;
        }
        let moved = excess.min(ws.training[c]);
        ws.training[c] -= moved;
        ws.inference[c] += moved;
        excess -= moved;
    }
}

/// Moves chips of cluster types below the first training priority (a higher
/// number than the cluster's smallest), the lowest first and, among equals,
/// the last in file order first, from training to inference while demand
/// (`demand_flops`, FLOP/s) is unmet: `ceil(unmet / peak)` chips of a type
/// at most.
fn recall_to_inference(model: &Model, ws: &mut Workspace, demand_flops: f64) {
    let Some(&first) = model.cluster_order.first() else {
        return;
    };
    let top = model.chips[first].training_priority;
    for &c in model.cluster_order.iter().rev() {
        let chip = &model.chips[c];
        if chip.training_priority <= top {
            break;
        }
        let unmet = demand_flops - inference_flops(model, ws);
        if unmet <= 0.0 {
            break;
        }
        let moved = ((unmet / chip.peak_flops).ceil().min(ws.training[c] as f64)) as u64;
        ws.training[c] -= moved;
        ws.inference[c] += moved;
    }
}

/// Recomputes the training rates and reschedules milestone events.
fn set_rates(model: &Model, ws: &mut Workspace, st: &mut State) {
    let (mut total, mut domestic) = (0.0, 0.0);
    if st.started {
        let tr = &model.training;
        let per_chip = ws.value(model, tr.mfu, st.quarter) * ws.value(model, tr.goodput, st.quarter);
        let mut room = st.max_cluster;
        for &c in &model.cluster_order {
            let chip = &model.chips[c];
            let used = ws.training[c].min(room);
            room -= used;
            let r = used as f64 * chip.peak_flops * per_chip;
            total += r;
            if chip.domestic {
                domestic += r;
            }
        }
        // MFU falls with the run's size above the reference size.
        if let Some((exponent, reference)) = tr.mfu_size {
            let n = st.max_cluster - room;
            if n > reference {
                let s = (n as f64 / reference as f64).powf(-exponent);
                total *= s;
                domestic *= s;
            }
        }
    }
    if total == st.rate_total && domestic == st.rate_domestic {
        return;
    }
    st.rate_total = total;
    st.rate_domestic = domestic;
    st.next_milestone = next_crossing(model, ws, st);
}

/// The earliest (time, milestone) at which an unreached milestone's target
/// is met at the current rates, if within the horizon (and, with bounded
/// runs, within the current run, counting its compute only): now if
/// already met, else `now + ceil((target - F) / R)` seconds. Ties go to
/// the first in file order.
fn next_crossing(model: &Model, ws: &Workspace, st: &State) -> Option<(u64, usize)> {
    // With bounded runs, the current run's compute, and no crossing after
    // the run's end; else the compute since the start, up to the horizon.
    let bounded = model.training.max_run_seconds.is_some();
    let end = st.run_end.unwrap_or(model.calendar.end());
    let mut best: Option<(u64, usize)> = None;
    for (k, m) in model.milestones.iter().enumerate() {
        if ws.outcome.reached[k].is_some() {
            continue;
        }
        let (done, rate) = match (bounded, m.domestic_only) {
            (false, true) => (st.flop_domestic, st.rate_domestic),
            (false, false) => (st.flop_total, st.rate_total),
            (true, true) => (st.run_flop_domestic, st.rate_domestic),
            (true, false) => (st.run_flop_total, st.rate_total),
        };
        let at = if done >= m.target_flop {
            st.now
        } else if rate > 0.0 {
            let mut wait = ((m.target_flop - done) / rate).ceil();
            // The rounded quotient can put `ceil` one second late.
            if wait >= 1.0 && done + rate * (wait - 1.0) >= m.target_flop {
                wait -= 1.0;
            }
            if wait > (end - st.now) as f64 {
                continue;
            }
            st.now + wait as u64
        } else {
            continue;
        };
        if best.is_none_or(|(t, _)| at < t) {
            best = Some((at, k));
        }
    }
    best
}

#[cfg(test)]
mod design_tests {
    //! Correlations and Latin hypercube sampling, measured on the draws.
    use super::*;
    use crate::copula::LHS_BLOCK;

    /// Four per-trial inputs of different shapes (beta, lognormal, PERT,
    /// truncated normal) and one per-quarter one.
    fn scenario(extra_meta: &str, correlation: &str) -> Model {
        scenario_with_target(extra_meta, correlation, 1e20)
    }

    fn scenario_with_target(extra_meta: &str, correlation: &str, target: f64) -> Model {
        let text = format!(
            r#"
[scenario]
name = "design"
start = "2024Q1"
horizon_quarters = 4
{extra_meta}

[chips.a]
peak_flops = 3e14

[supply.line]
chip = "a"
orders = [{{ quarter = "2024Q1", chips = 1000 }}]
fill_rate = {{ dist = "beta", alpha = 2, beta = 3 }}
lead_time_quarters = {{ dist = "uniform", low = 0, high = 2, per = "quarter" }}

[inference]
unit_chip = "a"
initial_demand_chips = {{ mu = 5, sigma = 1, dist = "lognormal" }}

[training]
mfu = {{ dist = "pert", min = 0.2, mode = 0.35, max = 0.5 }}
goodput = {{ dist = "normal", mean = 0.9, sd = 0.1, min = 0.5, max = 1 }}

[milestones.m]
target_flop = {target:e}
deadline = "2024Q4"
{correlation}
"#
        );
        Model::from_text(&text, "design.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn draws(model: &Model, seed: u64, trials: std::ops::Range<u64>) -> Vec<Vec<f64>> {
        let mut ws = Workspace::new(model);
        trials
            .map(|t| {
                draw_inputs(model, &TrialStreams::new(seed, t), &mut ws);
                (0..model.uncertain.len())
                    .map(|id| ws.inputs()[ws.input_slots(model, id).start])
                    .collect()
            })
            .collect()
    }

    fn id(model: &Model, key: &str) -> usize {
        model.uncertain.iter().position(|u| u.key == key).unwrap()
    }

    fn ranks(x: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..x.len()).collect();
        idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
        let mut r = vec![0.0; x.len()];
        for (k, &i) in idx.iter().enumerate() {
            r[i] = k as f64;
        }
        r
    }

    /// Spearman's rank correlation (no ties among continuous draws).
    fn spearman(x: &[f64], y: &[f64]) -> f64 {
        let (rx, ry) = (ranks(x), ranks(y));
        let n = x.len() as f64;
        let m = (n - 1.0) / 2.0;
        let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - m) * (b - m)).sum();
        let var: f64 = rx.iter().map(|a| (a - m) * (a - m)).sum();
        cov / var
    }

    fn column(d: &[Vec<f64>], id: usize) -> Vec<f64> {
        d.iter().map(|row| row[id]).collect()
    }

    const MFU: &str = "training.mfu";
    const FILL: &str = "supply.line.fill_rate";
    const DEMAND: &str = "inference.initial_demand_chips";
    const GOODPUT: &str = "training.goodput";

    /// 20,000 trials: the sampling sd of a Spearman estimate is about
    /// (1 − ρ²)/√n ≤ 0.007, so ±0.03 is over 4 sd; the seeds are fixed.
    #[test]
    fn achieved_rank_correlations_match_their_targets() {
        let n = 20_000;
        for (sampling, seed) in [("", 11), ("sampling = \"lhs\"", 12)] {
            for r in [0.8, -0.5] {
                let m = scenario(
                    sampling,
                    &format!("[[correlation]]\ninputs = [\"{MFU}\", \"{FILL}\"]\nrank = {r}\n"),
                );
                let d = draws(&m, seed, 0..n);
                let got = spearman(&column(&d, id(&m, MFU)), &column(&d, id(&m, FILL)));
                assert!((got - r).abs() < 0.03, "{sampling} r = {r}: got {got}");
            }
            let target = [[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]];
            let m = scenario(
                sampling,
                &format!(
                    "[[correlation]]\ninputs = [\"{MFU}\", \"{DEMAND}\", \"{GOODPUT}\"]\nmatrix = [[1, 0.6, -0.3], [0.6, 1, 0.2], [-0.3, 0.2, 1]]\n"
                ),
            );
            let d = draws(&m, seed, 0..n);
            let cols: Vec<Vec<f64>> = [MFU, DEMAND, GOODPUT].iter().map(|k| column(&d, id(&m, k))).collect();
            for i in 0..3 {
                for j in i + 1..3 {
                    let got = spearman(&cols[i], &cols[j]);
                    assert!((got - target[i][j]).abs() < 0.03, "{sampling} [{i}][{j}]: got {got}");
                }
            }
            // The uncorrelated input stays (nearly) uncorrelated.
            let got = spearman(&cols[0], &column(&d, id(&m, FILL)));
            assert!(got.abs() < 0.03, "{sampling} uncorrelated: {got}");
        }
    }

    /// Without correlations or LHS, and with `sampling = "independent"`,
    /// uncorrelated inputs draw exactly as before; per-quarter ones always.
    #[test]
    fn uncorrelated_inputs_keep_their_draws() {
        let plain = draws(&scenario("", ""), 5, 0..300);
        let explicit = draws(&scenario("sampling = \"independent\"", ""), 5, 0..300);
        assert_eq!(plain, explicit);
        let m = scenario(
            "",
            &format!("[[correlation]]\ninputs = [\"{MFU}\", \"{FILL}\"]\nrank = 0.5\n"),
        );
        let corr = draws(&m, 5, 0..300);
        for key in [DEMAND, GOODPUT, "supply.line.lead_time_quarters"] {
            let k = id(&m, key);
            assert_eq!(column(&plain, k), column(&corr, k), "{key}");
        }
        let lhs = scenario("sampling = \"lhs\"", "");
        let k = id(&lhs, "supply.line.lead_time_quarters");
        assert_eq!(column(&plain, k), column(&draws(&lhs, 5, 0..300), k));
    }

    /// Under LHS each per-trial input's 256 draws of a block (absolute
    /// trials 256b .. 256b + 255) take one value in each 1/256 of its
    /// probability, whichever trial a run or shard starts at.
    #[test]
    fn lhs_puts_one_draw_in_each_stratum_of_a_block() {
        let m = scenario("sampling = \"lhs\"", "");
        let b = LHS_BLOCK;
        for block in [0, 3] {
            let d = draws(&m, 9, block * b..(block + 1) * b);
            for key in [MFU, FILL, DEMAND, GOODPUT] {
                let u = &m.uncertain[id(&m, key)];
                let mut seen = vec![false; b as usize];
                for x in column(&d, id(&m, key)) {
                    // Stratum k holds F⁻¹([k/256, (k+1)/256)): count by
                    // the stratum bounds, not by inverting F.
                    let k = (0..b as usize)
                        .find(|&k| x < u.dist.quantile((k + 1) as f64 / b as f64) || k + 1 == b as usize)
                        .unwrap();
                    assert!(!seen[k], "{key}: stratum {k} twice in block {block}");
                    seen[k] = true;
                }
            }
        }
        // The same trial draws the same wherever a run starts.
        let whole = draws(&m, 9, 0..600);
        let tail = draws(&m, 9, 300..600);
        assert_eq!(&whole[300..], &tail[..]);
    }

    /// LHS lowers the spread of a milestone's probability: 200 replications
    /// (seeds 1000..1200) of 256 trials (one block) each, the milestone's
    /// target set at the median of a pilot run so that p is about 0.5.
    #[test]
    fn lhs_reduces_the_variance_of_a_milestone_probability() {
        let pilot = scenario("", "");
        let mut ws = Workspace::new(&pilot);
        let mut flop: Vec<f64> = (0..4000)
            .map(|t| {
                simulate_trial(&pilot, 1, t, &mut ws);
                ws.outcome.metrics[3][Metric::TrainingFlopDomestic as usize]
            })
            .collect();
        flop.sort_by(f64::total_cmp);
        let target = flop[2000];
        let spread = |sampling: &str| {
            let m = scenario_with_target(sampling, "", target);
            let mut ws = Workspace::new(&m);
            let p: Vec<f64> = (1000..1200)
                .map(|seed| {
                    let hits = (0..LHS_BLOCK)
                        .filter(|&t| {
                            simulate_trial(&m, seed, t, &mut ws);
                            ws.outcome.reached[0].is_some_and(|q| q <= 3)
                        })
                        .count();
                    hits as f64 / LHS_BLOCK as f64
                })
                .collect();
            let mean = p.iter().sum::<f64>() / p.len() as f64;
            let var = p.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (p.len() - 1) as f64;
            (mean, var)
        };
        let (mi, vi) = spread("");
        let (ml, vl) = spread("sampling = \"lhs\"");
        eprintln!(
            "independent: mean {mi:.4} var {vi:.3e}; lhs: mean {ml:.4} var {vl:.3e}; ratio {:.3}",
            vl / vi
        );
        assert!((mi - 0.5).abs() < 0.05 && (ml - 0.5).abs() < 0.05, "{mi} {ml}");
        assert!(vl < 0.5 * vi, "LHS variance {vl:.3e} is not below half of {vi:.3e}");
    }
}

#[cfg(test)]
mod run_tests {
    //! Bounded training runs (`training.max_run_quarters`, docs/MODEL.md
    //! sections 4 and 5), on scenarios worked out by hand. Quarters of
    //! 2024: 91, 91, 92 and 92 days, so `S(1) = 7,862,400` s, `S(2) =
    //! 15,724,800` s, `S(4) = 31,622,400` s; one quarter of run length is
    //! `round(91.3125 × 86,400) = 7,889,400` s.
    use super::*;
    use crate::rng::TrialStreams;

    const QUARTER: u64 = 7_889_400;
    const S1: u64 = 7_862_400;
    const S2: u64 = 15_724_800;
    const S4: u64 = 31_622_400;

    /// `fleet` training chips of `peak` FLOP/s at MFU 0.5 from the start
    /// (the run starts at time 0), `extra` appended to `[training]`, one
    /// milestone of `target` FLOP by 2024Q4, and `supply` appended.
    fn model(peak: f64, fleet: u64, target: f64, extra: &str, supply: &str) -> Model {
        let text = format!(
            r#"[scenario]
name = "runs"
start = "2024Q1"
horizon_quarters = 4

[chips.a]
peak_flops = {peak:e}
{supply}
[fleet.a]
training = {fleet}

[allocation]
policy = "fixed_share"
training_share = 1

[training]
mfu = 0.5
{extra}

[milestones.m]
target_flop = {target:e}
deadline = "2024Q4"
"#
        );
        Model::from_text(&text, "runs.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn run(model: &Model) -> TrialOutcome {
        let mut ws = Workspace::new(model);
        simulate_trial(model, 1, 0, &mut ws);
        ws.outcome.clone()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs()
    }

    #[test]
    fn seconds_of_a_quarter_of_run_length() {
        let m = model(1e14, 1000, 1e30, "max_run_quarters = 1", "");
        assert_eq!(m.training.max_run_seconds, Some(QUARTER));
        assert_eq!(m.calendar.start_of(1), S1);
        assert_eq!(m.calendar.start_of(2), S2);
        assert_eq!(m.calendar.end(), S4);
    }

    /// 1,000 chips × 1e14 × 0.5 = 5e16 FLOP/s from time 0. A target of
    /// 1.5 quarters of that: the cumulative compute passes it in 2024Q2,
    /// no single run of one quarter ever does.
    #[test]
    fn cumulative_compute_passes_the_target_but_no_single_run_does() {
        let rate = 5e16;
        let target = rate * 1.5 * QUARTER as f64;
        let unbounded = run(&model(1e14, 1000, target, "", ""));
        assert_eq!(unbounded.reached[0], Some(1));
        assert!(unbounded.runs.is_empty());
        let bounded = run(&model(1e14, 1000, target, "max_run_quarters = 1", ""));
        assert_eq!(bounded.reached[0], None);
        // Runs end at ℓ, 2ℓ, 3ℓ, 4ℓ (all before S(4)); the fifth is
        // still going at the horizon, S(4) − 4ℓ = 64,800 s long.
        assert_eq!(bounded.runs.len(), 5);
        for r in &bounded.runs[..4] {
            assert!(close(*r, rate * QUARTER as f64), "{r}");
        }
        assert!(close(bounded.runs[4], rate * (S4 - 4 * QUARTER) as f64));
        // The cumulative compute is that of the unbounded run.
        for q in 0..4 {
            let m = Metric::TrainingFlopDomestic as usize;
            assert!(close(bounded.metrics[q][m], unbounded.metrics[q][m]), "quarter {q}");
            assert!(close(bounded.metrics[q][m], rate * [S1, S2, 23_673_600, S4][q] as f64));
        }
        // A target one run does reach is reached at the same time either way.
        let half = rate * 0.5 * QUARTER as f64;
        assert_eq!(
            run(&model(1e14, 1000, half, "max_run_quarters = 1", "")).reached[0],
            Some(0)
        );
        assert_eq!(run(&model(1e14, 1000, half, "", "")).reached[0], Some(0));
    }

    /// 3,000 more chips arrive in 2024Q1 and join at S(1): 5e16 FLOP/s in
    /// Q1, 2e17 after. Run 1 (to ℓ = S(1) + 27,000 s) does 5e16 × S(1) +
    /// 2e17 × 27,000; run 2 starts on the whole cluster and reaches 1.57e24
    /// after 7.85e6 s, at ℓ + 7.85e6 = 15,739,400 > S(2): in 2024Q3, where
    /// the cumulative compute reached it in 2024Q2.
    #[test]
    fn a_later_run_starts_on_the_cluster_of_its_moment() {
        let supply = "\n[supply.line]\nchip = \"a\"\norders = [{ quarter = \"2024Q1\", chips = 3000 }]\n";
        let bounded = run(&model(1e14, 1000, 1.57e24, "max_run_quarters = 1", supply));
        assert_eq!(bounded.reached[0], Some(2));
        let run1 = 5e16 * S1 as f64 + 2e17 * (QUARTER - S1) as f64;
        assert!(close(bounded.runs[0], run1), "{} vs {run1}", bounded.runs[0]);
        assert!(close(bounded.runs[1], 2e17 * QUARTER as f64));
        assert_eq!(run(&model(1e14, 1000, 1.57e24, "", supply)).reached[0], Some(1));
    }

    /// Runs of exactly one 2024 quarter (L = S(1) / 7,889,400 quarters, so
    /// ℓ = S(1)): they end at S(1) and S(2), the quarter boundaries. 1,000
    /// chips of 1 FLOP/s at MFU 0.5 make 500 FLOP/s, exact in floating
    /// point. A target of 500 × S(1) is met at S(1), run 1's last instant:
    /// `MilestoneReached` comes before `RunEnd`, and the milestone counts
    /// for 2024Q1. One FLOP more is met by no run (each lasts at most ℓ),
    /// while the cumulative compute meets it a second later.
    #[test]
    fn a_run_ending_at_a_quarter_boundary_keeps_a_crossing_at_its_end() {
        let l = S1 as f64 / QUARTER as f64;
        let extra = format!("max_run_quarters = {l}");
        assert_eq!(model(1.0, 1000, 1.0, &extra, "").training.max_run_seconds, Some(S1));
        let at_end = 500.0 * S1 as f64;
        let bounded = run(&model(1.0, 1000, at_end, &extra, ""));
        assert_eq!(bounded.reached[0], Some(0));
        assert_eq!(bounded.runs[..2], [at_end, 500.0 * (S2 - S1) as f64]);
        let beyond = at_end + 500.0;
        assert_eq!(run(&model(1.0, 1000, beyond, &extra, "")).reached[0], None);
        assert_eq!(run(&model(1.0, 1000, beyond, "", "")).reached[0], Some(1));
        // Runs end at S(1), S(2), S(2) + ℓ, S(2) + 2ℓ; the fifth is going
        // at the horizon.
        assert_eq!(bounded.runs.len(), 5);
        assert_eq!(bounded.runs[4], 500.0 * (S4 - S2 - 2 * S1) as f64);
    }

    /// `RunEnd` is the last phase: after `MilestoneReached` and every
    /// calendar event at the same second.
    #[test]
    fn run_end_comes_last_at_an_instant() {
        assert_eq!(Event::RunEnd.phase(), 8);
        assert!(Event::RunEnd.phase() > MILESTONE_PHASE);
        let mut q = EventQueue::new();
        q.schedule(10, Event::RunEnd);
        q.schedule(10, Event::QuarterStart { quarter: 1 });
        q.schedule(10, Event::QuarterEnd { quarter: 0 });
        q.schedule(10, Event::TrainingStart);
        let order: Vec<Event> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order.last(), Some(&Event::RunEnd));
    }

    /// A run that would end at or after the horizon is not ended: runs of
    /// 5 quarters (longer than the 366 days simulated) give one run. Four
    /// quarters of run length are 365.25 days, less than 2024's 366: two.
    #[test]
    fn a_run_longer_than_the_horizon_is_one_run() {
        assert_eq!(run(&model(1e14, 1000, 1e30, "max_run_quarters = 4", "")).runs.len(), 2);
        let o = run(&model(1e14, 1000, 1e30, "max_run_quarters = 5", ""));
        assert_eq!(o.runs.len(), 1);
        assert!(close(o.runs[0], 5e16 * S4 as f64));
        // No run without a start.
        let m = model(1e14, 1000, 1e30, "max_run_quarters = 1\nmin_cluster_chips = 2000", "");
        let mut ws = Workspace::new(&m);
        simulate(&m, &TrialStreams::new(1, 0), &mut ws);
        assert!(ws.outcome.runs.is_empty() && !ws.outcome.started);
    }
}

#[cfg(test)]
mod demand_tests {
    use super::{MAX_DEMAND_CHIPS, token_demand_chips};

    #[test]
    fn token_demand_is_flop_per_second_over_the_served_flop_of_a_unit_chip() {
        // 1e12 tokens a day × 1e11 FLOP = 1e23 FLOP a day, over 86,400 s ×
        // 0.5 × 1e14 FLOP/s = 4.32e18: 23,148.148… unit chips.
        let d = token_demand_chips(1e12, 1e11, 0.5, 1e14);
        assert_eq!(d.to_bits(), (1e23 / 4.32e18f64).to_bits());
        assert!((d - 23_148.148_148).abs() < 1e-3, "{d}");
        // The order of operations is part of the rule: (T × F) / ((86,400 × u) × peak).
        let (t, f, u, p) = (3.3e12, 7.1e10, 0.37, 3.2e14);
        assert_eq!(
            token_demand_chips(t, f, u, p).to_bits(),
            ((t * f) / (86_400.0 * u * p)).to_bits()
        );
    }

    #[test]
    fn token_demand_is_capped_and_never_nan() {
        assert_eq!(token_demand_chips(1e18, 1e18, 1e-300, 1.0), MAX_DEMAND_CHIPS);
        // A utilisation drawn as 0 (clamped to its bound) with tokens to serve: the cap.
        assert_eq!(token_demand_chips(1e12, 1e11, 0.0, 1e14), MAX_DEMAND_CHIPS);
        // Nothing to serve at utilisation 0 (0/0), or inf × 0: no demand.
        assert_eq!(token_demand_chips(0.0, 1e11, 0.0, 1e14), 0.0);
        assert_eq!(token_demand_chips(0.0, f64::INFINITY, 0.5, 1e14), 0.0);
        assert_eq!(token_demand_chips(f64::MAX, f64::MAX, 0.5, 1e14), MAX_DEMAND_CHIPS);
    }
}

#[cfg(test)]
mod series_tests {
    use super::{generation_output_series, series_names, supplier_output_series};
    use crate::model::Model;

    /// `supplier_output_series` and `generation_output_series` compute by
    /// formula where [`series_names`] lists the names; they must agree,
    /// with and without the token and foreign rows before them.
    #[test]
    fn series_positions_agree_with_their_names() {
        let tokens =
            "[inference]\nunit_chip = \"a\"\ntokens_per_day = 1e12\nflop_per_token = 1e10\nserving_utilization = 0.3\n";
        let foreign = "[chips.f]\npeak_flops = 1e14\ndomestic = false\n";
        for (extra_chip, demand) in [("", ""), (foreign, ""), ("", tokens), (foreign, tokens)] {
            let text = format!(
                r#"[scenario]
name = "s"
start = "2025Q1"
horizon_quarters = 2

[chips.a]
peak_flops = 1e14

[chips.b]
peak_flops = 2e14

[chips.c]
peak_flops = 3e14
{extra_chip}
[suppliers.one]
wafer_starts_per_quarter = 100
[suppliers.one.generations.a]
available = "2025Q1"
dies_per_wafer = 10
yield_initial = 0.5
[suppliers.one.tiers.all]

[suppliers.two]
wafer_starts_per_quarter = 100
[suppliers.two.generations.b]
available = "2025Q1"
dies_per_wafer = 10
yield_initial = 0.5
[suppliers.two.generations.c]
available = "2025Q2"
dies_per_wafer = 10
yield_initial = 0.5
[suppliers.two.tiers.all]
{demand}
[training]
mfu = 0.4

[milestones.m]
target_flop = 1e24
deadline = "2025Q2"
"#
            );
            let model = Model::from_text(&text, "s.toml").unwrap();
            let names = series_names(&model);
            for (s, sup) in model.suppliers.iter().enumerate() {
                assert_eq!(
                    names[supplier_output_series(&model, s)],
                    format!("supplier_output_chips[{}]", sup.name)
                );
                for (g, generation) in sup.generations.iter().enumerate() {
                    let chip = &model.chips[generation.chip].name;
                    assert_eq!(
                        names[generation_output_series(&model, s, g)],
                        format!("generation_output_chips[{chip}]")
                    );
                }
            }
        }
    }
}
