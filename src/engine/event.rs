//! The kinds of event a trial is made of, and their order within one second.

/// One simulation event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Record the state at the end of `quarter` (outputs per quarter).
    QuarterEnd {
        /// Quarter index.
        quarter: u32,
    },
    /// A shock's effects stop.
    ShockEnd {
        /// Shock index.
        shock: usize,
    },
    /// A shock's effects begin.
    ShockStart {
        /// Shock index.
        shock: usize,
    },
    /// Chips from a supply line arrive and wait for the next allocation.
    ShipmentArrival {
        /// Supply line index.
        line: usize,
        /// Chip type (the line's, or the generation a supplier made).
        chip: usize,
        /// Number of chips.
        chips: u64,
    },
    /// Installed chips fail (the quarter's failures, drawn at mid-quarter).
    ChipFailures {
        /// Quarter index.
        quarter: u32,
    },
    /// Quarter boundary: demand update, allocation, orders.
    QuarterStart {
        /// Quarter index.
        quarter: u32,
    },
    /// The training run starts.
    TrainingStart,
    /// A milestone's target is met. Not kept in the heap: the engine holds
    /// the one next crossing in its own slot (see `engine::NextMilestone`),
    /// recomputed whenever the training rate changes, and processes it after
    /// all heap events of earlier seconds and of its own second.
    MilestoneReached {
        /// Milestone index.
        milestone: usize,
    },
    /// With `training.max_run_quarters`: the current training run ends and
    /// the next one starts on the same cluster, its compute counted from 0.
    RunEnd,
    /// With platform risk (`chips.*.run_failure_probability`): the current
    /// run failed; its compute is lost and it restarts now from 0.
    RunRestart,
}

impl Event {
    /// Order among events at the same second: chips landing on a quarter
    /// boundary arrive first (a time belongs to the quarter it ends, so they
    /// count in the quarter that just ended), then that quarter is recorded,
    /// shocks end and start, chips fail, and only then is the new quarter's
    /// allocation made. A run ends last, after any milestone its compute
    /// reached at that very second.
    pub fn phase(&self) -> u8 {
        match self {
            Event::ShipmentArrival { .. } => 0,
            Event::QuarterEnd { .. } => 1,
            Event::ShockEnd { .. } => 2,
            Event::ShockStart { .. } => 3,
            Event::ChipFailures { .. } => 4,
            Event::QuarterStart { .. } => 5,
            Event::TrainingStart => 6,
            Event::MilestoneReached { .. } => 7,
            Event::RunEnd => 8,
            Event::RunRestart => 9,
        }
    }
}
