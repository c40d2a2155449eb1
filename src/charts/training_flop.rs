//! Training compute distribution: histogram over trials of cumulative
//! domestic training FLOP at the horizon, on a log axis labelled in FLOP,
//! the trials with none as a grey bar of their own, and each milestone's
//! target as a labelled vertical line.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::FlopAxis;
use super::style::{self, Entry, Swatch};
use super::{Failure, palette, styled_mesh};
use crate::report::milestone_title;
use crate::results::Summary;

/// File stem.
pub const STEM: &str = "training_flop";
/// Width of a histogram bin, decades (the summary bins by tenths of a decade).
const BIN: f64 = 0.1;
/// Opacity of the bars, so milestone lines in the training colour stay visible.
const BAR_OPACITY: f64 = 0.75;
/// Height of one row of milestone labels, pixels.
const LABEL_ROW: f64 = 20.0;
/// Distance, decades, from the left end of the log scale to the bar of
/// trials with no domestic training compute.
const NONE_GAP: f64 = 0.45;

/// Title of the chart.
pub fn title(s: &Summary) -> String {
    format!(
        "Domestic training compute at the horizon ({} {} with none, {} of them with no training run)",
        style::thousands(s.trials_without_domestic_training_compute),
        unit(s),
        style::thousands(s.trials_without_training)
    )
}

/// What the counts are: trials, or with observations effective trials
/// (docs/MODEL.md section 11).
fn unit(s: &Summary) -> &'static str {
    if s.evidence.is_some() {
        "effective trials"
    } else {
        "trials"
    }
}

/// The run line and what the grey bar counts: trials with no domestic
/// training compute, of which some never started a training run (the
/// others computed on foreign chips only).
pub(super) fn subtitle(s: &Summary) -> String {
    format!(
        "{} · grey bar: {} with no domestic training compute ({} with no training run)",
        super::run_line(s),
        style::thousands(s.trials_without_domestic_training_compute),
        style::thousands(s.trials_without_training)
    )
}

/// The tick label of the bar of trials with no domestic training compute:
/// `no run` when none of them trained at all, else `none`.
fn none_label(s: &Summary) -> &'static str {
    if s.trials_without_training >= s.trials_without_domestic_training_compute {
        "no run"
    } else {
        "none"
    }
}

