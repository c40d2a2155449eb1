//! Allocation policies: how one quarter's newly available chips are split
//! between inference and the training run. The order of chip types, the
//! cluster room each sees and the chips moved by recall and by making room
//! are the engine's (docs/MODEL.md section 5, `QuarterStart` step 2).

use crate::model::Policy;

/// What the policy needs to know about one chip type's new chips.
#[derive(Debug, Clone, Copy)]
pub struct AllocationInput {
    /// New chips of this type waiting to be placed.
    pub new_chips: u64,
    /// Peak FLOP/s of one chip of this type.
    pub peak_flops: f64,
    /// May join the training run.
    pub eligible_for_training: bool,
    /// Inference demand not yet met, FLOP/s (0 without a demand model).
    pub unmet_inference_flops: f64,
    /// Chips the training run can still take before reaching its maximum size.
    pub training_room: u64,
    /// Eligible chips already in training.
    pub training_chips: u64,
}

/// Chips to training and to inference; they add up to `new_chips`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// To the training run.
    pub training: u64,
    /// To inference.
    pub inference: u64,
}

/// Splits one chip type's new chips according to `policy`.
pub fn split(policy: Policy, input: AllocationInput) -> Split {
    let n = input.new_chips;
    let to_training = if !input.eligible_for_training {
        0
    } else {
        match policy {
            Policy::InferenceFirst => {
                let needed = if input.unmet_inference_flops > 0.0 {
                    (input.unmet_inference_flops / input.peak_flops).ceil().min(n as f64) as u64
                } else {
                    0
                };
                (n - needed.min(n)).min(input.training_room)
            }
            Policy::FixedShare(share) => ((share * n as f64 + 0.5).floor() as u64)
                .min(n)
                .min(input.training_room),
            Policy::TrainingReserve(reserve) => {
                let room = reserve.saturating_sub(input.training_chips).min(input.training_room);
                n.min(room)
            }
        }
    };
    Split {
        training: to_training,
        inference: n - to_training,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(n: u64) -> AllocationInput {
        AllocationInput {
            new_chips: n,
            peak_flops: 1.0,
            eligible_for_training: true,
            unmet_inference_flops: 30.0,
            training_room: 1000,
            training_chips: 0,
        }
    }

    #[test]
    fn inference_first_meets_demand_then_trains() {
        assert_eq!(
            split(Policy::InferenceFirst, input(100)),
            Split {
                training: 70,
                inference: 30
            }
        );
        assert_eq!(
            split(Policy::InferenceFirst, input(20)),
            Split {
                training: 0,
                inference: 20
            }
        );
        let capped = AllocationInput {
            training_room: 50,
            ..input(100)
        };
        assert_eq!(
            split(Policy::InferenceFirst, capped),
            Split {
                training: 50,
                inference: 50
            }
        );
        let fractional = AllocationInput {
            unmet_inference_flops: 2.5,
            ..input(10)
        };
        assert_eq!(
            split(Policy::InferenceFirst, fractional),
            Split {
                training: 7,
                inference: 3
            }
        );
    }

    #[test]
    fn fixed_share_rounds_half_up() {
        assert_eq!(
            split(Policy::FixedShare(0.25), input(10)),
            Split {
                training: 3,
                inference: 7
            }
        );
        assert_eq!(
            split(Policy::FixedShare(1.0), input(10)),
            Split {
                training: 10,
                inference: 0
            }
        );
    }

    #[test]
    fn training_reserve_fills_up_to_the_reserve() {
        let partly = AllocationInput {
            training_chips: 80,
            ..input(50)
        };
        assert_eq!(
            split(Policy::TrainingReserve(100), partly),
            Split {
                training: 20,
                inference: 30
            }
        );
    }

    #[test]
    fn foreign_chips_go_to_inference_when_training_is_domestic_only() {
        let foreign = AllocationInput {
            eligible_for_training: false,
            ..input(100)
        };
        assert_eq!(
            split(Policy::FixedShare(1.0), foreign),
            Split {
                training: 0,
                inference: 100
            }
        );
    }
}
