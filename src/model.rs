//! The validated, immutable scenario model the engine runs on.
//!
//! [`Model::from_text`] parses a scenario file and checks every rule of
//! meaning once, at the boundary: references, ranges, distribution
//! parameters, deadlines and size limits. It collects all problems, each with
//! its file, line, column and key path, instead of stopping at the first.

mod assumptions;
pub mod limits;
mod observe;
mod suppliers;

pub use limits::{
    Bounds, DEFAULT_HORIZON_QUARTERS, DEFAULT_TRIALS, MAX_CHIPS, MAX_HORIZON_QUARTERS, MAX_TOTAL_CHIPS, MAX_TRIALS,
};

use indexmap::IndexMap;

use self::limits::*;
use crate::dist::{Dist, DistSpec};
use crate::error::{Error, KeyPath, ScenarioError, closest};
use crate::quarter::{Calendar, Quarter};
use crate::rng::key_hash;
use crate::scenario::{self, RawDistTable, RawNumber, RawPolicy, RawScenario};

/// Index of a chip type in [`Model::chips`].
pub type ChipId = usize;
/// Index of an uncertain number in [`Model::uncertain`].
pub type UncertainId = usize;

/// When an uncertain number is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Once per trial (a structural unknown).
    Trial,
    /// Afresh for every quarter (noise).
    Quarter,
}

/// An uncertain number of the scenario, with its own random stream.
#[derive(Debug, Clone)]
pub struct Uncertain {
    /// Key path in the scenario file; also names its random stream.
    pub key: String,
    /// [`crate::rng::key_hash`] of `key`.
    pub key_hash: u64,
    /// Its distribution.
    pub dist: Dist,
    /// When it is drawn.
    pub per: Per,
    /// Draws are clamped to `[min, max]`, the quantity's valid range.
    pub min: f64,
    /// See `min`.
    pub max: f64,
}

impl Uncertain {
    /// The bounds its draws can be clamped to: the lower one when its
    /// distribution reaches below the valid range, the upper one when it
    /// reaches above (neither for a fixed value or a distribution inside).
    pub fn clamp_bounds(&self) -> (Option<f64>, Option<f64>) {
        if self.dist.is_fixed() {
            return (None, None);
        }
        let (lo, hi) = self.dist.support();
        ((lo < self.min).then_some(self.min), (hi > self.max).then_some(self.max))
    }
}

/// A value of the scenario as a reader would audit it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Assumption {
    /// Key path in the scenario file.
    pub key: String,
    /// The value or distribution, in words.
    pub value: String,
    /// Where the figure comes from, if the file says.
    pub source: Option<String>,
    /// The file does not write this value: it is the default.
    #[serde(default)]
    pub default: bool,
}

/// A chip type.
#[derive(Debug, Clone)]
pub struct Chip {
    /// Identifier (the `[chips.<name>]` key).
    pub name: String,
    /// Peak dense BF16 throughput per chip, FLOP/s, as shipped: the
    /// file's `peak_flops` times `derating`.
    pub peak_flops: f64,
    /// Made domestically (counts toward domestic-only milestones).
    pub domestic: bool,
    /// Fraction of chips failing per year, if any.
    pub annual_failure_rate: Option<UncertainId>,
    /// Stream for the number of failures.
    pub failure_stream: u64,
    /// Queue for a place in the training cluster: lower first (`chips.*.training_priority`).
    pub training_priority: u64,
    /// Order of serving inference: lower first (`chips.*.inference_priority`).
    pub inference_priority: u64,
    /// `derating`: `peak_flops` is the announced throughput times this.
    pub derating: f64,
    /// `memory_gb`, if written (reported, not used).
    pub memory_gb: Option<f64>,
    /// Platform risk: `(run_failure_probability, run_failure_lost_quarters)`.
    pub run_failure: Option<(UncertainId, UncertainId)>,
    /// Stream of the draws of whether a run fails.
    pub run_failure_stream: u64,
}

/// A supply line: one buyer's orders of one chip.
#[derive(Debug, Clone)]
pub struct SupplyLine {
    /// Identifier (the `[supply.<name>]` key).
    pub name: String,
    /// Chip ordered.
    pub chip: ChipId,
    /// Chips ordered at the start of each quarter index.
    pub orders: Vec<u64>,
    /// How the line's orders are filled: a fill rate, or a share of a supplier's output.
    pub fill: Fill,
    /// Quarters from order to arrival.
    pub lead_time_quarters: UncertainId,
    /// Unfilled chips carry over to the next quarter's order.
    pub backlog: bool,
    /// Stream for the number of chips filled.
    pub delivery_stream: u64,
    /// Gates the line's orders pass (indices into [`Model::gates`]), in file order.
    pub gates: Vec<usize>,
    /// Most chips filled in one quarter (a licence quota), if any.
    pub quota_chips_per_quarter: Option<UncertainId>,
    /// With `domestic_purchase_ratio`: `domestic_cap[q]`, the most chips the
    /// line may have filled by the end of quarter `q`'s order.
    pub domestic_cap: Option<Vec<u64>>,
}

/// How a supply line's orders are filled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fill {
    /// `fill_rate`: each chip of the order is filled with this probability.
    Rate(UncertainId),
    /// `supplier`, `tier`, `share`: the line takes `share` of its tier's
    /// part of the supplier's output (docs/MODEL.md section 5, Suppliers).
    Supplier {
        /// Index into [`Model::suppliers`].
        supplier: usize,
        /// Index into that supplier's `tiers`.
        tier: usize,
        /// The buyer's share of the tier.
        share: UncertainId,
        /// `chip = "newest"`: the newest generation made that quarter
        /// (the line's `chip` is then the supplier's first generation).
        newest: bool,
    },
}

/// A supplier shared by many customers (docs/MODEL.md section 5, Suppliers).
#[derive(Debug, Clone)]
pub struct Supplier {
    /// Identifier (the `[suppliers.<name>]` key).
    pub name: String,
    /// Wafer starts per quarter.
    pub wafer_starts: UncertainId,
    /// Their growth per quarter.
    pub wafer_growth: Option<UncertainId>,
    /// Packaging capacity per quarter (none: no limit).
    pub packaging: Option<UncertainId>,
    /// Its growth per quarter.
    pub packaging_growth: Option<UncertainId>,
    /// The die bank at the start.
    pub die_bank: Option<UncertainId>,
    /// The HBM stock at the start.
    pub hbm_stock: Option<UncertainId>,
    /// HBM stacks imported per quarter.
    pub hbm_imports: Option<UncertainId>,
    /// Domestic HBM, if any.
    pub hbm_domestic: Option<DomesticHbm>,
    /// Generations, in file order.
    pub generations: Vec<Generation>,
    /// Customer tiers, in file order.
    pub tiers: Vec<Tier>,
}

/// A supplier's domestic HBM.
#[derive(Debug, Clone)]
pub struct DomesticHbm {
    /// Stacks per quarter at the full rate.
    pub per_quarter: UncertainId,
    /// `hbm_domestic_from` as a quarter index (negative: before the start).
    pub from: i64,
    /// `hbm_domestic_delay_quarters`.
    pub delay: Option<UncertainId>,
    /// `hbm_domestic_ramp_quarters`.
    pub ramp: u64,
}

/// A chip generation on a supplier's roadmap.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The chip type made.
    pub chip: ChipId,
    /// `available` as a quarter index (negative: before the start).
    pub available: i64,
    /// `slip_quarters`.
    pub slip: Option<UncertainId>,
    /// `ramp_quarters`.
    pub ramp: u64,
    /// `dies_per_wafer`.
    pub dies_per_wafer: f64,
    /// `dies_per_package`.
    pub dies_per_package: u64,
    /// `hbm_stacks_per_package`.
    pub hbm_stacks_per_package: u64,
    /// `yield_initial`.
    pub yield_initial: UncertainId,
    /// `yield_max` (none: `yield_initial`).
    pub yield_max: Option<UncertainId>,
    /// `yield_time_constant_quarters` (none: the default, 4).
    pub yield_time_constant: Option<UncertainId>,
    /// May use the die bank.
    pub die_bank: bool,
}

/// A customer tier of a supplier.
#[derive(Debug, Clone)]
pub struct Tier {
    /// Identifier (the `[suppliers.<s>.tiers.<name>]` key).
    pub name: String,
    /// Served in order of priority (lower first), then file order.
    pub priority: u64,
    /// Chips it takes per quarter (none: all that is left).
    pub demand: Option<UncertainId>,
    /// Growth of its demand per quarter.
    pub demand_growth: Option<UncertainId>,
}

/// What a shock does to a supplier while active.
#[derive(Debug, Clone, Default)]
pub struct SupplierEffect {
    /// The supplier (index into [`Model::suppliers`]).
    pub supplier: usize,
    /// Multiplies wafer starts.
    pub wafer_starts: Option<UncertainId>,
    /// Multiplies packaging capacity.
    pub packaging: Option<UncertainId>,
    /// Multiplies HBM imports.
    pub hbm_imports: Option<UncertainId>,
    /// Multiplies yield learning.
    pub yield_learning: Option<UncertainId>,
    /// Multiplies the die bank once, when the shock starts.
    pub die_bank: Option<UncertainId>,
    /// Multiplies the HBM stock once, when the shock starts.
    pub hbm_stock: Option<UncertainId>,
    /// Delays a generation (index into the supplier's `generations`).
    pub delay: Option<(usize, UncertainId)>,
    /// Sets a tier's priority (index into the supplier's `tiers`).
    pub tier_priority: Option<(usize, u64)>,
}

/// A gate: open or closed in each quarter (docs/MODEL.md section 5).
#[derive(Debug, Clone)]
pub struct Gate {
    /// Identifier (the `[gates.<name>]` key).
    pub name: String,
    /// State in the first quarter, before any event in it.
    pub initially_open: bool,
    /// Probability per quarter that an open gate closes.
    pub close_probability: Option<UncertainId>,
    /// Probability per quarter that a closed gate opens.
    pub open_probability: Option<UncertainId>,
    /// `events[q]`: the state a dated event sets in quarter `q`, if any.
    pub events: Vec<Option<bool>>,
    /// Quarter indices in which the state may change by chance (`from`, `until`).
    pub chance: std::ops::RangeInclusive<u32>,
    /// Stream of the quarterly transitions.
    pub stream: u64,
}

/// A shock's hold on a gate while it is active.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateEffect {
    /// The gate (index into [`Model::gates`]).
    pub gate: usize,
    /// Held open (true) or closed (false).
    pub open: bool,
}

/// How a shock starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// At the start of quarter index `quarter`, with `probability`.
    At {
        /// Quarter index.
        quarter: u32,
        /// Probability that it happens.
        probability: f64,
    },
    /// At the start of each quarter index in `from..=until`, with
    /// probability `hazard`, until it has happened once.
    Hazard {
        /// Per-quarter probability.
        hazard: f64,
        /// First quarter index at risk.
        from: u32,
        /// Last quarter index at risk.
        until: u32,
    },
}

