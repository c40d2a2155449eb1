//! `samples.csv` (`run --samples N`): the first N trials, one row each, for
//! users' own analysis: every uncertain number as drawn, the quarter the
//! training run started, the quarter each milestone was reached and the
//! training compute at the horizon.
//!
//! Rows are formatted as text by the worker that ran the trial and kept in
//! blocks ordered by their first trial, so the file is the same for any
//! thread count and a sharded run's rows, concatenated in shard order, are
//! a single run's. Memory grows with N (the rows are held until the file is
//! written), which is why N is capped.

use std::fmt::Write;

use crate::engine::{Metric, Workspace};
use crate::model::{Model, Per};

/// Most rows `--samples` may ask for.
pub const MAX_ROWS: u64 = 1_000_000;
/// Most cells (rows × columns) `--samples` may ask for: about 1 GB of text.
pub const MAX_CELLS: u64 = 50_000_000;
/// File name in the output folder.
pub const FILE_NAME: &str = "samples.csv";

/// A CSV field, quoted where it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The column names, in order: `trial`; every uncertain number of the
/// model by key path, in model order (a number drawn each quarter as one
/// column per quarter, `key[YYYYQn]`); `start_quarter`; `<milestone>_quarter`
/// for each milestone; `training_flop_at_horizon` and
/// `training_flop_domestic_at_horizon`; with observations, `weight` (the
/// trial's posterior weight, docs/MODEL.md section 11).
pub fn columns(model: &Model) -> Vec<String> {
    let cal = &model.calendar;
    let mut cols = vec!["trial".to_string()];
    for u in &model.uncertain {
        match u.per {
            Per::Trial => cols.push(u.key.clone()),
            Per::Quarter => cols.extend((0..model.horizon()).map(|q| format!("{}[{}]", u.key, cal.quarter(q)))),
        }
    }
    cols.push("start_quarter".to_string());
    cols.extend(model.milestones.iter().map(|m| format!("{}_quarter", m.name)));
    cols.push("training_flop_at_horizon".to_string());
    cols.push("training_flop_domestic_at_horizon".to_string());
    if !model.observations.is_empty() {
        cols.push("weight".to_string());
    }
    cols
}

/// The header line of samples.csv, with its line break.
pub fn header(model: &Model) -> String {
    let cols: Vec<String> = columns(model).iter().map(|c| field(c)).collect();
    format!("{}\n", cols.join(","))
}

/// Checks a `--samples N` request: 1 to [`MAX_ROWS`] rows and at most
/// [`MAX_CELLS`] cells for this model's columns.
pub fn check_request(model: &Model, rows: u64) -> Result<(), String> {
    let cols = columns(model).len() as u64;
    if rows == 0 {
        return Err("--samples must be at least 1 (leave it out for no samples.csv)".into());
    }
    if rows > MAX_ROWS || rows.saturating_mul(cols) > MAX_CELLS {
        let most = MAX_ROWS.min(MAX_CELLS / cols);
        return Err(format!(
            "--samples {rows} is above the limit of {most} rows for this scenario ({cols} columns a row; at most \
             {MAX_ROWS} rows and {MAX_CELLS} cells, since samples.csv is held in memory until it is written): \
             ask for fewer rows"
        ));
    }
    Ok(())
}

/// Appends the row of trial `trial`, just simulated in `ws`, to `out`,
/// with its line break. Numbers are written in Rust's shortest form that
/// reads back to the same `f64`; quarters as labels, empty for none.
pub fn write_row(model: &Model, ws: &Workspace, trial: u64, out: &mut String) {
    let cal = &model.calendar;
    let _ = write!(out, "{trial}");
    for v in ws.inputs() {
        let _ = write!(out, ",{v}");
    }
    let quarter = |out: &mut String, q: Option<u32>| {
        out.push(',');
        if let Some(q) = q {
            let _ = write!(out, "{}", cal.quarter(q));
        }
    };
    quarter(out, ws.outcome.start_time.map(|t| cal.quarter_at(t)));
    for &r in &ws.outcome.reached {
        quarter(out, r);
    }
    let last = &ws.outcome.metrics[model.horizon() as usize - 1];
    let flop = |m: Metric| last[Metric::ALL.iter().position(|x| *x == m).unwrap_or(0)];
    let _ = write!(
        out,
        ",{},{}",
        flop(Metric::TrainingFlop),
        flop(Metric::TrainingFlopDomestic)
    );
    if !model.observations.is_empty() {
        let mut each = vec![0.0; model.observations.len()];
        let (_, w) = crate::evidence::trial_weight(model, ws, &mut each);
        let _ = write!(out, ",{w}");
    }
    out.push('\n');
}

/// Rows of trials kept while a run goes: blocks of rows, each with its
/// first trial, combined in any order and put in trial order at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    blocks: Vec<(u64, String)>,
}

impl Rows {
    /// Adds a block of rows whose first trial is `first`.
    pub fn add(&mut self, first: u64, rows: String) {
        if !rows.is_empty() {
            self.blocks.push((first, rows));
        }
    }

    /// Both sets of rows.
    pub fn merge(mut self, other: Rows) -> Rows {
        self.blocks.extend(other.blocks);
        self
    }

    /// The rows in trial order, as one text.
    pub fn into_text(mut self) -> String {
        self.blocks.sort_by_key(|b| b.0);
        let mut text = String::with_capacity(self.blocks.iter().map(|b| b.1.len()).sum());
        for (_, rows) in self.blocks {
            text.push_str(&rows);
        }
        text
    }
}

