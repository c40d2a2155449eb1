//! `--set KEY.PATH=VALUE`: what-if edits of a scenario without copying the
//! file. Each override edits the file's TOML text (with `toml_edit`, which
//! keeps every other byte as written) and the result goes through the same
//! parse and validation as any file. Problems inside an overridden value
//! are reported against the `--set` argument, all others at their line in
//! the file as written.

use std::fmt;

use toml_edit::{DocumentMut, Item, Table, TableLike, Value};

use crate::error::{Error, KeyPath, ScenarioError, Seg, closest};
use crate::model::Model;

/// Top-level tables whose keys are names chosen in the file
/// (`[supply.<name>]`): `--set` edits existing entries, never adds one.
const NAMED_TABLES: [&str; 5] = ["chips", "supply", "shocks", "fleet", "milestones"];
/// Top-level tables `--set` may create when the file has none.
const CREATABLE_TABLES: [&str; 4] = ["scenario", "inference", "allocation", "training"];
/// Every top-level key of a scenario.
const TOP_LEVEL: [&str; 10] = [
    "scenario",
    "chips",
    "supply",
    "shocks",
    "fleet",
    "inference",
    "allocation",
    "training",
    "milestones",
    "expect",
];
/// Characters that keep a value that is not valid TOML from being read as
/// an unquoted string.
const NOT_BARE: &[char] = &['"', '\'', '{', '}', '[', ']', '=', '#', '\\'];

/// One `--set KEY.PATH=VALUE`.
#[derive(Debug, Clone)]
pub struct Override {
    /// The argument as typed (names the override in error messages).
    pub arg: String,
    /// Where the value goes.
    pub path: KeyPath,
    /// The value, as TOML.
    pub value: Value,
}

impl fmt::Display for Override {
    /// The canonical form `key.path=value`, with the value as TOML (an
    /// unquoted string is shown quoted): what outputs record, and itself a
    /// valid `--set` argument.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

impl Override {
    /// Parses `KEY.PATH=VALUE`. The path is keys separated by dots (bare,
    /// or in double quotes), each optionally followed by `[N]` array
    /// indices. The value is a TOML value; one that is not valid TOML and
    /// holds none of `" ' { } [ ] = # \` is taken as a string as typed
    /// (`2025Q2`, `fixed_share`).
    pub fn parse(arg: &str) -> Result<Override, Error> {
        let usage = |m: String| Error::Usage(format!("--set {arg}: {m}"));
        let Some((key, text)) = arg.split_once('=') else {
            return Err(usage("expected KEY.PATH=VALUE, e.g. --set training.mfu=0.45".into()));
        };
        let path = parse_path(key.trim()).map_err(usage)?;
        let text = text.trim();
        if text.is_empty() {
            return Err(usage(
                "no value after `=`; to set a string to empty, write `\"\"`".into(),
            ));
        }
        let value = match text.parse::<Value>() {
            Ok(v) => v,
            Err(_) if !text.contains(NOT_BARE) && !text.chars().any(char::is_control) => Value::from(text),
            Err(e) => {
                return Err(Error::Scenario(vec![ScenarioError {
                    file: format!("--set {arg}"),
                    line: None,
                    column: None,
                    key_path: path,
                    message: format!(
                        "not a TOML value ({}); write a number, true or false, a string, or an inline table such as {{ dist = \"beta\", mean = 0.6, sd = 0.15 }}",
                        e.message().trim()
                    ),
                }]));
            }
        };
        let mut value = value;
        value.decor_mut().clear();
        Ok(Override {
            arg: arg.to_string(),
            path,
            value,
        })
    }
}

/// Parses `a.b[0]."c d".e` into a key path.
fn parse_path(key: &str) -> Result<KeyPath, String> {
    let bad = |why: &str| {
        format!(
            "`{key}` is not a key path ({why}); write keys separated by dots, with [N] for an array entry, e.g. supply.line.orders[0].chips"
        )
    };
    let mut segs = Vec::new();
    let mut rest = key;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').ok_or_else(|| bad("a quote is not closed"))?;
            segs.push(Seg::Key(quoted[..end].to_string()));
            rest = &quoted[end + 1..];
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len());
            if end == 0 {
                return Err(bad("an empty key"));
            }
            segs.push(Seg::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']').ok_or_else(|| bad("a `[` is not closed"))?;
            let index = inner[..end]
                .trim()
                .parse::<usize>()
                .map_err(|_| bad("an index is not a whole number"))?;
            segs.push(Seg::Index(index));
            rest = &inner[end + 1..];
        }
        if rest.is_empty() {
            return Ok(KeyPath(segs));
        }
        rest = rest.strip_prefix('.').ok_or_else(|| bad("unexpected character"))?;
    }
}

