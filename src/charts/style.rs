//! The look shared by every chart: colours, font sizes, the page frame
//! (title, subtitle, legend panel) and number formats. One element keeps one
//! colour across charts and runs.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Failure;

/// The embedded font, so charts never depend on the fonts of the machine.
pub(super) const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// Family name every text style uses; the embedded font is registered under it.
pub const FAMILY: &str = "sans-serif";

/// Page background.
pub const BACKGROUND: RGBColor = WHITE;
/// Titles, axis descriptions and legend text.
pub const TEXT: RGBColor = RGBColor(34, 34, 34);
/// Subtitles and secondary notes.
pub const MUTED: RGBColor = RGBColor(100, 100, 100);
/// Axis lines and tick labels.
pub const AXIS: RGBColor = RGBColor(90, 90, 90);
/// Major grid lines.
pub const GRID: RGBColor = RGBColor(228, 228, 228);

/// Domestic chips delivered.
pub const DOMESTIC: RGBColor = RGBColor(31, 119, 180);
/// Chips in training, and training compute.
pub const TRAINING: RGBColor = RGBColor(255, 127, 14);
/// Chips serving inference.
pub const INFERENCE: RGBColor = RGBColor(44, 160, 44);
/// Inference demand left unserved.
pub const SHORTFALL: RGBColor = RGBColor(214, 39, 40);
/// Reference quantities (chips ordered).
pub const REFERENCE: RGBColor = RGBColor(110, 110, 110);
/// Error bars.
pub const WHISKER: RGBColor = RGBColor(40, 40, 40);

/// Colours of milestones (milestone `k` is `PALETTE[k % len]`) and of
/// scenarios in the batch comparison (Tableau 10).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Opacity of the outer (5–95%) band of a fan.
pub const OUTER_BAND: f64 = 0.16;
/// Opacity of the inner (25–75%) band of a fan.
pub const INNER_BAND: f64 = 0.36;
/// Opacity of a confidence band around a probability curve.
pub const CI_BAND: f64 = 0.18;
/// Opacity of stacked areas.
pub const AREA: f64 = 0.55;

/// Title font size, pixels.
pub const TITLE_SIZE: f64 = 22.0;
/// Subtitle font size, pixels.
pub const SUBTITLE_SIZE: f64 = 15.0;
/// Axis description font size, pixels.
pub const AXIS_DESC_SIZE: f64 = 16.0;
/// Tick label font size, pixels.
pub const TICK_SIZE: f64 = 14.0;
/// Legend font size, pixels.
pub const LEGEND_SIZE: f64 = 14.0;
/// Annotation (labels inside the plot) font size, pixels.
pub const NOTE_SIZE: f64 = 13.0;

/// Height of the title block, pixels.
pub const HEADER_HEIGHT: u32 = 62;
/// Width of the legend panel on the right, pixels.
pub const LEGEND_WIDTH: u32 = 236;
/// Space around the plot, pixels.
pub const MARGIN: u32 = 14;
/// Height of the x tick labels and description, pixels.
pub const X_LABEL_AREA: u32 = 52;
/// Width of the y tick labels and description, pixels.
pub const Y_LABEL_AREA: u32 = 74;

/// Radius of point markers, pixels.
pub const MARKER_RADIUS: i32 = 5;
/// Length of a dash in dashed lines, pixels.
pub const DASH: i32 = 7;
/// Gap between dashes, pixels.
pub const DASH_GAP: i32 = 5;
/// Line width of main series, pixels.
pub const LINE_WIDTH: u32 = 3;
/// Line width of reference and marker lines, pixels.
pub const THIN_WIDTH: u32 = 2;

/// Registers the embedded font once per process.
pub fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
                .map_err(|_| "the embedded font DejaVuSans.ttf cannot be read".to_string())
        })
        .clone()
}

/// Text of `size` pixels in `color`.
pub fn text(size: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: (FAMILY, size).into_font(),
        color: color.to_backend_color(),
        pos: Pos::default(),
    }
}

/// A part of the page, in pixels.
pub type Area<DB> = DrawingArea<DB, Shift>;

