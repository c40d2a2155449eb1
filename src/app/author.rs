//! The authoring and tool commands: `validate`, `init`, `show`, `bench`.

use std::path::PathBuf;

use super::batch::scenario_files;
use super::context::*;
use crate::cli::*;
use crate::error::Error;
use crate::model::MAX_TRIALS;
use crate::show::Format as ShowFormat;

pub(crate) fn validate(inputs: &[PathBuf], ctx: &mut Ctx) -> Result<String, Error> {
    let files = scenario_files(inputs)?;
    let mut out = String::new();
    let mut errors = Vec::new();
    for f in &files {
        match ctx.load(f, &[]) {
            Ok((m, _)) => out.push_str(&format!(
                "{}: ok (chip types: {}, supply lines: {}, shocks: {}, {}milestones: {}, {} quarters from {})\n",
                f.display(),
                m.chips.len(),
                m.supply.len(),
                m.shocks.len(),
                if m.gates.is_empty() {
                    String::new()
                } else {
                    format!("gates: {}, ", m.gates.len())
                } + &if m.suppliers.is_empty() {
                    String::new()
                } else {
                    format!("suppliers: {}, ", m.suppliers.len())
                },
                m.milestones.len(),
                m.horizon(),
                m.calendar.start()
            )),
            Err(Error::Scenario(e)) => errors.extend(e.iter().map(ToString::to_string)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        // The files that are valid are still listed.
        ctx.stdout.push_str(&out);
        Err(Error::Usage(errors.join("\n")))
    }
}

pub(crate) fn init(args: &InitArgs, ctx: &Ctx) -> Result<String, Error> {
    ctx.control
        .writing(&args.file, |_| crate::init::write_new(&args.file, args.template))?;
    let f = args.file.display();
    Ok(format!(
        "wrote {f} (template {}, from {}); next: sancsim show {f}, then sancsim run {f}\n",
        args.template.name(),
        args.template.shipped_file()
    ))
}

pub(crate) fn show(args: &ShowArgs, ctx: &mut Ctx) -> Result<String, Error> {
    let (model, _) = ctx.load(&args.file, &args.set)?;
    let shown = crate::show::Shown::new(&model, &args.file.display().to_string());
    Ok(match args.format {
        ShowFormat::Text => crate::show::text(&shown),
        ShowFormat::Json => crate::show::json(&shown),
    })
}

pub(crate) fn bench(args: &BenchArgs) -> Result<String, Error> {
    if args.intervals {
        return Ok(crate::bench::interval_bench());
    }
    load(&args.file, &[])?;
    if args.trials == 0 || args.trials > MAX_TRIALS || args.threads.contains(&0) {
        return Err(Error::Usage(
            "bench needs 1 <= --trials <= 10^8 and thread counts >= 1".into(),
        ));
    }
    let exe = std::env::current_exe().map_err(|e| Error::Run(format!("cannot find the sancsim executable: {e}")))?;
    let mut runs: Vec<Vec<crate::bench::BenchResult>> = vec![Vec::new(); args.threads.len()];
    for _ in 0..args.repeat.max(1) {
        for (i, &t) in args.threads.iter().enumerate() {
            let out = std::process::Command::new(&exe)
                .arg("bench-worker")
                .arg(&args.file)
                .args(["--trials", &args.trials.to_string(), "--threads", &t.to_string()])
                .output()
                .map_err(|e| Error::Run(format!("cannot start a benchmark process: {e}")))?;
            if !out.status.success() {
                return Err(Error::Run(format!(
                    "benchmark with {t} threads failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
            let r: crate::bench::BenchResult = serde_json::from_slice(&out.stdout)
                .map_err(|e| Error::Run(format!("unreadable benchmark result: {e}")))?;
            runs[i].push(r);
        }
    }
    Ok(crate::bench::table(&args.file, &runs))
}
