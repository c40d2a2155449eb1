//! Milestone curves: for each milestone, the share of trials that have
//! reached its training-compute target by the end of each quarter, with a
//! 95% Clopper–Pearson band, and its deadline as a dashed line.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{band, finite, series};
use super::style::{self, Entry, Swatch};
use super::{Failure, ci95, palette, quarter_index, quarter_plot};
use crate::results::Summary;

/// File stem.
pub const STEM: &str = "milestones";

/// Title of the chart.
pub fn title(_: &Summary) -> String {
    "Probability each training milestone has been reached".to_string()
}

/// Draws the milestone curves.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Summary) -> Result<(), Failure> {
    let subtitle = format!(
        "{} · shaded: 95% Clopper–Pearson interval",
        style::run_line(&s.scenario, s.trials, s.seed)
    );
    let (area, panel) = style::frame(root, &title(s), &subtitle)?;
    let mut chart = quarter_plot(&area, &s.quarters, 1.0, "probability reached", &|v| format!("{v:.1}"))?;
    if s.milestones.is_empty() {
        style::legend(&panel, "", &[])?;
        return style::centred_note(
            &chart.plotting_area().strip_coord_spec(),
            "no milestones in this scenario",
        );
    }
    if s.quarters.is_empty() {
        return style::centred_note(&chart.plotting_area().strip_coord_spec(), "no quarters simulated");
    }

    let n = s.quarters.len();
    let (_, plot_y) = chart.plotting_area().get_pixel_range();
    let deadlines: Vec<Option<usize>> = s.milestones.iter().map(|m| quarter_index(s, &m.deadline)).collect();
    let mut entries = Vec::new();
    for (k, m) in s.milestones.iter().enumerate() {
        let colour = palette(k);
        let p: Vec<f64> = (0..n)
            .map(|q| {
                m.probability_by_quarter
                    .get(q)
                    .map_or(0.0, |&v| finite(v).clamp(0.0, 1.0))
            })
            .collect();
        let (lo, hi): (Vec<f64>, Vec<f64>) = p.iter().map(|&v| ci95(v, s.trials)).unzip();
        chart.draw_series(std::iter::once(Polygon::new(
            band(&lo, &hi),
            colour.mix(style::CI_BAND).filled(),
        )))?;
        chart.draw_series(LineSeries::new(series(&p), colour.stroke_width(style::LINE_WIDTH)))?;
        let detail = match deadlines[k] {
            Some(d) => {
                // Milestones with the same deadline share its line, dash by dash.
                let same: Vec<usize> = (0..deadlines.len()).filter(|&j| deadlines[j] == Some(d)).collect();
                let turn = same.iter().position(|&j| j == k).unwrap_or(0);
                let (x, _) = chart.backend_coord(&(d as f64, 0.0));
                style::vertical_dashes(root, x, plot_y.start, plot_y.end, colour, turn, same.len())?;
                let at = series(&p).get(d).map_or((d as f64, 0.0), |&(x, y)| (x, y));
                chart.draw_series([
                    Circle::new(at, style::MARKER_RADIUS, colour.filled()),
                    Circle::new(at, style::MARKER_RADIUS, style::BACKGROUND.stroke_width(1)),
                ])?;
                format!("{} by {}", style::percent(m.probability), m.deadline)
            }
            None => format!("{} by {} (not shown)", style::percent(m.probability), m.deadline),
        };
        entries.push(Entry::with_detail(Swatch::Line(colour), m.name.clone(), detail));
    }
    entries.push(Entry::new(Swatch::Dashed(style::REFERENCE), "deadline"));
    entries.push(Entry::new(Swatch::Dot(style::REFERENCE), "reached by deadline"));
    entries.push(Entry::new(
        Swatch::Fill(style::REFERENCE, style::CI_BAND * 2.0),
        "95% interval",
    ));
    style::legend(&panel, "milestone", &entries)
}