/// What a shock does to one supply line while active.
#[derive(Debug, Clone)]
pub struct Effect {
    /// Supply line affected.
    pub supply: usize,
    /// Multiplies the fill rate.
    pub fill_rate_multiplier: Option<UncertainId>,
    /// Adds to the lead time, in quarters.
    pub add_lead_time_quarters: Option<UncertainId>,
    /// No orders are filled while active.
    pub stop: bool,
    /// Multiplies the share of a line that buys from a supplier.
    pub share_multiplier: Option<UncertainId>,
}

/// An export-control (or other) shock.
#[derive(Debug, Clone)]
pub struct Shock {
    /// Identifier (the `[shocks.<name>]` key).
    pub name: String,
    /// When it may start.
    pub trigger: Trigger,
    /// How long it lasts, in quarters; `None` is permanent.
    pub duration_quarters: Option<UncertainId>,
    /// Its effects on supply lines.
    pub effects: Vec<Effect>,
    /// Its effects on gates.
    pub gate_effects: Vec<GateEffect>,
    /// Its effects on suppliers' inputs.
    pub supplier_effects: Vec<SupplierEffect>,
    /// Stream for whether and when it happens.
    pub occurrence_stream: u64,
}

/// Inference demand.
#[derive(Debug, Clone)]
pub struct Inference {
    /// Demand is counted in chips of this type.
    pub unit_chip: ChipId,
    /// How demand is stated.
    pub demand: Demand,
}

/// The two forms of inference demand (docs/MODEL.md section 5, `QuarterStart` step 1).
#[derive(Debug, Clone, PartialEq)]
pub enum Demand {
    /// In unit chips, growing by a fraction each quarter.
    Chips {
        /// Demand in quarter index 0, in unit chips.
        initial_demand_chips: UncertainId,
        /// Fractional growth of demand from one quarter to the next.
        growth_per_quarter: Option<UncertainId>,
    },
    /// In tokens served per day and FLOP per token, turned into unit chips
    /// by the serving utilisation and the unit chip's peak FLOP/s.
    Tokens {
        /// Tokens served per day in quarter index 0.
        tokens_per_day: UncertainId,
        /// Fractional growth of tokens per day from one quarter to the next.
        token_growth_per_quarter: Option<UncertainId>,
        /// FLOP to serve one token in quarter index 0.
        flop_per_token: UncertainId,
        /// Fractional change of FLOP per token from one quarter to the next.
        flop_per_token_change_per_quarter: Option<UncertainId>,
        /// Fraction of peak FLOP/s achieved while serving, in each quarter.
        serving_utilization: UncertainId,
    },
}

impl Inference {
    /// Whether demand is stated in tokens (and its quarterly tokens, FLOP
    /// per token and demand in unit chips are recorded).
    pub fn in_tokens(&self) -> bool {
        matches!(self.demand, Demand::Tokens { .. })
    }
}

/// How each quarter's new chips are split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    /// Inference demand first, the rest to training.
    InferenceFirst,
    /// A fixed share of each chip type's new chips to training.
    FixedShare(f64),
    /// Training filled up to this many chips first, the rest to inference.
    TrainingReserve(u64),
}

/// The one large training run.
#[derive(Debug, Clone)]
pub struct Training {
    /// Earliest quarter index in which the run may start.
    pub earliest_start: u32,
    /// Chips needed in the training pool to start.
    pub min_cluster_chips: u64,
    /// Most chips one run can span (from the first quarter).
    pub max_cluster_chips: u64,
    /// Later limits, `(quarter index, chips)` in increasing quarter order:
    /// from that quarter on the run may span up to that many chips.
    pub max_cluster_steps: Vec<(u32, u64)>,
    /// With MFU falling with size: `(exponent, reference chips)`.
    pub mfu_size: Option<(f64, u64)>,
    /// Model FLOP utilisation, in (0, 1].
    pub mfu: UncertainId,
    /// Share of time doing useful work (after interruptions), in (0, 1].
    pub goodput: UncertainId,
    /// Foreign chips may join the run.
    pub allow_foreign_chips: bool,
    /// `max_run_quarters`: the longest one run lasts, in quarters, if
    /// runs are bounded (docs/MODEL.md section 5, `RunEnd`).
    pub max_run_quarters: Option<f64>,
    /// The same in seconds, `quarters_to_seconds(max_run_quarters)`.
    pub max_run_seconds: Option<u64>,
    /// Some chip type has `run_failure_probability` (platform risk).
    pub run_failures: bool,
}

impl Training {
    /// Most chips one run can span in quarter index `q`.
    pub fn max_cluster_at(&self, q: u32) -> u64 {
        self.max_cluster_steps
            .iter()
            .rev()
            .find(|&&(from, _)| from <= q)
            .map_or(self.max_cluster_chips, |&(_, chips)| chips)
    }
}

/// A training-compute milestone.
#[derive(Debug, Clone)]
pub struct Milestone {
    /// Identifier (the `[milestones.<name>]` key).
    pub name: String,
    /// Cumulative training compute to reach, FLOP.
    pub target_flop: f64,
    /// Quarter index of the deadline (reached by the end of it).
    pub deadline: u32,
    /// Count FLOP from domestic chips only.
    pub domestic_only: bool,
}

/// `[[expect]]`: bounds on a milestone's probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// Index into [`Model::milestones`].
    pub milestone: usize,
    /// The probability should be at least this.
    pub min_probability: Option<f64>,
    /// The probability should be at most this.
    pub max_probability: Option<f64>,
}

/// `scenario.sampling`: how uncertain numbers drawn once per trial are sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampling {
    /// Independently in every trial.
    #[default]
    Independent,
    /// A Latin hypercube in blocks of [`crate::copula::LHS_BLOCK`] trials.
    Lhs,
}

/// `[[correlation]]`: inputs drawn through one Gaussian copula.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// The inputs, in the order written ([`Model::uncertain`] indices).
    pub inputs: Vec<UncertainId>,
    /// Spearman rank correlations as used (after any repair), n×n.
    pub rank: Vec<Vec<f64>>,
    /// Lower Cholesky factor of the copula's Pearson matrix `2 sin(π rank / 6)`.
    pub factor: Vec<Vec<f64>>,
    /// `source`, if given.
    pub source: Option<String>,
    /// Whether `repair = "nearest"` changed the matrix.
    pub repaired: bool,
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Model {
    /// Scenario name.
    pub name: String,
    /// Scenario description.
    pub description: String,
    /// The clock.
    pub calendar: Calendar,
    /// Default number of trials.
    pub trials: u64,
    /// Seed of all random streams.
    pub seed: u64,
    /// Chip types, in file order.
    pub chips: Vec<Chip>,
    /// Supply lines, in file order.
    pub supply: Vec<SupplyLine>,
    /// Shocks, in file order.
    pub shocks: Vec<Shock>,
    /// Gates, in file order.
    pub gates: Vec<Gate>,
    /// Suppliers, in file order.
    pub suppliers: Vec<Supplier>,
    /// Chips in inference at the start, per chip type.
    pub fleet_inference: Vec<u64>,
    /// Chips in training at the start, per chip type.
    pub fleet_training: Vec<u64>,
    /// Inference demand, if any.
    pub inference: Option<Inference>,
    /// Allocation policy.
    pub policy: Policy,
    /// Chip types in the order their new chips are allocated: by
    /// `inference_priority`, then file order (docs/MODEL.md section 5).
    pub allocation_order: Vec<ChipId>,
    /// Chip types eligible for training, in the order they take places in
    /// the cluster: by `training_priority`, then file order.
    pub cluster_order: Vec<ChipId>,
    /// The training run.
    pub training: Training,
    /// Milestones, in file order.
    pub milestones: Vec<Milestone>,
    /// Expectations checked by `sancsim check`, in file order.
    pub expectations: Vec<Expectation>,
    /// Every uncertain number, in file order.
    pub uncertain: Vec<Uncertain>,
    /// How per-trial uncertain numbers are sampled.
    pub sampling: Sampling,
    /// Correlated groups of per-trial uncertain numbers, in file order.
    pub correlations: Vec<Correlation>,
    /// `[[observe]]`: what has been observed, in file order (docs/MODEL.md section 11).
    pub observations: Vec<crate::evidence::Observation>,
    /// With observations: the fewest effective trials a run may report.
    pub min_effective_sample_size: u64,
    /// For each uncertain number, its (group, position) in
    /// [`Model::correlations`], if correlated.
    pub correlated: Vec<Option<(usize, usize)>>,
    /// Every value of the scenario, defaults included, for audit.
    pub assumptions: Vec<Assumption>,
    /// Things in the file that are valid but probably not what was meant
    /// (orders dropped outside the horizon, a supply line ordering nothing,
    /// `per = "quarter"` on a number used once), in file order.
    pub warnings: Vec<ScenarioError>,
    /// `--set` overrides applied to the file, as `key.path=value`, in the
    /// order given (empty when none; see [`crate::overrides`]).
    pub overrides: Vec<String>,
}

impl Model {
    /// Number of quarters simulated.
    pub fn horizon(&self) -> u32 {
        self.calendar.horizon()
    }

    /// Parses and validates a scenario file's text; `file` names it in errors.
    pub fn from_text(text: &str, file: &str) -> Result<Model, Error> {
        let raw = scenario::parse(text, file)?;
        let mut ctx = Ctx {
            text,
            file,
            errors: Vec::new(),
            warnings: Vec::new(),
            uncertain: Vec::new(),
            assumptions: Vec::new(),
        };
        let model = build(&raw, &mut ctx);
        match model {
            Some(m) if ctx.errors.is_empty() => Ok(m),
            _ => Err(Error::Scenario(ctx.errors)),
        }
    }

    /// Stable hash of everything that defines this model's results, used to
    /// tell whether two runs are of the same scenario.
    pub fn fingerprint(text: &str) -> String {
        format!("{:016x}", key_hash(text))
    }
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    errors: Vec<ScenarioError>,
    warnings: Vec<ScenarioError>,
    uncertain: Vec<Uncertain>,
    assumptions: Vec<Assumption>,
}

