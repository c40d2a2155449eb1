//! `milestones.csv` and `quarters.csv`.

use crate::results::Summary;

/// A number for CSV: plain decimals for ordinary magnitudes, scientific
/// notation (`3.93e23`) for very large or very small ones.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e15).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A CSV field: quoted (with quotes doubled) when it holds a comma, a quote or a line break.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row per milestone.
pub fn milestones_csv(summary: &Summary) -> Vec<u8> {
    let mut out = String::from(
        "milestone,target_flop,deadline,domestic_only,trials,reached_by_deadline,probability,ci95_low,ci95_high,quarter_p10,quarter_p50,quarter_p90,never_within_horizon\n",
    );
    for m in &summary.milestones {
        let q = |x: &Option<String>| x.clone().unwrap_or_default();
        out.push_str(&format!(
            "{},{:e},{},{},{},{},{},{},{},{},{},{},{}\n",
            field(&m.name),
            m.target_flop,
            m.deadline,
            m.domestic_only,
            // What `reached_by_deadline` is out of: with observations, the
            // posterior's effective trials (docs/MODEL.md section 11).
            summary.counted_trials().round() as u64,
            m.reached_by_deadline,
            m.probability,
            m.ci95_low,
            m.ci95_high,
            q(&m.quarter_p10),
            q(&m.quarter_p50),
            q(&m.quarter_p90),
            m.never_within_horizon
        ));
    }
    out.into_bytes()
}

/// One row per quarter and metric (long format), percentiles across trials;
/// then one row per quarter, chip type and per-type metric, the metric
/// written `metric[chip]` (`training_chips[ascend_910c]`).
pub fn quarters_csv(summary: &Summary) -> Vec<u8> {
    let mut out = String::from("quarter,metric,p5,p25,p50,p75,p95\n");
    for r in &summary.quarterly {
        let row = [r.p5, r.p25, r.p50, r.p75, r.p95].map(number).join(",");
        out.push_str(&format!("{},{},{row}\n", r.quarter, r.metric));
    }
    for r in &summary.quarterly_by_chip {
        let row = [r.p5, r.p25, r.p50, r.p75, r.p95].map(number).join(",");
        let metric = field(&format!("{}[{}]", r.metric, r.chip));
        out.push_str(&format!("{},{metric},{row}\n", r.quarter));
    }
    out.into_bytes()
}

/// Milestone names over several summaries, in first-seen order.
pub fn milestone_names(summaries: &[(String, Summary)]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, s) in summaries {
        for m in &s.milestones {
            if !names.contains(&m.name) {
                names.push(m.name.clone());
            }
        }
    }
    names
}

/// `index.csv` of a batch: one row per milestone name, and for each scenario
/// (named by its output folder) its probability and 95% interval side by side.
pub fn index_csv(summaries: &[(String, Summary)]) -> Vec<u8> {
    let mut out = String::from("milestone");
    for (folder, _) in summaries {
        for col in ["probability", "ci95_low", "ci95_high"] {
            out.push_str(&format!(",{}", field(&format!("{folder}:{col}"))));
        }
    }
    out.push('\n');
    for name in milestone_names(summaries) {
        out.push_str(&field(&name));
        for (_, s) in summaries {
            match s.milestones.iter().find(|m| m.name == name) {
                Some(m) => out.push_str(&format!(",{},{},{}", m.probability, m.ci95_low, m.ci95_high)),
                None => out.push_str(",,,"),
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}
