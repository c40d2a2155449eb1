//! The difference of two proportions measured on the same trials: a base
//! (A) and a variant (B) run with common random numbers, so trial k of both
//! draws the same numbers for the elements they share and their outcomes are
//! paired.
//!
//! Of `n` paired trials, `b` reach a milestone under the base only and `c`
//! under the variant only; the difference is `d = (c − b)/n` (variant minus
//! base). Trials where both or neither reach it carry no information on the
//! difference beyond `n`, which is why a paired interval is much narrower
//! than an independent one when the two outcomes are strongly correlated.
//!
//! The interval is Tango's asymptotic score interval (Tango 1998, "Equivalence
//! test and confidence interval for the difference in proportions for the
//! paired-sample design", Statistics in Medicine 17:891–908), recommended by
//! Fagerland, Lydersen & Laake (2014, "Recommended tests and confidence
//! intervals for paired binomial proportions", Statistics in Medicine
//! 33:2850–2875). With cell probabilities `q` (base only) and `q + Δ`
//! (variant only) under a hypothesised difference `Δ`, the score statistic is
//!
//! `T(Δ) = (c − b − nΔ) / √(n (2q̃ + Δ(1 − Δ)))`,
//!
//! where `q̃` is the maximum-likelihood estimate of `q` given `Δ`: the
//! larger root of `2n q² + (−b − c + (2n − c + b)Δ) q − bΔ(1 − Δ) = 0`
//! (Fagerland et al.'s `p̃₂₁`, with their `n₁₂` our `c` and their `n₂₁` our
//! `b`). The interval is `{Δ ∈ [−1, 1] : |T(Δ)| ≤ z₁₋α/₂}`. `T` decreases
//! in `Δ` (checked on a fine grid for every table with `n ≤ 50`), is 0 at the
//! estimate and tends to `+∞` at `Δ = −1` (`−∞` at `Δ = 1`) unless the
//! estimate is that end, so each limit is found by bisection between the
//! estimate and that end, down to adjacent floating-point numbers.
//!
//! For independent samples use [`crate::report::difference::newcombe`]
//! (Newcombe's hybrid score interval, 95%).

use serde::{Deserialize, Serialize};

/// Counts of one milestone over n paired trials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PairedCounts {
    /// Trials where both the base and the variant reach the milestone.
    pub both: u64,
    /// Trials where the base reaches it and the variant does not (`b`).
    pub base_only: u64,
    /// Trials where the variant reaches it and the base does not (`c`).
    pub variant_only: u64,
    /// Trials where neither reaches it.
    pub neither: u64,
}

impl PairedCounts {
    /// The number of trials `n`, the sum of the four cells (saturating at
    /// `u64::MAX`; [`PairedCounts::merge`] never builds counts that would).
    pub fn trials(&self) -> u64 {
        self.both
            .saturating_add(self.base_only)
            .saturating_add(self.variant_only)
            .saturating_add(self.neither)
    }

    /// Records one trial's pair of outcomes (saturating, never panics).
    pub fn add(&mut self, base: bool, variant: bool) {
        let cell = match (base, variant) {
            (true, true) => &mut self.both,
            (true, false) => &mut self.base_only,
            (false, true) => &mut self.variant_only,
            (false, false) => &mut self.neither,
        };
        *cell = cell.saturating_add(1);
    }

    /// The counts of both sets of trials together; `None` if a cell or the
    /// total number of trials would overflow a `u64`.
    pub fn merge(&self, other: &PairedCounts) -> Option<PairedCounts> {
        let merged = PairedCounts {
            both: self.both.checked_add(other.both)?,
            base_only: self.base_only.checked_add(other.base_only)?,
            variant_only: self.variant_only.checked_add(other.variant_only)?,
            neither: self.neither.checked_add(other.neither)?,
        };
        merged
            .both
            .checked_add(merged.base_only)?
            .checked_add(merged.variant_only)?
            .checked_add(merged.neither)?;
        Some(merged)
    }

    /// The share of trials where the base reaches the milestone; NaN for no
    /// trials.
    pub fn p_base(&self) -> f64 {
        (self.both as f64 + self.base_only as f64) / self.trials_f64()
    }

