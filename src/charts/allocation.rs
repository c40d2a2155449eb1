//! Allocation: median chips serving inference and in training per quarter,
//! stacked, with the median inference shortfall as a line.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{band, max_of, series};
use super::style::{self, Entry, Swatch};
use super::{Failure, Fan, quarter_plot};
use crate::results::Summary;

/// File stem.
pub const STEM: &str = "allocation";

/// Title of the chart.
pub fn title(_: &Summary) -> String {
    "Chips in inference and training, and inference shortfall (medians)".to_string()
}

/// Draws the allocation chart.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Summary) -> Result<(), Failure> {
    let subtitle = format!(
        "{} · medians across trials, end of quarter; training stacked on inference",
        style::run_line(&s.scenario, s.trials, s.seed)
    );
    let (area, panel) = style::frame(root, &title(s), &subtitle)?;
    let inference = Fan::of(s, "inference_chips").p50;
    let training = Fan::of(s, "training_chips").p50;
    let shortfall = Fan::of(s, "inference_shortfall_chips").p50;
    let zero = vec![0.0; inference.len()];
    let stacked: Vec<f64> = inference.iter().zip(&training).map(|(i, t)| i + t).collect();
    let y_max = max_of(0.0, [stacked.as_slice(), shortfall.as_slice()]);
    let y_max = if y_max > 0.0 { y_max * 1.06 } else { 1.0 };
    let mut chart = quarter_plot(&area, &s.quarters, y_max, "chips", &|v| style::count(*v))?;

    if s.quarters.is_empty() {
        return style::centred_note(&chart.plotting_area().strip_coord_spec(), "no quarters simulated");
    }
    chart.draw_series(std::iter::once(Polygon::new(
        band(&zero, &inference),
        style::INFERENCE.mix(style::AREA).filled(),
    )))?;
    chart.draw_series(std::iter::once(Polygon::new(
        band(&inference, &stacked),
        style::TRAINING.mix(style::AREA).filled(),
    )))?;
    chart.draw_series(LineSeries::new(series(&inference), style::INFERENCE.stroke_width(1)))?;
    chart.draw_series(LineSeries::new(series(&stacked), style::TRAINING.stroke_width(1)))?;
    chart.draw_series(LineSeries::new(
        series(&shortfall),
        style::SHORTFALL.stroke_width(style::LINE_WIDTH),
    ))?;

    style::legend(
        &panel,
        "",
        &[
            Entry::new(Swatch::Fill(style::TRAINING, style::AREA), "training chips"),
            Entry::new(Swatch::Fill(style::INFERENCE, style::AREA), "inference chips"),
            Entry::new(Swatch::Line(style::SHORTFALL), "inference shortfall"),
        ],
    )
}
