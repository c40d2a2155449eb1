//! Comparisons of variants of a scenario against the first (the base):
//! their milestone curves overlaid (colour by milestone, line style by
//! variant), and each variant's difference from the base per milestone
//! with its 95% interval, in percentage points.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{finite, series};
use super::place;
use super::rows::{RowLayout, row_y, separators};
use super::scale::{self, X_LABELS};
use super::style::{self, Entry, Swatch};
use super::{Chart, ChartError, Failure, palette, quarter_plot, render};

/// File stem of the overlaid curves.
pub const CURVES_STEM: &str = "compare_curves";
/// File stem of the differences.
pub const DIFFERENCE_STEM: &str = "compare_difference";
/// Dash and gap, pixels, of the variants after the base (drawn solid).
const PATTERNS: [(u32, u32); 4] = [(9, 5), (2, 4), (16, 5), (5, 3)];
/// Smallest half-width of the differences' axis, as a probability (1 pp).
const MIN_HALF: f64 = 0.01;
/// Height of a row of the variants' legend, pixels.
const VARIANT_ROW: i32 = 24;
/// Length of a line sample in the variants' legend, pixels.
const SAMPLE: i32 = 28;

/// One milestone's curve in one variant.
#[derive(Debug, Clone)]
pub struct CurveMilestone {
    /// The milestone, as the legend names it (milestones of one name share
    /// a colour across variants).
    pub name: String,
    /// Its deadline: an index into the quarters.
    pub deadline: usize,
    /// Probability it has been reached by the end of each quarter (fractions).
    pub probability_by_quarter: Vec<f64>,
}

/// One variant's milestone curves.
#[derive(Debug, Clone)]
pub struct CurveVariant {
    /// The variant, as the legend names it.
    pub name: String,
    /// Its milestones.
    pub milestones: Vec<CurveMilestone>,
}

/// One milestone's difference, variant minus base, with its 95% interval
/// (fractions).
#[derive(Debug, Clone)]
pub struct DifferenceRow {
    /// The milestone.
    pub milestone: String,
    /// The variant compared with the base.
    pub variant: String,
    /// The variant's probability minus the base's.
    pub difference: f64,
    /// Lower end of the 95% interval of the difference.
    pub low: f64,
    /// Upper end of the 95% interval of the difference.
    pub high: f64,
}

/// The overlaid cumulative milestone curves of several variants, the first
/// being the base: quarters on x, probability reached in percent on y, a
/// colour (and marker) per milestone, a line style per variant (solid for
/// the base), and a marker at each milestone's deadline.
pub fn compare_curves(
    title: &str,
    subtitle: &str,
    quarters: &[String],
    variants: &[CurveVariant],
) -> Result<Chart, ChartError> {
    render(
        CURVES_STEM,
        title.to_string(),
        |a| draw_curves(a, title, subtitle, quarters, variants),
        |a| draw_curves(a, title, subtitle, quarters, variants),
    )
}

/// Each variant's difference from the base per milestone, one row per
/// `(milestone, variant)` in the given order: a dot at the difference and
/// a whisker over its 95% interval, in percentage points, around a line at
/// zero, on an axis symmetric about zero.
pub fn compare_difference(title: &str, subtitle: &str, rows: &[DifferenceRow]) -> Result<Chart, ChartError> {
    render(
        DIFFERENCE_STEM,
        title.to_string(),
        |a| draw_difference(a, title, subtitle, rows),
        |a| draw_difference(a, title, subtitle, rows),
    )
}

/// Distinct names in first-seen order.
fn first_seen<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// Draws `points` (pixels, or chart values through `area`) as variant
/// `v`'s line: solid for the base, dashed after its pattern for the others.
fn variant_line<DB: DrawingBackend, X, Y, CT>(
    area: &DrawingArea<DB, CT>,
    points: Vec<(X, Y)>,
    v: usize,
    colour: RGBColor,
) -> Result<(), Failure>
where
    CT: plotters::coord::CoordTranslate<From = (X, Y)>,
    X: Clone + 'static,
    Y: Clone + 'static,
{
    let stroke = colour.stroke_width(style::LINE_WIDTH);
    if v == 0 {
        area.draw(&PathElement::new(points, stroke))?;
    } else {
        let (dash, gap) = PATTERNS[(v - 1) % PATTERNS.len()];
        area.draw(&plotters::element::DashedPathElement::new(points, dash, gap, stroke))?;
    }
    Ok(())
}

