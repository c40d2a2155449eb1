//! `[[observe]]` evidence (docs/MODEL.md section 11), tested against the
//! spec from the outside: every posterior figure is recomputed from the
//! rows of samples.csv (section 6, and its `weight` column), from the
//! prior's own counts, or from the structure of a scenario built so that
//! the observed quantity is known in every trial.
//!
//! Flakiness: every run has a fixed seed, so every figure is deterministic;
//! the few assertions against a probability state a bound whose chance of
//! failing for a correct program is below 1e-6 as well. summary.json is read
//! with an exact number parser ([`Json`]): the crate's serde_json does not
//! have `float_roundtrip`, so its parse can be one ulp off, and the checks
//! below compare many figures bit for bit.

use std::path::{Path, PathBuf};
use std::process::Output;

use sancsim::stats::{clopper_pearson, clopper_pearson_real};

use crate::common::{MINIMAL, folder_files, run_in, text, write};

const TWO_32: f64 = 4_294_967_296.0;

// ---------------------------------------------------------------------------
// Helpers

/// Runs the binary and asserts it succeeded.
fn ok(dir: &Path, args: &[&str]) -> Output {
    let o = run_in(dir, args);
    assert!(o.status.success(), "sancsim {args:?} failed:\n{}", text(&o));
    o
}

/// Writes `scenario` as `<name>.toml` and runs it with `--trials n
/// --samples n` into the folder `<name>`, which it returns.
fn run_all_samples(dir: &Path, name: &str, scenario: &str, trials: u64) -> PathBuf {
    let file = format!("{name}.toml");
    write(dir, &file, scenario);
    let n = trials.to_string();
    ok(
        dir,
        &["run", &file, "--trials", &n, "--samples", &n, "--quiet", "--out", name],
    );
    dir.join(name)
}

/// samples.csv as text cells.
struct Samples {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Samples {
    fn read(folder: &Path) -> Samples {
        let t = std::fs::read_to_string(folder.join("samples.csv")).unwrap();
        let mut lines = t.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
        let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
        assert!(rows.iter().all(|r| r.len() == header.len()), "ragged samples.csv");
        Samples { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column `{name}` in {:?}", self.header))
    }

    fn strs(&self, name: &str) -> Vec<&str> {
        let c = self.col(name);
        self.rows.iter().map(|r| r[c].as_str()).collect()
    }

    /// A numeric column, parsed exactly (Rust's `f64` parser rounds
    /// correctly, and the file holds shortest round-trip forms).
    fn nums(&self, name: &str) -> Vec<f64> {
        self.strs(name)
            .iter()
            .map(|s| s.parse().unwrap_or_else(|_| panic!("`{s}` in column `{name}`")))
            .collect()
    }

    /// The `weight` column, which must be the last (section 11).
    fn weights(&self) -> Vec<f64> {
        assert_eq!(
            self.header.last().map(String::as_str),
            Some("weight"),
            "{:?}",
            self.header
        );
        self.nums("weight")
    }

    /// Whether each trial reached `milestone` in a quarter `<= by`.
    fn reached_by(&self, milestone: &str, by: &str) -> Vec<bool> {
        self.strs(&format!("{milestone}_quarter"))
            .iter()
            .map(|q| !q.is_empty() && *q <= by)
            .collect()
    }
}

/// A JSON value whose numbers keep their text, so that they are parsed
/// exactly by `str::parse::<f64>`.
#[derive(Debug, Clone)]
enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn read(folder: &Path) -> Json {
        let t = std::fs::read_to_string(folder.join("summary.json")).unwrap();
        let mut p = JsonParser { b: t.as_bytes(), i: 0 };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.b.len(), "trailing text in summary.json");
        v
    }

    /// The value at a dotted path; numbers index arrays: `milestones.0.prior`.
    fn at(&self, path: &str) -> &Json {
        let mut v = self;
        for part in path.split('.') {
            v = match v {
                Json::Obj(fields) => fields
                    .iter()
                    .find(|(k, _)| k == part)
                    .map(|(_, x)| x)
                    .unwrap_or_else(|| panic!("no `{part}` in `{path}`")),
                Json::Arr(items) => &items[part.parse::<usize>().unwrap()],
                _ => panic!("`{path}`: `{part}` of a scalar"),
            };
        }
        v
    }

    fn has(&self, key: &str) -> bool {
        matches!(self, Json::Obj(f) if f.iter().any(|(k, _)| k == key))
    }

    fn keys(&self) -> Vec<&str> {
        match self {
            Json::Obj(f) => f.iter().map(|(k, _)| k.as_str()).collect(),
            _ => panic!("not an object"),
        }
    }

    fn f(&self, path: &str) -> f64 {
        match self.at(path) {
            Json::Num(s) => s.parse().unwrap(),
            x => panic!("`{path}` is {x:?}, not a number"),
        }
    }

    fn u(&self, path: &str) -> u64 {
        match self.at(path) {
            Json::Num(s) => s.parse().unwrap_or_else(|_| panic!("`{path}` = {s} is not a count")),
            x => panic!("`{path}` is {x:?}, not a number"),
        }
    }

    fn s(&self, path: &str) -> &str {
        match self.at(path) {
            Json::Str(s) => s,
            x => panic!("`{path}` is {x:?}, not a string"),
        }
    }

    fn b(&self, path: &str) -> bool {
        match self.at(path) {
            Json::Bool(b) => *b,
            x => panic!("`{path}` is {x:?}, not a boolean"),
        }
    }

    fn arr(&self, path: &str) -> &[Json] {
        match self.at(path) {
            Json::Arr(a) => a,
            x => panic!("`{path}` is {x:?}, not an array"),
        }
    }

    fn nums(&self, path: &str) -> Vec<f64> {
        (0..self.arr(path).len())
            .map(|i| self.f(&format!("{path}.{i}")))
            .collect()
    }
}

struct JsonParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(self.b[self.i], c, "JSON: expected `{}` at byte {}", c as char, self.i);
        self.i += 1;
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = Vec::new();
        loop {
            let c = self.b[self.i];
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.b[self.i];
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'u' => {
                            let hex = std::str::from_utf8(&self.b[self.i..self.i + 4]).unwrap();
                            self.i += 4;
                            let ch = char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap_or('?');
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out).unwrap()
    }

    fn value(&mut self) -> Json {
        self.ws();
        match self.b[self.i] {
            b'{' => {
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.b[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(fields);
                }
                loop {
                    let k = self.string();
                    self.eat(b':');
                    fields.push((k, self.value()));
                    self.ws();
                    self.i += 1;
                    if self.b[self.i - 1] == b'}' {
                        return Json::Obj(fields);
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(items);
                }
                loop {
                    items.push(self.value());
                    self.ws();
                    self.i += 1;
                    if self.b[self.i - 1] == b']' {
                        return Json::Arr(items);
                    }
                }
            }
            b'"' => Json::Str(self.string()),
            b't' => {
                self.i += 4;
                Json::Bool(true)
            }
            b'f' => {
                self.i += 5;
                Json::Bool(false)
            }
            b'n' => {
                self.i += 4;
                Json::Null
            }
            _ => {
                let start = self.i;
                while self.i < self.b.len() && b"+-0123456789.eE".contains(&self.b[self.i]) {
                    self.i += 1;
                }
                Json::Num(std::str::from_utf8(&self.b[start..self.i]).unwrap().to_string())
            }
        }
    }
}

fn count(v: &[bool]) -> u64 {
    v.iter().filter(|&&x| x).count() as u64
}

/// Standard normal CDF as section 11 defines it, `½·erfc(−z/√2)`.
fn phi(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2)
}

/// Its upper tail `Φc(z) = ½·erfc(z/√2)`.
fn phi_c(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(z / std::f64::consts::SQRT_2)
}

/// The measurement-error likelihood of the range `[a, +inf)` (section 11's
/// evaluation order: the upper tails when `x < a`).
fn at_least_with_error(x: f64, a: f64, sd: f64) -> f64 {
    if x < a {
        phi_c((a - x) / sd)
    } else {
        1.0 - phi((a - x) / sd)
    }
}

/// The measured-value likelihood `exp(−½((x − v)/s)²)`.
fn near(x: f64, v: f64, sd: f64) -> f64 {
    let z = (x - v) / sd;
    (-0.5 * z * z).exp()
}

/// Relative closeness (absolute below 1e-300).
fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// Asserts the per-trial weights of samples.csv equal `want`, to `rel`
/// (0: bit for bit).
fn assert_weights(what: &str, got: &[f64], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len(), "{what}: rows");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            if rel == 0.0 { g == w } else { close(*g, *w, rel) },
            "{what}: trial {i} has weight {g}, the spec gives {w}"
        );
    }
}

fn as_weights(pass: &[bool]) -> Vec<f64> {
    pass.iter().map(|&p| f64::from(u8::from(p))).collect()
}

/// `N · min / ESS` rounded up to two significant digits (section 11's
/// advice), for integer `ess`, in integer arithmetic.
fn trials_advice(n: u64, min: u64, ess: u64) -> u64 {
    let needed = (n * min).div_ceil(ess);
    let digits = needed.to_string().len() as u32;
    let scale = 10u64.pow(digits.saturating_sub(2));
    needed.div_ceil(scale) * scale
}

/// MINIMAL with its milestone moved to about 40% (2e24 FLOP by 2025Q2) and
/// a second, later one: 2,000 trials of it run in a fraction of a second.
fn base() -> String {
    let s = MINIMAL.replace("target_flop = 1e23", "target_flop = 2e24");
    assert_ne!(s, MINIMAL);
    format!("{s}\n[milestones.late]\ntarget_flop = 4e24\ndeadline = \"2025Q4\"\n")
}

/// Two hard observations on [`base`]: the line's fill rate, visible in
/// samples.csv, and the domestic deliveries by 2024Q2, which are not.
const HARD: &str = r#"
[[observe]]
name = "fill"
quantity = "input"
key = "supply.line.fill_rate"
at_least = 0.3

[[observe]]
name = "delivered"
quantity = "delivered_chips"
by = "2024Q2"
at_least = 900
"#;

/// One soft observation of a value not in samples.csv.
const SOFT_DELIVERED: &str = r#"
[[observe]]
name = "delivered"
quantity = "delivered_chips"
by = "2024Q2"
value = 1000
sd = 300
"#;