/// Clears the page, draws the title and subtitle, and returns the plot area
/// and the legend panel.
pub fn frame<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    subtitle: &str,
) -> Result<(Area<DB>, Area<DB>), Failure> {
    root.fill(&BACKGROUND)?;
    let (header, body) = root.split_vertically(HEADER_HEIGHT);
    header.draw_text(title, &text(TITLE_SIZE, TEXT), (MARGIN as i32 + 4, 12))?;
    header.draw_text(subtitle, &text(SUBTITLE_SIZE, MUTED), (MARGIN as i32 + 4, 40))?;
    let (width, _) = body.dim_in_pixel();
    let (plot, legend) = body.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
    Ok((plot, legend))
}

/// Writes `message` in the middle of `area` (for charts with nothing to show).
pub fn centred_note<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, message: &str) -> Result<(), Failure> {
    let (w, h) = area.dim_in_pixel();
    let style = text(SUBTITLE_SIZE, MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(message, &style, (w as i32 / 2, h as i32 / 2))?;
    Ok(())
}

/// How a legend entry's symbol looks.
#[derive(Debug, Clone, Copy)]
pub enum Swatch {
    /// A solid line.
    Line(RGBColor),
    /// A dashed line.
    Dashed(RGBColor),
    /// A filled box at the given opacity.
    Fill(RGBColor, f64),
    /// An error bar.
    Whisker(RGBColor),
    /// A solid line with a marker on it.
    LineMarker(RGBColor, Marker),
    /// A marker alone.
    Marker(RGBColor, Marker),
}

/// One row of a legend.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Symbol.
    pub swatch: Swatch,
    /// Text (cut with an ellipsis if it does not fit the panel).
    pub label: String,
    /// A second, muted line under the label, if any.
    pub detail: Option<String>,
}

impl Entry {
    /// A legend row.
    pub fn new(swatch: Swatch, label: impl Into<String>) -> Entry {
        Entry {
            swatch,
            label: label.into(),
            detail: None,
        }
    }

    /// A legend row with a second line of detail.
    pub fn with_detail(swatch: Swatch, label: impl Into<String>, detail: impl Into<String>) -> Entry {
        Entry {
            swatch,
            label: label.into(),
            detail: Some(detail.into()),
        }
    }
}

const SWATCH_WIDTH: i32 = 28;
const ROW_HEIGHT: i32 = 24;

/// Draws a legend in the panel to the right of the plot: an optional heading,
/// then one row per entry.
pub fn legend<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    heading: &str,
    entries: &[Entry],
) -> Result<(), Failure> {
    let (w, _) = panel.dim_in_pixel();
    let x0 = 6;
    let label_x = x0 + SWATCH_WIDTH + 8;
    let avail = (w as i32 - label_x - MARGIN as i32).max(0) as u32;
    let style = text(LEGEND_SIZE, TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = MARGIN as i32 + 10;
    if !heading.is_empty() {
        let head = text(LEGEND_SIZE, MUTED).pos(Pos::new(HPos::Left, VPos::Center));
        let line = fit(panel, heading, &head, (w as i32 - x0 - MARGIN as i32).max(0) as u32)?;
        panel.draw_text(&line, &head, (x0, y))?;
        y += ROW_HEIGHT + 2;
    }
    for e in entries {
        draw_swatch(panel, e.swatch, x0, y)?;
        let lines = wrap(panel, &e.label, &style, avail)?;
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                y += ROW_HEIGHT - 6;
            }
            panel.draw_text(line, &style, (label_x, y))?;
        }
        y += ROW_HEIGHT;
        if let Some(detail) = &e.detail {
            let muted = text(NOTE_SIZE, MUTED).pos(Pos::new(HPos::Left, VPos::Center));
            let detail = fit(panel, detail, &muted, avail)?;
            panel.draw_text(&detail, &muted, (label_x, y - 6))?;
            y += ROW_HEIGHT - 4;
        }
    }
    Ok(())
}

