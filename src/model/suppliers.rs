//! Validation of `[suppliers]`, of the supply lines that buy from a
//! supplier and of shocks' effects on suppliers' inputs (docs/MODEL.md
//! section 5, Suppliers).

use super::limits::*;
use super::{
    Chip, ChipId, Ctx, DomesticHbm, Generation, Supplier, SupplierEffect, Tier, UncertainId, lookup, undefined,
};
use crate::error::KeyPath;
use crate::quarter::Calendar;
use crate::scenario::{RawEffect, RawScenario, RawSupply};

/// `chip = "newest"` on a line that buys from a supplier.
pub(super) const NEWEST: &str = "newest";

/// What a supply line that names a supplier buys.
pub(super) struct LineLink {
    pub supplier: usize,
    pub tier: usize,
    pub share: Option<UncertainId>,
    pub newest: bool,
    /// The generation named, or the supplier's first one for "newest".
    pub chip: Option<ChipId>,
}

/// Checks the supplier keys of a supply line: `None` for a line without
/// `supplier` (after refusing `tier` and `share` there).
pub(super) fn line_link(raw: &RawScenario, s: &RawSupply, p: &KeyPath, ctx: &mut Ctx) -> Option<LineLink> {
    let Some(name) = &s.supplier else {
        ctx.refuse(p, &[("tier", s.tier.is_some()), ("share", s.share.is_some())], |key| {
            format!("`{key}` goes with `supplier = \"<name>\"`; a line without a supplier has a `fill_rate`")
        });
        return None;
    };
    if s.fill_rate.is_some() {
        ctx.error(
            p.key("fill_rate"),
            "a line that buys from a supplier has no fill rate: it receives `share` of its tier's chips; remove `fill_rate`",
        );
    }
    let Some(si) = lookup(&raw.suppliers, name) else {
        ctx.error(p.key("supplier"), undefined("suppliers", name, &raw.suppliers));
        return Some(LineLink {
            supplier: 0,
            tier: 0,
            share: None,
            newest: false,
            chip: None,
        });
    };
    let sup = &raw.suppliers[si];
    let tier = match &s.tier {
        Some(t) => match lookup(&sup.tiers, t) {
            Some(ti) => Some(ti),
            None => {
                ctx.error(
                    p.key("tier"),
                    undefined(&format!("suppliers.{name}.tiers"), t, &sup.tiers),
                );
                None
            }
        },
        None => {
            let names: Vec<&str> = sup.tiers.keys().map(String::as_str).collect();
            ctx.error(
                p.key("tier"),
                format!(
                    "a line that buys from supplier \"{name}\" needs `tier`, one of its tiers ({})",
                    names.join(", ")
                ),
            );
            None
        }
    };
    let share = match &s.share {
        Some(r) => ctx.uncertain(p.key("share"), r, FRACTION),
        None => {
            ctx.error(
                p.key("share"),
                "a line that buys from a supplier needs `share`: the buyer's share of its tier's chips, 0 to 1",
            );
            None
        }
    };
    let newest = s.chip == NEWEST;
    let chip = if newest {
        let first = sup.generations.keys().next().and_then(|g| lookup(&raw.chips, g));
        let domestic: Vec<bool> = sup
            .generations
            .keys()
            .filter_map(|g| raw.chips.get(g))
            .map(|c| c.domestic.unwrap_or(DEFAULT_DOMESTIC))
            .collect();
        if domestic.iter().any(|&d| d != domestic[0]) {
            ctx.error(
                p.key("chip"),
                format!(
                    "\"newest\" needs the generations of supplier \"{name}\" to be all domestic or all foreign; name one generation instead"
                ),
            );
        }
        first
    } else if sup.generations.contains_key(&s.chip) {
        lookup(&raw.chips, &s.chip)
    } else {
        let names: Vec<&str> = sup.generations.keys().map(String::as_str).collect();
        ctx.error(
            p.key("chip"),
            format!(
                "supplier \"{name}\" makes no generation \"{}\"; use one of {} or \"newest\"",
                s.chip,
                names.join(", ")
            ),
        );
        None
    };
    Some(LineLink {
        supplier: si,
        tier: tier.unwrap_or(0),
        share,
        newest,
        chip,
    })
}

