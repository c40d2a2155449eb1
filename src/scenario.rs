//! The scenario file as written: raw TOML structures (serde, unknown keys
//! refused) and the parser that turns a file's text into them, with errors
//! that carry line, column and key path. Meaning is checked later, in
//! [`crate::model`].

use std::fmt;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::error::{Error, KeyPath, ScenarioError, Seg, closest};
use crate::model::limits::*;
use crate::quarter::QUARTER_PATTERN;
use crate::schema::{FixedNumber, bounds};

/// A whole scenario file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Scenario",
    title = "sancsim scenario",
    description = "A sancsim scenario file: chips, their supply under export controls, shocks, demand, one training run and the milestones whose probability sancsim reports (docs/MODEL.md)."
)]
pub struct RawScenario {
    /// The scenario's name, start and run settings.
    pub scenario: RawMeta,
    /// Chip types, one table `[chips.<name>]` each; at least one.
    #[serde(default)]
    pub chips: IndexMap<String, RawChip>,
    /// Supply lines, one table `[supply.<name>]` each: one buyer's orders of one chip type.
    #[serde(default)]
    pub supply: IndexMap<String, RawSupply>,
    /// Shocks (export controls and other disruptions), one table `[shocks.<name>]` each.
    #[serde(default)]
    pub shocks: IndexMap<String, RawShock>,
    /// Gates (an export licence, an import permission), one table `[gates.<name>]` each: open or closed each quarter; a supply line that names gates delivers only in quarters when all of them are open (docs/MODEL.md section 5).
    #[serde(default)]
    pub gates: IndexMap<String, RawGate>,
    /// Suppliers shared by many customers, one table `[suppliers.<name>]` each: output bound by wafers, a die bank, HBM and packaging, made in chip generations on a roadmap and shared among customer tiers in priority order (docs/MODEL.md section 5, Suppliers).
    #[serde(default)]
    pub suppliers: IndexMap<String, RawSupplier>,
    /// Chips already installed when the scenario starts, one table `[fleet.<chip>]` per chip type (none: no chips installed).
    #[serde(default)]
    pub fleet: IndexMap<String, RawFleet>,
    /// Inference demand, which has first claim on new chips under the `inference_first` policy (none: no demand).
    pub inference: Option<RawInference>,
    /// How each quarter's new chips are split between inference and training (default: `inference_first`).
    pub allocation: Option<RawAllocation>,
    /// The one large training run.
    pub training: RawTraining,
    /// Training-compute milestones, one table `[milestones.<name>]` each; at least one.
    #[serde(default)]
    pub milestones: IndexMap<String, RawMilestone>,
    /// Bounds on milestone probabilities that `sancsim check` tests, one `[[expect]]` table each.
    #[serde(default)]
    pub expect: Vec<RawExpect>,
    /// Rank correlations between uncertain numbers drawn once per trial, one `[[correlation]]` table each (docs/MODEL.md section 3).
    #[serde(default)]
    pub correlation: Vec<RawCorrelation>,
    /// What has been observed, one `[[observe]]` table each: trials that contradict a hard observation are rejected, soft ones weight the trials (docs/MODEL.md section 11).
    #[serde(default)]
    pub observe: Vec<RawObserve>,
}

/// `[scenario]`: the scenario's name, first quarter, horizon and run settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Meta")]
pub struct RawMeta {
    /// Identifier used in outputs.
    pub name: String,
    /// What the scenario asks, in a sentence or two; shown in the reports.
    pub description: Option<String>,
    /// First simulated quarter, as "YYYYQn" (e.g. "2024Q1").
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub start: String,
    /// Number of quarters simulated, from `start` on.
    #[serde(default, deserialize_with = "opt_count_u32")]
    #[schemars(range(min = 1, max = MAX_HORIZON_QUARTERS), extend("default" = DEFAULT_HORIZON_QUARTERS))]
    pub horizon_quarters: Option<u32>,
    /// Number of Monte Carlo trials (`--trials` overrides it). A whole number: 10000, 10_000 or 1e4.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(min = 1, max = MAX_TRIALS), extend("default" = DEFAULT_TRIALS))]
    pub trials: Option<u64>,
    /// Seed of all random streams (`--seed` overrides it): the same seed gives the same results.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(max = u64::MAX), extend("default" = DEFAULT_SEED))]
    pub seed: Option<u64>,
    /// How the uncertain numbers drawn once per trial are sampled: `independent` (default) or `lhs`, a Latin hypercube stratified in blocks of 256 trials (docs/MODEL.md section 3).
    pub sampling: Option<RawSampling>,
    /// With `[[observe]]`: the fewest effective trials (Kish's effective sample size of the posterior weights) a run may report; fewer is an error that says how many trials to run.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(min = 1, max = MAX_TRIALS), extend("default" = DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE))]
    pub min_effective_sample_size: Option<u64>,
}

/// `scenario.sampling`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Sampling")]
pub enum RawSampling {
    /// Each trial draws each number independently (the default).
    Independent,
    /// Latin hypercube: in each block of 256 trials, each number drawn once per trial takes one value from each 1/256 of its probability.
    Lhs,
}

/// `[[correlation]]`: a Spearman rank correlation between uncertain numbers
/// drawn once per trial, by a Gaussian copula. Give `rank` (two inputs) or
/// `matrix` (any number).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Correlation",
    extend("oneOf" = [{ "required": ["rank"] }, { "required": ["matrix"] }])
)]
pub struct RawCorrelation {
    /// Key paths of two or more distinct uncertain numbers drawn once per trial, e.g. ["training.mfu", "training.goodput"].
    #[schemars(length(min = 2))]
    pub inputs: Vec<String>,
    /// With two inputs: their Spearman rank correlation, -1 to 1.
    #[schemars(range(min = -1.0, max = 1.0))]
    pub rank: Option<f64>,
    /// Spearman rank correlations of the inputs, in their order: a symmetric matrix with ones on the diagonal and entries in [-1, 1].
    pub matrix: Option<Vec<Vec<f64>>>,
    /// "nearest": a matrix that is not positive semi-definite is replaced by the nearest one that is, with a warning (absent: refused).
    pub repair: Option<RawRepair>,
    /// Where the correlation comes from; echoed in the assumptions.
    pub source: Option<String>,
    /// What the correlation stands for; not used by the model.
    pub description: Option<String>,
}

/// `[[observe]]`: something that has been observed, which conditions the
/// trials (docs/MODEL.md section 11). A value (`delivered_chips`,
/// `training_flop`, `training_flop_domestic`, `largest_run_flop`,
/// `largest_run_flop_domestic`, `training_chips`, `inference_chips`,
/// `input`) is observed `by` the end of a quarter, or
/// added `from` one quarter `to` another, and lies in `[at_least, below)`
/// or near `value`; an event (`shock`, `training_started`, `milestone`)
/// `happened` or not, by a quarter or within a window. Without `sd` or
/// `confidence` the observation is hard: trials that contradict it are
/// rejected.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Observe")]
pub struct RawObserve {
    /// Identifier used in outputs: letters, digits and `_`, unique among the observations.
    pub name: String,
    /// What is observed.
    pub quantity: RawObservedQuantity,
    /// With `delivered_chips`: the chips of this supply line (a `[supply.<name>]` table); leave out `line` and `chip` for all domestic chips.
    pub line: Option<String>,
    /// With `delivered_chips`, `training_chips` or `inference_chips`: the chips of this type only (a `[chips.<name>]` table); with `supplier_output`, the generation of that chip type only.
    pub chip: Option<String>,
    /// With `shock`: the shock (a `[shocks.<name>]` table).
    pub shock: Option<String>,
    /// With `milestone`: the milestone (a `[milestones.<name>]` table).
    pub milestone: Option<String>,
    /// With `gate_open`: the gate (a `[gates.<name>]` table).
    pub gate: Option<String>,
    /// With `supplier_output`: the supplier (a `[suppliers.<name>]` table); with `chip`, one of its generations only.
    pub supplier: Option<String>,
    /// With `input`: the key path of an uncertain number, e.g. "training.mfu".
    pub key: Option<String>,
    /// The quarter at whose end the value is observed, or by whose end the event had (or had not) happened, "YYYYQn" (an event without `by`, `from` and `to`: within the horizon).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub by: Option<String>,
    /// First quarter of a window, "YYYYQn": the value added (cumulative quantities) or the event happened within `from`..`to`.
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub from: Option<String>,
    /// Last quarter of the window, "YYYYQn", not before `from`.
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub to: Option<String>,
    /// A value: it was at least this.
    pub at_least: Option<f64>,
    /// A value: it was below this (greater than `at_least`).
    pub below: Option<f64>,
    /// A value: it was measured as this, with error `sd` (needs `sd`).
    pub value: Option<f64>,
    /// A value: the standard deviation of the measurement error (normal), in the quantity's unit, or in decades with `scale = "log10"`; makes the observation soft.
    #[schemars(range(min = 0.0))]
    pub sd: Option<f64>,
    /// A value: `log10` applies `sd` to the base-10 logarithm of the value and of the bounds (for quantities spanning decades, such as FLOP).
    pub scale: Option<RawScale>,
    /// An event: whether it happened.
    pub happened: Option<bool>,
    /// The chance, above 0.5 and below 1, that the observation is right: a trial that contradicts it keeps weight (1 - confidence) / confidence instead of being rejected; makes the observation soft.
    #[schemars(extend("exclusiveMinimum" = 0.5, "exclusiveMaximum" = 1.0))]
    pub confidence: Option<f64>,
    /// Where the observation comes from; echoed in the outputs.
    pub source: Option<String>,
    /// What was observed, in words; shown in the reports.
    pub description: Option<String>,
}

