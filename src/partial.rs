//! Partial results of a sharded run (`run --shard K/N`) and their merge.
//!
//! Shard K of N runs the contiguous block of trials
//! `[floor((K-1)·T/N), floor(K·T/N))` of a run of T trials. Its partial
//! result holds the exact integer statistics of its trials plus everything
//! needed to check and finish the merge: the scenario text, its hash, the
//! seed, the total trials, the shard numbers and the sancsim version. Merging
//! adds the counts, so the merged outputs are byte-identical to a
//! single-process run with the same seed.
//!
//! A partial result is a file that may travel between machines and be
//! edited, so the merge trusts none of its numbers: a checksum (64-bit
//! FNV-1a of the canonical serialisation) detects damage and hand edits,
//! invariants checked independently of it refuse statistics no run can
//! produce, and every sum of the merge is checked for overflow. The
//! checksum is no signature: whoever recomputes it after an edit passes
//! it, and then only the invariants stand between the edit and the outputs.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::{MAX_TRIALS, Model};
use crate::trials::Aggregate;

/// Identifies the partial-result format. Version 2 added the checksum,
/// version 4 the training start, shock and miss-reason counts and the
/// samples.csv rows.
pub const FORMAT: &str = "sancsim-partial/4";
/// What every version of [`FORMAT`] starts with.
const FORMAT_FAMILY: &str = "sancsim-partial/";
/// File name of a partial result inside a shard's output folder.
pub const FILE_NAME: &str = "partial.json";
/// Most missing shards a merge error lists by number.
const MISSING_LISTED: usize = 10;

/// Which part of a run a shard is: `index` of `count`, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, 1 to `count`.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// Parses `K/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard; write K/N with 1 <= K <= N, e.g. 2/8");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The trials of this shard in a run of `total` trials.
    pub fn trials(&self, total: u64) -> std::ops::Range<u64> {
        let at = |k: u32| (total as u128 * k as u128 / self.count as u128) as u64;
        at(self.index - 1)..at(self.index)
    }
}

/// A shard's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partial {
    /// Always [`FORMAT`].
    pub format: String,
    /// Version of sancsim that produced it.
    pub sancsim_version: String,
    /// Stem of the scenario file (names the merged output folder).
    pub scenario_stem: String,
    /// Hash of the scenario text after `overrides`.
    pub scenario_hash: String,
    /// The scenario file's text, as in the file.
    pub scenario_text: String,
    /// The run's `--set` overrides (`key.path=value`), applied to
    /// `scenario_text` again by the merge; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    /// Seed of the run.
    pub seed: u64,
    /// Trials of the whole run.
    pub total_trials: u64,
    /// Which shard this is.
    pub shard: Shard,
    /// First trial of this shard.
    pub first_trial: u64,
    /// One past the last trial of this shard.
    pub end_trial: u64,
    /// Statistics of this shard's trials.
    pub aggregate: Aggregate,
    /// With `run --samples N`: this shard's rows of samples.csv; absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<PartialSamples>,
}

/// A shard's rows of samples.csv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialSamples {
    /// The `N` of `--samples N`, the same for every shard of the run.
    pub requested: u64,
    /// The rows of this shard's trials below `min(N, total_trials)`, in
    /// trial order, each ending with a line break, as a single run writes
    /// them (no header).
    pub rows: String,
}

impl PartialSamples {
    /// The trials whose rows a shard of `trials` holds.
    fn trials(&self, trials: std::ops::Range<u64>) -> std::ops::Range<u64> {
        trials.start.min(self.requested)..trials.end.min(self.requested)
    }
}

/// A partial result as written: the [`Partial`] and its checksum.
#[derive(Serialize, Deserialize)]
struct Sealed {
    #[serde(flatten)]
    partial: Partial,
    /// [`checksum`] of `partial`.
    checksum: String,
}

/// The checksum of a partial result: 64-bit FNV-1a of its canonical
/// serialisation, the compact JSON of every field of [`Partial`] in
/// declaration order (so whitespace or key order in the file do not
/// matter, every value does), written `fnv1a64:` and 16 hex digits.
pub fn checksum(partial: &Partial) -> Result<String, Error> {
    let json = serde_json::to_string(partial).map_err(|e| Error::Run(format!("cannot encode partial result: {e}")))?;
    Ok(format!("fnv1a64:{:016x}", crate::rng::key_hash(&json)))
}

/// The bytes of `partial.json`: the partial result and its checksum.
pub fn encode(partial: &Partial) -> Result<Vec<u8>, Error> {
    let sealed = Sealed {
        partial: partial.clone(),
        checksum: checksum(partial)?,
    };
    serde_json::to_vec(&sealed).map_err(|e| Error::Run(format!("cannot encode partial result: {e}")))
}

