//! Invalid scenarios are rejected at the boundary: exit code 2, one line per
//! problem in the form `<file>:<line>:<col>: <key.path>: <message>` (the
//! first prefixed by `error: `), nothing written to the output folder, and
//! never a panic. Both `validate` and `run` are checked on every file.
//!
//! Line numbers are computed from the text each test writes, never guessed.

use std::path::Path;
use std::process::Output;

use crate::common::{MINIMAL, run_in, text, write};

/// Name of the scenario file each test writes into its own temporary folder.
const FILE: &str = "scenario.toml";

/// One reported problem, parsed from a line of stderr.
#[derive(Debug)]
pub(crate) struct Problem {
    file: String,
    line: usize,
    col: usize,
    path: String,
    message: String,
}

/// Parses every line of stderr of the form `[error: ]file:line:col: path: message`.
fn problems(stderr: &str) -> Vec<Problem> {
    stderr
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix("error: ").unwrap_or(l);
            let mut parts = l.splitn(4, ':');
            let file = parts.next()?.to_string();
            let line = parts.next()?.parse().ok()?;
            let col = parts.next()?.parse().ok()?;
            let rest = parts.next()?.strip_prefix(' ')?;
            let (path, message) = rest.split_once(": ")?;
            Some(Problem {
                file,
                line,
                col,
                path: path.to_string(),
                message: message.to_string(),
            })
        })
        .collect()
}

/// 1-based number of the only line of `text` containing `needle`.
pub(crate) fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "`{needle}` should be on exactly one line of:\n{text}");
    hits[0]
}

/// MINIMAL with `from` (which must occur exactly once) replaced by `to`.
fn edit(from: &str, to: &str) -> String {
    assert_eq!(
        MINIMAL.matches(from).count(),
        1,
        "`{from}` should occur once in MINIMAL"
    );
    MINIMAL.replace(from, to)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Checks what every rejection shares: exit code 2, an `error: ` first line,
/// no panic, nothing on stdout.
fn assert_rejected(o: &Output) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "exit code should be 2 for invalid input\n{}",
        text(o)
    );
    assert!(!err.contains("panicked"), "panic instead of an error\n{}", text(o));
    assert!(
        err.starts_with("error: "),
        "stderr should start with `error: `\n{}",
        text(o)
    );
    assert!(o.stdout.is_empty(), "nothing should be printed on stdout\n{}", text(o));
}

/// Checks that a failed `run` left nothing behind in `dir`: no output folder
/// and no temporary folders, only the scenario file.
fn assert_nothing_written(dir: &Path, o: &Output) {
    assert!(
        !dir.join("out").exists(),
        "the --out folder must not be created\n{}",
        text(o)
    );
    let entries: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        entries,
        vec![FILE.to_string()],
        "a failed run must leave nothing behind\n{}",
        text(o)
    );
}

/// Writes `scenario` to a fresh folder, runs both `validate` and `run --out`,
/// checks that both reject it the same way without writing anything, and
/// returns the problems reported.
pub(crate) fn rejected(scenario: &str) -> Vec<Problem> {
    let found = rejected_bytes(scenario.as_bytes());
    for p in &found {
        assert_eq!(p.file, FILE, "the error should name the file: {p:?}");
        assert!(p.col >= 1, "columns are 1-based: {p:?}");
    }
    found
}

/// Asserts that exactly one problem is reported at `path`, on `line`, with
/// every word of `words` in its message; returns it.
pub(crate) fn expect<'a>(found: &'a [Problem], path: &str, line: usize, words: &[&str]) -> &'a Problem {
    let at: Vec<&Problem> = found.iter().filter(|p| p.path == path).collect();
    assert_eq!(at.len(), 1, "expected one problem at `{path}`, got: {found:#?}");
    let p = at[0];
    assert_eq!(p.line, line, "wrong line for `{path}`: {p:?}");
    for w in words {
        assert!(
            p.message.contains(w),
            "message for `{path}` should contain `{w}`: {p:?}"
        );
    }
    p
}

/// MINIMAL plus a shock `ban` at 2024Q3 with this `probability`, stopping supply line `supply`.
fn with_shock(probability: &str, supply: &str) -> String {
    format!(
        "{MINIMAL}\n[shocks.ban]\nat = \"2024Q3\"\nprobability = {probability}\neffects = [{{ supply = \"{supply}\", stop = true }}]\n"
    )
}

// ---------------------------------------------------------------------------
// 1. Unknown keys, with "did you mean" suggestions.

#[test]
fn unknown_top_level_table_is_named_with_a_suggestion() {
    let s = format!("{MINIMAL}\n[chip.b]\npeak_flops = 1e14\n");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "chip",
        line_of(&s, "[chip.b]"),
        &["unknown field `chip`", "did you mean `chips`?"],
    );
}

#[test]
fn unknown_key_in_a_table_is_named_with_a_suggestion() {
    let s = edit("mfu = 0.4", "mfu = 0.4\ngoodptu = 0.9");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "training.goodptu",
        line_of(&s, "goodptu"),
        &["unknown field `goodptu`", "did you mean `goodput`?"],
    );
}

#[test]
fn unknown_key_in_scenario_table_is_named_with_a_suggestion() {
    let s = edit("seed = 7", "sed = 7");
    let found = rejected(&s);
    expect(
        &found,
        "scenario.sed",
        line_of(&s, "sed = 7"),
        &["unknown field `sed`", "did you mean `seed`?"],
    );
}

