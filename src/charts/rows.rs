//! Charts of one row per item with the items' names at the left (tornado,
//! Sobol indices, differences): the first item is the top row, the names'
//! column is as wide as the longest name needs, up to a share of the page,
//! and names longer than that are cut with an ellipsis. Rows too close for
//! the tick font set their names smaller.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::axis::LabelAxis;
use super::style;
use super::{Failure, WIDTH, styled_mesh};

/// Widest the names' column may be, as a share of the page width.
pub const MAX_LABEL_SHARE: f64 = 0.4;
/// Space between a name and the plot (tick mark and gap, as plotters sets
/// them) plus a little room on its left, pixels.
const LABEL_PAD: u32 = 16;
/// Narrowest names' column, pixels.
const MIN_LABEL_AREA: u32 = 40;
/// Smallest font of the names, pixels.
const MIN_FONT: f64 = 8.0;

/// A plot with a numeric x axis and one row per item on y.
pub type RowPlot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, LabelAxis>>;

/// The y value of row `i` of `n` (row 0 at the top).
pub fn row_y(i: usize, n: usize) -> f64 {
    n.saturating_sub(1 + i) as f64
}

/// Where the rows go on a page area: the names as they fit, the width of
/// their column, their font and the plot's width.
#[derive(Debug, Clone)]
pub struct RowLayout {
    /// The names, bottom row first (the axis's order), cut to fit.
    labels: Vec<String>,
    /// Width of the names' column, pixels.
    label_area: u32,
    /// Font size of the names, pixels.
    pub font: f64,
    /// Width of the plot, pixels.
    pub plot_width: f64,
}

impl RowLayout {
    /// Lays out `names` (row 0 at the top) on `area`.
    pub fn new<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, names: &[String]) -> Result<RowLayout, Failure> {
        let n = names.len().max(1);
        let plot_h = f64::from(area.dim_in_pixel().1) - f64::from(2 * style::MARGIN + style::X_LABEL_AREA);
        let font = (plot_h / n as f64 - 3.0).clamp(MIN_FONT, style::TICK_SIZE);
        let name_style = style::text(font, style::TEXT);
        let avail = (f64::from(WIDTH) * MAX_LABEL_SHARE) as u32 - LABEL_PAD;
        let mut widest = 0;
        let mut labels = Vec::with_capacity(names.len());
        for name in names.iter().rev() {
            let label = style::fit(area, name, &name_style, avail)?;
            widest = widest.max(area.estimate_text_size(&label, &name_style)?.0);
            labels.push(label);
        }
        let label_area = (widest + LABEL_PAD).max(MIN_LABEL_AREA);
        let plot_width = f64::from(area.dim_in_pixel().0) - f64::from(2 * style::MARGIN + label_area);
        Ok(RowLayout {
            labels,
            label_area,
            font,
            plot_width: plot_width.max(1.0),
        })
    }

    /// Builds the plot on `area` (the area laid out): `x` described by
    /// `x_desc` and written by `x_format` (at most [`super::scale::X_LABELS`]
    /// ticks). Returns the plot and the height of a row, pixels.
    pub fn plot<'a, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        x: Range<f64>,
        x_desc: &str,
        x_format: &dyn Fn(&f64) -> String,
    ) -> Result<(RowPlot<'a, DB>, f64), Failure> {
        let mut chart = ChartBuilder::on(area)
            .margin(style::MARGIN)
            .x_label_area_size(style::X_LABEL_AREA)
            .y_label_area_size(self.label_area)
            .build_cartesian_2d(x, LabelAxis::categories(&self.labels))?;
        styled_mesh(&mut chart.configure_mesh(), x_desc, "")
            .disable_y_mesh()
            .x_labels(super::scale::X_LABELS)
            .y_label_style(style::text(self.font, style::TEXT))
            .x_label_formatter(x_format)
            .draw()?;
        let (_, y_px) = chart.plotting_area().get_pixel_range();
        let pitch = f64::from(y_px.end - y_px.start) / self.labels.len().max(1) as f64;
        Ok((chart, pitch))
    }
}

/// The data range that puts `lo..hi` between `left` and `right` pixels in
/// from the ends of a plot `width` pixels wide (room for labels beside
/// the data); the room shrinks where the plot is too narrow for it.
pub fn with_room((lo, hi): (f64, f64), left: f64, right: f64, width: f64) -> (f64, f64) {
    let room = left + right;
    let scale = if room > width * 0.6 { width * 0.6 / room } else { 1.0 };
    let (left, right) = (left * scale, right * scale);
    let per_px = (hi - lo) / (width - left - right).max(1.0);
    (lo - left * per_px, hi + right * per_px)
}

/// Light lines between groups of rows: one above row `i` for each `i` in
/// `starts` (rows where a new group begins, the first row excluded).
pub fn separators<DB: DrawingBackend>(chart: &RowPlot<'_, DB>, n: usize, starts: &[usize]) -> Result<(), Failure> {
    let (x_lo, x_hi) = {
        let r = chart.x_range();
        (r.start, r.end)
    };
    for &i in starts.iter().filter(|&&i| i > 0 && i < n) {
        let y = row_y(i, n) + 0.5;
        chart.plotting_area().draw(&PathElement::new(
            vec![(x_lo, y), (x_hi, y)],
            style::GRID.stroke_width(1),
        ))?;
    }
    Ok(())
}
