//! Parameter sweeps: how the probability of reaching each milestone moves
//! as one parameter is swept (lines with 95% bands), or as two parameters
//! are swept together (a heat map with labelled contour lines).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::place::{self, PixelBox};
use super::scale::{self, X_LABELS, Y_LABELS};
use super::style::{self, Entry, Swatch};
use super::{Chart, ChartError, Failure, palette, render, styled_mesh};

/// File stem of the line chart.
pub const LINE_STEM: &str = "sweep";
/// File stem of the heat map.
pub const HEATMAP_STEM: &str = "sweep_heatmap";

/// Levels of the heat map's contour lines.
const LEVELS: [f64; 5] = [0.1, 0.25, 0.5, 0.75, 0.9];
/// Viridis at ten evenly spaced points of its range (matplotlib's colour
/// map as R's `viridis(10)` lists it), interpolated linearly between.
const VIRIDIS: [(u8, u8, u8); 10] = [
    (0x44, 0x01, 0x54),
    (0x48, 0x28, 0x78),
    (0x3e, 0x4a, 0x89),
    (0x31, 0x68, 0x8e),
    (0x26, 0x82, 0x8e),
    (0x1f, 0x9e, 0x89),
    (0x35, 0xb7, 0x79),
    (0x6d, 0xcd, 0x59),
    (0xb4, 0xde, 0x2c),
    (0xfd, 0xe7, 0x25),
];
/// Cells without a value.
const NO_DATA: RGBColor = RGBColor(215, 215, 215);
/// Contour lines over dark cells.
const LIGHT_LINE: RGBColor = RGBColor(255, 255, 255);
/// Contour lines over light cells.
const DARK_LINE: RGBColor = RGBColor(20, 20, 20);
/// Height of the colour bar, pixels.
const BAR_HEIGHT: i32 = 250;
/// Width of the colour bar, pixels.
const BAR_WIDTH: i32 = 24;
/// Top of the colour bar in the legend panel, pixels.
const BAR_TOP: i32 = 48;

/// A milestone's probability at one value of the swept parameter, with
/// its 95% interval (fractions).
#[derive(Debug, Clone)]
pub struct SweepPoint {
    /// Value of the swept parameter.
    pub x: f64,
    /// Probability of reaching the milestone.
    pub probability: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end of the 95% interval.
    pub high: f64,
}

/// One milestone's probabilities along the sweep.
#[derive(Debug, Clone)]
pub struct SweepSeries {
    /// The milestone, as the legend names it.
    pub name: String,
    /// Its probability at each swept value (drawn in order of `x`).
    pub points: Vec<SweepPoint>,
}

/// The line chart of a sweep over one parameter: the parameter (described
/// by `x_label`) on x, one line per milestone with its 95% band and a
/// marker at each swept value, probabilities in percent.
pub fn sweep_line(title: &str, subtitle: &str, x_label: &str, series: &[SweepSeries]) -> Result<Chart, ChartError> {
    render(
        LINE_STEM,
        title.to_string(),
        |a| draw_line(a, title, subtitle, x_label, series),
        |a| draw_line(a, title, subtitle, x_label, series),
    )
}

/// The heat map of a sweep over two parameters: a cell per pair of values
/// (`xs` across, `ys` up, `probability[yi][xi]` as fractions; cells span
/// halfway to their neighbours, so values may be unevenly spaced), coloured
/// on the viridis scale, with contour lines at 10, 25, 50, 75 and 90%
/// labelled with their level.
pub fn sweep_heatmap(
    title: &str,
    subtitle: &str,
    x_label: &str,
    y_label: &str,
    xs: &[f64],
    ys: &[f64],
    probability: &[Vec<f64>],
) -> Result<Chart, ChartError> {
    let grid = Grid::new(xs, ys, probability);
    render(
        HEATMAP_STEM,
        title.to_string(),
        |a| draw_heatmap(a, title, subtitle, x_label, y_label, &grid),
        |a| draw_heatmap(a, title, subtitle, x_label, y_label, &grid),
    )
}

