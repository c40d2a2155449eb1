//! The assumptions table (`summary.json` `assumptions`, the reports' last
//! table): every value of a scenario, in the order of the file's sections,
//! with the defaults the model filled in marked as such and the `source`
//! where the file gives one.

use std::collections::HashMap;

use super::{Assumption, Demand, Model, Policy, Trigger, format_number};
use crate::error::KeyPath;
use crate::scenario::{RawNumber, RawPolicy, RawScenario};

/// Collects the rows; numbers are looked up among the entries the model
/// built while validating them (their value in words and their source).
struct Table<'a> {
    rows: Vec<Assumption>,
    numbers: HashMap<&'a str, &'a Assumption>,
}

impl Table<'_> {
    fn push(&mut self, key: &KeyPath, value: impl Into<String>, source: Option<&String>, default: bool) {
        self.rows.push(Assumption {
            key: key.to_string(),
            value: value.into(),
            source: source.cloned(),
            default,
        });
    }

    /// A value as written.
    fn written(&mut self, key: &KeyPath, value: impl Into<String>) {
        self.push(key, value, None, false);
    }

    /// A value the file leaves out.
    fn default(&mut self, key: &KeyPath, value: impl Into<String>) {
        self.push(key, value, None, true);
    }

    /// A value written or, if `written` is false, left to its default.
    fn either(&mut self, key: &KeyPath, value: impl Into<String>, written: bool) {
        self.push(key, value, None, !written);
    }

    /// An optional text, shown only when written.
    fn text(&mut self, key: &KeyPath, text: &Option<String>) {
        if let Some(t) = text {
            self.written(key, t.clone());
        }
    }

    /// A number the model validated (and described) at `key`: written when
    /// `raw` is given, else its default.
    fn number(&mut self, key: &KeyPath, raw: Option<&RawNumber>) {
        let path = key.to_string();
        let (value, source) = match self.numbers.get(path.as_str()) {
            Some(a) => (a.value.clone(), a.source.clone()),
            None => (String::new(), None),
        };
        self.push(key, value, source.as_ref(), raw.is_none());
    }

    /// A number the model did not validate (`per`-less optional numbers
    /// absent from the file): its default, described by `value`.
    /// [`Table::number_or`], with `source` (a section's) where the number has none of its own.
    fn number_from(&mut self, key: &KeyPath, raw: Option<&RawNumber>, value: &str, source: Option<&String>) {
        let before = self.rows.len();
        self.number_or(key, raw, value);
        if raw.is_some() && self.rows[before].source.is_none() {
            self.rows[before].source = source.cloned();
        }
    }

    fn number_or(&mut self, key: &KeyPath, raw: Option<&RawNumber>, value: &str) {
        match raw {
            Some(r) => self.number(key, Some(r)),
            None => self.default(key, value),
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn chips(n: u64) -> String {
    format_number(n as f64)
}

/// Every value of `raw`, as the validated `model` holds it. `numbers` are
/// the rows of the numbers validated on the way, keyed by their path.
pub(super) fn table(raw: &RawScenario, model: &Model, numbers: &[Assumption]) -> Vec<Assumption> {
    let mut t = Table {
        rows: Vec::new(),
        numbers: numbers.iter().map(|a| (a.key.as_str(), a)).collect(),
    };
    let cal = &model.calendar;
    let root = KeyPath::root();

    let s = root.key("scenario");
    let meta = &raw.scenario;
    t.written(&s.key("name"), meta.name.clone());
    t.text(&s.key("description"), &meta.description);
    t.written(&s.key("start"), cal.start().to_string());
    t.either(
        &s.key("horizon_quarters"),
        model.horizon().to_string(),
        meta.horizon_quarters.is_some(),
    );
    t.either(&s.key("trials"), chips(model.trials), meta.trials.is_some());
    t.either(&s.key("seed"), model.seed.to_string(), meta.seed.is_some());
    // Listed only when written, so that files without it keep their outputs.
    if meta.sampling.is_some() {
        let v = match model.sampling {
            crate::model::Sampling::Independent => "independent",
            crate::model::Sampling::Lhs => "lhs (Latin hypercube, blocks of 256 trials)",
        };
        t.written(&s.key("sampling"), v);
    }

    // Priorities matter when domestic and foreign types meet, or when written.
    let mixed = model.chips.iter().any(|c| c.domestic) && model.chips.iter().any(|c| !c.domestic);
    for ((name, c), chip) in raw.chips.iter().zip(&model.chips) {
        let p = root.key("chips").key(name);
        t.text(&p.key("description"), &c.description);
        t.number(&p.key("peak_flops"), Some(&c.peak_flops));
        t.either(&p.key("domestic"), yes_no(chip.domestic), c.domestic.is_some());
        if mixed || c.training_priority.is_some() {
            t.either(
                &p.key("training_priority"),
                chip.training_priority.to_string(),
                c.training_priority.is_some(),
            );
        }
        if mixed || c.inference_priority.is_some() {
            t.either(
                &p.key("inference_priority"),
                chip.inference_priority.to_string(),
                c.inference_priority.is_some(),
            );
        }
        t.number_or(
            &p.key("annual_failure_rate"),
            c.annual_failure_rate.as_ref(),
            "none (no failures)",
        );
        // Listed only where written, so that files without them keep their outputs.
        if let Some(d) = &c.derating {
            t.number(&p.key("derating"), Some(d));
        }
        if let Some(m) = &c.memory_gb {
            t.number(&p.key("memory_gb"), Some(m));
        }
        if let Some(r) = &c.run_failure_probability {
            t.number(&p.key("run_failure_probability"), Some(r));
            t.number(
                &p.key("run_failure_lost_quarters"),
                c.run_failure_lost_quarters.as_ref(),
            );
        }
    }

    for ((name, s), line) in raw.supply.iter().zip(&model.supply) {
        let p = root.key("supply").key(name);
        t.text(&p.key("description"), &s.description);
        t.written(&p.key("chip"), s.chip.clone());
        for (i, o) in s.orders.iter().enumerate() {
            let when = match (&o.quarter, &o.from, &o.to) {
                (Some(q), _, _) => format!("in {q}"),
                (None, Some(f), Some(to)) => format!("in each quarter from {f} to {to}"),
                _ => String::new(),
            };
            let key = p.key("orders").index(i);
            t.push(
                &key,
                format!("{} chips {when}", chips(o.chips)),
                o.source.as_ref(),
                false,
            );
        }
        match (&s.supplier, &s.tier) {
            (Some(supplier), Some(tier)) => {
                t.written(&p.key("supplier"), supplier.clone());
                t.written(&p.key("tier"), tier.clone());
                t.number(&p.key("share"), s.share.as_ref());
            }
            _ => t.number(&p.key("fill_rate"), s.fill_rate.as_ref()),
        }
        t.number(&p.key("lead_time_quarters"), s.lead_time_quarters.as_ref());
        t.either(&p.key("backlog"), yes_no(line.backlog), s.backlog.is_some());
        if let Some(gates) = &s.gates {
            t.written(&p.key("gates"), gates.join(", "));
        }
        if let Some(q) = &s.quota_chips_per_quarter {
            t.number(&p.key("quota_chips_per_quarter"), Some(q));
        }
        if let Some(r) = &s.domestic_purchase_ratio {
            t.number(&p.key("domestic_purchase_ratio"), Some(r));
        }
    }

    for ((name, s), shock) in raw.shocks.iter().zip(&model.shocks) {
        let p = root.key("shocks").key(name);
        t.text(&p.key("description"), &s.description);
        match shock.trigger {
            Trigger::At { quarter, .. } => {
                t.written(&p.key("at"), cal.quarter(quarter).to_string());
                t.number_or(&p.key("probability"), s.probability.as_ref(), "1");
            }
            Trigger::Hazard { from, until, .. } => {
                t.number(&p.key("hazard_per_quarter"), s.hazard_per_quarter.as_ref());
                t.either(&p.key("from"), cal.quarter(from).to_string(), s.from.is_some());
                t.either(&p.key("until"), cal.quarter(until).to_string(), s.until.is_some());
            }
        }
        t.number_or(&p.key("duration_quarters"), s.duration_quarters.as_ref(), "permanent");
        for (i, e) in s.effects.iter().enumerate() {
            let ep = p.key("effects").index(i);
            if let Some(supplier) = &e.supplier {
                t.written(&ep.key("supplier"), supplier.clone());
                for (key, raw) in [
                    ("wafer_starts_multiplier", &e.wafer_starts_multiplier),
                    ("packaging_multiplier", &e.packaging_multiplier),
                    ("hbm_imports_multiplier", &e.hbm_imports_multiplier),
                    ("yield_learning_multiplier", &e.yield_learning_multiplier),
                    ("die_bank_multiplier", &e.die_bank_multiplier),
                    ("hbm_stock_multiplier", &e.hbm_stock_multiplier),
                ] {
                    if let Some(r) = raw {
                        t.number(&ep.key(key), Some(r));
                    }
                }
                if let (Some(g), Some(d)) = (&e.generation, &e.delay_quarters) {
                    t.written(&ep.key("generation"), g.clone());
                    t.number(&ep.key("delay_quarters"), Some(d));
                }
                if let (Some(tier), Some(p)) = (&e.tier, e.priority) {
                    t.written(&ep.key("tier"), tier.clone());
                    t.written(&ep.key("priority"), p.to_string());
                }
                continue;
            }
            let Some(supply) = &e.supply else {
                if let (Some(gate), Some(open)) = (&e.gate, e.open) {
                    t.written(&ep.key("gate"), gate.clone());
                    t.written(&ep.key("open"), yes_no(open));
                }
                continue;
            };
            t.written(&ep.key("supply"), supply.clone());
            t.number_or(&ep.key("fill_rate_multiplier"), e.fill_rate_multiplier.as_ref(), "1");
            t.number_or(
                &ep.key("add_lead_time_quarters"),
                e.add_lead_time_quarters.as_ref(),
                "0",
            );
            t.either(&ep.key("stop"), yes_no(e.stop.unwrap_or(false)), e.stop.is_some());
            if let Some(m) = &e.share_multiplier {
                t.number(&ep.key("share_multiplier"), Some(m));
            }
        }
    }

    for (name, g) in &raw.gates {
        let p = root.key("gates").key(name);
        t.text(&p.key("description"), &g.description);
        t.either(
            &p.key("initially_open"),
            yes_no(
                g.initially_open
                    .unwrap_or(crate::model::limits::DEFAULT_GATE_INITIALLY_OPEN),
            ),
            g.initially_open.is_some(),
        );
        t.number_or(&p.key("close_probability"), g.close_probability.as_ref(), "0");
        t.number_or(&p.key("open_probability"), g.open_probability.as_ref(), "0");
        if let Some(gate) = model.gates.iter().find(|m| &m.name == name) {
            let cal = &model.calendar;
            t.either(
                &p.key("from"),
                cal.quarter(*gate.chance.start()).to_string(),
                g.from.is_some(),
            );
            t.either(
                &p.key("until"),
                cal.quarter(*gate.chance.end()).to_string(),
                g.until.is_some(),
            );
        }
        for (i, e) in g.events.iter().enumerate() {
            let key = p.key("events").index(i);
            let state = if e.open { "open" } else { "closed" };
            t.push(
                &key,
                format!("{state} from {}", e.quarter),
                e.source.as_ref().or(g.source.as_ref()),
                false,
            );
        }
    }

    for (name, s) in &raw.suppliers {
        let p = root.key("suppliers").key(name);
        t.text(&p.key("description"), &s.description);
        let src = s.source.as_ref();
        let num = |t: &mut Table, key: &str, raw: Option<&RawNumber>, default: &str| {
            t.number_from(&p.key(key), raw, default, src)
        };
        num(
            &mut t,
            "wafer_starts_per_quarter",
            Some(&s.wafer_starts_per_quarter),
            "",
        );
        num(
            &mut t,
            "wafer_starts_growth_per_quarter",
            s.wafer_starts_growth_per_quarter.as_ref(),
            "0",
        );
        num(
            &mut t,
            "packaging_per_quarter",
            s.packaging_per_quarter.as_ref(),
            "none (no packaging limit)",
        );
        num(
            &mut t,
            "packaging_growth_per_quarter",
            s.packaging_growth_per_quarter.as_ref(),
            "0",
        );
        num(&mut t, "die_bank", s.die_bank.as_ref(), "0");
        num(&mut t, "hbm_stock", s.hbm_stock.as_ref(), "0");
        num(
            &mut t,
            "hbm_imports_per_quarter",
            s.hbm_imports_per_quarter.as_ref(),
            "0",
        );
        num(
            &mut t,
            "hbm_domestic_per_quarter",
            s.hbm_domestic_per_quarter.as_ref(),
            "0 (none)",
        );
        if let Some(f) = &s.hbm_domestic_from {
            t.push(&p.key("hbm_domestic_from"), f.clone(), src, false);
            num(
                &mut t,
                "hbm_domestic_delay_quarters",
                s.hbm_domestic_delay_quarters.as_ref(),
                "0",
            );
            t.either(
                &p.key("hbm_domestic_ramp_quarters"),
                s.hbm_domestic_ramp_quarters.unwrap_or(1).to_string(),
                s.hbm_domestic_ramp_quarters.is_some(),
            );
        }
        for (chip, g) in &s.generations {
            let gp = p.key("generations").key(chip);
            let gsrc = g.source.as_ref().or(src);
            t.text(&gp.key("description"), &g.description);
            t.push(&gp.key("available"), g.available.clone(), gsrc, false);
            let gnum = |t: &mut Table, key: &str, raw: Option<&RawNumber>, default: &str| {
                t.number_from(&gp.key(key), raw, default, gsrc)
            };
            gnum(&mut t, "slip_quarters", g.slip_quarters.as_ref(), "0");
            t.either(
                &gp.key("ramp_quarters"),
                g.ramp_quarters.unwrap_or(1).to_string(),
                g.ramp_quarters.is_some(),
            );
            gnum(&mut t, "dies_per_wafer", Some(&g.dies_per_wafer), "");
            t.either(
                &gp.key("dies_per_package"),
                g.dies_per_package.unwrap_or(1).to_string(),
                g.dies_per_package.is_some(),
            );
            t.either(
                &gp.key("hbm_stacks_per_package"),
                g.hbm_stacks_per_package.unwrap_or(0).to_string(),
                g.hbm_stacks_per_package.is_some(),
            );
            gnum(&mut t, "yield_initial", Some(&g.yield_initial), "");
            gnum(&mut t, "yield_max", g.yield_max.as_ref(), "yield_initial (no learning)");
            gnum(
                &mut t,
                "yield_time_constant_quarters",
                g.yield_time_constant_quarters.as_ref(),
                "4",
            );
            t.either(
                &gp.key("die_bank"),
                yes_no(g.die_bank.unwrap_or(false)),
                g.die_bank.is_some(),
            );
        }
        for (tier, x) in &s.tiers {
            let tp = p.key("tiers").key(tier);
            t.text(&tp.key("description"), &x.description);
            t.either(
                &tp.key("priority"),
                x.priority.unwrap_or(1).to_string(),
                x.priority.is_some(),
            );
            match &x.demand_per_quarter {
                Some(r) => t.number(&tp.key("demand_per_quarter"), Some(r)),
                None => t.default(&tp.key("demand_per_quarter"), "none (all that is left)"),
            }
            t.number_or(
                &tp.key("demand_growth_per_quarter"),
                x.demand_growth_per_quarter.as_ref(),
                "0",
            );
        }
    }

    // Every chip type has a fleet, zero unless the file says otherwise.
    for (c, name) in raw.chips.keys().enumerate() {
        let p = root.key("fleet").key(name);
        let f = raw.fleet.get(name);
        let source = f.and_then(|f| f.source.as_ref());
        for (key, n, written) in [
            (
                "inference",
                model.fleet_inference[c],
                f.is_some_and(|f| f.inference.is_some()),
            ),
            (
                "training",
                model.fleet_training[c],
                f.is_some_and(|f| f.training.is_some()),
            ),
        ] {
            t.push(&p.key(key), chips(n), source, !written);
        }
    }

    let p = root.key("inference");
    match &raw.inference {
        None => t.default(&p, "none (no inference demand)"),
        Some(inf) => {
            t.written(&p.key("unit_chip"), inf.unit_chip.clone());
            match model.inference.as_ref().map(|i| &i.demand) {
                Some(Demand::Tokens { .. }) => {
                    t.number(&p.key("tokens_per_day"), inf.tokens_per_day.as_ref());
                    t.number_or(
                        &p.key("token_growth_per_quarter"),
                        inf.token_growth_per_quarter.as_ref(),
                        "0",
                    );
                    t.number(&p.key("flop_per_token"), inf.flop_per_token.as_ref());
                    t.number_or(
                        &p.key("flop_per_token_change_per_quarter"),
                        inf.flop_per_token_change_per_quarter.as_ref(),
                        "0",
                    );
                    t.number(&p.key("serving_utilization"), inf.serving_utilization.as_ref());
                }
                _ => {
                    t.number(&p.key("initial_demand_chips"), inf.initial_demand_chips.as_ref());
                    t.number_or(&p.key("growth_per_quarter"), inf.growth_per_quarter.as_ref(), "0");
                }
            }
        }
    }

    let p = root.key("allocation");
    let alloc = raw.allocation.as_ref();
    let policy = match model.policy {
        Policy::InferenceFirst => "inference_first",
        Policy::FixedShare(_) => "fixed_share",
        Policy::TrainingReserve(_) => "training_reserve",
    };
    t.either(&p.key("policy"), policy, alloc.is_some());
    if let Some(a) = alloc {
        match (a.policy, model.policy) {
            (RawPolicy::FixedShare, _) => t.number(&p.key("training_share"), a.training_share.as_ref()),
            (RawPolicy::TrainingReserve, Policy::TrainingReserve(n)) => t.written(&p.key("reserve_chips"), chips(n)),
            _ => {}
        }
    }

    let p = root.key("training");
    let tr = &raw.training;
    let training = &model.training;
    t.either(
        &p.key("earliest_start"),
        cal.quarter(training.earliest_start).to_string(),
        tr.earliest_start.is_some(),
    );
    t.either(
        &p.key("min_cluster_chips"),
        chips(training.min_cluster_chips),
        tr.min_cluster_chips.is_some(),
    );
    t.either(
        &p.key("max_cluster_chips"),
        chips(training.max_cluster_chips),
        tr.max_cluster_chips.is_some(),
    );
    for (i, step) in tr.max_cluster_chips_from.iter().enumerate() {
        t.push(
            &p.key("max_cluster_chips_from").index(i),
            format!("{} chips from {}", chips(step.chips), step.quarter),
            step.source.as_ref(),
            false,
        );
    }
    if tr.mfu_size_exponent.is_some() {
        t.number(&p.key("mfu_size_exponent"), tr.mfu_size_exponent.as_ref());
    }
    if let Some(n) = tr.mfu_reference_chips {
        t.written(&p.key("mfu_reference_chips"), chips(n));
    }
    t.number(&p.key("mfu"), Some(&tr.mfu));
    t.number(&p.key("goodput"), tr.goodput.as_ref());
    t.either(
        &p.key("allow_foreign_chips"),
        yes_no(training.allow_foreign_chips),
        tr.allow_foreign_chips.is_some(),
    );
    // Listed only when written, so that files without it keep their outputs.
    if tr.max_run_quarters.is_some() {
        t.number(&p.key("max_run_quarters"), tr.max_run_quarters.as_ref());
    }

    for ((name, m), milestone) in raw.milestones.iter().zip(&model.milestones) {
        let p = root.key("milestones").key(name);
        t.text(&p.key("description"), &m.description);
        t.number(&p.key("target_flop"), Some(&m.target_flop));
        t.written(&p.key("deadline"), cal.quarter(milestone.deadline).to_string());
        t.either(
            &p.key("domestic_only"),
            yes_no(milestone.domestic_only),
            m.domestic_only.is_some(),
        );
    }

    for (i, e) in raw.expect.iter().enumerate() {
        let p = root.key("expect").index(i);
        t.written(&p.key("milestone"), e.milestone.clone());
        for (key, v) in [
            ("min_probability", e.min_probability),
            ("max_probability", e.max_probability),
        ] {
            if let Some(v) = v {
                t.written(&p.key(key), format_number(v));
            }
        }
        t.text(&p.key("description"), &e.description);
    }

    for (i, (c, used)) in raw.correlation.iter().zip(&model.correlations).enumerate() {
        let p = root.key("correlation").index(i);
        t.written(&p.key("inputs"), c.inputs.join(", "));
        let shown = |m: &[Vec<f64>]| {
            let rows: Vec<String> = m
                .iter()
                .map(|row| {
                    format!(
                        "[{}]",
                        row.iter().map(|&x| format_number(x)).collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            format!("[{}]", rows.join(", "))
        };
        let key = if c.rank.is_some() { "rank" } else { "matrix" };
        let value = match (c.rank, &c.matrix) {
            (Some(r), _) => format_number(r),
            (None, Some(m)) => shown(m),
            (None, None) => String::new(),
        };
        let value = if used.repaired {
            let rounded: Vec<Vec<f64>> = used
                .rank
                .iter()
                .map(|row| row.iter().map(|x| (x * 1e4).round() / 1e4).collect())
                .collect();
            format!("{value} (Spearman), repaired to {}", shown(&rounded))
        } else {
            format!("{value} (Spearman)")
        };
        t.push(&p.key(key), value, c.source.as_ref(), false);
        if c.repair.is_some() {
            t.written(&p.key("repair"), "nearest");
        }
        t.text(&p.key("description"), &c.description);
    }

    for (i, o) in raw.observe.iter().enumerate() {
        let p = root.key("observe").index(i);
        let source = o.source.as_ref();
        t.push(&p.key("name"), o.name.clone(), source, false);
        let texts = [
            ("quantity", Some(o.quantity.name().to_string())),
            ("line", o.line.clone()),
            ("chip", o.chip.clone()),
            ("shock", o.shock.clone()),
            ("milestone", o.milestone.clone()),
            ("key", o.key.clone()),
            ("by", o.by.clone()),
            ("from", o.from.clone()),
            ("to", o.to.clone()),
        ];
        for (key, v) in texts {
            if let Some(v) = v {
                t.push(&p.key(key), v, source, false);
            }
        }
        for (key, v) in [
            ("at_least", o.at_least),
            ("below", o.below),
            ("value", o.value),
            ("sd", o.sd),
            ("confidence", o.confidence),
        ] {
            if let Some(v) = v {
                t.push(&p.key(key), format_number(v), source, false);
            }
        }
        if let Some(scale) = o.scale {
            let name = match scale {
                crate::scenario::RawScale::Linear => "linear",
                crate::scenario::RawScale::Log10 => "log10",
            };
            t.push(&p.key("scale"), name, source, false);
        }
        if let Some(h) = o.happened {
            t.push(&p.key("happened"), yes_no(h), source, false);
        }
        if let Some(d) = &o.description {
            t.push(&p.key("description"), d.clone(), source, false);
        }
    }
    if !raw.observe.is_empty() {
        t.either(
            &root.key("scenario").key("min_effective_sample_size"),
            chips(model.min_effective_sample_size),
            raw.scenario.min_effective_sample_size.is_some(),
        );
    }
    t.rows
}

#[cfg(test)]
mod tests {
    use super::super::{Model, format_number};

    #[test]
    fn numbers_are_short_and_exact() {
        for (v, text) in [
            (3.2e14, "3.2e14"),
            (1e12, "1e12"),
            (1e25, "1e25"),
            (1_000_000.0, "1e6"),
            (1_234_567.0, "1234567"),
            (100_000.0, "100000"),
            (25_000.0, "25000"),
            (12_288.0, "12288"),
            (0.35, "0.35"),
            (0.005, "0.005"),
            (5e-5, "5e-5"),
            (0.0, "0"),
            (-1.0, "-1"),
            (-2.5e7, "-2.5e7"),
        ] {
            assert_eq!(format_number(v), text, "{v}");
            assert_eq!(format_number(v).parse::<f64>().unwrap(), v, "{v} round-trips");
        }
    }

    fn rows(text: &str) -> Vec<(String, String, Option<String>, bool)> {
        let model = Model::from_text(text, "s.toml").unwrap();
        model
            .assumptions
            .into_iter()
            .map(|a| (a.key, a.value, a.source, a.default))
            .collect()
    }

    fn row<'a>(rows: &'a [(String, String, Option<String>, bool)], key: &str) -> (&'a str, bool) {
        let r = rows
            .iter()
            .find(|r| r.0 == key)
            .unwrap_or_else(|| panic!("{key} missing: {rows:#?}"));
        (r.1.as_str(), r.3)
    }

    const BASE: &str = r#"[scenario]
name = "t"
start = "2024Q1"
horizon_quarters = 8

[chips.a]
peak_flops = 3.2e14

[chips.b]
peak_flops = 1e14
domestic = false

[supply.line]
chip = "a"
orders = [{ quarter = "2024Q2", chips = 5000, source = "S1" }, { from = "2024Q3", to = "2024Q4", chips = 2000000 }]
fill_rate = { dist = "beta", alpha = 2, beta = 3, source = "S2" }

[shocks.once]
at = "2024Q3"
effects = [{ supply = "line", stop = true }]

[shocks.risk]
hazard_per_quarter = 0.1
duration_quarters = 2
effects = [{ supply = "line", fill_rate_multiplier = 0.5 }]

[fleet.b]
training = 300
source = "S3"

[allocation]
policy = "fixed_share"
training_share = 0.25

[training]
mfu = 0.4
earliest_start = "2024Q3"

[milestones.m]
target_flop = 1e24
deadline = "2025Q4"
"#;

    #[test]
    fn every_value_is_listed_with_defaults_marked() {
        let r = rows(BASE);
        assert_eq!(row(&r, "chips.a.peak_flops"), ("3.2e14", false));
        assert_eq!(row(&r, "chips.a.domestic"), ("true", true));
        assert_eq!(row(&r, "chips.b.domestic"), ("false", false));
        assert_eq!(row(&r, "chips.a.annual_failure_rate"), ("none (no failures)", true));
        assert_eq!(row(&r, "supply.line.orders[0]"), ("5000 chips in 2024Q2", false));
        assert_eq!(
            row(&r, "supply.line.orders[1]"),
            ("2e6 chips in each quarter from 2024Q3 to 2024Q4", false)
        );
        assert_eq!(row(&r, "supply.line.fill_rate"), ("beta(2, 3), once per trial", false));
        assert_eq!(row(&r, "supply.line.lead_time_quarters"), ("0", true));
        assert_eq!(row(&r, "supply.line.backlog"), ("false", true));
        assert_eq!(row(&r, "shocks.once.at"), ("2024Q3", false));
        assert_eq!(row(&r, "shocks.once.probability"), ("1", true));
        assert_eq!(row(&r, "shocks.once.duration_quarters"), ("permanent", true));
        assert_eq!(row(&r, "shocks.once.effects[0].stop"), ("true", false));
        assert_eq!(row(&r, "shocks.once.effects[0].fill_rate_multiplier"), ("1", true));
        assert_eq!(row(&r, "shocks.risk.hazard_per_quarter"), ("0.1", false));
        assert_eq!(row(&r, "shocks.risk.from"), ("2024Q1", true));
        assert_eq!(row(&r, "shocks.risk.until"), ("2025Q4", true));
        assert_eq!(row(&r, "shocks.risk.duration_quarters"), ("2", false));
        assert_eq!(row(&r, "shocks.risk.effects[0].stop"), ("false", true));
        assert_eq!(row(&r, "fleet.a.inference"), ("0", true));
        assert_eq!(row(&r, "fleet.b.inference"), ("0", true));
        assert_eq!(row(&r, "fleet.b.training"), ("300", false));
        assert_eq!(row(&r, "inference"), ("none (no inference demand)", true));
        assert_eq!(row(&r, "allocation.policy"), ("fixed_share", false));
        assert_eq!(row(&r, "allocation.training_share"), ("0.25", false));
        assert_eq!(row(&r, "training.earliest_start"), ("2024Q3", false));
        assert_eq!(row(&r, "training.min_cluster_chips"), ("1", true));
        assert_eq!(row(&r, "training.goodput"), ("1", true));
        assert_eq!(row(&r, "milestones.m.domestic_only"), ("true", true));
        let source = |key: &str| r.iter().find(|x| x.0 == key).and_then(|x| x.2.clone());
        assert_eq!(source("supply.line.orders[0]").as_deref(), Some("S1"));
        assert_eq!(source("supply.line.orders[1]"), None);
        assert_eq!(source("supply.line.fill_rate").as_deref(), Some("S2"));
        assert_eq!(source("fleet.b.training").as_deref(), Some("S3"));
        assert_eq!(source("fleet.b.inference").as_deref(), Some("S3"));
        // One row per key.
        let mut keys: Vec<&str> = r.iter().map(|x| x.0.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), r.len());
    }

    #[test]
    fn a_reserve_policy_lists_its_reserve() {
        let text = BASE.replace(
            "policy = \"fixed_share\"\ntraining_share = 0.25",
            "policy = \"training_reserve\"\nreserve_chips = 4096",
        );
        let r = rows(&text);
        assert_eq!(row(&r, "allocation.policy"), ("training_reserve", false));
        assert_eq!(row(&r, "allocation.reserve_chips"), ("4096", false));
        assert!(!r.iter().any(|x| x.0 == "allocation.training_share"));
    }

    #[test]
    fn demand_in_tokens_lists_its_keys_and_their_defaults() {
        let text = BASE.replace(
            "[allocation]",
            "[inference]\nunit_chip = \"a\"\ntokens_per_day = { p5 = 1e12, p95 = 4e12, source = \"T\" }\n\
             flop_per_token = 7.4e10\nserving_utilization = { p5 = 0.1, p95 = 0.35 }\n\n[allocation]",
        );
        let r = rows(&text);
        assert_eq!(row(&r, "inference.unit_chip"), ("a", false));
        assert_eq!(
            row(&r, "inference.tokens_per_day"),
            ("90% in [1e12, 4e12], once per trial", false)
        );
        assert_eq!(row(&r, "inference.token_growth_per_quarter"), ("0", true));
        assert_eq!(row(&r, "inference.flop_per_token"), ("7.4e10", false));
        assert_eq!(row(&r, "inference.flop_per_token_change_per_quarter"), ("0", true));
        // A fraction's 90% interval is fitted as a logit-normal, as for mfu.
        assert_eq!(
            row(&r, "inference.serving_utilization"),
            ("90% in [0.1, 0.35] (logit-normal), once per trial", false)
        );
        let source = r
            .iter()
            .find(|x| x.0 == "inference.tokens_per_day")
            .and_then(|x| x.2.clone());
        assert_eq!(source.as_deref(), Some("T"));
        assert!(
            !r.iter()
                .any(|x| x.0.contains("initial_demand_chips") || x.0.contains(".growth_per_quarter"))
        );
    }
}