/// Draws the histogram.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Summary) -> Result<(), Failure> {
    let horizon = s.quarters.last().map_or(String::new(), |q| format!(" ({q})"));
    let subtitle = subtitle(s);
    let (area, panel) = style::frame(
        root,
        &format!("Domestic training compute at the horizon{horizon}"),
        &subtitle,
    )?;

    let bins: Vec<(f64, u64)> = s
        .training_flop_domestic_at_horizon
        .iter()
        .copied()
        .filter(|(x, _)| x.is_finite())
        .collect();
    let targets: Vec<f64> = s
        .milestones
        .iter()
        .map(|m| m.target_flop)
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(f64::log10)
        .collect();
    let lows = bins.iter().map(|b| b.0).chain(targets.iter().copied());
    let highs = bins.iter().map(|b| b.0 + BIN).chain(targets.iter().copied());
    let (x_lo, x_hi) = match (lows.reduce(f64::min), highs.reduce(f64::max)) {
        (Some(lo), Some(hi)) => ((lo * 2.0).floor() / 2.0 - 0.25, (hi * 2.0).ceil() / 2.0 + 0.25),
        _ => (24.0, 27.0),
    };
    // Trials with no domestic compute have no place on a log axis: their
    // bar stands left of it, apart, as wide as a bin.
    let none = s.trials_without_domestic_training_compute;
    let none_at = (none > 0).then_some(x_lo - NONE_GAP);
    let x_lo = none_at.map_or(x_lo, |x| x - 2.0 * BIN);
    let top = bins.iter().map(|b| b.1).chain([none]).max().unwrap_or(0) as f64;
    // Headroom above the bars for one row of labels per milestone.
    let rows = s.milestones.len() as f64;
    let plot_px = f64::from(area.dim_in_pixel().1) - f64::from(style::X_LABEL_AREA + 2 * style::MARGIN);
    let label_share = ((rows * LABEL_ROW + 10.0) / plot_px.max(1.0)).min(0.6);
    let y_max = if top > 0.0 {
        top * 1.04 / (1.0 - label_share)
    } else {
        10.0
    };

    let axis = FlopAxis::new(x_lo, x_hi, none_at.map(|x| (x, none_label(s).to_string())));
    let mut chart = ChartBuilder::on(&area)
        .margin(style::MARGIN)
        .x_label_area_size(style::X_LABEL_AREA)
        .y_label_area_size(style::Y_LABEL_AREA)
        .build_cartesian_2d(axis, 0.0..y_max)?;
    styled_mesh(
        &mut chart.configure_mesh(),
        "domestic training compute at the horizon, FLOP (log scale)",
        unit(s),
    )
    .disable_x_mesh()
    .y_label_formatter(&|v| style::count(*v))
    .draw()?;

    if let Some(x) = none_at {
        let bar = [(x - BIN / 2.0, 0.0), (x + BIN / 2.0, none as f64)];
        chart.draw_series([
            Rectangle::new(bar, style::REFERENCE.mix(BAR_OPACITY).filled()),
            Rectangle::new(bar, style::BACKGROUND.stroke_width(1)),
        ])?;
    }
    chart.draw_series(bins.iter().map(|&(x, c)| {
        Rectangle::new(
            [(x, 0.0), (x + BIN, c as f64)],
            style::TRAINING.mix(BAR_OPACITY).filled(),
        )
    }))?;
    chart.draw_series(
        bins.iter()
            .map(|&(x, c)| Rectangle::new([(x, 0.0), (x + BIN, c as f64)], style::BACKGROUND.stroke_width(1))),
    )?;
    if bins.is_empty() {
        style::centred_note(
            &chart.plotting_area().strip_coord_spec(),
            "no trial trained on domestic chips by the horizon",
        )?;
    }

    let mut entries = vec![Entry::new(
        Swatch::Fill(style::TRAINING, BAR_OPACITY),
        "trials per 0.1 decade",
    )];
    if none > 0 {
        entries.push(Entry::with_detail(
            Swatch::Fill(style::REFERENCE, BAR_OPACITY),
            format!("{}: no domestic compute", none_label(s)),
            format!(
                "{} trials; {} with no run",
                style::thousands(none),
                style::thousands(s.trials_without_training)
            ),
        ));
    }
    let (plot_x, plot_y) = chart.plotting_area().get_pixel_range();
    let (ox, oy) = area.get_base_pixel();
    let columns: Vec<Option<i32>> = s
        .milestones
        .iter()
        .map(|m| {
            (m.target_flop.is_finite() && m.target_flop > 0.0)
                .then(|| chart.backend_coord(&(m.target_flop.log10(), 0.0)).0)
        })
        .collect();
    for (k, m) in s.milestones.iter().enumerate() {
        let colour = palette(k);
        let Some(px) = columns[k] else {
            continue;
        };
        // Targets that share a pixel column draw side by side, each with
        // its own dash pattern.
        let same: Vec<usize> = (0..columns.len()).filter(|&j| columns[j] == Some(px)).collect();
        let turn = same.iter().position(|&j| j == k).unwrap_or(0);
        let px = px + style::side_by_side(turn, same.len());
        style::vertical_pattern(root, px, plot_y.start, plot_y.end, colour, style::dash_pattern(k))?;
        // Labels stack down from the top, one row per milestone; a label that
        // would run off the right edge is set to the left of its line, and
        // one too long for either side is cut to the wider side.
        let py = plot_y.start + 6 + (k as f64 * LABEL_ROW) as i32;
        let label_style = style::text(style::NOTE_SIZE, colour);
        let width = area.estimate_text_size(&m.name, &label_style)?.0 as i32;
        let (right, left) = (plot_x.end - (px + 5), (px - 5) - plot_x.start);
        let (anchor, lx) = if width <= right || (width > left && right >= left) {
            (HPos::Left, px + 5)
        } else {
            (HPos::Right, px - 5)
        };
        let name = if width <= right.max(left) {
            m.name.clone()
        } else {
            style::fit(&area, &m.name, &label_style, right.max(left).max(0) as u32)?
        };
        area.draw_text(&name, &label_style.pos(Pos::new(anchor, VPos::Top)), (lx - ox, py - oy))?;
        entries.push(Entry::with_detail(
            Swatch::Dashed(colour),
            milestone_title(m),
            format!("{} · target {} FLOP", m.name, flop(m.target_flop)),
        ));
    }
    style::legend(&panel, "milestone", &entries)
}

/// A FLOP count with two significant digits, as the axis writes it: `3.3e24`.
fn flop(v: f64) -> String {
    let s = format!("{v:.1e}");
    s.replace(".0e", "e")
}