/// A series' points that can be drawn, in order of `x`: probability and
/// interval kept to 0–1, the interval around the probability.
fn drawable(points: &[SweepPoint]) -> Vec<SweepPoint> {
    let mut out: Vec<SweepPoint> = points
        .iter()
        .filter(|p| p.x.is_finite() && p.probability.is_finite())
        .map(|p| {
            let probability = scale::probability(p.probability);
            let or = |v: f64| if v.is_finite() { v } else { probability };
            SweepPoint {
                x: p.x,
                probability,
                low: scale::probability(or(p.low)).min(probability),
                high: scale::probability(or(p.high)).max(probability),
            }
        })
        .collect();
    out.sort_by(|a, b| a.x.total_cmp(&b.x));
    out
}

fn draw_line<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    x_label: &str,
    series: &[SweepSeries],
) -> Result<(), Failure> {
    let (area, panel) = style::frame(root, title, subtitle)?;
    let lines: Vec<Vec<SweepPoint>> = series.iter().map(|s| drawable(&s.points)).collect();
    let (x_lo, x_hi) =
        scale::extent(lines.iter().flatten().map(|p| p.x)).map_or((0.0, 1.0), |e| scale::padded(e, 0.03, 0.5));
    let decimals = scale::tick_decimals(x_lo, x_hi, X_LABELS, 1.0);
    let mut chart = ChartBuilder::on(&area)
        .margin(style::MARGIN)
        .x_label_area_size(style::X_LABEL_AREA)
        .y_label_area_size(style::Y_LABEL_AREA)
        .build_cartesian_2d(x_lo..x_hi, 0.0..1.0)?;
    styled_mesh(&mut chart.configure_mesh(), x_label, "probability reached, %")
        .x_labels(X_LABELS)
        .x_label_formatter(&|v| scale::number(*v, decimals))
        .y_label_formatter(&|v| style::percent_tick(*v))
        .draw()?;
    if lines.iter().all(Vec::is_empty) {
        style::centred_note(&chart.plotting_area().strip_coord_spec(), "no swept values to show")?;
    }

    let mut entries = Vec::new();
    for (k, (s, points)) in series.iter().zip(&lines).enumerate() {
        let colour = palette(k);
        match points.as_slice() {
            [] => {}
            [p] => {
                // One value: its interval as an error bar.
                let w = style::WHISKER.stroke_width(1);
                chart.draw_series(std::iter::once(PathElement::new(vec![(p.x, p.low), (p.x, p.high)], w)))?;
            }
            _ => {
                let mut band: Vec<(f64, f64)> = points.iter().map(|p| (p.x, p.high)).collect();
                band.extend(points.iter().rev().map(|p| (p.x, p.low)));
                chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(style::CI_BAND).filled())))?;
            }
        }
        chart.draw_series(LineSeries::new(
            points.iter().map(|p| (p.x, p.probability)),
            colour.stroke_width(style::LINE_WIDTH),
        ))?;
        for p in points {
            style::draw_marker(
                root,
                chart.backend_coord(&(p.x, p.probability)),
                style::marker(k),
                colour,
            )?;
        }
        entries.push(Entry::new(Swatch::LineMarker(colour, style::marker(k)), s.name.clone()));
    }
    entries.push(Entry::new(
        Swatch::Fill(style::REFERENCE, style::CI_BAND * 2.0),
        "95% interval",
    ));
    style::legend(&panel, "milestone", &entries)
}

/// Colour of probability `t` (0–1) on the viridis scale.
fn viridis(t: f64) -> RGBColor {
    let s = scale::probability(t) * (VIRIDIS.len() - 1) as f64;
    let i = (s.floor() as usize).min(VIRIDIS.len() - 2);
    let f = s - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Colour of a contour line at `level`: white over the dark end of the
/// scale, near black over the light end.
fn line_colour(level: f64) -> RGBColor {
    let RGBColor(r, g, b) = viridis(level);
    let luminance = 0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b);
    if luminance > 140.0 { DARK_LINE } else { LIGHT_LINE }
}

