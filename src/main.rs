//! `sancsim`: parse the command line, run the command, map errors to exit codes.

use clap::Parser;
use sancsim::cli::{Cli, execute};

fn main() {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(out) => print!("{out}"),
        Err(e) => {
            for line in e.to_string().lines() {
                eprintln!("error: {line}");
            }
            std::process::exit(e.exit_code());
        }
    }
}
