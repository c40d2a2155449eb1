//! Deliveries fan: cumulative domestic chips delivered per quarter across
//! trials (median, 25–75% and 5–95% bands) against cumulative chips
//! ordered, counted in unit chips (a chip type counts as its peak FLOP/s is
//! worth); with several domestic chip types, their medians stacked, and the
//! total's median and 5%/95% as lines.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{band, max_of, series};
use super::style::{self, Entry, Swatch};
use super::{Failure, Fan, Unit, chip_median, quarter_plot};
use crate::results::{ChipType, Summary};

/// File stem.
pub const STEM: &str = "deliveries";
/// Metric drawn where the chip types are not known (older summaries).
const METRIC: &str = "delivered_domestic_chips_cumulative";
/// Metric drawn, in unit chips.
const FLOPS_METRIC: &str = "delivered_domestic_peak_flops_cumulative";
/// Opacity of the stacked chip types.
const STACK: f64 = 0.45;

/// Title of the chart.
pub fn title(_: &Summary) -> String {
    "Domestic chips delivered, cumulative, by chip type".to_string()
}

/// `values` scaled by `factor`.
fn scaled(values: &[f64], factor: f64) -> Vec<f64> {
    values.iter().map(|v| super::axis::finite(v * factor)).collect()
}

/// Draws the deliveries fan.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Summary) -> Result<(), Failure> {
    let subtitle = format!(
        "{} · spread across trials at the end of each quarter",
        super::run_line(s)
    );
    let (area, panel) = style::frame(root, &title(s), &subtitle)?;
    // Counted in unit chips (peak FLOP/s ÷ the unit chip's) where the
    // summary knows the chip types, else in chips.
    let unit = Unit::of(s);
    let (fan, ordered, y_desc) = match &unit {
        Some(u) => {
            let f = Fan::of(s, FLOPS_METRIC);
            let k = 1.0 / u.peak_flops;
            let fan = Fan {
                p5: scaled(&f.p5, k),
                p25: scaled(&f.p25, k),
                p50: scaled(&f.p50, k),
                p75: scaled(&f.p75, k),
                p95: scaled(&f.p95, k),
            };
            (fan, scaled(&s.ordered_domestic_peak_flops_cumulative, k), u.axis())
        }
        None => (
            Fan::of(s, METRIC),
            s.ordered_domestic_cumulative.clone(),
            "chips".to_string(),
        ),
    };
    let ordered: Vec<f64> = (0..s.quarters.len())
        .map(|q| ordered.get(q).copied().map_or(0.0, super::axis::finite))
        .collect();
    let domestic: Vec<&ChipType> = s.chip_types.iter().filter(|c| c.domestic).collect();
    // Several domestic types: their medians stacked, in their peak-FLOP/s worth.
    let stacks: Vec<(&ChipType, Vec<f64>)> = match &unit {
        Some(u) if domestic.len() > 1 => {
            let mut below = vec![0.0; s.quarters.len()];
            domestic
                .iter()
                .map(|c| {
                    let m = chip_median(s, c, "delivered_chips_cumulative", u);
                    below.iter_mut().zip(&m).for_each(|(b, v)| *b += v);
                    (*c, below.clone())
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let tops: Vec<f64> = stacks.last().map_or_else(Vec::new, |s| s.1.clone());
    let y_max = max_of(0.0, [fan.p95.as_slice(), ordered.as_slice(), tops.as_slice()]);
    let y_max = if y_max > 0.0 { y_max * 1.06 } else { 1.0 };
    let mut chart = quarter_plot(&area, &s.quarters, y_max, &y_desc, &|v| style::count(*v))?;

    if s.quarters.is_empty() {
        return style::centred_note(&chart.plotting_area().strip_coord_spec(), "no quarters simulated");
    }
    let mut entries = Vec::new();
    let mut below = vec![0.0; s.quarters.len()];
    for (k, (chip, top)) in stacks.iter().enumerate() {
        let colour = style::shade(style::DOMESTIC, k);
        chart.draw_series(std::iter::once(Polygon::new(
            band(&below, top),
            colour.mix(STACK).filled(),
        )))?;
        chart.draw_series(LineSeries::new(series(top), colour.mix(0.8).stroke_width(1)))?;
        entries.push(Entry::new(
            Swatch::Fill(colour, STACK),
            format!("{}, median", chip.name),
        ));
        below.clone_from(top);
    }
    if stacks.is_empty() {
        chart.draw_series(std::iter::once(Polygon::new(
            band(&fan.p5, &fan.p95),
            style::DOMESTIC.mix(style::OUTER_BAND).filled(),
        )))?;
        chart.draw_series(std::iter::once(Polygon::new(
            band(&fan.p25, &fan.p75),
            style::DOMESTIC.mix(style::INNER_BAND).filled(),
        )))?;
        entries.push(Entry::new(Swatch::Line(style::DOMESTIC), "delivered, median"));
        entries.push(Entry::new(
            Swatch::Fill(style::DOMESTIC, style::INNER_BAND),
            "25–75% of trials",
        ));
        entries.push(Entry::new(
            Swatch::Fill(style::DOMESTIC, style::OUTER_BAND),
            "5–95% of trials",
        ));
    } else {
        // Over the stack, the spread of the total as lines.
        for p in [&fan.p5, &fan.p95] {
            chart.draw_series(DashedLineSeries::new(series(p), 2, 3, style::WHISKER.stroke_width(1)))?;
        }
        entries.insert(0, Entry::new(Swatch::Line(style::WHISKER), "all types, median"));
        entries.push(Entry::new(Swatch::Dashed(style::WHISKER), "all types, 5% and 95%"));
    }
    chart.draw_series(DashedLineSeries::new(
        series(&ordered),
        style::DASH,
        style::DASH_GAP,
        style::REFERENCE.stroke_width(style::THIN_WIDTH),
    ))?;
    let median = if stacks.is_empty() {
        style::DOMESTIC
    } else {
        style::WHISKER
    };
    chart.draw_series(LineSeries::new(
        series(&fan.p50),
        median.stroke_width(style::LINE_WIDTH),
    ))?;
    entries.push(Entry::new(Swatch::Dashed(style::REFERENCE), "ordered, cumulative"));
    style::legend(&panel, "", &entries)
}
