//! Reports: `report.html` (one self-contained page, charts inlined as SVG)
//! and `report.md` (for pasting into documents, charts as PNG links).

use crate::charts::Chart;
use crate::results::Summary;

/// `report.html`.
pub fn html(summary: &Summary, charts: &[Chart]) -> Vec<u8> {
    let _ = (summary, charts);
    Vec::new()
}

/// `report.md`; charts are referenced as `<stem>.png` next to it.
pub fn markdown(summary: &Summary, charts: &[Chart]) -> Vec<u8> {
    let _ = (summary, charts);
    Vec::new()
}