/// Reads a partial result written by [`encode`] from `bytes` (of `file`):
/// refuses another format, an older one (with the advice to re-run the
/// shards) and a checksum that does not match. The statistics themselves
/// are checked by [`merge`].
pub fn decode(file: &str, bytes: &[u8]) -> Result<Partial, Error> {
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
    }
    let bad = |m: String| Error::Usage(format!("{file}: {m}"));
    let head: Head = serde_json::from_slice(bytes).map_err(|e| bad(format!("not a sancsim partial result: {e}")))?;
    match head.format.as_deref() {
        Some(FORMAT) => {}
        Some(f) if f.starts_with(FORMAT_FAMILY) => {
            return Err(bad(format!(
                "a partial result of format `{f}`, which this sancsim ({}) does not read (it reads `{FORMAT}`): \
                 re-run the shards with this version",
                env!("CARGO_PKG_VERSION")
            )));
        }
        Some(f) => return Err(bad(format!("not a sancsim partial result (format `{f}`)"))),
        None => return Err(bad("not a sancsim partial result (no `format`)".into())),
    }
    let sealed: Sealed =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not a valid `{FORMAT}` partial result: {e}")))?;
    let expect = checksum(&sealed.partial)?;
    if sealed.checksum != expect {
        return Err(bad(format!(
            "its checksum `{}` does not match its contents (`{expect}`): the file was edited or damaged \
             after the shard wrote it; re-run this shard",
            sealed.checksum
        )));
    }
    Ok(sealed.partial)
}

/// Reads and decodes the partial result in file `path`.
pub fn read(path: &Path) -> Result<Partial, Error> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Usage(format!("{}: cannot read partial result: {e}", path.display())))?;
    decode(&path.display().to_string(), &bytes)
}

/// Checks what one partial result claims about itself: a valid shard of a
/// run of 1 to [`MAX_TRIALS`] trials, holding exactly that shard's trials,
/// with statistics that keep [`Aggregate::check`]'s invariants.
fn check_one(file: &str, p: &Partial) -> Result<(), Error> {
    let bad = |m: String| Error::Usage(format!("{file}: {m}"));
    let Shard { index, count } = p.shard;
    if count == 0 || index == 0 || index > count {
        return Err(bad(format!("shard {index}/{count} is not a shard: need 1 <= K <= N")));
    }
    if p.total_trials == 0 || p.total_trials > MAX_TRIALS {
        return Err(bad(format!(
            "total_trials {} is not between 1 and {MAX_TRIALS}",
            p.total_trials
        )));
    }
    // The stem names the default output folder `outputs/<stem>`: a plain
    // file name, never a path out of `outputs/`.
    let stem = &p.scenario_stem;
    if stem.is_empty() || stem == "." || stem == ".." || stem.contains(['/', '\\', '\0']) {
        return Err(bad(format!(
            "scenario_stem `{stem}` is not a file name (it names the output folder under outputs/)"
        )));
    }
    let expect = p.shard.trials(p.total_trials);
    if p.first_trial != expect.start || p.end_trial != expect.end || p.aggregate.trials != expect.end - expect.start {
        return Err(bad(format!(
            "shard {index}/{count} of {} trials should hold trials {expect:?}, it says {}..{} with {} trials",
            p.total_trials, p.first_trial, p.end_trial, p.aggregate.trials
        )));
    }
    p.aggregate.check().map_err(bad)
}

/// The result of [`merge`].
#[derive(Debug, Clone)]
pub struct Merged {
    /// The first shard's partial result (its aggregate is that shard's).
    pub head: Partial,
    /// The scenario of the run, from the partial results' scenario text.
    pub model: Model,
    /// Statistics of all the run's trials.
    pub aggregate: Aggregate,
    /// The rows of samples.csv of the whole run, in trial order, when the
    /// shards were run with `--samples`.
    pub samples: Option<String>,
}

