//! Numeric axes of the strategy charts (sweeps, tornado, sensitivity,
//! comparisons, frontier): ranges fitted around the data, and tick labels
//! with as many decimals as the tick step needs, so that a narrow range
//! reads `41.5%, 42%, 42.5%` and not `42%, 42%, 43%`.

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;

use super::style;

/// Most tick labels on a numeric x axis of these charts.
pub const X_LABELS: usize = 8;
/// Most tick labels on a numeric y axis (as `styled_mesh` sets it).
pub const Y_LABELS: usize = 7;

/// Decimals that keep neighbouring ticks of `lo..hi` apart when their
/// values are written multiplied by `unit` (100 for percent), for an axis
/// of at most `labels` ticks laid out as plotters lays them out.
pub fn tick_decimals(lo: f64, hi: f64, labels: usize, unit: f64) -> usize {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) {
        return 0;
    }
    let ticks = RangedCoordf64::from(lo..hi).key_points(labels);
    let step = ticks
        .windows(2)
        .map(|w| (w[1] - w[0]) * unit)
        .fold(f64::INFINITY, f64::min);
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    // Plotters' steps are 1, 2 or 5 times a power of ten.
    (-(step.log10() + 1e-9).floor()).clamp(0.0, 6.0) as usize
}

/// `v` with `decimals` decimals, never `-0`.
fn fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// A probability written in percent with `decimals` decimals: `42.5%`.
pub fn percent(v: f64, decimals: usize) -> String {
    format!("{}%", fixed(v * 100.0, decimals))
}

/// A tick label of a probability axis: the percentage, or nothing outside
/// 0–100% (an axis padded past the possible values to make room for
/// labels shows no impossible probabilities).
pub fn percent_tick(v: f64, decimals: usize) -> String {
    if (-1e-9..=1.0 + 1e-9).contains(&v) {
        percent(v, decimals)
    } else {
        String::new()
    }
}

/// A difference of probabilities in percentage points, signed: `+2.5`, `0`, `-1`.
pub fn points(v: f64, decimals: usize) -> String {
    let s = fixed(v * 100.0, decimals);
    if s.starts_with('-') || s.chars().all(|c| c == '0' || c == '.') {
        s
    } else {
        format!("+{s}")
    }
}

/// A number on a swept parameter's axis: `0.25`, `950`, `12.5k`, `1.2M`.
pub fn number(v: f64, decimals: usize) -> String {
    if v.abs() >= 1e4 {
        style::count(v)
    } else {
        fixed(v, decimals)
    }
}

/// Smallest and largest of the finite `values`, if any.
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// `lo..hi` widened by `share` of its span on each side; a single value
/// becomes `value ± half` (`half` at least a tenth of the value's size),
/// so every axis has a span.
pub fn padded((lo, hi): (f64, f64), share: f64, half: f64) -> (f64, f64) {
    let span = hi - lo;
    if span > 0.0 && span.is_finite() {
        (lo - span * share, hi + span * share)
    } else {
        let half = half.max(lo.abs() * 0.1);
        (lo - half, lo + half)
    }
}

/// A probability kept to `0..=1` (zero where not finite).
pub fn probability(p: f64) -> f64 {
    super::axis::finite(p).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_tick_step() {
        assert_eq!(tick_decimals(0.0, 1.0, 7, 100.0), 0);
        assert_eq!(tick_decimals(0.41, 0.44, 8, 100.0), 1);
        assert_eq!(tick_decimals(0.4101, 0.4103, 8, 100.0), 3);
        assert_eq!(tick_decimals(0.0, 2000.0, 8, 1.0), 0);
        assert_eq!(tick_decimals(0.1, 0.4, 8, 1.0), 2);
        assert_eq!(tick_decimals(f64::NAN, 1.0, 8, 1.0), 0);
        assert_eq!(tick_decimals(1.0, 1.0, 8, 1.0), 0);
    }

    #[test]
    fn labels_read_as_people_write_them() {
        assert_eq!(percent(0.425, 1), "42.5%");
        assert_eq!(percent(-1e-17, 0), "0%");
        assert_eq!(percent_tick(-0.05, 0), "");
        assert_eq!(percent_tick(1.0, 0), "100%");
        assert_eq!(points(0.025, 1), "+2.5");
        assert_eq!(points(-0.01, 0), "-1");
        assert_eq!(points(-1e-12, 1), "0.0");
        assert_eq!(number(0.25, 2), "0.25");
        assert_eq!(number(12_500.0, 0), "12.5k");
    }

    #[test]
    fn every_range_has_a_span() {
        assert_eq!(extent([f64::NAN, 2.0, -1.0, f64::INFINITY]), Some((-1.0, 2.0)));
        assert_eq!(extent([f64::NAN]), None);
        assert_eq!(padded((0.0, 1.0), 0.1, 1.0), (-0.1, 1.1));
        assert_eq!(padded((5.0, 5.0), 0.1, 0.1), (4.5, 5.5));
        assert_eq!(padded((0.0, 0.0), 0.1, 1.0), (-1.0, 1.0));
    }
}