/// A heat map's values on sorted axes.
#[derive(Debug, Clone)]
struct Grid {
    /// Cell centres across, ascending.
    xs: Vec<f64>,
    /// Cell centres up, ascending.
    ys: Vec<f64>,
    /// Cell edges across (one more than `xs`).
    x_edges: Vec<f64>,
    /// Cell edges up.
    y_edges: Vec<f64>,
    /// Values, `values[yi][xi]` on the sorted axes; `None` where missing.
    values: Vec<Vec<Option<f64>>>,
}

impl Grid {
    fn new(xs: &[f64], ys: &[f64], probability: &[Vec<f64>]) -> Grid {
        let order = |v: &[f64]| {
            let mut idx: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_finite()).collect();
            idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
            idx
        };
        let (cols, rows) = (order(xs), order(ys));
        let values = rows
            .iter()
            .map(|&yi| {
                cols.iter()
                    .map(|&xi| {
                        probability
                            .get(yi)
                            .and_then(|r| r.get(xi))
                            .copied()
                            .filter(|v| v.is_finite())
                            .map(scale::probability)
                    })
                    .collect()
            })
            .collect();
        let xs: Vec<f64> = cols.iter().map(|&i| xs[i]).collect();
        let ys: Vec<f64> = rows.iter().map(|&i| ys[i]).collect();
        Grid {
            x_edges: edges(&xs),
            y_edges: edges(&ys),
            xs,
            ys,
            values,
        }
    }
}

/// Edges of cells centred on ascending `centres`: halfway between
/// neighbours, and as far past the ends as the nearest neighbour is (a
/// single centre gets a cell of its own size).
fn edges(centres: &[f64]) -> Vec<f64> {
    match centres {
        [] => Vec::new(),
        [c] => {
            let (lo, hi) = scale::padded((*c, *c), 0.0, 0.5);
            vec![lo, hi]
        }
        _ => {
            let n = centres.len();
            let mut e = vec![centres[0] - (centres[1] - centres[0]) / 2.0];
            e.extend(centres.windows(2).map(|w| (w[0] + w[1]) / 2.0));
            e.push(centres[n - 1] + (centres[n - 1] - centres[n - 2]) / 2.0);
            e
        }
    }
}

/// A contour line's piece: two points.
type Segment = [(f64, f64); 2];

