//! Gates (docs/MODEL.md section 5, `QuarterStart` steps 5 and 6): supply
//! lines that deliver only in quarters when every gate they name is open,
//! gates as two-state Markov chains with dated events, shocks that hold a
//! gate open or closed, licence quotas and domestic-purchase ratios.
//! Expected numbers are worked out by hand or in closed form.

use crate::common::run_quarters as run;
use crate::common::{assert_refused, folder_files, read_summary, run_in, text, write};

/// The value of `metric` in `quarter` (fixed scenarios).
fn value(quarters: &str, quarter: &str, metric: &str) -> u64 {
    crate::common::quarter_p50(quarters, quarter, metric) as u64
}

/// Foreign chips `f`: 100 ordered every quarter of 2024, every order filled
/// and landing one second later (counted in the quarter it was ordered).
/// `LINE` and `GATES` are replaced by each test.
const BASE: &str = r#"
[scenario]
name = "gates"
start = "2024Q1"
horizon_quarters = 4
trials = 5

[chips.f]
peak_flops = 1e14
domestic = false

[chips.d]
peak_flops = 1e14

[supply.f_line]
chip = "f"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 100 }]
LINE

GATES

[training]
mfu = 0.5

[milestones.m]
target_flop = 1e30
deadline = "2024Q4"
"#;

fn scenario(line: &str, gates: &str) -> String {
    BASE.replace("LINE", line).replace("GATES", gates)
}

fn delivered(q: &str) -> Vec<u64> {
    ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
        .iter()
        .map(|quarter| value(q, quarter, "delivered_chips_cumulative[f]"))
        .collect()
}

#[test]
fn a_line_fills_orders_only_when_all_its_gates_are_open() {
    let gates = r#"
[gates.us]
events = [{ quarter = "2024Q2", open = false }, { quarter = "2024Q3", open = true }]

[gates.beijing]
events = [{ quarter = "2024Q4", open = false }]
"#;
    // One gate: closed in 2024Q2 only (no chance: probabilities 0).
    let (_d, q) = run(&scenario("gates = [\"us\"]", gates), &[]);
    assert_eq!(delivered(&q), [100, 100, 200, 300]);
    // Both gates: Beijing closes in 2024Q4 as well.
    let (_d, q) = run(&scenario("gates = [\"us\", \"beijing\"]", gates), &[]);
    assert_eq!(delivered(&q), [100, 100, 200, 200]);
    // With a backlog the order of a closed quarter waits for the next open one.
    let (_d, q) = run(&scenario("gates = [\"us\", \"beijing\"]\nbacklog = true", gates), &[]);
    assert_eq!(delivered(&q), [100, 100, 300, 300]);
    // A line without gates is not affected by them.
    let (dir, q) = run(&scenario("", gates), &[]);
    assert_eq!(delivered(&q), [100, 200, 300, 400]);
    // summary.json: each gate's share of trials open, by quarter.
    let s = read_summary(&dir.path().join("out"));
    assert_eq!(s.gates.len(), 2);
    assert_eq!(
        (s.gates[0].name.as_str(), &s.gates[0].open_share[..]),
        ("us", &[1.0, 0.0, 1.0, 1.0][..])
    );
    assert_eq!(s.gates[1].open_share, [1.0, 1.0, 1.0, 0.0]);
    // validate counts them.
    let o = run_in(dir.path(), &["validate", "s.toml"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("shocks: 0, gates: 2, milestones: 1"),
        "{}",
        text(&o)
    );
    // The reports show them.
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("## Gates"), "{md}");
    assert!(
        md.contains("| us | 2024Q1 100%, 2024Q2 0%, 2024Q3 100%, 2024Q4 100% |"),
        "{md}"
    );
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(html.contains("<table id=\"gates\">"));
}

