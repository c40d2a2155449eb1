//! Sobol sensitivity indices: per input, its first-order index (the share
//! of the output's variance it explains alone) and its total index (with
//! its interactions) as two bars side by side, each with its 95% interval;
//! an index not estimated reads "n/a".

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::rows::{RowLayout, row_y};
use super::scale::{self, X_LABELS};
use super::style::{self, Entry, Swatch};
use super::{Chart, ChartError, Failure, render};

/// File stem.
pub const STEM: &str = "sensitivity";
/// First-order index bars.
const FIRST: RGBColor = style::PALETTE[0];
/// Total index bars.
const TOTAL: RGBColor = style::PALETTE[1];
/// Share of a row's height each of its two bars takes.
const BAR_SHARE: f64 = 0.34;
/// Thickest bar, pixels.
const MAX_BAR: f64 = 16.0;
/// Gap between a whisker's end and the value written beside it, pixels.
const LABEL_GAP: i32 = 5;

/// One input's Sobol indices, each `(estimate, low, high)` with its 95%
/// interval, or `None` where not estimated.
#[derive(Debug, Clone)]
pub struct SobolBar {
    /// The input, as the row names it.
    pub input: String,
    /// First-order index: the share of variance the input explains alone.
    pub first_order: Option<(f64, f64, f64)>,
    /// Total index: its share with all its interactions.
    pub total: Option<(f64, f64, f64)>,
}

/// The Sobol indices chart: one row per input in the given order (the
/// first at the top), first-order and total index side by side with
/// their 95% intervals, on an axis from `min(0, lowest low)` to
/// `max(1, highest high)`.
pub fn sobol_bars(title: &str, subtitle: &str, rows: &[SobolBar]) -> Result<Chart, ChartError> {
    render(
        STEM,
        title.to_string(),
        |a| draw(a, title, subtitle, rows),
        |a| draw(a, title, subtitle, rows),
    )
}

