//! PNG encoding of a drawn RGB buffer, in memory (charts write no files).

/// Encodes 8-bit RGB pixels, row by row, as PNG file bytes.
pub fn encode(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| format!("PNG header: {e}"))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| format!("PNG image data: {e}"))?;
    writer.finish().map_err(|e| format!("PNG end: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_image_round_trips() {
        let pixels = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9];
        let bytes = encode(&pixels, 2, 2).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(&bytes)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (2, 2));
        assert_eq!(&buf[..info.buffer_size()], &pixels);
    }

    #[test]
    fn a_buffer_of_the_wrong_size_is_an_error() {
        assert!(encode(&[0; 5], 2, 2).is_err());
    }
}