/// `observe.quantity`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ObservedQuantity")]
pub enum RawObservedQuantity {
    /// Chips delivered since the start (cumulative), of a supply line, a chip type, or all domestic chips.
    DeliveredChips,
    /// Training compute since the start, all chips, FLOP (cumulative).
    TrainingFlop,
    /// Training compute since the start on domestic chips, FLOP (cumulative).
    TrainingFlopDomestic,
    /// The compute of the largest single training run by the end of a quarter, all chips, FLOP (with `training.max_run_quarters`; without it, the one run's, as `training_flop`).
    LargestRunFlop,
    /// The same on domestic chips, FLOP.
    LargestRunFlopDomestic,
    /// Chips allocated to training at the end of a quarter (all, or of one chip type).
    TrainingChips,
    /// Chips serving inference at the end of a quarter (all, or of one chip type).
    InferenceChips,
    /// The value drawn for an uncertain number (`key`).
    Input,
    /// Whether a shock happened.
    Shock,
    /// Whether the training run had started.
    TrainingStarted,
    /// Whether a milestone had been reached.
    Milestone,
    /// Whether a gate was open in at least one quarter of the window (`happened = false`: closed in every quarter of it).
    GateOpen,
    /// Chips a supplier made (`supplier`; with `chip`, of that generation), cumulative: by the end of a quarter, or within `from`..`to`.
    SupplierOutput,
}

/// `observe.scale`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Scale")]
pub enum RawScale {
    /// `sd` in the quantity's own unit (the default).
    Linear,
    /// `sd` in decades: applied to log10 of the value and of the bounds.
    Log10,
}

/// `correlation.repair`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Repair")]
pub enum RawRepair {
    /// The nearest positive semi-definite correlation matrix (eigenvalues clipped, then rescaled to a unit diagonal).
    Nearest,
}

/// `[chips.<name>]`: a chip type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Chip")]
pub struct RawChip {
    /// Peak dense BF16 throughput per chip, in FLOP/s (e.g. 3.2e14); a fixed number.
    #[schemars(with = "FixedNumber", transform = bounds(PEAK_FLOPS))]
    pub peak_flops: RawNumber,
    /// Made domestically: its FLOP count toward `domestic_only` milestones.
    #[schemars(extend("default" = DEFAULT_DOMESTIC))]
    pub domestic: Option<bool>,
    /// Fraction of installed chips failing per year (absent: no failures); may be uncertain.
    #[schemars(transform = bounds(FRACTION))]
    pub annual_failure_rate: Option<RawNumber>,
    /// Place in the queue for a place in the training cluster: a lower number first (docs/MODEL.md section 5). Chips of a type with a lower number take cluster places from chips of a higher number, which move to inference; equal numbers share the room first come, first served. A whole number, 1 to 100. Default: 1 for domestic chips, 2 for foreign ones, so domestic chips are never crowded out of the cluster by foreign ones.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(min = 1, max = MAX_PRIORITY))]
    pub training_priority: Option<u64>,
    /// Order in which chip types' new chips serve inference demand: a lower number first, file order among equals (docs/MODEL.md section 5). A whole number, 1 to 100. Default: 1 for foreign chips, 2 for domestic ones, so foreign chips serve inference first and free domestic chips for training.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(min = 1, max = MAX_PRIORITY))]
    pub inference_priority: Option<u64>,
    /// The shipped chip's throughput as a share of `peak_flops` (the announced one), in (0, 1]; the model uses `peak_flops × derating` everywhere. A fixed number (default 1).
    #[schemars(with = "Option<FixedNumber>", transform = bounds(DERATING), extend("default" = 1.0))]
    pub derating: Option<RawNumber>,
    /// Platform risk: the chance that a training run that uses chips of this type fails once and restarts from scratch (docs/MODEL.md section 5, `RunRestart`); needs `training.max_run_quarters`. May be uncertain (default: none).
    #[schemars(transform = bounds(FRACTION))]
    pub run_failure_probability: Option<RawNumber>,
    /// With `run_failure_probability`: the time a failed run loses before it restarts, in quarters; may be uncertain (default 1).
    #[schemars(transform = bounds(SLIP_QUARTERS), extend("default" = 1.0))]
    pub run_failure_lost_quarters: Option<RawNumber>,
    /// Memory per chip, GB, as shipped; reported, not used by the model. A fixed number.
    #[schemars(with = "Option<FixedNumber>", transform = bounds(MEMORY_GB))]
    pub memory_gb: Option<RawNumber>,
    /// Notes on the chip; not used by the model.
    pub description: Option<String>,
}

/// `[supply.<name>]`: a supply line, one buyer's orders of one chip type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Supply")]
pub struct RawSupply {
    /// The chip type ordered: the name of a `[chips.<name>]` table; on a line with `supplier`, one of its generations, or "newest" (the newest generation the supplier makes that quarter).
    pub chip: String,
    /// The supplier the line buys from: the name of a `[suppliers.<name>]` table. The line then receives `share` of its tier's part of the supplier's output (capped by what it ordered) instead of a `fill_rate` (docs/MODEL.md section 5).
    pub supplier: Option<String>,
    /// With `supplier`: the customer tier the buyer belongs to, the name of a `[suppliers.<s>.tiers.<name>]` table.
    pub tier: Option<String>,
    /// With `supplier`: the buyer's share of its tier's chips each quarter, 0 to 1; may be uncertain.
    #[schemars(transform = bounds(FRACTION))]
    pub share: Option<RawNumber>,
    /// The orders, each `{ quarter, chips }` or `{ from, to, chips }` (chips each quarter).
    pub orders: Vec<RawOrder>,
    /// Fraction of each quarter's order that is filled, 0 to 1; may be uncertain. Not with `supplier` (its `share` decides).
    #[schemars(transform = bounds(FRACTION), extend("default" = DEFAULT_FILL_RATE))]
    pub fill_rate: Option<RawNumber>,
    /// Time from order to arrival, in quarters; may be uncertain.
    #[schemars(transform = bounds(DELAY_QUARTERS), extend("default" = DEFAULT_LEAD_TIME_QUARTERS))]
    pub lead_time_quarters: Option<RawNumber>,
    /// Unfilled chips carry over to the next quarter's order.
    #[schemars(extend("default" = DEFAULT_BACKLOG))]
    pub backlog: Option<bool>,
    /// Gates the line's orders pass: names of `[gates.<name>]` tables. Orders are filled only in quarters when every one of them is open (default: none, always open).
    pub gates: Option<Vec<String>>,
    /// Most chips the line may fill in one quarter (a licence quota); the rest is unfilled (carried over with `backlog`). May be uncertain (default: no quota).
    #[schemars(transform = bounds(QUOTA_CHIPS))]
    pub quota_chips_per_quarter: Option<RawNumber>,
    /// Domestic chips that must have been ordered for each chip this line fills: the line's chips filled so far may not exceed the chips ordered by the scenario's domestic supply lines up to that quarter divided by this ratio (a domestic-purchase condition). A fixed number (default: no condition).
    #[schemars(with = "Option<FixedNumber>", transform = bounds(DOMESTIC_PURCHASE_RATIO))]
    pub domestic_purchase_ratio: Option<RawNumber>,
    /// Notes on the supply line; not used by the model.
    pub description: Option<String>,
}

