//! Charts of a run conditioned on `[[observe]]` evidence (drawn only when
//! the summary carries it): each milestone's probability by its deadline
//! before the evidence (all trials) and given it, side by side with their
//! 95% intervals; and the inputs the evidence moved most, one small panel
//! each, with the prior's and the posterior's histograms over the same bins.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{LabelAxis, finite};
use super::scale;
use super::style::{self, Entry, Swatch};
use super::{Failure, styled_mesh};
use crate::evidence::{EvidenceSummary, InputShift};
use crate::results::{Estimate, Summary};

/// File stem of the prior against posterior milestone chart.
pub const MILESTONES_STEM: &str = "evidence_milestones";
/// File stem of the inputs' histograms.
pub const INPUTS_STEM: &str = "evidence_inputs";
/// Most inputs drawn, one panel each.
pub const MAX_PANELS: usize = 4;

/// The prior (all trials): a neutral grey, so the posterior stands out.
const PRIOR: RGBColor = RGBColor(150, 150, 150);
/// The posterior (given the evidence).
const POSTERIOR: RGBColor = style::PALETTE[0];
/// Opacity of the prior's histogram bars.
const PRIOR_FILL: f64 = 0.45;
/// Share of a milestone's slot taken by its two bars.
const GROUP_WIDTH: f64 = 0.72;
/// Share of a bar's half of the slot left empty beside it.
const BAR_GAP: f64 = 0.08;
/// Narrowest bar, pixels, that gets its value written above it.
const MIN_LABELLED_BAR: i32 = 32;
/// Height of a panel's title and subtitle, pixels.
const PANEL_HEADER: u32 = 40;
/// Space around a panel, pixels.
const PANEL_MARGIN: u32 = 8;
/// Height of a panel's x tick labels, pixels.
const PANEL_X_LABELS: u32 = 24;
/// Width of a panel's y tick labels, pixels.
const PANEL_Y_LABELS: u32 = 48;
/// Tick labels of a panel, pixels.
const PANEL_TICK_SIZE: f64 = 12.0;

/// Title of the milestone chart.
pub fn milestones_title(_: &Summary) -> String {
    "Probability of each milestone by its deadline, before and given the evidence".to_string()
}

/// Title of the inputs chart.
pub fn inputs_title(_: &Summary) -> String {
    "The inputs the evidence moved most: prior and posterior".to_string()
}

/// The inputs the chart draws: those that moved (by more than nothing),
/// the one that moved most first, at most [`MAX_PANELS`].
pub fn moved_inputs(ev: &EvidenceSummary) -> Vec<&InputShift> {
    ev.inputs
        .iter()
        .filter(|i| i.moved.is_finite() && i.moved > 0.0)
        .take(MAX_PANELS)
        .collect()
}

/// `N observations · effective sample size E`.
fn evidence_line(ev: &EvidenceSummary) -> String {
    let n = ev.observations.len();
    format!(
        "{n} observation{} · effective sample size {}",
        if n == 1 { "" } else { "s" },
        style::thousands(finite(ev.effective_sample_size).max(0.0).round() as u64)
    )
}

/// A probability and its interval kept to `0..=1` and around each other.
fn bounded(e: &Estimate) -> (f64, f64, f64) {
    let p = finite(e.probability).clamp(0.0, 1.0);
    (p, finite(e.ci95_low).clamp(0.0, p), finite(e.ci95_high).clamp(p, 1.0))
}

