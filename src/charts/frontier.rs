//! The trade-off an optimisation searched: each candidate strategy as a
//! point, its risk of an inference shortfall across, its chance of the
//! objective milestone up (with a 95% interval); feasible strategies
//! filled, infeasible ones grey, the Pareto frontier joined by a line, the
//! best strategy highlighted and labelled, and the shortfall limit as a
//! dashed line.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::place::{self, PixelBox};
use super::scale::{self, X_LABELS, Y_LABELS};
use super::style::{self, Entry, Marker, Swatch};
use super::{Chart, ChartError, Failure, render, styled_mesh};

/// File stem.
pub const STEM: &str = "frontier";
/// Feasible strategies and the frontier's line.
const FEASIBLE: RGBColor = style::DOMESTIC;
/// Strategies over the shortfall limit.
const INFEASIBLE: RGBColor = RGBColor(185, 185, 185);
/// The best strategy.
const BEST: RGBColor = style::TRAINING;
/// Opacity of the shade over the shortfalls past the limit.
const OVER_LIMIT: f64 = 0.06;
/// Gap between a point and its label, pixels.
const LABEL_GAP: i32 = 8;

/// One candidate strategy (probabilities as fractions).
#[derive(Debug, Clone)]
pub struct FrontierPoint {
    /// The strategy, as its label reads.
    pub label: String,
    /// Probability of an inference shortfall.
    pub shortfall_probability: f64,
    /// Probability of reaching the objective milestone.
    pub probability: f64,
    /// Lower end of the 95% interval of `probability`.
    pub low: f64,
    /// Upper end of the 95% interval of `probability`.
    pub high: f64,
    /// Whether it keeps within the shortfall limit.
    pub feasible: bool,
    /// Whether it is the strategy chosen.
    pub best: bool,
    /// Whether it lies on the Pareto frontier.
    pub on_frontier: bool,
}

/// The frontier chart: probability of an inference shortfall (x) against
/// the probability of reaching `objective` (y), both in percent, with the
/// shortfall limit `max_shortfall` as a dashed line where one is set.
pub fn frontier(
    title: &str,
    subtitle: &str,
    objective: &str,
    max_shortfall: Option<f64>,
    points: &[FrontierPoint],
) -> Result<Chart, ChartError> {
    render(
        STEM,
        title.to_string(),
        |a| draw(a, title, subtitle, objective, max_shortfall, points),
        |a| draw(a, title, subtitle, objective, max_shortfall, points),
    )
}

/// A point as drawn: shortfall probability, objective probability and
/// its interval's ends.
type Drawn = (f64, f64, f64, f64);

/// A point that can be drawn: both probabilities finite, kept to 0–1, the
/// interval around the probability.
fn drawable(p: &FrontierPoint) -> Option<Drawn> {
    if !(p.shortfall_probability.is_finite() && p.probability.is_finite()) {
        return None;
    }
    let y = scale::probability(p.probability);
    let or = |v: f64| if v.is_finite() { scale::probability(v) } else { y };
    Some((
        scale::probability(p.shortfall_probability),
        y,
        or(p.low).min(y),
        or(p.high).max(y),
    ))
}

