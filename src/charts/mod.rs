//! Charts: pure functions from results to drawings, each rendered as SVG
//! text and as PNG bytes. Sizes, colours and the embedded font are
//! constants, so the same results always give the same files.
//!
//! Each chart is one function generic over the plotters backend, so the SVG
//! and the PNG are the same drawing: [`deliveries`], [`milestones`],
//! [`training_flop`], [`allocation`], [`evidence`] (a run with
//! `[[observe]]` only) and [`batch`].

mod allocation;
mod axis;
mod batch;
mod bitmap;
mod compare;
mod deliveries;
mod evidence;
mod frontier;
mod milestones;
mod place;
mod png;
mod rows;
mod scale;
mod sobol;
mod style;
mod supply;
mod sweep;
#[cfg(test)]
mod testing;
mod tornado;
mod training_flop;

pub use compare::{CurveMilestone, CurveVariant, DifferenceRow, compare_curves, compare_difference};
pub use frontier::{FrontierPoint, frontier};
pub use sobol::{SobolBar, sobol_bars};
pub use sweep::{SweepPoint, SweepSeries, sweep_heatmap, sweep_line};
pub use tornado::{TornadoBar, tornado};

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;

use crate::results::{MilestoneResult, Summary};
use crate::stats::clopper_pearson;

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

/// Stems of the charts drawn only for a run with `[[observe]]` evidence:
/// prior against posterior per milestone, and the inputs that moved most.
pub const EVIDENCE_STEMS: [&str; 2] = [evidence::MILESTONES_STEM, evidence::INPUTS_STEM];

/// The charts of one run: deliveries fan, milestone curves, training
/// compute distribution, allocation; with suppliers, supplier output
/// ([`supply`]); with evidence (`summary.evidence`), then the two evidence
/// charts ([`EVIDENCE_STEMS`]).
pub fn render_all(summary: &Summary) -> Result<Vec<Chart>, ChartError> {
    let s = summary;
    let mut charts = vec![
        render(
            deliveries::STEM,
            deliveries::title(s),
            |a| deliveries::draw(a, s),
            |a| deliveries::draw(a, s),
        )?,
        render(
            milestones::STEM,
            milestones::title(s),
            |a| milestones::draw(a, s),
            |a| milestones::draw(a, s),
        )?,
        render(
            training_flop::STEM,
            training_flop::title(s),
            |a| training_flop::draw(a, s),
            |a| training_flop::draw(a, s),
        )?,
        render(
            allocation::STEM,
            allocation::title(s),
            |a| allocation::draw(a, s),
            |a| allocation::draw(a, s),
        )?,
    ];
    if !s.suppliers.is_empty() {
        charts.push(render(
            supply::STEM,
            supply::title(s),
            |a| supply::draw(a, s),
            |a| supply::draw(a, s),
        )?);
    }
    if s.evidence.is_some() {
        charts.push(render(
            evidence::MILESTONES_STEM,
            evidence::milestones_title(s),
            |a| evidence::draw_milestones(a, s),
            |a| evidence::draw_milestones(a, s),
        )?);
        charts.push(render(
            evidence::INPUTS_STEM,
            evidence::inputs_title(s),
            |a| evidence::draw_inputs(a, s),
            |a| evidence::draw_inputs(a, s),
        )?);
    }
    Ok(charts)
}

/// The batch comparison chart: each scenario's milestone probabilities with
/// their 95% intervals, side by side.
pub fn batch_comparison(rows: &[(String, Vec<MilestoneResult>)]) -> Result<Chart, ChartError> {
    render(
        batch::STEM,
        batch::title(rows),
        |a| batch::draw(a, rows),
        |a| batch::draw(a, rows),
    )
}

