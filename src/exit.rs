//! Outcomes and failures of a command, and the exit code each maps to.
//!
//! Every command returns `Result<Outcome, Failure>`; only `main` turns that into a
//! process exit code, so the table in README.md lives in exactly one place.

use std::fmt;

/// How a command that did its job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done.
    Done,
    /// The notification is safe in the outbox but not delivered yet.
    Queued,
}

/// Why a command could not do its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Usage, configuration or input error: the user must change something.
    Input,
    /// The operation failed: crypto, store, permanent rejection.
    Failed,
    /// Interrupted by a signal.
    Interrupted,
}

/// A failure with a message meant for the person at the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn input(message: impl Into<String>) -> Self {
        Failure { kind: FailureKind::Input, message: message.into() }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Failure { kind: FailureKind::Failed, message: message.into() }
    }

    /// Adds what was being done when the failure happened, keeping its kind.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Failure { kind: self.kind, message: format!("{what}: {}", self.message) }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

pub type CmdResult = Result<Outcome, Failure>;

/// The documented exit code of a command's result.
pub fn code(result: &CmdResult) -> u8 {
    match result {
        Ok(Outcome::Done) => 0,
        Ok(Outcome::Queued) => 3,
        Err(f) => match f.kind {
            FailureKind::Failed => 1,
            FailureKind::Input => 2,
            FailureKind::Interrupted => 130,
        },
    }
}

/// Shorthand for an I/O error on a named file: always names the path.
pub fn io_failure(action: &str, path: &std::path::Path, err: std::io::Error) -> Failure {
    let kind = match err.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => FailureKind::Input,
        _ => FailureKind::Failed,
    };
    Failure { kind, message: format!("{action} {}: {err}", path.display()) }
}