/// An axis range about probabilities from `lo` to `hi`: padded, kept
/// within 0–100% but for a sliver past an end that data sit on, so their
/// markers stay off the axis line.
fn probability_range(extent: Option<(f64, f64)>) -> (f64, f64) {
    let Some((lo, hi)) = extent else {
        return (0.0, 1.0);
    };
    let (a, b) = scale::padded((lo, hi), 0.08, 0.02);
    let sliver = (b - a) * 0.03;
    let a = if a >= 0.0 {
        a
    } else if lo > 0.0 {
        0.0
    } else {
        -sliver
    };
    let b = if b <= 1.0 {
        b
    } else if hi < 1.0 {
        1.0
    } else {
        1.0 + sliver
    };
    (a, b)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    objective: &str,
    max_shortfall: Option<f64>,
    points: &[FrontierPoint],
) -> Result<(), Failure> {
    let (area, panel) = style::frame(root, title, subtitle)?;
    let shown: Vec<(&FrontierPoint, Drawn)> = points.iter().filter_map(|p| drawable(p).map(|d| (p, d))).collect();
    let limit = max_shortfall.filter(|l| l.is_finite()).map(|l| l.clamp(0.0, 1.0));
    let xs = shown.iter().map(|(_, d)| d.0).chain(limit);
    let (x_lo, x_hi) = probability_range(scale::extent(xs));
    let ys = shown.iter().flat_map(|(_, d)| [d.2, d.3]);
    let (y_lo, y_hi) = probability_range(scale::extent(ys));
    let x_decimals = scale::tick_decimals(x_lo, x_hi, X_LABELS, 100.0);
    let y_decimals = scale::tick_decimals(y_lo, y_hi, Y_LABELS, 100.0);

    // The y description names the objective, cut to the plot's height.
    let desc = style::text(style::AXIS_DESC_SIZE, style::TEXT);
    let plot_h = area
        .dim_in_pixel()
        .1
        .saturating_sub(2 * style::MARGIN + style::X_LABEL_AREA + 10);
    let y_desc = style::fit(&area, &format!("P({objective} reached), %"), &desc, plot_h)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(style::MARGIN)
        .x_label_area_size(style::X_LABEL_AREA)
        .y_label_area_size(style::Y_LABEL_AREA)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    styled_mesh(&mut chart.configure_mesh(), "P(inference shortfall), %", &y_desc)
        .x_labels(X_LABELS)
        .x_label_formatter(&|v| scale::percent_tick(*v, x_decimals))
        .y_label_formatter(&|v| scale::percent_tick(*v, y_decimals))
        .draw()?;
    let (plot_x, plot_y) = chart.plotting_area().get_pixel_range();

    // The shortfall limit: the strategies past it shaded, a dashed line at it.
    let mut placed: Vec<PixelBox> = Vec::new();
    if let Some(l) = limit {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(l, y_lo), (x_hi, y_hi)],
            style::SHORTFALL.mix(OVER_LIMIT).filled(),
        )))?;
        let x = chart.backend_coord(&(l, y_lo)).0;
        style::vertical_pattern(
            root,
            x,
            plot_y.start,
            plot_y.end,
            style::SHORTFALL,
            (style::DASH, style::DASH_GAP),
        )?;
        let note = style::text(style::NOTE_SIZE, style::SHORTFALL);
        let text = "shortfall limit";
        let (w, h) = place::size(root, text, &note)?;
        // Right of the line, or left of it where the plot ends first.
        let left = if x + 4 + w <= plot_x.end { x + 4 } else { x - 4 - w };
        placed.push(place::boxed_text(root, text, &note, (left, plot_y.start + 4 + h / 2))?);
    }

    if shown.is_empty() {
        style::centred_note(&chart.plotting_area().strip_coord_spec(), "no strategies to show")?;
    }

    // The frontier's line, in order of shortfall.
    let mut front: Vec<(f64, f64)> = shown
        .iter()
        .filter(|(p, _)| p.on_frontier)
        .map(|(_, d)| (d.0, d.1))
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    if front.len() > 1 {
        chart.draw_series(LineSeries::new(front, FEASIBLE.stroke_width(style::THIN_WIDTH)))?;
    }

    // Whiskers, then points: infeasible under feasible, the best on top.
    let mut order: Vec<usize> = (0..shown.len()).collect();
    order.sort_by_key(|&i| (shown[i].0.best, shown[i].0.feasible));
    for &i in &order {
        let (p, (x, _, lo, hi)) = shown[i];
        let colour = if p.feasible { style::WHISKER } else { INFEASIBLE };
        let (px, top) = chart.backend_coord(&(x, hi));
        let (_, bottom) = chart.backend_coord(&(x, lo));
        let w = colour.stroke_width(1);
        root.draw(&PathElement::new(vec![(px, top), (px, bottom)], w))?;
        root.draw(&PathElement::new(vec![(px - 4, top), (px + 4, top)], w))?;
        root.draw(&PathElement::new(vec![(px - 4, bottom), (px + 4, bottom)], w))?;
    }
    for &i in &order {
        let (p, (x, y, _, _)) = shown[i];
        let at = chart.backend_coord(&(x, y));
        let (marker, colour) = match (p.best, p.feasible) {
            (true, _) => (Marker::Diamond, BEST),
            (false, true) => (Marker::Circle, FEASIBLE),
            (false, false) => (Marker::Circle, INFEASIBLE),
        };
        if p.best {
            root.draw(&Circle::new(at, 10, BEST.stroke_width(style::THIN_WIDTH)))?;
        }
        style::draw_marker(root, at, marker, colour)?;
        placed.push((at.0 - 6, at.1 - 6, at.0 + 6, at.1 + 6));
    }

    // Labels: the best's first, then those of the frontier's points, each
    // beside its point where it overlaps nothing placed before.
    let mut labelled: Vec<usize> = order.iter().rev().copied().filter(|&i| shown[i].0.best).collect();
    labelled.extend(
        order
            .iter()
            .copied()
            .filter(|&i| !shown[i].0.best && shown[i].0.on_frontier),
    );
    for i in labelled {
        let (p, (x, y, _, _)) = shown[i];
        let (text, colour, size) = if p.best {
            (
                format!("best: {} · {}", p.label, style::percent(y)),
                BEST,
                style::LEGEND_SIZE,
            )
        } else {
            (p.label.clone(), style::MUTED, style::NOTE_SIZE)
        };
        let colour = if p.best { style::shade(colour, 1) } else { colour };
        let font = style::text(size, colour);
        let (w, h) = place::size(root, &text, &font)?;
        let (cx, cy) = chart.backend_coord(&(x, y));
        // Right, left, above, below the point (left end, middle).
        let spots = [
            (cx + LABEL_GAP + 4, cy),
            (cx - LABEL_GAP - 4 - w, cy),
            (cx - w / 2, cy - LABEL_GAP - 6 - h / 2),
            (cx - w / 2, cy + LABEL_GAP + 6 + h / 2),
        ];
        let spot = spots.into_iter().find(|&at| {
            let b = place::text_box((w, h), at);
            place::inside(b, &plot_x, &plot_y) && placed.iter().all(|&q| !place::overlaps(q, b, 0))
        });
        // The best's label always shows: right of its point, over what
        // is there, moved into the plot where it would leave it.
        let spot = spot.or_else(|| {
            p.best.then(|| {
                let right = (plot_x.end - w - 4).max(plot_x.start + 4);
                ((cx + LABEL_GAP + 4).min(right), cy)
            })
        });
        if let Some(at) = spot {
            placed.push(place::boxed_text(root, &text, &font, at)?);
        }
    }

    let mut entries = vec![
        Entry::new(Swatch::Marker(FEASIBLE, Marker::Circle), "feasible"),
        Entry::new(Swatch::Marker(INFEASIBLE, Marker::Circle), "infeasible"),
        Entry::new(Swatch::Line(FEASIBLE), "Pareto frontier"),
    ];
    if let Some((p, (_, y, lo, hi))) = shown.iter().find(|(p, _)| p.best) {
        entries.push(Entry::with_detail(
            Swatch::Marker(BEST, Marker::Diamond),
            format!("best: {}", p.label),
            style::probability(*y, *lo, *hi),
        ));
    }
    entries.push(Entry::new(Swatch::Whisker(style::WHISKER), "95% interval"));
    if let Some(l) = limit {
        entries.push(Entry::with_detail(
            Swatch::Dashed(style::SHORTFALL),
            "shortfall limit",
            style::percent(l),
        ));
    }
    style::legend(&panel, "strategy", &entries)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_twice, has_text, write_preview};
    use super::*;

    fn point(label: &str, x: f64, y: f64, limit: f64) -> FrontierPoint {
        FrontierPoint {
            label: label.to_string(),
            shortfall_probability: x,
            probability: y,
            low: y - 0.025,
            high: y + 0.025,
            feasible: x <= limit,
            best: false,
            on_frontier: false,
        }
    }

    /// Strategies splitting chips between training and inference: more to
    /// training raises both the milestone's chance and the shortfall's.
    fn example() -> Vec<FrontierPoint> {
        let limit = 0.2;
        let mut points: Vec<FrontierPoint> = (0..=10)
            .map(|i| {
                let share = f64::from(i) / 10.0;
                let x = 0.02 + 0.45 * share * share;
                let y = 0.2 + 0.55 * share.sqrt();
                point(&format!("train {:.0}%", share * 100.0), x, y, limit)
            })
            .collect();
        for p in &mut points {
            p.on_frontier = true;
        }
        // Dominated strategies off the frontier.
        for i in 0..6 {
            let x = 0.05 + 0.07 * f64::from(i);
            points.push(point(&format!("mix {i}"), x, 0.25 + 0.06 * f64::from(i), limit));
        }
        let best = points
            .iter_mut()
            .filter(|p| p.feasible && p.on_frontier)
            .max_by(|a, b| a.probability.total_cmp(&b.probability))
            .unwrap();
        best.best = true;
        points
    }

    fn chart(limit: Option<f64>, points: &[FrontierPoint]) -> Chart {
        check_twice(STEM, || {
            frontier("Frontier", "sub", "dsv3_class", limit, points).unwrap()
        })
    }

    #[test]
    fn the_best_strategy_is_labelled_and_the_limit_drawn() {
        let points = example();
        let c = chart(Some(0.2), &points);
        let best = points.iter().find(|p| p.best).unwrap();
        assert!(c.svg.contains(&format!("best: {}", best.label)));
        assert!(has_text(&c.svg, "shortfall limit"));
        assert!(c.svg.contains("P(dsv3_class reached), %"));
        assert!(has_text(&c.svg, "20.0%"));
    }

    #[test]
    fn odd_inputs_still_draw() {
        chart(None, &[]);
        chart(Some(0.1), &[]);
        chart(Some(f64::NAN), &[point("one", 0.1, 0.5, 0.2)]);
        let mut all_same: Vec<FrontierPoint> = (0..4).map(|i| point(&format!("s{i}"), 0.0, 0.0, 0.1)).collect();
        all_same[0].best = true;
        all_same.iter_mut().for_each(|p| p.on_frontier = true);
        chart(Some(0.0), &all_same);
        chart(
            Some(2.0),
            &[
                point("nan", f64::NAN, 0.5, 1.0),
                point("inf", 0.2, f64::INFINITY, 1.0),
                FrontierPoint {
                    low: f64::NAN,
                    high: 7.0,
                    best: true,
                    ..point("wide", 1.0, 1.0, 1.0)
                },
            ],
        );
        let many: Vec<FrontierPoint> = (0..200)
            .map(|i| FrontierPoint {
                on_frontier: i % 3 == 0,
                ..point(
                    &format!("strategy {i}"),
                    f64::from(i) / 200.0,
                    f64::from(i % 17) / 17.0,
                    0.5,
                )
            })
            .collect();
        chart(Some(0.5), &many);
    }

    /// Renders the frontier with example data to `preview/` for a person
    /// to look at: `cargo test --lib charts::frontier -- --ignored`.
    #[test]
    #[ignore]
    fn write_previews() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("preview");
        write_preview(&dir, "frontier", &chart(Some(0.2), &example()));
        let edge = dir.join("edge");
        write_preview(&edge, "frontier_empty", &chart(Some(0.1), &[]));
        let mut same: Vec<FrontierPoint> = (0..3).map(|i| point(&format!("s{i}"), 0.0, 0.0, 0.1)).collect();
        same[0].best = true;
        write_preview(&edge, "frontier_same", &chart(None, &same));
    }
}
