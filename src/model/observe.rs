//! Validation of the `[[observe]]` tables (docs/MODEL.md section 11).

use super::{Ctx, Gate, Milestone, Per, Shock, SupplyLine, undefined};
use crate::error::{KeyPath, closest};
use crate::evidence::{Observation, Quantity, Strength, Subject, Test, Window};
use crate::quarter::Calendar;
use crate::scenario::{RawObserve, RawScale, RawScenario};

/// Every `[[observe]]` table, validated; errors and warnings go to `ctx`.
/// An observation with an error is left out (the model is not built then).
pub(super) fn observations(
    raw: &RawScenario,
    ctx: &mut Ctx,
    cal: &Calendar,
    supply: &[SupplyLine],
    shocks: &[Shock],
    gates: &[Gate],
    milestones: &[Milestone],
) -> Vec<Observation> {
    let mut out = Vec::new();
    for (i, o) in raw.observe.iter().enumerate() {
        let p = KeyPath::root().key("observe").index(i);
        if let Some(obs) = observation(raw, ctx, cal, supply, shocks, gates, milestones, o, &p) {
            out.push(obs);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn observation(
    raw: &RawScenario,
    ctx: &mut Ctx,
    cal: &Calendar,
    supply: &[SupplyLine],
    shocks: &[Shock],
    gates: &[Gate],
    milestones: &[Milestone],
    o: &RawObserve,
    p: &KeyPath,
) -> Option<Observation> {
    let errors = ctx.errors.len();
    let quantity = o.quantity;
    let qname = quantity.name();

    // The name.
    if o.name.is_empty() || !o.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        ctx.error(
            p.key("name"),
            format!("\"{}\" is not a valid name: use letters, digits and `_`", o.name),
        );
    } else if raw
        .observe
        .iter()
        .take_while(|x| !std::ptr::eq(*x, o))
        .any(|x| x.name == o.name)
    {
        ctx.error(
            p.key("name"),
            format!("\"{}\" names another observation already; names are unique", o.name),
        );
    }

    // Which keys name a subject, and which the quantity takes.
    let named: [(&str, bool); 7] = [
        ("supplier", o.supplier.is_some()),
        ("line", o.line.is_some()),
        ("chip", o.chip.is_some()),
        ("shock", o.shock.is_some()),
        ("milestone", o.milestone.is_some()),
        ("gate", o.gate.is_some()),
        ("key", o.key.is_some()),
    ];
    let allowed: &[&str] = match quantity {
        Quantity::DeliveredChips => &["line", "chip"],
        Quantity::TrainingChips | Quantity::InferenceChips => &["chip"],
        Quantity::TrainingFlop
        | Quantity::TrainingFlopDomestic
        | Quantity::LargestRunFlop
        | Quantity::LargestRunFlopDomestic
        | Quantity::TrainingStarted => &[],
        Quantity::Shock => &["shock"],
        Quantity::Milestone => &["milestone"],
        Quantity::GateOpen => &["gate"],
        Quantity::Input => &["key"],
        Quantity::SupplierOutput => &["supplier", "chip"],
    };
    for (key, given) in named {
        if given && !allowed.contains(&key) {
            let takes = if allowed.is_empty() {
                "no subject key".to_string()
            } else {
                allowed
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            };
            ctx.error(
                p.key(key),
                format!("`{key}` does not apply to quantity \"{qname}\", which takes {takes}"),
            );
        }
    }
    if o.line.is_some() && o.chip.is_some() {
        ctx.error(p.key("chip"), "give `line` or `chip`, not both");
    }
    let mut subject = Subject::Total;
    if let Some(line) = &o.line {
        match supply.iter().position(|l| &l.name == line) {
            Some(l) => subject = Subject::Line(l),
            None => ctx.error(p.key("line"), undefined("supply", line, &raw.supply)),
        }
    }
    if let (Quantity::SupplierOutput, Some(_)) = (quantity, &o.chip) {
        // A generation of the supplier, resolved below.
    } else if let Some(chip) = &o.chip {
        match raw.chips.get_index_of(chip) {
            Some(c) => subject = Subject::Chip(c),
            None => ctx.error(p.key("chip"), undefined("chips", chip, &raw.chips)),
        }
    }
    let need = |ctx: &mut Ctx, key: &str, what: &str| {
        ctx.error(p.clone(), format!("quantity \"{qname}\" needs `{key}` ({what})"));
    };
    match quantity {
        Quantity::Shock => match &o.shock {
            None => need(ctx, "shock", "the name of a [shocks.<name>] table"),
            Some(name) => match shocks.iter().position(|s| &s.name == name) {
                Some(s) => subject = Subject::Shock(s),
                None => ctx.error(p.key("shock"), undefined("shocks", name, &raw.shocks)),
            },
        },
        Quantity::Milestone => match &o.milestone {
            None => need(ctx, "milestone", "the name of a [milestones.<name>] table"),
            Some(name) => match milestones.iter().position(|m| &m.name == name) {
                Some(k) => subject = Subject::Milestone(k),
                None => ctx.error(p.key("milestone"), undefined("milestones", name, &raw.milestones)),
            },
        },
        Quantity::SupplierOutput => match &o.supplier {
            None => need(ctx, "supplier", "the name of a [suppliers.<name>] table"),
            Some(name) => match raw.suppliers.get_index_of(name) {
                Some(s) => {
                    let generations = &raw.suppliers[s].generations;
                    let g = match &o.chip {
                        None => None,
                        Some(chip) => match generations.get_index_of(chip) {
                            Some(g) => Some(g),
                            None => {
                                let made: Vec<&str> = generations.keys().map(String::as_str).collect();
                                ctx.error(
                                    p.key("chip"),
                                    format!(
                                        "supplier \"{name}\" makes no generation \"{chip}\"; it makes {}",
                                        made.join(", ")
                                    ),
                                );
                                None
                            }
                        },
                    };
                    subject = Subject::Supplier(s, g);
                }
                None => ctx.error(p.key("supplier"), undefined("suppliers", name, &raw.suppliers)),
            },
        },
        Quantity::GateOpen => match &o.gate {
            None => need(ctx, "gate", "the name of a [gates.<name>] table"),
            Some(name) => match gates.iter().position(|g| &g.name == name) {
                Some(g) => subject = Subject::Gate(g),
                None => ctx.error(p.key("gate"), undefined("gates", name, &raw.gates)),
            },
        },
        Quantity::Input => match &o.key {
            None => need(
                ctx,
                "key",
                "the key path of an uncertain number, such as \"training.mfu\"",
            ),
            Some(key) => match ctx.uncertain.iter().position(|u| &u.key == key) {
                Some(id) => subject = Subject::Input(id),
                None => {
                    let hint = closest(key, ctx.uncertain.iter().map(|u| u.key.as_str()))
                        .map(|c| format!("; did you mean \"{c}\"?"))
                        .unwrap_or_default();
                    ctx.error(
                        p.key("key"),
                        format!("`{key}` is not a number written in this file (give the key path of one, such as \"training.mfu\"){hint}"),
                    );
                }
            },
        },
        _ => {}
    }

    // When.
    let by =
        o.by.as_ref()
            .and_then(|t| ctx.quarter_index(p.key("by"), t, cal, "quarter"));
    let from = o
        .from
        .as_ref()
        .and_then(|t| ctx.quarter_index(p.key("from"), t, cal, "quarter"));
    let to =
        o.to.as_ref()
            .and_then(|t| ctx.quarter_index(p.key("to"), t, cal, "quarter"));
    if o.by.is_some() && (o.from.is_some() || o.to.is_some()) {
        ctx.error(p.key("by"), "give `by` or `from` and `to`, not both");
    }
    if o.from.is_some() != o.to.is_some() {
        let missing = if o.from.is_some() { "to" } else { "from" };
        ctx.error(
            p.clone(),
            format!("a window needs both `from` and `to`; `{missing}` is missing"),
        );
    }
    if let (Some(a), Some(b)) = (from, to) {
        if a > b {
            ctx.error(p.key("to"), format!("must not be before `from` ({})", cal.quarter(a)));
        }
    }
    let window = match (by, from, to) {
        (Some(q), ..) => Window::By(q),
        (None, Some(a), Some(b)) => Window::Between(a, b),
        _ => Window::Always,
    };
    let has_when = o.by.is_some() || o.from.is_some() || o.to.is_some();
    if let Subject::Input(id) = subject {
        let per_quarter = ctx.uncertain[id].per == Per::Quarter;
        if o.from.is_some() || o.to.is_some() {
            ctx.error(
                p.key(if o.from.is_some() { "from" } else { "to" }),
                "an input's value is observed in one quarter (`by`), not over a window",
            );
        } else if per_quarter && o.by.is_none() {
            ctx.error(
                p.clone(),
                format!(
                    "`{}` is drawn per quarter: say in which quarter its value was observed with `by = \"YYYYQn\"`",
                    ctx.uncertain[id].key
                ),
            );
        } else if !per_quarter && o.by.is_some() {
            ctx.error(
                p.key("by"),
                format!(
                    "`{}` is drawn once per trial, so it has one value: leave out `by`",
                    ctx.uncertain[id].key
                ),
            );
        }
    } else if quantity == Quantity::Input {
        // The key was not found (already reported): nothing to say of when.
    } else if !quantity.is_event() {
        if !has_when {
            ctx.error(
                p.clone(),
                format!("quantity \"{qname}\" needs `by = \"YYYYQn\"` (its value at the end of that quarter) or `from` and `to` (what was added within them)"),
            );
        } else if !quantity.is_cumulative() && (o.from.is_some() || o.to.is_some()) {
            ctx.error(
                p.key(if o.from.is_some() { "from" } else { "to" }),
                format!(
                    "\"{qname}\" is not cumulative, so a window has no meaning: observe it `by` the end of a quarter"
                ),
            );
        }
    }

    // What was seen, and how sure.
    let value_keys = [
        ("at_least", o.at_least.is_some()),
        ("below", o.below.is_some()),
        ("value", o.value.is_some()),
        ("sd", o.sd.is_some()),
        ("scale", o.scale.is_some()),
    ];
    for (key, v) in [("at_least", o.at_least), ("below", o.below), ("value", o.value)] {
        if let Some(v) = v {
            if !v.is_finite() {
                ctx.error(p.key(key), format!("must be a finite number, got {v}"));
            }
        }
    }
    let test = if quantity.is_event() {
        for (key, given) in value_keys {
            if given {
                ctx.error(
                    p.key(key),
                    format!("`{key}` is for values; \"{qname}\" is an event: write `happened = true` or `false`"),
                );
            }
        }
        match o.happened {
            Some(h) => Some(Test::Happened(h)),
            None => {
                need(ctx, "happened", "true or false");
                None
            }
        }
    } else {
        if o.happened.is_some() {
            ctx.error(
                p.key("happened"),
                format!(
                    "`happened` is for events; \"{qname}\" is a value: write `at_least`, `below`, or `value` with `sd`"
                ),
            );
        }
        match (o.at_least, o.below, o.value) {
            (_, _, Some(_)) if o.at_least.is_some() || o.below.is_some() => {
                ctx.error(
                    p.key("value"),
                    "give `value` (with `sd`) or the bounds `at_least`/`below`, not both",
                );
                None
            }
            (_, _, Some(v)) => {
                if o.sd.is_none() {
                    ctx.error(
                        p.key("value"),
                        "a measured `value` needs `sd`, its measurement error (an exact value would reject every trial); or give a range with `at_least` and `below`",
                    );
                }
                Some(Test::Near(v))
            }
            (None, None, None) => {
                ctx.error(
                    p.clone(),
                    "a value observation needs `at_least`, `below` (or both), or `value` with `sd`",
                );
                None
            }
            (lo, hi, None) => {
                if let (Some(a), Some(b)) = (lo, hi) {
                    if a >= b {
                        ctx.error(
                            p.key("below"),
                            format!("must be greater than `at_least` ({a}), got {b}"),
                        );
                    }
                }
                Some(Test::Range {
                    at_least: lo.unwrap_or(f64::NEG_INFINITY),
                    below: hi.unwrap_or(f64::INFINITY),
                })
            }
        }
    };
    if o.sd.is_some() && o.confidence.is_some() {
        ctx.error(p.key("confidence"), "give `sd` or `confidence`, not both");
    }
    if o.scale.is_some() && o.sd.is_none() {
        ctx.error(p.key("scale"), "`scale` says what `sd` is measured in; it needs `sd`");
    }
    let log10 = o.scale == Some(RawScale::Log10);
    if log10 {
        for (key, v) in [("at_least", o.at_least), ("below", o.below), ("value", o.value)] {
            if v.is_some_and(|v| v <= 0.0) {
                ctx.error(
                    p.key(key),
                    format!(
                        "with `scale = \"log10\"` the bounds and value must be above 0, got {}",
                        v.unwrap_or(0.0)
                    ),
                );
            }
        }
    }
    let strength = match (o.sd, o.confidence) {
        (Some(sd), _) => {
            if !(sd.is_finite() && sd > 0.0) {
                ctx.error(p.key("sd"), format!("must be a finite number above 0, got {sd}"));
            }
            if quantity.is_event() {
                ctx.error(
                    p.key("sd"),
                    "`sd` is a measurement error of a value; an event is soft with `confidence`",
                );
            }
            Strength::Sd { sd, log10 }
        }
        (None, Some(c)) => {
            if !(c > 0.5 && c < 1.0) {
                ctx.error(
                    p.key("confidence"),
                    format!("must be above 0.5 and below 1 (the chance the observation is right; leave it out for a hard observation), got {c}"),
                );
            }
            Strength::Confidence(c)
        }
        (None, None) => Strength::Hard,
    };
    if ctx.errors.len() > errors {
        return None;
    }
    Some(Observation {
        name: o.name.clone(),
        quantity,
        subject,
        window,
        test: test?,
        strength,
        description: o.description.clone(),
        source: o.source.clone(),
    })
}
