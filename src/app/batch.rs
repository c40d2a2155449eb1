//! `sancsim batch`: every scenario of folders or lists of files, and an
//! index comparing them.

use std::path::{Path, PathBuf};

use super::context::*;
use super::run::*;
use crate::charts;
use crate::cli::*;
use crate::error::Error;
use crate::export;
use crate::output::write_file;
use crate::report;
use crate::results::Summary;

/// The scenario files named by `inputs`: files as given, folders as their
/// `*.toml` files in name order.
pub(crate) fn scenario_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| Error::io(input, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(Error::Usage(format!(
                    "{}: no *.toml scenario files in this folder",
                    input.display()
                )));
            }
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

pub(crate) fn batch(args: &BatchArgs, ctx: &mut Ctx) -> Result<String, Error> {
    check_sim_args(&args.sim)?;
    let files = scenario_files(&args.inputs)?;
    // Folder per scenario: the file stem, made unique within the batch.
    let mut used = std::collections::BTreeSet::new();
    let folders: Vec<String> = files
        .iter()
        .map(|file| {
            let stem = file_stem(file);
            let mut folder = stem.clone();
            let mut k = 2;
            while !used.insert(folder.clone()) {
                folder = format!("{stem}-{k}");
                k += 1;
            }
            folder
        })
        .collect();
    if let Some(r) = &args.reference {
        if !folders.contains(r) {
            return Err(Error::Usage(format!(
                "--reference {r}: no scenario of this batch has that file stem; the batch has {}",
                folders.join(", ")
            )));
        }
    }
    let mut done: Vec<(String, Summary)> = Vec::new();
    let mut failures: Vec<(PathBuf, Error)> = Vec::new();
    let mut out = String::new();
    for (file, folder) in files.iter().zip(&folders) {
        let result = ctx.load(file, &args.sim.set).and_then(|(model, text)| {
            // Replacing the folder must never delete the scenario itself.
            crate::output::check_not_inside(&args.out.join(folder), &[file])?;
            let (summary, files) = simulate(ctx, &model, &text.effective, &args.sim, &file_stem(file), folder, 0)?;
            write_results(ctx, &args.out.join(folder), &files)?;
            Ok(summary)
        });
        match result {
            Ok(summary) => {
                if !args.sim.quiet {
                    out.push_str(&export::table::milestone_table(&summary));
                    out.push_str(&format!("results in {}\n\n", args.out.join(folder).display()));
                }
                done.push((folder.clone(), summary));
            }
            Err(Error::Interrupted) => return Err(Error::Interrupted),
            Err(e) => {
                ctx.diagnostics
                    .extend(e.to_string().lines().map(|l| Diagnostic::Error(l.to_string())));
                failures.push((file.clone(), e));
            }
        }
    }
    if !done.is_empty() {
        let index = args.out.join("index.csv");
        let names: Vec<String> = files.iter().map(|f| format!("{}.toml", file_stem(f))).collect();
        let summaries: Vec<&Summary> = done.iter().map(|(_, s)| s).collect();
        let command = report::batch_command(&names, &summaries, args.reference.as_deref());
        ctx.control.writing(&index, |_| {
            write_index(&args.out, &done, &failures, args.reference.as_deref(), &command)
        })?;
        if !args.sim.quiet {
            out.push_str(&format!(
                "comparison of {} scenarios in {}\n",
                done.len(),
                args.out.join("index.html").display()
            ));
        }
    }
    if failures.is_empty() {
        return Ok(out);
    }
    ctx.stdout.push_str(&out);
    let worst = failures.iter().map(|(_, e)| e.exit_code()).max().unwrap_or(1);
    let msg = format!(
        "{} of {} scenarios failed: {}",
        failures.len(),
        files.len(),
        failed_list(&failures)
    );
    Err(if worst == 2 { Error::Usage(msg) } else { Error::Run(msg) })
}

pub(crate) fn failed_list(failures: &[(PathBuf, Error)]) -> String {
    failures
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `index.csv` (milestone probabilities side by side), `index.html` and
/// `index.md` (the same with differences from the reference scenario,
/// `reference` or else the first) and the comparison chart.
pub(crate) fn write_index(
    dir: &Path,
    done: &[(String, Summary)],
    failures: &[(PathBuf, Error)],
    reference: Option<&str>,
    command: &str,
) -> Result<(), Error> {
    let rows: Vec<(String, Vec<crate::results::MilestoneResult>)> = done
        .iter()
        .map(|(_, s)| (s.scenario.clone(), s.milestones.clone()))
        .collect();
    write_file(&dir.join("index.csv"), &export::csv::index_csv(done))?;
    let chart = charts::batch_comparison(&rows).map_err(|e| Error::Run(e.to_string()))?;
    write_file(&dir.join(format!("{}.svg", chart.stem)), chart.svg.as_bytes())?;
    write_file(&dir.join(format!("{}.png", chart.stem)), &chart.png)?;
    let failed: Vec<(String, String)> = failures
        .iter()
        .map(|(p, e)| (p.display().to_string(), e.to_string()))
        .collect();
    let index = report::BatchIndex {
        done,
        reference: match reference {
            Some(r) => done.iter().position(|(folder, _)| folder == r),
            None => (!done.is_empty()).then_some(0),
        },
        reference_named: reference,
        failed: &failed,
        command,
    };
    write_file(&dir.join("index.html"), &report::index_html(&index, &chart))?;
    write_file(&dir.join("index.md"), &report::index_markdown(&index, &chart))?;
    Ok(())
}
