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
/// `training_flop_domestic_at_horizon`.
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
    let _ = writeln!(
        out,
        ",{},{}",
        flop(Metric::TrainingFlop),
        flop(Metric::TrainingFlopDomestic)
    );
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