/// Two soft observations whose likelihood samples.csv shows.
const SOFT_REST: &str = r#"
[[observe]]
name = "fill"
quantity = "input"
key = "supply.line.fill_rate"
at_least = 0.3
sd = 0.1

[[observe]]
name = "early"
quantity = "milestone"
milestone = "m"
by = "2025Q1"
happened = true
confidence = 0.8
"#;

// ---------------------------------------------------------------------------
// 1. Hard observations are conditioning

#[test]
fn hard_observations_condition_on_the_trials_that_agree() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2000u64;
    let out = run_all_samples(dir.path(), "hard", &format!("{}{HARD}", base()), n);
    let smp = Samples::read(&out);
    let w = smp.weights();
    assert!(w.iter().all(|&x| x == 0.0 || x == 1.0), "hard weights are 0 or 1");
    let pass: Vec<bool> = w.iter().map(|&x| x == 1.0).collect();
    let accepted = count(&pass);

    // The fill-rate observation rejects exactly the trials below 0.3.
    let fill = smp.nums("supply.line.fill_rate");
    let agree_fill: Vec<bool> = fill.iter().map(|&f| f >= 0.3).collect();
    for (i, (&a, &p)) in agree_fill.iter().zip(&pass).enumerate() {
        assert!(a || !p, "trial {i}: fill rate {} < 0.3 but weight 1", fill[i]);
    }
    assert!(
        accepted >= 100 && accepted < count(&agree_fill),
        "both observations reject: {accepted}"
    );

    let j = Json::read(&out);
    assert_eq!(j.u("trials"), n, "`trials` stays the number simulated");
    assert_eq!(j.u("evidence.trials"), n);
    assert_eq!(j.u("evidence.accepted_trials"), accepted);
    assert_eq!(j.f("evidence.acceptance_rate"), accepted as f64 / n as f64);
    assert_eq!(j.f("evidence.posterior_weight"), accepted as f64);
    assert_eq!(
        j.f("evidence.effective_sample_size"),
        accepted as f64,
        "ESS = passed trials"
    );
    assert_eq!(j.f("effective_sample_size"), accepted as f64);
    assert_eq!(j.s("evidence.observations.0.kind"), "hard");
    assert_eq!(
        j.f("evidence.observations.0.prior_agreement"),
        count(&agree_fill) as f64 / n as f64
    );
    // The trials agreeing with the delivery observation include the accepted ones.
    assert!(j.f("evidence.observations.1.prior_agreement") >= accepted as f64 / n as f64);

    let quarters: Vec<String> = (0..8).map(|q| j.s(&format!("quarters.{q}")).to_string()).collect();
    for (k, name) in ["m", "late"].iter().enumerate() {
        let m = |f: &str| format!("milestones.{k}.{f}");
        assert_eq!(j.s(&m("name")), *name);
        let deadline = j.s(&m("deadline")).to_string();
        let reached = smp.reached_by(name, &deadline);
        let x = pass.iter().zip(&reached).filter(|(p, r)| **p && **r).count() as u64;
        assert_eq!(
            j.u(&m("reached_by_deadline")),
            x,
            "{name}: counts are the accepted trials"
        );
        let p = x as f64 / accepted as f64;
        assert_eq!(j.f(&m("probability")), p, "{name}: the share of the accepted trials");
        let (lo, hi) = clopper_pearson(x, accepted, 0.05);
        assert_eq!(
            (j.f(&m("ci95_low")), j.f(&m("ci95_high"))),
            (lo, hi),
            "{name}: Clopper–Pearson of (x, passed)"
        );
        assert!(lo < p && p < hi);
        for f in ["probability", "ci95_low", "ci95_high"] {
            assert_eq!(
                j.f(&m(&format!("posterior.{f}"))),
                j.f(&m(f)),
                "{name}: posterior = own fields"
            );
        }
        assert_ne!(j.f(&m("prior.probability")), p, "{name}: the evidence moved it");
        // By quarter: shares of the accepted trials.
        let mq = smp.strs(&format!("{name}_quarter"));
        for (q, label) in quarters.iter().enumerate() {
            let by_q = (0..pass.len())
                .filter(|&i| pass[i] && !mq[i].is_empty() && mq[i] <= label.as_str())
                .count();
            assert_eq!(
                j.f(&m(&format!("probability_by_quarter.{q}"))),
                by_q as f64 / accepted as f64
            );
        }
        // Median quarter: nearest rank among the accepted trials that reach it.
        let mut within: Vec<&str> = pass
            .iter()
            .zip(&mq)
            .filter(|(p, r)| **p && !r.is_empty())
            .map(|x| *x.1)
            .collect();
        within.sort();
        let rank = within.len().div_ceil(2);
        assert_eq!(j.s(&m("quarter_p50")), within[rank - 1], "{name}: median quarter");
        let ever = within.len() as f64;
        assert_eq!(
            j.f(&m("never_within_horizon")),
            (accepted as f64 - ever) / accepted as f64
        );
        // The reasons for a miss add up to the accepted trials that missed.
        let missed: u64 = [
            "never_started",
            "started_too_late",
            "cluster_below_maximum",
            "low_mfu_goodput",
        ]
        .iter()
        .map(|r| j.u(&m(&format!("missed.{r}"))))
        .sum();
        assert_eq!(missed, accepted - x, "{name}: missed");
    }
    // Training start over the accepted trials.
    let start = smp.strs("start_quarter");
    let never = pass.iter().zip(&start).filter(|(p, s)| **p && s.is_empty()).count() as u64;
    assert_eq!(j.u("training_start.trials_never_started"), never);
    assert_eq!(j.u("trials_without_training"), never);
    for (q, label) in quarters.iter().enumerate() {
        let by_q = (0..pass.len())
            .filter(|&i| pass[i] && !start[i].is_empty() && start[i] <= label.as_str())
            .count() as u64;
        let path = format!("training_start.started_by_quarter.{q}");
        assert_eq!(j.f(&format!("{path}.probability")), by_q as f64 / accepted as f64);
        let (lo, hi) = clopper_pearson(by_q, accepted, 0.05);
        assert_eq!(
            (j.f(&format!("{path}.ci95_low")), j.f(&format!("{path}.ci95_high"))),
            (lo, hi)
        );
    }
    // F_dom at the horizon over the accepted trials: its bins and the
    // trials without any add up to them, and the last quarter's median is
    // theirs (the log histogram is within 2^-10 and 3 digits are reported,
    // so 1%; the prior's median is further off than that).
    let f_dom = smp.nums("training_flop_domestic_at_horizon");
    let binned: u64 = (0..j.arr("training_flop_domestic_at_horizon").len())
        .map(|i| j.u(&format!("training_flop_domestic_at_horizon.{i}.1")))
        .sum();
    assert_eq!(binned + j.u("trials_without_domestic_training_compute"), accepted);
    let median = |keep: &dyn Fn(usize) -> bool| {
        let mut v: Vec<f64> = (0..f_dom.len()).filter(|&i| keep(i)).map(|i| f_dom[i]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len().div_ceil(2) - 1]
    };
    let (posterior, prior) = (median(&|i| pass[i]), median(&|_| true));
    let rows = j.arr("quarterly");
    let row = (0..rows.len())
        .find(|&i| {
            j.s(&format!("quarterly.{i}.quarter")) == "2025Q4"
                && j.s(&format!("quarterly.{i}.metric")) == "training_flop_domestic_cumulative"
        })
        .unwrap();
    let p50 = j.f(&format!("quarterly.{row}.p50"));
    assert!(close(p50, posterior, 0.01), "P50 {p50}, posterior median {posterior}");
    assert!(!close(p50, prior, 0.02), "P50 {p50} is the prior median {prior}");
}

// ---------------------------------------------------------------------------
// 2. Soft observations weigh the trials