/// samples.csv: the header and `rows` (as [`Rows::into_text`] gives them).
pub fn file(model: &Model, rows: &str) -> (String, Vec<u8>) {
    let mut bytes = header(model).into_bytes();
    bytes.extend_from_slice(rows.as_bytes());
    (FILE_NAME.to_string(), bytes)
}

/// Checks rows read from a partial result: exactly the trials `trials`, in
/// order, one line each, each line starting with its trial number and
/// holding `columns` fields (a field never holds a comma). The error says
/// what is wrong.
pub fn check_rows(rows: &str, trials: std::ops::Range<u64>, columns: usize) -> Result<(), String> {
    let mut lines = rows.split_terminator('\n');
    for trial in trials.clone() {
        let Some(line) = lines.next() else {
            return Err(format!(
                "no row for trial {trial} (rows for trials {trials:?} expected)"
            ));
        };
        let first = line.split(',').next().unwrap_or("");
        if first != trial.to_string() || line.split(',').count() != columns {
            return Err(format!(
                "the row for trial {trial} is not one (it starts `{first}` and has {} fields, not {columns})",
                line.split(',').count()
            ));
        }
    }
    if lines.next().is_some() || (!rows.is_empty() && !rows.ends_with('\n')) {
        return Err(format!("more rows than trials {trials:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::simulate_trial;

    /// Two quarters, a number drawn each quarter, a milestone reached.
    const SCENARIO: &str = r#"[scenario]
name = "s"
start = "2024Q3"
horizon_quarters = 2

[chips.a]
peak_flops = 1e15

[fleet.a]
training = 100

[training]
mfu = { dist = "uniform", low = 0.2, high = 0.6, per = "quarter" }

[milestones.small]
target_flop = 1e20
deadline = "2024Q3"

[milestones.huge]
target_flop = 1e30
deadline = "2024Q4"
"#;

    #[test]
    fn a_row_holds_the_trials_draws_and_outcome() {
        let model = Model::from_text(SCENARIO, "s.toml").unwrap();
        assert_eq!(
            header(&model),
            "trial,training.mfu[2024Q3],training.mfu[2024Q4],training.goodput,start_quarter,small_quarter,\
             huge_quarter,training_flop_at_horizon,training_flop_domestic_at_horizon\n"
        );
        let mut ws = Workspace::new(&model);
        simulate_trial(&model, 9, 41, &mut ws);
        let mut row = String::new();
        write_row(&model, &ws, 41, &mut row);
        let fields: Vec<&str> = row.trim_end().split(',').collect();
        assert_eq!(fields.len(), columns(&model).len());
        assert_eq!(fields[0], "41");
        // The inputs read back to the very values drawn.
        let read: Vec<u64> = fields[1..4]
            .iter()
            .map(|f| f.parse::<f64>().unwrap().to_bits())
            .collect();
        let drawn: Vec<u64> = ws.inputs().iter().map(|v| v.to_bits()).collect();
        assert_eq!(read, drawn);
        assert_eq!(&fields[4..7], ["2024Q3", "2024Q3", ""]);
        let flop: f64 = fields[7].parse().unwrap();
        assert_eq!(flop.to_bits(), ws.outcome.metrics[1][4].to_bits());
        assert!(flop > 1e20 && fields[8] == fields[7]);
        assert!(row.ends_with('\n') && row.lines().count() == 1);
    }

    #[test]
    fn requests_and_rows_are_checked() {
        let model = Model::from_text(SCENARIO, "s.toml").unwrap();
        assert!(check_request(&model, 1).is_ok());
        assert!(check_request(&model, MAX_ROWS).is_ok());
        let e = check_request(&model, MAX_ROWS + 1).unwrap_err();
        assert!(e.contains("above the limit of 1000000 rows"), "{e}");
        assert!(check_request(&model, 0).unwrap_err().contains("at least 1"));
        // Per-quarter numbers over 200 quarters make rows long: fewer of them.
        let long = SCENARIO.replace("horizon_quarters = 2", "horizon_quarters = 200");
        let model_long = Model::from_text(&long, "s.toml").unwrap();
        let cols = columns(&model_long).len() as u64;
        let e = check_request(&model_long, MAX_ROWS).unwrap_err();
        assert!(e.contains(&format!("limit of {} rows", MAX_CELLS / cols)), "{e}");

        let cols = columns(&model).len();
        let mut ws = Workspace::new(&model);
        let mut rows = String::new();
        for trial in 5..8 {
            simulate_trial(&model, 1, trial, &mut ws);
            write_row(&model, &ws, trial, &mut rows);
        }
        assert_eq!(check_rows(&rows, 5..8, cols), Ok(()));
        assert_eq!(check_rows("", 5..5, cols), Ok(()));
        assert!(
            check_rows(&rows, 5..9, cols)
                .unwrap_err()
                .contains("no row for trial 8")
        );
        assert!(check_rows(&rows, 5..7, cols).unwrap_err().contains("more rows"));
        assert!(check_rows(&rows, 4..7, cols).unwrap_err().contains("trial 4"));
        assert!(check_rows(&rows.replacen(",", ",,", 1), 5..8, cols).is_err());
        assert!(check_rows(rows.trim_end(), 5..8, cols).is_err());
    }

    #[test]
    fn blocks_come_out_in_trial_order() {
        let mut a = Rows::default();
        a.add(512, "512\n".into());
        a.add(0, String::new());
        let mut b = Rows::default();
        b.add(0, "0\n1\n".into());
        b.add(256, "256\n".into());
        assert_eq!(a.merge(b).into_text(), "0\n1\n256\n512\n");
    }
}