    /// The share of trials where the variant reaches the milestone; NaN for
    /// no trials.
    pub fn p_variant(&self) -> f64 {
        (self.both as f64 + self.variant_only as f64) / self.trials_f64()
    }

    /// `n` in floating point, exact up to rounding even where the `u64` sum
    /// would overflow.
    fn trials_f64(&self) -> f64 {
        self.both as f64 + self.base_only as f64 + self.variant_only as f64 + self.neither as f64
    }
}

/// A difference with its two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// The estimate: variant minus base.
    pub estimate: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

impl Difference {
    /// Whether the interval leaves out 0 (false when its ends are NaN).
    pub fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// Tango's (1998) asymptotic score interval for the difference of paired
/// proportions, at confidence 1 - alpha (see the module documentation).
///
/// * `estimate = (variant_only − base_only)/n`; `low ≤ estimate ≤ high`, all
///   in [−1, 1].
/// * No disagreeing trial (`base_only = variant_only = 0`) gives exactly
///   `{0, 0, 0}`. With common random numbers, a variant whose outcome agrees
///   with the base's in every trial (for instance one that changes nothing
///   the milestone depends on) shows no evidence of any difference, and the
///   interval collapses to 0. Tango's interval alone would still have a
///   width of about `z²/n` on either side there, as if the two arms were
///   merely lucky to agree; under common random numbers agreement in every
///   trial is what an unchanged milestone produces, so the collapsed interval
///   is the faithful answer.
/// * `n = 0` gives NaN for all three; an `alpha` outside (0, 1) gives NaN
///   limits around the estimate.
/// * Never panics: counts enter as `f64` (`c − b` exact through `i128`
///   before its one rounding), so any `u64` counts work, totals above
///   `u64::MAX` included.
pub fn paired_difference(counts: &PairedCounts, alpha: f64) -> Difference {
    let n = counts.trials_f64();
    if n == 0.0 {
        return Difference {
            estimate: f64::NAN,
            low: f64::NAN,
            high: f64::NAN,
        };
    }
    let (b, c) = (counts.base_only, counts.variant_only);
    if b == 0 && c == 0 {
        return Difference {
            estimate: 0.0,
            low: 0.0,
            high: 0.0,
        };
    }
    // Never outside [−1, 1] (rounding is monotone); the clamp only guards.
    let d = ((c as i128 - b as i128) as f64 / n).clamp(-1.0, 1.0);
    if !(alpha > 0.0 && alpha < 1.0) {
        return Difference {
            estimate: d,
            low: f64::NAN,
            high: f64::NAN,
        };
    }
    let z = std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(alpha);
    let score = Score {
        d,
        p_b: b as f64 / n,
        p_c: c as f64 / n,
        sqrt_n: n.sqrt(),
    };
    // A NaN statistic counts as rejected, so a search never settles on a
    // point where it is undefined.
    let accepted = |delta: f64| score.t(delta).abs() <= z;
    let low = if d <= -1.0 { -1.0 } else { bisect(-1.0, d, accepted) };
    let high = if d >= 1.0 { 1.0 } else { bisect(1.0, d, accepted) };
    Difference { estimate: d, low, high }
}

/// Tango's score statistic for one table, on proportions (every count
/// divided by `n`) so that no product of counts can overflow.
struct Score {
    /// `(c − b)/n`.
    d: f64,
    /// `b/n`.
    p_b: f64,
    /// `c/n`.
    p_c: f64,
    /// `√n`.
    sqrt_n: f64,
}

impl Score {
    /// `q̃(Δ)`: the constrained maximum-likelihood estimate of the base-only
    /// cell's probability. The quadratic divided by `n` is
    /// `2q² + βq + γ = 0` with `β = −(p_b + p_c) + (2 − d)Δ` and
    /// `γ = −p_b Δ(1 − Δ)`; its larger root `(√(β² − 8γ) − β)/4` is taken in
    /// the form without cancellation (`−2γ/(β + √(β² − 8γ))` when `β > 0`).
    fn q(&self, delta: f64) -> f64 {
        let beta = -(self.p_b + self.p_c) + (2.0 - self.d) * delta;
        let gamma = -self.p_b * delta * (1.0 - delta);
        let root = (beta * beta - 8.0 * gamma).max(0.0).sqrt();
        if beta <= 0.0 {
            (root - beta) / 4.0
        } else if beta + root > 0.0 {
            -2.0 * gamma / (beta + root)
        } else {
            0.0
        }
    }