#[test]
fn soft_observations_weigh_each_trial_by_its_likelihood() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2000u64;
    // The delivery observation alone: samples.csv then shows its likelihood.
    let alone = run_all_samples(dir.path(), "alone", &format!("{}{SOFT_DELIVERED}", base()), n);
    let l_delivered = Samples::read(&alone).weights();
    assert!(l_delivered.iter().any(|&l| l > 0.0 && l < 1.0), "a soft likelihood");
    let out = run_all_samples(dir.path(), "soft", &format!("{}{SOFT_DELIVERED}{SOFT_REST}", base()), n);
    let smp = Samples::read(&out);
    let w = smp.weights();

    // Each trial's weight is the product of the likelihoods in file order.
    let l_fill: Vec<f64> = smp
        .nums("supply.line.fill_rate")
        .iter()
        .map(|&x| at_least_with_error(x, 0.3, 0.1))
        .collect();
    let early = smp.reached_by("m", "2025Q1");
    let reliability = (1.0 - 0.8) / 0.8;
    let l_early: Vec<f64> = early.iter().map(|&e| if e { 1.0 } else { reliability }).collect();
    let want: Vec<f64> = (0..n as usize)
        .map(|i| l_delivered[i] * l_fill[i] * l_early[i])
        .collect();
    // 1e-12: the spec fixes the formulas, not the last bits of erfc's argument.
    assert_weights("product of the likelihoods", &w, &want, 1e-12);

    // The integer weights of section 11, computed from the exact w of samples.csv.
    let big: Vec<u64> = w.iter().map(|&x| (x * TWO_32).round() as u64).collect();
    let sum_w: u64 = big.iter().sum();
    // ΣW², the squares of the integer weights summed exactly.
    let sum_w2: u128 = big.iter().map(|&b| b as u128 * b as u128).sum();
    let j = Json::read(&out);
    assert_eq!(
        j.u("evidence.accepted_trials"),
        n,
        "no hard observation: every trial passes"
    );
    assert_eq!(j.f("evidence.acceptance_rate"), 1.0);
    assert_eq!(j.f("evidence.posterior_weight"), sum_w as f64 / TWO_32, "ΣW / 2^32");
    let ess = (sum_w as f64).powi(2) / sum_w2 as f64;
    let got_ess = j.f("evidence.effective_sample_size");
    assert!(
        close(got_ess, ess, 1e-12),
        "ESS {got_ess}, from the integer weights {ess}"
    );
    assert_eq!(j.f("effective_sample_size"), got_ess);
    let (sw, sw2) = (w.iter().sum::<f64>(), w.iter().map(|x| x * x).sum::<f64>());
    assert!(
        close(got_ess, sw * sw / sw2, 1e-6),
        "ESS {got_ess} vs (Σw)²/Σw² {}",
        sw * sw / sw2
    );
    assert!(got_ess >= 100.0 && got_ess < n as f64);

    // Prior agreement: the mean of each observation's rounded likelihood.
    let mean_rounded =
        |l: &[f64]| l.iter().map(|&x| (x * TWO_32).round() as u64).sum::<u64>() as f64 / TWO_32 / n as f64;
    assert!(close(
        j.f("evidence.observations.0.prior_agreement"),
        mean_rounded(&l_delivered),
        1e-15
    ));
    assert!(close(
        j.f("evidence.observations.1.prior_agreement"),
        mean_rounded(&l_fill),
        1e-9
    ));
    assert!(close(
        j.f("evidence.observations.2.prior_agreement"),
        mean_rounded(&l_early),
        1e-15
    ));
    for k in 0..3 {
        assert_eq!(j.s(&format!("evidence.observations.{k}.kind")), "soft");
    }

    for (k, name) in ["m", "late"].iter().enumerate() {
        let m = |f: &str| format!("milestones.{k}.{f}");
        let reached = smp.reached_by(name, j.s(&m("deadline")));
        let sum_r: u64 = big.iter().zip(&reached).filter(|x| *x.1).map(|x| *x.0).sum();
        let p = j.f(&m("probability"));
        // Exact integer ratio, to a few ulps however the ratio is formed.
        assert!(close(p, sum_r as f64 / sum_w as f64, 1e-12), "{name}: {p}");
        // And the unrounded Σw·[reached]/Σw: rounding moves each weight by at
        // most 2^-33, so the share by at most 2N·2^-33/(Σw − N·2^-33).
        let unrounded = w.iter().zip(&reached).filter(|x| *x.1).map(|x| x.0).sum::<f64>() / sw;
        let slack = 2.0 * n as f64 / 2f64.powi(33) / (sw - n as f64 / 2f64.powi(33));
        assert!((p - unrounded).abs() <= slack.max(1e-9), "{name}: {p} vs {unrounded}");
        // Effective trials: the share times the ESS, rounded (at least 1).
        let effective = ((sum_r as f64 / sum_w as f64 * got_ess).round() as u64).max(u64::from(sum_r > 0));
        assert_eq!(
            j.u(&m("reached_by_deadline")),
            effective,
            "round(ΣW_reached / ΣW × ESS)"
        );
        // Kish's approximation: Clopper–Pearson with n = ESS, x = p·ESS.
        let (lo, hi) = clopper_pearson_real(p * got_ess, got_ess, 0.05);
        assert!(
            close(j.f(&m("ci95_low")), lo, 1e-12) && close(j.f(&m("ci95_high")), hi, 1e-12),
            "{name}"
        );
        assert!(lo < p && p < hi);
    }
    assert_eq!(j.u("trials"), n);
}

// ---------------------------------------------------------------------------
// 3. The prior is the run without observations

#[test]
fn the_prior_is_the_run_without_the_observations() {
    let dir = tempfile::tempdir().unwrap();
    // A lead time that is clamped at 0 in a sixth of the draws: its warning
    // and clamp counts are about the draws, so they stay the prior's.
    let plain = base().replace(
        "lead_time_quarters = 0.5",
        "lead_time_quarters = { dist = \"normal\", mean = 0.3, sd = 0.3 }",
    );
    assert_ne!(plain, base());
    let n = 1500u64;
    let without = run_all_samples(dir.path(), "plain", &plain, n);
    let soft = SOFT_REST.replace("name = \"fill\"", "name = \"fill_soft\"");
    let with = run_all_samples(dir.path(), "observed", &format!("{plain}{HARD}{soft}"), n);
    let (a, b) = (Json::read(&without), Json::read(&with));
    for k in 0..2 {
        for f in ["probability", "ci95_low", "ci95_high"] {
            assert_eq!(
                b.f(&format!("milestones.{k}.prior.{f}")),
                a.f(&format!("milestones.{k}.{f}")),
                "milestone {k}: prior {f}"
            );
        }
        assert_ne!(
            b.f(&format!("milestones.{k}.probability")),
            a.f(&format!("milestones.{k}.probability"))
        );
    }
    // The trials themselves are the same: samples.csv differs only by the weight.
    let (sa, sb) = (Samples::read(&without), Samples::read(&with));
    assert_eq!(sb.header[..sb.header.len() - 1], sa.header[..]);
    assert!(
        !sa.header.iter().any(|h| h == "weight"),
        "no weight column without observations"
    );
    for (ra, rb) in sa.rows.iter().zip(&sb.rows) {
        assert_eq!(rb[..rb.len() - 1], ra[..]);
    }
    // Clamped inputs and their warning are the prior's.
    let clamped = |s: &str| {
        let j: serde_json::Value = serde_json::from_str(s).unwrap();
        (j["clamped_inputs"].to_string(), j["warnings"].to_string())
    };
    let read = |p: &Path| std::fs::read_to_string(p.join("summary.json")).unwrap();
    let (ca, cb) = (clamped(&read(&without)), clamped(&read(&with)));
    assert!(
        ca.0.contains("supply.line.lead_time_quarters") && ca.1.contains("clamped"),
        "{ca:?}"
    );
    assert_eq!(ca, cb);
}

// ---------------------------------------------------------------------------
// 4. Exact merging

#[test]
fn evidence_is_identical_across_threads_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    // Hard and soft observations, and a number drawn per quarter (binned
    // H times per trial for the inputs' prior and posterior).
    let s = base().replace(
        "mfu = 0.4",
        "mfu = { dist = \"uniform\", low = 0.3, high = 0.5, per = \"quarter\" }",
    );
    let s = format!(
        "{s}{SOFT_DELIVERED}{}\n[[observe]]\nname = \"hard_mfu\"\nquantity = \"input\"\nkey = \"training.mfu\"\nby = \"2024Q3\"\nat_least = 0.32\n",
        SOFT_REST
    );
    write(dir.path(), "e.toml", &s);
    let run = |extra: &[&str], out: &str| {
        let mut args = vec!["run", "e.toml", "--trials", "1000", "--quiet", "--out", out];
        args.extend_from_slice(extra);
        ok(dir.path(), &args);
    };
    run(&["--threads", "1", "--samples", "1000"], "t1");
    run(&["--threads", "2", "--samples", "1000"], "t2");
    let one = folder_files(&dir.path().join("t1"));
    assert!(one.iter().any(|(f, _)| f == "samples.csv"));
    assert_eq!(one, folder_files(&dir.path().join("t2")), "threads change a byte");
    let j = Json::read(&dir.path().join("t1"));
    assert!(
        j.u("evidence.accepted_trials") < 1000,
        "the hard observation rejects some trials"
    );
    assert!(
        j.f("evidence.effective_sample_size") < j.u("evidence.accepted_trials") as f64,
        "soft weights"
    );
    // 1000 trials in three shards (contiguous blocks), merged.
    for k in 1..=3 {
        run(&["--threads", "2", "--shard", &format!("{k}/3")], &format!("s{k}"));
        let partial = std::fs::read_to_string(dir.path().join(format!("s{k}/partial.json"))).unwrap();
        assert!(
            partial.contains("sancsim-partial/5") && partial.contains("\"evidence\""),
            "shard {k}"
        );
    }
    ok(dir.path(), &["merge", "s1", "s2", "s3", "--out", "merged", "--quiet"]);
    run(&["--threads", "2"], "single");
    assert_eq!(
        folder_files(&dir.path().join("merged")),
        folder_files(&dir.path().join("single")),
        "the merged shards differ from the single run"
    );
}

// ---------------------------------------------------------------------------
// 5. Too few effective trials