#[test]
fn unknown_key_inside_an_inline_distribution_is_named_with_a_suggestion() {
    let s = edit("alpha = 2", "alfa = 2");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    let p = expect(
        &found,
        "supply.line.fill_rate.alfa",
        line_of(&s, "alfa = 2"),
        &["unknown field `alfa`", "did you mean `alpha`?"],
    );
    let col = s.lines().nth(p.line - 1).unwrap().find("alfa").unwrap() + 1;
    assert_eq!(p.col, col, "the column should point at `alfa`: {p:?}");
}

#[test]
fn unknown_key_inside_a_distribution_written_as_a_table_is_on_its_own_line() {
    let s = edit("fill_rate = { dist = \"beta\", alpha = 2, beta = 3 }\n", "").replace(
        "[training]",
        "[supply.line.fill_rate]\ndist = \"beta\"\nalfa = 2\nbeta = 3\n\n[training]",
    );
    let found = rejected(&s);
    expect(
        &found,
        "supply.line.fill_rate.alfa",
        line_of(&s, "alfa = 2"),
        &["unknown field `alfa`", "did you mean `alpha`?"],
    );
}

#[test]
fn unknown_key_inside_an_order_is_named_with_its_index() {
    let s = edit("{ from = \"2024Q1\"", "{ frm = \"2024Q1\"");
    let found = rejected(&s);
    expect(
        &found,
        "supply.line.orders[0].frm",
        line_of(&s, "frm ="),
        &["unknown field `frm`", "did you mean `from`?"],
    );
}

// ---------------------------------------------------------------------------
// 2. Wrong types.

#[test]
fn string_where_a_number_is_expected() {
    let s = edit("peak_flops = 1e14", "peak_flops = \"1e14\"");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "chips.a.peak_flops",
        line_of(&s, "peak_flops"),
        &["invalid type", "string", "expected a number"],
    );

    let s = edit("trials = 200", "trials = \"200\"");
    let found = rejected(&s);
    expect(
        &found,
        "scenario.trials",
        line_of(&s, "trials ="),
        &["invalid type", "string \"200\""],
    );
}

#[test]
fn float_where_an_integer_chip_count_is_expected() {
    let s = edit("chips = 1000 }", "chips = 1000.5 }");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "supply.line.orders[0].chips",
        line_of(&s, "1000.5"),
        &["`1000.5` is not a whole number >= 0", "2.5e4"],
    );
}

#[test]
fn whole_float_counts_are_accepted_and_others_named() {
    let s = edit("chips = 1000 }", "chips = 1e3 }").replace("trials = 200", "trials = 2.5e2");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f.toml", &s);
    let o = run_in(dir.path(), &["validate", "f.toml"]);
    assert!(o.status.success(), "{}", text(&o));

    let s = edit("trials = 200", "trials = 1e30");
    let found = rejected(&s);
    expect(
        &found,
        "scenario.trials",
        line_of(&s, "1e30"),
        &["`1e30` is too large for a count here"],
    );
    let s = edit("horizon_quarters = 8", "horizon_quarters = 5e9");
    let found = rejected(&s);
    expect(
        &found,
        "scenario.horizon_quarters",
        line_of(&s, "5e9"),
        &["`5e9` is too large", "4294967295"],
    );
    // Whole but beyond the key's own range: the range is named.
    let s = edit("trials = 200", "trials = 2e8");
    let found = rejected(&s);
    expect(
        &found,
        "scenario.trials",
        line_of(&s, "2e8"),
        &["between 1 and 100000000"],
    );
}

#[test]
fn negative_chip_count_is_rejected() {
    let s = edit("chips = 1000 }", "chips = -5 }");
    let found = rejected(&s);
    expect(
        &found,
        "supply.line.orders[0].chips",
        line_of(&s, "chips = -5"),
        &["-5"],
    );
}

// ---------------------------------------------------------------------------
// 3. Impossible distribution parameters.

#[test]
fn beta_alpha_must_be_positive() {
    for alpha in ["0", "-1"] {
        let s = edit("alpha = 2", &format!("alpha = {alpha}"));
        let found = rejected(&s);
        assert_eq!(found.len(), 1, "{found:#?}");
        expect(
            &found,
            "supply.line.fill_rate",
            line_of(&s, "alpha ="),
            &["alpha must be > 0", &format!("got {alpha}")],
        );
    }
}

#[test]
fn beta_alpha_in_a_distribution_table_points_into_that_table() {
    let s = edit("fill_rate = { dist = \"beta\", alpha = 2, beta = 3 }\n", "").replace(
        "[training]",
        "[supply.line.fill_rate]\ndist = \"beta\"\nalpha = 0\nbeta = 3\n\n[training]",
    );
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    let p = &found[0];
    assert!(p.path.starts_with("supply.line.fill_rate"), "{p:?}");
    assert!(p.message.contains("alpha must be > 0"), "{p:?}");
    // The table header or the offending `alpha` line are both fair places.
    let ok = [line_of(&s, "[supply.line.fill_rate]"), line_of(&s, "alpha = 0")];
    assert!(ok.contains(&p.line), "line {} should be one of {ok:?}: {p:?}", p.line);
}

#[test]
fn interval_p5_must_be_below_p95() {
    for (p5, p95) in [("0.5", "0.3"), ("0.4", "0.4")] {
        let s = edit("mfu = 0.4", &format!("mfu = {{ p5 = {p5}, p95 = {p95} }}"));
        let found = rejected(&s);
        assert_eq!(found.len(), 1, "{found:#?}");
        expect(
            &found,
            "training.mfu",
            line_of(&s, "mfu ="),
            &["p5 must be below p95", &format!("p5 = {p5}")],
        );
    }
}