/// The contour at `level` of values at the points `(xs[i], ys[j])` (value
/// `v[j][i]`), by marching squares: in each square of four neighbouring
/// points with values, the contour crosses each side whose ends lie on
/// either side of the level, at the point found by linear interpolation.
/// A square whose opposite corners lie on the same side (a saddle) is
/// resolved by the average of its corners, taken as its centre's value:
/// the corners on the centre's side are joined through it.
fn contour(xs: &[f64], ys: &[f64], v: &[Vec<Option<f64>>], level: f64) -> Vec<Segment> {
    let mut segments = Vec::new();
    for j in 0..ys.len().saturating_sub(1) {
        for i in 0..xs.len().saturating_sub(1) {
            // Corners counter-clockwise from the lower left; side k joins
            // corner k to corner k + 1.
            let at = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
            let values: Option<Vec<f64>> = at.iter().map(|&(a, b)| v[b][a]).collect();
            let Some(values) = values else {
                continue;
            };
            let above: Vec<bool> = values.iter().map(|&x| x >= level).collect();
            let crossing = |k: usize| -> Option<(f64, f64)> {
                let l = (k + 1) % 4;
                if above[k] == above[l] {
                    return None;
                }
                let t = (level - values[k]) / (values[l] - values[k]);
                let ((ia, ja), (ib, jb)) = (at[k], at[l]);
                Some((xs[ia] + t * (xs[ib] - xs[ia]), ys[ja] + t * (ys[jb] - ys[ja])))
            };
            let crossings: Vec<(usize, (f64, f64))> = (0..4).filter_map(|k| crossing(k).map(|p| (k, p))).collect();
            match crossings.as_slice() {
                [(_, a), (_, b)] => segments.push([*a, *b]),
                [_, _, _, _] => {
                    let centre_above = values.iter().sum::<f64>() / 4.0 >= level;
                    // Cut off each corner on the other side than the centre:
                    // corner k lies between sides k - 1 and k.
                    for k in (0..4).filter(|&k| above[k] != centre_above) {
                        let before = crossings[(k + 3) % 4].1;
                        let after = crossings[k].1;
                        segments.push([before, after]);
                    }
                }
                _ => {}
            }
        }
    }
    segments
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    x_label: &str,
    y_label: &str,
    g: &Grid,
) -> Result<(), Failure> {
    let (area, panel) = style::frame(root, title, subtitle)?;
    let range = |e: &[f64]| match (e.first(), e.last()) {
        (Some(&lo), Some(&hi)) if hi > lo => (lo, hi),
        (Some(&lo), Some(_)) => scale::padded((lo, lo), 0.0, 0.5),
        _ => (0.0, 1.0),
    };
    let (x_lo, x_hi) = range(&g.x_edges);
    let (y_lo, y_hi) = range(&g.y_edges);
    let x_decimals = scale::tick_decimals(x_lo, x_hi, X_LABELS, 1.0);
    let y_decimals = scale::tick_decimals(y_lo, y_hi, Y_LABELS, 1.0);
    let mut chart = ChartBuilder::on(&area)
        .margin(style::MARGIN)
        .x_label_area_size(style::X_LABEL_AREA)
        .y_label_area_size(style::Y_LABEL_AREA)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    styled_mesh(&mut chart.configure_mesh(), x_label, y_label)
        .disable_mesh()
        .x_labels(X_LABELS)
        .x_label_formatter(&|v| scale::number(*v, x_decimals))
        .y_label_formatter(&|v| scale::number(*v, y_decimals))
        .draw()?;

    let mut missing = false;
    for (j, row) in g.values.iter().enumerate() {
        for (i, v) in row.iter().enumerate() {
            missing |= v.is_none();
            let colour = v.map_or(NO_DATA, viridis);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(g.x_edges[i], g.y_edges[j]), (g.x_edges[i + 1], g.y_edges[j + 1])],
                colour.filled(),
            )))?;
        }
    }
    if g.values.is_empty() || g.xs.is_empty() {
        style::centred_note(&chart.plotting_area().strip_coord_spec(), "no swept values to show")?;
    }

    // Contours, then their labels: each on a piece of its line near the
    // line's middle, on a light box, clear of the labels before it.
    let (plot_x, plot_y) = chart.plotting_area().get_pixel_range();
    let note = style::text(style::NOTE_SIZE, style::TEXT);
    let mut placed: Vec<PixelBox> = Vec::new();
    let mut contoured = false;
    for level in LEVELS {
        let segments = contour(&g.xs, &g.ys, &g.values, level);
        if segments.is_empty() {
            continue;
        }
        contoured = true;
        let colour = line_colour(level);
        chart.draw_series(
            segments
                .iter()
                .map(|s| PathElement::new(s.to_vec(), colour.stroke_width(style::THIN_WIDTH))),
        )?;
        let mids: Vec<(i32, i32)> = segments
            .iter()
            .map(|[a, b]| chart.backend_coord(&((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)))
            .collect();
        let n = mids.len() as f64;
        let centre = (
            mids.iter().map(|m| f64::from(m.0)).sum::<f64>() / n,
            mids.iter().map(|m| f64::from(m.1)).sum::<f64>() / n,
        );
        let mut order: Vec<usize> = (0..mids.len()).collect();
        let dist = |m: (i32, i32)| (f64::from(m.0) - centre.0).hypot(f64::from(m.1) - centre.1);
        order.sort_by(|&a, &b| dist(mids[a]).total_cmp(&dist(mids[b])).then(a.cmp(&b)));
        let label = style::percent_tick(level);
        let (w, h) = place::size(root, &label, &note)?;
        // The label centred on the piece's middle.
        let spot = order.into_iter().map(|k| (mids[k].0 - w / 2, mids[k].1)).find(|&at| {
            let b = place::text_box((w, h), at);
            place::inside(b, &plot_x, &plot_y) && placed.iter().all(|&p| !place::overlaps(p, b, 4))
        });
        if let Some(at) = spot {
            placed.push(place::boxed_text(root, &label, &note, at)?);
        }
    }

    draw_colour_bar(&panel, contoured, missing)
}