/// `[gates.<name>]`: a gate (an export licence, an import permission) that
/// is open or closed in each quarter: a two-state Markov chain with dated
/// events (docs/MODEL.md section 5).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Gate")]
pub struct RawGate {
    /// What the gate is; not used by the model.
    pub description: Option<String>,
    /// The gate is open in the first quarter (unless an event in that quarter says otherwise).
    #[schemars(extend("default" = DEFAULT_GATE_INITIALLY_OPEN))]
    pub initially_open: Option<bool>,
    /// Probability that an open gate closes from one quarter to the next; may be uncertain (default 0: it stays open).
    #[schemars(transform = bounds(FRACTION), extend("default" = 0.0))]
    pub close_probability: Option<RawNumber>,
    /// Probability that a closed gate opens from one quarter to the next; may be uncertain (default 0: it stays closed).
    #[schemars(transform = bounds(FRACTION), extend("default" = 0.0))]
    pub open_probability: Option<RawNumber>,
    /// First quarter in which the gate may change state by chance, "YYYYQn" (default: the first quarter).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub from: Option<String>,
    /// Last quarter in which the gate may change state by chance, "YYYYQn" (default: the last quarter).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub until: Option<String>,
    /// Dated decisions, `{ quarter = "YYYYQn", open = true|false }`: the gate is set to that state in that quarter, and goes on from there.
    #[serde(default)]
    pub events: Vec<RawGateEvent>,
    /// Where the figures come from; echoed in the outputs.
    pub source: Option<String>,
}

/// One entry of a gate's `events`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GateEvent")]
pub struct RawGateEvent {
    /// The quarter of the decision, "YYYYQn", inside the horizon.
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub quarter: String,
    /// The gate's state from that quarter on (until it changes again).
    pub open: bool,
    /// Where the event comes from; echoed in the outputs.
    pub source: Option<String>,
}

/// One entry of `orders`: `{ quarter = "2024Q1", chips = 25000 }` or
/// `{ from = "2024Q1", to = "2024Q4", chips = 25000 }` (chips each quarter).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Order",
    extend("oneOf" = [
        { "required": ["quarter"], "properties": { "from": false, "to": false } },
        { "required": ["from", "to"], "properties": { "quarter": false } }
    ])
)]
pub struct RawOrder {
    /// The quarter the chips are ordered in, "YYYYQn" (or give `from` and `to`).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub quarter: Option<String>,
    /// First quarter of a run of equal orders, "YYYYQn" (with `to`).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub from: Option<String>,
    /// Last quarter of a run of equal orders, "YYYYQn", not before `from`.
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub to: Option<String>,
    /// Chips ordered (each quarter, with `from` and `to`). A whole number: 25000, 25_000 or 2.5e4.
    #[serde(deserialize_with = "count_u64")]
    #[schemars(range(max = MAX_CHIPS))]
    pub chips: u64,
    /// Where the figure comes from; echoed in the outputs.
    pub source: Option<String>,
}

/// `[shocks.<name>]`: a shock that, while active, changes supply lines.
/// It starts at a quarter (`at`, with `probability`) or at a risk each
/// quarter (`hazard_per_quarter`, with `from` and `until`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Shock",
    extend("oneOf" = [
        { "required": ["at"], "properties": { "hazard_per_quarter": false, "from": false, "until": false } },
        { "required": ["hazard_per_quarter"], "properties": { "at": false, "probability": false } }
    ])
)]
pub struct RawShock {
    /// What the shock is; not used by the model.
    pub description: Option<String>,
    /// The quarter the shock may start in, "YYYYQn", inside the horizon (or give `hazard_per_quarter`).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub at: Option<String>,
    /// Probability that the shock happens at `at`; a fixed number.
    #[schemars(
        with = "Option<FixedNumber>",
        transform = bounds(FRACTION),
        extend("default" = DEFAULT_SHOCK_PROBABILITY)
    )]
    pub probability: Option<RawNumber>,
    /// Probability per quarter that the shock starts, from `from` to `until`, until it has happened once; a fixed number.
    #[schemars(with = "Option<FixedNumber>", transform = bounds(FRACTION))]
    pub hazard_per_quarter: Option<RawNumber>,
    /// First quarter at risk, "YYYYQn" (default: the first quarter).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub from: Option<String>,
    /// Last quarter at risk, "YYYYQn" (default: the last quarter).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub until: Option<String>,
    /// How long the shock lasts, in quarters, rounded to whole quarters (absent: permanent); may be uncertain, drawn once per trial.
    #[schemars(transform = bounds(DELAY_QUARTERS))]
    pub duration_quarters: Option<RawNumber>,
    /// What the shock does to supply lines; at least one entry.
    #[serde(default)]
    pub effects: Vec<RawEffect>,
}

/// One entry of a shock's `effects`: what it does while active, either to
/// one supply line (with `fill_rate_multiplier`, `add_lead_time_quarters` or
/// `stop = true`) or to one gate (`gate` and `open`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Effect",
    extend("oneOf" = [
        {
            "required": ["supply"],
            "properties": { "gate": false, "open": false, "supplier": false },
            "anyOf": [
                { "required": ["fill_rate_multiplier"] },
                { "required": ["share_multiplier"] },
                { "required": ["add_lead_time_quarters"] },
                { "required": ["stop"], "properties": { "stop": { "const": true } } }
            ]
        },
        {
            "required": ["gate", "open"],
            "properties": { "supply": false, "fill_rate_multiplier": false, "add_lead_time_quarters": false, "stop": false, "share_multiplier": false, "supplier": false }
        },
        {
            "required": ["supplier"],
            "properties": { "supply": false, "gate": false, "open": false, "fill_rate_multiplier": false, "add_lead_time_quarters": false, "stop": false, "share_multiplier": false },
            "anyOf": [
                { "required": ["wafer_starts_multiplier"] },
                { "required": ["packaging_multiplier"] },
                { "required": ["hbm_imports_multiplier"] },
                { "required": ["yield_learning_multiplier"] },
                { "required": ["die_bank_multiplier"] },
                { "required": ["hbm_stock_multiplier"] },
                { "required": ["generation", "delay_quarters"] },
                { "required": ["tier", "priority"] }
            ]
        }
    ])
)]
pub struct RawEffect {
    /// The supply line affected: the name of a `[supply.<name>]` table (or give `gate`).
    pub supply: Option<String>,
    /// The gate held open or closed while the shock is active: the name of a `[gates.<name>]` table (with `open`).
    pub gate: Option<String>,
    /// With `gate`: the state the gate is held in while the shock is active (a licence granted: true; revoked: false).
    pub open: Option<bool>,
    /// Multiplies the line's fill rate (the result is capped at 1); may be uncertain.
    #[schemars(transform = bounds(FILL_RATE_MULTIPLIER))]
    pub fill_rate_multiplier: Option<RawNumber>,
    /// Quarters added to the line's lead time; may be uncertain.
    #[schemars(transform = bounds(DELAY_QUARTERS))]
    pub add_lead_time_quarters: Option<RawNumber>,
    /// No orders of the line are filled while the shock is active.
    #[schemars(extend("default" = DEFAULT_STOP))]
    pub stop: Option<bool>,
    /// Multiplies the share of a line that buys from a supplier; may be uncertain.
    #[schemars(transform = bounds(INPUT_MULTIPLIER))]
    pub share_multiplier: Option<RawNumber>,
    /// The supplier whose inputs the shock changes: the name of a `[suppliers.<name>]` table (with input multipliers, or `generation` and `delay_quarters`, or `tier` and `priority`).
    pub supplier: Option<String>,
    /// Multiplies the supplier's wafer starts while active; may be uncertain.
    #[schemars(transform = bounds(INPUT_MULTIPLIER))]
    pub wafer_starts_multiplier: Option<RawNumber>,
    /// Multiplies the supplier's packaging capacity while active; may be uncertain.
    #[schemars(transform = bounds(INPUT_MULTIPLIER))]
    pub packaging_multiplier: Option<RawNumber>,
    /// Multiplies the supplier's HBM imports while active (0: imports stopped); may be uncertain.
    #[schemars(transform = bounds(INPUT_MULTIPLIER))]
    pub hbm_imports_multiplier: Option<RawNumber>,
    /// Multiplies the supplier's yield learning while active (0.5: yields improve at half speed); may be uncertain.
    #[schemars(transform = bounds(INPUT_MULTIPLIER))]
    pub yield_learning_multiplier: Option<RawNumber>,
    /// Multiplies the die bank once, when the shock starts (0: seized); may be uncertain.
    #[schemars(transform = bounds(INPUT_MULTIPLIER))]
    pub die_bank_multiplier: Option<RawNumber>,
    /// Multiplies the HBM stock once, when the shock starts (0: seized); may be uncertain.
    #[schemars(transform = bounds(INPUT_MULTIPLIER))]
    pub hbm_stock_multiplier: Option<RawNumber>,
    /// With `supplier`: the generation the shock delays (a chip type the supplier makes), with `delay_quarters`.
    pub generation: Option<String>,
    /// With `generation`: quarters added to the generation's start if the shock starts before or when it becomes available; may be uncertain, drawn in the quarter the shock starts.
    #[schemars(transform = bounds(SLIP_QUARTERS))]
    pub delay_quarters: Option<RawNumber>,
    /// With `supplier`: the customer tier whose priority the shock sets while active, with `priority`.
    pub tier: Option<String>,
    /// With `tier`: the tier's priority while the shock is active, a whole number 1 (first) to 100.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(min = 1, max = MAX_PRIORITY))]
    pub priority: Option<u64>,
}