#[test]
fn uniform_low_must_be_below_high() {
    for (low, high) in [("2", "1"), ("1", "1")] {
        let s = edit(
            "lead_time_quarters = 0.5",
            &format!("lead_time_quarters = {{ dist = \"uniform\", low = {low}, high = {high} }}"),
        );
        let found = rejected(&s);
        assert_eq!(found.len(), 1, "{found:#?}");
        expect(
            &found,
            "supply.line.lead_time_quarters",
            line_of(&s, "lead_time_quarters"),
            &["uniform needs low < high", &format!("low = {low}, high = {high}")],
        );
    }
}

#[test]
fn shock_probability_must_be_in_zero_one() {
    let s = with_shock("1.5", "line");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "shocks.ban.probability",
        line_of(&s, "probability = 1.5"),
        &["[0, 1]", "1.5"],
    );
}

#[test]
fn nan_is_rejected() {
    let s = edit("mfu = 0.4", "mfu = nan");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(&found, "training.mfu", line_of(&s, "mfu = nan"), &["finite", "NaN"]);

    let s = edit("alpha = 2", "alpha = nan");
    let found = rejected(&s);
    expect(
        &found,
        "supply.line.fill_rate",
        line_of(&s, "alpha = nan"),
        &["alpha", "finite", "NaN"],
    );

    let s = with_shock("nan", "line");
    let found = rejected(&s);
    expect(
        &found,
        "shocks.ban.probability",
        line_of(&s, "probability = nan"),
        &["NaN"],
    );
}

#[test]
fn fixed_fill_rate_above_one_is_rejected() {
    let s = edit(
        "fill_rate = { dist = \"beta\", alpha = 2, beta = 3 }",
        "fill_rate = 1.2",
    );
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "supply.line.fill_rate",
        line_of(&s, "fill_rate = 1.2"),
        &["[0, 1]", "1.2"],
    );
}

#[test]
fn unknown_distribution_name_is_named_with_a_suggestion() {
    let s = edit("dist = \"beta\"", "dist = \"betta\"");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "supply.line.fill_rate.dist",
        line_of(&s, "betta"),
        &[
            "unknown distribution \"betta\"",
            "uniform",
            "triangular",
            "did you mean \"beta\"?",
        ],
    );
}

#[test]
fn zero_peak_flops_message_is_readable() {
    // The valid range should be stated in a form a person can read, not as
    // f64::MIN_POSITIVE written out in ~300 decimal digits.
    let s = edit("peak_flops = 1e14", "peak_flops = 0");
    let found = rejected(&s);
    let p = expect(&found, "chips.a.peak_flops", line_of(&s, "peak_flops"), &["got 0"]);
    assert!(
        !p.message.contains("00000000000000000000"),
        "unreadable range in message: {p:?}"
    );
    assert!(
        p.message.len() < 200,
        "message is {} bytes long: {p:?}",
        p.message.len()
    );
}

// ---------------------------------------------------------------------------
// 4. References to undefined names.

#[test]
fn undefined_chip_of_a_supply_line_lists_defined_chips() {
    let s = edit("chip = \"a\"", "chip = \"h100\"") + "\n[chips.c]\npeak_flops = 2e14\n";
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "supply.line.chip",
        line_of(&s, "chip = \"h100\""),
        &["chips \"h100\" is not defined", "defined: a, c"],
    );
}

#[test]
fn undefined_chip_of_inference_and_fleet_is_named() {
    let s =
        format!("{MINIMAL}\n[inference]\nunit_chip = \"b\"\ninitial_demand_chips = 10\n\n[fleet.zz]\ntraining = 5\n");
    let found = rejected(&s);
    assert_eq!(found.len(), 2, "{found:#?}");
    expect(
        &found,
        "inference.unit_chip",
        line_of(&s, "unit_chip"),
        &["chips \"b\" is not defined", "defined: a"],
    );
    expect(
        &found,
        "fleet.zz",
        line_of(&s, "[fleet.zz]"),
        &["chips \"zz\" is not defined", "defined: a"],
    );
}

#[test]
fn undefined_supply_line_of_a_shock_effect_lists_defined_lines() {
    let s = with_shock("0.5", "lne");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "shocks.ban.effects[0].supply",
        line_of(&s, "supply = \"lne\""),
        &[
            "supply \"lne\" is not defined",
            "defined: line",
            "did you mean \"line\"?",
        ],
    );
}

#[test]
fn undefined_supply_line_in_an_array_of_tables_points_at_its_entry() {
    let s = format!(
        "{MINIMAL}\n[shocks.ban]\nat = \"2024Q3\"\n\n[[shocks.ban.effects]]\nsupply = \"line\"\nstop = true\n\n[[shocks.ban.effects]]\nsupply = \"nope\"\nstop = true\n"
    );
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "shocks.ban.effects[1].supply",
        line_of(&s, "\"nope\""),
        &["supply \"nope\" is not defined", "defined: line"],
    );
}

// ---------------------------------------------------------------------------
// 5. Quarters: outside the horizon, malformed.

#[test]
fn deadline_outside_the_horizon_is_rejected() {
    // MINIMAL: 8 quarters from 2024Q1, so the horizon is 2024Q1..=2025Q4.
    for deadline in ["2027Q1", "2026Q1", "2023Q4"] {
        let s = edit("deadline = \"2025Q2\"", &format!("deadline = \"{deadline}\""));
        let found = rejected(&s);
        assert_eq!(found.len(), 1, "{found:#?}");
        expect(
            &found,
            "milestones.m.deadline",
            line_of(&s, "deadline ="),
            &[deadline, "outside the horizon", "2024Q1..=2025Q4"],
        );
    }
}

