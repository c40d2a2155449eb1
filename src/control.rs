//! Stopping a command on Ctrl-C or SIGTERM without leaving half-written
//! outputs: the one place that knows whether results are being written.
//!
//! The library installs no signal handler; `main` does, and calls
//! [`Control::interrupt`] from it. A command is always in one of two
//! phases:
//! * **working** (simulating, computing statistics, drawing charts and
//!   reports): nothing of this command is on disk yet except complete
//!   result folders it finished earlier, so an interrupt stops the process
//!   at once, whatever it is computing;
//! * **writing** (inside [`Control::writing`]): a result folder is being
//!   assembled; an interrupt only raises the flag, which the writer checks
//!   between files and just before the folder is put in place, then removes
//!   its temporary folder and returns [`Error::Interrupted`].
//!
//! Either way no half-written output is left behind: previous results stay
//! as they were, and folders completed before the interrupt are complete.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;

/// Cancellation state shared by a command and the signal handler.
#[derive(Debug, Default)]
pub struct Control {
    /// Raised by an interrupt; trial loops check it before each block.
    flag: AtomicBool,
    /// Held while the phase changes, so an interrupt sees a settled phase.
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    writing: bool,
    /// Result folders completed by this command, in order.
    written: Vec<PathBuf>,
}

impl Control {
    /// A control that has not been interrupted.
    pub fn new() -> Control {
        Control::default()
    }

    /// The flag that trial loops poll.
    pub fn flag(&self) -> &AtomicBool {
        &self.flag
    }

    /// Whether an interrupt has arrived.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// [`Error::Interrupted`] once an interrupt has arrived.
    pub fn check(&self) -> Result<(), Error> {
        if self.is_cancelled() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    /// Records an interrupt. Outside the writing phase it calls `stop` with
    /// the folders already completed, while holding the phase lock so that no
    /// write can begin; `stop` is expected to end the process (as `main`'s
    /// does, with exit code 130). Inside the writing phase it returns and the
    /// writer stops at its next check.
    pub fn interrupt(&self, stop: impl FnOnce(&[PathBuf])) {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.flag.store(true, Ordering::SeqCst);
        if !state.writing {
            stop(&state.written);
        }
    }

    /// Runs `write` (which assembles and puts in place the folder `dest`) as
    /// the writing phase. `write` gets a function that tells whether an
    /// interrupt has arrived, to check between files and before the folder is
    /// put in place. Refuses to start once interrupted; on success `dest` is
    /// recorded as complete, and if an interrupt arrived meanwhile the result
    /// is still [`Error::Interrupted`], so the command stops there.
    pub fn writing<T>(
        &self,
        dest: &Path,
        write: impl FnOnce(&dyn Fn() -> bool) -> Result<T, Error>,
    ) -> Result<T, Error> {
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            self.check()?;
            state.writing = true;
        }
        let result = write(&|| self.is_cancelled());
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.writing = false;
        if result.is_ok() {
            state.written.push(dest.to_path_buf());
        }
        // An interrupt that came while `dest` was being put in place, too
        // late to stop it, still ends the command here: `dest` is complete
        // and listed as kept.
        match result {
            Ok(_) if self.is_cancelled() => Err(Error::Interrupted),
            other => other,
        }
    }

    /// Result folders completed so far.
    pub fn written(&self) -> Vec<PathBuf> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).written.clone()
    }
}

/// The message for an interrupt that arrived after `written` folders were
/// completed (none, for a single run).
pub fn interrupted_message(written: &[PathBuf]) -> String {
    if written.is_empty() {
        return "interrupted: stopped before any result was written; earlier results left as they were".into();
    }
    let list: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    format!(
        "interrupted: the results already complete were kept ({}); nothing else was written",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn an_interrupt_outside_writing_stops_at_once_with_the_completed_folders() {
        let c = Control::new();
        c.writing(Path::new("out/a"), |_| Ok(())).unwrap();
        let seen = Cell::new(None);
        c.interrupt(|w| seen.set(Some(w.to_vec())));
        assert_eq!(seen.take(), Some(vec![PathBuf::from("out/a")]));
        assert!(c.is_cancelled());
        assert!(matches!(
            c.writing(Path::new("out/b"), |_| Ok(())),
            Err(Error::Interrupted)
        ));
    }

    #[test]
    fn an_interrupt_too_late_to_stop_a_write_keeps_the_folder_and_stops_the_command() {
        let c = Control::new();
        let r = c.writing(Path::new("out/a"), |_| {
            c.interrupt(|_| panic!("stop must not run while a folder is being written"));
            Ok(())
        });
        assert!(matches!(r, Err(Error::Interrupted)));
        assert_eq!(c.written(), vec![PathBuf::from("out/a")]);
    }

    #[test]
    fn an_interrupt_while_writing_is_seen_by_the_writer_not_acted_on() {
        let c = Control::new();
        let stopped = Cell::new(false);
        let r: Result<(), Error> = c.writing(Path::new("out/a"), |cancelled| {
            assert!(!cancelled());
            c.interrupt(|_| stopped.set(true));
            assert!(cancelled());
            Err(Error::Interrupted)
        });
        assert!(matches!(r, Err(Error::Interrupted)));
        assert!(!stopped.get(), "stop must not run while a folder is being written");
        assert!(c.written().is_empty());
    }
}