#[test]
fn too_few_effective_trials_write_nothing_and_say_how_many_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2000u64;
    let rare =
        "\n[[observe]]\nname = \"rare\"\nquantity = \"input\"\nkey = \"supply.line.fill_rate\"\nat_least = 0.8\n";
    write(dir.path(), "few.toml", &format!("{}{rare}", base()));
    let run = |min: Option<u64>, out: &str, extra: &[&str]| {
        let set = min.map(|m| format!("scenario.min_effective_sample_size={m}"));
        let mut args = vec!["run", "few.toml", "--trials", "2000", "--quiet", "--out", out];
        if let Some(s) = &set {
            args.extend(["--set", s.as_str()]);
        }
        args.extend_from_slice(extra);
        run_in(dir.path(), &args)
    };
    // With a threshold of 1 the run goes through; it tells how many pass.
    let o = run(Some(1), "low", &["--samples", "2000"]);
    assert!(o.status.success(), "{}", text(&o));
    let pass = count(
        &Samples::read(&dir.path().join("low"))
            .weights()
            .iter()
            .map(|&w| w == 1.0)
            .collect::<Vec<_>>(),
    );
    assert!(
        (1..100).contains(&pass),
        "{pass} trials pass: below the default threshold of 100"
    );
    // ESS = passed trials exactly: a threshold of `pass` is met, `pass + 1` is not.
    let o = run(Some(pass), "at", &[]);
    assert!(o.status.success(), "ESS {pass} meets a minimum of {pass}: {}", text(&o));
    assert_eq!(
        Json::read(&dir.path().join("at")).u("evidence.min_effective_sample_size"),
        pass
    );
    for (min, out) in [(Some(pass + 1), "above"), (None, "default")] {
        // A folder already there is left as it was.
        std::fs::create_dir_all(dir.path().join(out)).unwrap();
        write(&dir.path().join(out), "keep.txt", "mine");
        let o = run(min, out, &[]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert_eq!(
            folder_files(&dir.path().join(out)),
            vec![("keep.txt".to_string(), b"mine".to_vec())],
            "a refused run writes nothing"
        );
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        let min = min.unwrap_or(100);
        let advice = trials_advice(n, min, pass);
        for want in [
            format!("--trials {advice}"),
            format!("{pass} of {n}"),
            "effective sample size".to_string(),
            "`rare`".to_string(),
        ] {
            assert!(err.contains(&want), "`{want}` not in: {err}");
        }
        assert!(!err.contains("may not help"), "{err}");
    }
    // Without --out, no default folder appears either.
    let o = run_in(dir.path(), &["run", "few.toml", "--trials", "2000", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.path().join("outputs").exists(), "outputs/ was created");
    // Shards each write their partial result; merging them is refused likewise.
    for k in 1..=3 {
        let o = run(None, &format!("s{k}"), &["--shard", &format!("{k}/3")]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = run_in(dir.path(), &["merge", "s1", "s2", "s3", "--out", "merged", "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("--trials {}", trials_advice(n, 100, pass))));
    assert!(!dir.path().join("merged").exists());

    // ESS = 0: no trial agrees, and more trials may not help.
    let none = rare.replace("at_least = 0.8", "at_least = 0.9999999");
    write(dir.path(), "none.toml", &format!("{}{none}", base()));
    let o = run_in(
        dir.path(),
        &["run", "none.toml", "--trials", "500", "--quiet", "--out", "none"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(err.contains("more trials may not help"), "{err}");
    assert!(err.contains("0 of 500"), "{err}");
    assert!(!err.contains("--trials "), "no trial count to advise: {err}");
    assert!(!dir.path().join("none").exists());
}

#[test]
fn min_effective_sample_size_is_a_count_from_1_to_1e8() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0", "100000001"] {
        let s = format!("{}{HARD}", base()).replacen(
            "seed = 7",
            &format!("seed = 7\nmin_effective_sample_size = {bad}"),
            1,
        );
        write(dir.path(), "s.toml", &s);
        let o = run_in(dir.path(), &["validate", "s.toml"]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(
            err.contains("s.toml:7:") && err.contains("scenario.min_effective_sample_size"),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------------------
// 6. What can be observed: scenarios whose observed value is known in each trial

/// Deliveries known from the structure: lines `la` (1,000 chips in 2024Q1)
/// and `lb` (500 a quarter in 2024), both of domestic chip `a`, and `lf`
/// (700 foreign chips in 2024Q1), all filled in full with no lead time
/// (they land one second into the quarter). Shock `s` (30%, 2024Q2, one
/// quarter) stops `lb`'s 2024Q2 order; shock `h` (hazard 0.2 a quarter,
/// 2024Q2 … 2025Q3) changes nothing.
const DELIVERIES: &str = r#"[scenario]
name = "deliveries"
start = "2024Q1"
horizon_quarters = 8
trials = 1000
seed = 11
min_effective_sample_size = 10

[chips.a]
peak_flops = 1e14

[chips.f]
peak_flops = 1e14
domestic = false

[supply.la]
chip = "a"
orders = [{ quarter = "2024Q1", chips = 1000 }]

[supply.lb]
chip = "a"
orders = [{ from = "2024Q1", to = "2024Q4", chips = 500 }]

[supply.lf]
chip = "f"
orders = [{ quarter = "2024Q1", chips = 700 }]

[shocks.s]
at = "2024Q2"
probability = 0.3
duration_quarters = 1
effects = [{ supply = "lb", stop = true }]

[shocks.h]
hazard_per_quarter = 0.2
from = "2024Q2"
until = "2025Q3"
effects = [{ supply = "la", fill_rate_multiplier = 1 }]

[training]
mfu = { dist = "uniform", low = 0.3, high = 0.5 }

[milestones.m]
target_flop = 1e23
deadline = "2025Q4"
"#;

fn observe(body: &str) -> String {
    format!("\n[[observe]]\nname = \"o\"\n{body}\n")
}

#[test]
fn delivered_chips_of_a_line_a_chip_type_or_all_domestic_chips() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1000u64;
    // The trials where shock s happened: those that agree with it.
    let shocked = run_all_samples(
        dir.path(),
        "shock",
        &format!(
            "{DELIVERIES}{}",
            observe("quantity = \"shock\"\nshock = \"s\"\nhappened = true")
        ),
        n,
    );
    let s_happened = Samples::read(&shocked).weights();
    let fired = s_happened.iter().filter(|&&w| w == 1.0).count() as u64;
    // P(s) = 0.3: over 1,000 trials the sd of the share is 0.0145, and 0.075
    // is over 5 sd (a correct program fails this with chance < 1e-6; the
    // seed is fixed anyway).
    assert!((fired as f64 / n as f64 - 0.3).abs() < 0.075, "{fired} of {n}");
    let j = Json::read(&shocked);
    assert_eq!(j.u("evidence.accepted_trials"), fired);
    assert_eq!(j.s("shocks.0.name"), "s");
    assert_eq!(j.f("shocks.0.probability"), 1.0, "given it happened, it happened");
    assert_eq!(j.u("shocks.0.fired"), fired);
    assert_eq!(j.f("evidence.observations.0.prior_agreement"), fired as f64 / n as f64);
    // Each of these agrees exactly in the trials where s happened.
    let shock_cases = [
        // lb: 500 by 2024Q2 with the shock, else 1,000.
        "line = \"lb\"\nby = \"2024Q2\"\nat_least = 500\nbelow = 501",
        // By 2024Q4: 1,500 with the shock, else 2,000.
        "line = \"lb\"\nby = \"2024Q4\"\nat_least = 1500\nbelow = 1501",
        // Added within 2024Q2..2024Q3: v(2024Q3) − v(2024Q1) = 500 or 1,000.
        "line = \"lb\"\nfrom = \"2024Q2\"\nto = \"2024Q3\"\nat_least = 500\nbelow = 501",
        // Chip type a: la + lb = 1,500 or 2,000 by 2024Q2.
        "chip = \"a\"\nby = \"2024Q2\"\nat_least = 1500\nbelow = 1501",
        // Neither: all domestic chips, f's 700 not among them.
        "by = \"2024Q2\"\nat_least = 1500\nbelow = 1501",
    ];
    for (i, body) in shock_cases.iter().enumerate() {
        let obs = observe(&format!("quantity = \"delivered_chips\"\n{body}"));
        let out = run_all_samples(dir.path(), &format!("d{i}"), &format!("{DELIVERIES}{obs}"), n);
        assert_weights(
            &format!("delivered_chips {body:?}"),
            &Samples::read(&out).weights(),
            &s_happened,
            0.0,
        );
    }
    // These agree in every trial; together in one run, as a product of
    // likelihoods is 1 exactly when each is.
    let every_trial = [
        // Within 2024Q3..2024Q4: 1,000 either way.
        "line = \"lb\"\nfrom = \"2024Q3\"\nto = \"2024Q4\"\nat_least = 1000\nbelow = 1001",
        // A window from the first quarter: v(−1) = 0.
        "line = \"lb\"\nfrom = \"2024Q1\"\nto = \"2024Q1\"\nat_least = 500\nbelow = 501",
        "line = \"la\"\nby = \"2024Q1\"\nat_least = 1000\nbelow = 1001",
        // The foreign type f: 700, counted for its type.
        "chip = \"f\"\nby = \"2024Q2\"\nat_least = 700\nbelow = 701",
    ];
    let tables: String = every_trial
        .iter()
        .enumerate()
        .map(|(i, body)| format!("\n[[observe]]\nname = \"all{i}\"\nquantity = \"delivered_chips\"\n{body}\n"))
        .collect();
    let out = run_all_samples(dir.path(), "all", &format!("{DELIVERIES}{tables}"), n);
    assert_weights(
        "every trial agrees",
        &Samples::read(&out).weights(),
        &vec![1.0; n as usize],
        0.0,
    );
}

#[test]
fn shock_observations_by_a_quarter_in_a_window_or_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1000u64;
    write(dir.path(), "plain.toml", DELIVERIES);
    ok(dir.path(), &["run", "plain.toml", "--quiet", "--out", "plain"]);
    let prior = Json::read(&dir.path().join("plain"));
    assert_eq!(prior.s("shocks.1.name"), "h");
    // h can happen in quarters 1..=6 (2024Q2 … 2025Q3); the prior's counts.
    let by: Vec<(String, u64)> = (0..prior.arr("shocks.1.by_quarter").len())
        .map(|i| {
            let p = format!("shocks.1.by_quarter.{i}");
            (
                prior.s(&format!("{p}.quarter")).to_string(),
                prior.u(&format!("{p}.trials")),
            )
        })
        .collect();
    assert_eq!(by.first().map(|x| x.0.as_str()), Some("2024Q2"));
    assert_eq!(by.last().map(|x| x.0.as_str()), Some("2025Q3"));
    let in_window = |lo: &str, hi: &str| -> Vec<u64> {
        by.iter()
            .map(|(q, t)| if q.as_str() >= lo && q.as_str() <= hi { *t } else { 0 })
            .collect()
    };
    // (observation, the trials of each quarter that agree)
    let cases = [
        ("happened = true", in_window("2024Q2", "2025Q3")),
        ("by = \"2024Q4\"\nhappened = true", in_window("2024Q1", "2024Q4")),
        (
            "from = \"2024Q3\"\nto = \"2025Q1\"\nhappened = true",
            in_window("2024Q3", "2025Q1"),
        ),
        ("by = \"2024Q3\"\nhappened = false", in_window("2024Q4", "2025Q4")),
    ];
    for (i, (body, agree)) in cases.iter().enumerate() {
        let obs = observe(&format!("quantity = \"shock\"\nshock = \"h\"\n{body}"));
        write(dir.path(), "h.toml", &format!("{DELIVERIES}{obs}"));
        let out = format!("h{i}");
        ok(dir.path(), &["run", "h.toml", "--quiet", "--out", &out]);
        let j = Json::read(&dir.path().join(&out));
        let fired: u64 = agree.iter().sum();
        // happened = false also keeps the trials where h never happened.
        let accepted = if body.contains("false") {
            n - in_window("2024Q1", "2024Q3").iter().sum::<u64>()
        } else {
            fired
        };
        assert_eq!(j.u("evidence.accepted_trials"), accepted, "{body}");
        let got: Vec<u64> = (0..by.len())
            .map(|q| j.u(&format!("shocks.1.by_quarter.{q}.trials")))
            .collect();
        assert_eq!(&got, agree, "{body}: posterior trials per quarter");
        assert_eq!(j.u("shocks.1.fired"), fired, "{body}");
        assert_eq!(j.f("shocks.1.probability"), fired as f64 / accepted as f64, "{body}");
        if !body.contains("false") {
            assert_eq!(j.f("shocks.1.probability"), 1.0, "{body}");
        }
    }
    // Happened by a quarter before it could: no trial agrees.
    let obs = observe("quantity = \"shock\"\nshock = \"s\"\nby = \"2024Q1\"\nhappened = true");
    write(dir.path(), "early.toml", &format!("{DELIVERIES}{obs}"));
    let o = run_in(dir.path(), &["run", "early.toml", "--quiet", "--out", "early"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 of 1000"), "{}", text(&o));
}

/// Training compute known from the structure: 1,000 domestic chips (1e14
/// FLOP/s) and 1,000 foreign ones (2e14) training from time 0 with foreign
/// chips allowed, nothing else: `F_dom(q) = 1e17·mfu·S(q+1)` and
/// `F_all = 3·F_dom`, `mfu` drawn once per trial.
const COMPUTE: &str = r#"[scenario]
name = "compute"
start = "2024Q1"
horizon_quarters = 8
trials = 1000
seed = 5
min_effective_sample_size = 10

[chips.a]
peak_flops = 1e14

[chips.f]
peak_flops = 2e14
domestic = false

[fleet.a]
training = 1000

[fleet.f]
training = 1000

[training]
mfu = { dist = "uniform", low = 0.3, high = 0.5 }
allow_foreign_chips = true

[milestones.m]
target_flop = 1e30
deadline = "2025Q4"
"#;

#[test]
fn training_flop_all_and_domestic_by_a_quarter_and_within_a_window() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1000u64;
    // Days from the start to the end of each quarter of 2024 (leap) and 2025.
    const END_DAYS: [f64; 8] = [91.0, 182.0, 274.0, 366.0, 456.0, 547.0, 639.0, 731.0];
    let dom = |mfu: f64, days: f64| 1e17 * mfu * days * 86_400.0;
    let plain = run_all_samples(dir.path(), "plain", COMPUTE, n);
    let smp = Samples::read(&plain);
    let mfu = smp.nums("training.mfu");
    // The structure holds: the horizon's values in samples.csv.
    let (f_dom, f_all) = (
        smp.nums("training_flop_domestic_at_horizon"),
        smp.nums("training_flop_at_horizon"),
    );
    for i in 0..n as usize {
        assert!(
            close(f_dom[i], dom(mfu[i], END_DAYS[7]), 1e-12),
            "trial {i}: F_dom {}",
            f_dom[i]
        );
        assert!(
            close(f_all[i], 3.0 * dom(mfu[i], END_DAYS[7]), 1e-12),
            "trial {i}: F_all {}",
            f_all[i]
        );
    }
    // Thresholds on mfu the observations amount to; no trial lies within
    // 1e-9 of one (so the last bits of the sums cannot matter).
    for t in [0.4, 0.45, 0.35] {
        assert!(mfu.iter().all(|m| (m - t).abs() > 1e-9));
    }
    let added = END_DAYS[2] - END_DAYS[0]; // 2024Q2 and 2024Q3
    let (lo, hi) = (3.0 * dom(0.33, END_DAYS[7]), 3.0 * dom(0.47, END_DAYS[7]));
    let cases: Vec<(String, Vec<f64>)> = vec![
        (
            format!(
                "quantity = \"training_flop_domestic\"\nfrom = \"2024Q2\"\nto = \"2024Q3\"\nat_least = {:e}",
                dom(0.4, added)
            ),
            as_weights(&mfu.iter().map(|&m| m > 0.4).collect::<Vec<_>>()),
        ),
        (
            format!(
                "quantity = \"training_flop\"\nfrom = \"2024Q2\"\nto = \"2024Q3\"\nat_least = {:e}",
                3.0 * dom(0.45, added)
            ),
            as_weights(&mfu.iter().map(|&m| m > 0.45).collect::<Vec<_>>()),
        ),
        (
            format!(
                "quantity = \"training_flop_domestic\"\nby = \"2024Q3\"\nbelow = {:e}",
                dom(0.35, END_DAYS[2])
            ),
            as_weights(&mfu.iter().map(|&m| m < 0.35).collect::<Vec<_>>()),
        ),
        (
            format!("quantity = \"training_flop\"\nby = \"2025Q4\"\nat_least = {lo:e}\nbelow = {hi:e}"),
            as_weights(&f_all.iter().map(|&f| lo <= f && f < hi).collect::<Vec<_>>()),
        ),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let out = run_all_samples(dir.path(), &format!("f{i}"), &format!("{COMPUTE}{}", observe(body)), n);
        assert_weights(body, &Samples::read(&out).weights(), want, 0.0);
    }
    // Measured on a log10 scale: exp(−½((log10 x − log10 v)/s)²).
    let v = dom(0.4, END_DAYS[2]);
    let body =
        format!("quantity = \"training_flop_domestic\"\nby = \"2024Q3\"\nvalue = {v:e}\nsd = 0.05\nscale = \"log10\"");
    let out = run_all_samples(dir.path(), "log", &format!("{COMPUTE}{}", observe(&body)), n);
    let want: Vec<f64> = mfu
        .iter()
        .map(|&m| near(dom(m, END_DAYS[2]).log10(), v.log10(), 0.05))
        .collect();
    // 1e-9: x here and the engine's sum differ in the last bits (1e-16
    // relative, 1e-15 in z), which moves L by far less.
    assert_weights(&body, &Samples::read(&out).weights(), &want, 1e-9);
}

/// Chips in training and inference known from the structure: 1,000 chips
/// of type `a` arrive in 2024Q1 and are allocated at the start of 2024Q2
/// (inference first, unit chip `a`); type `b` has 77 chips in training and
/// 33 in inference from the start; demand `D` is drawn once per trial and
/// stays (no growth). From 2024Q2 on, `a` has `need = ceil(D − 33)` chips
/// in inference and `1000 − need` in training.
const ALLOCATION: &str = r#"[scenario]
name = "allocation"
start = "2024Q1"
horizon_quarters = 4
trials = 1000
seed = 9
min_effective_sample_size = 10

[chips.a]
peak_flops = 1e14

[chips.b]
peak_flops = 1e14

[supply.la]
chip = "a"
orders = [{ quarter = "2024Q1", chips = 1000 }]

[fleet.b]
training = 77
inference = 33

[inference]
unit_chip = "a"
initial_demand_chips = { dist = "uniform", low = 100, high = 900 }

[training]
mfu = 0.4

[milestones.m]
target_flop = 1e30
deadline = "2024Q4"
"#;

#[test]
fn training_and_inference_chips_of_a_type_or_in_total() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1000u64;
    // These agree in every trial (a product of likelihoods is 1 exactly
    // when each is); the run's samples also give each trial's demand.
    let every_trial = [
        "quantity = \"training_chips\"\nchip = \"b\"\nby = \"2024Q4\"\nat_least = 77\nbelow = 78",
        // At the end of 2024Q1 a's chips wait in the pool: only b's count.
        "quantity = \"training_chips\"\nby = \"2024Q1\"\nat_least = 77\nbelow = 78",
        "quantity = \"inference_chips\"\nby = \"2024Q1\"\nat_least = 33\nbelow = 34",
    ];
    let tables: String = every_trial
        .iter()
        .enumerate()
        .map(|(i, body)| format!("\n[[observe]]\nname = \"all{i}\"\n{body}\n"))
        .collect();
    let all = run_all_samples(dir.path(), "all", &format!("{ALLOCATION}{tables}"), n);
    let smp = Samples::read(&all);
    assert_weights("every trial agrees", &smp.weights(), &vec![1.0; n as usize], 0.0);
    let demand = smp.nums("inference.initial_demand_chips");
    // Section 5: unmet = D·peak(unit) − Σ inference·peak; need = ceil(unmet/peak(a)).
    let need: Vec<f64> = demand
        .iter()
        .map(|&d| ((d * 1e14 - 33.0 * 1e14).max(0.0) / 1e14).ceil())
        .collect();
    assert!(
        demand.iter().all(|&d| ((d - 33.0) - (d - 33.0).round()).abs() > 1e-6),
        "no demand near a whole chip"
    );
    let pass = |f: &dyn Fn(f64) -> bool| as_weights(&need.iter().map(|&x| f(x)).collect::<Vec<_>>());
    let cases: Vec<(&str, Vec<f64>)> = vec![
        (
            "quantity = \"training_chips\"\nby = \"2024Q2\"\nat_least = 600",
            pass(&|x| 77.0 + 1000.0 - x >= 600.0),
        ),
        (
            "quantity = \"training_chips\"\nchip = \"a\"\nby = \"2024Q2\"\nat_least = 600",
            pass(&|x| 1000.0 - x >= 600.0),
        ),
        (
            "quantity = \"inference_chips\"\nby = \"2024Q3\"\nbelow = 300",
            pass(&|x| 33.0 + x < 300.0),
        ),
        (
            "quantity = \"inference_chips\"\nchip = \"a\"\nby = \"2024Q2\"\nbelow = 300",
            pass(&|x| x < 300.0),
        ),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let out = run_all_samples(
            dir.path(),
            &format!("c{i}"),
            &format!("{ALLOCATION}{}", observe(body)),
            n,
        );
        assert_weights(body, &Samples::read(&out).weights(), want, 0.0);
    }
}

/// A run that starts once 2,500 chips are in training, from a line whose
/// fill rate is drawn per trial, so the start quarter (and the milestone's)
/// varies; `mfu` is drawn per quarter.
const STARTS: &str = r#"[scenario]
name = "starts"
start = "2024Q1"
horizon_quarters = 8
trials = 1000
seed = 3
min_effective_sample_size = 10

[chips.a]
peak_flops = 1e14

[supply.line]
chip = "a"
orders = [{ from = "2024Q1", to = "2025Q4", chips = 1000 }]
fill_rate = { dist = "uniform", low = 0.1, high = 0.9 }

[training]
mfu = { dist = "uniform", low = 0.3, high = 0.5, per = "quarter" }
min_cluster_chips = 2500

[milestones.m]
target_flop = 3e24
deadline = "2025Q4"
"#;

/// Runs each observation (its table body) on [`STARTS`] and checks the
/// weights of samples.csv against `want`, computed from the samples.
fn check_on_starts(dir: &Path, prefix: &str, cases: &[(&str, Vec<f64>)], rel: f64) {
    for (i, (body, want)) in cases.iter().enumerate() {
        assert!(
            want.iter().any(|&w| w != want[0]),
            "{body}: a case that tells the trials apart"
        );
        let out = run_all_samples(
            dir,
            &format!("{prefix}{i}"),
            &format!("{STARTS}{}", observe(body)),
            1000,
        );
        assert_weights(body, &Samples::read(&out).weights(), want, rel);
    }
}

/// samples.csv of [`STARTS`]: the columns other than `weight` are the same
/// with any observation (see `the_prior_is_the_run_without_the_observations`).
fn starts_samples(dir: &Path) -> Samples {
    Samples::read(&run_all_samples(dir, "plain", STARTS, 1000))
}

#[test]
fn training_started_and_milestone_events_by_a_quarter_in_a_window_or_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let smp = starts_samples(dir.path());
    let (start, mq) = (smp.strs("start_quarter"), smp.strs("m_quarter"));
    let w = |f: &dyn Fn(usize) -> bool| as_weights(&(0..smp.rows.len()).map(f).collect::<Vec<_>>());
    let in_q = |q: &str, lo: &str, hi: &str| !q.is_empty() && lo <= q && q <= hi;
    let cases: Vec<(&str, Vec<f64>)> = vec![
        (
            "quantity = \"training_started\"\nby = \"2024Q4\"\nhappened = true",
            w(&|i| in_q(start[i], "2024Q1", "2024Q4")),
        ),
        (
            "quantity = \"training_started\"\nfrom = \"2025Q1\"\nto = \"2025Q2\"\nhappened = true",
            w(&|i| in_q(start[i], "2025Q1", "2025Q2")),
        ),
        (
            "quantity = \"training_started\"\nhappened = false",
            w(&|i| start[i].is_empty()),
        ),
        (
            "quantity = \"milestone\"\nmilestone = \"m\"\nby = \"2025Q3\"\nhappened = true",
            w(&|i| in_q(mq[i], "2024Q1", "2025Q3")),
        ),
        (
            "quantity = \"milestone\"\nmilestone = \"m\"\nfrom = \"2025Q2\"\nto = \"2025Q3\"\nhappened = false",
            w(&|i| !in_q(mq[i], "2025Q2", "2025Q3")),
        ),
    ];
    check_on_starts(dir.path(), "e", &cases, 0.0);
    // Soft by reliability: 1 where it agrees, else (1 − c)/c, the same double.
    let reliable = vec![(
        "quantity = \"training_started\"\nby = \"2025Q1\"\nhappened = true\nconfidence = 0.9",
        (0..smp.rows.len())
            .map(|i| {
                if in_q(start[i], "2024Q1", "2025Q1") {
                    1.0
                } else {
                    (1.0 - 0.9) / 0.9
                }
            })
            .collect(),
    )];
    check_on_starts(dir.path(), "c", &reliable, 0.0);
}

#[test]
fn input_observations_per_trial_and_per_quarter() {
    let dir = tempfile::tempdir().unwrap();
    let smp = starts_samples(dir.path());
    let fill = smp.nums("supply.line.fill_rate");
    let (mfu_q3, mfu_q2) = (smp.nums("training.mfu[2024Q3]"), smp.nums("training.mfu[2024Q2]"));
    let w = |f: &dyn Fn(usize) -> bool| as_weights(&(0..smp.rows.len()).map(f).collect::<Vec<_>>());
    let cases: Vec<(&str, Vec<f64>)> = vec![
        (
            "quantity = \"input\"\nkey = \"supply.line.fill_rate\"\nat_least = 0.5\nbelow = 0.7",
            w(&|i| (0.5..0.7).contains(&fill[i])),
        ),
        (
            "quantity = \"input\"\nkey = \"training.mfu\"\nby = \"2024Q3\"\nat_least = 0.42",
            w(&|i| mfu_q3[i] >= 0.42),
        ),
    ];
    // The per-quarter case is told apart from the neighbouring quarter's draw.
    assert_ne!(cases[1].1, w(&|i| mfu_q2[i] >= 0.42));
    check_on_starts(dir.path(), "h", &cases, 0.0);
    // Measured with an error: exp(−½((x − v)/s)²), and Φ for a range
    // (1e-12: the spec fixes the formulas, not the order of the last roundings).
    let measured = vec![
        (
            "quantity = \"input\"\nkey = \"training.mfu\"\nby = \"2024Q3\"\nvalue = 0.4\nsd = 0.05",
            mfu_q3.iter().map(|&x| near(x, 0.4, 0.05)).collect(),
        ),
        (
            "quantity = \"input\"\nkey = \"supply.line.fill_rate\"\nat_least = 0.6\nsd = 0.1",
            fill.iter().map(|&x| at_least_with_error(x, 0.6, 0.1)).collect(),
        ),
    ];
    check_on_starts(dir.path(), "s", &measured, 1e-12);
}

#[test]
fn log10_scale_takes_a_value_of_zero_as_minus_infinity() {
    // A run not started by 2024Q4 has no compute by then: x = 0, log10 x =
    // −inf, L = 0 for a range with a lower bound and 1 without one. A run
    // started by then has at least a quarter of 2,500 chips (above 1e23 FLOP),
    // far above 1e20 and below 1e30 with sd 0.5 decades: L within 1e-12 of 1.
    let dir = tempfile::tempdir().unwrap();
    let smp = starts_samples(dir.path());
    let started: Vec<bool> = smp
        .strs("start_quarter")
        .iter()
        .map(|q| !q.is_empty() && *q <= "2024Q4")
        .collect();
    assert!(started.contains(&true) && started.contains(&false));
    let f = "quantity = \"training_flop_domestic\"\nby = \"2024Q4\"\nsd = 0.5\nscale = \"log10\"";
    let out = run_all_samples(
        dir.path(),
        "lower",
        &format!("{STARTS}{}", observe(&format!("{f}\nat_least = 1e20"))),
        1000,
    );
    for (w, s) in Samples::read(&out).weights().iter().zip(&started) {
        assert!(
            if *s { (1.0 - w).abs() < 1e-12 } else { *w == 0.0 },
            "started {s}: weight {w}"
        );
    }
    let out = run_all_samples(
        dir.path(),
        "upper",
        &format!("{STARTS}{}", observe(&format!("{f}\nbelow = 1e30"))),
        1000,
    );
    assert_weights("no lower bound", &Samples::read(&out).weights(), &vec![1.0; 1000], 0.0);
}

// ---------------------------------------------------------------------------
// 7. Validation

#[test]
fn invalid_observations_are_refused_with_file_line_and_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let head = base().replace(
        "mfu = 0.4",
        "mfu = { dist = \"uniform\", low = 0.3, high = 0.5, per = \"quarter\" }",
    ) + "\n[shocks.s]\nat = \"2024Q2\"\nprobability = 0.3\neffects = [{ supply = \"line\", stop = true }]\n";
    // (table body, the key whose line the error names ("" for the table's
    // own line), a fragment of the message)
    let cases: &[(&str, &str, &str)] = &[
        (
            "quantity = \"delivered_chips\"\nline = \"lien\"\nby = \"2024Q2\"\nat_least = 10",
            "line",
            "did you mean \"line\"",
        ),
        (
            "quantity = \"training_chips\"\nchip = \"aa\"\nby = \"2024Q2\"\nat_least = 1",
            "chip",
            "did you mean \"a\"",
        ),
        ("quantity = \"shock\"\nshock = \"t\"\nhappened = true", "shock", "\"t\""),
        (
            "quantity = \"milestone\"\nmilestone = \"mm\"\nhappened = true",
            "milestone",
            "did you mean \"m\"",
        ),
        (
            "quantity = \"input\"\nkey = \"training.mfuu\"\nby = \"2024Q2\"\nat_least = 0.1",
            "key",
            "did you mean \"training.mfu\"",
        ),
        (
            "quantity = \"delivered_chips\"\nby = \"2024Q2\"\nvalue = 100",
            "value",
            "sd",
        ),
        (
            "quantity = \"delivered_chips\"\nby = \"2024Q2\"\nat_least = 100\nbelow = 100",
            "below",
            "at_least",
        ),
        (
            "quantity = \"training_chips\"\nfrom = \"2024Q1\"\nto = \"2024Q2\"\nat_least = 100",
            "from",
            "cumulative",
        ),
        (
            "quantity = \"training_flop\"\nby = \"2024Q2\"\nat_least = 1\nhappened = true",
            "happened",
            "happened",
        ),
        (
            "quantity = \"shock\"\nshock = \"s\"\nhappened = true\nsd = 0.1",
            "sd",
            "sd",
        ),
        (
            "quantity = \"shock\"\nshock = \"s\"\nhappened = true\nconfidence = 1",
            "confidence",
            "0.5",
        ),
        (
            "quantity = \"shock\"\nshock = \"s\"\nhappened = true\nconfidence = 0.5",
            "confidence",
            "0.5",
        ),
        (
            "quantity = \"training_flop\"\nby = \"2026Q1\"\nat_least = 1",
            "by",
            "2026Q1",
        ),
        (
            "name = \"o12\"\nquantity = \"training_flop\"\nby = \"2024Q1\"\nat_least = 1",
            "name",
            "unique",
        ),
        ("quantity = \"training_flop\"\nat_least = 1", "", "by"),
        (
            "quantity = \"training_flop\"\nby = \"2024Q3\"\nat_least = 0\nsd = 0.5\nscale = \"log10\"",
            "at_least",
            "above 0",
        ),
        ("quantity = \"input\"\nkey = \"training.mfu\"\nat_least = 0.1", "", "by"),
        (
            "quantity = \"input\"\nkey = \"supply.line.fill_rate\"\nby = \"2024Q2\"\nat_least = 0.1",
            "by",
            "once per trial",
        ),
        (
            "quantity = \"input\"\nkey = \"supply.line.fill_rate\"\nfrom = \"2024Q1\"\nto = \"2024Q2\"\nat_least = 0.1",
            "from",
            "by",
        ),
        (
            "quantity = \"delivered_chips\"\nline = \"line\"\nchip = \"a\"\nby = \"2024Q2\"\nat_least = 1",
            "chip",
            "not both",
        ),
        (
            "quantity = \"training_flop\"\nline = \"line\"\nby = \"2024Q2\"\nat_least = 1",
            "line",
            "training_flop",
        ),
        (
            "quantity = \"training_flop\"\nfrom = \"2024Q2\"\nat_least = 1",
            "",
            "to",
        ),
        (
            "quantity = \"training_flop\"\nfrom = \"2024Q3\"\nto = \"2024Q2\"\nat_least = 1",
            "to",
            "from",
        ),
        (
            "quantity = \"training_flop\"\nby = \"2024Q3\"\nfrom = \"2024Q1\"\nto = \"2024Q2\"\nat_least = 1",
            "by",
            "not both",
        ),
        ("quantity = \"training_started\"", "", "happened"),
        (
            "quantity = \"training_started\"\nhappened = true\nat_least = 3",
            "at_least",
            "event",
        ),
        (
            "quantity = \"training_flop\"\nby = \"2024Q3\"\nat_least = 1\nvalue = 3\nsd = 1",
            "value",
            "not both",
        ),
        (
            "quantity = \"training_flop\"\nby = \"2024Q3\"\nvalue = 3\nsd = 0",
            "sd",
            "0",
        ),
        (
            "quantity = \"training_flop\"\nby = \"2024Q3\"\nvalue = 3\nsd = 1\nconfidence = 0.9",
            "confidence",
            "not both",
        ),
        (
            "quantity = \"training_flop\"\nby = \"2024Q3\"\nat_least = 3\nscale = \"log10\"",
            "scale",
            "sd",
        ),
        (
            "name = \"a-b\"\nquantity = \"training_flop\"\nby = \"2024Q3\"\nat_least = 3",
            "name",
            "a-b",
        ),
        (
            "quantity = \"training_flop\"\nby = \"2024Q3\"\nat_least = nan",
            "at_least",
            "finite",
        ),
    ];
    let mut file = head.clone();
    let mut want = Vec::new();
    for (i, (body, key, fragment)) in cases.iter().enumerate() {
        let body = if body.starts_with("name =") {
            body.to_string()
        } else {
            format!("name = \"o{i}\"\n{body}")
        };
        file.push_str("\n[[observe]]\n");
        let table_line = file.lines().count();
        let line = if key.is_empty() {
            table_line
        } else {
            table_line + 1 + body.lines().position(|l| l.starts_with(&format!("{key} ="))).unwrap()
        };
        file.push_str(&body);
        file.push('\n');
        let path = if key.is_empty() {
            format!("observe[{i}]")
        } else {
            format!("observe[{i}].{key}")
        };
        want.push((format!("error: bad.toml:{line}:1: {path}: "), *fragment));
    }
    write(dir.path(), "bad.toml", &file);
    let o = run_in(dir.path(), &["validate", "bad.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    for (prefix, fragment) in &want {
        assert!(
            err.lines()
                .any(|l| l.starts_with(prefix.as_str()) && l[prefix.len()..].contains(fragment)),
            "no `{prefix}…{fragment}…` in:\n{err}"
        );
    }
    // The same file without the bad tables is valid.
    write(dir.path(), "good.toml", &head);
    ok(dir.path(), &["validate", "good.toml"]);

    // `quantity` is one of the table's, with the closest suggested; unknown keys are refused.
    let typo = format!("{head}\n[[observe]]\nname = \"x\"\nquantity = \"deliveries\"\nby = \"2024Q2\"\nat_least = 1\n");
    write(dir.path(), "typo.toml", &typo);
    let o = run_in(dir.path(), &["validate", "typo.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let line = typo.lines().position(|l| l.starts_with("quantity =")).unwrap() + 1;
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains(&format!("typo.toml:{line}:")) && err.contains("observe[0].quantity"),
        "{err}"
    );
    assert!(err.contains("delivered_chips"), "{err}");
    let typo = typo.replace("by = \"2024Q2\"", "bye = \"2024Q2\"");
    write(
        dir.path(),
        "typo.toml",
        &typo.replace("\"deliveries\"", "\"delivered_chips\""),
    );
    let o = run_in(dir.path(), &["validate", "typo.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains(&format!("typo.toml:{}:1: observe[0].bye", line + 1)) && err.contains("`by`"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// 8. Outputs

#[test]
fn summary_json_reports_the_evidence_only_with_observations() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2000u64;
    // Two binned inputs: the fill rate (per trial) and mfu (per quarter, 8 draws a trial).
    let s = base().replace(
        "mfu = 0.4",
        "mfu = { dist = \"uniform\", low = 0.3, high = 0.5, per = \"quarter\" }",
    );
    let plain = run_all_samples(dir.path(), "plain", &s, n);
    let raw = std::fs::read_to_string(plain.join("summary.json")).unwrap();
    for key in [
        "\"prior\"",
        "\"posterior\"",
        "\"evidence\"",
        "\"effective_sample_size\"",
        "min_effective_sample_size",
    ] {
        assert!(!raw.contains(key), "{key} in a summary without observations");
    }
    let hard = HARD.replace(
        "at_least = 0.3\n",
        "at_least = 0.3\ndescription = \"the line filled at least 30%\"\nsource = \"a report\"\n",
    );
    let out = run_all_samples(dir.path(), "observed", &format!("{s}{hard}"), n);
    let j = Json::read(&out);
    let ev = j.at("evidence");
    assert_eq!(
        ev.keys(),
        [
            "trials",
            "accepted_trials",
            "acceptance_rate",
            "posterior_weight",
            "effective_sample_size",
            "min_effective_sample_size",
            "observations",
            "inputs"
        ]
    );
    assert_eq!(ev.u("min_effective_sample_size"), 100, "the default");
    assert!(j.has("effective_sample_size"));
    for k in 0..2 {
        let m = j.at(&format!("milestones.{k}"));
        for e in ["prior", "posterior"] {
            assert_eq!(m.at(e).keys(), ["probability", "ci95_low", "ci95_high"]);
        }
    }
    let o0 = ev.at("observations.0");
    assert_eq!(o0.s("name"), "fill");
    assert_eq!(o0.s("quantity"), "input");
    assert_eq!(o0.s("kind"), "hard");
    assert_eq!(o0.s("description"), "the line filled at least 30%");
    assert_eq!(o0.s("source"), "a report");
    for k in 0..2 {
        let observed = ev.s(&format!("observations.{k}.observed"));
        assert!(!observed.is_empty() && !observed.contains('\n'), "{observed:?}");
        assert!(ev.at(&format!("observations.{k}")).has("prior_agreement"));
    }
    assert!(ev.s("observations.0.observed").contains("supply.line.fill_rate"));

    // The inputs' prior and posterior histograms, recomputed from samples.csv.
    let smp = Samples::read(&out);
    let pass: Vec<bool> = smp.weights().iter().map(|&w| w == 1.0).collect();
    let accepted = count(&pass);
    let inputs = ev.arr("inputs");
    assert_eq!(
        inputs.len(),
        2,
        "fill rate and mfu have distributions; the rest is fixed"
    );
    let moved: Vec<f64> = (0..2).map(|i| ev.f(&format!("inputs.{i}.moved"))).collect();
    assert!(moved[0] >= moved[1], "listed by `moved`, largest first: {moved:?}");
    assert_eq!(
        ev.s("inputs.0.key"),
        "supply.line.fill_rate",
        "the observed input moved most"
    );
    for (i, input) in inputs.iter().enumerate() {
        let key = input.s("key").to_string();
        let columns: Vec<String> = if key == "training.mfu" {
            smp.header
                .iter()
                .filter(|h| h.starts_with("training.mfu["))
                .cloned()
                .collect()
        } else {
            vec![key.clone()]
        };
        assert_eq!(columns.len(), if key == "training.mfu" { 8 } else { 1 });
        let range = input.nums("range");
        let (lo, hi) = (range[0], range[1]);
        if key == "training.mfu" {
            // Uniform on [0.3, 0.5): its 0.1% and 99.9% quantiles.
            assert!(close(lo, 0.3002, 1e-12) && close(hi, 0.4998, 1e-12), "{range:?}");
        }
        let mut prior = [0u64; 40];
        let mut post = [0u64; 40];
        for c in &columns {
            for (v, p) in smp.nums(c).iter().zip(&pass) {
                let b = if *v < lo {
                    0
                } else {
                    (((v - lo) / (hi - lo) * 40.0).floor() as usize).min(39)
                };
                prior[b] += 1;
                post[b] += u64::from(*p);
            }
        }
        let draws = n * columns.len() as u64;
        let ps = input.nums("prior_shares");
        let qs = input.nums("posterior_shares");
        for b in 0..40 {
            assert_eq!(ps[b], prior[b] as f64 / draws as f64, "{key}: prior bin {b}");
            assert_eq!(
                qs[b],
                post[b] as f64 / (accepted * columns.len() as u64) as f64,
                "{key}: posterior bin {b}"
            );
        }
        // `moved`: the largest gap of the cumulative shares (12 digits are reported).
        let (mut cp, mut cq, mut ks) = (0.0f64, 0.0f64, 0.0f64);
        for b in 0..40 {
            cp += ps[b];
            cq += qs[b];
            ks = ks.max((cp - cq).abs());
        }
        assert!((moved[i] - ks).abs() < 1e-11, "{key}: moved {} vs {ks}", moved[i]);
        // P10/P50/P90, linear within the bin where the cumulative share crosses p.
        let quantiles = |shares: &[f64]| -> Vec<f64> {
            [0.1, 0.5, 0.9]
                .iter()
                .map(|&p| {
                    let mut cum = 0.0;
                    for (b, &s) in shares.iter().enumerate() {
                        if s > 0.0 && cum + s >= p {
                            return lo + (hi - lo) / 40.0 * (b as f64 + (p - cum) / s);
                        }
                        cum += s;
                    }
                    hi
                })
                .collect()
        };
        let (got_p, got_q) = (flat(input.at("prior")), flat(input.at("posterior")));
        for (g, w) in got_p.iter().zip(quantiles(&ps)).chain(got_q.iter().zip(quantiles(&qs))) {
            assert!(close(*g, w, 1e-9), "{key}: quantile {g} vs {w}");
        }
    }

    // The observations and the threshold are listed in the assumptions.
    let keys: Vec<String> = (0..j.arr("assumptions").len())
        .map(|i| j.s(&format!("assumptions.{i}.key")).to_string())
        .collect();
    for k in [
        "observe[0].quantity",
        "observe[0].key",
        "observe[0].at_least",
        "observe[1].by",
        "scenario.min_effective_sample_size",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} not in the assumptions");
    }
    assert!(
        !raw.contains("observe["),
        "no observations in the plain run's assumptions"
    );
    // Each value of an observation carries the table's source (its
    // free-text description is not a value).
    for (i, key) in keys.iter().enumerate() {
        let source = j.at(&format!("assumptions.{i}.source"));
        if key.starts_with("observe[0].") && key != "observe[0].description" {
            assert!(matches!(source, Json::Str(s) if s == "a report"), "{}: {source:?}", key);
        }
    }
}

/// The three numbers of an input's P10/P50/P90, written as an array or as
/// an object.
fn flat(v: &Json) -> Vec<f64> {
    let out: Vec<f64> = match v {
        Json::Arr(a) => a.iter().map(|x| flat(x)[0]).collect(),
        Json::Obj(f) => f.iter().map(|(_, x)| flat(x)[0]).collect(),
        Json::Num(s) => vec![s.parse().unwrap()],
        other => panic!("{other:?}"),
    };
    assert!(!out.is_empty());
    out
}

#[test]
fn console_shows_the_prior_and_the_posterior_and_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "c.toml", &format!("{}{HARD}", base()));
    let o = ok(dir.path(), &["run", "c.toml", "--trials", "1000", "--out", "out"]);
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let j = Json::read(&dir.path().join("out"));
    let header = stdout
        .lines()
        .find(|l| l.starts_with("milestone"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(header.contains("prior"), "{header}");
    let pct = |p: f64| format!("{:.1}%", 100.0 * p);
    for k in 0..2 {
        let row = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(j.s(&format!("milestones.{k}.name"))))
            .unwrap_or_else(|| panic!("{stdout}"));
        let (prior, post) = (
            j.f(&format!("milestones.{k}.prior.probability")),
            j.f(&format!("milestones.{k}.probability")),
        );
        let (a, b) = (row.find(&pct(prior)), row.find(&pct(post)));
        assert!(
            a.is_some() && b.is_some() && a < b,
            "prior {} then posterior {} in `{row}`",
            pct(prior),
            pct(post)
        );
    }
    let accepted = j.u("evidence.accepted_trials");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("evidence:"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.contains(&format!("{accepted} of 1000")) && line.contains("effective sample size"),
        "{line}"
    );
    // Without observations: neither.
    write(dir.path(), "p.toml", &base());
    let o = ok(dir.path(), &["run", "p.toml", "--trials", "1000", "--out", "plain"]);
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!stdout.contains("evidence:") && !stdout.contains("prior"), "{stdout}");
}

#[test]
fn reports_add_an_evidence_section_with_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "r.toml", &format!("{}{HARD}", base()));
    ok(
        dir.path(),
        &["run", "r.toml", "--trials", "500", "--quiet", "--out", "out"],
    );
    let names: Vec<String> = folder_files(&dir.path().join("out")).into_iter().map(|f| f.0).collect();
    for chart in ["evidence_milestones", "evidence_inputs"] {
        assert!(
            names.iter().any(|n| n.starts_with(chart)),
            "no {chart} chart in {names:?}"
        );
    }
    for report in ["report.md", "report.html"] {
        let r = std::fs::read_to_string(dir.path().join("out").join(report)).unwrap();
        assert!(
            r.contains("Evidence") && r.contains("evidence_milestones") && r.contains("delivered"),
            "{report}"
        );
    }
}

#[test]
fn compare_sweep_optimize_and_sensitivity_warn_that_they_use_the_prior() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "w.toml", &format!("{}{HARD}", base()));
    write(dir.path(), "p.toml", &base());
    let commands: [&[&str]; 4] = [
        &[
            "compare",
            "w.toml",
            "--variant",
            "training.mfu=0.5",
            "--trials",
            "300",
            "--quiet",
            "--out",
            "c",
        ],
        &[
            "sweep",
            "w.toml",
            "--set",
            "training.mfu=0.3,0.5",
            "--trials",
            "300",
            "--quiet",
            "--out",
            "s",
        ],
        &[
            "optimize",
            "w.toml",
            "--objective",
            "m",
            "--trials",
            "100",
            "--quiet",
            "--out",
            "o",
        ],
        &[
            "sensitivity",
            "w.toml",
            "--trials",
            "100",
            "--sobol-rows",
            "100",
            "--bootstrap",
            "0",
            "--quiet",
            "--out",
            "t",
        ],
    ];
    for args in commands {
        let o = ok(dir.path(), args);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(
            err.lines()
                .any(|l| l.starts_with("warning:") && l.contains(args[0]) && l.contains("[[observe]]")),
            "{args:?}: {err}"
        );
        // The plain scenario draws no such warning.
        let plain: Vec<&str> = args.iter().map(|a| if *a == "w.toml" { "p.toml" } else { a }).collect();
        let o = ok(dir.path(), &plain);
        assert!(!String::from_utf8_lossy(&o.stderr).contains("[[observe]]"));
    }
    // compare's base is the prior: the run of all 300 trials.
    ok(
        dir.path(),
        &["run", "p.toml", "--trials", "300", "--quiet", "--out", "prior"],
    );
    let prior = Json::read(&dir.path().join("prior")).f("milestones.0.probability");
    let csv = std::fs::read_to_string(dir.path().join("c/compare.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "p_base").unwrap();
    assert_eq!(row[0], "m");
    assert_eq!(row[col].parse::<f64>().unwrap(), prior, "{csv}");
}

#[test]
fn a_baseline_with_observations_is_compared_posterior_to_posterior() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "w.toml", &format!("{}{HARD}", base()));
    write(dir.path(), "p.toml", &base());
    ok(
        dir.path(),
        &["run", "w.toml", "--trials", "2000", "--quiet", "--out", "old"],
    );
    let old = Json::read(&dir.path().join("old")).f("milestones.0.probability");
    for (file, out) in [("w.toml", "again"), ("p.toml", "plain")] {
        ok(
            dir.path(),
            &[
                "run",
                file,
                "--trials",
                "2000",
                "--seed",
                "8",
                "--baseline",
                "old/summary.json",
                "--quiet",
                "--out",
                out,
            ],
        );
        let now = Json::read(&dir.path().join(out)).f("milestones.0.probability");
        let b: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(out).join("baseline.json")).unwrap())
                .unwrap();
        assert_eq!(b["method"], "unpaired", "{file}");
        let d = b["milestones"][0]["difference"].as_f64().unwrap();
        // 1e-9: the JSON numbers are read by serde_json (within an ulp).
        assert!(
            (d - (now - old)).abs() < 1e-9,
            "{file}: difference {d}, posterior {now} − {old} = {}",
            now - old
        );
    }
}