#[test]
fn gates_follow_their_markov_chain_in_distribution() {
    // Closed at the start; from 2024Q2 on an open gate closes with 0.3 and a
    // closed one opens with 0.6 each quarter. The share open follows
    // pi(q) = pi(q-1)(1 - 0.3) + (1 - pi(q-1)) 0.6: 0, 0.6, 0.66, 0.666.
    // Each share is a mean of 20,000 independent trials (sd <= 0.0036): the
    // tolerance 0.02 is more than 5.5 sd, and the seed is fixed.
    let gates = r#"
[gates.us]
initially_open = false
close_probability = 0.3
open_probability = 0.6
"#;
    let (dir, q) = run(
        &scenario("gates = [\"us\"]", gates),
        &["--trials", "20000", "--seed", "7"],
    );
    let s = read_summary(&dir.path().join("out"));
    let expected = [0.0, 0.6, 0.66, 0.666];
    for (got, want) in s.gates[0].open_share.iter().zip(expected) {
        assert!((got - want).abs() < 0.02, "{:?} vs {expected:?}", s.gates[0].open_share);
    }
    assert_eq!(value(&q, "2024Q1", "delivered_chips_cumulative[f]"), 0);
    // `from` and `until` bound the quarters of chance: none before 2024Q3.
    let late = gates.replace("initially_open = false", "initially_open = false\nfrom = \"2024Q3\"");
    let (dir, _) = run(&scenario("gates = [\"us\"]", &late), &["--trials", "2000"]);
    let s = read_summary(&dir.path().join("out"));
    assert_eq!(&s.gates[0].open_share[..2], &[0.0, 0.0]);
    assert!(s.gates[0].open_share[2] > 0.5);
}

#[test]
fn a_shock_holds_a_gate_while_it_is_active_and_the_chain_goes_on() {
    let gates = r#"
[gates.us]

[gates.beijing]
initially_open = false

[shocks.licence_revoked]
at = "2024Q2"
duration_quarters = 1
effects = [{ gate = "us", open = false }]

[shocks.beijing_relents]
at = "2024Q3"
effects = [{ gate = "beijing", open = true }, { gate = "us", open = true }]
"#;
    let (dir, q) = run(&scenario("gates = [\"us\"]", gates), &[]);
    // us: open, held closed in 2024Q2, open again (its chain never closed).
    assert_eq!(delivered(&q), [100, 100, 200, 300]);
    let s = read_summary(&dir.path().join("out"));
    assert_eq!(s.gates[0].open_share, [1.0, 0.0, 1.0, 1.0]);
    // beijing: closed until a permanent shock holds it open from 2024Q3.
    assert_eq!(s.gates[1].open_share, [0.0, 0.0, 1.0, 1.0]);
    // Closed wins over open when two active shocks disagree.
    let both = gates.replace("duration_quarters = 1", "");
    let (dir, _) = run(&scenario("gates = [\"us\"]", &both), &[]);
    let s = read_summary(&dir.path().join("out"));
    assert_eq!(s.gates[0].open_share, [1.0, 0.0, 0.0, 0.0]);
}

#[test]
fn a_quota_caps_each_quarters_fill() {
    let (_d, q) = run(&scenario("quota_chips_per_quarter = 30", ""), &[]);
    assert_eq!(delivered(&q), [30, 60, 90, 120]);
    // With a backlog the rest waits, and the quota still binds: 100 ordered
    // and 60 filled in 2024Q1, then 140, 180, 220 asked for, 60 filled each.
    let (_d, q) = run(&scenario("quota_chips_per_quarter = 60\nbacklog = true", ""), &[]);
    assert_eq!(delivered(&q), [60, 120, 180, 240]);
    // A quota above the order changes nothing.
    let (_d, q) = run(&scenario("quota_chips_per_quarter = 150", ""), &[]);
    assert_eq!(delivered(&q), [100, 200, 300, 400]);
}

#[test]
fn a_domestic_purchase_ratio_ties_foreign_fills_to_domestic_orders() {
    // Two domestic chips ordered for each foreign chip filled: the domestic
    // line orders 100 a quarter from 2024Q2, so the cap on the foreign
    // line's fills so far is floor(100 (q) / 2): 0, 50, 100, 150.
    let line = r#"domestic_purchase_ratio = 2
backlog = true

[supply.d_line]
chip = "d"
orders = [{ from = "2024Q2", to = "2024Q4", chips = 100 }]"#;
    let (_d, q) = run(&scenario(line, ""), &[]);
    assert_eq!(delivered(&q), [0, 50, 100, 150]);
}

