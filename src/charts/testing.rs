//! Checks shared by the tests of the strategy charts: the chart is an SVG
//! document of well-formed XML and a PNG of the page size, and drawing it
//! again gives the same bytes.

use super::{Chart, HEIGHT, WIDTH};

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Width and height of a PNG, decoding its header.
pub fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = ::png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("PNG decodes");
    (reader.info().width, reader.info().height)
}

/// The RGB pixels of a PNG.
pub fn png_pixels(bytes: &[u8]) -> Vec<u8> {
    let mut reader = ::png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("PNG decodes");
    let mut buf = vec![0; reader.output_buffer_size().expect("PNG size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame decodes");
    buf.truncate(info.buffer_size());
    buf
}

/// Whether `svg` is well-formed XML as far as these charts go: every tag
/// closed in order, attribute values quoted, and `&` only in entities.
pub fn well_formed(svg: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(at) = rest.find(['<', '&']) {
        rest = &rest[at..];
        if rest.starts_with('&') {
            let end = rest.find(';').ok_or("& without ;")?;
            let entity = &rest[1..end];
            let known =
                ["amp", "lt", "gt", "quot", "apos"].contains(&entity) || (entity.starts_with('#') && entity.len() > 1);
            if !known {
                return Err(format!("unknown entity &{entity};"));
            }
            rest = &rest[end + 1..];
            continue;
        }
        let end = tag_end(rest).ok_or("tag not closed")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(o) if o == name.trim() => {}
                o => return Err(format!("</{name}> closes {o:?}")),
            }
            continue;
        }
        let name = tag.split([' ', '\n', '\t', '/']).next().unwrap_or_default();
        if name.is_empty() {
            return Err(format!("tag without a name: <{tag}>"));
        }
        check_attributes(&tag[name.len()..])?;
        if !tag.ends_with('/') {
            open.push(name);
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(format!("not closed: {open:?}"))
    }
}

/// End of the tag that starts `s` (the `>` outside quotes).
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

/// Attributes: `name="value"` pairs, values without `<` and with `&` only
/// in entities.
fn check_attributes(mut s: &str) -> Result<(), String> {
    s = s.trim_end_matches('/').trim();
    while !s.is_empty() {
        let eq = s.find('=').ok_or_else(|| format!("attribute without value: {s}"))?;
        let quote = s[eq + 1..].chars().next().ok_or("attribute value missing")?;
        if quote != '"' && quote != '\'' {
            return Err(format!("unquoted attribute: {s}"));
        }
        let value_start = eq + 2;
        let len = s[value_start..].find(quote).ok_or("attribute value not closed")?;
        let value = &s[value_start..value_start + len];
        if value.contains('<') {
            return Err(format!("< in attribute {value}"));
        }
        if value.contains('&') {
            well_formed(value)?;
        }
        s = s[value_start + len + 1..].trim_start();
    }
    Ok(())
}

