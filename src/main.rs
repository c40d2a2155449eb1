//! `sancsim`: parse the command line, own the signals, run the command,
//! print what it returns and map errors to exit codes.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use clap::Parser;
use sancsim::app::context::{Console, Diagnostic};
use sancsim::app::execute;
use sancsim::cli::Cli;
use sancsim::control::{Control, interrupted_message};
use sancsim::error::Error;

fn main() {
    let cli = Cli::parse();
    let control = Arc::new(Control::new());
    let handler = Arc::clone(&control);
    // Without a handler the default action (exit) still leaves earlier
    // results intact, so failing to install one is not an error.
    let _ = ctrlc::set_handler(move || {
        handler.interrupt(|written| {
            eprint_line("error: ", &interrupted_message(written));
            std::process::exit(130);
        })
    });
    let console = Console {
        progress: std::io::stderr().is_terminal(),
    };
    let outcome = execute(cli, &control, console);
    let mut code = 0;
    if let Err(e) = write_stdout(outcome.stdout.as_bytes()) {
        eprint_line("error: ", &format!("cannot write to standard output: {e}"));
        code = 1;
    }
    for d in &outcome.diagnostics {
        match d {
            Diagnostic::Warning(m) => eprint_line("warning: ", m),
            Diagnostic::Error(m) => eprint_line("error: ", m),
        }
    }
    if let Err(e) = outcome.result {
        let message = match e {
            Error::Interrupted => interrupted_message(&control.written()),
            ref e => e.to_string(),
        };
        for line in message.lines() {
            eprint_line("error: ", line);
        }
        if let Some(text) = e.verbatim() {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
        code = e.exit_code();
    }
    std::process::exit(code);
}

/// Writes all of `bytes` to standard output. A closed pipe (`sancsim … |
/// head`) is not an error: the reader has what it wanted, as with cargo and
/// ripgrep. Any other failure (a full disk) is.
fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// One line on standard error; a closed or full standard error is ignored,
/// as there is nowhere left to report it.
fn eprint_line(prefix: &str, line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{prefix}{line}");
}
