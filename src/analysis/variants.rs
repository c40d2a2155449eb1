//! Several variants of a scenario run on the same trials: common random
//! numbers.
//!
//! Trial `i` of every variant draws from the streams of (base seed, `i`), so
//! an element that two variants share draws the same values in both
//! (docs/MODEL.md section 2); a variant may also pin uncertain numbers at a
//! value (tornado) in every trial. Per variant, [`VariantStats`] counts when
//! each milestone was reached and how often inference fell short, and pairs
//! each trial's outcome with the first variant's (the base) on milestones
//! of the same name: integer counts, so merges are exact in any order.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::analysis::paired::PairedCounts;
use crate::engine::{Workspace, draw_inputs, simulate};
use crate::error::Error;
use crate::model::{Model, UncertainId};
use crate::rng::TrialStreams;
use crate::runner::{RunControl, run_blocks};
use crate::trials::MergeError;

/// An uncertain number held at one value in every trial (and every quarter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pin {
    /// Which uncertain number.
    pub input: UncertainId,
    /// Its value (within its valid range).
    pub value: f64,
}

/// One variant: a model, with some inputs possibly pinned.
#[derive(Debug, Clone)]
pub struct Variant {
    /// How outputs name it.
    pub label: String,
    /// The validated model.
    pub model: Model,
    /// Inputs held fixed.
    pub pins: Vec<Pin>,
}

/// What a variant's trials gave, as counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantStats {
    /// Trials run.
    pub trials: u64,
    /// `reached_in_quarter[k][q]`: trials that first reached this variant's
    /// milestone `k` in quarter `q`.
    pub reached_in_quarter: Vec<Vec<u64>>,
    /// Trials in which inference fell short by more than the run's
    /// shortfall level in some quarter.
    pub shortfall: u64,
    /// Quarters (summed over trials) in which inference fell short by more
    /// than the shortfall level.
    pub short_quarters: u64,
    /// Sum over trials of the square of each trial's short quarters (for
    /// the interval of the mean).
    pub short_quarters_squared: u64,
    /// Quarters per trial (the variant's horizon).
    pub horizon: u32,
    /// `clamped[u]`: draws of the variant's uncertain number `u` that fell
    /// outside its valid range and were clamped (as a run's `clamped`).
    #[serde(default)]
    pub clamped: Vec<u64>,
    /// `paired[k]`: for the base's milestone `k`, the trials classified by
    /// whether the base and this variant reached it by their deadlines
    /// (`None` when this variant has no milestone of that name).
    pub paired: Vec<Option<PairedCounts>>,
    /// The same pairing for the shortfall indicator.
    pub paired_shortfall: PairedCounts,
}

impl VariantStats {
    fn new(variant: &Model, base: &Model) -> VariantStats {
        let h = variant.horizon() as usize;
        VariantStats {
            trials: 0,
            reached_in_quarter: vec![vec![0; h]; variant.milestones.len()],
            shortfall: 0,
            short_quarters: 0,
            short_quarters_squared: 0,
            horizon: variant.horizon(),
            clamped: vec![0; variant.uncertain.len()],
            paired: base
                .milestones
                .iter()
                .map(|m| {
                    variant
                        .milestones
                        .iter()
                        .any(|v| v.name == m.name)
                        .then(PairedCounts::default)
                })
                .collect(),
            paired_shortfall: PairedCounts::default(),
        }
    }

    /// Milestone `k`'s (trials reached by its deadline, probability, 95%
    /// Clopper–Pearson low, high) in this variant.
    pub fn probability(&self, model: &Model, k: usize) -> (u64, f64, f64, f64) {
        let x = self.reached_by_deadline(model, k);
        let (lo, hi) = crate::stats::clopper_pearson(x, self.trials, 0.05);
        (x, x as f64 / self.trials as f64, lo, hi)
    }

    /// The warnings of numbers clamped in more than 1% of their draws
    /// ([`crate::results::clamp_warnings_of`]).
    pub fn clamp_warnings(&self, model: &Model) -> Vec<String> {
        let inputs = crate::results::clamped_inputs_of(model, self.trials, self.horizon, &self.clamped);
        crate::results::clamp_warnings_of(model, &inputs)
    }

    /// Trials that reached this variant's milestone `k` by its deadline.
    pub fn reached_by_deadline(&self, model: &Model, k: usize) -> u64 {
        self.reached_in_quarter[k][..=model.milestones[k].deadline as usize]
            .iter()
            .sum()
    }

