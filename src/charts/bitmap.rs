//! The PNG drawing backend: plotters' `BitMapBackend` for shapes, and text
//! set here with ab_glyph.
//!
//! Plotters' bitmap text path (plotters 0.3.7, `style/font/ab_glyph.rs`)
//! places each glyph at its pen position truncated to a whole pixel and
//! drops the glyph's left side bearing, so gaps between letters vary by up
//! to two pixels ("qu arter"); and it puts each glyph's top edge at
//! `(size / 2 + top) as i32`, which rounds toward zero, so at odd sizes a
//! short glyph such as '.' lands a pixel above the digits' baseline
//! ("3·3e24"). Here a line of text is laid out once: every glyph at its
//! exact sub-pixel pen position (advances plus kerning), all on one
//! baseline, and each glyph's anti-aliased coverage is blended into the
//! image. Widths are those plotters estimates, so layouts do not move.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};

use super::style::FONT;

/// A `BitMapBackend` whose text is drawn with [`draw_line_of_text`].
pub struct PngBackend<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> PngBackend<'a> {
    /// A backend drawing into `buffer` (8-bit RGB, `size.0 × size.1`).
    pub fn with_buffer(buffer: &'a mut [u8], size: (u32, u32)) -> Result<PngBackend<'a>, String> {
        let font =
            FontRef::try_from_slice(FONT).map_err(|_| "the embedded font DejaVuSans.ttf cannot be read".to_string())?;
        Ok(PngBackend {
            inner: BitMapBackend::with_buffer(buffer, size),
            font,
        })
    }
}

/// Glyphs of one line of text at a size: `(glyph, pen x)` from the start
/// of the line, and the line's advance width, in pixels.
pub fn layout(font: &FontRef<'_>, size: f64, text: &str) -> (Vec<(ab_glyph::GlyphId, f32)>, f32) {
    let scaled = font.as_scaled(PxScale::from(size as f32));
    let mut x = 0.0f32;
    let mut prev = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            x += scaled.kern(p, id);
        }
        glyphs.push((id, x));
        x += scaled.h_advance(id);
        prev = Some(id);
    }
    (glyphs, x)
}

/// Height above the baseline of a glyph's ink (`'H'` gives the cap height,
/// `'x'` the x-height), in pixels at `size`.
fn ink_height(font: &FontRef<'_>, size: f64, c: char) -> f32 {
    let scaled = font.as_scaled(PxScale::from(size as f32));
    font.outline(scaled.glyph_id(c))
        // ab_glyph keeps the top of the ink, in font units upwards, as `min.y`.
        .map_or(0.0, |o| o.bounds.min.y * scaled.v_scale_factor())
}

/// Draws one line of `text` anchored at `pos` as `style` says (anchor,
/// rotation, size, colour), calling `pixel(x, y, coverage)` for every pixel
/// a glyph covers. The baseline sits as SVG puts it (plotters' SVG backend
/// uses `dy` 0.76 em, 0.5 ex and −0.5 ex): for a top anchor the capitals'
/// tops touch the anchor, for a centre anchor the lower-case letters are
/// centred on it, for a bottom anchor the baseline is half an x-height above it.
pub fn draw_line_of_text<S: BackendTextStyle>(
    font: &FontRef<'_>,
    text: &str,
    style: &S,
    pos: BackendCoord,
    mut pixel: impl FnMut(i32, i32, f32),
) {
    let size = style.size();
    let (glyphs, width) = layout(font, size, text);
    let dx = match style.anchor().h_pos {
        HPos::Left => 0.0,
        HPos::Center => -width / 2.0,
        HPos::Right => -width,
    };
    let x_height = ink_height(font, size, 'x');
    let baseline = match style.anchor().v_pos {
        VPos::Top => ink_height(font, size, 'H'),
        VPos::Center => x_height / 2.0,
        VPos::Bottom => -x_height / 2.0,
    }
    .round();
    let transform = style.transform();
    let scale = PxScale::from(size as f32);
    for (id, x) in glyphs {
        let glyph = id.with_scale_and_position(scale, point(dx + x, baseline));
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let min = outline.px_bounds().min;
        outline.draw(|gx, gy, coverage| {
            if coverage > 0.0 {
                let (x, y) = transform.transform(min.x as i32 + gx as i32, min.y as i32 + gy as i32);
                pixel(pos.0 + x, pos.1 + y, coverage.min(1.0));
            }
        });
    }
}