/// A node of the document being walked: a table's item, a value inside an
/// array or inline table, or a table of an array of tables.
enum Node<'a> {
    Item(&'a mut Item),
    Value(&'a mut Value),
    Table(&'a mut Table),
}

impl<'a> Node<'a> {
    fn table_like(self) -> Option<&'a mut dyn TableLike> {
        match self {
            Node::Item(i) => i.as_table_like_mut(),
            Node::Value(v) => v.as_inline_table_mut().map(|t| t as &mut dyn TableLike),
            Node::Table(t) => Some(t),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Node::Item(Item::Value(v)) => v.type_name(),
            Node::Value(v) => v.type_name(),
            Node::Item(i) => i.type_name(),
            Node::Table(_) => "table",
        }
    }
}

/// Puts `value` at `rest` below `node` (at `here`). The error is a key path
/// and a message.
fn set_in(node: Node<'_>, here: &KeyPath, rest: &[Seg], value: Value) -> Result<(), (KeyPath, String)> {
    let Some((seg, deeper)) = rest.split_first() else {
        return Ok(());
    };
    match seg {
        Seg::Key(k) => {
            let what = node.type_name();
            let next = here.key(k);
            let Some(table) = node.table_like() else {
                return Err((
                    here.clone(),
                    format!("is a {what}, not a table, so it has no `{k}` to set"),
                ));
            };
            if deeper.is_empty() {
                match table.get_mut(k) {
                    Some(Item::Value(old)) => {
                        let decor = old.decor().clone();
                        *old = value;
                        *old.decor_mut() = decor;
                    }
                    Some(other) => *other = Item::Value(value),
                    None => {
                        // A new chip type, supply line, shock or milestone
                        // is not an override: a mistyped name would add one
                        // silently instead of suggesting the existing one.
                        if matches!(here.0.as_slice(), [Seg::Key(top)] if NAMED_TABLES.contains(&top.as_str())) {
                            missing(table, here, k)?;
                        }
                        table.insert(k, Item::Value(value));
                    }
                }
                return Ok(());
            }
            if !table.contains_key(k) {
                missing(table, here, k)?;
                table.insert(k, Item::Table(Table::new()));
            }
            let item = table
                .get_mut(k)
                .ok_or_else(|| (next.clone(), "cannot be set".to_string()))?;
            set_in(Node::Item(item), &next, deeper, value)
        }
        Seg::Index(i) => {
            let next = here.index(*i);
            let what = node.type_name();
            let not_array = || {
                (
                    here.clone(),
                    format!("is a {what}, not an array, so it has no entry [{i}]"),
                )
            };
            let out_of_range = |n: usize| {
                let has = match n {
                    0 => "no entries".to_string(),
                    1 => "1 entry, [0]".to_string(),
                    n => format!("{n} entries, [0] to [{}]", n - 1),
                };
                (
                    here.clone(),
                    format!("has {has}: no [{i}] to set (--set changes entries, it does not add them)"),
                )
            };
            let child = match node {
                Node::Item(Item::ArrayOfTables(a)) => {
                    let n = a.len();
                    if deeper.is_empty() {
                        return Err((
                            next,
                            "is a [[table]]: set its keys one by one, e.g. `expect[0].min_probability=0.5`".into(),
                        ));
                    }
                    Node::Table(a.get_mut(*i).ok_or_else(|| out_of_range(n))?)
                }
                Node::Item(Item::Value(Value::Array(a))) | Node::Value(Value::Array(a)) => {
                    let n = a.len();
                    let element = a.get_mut(*i).ok_or_else(|| out_of_range(n))?;
                    if deeper.is_empty() {
                        let decor = element.decor().clone();
                        *element = value;
                        *element.decor_mut() = decor;
                        return Ok(());
                    }
                    Node::Value(element)
                }
                _ => return Err(not_array()),
            };
            set_in(child, &next, deeper, value)
        }
    }
}

/// Whether `here.k`, missing from the file, may be created on the way to a
/// deeper key: only the top-level tables with fixed keys. The error names
/// the closest existing name.
fn missing(table: &dyn TableLike, here: &KeyPath, k: &str) -> Result<(), (KeyPath, String)> {
    let next = here.key(k);
    let existing: Vec<&str> = table.iter().map(|(name, _)| name).collect();
    match here.0.as_slice() {
        [] if CREATABLE_TABLES.contains(&k) => Ok(()),
        [] if TOP_LEVEL.contains(&k) => Err((next, format!("the file has no [{k}] table to set a key in"))),
        [] => {
            let hint = closest(k, TOP_LEVEL)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            Err((
                next,
                format!("unknown table `{k}` (valid: {}){hint}", TOP_LEVEL.join(", ")),
            ))
        }
        [Seg::Key(top)] if NAMED_TABLES.contains(&top.as_str()) => {
            let hint = closest(k, existing.iter().copied())
                .map(|c| format!("; did you mean `{top}.{c}`?"))
                .unwrap_or_default();
            let defined = if existing.is_empty() {
                "none".to_string()
            } else {
                existing.join(", ")
            };
            Err((
                next,
                format!("the file has no [{top}.{k}] table (defined: {defined}){hint}"),
            ))
        }
        _ => Err((
            next.clone(),
            format!("is not in the file, so no key inside it can be set; set `{next}` as a whole"),
        )),
    }
}

/// A scenario's text with overrides applied, and where its lines were in
/// the file.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The text after every override.
    pub text: String,
    /// For each line of `text` (from 0), its line in the file (from 0), or
    /// `None` for a line an override wrote or changed.
    pub lines: Vec<Option<usize>>,
}

