//! Batch comparison: for each milestone, one bar per scenario of the
//! probability of reaching it by its deadline, with 95% Clopper–Pearson
//! error bars.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{LabelAxis, finite};
use super::style::{self, Entry, Swatch};
use super::{Failure, palette, styled_mesh};
use crate::results::MilestoneResult;

/// File stem.
pub const STEM: &str = "comparison";
/// Share of a milestone's slot taken by its bars.
const GROUP_WIDTH: f64 = 0.8;
/// Narrowest bar, pixels, that gets its value written above it.
const MIN_LABELLED_BAR: i32 = 32;
/// Share of a bar's slot left empty between bars.
const BAR_GAP: f64 = 0.12;

/// Title of the chart.
pub fn title(_: &[(String, Vec<MilestoneResult>)]) -> String {
    "Probability of reaching each milestone by its deadline, by scenario".to_string()
}

/// Milestone names over all scenarios, in first-seen order.
fn milestone_names(rows: &[(String, Vec<MilestoneResult>)]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in rows.iter().flat_map(|(_, ms)| ms) {
        if !names.contains(&m.name) {
            names.push(m.name.clone());
        }
    }
    names
}

/// Draws the comparison.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[(String, Vec<MilestoneResult>)],
) -> Result<(), Failure> {
    let subtitle = format!(
        "{} scenario{} · bars: share of trials · error bars: 95% Clopper–Pearson interval",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    let (area, panel) = style::frame(root, &title(rows), &subtitle)?;
    let names = milestone_names(rows);

    // Names are cut to the width of their slot so neighbours never overlap.
    let tick = style::text(style::TICK_SIZE, style::AXIS);
    let plot_px = f64::from(area.dim_in_pixel().0) - f64::from(style::Y_LABEL_AREA + 2 * style::MARGIN);
    let slot = (plot_px / names.len().max(1) as f64 - 6.0).max(0.0) as u32;
    let labels = names
        .iter()
        .map(|n| style::fit(&area, n, &tick, slot))
        .collect::<Result<Vec<_>, _>>()?;

    let mut chart = ChartBuilder::on(&area)
        .margin(style::MARGIN)
        .x_label_area_size(style::X_LABEL_AREA)
        .y_label_area_size(style::Y_LABEL_AREA)
        .build_cartesian_2d(LabelAxis::categories(&labels), 0.0..1.0)?;
    styled_mesh(&mut chart.configure_mesh(), "milestone", "probability by deadline, %")
        .disable_x_mesh()
        .y_label_formatter(&|v| style::percent_tick(*v))
        .draw()?;
    if names.is_empty() {
        style::centred_note(&chart.plotting_area().strip_coord_spec(), "no milestones to compare")?;
    }

    let n = rows.len().max(1) as f64;
    let bar = GROUP_WIDTH / n;
    let mut entries = Vec::new();
    for (j, (scenario, milestones)) in rows.iter().enumerate() {
        let colour = palette(j);
        for (i, name) in names.iter().enumerate() {
            let Some(m) = milestones.iter().find(|m| &m.name == name) else {
                continue;
            };
            let x0 = i as f64 - GROUP_WIDTH / 2.0 + j as f64 * bar + bar * BAR_GAP / 2.0;
            let x1 = x0 + bar * (1.0 - BAR_GAP);
            let p = finite(m.probability).clamp(0.0, 1.0);
            let lo = finite(m.ci95_low).clamp(0.0, p);
            let hi = finite(m.ci95_high).clamp(p, 1.0);
            chart.draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, p)], colour.filled())))?;
            let xc = (x0 + x1) / 2.0;
            let cap = (x1 - x0) * 0.25;
            let whisker = style::WHISKER.stroke_width(1);
            chart.draw_series([
                PathElement::new(vec![(xc, lo), (xc, hi)], whisker),
                PathElement::new(vec![(xc - cap, lo), (xc + cap, lo)], whisker),
                PathElement::new(vec![(xc - cap, hi), (xc + cap, hi)], whisker),
            ])?;
            // The value above the bar, where the bar is wide enough to carry it.
            let width = chart.backend_coord(&(x1, 0.0)).0 - chart.backend_coord(&(x0, 0.0)).0;
            if width >= MIN_LABELLED_BAR {
                let value = style::text(style::NOTE_SIZE, style::TEXT).pos(Pos::new(HPos::Center, VPos::Bottom));
                chart.draw_series(std::iter::once(
                    EmptyElement::at((xc, hi)) + Text::new(style::percent(p), (0, -4), value),
                ))?;
            }
        }
        entries.push(Entry::new(Swatch::Fill(colour, 1.0), scenario.clone()));
    }
    entries.push(Entry::new(Swatch::Whisker(style::WHISKER), "95% interval"));
    style::legend(&panel, "scenario", &entries)
}
