//! Streaming statistics with exact, order-independent merging.
//!
//! * [`LogHistogram`]: a log-linear histogram in the manner of HdrHistogram
//!   (G. Tene) and DDSketch (Masson, Rim & Lee, VLDB 2019). A positive value's
//!   bucket is the top 9 bits of its IEEE-754 mantissa together with its
//!   exponent, i.e. `bits >> 43`: each binade is cut into 512 equal
//!   buckets, so a bucket spans at most 2^-9 of its lower edge and its
//!   midpoint is within relative error 2^-10 (9.8e-4) of any value in it.
//!   Counts are `u64`, so that a posterior's histograms can hold weighted
//!   counts (docs/MODEL.md section 11: weights in units of 2^-32). A
//!   quantile is reported as the midpoint of the bucket holding the exact
//!   nearest-rank quantile. The index needs no logarithm (fast, and the same
//!   on every platform). Zero and negative values share one exact bucket at
//!   0. Counts are integers, so merging in any order gives the same bits.
//! * [`clopper_pearson`]: the exact binomial confidence interval
//!   (Clopper & Pearson, Biometrika 1934) via the beta quantile function:
//!   closed forms at 0 and n successes, otherwise a safeguarded Newton
//!   solve on the regularised incomplete beta function of
//!   [`crate::special`] (Loader's saddle-point prefactor, Lentz's continued
//!   fraction), which terminates by construction for any `n` that fits a u64.

use crate::special::{Tail, beta_quantile};

/// Mantissa bits kept in a [`LogHistogram`] bucket index.
const MANTISSA_BITS: u32 = 9;
/// Bits dropped from an f64 to get its bucket index.
const SHIFT: u32 = 52 - MANTISSA_BITS;
/// Relative accuracy of [`LogHistogram`] quantiles: 2^-(MANTISSA_BITS + 1).
pub const RELATIVE_ACCURACY: f64 = 1.0 / (1u64 << (MANTISSA_BITS + 1)) as f64;
/// Highest bucket index: that of `f64::MAX`, where infinity is counted too.
/// Bucket indices of positive finite values run from 0 to this.
pub const MAX_INDEX: i32 = (f64::MAX.to_bits() >> SHIFT) as i32;

/// The bucket counts of a [`LogHistogram`]: a vector with spare room at
/// both ends, so that growing at either end is amortised (the room doubles
/// the length at least). Reads, writes, compares and serialises as the
/// plain array of counts, without the spare room.
#[derive(Debug, Clone, Default)]
struct Counts {
    /// `buf[lo..lo + len]` holds the counts; the rest is 0.
    buf: Vec<u64>,
    lo: usize,
    len: usize,
}

impl Counts {
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline(always)]
    fn as_slice(&self) -> &[u64] {
        &self.buf[self.lo..self.lo + self.len]
    }

    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [u64] {
        &mut self.buf[self.lo..self.lo + self.len]
    }

    /// `n` more zero counts below the first.
    fn grow_front(&mut self, n: usize) {
        if n > self.lo {
            // New room below: at least the new length, so that a run of
            // growths costs amortised constant time per bucket.
            let room = n.max(self.len + n);
            let mut buf = vec![0; room + self.buf.len() - self.lo];
            buf[room..].copy_from_slice(&self.buf[self.lo..]);
            self.buf = buf;
            self.lo = room;
        }
        self.lo -= n;
        self.len += n;
    }

    /// `n` more zero counts above the last.
    fn grow_back(&mut self, n: usize) {
        let end = self.lo + self.len + n;
        if end > self.buf.len() {
            self.buf.resize(end.max(self.lo + 2 * (self.len + n)), 0);
        }
        self.len += n;
    }
}

impl From<Vec<u64>> for Counts {
    fn from(buf: Vec<u64>) -> Counts {
        Counts {
            len: buf.len(),
            buf,
            lo: 0,
        }
    }
}

