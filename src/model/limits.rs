//! The limits and defaults of every number in a scenario file, in one
//! place: validation ([`super::build`]) checks against them and the JSON
//! Schema ([`crate::schema`]) states them, so the two cannot disagree.

/// Largest number of trials one run may ask for.
pub const MAX_TRIALS: u64 = 100_000_000;
/// Largest horizon, in quarters (50 years).
pub const MAX_HORIZON_QUARTERS: u32 = 200;
/// Largest number of chips in any single count (orders, fleet, cluster sizes).
pub const MAX_CHIPS: u64 = 1_000_000_000_000;
/// Largest total of chips a scenario may involve: every chip ordered by all
/// supply lines within the horizon plus the starting fleet, 2^53, so that
/// every count the engine keeps (pools, deliveries, backlogs, installed
/// chips) is exact both as a `u64` and as an `f64`.
pub const MAX_TOTAL_CHIPS: u64 = 1 << 53;
/// Most inputs one `[[correlation]]` may correlate.
pub const MAX_CORRELATED_INPUTS: usize = 64;
/// Default number of trials when the scenario gives none.
pub const DEFAULT_TRIALS: u64 = 10_000;
/// Default `scenario.min_effective_sample_size`: with `[[observe]]`, a run
/// whose posterior has fewer effective trials is refused.
pub const DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE: u64 = 100;
/// Default horizon when the scenario gives none.
pub const DEFAULT_HORIZON_QUARTERS: u32 = 16;
/// Default seed when the scenario gives none.
pub const DEFAULT_SEED: u64 = 1;
/// Default `training.min_cluster_chips` (0 is also taken as 1).
pub const DEFAULT_MIN_CLUSTER_CHIPS: u64 = 1;
/// Default `training.max_cluster_chips`: no limit below [`MAX_CHIPS`].
pub const DEFAULT_MAX_CLUSTER_CHIPS: u64 = MAX_CHIPS;
/// Default `supply.*.fill_rate`: every order filled.
pub const DEFAULT_FILL_RATE: f64 = 1.0;
/// Default `supply.*.lead_time_quarters`: chips arrive when ordered.
pub const DEFAULT_LEAD_TIME_QUARTERS: f64 = 0.0;
/// Default `training.goodput`: no time lost to interruptions.
pub const DEFAULT_GOODPUT: f64 = 1.0;
/// Default `shocks.*.probability` of a shock with `at`: it happens.
pub const DEFAULT_SHOCK_PROBABILITY: f64 = 1.0;
/// Default `chips.*.domestic`: made domestically.
pub const DEFAULT_DOMESTIC: bool = true;
/// Default `supply.*.backlog`: unfilled chips are lost.
pub const DEFAULT_BACKLOG: bool = false;
/// Default `shocks.*.effects[*].stop`: orders are still filled.
pub const DEFAULT_STOP: bool = false;
/// Largest `chips.*.training_priority` and `chips.*.inference_priority`
/// (the smallest is 1).
pub const MAX_PRIORITY: u64 = 100;
/// Default `chips.*.training_priority` of a domestic chip type (foreign: one more).
pub const DEFAULT_TRAINING_PRIORITY_DOMESTIC: u64 = 1;
/// Default `chips.*.inference_priority` of a foreign chip type (domestic: one more).
pub const DEFAULT_INFERENCE_PRIORITY_FOREIGN: u64 = 1;
/// Default `gates.*.initially_open`.
pub const DEFAULT_GATE_INITIALLY_OPEN: bool = true;
/// Default `training.allow_foreign_chips`: domestic chips only.
pub const DEFAULT_ALLOW_FOREIGN_CHIPS: bool = false;
/// Default `milestones.*.domestic_only`: count domestic chips' FLOP only.
pub const DEFAULT_DOMESTIC_ONLY: bool = true;

/// The valid values of a number: `[min, max]`, or `(min, max]` when
/// `min_exclusive`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Smallest valid value (excluded when `min_exclusive`).
    pub min: f64,
    /// Largest valid value.
    pub max: f64,
    /// `min` itself is not valid.
    pub min_exclusive: bool,
}

impl Bounds {
    /// `[min, max]`.
    pub const fn closed(min: f64, max: f64) -> Bounds {
        Bounds {
            min,
            max,
            min_exclusive: false,
        }
    }

    /// `(0, max]`.
    pub const fn positive(max: f64) -> Bounds {
        Bounds {
            min: 0.0,
            max,
            min_exclusive: true,
        }
    }

    /// A fraction: valid values from 0 (included or not) to 1, such as
    /// [`FRACTION`] and [`SERVING_UTILIZATION`]. A 90% interval of a
    /// fraction is fitted as a logit-normal (docs/MODEL.md section 3).
    pub fn is_fraction(&self) -> bool {
        self.min == 0.0 && self.max == 1.0
    }

    /// Whether `v` is a valid value (never NaN).
    pub fn contains(&self, v: f64) -> bool {
        let above = if self.min_exclusive {
            v > self.min
        } else {
            v >= self.min
        };
        above && v <= self.max
    }
}