// ---------------------------------------------------------------------------
// 9. check and --precision use the posterior

#[test]
fn check_tests_the_expectations_against_the_posterior() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.toml", &base());
    ok(
        dir.path(),
        &["run", "p.toml", "--trials", "1000", "--quiet", "--out", "plain"],
    );
    write(dir.path(), "w.toml", &format!("{}{HARD}", base()));
    ok(
        dir.path(),
        &["run", "w.toml", "--trials", "1000", "--quiet", "--out", "observed"],
    );
    let p_hi = Json::read(&dir.path().join("plain")).f("milestones.0.ci95_high");
    let q_lo = Json::read(&dir.path().join("observed")).f("milestones.0.ci95_low");
    assert!(
        p_hi < q_lo,
        "the evidence raises m's chance clear of its prior interval"
    );
    // A bound between the two intervals: the prior is below it, the posterior above.
    let mid = (p_hi + q_lo) / 2.0;
    let expect = |bound: &str| format!("{}{HARD}\n[[expect]]\nmilestone = \"m\"\n{bound} = {mid}\n", base());
    for (bound, code, plain_code) in [("max_probability", 1, 0), ("min_probability", 0, 1)] {
        write(dir.path(), "e.toml", &expect(bound));
        let o = run_in(dir.path(), &["check", "e.toml", "--trials", "1000", "--quiet"]);
        assert_eq!(o.status.code(), Some(code), "{bound} = {mid}: {}", text(&o));
        // Without the observations the verdict is the other one.
        write(dir.path(), "e.toml", &expect(bound).replace(HARD, ""));
        let o = run_in(dir.path(), &["check", "e.toml", "--trials", "1000", "--quiet"]);
        assert_eq!(
            o.status.code(),
            Some(plain_code),
            "{bound} = {mid} without evidence: {}",
            text(&o)
        );
    }
    // Too few effective trials: check refuses as run does.
    let few = expect("min_probability").replace("at_least = 0.3\n", "at_least = 0.85\n");
    write(dir.path(), "few.toml", &few);
    let o = run_in(dir.path(), &["check", "few.toml", "--trials", "1000", "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("effective sample size"),
        "{}",
        text(&o)
    );
}