/// The legend panel of the heat map: the colour scale as a bar with ticks
/// in percent and the contour levels marked across it, then what the lines
/// and grey cells mean.
fn draw_colour_bar<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    contoured: bool,
    missing: bool,
) -> Result<(), Failure> {
    let x0 = 10;
    let x1 = x0 + BAR_WIDTH;
    let head = style::text(style::LEGEND_SIZE, style::MUTED).pos(Pos::new(HPos::Left, VPos::Center));
    panel.draw_text("probability reached", &head, (6, style::MARGIN as i32 + 10))?;
    let y_of = |t: f64| BAR_TOP + ((1.0 - t) * f64::from(BAR_HEIGHT)).round() as i32;
    for y in BAR_TOP..BAR_TOP + BAR_HEIGHT {
        let t = 1.0 - (f64::from(y - BAR_TOP) + 0.5) / f64::from(BAR_HEIGHT);
        panel.draw(&Rectangle::new([(x0, y), (x1, y + 1)], viridis(t).filled()))?;
    }
    panel.draw(&Rectangle::new(
        [(x0, BAR_TOP), (x1, BAR_TOP + BAR_HEIGHT)],
        style::AXIS.stroke_width(1),
    ))?;
    let tick = style::text(style::TICK_SIZE, style::AXIS).pos(Pos::new(HPos::Left, VPos::Center));
    for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let y = y_of(t);
        panel.draw(&PathElement::new(
            vec![(x1, y), (x1 + 4, y)],
            style::AXIS.stroke_width(1),
        ))?;
        panel.draw_text(&style::percent_tick(t), &tick, (x1 + 8, y))?;
    }
    if contoured {
        for level in LEVELS {
            let y = y_of(level);
            panel.draw(&PathElement::new(
                vec![(x0 + 1, y), (x1 - 1, y)],
                line_colour(level).stroke_width(style::THIN_WIDTH),
            ))?;
        }
    }
    let mut entries = Vec::new();
    if contoured {
        entries.push(Entry::with_detail(
            Swatch::Line(style::TEXT),
            "contour line",
            "at 10, 25, 50, 75 and 90%",
        ));
    }
    if missing {
        entries.push(Entry::new(Swatch::Fill(NO_DATA, 1.0), "no value"));
    }
    let (_, below) = panel.split_vertically(BAR_TOP + BAR_HEIGHT + 8);
    style::legend(&below, "", &entries)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_twice, has_text, write_preview};
    use super::*;

    fn point(x: f64, p: f64) -> SweepPoint {
        SweepPoint {
            x,
            probability: p,
            low: p - 0.03,
            high: p + 0.03,
        }
    }

    fn series() -> Vec<SweepSeries> {
        let names = ["dsv3_class", "gpt4_class", "frontier_1e26"];
        names
            .iter()
            .enumerate()
            .map(|(k, name)| SweepSeries {
                name: name.to_string(),
                points: [0.0, 0.1, 0.25, 0.4, 0.6]
                    .iter()
                    .map(|&x| point(x, (0.9 - 0.25 * k as f64 - x * (0.5 + 0.3 * k as f64)).clamp(0.0, 1.0)))
                    .collect(),
            })
            .collect()
    }

    fn line(series: &[SweepSeries]) -> Chart {
        check_twice(LINE_STEM, || {
            sweep_line("Sweep", "scenario default", "SMIC 7 nm yield", series).unwrap()
        })
    }

    #[test]
    fn a_sweep_draws_a_line_per_milestone_in_percent() {
        let s = series();
        let chart = line(&s);
        assert_eq!(chart.title, "Sweep");
        for name in ["dsv3_class", "gpt4_class", "frontier_1e26", "SMIC 7 nm yield"] {
            assert!(chart.svg.contains(name), "{name}");
        }
        assert!(has_text(&chart.svg, "100%") && has_text(&chart.svg, "0.2"));
    }

    #[test]
    fn odd_sweeps_still_draw() {
        line(&[]);
        line(&[SweepSeries {
            name: "none".into(),
            points: Vec::new(),
        }]);
        line(&[SweepSeries {
            name: "one".into(),
            points: vec![point(3.0, 0.4)],
        }]);
        line(&[SweepSeries {
            name: "flat".into(),
            points: vec![point(1.0, 0.5), point(1.0, 0.5), point(1.0, 0.5)],
        }]);
        line(&[SweepSeries {
            name: "nan".into(),
            points: vec![
                point(f64::NAN, 0.4),
                point(1.0, f64::NAN),
                SweepPoint {
                    x: 2.0,
                    probability: 0.5,
                    low: f64::NAN,
                    high: f64::INFINITY,
                },
                point(f64::INFINITY, 0.1),
                point(3.0, 1.5),
            ],
        }]);
    }

    fn heatmap(xs: &[f64], ys: &[f64], p: &[Vec<f64>]) -> Chart {
        check_twice(HEATMAP_STEM, || {
            sweep_heatmap("Heat", "sub", "SMIC yield", "export-control strength", xs, ys, p).unwrap()
        })
    }

    fn smooth(xs: &[f64], ys: &[f64]) -> Vec<Vec<f64>> {
        ys.iter()
            .map(|&y| xs.iter().map(|&x| (0.2 + 1.1 * x - 0.6 * y).clamp(0.0, 1.0)).collect())
            .collect()
    }

    #[test]
    fn a_heat_map_has_labelled_contours() {
        let xs = [0.1, 0.2, 0.4, 0.5, 0.7, 0.9];
        let ys = [0.0, 0.3, 0.5, 1.0];
        let chart = heatmap(&xs, &ys, &smooth(&xs, &ys));
        for label in ["10%", "25%", "50%", "75%", "90%"] {
            assert!(has_text(&chart.svg, label), "{label}");
        }
        assert!(chart.svg.contains("export-control strength"));
    }

    #[test]
    fn odd_grids_still_draw() {
        heatmap(&[], &[], &[]);
        heatmap(&[1.0], &[2.0], &[vec![0.3]]);
        heatmap(&[1.0, 2.0, 3.0], &[5.0], &[vec![0.1, 0.5, 0.9]]);
        heatmap(&[1.0], &[1.0, 2.0, 4.0], &[vec![0.1], vec![0.5], vec![0.9]]);
        heatmap(&[0.0, 1.0], &[0.0, 1.0], &[vec![0.5, 0.5], vec![0.5, 0.5]]);
        // Missing and broken values, unsorted and repeated axes, a ragged grid.
        let chart = heatmap(
            &[3.0, f64::NAN, 1.0, 2.0, 2.0],
            &[1.0, 0.0, 7.0],
            &[vec![0.2, 0.3, f64::NAN], vec![0.9, 0.1, 0.4, 0.5, 0.6], vec![]],
        );
        assert!(chart.svg.contains("no value"));
    }

    #[test]
    fn viridis_runs_from_purple_to_yellow() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xfd, 0xe7, 0x25));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        // Lighter all the way up.
        let light = |t: f64| {
            let RGBColor(r, g, b) = viridis(t);
            0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)
        };
        assert!((1..=100).all(|i| light(f64::from(i) / 100.0) > light(f64::from(i - 1) / 100.0)));
    }

    #[test]
    fn marching_squares_interpolate_and_resolve_saddles() {
        let at = |v: [[f64; 2]; 2]| {
            v.iter()
                .map(|r| r.iter().map(|&x| Some(x)).collect())
                .collect::<Vec<_>>()
        };
        // A gradient across: one vertical segment where the values cross 0.5.
        let s = contour(&[0.0, 1.0], &[0.0, 1.0], &at([[0.0, 1.0], [0.0, 1.0]]), 0.25);
        assert_eq!(s, vec![[(0.25, 0.0), (0.25, 1.0)]]);
        // A saddle: high lower-left and upper-right corners.
        let saddle = |centre_high: bool| {
            let (high, low) = if centre_high { (1.0, 0.4) } else { (0.8, 0.0) };
            contour(&[0.0, 1.0], &[0.0, 1.0], &at([[high, low], [low, high]]), 0.5)
        };
        // Centre above the level: the high corners join, the low ones are
        // cut off (lower right: its sides 0 and 1; upper left: 2 and 3).
        let high = saddle(true);
        assert_eq!(high.len(), 2);
        assert!(
            high.iter()
                .all(|[a, b]| (a.0 - b.0).abs() > 0.0 && (a.1 - b.1).abs() > 0.0)
        );
        let cuts_corner = |s: &Segment, corner: (f64, f64)| {
            s.iter()
                .all(|p| (p.0 - corner.0).abs() < 1.0 && (p.1 - corner.1).abs() < 1.0)
                && s.iter().any(|p| p.0 == corner.0)
                && s.iter().any(|p| p.1 == corner.1)
        };
        assert!(high.iter().any(|s| cuts_corner(s, (1.0, 0.0))));
        assert!(high.iter().any(|s| cuts_corner(s, (0.0, 1.0))));
        let low = saddle(false);
        assert!(low.iter().any(|s| cuts_corner(s, (0.0, 0.0))));
        assert!(low.iter().any(|s| cuts_corner(s, (1.0, 1.0))));
        // Missing values leave their squares out.
        let mut gap = at([[0.0, 1.0], [0.0, 1.0]]);
        gap[1][0] = None;
        assert!(contour(&[0.0, 1.0], &[0.0, 1.0], &gap, 0.5).is_empty());
    }

    #[test]
    fn cells_reach_halfway_to_their_neighbours() {
        assert_eq!(edges(&[1.0, 2.0, 4.0]), vec![0.5, 1.5, 3.0, 5.0]);
        assert_eq!(edges(&[10.0]), vec![9.0, 11.0]);
        assert!(edges(&[]).is_empty());
    }

    /// Renders the sweep charts with example data to `preview/` for a
    /// person to look at: `cargo test --lib charts::sweep -- --ignored`.
    #[test]
    #[ignore]
    fn write_previews() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("preview");
        let s = series();
        write_preview(&dir, "sweep", &line(&s));
        let xs: Vec<f64> = (0..9).map(|i| 0.1 + 0.1 * f64::from(i)).collect();
        let ys = [0.0, 0.25, 0.5, 0.6, 0.7, 1.0];
        let p: Vec<Vec<f64>> = ys
            .iter()
            .map(|&y| {
                xs.iter()
                    .map(|&x| 1.0 / (1.0 + (-(6.0 * x - 3.0 * y - 1.5 + 2.0 * (x - 0.5) * (y - 0.5))).exp()))
                    .collect()
            })
            .collect();
        write_preview(&dir, "sweep_heatmap", &heatmap(&xs, &ys, &p));
        let edge = dir.join("edge");
        write_preview(&edge, "sweep_empty", &line(&[]));
        write_preview(
            &edge,
            "sweep_one_point",
            &line(&[SweepSeries {
                name: "one".into(),
                points: vec![point(3.0, 0.4)],
            }]),
        );
        write_preview(
            &edge,
            "heatmap_row",
            &heatmap(&[1.0, 2.0, 3.0], &[5.0], &[vec![0.1, 0.5, 0.9]]),
        );
        write_preview(&edge, "heatmap_empty", &heatmap(&[], &[], &[]));
        write_preview(
            &edge,
            "heatmap_ragged",
            &heatmap(
                &[3.0, f64::NAN, 1.0, 2.0, 8.0],
                &[1.0, 0.0, 7.0],
                &[vec![0.2, 0.3, f64::NAN], vec![0.9, 0.1, 0.4, 0.5, 0.6], vec![]],
            ),
        );
    }
}
