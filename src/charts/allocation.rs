//! Allocation: median chips serving inference and in training per quarter,
//! stacked, each by chip type, counted in unit chips (a chip type counts as
//! its peak FLOP/s is worth), with the median inference shortfall as a line.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{band, max_of, series};
use super::style::{self, Entry, Swatch};
use super::{Failure, Fan, Unit, chip_median, quarter_plot};
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
        super::run_line(s)
    );
    let (area, panel) = style::frame(root, &title(s), &subtitle)?;
    let n = s.quarters.len();
    let unit = Unit::of(s);
    // Layers from the bottom: inference then training, each by chip type
    // in file order (one layer per use without chip types), in unit chips.
    let mut layers: Vec<(RGBColor, String, Vec<f64>)> = Vec::new();
    for (base, metric, use_) in [
        (style::INFERENCE, "inference_chips", "inference"),
        (style::TRAINING, "training_chips", "training"),
    ] {
        match &unit {
            Some(u) => {
                let several = s.chip_types.len() > 1;
                for (k, chip) in s.chip_types.iter().enumerate() {
                    let label = if several {
                        format!("{use_}: {}", chip.name)
                    } else {
                        format!("{use_} chips")
                    };
                    layers.push((style::shade(base, k), label, chip_median(s, chip, metric, u)));
                }
            }
            None => layers.push((base, format!("{use_} chips"), Fan::of(s, metric).p50)),
        }
    }
    // The shortfall is counted in the inference demand's unit chip.
    let shortfall_worth = match (&unit, &s.inference_unit_chip) {
        (Some(u), Some(name)) => s
            .chip_types
            .iter()
            .find(|c| &c.name == name)
            .map_or(1.0, |c| u.worth(c.peak_flops)),
        _ => 1.0,
    };
    let shortfall: Vec<f64> = Fan::of(s, "inference_shortfall_chips")
        .p50
        .iter()
        .map(|v| v * shortfall_worth)
        .collect();
    let mut tops: Vec<Vec<f64>> = Vec::new();
    let mut below = vec![0.0; n];
    for (_, _, values) in &layers {
        below.iter_mut().zip(values).for_each(|(b, v)| *b += v);
        tops.push(below.clone());
    }
    let y_max = max_of(0.0, [below.as_slice(), shortfall.as_slice()]);
    let y_max = if y_max > 0.0 { y_max * 1.06 } else { 1.0 };
    let y_desc = unit.as_ref().map_or_else(|| "chips".to_string(), Unit::axis);
    let mut chart = quarter_plot(&area, &s.quarters, y_max, &y_desc, &|v| style::count(*v))?;

    if s.quarters.is_empty() {
        return style::centred_note(&chart.plotting_area().strip_coord_spec(), "no quarters simulated");
    }
    let mut floor = vec![0.0; n];
    let mut entries = Vec::new();
    for ((colour, label, _), top) in layers.iter().zip(&tops) {
        chart.draw_series(std::iter::once(Polygon::new(
            band(&floor, top),
            colour.mix(style::AREA).filled(),
        )))?;
        chart.draw_series(LineSeries::new(series(top), colour.stroke_width(1)))?;
        entries.push(Entry::new(Swatch::Fill(*colour, style::AREA), label.clone()));
        floor.clone_from(top);
    }
    chart.draw_series(LineSeries::new(
        series(&shortfall),
        style::SHORTFALL.stroke_width(style::LINE_WIDTH),
    ))?;
    // The legend lists the top layer first, as the stack reads.
    entries.reverse();
    entries.push(Entry::new(Swatch::Line(style::SHORTFALL), "inference shortfall"));
    style::legend(&panel, "", &entries)
}