/// Applies `sets`, in order (a later one wins), to the file's `text`.
pub fn apply(text: &str, file: &str, sets: &[Override]) -> Result<Applied, Error> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(body) => ("\u{feff}", body),
        None => ("", text),
    };
    let mut doc: DocumentMut = match body.parse() {
        Ok(doc) => doc,
        Err(e) => {
            // The file itself is invalid: report it as any command would.
            Model::from_text(text, file)?;
            return Err(Error::Usage(format!("{file}: {}", e.message().trim())));
        }
    };
    let mut current = body.to_string();
    let mut lines: Vec<Option<usize>> = (0..current.split('\n').count()).map(Some).collect();
    for o in sets {
        set_in(
            Node::Item(doc.as_item_mut()),
            &KeyPath::root(),
            &o.path.0,
            o.value.clone(),
        )
        .map_err(|(key_path, message)| {
            Error::Scenario(vec![ScenarioError {
                file: format!("--set {}", o.arg),
                line: None,
                column: None,
                key_path,
                message,
            }])
        })?;
        let next = doc.to_string();
        lines = changed_lines(&current, &next)
            .into_iter()
            .map(|l| l.and_then(|l| lines[l]))
            .collect();
        current = next;
    }
    Ok(Applied {
        text: format!("{bom}{current}"),
        lines,
    })
}

/// For each line of `after`, its line in `before` when it lies in the
/// common head or tail of the two texts, `None` in between (one edit
/// changes one stretch of lines).
fn changed_lines(before: &str, after: &str) -> Vec<Option<usize>> {
    let a: Vec<&str> = before.split('\n').collect();
    let b: Vec<&str> = after.split('\n').collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    (0..b.len())
        .map(|j| {
            if j < head {
                Some(j)
            } else if j >= b.len() - tail {
                Some(j + a.len() - b.len())
            } else {
                None
            }
        })
        .collect()
}

