//! A categorical axis for plotters: positions 0, 1, 2, … carry text labels
//! (quarters such as "2025Q3", or milestone names), with ticks every `step`
//! categories so labels never crowd.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// Most quarter labels shown on one axis.
const MAX_QUARTER_LABELS: usize = 8;

/// Categories at integer positions, shown on a continuous `f64` axis so that
/// lines, bands and bars can sit between them.
#[derive(Debug, Clone)]
pub struct LabelAxis {
    labels: Vec<String>,
    lo: f64,
    hi: f64,
    step: usize,
}

impl LabelAxis {
    /// Quarters on the x axis of a time series: the range is padded a little
    /// past the first and last quarter, and ticks are 1, 2, 4, 8, … quarters
    /// apart (a power of two, so a multiple of 4 keeps the same quarter of
    /// the year) with at most eight labels.
    pub fn quarters(labels: &[String]) -> LabelAxis {
        let n = labels.len();
        let mut step = 1;
        while n.div_ceil(step) > MAX_QUARTER_LABELS {
            step *= 2;
        }
        let (lo, hi) = if n <= 1 { (-0.5, 0.5) } else { (-0.25, n as f64 - 0.75) };
        LabelAxis {
            labels: labels.to_vec(),
            lo,
            hi,
            step,
        }
    }

    /// Categories on the x axis of a bar chart: every label shown, each
    /// category one unit wide.
    pub fn categories(labels: &[String]) -> LabelAxis {
        LabelAxis {
            labels: labels.to_vec(),
            lo: -0.5,
            hi: labels.len().max(1) as f64 - 0.5,
            step: 1,
        }
    }

    /// The label at an integer position, if any.
    pub fn label(&self, v: f64) -> Option<&str> {
        let i = v.round();
        if (v - i).abs() > 1e-6 || i < 0.0 {
            return None;
        }
        self.labels.get(i as usize).map(String::as_str)
    }
}

/// The pixel of `v` on an axis from `lo` to `hi` drawn over `limit`
/// (the start pixel for an empty axis or a value that is not finite).
fn linear_pixel(lo: f64, hi: f64, v: f64, limit: (i32, i32)) -> i32 {
    let span = hi - lo;
    let length = limit.1 - limit.0;
    if span <= 0.0 || length == 0 || !v.is_finite() {
        return limit.0;
    }
    let t = (v - lo) / span;
    // `as` saturates, so values far outside the range cannot overflow.
    limit.0 + (f64::from(length) * t + 1e-3).floor() as i32
}

