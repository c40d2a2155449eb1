//! Supply (only with `[suppliers]`): each supplier's median output per
//! quarter, stacked by generation, with the 90% band of its total output.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{band, max_of, series};
use super::style::{self, Entry, Swatch};
use super::{Failure, Fan, quarter_plot};
use crate::results::Summary;

/// File stem.
pub const STEM: &str = "supply";

/// Title of the chart.
pub fn title(_: &Summary) -> String {
    "Supplier output by generation (medians), and the total's 90% band".to_string()
}

/// The generations of the run, in output order, from the quarterly rows
/// `generation_output_chips[<chip>]` of its first quarter.
fn generations(s: &Summary) -> Vec<String> {
    let first = s.quarters.first();
    s.quarterly
        .iter()
        .filter(|r| Some(&r.quarter) == first)
        .filter_map(|r| r.metric.strip_prefix("generation_output_chips[")?.strip_suffix(']'))
        .map(str::to_string)
        .collect()
}

/// Subtitle of the chart.
pub fn subtitle(s: &Summary) -> String {
    format!(
        "{} · medians by generation, stacked; dashed: P5, P95 of the total",
        super::run_line(s)
    )
}

/// Draws the supply chart.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Summary) -> Result<(), Failure> {
    let (area, panel) = style::frame(root, &title(s), &subtitle(s))?;
    let n = s.quarters.len();
    let layers: Vec<(String, Vec<f64>)> = generations(s)
        .into_iter()
        .map(|g| {
            let p50 = Fan::of(s, &format!("generation_output_chips[{g}]")).p50;
            (g, p50)
        })
        .collect();
    let totals: Vec<(String, Fan)> = s
        .suppliers
        .iter()
        .map(|sup| {
            (
                sup.name.clone(),
                Fan::of(s, &format!("supplier_output_chips[{}]", sup.name)),
            )
        })
        .collect();
    let mut tops: Vec<Vec<f64>> = Vec::new();
    let mut below = vec![0.0; n];
    for (_, values) in &layers {
        below.iter_mut().zip(values).for_each(|(b, v)| *b += v);
        tops.push(below.clone());
    }
    let y_max = max_of(
        0.0,
        std::iter::once(below.as_slice()).chain(totals.iter().map(|(_, f)| f.p95.as_slice())),
    );
    let y_max = if y_max > 0.0 { y_max * 1.06 } else { 1.0 };
    let mut chart = quarter_plot(&area, &s.quarters, y_max, "chips a quarter", &|v| style::count(*v))?;
    if s.quarters.is_empty() {
        return style::centred_note(&chart.plotting_area().strip_coord_spec(), "no quarters simulated");
    }
    let mut floor = vec![0.0; n];
    let mut entries = Vec::new();
    for (k, ((label, _), top)) in layers.iter().zip(&tops).enumerate() {
        // Distinct hues first, then their shades.
        let hues = [
            style::DOMESTIC,
            style::TRAINING,
            style::INFERENCE,
            style::SHORTFALL,
            style::REFERENCE,
        ];
        let colour = style::shade(hues[k % hues.len()], k / hues.len());
        chart.draw_series(std::iter::once(Polygon::new(
            band(&floor, top),
            colour.mix(style::AREA).filled(),
        )))?;
        chart.draw_series(LineSeries::new(series(top), colour.stroke_width(1)))?;
        entries.push(Entry::new(Swatch::Fill(colour, style::AREA), label.clone()));
        floor.clone_from(top);
    }
    entries.reverse();
    for (k, (name, fan)) in totals.iter().enumerate() {
        let colour = style::shade(style::REFERENCE, k);
        for values in [&fan.p5, &fan.p95] {
            chart.draw_series(DashedLineSeries::new(
                series(values),
                6,
                4,
                colour.stroke_width(style::LINE_WIDTH),
            ))?;
        }
        entries.push(Entry::new(Swatch::Line(colour), format!("{name}: total P5, P95")));
    }
    style::legend(&panel, "", &entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::trials::run_trials;

    /// Two generations, the newer taking over in 2025Q3.
    const SCENARIO: &str = r#"
[scenario]
name = "supply_chart"
start = "2025Q1"
horizon_quarters = 6

[chips.old]
peak_flops = 1e14

[chips.new]
peak_flops = 3e14

[suppliers.maker]
wafer_starts_per_quarter = { p5 = 500, p95 = 1500 }
packaging_per_quarter = 20000

[suppliers.maker.generations.old]
available = "2024Q1"
dies_per_wafer = 20
yield_initial = 0.5

[suppliers.maker.generations.new]
available = "2025Q3"
dies_per_wafer = 10
yield_initial = 0.4

[suppliers.maker.tiers.all]

[training]
mfu = 0.4

[milestones.m]
target_flop = 1e24
deadline = "2026Q2"
"#;

    #[test]
    fn drawn_with_suppliers_only_with_each_generation_in_the_legend() {
        let model = Model::from_text(SCENARIO, "s.toml").unwrap();
        let agg = run_trials(&model, 3, 0..200, Some(1)).unwrap();
        let summary = crate::results::Summary::new(&model, &agg, 3, "h");
        assert_eq!(generations(&summary), ["old", "new"]);
        let charts = crate::charts::render_all(&summary).unwrap();
        let chart = charts.iter().find(|c| c.stem == STEM).expect("a supply chart");
        for text in ["old", "new", "maker: total P5, P95"] {
            assert!(chart.svg.contains(&format!(">\n{text}\n</text>")), "{text}");
        }
        crate::charts::testing::assert_subtitle_fits(&subtitle(&summary));
        // Also for a long scenario name and a large run.
        let mut long = summary.clone();
        long.scenario = "domestic_hbm_early_variant".to_string();
        long.trials = 10_000_000;
        crate::charts::testing::assert_subtitle_fits(&subtitle(&long));
        let plain = crate::charts::testing::default_without_evidence();
        let model = Model::from_text(plain, "d.toml").unwrap();
        let agg = run_trials(&model, 3, 0..50, Some(1)).unwrap();
        let summary = crate::results::Summary::new(&model, &agg, 3, "h");
        assert!(
            crate::charts::render_all(&summary)
                .unwrap()
                .iter()
                .all(|c| c.stem != STEM)
        );
    }
}