impl Ctx<'_> {
    fn error(&mut self, path: KeyPath, message: impl Into<String>) {
        self.errors
            .push(scenario::semantic_error(self.text, self.file, path, message.into()));
    }

    fn warn(&mut self, path: KeyPath, message: impl Into<String>) {
        self.warnings
            .push(scenario::semantic_error(self.text, self.file, path, message.into()));
    }

    /// Warns when an uncertain number used once per trial is drawn each
    /// quarter: only one of its draws is ever used.
    fn used_once(&mut self, path: &KeyPath, id: Option<UncertainId>, when: &str) {
        if id.is_some_and(|id| self.uncertain[id].per == Per::Quarter) {
            self.warn(
                path.key("per"),
                format!(
                    "`per = \"quarter\"` has no effect here: this number is used once per trial ({when}), so only one of its draws is used; leave `per` out"
                ),
            );
        }
    }

    /// Refuses each key of `keys` that is written (`true`), at `path.key`,
    /// with the message `why(key)`.
    fn refuse(&mut self, path: &KeyPath, keys: &[(&str, bool)], why: impl Fn(&str) -> String) {
        for &(key, given) in keys {
            if given {
                self.error(path.key(key), why(key));
            }
        }
    }

    fn quarter(&mut self, path: KeyPath, text: &str) -> Option<Quarter> {
        match Quarter::parse(text) {
            Ok(q) => Some(q),
            Err(e) => {
                self.error(path, e);
                None
            }
        }
    }

    /// A quarter that must lie within the horizon; returns its index.
    fn quarter_index(&mut self, path: KeyPath, text: &str, cal: &Calendar, what: &str) -> Option<u32> {
        let q = self.quarter(path.clone(), text)?;
        match cal.index_of(q) {
            Some(i) => Some(i),
            None => {
                let last = cal.quarter(cal.horizon() - 1);
                self.error(
                    path,
                    format!("{what} {q} lies outside the horizon {}..={last}", cal.start()),
                );
                None
            }
        }
    }

    fn chips(&mut self, path: KeyPath, n: u64) -> u64 {
        if n > MAX_CHIPS {
            self.error(path, format!("{n} chips is beyond the limit of {MAX_CHIPS}"));
        }
        n
    }

    /// A number that must be fixed (no distribution), within `[min, max]`.
    fn fixed(&mut self, path: KeyPath, raw: &RawNumber, bounds: Bounds) -> Option<f64> {
        let (spec, per, source) = self.spec(&path, raw)?;
        let value = match spec {
            DistSpec::Fixed(v) => v,
            _ => {
                self.error(path, "must be a fixed number here, not a distribution");
                return None;
            }
        };
        if per.is_some() {
            self.error(path.key("per"), "a fixed number has no `per`");
        }
        if !bounds.contains(value) {
            self.error(path, format!("must be a number in {}, got {value}", range_text(bounds)));
            return None;
        }
        self.assumptions.push(Assumption {
            key: path.to_string(),
            value: format_number(value),
            source,
            default: false,
        });
        Some(value)
    }

    /// An uncertain number with valid range `[min, max]`.
    fn uncertain(&mut self, path: KeyPath, raw: &RawNumber, bounds: Bounds) -> Option<UncertainId> {
        let Bounds { min, max, .. } = bounds;
        let (spec, per, source) = self.spec(&path, raw)?;
        // A 90% interval must lie within the quantity's valid range; one of
        // a fraction, with no shape forced, is fitted as a logit-normal so
        // that its draws stay inside 0 to 1 rather than being clamped.
        let spec = match spec {
            DistSpec::Interval90 { p5, p95, lognormal } => {
                for (k, v) in [("p5", p5), ("p95", p95)] {
                    if v.is_finite() && !bounds.contains(v) {
                        self.error(
                            path.key(k),
                            format!(
                                "{k} = {} lies outside the valid range {}",
                                format_number(v),
                                range_text(bounds)
                            ),
                        );
                        return None;
                    }
                }
                if lognormal.is_none() && bounds.is_fraction() {
                    DistSpec::LogitInterval90 { p5, p95 }
                } else {
                    DistSpec::Interval90 { p5, p95, lognormal }
                }
            }
            other => other,
        };
        let dist = match Dist::new_checked(&spec) {
            Ok(d) => d,
            Err(e) => {
                self.error(path, e);
                return None;
            }
        };
        let (lo, hi) = dist.support();
        // A lower end written as a parameter (`low`, `min`) must itself be
        // valid when the range excludes its minimum, as the schema says.
        let lower_param = match spec {
            DistSpec::Uniform(a, _) | DistSpec::Triangular(a, _, _) | DistSpec::Pert(a, _, _) => Some(a),
            DistSpec::Normal(_, _, lower, _) => lower,
            _ => None,
        };
        let ok = if dist.is_fixed() {
            bounds.contains(lo)
        } else {
            let below = (lo.is_finite() && lo < min) || lower_param.is_some_and(|a| !bounds.contains(a));
            let above = hi.is_finite() && hi > max;
            let overlaps = lo < max && hi > min;
            !below && !above && overlaps
        };
        if !ok {
            let shown = if dist.is_fixed() {
                format_number(lo)
            } else {
                format!("[{lo}, {hi}]")
            };
            self.error(path, format!("must lie in {}, got {shown}", range_text(bounds)));
            return None;
        }
        let per = per.unwrap_or(Per::Trial);
        let value = match (raw, &spec) {
            (RawNumber::Table(t), DistSpec::Beta(p, q) | DistSpec::LogNormal(p, q)) if t.mean.is_some() => {
                describe_moments(&spec, t.mean.unwrap_or(f64::NAN), t.sd.unwrap_or(f64::NAN), *p, *q, per)
            }
            _ => describe(&spec, per),
        };
        self.assumptions.push(Assumption {
            key: path.to_string(),
            value,
            source,
            default: false,
        });
        let key = path.to_string();
        self.uncertain.push(Uncertain {
            key_hash: key_hash(&key),
            key,
            dist,
            per,
            min,
            max,
        });
        Some(self.uncertain.len() - 1)
    }

    fn spec(&mut self, path: &KeyPath, raw: &RawNumber) -> Option<(DistSpec, Option<Per>, Option<String>)> {
        match raw {
            RawNumber::Plain(v) => Some((DistSpec::Fixed(*v), None, None)),
            RawNumber::Table(t) => match table_spec(t) {
                Ok(spec) => {
                    let per = match t.per.as_deref() {
                        None => None,
                        Some("trial") => Some(Per::Trial),
                        Some("quarter") => Some(Per::Quarter),
                        Some(other) => {
                            self.error(
                                path.key("per"),
                                format!("`{other}` is not valid; use \"trial\" (drawn once per trial) or \"quarter\" (drawn each quarter)"),
                            );
                            return None;
                        }
                    };
                    Some((spec, per, t.source.clone()))
                }
                Err((key, msg)) => {
                    let p = match key {
                        Some(k) => path.key(k),
                        None => path.clone(),
                    };
                    self.error(p, msg);
                    None
                }
            },
        }
    }
}

fn range_text(bounds: Bounds) -> String {
    let Bounds { min, max, .. } = bounds;
    if bounds.min_exclusive {
        return format!("({}, {}]", format_number(min), format_number(max));
    }
    match (min.is_finite(), max.is_finite()) {
        (true, true) => format!("[{}, {}]", format_number(min), format_number(max)),
        (true, false) => format!("[{}, ∞)", format_number(min)),
        _ => "any finite value".to_string(),
    }
}

/// A number in short, exact form: the shortest round-trip digits, written
/// plainly (`25000`, `0.35`, `1234567`) unless the number is at least a
/// million or below a thousandth and scientific notation is shorter
/// (`3.2e14`, `1e12`, `5e-5`).
pub fn format_number(v: f64) -> String {
    let plain = format!("{v}");
    let scientific = format!("{v:e}");
    let large_or_small = v.abs() >= 1e6 || (v != 0.0 && v.abs() < 1e-3);
    if large_or_small && scientific.len() < plain.len() {
        scientific
    } else {
        plain
    }
}

fn describe(spec: &DistSpec, per: Per) -> String {
    let per = match per {
        Per::Trial => "once per trial",
        Per::Quarter => "each quarter",
    };
    let f = format_number;
    match *spec {
        DistSpec::Fixed(v) => f(v),
        DistSpec::Uniform(a, b) => format!("uniform({}, {}), {per}", f(a), f(b)),
        DistSpec::Normal(m, s, lo, hi) => {
            let trunc = match (lo, hi) {
                (None, None) => String::new(),
                (lo, hi) => format!(
                    " truncated to [{}, {}]",
                    lo.map(f).unwrap_or("-∞".into()),
                    hi.map(f).unwrap_or("∞".into())
                ),
            };
            format!("normal(mean {}, sd {}){trunc}, {per}", f(m), f(s))
        }
        DistSpec::LogNormal(mu, s) => format!("lognormal(mu {}, sigma {}), {per}", f(mu), f(s)),
        DistSpec::Beta(a, b) => format!("beta({}, {}), {per}", f(a), f(b)),
        DistSpec::Triangular(a, m, b) => format!("triangular({}, {}, {}), {per}", f(a), f(m), f(b)),
        DistSpec::Pert(a, m, b) => format!("PERT({}, {}, {}), {per}", f(a), f(m), f(b)),
        DistSpec::Interval90 { p5, p95, .. } => format!("90% in [{}, {}], {per}", f(p5), f(p95)),
        DistSpec::LogitInterval90 { p5, p95 } => format!("90% in [{}, {}] (logit-normal), {per}", f(p5), f(p95)),
    }
}

/// A beta or lognormal given by mean and sd, with the parameters it
/// converts to (four significant digits).
fn describe_moments(spec: &DistSpec, mean: f64, sd: f64, p: f64, q: f64, per: Per) -> String {
    let per = match per {
        Per::Trial => "once per trial",
        Per::Quarter => "each quarter",
    };
    let f = format_number;
    let r = |x: f64| format_number(crate::stats::round_significant(x, 4));
    match spec {
        DistSpec::Beta(..) => format!(
            "beta(mean {}, sd {}: alpha {}, beta {}), {per}",
            f(mean),
            f(sd),
            r(p),
            r(q)
        ),
        _ => format!(
            "lognormal(mean {}, sd {}: mu {}, sigma {}), {per}",
            f(mean),
            f(sd),
            r(p),
            r(q)
        ),
    }
}

