//! `sancsim schema`: the JSON Schema (draft 2020-12) of scenario files,
//! generated from the serde types that parse them ([`crate::scenario`],
//! with `schemars`) and the limits validation checks
//! ([`crate::model::limits`]), for editor completion and for checking files
//! in other tools. docs/scenario.schema.json is a copy, kept current by a
//! test.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use crate::model::limits::Bounds;
use crate::scenario::{RawNumber, RawScenario};

/// The schema as pretty-printed JSON, ending in a newline.
pub fn json() -> String {
    let generator = SchemaGenerator::new(SchemaSettings::draft2020_12());
    let schema = generator.into_root_schema_for::<RawScenario>();
    let mut value = schema.to_value();
    tidy(&mut value);
    // Serializing a `Value` cannot fail.
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// TOML has no null: an optional key is absent, never null, so the `null`
/// that `schemars` allows (and gives as the default) for every `Option` is
/// taken out again. Descriptions become one line each, as editors show them.
fn tidy(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            if obj.get("default") == Some(&Value::Null) {
                obj.remove("default");
            }
            if let Some(Value::String(d)) = obj.get_mut("description") {
                *d = d.replace('\n', " ");
            }
            if let Some(Value::Array(types)) = obj.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    obj.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(options)) = obj.get_mut("anyOf") {
                options.retain(|o| o != &json!({ "type": "null" }));
                if options.len() == 1 {
                    let only = options.remove(0);
                    obj.remove("anyOf");
                    if let Value::Object(inner) = only {
                        for (k, v) in inner {
                            obj.entry(k).or_insert(v);
                        }
                    }
                }
            }
            obj.values_mut().for_each(tidy);
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// A transform that states a key's valid range: on the plain number, and
/// on the parameters of the table forms that must lie inside it (a fixed
/// `value`; the ends of a uniform, triangular or PERT; a normal's
/// truncation). The range of draws of an unbounded distribution is only
/// described: validation asks that it overlaps the range.
pub fn bounds(b: Bounds) -> impl FnMut(&mut Schema) {
    move |schema: &mut Schema| {
        let mut range = Map::new();
        if b.min_exclusive {
            range.insert("exclusiveMinimum".into(), json!(b.min));
        } else {
            range.insert("minimum".into(), json!(b.min));
        }
        range.insert("maximum".into(), json!(b.max));
        for (k, v) in &range {
            schema.insert(k.clone(), v.clone());
        }
        let params: Map<String, Value> = ["value", "low", "high", "min", "mode", "max"]
            .iter()
            .map(|p| (p.to_string(), Value::Object(range.clone())))
            .collect();
        schema.insert("properties".into(), Value::Object(params));
    }
}

/// Keys of every table form of a number, besides its parameters.
fn common(per: bool) -> Map<String, Value> {
    let mut m = Map::new();
    if per {
        m.insert(
            "per".into(),
            json!({
                "description": "When the number is drawn: once per trial (a structural unknown) or afresh each quarter (noise).",
                "enum": ["trial", "quarter"],
                "default": "trial"
            }),
        );
    }
    m.insert(
        "source".into(),
        json!({
            "description": "Where the figure comes from; echoed in the outputs.",
            "type": "string"
        }),
    );
    m
}

/// One table form: `dist` (a const, or absent), its parameters (name,
/// description, required) and the common keys.
fn form(title: &str, dist: Option<&str>, params: &[(&str, &str, bool)], per: bool) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    if let Some(d) = dist {
        props.insert("dist".into(), json!({ "const": d }));
        required.push(json!("dist"));
    }
    for (name, description, needed) in params {
        props.insert(
            name.to_string(),
            json!({ "description": description, "type": "number" }),
        );
        if *needed {
            required.push(json!(name));
        }
    }
    props.extend(common(per));
    json!({
        "title": title,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false
    })
}

const PLAIN: &str = "A plain number.";
const VALUE: (&str, &str, bool) = ("value", "The value.", true);
const P5: (&str, &str, bool) = ("p5", "5th percentile.", true);
const P95: (&str, &str, bool) = ("p95", "95th percentile, above p5.", true);

/// The forms of a fixed number: plain, or `{ value }` with an optional
/// `source` (no `per`: it is never drawn).
fn fixed_forms() -> Vec<Value> {
    vec![
        json!({ "title": PLAIN, "type": "number" }),
        form("A fixed value with its source.", None, &[VALUE], false),
        form("A fixed value.", Some("fixed"), &[VALUE], false),
    ]
}

/// A number that must be fixed: plain (`3.2e14`) or `{ value, source }`.
pub struct FixedNumber;