#[test]
fn malformed_quarter_is_rejected_with_the_expected_form() {
    let s = edit("start = \"2024Q1\"", "start = \"2024Q5\"");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "scenario.start",
        line_of(&s, "start ="),
        &["`2024Q5` is not a quarter", "YYYYQn"],
    );

    let s = edit("deadline = \"2025Q2\"", "deadline = \"2024Q5\"");
    let found = rejected(&s);
    expect(
        &found,
        "milestones.m.deadline",
        line_of(&s, "deadline ="),
        &["`2024Q5` is not a quarter"],
    );

    let s = edit("to = \"2024Q4\"", "to = \"2024Q5\"");
    let found = rejected(&s);
    expect(
        &found,
        "supply.line.orders[0].to",
        line_of(&s, "2024Q5"),
        &["`2024Q5` is not a quarter"],
    );
}

// ---------------------------------------------------------------------------
// 6. Absurd sizes.

#[test]
fn trials_above_the_limit_in_the_file() {
    for trials in ["200000000", "100000001", "0"] {
        let s = edit("trials = 200", &format!("trials = {trials}"));
        let found = rejected(&s);
        assert_eq!(found.len(), 1, "{found:#?}");
        expect(
            &found,
            "scenario.trials",
            line_of(&s, "trials ="),
            &["between 1 and 100000000", &format!("got {trials}")],
        );
    }
}

#[test]
fn horizon_of_zero_or_five_hundred_quarters_is_rejected() {
    for h in ["0", "500"] {
        let s = edit("horizon_quarters = 8", &format!("horizon_quarters = {h}"));
        let found = rejected(&s);
        assert_eq!(found.len(), 1, "{found:#?}");
        expect(
            &found,
            "scenario.horizon_quarters",
            line_of(&s, "horizon_quarters"),
            &["between 1 and 200", &format!("got {h}")],
        );
    }
}

#[test]
fn trials_out_of_range_on_the_command_line() {
    for trials in ["0", "100000001"] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), FILE, MINIMAL);
        let o = run_in(dir.path(), &["run", FILE, "--trials", trials, "--out", "out"]);
        assert_rejected(&o);
        assert_nothing_written(dir.path(), &o);
        let err = stderr(&o);
        assert!(err.contains("--trials"), "should name the option\n{}", text(&o));
        assert!(
            err.contains(&format!("got {trials}")),
            "should give the value\n{}",
            text(&o)
        );
        assert!(err.contains("100000000"), "should give the limit\n{}", text(&o));
    }
}

// ---------------------------------------------------------------------------
// 7. Every problem of a file is reported.

#[test]
fn several_problems_are_all_reported_one_per_line() {
    let s = edit("trials = 200", "trials = 200000000")
        .replace("chip = \"a\"", "chip = \"b\"")
        .replace("alpha = 2", "alpha = 0")
        .replace("deadline = \"2025Q2\"", "deadline = \"2027Q1\"")
        .replace("mfu = 0.4", "mfu = 1.5");
    let found = rejected(&s);
    assert_eq!(found.len(), 5, "one line per problem: {found:#?}");
    expect(&found, "scenario.trials", line_of(&s, "trials ="), &["got 200000000"]);
    expect(
        &found,
        "supply.line.chip",
        line_of(&s, "chip = \"b\""),
        &["chips \"b\" is not defined"],
    );
    expect(
        &found,
        "supply.line.fill_rate",
        line_of(&s, "alpha = 0"),
        &["alpha must be > 0"],
    );
    expect(&found, "training.mfu", line_of(&s, "mfu ="), &["[0, 1]", "1.5"]);
    expect(
        &found,
        "milestones.m.deadline",
        line_of(&s, "deadline ="),
        &["outside the horizon"],
    );
    // Reported in file order.
    let lines: Vec<usize> = found.iter().map(|p| p.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "problems should be reported in file order");
}

#[test]
fn validate_reports_the_problems_of_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = edit("chip = \"a\"", "chip = \"b\"").replace("alpha = 2", "alpha = 0");
    let b = edit("deadline = \"2025Q2\"", "deadline = \"2027Q1\"");
    write(dir.path(), "a.toml", &a);
    write(dir.path(), "b.toml", &b);
    write(dir.path(), "ok.toml", MINIMAL);
    let o = run_in(dir.path(), &["validate", "a.toml", "ok.toml", "b.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{}", text(&o));
    let found = problems(&err);
    assert_eq!(found.len(), 3, "{found:#?}");
    let in_a: Vec<&Problem> = found.iter().filter(|p| p.file == "a.toml").collect();
    let in_b: Vec<&Problem> = found.iter().filter(|p| p.file == "b.toml").collect();
    assert_eq!(in_a.len(), 2, "{found:#?}");
    assert_eq!(in_b.len(), 1, "{found:#?}");
    assert_eq!(in_b[0].path, "milestones.m.deadline");
    assert_eq!(in_b[0].line, line_of(&b, "deadline ="));
    assert!(found.iter().all(|p| p.file != "ok.toml"), "{found:#?}");
}

// ---------------------------------------------------------------------------
// Syntax errors.

#[test]
fn toml_syntax_error_is_located() {
    let s = edit("name = \"base\"", "name = \"base");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].line, line_of(&s, "name = \"base"), "{found:#?}");
}

