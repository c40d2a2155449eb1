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
/// Highest bucket index: that of `f64::MAX`, where infinity is counted too.
/// Bucket indices of positive finite values run from 0 to this.
pub const MAX_INDEX: i32 = (f64::MAX.to_bits() >> SHIFT) as i32;

/// Adding two [`LogHistogram`]s would overflow a count or leave the range
/// of bucket indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("adding the histograms overflows a count or the range of buckets")]
pub struct MergeOverflow;

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

    /// Adds another histogram's counts. Fails, leaving `self` unchanged,
    /// when a count would overflow or a bucket index is out of range (only
    /// possible with histograms read from a damaged or edited file, which
    /// [`LogHistogram::check`] refuses first).
    pub fn merge(&mut self, other: &LogHistogram) -> Result<(), MergeOverflow> {
        let zeros = self.zeros.checked_add(other.zeros).ok_or(MergeOverflow)?;
        let total = self.total.checked_add(other.total).ok_or(MergeOverflow)?;
        if other.counts.is_empty() {
            (self.zeros, self.total) = (zeros, total);
            return Ok(());
        }
        let (mut lo, mut hi) = other.index_range().ok_or(MergeOverflow)?;
        if !self.counts.is_empty() {
            let (a, b) = self.index_range().ok_or(MergeOverflow)?;
            (lo, hi) = (lo.min(a), hi.max(b));
        }
        // Add into a new vector over the result's range, so that a failure
        // leaves `self` as it was.
        let mut counts = vec![0u32; (hi - lo + 1) as usize];
        for h in [&*self, other].into_iter().filter(|h| !h.counts.is_empty()) {
            let base = (h.first as i64 - lo) as usize;
            for (slot, &c) in counts[base..base + h.counts.len()].iter_mut().zip(&h.counts) {
                *slot = slot.checked_add(c).ok_or(MergeOverflow)?;
            }
        }
        *self = LogHistogram {
            zeros,
            first: lo as i32,
            counts,
            total,
        };
        Ok(())
    }

    /// First and last bucket index held (`last = first - 1` when empty), as
    /// `i64`; `None` when they lie outside the buckets of positive finite
    /// values.
    fn index_range(&self) -> Option<(i64, i64)> {
        let lo = self.first as i64;
        let hi = lo + self.counts.len() as i64 - 1;
        (lo >= 0 && hi <= MAX_INDEX as i64).then_some((lo, hi))
    }

    /// Checks a histogram read from a file: its bucket indices lie within
    /// those of positive finite values (`0..=MAX_INDEX`), and zeros plus
    /// bucket counts add up to its total, which is `expect_total`. The
    /// error says what is wrong.
    pub fn check(&self, expect_total: u64) -> Result<(), String> {
        if self.index_range().is_none() {
            return Err(format!(
                "buckets {}..{} lie outside the valid range 0..={MAX_INDEX}",
                self.first,
                self.first as i64 + self.counts.len() as i64
            ));
        }
        let sum = self
            .counts
            .iter()
            .try_fold(self.zeros, |acc, &c| acc.checked_add(c as u64));
        if self.total != expect_total || sum != Some(expect_total) {
            let sum = sum.map_or_else(|| "more than 2^64".to_string(), |s| s.to_string());
            return Err(format!(
                "holds {sum} values (total {}) where its aggregate has {expect_total} trials",
                self.total
            ));
        }
        Ok(())
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
        ab.merge(&b).unwrap();
        let mut ba = b.clone();
        ba.merge(&a).unwrap();
        assert_eq!(ab, ba);
        assert_eq!(ab.quantile(0.5), whole.quantile(0.5));
        assert_eq!(ab.count(), 1000);
    }

    #[test]
    fn merge_refuses_overflow_and_leaves_the_histogram_unchanged() {
        let mut a = LogHistogram::new();
        a.add_n(5.0, u32::MAX as u64);
        let before = a.clone();
        let mut b = LogHistogram::new();
        b.add(5.0);
        assert_eq!(a.merge(&b), Err(MergeOverflow));
        assert_eq!(a, before);
        let mut z = LogHistogram::new();
        z.add_n(0.0, u64::MAX);
        let mut one = LogHistogram::new();
        one.add(0.0);
        assert_eq!(z.merge(&one), Err(MergeOverflow));
        // A bucket index far beyond f64::MAX's (as in an edited file): an
        // error, not a "capacity overflow" panic or a giant allocation.
        let far: LogHistogram =
            serde_json::from_str(r#"{"zeros":0,"first":2147483647,"counts":[1,2],"total":3}"#).unwrap();
        let mut c = before.clone();
        assert_eq!(c.merge(&far), Err(MergeOverflow));
        assert_eq!(c, before);
    }

    #[test]
    fn check_refuses_impossible_histograms() {
        let parse = |json: &str| serde_json::from_str::<LogHistogram>(json).unwrap();
        // The bound docs/CLUSTER.md states.
        assert_eq!(MAX_INDEX, 1_048_063);
        let mut h = LogHistogram::new();
        for v in [0.0, 1.5, 2e30, f64::INFINITY, f64::MIN_POSITIVE / 4.0] {
            h.add(v);
        }
        assert_eq!(h.check(5), Ok(()));
        assert!(h.check(4).unwrap_err().contains("holds 5 values"));
        assert_eq!(LogHistogram::new().check(0), Ok(()));
        let top = format!(r#"{{"zeros":0,"first":{MAX_INDEX},"counts":[1],"total":1}}"#);
        assert_eq!(parse(&top).check(1), Ok(()));
        for bad in [
            r#"{"zeros":0,"first":2147483647,"counts":[1],"total":1}"#,
            r#"{"zeros":0,"first":-1,"counts":[1],"total":1}"#,
            &format!(r#"{{"zeros":0,"first":{MAX_INDEX},"counts":[1,0],"total":1}}"#),
        ] {
            assert!(
                parse(bad).check(1).unwrap_err().contains("outside the valid range"),
                "{bad}"
            );
        }
        // Counts that add up only by wrapping.
        let wrap = r#"{"zeros":18446744073709551615,"first":0,"counts":[2],"total":1}"#;
        assert!(parse(wrap).check(1).unwrap_err().contains("more than 2^64"));
        let total = r#"{"zeros":1,"first":0,"counts":[2],"total":1}"#;
        assert!(parse(total).check(1).is_err());
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