impl Ranged for LabelAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        linear_pixel(self.lo, self.hi, *v, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.max_num_points() == 0 {
            return Vec::new();
        }
        (0..self.labels.len()).step_by(self.step).map(|i| i as f64).collect()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for LabelAxis {
    fn format_ext(&self, value: &f64) -> String {
        self.label(*value).unwrap_or_default().to_string()
    }
}

/// Training compute on a log axis: positions are `log10(FLOP)`, tick
/// labels are FLOP written `1e25`, `3e25` (only `1eN` when the axis spans
/// more than four decades), and one position may carry a word instead (the
/// bar of trials with no compute, which has no place on a log axis).
#[derive(Debug, Clone)]
pub struct FlopAxis {
    lo: f64,
    hi: f64,
    /// Position and label of the bar outside the log scale.
    none: Option<(f64, String)>,
}

impl FlopAxis {
    /// An axis from `10^lo` to `10^hi` FLOP, with `none` at its position.
    pub fn new(lo: f64, hi: f64, none: Option<(f64, String)>) -> FlopAxis {
        FlopAxis { lo, hi, none }
    }

    /// Tick positions of the log scale, in `log10(FLOP)`, and their labels.
    pub fn ticks(&self) -> Vec<(f64, String)> {
        let mantissas: &[f64] = if self.hi - self.lo > 4.0 { &[1.0] } else { &[1.0, 3.0] };
        let first = self.none.as_ref().map_or(self.lo, |(x, _)| self.lo.max(x + 0.45));
        let mut ticks = Vec::new();
        if !(first.is_finite() && self.hi.is_finite()) || self.hi - first > 400.0 {
            return ticks;
        }
        for e in first.floor() as i32..=self.hi.ceil() as i32 {
            for &m in mantissas {
                let x = m.log10() + f64::from(e);
                if x >= first && x <= self.hi {
                    ticks.push((x, format!("{m}e{e}")));
                }
            }
        }
        ticks
    }
}

impl Ranged for FlopAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        linear_pixel(self.lo, self.hi, *v, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.max_num_points() == 0 {
            return Vec::new();
        }
        let none = self.none.iter().map(|(x, _)| *x);
        none.chain(self.ticks().into_iter().map(|t| t.0)).collect()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for FlopAxis {
    fn format_ext(&self, value: &f64) -> String {
        if let Some((x, label)) = &self.none {
            if (value - x).abs() < 1e-9 {
                return label.clone();
            }
        }
        self.ticks()
            .into_iter()
            .find(|t| (t.0 - value).abs() < 1e-9)
            .map_or_else(String::new, |t| t.1)
    }
}

/// Points of a per-quarter series: `(quarter index, value)`. A single quarter
/// becomes a short flat segment so lines and bands stay visible.
pub fn series(values: &[f64]) -> Vec<(f64, f64)> {
    match values {
        [v] => vec![(-0.3, *v), (0.3, *v)],
        _ => values.iter().enumerate().map(|(i, v)| (i as f64, *v)).collect(),
    }
}

/// A closed outline between a lower and an upper series, for filled bands.
pub fn band(lower: &[f64], upper: &[f64]) -> Vec<(f64, f64)> {
    let mut points = series(upper);
    points.extend(series(lower).into_iter().rev());
    points
}

/// Replaces non-finite values by zero so ranges and drawings stay defined.
pub fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Largest finite value of the slices, or `floor` if larger.
pub fn max_of<'a>(floor: f64, values: impl IntoIterator<Item = &'a [f64]>) -> f64 {
    values
        .into_iter()
        .flat_map(|s| s.iter().copied())
        .filter(|v| v.is_finite())
        .fold(floor, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("Q{i}")).collect()
    }

    #[test]
    fn quarter_ticks_are_spaced_by_powers_of_two() {
        assert_eq!(
            LabelAxis::quarters(&labels(6)).key_points(10usize),
            vec![0., 1., 2., 3., 4., 5.]
        );
        assert_eq!(LabelAxis::quarters(&labels(16)).key_points(10usize).len(), 8);
        assert_eq!(LabelAxis::quarters(&labels(40)).key_points(10usize).len(), 5);
        assert!(LabelAxis::quarters(&[]).key_points(10usize).is_empty());
    }

    #[test]
    fn labels_sit_on_integer_positions_only() {
        let axis = LabelAxis::quarters(&labels(4));
        assert_eq!(axis.format_ext(&2.0), "Q2");
        assert_eq!(axis.format_ext(&2.5), "");
        assert_eq!(axis.format_ext(&7.0), "");
        assert_eq!(axis.format_ext(&-1.0), "");
    }

    #[test]
    fn flop_ticks_are_written_in_flop() {
        let axis = FlopAxis::new(24.25, 26.75, Some((24.3, "no run".into())));
        let labels: Vec<String> = axis.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["1e25", "3e25", "1e26", "3e26"]);
        assert_eq!(axis.format_ext(&24.3), "no run");
        assert_eq!(axis.format_ext(&(3f64.log10() + 25.0)), "3e25");
        assert_eq!(axis.key_points(10usize).len(), 5);
        let wide = FlopAxis::new(18.0, 27.0, None);
        assert_eq!(wide.ticks().len(), 10);
        assert_eq!(wide.format_ext(&20.0), "1e20");
        assert!(FlopAxis::new(f64::NAN, 3.0, None).ticks().is_empty());
    }

    #[test]
    fn a_single_quarter_is_a_visible_segment() {
        assert_eq!(series(&[5.0]), vec![(-0.3, 5.0), (0.3, 5.0)]);
        assert_eq!(band(&[1.0], &[2.0]).len(), 4);
        let axis = LabelAxis::quarters(&labels(1));
        assert!(axis.map(&-0.3, (0, 100)) < axis.map(&0.3, (0, 100)));
    }
}