/// Why a drawing stopped, before it is tied to a chart's name.
#[derive(Debug)]
struct Failure(String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for Failure {
    fn from(e: DrawingAreaErrorKind<E>) -> Failure {
        Failure(e.to_string())
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure(message)
    }
}

/// Draws one chart on both backends: `svg` and `png` are the same drawing
/// function, instantiated for each.
fn render(
    stem: &'static str,
    title: String,
    svg: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), Failure>,
    png: impl FnOnce(&DrawingArea<bitmap::PngBackend<'_>, Shift>) -> Result<(), Failure>,
) -> Result<Chart, ChartError> {
    let fail = |Failure(message)| ChartError {
        chart: stem.to_string(),
        message,
    };
    style::ensure_font().map_err(|m| fail(Failure(m)))?;

    let mut svg_text = String::new();
    {
        let root = SVGBackend::with_string(&mut svg_text, (WIDTH, HEIGHT)).into_drawing_area();
        svg(&root).map_err(fail)?;
        root.present().map_err(|e| fail(e.into()))?;
    }

    let mut pixels = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = bitmap::PngBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT))
            .map_err(|m| fail(Failure(m)))?
            .into_drawing_area();
        png(&root).map_err(fail)?;
        root.present().map_err(|e| fail(e.into()))?;
    }
    let png_bytes = png::encode(&pixels, WIDTH, HEIGHT).map_err(|m| fail(Failure(m)))?;

    Ok(Chart {
        stem,
        title,
        svg: svg_text,
        png: png_bytes,
    })
}

/// Percentiles of one metric per quarter, in the order of `Summary::quarters`
/// (zero where a quarter has no row).
#[derive(Debug, Clone, Default)]
struct Fan {
    p5: Vec<f64>,
    p25: Vec<f64>,
    p50: Vec<f64>,
    p75: Vec<f64>,
    p95: Vec<f64>,
}

impl Fan {
    fn of(s: &Summary, metric: &str) -> Fan {
        let mut fan = Fan::default();
        for q in &s.quarters {
            let row = s.quarter_row(q, metric);
            let get = |f: fn(&crate::results::QuarterRow) -> f64| row.map_or(0.0, |r| axis::finite(f(r)));
            fan.p5.push(get(|r| r.p5));
            fan.p25.push(get(|r| r.p25));
            fan.p50.push(get(|r| r.p50));
            fan.p75.push(get(|r| r.p75));
            fan.p95.push(get(|r| r.p95));
        }
        fan
    }
}

/// The chip type charts count chips in: the inference demand's unit chip,
/// else the first domestic type, else the first type. Other types count as
/// many of it as their peak FLOP/s is worth (one 910C ≈ 2.4 910Bs).
#[derive(Debug, Clone)]
struct Unit {
    /// Chip type id.
    name: String,
    /// Its peak FLOP/s.
    peak_flops: f64,
}

impl Unit {
    fn of(s: &Summary) -> Option<Unit> {
        let by_name = |n: &String| s.chip_types.iter().find(|c| &c.name == n);
        let chip = s
            .inference_unit_chip
            .as_ref()
            .and_then(by_name)
            .or_else(|| s.chip_types.iter().find(|c| c.domestic))
            .or_else(|| s.chip_types.first())?;
        (chip.peak_flops.is_finite() && chip.peak_flops > 0.0).then(|| Unit {
            name: chip.name.clone(),
            peak_flops: chip.peak_flops,
        })
    }

    /// How many unit chips one chip of `peak_flops` is worth.
    fn worth(&self, peak_flops: f64) -> f64 {
        axis::finite(peak_flops / self.peak_flops)
    }

    /// The y axis description: `ascend_910b-equivalents (320 TFLOP/s each)`.
    fn axis(&self) -> String {
        format!("{}-equivalents ({:.0} TFLOP/s each)", self.name, self.peak_flops / 1e12)
    }
}

/// Median per quarter of a per-chip-type metric, in unit chips.
fn chip_median(s: &Summary, chip: &crate::results::ChipType, metric: &str, unit: &Unit) -> Vec<f64> {
    let worth = unit.worth(chip.peak_flops);
    s.quarters
        .iter()
        .map(|q| {
            s.quarterly_by_chip
                .iter()
                .find(|r| &r.quarter == q && r.chip == chip.name && r.metric == metric)
                .map_or(0.0, |r| axis::finite(r.p50) * worth)
        })
        .collect()
}

/// 95% Clopper–Pearson interval of a share observed over `trials`.
fn ci95(p: f64, trials: u64) -> (f64, f64) {
    let p = axis::finite(p).clamp(0.0, 1.0);
    let successes = ((p * trials as f64).round() as u64).min(trials);
    clopper_pearson(successes, trials, 0.05)
}