fn draw_swatch<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    x: i32,
    y: i32,
) -> Result<(), Failure> {
    let x1 = x + SWATCH_WIDTH;
    match swatch {
        Swatch::Line(c) => {
            panel.draw(&PathElement::new(vec![(x, y), (x1, y)], c.stroke_width(LINE_WIDTH)))?;
        }
        Swatch::Dashed(c) => {
            let mut a = x;
            while a < x1 {
                panel.draw(&PathElement::new(
                    vec![(a, y), ((a + DASH).min(x1), y)],
                    c.stroke_width(THIN_WIDTH),
                ))?;
                a += DASH + DASH_GAP;
            }
        }
        Swatch::Fill(c, alpha) => {
            panel.draw(&Rectangle::new([(x, y - 7), (x1, y + 7)], c.mix(alpha).filled()))?;
        }
        Swatch::Whisker(c) => {
            let m = x + SWATCH_WIDTH / 2;
            let s = c.stroke_width(1);
            panel.draw(&PathElement::new(vec![(m, y - 8), (m, y + 8)], s))?;
            panel.draw(&PathElement::new(vec![(m - 5, y - 8), (m + 5, y - 8)], s))?;
            panel.draw(&PathElement::new(vec![(m - 5, y + 8), (m + 5, y + 8)], s))?;
        }
        Swatch::LineMarker(c, m) => {
            panel.draw(&PathElement::new(vec![(x, y), (x1, y)], c.stroke_width(LINE_WIDTH)))?;
            draw_marker(panel, (x + SWATCH_WIDTH / 2, y), m, c)?;
        }
        Swatch::Marker(c, m) => draw_marker(panel, (x + SWATCH_WIDTH / 2, y), m, c)?,
    }
    Ok(())
}

/// A vertical line at pixel column `x` of `root`, from `top` to `bottom`,
/// dashed as `(dash, gap)` says.
pub fn vertical_pattern<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x: i32,
    top: i32,
    bottom: i32,
    colour: RGBColor,
    (dash, gap): (i32, i32),
) -> Result<(), Failure> {
    let mut y = top;
    while y < bottom {
        root.draw(&PathElement::new(
            vec![(x, y), (x, (y + dash).min(bottom))],
            colour.stroke_width(THIN_WIDTH),
        ))?;
        y += dash + gap;
    }
    Ok(())
}

/// Pixel offset of line `turn` of `turns` lines that share a column, so
/// each shows beside the others: 0 for one line, ±2 px for two, …
pub fn side_by_side(turn: usize, turns: usize) -> i32 {
    const STEP: i32 = 4;
    (2 * turn as i32 - (turns.max(1) as i32 - 1)) * STEP / 2
}

/// `label` on at most two lines of at most `avail` pixels: broken at the
/// last space that lets the first line fit, the second line cut with an
/// ellipsis if need be.
pub fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    style: &TextStyle,
    avail: u32,
) -> Result<Vec<String>, Failure> {
    let width = |s: &str| -> Result<u32, Failure> { Ok(area.estimate_text_size(s, style)?.0) };
    if width(label)? <= avail {
        return Ok(vec![label.to_string()]);
    }
    let mut split = None;
    for (i, _) in label.match_indices(' ') {
        if width(&label[..i])? <= avail {
            split = Some(i);
        } else {
            break;
        }
    }
    Ok(match split {
        Some(i) => vec![
            label[..i].to_string(),
            fit(area, label[i + 1..].trim_start(), style, avail)?,
        ],
        None => vec![fit(area, label, style, avail)?],
    })
}

/// `label`, cut with an ellipsis so it is at most `avail` pixels wide.
pub fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    style: &TextStyle,
    avail: u32,
) -> Result<String, Failure> {
    fit_with(label, avail, |s| Ok(area.estimate_text_size(s, style)?.0))
}

/// [`fit`] with the text measure given as `width`: the label itself if it
/// fits, else its longest prefix that still fits with `…` appended, else
/// nothing.
///
/// A prefix's width grows with its length (glyph advances are positive;
/// kerning shifts a pair by a fraction of a glyph), so the longest prefix is
/// found by a galloping search from the start (prefixes of 1, 2, 4, 8, …
/// characters) and then a binary search between the last two: `O(log k)`
/// measurements of at most `2k` characters for a cut at `k` characters,
/// after one measurement of the whole label. Cutting a very long label thus
/// costs about one pass over it, not one pass per character.
fn fit_with(label: &str, avail: u32, mut width: impl FnMut(&str) -> Result<u32, Failure>) -> Result<String, Failure> {
    if width(label)? <= avail {
        return Ok(label.to_string());
    }
    // Byte offset where the prefix of `k` characters ends, for k < n.
    let ends: Vec<usize> = label.char_indices().map(|(i, _)| i).collect();
    let n = ends.len();
    let cut = |keep: usize| format!("{}…", &label[..ends[keep]]);
    let mut fits = |keep: usize| -> Result<bool, Failure> { Ok(width(&cut(keep))? <= avail) };
    if n == 0 || !fits(0)? {
        return Ok(String::new());
    }
    // Invariant: `lo` fits; `hi` does not, or is `n` (the whole label, which
    // does not fit).
    let mut lo = 0;
    let mut hi = 1;
    while hi < n && fits(hi)? {
        lo = hi;
        hi *= 2;
    }
    let mut hi = hi.min(n);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(cut(lo))
}