    fn merge(mut self, other: VariantStats) -> Result<VariantStats, MergeError> {
        let add = |a: u64, b: u64, what| a.checked_add(b).ok_or(MergeError::Overflow(what));
        if self.reached_in_quarter.len() != other.reached_in_quarter.len() || self.paired.len() != other.paired.len() {
            return Err(MergeError::Shape);
        }
        self.trials = add(self.trials, other.trials, "trials")?;
        self.shortfall = add(self.shortfall, other.shortfall, "shortfall")?;
        self.short_quarters = add(self.short_quarters, other.short_quarters, "short_quarters")?;
        self.short_quarters_squared = add(
            self.short_quarters_squared,
            other.short_quarters_squared,
            "short_quarters_squared",
        )?;
        if self.horizon != other.horizon || self.clamped.len() != other.clamped.len() {
            return Err(MergeError::Shape);
        }
        for (x, y) in self.clamped.iter_mut().zip(&other.clamped) {
            *x = add(*x, *y, "clamped")?;
        }
        for (a, b) in self.reached_in_quarter.iter_mut().zip(&other.reached_in_quarter) {
            if a.len() != b.len() {
                return Err(MergeError::Shape);
            }
            for (x, y) in a.iter_mut().zip(b) {
                *x = add(*x, *y, "reached_in_quarter")?;
            }
        }
        for (a, b) in self.paired.iter_mut().zip(&other.paired) {
            match (a.as_mut(), b) {
                (Some(x), Some(y)) => *x = x.merge(y).ok_or(MergeError::Overflow("paired"))?,
                (None, None) => {}
                _ => return Err(MergeError::Shape),
            }
        }
        self.paired_shortfall = self
            .paired_shortfall
            .merge(&other.paired_shortfall)
            .ok_or(MergeError::Overflow("paired_shortfall"))?;
        Ok(self)
    }
}

/// The counts of every variant of a run, in variant order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantRun {
    /// Per variant; the first is the base.
    pub variants: Vec<VariantStats>,
}

impl VariantRun {
    fn new(variants: &[Variant]) -> VariantRun {
        VariantRun {
            variants: variants
                .iter()
                .map(|v| VariantStats::new(&v.model, &variants[0].model))
                .collect(),
        }
    }

    /// Adds another run of the same variants (other trials).
    pub fn merge(self, other: VariantRun) -> Result<VariantRun, MergeError> {
        if self.variants.len() != other.variants.len() {
            return Err(MergeError::Shape);
        }
        let variants = self
            .variants
            .into_iter()
            .zip(other.variants)
            .map(|(a, b)| a.merge(b))
            .collect::<Result<_, _>>()?;
        Ok(VariantRun { variants })
    }
}

/// Per worker: one workspace per variant, and the base milestone each
/// variant milestone pairs with.
struct Scratch {
    workspaces: Vec<Workspace>,
    /// Whether the base reached each of its milestones in the current trial.
    base_reached: Vec<bool>,
    /// Per variant, the numbers whose draws can be clamped.
    clampable: Vec<Vec<crate::trials::Clampable>>,
    /// `pair_index[v][k]`: variant `v`'s milestone with the name of the
    /// base's milestone `k`.
    pair_index: Vec<Vec<Option<usize>>>,
}

/// Runs `variants` on trials `range`, all on the streams of seed `seed`.
/// A trial counts as a shortfall when more than `shortfall_level` of a
/// quarter's inference demand went unmet in some quarter.
pub fn run_variants(
    variants: &[Variant],
    seed: u64,
    range: Range<u64>,
    shortfall_level: f64,
    control: &RunControl,
) -> Result<VariantRun, Error> {
    assert!(!variants.is_empty(), "run_variants needs a base variant");
    let base = &variants[0].model;
    let pair_index: Vec<Vec<Option<usize>>> = variants
        .iter()
        .map(|v| {
            base.milestones
                .iter()
                .map(|m| v.model.milestones.iter().position(|x| x.name == m.name))
                .collect()
        })
        .collect();
    run_blocks(
        range,
        control,
        || Scratch {
            workspaces: variants.iter().map(|v| Workspace::new(&v.model)).collect(),
            base_reached: vec![false; base.milestones.len()],
            clampable: variants.iter().map(|v| crate::trials::clampable(&v.model)).collect(),
            pair_index: pair_index.clone(),
        },
        || VariantRun::new(variants),
        |scratch, acc, trials| {
            for trial in trials {
                let streams = TrialStreams::new(seed, trial);
                for (v, ws) in variants.iter().zip(&mut scratch.workspaces) {
                    draw_inputs(&v.model, &streams, ws);
                    for pin in &v.pins {
                        let slots = ws.input_slots(&v.model, pin.input);
                        ws.inputs_mut()[slots].fill(pin.value);
                    }
                    simulate(&v.model, &streams, ws);
                }
                let base_ws = &scratch.workspaces[0];
                for (k, r) in scratch.base_reached.iter_mut().enumerate() {
                    *r = reached_by_deadline(base, base_ws, k);
                }
                let base_short = short_quarters(base_ws, shortfall_level) > 0;
                for (v, (variant, ws)) in variants.iter().zip(&scratch.workspaces).enumerate() {
                    let stats = &mut acc.variants[v];
                    stats.trials += 1;
                    crate::trials::count_clamped(&scratch.clampable[v], ws, &mut stats.clamped);
                    for (k, r) in ws.outcome.reached.iter().enumerate() {
                        if let Some(q) = r {
                            stats.reached_in_quarter[k][*q as usize] += 1;
                        }
                    }
                    let quarters = short_quarters(ws, shortfall_level);
                    let short = quarters > 0;
                    stats.shortfall += u64::from(short);
                    stats.short_quarters += quarters;
                    stats.short_quarters_squared += quarters * quarters;
                    stats.paired_shortfall.add(base_short, short);
                    for (k, pair) in stats.paired.iter_mut().enumerate() {
                        if let (Some(counts), Some(j)) = (pair.as_mut(), scratch.pair_index[v][k]) {
                            counts.add(scratch.base_reached[k], reached_by_deadline(&variant.model, ws, j));
                        }
                    }
                }
            }
        },
        VariantRun::merge,
    )
}