/// `[suppliers.<name>]`: a supplier shared by many customers (docs/MODEL.md
/// section 5, Suppliers): its output each quarter is the least its inputs
/// allow, made in generations and shared among customer tiers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Supplier")]
pub struct RawSupplier {
    /// What the supplier is; not used by the model.
    pub description: Option<String>,
    /// Wafers started for the supplier's logic dies in the first quarter; may be uncertain (also `per = "quarter"`).
    #[schemars(transform = bounds(CAPACITY_PER_QUARTER))]
    pub wafer_starts_per_quarter: RawNumber,
    /// Fractional growth of wafer starts from one quarter to the next; may be uncertain (default 0).
    #[schemars(transform = bounds(GROWTH_PER_QUARTER), extend("default" = 0.0))]
    pub wafer_starts_growth_per_quarter: Option<RawNumber>,
    /// Chips (packages) that can be assembled in the first quarter; may be uncertain (default: no packaging limit).
    #[schemars(transform = bounds(CAPACITY_PER_QUARTER))]
    pub packaging_per_quarter: Option<RawNumber>,
    /// Fractional growth of packaging capacity from one quarter to the next; may be uncertain (default 0).
    #[schemars(transform = bounds(GROWTH_PER_QUARTER), extend("default" = 0.0))]
    pub packaging_growth_per_quarter: Option<RawNumber>,
    /// Dies made elsewhere in stock at the start (a die bank), used by generations with `die_bank = true`; may be uncertain, drawn once per trial (default 0).
    #[schemars(transform = bounds(STOCK), extend("default" = 0.0))]
    pub die_bank: Option<RawNumber>,
    /// HBM stacks in stock at the start; may be uncertain, drawn once per trial (default 0).
    #[schemars(transform = bounds(STOCK), extend("default" = 0.0))]
    pub hbm_stock: Option<RawNumber>,
    /// HBM stacks imported each quarter, added to the stock; may be uncertain (default 0).
    #[schemars(transform = bounds(STOCK), extend("default" = 0.0))]
    pub hbm_imports_per_quarter: Option<RawNumber>,
    /// Domestic HBM stacks a quarter once its ramp is complete; may be uncertain (default 0: none). Needs `hbm_domestic_from`.
    #[schemars(transform = bounds(STOCK), extend("default" = 0.0))]
    pub hbm_domestic_per_quarter: Option<RawNumber>,
    /// Quarter in which domestic HBM is planned to start, "YYYYQn" (it may lie outside the horizon).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub hbm_domestic_from: Option<String>,
    /// Quarters domestic HBM starts after `hbm_domestic_from`, rounded; may be uncertain, drawn once per trial (default 0).
    #[schemars(transform = bounds(SLIP_QUARTERS), extend("default" = 0.0))]
    pub hbm_domestic_delay_quarters: Option<RawNumber>,
    /// Quarters from the first domestic HBM stacks to the full rate, a whole number 1 to 40 (default 1).
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(min = 1, max = MAX_RAMP_QUARTERS), extend("default" = 1))]
    pub hbm_domestic_ramp_quarters: Option<u64>,
    /// The chip generations the supplier makes, one table `[suppliers.<s>.generations.<chip>]` each, the key a `[chips.<name>]` table; at least one.
    #[serde(default)]
    pub generations: IndexMap<String, RawGeneration>,
    /// Customer tiers, one table `[suppliers.<s>.tiers.<name>]` each, served in priority order; at least one.
    #[serde(default)]
    pub tiers: IndexMap<String, RawTier>,
    /// Where the figures come from; echoed in the outputs.
    pub source: Option<String>,
}

/// `[suppliers.<s>.generations.<chip>]`: a chip generation on the
/// supplier's roadmap (docs/MODEL.md section 5, Suppliers).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Generation")]
pub struct RawGeneration {
    /// Quarter the generation is announced to be available, "YYYYQn" (it may lie before the start).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub available: String,
    /// Quarters the generation slips behind `available`, rounded; may be uncertain, drawn once per trial (default 0).
    #[schemars(transform = bounds(SLIP_QUARTERS), extend("default" = 0.0))]
    pub slip_quarters: Option<RawNumber>,
    /// Quarters over which the supplier shifts output to this generation once it is available, a whole number 1 to 40 (default 1).
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(min = 1, max = MAX_RAMP_QUARTERS), extend("default" = 1))]
    pub ramp_quarters: Option<u64>,
    /// Candidate dies per wafer (before yield); a fixed number.
    #[schemars(with = "FixedNumber", transform = bounds(DIES_PER_WAFER))]
    pub dies_per_wafer: RawNumber,
    /// Logic dies in one chip, a whole number 1 to 16 (default 1).
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(min = 1, max = MAX_DIES_PER_PACKAGE), extend("default" = 1))]
    pub dies_per_package: Option<u64>,
    /// HBM stacks in one chip, a whole number 0 to 64 (default 0: no HBM).
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(max = MAX_HBM_STACKS_PER_PACKAGE), extend("default" = 0))]
    pub hbm_stacks_per_package: Option<u64>,
    /// Share of candidate dies that work when the generation starts, 0 to 1; may be uncertain.
    #[schemars(transform = bounds(FRACTION))]
    pub yield_initial: RawNumber,
    /// The yield the generation learns toward, 0 to 1; may be uncertain (default: `yield_initial`, no learning).
    #[schemars(transform = bounds(FRACTION))]
    pub yield_max: Option<RawNumber>,
    /// Quarters of learning for the yield to close 63% of its gap to `yield_max`; may be uncertain (default 4).
    #[schemars(transform = bounds(YIELD_TIME_CONSTANT), extend("default" = DEFAULT_YIELD_TIME_CONSTANT))]
    pub yield_time_constant_quarters: Option<RawNumber>,
    /// The generation may use dies of the supplier's die bank (default false).
    #[schemars(extend("default" = false))]
    pub die_bank: Option<bool>,
    /// Notes; not used by the model.
    pub description: Option<String>,
    /// Where the figures come from; echoed in the outputs.
    pub source: Option<String>,
}

/// `[suppliers.<s>.tiers.<name>]`: a customer tier (docs/MODEL.md section
/// 5, Suppliers); tiers are served in priority order.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Tier")]
pub struct RawTier {
    /// Place in the queue: a lower number is served first, file order among equals; a whole number 1 to 100 (default 1).
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(min = 1, max = MAX_PRIORITY), extend("default" = 1))]
    pub priority: Option<u64>,
    /// Chips the tier takes in the first quarter (absent: all that is left); may be uncertain.
    #[schemars(transform = bounds(TIER_DEMAND))]
    pub demand_per_quarter: Option<RawNumber>,
    /// Fractional growth of the tier's demand from one quarter to the next; may be uncertain (default 0).
    #[schemars(transform = bounds(GROWTH_PER_QUARTER), extend("default" = 0.0))]
    pub demand_growth_per_quarter: Option<RawNumber>,
    /// Who the tier is; not used by the model.
    pub description: Option<String>,
    /// Where the figures come from; echoed in the outputs.
    pub source: Option<String>,
}

/// `[fleet.<chip>]`: chips of a type already installed when the scenario
/// starts (the key names a `[chips.<name>]` table).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Fleet")]
pub struct RawFleet {
    /// Chips serving inference at the start. A whole number: 10000, 10_000 or 1e4.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(max = MAX_CHIPS), extend("default" = 0))]
    pub inference: Option<u64>,
    /// Chips in the training pool at the start. A whole number: 10000, 10_000 or 1e4.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(max = MAX_CHIPS), extend("default" = 0))]
    pub training: Option<u64>,
    /// Where the figures come from; echoed in the outputs.
    pub source: Option<String>,
}

