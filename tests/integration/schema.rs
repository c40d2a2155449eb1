//! `sancsim schema`: the committed copy docs/scenario.schema.json is its
//! current output, every shipped scenario points at it and passes a real
//! JSON Schema validator (the `jsonschema` crate, draft 2020-12, on the
//! TOML read as JSON), and the validator flags what the parser refuses.

use serde_json::Value;

use crate::common::{MINIMAL, repo, run_in, shipped_scenarios, text};

const DIRECTIVE: &str = "#:schema ../docs/scenario.schema.json";

fn committed() -> Value {
    let text = std::fs::read_to_string(repo().join("docs/scenario.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&committed()).expect("the schema compiles")
}

/// A TOML file as the JSON value an editor's validator sees.
fn as_json(toml_text: &str) -> Value {
    toml::from_str(toml_text).expect("valid TOML")
}

/// The validator's errors, one line each (empty: valid).
fn schema_errors(v: &jsonschema::Validator, toml_text: &str) -> Vec<String> {
    let json = as_json(toml_text);
    v.iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Whether sancsim itself accepts the text.
fn parser_accepts(toml_text: &str) -> bool {
    sancsim::model::Model::from_text(toml_text, "t.toml").is_ok()
}

#[test]
fn committed_schema_is_the_current_output_of_sancsim_schema() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(dir.path(), &["schema"]);
    assert!(o.status.success(), "{}", text(&o));
    let committed = std::fs::read(repo().join("docs/scenario.schema.json")).unwrap();
    assert!(
        o.stdout == committed,
        "docs/scenario.schema.json is out of date: regenerate with `cargo run -- schema > docs/scenario.schema.json`"
    );
    let schema = committed_value_checked();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
}

/// The schema is itself a valid draft 2020-12 schema.
fn committed_value_checked() -> Value {
    let schema = committed();
    assert!(jsonschema::meta::is_valid(&schema), "not a valid JSON Schema");
    schema
}

#[test]
fn every_shipped_scenario_names_the_schema_and_passes_it() {
    let v = validator();
    let files = shipped_scenarios();
    assert!(files.len() >= 5, "{files:?}");
    for f in files {
        let t = std::fs::read_to_string(&f).unwrap();
        assert_eq!(t.lines().next(), Some(DIRECTIVE), "{}: first line", f.display());
        assert!(
            repo().join("scenarios").join("../docs/scenario.schema.json").exists(),
            "the directive's path resolves from scenarios/"
        );
        let errors = schema_errors(&v, &t);
        assert!(errors.is_empty(), "{}: {errors:#?}", f.display());
        assert!(parser_accepts(&t), "{}", f.display());
    }
}

#[test]
fn validator_flags_a_mistyped_key_and_a_wrong_distribution_form() {
    let v = validator();
    assert!(
        schema_errors(&v, MINIMAL).is_empty(),
        "{:?}",
        schema_errors(&v, MINIMAL)
    );

    let typo = MINIMAL.replace("peak_flops =", "peak_flop =");
    assert_ne!(typo, MINIMAL);
    let errors = schema_errors(&v, &typo);
    assert!(
        errors.iter().any(|e| e.contains("/chips/a") && e.contains("peak_flop")),
        "{errors:#?}"
    );
    assert!(!parser_accepts(&typo));

    let missing_beta = MINIMAL.replace("[training]\n", "[training]\ngoodput = { dist = \"beta\", alpha = 2 }\n");
    assert_ne!(missing_beta, MINIMAL);
    let errors = schema_errors(&v, &missing_beta);
    assert!(errors.iter().any(|e| e.starts_with("/training/goodput")), "{errors:#?}");
    assert!(!parser_accepts(&missing_beta));
    // The whole form is accepted by both.
    let beta = missing_beta.replace("alpha = 2 }", "alpha = 2, beta = 3 }");
    assert!(schema_errors(&v, &beta).is_empty(), "{:#?}", schema_errors(&v, &beta));
    assert!(parser_accepts(&beta));
}

/// Edits of the minimal scenario on which the schema and the parser must
/// agree: ranges and defaults come from the same constants, counts accept
/// whole floats, quarters the same pattern, forms the same keys.
#[test]
fn schema_and_parser_agree_on_edge_cases() {
    let v = validator();
    let cases: &[(&str, &str, bool)] = &[
        ("trials = 200", "trials = 2e2", true),
        ("trials = 200", "trials = 2.5e2", true),
        ("trials = 200", "trials = 1_000", true),
        ("trials = 200", "trials = 1e8", true),
        ("trials = 200", "trials = 1.5", false),
        ("trials = 200", "trials = 0", false),
        ("trials = 200", "trials = 100_000_001", false),
        ("trials = 200", "trials = 1e30", false),
        ("trials = 200", "trials = -1", false),
        ("chips = 1000 }", "chips = 1e12 }", true),
        ("chips = 1000 }", "chips = 1.000000000001e12 }", false),
        ("peak_flops = 1e14", "peak_flops = 1e20", true),
        ("peak_flops = 1e14", "peak_flops = 1.0000001e20", false),
        ("peak_flops = 1e14", "peak_flops = 0", false),
        ("peak_flops = 1e14", "peak_flops = { value = 0 }", false),
        (
            "peak_flops = 1e14",
            "peak_flops = { value = 1e14, source = \"x\" }",
            true,
        ),
        ("peak_flops = 1e14", "peak_flops = { p5 = 1e14, p95 = 2e14 }", false),
        ("mfu = 0.4", "mfu = 1.01", false),
        (
            "mfu = 0.4",
            "mfu = { dist = \"uniform\", low = 0.2, high = 1.2 }",
            false,
        ),
        (
            "mfu = 0.4",
            "mfu = { dist = \"pert\", min = 0.2, mode = 0.3, max = 0.6, per = \"quarter\" }",
            true,
        ),
        ("mfu = 0.4", "mfu = { p5 = 0.3, p95 = 0.5, source = \"x\" }", true),
        ("mfu = 0.4", "mfu = { dist = \"normal\", p5 = 0.3, p95 = 0.5 }", true),
        (
            "mfu = 0.4",
            "mfu = { dist = \"normal\", mean = 0.3, sd = 0.1, max = 0.9 }",
            true,
        ),
        (
            "mfu = 0.4",
            "mfu = { dist = \"normal\", mean = 0.3, sd = 0.1, mu = 1 }",
            false,
        ),
        (
            "mfu = 0.4",
            "mfu = { dist = \"lognormal\", mu = -1, sigma = 0.2 }",
            true,
        ),
        ("mfu = 0.4", "mfu = { value = 0.4, per = \"year\" }", false),
        ("mfu = 0.4", "mfu = { dist = \"gamma\", alpha = 2 }", false),
        ("start = \"2024Q1\"", "start = \"2024q1\"", true),
        ("start = \"2024Q1\"", "start = \"2024Q5\"", false),
        ("start = \"2024Q1\"", "start = \"1899Q4\"", false),
        (
            "deadline = \"2025Q2\"",
            "deadline = \"2025Q2\"\ndomestic_only = false",
            true,
        ),
    ];
    for (from, to, valid) in cases {
        assert!(MINIMAL.contains(from), "{from}");
        let t = MINIMAL.replacen(from, to, 1);
        let errors = schema_errors(&v, &t);
        assert_eq!(parser_accepts(&t), *valid, "parser on `{to}`");
        assert_eq!(errors.is_empty(), *valid, "schema on `{to}`: {errors:#?}");
    }
}

#[test]
fn schema_states_descriptions_defaults_ranges_and_forms() {
    let s = committed();
    let meta = &s["$defs"]["Meta"]["properties"];
    assert_eq!(meta["trials"]["default"], 10_000);
    assert_eq!(meta["trials"]["maximum"], 100_000_000);
    assert_eq!(meta["horizon_quarters"]["maximum"], 200);
    let supply = &s["$defs"]["Supply"]["properties"];
    assert_eq!(supply["fill_rate"]["default"], 1.0);
    assert_eq!(supply["lead_time_quarters"]["maximum"], 400.0);
    let dists: Vec<&str> = s["$defs"]["UncertainNumber"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["properties"]["dist"]["const"].as_str())
        .collect();
    for d in ["fixed", "uniform", "normal", "lognormal", "beta", "triangular", "pert"] {
        assert!(dists.contains(&d), "{d} missing from {dists:?}");
    }
    // Every key of every table has a description.
    for (name, def) in s["$defs"].as_object().unwrap() {
        for (key, prop) in def["properties"].as_object().into_iter().flatten() {
            let described = prop["description"].as_str().is_some_and(|d| d.len() > 10);
            let in_form = name.ends_with("Number");
            assert!(described || in_form, "{name}.{key} has no description");
        }
    }
}

/// `[inference]` states demand in chips or in tokens, never both: the
/// schema's `oneOf` and the parser agree on each form, their mixtures and
/// the token form's ranges.
#[test]
fn schema_and_parser_agree_on_the_two_forms_of_inference_demand() {
    let v = validator();
    let tokens = "tokens_per_day = 1e12\nflop_per_token = 7.4e10\nserving_utilization = 0.2";
    let cases: &[(&str, bool)] = &[
        ("initial_demand_chips = 100", true),
        ("initial_demand_chips = 100\ngrowth_per_quarter = 0.1", true),
        ("growth_per_quarter = 0.1", false),
        ("", false),
        (tokens, true),
        (
            "tokens_per_day = 1e12\ntoken_growth_per_quarter = 0.5\nflop_per_token = 7.4e10\n\
             flop_per_token_change_per_quarter = -0.2\nserving_utilization = { dist = \"beta\", alpha = 2, beta = 5 }",
            true,
        ),
        ("tokens_per_day = 1e12\nflop_per_token = 7.4e10", false),
        ("tokens_per_day = 1e12\nserving_utilization = 0.2", false),
        ("flop_per_token = 7.4e10\nserving_utilization = 0.2", false),
        ("token_growth_per_quarter = 0.5\ninitial_demand_chips = 100", false),
        (&format!("{tokens}\ninitial_demand_chips = 100"), false),
        (&format!("{tokens}\ngrowth_per_quarter = 0.1"), false),
        (&tokens.replace("= 0.2", "= 1"), true),
        (&tokens.replace("= 0.2", "= 0"), false),
        (&tokens.replace("= 0.2", "= 1.01"), false),
        (
            &tokens.replace("= 0.2", "= { dist = \"uniform\", low = 0, high = 0.5 }"),
            false,
        ),
        (
            &tokens.replace("= 0.2", "= { dist = \"uniform\", low = 0.05, high = 0.5 }"),
            true,
        ),
        (&tokens.replace("= 1e12", "= 0"), false),
        (&tokens.replace("= 1e12", "= 1e18"), true),
        (&tokens.replace("= 7.4e10", "= 1.1e18"), false),
        (&format!("{tokens}\nflop_per_token_change_per_quarter = -0.99"), true),
        (&format!("{tokens}\nflop_per_token_change_per_quarter = -1"), false),
        (&format!("{tokens}\ntoken_growth_per_quarter = -1"), true),
    ];
    for (demand, valid) in cases {
        let t = format!("{MINIMAL}\n[inference]\nunit_chip = \"a\"\n{demand}\n");
        let errors = schema_errors(&v, &t);
        assert_eq!(parser_accepts(&t), *valid, "parser on `{demand}`");
        assert_eq!(errors.is_empty(), *valid, "schema on `{demand}`: {errors:#?}");
    }
}