/// The first key of an effect that acts on a supplier only, if written.
pub(super) fn effect_key_written(e: &RawEffect) -> Option<&'static str> {
    [
        ("wafer_starts_multiplier", e.wafer_starts_multiplier.is_some()),
        ("packaging_multiplier", e.packaging_multiplier.is_some()),
        ("hbm_imports_multiplier", e.hbm_imports_multiplier.is_some()),
        ("yield_learning_multiplier", e.yield_learning_multiplier.is_some()),
        ("die_bank_multiplier", e.die_bank_multiplier.is_some()),
        ("hbm_stock_multiplier", e.hbm_stock_multiplier.is_some()),
        ("generation", e.generation.is_some()),
        ("delay_quarters", e.delay_quarters.is_some()),
        ("tier", e.tier.is_some()),
        ("priority", e.priority.is_some()),
    ]
    .into_iter()
    .find(|&(_, given)| given)
    .map(|(k, _)| k)
}

/// A shock's effect on a supplier (`supplier = name`).
pub(super) fn effect(
    raw: &RawScenario,
    e: &RawEffect,
    name: &str,
    ep: &KeyPath,
    ctx: &mut Ctx,
) -> Option<SupplierEffect> {
    ctx.refuse(
        ep,
        &[
            ("supply", e.supply.is_some()),
            ("gate", e.gate.is_some()),
            ("open", e.open.is_some()),
            ("fill_rate_multiplier", e.fill_rate_multiplier.is_some()),
            ("add_lead_time_quarters", e.add_lead_time_quarters.is_some()),
            ("stop", e.stop.is_some()),
            ("share_multiplier", e.share_multiplier.is_some()),
        ],
        |key| {
            format!(
                "`{key}` does not go with `supplier`: an effect acts on one supplier's inputs, one supply line or one gate"
            )
        },
    );
    let si = lookup(&raw.suppliers, name);
    if si.is_none() {
        ctx.error(ep.key("supplier"), undefined("suppliers", name, &raw.suppliers));
    }
    let mut m = |key: &str, r: &Option<crate::scenario::RawNumber>| {
        r.as_ref().and_then(|r| ctx.uncertain(ep.key(key), r, INPUT_MULTIPLIER))
    };
    let mut effect = SupplierEffect {
        supplier: si.unwrap_or(0),
        wafer_starts: m("wafer_starts_multiplier", &e.wafer_starts_multiplier),
        packaging: m("packaging_multiplier", &e.packaging_multiplier),
        hbm_imports: m("hbm_imports_multiplier", &e.hbm_imports_multiplier),
        yield_learning: m("yield_learning_multiplier", &e.yield_learning_multiplier),
        die_bank: m("die_bank_multiplier", &e.die_bank_multiplier),
        hbm_stock: m("hbm_stock_multiplier", &e.hbm_stock_multiplier),
        ..SupplierEffect::default()
    };
    ctx.used_once(&ep.key("die_bank_multiplier"), effect.die_bank, "when the shock starts");
    ctx.used_once(
        &ep.key("hbm_stock_multiplier"),
        effect.hbm_stock,
        "when the shock starts",
    );
    let sup = si.map(|s| &raw.suppliers[s]);
    match (&e.generation, &e.delay_quarters) {
        (Some(g), Some(d)) => {
            let gi = sup.and_then(|s| lookup(&s.generations, g));
            if let (Some(s), None) = (sup, gi) {
                ctx.error(
                    ep.key("generation"),
                    undefined(&format!("suppliers.{name}.generations"), g, &s.generations),
                );
            }
            let d = ctx.uncertain(ep.key("delay_quarters"), d, SLIP_QUARTERS);
            ctx.used_once(&ep.key("delay_quarters"), d, "when the shock starts");
            if let (Some(gi), Some(d)) = (gi, d) {
                effect.delay = Some((gi, d));
            }
        }
        (Some(_), None) => ctx.error(
            ep.key("delay_quarters"),
            "`generation` needs `delay_quarters`: the quarters the generation is delayed",
        ),
        (None, Some(_)) => ctx.error(
            ep.key("generation"),
            "`delay_quarters` needs `generation`: the generation it delays",
        ),
        (None, None) => {}
    }
    match (&e.tier, e.priority) {
        (Some(t), Some(pr)) => {
            let ti = sup.and_then(|s| lookup(&s.tiers, t));
            if let (Some(s), None) = (sup, ti) {
                ctx.error(
                    ep.key("tier"),
                    undefined(&format!("suppliers.{name}.tiers"), t, &s.tiers),
                );
            }
            if !(1..=MAX_PRIORITY).contains(&pr) {
                ctx.error(
                    ep.key("priority"),
                    format!("must be a whole number from 1 (first) to {MAX_PRIORITY}, got {pr}"),
                );
            } else if let Some(ti) = ti {
                effect.tier_priority = Some((ti, pr));
            }
        }
        (Some(_), None) => ctx.error(
            ep.key("priority"),
            "`tier` needs `priority`: the tier's priority while the shock is active",
        ),
        (None, Some(_)) => ctx.error(
            ep.key("tier"),
            "`priority` needs `tier`: the tier whose priority it sets",
        ),
        (None, None) => {}
    }
    if effect_key_written(e).is_none() {
        ctx.error(
            ep.clone(),
            "an effect on a supplier needs an input multiplier (`wafer_starts_multiplier`, `packaging_multiplier`, `hbm_imports_multiplier`, `yield_learning_multiplier`, `die_bank_multiplier`, `hbm_stock_multiplier`), `generation` with `delay_quarters`, or `tier` with `priority`",
        );
    }
    si.map(|_| effect)
}

