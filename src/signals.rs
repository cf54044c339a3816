//! The only signal-hook user: SIGTERM and SIGINT (Ctrl-C) either raise a flag that a
//! long-running command (`watch`) checks between its steps, so it ends cleanly instead
//! of in the middle of a commit; or, for a command that queues mail (`notify`,
//! `reply`), end it at once from a thread of ours, with the terminal as it was and a
//! line saying where the mail is. Nothing is done inside the handler itself.
//!
//! Ending at once is safe there because every step is crash-safe already (a commit
//! is atomic, a message claimed by a dead process is sent by the next flush); what
//! must not happen is saying "nothing was queued" while a commit lands, so the
//! commit holds the line's lock (see [`hold`]).

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::exit::Failure;

/// Set once SIGTERM or SIGINT arrived.
#[derive(Clone)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Installs the handlers for this process.
    pub fn install() -> Result<Stop, Failure> {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&flag))
                .map_err(|e| Failure::failed(format!("cannot handle signal {signal}: {e}")))?;
        }
        Ok(Stop(flag))
    }

    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps for `total`, waking early when a stop is requested; true if it was.
    pub fn sleep(&self, total: Duration) -> bool {
        let end = Instant::now() + total;
        while !self.requested() {
            let now = Instant::now();
            if now >= end {
                return false;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(100)));
        }
        true
    }
}

/// What an interrupted command says, and the terminal it restores.
struct OnInterrupt {
    line: Mutex<String>,
    terminal: Option<SavedTerminal>,
}

static ON_INTERRUPT: OnceLock<OnInterrupt> = OnceLock::new();

/// From now on SIGINT and SIGTERM end the process with exit status 130, after
/// restoring the terminal and printing `line` (changed later with [`hold`]).
pub fn report_on_interrupt(line: String) -> Result<(), Failure> {
    if let Some(on) = ON_INTERRUPT.get() {
        *lock(&on.line) = line;
        return Ok(());
    }
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT])
        .map_err(|e| Failure::failed(format!("cannot handle Ctrl-C: {e}")))?;
    // Saved before any prompt turns echo off: this is the state to give back.
    let _ = ON_INTERRUPT.set(OnInterrupt { line: Mutex::new(line), terminal: SavedTerminal::save() });
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            stop();
        }
    });
    Ok(())
}

/// The line to say, locked: hold it across a commit and set it after, so an
/// interruption waits for the commit and then tells the truth. `None` when
/// [`report_on_interrupt`] was not called.
pub fn hold() -> Option<MutexGuard<'static, String>> {
    ON_INTERRUPT.get().map(|on| lock(&on.line))
}

/// A prompt saw Ctrl-C (rpassword reads it as a character and raises SIGINT):
/// ends the process as the signal would, or is an interruption failure where no
/// line was set.
pub fn interrupted() -> Failure {
    if ON_INTERRUPT.get().is_some() {
        stop();
    }
    Failure::new(crate::exit::FailureKind::Interrupted, "interrupted")
}

/// Restores the terminal, says the line and exits 130. Whoever calls it first
/// holds the lock until the process is gone, so the line is said once.
fn stop() -> ! {
    let Some(on) = ON_INTERRUPT.get() else { std::process::exit(130) };
    let line = lock(&on.line);
    if let Some(t) = &on.terminal {
        t.restore();
    }
    eprintln!("\ncertmail: interrupted: {}", crate::output::sanitize(&line));
    std::process::exit(130)
}

fn lock(line: &Mutex<String>) -> MutexGuard<'_, String> {
    line.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The controlling terminal's settings at start: a passphrase prompt turns echo
/// off and, interrupted, would leave it off.
struct SavedTerminal {
    tty: std::fs::File,
    termios: libc::termios,
}

impl SavedTerminal {
    fn save() -> Option<SavedTerminal> {
        let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").ok()?;
        // SAFETY: termios is plain data that tcgetattr fills in; the fd is open.
        let mut termios: libc::termios = unsafe { std::mem::zeroed() };
        (unsafe { libc::tcgetattr(tty.as_raw_fd(), &mut termios) } == 0).then_some(SavedTerminal { tty, termios })
    }

    fn restore(&self) {
        // SAFETY: the fd is open and termios came from tcgetattr on it.
        unsafe { libc::tcsetattr(self.tty.as_raw_fd(), libc::TCSANOW, &self.termios) };
    }
}