/// Checks a chart: its stem, an SVG document of the page size that is
/// well-formed XML, a PNG of the page size that decodes.
pub fn check(chart: &Chart, stem: &str) {
    assert_eq!(chart.stem, stem);
    assert!(chart.svg.starts_with("<svg"), "{}: {}", chart.stem, &chart.svg[..40]);
    assert!(
        chart.svg.contains(&format!(r#"width="{WIDTH}" height="{HEIGHT}""#)),
        "{}",
        chart.stem
    );
    assert!(chart.svg.trim_end().ends_with("</svg>"), "{}", chart.stem);
    if let Err(e) = well_formed(&chart.svg) {
        panic!("{}: SVG is not well-formed XML: {e}", chart.stem);
    }
    assert!(chart.png.starts_with(&PNG_SIGNATURE), "{}", chart.stem);
    assert_eq!(png_size(&chart.png), (WIDTH, HEIGHT), "{}", chart.stem);
    assert_eq!(png_pixels(&chart.png).len(), (WIDTH * HEIGHT * 3) as usize);
}

/// Checks `draw`'s chart as [`check`] does, and that drawing it again gives
/// the same bytes; returns the chart.
pub fn check_twice(stem: &str, draw: impl Fn() -> Chart) -> Chart {
    let chart = draw();
    check(&chart, stem);
    assert_eq!(chart, draw(), "{stem}: two renders differ");
    chart
}

/// Whether the SVG has a text element reading exactly `text`.
pub fn has_text(svg: &str, text: &str) -> bool {
    svg.contains(&format!(">\n{text}\n</text>"))
}

/// The default scenario without its `[[observe]]` tables (everything from
/// the first one on is left out: they are the file's last tables).
pub fn default_without_evidence() -> &'static str {
    let text = include_str!("../../scenarios/default.toml");
    let cut = text
        .find("\n[[observe]]")
        .expect("the default scenario has observations");
    assert!(!text[cut..].contains("\n[milestones") && !text[cut..].contains("\n[[expect]]"));
    &text[..cut + 1]
}

/// The summary of the default scenario, 500 trials, conditioned on its two
/// observations: a hard one (fewer than 30,000 chips delivered by the end
/// of 2024Q2) and a soft one (less than 2e25 FLOP by the end of 2026Q2,
/// confidence 0.8). Computed once.
pub fn evidence_summary() -> crate::results::Summary {
    static SUMMARY: std::sync::OnceLock<crate::results::Summary> = std::sync::OnceLock::new();
    SUMMARY
        .get_or_init(|| {
            let text = format!("{}{}", default_without_evidence(), OBSERVATIONS);
            let model = crate::model::Model::from_text(&text, "observed.toml").expect("scenario parses");
            let agg = crate::trials::run_trials(&model, 20241202, 0..500, Some(1)).expect("trials run");
            let s = crate::results::Summary::new(&model, &agg, 20241202, "hash");
            assert!(s.evidence.is_some(), "the observations condition the run");
            s
        })
        .clone()
}

/// The observations of [`evidence_summary`].
pub const OBSERVATIONS: &str = r#"
[[observe]]
name = "buyer_under_30k_by_july_2024"
quantity = "delivered_chips"
line = "bytedance_910b"
by = "2024Q2"
below = 30000
source = "Reuters, Sept 2024"

[[observe]]
name = "no_public_2e25_run_by_mid_2026"
quantity = "training_flop_domestic"
by = "2026Q2"
below = 2e25
confidence = 0.8
"#;

/// Writes `chart` as `<dir>/<name>.png` and `.svg`, for a person to look at.
pub fn write_preview(dir: &std::path::Path, name: &str, chart: &Chart) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("{name}.svg")), &chart.svg).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &chart.png).unwrap();
}

#[test]
fn the_xml_check_finds_broken_documents() {
    assert!(well_formed(r#"<svg a="1"><text x='2'>a &amp; b</text><rect/></svg>"#).is_ok());
    assert!(well_formed("<svg><g></svg>").is_err());
    assert!(well_formed("<svg>a & b</svg>").is_err());
    assert!(well_formed(r#"<svg a=1></svg>"#).is_err());
    assert!(well_formed(r#"<svg a="<"></svg>"#).is_err());
    assert!(well_formed("<svg>").is_err());
}

/// Asserts that `subtitle`, set in the subtitle font, fits the page width
/// with the chart's margins.
pub fn assert_subtitle_fits(subtitle: &str) {
    use plotters::prelude::*;
    super::style::ensure_font().unwrap();
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
    let width = area
        .estimate_text_size(
            subtitle,
            &super::style::text(super::style::SUBTITLE_SIZE, super::style::MUTED),
        )
        .unwrap()
        .0;
    assert!(
        width + 2 * (super::style::MARGIN + 4) <= WIDTH,
        "{width} px: {subtitle}"
    );
}