/// The subtitles' run line: scenario, trials and seed, the trials called
/// the posterior's where the summary is conditioned on evidence.
fn run_line(s: &Summary) -> String {
    let line = style::run_line(&s.scenario, s.trials, s.seed);
    if s.evidence.is_some() {
        line.replacen(" · ", " · posterior of ", 1)
    } else {
        line
    }
}

/// How many trials a share's interval counts: all of them, or with
/// evidence the posterior's effective sample size (Kish), so bands of
/// the posterior are as wide as its weights make them.
fn sample_size(s: &Summary) -> u64 {
    match s.evidence.as_ref().map(|e| e.effective_sample_size) {
        Some(ess) if ess.is_finite() && ess >= 0.0 => ess.round() as u64,
        _ => s.trials,
    }
}

/// Position of a quarter label on the quarter axis.
fn quarter_index(s: &Summary, label: &str) -> Option<usize> {
    s.quarters.iter().position(|q| q == label)
}

/// Colour of the `k`-th milestone or scenario.
fn palette(k: usize) -> RGBColor {
    style::PALETTE[k % style::PALETTE.len()]
}

/// A chart over quarters with a numeric y axis.
type QuarterPlot<'a, DB> = ChartContext<'a, DB, Cartesian2d<axis::LabelAxis, RangedCoordf64>>;

/// The axes every chart shares: light grid, muted tick labels, described axes.
fn styled_mesh<'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'b mut MeshStyle<'a, 'b, X, Y, DB>,
    x_desc: &str,
    y_desc: &str,
) -> &'b mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.bold_line_style(style::GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(style::AXIS)
        .label_style(style::text(style::TICK_SIZE, style::AXIS))
        .axis_desc_style(style::text(style::AXIS_DESC_SIZE, style::TEXT))
        .set_all_tick_mark_size(4)
        .y_labels(7)
        .x_desc(x_desc)
        .y_desc(y_desc)
}

