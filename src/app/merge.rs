//! `sancsim merge`: the shards of a run (or of a strategy question) into
//! the outputs of one process.

use std::path::{Path, PathBuf};

use super::context::*;
use super::run::*;
use crate::cli::*;
use crate::error::Error;
use crate::export;
use crate::results::Summary;

pub(crate) fn merge(args: &MergeArgs, ctx: &mut Ctx) -> Result<String, Error> {
    // Replacing an output folder deletes what it holds: never a shard's
    // partial result (given as its folder or its file), checked before
    // anything is read or written, and again below for the default folder.
    let inputs: Vec<&Path> = args.parts.iter().map(PathBuf::as_path).collect();
    if let Some(out) = &args.out {
        crate::output::check_not_inside(out, &inputs)?;
    }
    let files: Vec<PathBuf> = args
        .parts
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.join(crate::partial::FILE_NAME)
            } else {
                p.clone()
            }
        })
        .collect();
    // The shards of a strategy question (compare, sweep, sensitivity)
    // finish that command instead.
    if let Some(first) = files.first() {
        let bytes = std::fs::read(first)
            .map_err(|e| Error::Usage(format!("{}: cannot read partial result: {e}", first.display())))?;
        if crate::app::shard::is_analysis_partial(&bytes) {
            let mut parts = Vec::new();
            for f in &files {
                let bytes = std::fs::read(f)
                    .map_err(|e| Error::Usage(format!("{}: cannot read partial result: {e}", f.display())))?;
                parts.push((f.display().to_string(), bytes));
            }
            return crate::app::merge_analysis(parts, args.out.as_deref(), &inputs, args.quiet, ctx);
        }
    }
    let mut parts = Vec::new();
    for file in &files {
        parts.push((file.display().to_string(), crate::partial::read(file)?));
    }
    let crate::partial::Merged {
        head,
        model,
        aggregate,
        samples,
    } = crate::partial::merge(parts)?;
    if head.sancsim_version != env!("CARGO_PKG_VERSION") {
        return Err(Error::Usage(format!(
            "partial results were made by sancsim {}, this is {}: merge them with the same version",
            head.sancsim_version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("outputs").join(&head.scenario_stem));
    crate::output::check_not_inside(&out, &inputs)?;
    crate::evidence::require_enough(&model, &aggregate)?;
    let summary = Summary::new(&model, &aggregate, head.seed, &head.scenario_hash);
    let effective = crate::overrides::effective_text(&head.scenario_text, &head.scenario_stem, &head.overrides)?;
    let (summary, mut files) = output_files(summary, &head.scenario_stem, &effective)?;
    if let Some(rows) = samples {
        files.push(crate::samples::file(&model, &rows));
    }
    write_results(ctx, &out, &files)?;
    if args.quiet {
        return Ok(String::new());
    }
    Ok(format!(
        "merged {} shards\n{}{}results in {}\n",
        head.shard.count,
        export::table::milestone_table(&summary),
        export::table::explanation(&summary),
        out.display()
    ))
}