/// Checks that `parts` (with the file each came from) are all the shards of
/// one run, each consistent in itself and with its scenario, and adds
/// them. Every error is invalid input and names the file at fault.
pub fn merge(mut parts: Vec<(String, Partial)>) -> Result<Merged, Error> {
    let bad = |m: String| Error::Usage(m);
    if parts.is_empty() {
        return Err(bad("no partial results to merge".into()));
    }
    for (file, p) in &parts {
        if p.format != FORMAT {
            return Err(bad(format!(
                "{file}: not a sancsim partial result (format `{}`)",
                p.format
            )));
        }
        let file_name = format!("{}.toml", p.scenario_stem);
        let text = crate::overrides::effective_text(&p.scenario_text, &file_name, &p.overrides)
            .map_err(|e| bad(format!("{file}: its overrides do not apply to its scenario text: {e}")))?;
        if crate::model::Model::fingerprint(&text) != p.scenario_hash {
            return Err(bad(format!(
                "{file}: its scenario text does not match its scenario hash (edited or corrupt)"
            )));
        }
        check_one(file, p)?;
    }
    parts.sort_by_key(|(_, p)| p.shard.index);
    let (first_file, first) = &parts[0];
    for (file, p) in &parts[1..] {
        let mismatch = |what: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            bad(format!("{file} does not belong with {first_file}: {what} {b} vs {a}"))
        };
        if p.sancsim_version != first.sancsim_version {
            return Err(mismatch("sancsim version", &first.sancsim_version, &p.sancsim_version));
        }
        if p.scenario_hash != first.scenario_hash || p.scenario_text != first.scenario_text {
            return Err(mismatch("scenario hash", &first.scenario_hash, &p.scenario_hash));
        }
        if p.overrides != first.overrides {
            let list = |o: &[String]| format!("[{}]", o.join(", "));
            return Err(mismatch(
                "--set overrides",
                &list(&first.overrides),
                &list(&p.overrides),
            ));
        }
        if p.seed != first.seed {
            return Err(mismatch("seed", &first.seed, &p.seed));
        }
        if p.total_trials != first.total_trials {
            return Err(mismatch("total trials", &first.total_trials, &p.total_trials));
        }
        if p.shard.count != first.shard.count {
            return Err(mismatch("shard count", &first.shard.count, &p.shard.count));
        }
        let requested = |p: &Partial| match &p.samples {
            Some(s) => format!("--samples {}", s.requested),
            None => "no --samples".to_string(),
        };
        if requested(p) != requested(first) {
            return Err(mismatch("samples", &requested(first), &requested(p)));
        }
    }
    let n = first.shard.count;
    for w in parts.windows(2) {
        if w[0].1.shard.index == w[1].1.shard.index {
            return Err(bad(format!(
                "shard {}/{n} given twice: {} and {}",
                w[0].1.shard.index, w[0].0, w[1].0
            )));
        }
    }
    if parts.len() as u64 != n as u64 {
        // The shards are sorted and distinct: walk them to list the first
        // few missing ones, in time that does not grow with N.
        let mut have = parts.iter().map(|(_, p)| p.shard.index).peekable();
        let mut listed = Vec::new();
        for k in 1..=n {
            if have.next_if_eq(&k).is_none() {
                listed.push(format!("{k}/{n}"));
                if listed.len() == MISSING_LISTED {
                    break;
                }
            }
        }
        let unlisted = n as u64 - parts.len() as u64 - listed.len() as u64;
        let more = if unlisted > 0 {
            format!(" and {unlisted} more")
        } else {
            String::new()
        };
        return Err(bad(format!(
            "missing shards: {}{more} (have {} of {n})",
            listed.join(", "),
            parts.len()
        )));
    }
    let (first_file, first) = &parts[0];
    let file_name = format!("{}.toml", first.scenario_stem);
    let (model, _) = crate::overrides::load_text(&first.scenario_text, &file_name, &first.overrides)?;
    let empty = Aggregate::new(&model);
    let columns = crate::samples::columns(&model).len();
    for (file, p) in &parts {
        if !p.aggregate.same_shape(&empty) {
            return Err(bad(format!(
                "{file}: its statistics do not fit its scenario ({} quarters, {} milestones): corrupt partial result",
                model.horizon(),
                model.milestones.len()
            )));
        }
        p.aggregate
            .check_model(&model)
            .map_err(|e| bad(format!("{file}: {e}: corrupt partial result")))?;
        if let Some(s) = &p.samples {
            crate::samples::check_rows(&s.rows, s.trials(p.first_trial..p.end_trial), columns)
                .map_err(|e| bad(format!("{file}: samples: {e}: corrupt partial result")))?;
        }
    }
    let mut aggregate = first.aggregate.clone();
    for (file, p) in &parts[1..] {
        aggregate = aggregate.merge(p.aggregate.clone()).map_err(|e| {
            bad(format!(
                "{file}: {e} when added to the shards before it ({first_file}...): corrupt partial result"
            ))
        })?;
    }
    if aggregate.trials != first.total_trials {
        return Err(bad(format!(
            "the shards hold {} trials, not the run's {}: corrupt partial results",
            aggregate.trials, first.total_trials
        )));
    }
    let samples = parts[0].1.samples.as_ref().map(|_| {
        parts
            .iter()
            .filter_map(|(_, p)| p.samples.as_ref().map(|s| s.rows.as_str()))
            .collect::<String>()
    });
    let head = parts.swap_remove(0).1;
    Ok(Merged {
        head,
        model,
        aggregate,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_trial_once() {
        for (total, n) in [(10, 3), (1, 4), (1000, 7), (5, 5)] {
            let mut next = 0;
            for k in 1..=n {
                let r = Shard { index: k, count: n }.trials(total);
                assert_eq!(r.start, next);
                next = r.end;
            }
            assert_eq!(next, total);
        }
    }

    const SCENARIO: &str = include_str!("../scenarios/minimal.toml");

    /// Shard `shard` of a run of `total` trials of the minimal scenario.
    fn shard(shard: Shard, total: u64) -> Partial {
        let model = Model::from_text(SCENARIO, "minimal.toml").unwrap();
        let range = shard.trials(total);
        Partial {
            format: FORMAT.to_string(),
            sancsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_stem: "minimal".into(),
            scenario_hash: Model::fingerprint(SCENARIO),
            scenario_text: SCENARIO.into(),
            overrides: Vec::new(),
            seed: 4,
            total_trials: total,
            shard,
            first_trial: range.start,
            end_trial: range.end,
            aggregate: crate::trials::run_trials(&model, 4, range, Some(1)).unwrap(),
            samples: None,
        }
    }

    #[test]
    fn the_checksum_covers_every_value_but_not_the_layout() {
        let p = shard(Shard { index: 1, count: 2 }, 100);
        let bytes = encode(&p).unwrap();
        assert_eq!(decode("p.json", &bytes).unwrap().aggregate, p.aggregate);
        // Reformatted (other whitespace, other key order): still the same values.
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(decode("p.json", &serde_json::to_vec_pretty(&value).unwrap()).is_ok());
        for edit in [
            "/seed",
            "/aggregate/events",
            "/aggregate/reached_in_quarter/0/1",
            "/aggregate/metrics/3/total",
        ] {
            let mut v = value.clone();
            let n = v.pointer(edit).unwrap().as_u64().unwrap();
            *v.pointer_mut(edit).unwrap() = (n + 1).into();
            let err = decode("p.json", &serde_json::to_vec(&v).unwrap()).unwrap_err();
            assert!(err.to_string().starts_with("p.json: its checksum"), "{edit}: {err}");
            assert_eq!(err.exit_code(), 2);
        }
    }

    #[test]
    fn merges_only_consistent_shards() {
        let parts = |ps: Vec<Partial>| ps.into_iter().enumerate().map(|(i, p)| (format!("p{i}"), p)).collect();
        let (a, b) = (
            shard(Shard { index: 1, count: 2 }, 100),
            shard(Shard { index: 2, count: 2 }, 100),
        );
        let merged = merge(parts(vec![b.clone(), a.clone()])).unwrap();
        assert_eq!(
            merged.aggregate,
            a.aggregate.clone().merge(b.aggregate.clone()).unwrap()
        );
        let mut wrong = b.clone();
        wrong.aggregate.reached_in_quarter[0][0] += 90;
        let err = merge(parts(vec![a.clone(), wrong])).unwrap_err().to_string();
        assert!(err.starts_with("p1: aggregate.reached_in_quarter[0]:"), "{err}");
        let mut zero = shard(Shard { index: 1, count: 1 }, 1);
        (zero.total_trials, zero.end_trial) = (0, 0);
        zero.aggregate = crate::trials::Aggregate::new(&Model::from_text(SCENARIO, "m.toml").unwrap());
        let err = merge(parts(vec![zero])).unwrap_err().to_string();
        assert!(err.starts_with("p0: total_trials 0"), "{err}");
    }

    #[test]
    fn missing_shards_are_listed_briefly_however_many() {
        let p = shard(
            Shard {
                index: 1,
                count: u32::MAX,
            },
            10,
        );
        let err = merge(vec![("p".into(), p)]).unwrap_err().to_string();
        assert!(
            err.starts_with("missing shards: 2/4294967295, 3/4294967295,")
                && err.ends_with("11/4294967295 and 4294967284 more (have 1 of 4294967295)"),
            "{err}"
        );
    }

    #[test]
    fn parses_shards() {
        assert_eq!(Shard::parse("2/8"), Ok(Shard { index: 2, count: 8 }));
        assert!(Shard::parse("0/8").is_err());
        assert!(Shard::parse("9/8").is_err());
        assert!(Shard::parse("a/b").is_err());
    }
}