/// A count for an axis tick: 0, 950, 12.5k, 300k, 1.2M.
pub fn count(v: f64) -> String {
    let a = v.abs();
    let (div, suffix) = if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let s = format!("{:.1}", v / div);
    let s = s.strip_suffix(".0").unwrap_or(&s);
    format!("{s}{suffix}")
}

/// An integer with thousands separators: 10,000.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A probability in percent, one decimal, as the reports write it.
pub fn percent(p: f64) -> String {
    crate::report::percent(p)
}

/// A probability with its 95% interval: `56.5% [55.5, 57.5]`.
pub fn probability(p: f64, low: f64, high: f64) -> String {
    crate::report::probability(p, low, high)
}

/// A tick label of a probability axis: `0%`, `20%`, `100%`.
pub fn percent_tick(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// Chip type `k`'s shade of `base`: the base colour for the first type,
/// then alternately darker and lighter, so stacked types stay apart.
pub fn shade(base: RGBColor, k: usize) -> RGBColor {
    let f = match k % 4 {
        0 => return base,
        1 => 0.62,
        2 => 1.45,
        _ => 0.4,
    };
    let c = |v: u8| {
        let v = f64::from(v);
        let out = if f < 1.0 { v * f } else { 255.0 - (255.0 - v) / f };
        out.round().clamp(0.0, 255.0) as u8
    };
    RGBColor(c(base.0), c(base.1), c(base.2))
}

/// Marker shapes, one per milestone (`k % 4`), so lines of the same
/// deadline or of similar colours stay apart, also in grey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A disc.
    Circle,
    /// A square.
    Square,
    /// A triangle, point up.
    Triangle,
    /// A diamond.
    Diamond,
}

/// The marker of milestone `k`.
pub fn marker(k: usize) -> Marker {
    [Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond][k % 4]
}

/// Dash and gap lengths, pixels, of milestone `k`'s deadline line.
pub fn dash_pattern(k: usize) -> (i32, i32) {
    [(DASH, DASH_GAP), (3, 3), (12, 4), (2, 6)][k % 4]
}

/// Draws `marker` filled in `colour`, ringed in the background colour,
/// centred at pixel `(x, y)` of `area`.
pub fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    marker: Marker,
    colour: RGBColor,
) -> Result<(), Failure> {
    let r = MARKER_RADIUS;
    let points: Vec<(i32, i32)> = match marker {
        Marker::Circle => {
            area.draw(&Circle::new((x, y), r, colour.filled()))?;
            area.draw(&Circle::new((x, y), r, BACKGROUND.stroke_width(1)))?;
            return Ok(());
        }
        Marker::Square => vec![
            (x - r + 1, y - r + 1),
            (x + r - 1, y - r + 1),
            (x + r - 1, y + r - 1),
            (x - r + 1, y + r - 1),
        ],
        Marker::Triangle => vec![(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)],
        Marker::Diamond => vec![(x, y - r - 1), (x + r + 1, y), (x, y + r + 1), (x - r - 1, y)],
    };
    area.draw(&Polygon::new(points.clone(), colour.filled()))?;
    let mut ring = points;
    ring.push(ring[0]);
    area.draw(&PathElement::new(ring, BACKGROUND.stroke_width(1)))?;
    Ok(())
}