impl PartialEq for Counts {
    fn eq(&self, other: &Counts) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl serde::Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Counts {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Counts, D::Error> {
        Vec::<u64>::deserialize(deserializer).map(Counts::from)
    }
}

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
    /// Bucket counts from `first` on, with spare room below and above, so
    /// that growing toward lower buckets (a new smallest value) is
    /// amortised like growing toward higher ones.
    counts: Counts,
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
            counts: Counts::default(),
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
            self.counts.grow_back(1);
        } else if i < self.first {
            self.counts.grow_front((self.first - i) as usize);
            self.first = i;
        } else if i >= self.first + self.counts.len() as i32 {
            self.counts.grow_back((i - self.first + 1) as usize - self.counts.len());
        }
        (i - self.first) as usize
    }

    /// Records one value (`NaN` counts as zero).
    #[inline(always)]
    pub fn add(&mut self, v: f64) {
        self.add_n(v, 1);
    }

    /// Records `n` copies of a value. Inlined: it is the innermost step of
    /// recording a block of trials.
    #[inline(always)]
    pub fn add_n(&mut self, v: f64, n: u64) {
        self.total += n;
        self.bump(v, n);
    }

    /// Records each of `values` once: [`LogHistogram::add`] for each, in
    /// one pass over contiguous counts (the innermost loop of recording a
    /// block of trials; the same counts as adding them one by one).
    pub fn add_all(&mut self, values: &[f64]) {
        self.total += values.len() as u64;
        let mut rest = values;
        while let Some(k) = self.bump_in_range(rest, |_| 1) {
            // A value outside the buckets held (or infinite): grow, go on.
            self.bump(rest[k], 1);
            rest = &rest[k + 1..];
        }
    }

    /// Records `values[i]` with weight `weights[i]`, skipping weights of 0:
    /// [`LogHistogram::add_n`] for each nonzero weight.
    pub fn add_all_weighted(&mut self, values: &[f64], weights: &[u64]) {
        let (mut rest, mut w) = (&values[..values.len().min(weights.len())], weights);
        self.total += w[..rest.len()].iter().sum::<u64>();
        while let Some(k) = self.bump_in_range(rest, |k| w[k]) {
            if w[k] > 0 {
                self.bump(rest[k], w[k]);
            }
            (rest, w) = (&rest[k + 1..], &w[k + 1..]);
        }
    }

    /// Adds `weight(k)` to the count of `values[k]`'s bucket, in order,
    /// while that bucket is already held (or the value is not positive:
    /// zeros); stops at the first value that needs the counts to grow, or
    /// is infinite, and returns its index. Does not touch the total.
    #[inline(always)]
    fn bump_in_range(&mut self, values: &[f64], weight: impl Fn(usize) -> u64) -> Option<usize> {
        let first = self.first;
        let zeros = &mut self.zeros;
        let counts = self.counts.as_mut_slice();
        for (k, &v) in values.iter().enumerate() {
            let bits = v.to_bits();
            let off = ((bits >> SHIFT) as i32).wrapping_sub(first) as u32 as usize;
            // Positive finite values: bits in 1..0x7FF0_0000_0000_0000.
            if bits.wrapping_sub(1) < f64::INFINITY.to_bits() - 1 {
                if off < counts.len() {
                    counts[off] += weight(k);
                    continue;
                }
            } else if v != f64::INFINITY {
                *zeros += weight(k);
                continue;
            }
            return Some(k);
        }
        None
    }

    /// Adds `n` to the count of `v`'s bucket (not to the total).
    #[inline(always)]
    fn bump(&mut self, v: f64, n: u64) {
        // Positive finite values: bits in 1..0x7FF0_0000_0000_0000.
        let bits = v.to_bits();
        if bits.wrapping_sub(1) < f64::INFINITY.to_bits() - 1 {
            let i = (bits >> SHIFT) as i32;
            let off = i.wrapping_sub(self.first) as u32 as usize;
            let counts = self.counts.as_mut_slice();
            if off < counts.len() {
                counts[off] += n;
            } else {
                let slot = self.ensure(i);
                self.counts.as_mut_slice()[slot] += n;
            }
        } else if v == f64::INFINITY {
            let slot = self.ensure(Self::index(f64::MAX));
            self.counts.as_mut_slice()[slot] += n;
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
        if let Some((a, b)) = self.index_range().filter(|_| !self.counts.is_empty()) {
            if a <= lo && hi <= b {
                // Within this histogram's range: check every sum, then add in place.
                let base = (lo - a) as usize;
                let theirs = other.counts.as_slice();
                let ours = &mut self.counts.as_mut_slice()[base..base + theirs.len()];
                let fits = ours.iter().zip(theirs).all(|(x, &y)| x.checked_add(y).is_some());
                if !fits {
                    return Err(MergeOverflow);
                }
                for (x, &y) in ours.iter_mut().zip(theirs) {
                    *x += y;
                }
                (self.zeros, self.total) = (zeros, total);
                return Ok(());
            }
        }
        if !self.counts.is_empty() {
            let (a, b) = self.index_range().ok_or(MergeOverflow)?;
            (lo, hi) = (lo.min(a), hi.max(b));
        }
        // Add into a new vector over the result's range, so that a failure
        // leaves `self` as it was.
        let mut counts = vec![0u64; (hi - lo + 1) as usize];
        for h in [&*self, other].into_iter().filter(|h| !h.counts.is_empty()) {
            let base = (h.first as i64 - lo) as usize;
            for (slot, &c) in counts[base..base + h.counts.len()].iter_mut().zip(h.counts.as_slice()) {
                *slot = slot.checked_add(c).ok_or(MergeOverflow)?;
            }
        }
        *self = LogHistogram {
            zeros,
            first: lo as i32,
            counts: Counts::from(counts),
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
            .as_slice()
            .iter()
            .try_fold(self.zeros, |acc, &c| acc.checked_add(c));
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
        let rank = nearest_rank(p, self.total);
        if rank <= self.zeros {
            return Some(0.0);
        }
        let mut seen = self.zeros;
        for (k, &c) in self.counts.as_slice().iter().enumerate() {
            seen += c;
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
        for (k, &c) in self.counts.as_slice().iter().enumerate() {
            if c > 0 {
                out.push((Self::centre(self.first + k as i32), c));
            }
        }
        out
    }
}

/// The nearest rank `ceil(p·n)` of a `p`-quantile among `n` values, at
/// least 1, computed exactly with `p` rounded to millionths (every `p`
/// sancsim reports has at most two decimals): in floating point, 0.1 × 30
/// is 3.0000000000000004, whose ceiling would be 4.
pub fn nearest_rank(p: f64, n: u64) -> u64 {
    let millionths = (p.clamp(0.0, 1.0) * 1e6).round() as u128;
    ((millionths * n as u128).div_ceil(1_000_000) as u64).clamp(1, n.max(1))
}

/// Exact (Clopper–Pearson) two-sided confidence interval for a binomial
/// proportion with `successes` out of `n` trials at level `1 - alpha`.
///
/// The lower bound solves `P(Bin(n, p) >= x) = alpha/2`, i.e.
/// `I_p(x, n-x+1) = alpha/2`, and the upper bound `P(Bin(n, p) <= x) =
/// alpha/2`, i.e. `1 - I_p(x+1, n-x) = alpha/2` ([`crate::special`]). Since
/// the binomial median is `x` when `p = x/n`, the lower root lies in
/// `(0, x/n)` and the upper in `(x/n, 1)` for `alpha < 1`: those are the
/// brackets, and the Wilson score interval is the starting point. At
/// `x = 0` and `x = n` the closed forms `1 - (alpha/2)^(1/n)` and
/// `(alpha/2)^(1/n)` are evaluated as `-expm1(ln(alpha/2)/n)` and
/// `exp(ln(alpha/2)/n)`. Returns for every input; `n = 0` or an `alpha`
/// outside (0, 1) gives (0, 1), and `successes > n` is taken as `n`.
pub fn clopper_pearson(successes: u64, n: u64, alpha: f64) -> (f64, f64) {
    clopper_pearson_real(successes.min(n) as f64, n as f64, alpha)
}

/// [`clopper_pearson`] with real `successes` and `n`, for a weighted
/// share: `n` is the effective sample size (Kish) and `successes` the share
/// times it (docs/MODEL.md section 11). For whole numbers it is exactly
/// [`clopper_pearson`]. `n` below or at 0 (or not finite) gives (0, 1);
/// `successes` is clamped to [0, n].
pub fn clopper_pearson_real(successes: f64, n: f64, alpha: f64) -> (f64, f64) {
    if !(n > 0.0 && n.is_finite() && alpha > 0.0 && alpha < 1.0) {
        return (0.0, 1.0);
    }
    let n_f = n;
    let x_f = if successes > 0.0 { successes.min(n_f) } else { 0.0 };
    let half = alpha / 2.0;
    let fail_f = n_f - x_f;
    let ln_half_per_n = half.ln() / n_f;
    // Wilson score interval: a start inside each bracket.
    let z = std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(alpha);
    let z2 = z * z;
    let centre = (x_f + z2 / 2.0) / (n_f + z2);
    let spread = z / (n_f + z2) * (x_f * fail_f / n_f + z2 / 4.0).sqrt();
    let share = x_f / n_f;
    let low = if x_f == 0.0 {
        0.0
    } else if x_f == n_f {
        ln_half_per_n.exp()
    } else {
        beta_quantile(x_f, fail_f + 1.0, half, Tail::Lower, (0.0, share), centre - spread)
    };
    let high = if x_f == n_f {
        1.0
    } else if x_f == 0.0 {
        -ln_half_per_n.exp_m1()
    } else {
        beta_quantile(x_f + 1.0, fail_f, half, Tail::Upper, (share, 1.0), centre + spread)
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

    /// A block added at once gives the counts, the bytes and the quantiles
    /// of adding its values one by one, through growth at both ends (new
    /// smallest and largest values), zeros, negatives, NaN and infinity.
    #[test]
    fn block_adds_equal_single_adds() {
        let mut values = Vec::new();
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for k in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Spread over 12 decades, drifting down then up, so the range
            // grows at its low end many times.
            let e = if k < 2500 {
                -(k as f64) / 400.0
            } else {
                (k as f64 - 3000.0) / 400.0
            };
            values.push((x >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powf(e));
        }
        values.extend([0.0, -1.0, f64::NAN, f64::INFINITY, f64::MIN_POSITIVE / 4.0, f64::MAX]);
        let mut weights: Vec<u64> = (0..values.len() as u64).map(|i| i % 5 + 1).collect();
        // Weight 0 (not recorded) on some values, among them new extremes.
        values.extend([1e-300, 1e300, 3.0]);
        weights.extend([0, 0, 0]);
        for w in weights.iter_mut().step_by(7) {
            *w = 0;
        }
        let (mut one, mut block) = (LogHistogram::new(), LogHistogram::new());
        let (mut one_w, mut block_w) = (LogHistogram::new(), LogHistogram::new());
        for (&v, &w) in values.iter().zip(&weights) {
            one.add(v);
            if w > 0 {
                one_w.add_n(v, w);
            }
        }
        for (chunk, w) in values.chunks(256).zip(weights.chunks(256)) {
            block.add_all(chunk);
            block_w.add_all_weighted(chunk, w);
        }
        for (a, b) in [(&one, &block), (&one_w, &block_w)] {
            assert_eq!(a, b);
            assert_eq!(serde_json::to_string(a).unwrap(), serde_json::to_string(b).unwrap());
            for p in [0.01, 0.1, 0.5, 0.9, 0.99, 1.0] {
                assert_eq!(a.quantile(p), b.quantile(p));
            }
            let back: LogHistogram = serde_json::from_str(&serde_json::to_string(b).unwrap()).unwrap();
            assert_eq!(&back, b);
        }
        assert_eq!(block.count(), values.len() as u64);
        assert_eq!(block_w.count(), weights.iter().sum::<u64>());
    }

    #[test]
    fn nearest_ranks_are_exact() {
        assert_eq!(nearest_rank(0.1, 30), 3, "not 4, as (0.1 * 30.0).ceil() gives");
        assert_eq!(nearest_rank(0.1, 31), 4);
        assert_eq!(nearest_rank(0.5, 1), 1);
        assert_eq!(nearest_rank(0.05, 0), 1);
        assert_eq!(nearest_rank(0.9, 10), 9);
        assert_eq!(
            nearest_rank(0.95, u64::MAX),
            (u64::MAX as u128 * 95).div_ceil(100) as u64
        );
    }

    #[test]
    fn real_clopper_pearson_is_the_integer_one_on_whole_numbers_and_between_neighbours() {
        for (x, n) in [(0u64, 10u64), (3, 10), (10, 10), (5000, 9221), (1, 1)] {
            assert_eq!(
                clopper_pearson_real(x as f64, n as f64, 0.05),
                clopper_pearson(x, n, 0.05)
            );
        }
        // A weighted share between two whole counts lies between their intervals.
        let (lo, hi) = clopper_pearson_real(30.5, 100.0, 0.05);
        let (lo3, hi3) = clopper_pearson(30, 100, 0.05);
        let (lo4, hi4) = clopper_pearson(31, 100, 0.05);
        assert!(lo3 < lo && lo < lo4 && hi3 < hi && hi < hi4, "{lo} {hi}");
        assert_eq!(clopper_pearson_real(1.0, 0.0, 0.05), (0.0, 1.0));
        assert_eq!(clopper_pearson_real(1.0, f64::NAN, 0.05), (0.0, 1.0));
        let (lo, hi) = clopper_pearson_real(0.2, 64.7, 0.05);
        assert!(lo > 0.0 && lo < 0.2 / 64.7 && hi < 0.1, "{lo} {hi}");
    }
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
        a.add_n(5.0, u64::MAX);
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

    /// Reference 95% bounds (x, n, low, high). Independent of sancsim's
    /// method: where x or n − x is at most 10, the exact binomial tail solved
    /// by bisection in 60-digit arithmetic (mpmath 1.3); elsewhere scipy
    /// 1.17.1's `beta.ppf` (Boost's `ibeta_inv`), which is accurate there
    /// but only to ~1e-8 relative for upper bounds at small x and n ≥ 5e6.
    /// Produced by `python3 cpref.py` (9 s) with this cpref.py:
    // import mpmath as mp
    // from scipy.stats import beta
    // mp.mp.dps = 60
    // def cdf(k, n, p):  # P(Bin(n, p) <= k), exact to 60 digits
    //     return sum(mp.binomial(n, j) * p**j * (1 - p)**(n - j) for j in range(k + 1))
    // def solve(k, n, target):  # the p in (0, 1) with cdf(k, n, p) = target (cdf falls in p)
    //     lo, hi = mp.mpf(0), mp.mpf(1)
    //     for _ in range(250):
    //         mid = (lo + hi) / 2
    //         lo, hi = (mid, hi) if cdf(k, n, mid) > target else (lo, mid)
    //     return lo
    // def exact(x, n):  # 95% Clopper-Pearson bounds
    //     lo = 0 if x == 0 else solve(x - 1, n, mp.mpf('0.975'))
    //     hi = 1 if x == n else solve(x, n, mp.mpf('0.025'))
    //     return lo, hi
    // for n in [1, 2, 20, 10**3, 10**5, 5 * 10**6, 8 * 10**6, 10**7, 10**8, 10**9]:
    //     for x in sorted({0, 1, 10, n // 2, n - 1, n}):
    //         if x > n: continue
    //         if x <= 10: lo, hi = exact(x, n)
    //         elif n - x <= 10: lo, hi = (1 - b for b in exact(n - x, n)[::-1])
    //         else: lo, hi = beta.ppf(0.025, x, n - x + 1), beta.ppf(0.975, x + 1, n - x)
    //         print(f'({x}, {n}, {float(lo)!r}, {float(hi)!r}),')
    const REFERENCE_BOUNDS: &[(u64, u64, f64, f64)] = &[
        (0, 1, 0.0, 0.975),
        (1, 1, 0.025, 1.0),
        (0, 2, 0.0, 0.841886116991581),
        (1, 2, 0.01257911709342505, 0.9874208829065749),
        (2, 2, 0.15811388300841897, 1.0),
        (0, 20, 0.0, 0.16843347098308534),
        (1, 20, 0.0012650894979498036, 0.24873276277202777),
        (10, 20, 0.27195784956079183, 0.7280421504392082),
        (19, 20, 0.7512672372279722, 0.9987349105020502),
        (20, 20, 0.8315665290169146, 1.0),
        (0, 1000, 0.0, 0.003682083896865672),
        (1, 1000, 2.531748749129404e-05, 0.005558924279826673),
        (10, 1000, 0.004805510691049307, 0.018313243055112453),
        (500, 1000, 0.46854917297179194, 0.531450827028208),
        (999, 1000, 0.9944410757201734, 0.9999746825125088),
        (1000, 1000, 0.9963179161031344, 1.0),
        (0, 100000, 0.0, 3.688811415792421e-05),
        (1, 100000, 2.531780477933314e-07, 5.571516034774276e-05),
        (10, 100000, 4.795489513901141e-05, 0.00018389584537664981),
        (50000, 100000, 0.4968960624918004, 0.5031039375081996),
        (99999, 100000, 0.9999442848396523, 0.9999997468219523),
        (100000, 100000, 0.9999631118858421, 1.0),
        (0, 5000000, 0.0, 7.377756186662216e-07),
        (1, 5000000, 5.063561584038147e-09, 1.1143281687565795e-06),
        (10, 5000000, 9.590781424817203e-07, 3.678068122371163e-06),
        (2500000, 5000000, 0.4995616388358608, 0.5004383611641392),
        (4999999, 5000000, 0.9999988856718313, 0.9999999949364384),
        (5000000, 5000000, 0.9999992622243813, 1.0),
        (0, 8000000, 0.0, 4.6110982545307377e-07),
        (1, 8000000, 3.164725993028489e-09, 6.964552248707802e-07),
        (10, 8000000, 5.994237445380825e-07, 2.298793299770774e-06),
        (4000000, 8000000, 0.4996534615963555, 0.5003465384036445),
        (7999999, 8000000, 0.9999993035447752, 0.999999996835274),
        (8000000, 8000000, 0.9999995388901746, 1.0),
        (0, 10000000, 0.0, 3.6888787737224387e-07),
        (1, 10000000, 2.5317807952240303e-09, 5.571642117360731e-07),
        (10, 10000000, 4.795389704270114e-07, 1.8390348326936415e-06),
        (5000000, 10000000, 0.4996900525213711, 0.5003099474786289),
        (9999999, 10000000, 0.9999994428357882, 0.9999999974682192),
        (10000000, 10000000, 0.9999996311121226, 1.0),
        (0, 100000000, 0.0, 3.688879386074779e-08),
        (1, 100000000, 2.531780798108492e-10, 5.571643263581067e-08),
        (10, 100000000, 4.7953887969461654e-08, 1.8390355270509608e-07),
        (50000000, 100000000, 0.4999019968019593, 0.5000980031980407),
        (99999999, 100000000, 0.9999999442835673, 0.999999999746822),
        (100000000, 100000000, 0.9999999631112061, 1.0),
        (0, 1000000000, 0.0, 3.6888794473100207e-09),
        (1, 1000000000, 2.531780798396938e-11, 5.571643378203115e-09),
        (10, 1000000000, 4.795388706213806e-09, 1.839035596486696e-08),
        (500000000, 1000000000, 0.4999690097484223, 0.5000309902515777),
        (999999999, 1000000000, 0.9999999944283566, 0.9999999999746821),
        (1000000000, 1000000000, 0.9999999963111206, 1.0),
    ];

    #[test]
    fn clopper_pearson_matches_reference_values_from_one_to_a_billion_trials() {
        // Tolerance: 1e-12 relative on each bound (or 1e-15 absolute for a
        // bound of 0). Measured worst: 4.4e-14 (the upper bound at (10, 1e7),
        // where 1 − I is taken from I ≈ 0.975); most rows agree to 1e-15.
        for &(x, n, lo_ref, hi_ref) in REFERENCE_BOUNDS {
            let (lo, hi) = clopper_pearson(x, n, 0.05);
            for (got, want, which) in [(lo, lo_ref, "low"), (hi, hi_ref, "high")] {
                let tol = (1e-12 * want).max(1e-15);
                assert!(
                    (got - want).abs() <= tol,
                    "({x}, {n}) {which}: {got:e} vs scipy {want:e}, rel err {:e}",
                    (got - want).abs() / want
                );
            }
        }
    }

    #[test]
    fn clopper_pearson_returns_for_huge_n() {
        // These never returned with statrs' inverse beta (issue: n >~ 8e6).
        for (x, n) in [
            (0, 8_000_000),
            (10, 10_000_000),
            (1, 100_000_000),
            (10_000_000, 10_000_000),
            (123_456_789, 987_654_321),
            (1, u64::MAX),
            (u64::MAX / 3, u64::MAX),
            (u64::MAX - 1, u64::MAX),
        ] {
            let (lo, hi) = clopper_pearson(x, n, 0.05);
            let p = x as f64 / n as f64;
            assert!(lo.is_finite() && hi.is_finite(), "({x}, {n})");
            assert!(
                0.0 <= lo && lo <= p && p <= hi && hi <= 1.0,
                "({x}, {n}): {lo} {p} {hi}"
            );
        }
        // The closed forms keep their precision where 1 - (α/2)^(1/n) by
        // powf would round to 0: for n = 1e15, 1 - 0.025^(1e-15) = 3.6889e-15.
        let (_, hi) = clopper_pearson(0, 1_000_000_000_000_000, 0.05);
        assert!((hi - 3.688_879_454_113_929_5e-15).abs() < 1e-27, "{hi:e}");
    }

    #[test]
    fn clopper_pearson_properties_hold_on_a_grid() {
        // low <= x/n <= high; monotone in x; low(x, n) = 1 - high(n - x, n)
        // to 1e-11 relative plus 1e-15 absolute (1 - high carries high's
        // absolute rounding; measured worst relative gap where low is not
        // tiny: 3.4e-13).
        for n in [
            1u64,
            2,
            3,
            7,
            20,
            99,
            1000,
            12_345,
            1_000_000,
            77_777_777,
            1_000_000_000,
        ] {
            let step = (n / 50).max(1);
            let xs: Vec<u64> = (0..=n)
                .step_by(step as usize)
                .chain([1, n - 1, n].into_iter().filter(|&v| v <= n))
                .collect();
            let mut xs = xs;
            xs.sort();
            xs.dedup();
            let mut prev = (0.0, 0.0);
            for (i, &x) in xs.iter().enumerate() {
                let (lo, hi) = clopper_pearson(x, n, 0.05);
                let p = x as f64 / n as f64;
                assert!(0.0 <= lo && lo <= p && p <= hi && hi <= 1.0, "({x}, {n}): {lo} {hi}");
                if i > 0 {
                    assert!(lo >= prev.0 && hi >= prev.1, "not monotone at ({x}, {n})");
                }
                prev = (lo, hi);
                let (lo_m, hi_m) = clopper_pearson(n - x, n, 0.05);
                assert!(
                    (lo - (1.0 - hi_m)).abs() <= 1e-11 * lo + 1e-15,
                    "symmetry ({x}, {n}): {lo} vs {}",
                    1.0 - hi_m
                );
                assert!(
                    (hi - (1.0 - lo_m)).abs() <= 1e-11 * hi + 1e-15,
                    "symmetry ({x}, {n}): {hi} vs {}",
                    1.0 - lo_m
                );
            }
        }
    }

    #[test]
    fn rounds_to_significant_digits() {
        assert_eq!(round_significant(24_987.3, 3), 25_000.0);
        assert_eq!(round_significant(0.123_456, 3), 0.123);
        assert_eq!(round_significant(3.3049e24, 3), 3.30e24);
    }
}