/// Draws the milestones' prior and posterior probabilities.
pub fn draw_milestones<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Summary) -> Result<(), Failure> {
    let mut subtitle = style::run_line(&s.scenario, s.trials, s.seed);
    if let Some(ev) = &s.evidence {
        subtitle = format!("{subtitle} · {}", evidence_line(ev));
    }
    let (area, panel) = style::frame(root, &milestones_title(s), &subtitle)?;

    // Names are cut to the width of their slot so neighbours never overlap.
    let tick = style::text(style::TICK_SIZE, style::AXIS);
    let plot_px = f64::from(area.dim_in_pixel().0) - f64::from(style::Y_LABEL_AREA + 2 * style::MARGIN);
    let slot = (plot_px / s.milestones.len().max(1) as f64 - 6.0).max(0.0) as u32;
    let labels = s
        .milestones
        .iter()
        .map(|m| style::fit(&area, &m.name, &tick, slot))
        .collect::<Result<Vec<_>, _>>()?;

    let mut chart = ChartBuilder::on(&area)
        .margin(style::MARGIN)
        .x_label_area_size(style::X_LABEL_AREA)
        .y_label_area_size(style::Y_LABEL_AREA)
        .build_cartesian_2d(LabelAxis::categories(&labels), 0.0..1.0)?;
    styled_mesh(&mut chart.configure_mesh(), "milestone", "probability by deadline, %")
        .disable_x_mesh()
        .y_label_formatter(&|v| style::percent_tick(*v))
        .draw()?;
    if s.milestones.is_empty() {
        style::centred_note(
            &chart.plotting_area().strip_coord_spec(),
            "no milestones in this scenario",
        )?;
    }

    let half = GROUP_WIDTH / 2.0;
    let whisker = style::WHISKER.stroke_width(1);
    let value_font = style::text(style::NOTE_SIZE, style::TEXT).pos(Pos::new(HPos::Center, VPos::Bottom));
    for (i, m) in s.milestones.iter().enumerate() {
        for (side, estimate, colour) in [(0, &m.prior, PRIOR), (1, &m.posterior, POSTERIOR)] {
            let Some(e) = estimate else { continue };
            let (p, lo, hi) = bounded(e);
            let x0 = i as f64 - half + f64::from(side) * half + half * BAR_GAP / 2.0;
            let x1 = x0 + half * (1.0 - BAR_GAP);
            chart.draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, p)], colour.filled())))?;
            let xc = (x0 + x1) / 2.0;
            let cap = (x1 - x0) * 0.25;
            chart.draw_series([
                PathElement::new(vec![(xc, lo), (xc, hi)], whisker),
                PathElement::new(vec![(xc - cap, lo), (xc + cap, lo)], whisker),
                PathElement::new(vec![(xc - cap, hi), (xc + cap, hi)], whisker),
            ])?;
            let width = chart.backend_coord(&(x1, 0.0)).0 - chart.backend_coord(&(x0, 0.0)).0;
            if width >= MIN_LABELLED_BAR {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((xc, hi)) + Text::new(style::percent(p), (0, -4), value_font.clone()),
                ))?;
            }
        }
    }
    let entries = [
        Entry::new(Swatch::Fill(PRIOR, 1.0), "prior (all trials)"),
        Entry::new(Swatch::Fill(POSTERIOR, 1.0), "posterior (given the evidence)"),
        Entry::new(Swatch::Whisker(style::WHISKER), "95% interval"),
    ];
    style::legend(&panel, "probability by deadline", &entries)
}

/// Rows and columns of the panels for `n` inputs: one panel fills the
/// plot, two are stacked (histograms read best wide), three or four make
/// a two-by-two grid.
pub fn grid(n: usize) -> (usize, usize) {
    match n {
        0 | 1 => (1, 1),
        2 => (2, 1),
        _ => (2, 2),
    }
}

/// A value on an input's axis: as many decimals as the tick step needs,
/// `12.5k` from ten thousand, `3.3e24` beyond a trillion.
fn value_tick(v: f64, decimals: usize) -> String {
    if v.abs() >= 1e12 {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    } else {
        scale::number(v, decimals)
    }
}