/// `[inference]`: demand for chips to serve users, in one of two forms:
/// in chips (`initial_demand_chips`, optional `growth_per_quarter`) or in
/// tokens (`tokens_per_day`, `flop_per_token` and `serving_utilization`,
/// optional `token_growth_per_quarter` and
/// `flop_per_token_change_per_quarter`), never both (docs/MODEL.md section 5).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Inference",
    extend("oneOf" = [
        {
            "title": "Demand in chips.",
            "required": ["initial_demand_chips"],
            "properties": {
                "tokens_per_day": false,
                "token_growth_per_quarter": false,
                "flop_per_token": false,
                "flop_per_token_change_per_quarter": false,
                "serving_utilization": false
            }
        },
        {
            "title": "Demand in tokens: tokens_per_day x flop_per_token / (86400 x serving_utilization x peak_flops of unit_chip) unit chips.",
            "required": ["tokens_per_day", "flop_per_token", "serving_utilization"],
            "properties": { "initial_demand_chips": false, "growth_per_quarter": false }
        }
    ])
)]
pub struct RawInference {
    /// Demand is counted in chips of this type: the name of a `[chips.<name>]` table.
    pub unit_chip: String,
    /// Chip form: demand in the first quarter, in `unit_chip` chips; may be uncertain, drawn once per trial.
    #[schemars(transform = bounds(DEMAND_CHIPS))]
    pub initial_demand_chips: Option<RawNumber>,
    /// Chip form: growth of demand from one quarter to the next, as a fraction (0.1 is 10%; absent: no growth); may be uncertain.
    #[schemars(transform = bounds(GROWTH_PER_QUARTER))]
    pub growth_per_quarter: Option<RawNumber>,
    /// Token form: tokens served per day in the first quarter; may be uncertain, drawn once per trial.
    #[schemars(transform = bounds(TOKENS_PER_DAY))]
    pub tokens_per_day: Option<RawNumber>,
    /// Token form: growth of tokens per day from one quarter to the next, as a fraction (0.5 is +50%; absent: no growth); may be uncertain.
    #[schemars(transform = bounds(GROWTH_PER_QUARTER))]
    pub token_growth_per_quarter: Option<RawNumber>,
    /// Token form: FLOP to serve one token in the first quarter (about 2 x the model's active parameters); may be uncertain, drawn once per trial.
    #[schemars(transform = bounds(FLOP_PER_TOKEN))]
    pub flop_per_token: Option<RawNumber>,
    /// Token form: change of FLOP per token from one quarter to the next, as a fraction (-0.2 is 20% fewer FLOP per token each quarter; absent: no change); may be uncertain.
    #[schemars(transform = bounds(FLOP_PER_TOKEN_CHANGE))]
    pub flop_per_token_change_per_quarter: Option<RawNumber>,
    /// Token form: fraction of a chip's peak FLOP/s achieved while serving, above 0 and at most 1; may be uncertain.
    #[schemars(transform = bounds(SERVING_UTILIZATION))]
    pub serving_utilization: Option<RawNumber>,
}

/// One entry of `training.max_cluster_chips_from`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ClusterStep")]
pub struct RawClusterStep {
    /// The first quarter of the new limit, "YYYYQn".
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub quarter: String,
    /// The most chips one run can span from that quarter on. A whole number: 65536 or 6.5536e4.
    #[serde(deserialize_with = "count_u64")]
    #[schemars(range(min = 1, max = MAX_CHIPS))]
    pub chips: u64,
    /// Where the figure comes from; echoed in the outputs.
    pub source: Option<String>,
}

/// `[allocation]`: how each quarter's new chips are split between
/// inference and training.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Allocation",
    extend("oneOf" = [
        { "properties": { "policy": { "const": "inference_first" }, "training_share": false, "reserve_chips": false } },
        { "properties": { "policy": { "const": "fixed_share" } }, "required": ["training_share"] },
        { "properties": { "policy": { "const": "training_reserve" } }, "required": ["reserve_chips"] }
    ])
)]
pub struct RawAllocation {
    /// The allocation policy.
    pub policy: RawPolicy,
    /// With `fixed_share`: fraction of each chip type's new chips that goes to training, 0 to 1; a fixed number.
    #[schemars(with = "Option<FixedNumber>", transform = bounds(FRACTION))]
    pub training_share: Option<RawNumber>,
    /// With `training_reserve`: training is filled up to this many chips first. A whole number: 12288 or 1.2288e4.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(max = MAX_CHIPS))]
    pub reserve_chips: Option<u64>,
}

/// `allocation.policy`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Policy")]
pub enum RawPolicy {
    /// Inference demand first, the rest to training.
    InferenceFirst,
    /// A fixed share (`training_share`) of each chip type's new chips to training.
    FixedShare,
    /// Training filled up to `reserve_chips` first, the rest to inference.
    TrainingReserve,
}

/// `[training]`: the one large training run.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Training")]
pub struct RawTraining {
    /// Earliest quarter the run may start in, "YYYYQn", inside the horizon (default: the first quarter).
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub earliest_start: Option<String>,
    /// Chips the training pool needs before the run starts (0 is taken as 1). A whole number: 4096 or 4.096e3.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(max = MAX_CHIPS), extend("default" = DEFAULT_MIN_CLUSTER_CHIPS))]
    pub min_cluster_chips: Option<u64>,
    /// Most chips the run can span; at least `min_cluster_chips`. A whole number: 12288 or 1.2288e4.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(max = MAX_CHIPS), extend("default" = DEFAULT_MAX_CLUSTER_CHIPS))]
    pub max_cluster_chips: Option<u64>,
    /// Later changes of the most chips one run can span (supernode and SuperPoD limits), each `{ quarter = "YYYYQn", chips = N }`: from that quarter on the run may span up to N chips (at least `min_cluster_chips`). In increasing order of quarter (default: none, `max_cluster_chips` throughout).
    #[serde(default)]
    pub max_cluster_chips_from: Vec<RawClusterStep>,
    /// How MFU falls with the run's size: for a cluster of n chips in use, above `mfu_reference_chips`, MFU is multiplied by (n / mfu_reference_chips)^(−mfu_size_exponent). A fixed number in [0, 1] (default 0: MFU does not depend on size).
    #[schemars(with = "Option<FixedNumber>", transform = bounds(MFU_SIZE_EXPONENT), extend("default" = 0.0))]
    pub mfu_size_exponent: Option<RawNumber>,
    /// The run size, in chips, at which `mfu` is stated (required with `mfu_size_exponent`). A whole number.
    #[serde(default, deserialize_with = "opt_count_u64")]
    #[schemars(range(min = 1, max = MAX_CHIPS))]
    pub mfu_reference_chips: Option<u64>,
    /// Model FLOP utilisation: the fraction of peak FLOP/s achieved, 0 to 1; may be uncertain.
    #[schemars(transform = bounds(FRACTION))]
    pub mfu: RawNumber,
    /// Share of time doing useful work after interruptions, 0 to 1; may be uncertain.
    #[schemars(transform = bounds(FRACTION), extend("default" = DEFAULT_GOODPUT))]
    pub goodput: Option<RawNumber>,
    /// Foreign chips in the training pool may join the run.
    #[schemars(extend("default" = DEFAULT_ALLOW_FOREIGN_CHIPS))]
    pub allow_foreign_chips: Option<bool>,
    /// Longest one training run lasts, in quarters (fractions allowed; 3 is about 9 months); a fixed number. When a run ends the next starts on the cluster of the moment, and a milestone counts one run's compute (docs/MODEL.md section 5). Default: none, one run to the horizon.
    #[schemars(with = "Option<FixedNumber>", transform = bounds(MAX_RUN_QUARTERS))]
    pub max_run_quarters: Option<RawNumber>,
}

/// `[milestones.<name>]`: a training-compute milestone, whose probability
/// sancsim reports.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Milestone")]
pub struct RawMilestone {
    /// Cumulative training compute to reach, in FLOP (e.g. 2.1e25); a fixed number.
    #[schemars(with = "FixedNumber", transform = bounds(TARGET_FLOP))]
    pub target_flop: RawNumber,
    /// Reach the target by the end of this quarter, "YYYYQn", inside the horizon.
    #[schemars(regex(pattern = QUARTER_PATTERN))]
    pub deadline: String,
    /// Count only the FLOP of domestic chips.
    #[schemars(extend("default" = DEFAULT_DOMESTIC_ONLY))]
    pub domestic_only: Option<bool>,
    /// What the milestone stands for; not used by the model.
    pub description: Option<String>,
}

/// `[[expect]]`: a bound on a milestone's probability that `sancsim check`
/// tests (it fails only when the whole 95% interval lies outside). Give
/// `min_probability`, `max_probability` or both.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Expect",
    extend("anyOf" = [{ "required": ["min_probability"] }, { "required": ["max_probability"] }])
)]
pub struct RawExpect {
    /// The milestone: the name of a `[milestones.<name>]` table.
    pub milestone: String,
    /// The probability should be at least this, 0 to 1.
    #[schemars(range(min = FRACTION.min, max = FRACTION.max))]
    pub min_probability: Option<f64>,
    /// The probability should be at most this, 0 to 1; at least `min_probability`.
    #[schemars(range(min = FRACTION.min, max = FRACTION.max))]
    pub max_probability: Option<f64>,
    /// Why the bound holds; not used by the model.
    pub description: Option<String>,
}

