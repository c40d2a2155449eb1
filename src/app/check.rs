//! `sancsim check`: a scenario's `[[expect]]` bounds as a CI gate.

use std::path::Path;

use super::context::*;
use super::run::*;
use crate::cli::*;
use crate::error::Error;
use crate::model::Model;
use crate::results::Summary;

pub(crate) fn check(file: &Path, sim: &SimArgs, ctx: &mut Ctx) -> Result<String, Error> {
    check_sim_args(sim)?;
    let (model, text) = ctx.load(file, &sim.set)?;
    if model.expectations.is_empty() {
        return Err(Error::NoExpectations {
            file: file.display().to_string(),
            example: format!(
                "[[expect]]\nmilestone = \"{}\"\nmin_probability = 0.5\n",
                model.milestones.first().map(|m| m.name.as_str()).unwrap_or("name")
            ),
        });
    }
    let trials = sim.trials.unwrap_or(model.trials);
    let (aggregate, seed) = run_range(ctx, &model, sim, 0..trials, &file_stem(file))?;
    crate::evidence::require_enough(&model, &aggregate)?;
    let summary = Summary::new(&model, &aggregate, seed, &Model::fingerprint(&text.effective));
    let results = crate::check::evaluate(&model, &summary);
    let table = format!(
        "{} — {} trials, seed {}\n{}",
        file.display(),
        trials,
        seed,
        crate::check::expectation_table(&results)
    );
    let failed = results.iter().filter(|r| r.failed).count();
    if failed > 0 {
        ctx.stdout.push_str(&table);
        return Err(Error::Check(format!(
            "{failed} of {} expectations failed",
            results.len()
        )));
    }
    Ok(format!("{table}all {} expectations hold\n", results.len()))
}
