//! Charts: pure functions from results to drawings, each rendered as SVG
//! text and as PNG bytes. Sizes, colours and the embedded font are
//! constants, so the same results always give the same files.

use crate::results::{MilestoneResult, Summary};

/// Width of every chart, pixels.
pub const WIDTH: u32 = 960;
/// Height of every chart, pixels.
pub const HEIGHT: u32 = 540;

/// One rendered chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File stem: the chart is written as `<stem>.svg` and `<stem>.png`.
    pub stem: &'static str,
    /// Human title, for reports.
    pub title: String,
    /// SVG document.
    pub svg: String,
    /// PNG file bytes.
    pub png: Vec<u8>,
}

/// A chart that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw chart {chart}: {message}")]
pub struct ChartError {
    /// Which chart.
    pub chart: String,
    /// What went wrong.
    pub message: String,
}

/// The four charts of one run: deliveries fan, milestone curves, training
/// compute distribution, allocation.
pub fn render_all(summary: &Summary) -> Result<Vec<Chart>, ChartError> {
    let _ = summary;
    Err(ChartError { chart: "all".into(), message: "not drawn yet".into() })
}

/// The batch comparison chart: each scenario's milestone probabilities with
/// their 95% intervals, side by side.
pub fn batch_comparison(rows: &[(String, Vec<MilestoneResult>)]) -> Result<Chart, ChartError> {
    let _ = rows;
    Err(ChartError { chart: "batch".into(), message: "not drawn yet".into() })
}