/// Turns a distribution table into a spec; the error names the offending field.
fn table_spec(t: &RawDistTable) -> Result<DistSpec, (Option<&'static str>, String)> {
    let fields: [(&'static str, Option<f64>); 14] = [
        ("value", t.value),
        ("low", t.low),
        ("high", t.high),
        ("mean", t.mean),
        ("sd", t.sd),
        ("min", t.min),
        ("max", t.max),
        ("mu", t.mu),
        ("sigma", t.sigma),
        ("alpha", t.alpha),
        ("beta", t.beta),
        ("mode", t.mode),
        ("p5", t.p5),
        ("p95", t.p95),
    ];
    let has_interval = t.p5.is_some() || t.p95.is_some();
    // `{ dist = "beta" | "lognormal", mean, sd }`: by the moments of the
    // variable itself, converted below.
    let by_moments = (t.mean.is_some() || t.sd.is_some())
        && match t.dist.as_deref() {
            Some("beta") => t.alpha.is_none() && t.beta.is_none(),
            Some("lognormal") => t.mu.is_none() && t.sigma.is_none() && !has_interval,
            _ => false,
        };
    let kind = match t.dist.as_deref() {
        Some(k) => k,
        None if has_interval => "interval",
        None if t.value.is_some() => "fixed",
        None => {
            return Err((
                None,
                "give a `value`, a `dist` (fixed, uniform, normal, lognormal, beta, triangular, pert) or a 90% interval `{ p5, p95 }`".into(),
            ));
        }
    };
    let (allowed, needed): (&[&str], &[&str]) = match kind {
        "fixed" => (&["value"], &["value"]),
        "uniform" => (&["low", "high"], &["low", "high"]),
        "normal" if has_interval => (&["p5", "p95"], &["p5", "p95"]),
        "normal" => (&["mean", "sd", "min", "max"], &["mean", "sd"]),
        "lognormal" if has_interval => (&["p5", "p95"], &["p5", "p95"]),
        "lognormal" | "beta" if by_moments => (&["mean", "sd"], &["mean", "sd"]),
        "lognormal" => (&["mu", "sigma"], &["mu", "sigma"]),
        "beta" => (&["alpha", "beta"], &["alpha", "beta"]),
        "triangular" | "pert" => (&["min", "mode", "max"], &["min", "mode", "max"]),
        "interval" => (&["p5", "p95"], &["p5", "p95"]),
        other => {
            let kinds = ["fixed", "uniform", "normal", "lognormal", "beta", "triangular", "pert"];
            let hint = closest(other, kinds)
                .map(|k| format!("; did you mean \"{k}\"?"))
                .unwrap_or_default();
            return Err((
                Some("dist"),
                format!("unknown distribution \"{other}\"; valid: {}{hint}", kinds.join(", ")),
            ));
        }
    };
    for (name, v) in fields {
        if v.is_some() && !allowed.contains(&name) {
            return Err((
                Some(name),
                format!(
                    "`{name}` is not a parameter of this distribution (it takes {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    let or_moments = if matches!(kind, "beta" | "lognormal") && !by_moments {
        ", or mean, sd"
    } else {
        ""
    };
    for name in needed {
        if fields.iter().any(|(n, v)| n == name && v.is_none()) {
            return Err((
                None,
                format!(
                    "missing `{name}` (this distribution takes {}{or_moments})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    let g = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| *v)
            .unwrap_or(f64::NAN)
    };
    if by_moments {
        return moments_spec(kind, g("mean"), g("sd"));
    }
    Ok(match kind {
        "fixed" => DistSpec::Fixed(g("value")),
        "uniform" => DistSpec::Uniform(g("low"), g("high")),
        "normal" if has_interval => DistSpec::Interval90 {
            p5: g("p5"),
            p95: g("p95"),
            lognormal: Some(false),
        },
        "normal" => DistSpec::Normal(g("mean"), g("sd"), t.min, t.max),
        "lognormal" if has_interval => DistSpec::Interval90 {
            p5: g("p5"),
            p95: g("p95"),
            lognormal: Some(true),
        },
        "lognormal" => DistSpec::LogNormal(g("mu"), g("sigma")),
        "beta" => DistSpec::Beta(g("alpha"), g("beta")),
        "triangular" => DistSpec::Triangular(g("min"), g("mode"), g("max")),
        "pert" => DistSpec::Pert(g("min"), g("mode"), g("max")),
        _ => DistSpec::Interval90 {
            p5: g("p5"),
            p95: g("p95"),
            lognormal: None,
        },
    })
}

/// A beta or lognormal given by the mean and sd of the variable itself
/// (docs/MODEL.md section 3): beta `alpha = mean·k`, `beta = (1 − mean)·k`
/// with `k = mean(1 − mean)/sd² − 1`; lognormal `sigma² = ln(1 + sd²/mean²)`,
/// `mu = ln(mean) − sigma²/2`.
fn moments_spec(kind: &str, mean: f64, sd: f64) -> Result<DistSpec, (Option<&'static str>, String)> {
    if !(sd.is_finite() && sd > 0.0) {
        return Err((Some("sd"), format!("must be a number > 0, got {sd}")));
    }
    if kind == "beta" {
        if !(mean.is_finite() && mean > 0.0 && mean < 1.0) {
            return Err((
                Some("mean"),
                format!("the mean of a beta must lie strictly between 0 and 1, got {mean}"),
            ));
        }
        let spread = mean * (1.0 - mean);
        if sd * sd >= spread {
            return Err((
                Some("sd"),
                format!(
                    "a beta with mean {mean} must have sd below sqrt(mean·(1 − mean)) = {}, got {sd}; lower sd, or give alpha and beta",
                    format_number(round_sd(spread.sqrt()))
                ),
            ));
        }
        let k = spread / (sd * sd) - 1.0;
        if !(k.is_finite() && mean * k <= MAX_MOMENT_SHAPE && (1.0 - mean) * k <= MAX_MOMENT_SHAPE) {
            return Err((
                Some("sd"),
                format!(
                    "is too small for a beta with mean {mean} (alpha or beta would exceed {}): raise sd, or write a fixed value",
                    format_number(MAX_MOMENT_SHAPE)
                ),
            ));
        }
        return Ok(DistSpec::Beta(mean * k, (1.0 - mean) * k));
    }
    if !(mean.is_finite() && mean > 0.0) {
        return Err((
            Some("mean"),
            format!("the mean of a lognormal must be a number > 0, got {mean}"),
        ));
    }
    let sigma2 = (sd / mean).powi(2).ln_1p();
    if !(sigma2.is_finite() && sigma2 > 0.0) {
        return Err((
            Some("sd"),
            format!(
                "sd {sd} against mean {mean} gives a lognormal sigma of {}: sd/mean must lie between about 1e-150 and 1e150; raise sd, or write a fixed value",
                sigma2.sqrt()
            ),
        ));
    }
    Ok(DistSpec::LogNormal(mean.ln() - sigma2 / 2.0, sigma2.sqrt()))
}

/// Largest alpha or beta that `{ dist = "beta", mean, sd }` may give: far
/// beyond any belief a scenario states (sd about 1e-6 of the mean), and
/// where the beta sampler and quantiles are still exact.
const MAX_MOMENT_SHAPE: f64 = 1e12;

/// The largest sd allowed, shown to four significant digits rounded down,
/// so that the number shown is itself allowed.
fn round_sd(x: f64) -> f64 {
    let scale = 10f64.powi(3 - x.log10().floor() as i32);
    (x * scale).floor() / scale
}

fn lookup<T>(map: &IndexMap<String, T>, name: &str) -> Option<usize> {
    map.get_index_of(name)
}

fn undefined<T>(kind: &str, name: &str, map: &IndexMap<String, T>) -> String {
    let names: Vec<&str> = map.keys().map(String::as_str).collect();
    let hint = closest(name, names.iter().copied())
        .map(|c| format!("; did you mean \"{c}\"?"))
        .unwrap_or_default();
    if names.is_empty() {
        format!("{kind} \"{name}\" is not defined (no [{kind}.*] tables in this file)")
    } else {
        format!("{kind} \"{name}\" is not defined; defined: {}{hint}", names.join(", "))
    }
}

/// Validates the `[[correlation]]` tables against the uncertain numbers
/// built so far (docs/MODEL.md section 3, "Correlations and sampling").
#[allow(clippy::needless_range_loop)] // matrix entries by (row, column)
fn correlations(raw: &RawScenario, ctx: &mut Ctx) -> Vec<Correlation> {
    use crate::copula::{
        PSD_TOLERANCE, cholesky, min_eigenvalue, nearest_correlation, pearson_to_spearman, spearman_to_pearson,
    };
    let mut out = Vec::new();
    // Which table each uncertain number is already correlated in.
    let mut owner: Vec<Option<usize>> = vec![None; ctx.uncertain.len()];
    for (i, c) in raw.correlation.iter().enumerate() {
        let p = KeyPath::root().key("correlation").index(i);
        let mut ok = true;
        let n = c.inputs.len();
        if n < 2 {
            ctx.error(
                p.key("inputs"),
                format!("a correlation needs at least 2 inputs, got {n}"),
            );
            ok = false;
        }
        if n > MAX_CORRELATED_INPUTS {
            ctx.error(
                p.key("inputs"),
                format!("{n} inputs is beyond the limit of {MAX_CORRELATED_INPUTS} in one correlation"),
            );
            continue;
        }
        let mut ids = Vec::with_capacity(n);
        for (j, key) in c.inputs.iter().enumerate() {
            let at = p.key("inputs").index(j);
            if c.inputs[..j].contains(key) {
                ctx.error(at, format!("`{key}` is listed twice; each input appears once"));
                ok = false;
                continue;
            }
            let Some(id) = ctx.uncertain.iter().position(|u| &u.key == key) else {
                let hint = closest(
                    key,
                    ctx.uncertain
                        .iter()
                        .filter(|u| !u.dist.is_fixed())
                        .map(|u| u.key.as_str()),
                )
                .map(|c| format!("; did you mean \"{c}\"?"))
                .unwrap_or_default();
                ctx.error(
                    at,
                    format!("`{key}` is not an uncertain number written in this file (give the key path of one, such as \"training.mfu\"){hint}"),
                );
                ok = false;
                continue;
            };
            let u = &ctx.uncertain[id];
            if u.dist.is_fixed() {
                ctx.error(
                    at,
                    format!("`{key}` is a fixed number; only numbers with a distribution can be correlated"),
                );
                ok = false;
            } else if u.per == Per::Quarter {
                ctx.error(
                    at,
                    format!("`{key}` is drawn per quarter; correlations are per trial, between numbers drawn once per trial (leave out `per = \"quarter\"`)"),
                );
                ok = false;
            } else if let Some(other) = owner[id] {
                ctx.error(
                    at,
                    format!("`{key}` is already in correlation[{other}]; a number may be in one correlation only, so write the inputs of both in one `matrix`"),
                );
                ok = false;
            } else {
                owner[id] = Some(i);
            }
            ids.push(id);
        }
        // The Spearman matrix as written.
        let rank: Option<Vec<Vec<f64>>> = match (c.rank, &c.matrix) {
            (Some(_), Some(_)) => {
                ctx.error(p.key("matrix"), "give `rank` (two inputs) or `matrix`, not both");
                None
            }
            (None, None) => {
                ctx.error(p.clone(), "a correlation needs `rank` (two inputs) or `matrix`");
                None
            }
            (Some(r), None) => {
                if n != 2 {
                    ctx.error(
                        p.key("rank"),
                        format!("`rank` correlates exactly two inputs, got {n}; give a {n}×{n} `matrix` instead"),
                    );
                    None
                } else if !(-1.0..=1.0).contains(&r) {
                    ctx.error(p.key("rank"), format!("must be a rank correlation in [-1, 1], got {r}"));
                    None
                } else {
                    Some(vec![vec![1.0, r], vec![r, 1.0]])
                }
            }
            (None, Some(m)) => {
                let mp = p.key("matrix");
                let mut good = true;
                if m.len() != n {
                    ctx.error(
                        mp.clone(),
                        format!("must have {n} rows, one per input, got {}", m.len()),
                    );
                    good = false;
                }
                for (r, row) in m.iter().enumerate() {
                    if row.len() != n {
                        ctx.error(
                            mp.index(r),
                            format!("must have {n} entries, one per input, got {}", row.len()),
                        );
                        good = false;
                    }
                }
                if good {
                    for r in 0..n {
                        for s in 0..n {
                            let v = m[r][s];
                            let at = mp.index(r).index(s);
                            if r == s && v != 1.0 {
                                ctx.error(at, format!("a diagonal entry must be 1, got {v}"));
                                good = false;
                            } else if !(-1.0..=1.0).contains(&v) {
                                ctx.error(at, format!("must be a rank correlation in [-1, 1], got {v}"));
                                good = false;
                            } else if s > r && v != m[s][r] {
                                ctx.error(
                                    at,
                                    format!(
                                        "the matrix must be symmetric: [{r}][{s}] is {v} but [{s}][{r}] is {}",
                                        m[s][r]
                                    ),
                                );
                                good = false;
                            }
                        }
                    }
                }
                good.then(|| m.clone())
            }
        };
        let (Some(mut rank), true) = (rank, ok) else { continue };
        let mut pearson: Vec<Vec<f64>> = rank
            .iter()
            .map(|row| row.iter().map(|&r| spearman_to_pearson(r)).collect())
            .collect();
        for (r, row) in pearson.iter_mut().enumerate() {
            row[r] = 1.0;
        }
        let lambda = min_eigenvalue(&pearson);
        let mut repaired = false;
        if lambda < -PSD_TOLERANCE {
            let at = if c.matrix.is_some() { p.key("matrix") } else { p.clone() };
            if c.repair.is_none() {
                ctx.error(
                    at,
                    format!("the correlation matrix is not positive semi-definite (its copula matrix 2·sin(π·r/6) has smallest eigenvalue {lambda:.4}), so no joint distribution has these rank correlations; fix the entries, or add `repair = \"nearest\"` to use the nearest matrix that is"),
                );
                continue;
            }
            pearson = nearest_correlation(&pearson);
            let new_rank: Vec<Vec<f64>> = pearson
                .iter()
                .enumerate()
                .map(|(r, row)| {
                    row.iter()
                        .enumerate()
                        .map(|(s, &x)| if r == s { 1.0 } else { pearson_to_spearman(x) })
                        .collect()
                })
                .collect();
            let mut worst = (0.0, 0, 0);
            for r in 0..n {
                for s in r + 1..n {
                    let d = (new_rank[r][s] - rank[r][s]).abs();
                    if d > worst.0 {
                        worst = (d, r, s);
                    }
                }
            }
            let (_, r, s) = worst;
            ctx.warn(
                at,
                format!(
                    "the correlation matrix is not positive semi-definite (smallest eigenvalue {lambda:.4}); repaired to the nearest one that is (eigenvalues clipped at 0, rescaled to a unit diagonal): the largest change is [{r}][{s}], {} -> {:.4}",
                    format_number(rank[r][s]),
                    new_rank[r][s]
                ),
            );
            rank = new_rank;
            repaired = true;
        }
        out.push(Correlation {
            inputs: ids,
            rank,
            factor: cholesky(&pearson),
            source: c.source.clone(),
            repaired,
        });
    }
    out
}

/// A key of `[inference]` and whether the file writes it.
type WrittenKey = (&'static str, bool);

/// The keys of `[inference]`'s chip form and of its token form, each with
/// whether the file writes it.
fn demand_keys(inf: &scenario::RawInference) -> ([WrittenKey; 2], [WrittenKey; 5]) {
    (
        [
            ("initial_demand_chips", inf.initial_demand_chips.is_some()),
            ("growth_per_quarter", inf.growth_per_quarter.is_some()),
        ],
        [
            ("tokens_per_day", inf.tokens_per_day.is_some()),
            ("token_growth_per_quarter", inf.token_growth_per_quarter.is_some()),
            ("flop_per_token", inf.flop_per_token.is_some()),
            (
                "flop_per_token_change_per_quarter",
                inf.flop_per_token_change_per_quarter.is_some(),
            ),
            ("serving_utilization", inf.serving_utilization.is_some()),
        ],
    )
}

/// `[inference]`'s demand in exactly one of its two forms: in chips, or in
/// tokens as soon as any token key is written. Keys of the other form, and
/// required keys left out, are errors that say what to write.
fn inference_demand(inf: &scenario::RawInference, p: &KeyPath, ctx: &mut Ctx) -> Option<Demand> {
    let (chip_keys, token_keys) = demand_keys(inf);
    if !token_keys.iter().any(|(_, written)| *written) {
        let Some(initial) = &inf.initial_demand_chips else {
            ctx.error(
                p.key("initial_demand_chips"),
                "inference demand is missing: write `initial_demand_chips = …` (unit chips in the first quarter, with an optional `growth_per_quarter`), or the token form: `tokens_per_day`, `flop_per_token` and `serving_utilization` (with optional `token_growth_per_quarter` and `flop_per_token_change_per_quarter`)",
            );
            if let Some(g) = &inf.growth_per_quarter {
                ctx.uncertain(p.key("growth_per_quarter"), g, GROWTH_PER_QUARTER);
            }
            return None;
        };
        let initial = ctx.uncertain(p.key("initial_demand_chips"), initial, DEMAND_CHIPS);
        ctx.used_once(&p.key("initial_demand_chips"), initial, "in the first quarter");
        let growth = inf
            .growth_per_quarter
            .as_ref()
            .and_then(|g| ctx.uncertain(p.key("growth_per_quarter"), g, GROWTH_PER_QUARTER));
        return Some(Demand::Chips {
            initial_demand_chips: initial?,
            growth_per_quarter: growth,
        });
    }
    // The token form.
    let mut mixed = false;
    for (key, _) in chip_keys.iter().filter(|(_, written)| *written) {
        ctx.error(
            p.key(key),
            format!(
                "`{key}` belongs to demand in chips, but this table states demand in tokens: use one form, either remove `{key}` (and any other chip-form key) or remove the token keys ({})",
                written_list(&token_keys)
            ),
        );
        mixed = true;
    }
    for (key, example) in [
        (
            "tokens_per_day",
            "tokens served per day in the first quarter, such as `tokens_per_day = { p5 = 2e12, p95 = 7e12 }`",
        ),
        (
            "flop_per_token",
            "FLOP to serve one token in the first quarter, about 2 x the active parameters, such as `flop_per_token = 7.4e10`",
        ),
        (
            "serving_utilization",
            "the fraction of peak FLOP/s achieved while serving, above 0 and at most 1, such as `serving_utilization = { p5 = 0.1, p95 = 0.35 }`",
        ),
    ] {
        if token_keys.iter().any(|(k, written)| *k == key && !written) {
            ctx.error(
                p.key(key),
                format!(
                    "demand in tokens needs `{key}`: {example} (or state demand in chips with `initial_demand_chips` instead of {})",
                    written_list(&token_keys)
                ),
            );
        }
    }
    let one = |ctx: &mut Ctx, key: &str, raw: &Option<RawNumber>, bounds: Bounds| {
        raw.as_ref().and_then(|r| ctx.uncertain(p.key(key), r, bounds))
    };
    let tokens = one(ctx, "tokens_per_day", &inf.tokens_per_day, TOKENS_PER_DAY);
    ctx.used_once(&p.key("tokens_per_day"), tokens, "in the first quarter");
    let token_growth = one(
        ctx,
        "token_growth_per_quarter",
        &inf.token_growth_per_quarter,
        GROWTH_PER_QUARTER,
    );
    let flop = one(ctx, "flop_per_token", &inf.flop_per_token, FLOP_PER_TOKEN);
    ctx.used_once(&p.key("flop_per_token"), flop, "in the first quarter");
    let change = one(
        ctx,
        "flop_per_token_change_per_quarter",
        &inf.flop_per_token_change_per_quarter,
        FLOP_PER_TOKEN_CHANGE,
    );
    let utilization = one(
        ctx,
        "serving_utilization",
        &inf.serving_utilization,
        SERVING_UTILIZATION,
    );
    if mixed {
        return None;
    }
    Some(Demand::Tokens {
        tokens_per_day: tokens?,
        token_growth_per_quarter: token_growth,
        flop_per_token: flop?,
        flop_per_token_change_per_quarter: change,
        serving_utilization: utilization?,
    })
}

/// The written keys of `keys`, as "`a`, `b`".
fn written_list(keys: &[WrittenKey]) -> String {
    keys.iter()
        .filter(|(_, written)| *written)
        .map(|(k, _)| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn build(raw: &RawScenario, ctx: &mut Ctx) -> Option<Model> {
    let root = KeyPath::root();
    let meta = root.key("scenario");
    let start = ctx.quarter(meta.key("start"), &raw.scenario.start);
    let horizon = raw.scenario.horizon_quarters.unwrap_or(DEFAULT_HORIZON_QUARTERS);
    if horizon == 0 || horizon > MAX_HORIZON_QUARTERS {
        ctx.error(
            meta.key("horizon_quarters"),
            format!("must be between 1 and {MAX_HORIZON_QUARTERS} quarters, got {horizon}"),
        );
    }
    let trials = raw.scenario.trials.unwrap_or(DEFAULT_TRIALS);
    if trials == 0 || trials > MAX_TRIALS {
        ctx.error(
            meta.key("trials"),
            format!("must be between 1 and {MAX_TRIALS}, got {trials}"),
        );
    }
    if let Some(n) = raw.scenario.min_effective_sample_size {
        if n == 0 || n > MAX_TRIALS {
            ctx.error(
                meta.key("min_effective_sample_size"),
                format!("must be between 1 and {MAX_TRIALS} effective trials, got {n}"),
            );
        }
    }
    let start = start?;
    if horizon == 0 || horizon > MAX_HORIZON_QUARTERS {
        return None;
    }
    let cal = Calendar::new(start, horizon);

    // Chips.
    if raw.chips.is_empty() {
        ctx.error(
            root.clone(),
            "the scenario defines no chips; add a [chips.<name>] table with peak_flops",
        );
    }
    let mut chips = Vec::new();
    for (name, c) in &raw.chips {
        let p = root.key("chips").key(name);
        let peak = ctx.fixed(p.key("peak_flops"), &c.peak_flops, PEAK_FLOPS);
        let afr = c
            .annual_failure_rate
            .as_ref()
            .and_then(|r| ctx.uncertain(p.key("annual_failure_rate"), r, FRACTION));
        let domestic = c.domestic.unwrap_or(DEFAULT_DOMESTIC);
        let priority = |ctx: &mut Ctx, key: &str, given: Option<u64>, default: u64| match given {
            Some(v) if !(1..=MAX_PRIORITY).contains(&v) => {
                ctx.error(
                    p.key(key),
                    format!("must be a whole number from 1 (first) to {MAX_PRIORITY}, got {v}"),
                );
                default
            }
            Some(v) => v,
            None => default,
        };
        let training_priority = priority(
            ctx,
            "training_priority",
            c.training_priority,
            DEFAULT_TRAINING_PRIORITY_DOMESTIC + u64::from(!domestic),
        );
        let inference_priority = priority(
            ctx,
            "inference_priority",
            c.inference_priority,
            DEFAULT_INFERENCE_PRIORITY_FOREIGN + u64::from(domestic),
        );
        let derating = match &c.derating {
            Some(r) => ctx.fixed(p.key("derating"), r, DERATING).unwrap_or(1.0),
            None => 1.0,
        };
        let memory_gb = c
            .memory_gb
            .as_ref()
            .and_then(|r| ctx.fixed(p.key("memory_gb"), r, MEMORY_GB));
        let run_failure = match (&c.run_failure_probability, &c.run_failure_lost_quarters) {
            (Some(prob), lost) => {
                if raw.training.max_run_quarters.is_none() {
                    ctx.error(
                        p.key("run_failure_probability"),
                        "a run that fails restarts, so platform risk needs runs: set training.max_run_quarters (e.g. 3)",
                    );
                }
                let prob = ctx.uncertain(p.key("run_failure_probability"), prob, FRACTION);
                let lost = ctx.uncertain(
                    p.key("run_failure_lost_quarters"),
                    lost.as_ref()
                        .unwrap_or(&RawNumber::Plain(DEFAULT_RUN_FAILURE_LOST_QUARTERS)),
                    SLIP_QUARTERS,
                );
                prob.zip(lost)
            }
            (None, Some(_)) => {
                ctx.error(
                    p.key("run_failure_lost_quarters"),
                    "goes with `run_failure_probability` (the chance a run on this chip type fails), which is not given",
                );
                None
            }
            (None, None) => None,
        };
        chips.push(Chip {
            name: name.clone(),
            // A derating of 1 (the default) leaves the value bit for bit.
            peak_flops: peak.unwrap_or(1.0) * derating,
            derating,
            memory_gb,
            run_failure,
            run_failure_stream: key_hash(&format!("{p}.run_failure")),
            domestic,
            annual_failure_rate: afr,
            failure_stream: key_hash(&format!("{p}.failures")),
            training_priority,
            inference_priority,
        });
    }

    // Supply lines.
    let mut supply = Vec::new();
    let mut purchase_ratios = Vec::new();
    for (name, s) in &raw.supply {
        let p = root.key("supply").key(name);
        let link = suppliers::line_link(raw, s, &p, ctx);
        let chip = match &link {
            Some(l) => l.chip,
            None => {
                let chip = lookup(&raw.chips, &s.chip);
                if chip.is_none() {
                    let hint = if s.chip == suppliers::NEWEST {
                        "; \"newest\" is a supply line's choice only with `supplier`".to_string()
                    } else {
                        String::new()
                    };
                    ctx.error(
                        p.key("chip"),
                        format!("{}{hint}", undefined("chips", &s.chip, &raw.chips)),
                    );
                }
                chip
            }
        };
        let mut orders = vec![0u64; horizon as usize];
        for (i, o) in s.orders.iter().enumerate() {
            let op = p.key("orders").index(i);
            let chips_n = ctx.chips(op.key("chips"), o.chips);
            let range = match (&o.quarter, &o.from, &o.to) {
                (Some(q), None, None) => {
                    let q = ctx.quarter(op.key("quarter"), q);
                    q.map(|q| (q, q))
                }
                (None, Some(f), Some(t)) => {
                    let f = ctx.quarter(op.key("from"), f);
                    let t = ctx.quarter(op.key("to"), t);
                    match (f, t) {
                        (Some(f), Some(t)) if f > t => {
                            ctx.error(op.key("to"), format!("`to` ({t}) is before `from` ({f})"));
                            None
                        }
                        (Some(f), Some(t)) => Some((f, t)),
                        _ => None,
                    }
                }
                _ => {
                    ctx.error(op.clone(), "an order needs either `quarter` or both `from` and `to`");
                    None
                }
            };
            if let Some((f, t)) = range {
                let mut dropped = 0;
                for k in 0..=f.quarters_until(t) {
                    let q = f.plus(k as u32);
                    // Orders outside the horizon are never placed; ignore them.
                    match cal.index_of(q) {
                        Some(idx) => orders[idx as usize] = orders[idx as usize].saturating_add(chips_n),
                        None => dropped += 1,
                    }
                }
                if dropped > 0 && chips_n > 0 {
                    let span = if f == t {
                        format!("{f} lies")
                    } else {
                        format!("{dropped} of its quarters ({f}..={t}) lie")
                    };
                    ctx.warn(
                        op.clone(),
                        format!(
                            "this order is dropped where it falls outside the horizon: {span} outside {}..={}",
                            cal.start(),
                            cal.quarter(horizon - 1)
                        ),
                    );
                }
            }
        }
        if orders.iter().all(|&n| n == 0) {
            ctx.warn(
                p.key("orders"),
                format!(
                    "this supply line orders no chips within the horizon {}..={}, so it delivers nothing",
                    cal.start(),
                    cal.quarter(horizon - 1)
                ),
            );
        }
        if let Some(q) = orders.iter().position(|&n| n > MAX_CHIPS) {
            ctx.error(
                p.key("orders"),
                format!(
                    "{} chips ordered in {} is beyond the limit of {MAX_CHIPS}",
                    orders[q],
                    cal.quarter(q as u32)
                ),
            );
        }
        let fill = match &link {
            Some(l) => l.share.map(|share| Fill::Supplier {
                supplier: l.supplier,
                tier: l.tier,
                share,
                newest: l.newest,
            }),
            None => match &s.fill_rate {
                Some(r) => ctx.uncertain(p.key("fill_rate"), r, FRACTION),
                None => ctx.uncertain(p.key("fill_rate"), &RawNumber::Plain(DEFAULT_FILL_RATE), FRACTION),
            }
            .map(Fill::Rate),
        };
        let lead = match &s.lead_time_quarters {
            Some(r) => ctx.uncertain(p.key("lead_time_quarters"), r, DELAY_QUARTERS),
            None => ctx.uncertain(
                p.key("lead_time_quarters"),
                &RawNumber::Plain(DEFAULT_LEAD_TIME_QUARTERS),
                DELAY_QUARTERS,
            ),
        };
        let mut gates = Vec::new();
        for (i, g) in s.gates.iter().flatten().enumerate() {
            match lookup(&raw.gates, g) {
                Some(_) if s.gates.iter().flatten().take(i).any(|h| h == g) => {
                    ctx.error(p.key("gates").index(i), format!("gate \"{g}\" is named twice"))
                }
                Some(gi) => gates.push(gi),
                None => ctx.error(p.key("gates").index(i), undefined("gates", g, &raw.gates)),
            }
        }
        let quota = s
            .quota_chips_per_quarter
            .as_ref()
            .and_then(|r| ctx.uncertain(p.key("quota_chips_per_quarter"), r, QUOTA_CHIPS));
        let ratio = s
            .domestic_purchase_ratio
            .as_ref()
            .and_then(|r| ctx.fixed(p.key("domestic_purchase_ratio"), r, DOMESTIC_PURCHASE_RATIO));
        if ratio.is_some() && chip.is_some_and(|c| raw.chips[c].domestic.unwrap_or(DEFAULT_DOMESTIC)) {
            ctx.error(
                p.key("domestic_purchase_ratio"),
                format!(
                    "ties a foreign line's fills to domestic orders, but this line's chip \"{}\" is domestic; \
                     remove it, or set it on a line of a chip with domestic = false",
                    s.chip
                ),
            );
        }
        supply.push(SupplyLine {
            name: name.clone(),
            chip: chip.unwrap_or(0),
            orders,
            fill: fill.unwrap_or(Fill::Rate(0)),
            lead_time_quarters: lead.unwrap_or(0),
            backlog: s.backlog.unwrap_or(DEFAULT_BACKLOG),
            delivery_stream: key_hash(&format!("{p}.delivery")),
            gates,
            quota_chips_per_quarter: quota,
            domestic_cap: None,
        });
        purchase_ratios.push(ratio);
    }
    // Domestic-purchase conditions: caps from the domestic lines' orders.
    let mut domestic_ordered = vec![0u64; horizon as usize];
    let mut total = 0u64;
    for (q, slot) in domestic_ordered.iter_mut().enumerate() {
        for line in supply.iter().filter(|l| chips.get(l.chip).is_some_and(|c| c.domestic)) {
            total = total.saturating_add(line.orders[q]);
        }
        *slot = total;
    }
    for ((line, ratio), name) in supply.iter_mut().zip(&purchase_ratios).zip(raw.supply.keys()) {
        if ratio.is_some() && total == 0 {
            ctx.warn(
                root.key("supply").key(name).key("domestic_purchase_ratio"),
                "no domestic supply line orders any chips within the horizon, so this line fills nothing",
            );
        }
        if let Some(r) = ratio {
            line.domestic_cap = Some(
                domestic_ordered
                    .iter()
                    .map(|&d| (d as f64 / r).floor() as u64)
                    .collect(),
            );
        }
    }

    // Shocks.
    let mut shocks = Vec::new();
    for (name, s) in &raw.shocks {
        let p = root.key("shocks").key(name);
        let trigger = match (&s.at, &s.hazard_per_quarter) {
            (Some(at), None) => {
                if s.from.is_some() || s.until.is_some() {
                    ctx.error(p.clone(), "`from`/`until` go with `hazard_per_quarter`, not with `at`");
                }
                let q = ctx.quarter_index(p.key("at"), at, &cal, "shock quarter");
                let prob = match &s.probability {
                    Some(r) => ctx.fixed(p.key("probability"), r, FRACTION),
                    None => Some(DEFAULT_SHOCK_PROBABILITY),
                };
                match (q, prob) {
                    (Some(quarter), Some(probability)) => Some(Trigger::At { quarter, probability }),
                    _ => None,
                }
            }
            (None, Some(h)) => {
                if s.probability.is_some() {
                    ctx.error(
                        p.key("probability"),
                        "`probability` goes with `at`; a hazard shock uses `hazard_per_quarter` alone",
                    );
                }
                let hazard = ctx.fixed(p.key("hazard_per_quarter"), h, FRACTION);
                let from = match &s.from {
                    Some(f) => ctx.quarter_index(p.key("from"), f, &cal, "`from`"),
                    None => Some(0),
                };
                let until = match &s.until {
                    Some(u) => ctx.quarter_index(p.key("until"), u, &cal, "`until`"),
                    None => Some(horizon - 1),
                };
                match (hazard, from, until) {
                    (Some(hazard), Some(from), Some(until)) if from <= until => {
                        Some(Trigger::Hazard { hazard, from, until })
                    }
                    (Some(_), Some(_), Some(_)) => {
                        ctx.error(p.key("until"), "`until` is before `from`");
                        None
                    }
                    _ => None,
                }
            }
            (Some(_), Some(_)) => {
                ctx.error(
                    p.clone(),
                    "give either `at` (with `probability`) or `hazard_per_quarter`, not both",
                );
                None
            }
            (None, None) => {
                ctx.error(
                    p.clone(),
                    "a shock needs `at = \"YYYYQn\"` (with `probability`) or `hazard_per_quarter`",
                );
                None
            }
        };
        let duration = s
            .duration_quarters
            .as_ref()
            .and_then(|r| ctx.uncertain(p.key("duration_quarters"), r, DELAY_QUARTERS));
        ctx.used_once(&p.key("duration_quarters"), duration, "when the shock starts");
        if s.effects.is_empty() {
            ctx.error(p.key("effects"), "a shock needs at least one entry in `effects`");
        }
        let mut effects = Vec::new();
        let mut gate_effects = Vec::new();
        let mut supplier_effects = Vec::new();
        for (i, e) in s.effects.iter().enumerate() {
            let ep = p.key("effects").index(i);
            if let Some(supplier) = &e.supplier {
                if let Some(effect) = suppliers::effect(raw, e, supplier, &ep, ctx) {
                    supplier_effects.push(effect);
                }
                continue;
            }
            if let Some(k) = suppliers::effect_key_written(e) {
                ctx.error(
                    ep.key(k),
                    format!(
                        "`{k}` acts on a supplier's inputs; add `supplier = \"<name>\"` (and no `supply` or `gate`)"
                    ),
                );
                continue;
            }
            let supply_name = match (&e.supply, &e.gate) {
                (Some(line), None) => {
                    if e.open.is_some() {
                        ctx.error(ep.key("open"), "`open` goes with `gate`, not with `supply`");
                    }
                    line
                }
                (None, Some(gate)) => {
                    let g = lookup(&raw.gates, gate);
                    if g.is_none() {
                        ctx.error(ep.key("gate"), undefined("gates", gate, &raw.gates));
                    }
                    ctx.refuse(
                        &ep,
                        &[
                            ("fill_rate_multiplier", e.fill_rate_multiplier.is_some()),
                            ("add_lead_time_quarters", e.add_lead_time_quarters.is_some()),
                            ("stop", e.stop.is_some()),
                            ("share_multiplier", e.share_multiplier.is_some()),
                        ],
                        |key| format!("`{key}` acts on a supply line; an effect on a gate has only `gate` and `open`"),
                    );
                    match e.open {
                        Some(open) => gate_effects.push(GateEffect {
                            gate: g.unwrap_or(0),
                            open,
                        }),
                        None => ctx.error(
                            ep.clone(),
                            "an effect on a gate needs `open = true` (held open) or `open = false` (held closed)",
                        ),
                    }
                    continue;
                }
                (Some(_), Some(_)) => {
                    ctx.error(
                        ep.clone(),
                        "an effect acts on one supply line (`supply`) or on one gate (`gate`), not both",
                    );
                    continue;
                }
                (None, None) => {
                    ctx.error(
                        ep.clone(),
                        "an effect needs `supply = \"<line>\"` (with `fill_rate_multiplier`, `add_lead_time_quarters`, `share_multiplier` or `stop = true`), `gate = \"<gate>\"` with `open`, or `supplier = \"<supplier>\"` with an input multiplier",
                    );
                    continue;
                }
            };
            let line = lookup(&raw.supply, supply_name);
            if line.is_none() {
                ctx.error(ep.key("supply"), undefined("supply", supply_name, &raw.supply));
            }
            let mult = e
                .fill_rate_multiplier
                .as_ref()
                .and_then(|r| ctx.uncertain(ep.key("fill_rate_multiplier"), r, FILL_RATE_MULTIPLIER));
            let add = e
                .add_lead_time_quarters
                .as_ref()
                .and_then(|r| ctx.uncertain(ep.key("add_lead_time_quarters"), r, DELAY_QUARTERS));
            let share_mult = e
                .share_multiplier
                .as_ref()
                .and_then(|r| ctx.uncertain(ep.key("share_multiplier"), r, INPUT_MULTIPLIER));
            let supplied = line.is_some_and(|l| raw.supply[l].supplier.is_some());
            if supplied && e.fill_rate_multiplier.is_some() {
                ctx.error(
                    ep.key("fill_rate_multiplier"),
                    format!(
                        "supply line \"{supply_name}\" buys from a supplier and has no fill rate; use `share_multiplier`"
                    ),
                );
            }
            if line.is_some() && !supplied && e.share_multiplier.is_some() {
                ctx.error(
                    ep.key("share_multiplier"),
                    format!("supply line \"{supply_name}\" has no `supplier`, so no share; use `fill_rate_multiplier`"),
                );
            }
            let stop = e.stop.unwrap_or(DEFAULT_STOP);
            if !stop
                && e.fill_rate_multiplier.is_none()
                && e.add_lead_time_quarters.is_none()
                && e.share_multiplier.is_none()
            {
                ctx.error(
                    ep.clone(),
                    "an effect needs `fill_rate_multiplier`, `add_lead_time_quarters`, `share_multiplier` or `stop = true`",
                );
            }
            effects.push(Effect {
                supply: line.unwrap_or(0),
                fill_rate_multiplier: mult,
                add_lead_time_quarters: add,
                stop,
                share_multiplier: share_mult,
            });
        }
        if let Some(trigger) = trigger {
            shocks.push(Shock {
                name: name.clone(),
                trigger,
                duration_quarters: duration,
                effects,
                gate_effects,
                supplier_effects,
                occurrence_stream: key_hash(&format!("{p}.occurrence")),
            });
        }
    }

    // Gates.
    let mut gates = Vec::new();
    for (name, g) in &raw.gates {
        let p = root.key("gates").key(name);
        let close = g
            .close_probability
            .as_ref()
            .and_then(|r| ctx.uncertain(p.key("close_probability"), r, FRACTION));
        let open = g
            .open_probability
            .as_ref()
            .and_then(|r| ctx.uncertain(p.key("open_probability"), r, FRACTION));
        let mut events = vec![None; horizon as usize];
        for (i, e) in g.events.iter().enumerate() {
            let ep = p.key("events").index(i);
            if let Some(q) = ctx.quarter_index(ep.key("quarter"), &e.quarter, &cal, "gate event") {
                if events[q as usize].is_some() {
                    ctx.error(
                        ep.key("quarter"),
                        format!("another event of this gate is already in {}", cal.quarter(q)),
                    );
                }
                events[q as usize] = Some(e.open);
            }
        }
        let from = match &g.from {
            Some(f) => ctx.quarter_index(p.key("from"), f, &cal, "`from`"),
            None => Some(0),
        };
        let until = match &g.until {
            Some(u) => ctx.quarter_index(p.key("until"), u, &cal, "`until`"),
            None => Some(horizon - 1),
        };
        if let (Some(f), Some(u)) = (from, until) {
            if f > u {
                ctx.error(p.key("until"), "`until` is before `from`");
            }
        }
        gates.push(Gate {
            chance: from.unwrap_or(0)..=until.unwrap_or(0),
            name: name.clone(),
            initially_open: g.initially_open.unwrap_or(DEFAULT_GATE_INITIALLY_OPEN),
            close_probability: close,
            open_probability: open,
            events,
            stream: key_hash(&format!("{p}.transitions")),
        });
    }

    // Suppliers.
    let suppliers = suppliers::build(raw, ctx, &cal, &chips);

    // Fleet at start.
    let mut fleet_inference = vec![0u64; chips.len()];
    let mut fleet_training = vec![0u64; chips.len()];
    for (name, f) in &raw.fleet {
        let p = root.key("fleet").key(name);
        match lookup(&raw.chips, name) {
            Some(c) => {
                fleet_inference[c] = ctx.chips(p.key("inference"), f.inference.unwrap_or(0));
                fleet_training[c] = ctx.chips(p.key("training"), f.training.unwrap_or(0));
            }
            None => ctx.error(p, undefined("chips", name, &raw.chips)),
        }
    }

    // Every count the engine keeps is at most this total (section 7 of
    // docs/MODEL.md), so bounding it keeps them exact and free of overflow.
    let fleet_total: u128 = fleet_inference
        .iter()
        .chain(&fleet_training)
        .map(|&n| u128::from(n))
        .sum();
    let mut total = fleet_total;
    for (line, name) in supply.iter().zip(raw.supply.keys()) {
        total += line.orders.iter().map(|&n| u128::from(n)).sum::<u128>();
        if total > u128::from(MAX_TOTAL_CHIPS) {
            let all: u128 = fleet_total
                + supply
                    .iter()
                    .flat_map(|l| &l.orders)
                    .map(|&n| u128::from(n))
                    .sum::<u128>();
            ctx.error(
                root.key("supply").key(name).key("orders"),
                format!(
                    "the chips ordered by all supply lines within the horizon plus the starting fleet add up to {all}, beyond the limit of 2^53 = {MAX_TOTAL_CHIPS} (this line's orders cross it); order fewer chips or shorten the horizon"
                ),
            );
            break;
        }
    }

    // Inference demand.
    let inference = raw.inference.as_ref().and_then(|inf| {
        let p = root.key("inference");
        let unit = lookup(&raw.chips, &inf.unit_chip);
        if unit.is_none() {
            ctx.error(p.key("unit_chip"), undefined("chips", &inf.unit_chip, &raw.chips));
        }
        let demand = inference_demand(inf, &p, ctx);
        Some(Inference {
            unit_chip: unit?,
            demand: demand?,
        })
    });

    // Allocation.
    let policy = match &raw.allocation {
        None => Some(Policy::InferenceFirst),
        Some(a) => {
            let p = root.key("allocation");
            match a.policy {
                RawPolicy::InferenceFirst => {
                    if a.training_share.is_some() || a.reserve_chips.is_some() {
                        ctx.error(p.clone(), "inference_first takes no training_share or reserve_chips");
                    }
                    Some(Policy::InferenceFirst)
                }
                RawPolicy::FixedShare => match &a.training_share {
                    Some(s) => ctx.fixed(p.key("training_share"), s, FRACTION).map(Policy::FixedShare),
                    None => {
                        ctx.error(
                            p.key("policy"),
                            "fixed_share needs `training_share` (fraction of new chips for training, 0 to 1)",
                        );
                        None
                    }
                },
                RawPolicy::TrainingReserve => match a.reserve_chips {
                    Some(n) => Some(Policy::TrainingReserve(ctx.chips(p.key("reserve_chips"), n))),
                    None => {
                        ctx.error(
                            p.key("policy"),
                            "training_reserve needs `reserve_chips` (chips training is filled up to first)",
                        );
                        None
                    }
                },
            }
        }
    };

    // Training.
    let t = &raw.training;
    let tp = root.key("training");
    let earliest = match &t.earliest_start {
        Some(q) => ctx.quarter_index(tp.key("earliest_start"), q, &cal, "earliest start"),
        None => Some(0),
    };
    let min_cluster = ctx
        .chips(
            tp.key("min_cluster_chips"),
            t.min_cluster_chips.unwrap_or(DEFAULT_MIN_CLUSTER_CHIPS),
        )
        .max(1);
    let max_cluster = ctx.chips(
        tp.key("max_cluster_chips"),
        t.max_cluster_chips.unwrap_or(DEFAULT_MAX_CLUSTER_CHIPS),
    );
    if max_cluster < min_cluster {
        ctx.error(
            tp.key("max_cluster_chips"),
            format!("must be at least min_cluster_chips ({min_cluster}), got {max_cluster}"),
        );
    }
    let mut max_cluster_steps: Vec<(u32, u64)> = Vec::new();
    let mut previous: Option<crate::quarter::Quarter> = None;
    for (i, step) in t.max_cluster_chips_from.iter().enumerate() {
        let sp = tp.key("max_cluster_chips_from").index(i);
        let chips_n = ctx.chips(sp.key("chips"), step.chips);
        if chips_n < min_cluster {
            ctx.error(
                sp.key("chips"),
                format!("must be at least min_cluster_chips ({min_cluster}), got {chips_n}"),
            );
        }
        let Some(q) = ctx.quarter(sp.key("quarter"), &step.quarter) else {
            continue;
        };
        if let Some(p) = previous.filter(|&p| q <= p) {
            ctx.error(
                sp.key("quarter"),
                format!("{q} is not after the entry before it ({p}): list the changes in increasing order of quarter"),
            );
        }
        previous = Some(q);
        if q <= cal.start() {
            ctx.error(
                sp.key("quarter"),
                format!(
                    "{q} is not after the first quarter ({}): write the size from the start as max_cluster_chips",
                    cal.start()
                ),
            );
            continue;
        }
        match cal.index_of(q) {
            Some(idx) => max_cluster_steps.push((idx, chips_n)),
            None => ctx.warn(
                sp.key("quarter"),
                format!(
                    "this change is dropped: {q} lies after the horizon {}..={}",
                    cal.start(),
                    cal.quarter(horizon - 1)
                ),
            ),
        }
    }
    let mfu_size = match (&t.mfu_size_exponent, t.mfu_reference_chips) {
        (None, None) => Some(None),
        (Some(e), Some(n)) => {
            let n = ctx.chips(tp.key("mfu_reference_chips"), n);
            if n == 0 {
                ctx.error(tp.key("mfu_reference_chips"), "must be at least 1 chip, got 0");
            }
            ctx.fixed(tp.key("mfu_size_exponent"), e, MFU_SIZE_EXPONENT)
                .map(|e| (e > 0.0).then_some((e, n.max(1))))
        }
        (Some(_), None) => {
            ctx.error(
                tp.key("mfu_size_exponent"),
                "needs mfu_reference_chips, the run size at which mfu is stated (e.g. mfu_reference_chips = 8192)",
            );
            None
        }
        (None, Some(_)) => {
            ctx.error(
                tp.key("mfu_reference_chips"),
                "goes with mfu_size_exponent, how fast MFU falls above this size (e.g. mfu_size_exponent = 0.05)",
            );
            None
        }
    };
    let mfu = ctx.uncertain(tp.key("mfu"), &t.mfu, FRACTION);
    let max_run = match &t.max_run_quarters {
        Some(r) => ctx.fixed(tp.key("max_run_quarters"), r, MAX_RUN_QUARTERS).map(Some),
        None => Some(None),
    };
    let goodput = match &t.goodput {
        Some(g) => ctx.uncertain(tp.key("goodput"), g, FRACTION),
        None => ctx.uncertain(tp.key("goodput"), &RawNumber::Plain(DEFAULT_GOODPUT), FRACTION),
    };

    // Milestones.
    if raw.milestones.is_empty() {
        ctx.error(
            root.clone(),
            "the scenario defines no milestones; add a [milestones.<name>] table with target_flop and deadline",
        );
    }
    let mut milestones = Vec::new();
    for (name, m) in &raw.milestones {
        let p = root.key("milestones").key(name);
        let target = ctx.fixed(p.key("target_flop"), &m.target_flop, TARGET_FLOP);
        let deadline = ctx.quarter_index(p.key("deadline"), &m.deadline, &cal, "deadline");
        if let (Some(target_flop), Some(deadline)) = (target, deadline) {
            milestones.push(Milestone {
                name: name.clone(),
                target_flop,
                deadline,
                domestic_only: m.domestic_only.unwrap_or(DEFAULT_DOMESTIC_ONLY),
            });
        }
    }

    // Expectations.
    let mut expectations = Vec::new();
    for (i, e) in raw.expect.iter().enumerate() {
        let p = root.key("expect").index(i);
        let Some(k) = milestones.iter().position(|m| m.name == e.milestone) else {
            ctx.error(
                p.key("milestone"),
                undefined("milestones", &e.milestone, &raw.milestones),
            );
            continue;
        };
        let mut ok = true;
        for (key, v) in [
            ("min_probability", e.min_probability),
            ("max_probability", e.max_probability),
        ] {
            if let Some(v) = v {
                if !FRACTION.contains(v) {
                    ctx.error(p.key(key), format!("must be a probability in [0, 1], got {v}"));
                    ok = false;
                }
            }
        }
        match (e.min_probability, e.max_probability) {
            (None, None) => {
                ctx.error(
                    p.clone(),
                    "an expectation needs `min_probability`, `max_probability` or both",
                );
                ok = false;
            }
            (Some(lo), Some(hi)) if lo > hi => {
                ctx.error(
                    p.key("max_probability"),
                    format!("must be at least min_probability ({lo}), got {hi}"),
                );
                ok = false;
            }
            _ => {}
        }
        if ok {
            expectations.push(Expectation {
                milestone: k,
                min_probability: e.min_probability,
                max_probability: e.max_probability,
            });
        }
    }

    let training = Training {
        earliest_start: earliest?,
        min_cluster_chips: min_cluster,
        max_cluster_chips: max_cluster,
        max_cluster_steps,
        mfu_size: mfu_size?,
        mfu: mfu?,
        goodput: goodput?,
        allow_foreign_chips: t.allow_foreign_chips.unwrap_or(DEFAULT_ALLOW_FOREIGN_CHIPS),
        max_run_quarters: max_run?,
        max_run_seconds: max_run?.map(crate::quarter::quarters_to_seconds),
        run_failures: chips.iter().any(|c| c.run_failure.is_some()),
    };
    let mut allocation_order: Vec<ChipId> = (0..chips.len()).collect();
    allocation_order.sort_by_key(|&c| (chips[c].inference_priority, c));
    let mut cluster_order: Vec<ChipId> = (0..chips.len())
        .filter(|&c| chips[c].domestic || training.allow_foreign_chips)
        .collect();
    cluster_order.sort_by_key(|&c| (chips[c].training_priority, c));
    let correlations = correlations(raw, ctx);
    let observations = observe::observations(raw, ctx, &cal, &supply, &shocks, &gates, &milestones);
    let mut correlated = vec![None; ctx.uncertain.len()];
    for (g, c) in correlations.iter().enumerate() {
        for (pos, &id) in c.inputs.iter().enumerate() {
            correlated[id] = Some((g, pos));
        }
    }
    let mut model = Model {
        name: raw.scenario.name.clone(),
        description: raw.scenario.description.clone().unwrap_or_default(),
        calendar: cal,
        trials,
        seed: raw.scenario.seed.unwrap_or(DEFAULT_SEED),
        chips,
        supply,
        shocks,
        gates,
        suppliers,
        fleet_inference,
        fleet_training,
        inference,
        policy: policy?,
        allocation_order,
        cluster_order,
        training,
        milestones,
        expectations,
        uncertain: std::mem::take(&mut ctx.uncertain),
        sampling: match raw.scenario.sampling {
            Some(scenario::RawSampling::Lhs) => Sampling::Lhs,
            Some(scenario::RawSampling::Independent) | None => Sampling::Independent,
        },
        correlations,
        correlated,
        observations,
        min_effective_sample_size: raw
            .scenario
            .min_effective_sample_size
            .unwrap_or(DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE),
        assumptions: Vec::new(),
        warnings: std::mem::take(&mut ctx.warnings),
        overrides: Vec::new(),
    };
    model.assumptions = assumptions::table(raw, &model, &ctx.assumptions);
    Some(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(dist: &str, mean: f64, sd: f64) -> RawDistTable {
        RawDistTable {
            dist: Some(dist.into()),
            mean: Some(mean),
            sd: Some(sd),
            ..Default::default()
        }
    }

    /// Mean and sd of `n` draws of `spec` from one fixed stream.
    fn sample_moments(spec: &DistSpec, n: u32) -> (f64, f64) {
        let dist = Dist::new_checked(spec).unwrap();
        let mut rng = crate::rng::stream(42, 0, key_hash("test"));
        let draws: Vec<f64> = (0..n).map(|_| dist.sample(&mut rng)).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn beta_by_mean_and_sd_converts_to_alpha_and_beta() {
        let Ok(DistSpec::Beta(a, b)) = table_spec(&table("beta", 0.6, 0.15)) else {
            panic!("not a beta")
        };
        // k = 0.6 · 0.4 / 0.15² − 1 = 29/3.
        assert!(
            (a - 5.8).abs() < 1e-12 && (b - 29.0 / 3.0 * 0.4).abs() < 1e-12,
            "{a} {b}"
        );
        // 200,000 draws: standard errors about 0.0003 for both.
        let (mean, sd) = sample_moments(&DistSpec::Beta(a, b), 200_000);
        assert!((mean - 0.6).abs() < 0.002 && (sd - 0.15).abs() < 0.002, "{mean} {sd}");
    }

    #[test]
    fn beta_sd_too_large_names_the_largest_allowed() {
        let Err((Some("sd"), msg)) = table_spec(&table("beta", 0.6, 0.49)) else {
            panic!("accepted")
        };
        // sqrt(0.24) = 0.489897…, shown rounded down.
        assert!(msg.contains("below sqrt(mean·(1 − mean)) = 0.4898, got 0.49"), "{msg}");
        assert!(table_spec(&table("beta", 0.6, 0.4898)).is_ok());
        let Err((Some("mean"), _)) = table_spec(&table("beta", 1.0, 0.1)) else {
            panic!("accepted a mean of 1")
        };
        let Err((Some("sd"), _)) = table_spec(&table("beta", 0.5, 0.0)) else {
            panic!("accepted sd 0")
        };
        let mut mixed = table("beta", 0.5, 0.1);
        mixed.alpha = Some(2.0);
        let Err((Some("mean"), msg)) = table_spec(&mixed) else {
            panic!("accepted alpha with mean")
        };
        assert!(msg.contains("takes alpha, beta"), "{msg}");
    }

    #[test]
    fn an_sd_too_small_for_its_form_is_named() {
        // sd² underflows (beta: k infinite) or sd/mean² does (lognormal: sigma 0).
        for (kind, mean, sd) in [("beta", 0.5, 1e-200), ("beta", 0.5, 1e-7), ("lognormal", 0.5, 1e-170)] {
            let Err((Some("sd"), msg)) = table_spec(&table(kind, mean, sd)) else {
                panic!("{kind} accepted sd {sd}")
            };
            assert!(msg.contains("raise sd"), "{msg}");
        }
        assert!(table_spec(&table("beta", 0.5, 1e-5)).is_ok());
        assert!(table_spec(&table("lognormal", 0.5, 1e-100)).is_ok());
    }

    #[test]
    fn lognormal_by_mean_and_sd_of_the_variable() {
        let Ok(DistSpec::LogNormal(mu, sigma)) = table_spec(&table("lognormal", 2.0, 1.0)) else {
            panic!("not a lognormal")
        };
        let s2 = 1.25f64.ln();
        assert!((sigma - s2.sqrt()).abs() < 1e-12 && (mu - (2f64.ln() - s2 / 2.0)).abs() < 1e-12);
        // 400,000 draws: standard errors about 0.0016 (mean) and 0.003 (sd).
        let (mean, sd) = sample_moments(&DistSpec::LogNormal(mu, sigma), 400_000);
        assert!((mean - 2.0).abs() < 0.01 && (sd - 1.0).abs() < 0.02, "{mean} {sd}");
        let Err((Some("mean"), _)) = table_spec(&table("lognormal", -1.0, 1.0)) else {
            panic!("accepted a negative mean")
        };
        // mu and sigma keep working, and a missing one names both forms.
        let mut t = table("lognormal", 1.0, 1.0);
        (t.mean, t.sd, t.mu) = (None, None, Some(0.0));
        let Err((None, msg)) = table_spec(&t) else {
            panic!("accepted")
        };
        assert!(
            msg.contains("missing `sigma` (this distribution takes mu, sigma, or mean, sd)"),
            "{msg}"
        );
    }

    #[test]
    fn moments_forms_are_described_in_the_assumptions() {
        let text = include_str!("../scenarios/minimal.toml");
        let set = r#"supply.ascend_910b_orders.fill_rate={ dist = "beta", mean = 0.6, sd = 0.15 }"#;
        let (model, _) = crate::overrides::load_text(text, "m.toml", &[set.to_string()]).unwrap();
        let a = model.assumptions.iter().find(|a| a.key.ends_with("fill_rate")).unwrap();
        assert_eq!(
            a.value,
            "beta(mean 0.6, sd 0.15: alpha 5.8, beta 3.867), once per trial"
        );
    }
}
