//! Streaming statistics with exact, order-independent merging.
//!
//! * [`LogHistogram`]: a log-linear histogram in the manner of HdrHistogram
//!   (G. Tene) and DDSketch (Masson, Rim & Lee, VLDB 2019). A positive value's
//!   bucket is the top 9 bits of its IEEE-754 mantissa together with its
//!   exponent, i.e. `bits >> 43`: each binade is cut into 512 equal
//!   buckets, so a bucket spans at most 2^-9 of its lower edge and its
//!   midpoint is within relative error 2^-10 (9.8e-4) of any value in it.
//!   Counts are `u32` (runs are capped at 10^8 trials), which keeps the
//!   histograms of a run small enough to stay in cache. A
//!   quantile is reported as the midpoint of the bucket holding the exact
//!   nearest-rank quantile. The index needs no logarithm (fast, and the same
//!   on every platform). Zero and negative values share one exact bucket at
//!   0. Counts are integers, so merging in any order gives the same bits.
//! * [`clopper_pearson`]: the exact binomial confidence interval
//!   (Clopper & Pearson, Biometrika 1934) via the beta quantile function.

use statrs::distribution::{Beta, ContinuousCDF};

/// Mantissa bits kept in a [`LogHistogram`] bucket index.
const MANTISSA_BITS: u32 = 9;
/// Bits dropped from an f64 to get its bucket index.
const SHIFT: u32 = 52 - MANTISSA_BITS;
/// Relative accuracy of [`LogHistogram`] quantiles: 2^-(MANTISSA_BITS + 1).
pub const RELATIVE_ACCURACY: f64 = 1.0 / (1u64 << (MANTISSA_BITS + 1)) as f64;

/// A mergeable histogram on a logarithmic grid; memory grows with the spread
/// of the values (about 1,700 buckets per factor of 10), not with their number.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogHistogram {
    zeros: u64,
    /// Index of `counts[0]`.
    first: i32,
    counts: Vec<u32>,
    total: u64,
}

impl Default for LogHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LogHistogram {
    /// An empty histogram.
    pub fn new() -> LogHistogram {
        LogHistogram {
            zeros: 0,
            first: 0,
            counts: Vec::new(),
            total: 0,
        }
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Bucket of a positive, finite value.
    fn index(v: f64) -> i32 {
        (v.to_bits() >> SHIFT) as i32
    }

    /// Midpoint of bucket `i`.
    fn centre(i: i32) -> f64 {
        let lo = f64::from_bits((i as u64) << SHIFT);
        let hi = f64::from_bits((i as u64 + 1) << SHIFT);
        lo + (hi - lo) / 2.0
    }

    fn ensure(&mut self, i: i32) -> usize {
        if self.counts.is_empty() {
            self.first = i;
            self.counts.push(0);
        } else if i < self.first {
            let grow = (self.first - i) as usize;
            let mut v = vec![0; grow];
            v.extend_from_slice(&self.counts);
            self.counts = v;
            self.first = i;
        } else if i >= self.first + self.counts.len() as i32 {
            self.counts.resize((i - self.first + 1) as usize, 0);
        }
        (i - self.first) as usize
    }

    /// Records one value (`NaN` counts as zero).
    pub fn add(&mut self, v: f64) {
        self.add_n(v, 1);
    }

    /// Records `n` copies of a value.
    pub fn add_n(&mut self, v: f64, n: u64) {
        self.total += n;
        if v > 0.0 && v.is_finite() {
            let i = Self::index(v);
            let off = i.wrapping_sub(self.first) as u32 as usize;
            let slot = if off < self.counts.len() { off } else { self.ensure(i) };
            self.counts[slot] += n as u32;
        } else if v == f64::INFINITY {
            let slot = self.ensure(Self::index(f64::MAX));
            self.counts[slot] += n as u32;
        } else {
            self.zeros += n;
        }
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &LogHistogram) {
        self.zeros += other.zeros;
        self.total += other.total;
        if other.counts.is_empty() {
            return;
        }
        self.ensure(other.first);
        self.ensure(other.first + other.counts.len() as i32 - 1);
        let base = (other.first - self.first) as usize;
        for (k, &c) in other.counts.iter().enumerate() {
            self.counts[base + k] += c;
        }
    }

    /// The nearest-rank `p`-quantile (`0 < p <= 1`): the smallest recorded
    /// value with at least `ceil(p·n)` values at or below it, to within
    /// the relative accuracy. `None` when empty.
    pub fn quantile(&self, p: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((p * self.total as f64).ceil() as u64).clamp(1, self.total);
        if rank <= self.zeros {
            return Some(0.0);
        }
        let mut seen = self.zeros;
        for (k, &c) in self.counts.iter().enumerate() {
            seen += c as u64;
            if seen >= rank {
                return Some(Self::centre(self.first + k as i32));
            }
        }
        None
    }

    /// Bucket centres and counts, zeros first, for histograms in charts.
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        let mut out = Vec::new();
        if self.zeros > 0 {
            out.push((0.0, self.zeros));
        }
        for (k, &c) in self.counts.iter().enumerate() {
            if c > 0 {
                out.push((Self::centre(self.first + k as i32), c as u64));
            }
        }
        out
    }
}

