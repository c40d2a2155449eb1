//! `sancsim`: parse the command line, run the command, map errors to exit codes.

use clap::Parser;
use sancsim::cli::{Cli, execute};

fn main() {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(out) => print!("{out}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