#[test]
fn duplicate_key_names_its_key_path() {
    let s = edit("seed = 7", "seed = 7\nseed = 8");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(&found, "scenario.seed", line_of(&s, "seed = 8"), &["duplicate key"]);
}

// ---------------------------------------------------------------------------
// 8. A missing file.

#[test]
fn missing_scenario_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["validate", "nope.toml"][..],
        &["run", "nope.toml", "--out", "out"][..],
    ] {
        let o = run_in(dir.path(), args);
        assert_rejected(&o);
        let err = stderr(&o);
        assert!(err.contains("nope.toml"), "should name the file\n{}", text(&o));
        assert!(
            err.contains("cannot read scenario file"),
            "should say what failed\n{}",
            text(&o)
        );
        assert!(!dir.path().join("out").exists(), "{}", text(&o));
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing should be written"
    );
}

// ---------------------------------------------------------------------------
// 9. The base scenario is valid.

#[test]
fn minimal_scenario_validates() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), FILE, MINIMAL);
    let o = run_in(dir.path(), &["validate", FILE]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(FILE) && out.contains("ok"), "{}", text(&o));
    assert!(o.stderr.is_empty(), "{}", text(&o));
}

/// Values written as in prose (an unquoted quarter, a percentage, a date)
/// name the key and say how to write them.
#[test]
fn prose_style_values_get_advice_at_their_key() {
    let dir = tempfile::tempdir().unwrap();
    for (from, to, path, advice) in [
        (
            "deadline = \"2025Q2\"",
            "deadline = 2025Q2",
            "milestones.m.deadline",
            "\"2025Q4\"",
        ),
        (
            "deadline = \"2025Q2\"",
            "deadline = 2025-06-30",
            "milestones.m.deadline",
            "\"2025Q4\"",
        ),
        ("mfu = 0.4", "mfu = 40%", "training.mfu", "0.35 for 35%"),
    ] {
        let text = crate::common::MINIMAL.replace(from, to);
        crate::common::write(dir.path(), "s.toml", &text);
        let o = crate::common::run_in(dir.path(), &["validate", "s.toml"]);
        assert_eq!(o.status.code(), Some(2), "{}", crate::common::text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        let line = text.lines().position(|l| l.starts_with(to)).unwrap() + 1;
        assert!(err.contains(&format!("s.toml:{line}:")), "{to}: {err}");
        assert!(err.contains(path) && err.contains(advice), "{to}: {err}");
    }
}

// ---------------------------------------------------------------------------
// 10. Encodings and characters TOML does not allow.

/// [`rejected`] for a file given as raw bytes (which need not be UTF-8).
fn rejected_bytes(bytes: &[u8]) -> Vec<Problem> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(FILE), bytes).unwrap();
    let v = run_in(dir.path(), &["validate", FILE]);
    assert_rejected(&v);
    let r = run_in(dir.path(), &["run", FILE, "--out", "out"]);
    assert_rejected(&r);
    assert_nothing_written(dir.path(), &r);
    assert_eq!(
        stderr(&v),
        stderr(&r),
        "validate and run should report the same problems"
    );
    let found = problems(&stderr(&v));
    assert!(
        !found.is_empty(),
        "no `file:line:col: path: message` line\n{}",
        text(&v)
    );
    found
}

/// 1-based column (in characters) of the first `needle` on line `line` of `text`.
fn col_of(text: &str, line: usize, needle: &str) -> usize {
    let l = text.lines().nth(line - 1).unwrap();
    l[..l.find(needle).unwrap()].chars().count() + 1
}

#[test]
fn byte_that_is_not_utf8_is_located_with_advice_to_save_as_utf8() {
    // A Windows-1252 en dash (0x96) in a comment, as a Windows editor saves it.
    let s = edit("mfu = 0.4", "mfu = 0.4  # measured \u{2013} see note");
    let bytes = s.replace('\u{2013}', "\u{1}").into_bytes();
    let bytes: Vec<u8> = bytes.into_iter().map(|b| if b == 1 { 0x96 } else { b }).collect();
    let line = line_of(&s, "# measured");
    let found = rejected_bytes(&bytes);
    assert_eq!(found.len(), 1, "{found:#?}");
    let p = expect(
        &found,
        "training.mfu",
        line,
        &["byte 0x96 is not valid UTF-8", "`–`", "save the file as UTF-8"],
    );
    assert_eq!(p.col, col_of(&s, line, "\u{2013}"), "{p:?}");

    // On a comment line of its own the key path is the table.
    let s = edit("[training]", "[training]\n# \u{2013} comment");
    let bytes: Vec<u8> = s
        .replace('\u{2013}', "\u{1}")
        .into_bytes()
        .into_iter()
        .map(|b| if b == 1 { 0x96 } else { b })
        .collect();
    let found = rejected_bytes(&bytes);
    let p = expect(&found, "training", line_of(&s, "comment"), &["0x96"]);
    assert_eq!(p.col, 3, "{p:?}");
}

#[test]
fn utf16_and_utf32_files_are_recognised_by_their_byte_order_mark() {
    let utf16le: Vec<u8> = MINIMAL.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let utf16be: Vec<u8> = MINIMAL.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let utf32le: Vec<u8> = MINIMAL.chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
    for (bom, body, words) in [
        (&[0xFF, 0xFE][..], &utf16le, ["UTF-16 (little-endian)", "FF FE"]),
        (&[0xFE, 0xFF][..], &utf16be, ["UTF-16 (big-endian)", "FE FF"]),
        (
            &[0xFF, 0xFE, 0, 0][..],
            &utf32le,
            ["UTF-32 (little-endian)", "FF FE 00 00"],
        ),
    ] {
        let bytes = [bom, body.as_slice()].concat();
        let found = rejected_bytes(&bytes);
        assert_eq!(found.len(), 1, "{found:#?}");
        let p = expect(
            &found,
            "(top level)",
            1,
            &[words[0], words[1], "save the file as UTF-8"],
        );
        assert_eq!(p.col, 1);
    }
    // Without a byte-order mark, UTF-16 is recognised by its zero bytes.
    let found = rejected_bytes(&utf16le);
    expect(
        &found,
        "(top level)",
        1,
        &["looks like UTF-16", "save the file as UTF-8"],
    );
}