impl DrawingBackend for PngBackend<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let mut result = Ok(());
        let inner = &mut self.inner;
        draw_line_of_text(&self.font, text, style, pos, |x, y, coverage| {
            if result.is_ok() {
                let c = BackendColor {
                    alpha: color.alpha * f64::from(coverage),
                    rgb: color.rgb,
                };
                result = inner.draw_pixel((x, y), c);
            }
        });
        result
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (iw, ih): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, (iw, ih), src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::style;
    use plotters::prelude::*;
    use plotters::style::text_anchor::Pos;

    /// Renders `text` at `size` on a white strip and returns the grey
    /// levels (0 white … 255 black) of each pixel, row by row.
    fn render(text: &str, size: f64, width: u32, height: u32) -> Vec<Vec<u8>> {
        style::ensure_font().unwrap();
        let mut buf = vec![255u8; (width * height * 3) as usize];
        {
            let root = PngBackend::with_buffer(&mut buf, (width, height))
                .unwrap()
                .into_drawing_area();
            let s = style::text(size, style::TEXT).pos(Pos::new(HPos::Left, VPos::Top));
            root.draw_text(text, &s, (2, 2)).unwrap();
            root.present().unwrap();
        }
        (0..height as usize)
            .map(|y| {
                (0..width as usize)
                    .map(|x| 255 - buf[(y * width as usize + x) * 3])
                    .collect()
            })
            .collect()
    }

    /// Lowest inked row (the baseline for glyphs without descenders) of the
    /// columns `x0..x1`.
    fn bottom(rows: &[Vec<u8>], x0: usize, x1: usize) -> usize {
        rows.iter()
            .rposition(|r| r[x0..x1].iter().any(|&v| v > 64))
            .unwrap_or(0)
    }

    /// Pen positions of each character of `text` at `size`, pixels.
    fn pens(text: &str, size: f64) -> Vec<f32> {
        let font = FontRef::try_from_slice(FONT).unwrap();
        layout(&font, size, text).0.iter().map(|g| g.1).collect()
    }

    #[test]
    fn a_decimal_point_sits_on_the_baseline_of_its_digits() {
        for size in [13.0, 14.0, 15.0] {
            let rows = render("3.3e24", size, 80, 30);
            let x = pens("3.3e24", size);
            let col = |i: usize| (x[i] as usize + 2, x[i + 1] as usize + 2);
            let (d0, d1) = col(0);
            let (p0, p1) = col(1);
            assert_eq!(
                bottom(&rows, p0, p1),
                bottom(&rows, d0, d1),
                "size {size}: '.' and '3' end on different rows"
            );
        }
    }

    /// Ink per column of `text` set at `size` from x = 2 by `backend`
    /// (coverage units: a fully covered pixel counts 1).
    fn column_ink(text: &str, size: f64, plotters_text: bool) -> Vec<f32> {
        let (w, h) = (240u32, 30u32);
        style::ensure_font().unwrap();
        let mut buf = vec![255u8; (w * h * 3) as usize];
        let s = style::text(size, style::TEXT).pos(Pos::new(HPos::Left, VPos::Top));
        if plotters_text {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            root.draw_text(text, &s, (2, 2)).unwrap();
            root.present().unwrap();
        } else {
            let root = PngBackend::with_buffer(&mut buf, (w, h)).unwrap().into_drawing_area();
            root.draw_text(text, &s, (2, 2)).unwrap();
            root.present().unwrap();
        }
        let ink = f32::from(255 - style::TEXT.0);
        (0..w as usize)
            .map(|x| {
                (0..h as usize)
                    .map(|y| f32::from(255 - buf[(y * w as usize + x) * 3]) / ink)
                    .sum()
            })
            .collect()
    }

    /// The same, from each glyph outlined alone at its exact pen position
    /// (advances and kerning, no rounding): the text as the font means it.
    fn reference_ink(text: &str, size: f64) -> Vec<f32> {
        let font = FontRef::try_from_slice(FONT).unwrap();
        let scaled = font.as_scaled(PxScale::from(size as f32));
        let mut ink = vec![0.0f32; 240];
        let (mut pen, mut prev) = (2.0f32, None);
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            if let Some(g) = font.outline_glyph(id.with_scale_and_position(scaled.scale, point(pen, 20.0))) {
                let x0 = g.px_bounds().min.x as i32;
                g.draw(|x, _, c| ink[(x0 + x as i32) as usize] += c.min(1.0));
            }
            pen += scaled.h_advance(id);
            prev = Some(id);
        }
        ink
    }

    #[test]
    fn letters_sit_at_their_pen_positions() {
        // Column by column, the ink matches the glyphs drawn at their exact
        // pen positions; plotters' own bitmap text, which drops side
        // bearings and rounds pens, misses it by a pixel's worth somewhere.
        for size in [13.0, 14.0, 16.0] {
            for text in ["quarter 3.3e24", "probability reached", "Ascend 910B-equivalents"] {
                let want = reference_ink(text, size);
                let worst = |got: &[f32]| got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max);
                let ours = worst(&column_ink(text, size, false));
                assert!(ours < 0.35, "size {size}, {text:?}: off by {ours}");
                let theirs = worst(&column_ink(text, size, true));
                assert!(
                    theirs > 1.0,
                    "size {size}, {text:?}: plotters' text off by only {theirs}"
                );
            }
        }
    }

    /// Writes "quarter 3.3e24" at the charts' sizes, set by this backend
    /// (left) and by plotters' own bitmap text (right), four times enlarged,
    /// to /tmp/charts/text.png for a person to look at:
    /// `cargo test --lib bitmap -- --ignored`.
    #[test]
    #[ignore]
    fn write_text_sample_for_review() {
        style::ensure_font().unwrap();
        let (w, h) = (120u32, 80u32);
        let draw = |plotters_text: bool| {
            let mut buf = vec![255u8; (w * h * 3) as usize];
            let lines = [13.0, 14.0, 15.0, 16.0].into_iter().enumerate();
            if plotters_text {
                let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
                for (i, size) in lines {
                    root.draw_text(
                        "quarter 3.3e24",
                        &style::text(size, style::TEXT),
                        (4, 4 + 19 * i as i32),
                    )
                    .unwrap();
                }
            } else {
                let root = PngBackend::with_buffer(&mut buf, (w, h)).unwrap().into_drawing_area();
                for (i, size) in lines {
                    root.draw_text(
                        "quarter 3.3e24",
                        &style::text(size, style::TEXT),
                        (4, 4 + 19 * i as i32),
                    )
                    .unwrap();
                }
            }
            buf
        };
        let (ours, theirs) = (draw(false), draw(true));
        let zoom = 4usize;
        let (zw, zh) = (2 * w as usize * zoom, h as usize * zoom);
        let mut out = vec![0u8; zw * zh * 3];
        for y in 0..zh {
            for x in 0..zw {
                let (src, sx) = if x < zw / 2 {
                    (&ours, x / zoom)
                } else {
                    (&theirs, (x - zw / 2) / zoom)
                };
                let at = ((y / zoom) * w as usize + sx) * 3;
                out[(y * zw + x) * 3..(y * zw + x) * 3 + 3].copy_from_slice(&src[at..at + 3]);
            }
        }
        std::fs::create_dir_all("/tmp/charts").unwrap();
        let bytes = crate::charts::png::encode(&out, zw as u32, zh as u32).unwrap();
        std::fs::write("/tmp/charts/text.png", bytes).unwrap();
    }
}
