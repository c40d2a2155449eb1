//! `sancsim show`: a scenario as sancsim reads it. Every value of the
//! assumptions table (defaults filled in and marked), each uncertain number's
//! mean and P5/P50/P95 computed from its distribution, quantities derived
//! from the model (training-cluster throughput, chips ordered) and the
//! warnings of validation; as aligned text or as one JSON document.

use serde::{Deserialize, Serialize};

use crate::model::{Model, Per, format_number};
use crate::quarter::SECONDS_PER_MEAN_QUARTER;

/// Identifies the JSON document and its version.
pub const FORMAT: &str = "sancsim-show/1";

/// Share of draws beyond the valid range above which a distribution is
/// reported as clamped.
const CLAMP_SHARE: f64 = 1e-9;

/// Output format of `sancsim show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// An aligned listing grouped by section.
    #[default]
    Text,
    /// One JSON document ([`Shown`]).
    Json,
}

/// The model of one scenario file, as `show` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shown {
    /// Always [`FORMAT`].
    pub format: String,
    /// The scenario file as named on the command line.
    pub file: String,
    /// `scenario.name`.
    pub scenario: String,
    /// `scenario.description` (empty when the file has none).
    pub description: String,
    /// First simulated quarter (`"2024Q1"`).
    pub start: String,
    /// Last simulated quarter.
    pub end: String,
    /// Quarters simulated.
    pub horizon_quarters: u32,
    /// Trials of a run without `--trials`.
    pub trials: u64,
    /// Seed of a run without `--seed`.
    pub seed: u64,
    /// Every value of the scenario, one per key path, in the order of the
    /// assumptions table (`summary.json` `assumptions`, docs/MODEL.md §6).
    pub values: Vec<ShownValue>,
    /// Quantities computed from the values.
    pub derived: Derived,
    /// Warnings of validation (`file:line:column: key.path: message`).
    pub warnings: Vec<String>,
}

/// One value of the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownValue {
    /// The section: the key path's first part (`scenario`, `chips`,
    /// `supply`, `shocks`, `fleet`, `inference`, `allocation`, `training`,
    /// `milestones`, `expect`).
    pub section: String,
    /// Key path in the scenario file.
    pub key: String,
    /// The value or distribution, in words (as in the assumptions table).
    pub value: String,
    /// Where the figure comes from, if the file says.
    pub source: Option<String>,
    /// The file leaves this value out: it is the default.
    pub default: bool,
    /// For a number drawn from a distribution: its statistics. Absent for
    /// fixed numbers and for values that are not numbers.
    pub distribution: Option<DistributionSummary>,
}

/// Statistics of an uncertain number, computed from its distribution (not
/// sampled): of the value the engine uses, i.e. a draw clamped to the
/// quantity's valid range (docs/MODEL.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionSummary {
    /// `"trial"`: drawn once per trial; `"quarter"`: drawn afresh each quarter.
    pub drawn_per: String,
    /// Mean.
    pub mean: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Lower end of the quantity's valid range.
    pub valid_min: f64,
    /// Upper end of the quantity's valid range.
    pub valid_max: f64,
    /// More than one draw in 10⁹ lies beyond the valid range and is clamped
    /// (the statistics above are of the clamped value either way).
    pub clamped: bool,
}

/// Quantities derived from the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// `training.max_cluster_chips` (10¹² when the file leaves it out).
    pub max_cluster_chips: u64,
    /// Median of `training.mfu`.
    pub mfu_p50: f64,
    /// Median of `training.goodput`.
    pub goodput_p50: f64,
    /// Seconds in the quarter used below: 91.3125 days.
    pub seconds_per_quarter: f64,
    /// One row per chip type eligible for training (domestic, or any when
    /// `training.allow_foreign_chips`), in file order: a cluster of
    /// `max_cluster_chips` chips of that type alone.
    pub training_clusters: Vec<ClusterThroughput>,
    /// One row per supply line, in file order.
    pub supply: Vec<SupplyTotal>,
    /// `training.max_cluster_chips_from` within the horizon: (quarter,
    /// chips) from which the limit changes (empty without it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub max_cluster_chips_from: Vec<(String, u64)>,
    /// With `training.mfu_size_exponent`: the factor MFU is multiplied by
    /// at `max_cluster_chips` chips, `(max_cluster_chips / mfu_reference_chips)^−α`
    /// above the reference (1 at or below it); applied in `training_clusters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfu_size_factor: Option<f64>,
}