fn draw_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    quarters: &[String],
    variants: &[CurveVariant],
) -> Result<(), Failure> {
    let (area, panel) = style::frame(root, title, subtitle)?;
    let chart = quarter_plot(&area, quarters, 1.0, "probability reached, %", &|v| {
        style::percent_tick(*v)
    })?;
    let milestones = first_seen(
        variants
            .iter()
            .flat_map(|v| v.milestones.iter().map(|m| m.name.as_str())),
    );
    let note = if variants.is_empty() {
        Some("no variants to compare")
    } else if quarters.is_empty() {
        Some("no quarters simulated")
    } else if milestones.is_empty() {
        Some("no milestones to compare")
    } else {
        None
    };
    if let Some(note) = note {
        style::centred_note(&chart.plotting_area().strip_coord_spec(), note)?;
    }

    let n = quarters.len();
    if n > 0 {
        // The base last, so its solid lines lie over the variants' dashes.
        for (v, variant) in variants.iter().enumerate().rev() {
            for m in &variant.milestones {
                let k = milestones.iter().position(|&name| name == m.name).unwrap_or(0);
                let p: Vec<f64> = (0..n)
                    .map(|q| {
                        m.probability_by_quarter
                            .get(q)
                            .map_or(0.0, |&v| finite(v).clamp(0.0, 1.0))
                    })
                    .collect();
                variant_line(chart.plotting_area(), series(&p), v, palette(k))?;
            }
        }
        for variant in variants {
            for m in variant.milestones.iter().filter(|m| m.deadline < n) {
                let k = milestones.iter().position(|&name| name == m.name).unwrap_or(0);
                let p = m
                    .probability_by_quarter
                    .get(m.deadline)
                    .map_or(0.0, |&v| finite(v).clamp(0.0, 1.0));
                // As `series` draws a single quarter: a segment about 0.
                let x = if n == 1 { 0.0 } else { m.deadline as f64 };
                style::draw_marker(root, chart.backend_coord(&(x, p)), style::marker(k), palette(k))?;
            }
        }
    }

    // The legend: the variants' line styles on top, then the milestones' colours.
    let block = 2 * VARIANT_ROW + 2 + variants.len() as i32 * VARIANT_ROW;
    let (top, bottom) = panel.split_vertically(block);
    draw_variant_legend(&top, variants)?;
    let mut entries: Vec<Entry> = milestones
        .iter()
        .enumerate()
        .map(|(k, name)| Entry::new(Swatch::LineMarker(palette(k), style::marker(k)), *name))
        .collect();
    if !milestones.is_empty() {
        entries.push(Entry::new(
            Swatch::Marker(style::REFERENCE, style::Marker::Circle),
            "at the milestone's deadline",
        ));
    }
    style::legend(&bottom, "milestone (colour)", &entries)
}

