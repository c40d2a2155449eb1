//! `sancsim init`: a commented starter scenario from one of the shipped
//! scenarios, embedded in the binary so a template is always a file the
//! tests validate and run.

use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// The scenarios `init` can start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Template {
    /// The calibrated 2024 seed case (scenarios/default.toml): a ByteDance-like
    /// buyer's Ascend 910B orders, every key commented and sourced.
    #[default]
    Seed,
    /// 2025Q1–2028Q4: Ascend 910B and 910C, HBM-stockpile and die-bank
    /// exhaustion, inference growth (scenarios/current.toml).
    Current,
    /// Only the required keys (scenarios/minimal.toml).
    Minimal,
    /// Domestic Ascend plus a foreign chip (Nvidia H20) behind a US and a
    /// Beijing gate (scenarios/foreign_mix.toml).
    ForeignMix,
}

impl Template {
    /// Every template, in the order `--help` lists them.
    pub const ALL: [Template; 4] = [
        Template::Seed,
        Template::Current,
        Template::Minimal,
        Template::ForeignMix,
    ];

    /// The template's text: a shipped scenario file.
    pub fn text(self) -> &'static str {
        match self {
            Template::Seed => include_str!("../scenarios/default.toml"),
            Template::Current => include_str!("../scenarios/current.toml"),
            Template::Minimal => include_str!("../scenarios/minimal.toml"),
            Template::ForeignMix => include_str!("../scenarios/foreign_mix.toml"),
        }
    }

    /// The shipped file it is taken from.
    pub fn shipped_file(self) -> &'static str {
        match self {
            Template::Seed => "scenarios/default.toml",
            Template::Current => "scenarios/current.toml",
            Template::Minimal => "scenarios/minimal.toml",
            Template::ForeignMix => "scenarios/foreign_mix.toml",
        }
    }

    /// The name `--template` takes.
    pub fn name(self) -> &'static str {
        match self {
            Template::Seed => "seed",
            Template::Current => "current",
            Template::Minimal => "minimal",
            Template::ForeignMix => "foreign-mix",
        }
    }
}

/// The shipped scenarios' first line: the schema for editors, relative to
/// `scenarios/` in the repository.
const SHIPPED_DIRECTIVE: &str = "#:schema ../docs/scenario.schema.json\n";

/// What replaces [`SHIPPED_DIRECTIVE`] in a starter file, whose folder has
/// no `../docs/`: how to get the schema next to it.
const STARTER_DIRECTIVE: &str = "# Editor completion: run `sancsim schema > scenario.schema.json` in this\n\
# file's folder and make the next line `#:schema scenario.schema.json`.\n";

impl Template {
    /// The starter file's text: the shipped scenario, with the schema
    /// directive (whose relative path holds only inside the repository)
    /// replaced by how to get the schema.
    pub fn starter(self) -> String {
        match self.text().strip_prefix(SHIPPED_DIRECTIVE) {
            Some(rest) => format!("{STARTER_DIRECTIVE}{rest}"),
            None => self.text().to_string(),
        }
    }
}

/// Writes `template` as the new file `path`; never replaces an existing
/// file (exit 2), and creates the file in one step so that two `init`s
/// racing for one name cannot both write it.
pub fn write_new(path: &Path, template: Template) -> Result<(), Error> {
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Usage(format!(
                "{}: already exists; init never overwrites a file: choose another name or remove it first",
                path.display()
            )));
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    let written = file
        .write_all(template.starter().as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        // A half-written starter (a full disk) would block the retry.
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(Error::io(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    #[test]
    fn every_template_is_a_valid_scenario_without_warnings() {
        for t in Template::ALL {
            let model =
                Model::from_text(t.text(), t.shipped_file()).unwrap_or_else(|e| panic!("{}: {e}", t.shipped_file()));
            assert!(model.warnings.is_empty(), "{}: {:?}", t.name(), model.warnings);
        }
    }

    #[test]
    fn templates_are_the_shipped_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for t in Template::ALL {
            let shipped = std::fs::read_to_string(root.join(t.shipped_file())).unwrap();
            assert_eq!(t.text(), shipped, "{}", t.name());
        }
    }

    #[test]
    fn starters_point_to_the_schema_command_not_a_repository_path() {
        for t in Template::ALL {
            assert!(t.text().starts_with(SHIPPED_DIRECTIVE), "{}", t.name());
            let starter = t.starter();
            assert!(!starter.contains("../docs/"), "{}", t.name());
            assert!(starter.starts_with(STARTER_DIRECTIVE), "{}", t.name());
            Model::from_text(&starter, t.shipped_file()).unwrap();
        }
    }

    #[test]
    fn names_are_the_command_line_values() {
        use clap::ValueEnum;
        for t in Template::ALL {
            assert_eq!(t.to_possible_value().unwrap().get_name(), t.name());
        }
    }
}