/// A value in a panel's subtitle: three significant digits.
fn value_text(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    if v.abs() >= 1e4 {
        return value_tick(v, 0);
    }
    let digits = if v == 0.0 {
        0
    } else {
        (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize
    };
    format!("{v:.digits$}")
}

/// What the panels show: the bins, and what "moved" measures.
pub fn inputs_subtitle(inputs: &[&InputShift]) -> String {
    let bins = inputs.first().map_or(0, |i| i.prior_shares.len());
    let each = if bins > 0 {
        format!("share in each of {bins} equal bins")
    } else {
        "share in each of equal bins".to_string()
    };
    format!("{each} · moved: largest gap between the cumulative shares of prior and posterior (0 to 1)")
}

/// Draws the inputs the evidence moved most, a panel each.
pub fn draw_inputs<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Summary) -> Result<(), Failure> {
    let inputs = s.evidence.as_ref().map(moved_inputs).unwrap_or_default();
    let (area, panel) = style::frame(root, &inputs_title(s), &inputs_subtitle(&inputs))?;
    let entries = [
        Entry::new(Swatch::Fill(PRIOR, PRIOR_FILL), "prior (all trials)"),
        Entry::new(Swatch::Line(POSTERIOR), "posterior (given the evidence)"),
        Entry::new(Swatch::Dashed(style::REFERENCE), "median of each (P50)"),
    ];
    style::legend(&panel, "one input per panel", &entries)?;
    if inputs.is_empty() {
        return style::centred_note(&area, "the evidence moved no input");
    }
    let (rows, cols) = grid(inputs.len());
    let cells = area.split_evenly((rows, cols));
    for (cell, input) in cells.iter().zip(&inputs) {
        draw_panel(cell, input)?;
    }
    Ok(())
}

