//! Milestone curves: for each milestone, the share of trials that have
//! reached its training-compute target by the end of each quarter, with a
//! 95% Clopper–Pearson band, and its deadline as a vertical line with a
//! dash pattern and a marker of its own, labelled with the milestone's id.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{band, finite, series};
use super::style::{self, Entry, Swatch};
use super::{Failure, ci95, palette, quarter_index, quarter_plot, sample_size};
use crate::report::milestone_title;
use crate::results::Summary;

/// Height of one row of deadline labels, pixels.
const LABEL_ROW: i32 = 16;

/// File stem.
pub const STEM: &str = "milestones";

/// Title of the chart.
pub fn title(_: &Summary) -> String {
    "Probability each training milestone has been reached".to_string()
}

/// Draws the milestone curves.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Summary) -> Result<(), Failure> {
    let subtitle = format!("{} · shaded: 95% Clopper–Pearson interval", super::run_line(s));
    let (area, panel) = style::frame(root, &title(s), &subtitle)?;
    let mut chart = quarter_plot(&area, &s.quarters, 1.0, "probability reached, %", &|v| {
        style::percent_tick(*v)
    })?;
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
    let (plot_x, plot_y) = chart.plotting_area().get_pixel_range();
    let deadlines: Vec<Option<usize>> = s.milestones.iter().map(|m| quarter_index(s, &m.deadline)).collect();
    let mut entries = Vec::new();
    let mut labels = Vec::new();
    for (k, m) in s.milestones.iter().enumerate() {
        let colour = palette(k);
        let p: Vec<f64> = (0..n)
            .map(|q| {
                m.probability_by_quarter
                    .get(q)
                    .map_or(0.0, |&v| finite(v).clamp(0.0, 1.0))
            })
            .collect();
        let (lo, hi): (Vec<f64>, Vec<f64>) = p.iter().map(|&v| ci95(v, sample_size(s))).unzip();
        chart.draw_series(std::iter::once(Polygon::new(
            band(&lo, &hi),
            colour.mix(style::CI_BAND).filled(),
        )))?;
        chart.draw_series(LineSeries::new(series(&p), colour.stroke_width(style::LINE_WIDTH)))?;
        let result = style::probability(m.probability, m.ci95_low, m.ci95_high);
        let detail = match deadlines[k] {
            Some(d) => {
                // Milestones with the same deadline draw their lines side by
                // side, each with its own dash pattern, and their labels stack.
                let same: Vec<usize> = (0..deadlines.len()).filter(|&j| deadlines[j] == Some(d)).collect();
                let turn = same.iter().position(|&j| j == k).unwrap_or(0);
                let (x, _) = chart.backend_coord(&(d as f64, 0.0));
                let x = x + style::side_by_side(turn, same.len());
                style::vertical_pattern(root, x, plot_y.start, plot_y.end, colour, style::dash_pattern(k))?;
                labels.push((k, x, turn));
                let at = series(&p).get(d).map_or((d as f64, 0.0), |&(x, y)| (x, y));
                style::draw_marker(root, chart.backend_coord(&at), style::marker(k), colour)?;
                format!("{result} by {}", m.deadline)
            }
            None => format!("{result} by {} (not shown)", m.deadline),
        };
        entries.push(Entry::with_detail(
            Swatch::LineMarker(colour, style::marker(k)),
            milestone_title(m),
            detail,
        ));
    }
    // Each deadline line is labelled with its milestone's id at the top of
    // the plot, one row per label, so labels never sit on each other (not
    // even those of neighbouring quarters); a label that would leave the
    // plot goes left of its line.
    let note = style::text(style::NOTE_SIZE, style::MUTED);
    for (row, (k, x, _)) in labels.into_iter().enumerate() {
        let colour = palette(k);
        let label_style = style::text(style::NOTE_SIZE, colour);
        let name = &s.milestones[k].name;
        let width = root.estimate_text_size(name, &note)?.0 as i32;
        let y = plot_y.start + 4 + row as i32 * LABEL_ROW;
        let (anchor, lx) = if x + 4 + width <= plot_x.end {
            (HPos::Left, x + 4)
        } else {
            (HPos::Right, x - 4)
        };
        root.draw_text(name, &label_style.pos(Pos::new(anchor, VPos::Top)), (lx, y))?;
    }
    entries.push(Entry::new(
        Swatch::Dashed(style::REFERENCE),
        "deadline (one dash pattern each)",
    ));
    entries.push(Entry::new(
        Swatch::Marker(style::REFERENCE, style::Marker::Circle),
        "reached by deadline",
    ));
    entries.push(Entry::new(
        Swatch::Fill(style::REFERENCE, style::CI_BAND * 2.0),
        "95% interval",
    ));
    style::legend(&panel, "milestone", &entries)
}
