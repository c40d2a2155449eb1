//! The 95% interval of a difference of two proportions, for the batch index:
//! Newcombe's hybrid score interval (Newcombe 1998, "Interval estimation for
//! the difference between independent proportions: comparison of eleven
//! methods", Statistics in Medicine 17:873–890, method 10).
//!
//! Each proportion gets its Wilson score interval, and the difference's
//! limits combine the two intervals' distances from their estimates:
//! `L = d − √((p₁ − l₁)² + (u₂ − p₂)²)`, `U = d + √((u₁ − p₁)² + (p₂ − l₂)²)`
//! with `d = p₁ − p₂`. Unlike the Wald interval it stays inside [−1, 1] and
//! keeps close to its nominal coverage at 0 or n successes.
//!
//! The method assumes the two samples are independent. Scenarios of a batch
//! share their seed, and sancsim derives each uncertain element's stream
//! from (seed, trial, key path), so trial k of two scenarios draws the same
//! numbers for the elements they share: their outcomes are paired, usually
//! positively correlated, and a paired interval would then be narrower. A
//! paired interval needs the joint counts (trials reaching the milestone in
//! both, in one only), which summaries do not record, so the independent
//! interval is used: conservative when the correlation is positive, as it
//! is for variants that share most of their elements.

/// z for a two-sided 95% interval: the 0.975 quantile of the standard normal.
const Z95: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval of `successes` out of `n` (Wilson 1927).
/// `n = 0` gives the uninformative `[0, 1]`.
pub fn wilson(successes: u64, n: u64) -> (f64, f64) {
    wilson_real(successes.min(n) as f64, n as f64)
}

/// [`wilson`] of real `successes` out of a real `n` (an effective sample
/// size and the share times it, docs/MODEL.md section 11); the same
/// numbers as [`wilson`] for whole ones. `n ≤ 0` gives `[0, 1]`.
pub fn wilson_real(successes: f64, n: f64) -> (f64, f64) {
    if n.is_nan() || n <= 0.0 {
        return (0.0, 1.0);
    }
    let p = successes.clamp(0.0, n) / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// A difference of two proportions with its interval (shared with the
/// paired estimator).
pub use crate::analysis::paired::Difference;

/// Newcombe's hybrid score interval of `x₁/n₁ − x₂/n₂`.
pub fn newcombe(x1: u64, n1: u64, x2: u64, n2: u64) -> Difference {
    newcombe_real(x1.min(n1) as f64, n1 as f64, x2.min(n2) as f64, n2 as f64)
}

/// [`newcombe`] of real counts (effective sample sizes, docs/MODEL.md
/// section 11); the same numbers as [`newcombe`] for whole ones.
pub fn newcombe_real(x1: f64, n1: f64, x2: f64, n2: f64) -> Difference {
    let share = |x: f64, n: f64| if n > 0.0 { x.clamp(0.0, n) / n } else { 0.0 };
    let (p1, p2) = (share(x1, n1), share(x2, n2));
    let (l1, u1) = wilson_real(x1, n1);
    let (l2, u2) = wilson_real(x2, n2);
    let d = p1 - p2;
    let low = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let high = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Difference {
        estimate: d,
        low: low.max(-1.0),
        high: high.min(1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe 1998, table I (Wilson intervals, method 3 of the
        // companion paper): 81/263 gives 0.2553 to 0.3662.
        let (l, u) = wilson(81, 263);
        assert!(close(l, 0.2553, 5e-5) && close(u, 0.3662, 5e-5), "{l} {u}");
        // 0/10 gives 0 to 0.2775.
        let (l, u) = wilson(0, 10);
        assert!(l == 0.0 && close(u, 0.2775, 5e-5), "{l} {u}");
        assert_eq!(wilson(3, 0), (0.0, 1.0));
    }

    #[test]
    fn newcombe_matches_the_published_examples() {
        // Newcombe 1998, table II, method 10.
        let cases = [
            ((56, 70, 48, 80), (0.0524, 0.3339)),
            ((9, 10, 3, 10), (0.1705, 0.8090)),
            ((6, 7, 2, 7), (0.0582, 0.8062)),
            ((5, 56, 0, 29), (-0.0381, 0.1926)),
            ((0, 10, 0, 20), (-0.1611, 0.2775)),
            ((10, 10, 0, 20), (0.6791, 1.0)),
        ];
        for ((x1, n1, x2, n2), (lo, hi)) in cases {
            let d = newcombe(x1, n1, x2, n2);
            assert!(
                close(d.low, lo, 5e-5) && close(d.high, hi, 5e-5),
                "{x1}/{n1} − {x2}/{n2}: {d:?}, published [{lo}, {hi}]"
            );
            assert!(d.low <= d.estimate && d.estimate <= d.high);
        }
    }

    #[test]
    fn excludes_zero_only_when_the_interval_does() {
        assert!(newcombe(56, 70, 48, 80).excludes_zero());
        assert!(!newcombe(5, 56, 0, 29).excludes_zero());
        assert!(newcombe(0, 1000, 900, 1000).excludes_zero());
        // Degenerate input gives an interval, not a panic or NaN.
        let d = newcombe(0, 0, 5, 3);
        assert!(d.low.is_finite() && d.high.is_finite(), "{d:?}");
    }
}