/// A quarter "YYYYQn" as an index from the calendar's start (negative
/// before it; it may lie outside the horizon).
fn offset(ctx: &mut Ctx, path: KeyPath, text: &str, cal: &Calendar) -> Option<i64> {
    ctx.quarter(path, text).map(|q| cal.start().quarters_until(q))
}

fn ramp(ctx: &mut Ctx, path: KeyPath, given: Option<u64>) -> u64 {
    match given {
        Some(v) if !(1..=MAX_RAMP_QUARTERS).contains(&v) => {
            ctx.error(
                path,
                format!("must be a whole number of quarters from 1 to {MAX_RAMP_QUARTERS}, got {v}"),
            );
            1
        }
        Some(v) => v,
        None => 1,
    }
}

/// Builds `[suppliers]`.
pub(super) fn build(raw: &RawScenario, ctx: &mut Ctx, cal: &Calendar, chips: &[Chip]) -> Vec<Supplier> {
    let root = KeyPath::root();
    let mut suppliers = Vec::new();
    let mut made_by: Vec<Option<&str>> = vec![None; chips.len()];
    for (name, s) in &raw.suppliers {
        let p = root.key("suppliers").key(name);
        let wafer_starts = ctx.uncertain(
            p.key("wafer_starts_per_quarter"),
            &s.wafer_starts_per_quarter,
            CAPACITY_PER_QUARTER,
        );
        let opt = |ctx: &mut Ctx, key: &str, r: &Option<crate::scenario::RawNumber>, b: Bounds| {
            r.as_ref().and_then(|r| ctx.uncertain(p.key(key), r, b))
        };
        let wafer_growth = opt(
            ctx,
            "wafer_starts_growth_per_quarter",
            &s.wafer_starts_growth_per_quarter,
            GROWTH_PER_QUARTER,
        );
        let packaging = opt(
            ctx,
            "packaging_per_quarter",
            &s.packaging_per_quarter,
            CAPACITY_PER_QUARTER,
        );
        let packaging_growth = opt(
            ctx,
            "packaging_growth_per_quarter",
            &s.packaging_growth_per_quarter,
            GROWTH_PER_QUARTER,
        );
        if packaging_growth.is_some() && s.packaging_per_quarter.is_none() {
            ctx.error(
                p.key("packaging_growth_per_quarter"),
                "grows `packaging_per_quarter`, which is not given (no packaging limit); give it or remove this",
            );
        }
        let die_bank = opt(ctx, "die_bank", &s.die_bank, STOCK);
        ctx.used_once(&p.key("die_bank"), die_bank, "the stock at the start");
        let hbm_stock = opt(ctx, "hbm_stock", &s.hbm_stock, STOCK);
        ctx.used_once(&p.key("hbm_stock"), hbm_stock, "the stock at the start");
        let hbm_imports = opt(ctx, "hbm_imports_per_quarter", &s.hbm_imports_per_quarter, STOCK);
        let hbm_rate = opt(ctx, "hbm_domestic_per_quarter", &s.hbm_domestic_per_quarter, STOCK);
        let from = match &s.hbm_domestic_from {
            Some(f) => offset(ctx, p.key("hbm_domestic_from"), f, cal),
            None => None,
        };
        let delay = opt(
            ctx,
            "hbm_domestic_delay_quarters",
            &s.hbm_domestic_delay_quarters,
            SLIP_QUARTERS,
        );
        ctx.used_once(&p.key("hbm_domestic_delay_quarters"), delay, "when domestic HBM starts");
        let hbm_ramp = ramp(ctx, p.key("hbm_domestic_ramp_quarters"), s.hbm_domestic_ramp_quarters);
        if s.hbm_domestic_per_quarter.is_some() && s.hbm_domestic_from.is_none() {
            ctx.error(
                p.key("hbm_domestic_per_quarter"),
                "needs `hbm_domestic_from = \"YYYYQn\"`: the quarter domestic HBM is planned to start",
            );
        }
        if s.hbm_domestic_per_quarter.is_none() {
            ctx.refuse(
                &p,
                &[
                    ("hbm_domestic_from", s.hbm_domestic_from.is_some()),
                    ("hbm_domestic_delay_quarters", s.hbm_domestic_delay_quarters.is_some()),
                    ("hbm_domestic_ramp_quarters", s.hbm_domestic_ramp_quarters.is_some()),
                ],
                |_| {
                    "goes with `hbm_domestic_per_quarter` (the stacks a quarter at the full rate), which is not given"
                        .to_string()
                },
            );
        }
        let hbm_domestic = match (hbm_rate, from) {
            (Some(per_quarter), Some(from)) => Some(DomesticHbm {
                per_quarter,
                from,
                delay,
                ramp: hbm_ramp,
            }),
            _ => None,
        };
        let has_hbm =
            s.hbm_stock.is_some() || s.hbm_imports_per_quarter.is_some() || s.hbm_domestic_per_quarter.is_some();

        if s.generations.is_empty() {
            ctx.error(
                p.key("generations"),
                "a supplier needs at least one generation: a [suppliers.<s>.generations.<chip>] table with available, dies_per_wafer and yield_initial",
            );
        }
        let mut generations = Vec::new();
        for (chip_name, g) in &s.generations {
            let gp = p.key("generations").key(chip_name);
            let chip = lookup(&raw.chips, chip_name);
            match chip {
                None => ctx.error(gp.clone(), undefined("chips", chip_name, &raw.chips)),
                Some(c) => match made_by[c] {
                    Some(other) => ctx.error(
                        gp.clone(),
                        format!("chip type \"{chip_name}\" is already made by supplier \"{other}\"; a chip type has one supplier"),
                    ),
                    None => made_by[c] = Some(name.as_str()),
                },
            }
            let available = offset(ctx, gp.key("available"), &g.available, cal);
            let slip = g
                .slip_quarters
                .as_ref()
                .and_then(|r| ctx.uncertain(gp.key("slip_quarters"), r, SLIP_QUARTERS));
            ctx.used_once(&gp.key("slip_quarters"), slip, "when the generation starts");
            let ramp_q = ramp(ctx, gp.key("ramp_quarters"), g.ramp_quarters);
            let dpw = ctx.fixed(gp.key("dies_per_wafer"), &g.dies_per_wafer, DIES_PER_WAFER);
            let dpp = g.dies_per_package.unwrap_or(1);
            if !(1..=MAX_DIES_PER_PACKAGE).contains(&dpp) {
                ctx.error(
                    gp.key("dies_per_package"),
                    format!("must be a whole number from 1 to {MAX_DIES_PER_PACKAGE}, got {dpp}"),
                );
            }
            let stacks = g.hbm_stacks_per_package.unwrap_or(0);
            if stacks > MAX_HBM_STACKS_PER_PACKAGE {
                ctx.error(
                    gp.key("hbm_stacks_per_package"),
                    format!("must be a whole number from 0 to {MAX_HBM_STACKS_PER_PACKAGE}, got {stacks}"),
                );
            }
            if stacks > 0 && !has_hbm {
                ctx.error(
                    gp.key("hbm_stacks_per_package"),
                    format!(
                        "this generation needs HBM, but supplier \"{name}\" has none: give it `hbm_stock`, `hbm_imports_per_quarter` or `hbm_domestic_per_quarter`"
                    ),
                );
            }
            let y0 = ctx.uncertain(gp.key("yield_initial"), &g.yield_initial, FRACTION);
            let ymax = g
                .yield_max
                .as_ref()
                .and_then(|r| ctx.uncertain(gp.key("yield_max"), r, FRACTION));
            let tau = g
                .yield_time_constant_quarters
                .as_ref()
                .and_then(|r| ctx.uncertain(gp.key("yield_time_constant_quarters"), r, YIELD_TIME_CONSTANT));
            if g.die_bank == Some(true) && s.die_bank.is_none() {
                ctx.warn(
                    gp.key("die_bank"),
                    format!("supplier \"{name}\" has no `die_bank`, so this generation has no bank dies to use"),
                );
            }
            if let (Some(c), Some(available), Some(dpw), Some(y0)) = (chip, available, dpw, y0) {
                generations.push(Generation {
                    chip: c,
                    available,
                    slip,
                    ramp: ramp_q,
                    dies_per_wafer: dpw,
                    dies_per_package: dpp.clamp(1, MAX_DIES_PER_PACKAGE),
                    hbm_stacks_per_package: stacks.min(MAX_HBM_STACKS_PER_PACKAGE),
                    yield_initial: y0,
                    yield_max: ymax,
                    yield_time_constant: tau,
                    die_bank: g.die_bank.unwrap_or(false),
                });
            }
        }

        if s.tiers.is_empty() {
            ctx.error(
                p.key("tiers"),
                "a supplier needs at least one customer tier: a [suppliers.<s>.tiers.<name>] table (e.g. state, commercial)",
            );
        }
        let mut tiers = Vec::new();
        for (tier_name, t) in &s.tiers {
            let tp = p.key("tiers").key(tier_name);
            let priority = match t.priority {
                Some(v) if !(1..=MAX_PRIORITY).contains(&v) => {
                    ctx.error(
                        tp.key("priority"),
                        format!("must be a whole number from 1 (first) to {MAX_PRIORITY}, got {v}"),
                    );
                    1
                }
                Some(v) => v,
                None => 1,
            };
            let demand = t
                .demand_per_quarter
                .as_ref()
                .and_then(|r| ctx.uncertain(tp.key("demand_per_quarter"), r, TIER_DEMAND));
            let demand_growth = t
                .demand_growth_per_quarter
                .as_ref()
                .and_then(|r| ctx.uncertain(tp.key("demand_growth_per_quarter"), r, GROWTH_PER_QUARTER));
            if demand_growth.is_some() && t.demand_per_quarter.is_none() {
                ctx.error(
                    tp.key("demand_growth_per_quarter"),
                    "grows `demand_per_quarter`, which is not given (the tier takes all that is left); give it or remove this",
                );
            }
            tiers.push(Tier {
                name: tier_name.clone(),
                priority,
                demand,
                demand_growth,
            });
        }
        if s.die_bank.is_some() && !s.generations.values().any(|g| g.die_bank == Some(true)) {
            ctx.warn(
                p.key("die_bank"),
                "no generation of this supplier has `die_bank = true`, so the bank is never used",
            );
        }
        // A tier after one that takes all that is left never gets a chip.
        let mut order: Vec<(u64, usize)> = tiers.iter().enumerate().map(|(i, t)| (t.priority, i)).collect();
        order.sort_unstable();
        if let Some(k) = order.iter().position(|&(_, i)| tiers[i].demand.is_none()) {
            for &(_, i) in &order[k + 1..] {
                ctx.warn(
                    p.key("tiers").key(&tiers[i].name),
                    format!(
                        "this tier comes after tier \"{}\", which has no `demand_per_quarter` and takes all that is left, so it gets no chips unless a shock changes the order",
                        tiers[order[k].1].name
                    ),
                );
            }
        }
        if let Some(wafer_starts) = wafer_starts {
            suppliers.push(Supplier {
                name: name.clone(),
                wafer_starts,
                wafer_growth,
                packaging,
                packaging_growth,
                die_bank,
                hbm_stock,
                hbm_imports,
                hbm_domestic,
                generations,
                tiers,
            });
        }
    }
    suppliers
}