/// One input's panel: its key as the title, how far it moved and its
/// median before and after under it, then the two histograms.
fn draw_panel<DB: DrawingBackend>(cell: &DrawingArea<DB, Shift>, input: &InputShift) -> Result<(), Failure> {
    let (w, _) = cell.dim_in_pixel();
    let (header, body) = cell.split_vertically(PANEL_HEADER);
    let x = (PANEL_MARGIN + 4) as i32;
    let avail = w.saturating_sub(2 * PANEL_MARGIN + 8);
    let title = style::text(style::LEGEND_SIZE, style::TEXT);
    header.draw_text(&style::fit(&header, &input.key, &title, avail)?, &title, (x, 4))?;
    let sub = format!(
        "moved {:.2} · median {} → {}",
        finite(input.moved),
        value_text(input.prior[1]),
        value_text(input.posterior[1])
    );
    let muted = style::text(style::NOTE_SIZE, style::MUTED);
    header.draw_text(&style::fit(&header, &sub, &muted, avail)?, &muted, (x, 22))?;

    let (lo, hi) = (input.range[0], input.range[1]);
    let bins = input.prior_shares.len().min(input.posterior_shares.len());
    if !(lo.is_finite() && hi.is_finite() && hi > lo) || bins == 0 {
        return style::centred_note(&body, "no bins to show");
    }
    let top = input.prior_shares[..bins]
        .iter()
        .chain(&input.posterior_shares[..bins])
        .map(|&v| finite(v))
        .fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.12 } else { 1.0 };
    let x_decimals = scale::tick_decimals(lo, hi, 5, 1.0);
    let y_decimals = scale::tick_decimals(0.0, top, 4, 100.0);
    let mut chart = ChartBuilder::on(&body)
        .margin(PANEL_MARGIN)
        .x_label_area_size(PANEL_X_LABELS)
        .y_label_area_size(PANEL_Y_LABELS)
        .build_cartesian_2d(lo..hi, 0.0..top)?;
    chart
        .configure_mesh()
        .bold_line_style(style::GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(style::AXIS)
        .label_style(style::text(PANEL_TICK_SIZE, style::AXIS))
        .set_all_tick_mark_size(3)
        .x_labels(5)
        .y_labels(4)
        .x_label_formatter(&|v| value_tick(*v, x_decimals))
        .y_label_formatter(&|v| scale::percent(*v, y_decimals))
        .draw()?;

    let width = (hi - lo) / bins as f64;
    let edge = |i: usize| lo + width * i as f64;
    let share = |v: f64| finite(v).max(0.0);
    chart.draw_series((0..bins).map(|i| {
        Rectangle::new(
            [(edge(i), 0.0), (edge(i + 1), share(input.prior_shares[i]))],
            PRIOR.mix(PRIOR_FILL).filled(),
        )
    }))?;
    let mut step = vec![(lo, 0.0)];
    for i in 0..bins {
        let v = share(input.posterior_shares[i]);
        step.push((edge(i), v));
        step.push((edge(i + 1), v));
    }
    step.push((hi, 0.0));
    chart.draw_series(std::iter::once(PathElement::new(
        step,
        POSTERIOR.stroke_width(style::THIN_WIDTH),
    )))?;
    for (median, colour) in [(input.prior[1], PRIOR), (input.posterior[1], POSTERIOR)] {
        if median.is_finite() && median >= lo && median <= hi {
            chart.draw_series(std::iter::once(plotters::element::DashedPathElement::new(
                vec![(median, 0.0), (median, top)],
                5,
                4,
                colour.stroke_width(1),
            )))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, check_twice, has_text, write_preview};
    use super::super::{EVIDENCE_STEMS, render, render_all};
    use super::*;

    fn milestones_chart(s: &Summary) -> super::super::Chart {
        check_twice(MILESTONES_STEM, || {
            render(
                MILESTONES_STEM,
                milestones_title(s),
                |a| draw_milestones(a, s),
                |a| draw_milestones(a, s),
            )
            .unwrap()
        })
    }

    fn inputs_chart(s: &Summary) -> super::super::Chart {
        check_twice(INPUTS_STEM, || {
            render(
                INPUTS_STEM,
                inputs_title(s),
                |a| draw_inputs(a, s),
                |a| draw_inputs(a, s),
            )
            .unwrap()
        })
    }

    #[test]
    fn the_evidence_charts_come_last_and_only_with_evidence() {
        let s = super::super::testing::evidence_summary();
        let charts = render_all(&s).unwrap();
        let stems: Vec<&str> = charts.iter().map(|c| c.stem).collect();
        assert_eq!(
            stems,
            [
                "deliveries",
                "milestones",
                "training_flop",
                "allocation",
                "evidence_milestones",
                "evidence_inputs"
            ]
        );
        assert_eq!(EVIDENCE_STEMS, [MILESTONES_STEM, INPUTS_STEM]);
        charts.iter().for_each(|c| check(c, c.stem));
        assert_eq!(charts, render_all(&s).unwrap(), "two renders differ");
        // Without evidence: the four charts of a plain run.
        let mut plain = s.clone();
        plain.evidence = None;
        let stems: Vec<&str> = render_all(&plain).unwrap().iter().map(|c| c.stem).collect();
        assert_eq!(stems, ["deliveries", "milestones", "training_flop", "allocation"]);
    }

    #[test]
    fn milestones_show_prior_and_posterior_with_their_values() {
        let s = super::super::testing::evidence_summary();
        let c = milestones_chart(&s);
        for m in &s.milestones {
            assert!(has_text(&c.svg, &m.name), "{}", m.name);
            let (prior, post) = (m.prior.unwrap(), m.posterior.unwrap());
            assert!(has_text(&c.svg, &style::percent(prior.probability)), "{prior:?}");
            assert!(has_text(&c.svg, &style::percent(post.probability)), "{post:?}");
        }
        for label in ["prior (all trials)", "95% interval"] {
            assert!(has_text(&c.svg, label), "{label}");
        }
        // The legend breaks the posterior's label over two lines.
        assert!(has_text(&c.svg, "posterior (given the") && has_text(&c.svg, "evidence)"));
        assert!(c.svg.contains("2 observations · effective sample size"), "subtitle");
    }

    #[test]
    fn inputs_show_the_inputs_that_moved_most() {
        let s = super::super::testing::evidence_summary();
        let ev = s.evidence.as_ref().unwrap();
        let moved = moved_inputs(ev);
        assert!(!moved.is_empty() && moved.len() <= MAX_PANELS);
        assert!(moved.windows(2).all(|w| w[0].moved >= w[1].moved));
        let c = inputs_chart(&s);
        for input in &moved {
            assert!(has_text(&c.svg, &input.key), "{}", input.key);
            assert!(
                c.svg.contains(&format!("moved {:.2} · median", input.moved)),
                "{}",
                input.key
            );
        }
        // An input past the fourth is not drawn.
        if let Some(fifth) = ev.inputs.get(MAX_PANELS) {
            assert!(!has_text(&c.svg, &fifth.key), "{}", fifth.key);
        }
        assert!(has_text(&c.svg, "prior (all trials)") && has_text(&c.svg, "posterior (given the"));
        // The subtitle names the bins and fits the page.
        let subtitle = inputs_subtitle(&moved);
        assert!(
            subtitle.starts_with("share in each of 40 equal bins · moved: "),
            "{subtitle}"
        );
        assert!(c.svg.contains(&subtitle));
        super::super::testing::assert_subtitle_fits(&subtitle);
    }

    #[test]
    fn panels_are_laid_out_by_count() {
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(2), (2, 1));
        assert_eq!(grid(3), (2, 2));
        assert_eq!(grid(4), (2, 2));
        assert_eq!(value_tick(12_500.0, 0), "12.5k");
        assert_eq!(value_tick(3.3e24, 0), "3.3e24");
        assert_eq!(value_tick(1e25, 0), "1e25");
        assert_eq!(value_tick(0.25, 2), "0.25");
        assert_eq!(value_text(34_678.6), "34.7k");
        assert_eq!(value_text(0.33900), "0.339");
        assert_eq!(value_text(1.0600568), "1.06");
        assert_eq!(value_text(0.0118206), "0.0118");
        assert_eq!(value_text(0.0), "0");
        assert_eq!(value_text(f64::NAN), "n/a");
    }

    #[test]
    fn odd_evidence_still_draws() {
        let base = super::super::testing::evidence_summary();

        // Nothing moved, or no inputs at all: a note instead of panels.
        let mut s = base.clone();
        let ev = s.evidence.as_mut().unwrap();
        ev.inputs.iter_mut().for_each(|i| i.moved = 0.0);
        let c = inputs_chart(&s);
        assert!(has_text(&c.svg, "the evidence moved no input"));
        s.evidence.as_mut().unwrap().inputs.clear();
        inputs_chart(&s);

        // One, two and three panels; broken bins.
        for n in 1..=3 {
            let mut s = base.clone();
            s.evidence.as_mut().unwrap().inputs.truncate(n);
            inputs_chart(&s);
        }
        let mut s = base.clone();
        let inputs = &mut s.evidence.as_mut().unwrap().inputs;
        inputs[0].range = [1.0, 1.0];
        inputs[1].prior_shares.clear();
        inputs[2].posterior_shares = vec![f64::NAN; 40];
        inputs[2].prior[1] = f64::INFINITY;
        inputs[3].range = [3.3e24, 1e26];
        inputs_chart(&s);

        // No milestones; estimates missing or out of range.
        let mut s = base.clone();
        s.milestones.clear();
        let c = milestones_chart(&s);
        assert!(has_text(&c.svg, "no milestones in this scenario"));
        let mut s = base.clone();
        s.milestones[0].prior = None;
        s.milestones[1].posterior = Some(Estimate {
            probability: f64::NAN,
            ci95_low: 2.0,
            ci95_high: -1.0,
        });
        milestones_chart(&s);
        // A summary without evidence still draws (the charts are not
        // asked for then, but drawing them must not fail).
        let mut s = base.clone();
        s.evidence = None;
        s.milestones
            .iter_mut()
            .for_each(|m| (m.prior, m.posterior) = (None, None));
        milestones_chart(&s);
        inputs_chart(&s);
    }

    /// Renders the evidence charts of the default scenario with its two
    /// example observations to `preview/` for a person to look at:
    /// `cargo test --lib charts::evidence -- --ignored`.
    #[test]
    #[ignore]
    fn write_previews() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("preview");
        let s = super::super::testing::evidence_summary();
        write_preview(&dir, MILESTONES_STEM, &milestones_chart(&s));
        write_preview(&dir, INPUTS_STEM, &inputs_chart(&s));
        for n in 1..=3 {
            let mut one = s.clone();
            one.evidence.as_mut().unwrap().inputs.truncate(n);
            write_preview(&dir.join("edge"), &format!("{INPUTS_STEM}_{n}"), &inputs_chart(&one));
        }
    }
}
