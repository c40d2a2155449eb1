//! Deliveries fan: cumulative domestic chips delivered per quarter across
//! trials (median, 25–75% and 5–95% bands) against cumulative chips ordered.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{band, max_of, series};
use super::style::{self, Entry, Swatch};
use super::{Failure, Fan, quarter_plot};
use crate::results::Summary;

/// File stem.
pub const STEM: &str = "deliveries";
/// Metric drawn.
const METRIC: &str = "delivered_domestic_chips_cumulative";

/// Title of the chart.
pub fn title(_: &Summary) -> String {
    "Domestic chips delivered, cumulative".to_string()
}

/// Draws the deliveries fan.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Summary) -> Result<(), Failure> {
    let subtitle = format!(
        "{} · spread across trials at the end of each quarter",
        style::run_line(&s.scenario, s.trials, s.seed)
    );
    let (area, panel) = style::frame(root, &title(s), &subtitle)?;
    let fan = Fan::of(s, METRIC);
    let ordered: Vec<f64> = (0..s.quarters.len())
        .map(|q| {
            s.ordered_domestic_cumulative
                .get(q)
                .copied()
                .map_or(0.0, super::axis::finite)
        })
        .collect();
    let y_max = max_of(0.0, [fan.p95.as_slice(), ordered.as_slice()]);
    let y_max = if y_max > 0.0 { y_max * 1.06 } else { 1.0 };
    let mut chart = quarter_plot(&area, &s.quarters, y_max, "chips", &|v| style::count(*v))?;

    if s.quarters.is_empty() {
        return style::centred_note(&chart.plotting_area().strip_coord_spec(), "no quarters simulated");
    }
    chart.draw_series(std::iter::once(Polygon::new(
        band(&fan.p5, &fan.p95),
        style::DOMESTIC.mix(style::OUTER_BAND).filled(),
    )))?;
    chart.draw_series(std::iter::once(Polygon::new(
        band(&fan.p25, &fan.p75),
        style::DOMESTIC.mix(style::INNER_BAND).filled(),
    )))?;
    chart.draw_series(DashedLineSeries::new(
        series(&ordered),
        style::DASH,
        style::DASH_GAP,
        style::REFERENCE.stroke_width(style::THIN_WIDTH),
    ))?;
    chart.draw_series(LineSeries::new(
        series(&fan.p50),
        style::DOMESTIC.stroke_width(style::LINE_WIDTH),
    ))?;

    style::legend(
        &panel,
        "",
        &[
            Entry::new(Swatch::Line(style::DOMESTIC), "delivered, median"),
            Entry::new(Swatch::Fill(style::DOMESTIC, style::INNER_BAND), "25–75% of trials"),
            Entry::new(Swatch::Fill(style::DOMESTIC, style::OUTER_BAND), "5–95% of trials"),
            Entry::new(Swatch::Dashed(style::REFERENCE), "ordered, cumulative"),
        ],
    )
}