/// Axes for per-quarter series: quarters on x, `0..y_max` on y.
fn quarter_plot<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    quarters: &[String],
    y_max: f64,
    y_desc: &str,
    y_format: &dyn Fn(&f64) -> String,
) -> Result<QuarterPlot<'a, DB>, Failure> {
    let mut chart = ChartBuilder::on(area)
        .margin(style::MARGIN)
        .x_label_area_size(style::X_LABEL_AREA)
        .y_label_area_size(style::Y_LABEL_AREA)
        .build_cartesian_2d(axis::LabelAxis::quarters(quarters), 0.0..y_max)?;
    styled_mesh(&mut chart.configure_mesh(), "quarter (end of)", y_desc)
        .y_label_formatter(y_format)
        .draw()?;
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::trials::run_trials;

    const SEED: u64 = 20241202;
    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

    fn summary_of(text: &str, trials: u64) -> Summary {
        let model = Model::from_text(text, "scenario.toml").expect("scenario parses");
        let agg = run_trials(&model, SEED, 0..trials, Some(1)).expect("trials run");
        Summary::new(&model, &agg, SEED, "hash")
    }

    fn default_summary() -> Summary {
        static SUMMARY: std::sync::OnceLock<Summary> = std::sync::OnceLock::new();
        SUMMARY
            .get_or_init(|| summary_of(crate::charts::testing::default_without_evidence(), 500))
            .clone()
    }

    fn png_size(bytes: &[u8]) -> (u32, u32) {
        let reader = ::png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .expect("PNG decodes");
        (reader.info().width, reader.info().height)
    }

    /// Whether the SVG has a text element reading exactly `text`.
    fn has_text(svg: &str, text: &str) -> bool {
        svg.contains(&format!(">\n{text}\n</text>"))
    }

    fn check(chart: &Chart) {
        assert!(chart.svg.starts_with("<svg"), "{}: {}", chart.stem, &chart.svg[..40]);
        assert!(chart.svg.contains(r#"width="960" height="540""#), "{}", chart.stem);
        assert!(chart.svg.trim_end().ends_with("</svg>"), "{}", chart.stem);
        assert!(chart.png.starts_with(&PNG_SIGNATURE), "{}", chart.stem);
        assert_eq!(png_size(&chart.png), (WIDTH, HEIGHT), "{}", chart.stem);
        assert!(!chart.title.is_empty());
    }

    fn check_all(s: &Summary) -> Vec<Chart> {
        let charts = render_all(s).expect("charts render");
        let stems: Vec<&str> = charts.iter().map(|c| c.stem).collect();
        assert_eq!(stems, ["deliveries", "milestones", "training_flop", "allocation"]);
        charts.iter().for_each(check);
        charts
    }

    #[test]
    fn the_four_charts_render_as_svg_and_png_of_the_stated_size() {
        let s = default_summary();
        let charts = check_all(&s);
        // The drawings carry their data: milestone names and quarter labels.
        assert!(charts[1].svg.contains(&s.milestones[0].name));
        assert!(charts[0].svg.contains(&s.quarters[0]));
        assert!(charts[2].title.contains(&format!(
            "({} trials with none, {} of them with no training run)",
            s.trials_without_domestic_training_compute, s.trials_without_training
        )));
        // Probabilities in percent with their interval, descriptions in the
        // legend, FLOP on the compute axis, the trials without a run as a bar.
        let m = &s.milestones[0];
        let shown = style::probability(m.probability, m.ci95_low, m.ci95_high);
        assert!(charts[1].svg.contains(&shown), "{shown}");
        assert!(has_text(&charts[1].svg, "100%") && has_text(&charts[1].svg, "40%"));
        assert!(charts[1].svg.contains("DeepSeek-V3-class"));
        assert!(has_text(&charts[2].svg, "no run") && has_text(&charts[2].svg, "1e25"));
        assert!(charts[0].svg.contains("ascend_910b-equivalents (320 TFLOP/s each)"));
    }

    #[test]
    fn training_on_foreign_chips_is_a_run_without_domestic_compute() {
        let text = include_str!("../../scenarios/minimal.toml")
            .replace("[supply.", "domestic = false\n\n[supply.")
            .replace("[training]\n", "[training]\nallow_foreign_chips = true\n");
        let s = summary_of(&text, 50);
        assert_eq!(s.trials_without_training, 0);
        assert_eq!(s.trials_without_domestic_training_compute, 50);
        let charts = check_all(&s);
        assert!(
            charts[2]
                .title
                .contains("(50 trials with none, 0 of them with no training run)"),
            "{}",
            charts[2].title
        );
        assert!(
            charts[2]
                .svg
                .contains("grey bar: 50 with no domestic training compute (0 with no training run)")
        );
        // They trained, on foreign chips: their bar is not called "no run".
        assert!(has_text(&charts[2].svg, "none") && !has_text(&charts[2].svg, "no run"));
        // The subtitle fits the page.
        let subtitle = training_flop::subtitle(&default_summary());
        super::testing::assert_subtitle_fits(&subtitle);
    }

    #[test]
    fn several_chip_types_are_stacked_in_unit_chips() {
        let text = include_str!("../../scenarios/successor_910c.toml");
        let s = summary_of(&text[..text.find("\n[[observe]]").unwrap() + 1], 300);
        let charts = check_all(&s);
        for chart in [&charts[0], &charts[3]] {
            assert!(
                chart.svg.contains("ascend_910b-equivalents (320 TFLOP/s each)"),
                "{}",
                chart.stem
            );
        }
        assert!(charts[0].svg.contains("ascend_910c, median"));
        assert!(charts[3].svg.contains("training: ascend_910c") && charts[3].svg.contains("inference: ascend_910b"));
        // The stack's unit: a 910C counts 780/320 = 2.4375 910Bs.
        let unit = Unit::of(&s).unwrap();
        assert_eq!(unit.worth(7.8e14), 2.4375);
        // Without chip types (a summary of an older version) the charts fall back to chips.
        let mut old = s.clone();
        old.chip_types.clear();
        old.quarterly_by_chip.clear();
        let charts = check_all(&old);
        assert!(has_text(&charts[0].svg, "chips"));
    }

    #[test]
    fn milestones_sharing_a_deadline_are_drawn_apart() {
        // Two milestones with one deadline: their deadline lines are two
        // columns of different dash patterns, and their labels two rows.
        let mut s = default_summary();
        s.milestones.truncate(2);
        let deadline = s.milestones[0].deadline.clone();
        s.milestones[1].deadline = deadline;
        let charts = check_all(&s);
        let label_y = |name: &str| {
            let at = charts[1].svg.find(&format!(">\n{name}\n</text>")).unwrap();
            let open = charts[1].svg[..at].rfind("<text").unwrap();
            let tag = &charts[1].svg[open..at];
            let y = tag.split("y=\"").nth(1).unwrap();
            y[..y.find('"').unwrap()].parse::<i32>().unwrap()
        };
        let (a, b) = (label_y(&s.milestones[0].name), label_y(&s.milestones[1].name));
        assert!((a - b).abs() >= 14, "labels at {a} and {b}");
        assert_ne!(style::dash_pattern(0), style::dash_pattern(1));
        assert_ne!(style::marker(0), style::marker(1));
        assert_ne!(style::side_by_side(0, 2), style::side_by_side(1, 2));
    }

    #[test]
    fn rendering_twice_gives_identical_bytes() {
        let s = default_summary();
        assert_eq!(render_all(&s).unwrap(), render_all(&s).unwrap());
        let rows = vec![("default".to_string(), s.milestones.clone())];
        assert_eq!(batch_comparison(&rows).unwrap(), batch_comparison(&rows).unwrap());
    }

    #[test]
    fn edge_cases_render() {
        let base = default_summary();

        let mut s = base.clone();
        s.milestones.clear();
        check_all(&s);

        let mut s = base.clone();
        for r in &mut s.quarterly {
            (r.p5, r.p25, r.p50, r.p75, r.p95) = (0.0, 0.0, 0.0, 0.0, 0.0);
        }
        s.ordered_domestic_cumulative.iter_mut().for_each(|v| *v = 0.0);
        for m in &mut s.milestones {
            m.probability_by_quarter.iter_mut().for_each(|p| *p = 0.0);
            (m.probability, m.ci95_low, m.ci95_high) = (0.0, 0.0, 0.0);
        }
        s.training_flop_domestic_at_horizon.clear();
        s.trials_without_training = s.trials;
        check_all(&s);

        let mut s = base.clone();
        s.quarters.truncate(1);
        let first = s.quarters[0].clone();
        s.quarterly.retain(|r| r.quarter == first);
        s.ordered_domestic_cumulative.truncate(1);
        s.milestones
            .iter_mut()
            .for_each(|m| m.probability_by_quarter.truncate(1));
        check_all(&s);

        let mut s = base.clone();
        s.quarters.clear();
        s.quarterly.clear();
        s.ordered_domestic_cumulative.clear();
        s.milestones.iter_mut().for_each(|m| m.probability_by_quarter.clear());
        check_all(&s);

        let mut s = base.clone();
        s.trials = 0;
        for m in &mut s.milestones {
            m.probability_by_quarter.iter_mut().for_each(|p| *p = f64::NAN);
            (m.probability, m.target_flop) = (f64::NAN, f64::INFINITY);
        }
        s.quarterly[0].p95 = f64::NAN;
        s.training_flop_domestic_at_horizon.push((f64::NAN, 3));
        check_all(&s);
    }

    #[test]
    fn a_scenario_without_training_renders() {
        // Inference demand far above supply leaves no chip for training.
        let text = format!(
            "{}\n[inference]\nunit_chip = \"ascend_910b\"\ninitial_demand_chips = 1000000\n",
            include_str!("../../scenarios/minimal.toml")
        );
        let s = summary_of(&text, 50);
        assert!(s.training_flop_domestic_at_horizon.is_empty());
        assert_eq!(s.trials_without_training, 50);
        assert_eq!(s.trials_without_domestic_training_compute, 50);
        check_all(&s);
    }

    #[test]
    fn the_batch_comparison_groups_milestones_in_first_seen_order() {
        let s = default_summary();
        let mut other = s.milestones.clone();
        other.reverse();
        other.truncate(2);
        let mut extra = s.milestones[0].clone();
        extra.name = "only_here".into();
        other.push(extra);
        let rows = vec![
            ("default".to_string(), s.milestones.clone()),
            ("variant".to_string(), other),
            ("empty".to_string(), Vec::new()),
        ];
        let chart = batch_comparison(&rows).unwrap();
        assert_eq!(chart.stem, "comparison");
        check(&chart);
        for name in ["default", "variant", "empty", "only_here"] {
            assert!(chart.svg.contains(name), "{name}");
        }
        check(&batch_comparison(&[]).unwrap());
    }

    #[test]
    fn a_failed_drawing_names_its_chart() {
        let err = render("deliveries", String::new(), |_| Err(Failure("boom".into())), |_| Ok(())).unwrap_err();
        assert_eq!((err.chart.as_str(), err.message.as_str()), ("deliveries", "boom"));
        assert_eq!(err.to_string(), "cannot draw chart deliveries: boom");
    }

    /// `s` without its evidence.
    fn plain_of(s: &Summary) -> Summary {
        let mut plain = s.clone();
        plain.evidence = None;
        plain
    }

    #[test]
    fn posterior_bands_count_the_effective_sample_size() {
        let s = testing::evidence_summary();
        let ess = s.evidence.as_ref().unwrap().effective_sample_size;
        assert!(ess < s.trials as f64);
        assert_eq!(sample_size(&s), ess.round() as u64);
        assert_eq!(sample_size(&default_summary()), 500);
        assert!(run_line(&s).starts_with("scenario default · posterior of 500 trials · seed "));
        assert!(!run_line(&plain_of(&s)).contains("posterior"));
        let subtitle = training_flop::subtitle(&s);
        super::testing::assert_subtitle_fits(&subtitle);
        // The posterior's milestone curves carry its wider bands.
        let (a, b) = (render_all(&s).unwrap(), render_all(&plain_of(&s)).unwrap());
        assert_ne!(a[1].svg, b[1].svg);
    }

    #[test]
    fn confidence_bands_follow_the_trials() {
        assert_eq!(ci95(0.0, 100).0, 0.0);
        assert_eq!(ci95(1.0, 100).1, 1.0);
        let (lo, hi) = ci95(0.5, 1000);
        assert!(lo < 0.5 && 0.5 < hi && hi - lo < 0.07);
        assert_eq!(ci95(f64::NAN, 0), (0.0, 1.0));
    }

    fn write_charts(dir: &std::path::Path, charts: &[Chart]) {
        std::fs::create_dir_all(dir).unwrap();
        for c in charts {
            std::fs::write(dir.join(format!("{}.svg", c.stem)), &c.svg).unwrap();
            std::fs::write(dir.join(format!("{}.png", c.stem)), &c.png).unwrap();
        }
    }

    /// Writes the charts of the default scenario to /tmp/charts (and some
    /// edge cases under /tmp/charts/edge) for a person to look at:
    /// `cargo test --release --lib charts -- --ignored`.
    #[test]
    #[ignore]
    fn write_default_charts_for_review() {
        let text = crate::charts::testing::default_without_evidence();
        let model = Model::from_text(text, "default.toml").unwrap();
        let s = summary_of(text, model.trials);
        let dir = std::path::Path::new("/tmp/charts");
        let mut charts = render_all(&s).unwrap();
        let variant = summary_of(include_str!("../../scenarios/tight_controls.toml"), 2000);
        let rows = vec![
            (s.scenario.clone(), s.milestones.clone()),
            (variant.scenario.clone(), variant.milestones.clone()),
        ];
        charts.push(batch_comparison(&rows).unwrap());
        write_charts(dir, &charts);

        let mut one = s.clone();
        one.quarters.truncate(1);
        let first = one.quarters[0].clone();
        one.quarterly.retain(|r| r.quarter == first);
        one.ordered_domestic_cumulative.truncate(1);
        one.milestones
            .iter_mut()
            .for_each(|m| m.probability_by_quarter.truncate(1));
        write_charts(&dir.join("edge/one_quarter"), &render_all(&one).unwrap());

        let mut bare = s.clone();
        bare.milestones.clear();
        bare.training_flop_domestic_at_horizon.clear();
        bare.trials_without_training = bare.trials;
        bare.trials_without_domestic_training_compute = bare.trials;
        write_charts(&dir.join("edge/no_milestones_no_training"), &render_all(&bare).unwrap());
        write_charts(&dir.join("edge/no_scenarios"), &[batch_comparison(&[]).unwrap()]);
    }
}