/// A number as written: plain (`0.35`) or a table giving a distribution
/// and/or a source (`{ p5 = 0.25, p95 = 0.5, source = "…" }`).
#[derive(Debug, Clone, PartialEq)]
pub enum RawNumber {
    /// A plain number.
    Plain(f64),
    /// A table.
    Table(Box<RawDistTable>),
}

/// The table form of a [`RawNumber`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawDistTable {
    pub dist: Option<String>,
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mu: Option<f64>,
    pub sigma: Option<f64>,
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub mode: Option<f64>,
    pub p5: Option<f64>,
    pub p95: Option<f64>,
    pub per: Option<String>,
    pub source: Option<String>,
}

impl<'de> Deserialize<'de> for RawNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl<'de> Visitor<'de> for NumberVisitor {
            type Value = RawNumber;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a number or a table such as {{ p5 = 0.25, p95 = 0.5 }}")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNumber, E> {
                Ok(RawNumber::Plain(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNumber, E> {
                Ok(RawNumber::Plain(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNumber, E> {
                Ok(RawNumber::Plain(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawNumber, A::Error> {
                RawDistTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| RawNumber::Table(Box::new(t)))
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}

/// A count (trials, chips, quarters) written as a float, such as `1e6`:
/// the whole number it is, or why it is not one. `max` is the largest
/// value the key's type holds; the key's own range is checked later.
pub fn count_from_float(v: f64, max: u64) -> Result<u64, String> {
    let shown = crate::model::format_number(v);
    if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0) {
        return Err(format!(
            "`{shown}` is not a whole number >= 0; write a count as 25000, 25_000 or 2.5e4"
        ));
    }
    // 2^64 is `u64::MAX as f64` rounded up: it and anything above is too
    // large for every count; below it, whole floats convert exactly.
    if v >= 18_446_744_073_709_551_616.0 || v > max as f64 {
        return Err(format!("`{shown}` is too large for a count here (at most {max})"));
    }
    Ok(v as u64)
}

/// Deserializes a count: an integer (`1000000`, `1_000_000`) or a float
/// that is exactly a whole number (`1e6`), at most `max`.
struct CountVisitor {
    max: u64,
}

impl<'de> Visitor<'de> for CountVisitor {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a whole number >= 0 such as 25000, 25_000 or 2.5e4")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        if v > self.max {
            return Err(E::custom(format!(
                "`{v}` is too large for a count here (at most {})",
                self.max
            )));
        }
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!(
                "`{v}` is negative; write a count as a whole number >= 0 such as 25000, 25_000 or 2.5e4"
            ))),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        count_from_float(v, self.max).map_err(E::custom)
    }
}

fn count_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(CountVisitor { max: u64::MAX })
}

fn opt_count_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    count_u64(d).map(Some)
}

fn opt_count_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let n = d.deserialize_any(CountVisitor {
        max: u64::from(u32::MAX),
    })?;
    u32::try_from(n)
        .map(Some)
        .map_err(|_| de::Error::custom(format!("`{n}` is too large for a count here (at most {})", u32::MAX)))
}

/// Parses a scenario file's text. `file` names the file in error messages.
pub fn parse(text: &str, file: &str) -> Result<RawScenario, Error> {
    // Checked first: the TOML parser may report such a character as a
    // problem further on (`a = 1<NUL> b` as a missing `=` at `b`).
    if let Some((at, c)) = control_char(text) {
        let (line, column) = line_col(text, at);
        return Err(Error::Scenario(vec![ScenarioError {
            file: file.to_string(),
            line: Some(line),
            column: Some(column),
            key_path: path_at(text, at..at),
            message: format!(
                "the control character U+{:04X} is not allowed anywhere in TOML, not even in a comment or a string (only tab is); delete it, or inside a string write it as the escape \\u{:04X}",
                c as u32, c as u32
            ),
        }]));
    }
    let de = match toml::de::Deserializer::parse(text) {
        Ok(de) => de,
        Err(e) => return Err(Error::Scenario(vec![toml_error(text, file, &e, KeyPath::root())])),
    };
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = convert_path(e.path());
        Error::Scenario(vec![toml_error(text, file, e.inner(), path)])
    })
}

fn convert_path(path: &serde_path_to_error::Path) -> KeyPath {
    use serde_path_to_error::Segment;
    KeyPath(
        path.iter()
            .filter_map(|seg| match seg {
                Segment::Seq { index } => Some(Seg::Index(*index)),
                Segment::Map { key } => Some(Seg::Key(key.clone())),
                Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
                Segment::Unknown => None,
            })
            .collect(),
    )
}

/// Most levels of nesting the TOML parser accepts: arrays and inline tables
/// inside each other, or the parts of one dotted key (toml 1.x's `LIMIT`).
const TOML_NESTING_LIMIT: usize = 80;