/// A fraction or probability: fill rates, failure rates, shock
/// probabilities and hazards, `training_share`, `mfu`, `goodput`, and the
/// probabilities of `[[expect]]`.
pub const FRACTION: Bounds = Bounds::closed(0.0, 1.0);
/// A delay or duration in quarters: lead times and shock durations.
pub const DELAY_QUARTERS: Bounds = Bounds::closed(0.0, 400.0);
/// `chips.*.peak_flops`, FLOP/s per chip.
pub const PEAK_FLOPS: Bounds = Bounds::positive(1e20);
/// `milestones.*.target_flop`, FLOP.
pub const TARGET_FLOP: Bounds = Bounds::positive(1e40);
/// `shocks.*.effects[*].fill_rate_multiplier`.
pub const FILL_RATE_MULTIPLIER: Bounds = Bounds::closed(0.0, 1e6);
/// `training.max_run_quarters`: the longest one training run may last, in
/// quarters. At least a tenth of a quarter (about nine days), so a trial
/// has at most `10 × horizon + 1` runs, each with its own statistics.
pub const MAX_RUN_QUARTERS: Bounds = Bounds::closed(0.1, 200.0);
/// `supply.*.quota_chips_per_quarter`: chips a line may fill in a quarter.
pub const QUOTA_CHIPS: Bounds = Bounds::closed(0.0, MAX_CHIPS as f64);
/// `supply.*.domestic_purchase_ratio`: domestic chips ordered per chip filled.
pub const DOMESTIC_PURCHASE_RATIO: Bounds = Bounds::positive(1e6);
/// `training.mfu_size_exponent`: how fast MFU falls with the run's size.
pub const MFU_SIZE_EXPONENT: Bounds = Bounds::closed(0.0, 1.0);
/// `chips.*.derating`: the shipped chip's throughput as a share of the announced one.
pub const DERATING: Bounds = Bounds::positive(1.0);
/// `chips.*.memory_gb`: memory per chip, GB (reported, not used).
pub const MEMORY_GB: Bounds = Bounds::positive(1e5);
/// A supplier's wafer starts or packaging capacity per quarter.
pub const CAPACITY_PER_QUARTER: Bounds = Bounds::closed(0.0, 1e12);
/// A supplier's stock of dies or HBM stacks, or stacks added per quarter.
pub const STOCK: Bounds = Bounds::closed(0.0, 1e13);
/// Quarters of delay (a generation's slip, domestic HBM's delay, a shock's delay of a generation).
pub const SLIP_QUARTERS: Bounds = Bounds::closed(0.0, 40.0);
/// Largest `ramp_quarters` of a generation and `hbm_domestic_ramp_quarters`.
pub const MAX_RAMP_QUARTERS: u64 = 40;
/// `suppliers.*.generations.*.dies_per_wafer`: candidate dies per wafer.
pub const DIES_PER_WAFER: Bounds = Bounds::positive(1e5);
/// Largest `dies_per_package`.
pub const MAX_DIES_PER_PACKAGE: u64 = 16;
/// Largest `hbm_stacks_per_package`.
pub const MAX_HBM_STACKS_PER_PACKAGE: u64 = 64;
/// `yield_time_constant_quarters`: quarters for yield to close 63% of its gap.
pub const YIELD_TIME_CONSTANT: Bounds = Bounds::positive(100.0);
/// Default `chips.*.run_failure_lost_quarters`.
pub const DEFAULT_RUN_FAILURE_LOST_QUARTERS: f64 = 1.0;
/// Default `yield_time_constant_quarters`.
pub const DEFAULT_YIELD_TIME_CONSTANT: f64 = 4.0;
/// A shock's multiplier of a supplier's input, or of a line's share.
pub const INPUT_MULTIPLIER: Bounds = Bounds::closed(0.0, 1e6);
/// A tier's chips per quarter.
pub const TIER_DEMAND: Bounds = Bounds::closed(0.0, MAX_CHIPS as f64);
/// Cap of a supplier's capacities and growth factors (docs/MODEL.md section 5, Supply).
pub const SUPPLY_CAP: f64 = 1e15;

/// `inference.growth_per_quarter`, a fraction per quarter.
pub const GROWTH_PER_QUARTER: Bounds = Bounds::closed(-1.0, 100.0);
/// `inference.initial_demand_chips`.
pub const DEMAND_CHIPS: Bounds = Bounds::closed(0.0, MAX_CHIPS as f64);
/// `inference.tokens_per_day`, tokens served per day in the first quarter.
pub const TOKENS_PER_DAY: Bounds = Bounds::positive(1e18);
/// `inference.flop_per_token`, FLOP to serve one token in the first quarter.
pub const FLOP_PER_TOKEN: Bounds = Bounds::positive(1e18);
/// `inference.flop_per_token_change_per_quarter`, a fraction per quarter
/// (-0.2: 20% fewer FLOP per token each quarter); above -1, so FLOP per
/// token never reaches 0.
pub const FLOP_PER_TOKEN_CHANGE: Bounds = Bounds::closed(-0.99, 10.0);
/// `inference.serving_utilization`: the fraction of peak FLOP/s achieved
/// while serving, above 0 since demand divides by it.
pub const SERVING_UTILIZATION: Bounds = Bounds::positive(1.0);