#[test]
fn precision_stops_on_the_posteriors_widest_interval() {
    let dir = tempfile::tempdir().unwrap();
    // About 12% of the trials pass, and m's posterior is near 3%: one batch
    // of 10,000 trials meets 0.01 for every prior but not for the posterior.
    let narrow = "\n[[observe]]\nname = \"fill\"\nquantity = \"input\"\nkey = \"supply.line.fill_rate\"\nat_least = 0.38\nbelow = 0.45\n";
    write(dir.path(), "n.toml", &format!("{}{narrow}", base()));
    let half = |j: &Json, k: usize, what: &str| {
        let p = j.f(&format!("milestones.{k}.{what}probability"));
        (p - j.f(&format!("milestones.{k}.{what}ci95_low"))).max(j.f(&format!("milestones.{k}.{what}ci95_high")) - p)
    };
    ok(
        dir.path(),
        &["run", "n.toml", "--trials", "10000", "--quiet", "--out", "one"],
    );
    let one = Json::read(&dir.path().join("one"));
    assert!(
        (0..2).all(|k| half(&one, k, "prior.") <= 0.01),
        "the priors are narrow enough"
    );
    assert!((0..2).any(|k| half(&one, k, "") > 0.01), "a posterior is not");
    ok(
        dir.path(),
        &[
            "run",
            "n.toml",
            "--precision",
            "0.01",
            "--trials",
            "100000",
            "--quiet",
            "--out",
            "p",
        ],
    );
    let j = Json::read(&dir.path().join("p"));
    assert!(j.u("trials") > 10_000, "went on past the first batch");
    let widest = half(&j, 0, "").max(half(&j, 1, ""));
    assert_eq!(j.f("precision.achieved_half_width"), widest);
    assert!(widest <= 0.01);
    assert!(j.b("precision.converged"));
}