#[test]
fn utf8_byte_order_mark_is_accepted_and_not_counted_as_a_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(FILE), format!("\u{feff}{MINIMAL}")).unwrap();
    let o = run_in(dir.path(), &["validate", FILE]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let found = rejected_bytes(format!("\u{feff}x = 1\n{MINIMAL}").as_bytes());
    let p = expect(&found, "x", 1, &["unknown field `x`"]);
    assert_eq!(p.col, 1, "the byte-order mark is not a column: {p:?}");
}

#[test]
fn control_character_in_a_comment_names_the_character_and_the_table() {
    // A comment line containing `key = value` text: its words are not a key path.
    let s = edit("[training]", "[training]\n# Fill-rate multiplier: x = 0.5 \u{7} (HBM)");
    let line = line_of(&s, "Fill-rate");
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    let p = expect(&found, "training", line, &["U+0007", "not allowed"]);
    assert_eq!(p.col, col_of(&s, line, "\u{7}"), "{p:?}");

    // After a value, the key of the line.
    let s = edit("mfu = 0.4", "mfu = 0.4 # Fill-rate \u{c} multiplier");
    let found = rejected(&s);
    let p = expect(&found, "training.mfu", line_of(&s, "mfu ="), &["U+000C"]);
    assert_eq!(p.col, col_of(&s, p.line, "\u{c}"), "{p:?}");

    // Inside a string.
    let s = edit("name = \"base\"", "name = \"ba\u{1b}se\"");
    let found = rejected(&s);
    expect(&found, "scenario.name", line_of(&s, "name ="), &["U+001B"]);
}

#[test]
fn nesting_beyond_the_toml_limit_is_located() {
    // A dotted key of 101 parts: the TOML parser reports it without a position.
    let key = format!("x{}", ".a".repeat(100));
    let s = edit("mfu = 0.4", &format!("mfu = 0.4\n{key} = 1"));
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    let p = expect(&found, "training", line_of(&s, "x.a.a"), &["101 parts", "80"]);
    assert_eq!(p.col, 1);

    // Arrays nested over several lines: the key whose value it is.
    let s = edit(
        "mfu = 0.4",
        &format!("mfu = 0.4\ny = [\n{}{}]", "[\n".repeat(100), "]\n".repeat(100)),
    );
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    let p = &found[0];
    assert_eq!(p.path, "training.y", "{p:?}");
    assert!(p.message.contains("nested more than 80 levels"), "{p:?}");
    assert!(p.line > line_of(&s, "y = ["), "{p:?}");
}

// ---------------------------------------------------------------------------
// 11. Quarter syntax and totals.

#[test]
fn quarters_must_be_exactly_four_digits_q_and_one_digit() {
    for bad in [
        "+2024Q01", "2024Q+4", "02024Q1", " 2025Q2", "2025Q2 ", "2025Q02", "2025 Q2",
    ] {
        let s = edit("deadline = \"2025Q2\"", &format!("deadline = \"{bad}\""));
        let found = rejected(&s);
        assert_eq!(found.len(), 1, "{bad}: {found:#?}");
        expect(
            &found,
            "milestones.m.deadline",
            line_of(&s, "deadline ="),
            &[&format!("`{bad}` is not a quarter"), "YYYYQn"],
        );
    }
    // Lower-case `q` is accepted (documented in docs/MODEL.md).
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        FILE,
        &edit("deadline = \"2025Q2\"", "deadline = \"2025q2\""),
    );
    let o = run_in(dir.path(), &["validate", FILE]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// MINIMAL over 200 quarters with `lines` supply lines each ordering 10^12
/// chips (the per-quarter limit) in every quarter.
fn huge_orders(lines: usize) -> String {
    let mut s = edit("horizon_quarters = 8", "horizon_quarters = 200");
    for i in 0..lines {
        s.push_str(&format!(
            "\n[supply.l{i}]\nchip = \"a\"\norders = [{{ from = \"2024Q1\", to = \"2073Q4\", chips = 1000000000000 }}]\n"
        ));
    }
    s
}

#[test]
fn chip_totals_beyond_two_to_the_53_are_rejected() {
    // MINIMAL's own line orders 4,000 chips; each added line 2 x 10^14.
    // 45 lines: 9.0 x 10^15 + 4,000 <= 2^53 = 9,007,199,254,740,992.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), FILE, &huge_orders(45));
    let o = run_in(dir.path(), &["validate", FILE]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // 46 lines cross it at l45; 100 lines report the whole total.
    let s = huge_orders(100);
    let found = rejected(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    let line = line_of(&s, "[supply.l45]") + 2;
    expect(
        &found,
        "supply.l45.orders",
        line,
        &["20000000000004000", "2^53 = 9007199254740992"],
    );
}

// ---------------------------------------------------------------------------
// 12. Warnings: valid files, exit 0, one `warning: file:line:col: path: message`
// line each on stderr, and the same (without the file) in summary.json.

/// Runs `validate` (which must succeed) and returns the warnings printed.
fn warned(scenario: &str) -> Vec<Problem> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), FILE, scenario);
    let o = run_in(dir.path(), &["validate", FILE]);
    assert_eq!(o.status.code(), Some(0), "warnings are not errors\n{}", text(&o));
    let err = stderr(&o);
    for l in err.lines() {
        assert!(l.starts_with("warning: "), "stderr holds only warnings:\n{err}");
    }
    problems(&err.replace("warning: ", ""))
}