/// Exact (Clopper–Pearson) two-sided confidence interval for a binomial
/// proportion with `successes` out of `n` trials at level `1 - alpha`.
pub fn clopper_pearson(successes: u64, n: u64, alpha: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let x = successes as f64;
    let n_f = n as f64;
    let low = if successes == 0 {
        0.0
    } else {
        Beta::new(x, n_f - x + 1.0)
            .map(|b| b.inverse_cdf(alpha / 2.0))
            .unwrap_or(0.0)
    };
    let high = if successes == n {
        1.0
    } else {
        Beta::new(x + 1.0, n_f - x)
            .map(|b| b.inverse_cdf(1.0 - alpha / 2.0))
            .unwrap_or(1.0)
    };
    (low, high)
}

/// Rounds to `digits` significant digits (for reporting sketch quantiles at
/// no more precision than they carry).
pub fn round_significant(v: f64, digits: usize) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    format!("{:.*e}", digits.saturating_sub(1), v).parse().unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::{Dist, DistSpec};
    use crate::rng::stream;

    #[test]
    fn quantiles_are_within_the_stated_relative_accuracy() {
        // Exact nearest-rank quantiles of a sorted sample vs the sketch.
        let d = Dist::new_checked(&DistSpec::LogNormal(50.0, 2.0)).unwrap();
        let mut rng = stream(1, 2, 3);
        let mut xs: Vec<f64> = (0..20_000).map(|_| d.sample(&mut rng)).collect();
        let mut h = LogHistogram::new();
        xs.iter().for_each(|&x| h.add(x));
        xs.sort_by(f64::total_cmp);
        for p in [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0] {
            let rank = ((p * xs.len() as f64).ceil() as usize).max(1);
            let exact = xs[rank - 1];
            let got = h.quantile(p).unwrap();
            assert!(
                (got - exact).abs() <= RELATIVE_ACCURACY * exact * (1.0 + 1e-9),
                "p={p}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn merging_in_any_order_gives_identical_histograms() {
        let values: Vec<f64> = (0..1000).map(|i| (i as f64 * 7.3) % 991.0).collect();
        let mut whole = LogHistogram::new();
        values.iter().for_each(|&v| whole.add(v));
        let (mut a, mut b) = (LogHistogram::new(), LogHistogram::new());
        values[..300].iter().for_each(|&v| a.add(v));
        values[300..].iter().for_each(|&v| b.add(v));
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.quantile(0.5), whole.quantile(0.5));
        assert_eq!(ab.count(), 1000);
    }

    #[test]
    fn zeros_are_exact() {
        let mut h = LogHistogram::new();
        for v in [0.0, 0.0, 0.0, 5.0] {
            h.add(v);
        }
        assert_eq!(h.quantile(0.75), Some(0.0));
        assert!((h.quantile(1.0).unwrap() - 5.0).abs() < 5.0 * RELATIVE_ACCURACY);
    }

    #[test]
    fn clopper_pearson_matches_published_values() {
        // Reference: 95% exact interval for 7 of 20 is (0.1539, 0.5922)
        // (e.g. R's binom.test(7, 20)).
        let (lo, hi) = clopper_pearson(7, 20, 0.05);
        assert!((lo - 0.1539092).abs() < 1e-5, "{lo}");
        assert!((hi - 0.5921885).abs() < 1e-5, "{hi}");
        assert_eq!(clopper_pearson(0, 10, 0.05).0, 0.0);
        assert_eq!(clopper_pearson(10, 10, 0.05).1, 1.0);
        // For 0 of n the upper bound is 1 - (alpha/2)^(1/n).
        let (_, hi0) = clopper_pearson(0, 10, 0.05);
        assert!((hi0 - (1.0 - 0.025f64.powf(0.1))).abs() < 1e-6);
    }

    #[test]
    fn rounds_to_significant_digits() {
        assert_eq!(round_significant(24_987.3, 3), 25_000.0);
        assert_eq!(round_significant(0.123_456, 3), 0.123);
        assert_eq!(round_significant(3.3049e24, 3), 3.30e24);
    }
}
