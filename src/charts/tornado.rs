//! Tornado chart of a one-at-a-time sensitivity: one row per input, its bar
//! spanning the probability with the input at its low value (P10) and at
//! its high value (P90), the two halves coloured apart either side of a
//! vertical line at the base probability, each end labelled with its value.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::rows::{RowLayout, row_y, with_room};
use super::scale::{self, X_LABELS};
use super::style::{self, Entry, Swatch};
use super::{Chart, ChartError, Failure, render};

/// File stem.
pub const STEM: &str = "tornado";
/// The half of a bar for the input at its low value.
const LOW: RGBColor = RGBColor(67, 147, 195);
/// The half of a bar for the input at its high value.
const HIGH: RGBColor = RGBColor(214, 96, 77);
/// Share of a row's height a bar takes.
const BAR_SHARE: f64 = 0.62;
/// Thickest bar, pixels.
const MAX_BAR: f64 = 26.0;
/// Gap between a bar's end and its label, pixels.
const LABEL_GAP: i32 = 5;
/// Narrowest span of the axis, as a probability, so bars of tiny swings
/// still show as bars.
const MIN_SPAN: f64 = 0.02;

/// One input's row: the objective's probability with the input at its
/// low and at its high value, the others at their base values (fractions).
#[derive(Debug, Clone)]
pub struct TornadoBar {
    /// The input, as the row names it.
    pub input: String,
    /// What its low value is, written at that end: `P10 = 0.13`.
    pub low_label: String,
    /// What its high value is, written at that end: `P90 = 0.42`.
    pub high_label: String,
    /// The probability with the input at its low value.
    pub p_at_low: f64,
    /// The probability with the input at its high value.
    pub p_at_high: f64,
}

/// The tornado chart: one row per bar in the given order (the first at
/// the top; callers sort by swing, largest first), probabilities in
/// percent, the base probability as a vertical line.
pub fn tornado(title: &str, subtitle: &str, base_probability: f64, bars: &[TornadoBar]) -> Result<Chart, ChartError> {
    render(
        STEM,
        title.to_string(),
        |a| draw(a, title, subtitle, base_probability, bars),
        |a| draw(a, title, subtitle, base_probability, bars),
    )
}

/// Which side of its anchor a label sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

/// An end label: its text, the probability it is set beside, the side.
#[derive(Debug, Clone)]
struct Label {
    text: String,
    at: f64,
    side: Side,
    colour: RGBColor,
}

/// The labels of a bar from `pivot` to `low` and to `high`: each outside
/// its own end; where both ends lie on one side of the pivot, the nearer
/// end's label goes to the other side of the pivot line, so it does not
/// sit on the longer half.
fn end_labels(bar: &TornadoBar, pivot: f64, low: Option<f64>, high: Option<f64>) -> Vec<Label> {
    let label = |text: &str, at: f64, side: Side, colour: RGBColor| Label {
        text: text.to_string(),
        at,
        side,
        colour: darker(colour),
    };
    let side_of = |d: f64| if d < 0.0 { Side::Left } else { Side::Right };
    match (low, high) {
        (None, None) => Vec::new(),
        (Some(l), None) => vec![label(&bar.low_label, l, side_of(l - pivot), LOW)],
        (None, Some(h)) => vec![label(&bar.high_label, h, side_of(h - pivot), HIGH)],
        (Some(l), Some(h)) => {
            let (dl, dh) = (l - pivot, h - pivot);
            if dl == 0.0 && dh == 0.0 {
                return vec![
                    label(&bar.low_label, l, Side::Left, LOW),
                    label(&bar.high_label, h, Side::Right, HIGH),
                ];
            }
            // The farther end's label outside it; the nearer one outside
            // its own end if that is on the other side, else beside the
            // pivot line on the other side.
            let low_far = dl.abs() >= dh.abs();
            let (far, near) = if low_far { (dl, dh) } else { (dh, dl) };
            let far_side = side_of(far);
            let other = if far_side == Side::Left {
                Side::Right
            } else {
                Side::Left
            };
            let near_at = if near != 0.0 && side_of(near) == other {
                pivot + near
            } else {
                pivot
            };
            let (low_at, low_side, high_at, high_side) = if low_far {
                (l, far_side, near_at, other)
            } else {
                (near_at, other, h, far_side)
            };
            vec![
                label(&bar.low_label, low_at, low_side, LOW),
                label(&bar.high_label, high_at, high_side, HIGH),
            ]
        }
    }
}