    /// `T(Δ)`; ±∞ where the variance under `Δ` vanishes (or rounds below
    /// zero) and the numerator does not.
    fn t(&self, delta: f64) -> f64 {
        let numerator = self.sqrt_n * (self.d - delta);
        let variance = 2.0 * self.q(delta) + delta * (1.0 - delta);
        if variance > 0.0 {
            numerator / variance.sqrt()
        } else if numerator == 0.0 {
            0.0
        } else {
            numerator.signum() * f64::INFINITY
        }
    }
}

/// Bisection between a rejected end and an accepted point (either order on
/// the line), down to adjacent floating-point numbers; returns the last
/// accepted point, so the result is always inside the accepted set.
fn bisect(mut rejected: f64, mut accepted: f64, is_accepted: impl Fn(f64) -> bool) -> f64 {
    // Halving from a width of 2 reaches adjacent doubles within about 1,100
    // steps even at the densest (subnormal) spacing; the cap only guards.
    for _ in 0..4096 {
        let mid = 0.5 * (rejected + accepted);
        if mid == rejected || mid == accepted {
            break;
        }
        if is_accepted(mid) {
            accepted = mid;
        } else {
            rejected = mid;
        }
    }
    accepted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::difference::newcombe;
    use crate::rng::stream;
    use rand::Rng;

    /// A table with `b` base-only and `c` variant-only trials out of `n`
    /// (the concordant trials all "both": they do not enter the interval).
    fn table(b: u64, c: u64, n: u64) -> PairedCounts {
        PairedCounts {
            both: n - b - c,
            base_only: b,
            variant_only: c,
            neither: 0,
        }
    }

    // Reference values from an independent implementation in Python with
    // mpmath at 60 significant digits. It finds the constrained MLE q̃ by
    // bisection on the profile likelihood's score instead of the closed-form
    // root used above, and each limit by 220 bisection steps on T(Δ) ∓ z:
    //
    //     import mpmath as mp
    //     mp.mp.dps = 60
    //     def q_tilde(b, c, n, D):   # base-only cell; variant-only = q + D
    //         m = n - b - c          # maximise b ln q + c ln(q+D) + m ln(1-2q-D)
    //         lo, hi = max(mp.mpf(0), -D), (1 - D) / 2
    //         def g(q):              # the score, decreasing in q
    //             s = mp.mpf(0)
    //             if b: s += b / q
    //             if c: s += c / (q + D)
    //             if m: s -= 2 * m / (1 - 2 * q - D)
    //             return s
    //         for _ in range(400):
    //             mid = (lo + hi) / 2
    //             if g(mid) > 0: lo = mid
    //             else: hi = mid
    //         return (lo + hi) / 2
    //     def T(b, c, n, D):
    //         q = q_tilde(b, c, n, D)
    //         return (c - b - n * D) / mp.sqrt(n * (2 * q + D * (1 - D)))
    //     def tango(b, c, n, alpha):
    //         b, c, n = mp.mpf(b), mp.mpf(c), mp.mpf(n)
    //         z = mp.sqrt(2) * mp.erfinv(1 - alpha)
    //         d = (c - b) / n
    //         def root(lo, hi, target):  # T decreasing, T(lo) > target > T(hi)
    //             for _ in range(220):
    //                 mid = (lo + hi) / 2
    //                 if T(b, c, n, mid) > target: lo = mid
    //                 else: hi = mid
    //             return (lo + hi) / 2
    //         low = mp.mpf(-1) if d == -1 else root(mp.mpf(-1), d, z)
    //         high = mp.mpf(1) if d == 1 else root(d, mp.mpf(1), -z)
    //         return d, low, high
    //     for b, c, n, alpha in CASES:  # (b, c, n, alpha) of REFERENCE, alpha a string
    //         d, lo, hi = tango(b, c, n, mp.mpf(alpha))
    //         print(b, c, n, alpha, repr(float(lo)), repr(float(hi)))
    //
    // (A second check in double precision on five of these tables, scipy's
    // brentq on the closed-form q̃ as in Fagerland et al.'s R package
    // contingencytables, agrees to 1e-16 absolute.)
    //
    // Tolerance: 1e-13 absolute, and 1e-11 relative to the limit for the
    // n = 10^7 table, whose limits are near 1e-5. Both sides are converged
    // to about 1e-16 (bisection to adjacent doubles here, 60 digits there);
    // what remains is rounding in T near the root. The largest differences
    // seen are 1.7e-16 absolute and 5e-15 relative.
    const REFERENCE: [(u64, u64, u64, f64, f64, f64); 13] = [
        // Fagerland et al. (2014)'s airway hyper-responsiveness example
        // (Bentur et al. 2009): 21 children, AHR before and after stem cell
        // transplantation, table [[1, 1], [7, 12]]; before = base, after =
        // variant, so b = 1 (before only), c = 7 (after only). Fagerland's
        // Δ = π₁₊ − π₊₁ is before minus after, ours the opposite sign.
        (1, 7, 21, 0.05, 0.026003032480868535, 0.5172322764213774),
        (1, 7, 21, 0.1, 0.07463076847572205, 0.48162249184401906),
        (1, 0, 1, 0.05, -1.0, 0.5869013712455252),
        (1, 0, 10, 0.05, -0.4041500267952385, 0.20528607984917818),
        (0, 5, 5, 0.05, 0.13103507043365037, 1.0),
        (0, 5, 100, 0.05, 0.011156826882665031, 0.11175046923191916),
        (
            300,
            420,
            10_000_000,
            0.05,
            6.758989538064313e-06,
            1.7304690584157756e-05,
        ),
        (3, 3, 50, 0.05, -0.11419866115610185, 0.11419866115610185),
        // PropCIs' scoreci.mp example (Agresti & Min 2005).
        (40, 20, 160, 0.05, -0.21806424416682482, -0.030864533133086722),
        (5, 15, 1000, 0.01, -0.0018005199129399862, 0.024195875092407188),
        (2, 0, 2, 0.05, -1.0, 0.31523954498669393),
        (1, 1, 2, 0.05, -0.8109375885315385, 0.8109375885315385),
        (17, 4, 40, 0.05, -0.5115421932882676, -0.1082102980918145),
    ];

    #[test]
    fn matches_independent_reference() {
        for (b, c, n, alpha, low, high) in REFERENCE {
            let d = paired_difference(&table(b, c, n), alpha);
            let tol = if n > 1000 {
                1e-11 * low.abs().min(high.abs())
            } else {
                1e-13
            };
            assert_eq!(d.estimate, (c as f64 - b as f64) / n as f64);
            assert!(
                (d.low - low).abs() <= tol && (d.high - high).abs() <= tol,
                "b={b} c={c} n={n} alpha={alpha}: got [{:e}, {:e}], reference [{low:e}, {high:e}]",
                d.low,
                d.high
            );
        }
    }

    #[test]
    fn concordant_trials_do_not_matter_beyond_n() {
        // Only n, b and c enter: moving trials between "both" and "neither"
        // leaves the interval unchanged.
        let a = paired_difference(&table(1, 7, 21), 0.05);
        let ahr = PairedCounts {
            both: 1,
            base_only: 1,
            variant_only: 7,
            neither: 12,
        };
        assert_eq!(paired_difference(&ahr, 0.05), a);
    }

    #[test]
    fn no_disagreement_collapses_to_zero() {
        for n in [1, 2, 100, 10_000_000, u64::MAX] {
            let counts = PairedCounts {
                both: n / 3,
                base_only: 0,
                variant_only: 0,
                neither: n - n / 3,
            };
            let d = paired_difference(&counts, 0.05);
            assert_eq!(
                d,
                Difference {
                    estimate: 0.0,
                    low: 0.0,
                    high: 0.0
                }
            );
            assert!(!d.excludes_zero());
        }
    }

    #[test]
    fn no_trials_give_nan() {
        let d = paired_difference(&PairedCounts::default(), 0.05);
        assert!(d.estimate.is_nan() && d.low.is_nan() && d.high.is_nan(), "{d:?}");
        assert!(PairedCounts::default().p_base().is_nan());
        assert!(PairedCounts::default().p_variant().is_nan());
    }

    #[test]
    fn a_bad_alpha_gives_nan_limits() {
        for alpha in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            let d = paired_difference(&table(1, 7, 21), alpha);
            assert_eq!(d.estimate, 6.0 / 21.0);
            assert!(d.low.is_nan() && d.high.is_nan(), "{alpha}: {d:?}");
        }
    }

