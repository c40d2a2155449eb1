//! Partial results of a sharded run (`run --shard K/N`) and their merge.
//!
//! Shard K of N runs the contiguous block of trials
//! `[floor((K-1)·T/N), floor(K·T/N))` of a run of T trials. Its partial
//! result holds the exact integer statistics of its trials plus everything
//! needed to check and finish the merge: the scenario text, its hash, the
//! seed, the total trials, the shard numbers and the sancsim version. Merging
//! adds the counts, so the merged outputs are byte-identical to a
//! single-process run with the same seed.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::trials::Aggregate;

/// Identifies the partial-result format.
pub const FORMAT: &str = "sancsim-partial/1";
/// File name of a partial result inside a shard's output folder.
pub const FILE_NAME: &str = "partial.json";

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
    /// Hash of the scenario text.
    pub scenario_hash: String,
    /// The scenario file's text.
    pub scenario_text: String,
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
}

/// Checks that `parts` (with the file each came from) are all the shards of
/// one run, and merges them.
pub fn merge(mut parts: Vec<(String, Partial)>) -> Result<(Partial, Aggregate), Error> {
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
        if crate::model::Model::fingerprint(&p.scenario_text) != p.scenario_hash {
            return Err(bad(format!(
                "{file}: its scenario text does not match its scenario hash (edited or corrupt)"
            )));
        }
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
        if p.seed != first.seed {
            return Err(mismatch("seed", &first.seed, &p.seed));
        }
        if p.total_trials != first.total_trials {
            return Err(mismatch("total trials", &first.total_trials, &p.total_trials));
        }
        if p.shard.count != first.shard.count {
            return Err(mismatch("shard count", &first.shard.count, &p.shard.count));
        }
        if !p.aggregate.same_shape(&first.aggregate) {
            return Err(bad(format!(
                "{file}: statistics do not match the shape of {first_file}'s"
            )));
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
    let present: Vec<u32> = parts.iter().map(|(_, p)| p.shard.index).collect();
    let missing: Vec<String> = (1..=n)
        .filter(|k| !present.contains(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "missing shards: {} (have {} of {n})",
            missing.join(", "),
            present.len()
        )));
    }
    for (file, p) in &parts {
        let expect = p.shard.trials(p.total_trials);
        if p.first_trial != expect.start || p.end_trial != expect.end || p.aggregate.trials != expect.end - expect.start
        {
            return Err(bad(format!(
                "{file}: shard {}/{n} should hold trials {expect:?}",
                p.shard.index
            )));
        }
    }
    let mut iter = parts.into_iter().map(|(_, p)| p);
    let head = iter.next().ok_or_else(|| bad("no partial results".into()))?;
    let mut agg = head.aggregate.clone();
    for p in iter {
        agg = agg.merge(p.aggregate);
    }
    Ok((head, agg))
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

    #[test]
    fn parses_shards() {
        assert_eq!(Shard::parse("2/8"), Ok(Shard { index: 2, count: 8 }));
        assert!(Shard::parse("0/8").is_err());
        assert!(Shard::parse("9/8").is_err());
        assert!(Shard::parse("a/b").is_err());
    }
}
