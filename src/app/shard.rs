//! Shards of a strategy question (`compare`, `sweep`, `sensitivity`
//! `--shard K/N`): each runs a contiguous share of the trials and writes
//! its counts as `partial.json`; `sancsim merge` adds them and finishes the
//! analysis, giving the same bytes as one process.
//!
//! A partial records the command that reproduces the whole analysis (so
//! `merge` knows what to finish, and every shard must have been given the
//! same), and the FNV-1a hash of each scenario file it read: `merge` reads
//! the files again and refuses them if they changed in between.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::partial::Shard;

/// The format of an analysis's partial result.
pub const FORMAT: &str = "sancsim-analysis-partial/1";

/// One shard's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisPartial {
    /// [`FORMAT`].
    pub format: String,
    /// The sancsim version that wrote it; merge needs the same.
    pub sancsim_version: String,
    /// The command that reproduces the whole analysis in one process
    /// (without `sancsim`, `--out` and `--shard`), e.g. `compare a.toml b.toml --seed 1 --trials 1000`.
    pub command: Vec<String>,
    /// Each scenario file read, as given, with the FNV-1a-64 hash of its bytes.
    pub files: Vec<(String, String)>,
    /// Trials (or rows) of the whole analysis.
    pub total: u64,
    /// Which shard.
    pub shard: Shard,
    /// First trial (row) of this shard.
    pub first: u64,
    /// One past its last.
    pub end: u64,
    /// The shard's counts (the analysis's own accumulator, as JSON).
    pub state: serde_json::Value,
    /// FNV-1a-64 of the compact JSON of every field above, `fnv1a64:` and 16 hex digits.
    pub checksum: String,
}

fn checksum(p: &AnalysisPartial) -> Result<String, Error> {
    let mut bare = p.clone();
    bare.checksum = String::new();
    let json = serde_json::to_string(&bare).map_err(|e| Error::Run(format!("cannot encode partial result: {e}")))?;
    Ok(format!("fnv1a64:{:016x}", crate::rng::key_hash(&json)))
}

/// The FNV-1a-64 hash of a file's bytes, hex.
pub fn file_hash(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    Ok(format!("{h:016x}"))
}

/// The partial result of one shard, sealed with its checksum.
pub fn seal(
    command: Vec<String>,
    files: &[PathBuf],
    total: u64,
    shard: Shard,
    state: &impl Serialize,
) -> Result<Vec<u8>, Error> {
    let range = shard.trials(total);
    let mut p = AnalysisPartial {
        format: FORMAT.to_string(),
        sancsim_version: env!("CARGO_PKG_VERSION").to_string(),
        command,
        files: files
            .iter()
            .map(|f| Ok((f.display().to_string(), file_hash(f)?)))
            .collect::<Result<_, Error>>()?,
        total,
        shard,
        first: range.start,
        end: range.end,
        state: serde_json::to_value(state).map_err(|e| Error::Run(e.to_string()))?,
        checksum: String::new(),
    };
    p.checksum = checksum(&p)?;
    serde_json::to_vec(&p).map_err(|e| Error::Run(e.to_string()))
}

/// Whether `bytes` claim to be an analysis's partial result.
pub fn is_analysis_partial(bytes: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
    }
    serde_json::from_slice::<Head>(bytes)
        .ok()
        .and_then(|h| h.format)
        .is_some_and(|f| f.starts_with("sancsim-analysis-partial/"))
}