#[test]
fn gates_give_identical_outputs_for_any_thread_and_shard_count() {
    let gates = r#"
[gates.us]
close_probability = { p5 = 0.1, p95 = 0.5 }
open_probability = { dist = "uniform", low = 0.2, high = 0.8, per = "quarter" }
"#;
    let scenario_text = scenario(
        "gates = [\"us\"]\nfill_rate = { dist = \"beta\", alpha = 2, beta = 2 }",
        gates,
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s.toml", &scenario_text);
    let go = |args: &[&str]| {
        let o = run_in(d, args);
        assert!(o.status.success(), "{}", text(&o));
    };
    let n = ["--trials", "3000", "--quiet"];
    go(&[&["run", "s.toml", "--out", "t1", "--threads", "1"][..], &n].concat());
    go(&[&["run", "s.toml", "--out", "t2", "--threads", "2"][..], &n].concat());
    go(&[&["run", "s.toml", "--out", "p1", "--shard", "1/2"][..], &n].concat());
    go(&[&["run", "s.toml", "--out", "p2", "--shard", "2/2"][..], &n].concat());
    go(&["merge", "p2", "p1", "--out", "merged", "--quiet"]);
    let one = folder_files(&d.join("t1"));
    assert!(one == folder_files(&d.join("t2")), "--threads 1 and 2 differ");
    assert!(
        one == folder_files(&d.join("merged")),
        "the merged shards differ from one run"
    );
    let partial = std::fs::read_to_string(d.join("p1/partial.json")).unwrap();
    assert!(
        partial.contains("\"gate_open_in_quarter\""),
        "no gate counts in the partial result"
    );
    let s = read_summary(&d.join("t1"));
    assert!(s.gates[0].open_share[1] > 0.0 && s.gates[0].open_share[1] < 1.0);
}

#[test]
fn invalid_gates_are_refused_with_file_line_and_key() {
    let gates = "[gates.us]\nevents = [{ quarter = \"2024Q2\", open = false }]\n";
    let cases: Vec<(String, &str, &str)> = vec![
        (
            scenario("gates = [\"usa\"]", gates),
            "supply.f_line.gates[0]",
            "did you mean \"us\"",
        ),
        (
            scenario("gates = [\"us\", \"us\"]", gates),
            "supply.f_line.gates[1]",
            "named twice",
        ),
        (
            scenario("", "[gates.us]\nclose_probability = 1.5"),
            "gates.us.close_probability",
            "1.5",
        ),
        (
            scenario("", "[gates.us]\nevents = [{ quarter = \"2030Q1\", open = false }]"),
            "gates.us.events[0].quarter",
            "2030Q1",
        ),
        (
            scenario(
                "",
                "[gates.us]\nevents = [{ quarter = \"2024Q2\", open = false }, { quarter = \"2024Q2\", open = true }]",
            ),
            "gates.us.events[1].quarter",
            "already in 2024Q2",
        ),
        (
            scenario("", "[gates.us]\nfrom = \"2024Q3\"\nuntil = \"2024Q2\""),
            "gates.us.until",
            "before `from`",
        ),
        (
            scenario("domestic_purchase_ratio = 0", ""),
            "supply.f_line.domestic_purchase_ratio",
            "0",
        ),
        (
            scenario(
                "",
                "[supply.d_line]\nchip = \"d\"\norders = [{ quarter = \"2024Q1\", chips = 5 }]\ndomestic_purchase_ratio = 1",
            ),
            "supply.d_line.domestic_purchase_ratio",
            "is domestic",
        ),
        (
            scenario("quota_chips_per_quarter = -1", ""),
            "supply.f_line.quota_chips_per_quarter",
            "-1",
        ),
        (
            scenario(
                "",
                &format!("{gates}\n[shocks.s]\nat = \"2024Q2\"\neffects = [{{ gate = \"uss\", open = false }}]"),
            ),
            "shocks.s.effects[0].gate",
            "did you mean \"us\"",
        ),
        (
            scenario(
                "",
                &format!("{gates}\n[shocks.s]\nat = \"2024Q2\"\neffects = [{{ gate = \"us\" }}]"),
            ),
            "shocks.s.effects[0]",
            "open = false",
        ),
        (
            scenario(
                "",
                &format!(
                    "{gates}\n[shocks.s]\nat = \"2024Q2\"\neffects = [{{ gate = \"us\", open = true, stop = true }}]"
                ),
            ),
            "shocks.s.effects[0].stop",
            "only `gate` and `open`",
        ),
        (
            scenario(
                "",
                &format!(
                    "{gates}\n[shocks.s]\nat = \"2024Q2\"\neffects = [{{ gate = \"us\", supply = \"f_line\", open = true }}]"
                ),
            ),
            "shocks.s.effects[0]",
            "not both",
        ),
        (
            scenario(
                "",
                &format!("{gates}\n[shocks.s]\nat = \"2024Q2\"\neffects = [{{ open = true }}]"),
            ),
            "shocks.s.effects[0]",
            "needs `supply",
        ),
    ];
    let observe = |extra: &str| {
        scenario(
            "",
            &format!("{gates}\n[[observe]]\nname = \"o\"\nquantity = \"gate_open\"\nhappened = true\n{extra}"),
        )
    };
    let mut cases = cases;
    cases.push((observe(""), "observe[0]", "needs `gate`"));
    cases.push((observe("gate = \"uss\""), "observe[0].gate", "did you mean \"us\""));
    cases.push((
        observe("gate = \"us\"\nshock = \"x\""),
        "observe[0].shock",
        "takes `gate`",
    ));
    for (scenario, key, words) in cases {
        assert_refused(&scenario, key, words);
    }
}

#[test]
fn observing_a_gates_history_updates_its_transition_probability() {
    // The chance of closing is uniform on [0, 1]; the gate is open in
    // 2024Q1 and was seen closed in 2024Q2 and open again in 2024Q3 (hard
    // observations). A trial agrees with chance c × 0.5, so 1/4 of the
    // trials are kept, the posterior of c has density 2c: median √0.5 =
    // 0.7071, and the gate's posterior open share is exactly 0 in 2024Q2 and
    // 1 in 2024Q3. Tolerances: the acceptance share of 20,000 trials has sd
    // 0.003 (0.02 is over 6 sd); the posterior median of ~5,000 kept trials
    // has sd ~0.005, read from 40 bins of 0.025 (0.03 allows for both). The
    // seed is fixed.
    let gates = r#"
[gates.us]
close_probability = { dist = "uniform", low = 0.0, high = 1.0 }
open_probability = 0.5

[[observe]]
name = "closed_q2"
quantity = "gate_open"
gate = "us"
from = "2024Q2"
to = "2024Q2"
happened = false

[[observe]]
name = "open_q3"
quantity = "gate_open"
gate = "us"
by = "2024Q3"
happened = true
"#;
    // `by = "2024Q3"`: open in some quarter of 2024Q1..Q3, which 2024Q1
    // (initially open) already is: this one rejects nothing. The window
    // 2024Q3..2024Q3 below asks for 2024Q3 itself.
    let (dir, _) = run(
        &scenario("gates = [\"us\"]", gates),
        &["--trials", "20000", "--seed", "5"],
    );
    let s = read_summary(&dir.path().join("out"));
    let e = s.evidence.as_ref().unwrap();
    assert!((e.acceptance_rate - 0.5).abs() < 0.02, "{}", e.acceptance_rate);
    let strict = gates.replace("by = \"2024Q3\"", "from = \"2024Q3\"\nto = \"2024Q3\"");
    let (dir, _) = run(
        &scenario("gates = [\"us\"]", &strict),
        &["--trials", "20000", "--seed", "5"],
    );
    let s = read_summary(&dir.path().join("out"));
    let e = s.evidence.as_ref().unwrap();
    assert!((e.acceptance_rate - 0.25).abs() < 0.02, "{}", e.acceptance_rate);
    assert_eq!(&s.gates[0].open_share[..3], &[1.0, 0.0, 1.0]);
    let c = e
        .inputs
        .iter()
        .find(|i| i.key == "gates.us.close_probability")
        .expect("the closing chance moved");
    assert!((c.posterior[1] - 0.5f64.sqrt()).abs() < 0.03, "{:?}", c.posterior);
    assert!((c.prior[1] - 0.5).abs() < 0.03, "{:?}", c.prior);
}