#[test]
fn orders_outside_the_horizon_are_warned_about() {
    let s = edit(
        "orders = [{ from = \"2024Q1\", to = \"2024Q4\", chips = 1000 }]",
        "orders = [\n  { from = \"2024Q1\", to = \"2024Q4\", chips = 1000 },\n  { quarter = \"2026Q1\", chips = 5 },\n  { from = \"2025Q3\", to = \"2026Q2\", chips = 5 },\n  { quarter = \"2030Q1\", chips = 0 },\n]",
    );
    let found = warned(&s);
    assert_eq!(found.len(), 2, "{found:#?}");
    expect(
        &found,
        "supply.line.orders[1]",
        line_of(&s, "2026Q1\""),
        &["dropped", "2026Q1 lies outside", "2024Q1..=2025Q4"],
    );
    expect(
        &found,
        "supply.line.orders[2]",
        line_of(&s, "2025Q3"),
        &["2 of its quarters (2025Q3..=2026Q2)"],
    );
}

#[test]
fn supply_line_ordering_nothing_is_warned_about() {
    for orders in [
        "[]",
        "[{ quarter = \"2024Q2\", chips = 0 }]",
        "[{ quarter = \"2030Q1\", chips = 9 }]",
    ] {
        let s = format!("{MINIMAL}\n[supply.idle]\nchip = \"a\"\norders = {orders}\n");
        let found = warned(&s);
        expect(
            &found,
            "supply.idle.orders",
            line_of(&s, &format!("orders = {orders}")),
            &["orders no chips", "delivers nothing"],
        );
    }
    assert!(warned(MINIMAL).is_empty());
}

#[test]
fn per_quarter_on_a_number_used_once_is_warned_about() {
    let s = format!(
        "{MINIMAL}\n[inference]\nunit_chip = \"a\"\ninitial_demand_chips = {{ p5 = 10, p95 = 100, per = \"quarter\" }}\ngrowth_per_quarter = {{ low = 0, high = 0.1, dist = \"uniform\", per = \"quarter\" }}\n\n[shocks.ban]\nat = \"2024Q3\"\nduration_quarters = {{ dist = \"uniform\", low = 1, high = 3, per = \"quarter\" }}\neffects = [{{ supply = \"line\", fill_rate_multiplier = {{ low = 0, high = 1, dist = \"uniform\", per = \"quarter\" }} }}]\n"
    );
    let found = warned(&s);
    assert_eq!(found.len(), 2, "only the numbers used once: {found:#?}");
    expect(
        &found,
        "inference.initial_demand_chips.per",
        line_of(&s, "initial_demand_chips"),
        &["used once per trial", "in the first quarter"],
    );
    expect(
        &found,
        "shocks.ban.duration_quarters.per",
        line_of(&s, "duration_quarters"),
        &["used once per trial", "when the shock starts"],
    );
}