/// Reads one partial result, checking its format, version and checksum.
pub fn decode(file: &str, bytes: &[u8]) -> Result<AnalysisPartial, Error> {
    let bad = |m: String| Error::Usage(format!("{file}: {m}"));
    let p: AnalysisPartial =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not a valid `{FORMAT}` partial result: {e}")))?;
    if p.format != FORMAT {
        return Err(bad(format!(
            "a partial result of format `{}`, which this sancsim does not read (it reads `{FORMAT}`): re-run the shards with this version",
            p.format
        )));
    }
    let expect = checksum(&p)?;
    if p.checksum != expect {
        return Err(bad(format!(
            "its checksum `{}` does not match its contents (`{expect}`): the file was edited or damaged after the shard wrote it; re-run this shard",
            p.checksum
        )));
    }
    if p.sancsim_version != env!("CARGO_PKG_VERSION") {
        return Err(bad(format!(
            "made by sancsim {}, this is {}: merge with the same version",
            p.sancsim_version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    let expect = p.shard.trials(p.total);
    if p.shard.index == 0 || p.shard.index > p.shard.count || (p.first, p.end) != (expect.start, expect.end) {
        return Err(bad(format!(
            "shard {}/{} of {} should hold {expect:?}, it says {}..{}",
            p.shard.index, p.shard.count, p.total, p.first, p.end
        )));
    }
    Ok(p)
}

/// Orders the shards of one analysis and checks that they belong together
/// (same command, files, total and shard count; every shard exactly once)
/// and that the scenario files are unchanged. Returns the first shard (as
/// the head) and every shard's state in trial order.
pub fn gather(mut parts: Vec<(String, AnalysisPartial)>) -> Result<(AnalysisPartial, Vec<serde_json::Value>), Error> {
    parts.sort_by_key(|(_, p)| p.shard.index);
    let (first_file, head) = parts
        .first()
        .cloned()
        .ok_or_else(|| Error::Usage("merge needs at least one partial result".into()))?;
    for (file, p) in &parts {
        if p.command != head.command
            || p.files != head.files
            || p.total != head.total
            || p.shard.count != head.shard.count
        {
            return Err(Error::Usage(format!(
                "{file} is a shard of another analysis than {first_file} (`{}` vs `{}`): merge the shards of one command",
                p.command.join(" "),
                head.command.join(" ")
            )));
        }
    }
    let indices: Vec<u32> = parts.iter().map(|(_, p)| p.shard.index).collect();
    let all: Vec<u32> = (1..=head.shard.count).collect();
    if indices != all {
        let missing: Vec<String> = all
            .iter()
            .filter(|k| !indices.contains(k))
            .map(|k| format!("{k}/{}", head.shard.count))
            .collect();
        return Err(Error::Usage(if missing.is_empty() {
            "a shard is given twice: give each shard once".to_string()
        } else {
            format!("shards missing: {}", missing.join(", "))
        }));
    }
    for (path, hash) in &head.files {
        let now = file_hash(Path::new(path)).map_err(|e| {
            Error::Usage(format!(
                "{path}: the shards read this scenario file, which merge cannot read again: {e}"
            ))
        })?;
        if &now != hash {
            return Err(Error::Usage(format!(
                "{path}: the scenario file changed since the shards ran (hash {now}, the shards read {hash}): re-run the shards"
            )));
        }
    }
    let states = parts.into_iter().map(|(_, p)| p.state).collect();
    Ok((head, states))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_partial_reads_back_and_an_edit_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.toml");
        std::fs::write(&f, "x").unwrap();
        let shard = Shard { index: 2, count: 3 };
        let bytes = seal(
            vec!["compare".into()],
            std::slice::from_ref(&f),
            10,
            shard,
            &vec![1u64, 2],
        )
        .unwrap();
        assert!(is_analysis_partial(&bytes));
        let p = decode("p", &bytes).unwrap();
        assert_eq!((p.first, p.end), (3, 6));
        let edited = String::from_utf8(bytes).unwrap().replace("[1,2]", "[1,3]");
        let err = decode("p", edited.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        let err = gather(vec![("p".into(), p.clone())]).unwrap_err().to_string();
        assert!(err.contains("shards missing: 1/3, 3/3"), "{err}");
        std::fs::write(&f, "y").unwrap();
        let parts: Vec<_> = (1..=3)
            .map(|k| {
                let s = Shard { index: k, count: 3 };
                let mut q = p.clone();
                q.shard = s;
                ("p".to_string(), q)
            })
            .collect();
        let err = gather(parts).unwrap_err().to_string();
        assert!(err.contains("changed since the shards ran"), "{err}");
    }
}