/// The common subtitle: scenario, trials and seed.
pub fn run_line(scenario: &str, trials: u64, seed: u64) -> String {
    format!("scenario {scenario} · {} trials · seed {seed}", thousands(trials))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(count(0.0), "0");
        assert_eq!(count(950.0), "950");
        assert_eq!(count(12_500.0), "12.5k");
        assert_eq!(count(300_000.0), "300k");
        assert_eq!(count(1_200_000.0), "1.2M");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.0004), "<0.1%");
        assert_eq!(percent(0.5652), "56.5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent_tick(0.6000000000000001), "60%");
        assert_eq!(shade(TRAINING, 0), TRAINING);
        assert_ne!(shade(TRAINING, 1), shade(TRAINING, 2));
    }

    /// The cut as it was computed before the galloping search: every prefix
    /// measured, longest first (quadratic in the label's length).
    fn fit_by_scan(label: &str, avail: u32, width: impl Fn(&str) -> u32) -> String {
        if width(label) <= avail {
            return label.to_string();
        }
        let chars: Vec<char> = label.chars().collect();
        for keep in (0..chars.len()).rev() {
            let mut s: String = chars[..keep].iter().collect();
            s.push('…');
            if width(&s) <= avail {
                return s;
            }
        }
        String::new()
    }

    /// Measures text as the charts do: the embedded font at legend size.
    fn with_font_measure<T>(f: impl FnOnce(&dyn Fn(&str) -> u32) -> T) -> T {
        ensure_font().unwrap();
        let mut svg = String::new();
        let area = plotters::backend::SVGBackend::with_string(&mut svg, (400, 100)).into_drawing_area();
        let style = text(LEGEND_SIZE, TEXT);
        f(&|s: &str| area.estimate_text_size(s, &style).unwrap().0)
    }

    #[test]
    fn fitted_labels_are_those_of_the_full_scan() {
        let names = [
            "dsv3_class",
            "gpt4_class",
            "llama405b_class",
            "frontier_1e26",
            "AVAVAVAV WAVE Type To",
            "trials per 0.1 decade",
            "Ascend 910B, SMIC 7 nm (N+2)",
            "名前の長いマイルストーン",
            "a",
            "",
        ];
        with_font_measure(|width| {
            for name in names {
                for avail in [0, 3, 8, 10, 15, 20, 37, 60, 95, 150, 400] {
                    let new = fit_with(name, avail, |s| Ok(width(s))).unwrap();
                    assert_eq!(new, fit_by_scan(name, avail, width), "{name:?} in {avail} px");
                    assert!(new.is_empty() || width(&new) <= avail || new == name);
                }
            }
            // Pinned outputs, so both cuts cannot drift together.
            assert_eq!(fit_with("dsv3_class", 400, |s| Ok(width(s))).unwrap(), "dsv3_class");
            assert_eq!(fit_with("llama405b_class", 60, |s| Ok(width(s))).unwrap(), "llama40…");
            assert_eq!(fit_with("frontier_1e26", 0, |s| Ok(width(s))).unwrap(), "");
        });
    }

    #[test]
    fn a_very_long_label_costs_about_one_pass() {
        let name = format!("m{}", "x".repeat(29_999));
        // Characters measured, all calls together: one pass over the label
        // plus a little. The measure refuses to go past this budget, so a
        // cut that measured every prefix fails here at once.
        let budget = name.len() + 2_000;
        let (calls, chars) = (std::cell::Cell::new(0usize), std::cell::Cell::new(0usize));
        let fitted = with_font_measure(|width| {
            fit_with(&name, 180, |s| {
                calls.set(calls.get() + 1);
                chars.set(chars.get() + s.chars().count());
                if chars.get() > budget {
                    return Err(Failure(format!(
                        "{} characters measured in {} calls",
                        chars.get(),
                        calls.get()
                    )));
                }
                Ok(width(s))
            })
        });
        let fitted = fitted.unwrap_or_else(|e| panic!("over budget: {}", e.0));
        assert!(fitted.starts_with("mxx") && fitted.ends_with('…'), "{fitted}");
        assert!(fitted.chars().count() < 40, "{fitted}");
        assert!(width_fits(&fitted, 180));
        // One measurement of the whole label, then O(log k) short prefixes.
        assert!(calls.get() <= 2 * 15 + 2, "{} measurements", calls.get());
    }

    fn width_fits(s: &str, avail: u32) -> bool {
        with_font_measure(|width| width(s) <= avail)
    }
}