#[test]
fn warnings_reach_stderr_of_run_and_summary_json() {
    let dir = tempfile::tempdir().unwrap();
    let s = format!("{MINIMAL}\n[supply.idle]\nchip = \"a\"\norders = []\n");
    write(dir.path(), FILE, &s);
    let o = run_in(dir.path(), &["run", FILE, "--out", "out", "--quiet", "--trials", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let line = line_of(&s, "orders = []");
    let shown = format!("{line}:1: supply.idle.orders: this supply line orders no chips");
    assert!(
        stderr(&o).starts_with(&format!("warning: {FILE}:{shown}")),
        "{}",
        text(&o)
    );
    let json = std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&json).unwrap();
    let warnings = summary["warnings"].as_array().cloned().unwrap_or_default();
    assert_eq!(warnings.len(), 1, "{json}");
    assert!(warnings[0].as_str().unwrap().starts_with(&shown), "{warnings:?}");
    assert_eq!(crate::common::read_summary(&dir.path().join("out")).warnings.len(), 1);

    // Without warnings, summary.json has no `warnings` key (outputs unchanged).
    write(dir.path(), FILE, MINIMAL);
    let o = run_in(dir.path(), &["run", FILE, "--out", "out", "--quiet", "--trials", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stderr.is_empty(), "{}", text(&o));
    let json = std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap();
    assert!(!json.contains("\"warnings\""), "{json}");
}

/// A 90% interval must lie inside the quantity's valid range; one of a
/// fraction must be strictly inside 0 to 1 (it is fitted as a logit-normal).
#[test]
fn a_ninety_percent_interval_outside_its_range_is_refused() {
    let s = edit("mfu = 0.4", "mfu = { p5 = -1e300, p95 = 1e300 }");
    let found = rejected(&s);
    expect(
        &found,
        "training.mfu.p5",
        line_of(&s, "p5 = -1e300"),
        &["p5 = -1e300", "outside", "[0, 1]"],
    );
    let s = edit("mfu = 0.4", "mfu = { p5 = 0, p95 = 0.5 }");
    let found = rejected(&s);
    expect(
        &found,
        "training.mfu",
        line_of(&s, "p5 = 0,"),
        &["0 < p5 < p95 < 1", "beta"],
    );
    let s = edit(
        "lead_time_quarters = 0.5",
        "lead_time_quarters = { p5 = 0.5, p95 = 500 }",
    );
    let found = rejected(&s);
    expect(
        &found,
        "supply.line.lead_time_quarters.p95",
        line_of(&s, "p95 = 500"),
        &["outside", "400"],
    );
}

// ---------------------------------------------------------------------------
// 13. Correlations and sampling (docs/MODEL.md section 3).

/// MINIMAL with three per-trial uncertain numbers (`supply.line.fill_rate`,
/// `training.mfu`, `training.goodput`; `lead_time_quarters` stays fixed) and
/// `correlation` appended.
fn correlated(correlation: &str) -> String {
    let s = edit(
        "mfu = 0.4",
        "mfu = { dist = \"pert\", min = 0.2, mode = 0.35, max = 0.5 }\ngoodput = { dist = \"uniform\", low = 0.8, high = 1 }",
    );
    format!("{s}\n{correlation}")
}

const THREE: &str = "inputs = [\"supply.line.fill_rate\", \"training.mfu\", \"training.goodput\"]";

#[test]
fn a_matrix_that_is_not_positive_semi_definite_is_refused_or_repaired() {
    let table = format!("[[correlation]]\n{THREE}\nmatrix = [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]\n");
    let s = correlated(&table);
    let found = rejected(&s);
    expect(
        &found,
        "correlation[0].matrix",
        line_of(&s, "matrix ="),
        &[
            "not positive semi-definite",
            "smallest eigenvalue",
            "repair = \"nearest\"",
        ],
    );
    let s = correlated(&format!("{table}repair = \"nearest\"\n"));
    let found = warned(&s);
    assert_eq!(found.len(), 1, "{found:#?}");
    expect(
        &found,
        "correlation[0].matrix",
        line_of(&s, "matrix ="),
        &["repaired to the nearest", "largest change"],
    );
}

#[test]
fn malformed_correlations_are_named() {
    let cases: Vec<(String, &str, &str, Vec<&str>)> = vec![
        (
            format!("[[correlation]]\n{THREE}\nmatrix = [[1, 0.5, 0.1], [0.4, 1, 0], [0.1, 0, 1]]\n"),
            "correlation[0].matrix[0][1]",
            "matrix =",
            vec!["symmetric", "[1][0] is 0.4"],
        ),
        (
            format!("[[correlation]]\n{THREE}\nmatrix = [[1, 0.5, 2], [0.5, 1, 0], [2, 0, 1]]\n"),
            "correlation[0].matrix[0][2]",
            "matrix =",
            vec!["[-1, 1]", "got 2"],
        ),
        (
            format!("[[correlation]]\n{THREE}\nmatrix = [[1, 0.5], [0.5, 1]]\n"),
            "correlation[0].matrix",
            "matrix =",
            vec!["3 rows"],
        ),
        (
            "[[correlation]]\ninputs = [\"training.mfu\", \"training.goodput\"]\nrank = 1.5\n".to_string(),
            "correlation[0].rank",
            "rank = 1.5",
            vec!["[-1, 1]"],
        ),
        (
            "[[correlation]]\ninputs = [\"training.mfuu\", \"training.goodput\"]\nrank = 0.5\n".to_string(),
            "correlation[0].inputs[0]",
            "training.mfuu",
            vec!["not an uncertain number", "did you mean \"training.mfu\""],
        ),
        (
            "[[correlation]]\ninputs = [\"training.mfu\", \"supply.line.lead_time_quarters\"]\nrank = 0.5\n"
                .to_string(),
            "correlation[0].inputs[1]",
            "inputs =",
            vec!["fixed number"],
        ),
        (
            "[[correlation]]\ninputs = [\"training.mfu\"]\nrank = 0.5\n".to_string(),
            "correlation[0].inputs",
            "inputs =",
            vec!["at least 2 inputs"],
        ),
        (
            format!("[[correlation]]\n{THREE}\nrank = 0.5\n"),
            "correlation[0].rank",
            "rank = 0.5",
            vec!["exactly two inputs", "3×3 `matrix`"],
        ),
        (
            "[[correlation]]\ninputs = [\"training.mfu\", \"training.goodput\"]\nrank = 0.5\n\n[[correlation]]\ninputs = [\"supply.line.fill_rate\", \"training.goodput\"]\nrank = 0.2\n"
                .to_string(),
            "correlation[1].inputs[1]",
            "inputs = [\"supply.line.fill_rate\"",
            vec!["already in correlation[0]", "one `matrix`"],
        ),
    ];
    for (table, path, needle, words) in cases {
        let s = correlated(&table);
        let found = rejected(&s);
        expect(&found, path, line_of(&s, needle), &words);
    }
}

#[test]
fn a_per_quarter_input_cannot_be_correlated() {
    let s = correlated("[[correlation]]\ninputs = [\"training.mfu\", \"training.goodput\"]\nrank = 0.5\n")
        .replace("low = 0.8, high = 1 }", "low = 0.8, high = 1, per = \"quarter\" }");
    let found = rejected(&s);
    expect(
        &found,
        "correlation[0].inputs[1]",
        line_of(&s, "inputs ="),
        &["drawn per quarter", "correlations are per trial"],
    );
}

#[test]
fn an_unknown_sampling_is_named() {
    let s = edit("seed = 7", "seed = 7\nsampling = \"lhss\"");
    let found = rejected(&s);
    expect(
        &found,
        "scenario.sampling",
        line_of(&s, "sampling"),
        &["lhs", "independent"],
    );
}