fn toml_error(text: &str, file: &str, e: &toml::de::Error, mut key_path: KeyPath) -> ScenarioError {
    if e.span().is_none() && e.message().trim() == "recursion limit" {
        return dotted_key_error(text, file);
    }
    let (line, column) = match e.span() {
        Some(span) => {
            let (l, c) = line_col(text, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    let mut message = e
        .message()
        .trim()
        .replace("expected u64", "expected a whole number >= 0")
        .replace("expected u32", "expected a whole number >= 0")
        .replace("expected f64", "expected a number");
    if message.starts_with("cannot recurse further") {
        message = format!(
            "arrays and inline tables nested more than {TOML_NESTING_LIMIT} levels deep; a scenario needs at most 3 (`orders = [{{ quarter = \"2024Q1\", chips = 1 }}]`)"
        );
    }
    if let Some(hint) = e.span().and_then(|span| value_hint(text, span)) {
        message = format!("{message}; {hint}");
    }
    let is_quarter_key = matches!(
        key_path.0.last(),
        Some(Seg::Key(k)) if ["start", "deadline", "at", "from", "to", "until", "earliest_start", "quarter"].contains(&k.as_str())
    );
    if is_quarter_key && message.starts_with("invalid type") {
        message = format!("{message}; write a quarter in quotes, e.g. \"2025Q4\"");
    }
    if key_path.0.is_empty() {
        if let Some(span) = e.span() {
            key_path = path_at(text, span);
            if message.starts_with("duplicate key") {
                if let Some(Seg::Key(k)) = key_path.0.last() {
                    message = format!("duplicate key `{k}`: each key may appear once per table");
                }
            }
        }
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        let field = field.to_string();
        let is_table = key_path.0.is_empty();
        key_path.0.push(Seg::Key(field.clone()));
        message = if is_table {
            format!("missing required table [{field}] (scenarios/minimal.toml shows the smallest valid file)")
        } else {
            format!("missing required key `{field}`")
        };
    }
    if let Some((word, expected)) = unknown_name(&message) {
        if message.starts_with("unknown field") && key_path.0.last() != Some(&Seg::Key(word.clone())) {
            key_path.0.push(Seg::Key(word.clone()));
        }
        if let Some(best) = closest(&word, expected.iter().map(String::as_str)) {
            message.push_str(&format!("; did you mean `{best}`?"));
        }
    }
    ScenarioError {
        file: file.to_string(),
        line,
        column,
        key_path,
        message,
    }
}

/// Extracts the unknown name and the expected names from serde's
/// "unknown field `x`, expected one of `a`, `b`" (or "unknown variant").
fn unknown_name(message: &str) -> Option<(String, Vec<String>)> {
    if !(message.starts_with("unknown field") || message.starts_with("unknown variant")) {
        return None;
    }
    let ticked: Vec<String> = message.split('`').skip(1).step_by(2).map(str::to_string).collect();
    let (first, rest) = ticked.split_first()?;
    Some((first.clone(), rest.to_vec()))
}

/// Best-effort key path of a position in a file that does not parse: the
/// table of the last `[table]` header before it, plus the key of the
/// statement it lies in (and, inside an inline table, the key before it).
/// A position inside a comment gets the table, and the key of the line the
/// comment ends, never words of the comment.
fn path_at(text: &str, span: std::ops::Range<usize>) -> KeyPath {
    let start = floor_char_boundary(text, span.start);
    let pos = scan_to(text, start);
    let mut path = pos.table;
    let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let statement_end = text[pos.statement..]
        .find('\n')
        .map(|i| pos.statement + i)
        .unwrap_or(text.len());
    let statement = code_part(&text[pos.statement..statement_end]);
    let before = &text[line_start..start];
    let is_key = |k: &str| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !statement.trim_start().starts_with('[') && statement.contains('=') {
        // `key = value`: the key left of the first `=`, and, inside an inline
        // table, the key left of the last `=` before the error.
        let top = statement.split('=').next().unwrap_or("").trim().trim_matches('"');
        for k in top.split('.') {
            path.0.push(Seg::Key(k.trim().trim_matches('"').to_string()));
        }
        if !pos.in_comment {
            if let Some(eq) = before.rfind('=') {
                let inner = before[..eq].rsplit(['{', ',']).next().unwrap_or("").trim();
                if is_key(inner) && inner != top && before[..eq].contains(['{', ',']) {
                    path.0.push(Seg::Key(inner.to_string()));
                }
            }
        }
        return path;
    }
    if pos.in_comment {
        return path;
    }
    let end = span.end.clamp(start, text.len());
    let word = text.get(start..end).unwrap_or("").trim();
    if is_key(word) {
        path.0.push(Seg::Key(word.to_string()));
    }
    path
}

/// The largest char boundary of `text` at or before `offset`.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A line without its comment (the first `#` outside a string).
fn code_part(line: &str) -> &str {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some('"'), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') => return &line[..i],
            _ => {}
        }
        escaped = false;
    }
    line
}

/// What a lexical scan of a file's text up to a byte offset knows about the
/// place at that offset (it works on text that does not parse).
struct ScanPosition {
    /// The table opened by the last `[header]` before the offset (outside
    /// strings and multi-line arrays).
    table: KeyPath,
    /// Byte offset of the start of the statement the offset lies in: its
    /// first line, at nesting depth 0.
    statement: usize,
    /// The offset lies inside a comment.
    in_comment: bool,
}

/// Scans `text[..offset]` for table headers, statements and comments,
/// skipping strings (all four TOML kinds) and tracking `[`/`{` nesting.
fn scan_to(text: &str, offset: usize) -> ScanPosition {
    #[derive(PartialEq)]
    enum Mode {
        Code,
        Comment,
        Basic,
        Literal,
        MultiBasic,
        MultiLiteral,
    }
    let b = text.as_bytes();
    let offset = offset.min(b.len());
    let mut mode = Mode::Code;
    let mut depth = 0usize;
    let mut blank_so_far = true;
    let mut pos = ScanPosition {
        table: KeyPath::root(),
        statement: 0,
        in_comment: false,
    };
    let mut i = 0;
    while i < offset {
        let c = b[i];
        let rest = &b[i..];
        match mode {
            Mode::Comment | Mode::Basic | Mode::Literal if c == b'\n' => mode = Mode::Code,
            Mode::Comment => {
                i += 1;
                continue;
            }
            Mode::Basic | Mode::MultiBasic if c == b'\\' => {
                i += 2;
                continue;
            }
            Mode::Basic if c == b'"' => {
                mode = Mode::Code;
                i += 1;
                continue;
            }
            Mode::Literal if c == b'\'' => {
                mode = Mode::Code;
                i += 1;
                continue;
            }
            Mode::MultiBasic if rest.starts_with(b"\"\"\"") => {
                mode = Mode::Code;
                i += 3;
                continue;
            }
            Mode::MultiLiteral if rest.starts_with(b"\'\'\'") => {
                mode = Mode::Code;
                i += 3;
                continue;
            }
            Mode::Basic | Mode::Literal | Mode::MultiBasic | Mode::MultiLiteral => {
                i += 1;
                continue;
            }
            Mode::Code => {}
        }
        if mode == Mode::Code {
            match c {
                b'\n' => {
                    if depth == 0 {
                        pos.statement = i + 1;
                    }
                    blank_so_far = true;
                    i += 1;
                    continue;
                }
                b'#' => mode = Mode::Comment,
                b'"' if rest.starts_with(b"\"\"\"") => {
                    mode = Mode::MultiBasic;
                    i += 3;
                    blank_so_far = false;
                    continue;
                }
                b'\'' if rest.starts_with(b"\'\'\'") => {
                    mode = Mode::MultiLiteral;
                    i += 3;
                    blank_so_far = false;
                    continue;
                }
                b'"' => mode = Mode::Basic,
                b'\'' => mode = Mode::Literal,
                b'[' if depth == 0 && blank_so_far => {
                    // A table header: it names the table once it is closed
                    // before the offset.
                    let line_end = text[i..].find('\n').map(|n| i + n).unwrap_or(text.len());
                    let header = code_part(&text[i..line_end]);
                    let Some(close) = header.rfind(']') else { break };
                    if i + close >= offset {
                        break;
                    }
                    let inner = header.trim_start_matches('[').split(']').next().unwrap_or("");
                    pos.table = KeyPath(
                        inner
                            .split('.')
                            .map(|k| Seg::Key(k.trim().trim_matches('"').to_string()))
                            .collect(),
                    );
                    i += close + 1;
                    blank_so_far = false;
                    continue;
                }
                b'[' | b'{' => depth += 1,
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if !matches!(c, b' ' | b'\t' | b'\r') {
            blank_so_far = false;
        }
        i += 1;
    }
    pos.in_comment = mode == Mode::Comment;
    pos
}

/// The error for a dotted key (or table header) with more parts than the
/// TOML parser accepts, which it reports without a position: it points at
/// the start of the key with the most parts.
fn dotted_key_error(text: &str, file: &str) -> ScenarioError {
    let (at, parts) = longest_dotted_key(text);
    let (line, column) = line_col(text, at);
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let in_header = matches!(text[line_start..at].trim(), "[" | "[[");
    ScenarioError {
        file: file.to_string(),
        line: Some(line),
        column: Some(column),
        key_path: if in_header {
            KeyPath::root()
        } else {
            scan_to(text, at).table
        },
        message: format!(
            "this dotted key has {parts} parts, more than TOML's limit of {TOML_NESTING_LIMIT} levels of nesting; a scenario needs at most 5 (`shocks.name.effects`)"
        ),
    }
}

/// Byte offset and number of parts of the dotted key with the most parts
/// (`a.b."c d".e`), outside strings and comments; the first one on a tie.
fn longest_dotted_key(text: &str) -> (usize, usize) {
    let b = text.as_bytes();
    let (mut best, mut best_at) = (0, 0);
    let (mut parts, mut run_at, mut after_dot) = (0, 0, false);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let part_end = if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
            let n = b[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
                .count();
            Some(i + n)
        } else if c == b'"' || c == b'\'' {
            // A quoted part (or a string value): skip to its closing quote.
            let mut j = i + 1;
            while j < b.len() && b[j] != c && b[j] != b'\n' {
                j += if c == b'"' && b[j] == b'\\' { 2 } else { 1 };
            }
            Some((j + 1).min(b.len()))
        } else {
            None
        };
        match (part_end, c) {
            (Some(end), _) => {
                if parts == 0 || !after_dot {
                    parts = 0;
                    run_at = i;
                }
                parts += 1;
                after_dot = false;
                if parts > best {
                    (best, best_at) = (parts, run_at);
                }
                i = end;
                continue;
            }
            (None, b'.') if parts > 0 && !after_dot => after_dot = true,
            (None, b' ' | b'\t') => {}
            (None, b'#') => {
                let n = b[i..].iter().take_while(|c| **c != b'\n').count();
                i += n;
                parts = 0;
                continue;
            }
            _ => {
                parts = 0;
                after_dot = false;
            }
        }
        i += 1;
    }
    (best_at, best)
}

/// The first control character TOML forbids anywhere, strings and
/// comments included (all but tab, line feed and the carriage return of a
/// CRLF line end), with its byte offset.
fn control_char(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(i, c)| {
        let crlf = c == '\r' && text[i..].starts_with("\r\n");
        c.is_ascii_control() && !matches!(c, '\t' | '\n') && !crlf
    })
}

/// Advice for a value a strategist wrote the way they would in prose.
fn value_hint(text: &str, span: std::ops::Range<usize>) -> Option<&'static str> {
    let start = span.start.min(text.len());
    let rest = &text[start..];
    let word: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '}' | ']'))
        .collect();
    let upper = word.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    if word.ends_with('%') {
        Some("write a fraction instead of a percentage, e.g. 0.35 for 35%")
    } else if bytes.len() == 6 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'Q' {
        Some("write a quarter in quotes, e.g. \"2025Q4\"")
    } else {
        None
    }
}

/// 1-based line and column (in characters) of a byte offset. A UTF-8
/// byte-order mark at the start of the file is not counted as a column,
/// as editors do not show it.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let last = before.rsplit('\n').next().unwrap_or("");
    let last = if line == 1 {
        last.trim_start_matches('\u{feff}')
    } else {
        last
    };
    (line, last.chars().count() + 1)
}

