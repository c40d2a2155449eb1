//! Text set inside a plot (contour levels, values, point labels): on a
//! light box so lines under it do not cross it, and at the first of some
//! candidate spots that stays in the plot and clear of what was set before.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Failure;
use super::style;

/// Opacity of the box under a label.
const BOX: f64 = 0.85;
/// Room around the text inside its box, pixels.
const PAD: i32 = 2;

/// A rectangle of pixels: left, top, right, bottom.
pub type PixelBox = (i32, i32, i32, i32);

/// Whether two boxes come closer than `gap` pixels.
pub fn overlaps(a: PixelBox, b: PixelBox, gap: i32) -> bool {
    a.0 < b.2 + gap && b.0 < a.2 + gap && a.1 < b.3 + gap && b.1 < a.3 + gap
}

/// Whether a box lies inside the pixel ranges of a plot.
pub fn inside(b: PixelBox, x: &Range<i32>, y: &Range<i32>) -> bool {
    b.0 >= x.start && b.2 <= x.end && b.1 >= y.start && b.3 <= y.end
}

/// Width and height of `text` set in `font`, pixels.
pub fn size<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    font: &TextStyle,
) -> Result<(i32, i32), Failure> {
    let (w, h) = root.estimate_text_size(text, font)?;
    Ok((w as i32, h as i32))
}

/// The box of text `(w, h)` pixels in size whose left end is at `x` and
/// whose middle is at `y`.
pub fn text_box((w, h): (i32, i32), (x, y): (i32, i32)) -> PixelBox {
    (x - PAD, y - h / 2 - PAD, x + w + PAD, y + h / 2 + PAD)
}

/// Draws `text` in `font` on a light box, its left end at `x` and its
/// middle at `y` (pixels of `root`); returns the box.
pub fn boxed_text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    font: &TextStyle,
    (x, y): (i32, i32),
) -> Result<PixelBox, Failure> {
    let b = text_box(size(root, text, font)?, (x, y));
    root.draw(&Rectangle::new(
        [(b.0, b.1), (b.2, b.3)],
        style::BACKGROUND.mix(BOX).filled(),
    ))?;
    root.draw_text(text, &font.clone().pos(Pos::new(HPos::Left, VPos::Center)), (x, y))?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_overlap_within_their_gap() {
        let a = (0, 0, 10, 10);
        assert!(overlaps(a, (5, 5, 20, 20), 0));
        assert!(!overlaps(a, (12, 0, 20, 10), 0));
        assert!(overlaps(a, (12, 0, 20, 10), 4));
        assert!(inside(a, &(0..10), &(0..10)) && !inside(a, &(1..10), &(0..10)));
        assert_eq!(text_box((20, 10), (100, 50)), (98, 43, 122, 57));
    }
}