/// A darker shade of a bar colour, for text beside it.
fn darker(c: RGBColor) -> RGBColor {
    style::shade(c, 1)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    base: f64,
    bars: &[TornadoBar],
) -> Result<(), Failure> {
    let (area, panel) = style::frame(root, title, subtitle)?;
    let n = bars.len();
    let names: Vec<String> = bars.iter().map(|b| b.input.clone()).collect();
    let layout = RowLayout::new(&area, &names)?;

    let ends = |b: &TornadoBar| {
        let p = |v: f64| v.is_finite().then(|| v.clamp(0.0, 1.0));
        (p(b.p_at_low), p(b.p_at_high))
    };
    let base = base.is_finite().then(|| base.clamp(0.0, 1.0));
    let values = bars.iter().flat_map(|b| {
        let (l, h) = ends(b);
        [l, h]
    });
    let data = scale::extent(values.chain([base]).flatten());
    // Without a base, bars split where the data's middle is.
    let pivot = base.unwrap_or_else(|| data.map_or(0.5, |(lo, hi)| (lo + hi) / 2.0));
    let (lo, hi) = data.map_or((0.0, 1.0), |(lo, hi)| {
        let mid = (lo + hi) / 2.0;
        if hi - lo < MIN_SPAN {
            (mid - MIN_SPAN / 2.0, mid + MIN_SPAN / 2.0)
        } else {
            (lo, hi)
        }
    });

    // Labels set at the font of the names (no larger than notes), room
    // for the widest on each side beyond the data.
    let font = layout.font.min(style::NOTE_SIZE);
    let labels: Vec<Vec<Label>> = bars
        .iter()
        .map(|b| {
            let (l, h) = ends(b);
            end_labels(b, pivot, l, h)
        })
        .collect();
    let mut room = (0.0f64, 0.0f64);
    for l in labels.iter().flatten() {
        let w = f64::from(area.estimate_text_size(&l.text, &style::text(font, style::TEXT))?.0 + LABEL_GAP as u32 + 4);
        match l.side {
            Side::Left => room.0 = room.0.max(w),
            Side::Right => room.1 = room.1.max(w),
        }
    }
    let (x_lo, x_hi) = with_room((lo, hi), room.0, room.1, layout.plot_width);
    let decimals = scale::tick_decimals(x_lo, x_hi, X_LABELS, 100.0);
    let (mut chart, pitch) = layout.plot(&area, x_lo..x_hi, "probability reached, %", &|v| {
        scale::percent_tick(*v, decimals)
    })?;
    if bars.is_empty() {
        return style::centred_note(&chart.plotting_area().strip_coord_spec(), "no inputs to show");
    }

    let half = (BAR_SHARE * pitch).min(MAX_BAR) / pitch.max(1.0) / 2.0;
    for (i, b) in bars.iter().enumerate() {
        let y = row_y(i, n);
        let (l, h) = ends(b);
        // The longer half first, so a shorter one on the same side shows over it.
        let mut halves: Vec<(f64, RGBColor)> = [(l, LOW), (h, HIGH)]
            .into_iter()
            .filter_map(|(v, c)| v.map(|v| (v, c)))
            .collect();
        halves.sort_by(|a, b| (b.0 - pivot).abs().total_cmp(&(a.0 - pivot).abs()));
        for (v, colour) in halves {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(pivot, y - half), (v, y + half)],
                colour.filled(),
            )))?;
        }
    }
    let (_, plot_y) = chart.plotting_area().get_pixel_range();
    if let Some(b) = base {
        let x = chart.backend_coord(&(b, 0.0)).0;
        root.draw(&PathElement::new(
            vec![(x, plot_y.start), (x, plot_y.end)],
            style::TEXT.stroke_width(style::THIN_WIDTH),
        ))?;
    }
    // End labels where the rows are tall enough for them.
    if pitch >= font + 1.0 {
        for (i, row) in labels.iter().enumerate() {
            for l in row {
                let (x, y) = chart.backend_coord(&(l.at, row_y(i, n)));
                let (anchor, x) = match l.side {
                    Side::Left => (HPos::Right, x - LABEL_GAP),
                    Side::Right => (HPos::Left, x + LABEL_GAP),
                };
                let text = style::text(font, l.colour).pos(Pos::new(anchor, VPos::Center));
                root.draw_text(&l.text, &text, (x, y))?;
            }
        }
    }

    let base_line = match base {
        Some(b) => Entry::with_detail(Swatch::Line(style::TEXT), "base probability", style::percent(b)),
        None => Entry::with_detail(Swatch::Line(style::BACKGROUND), "base probability", "n/a"),
    };
    let entries = [
        Entry::with_detail(Swatch::Fill(LOW, 1.0), "input at its P10", "others at base"),
        Entry::with_detail(Swatch::Fill(HIGH, 1.0), "input at its P90", "others at base"),
        base_line,
    ];
    style::legend(&panel, "", &entries)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_twice, has_text, write_preview};
    use super::*;

    fn bar(input: &str, low: f64, high: f64) -> TornadoBar {
        TornadoBar {
            input: input.to_string(),
            low_label: format!("P10 = {:.2}", low * 0.3),
            high_label: format!("P90 = {:.2}", high * 0.3),
            p_at_low: low,
            p_at_high: high,
        }
    }

    fn twelve() -> Vec<TornadoBar> {
        let names = [
            "supply.smic_7nm.yield",
            "export_controls.hbm_stock_months",
            "training.utilisation",
            "inference.initial_demand_chips",
            "supply.smic_7nm.wafer_starts_per_month_in_2026_q3_and_after",
            "chip_types.ascend_910c.peak_flops",
            "inference.growth_per_quarter",
            "training.start_quarter",
            "supply.huawei.packaging_capacity",
            "milestones.dsv3_class.target_flop",
            "a",
            "supply.smic_5nm.available_from",
        ];
        names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let swing = 0.3 / (1.0 + i as f64 * 0.5);
                match i {
                    // Both ends above the base, both below, one at the base.
                    3 => bar(name, 0.47, 0.55),
                    5 => bar(name, 0.30, 0.38),
                    7 => bar(name, 0.42, 0.5),
                    _ => bar(name, 0.42 - swing * 0.6, 0.42 + swing * 0.4),
                }
            })
            .collect()
    }

    fn chart(base: f64, bars: &[TornadoBar]) -> Chart {
        check_twice(STEM, || tornado("Tornado", "sub", base, bars).unwrap())
    }

    #[test]
    fn each_input_is_a_row_labelled_at_both_ends() {
        let bars = twelve();
        let c = chart(0.42, &bars);
        assert!(has_text(&c.svg, "training.utilisation"));
        assert!(has_text(&c.svg, &bars[0].low_label) && has_text(&c.svg, &bars[0].high_label));
        assert!(has_text(&c.svg, "42.0%"));
        // The long name is cut to 40% of the page.
        assert!(!c.svg.contains("and_after"));
        assert!(c.svg.contains("supply.smic_7nm.wafer_starts"));
    }

    #[test]
    fn labels_go_outside_the_bars() {
        let b = bar("x", 0.3, 0.6);
        let sides = |l: Option<f64>, h: Option<f64>| {
            end_labels(&b, 0.5, l, h)
                .iter()
                .map(|l| (l.at, l.side))
                .collect::<Vec<_>>()
        };
        assert_eq!(sides(Some(0.3), Some(0.6)), [(0.3, Side::Left), (0.6, Side::Right)]);
        // Both above: the farther end outside, the nearer left of the base line.
        assert_eq!(sides(Some(0.7), Some(0.6)), [(0.7, Side::Right), (0.5, Side::Left)]);
        assert_eq!(sides(Some(0.5), Some(0.6)), [(0.5, Side::Left), (0.6, Side::Right)]);
        assert_eq!(sides(Some(0.5), Some(0.5)), [(0.5, Side::Left), (0.5, Side::Right)]);
        assert_eq!(sides(None, Some(0.2)), [(0.2, Side::Left)]);
    }

    #[test]
    fn odd_inputs_still_draw() {
        chart(0.42, &[]);
        chart(f64::NAN, &[]);
        chart(0.5, &[bar("only", 0.5, 0.5)]);
        chart(1.0, &[bar("at one", 1.0, 1.0), bar("at zero", 0.0, 0.0)]);
        chart(
            f64::NAN,
            &[
                bar("nan", f64::NAN, 0.4),
                bar("inf", f64::INFINITY, f64::NAN),
                bar("", -3.0, 7.0),
            ],
        );
        let many: Vec<TornadoBar> = (0..60).map(|i| bar(&format!("input {i}"), 0.3, 0.6)).collect();
        chart(0.45, &many);
    }

    /// Renders the tornado with example data to `preview/` for a person to
    /// look at: `cargo test --lib charts::tornado -- --ignored`.
    #[test]
    #[ignore]
    fn write_previews() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("preview");
        write_preview(&dir, "tornado", &chart(0.42, &twelve()));
        let near: Vec<TornadoBar> = (0..4)
            .map(|i| bar(&format!("input {i}"), 0.005 * f64::from(i), 0.9 + 0.03 * f64::from(i)))
            .collect();
        write_preview(&dir, "tornado_edges", &chart(0.02, &near));
        let edge = dir.join("edge");
        write_preview(&edge, "tornado_empty", &chart(0.4, &[]));
        let many: Vec<TornadoBar> = (0..30).map(|i| bar(&format!("input {i}"), 0.3, 0.6)).collect();
        write_preview(&edge, "tornado_30", &chart(0.45, &many));
    }
}