/// Quarters of the trial in which more than `level` of the demand went unmet.
fn short_quarters(ws: &Workspace, level: f64) -> u64 {
    ws.outcome.shortfall_share.iter().filter(|&&s| s > level).count() as u64
}

impl VariantStats {
    /// The mean share of quarters with an inference shortfall above the
    /// level, and its 95% interval (normal approximation to the mean of the
    /// trials' shares, clamped to [0, 1]).
    pub fn short_quarter_share(&self) -> (f64, f64, f64) {
        let (n, h) = (self.trials as f64, self.horizon.max(1) as f64);
        if self.trials == 0 {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let mean = self.short_quarters as f64 / n / h;
        let mean_sq = self.short_quarters_squared as f64 / n / (h * h);
        let var = (mean_sq - mean * mean).max(0.0) * n / (n - 1.0).max(1.0);
        let half = 1.959_963_984_540_054 * (var / n).sqrt();
        (mean, (mean - half).max(0.0), (mean + half).min(1.0))
    }
}

fn reached_by_deadline(model: &Model, ws: &Workspace, k: usize) -> bool {
    ws.outcome.reached[k].is_some_and(|q| q <= model.milestones[k].deadline)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    fn control(threads: usize, cancel: &AtomicBool) -> RunControl<'_> {
        RunControl {
            threads: Some(threads),
            progress: &|_| {},
            cancel,
        }
    }

    fn default_model() -> Model {
        Model::from_text(include_str!("../../scenarios/default.toml"), "default.toml").unwrap()
    }

    #[test]
    fn a_variant_identical_to_the_base_agrees_in_every_trial() {
        let model = default_model();
        let variants = vec![
            Variant {
                label: "base".into(),
                model: model.clone(),
                pins: vec![],
            },
            Variant {
                label: "same".into(),
                model: model.clone(),
                pins: vec![],
            },
        ];
        let cancel = AtomicBool::new(false);
        let run = run_variants(&variants, 5, 0..600, 0.1, &control(2, &cancel)).unwrap();
        for pair in run.variants[1].paired.iter().flatten() {
            assert_eq!(pair.base_only + pair.variant_only, 0);
            assert_eq!(pair.trials(), 600);
        }
        assert_eq!(run.variants[0].reached_in_quarter, run.variants[1].reached_in_quarter);
        // And the base's counts are those of a plain run.
        let agg = crate::trials::run_trials(&model, 5, 0..600, Some(1)).unwrap();
        assert_eq!(agg.reached_in_quarter, run.variants[0].reached_in_quarter);
    }

    #[test]
    fn counts_do_not_depend_on_threads_or_splits() {
        let model = default_model();
        let mut higher = model.clone();
        higher.training.max_cluster_chips *= 2;
        let variants = vec![
            Variant {
                label: "base".into(),
                model,
                pins: vec![],
            },
            Variant {
                label: "bigger".into(),
                model: higher,
                pins: vec![],
            },
        ];
        let cancel = AtomicBool::new(false);
        let whole = run_variants(&variants, 9, 0..1000, 0.1, &control(1, &cancel)).unwrap();
        let parts = run_variants(&variants, 9, 0..300, 0.1, &control(2, &cancel))
            .unwrap()
            .merge(run_variants(&variants, 9, 300..1000, 0.1, &control(2, &cancel)).unwrap())
            .unwrap();
        assert_eq!(whole, parts);
    }

    #[test]
    fn pinning_an_input_holds_it_in_every_trial() {
        let model = default_model();
        let fill = model
            .uncertain
            .iter()
            .position(|u| u.key.ends_with("fill_rate"))
            .unwrap();
        let none = Variant {
            label: "no fill".into(),
            model: model.clone(),
            pins: vec![Pin {
                input: fill,
                value: 0.0,
            }],
        };
        let base = Variant {
            label: "base".into(),
            model,
            pins: vec![],
        };
        let cancel = AtomicBool::new(false);
        let run = run_variants(&[base, none], 1, 0..300, 0.1, &control(1, &cancel)).unwrap();
        // No chips ever arrive: no milestone is reached.
        assert!(run.variants[1].reached_in_quarter.iter().flatten().all(|&c| c == 0));
        assert!(run.variants[0].reached_in_quarter.iter().flatten().any(|&c| c > 0));
    }
}
