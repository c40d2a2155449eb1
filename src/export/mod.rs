//! Exporters: each turns a [`Summary`] into the bytes of one output file.
//! Only [`crate::output`] writes files.

pub mod csv;
pub mod table;

use crate::results::Summary;

/// `summary.json`: the summary, pretty-printed, with a trailing newline.
pub fn summary_json(summary: &Summary) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(summary).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