/// A problem found in the overridden text, told where it is: against the
/// `--set` whose value holds it (the last one whose path starts its key
/// path), otherwise at its line in the file as written (no line when the
/// line was written by an override).
fn relocate(mut e: ScenarioError, sets: &[Override], lines: &[Option<usize>]) -> ScenarioError {
    let owner = sets
        .iter()
        .filter(|o| e.key_path.0.starts_with(&o.path.0))
        .max_by_key(|o| o.path.0.len());
    if let Some(o) = owner {
        e.file = format!("--set {}", o.arg);
        e.line = None;
        e.column = None;
        return e;
    }
    if let Some(line) = e.line {
        match lines.get(line - 1).copied().flatten() {
            Some(l) => e.line = Some(l + 1),
            None => {
                e.line = None;
                e.column = None;
            }
        }
    }
    e
}

/// Validates a scenario file's `text` (of `file`) with `--set` arguments
/// applied, in order; returns the model and the text it was built from
/// (the file's own text when `sets` is empty). The model records the
/// overrides in canonical form ([`Override`]'s `Display`).
pub fn load_text(text: &str, file: &str, sets: &[String]) -> Result<(Model, String), Error> {
    if sets.is_empty() {
        return Ok((Model::from_text(text, file)?, text.to_string()));
    }
    let sets = sets.iter().map(|s| Override::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let applied = apply(text, file, &sets)?;
    let mut model = Model::from_text(&applied.text, file).map_err(|e| match e {
        Error::Scenario(errs) => {
            Error::Scenario(errs.into_iter().map(|e| relocate(e, &sets, &applied.lines)).collect())
        }
        other => other,
    })?;
    model.warnings = std::mem::take(&mut model.warnings)
        .into_iter()
        .map(|w| relocate(w, &sets, &applied.lines))
        .collect();
    model.overrides = sets.iter().map(ToString::to_string).collect();
    Ok((model, applied.text))
}

/// The text a scenario file's `text` becomes with `sets` applied (the text
/// itself when there are none), without validating it.
pub fn effective_text(text: &str, file: &str, sets: &[String]) -> Result<String, Error> {
    if sets.is_empty() {
        return Ok(text.to_string());
    }
    let sets = sets.iter().map(|s| Override::parse(s)).collect::<Result<Vec<_>, _>>()?;
    Ok(apply(text, file, &sets)?.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"# A comment that must survive.
[scenario]
name = "mini"
start = "2024Q1"

[chips.a]
peak_flops = 3e14

[supply.line]
chip = "a"
orders = [
  { quarter = "2024Q1", chips = 10 },
  { quarter = "2024Q2", chips = 20 },
]
fill_rate = 0.35 # Huawei's share

[training]
mfu = 0.4

[milestones.m]
target_flop = 1e20
deadline = "2024Q4"
"#;

    fn set(args: &[&str]) -> Result<Applied, Error> {
        let sets: Vec<Override> = args.iter().map(|a| Override::parse(a).unwrap()).collect();
        apply(FILE, "f.toml", &sets)
    }

    #[test]
    fn paths_parse_with_quotes_and_indices() {
        let p = parse_path(r#"supply."a b".orders[1][2].chips"#).unwrap();
        assert_eq!(p.to_string(), r#"supply."a b".orders[1][2].chips"#);
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("a[x]").is_err());
        assert!(parse_path("a[1").is_err());
    }

    #[test]
    fn values_are_toml_or_bare_strings() {
        let v = |a: &str| Override::parse(a).map(|o| o.to_string());
        assert_eq!(v("training.mfu=0.5").unwrap(), "training.mfu=0.5");
        assert_eq!(
            v("milestones.m.deadline=2025Q2").unwrap(),
            r#"milestones.m.deadline="2025Q2""#
        );
        assert_eq!(
            v("allocation.policy = fixed_share").unwrap(),
            r#"allocation.policy="fixed_share""#
        );
        assert_eq!(v("supply.line.backlog=true").unwrap(), "supply.line.backlog=true");
        assert!(v("training.mfu").is_err());
        assert!(v("training.mfu=").is_err());
        assert!(v("training.mfu={ dist = \"beta\" mean = 1 }").is_err());
    }

    #[test]
    fn replacing_a_value_keeps_the_rest_of_the_file() {
        let a = set(&["supply.line.fill_rate={ dist = \"beta\", mean = 0.6, sd = 0.15 }"]).unwrap();
        let expect = FILE.replace(
            "fill_rate = 0.35",
            "fill_rate = { dist = \"beta\", mean = 0.6, sd = 0.15 }",
        );
        assert_eq!(a.text, expect);
        let changed: Vec<usize> = (0..a.lines.len()).filter(|&l| a.lines[l].is_none()).collect();
        assert_eq!(changed, vec![14]);
        assert_eq!(a.lines[20], Some(20));
    }

    #[test]
    fn array_entries_and_new_keys() {
        let a = set(&["supply.line.orders[1].chips=99", "training.goodput=0.9"]).unwrap();
        assert!(a.text.contains("{ quarter = \"2024Q2\", chips = 99 }"), "{}", a.text);
        assert!(a.text.contains("mfu = 0.4\ngoodput = 0.9\n"), "{}", a.text);
        // The line after the inserted one maps back to its line in the file.
        let blank_after = a.text.split('\n').position(|l| l == "[milestones.m]").unwrap();
        assert_eq!(a.lines[blank_after], Some(19));
        let err = set(&["supply.line.orders[2].chips=1"]).unwrap_err().to_string();
        assert!(err.contains("has 2 entries, [0] to [1]: no [2]"), "{err}");
    }

    #[test]
    fn a_named_table_is_never_added_by_setting_it_whole() {
        let text = "[chips.ascend]\npeak_flops = 1e14\n";
        let sets = vec!["chips.ascnd={ peak_flops = 1e15 }".to_string()];
        let err = effective_text(text, "s.toml", &sets).unwrap_err().to_string();
        assert!(err.contains("did you mean `chips.ascend`"), "{err}");
    }

    #[test]
    fn unknown_tables_are_refused_with_a_suggestion() {
        let err = set(&["supply.lin.fill_rate=0.5"]).unwrap_err().to_string();
        assert!(
            err.starts_with("--set supply.lin.fill_rate=0.5: supply.lin: the file has no [supply.lin] table"),
            "{err}"
        );
        assert!(err.contains("did you mean `supply.line`?"), "{err}");
        let err = set(&["trainin.mfu=0.5"]).unwrap_err().to_string();
        assert!(err.contains("did you mean `training`?"), "{err}");
        let err = set(&["training.mfu.mean=0.5"]).unwrap_err().to_string();
        assert!(err.contains("is a float, not a table"), "{err}");
        // A top-level table with fixed keys is created.
        let a = set(&["allocation.policy=inference_first"]).unwrap();
        assert!(
            a.text.contains("[allocation]\npolicy = \"inference_first\""),
            "{}",
            a.text
        );
    }

    #[test]
    fn errors_in_an_override_name_the_override() {
        let Err(Error::Scenario(errs)) = load_text(FILE, "f.toml", &["training.mfu=1.5".into()]) else {
            panic!("accepted")
        };
        assert_eq!(errs[0].file, "--set training.mfu=1.5");
        assert_eq!(errs[0].line, None);
        // An error elsewhere keeps its line in the file as written.
        let Err(Error::Scenario(errs)) = load_text(
            &FILE.replace("mfu = 0.4", "mfu = 0.4\ngoodput = 2"),
            "f.toml",
            &["training.allow_foreign_chips=true".into()],
        ) else {
            panic!("accepted")
        };
        assert_eq!((errs[0].file.as_str(), errs[0].line), ("f.toml", Some(19)), "{errs:?}");
    }

    #[test]
    fn a_byte_order_mark_is_kept() {
        let text = format!("\u{feff}{FILE}");
        let sets = [Override::parse("training.mfu=0.5").unwrap()];
        let a = apply(&text, "f.toml", &sets).unwrap();
        assert_eq!(a.text, text.replace("mfu = 0.4", "mfu = 0.5"));
    }

    #[test]
    fn no_overrides_leave_the_text_alone() {
        let (model, text) = load_text(FILE, "f.toml", &[]).unwrap();
        assert_eq!(text, FILE);
        assert!(model.overrides.is_empty());
    }
}