/// An index that can be drawn: a finite estimate, and an interval around
/// it (the estimate itself where the interval is not finite).
fn drawable(index: Option<(f64, f64, f64)>) -> Option<(f64, f64, f64)> {
    let (e, lo, hi) = index?;
    if !e.is_finite() {
        return None;
    }
    let or = |v: f64| if v.is_finite() { v } else { e };
    Some((e, or(lo).min(e), or(hi).max(e)))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    rows: &[SobolBar],
) -> Result<(), Failure> {
    let (area, panel) = style::frame(root, title, subtitle)?;
    let n = rows.len();
    let names: Vec<String> = rows.iter().map(|r| r.input.clone()).collect();
    let layout = RowLayout::new(&area, &names)?;
    let indices: Vec<[Option<(f64, f64, f64)>; 2]> = rows
        .iter()
        .map(|r| [drawable(r.first_order), drawable(r.total)])
        .collect();
    let ends = indices.iter().flatten().flatten().flat_map(|&(e, lo, hi)| [e, lo, hi]);
    let (lo, hi) = scale::extent(ends).map_or((0.0, 1.0), |(lo, hi)| (lo.min(0.0), hi.max(1.0)));
    let decimals = scale::tick_decimals(lo, hi, X_LABELS, 1.0);
    let (mut chart, pitch) = layout.plot(&area, lo..hi, "Sobol index (share of output variance)", &|v| {
        scale::number(*v, decimals)
    })?;
    if rows.is_empty() {
        return style::centred_note(&chart.plotting_area().strip_coord_spec(), "no inputs to show");
    }
    let (plot_x, plot_y) = chart.plotting_area().get_pixel_range();
    if lo < 0.0 {
        let x = chart.backend_coord(&(0.0, 0.0)).0;
        root.draw(&PathElement::new(
            vec![(x, plot_y.start), (x, plot_y.end)],
            style::AXIS.stroke_width(1),
        ))?;
    }

    let thick = (BAR_SHARE * pitch).min(MAX_BAR) / pitch.max(1.0);
    let font = layout.font.min(style::NOTE_SIZE);
    // Values and "n/a" are written where a bar is tall enough for them.
    let write = thick * pitch >= font - 2.0;
    let whisker = style::WHISKER.stroke_width(1);
    for (i, pair) in indices.iter().enumerate() {
        let y = row_y(i, n);
        for (j, (index, colour)) in pair.iter().zip([FIRST, TOTAL]).enumerate() {
            // First-order above, total below the row's centre.
            let offset = (thick + 0.04) / 2.0;
            let yc = if j == 0 { y + offset } else { y - offset };
            let Some((e, low, high)) = *index else {
                if write {
                    let (x, py) = chart.backend_coord(&(0.0, yc));
                    let muted = style::text(font, style::MUTED).pos(Pos::new(HPos::Left, VPos::Center));
                    root.draw_text("n/a", &muted, (x + LABEL_GAP, py))?;
                }
                continue;
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, yc - thick / 2.0), (e, yc + thick / 2.0)],
                colour.filled(),
            )))?;
            let cap = thick * 0.3;
            chart.draw_series([
                PathElement::new(vec![(low, yc), (high, yc)], whisker),
                PathElement::new(vec![(low, yc - cap), (low, yc + cap)], whisker),
                PathElement::new(vec![(high, yc - cap), (high, yc + cap)], whisker),
            ])?;
            if !write {
                continue;
            }
            // The estimate right of the whisker, or inside the bar in white
            // where the plot ends first.
            let value = format!("{e:.2}");
            let (w, _) = root.estimate_text_size(&value, &style::text(font, style::TEXT))?;
            let (right, py) = chart.backend_coord(&(high.max(e).max(0.0), yc));
            if right + LABEL_GAP + w as i32 <= plot_x.end {
                let text = style::text(font, style::TEXT).pos(Pos::new(HPos::Left, VPos::Center));
                root.draw_text(&value, &text, (right + LABEL_GAP, py))?;
            } else {
                let inner = chart.backend_coord(&(low.min(e), yc)).0 - LABEL_GAP;
                let start = chart.backend_coord(&(0.0, yc)).0;
                if inner - w as i32 - LABEL_GAP >= start {
                    let text = style::text(font, style::BACKGROUND).pos(Pos::new(HPos::Right, VPos::Center));
                    root.draw_text(&value, &text, (inner, py))?;
                }
            }
        }
    }

    let entries = [
        Entry::with_detail(Swatch::Fill(FIRST, 1.0), "first-order index", "the input alone"),
        Entry::with_detail(Swatch::Fill(TOTAL, 1.0), "total index", "with its interactions"),
        Entry::new(Swatch::Whisker(style::WHISKER), "95% interval"),
    ];
    style::legend(&panel, "", &entries)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_twice, has_text, write_preview};
    use super::*;

    fn row(input: &str, first: f64, total: f64) -> SobolBar {
        SobolBar {
            input: input.to_string(),
            first_order: Some((first, first - 0.04, first + 0.05)),
            total: Some((total, total - 0.05, total + 0.06)),
        }
    }

    fn example() -> Vec<SobolBar> {
        let mut rows = vec![
            row("supply.smic_7nm.yield", 0.41, 0.52),
            row("export_controls.hbm_stock_months", 0.22, 0.31),
            row("training.utilisation", 0.11, 0.14),
            row("inference.growth_per_quarter", 0.05, 0.09),
            row("chip_types.ascend_910c.peak_flops", 0.01, 0.03),
            row("supply.huawei.packaging_capacity", -0.01, 0.02),
        ];
        rows.push(SobolBar {
            input: "training.start_quarter".into(),
            first_order: None,
            total: Some((0.02, 0.0, 0.05)),
        });
        rows.push(SobolBar {
            input: "milestones.dsv3_class.target_flop".into(),
            first_order: Some((0.93, 0.88, 1.0)),
            total: None,
        });
        rows
    }

    fn chart(rows: &[SobolBar]) -> Chart {
        check_twice(STEM, || sobol_bars("Sobol", "sub", rows).unwrap())
    }

    #[test]
    fn both_indices_show_per_input() {
        let c = chart(&example());
        assert!(has_text(&c.svg, "supply.smic_7nm.yield"));
        assert!(has_text(&c.svg, "0.41") && has_text(&c.svg, "0.52"));
        assert!(has_text(&c.svg, "n/a"));
        assert!(has_text(&c.svg, "first-order index") && has_text(&c.svg, "total index"));
    }

    #[test]
    fn odd_inputs_still_draw() {
        chart(&[]);
        chart(&[row("one", 0.5, 0.5)]);
        chart(&[SobolBar {
            input: "none".into(),
            first_order: None,
            total: None,
        }]);
        chart(&[
            SobolBar {
                input: "nan".into(),
                first_order: Some((f64::NAN, 0.0, 1.0)),
                total: Some((0.3, f64::NAN, f64::INFINITY)),
            },
            row("wide", -0.4, 1.6),
            row("equal", 0.0, 0.0),
        ]);
        let many: Vec<SobolBar> = (0..40).map(|i| row(&format!("input {i}"), 0.2, 0.3)).collect();
        chart(&many);
    }

    /// Renders the chart with example data to `preview/` for a person to
    /// look at: `cargo test --lib charts::sobol -- --ignored`.
    #[test]
    #[ignore]
    fn write_previews() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("preview");
        write_preview(&dir, "sensitivity", &chart(&example()));
        let twelve: Vec<SobolBar> = (0..12)
            .map(|i| {
                row(
                    &format!("input number {i}"),
                    0.3 / f64::from(i + 1),
                    0.4 / f64::from(i + 1),
                )
            })
            .collect();
        write_preview(&dir, "sensitivity_12", &chart(&twelve));
    }
}