/// A training cluster of one chip type at its largest size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterThroughput {
    /// Chip type.
    pub chip: String,
    /// It counts toward domestic-only milestones.
    pub domestic: bool,
    /// `max_cluster_chips × peak_flops`, FLOP/s.
    pub peak_flop_per_s: f64,
    /// `peak_flop_per_s × mfu_p50 × goodput_p50 × seconds_per_quarter`:
    /// training compute in one quarter at the median MFU and the median
    /// goodput (a product of medians, not the median of the product), FLOP.
    pub flop_per_quarter_at_medians: f64,
}

/// The chips a supply line orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplyTotal {
    /// Supply line.
    pub line: String,
    /// Chip type it delivers.
    pub chip: String,
    /// Chips ordered in the quarters inside the horizon, as written (not
    /// what is filled; backlog re-orders are not counted again).
    pub chips_ordered_within_horizon: u64,
}

impl Shown {
    /// Everything `show` reports about `model`, read from `file`.
    pub fn new(model: &Model, file: &str) -> Shown {
        let cal = &model.calendar;
        let values = model
            .assumptions
            .iter()
            .map(|a| ShownValue {
                section: section_of(&a.key).to_string(),
                key: a.key.clone(),
                value: a.value.clone(),
                source: a.source.clone(),
                default: a.default,
                distribution: model
                    .uncertain
                    .iter()
                    .find(|u| u.key == a.key && !u.dist.is_fixed())
                    .map(|u| {
                        let q = |p: f64| u.dist.quantile(p).clamp(u.min, u.max);
                        let clamped =
                            u.dist.quantile(CLAMP_SHARE) < u.min || u.dist.quantile(1.0 - CLAMP_SHARE) > u.max;
                        DistributionSummary {
                            drawn_per: match u.per {
                                Per::Trial => "trial".into(),
                                Per::Quarter => "quarter".into(),
                            },
                            mean: u.dist.clamped_mean(u.min, u.max),
                            p5: q(0.05),
                            p50: q(0.5),
                            p95: q(0.95),
                            valid_min: u.min,
                            valid_max: u.max,
                            clamped,
                        }
                    }),
            })
            .collect();
        let median = |id: usize| {
            let u = &model.uncertain[id];
            u.dist.quantile(0.5).clamp(u.min, u.max)
        };
        let training = &model.training;
        let (mfu_p50, goodput_p50) = (median(training.mfu), median(training.goodput));
        let cap = training.max_cluster_chips as f64;
        let size_factor = training.mfu_size.map(|(e, reference)| {
            if training.max_cluster_chips > reference {
                (cap / reference as f64).powf(-e)
            } else {
                1.0
            }
        });
        let training_clusters = model
            .chips
            .iter()
            .filter(|c| c.domestic || training.allow_foreign_chips)
            .map(|c| {
                let peak = cap * c.peak_flops;
                ClusterThroughput {
                    chip: c.name.clone(),
                    domestic: c.domestic,
                    peak_flop_per_s: peak,
                    flop_per_quarter_at_medians: peak
                        * mfu_p50
                        * goodput_p50
                        * size_factor.unwrap_or(1.0)
                        * SECONDS_PER_MEAN_QUARTER,
                }
            })
            .collect();
        let supply = model
            .supply
            .iter()
            .map(|s| SupplyTotal {
                line: s.name.clone(),
                chip: match s.fill {
                    crate::model::Fill::Supplier {
                        supplier, newest: true, ..
                    } => format!("newest of {}", model.suppliers[supplier].name),
                    _ => model.chips[s.chip].name.clone(),
                },
                chips_ordered_within_horizon: s.orders.iter().sum(),
            })
            .collect();
        Shown {
            format: FORMAT.to_string(),
            file: file.to_string(),
            scenario: model.name.clone(),
            description: model.description.clone(),
            start: cal.start().to_string(),
            end: cal.quarter(cal.horizon() - 1).to_string(),
            horizon_quarters: cal.horizon(),
            trials: model.trials,
            seed: model.seed,
            values,
            derived: Derived {
                max_cluster_chips: training.max_cluster_chips,
                mfu_p50,
                goodput_p50,
                seconds_per_quarter: SECONDS_PER_MEAN_QUARTER,
                training_clusters,
                supply,
                max_cluster_chips_from: training
                    .max_cluster_steps
                    .iter()
                    .map(|&(q, n)| (model.calendar.quarter(q).to_string(), n))
                    .collect(),
                mfu_size_factor: size_factor,
            },
            warnings: model.warnings.iter().map(ToString::to_string).collect(),
        }
    }
}

/// The section of a key path: its first part.
fn section_of(key: &str) -> &str {
    let end = key.find(['.', '[']).unwrap_or(key.len());
    &key[..end]
}

/// A number to four significant digits, in [`format_number`]'s form.
fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format_number(v);
    }
    let rounded: f64 = format!("{v:.3e}").parse().unwrap_or(v);
    format_number(rounded)
}

