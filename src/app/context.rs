//! What every command shares: the running command's context ([`Ctx`]:
//! its control, console and diagnostics), loading a scenario with its
//! `--set` overrides, the size limit, progress bars and the one writer of
//! output folders.

use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::*;
use crate::control::Control;
use crate::error::Error;
use crate::model::{MAX_TRIALS, Model};
use crate::output::write_folder;

/// A line for standard error, which `main` prints with its prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnostic {
    /// A problem that did not stop the command (`warning: ...`).
    Warning(String),
    /// A problem with one item of a command that went on (`error: ...`).
    Error(String),
}

/// What a command produced: text for standard output, lines for standard
/// error, and how it ended. The library prints nothing; `main` does.
#[derive(Debug)]
pub struct Outcome {
    /// Text for standard output (tables, where results were written).
    pub stdout: String,
    /// Lines for standard error, in order.
    pub diagnostics: Vec<Diagnostic>,
    /// How the command ended.
    pub result: Result<(), Error>,
}

/// Settings of the process that runs a command, decided by `main`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Console {
    /// Draw progress bars on standard error (only sensible on a terminal).
    pub progress: bool,
}

/// The running command: where its output and diagnostics go, its control.
pub(crate) struct Ctx<'a> {
    pub(crate) control: &'a Control,
    pub(crate) console: Console,
    pub(crate) stdout: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// A scenario's text as read and as run.
#[derive(Debug, Clone)]
pub struct ScenarioText {
    /// The file's own text.
    pub file: String,
    /// The text after the `--set` overrides (the file's text when there
    /// are none): what the model was built from and the hash covers.
    pub effective: String,
}

/// Reads and validates a scenario file with `--set` overrides `sets`
/// applied ([`crate::overrides`]); returns the model and the text. The
/// model's warnings are in `model.warnings` (`Ctx::load` queues them for
/// standard error).
pub fn load(path: &Path, sets: &[String]) -> Result<(Model, ScenarioText), Error> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::Usage(format!("{}: cannot read scenario file: {e}", path.display())))?;
    let file = path.display().to_string();
    let text = crate::scenario::decode(&bytes, &file)?;
    let (model, effective) = crate::overrides::load_text(text, &file, sets)?;
    Ok((
        model,
        ScenarioText {
            file: text.to_string(),
            effective,
        },
    ))
}

impl Ctx<'_> {
    /// [`load`], with the model's warnings queued for standard error.
    pub(crate) fn load(&mut self, path: &Path, sets: &[String]) -> Result<(Model, ScenarioText), Error> {
        let (model, text) = load(path, sets)?;
        self.diagnostics
            .extend(model.warnings.iter().map(|w| Diagnostic::Warning(w.to_string())));
        Ok((model, text))
    }
}

pub(crate) fn file_stem(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "scenario".into())
}

pub(crate) fn check_sim_args(sim: &SimArgs) -> Result<(), Error> {
    if let Some(t) = sim.trials {
        if t == 0 || t > MAX_TRIALS {
            return Err(Error::Usage(format!(
                "--trials must be between 1 and {MAX_TRIALS}, got {t}"
            )));
        }
    }
    if sim.threads == Some(0) {
        return Err(Error::Usage("--threads must be at least 1".into()));
    }
    Ok(())
}

/// Refuses runs above [`MAX_TRIAL_QUARTERS`] unless allowed.
pub(crate) fn check_size(model: &Model, trials: u64, sim: &SimArgs) -> Result<(), Error> {
    let size = trials.saturating_mul(model.horizon() as u64);
    if size > MAX_TRIAL_QUARTERS && !sim.allow_large_run {
        return Err(Error::Usage(format!(
            "{trials} trials × {} quarters = {size} trial-quarters is above the limit of {MAX_TRIAL_QUARTERS} \
             (about five minutes on two cores): pass --allow-large-run to run it here, lower --trials, \
             or spread it with --shard K/N (docs/CLUSTER.md)",
            model.horizon()
        )));
    }
    Ok(())
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
pub(crate) fn progress_bar(trials: u64, label: &str, quiet: bool, console: Console) -> ProgressBar {
    if quiet || !console.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(trials), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} trials, {rate}, ETA {eta}")
        .map(|s| {
            s.progress_chars("=> ").with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} trials/s", state.per_sec());
                },
            )
        })
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(label.to_string());
    bar
}

/// Writes a run's files as the folder `out`, unless Ctrl-C or SIGTERM
/// arrives first (see [`Control::writing`]).
pub(crate) fn write_results(ctx: &Ctx, out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), Error> {
    ctx.control
        .writing(out, |cancelled| write_folder(out, files, cancelled))
}

/// Output files of a run: (file name, bytes).
pub(crate) type OutputFiles = Vec<(String, Vec<u8>)>;