/// The variants' part of the legend: a heading, then a line sample in each
/// variant's style and its name, the base marked as such.
fn draw_variant_legend<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    variants: &[CurveVariant],
) -> Result<(), Failure> {
    if variants.is_empty() {
        return Ok(());
    }
    let (w, _) = panel.dim_in_pixel();
    let x0 = 6;
    let label_x = x0 + SAMPLE + 8;
    let head = style::text(style::LEGEND_SIZE, style::MUTED).pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = style::MARGIN as i32 + 10;
    panel.draw_text("variant (line style)", &head, (x0, y))?;
    y += VARIANT_ROW + 2;
    let text = style::text(style::LEGEND_SIZE, style::TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    let avail = (w as i32 - label_x - style::MARGIN as i32).max(0) as u32;
    for (v, variant) in variants.iter().enumerate() {
        variant_line(panel, vec![(x0, y), (x0 + SAMPLE, y)], v, style::TEXT)?;
        let name = if v == 0 {
            format!("{} (base)", variant.name)
        } else {
            variant.name.clone()
        };
        panel.draw_text(&style::fit(panel, &name, &text, avail)?, &text, (label_x, y))?;
        y += VARIANT_ROW;
    }
    Ok(())
}

/// A difference row that can be drawn: a finite difference, its interval
/// around it.
fn drawable(r: &DifferenceRow) -> Option<(f64, f64, f64)> {
    let d = r.difference;
    if !d.is_finite() {
        return None;
    }
    let or = |v: f64| if v.is_finite() { v } else { d };
    Some((d, or(r.low).min(d), or(r.high).max(d)))
}

fn draw_difference<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    rows: &[DifferenceRow],
) -> Result<(), Failure> {
    let (area, panel) = style::frame(root, title, subtitle)?;
    let n = rows.len();
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("{} · {}", r.milestone, r.variant))
        .collect();
    let layout = RowLayout::new(&area, &names)?;
    let values: Vec<Option<(f64, f64, f64)>> = rows.iter().map(drawable).collect();
    let reach = values
        .iter()
        .flatten()
        .flat_map(|&(d, lo, hi)| [d.abs(), lo.abs(), hi.abs()])
        .fold(0.0, f64::max);
    let half = reach.max(MIN_HALF) * 1.08;
    let decimals = scale::tick_decimals(-half, half, X_LABELS, 100.0);
    let (mut chart, pitch) = layout.plot(
        &area,
        -half..half,
        "difference from the base, percentage points",
        &|v| scale::points(*v, decimals),
    )?;
    if rows.is_empty() {
        return style::centred_note(&chart.plotting_area().strip_coord_spec(), "no differences to show");
    }
    let (plot_x, plot_y) = chart.plotting_area().get_pixel_range();
    let groups: Vec<usize> = (1..n).filter(|&i| rows[i].milestone != rows[i - 1].milestone).collect();
    separators(&chart, n, &groups)?;
    let zero = chart.backend_coord(&(0.0, 0.0)).0;
    root.draw(&PathElement::new(
        vec![(zero, plot_y.start), (zero, plot_y.end)],
        style::TEXT.stroke_width(style::THIN_WIDTH),
    ))?;

    let milestones = first_seen(rows.iter().map(|r| r.milestone.as_str()));
    let font = layout.font.min(style::NOTE_SIZE);
    let whisker = style::WHISKER.stroke_width(1);
    let cap = (pitch * 0.18).min(6.0) / pitch.max(1.0);
    for (i, (r, value)) in rows.iter().zip(&values).enumerate() {
        let y = row_y(i, n);
        let k = milestones.iter().position(|&m| m == r.milestone).unwrap_or(0);
        let Some((d, lo, hi)) = *value else {
            let muted = style::text(font, style::MUTED).pos(Pos::new(HPos::Left, VPos::Center));
            let (x, py) = chart.backend_coord(&(0.0, y));
            root.draw_text("n/a", &muted, (x + 6, py))?;
            continue;
        };
        chart.draw_series([
            PathElement::new(vec![(lo, y), (hi, y)], whisker),
            PathElement::new(vec![(lo, y - cap), (lo, y + cap)], whisker),
            PathElement::new(vec![(hi, y - cap), (hi, y + cap)], whisker),
        ])?;
        let (px, py) = chart.backend_coord(&(d, y));
        style::draw_marker(root, (px, py), style::Marker::Circle, palette(k))?;
        // The value above the dot where rows are tall, else beside the
        // whisker where there is room.
        let digits = scale::tick_decimals(-half, half, X_LABELS, 100.0).max(1);
        let value = format!(
            "{} pp [{}, {}]",
            scale::points(d, digits),
            scale::points(lo, digits),
            scale::points(hi, digits)
        );
        let value_font = style::text(font, style::TEXT);
        let (w, h) = place::size(root, &value, &value_font)?;
        let (left, right) = (chart.backend_coord(&(lo, y)).0, chart.backend_coord(&(hi, y)).0);
        // Left end of the text: above the dot, kept inside the plot; or
        // beside the whisker, on the side away from the zero line first.
        let beside_right = (right + 8 + w <= plot_x.end).then_some(right + 8);
        let beside_left = (left - 8 - w >= plot_x.start).then_some(left - 8 - w);
        let at = if pitch >= f64::from(2 * h + 8) {
            let x = (px - w / 2).clamp(plot_x.start + 2, (plot_x.end - w - 2).max(plot_x.start + 2));
            Some((x, py - h / 2 - 8))
        } else if pitch >= f64::from(h) {
            let side = if hi >= 0.0 {
                beside_right.or(beside_left)
            } else {
                beside_left.or(beside_right)
            };
            side.map(|x| (x, py))
        } else {
            None
        };
        if let Some(at) = at {
            // On a light box, so the zero line or a grid line does not cross it.
            place::boxed_text(root, &value, &value_font, at)?;
        }
    }

    let mut entries: Vec<Entry> = milestones
        .iter()
        .enumerate()
        .map(|(k, m)| Entry::new(Swatch::Marker(palette(k), style::Marker::Circle), *m))
        .collect();
    entries.push(Entry::new(Swatch::Whisker(style::WHISKER), "95% interval"));
    entries.push(Entry::new(Swatch::Line(style::TEXT), "no difference"));
    style::legend(&panel, "milestone", &entries)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_twice, has_text, write_preview};
    use super::*;

    fn quarters(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{}Q{}", 2025 + i / 4, i % 4 + 1)).collect()
    }

    fn curve(name: &str, deadline: usize, n: usize, speed: f64) -> CurveMilestone {
        CurveMilestone {
            name: name.to_string(),
            deadline,
            probability_by_quarter: (0..n)
                .map(|q| (1.0 - (-(q as f64) * speed).exp()).clamp(0.0, 1.0))
                .collect(),
        }
    }

    fn variants(n: usize) -> Vec<CurveVariant> {
        ["default", "tight_controls", "smic_5nm_early"]
            .iter()
            .enumerate()
            .map(|(v, name)| CurveVariant {
                name: name.to_string(),
                milestones: vec![
                    curve("dsv3_class", 6, n, 0.25 - 0.06 * v as f64),
                    curve("gpt4_class", 10, n, 0.12 - 0.03 * v as f64),
                    curve("frontier_1e26", 14, n, 0.05 - 0.015 * v as f64),
                ],
            })
            .collect()
    }

    fn curves(q: &[String], v: &[CurveVariant]) -> Chart {
        check_twice(CURVES_STEM, || compare_curves("Curves", "sub", q, v).unwrap())
    }

    #[test]
    fn curves_show_every_variant_and_milestone() {
        let c = curves(&quarters(16), &variants(16));
        for name in [
            "default (base)",
            "tight_controls",
            "smic_5nm_early",
            "dsv3_class",
            "frontier_1e26",
        ] {
            assert!(has_text(&c.svg, name), "{name}");
        }
        assert!(has_text(&c.svg, "100%") && has_text(&c.svg, "2025Q1"));
    }

    #[test]
    fn odd_curves_still_draw() {
        curves(&[], &[]);
        curves(&quarters(4), &[]);
        curves(&[], &variants(4));
        curves(&quarters(1), &variants(1));
        let mut v = variants(3);
        v[0].milestones[0].deadline = 99;
        v[1].milestones[1].probability_by_quarter = vec![f64::NAN, f64::INFINITY];
        v[2].milestones.clear();
        curves(&quarters(6), &v);
        let many: Vec<CurveVariant> = (0..7)
            .map(|i| CurveVariant {
                name: format!("variant {i}"),
                milestones: vec![curve("m", 2, 8, 0.1 * f64::from(i + 1))],
            })
            .collect();
        curves(&quarters(8), &many);
    }

    fn difference_rows() -> Vec<DifferenceRow> {
        let mut rows = Vec::new();
        for (m, milestone) in ["dsv3_class", "gpt4_class", "frontier_1e26", "llama405b_class"]
            .iter()
            .enumerate()
        {
            for (v, variant) in ["tight_controls", "smic_5nm_early"].iter().enumerate() {
                let d = (m as f64 - 1.5) * 0.04 + v as f64 * 0.03;
                rows.push(DifferenceRow {
                    milestone: milestone.to_string(),
                    variant: variant.to_string(),
                    difference: d,
                    low: d - 0.02,
                    high: d + 0.025,
                });
            }
        }
        rows
    }

    fn differences(rows: &[DifferenceRow]) -> Chart {
        check_twice(DIFFERENCE_STEM, || {
            compare_difference("Differences", "sub", rows).unwrap()
        })
    }

    #[test]
    fn differences_are_in_percentage_points_about_zero() {
        let c = differences(&difference_rows());
        assert!(has_text(&c.svg, "dsv3_class · tight_controls"));
        assert!(has_text(&c.svg, "-6.0 pp [-8.0, -3.5]"), "{}", c.svg);
        assert!(has_text(&c.svg, "0") && has_text(&c.svg, "+5"));
    }

    #[test]
    fn odd_differences_still_draw() {
        differences(&[]);
        let row = |d: f64, lo: f64, hi: f64| DifferenceRow {
            milestone: "m".into(),
            variant: "v".into(),
            difference: d,
            low: lo,
            high: hi,
        };
        differences(&[row(0.0, 0.0, 0.0)]);
        differences(&[
            row(f64::NAN, 0.1, 0.2),
            row(0.1, f64::NAN, f64::INFINITY),
            row(0.5, 0.6, 0.4),
        ]);
        let many: Vec<DifferenceRow> = (0..50).map(|i| row(0.001 * f64::from(i), -0.01, 0.06)).collect();
        differences(&many);
    }

    /// Renders the comparison charts with example data to `preview/` for a
    /// person to look at: `cargo test --lib charts::compare -- --ignored`.
    #[test]
    #[ignore]
    fn write_previews() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("preview");
        write_preview(&dir, "compare_curves", &curves(&quarters(16), &variants(16)));
        write_preview(&dir, "compare_difference", &differences(&difference_rows()));
        let mut sixteen = difference_rows();
        sixteen.extend(difference_rows().into_iter().map(|mut r| {
            r.variant = format!("{} (late)", r.variant);
            r
        }));
        write_preview(&dir, "compare_difference_16", &differences(&sixteen));
        let edge = dir.join("edge");
        write_preview(&edge, "compare_curves_one_quarter", &curves(&quarters(1), &variants(1)));
        write_preview(&edge, "compare_difference_empty", &differences(&[]));
    }
}