/// Pads `cells` into columns two spaces apart (the last one unpadded).
fn columns(rows: &[Vec<String>], indent: &str) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = indent.to_string();
        for (i, c) in r.iter().enumerate() {
            line.push_str(c);
            if i + 1 < r.len() {
                let pad = widths[i] - c.chars().count() + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The readable listing: a heading, the values by section (key, value,
/// `default` mark; the distribution's statistics and the source on the
/// lines below), the derived quantities and the warnings.
pub fn text(s: &Shown) -> String {
    let mut out = format!(
        "{}: scenario \"{}\", {} to {} ({} quarters), {} trials, seed {}\n",
        s.file, s.scenario, s.start, s.end, s.horizon_quarters, s.trials, s.seed
    );
    if !s.description.is_empty() {
        out.push_str(&format!("{}\n", s.description));
    }
    out.push_str(
        "Every value with defaults filled in (marked \"default\"); for each distribution, the mean and \
         P5/P50/P95 of the value used (clamped to its valid range).\n",
    );
    let mut section = "";
    let mut width = 0;
    for v in &s.values {
        if v.section != section {
            section = &v.section;
            // Keys are aligned within their section.
            width = s
                .values
                .iter()
                .filter(|w| w.section == section)
                .map(|w| w.key.chars().count())
                .max()
                .unwrap_or(0);
            out.push_str(&format!("\n[{section}]\n"));
        }
        let mark = if v.default { "  (default)" } else { "" };
        let pad = " ".repeat(width - v.key.chars().count());
        out.push_str(&format!("  {}{pad}  {}{mark}\n", v.key, v.value));
        let under = " ".repeat(width + 4);
        if let Some(d) = &v.distribution {
            let mut notes = Vec::new();
            if d.drawn_per == "quarter" {
                notes.push("drawn each quarter: these are of one quarter's draw".to_string());
            }
            if d.clamped {
                notes.push(format!(
                    "draws clamped to [{}, {}]",
                    format_number(d.valid_min),
                    format_number(d.valid_max)
                ));
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("  ({})", notes.join("; "))
            };
            out.push_str(&format!(
                "{under}mean {}  P5 {}  P50 {}  P95 {}{notes}\n",
                short(d.mean),
                short(d.p5),
                short(d.p50),
                short(d.p95)
            ));
        }
        if let Some(src) = &v.source {
            out.push_str(&format!("{under}source: {src}\n"));
        }
    }
    let d = &s.derived;
    out.push_str("\n[derived]\n");
    out.push_str(&format!(
        "  training cluster of max_cluster_chips = {} chips of one type, at median MFU {} x median goodput {} \
         = {} of peak, over a quarter of 91.3125 days:\n",
        format_number(d.max_cluster_chips as f64),
        short(d.mfu_p50),
        short(d.goodput_p50),
        short(d.mfu_p50 * d.goodput_p50)
    ));
    if d.training_clusters.is_empty() {
        out.push_str("    no chip type is eligible for training\n");
    } else {
        let mut rows = vec![vec![
            "chip type".to_string(),
            "domestic".into(),
            "peak FLOP/s".into(),
            "FLOP per quarter".into(),
        ]];
        for c in &d.training_clusters {
            rows.push(vec![
                c.chip.clone(),
                if c.domestic { "yes" } else { "no" }.into(),
                short(c.peak_flop_per_s),
                short(c.flop_per_quarter_at_medians),
            ]);
        }
        out.push_str(&columns(&rows, "    "));
    }
    if let Some(f) = d.mfu_size_factor {
        out.push_str(&format!(
            "    (MFU x {} at {} chips, for mfu_size_exponent)\n",
            short(f),
            format_number(d.max_cluster_chips as f64)
        ));
    }
    if !d.max_cluster_chips_from.is_empty() {
        let steps: Vec<String> = d
            .max_cluster_chips_from
            .iter()
            .map(|(q, n)| format!("{} chips from {q}", format_number(*n as f64)))
            .collect();
        out.push_str(&format!(
            "    the limit changes later (max_cluster_chips_from): {}\n",
            steps.join(", ")
        ));
    }
    if !d.supply.is_empty() {
        out.push_str("  chips ordered within the horizon (as written, before fill rates):\n");
        let mut rows = vec![vec!["supply line".to_string(), "chip".into(), "chips ordered".into()]];
        for l in &d.supply {
            rows.push(vec![
                l.line.clone(),
                l.chip.clone(),
                format_number(l.chips_ordered_within_horizon as f64),
            ]);
        }
        out.push_str(&columns(&rows, "    "));
    }
    out.push_str(&format!("\n[warnings] {}\n", s.warnings.len()));
    for w in &s.warnings {
        out.push_str(&format!("  {w}\n"));
    }
    out
}

/// The JSON document: [`Shown`], pretty-printed, with a final newline.
pub fn json(s: &Shown) -> String {
    // Serialising plain data (strings, numbers, vectors) cannot fail.
    serde_json::to_string_pretty(s).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"[scenario]
name = "t"
start = "2024Q1"
horizon_quarters = 4

[chips.a]
peak_flops = 1e14

[chips.f]
peak_flops = 2e14
domestic = false

[supply.line]
chip = "a"
orders = [{ from = "2024Q1", to = "2024Q2", chips = 1000 }, { quarter = "2026Q1", chips = 5 }]
fill_rate = { dist = "beta", alpha = 2, beta = 3, source = "S" }
lead_time_quarters = { dist = "pert", min = 0.6, mode = 0.9, max = 0.97, per = "quarter" }

[training]
mfu = { dist = "normal", mean = 0.9, sd = 0.2 }
max_cluster_chips = 100

[milestones.m]
target_flop = 1e22
deadline = "2024Q4"
"#;

    fn shown() -> Shown {
        let model = Model::from_text(FILE, "t.toml").unwrap();
        Shown::new(&model, "t.toml")
    }

    fn value<'a>(s: &'a Shown, key: &str) -> &'a ShownValue {
        s.values.iter().find(|v| v.key == key).unwrap()
    }

    #[test]
    fn distributions_carry_their_computed_statistics() {
        let s = shown();
        let fill = value(&s, "supply.line.fill_rate");
        let d = fill.distribution.as_ref().unwrap();
        // scipy.stats.beta.ppf(0.5, 2, 3) = 0.3857275681323895; mean 2/5.
        assert!((d.p50 - 0.385_727_568_132_389_5).abs() < 1e-12, "{d:?}");
        assert_eq!(d.mean, 0.4);
        assert_eq!((d.drawn_per.as_str(), d.clamped), ("trial", false));
        assert_eq!(fill.source.as_deref(), Some("S"));
        let lead = value(&s, "supply.line.lead_time_quarters")
            .distribution
            .as_ref()
            .unwrap();
        assert_eq!(lead.drawn_per, "quarter");
        // PERT(0.6, 0.9, 0.97): 0.6 + 0.37 · beta.ppf(0.5, 4.2432…, 1.7567…).
        assert!((lead.p50 - 0.870_598_984_700_517_3).abs() < 1e-12, "{lead:?}");
        // N(0.9, 0.2) clamped to [0, 1]: P95 is 1, the mean below 0.9.
        let mfu = value(&s, "training.mfu").distribution.as_ref().unwrap();
        assert!(
            mfu.clamped && mfu.p95 == 1.0 && mfu.mean < 0.9 && mfu.mean > 0.8,
            "{mfu:?}"
        );
        // Fixed numbers and defaults have none.
        assert!(value(&s, "chips.a.peak_flops").distribution.is_none());
        assert!(value(&s, "training.goodput").default);
        assert_eq!(value(&s, "training.goodput").section, "training");
        assert_eq!(value(&s, "supply.line.orders[0]").section, "supply");
    }

    #[test]
    fn derived_quantities_follow_from_the_values() {
        let s = shown();
        let d = &s.derived;
        // Only the domestic chip is eligible; 100 chips × 1e14 FLOP/s.
        assert_eq!(d.training_clusters.len(), 1);
        let c = &d.training_clusters[0];
        assert_eq!((c.chip.as_str(), c.peak_flop_per_s), ("a", 1e16));
        let want = 1e16 * d.mfu_p50 * 1.0 * 91.3125 * 86_400.0;
        assert!((c.flop_per_quarter_at_medians - want).abs() <= 1e-12 * want);
        assert!((d.mfu_p50 - 0.9).abs() < 1e-12);
        // 2024Q1 and 2024Q2 inside the horizon; 2026Q1 is dropped.
        assert_eq!(d.supply[0].chips_ordered_within_horizon, 2000);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(s.warnings[0].starts_with("t.toml:"), "{:?}", s.warnings);
    }

    #[test]
    fn text_lists_sections_statistics_and_warnings() {
        let t = text(&shown());
        for part in [
            "[scenario]",
            "[supply]",
            "[training]",
            "[derived]",
            "[warnings] 1",
            "P50 0.3857",
            "drawn each quarter",
            "(default)",
            "source: S",
            "draws clamped to [0, 1]",
        ] {
            assert!(t.contains(part), "{part} missing:\n{t}");
        }
        let back: Shown = serde_json::from_str(&json(&shown())).unwrap();
        assert_eq!(back, shown());
    }
}