impl JsonSchema for FixedNumber {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FixedNumber".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A fixed number: plain (0.35) or a table { value = 0.35, source = \"...\" }.",
            "oneOf": fixed_forms()
        })
    }
}

/// An uncertain number: plain, or a table naming a distribution (docs/MODEL.md
/// section 3), each form with its own parameters.
impl JsonSchema for RawNumber {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "UncertainNumber".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut forms = fixed_forms();
        // An uncertain number's fixed table may carry `per` (it has no effect).
        forms[1] = form("A fixed value with its source.", None, &[VALUE], true);
        forms[2] = form("A fixed value.", Some("fixed"), &[VALUE], true);
        forms.extend([
            form(
                "Uniform on [low, high).",
                Some("uniform"),
                &[("low", "Lower end.", true), ("high", "Upper end, above low.", true)],
                true,
            ),
            form(
                "Normal, truncated to [min, max] where given.",
                Some("normal"),
                &[
                    ("mean", "Mean.", true),
                    ("sd", "Standard deviation, above 0.", true),
                    ("min", "Lower end of the truncation (optional).", false),
                    ("max", "Upper end of the truncation (optional), above min.", false),
                ],
                true,
            ),
            form(
                "Normal with 90% of its draws between p5 and p95.",
                Some("normal"),
                &[P5, P95],
                true,
            ),
            form(
                "Lognormal: exp(N(mu, sigma^2)).",
                Some("lognormal"),
                &[
                    ("mu", "Mean of the logarithm.", true),
                    ("sigma", "Standard deviation of the logarithm, above 0.", true),
                ],
                true,
            ),
            form(
                "Lognormal with 90% of its draws between p5 and p95 (p5 above 0).",
                Some("lognormal"),
                &[P5, P95],
                true,
            ),
            form(
                "Beta on [0, 1].",
                Some("beta"),
                &[
                    ("alpha", "First shape, above 0.", true),
                    ("beta", "Second shape, above 0.", true),
                ],
                true,
            ),
            form(
                "Triangular on [min, max] with its peak at mode.",
                Some("triangular"),
                &[
                    ("min", "Lower end.", true),
                    ("mode", "Most likely value, from min to max.", true),
                    ("max", "Upper end, above min.", true),
                ],
                true,
            ),
            form(
                "PERT (a scaled Beta) on [min, max] with its peak at mode.",
                Some("pert"),
                &[
                    ("min", "Lower end.", true),
                    ("mode", "Most likely value, from min to max.", true),
                    ("max", "Upper end, above min.", true),
                ],
                true,
            ),
            form(
                "A 90% interval: lognormal when p5 > 0, otherwise normal.",
                None,
                &[P5, P95],
                true,
            ),
            form("A 90% interval, as { p5, p95 }.", Some("interval"), &[P5, P95], true),
        ]);
        json_schema!({
            "description": "An uncertain number: plain (0.35), or a table giving a distribution, such as { dist = \"beta\", alpha = 2, beta = 3 }, { dist = \"pert\", min = 0.2, mode = 0.33, max = 0.6 } or a 90% interval { p5 = 0.25, p95 = 0.5 }, each with optional per and source. Draws are clamped to the key's range; a bounded distribution must lie inside it, an unbounded one overlap it.",
            "oneOf": forms
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quarter::{QUARTER_PATTERN, Quarter};

    #[test]
    fn quarter_pattern_accepts_exactly_what_quarter_parse_accepts() {
        let v = jsonschema::draft202012::new(&json!({ "type": "string", "pattern": QUARTER_PATTERN })).unwrap();
        let mut texts: Vec<String> = Vec::new();
        for year in (1890..2210).chain([0, 999, 9999]) {
            for q in ["Q", "q", "x", ""] {
                for d in 0..=5 {
                    texts.push(format!("{year:04}{q}{d}"));
                }
            }
        }
        texts.extend(["2024Q1 ", " 2024Q1", "+2024Q1", "02024Q1", "2024Q01", "2024Q1\n"].map(String::from));
        for t in texts {
            assert_eq!(v.is_valid(&json!(t)), Quarter::parse(&t).is_ok(), "{t:?}");
        }
    }

    #[test]
    fn bounds_state_the_range_on_the_number_and_its_parameters() {
        let mut s = json_schema!({ "$ref": "#/$defs/UncertainNumber" });
        bounds(crate::model::limits::PEAK_FLOPS)(&mut s);
        assert_eq!(s.get("exclusiveMinimum"), Some(&json!(0.0)));
        assert_eq!(s.get("maximum"), Some(&json!(1e20)));
        assert_eq!(s.get("minimum"), None);
        assert_eq!(s.get("properties").unwrap()["value"]["maximum"], json!(1e20));
    }
}