/// The text of a scenario file read as bytes: UTF-8, with or without a
/// byte-order mark. Anything else is an error naming what the file is (a
/// UTF-16 or UTF-32 byte-order mark) or the line and column of the first
/// byte that is not UTF-8, and saying to save the file as UTF-8.
pub fn decode<'a>(bytes: &'a [u8], file: &str) -> Result<&'a str, Error> {
    let error = |line, column, key_path, message: String| {
        Error::Scenario(vec![ScenarioError {
            file: file.to_string(),
            line: Some(line),
            column: Some(column),
            key_path,
            message,
        }])
    };
    const SAVE: &str = "save the file as UTF-8 (in Notepad: File > Save As, Encoding: UTF-8)";
    let boms: [(&[u8], &str); 4] = [
        (&[0xFF, 0xFE, 0, 0], "UTF-32 (little-endian)"),
        (&[0, 0, 0xFE, 0xFF], "UTF-32 (big-endian)"),
        (&[0xFF, 0xFE], "UTF-16 (little-endian)"),
        (&[0xFE, 0xFF], "UTF-16 (big-endian)"),
    ];
    for (bom, encoding) in boms {
        if bytes.starts_with(bom) {
            let marks: Vec<String> = bom.iter().map(|b| format!("{b:02X}")).collect();
            return Err(error(
                1,
                1,
                KeyPath::root(),
                format!(
                    "the file is {encoding} text (it starts with the byte-order mark {}), but scenario files must be UTF-8; {SAVE}",
                    marks.join(" ")
                ),
            ));
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            if bytes.len() >= 4 && bytes[0] != 0 && bytes[1] == 0 && bytes[2] != 0 && bytes[3] == 0 {
                return Err(error(
                    1,
                    2,
                    KeyPath::root(),
                    format!(
                        "the file looks like UTF-16 text without a byte-order mark (every other byte is 0), but scenario files must be UTF-8; {SAVE}"
                    ),
                ));
            }
            Ok(text)
        }
        Err(e) => {
            let at = e.valid_up_to();
            // The prefix is valid UTF-8 by construction.
            let prefix = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
            let (line, column) = line_col(prefix, at);
            let byte = bytes[at];
            let guess = windows_1252(byte)
                .map(|c| format!(" (in the Windows-1252 encoding it would be `{c}`)"))
                .unwrap_or_default();
            Err(error(
                line,
                column,
                path_at(prefix, at..at),
                format!("byte 0x{byte:02X} is not valid UTF-8{guess}: scenario files must be UTF-8; {SAVE}"),
            ))
        }
    }
}

/// The character a byte 0x80-0xFF stands for in Windows-1252, the usual
/// encoding of a Western-European Windows file that is not UTF-8.
fn windows_1252(byte: u8) -> Option<char> {
    const HIGH: [char; 32] = [
        '€', '?', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '?', 'Ž', '?', '?', '‘', '’', '“', '”', '•',
        '–', '—', '˜', '™', 'š', '›', 'œ', '?', 'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => Some(HIGH[usize::from(byte - 0x80)]).filter(|c| *c != '?'),
        0xA0..=0xFF => Some(char::from(byte)),
        _ => None,
    }
}

/// Finds where a key path is written in a file: the line and column of the
/// deepest part of the path that exists (a missing key points at its table).
pub fn locate(text: &str, path: &KeyPath) -> Option<(usize, usize)> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut span = None;
    let mut current: Option<&DeValue> = None;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    for seg in &path.0 {
        let next = match (seg, table, current) {
            (Seg::Key(k), Some(t), _) => t.iter().find(|(key, _)| key.get_ref() == k).map(|(key, v)| {
                span = Some(key.span());
                v
            }),
            (Seg::Index(i), _, Some(DeValue::Array(a))) => a.get(*i).inspect(|v| {
                span = Some(v.span());
            }),
            _ => None,
        };
        let Some(value) = next else { break };
        current = Some(value.get_ref());
        table = value.get_ref().as_table();
        if let (Seg::Key(_), DeValue::Array(_)) = (seg, value.get_ref()) {
            table = None;
        }
        if let Seg::Index(_) = seg {
            if let DeValue::Table(_) = value.get_ref() {
                span = Some(value.span());
            }
        }
    }
    let span = span?;
    Some(line_col(text, span.start))
}

/// Makes a [`ScenarioError`] for a semantic problem at `path`.
pub fn semantic_error(text: &str, file: &str, path: KeyPath, message: String) -> ScenarioError {
    let (line, column) = match locate(text, &path) {
        Some((l, c)) => (Some(l), Some(c)),
        None => (None, None),
    };
    ScenarioError {
        file: file.to_string(),
        line,
        column,
        key_path: path,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"
[scenario]
name = "mini"
start = "2024Q1"

[chips.a]
peak_flops = 3e14

[supply.line]
chip = "a"
orders = [{ quarter = "2024Q1", chips = 10 }]
fill_rate = { dist = "beta", alpha = 2, beta = 3 }

[training]
mfu = 0.4
"#;

    #[test]
    fn parses_a_minimal_file() {
        let raw = parse(MINI, "mini.toml").unwrap();
        assert_eq!(raw.scenario.name, "mini");
        assert_eq!(raw.chips["a"].peak_flops, RawNumber::Plain(3e14));
    }

    #[test]
    fn unknown_key_names_path_line_and_suggestion() {
        let text = MINI.replace("fill_rate =", "fil_rate =");
        let Err(Error::Scenario(errs)) = parse(&text, "mini.toml") else {
            panic!("accepted")
        };
        let msg = errs[0].to_string();
        assert!(
            msg.starts_with("mini.toml:12:1: supply.line.fil_rate: unknown field"),
            "{msg}"
        );
        assert!(msg.contains("did you mean `fill_rate`?"), "{msg}");
    }

    #[test]
    fn unknown_key_inside_a_distribution_is_named() {
        let text = MINI.replace("alpha = 2", "alfa = 2");
        let Err(Error::Scenario(errs)) = parse(&text, "mini.toml") else {
            panic!("accepted")
        };
        let msg = errs[0].to_string();
        assert!(msg.contains("supply.line.fill_rate.alfa"), "{msg}");
        assert!(msg.contains("did you mean `alpha`?"), "{msg}");
    }

    #[test]
    fn decode_locates_the_first_byte_that_is_not_utf8() {
        let bytes = b"[scenario]\nname = \"a\" # \xe9t\xe9 \x96\n";
        let Err(Error::Scenario(errs)) = decode(bytes, "f.toml") else {
            panic!("accepted")
        };
        assert_eq!((errs[0].line, errs[0].column), (Some(2), Some(14)));
        assert_eq!(errs[0].key_path.to_string(), "scenario.name");
        assert!(
            errs[0].message.contains("0xE9") && errs[0].message.contains("`é`"),
            "{}",
            errs[0]
        );
        assert_eq!(decode("\u{feff}a = 1".as_bytes(), "f").unwrap(), "\u{feff}a = 1");
        assert_eq!(line_col("\u{feff}a = 1", 4), (1, 2));
    }

    #[test]
    fn comment_text_is_never_a_key_path() {
        let text = "[a]\nx = [\n  1,\n]\n# b: c = 1 \u{7}\ny = 2 # d = 3 \u{7}\n";
        let at = |needle: &str, nth: usize| text.match_indices(needle).nth(nth).unwrap().0;
        assert_eq!(path_at(text, at("\u{7}", 0)..at("\u{7}", 0)).to_string(), "a");
        assert_eq!(path_at(text, at("\u{7}", 1)..at("\u{7}", 1)).to_string(), "a.y");
        // `[` on a line of a multi-line array is not a table header.
        let text = "[t]\nx = [\n[\n1 1\n]]\n";
        assert_eq!(path_at(text, at_of(text, "1 1")..at_of(text, "1 1")).to_string(), "t.x");
    }

    fn at_of(text: &str, needle: &str) -> usize {
        text.find(needle).unwrap()
    }

    #[test]
    fn longest_dotted_key_skips_strings_and_comments() {
        let text = "a = \"x.y.z.w\" # p.q.r.s.t\nb.c.\"d e\".f = 1\n";
        assert_eq!(longest_dotted_key(text), (text.find("b.c").unwrap(), 4));
    }

    #[test]
    fn locates_key_paths() {
        let p = KeyPath::root().key("supply").key("line").key("fill_rate").key("beta");
        assert_eq!(locate(MINI, &p).map(|x| x.0), Some(12));
        let p = KeyPath::root()
            .key("supply")
            .key("line")
            .key("orders")
            .index(0)
            .key("chips");
        assert_eq!(locate(MINI, &p).map(|x| x.0), Some(11));
        let p = KeyPath::root().key("training").key("mfu");
        assert_eq!(locate(MINI, &p), Some((15, 1)));
    }
}