    #[test]
    fn swapping_base_and_variant_mirrors_the_interval() {
        for n in 1..=25u64 {
            for b in 0..=n {
                for c in 0..=n - b {
                    let d = paired_difference(&table(b, c, n), 0.05);
                    let m = paired_difference(&table(c, b, n), 0.05);
                    assert_eq!(d.estimate, -m.estimate, "{b} {c} {n}");
                    // The same searches on mirrored statistics: equal up to
                    // rounding in T.
                    assert!(
                        (d.low + m.high).abs() <= 1e-14 && (d.high + m.low).abs() <= 1e-14,
                        "{b} {c} {n}: {d:?} vs {m:?}"
                    );
                }
            }
        }
        let big = paired_difference(&table(300, 420, 10_000_000), 0.05);
        let mirrored = paired_difference(&table(420, 300, 10_000_000), 0.05);
        assert!((big.low + mirrored.high).abs() <= 1e-18 && (big.high + mirrored.low).abs() <= 1e-18);
    }

    #[test]
    fn interval_holds_the_estimate_within_minus_one_to_one() {
        for n in 1..=40u64 {
            for b in 0..=n {
                for c in 0..=n - b {
                    let d = paired_difference(&table(b, c, n), 0.05);
                    assert!(
                        -1.0 <= d.low && d.low <= d.estimate && d.estimate <= d.high && d.high <= 1.0,
                        "{b} {c} {n}: {d:?}"
                    );
                    // A wider confidence gives a wider interval.
                    let wide = paired_difference(&table(b, c, n), 0.01);
                    assert!(wide.low <= d.low && d.high <= wide.high, "{b} {c} {n}: {d:?} {wide:?}");
                    // Disagreement gives a non-degenerate interval.
                    if b + c > 0 {
                        assert!(d.low < d.high, "{b} {c} {n}: {d:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn any_u64_counts_give_an_answer() {
        let cases = [
            PairedCounts {
                both: u64::MAX,
                base_only: u64::MAX,
                variant_only: 3,
                neither: u64::MAX,
            },
            PairedCounts {
                both: 0,
                base_only: u64::MAX,
                variant_only: u64::MAX - 1,
                neither: 0,
            },
            PairedCounts {
                both: 0,
                base_only: 0,
                variant_only: u64::MAX,
                neither: 0,
            },
            PairedCounts {
                both: u64::MAX,
                base_only: 1,
                variant_only: 0,
                neither: u64::MAX,
            },
        ];
        for counts in cases {
            let d = paired_difference(&counts, 0.05);
            assert!(
                -1.0 <= d.low && d.low <= d.estimate && d.estimate <= d.high && d.high <= 1.0,
                "{counts:?}: {d:?}"
            );
            assert!((0.0..=1.0).contains(&counts.p_base()) && (0.0..=1.0).contains(&counts.p_variant()));
        }
        // All 2^64 − 1 trials variant only: the estimate is the upper end,
        // and the lower one, 1 − z²/n to first order, rounds to 1 as well.
        let all = paired_difference(&cases[2], 0.05);
        assert_eq!((all.estimate, all.high), (1.0, 1.0));
        assert!(all.low > 1.0 - 1e-15, "{all:?}");
    }

    #[test]
    fn counts_add_merge_and_share() {
        let mut counts = PairedCounts::default();
        for (base, variant) in [
            (true, true),
            (true, false),
            (false, true),
            (false, true),
            (false, false),
        ] {
            counts.add(base, variant);
        }
        assert_eq!(
            counts,
            PairedCounts {
                both: 1,
                base_only: 1,
                variant_only: 2,
                neither: 1
            }
        );
        assert_eq!(counts.trials(), 5);
        assert_eq!((counts.p_base(), counts.p_variant()), (0.4, 0.6));
        let doubled = counts.merge(&counts).unwrap();
        assert_eq!(doubled.trials(), 10);
        assert_eq!(doubled.variant_only, 4);
        let full = PairedCounts {
            both: u64::MAX,
            ..PairedCounts::default()
        };
        assert_eq!(full.merge(&counts), None);
        // Each cell fits, the total does not.
        let half = PairedCounts {
            both: u64::MAX / 2 + 1,
            neither: u64::MAX / 2 + 1,
            ..PairedCounts::default()
        };
        assert_eq!(half.merge(&PairedCounts::default()), None);
        assert_eq!(half.trials(), u64::MAX);
        let mut top = full;
        top.add(true, true);
        assert_eq!(top.both, u64::MAX);
    }

    /// Draws `n` paired trials with cell probabilities (both, base only,
    /// variant only, neither = the rest).
    fn simulate(rng: &mut impl Rng, n: u64, p_both: f64, p_b: f64, p_c: f64) -> PairedCounts {
        let mut counts = PairedCounts::default();
        for _ in 0..n {
            let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
            if u < p_both {
                counts.add(true, true);
            } else if u < p_both + p_b {
                counts.add(true, false);
            } else if u < p_both + p_b + p_c {
                counts.add(false, true);
            } else {
                counts.add(false, false);
            }
        }
        counts
    }

    #[test]
    fn coverage_is_nominal_in_simulation() {
        // 2000 simulated tables per setting from fixed seeds: the outcome is
        // the same on every run, so the test cannot flake. The binomial
        // standard error of a 95% coverage over 2000 tables is 0.0049; the
        // tolerance 0.02 is four of them plus room for Tango's own small
        // departure from nominal (slightly conservative here: the three
        // settings give 0.9615, 0.9625 and 0.9555).
        let settings = [
            // (n, both, base only, variant only)
            (200, 0.30, 0.05, 0.10),
            (1000, 0.45, 0.01, 0.02),
            (60, 0.20, 0.10, 0.10),
        ];
        for (s, &(n, p_both, p_b, p_c)) in settings.iter().enumerate() {
            let truth = p_c - p_b;
            let tables = 2000;
            let mut covered = 0;
            for t in 0..tables {
                let mut rng = stream(20_240_917, t, s as u64);
                let d = paired_difference(&simulate(&mut rng, n, p_both, p_b, p_c), 0.05);
                if d.low <= truth && truth <= d.high {
                    covered += 1;
                }
            }
            let coverage = covered as f64 / tables as f64;
            assert!((coverage - 0.95).abs() <= 0.02, "setting {s}: coverage {coverage}");
        }
    }

    #[test]
    fn pairing_narrows_the_interval_when_outcomes_agree() {
        // 1000 trials, 98% of them concordant: base 455, variant 465.
        let counts = PairedCounts {
            both: 450,
            base_only: 5,
            variant_only: 15,
            neither: 530,
        };
        let paired = paired_difference(&counts, 0.05);
        let unpaired = newcombe(465, 1000, 455, 1000);
        assert!((paired.estimate - unpaired.estimate).abs() < 1e-15);
        let (wp, wu) = (paired.high - paired.low, unpaired.high - unpaired.low);
        assert!(wp < 0.3 * wu, "paired width {wp}, unpaired {wu}");
        // The paired interval finds the difference; the unpaired one cannot.
        assert!(paired.excludes_zero() && !unpaired.excludes_zero());
    }
}
