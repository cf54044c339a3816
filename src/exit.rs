//! Outcomes and failures of a command, the exit code each maps to, and the JSON
//! object a failure is under `--json`.
//!
//! Every command returns `Result<Outcome, Failure>`; only `main` turns that into a
//! process exit code, so the table in README.md lives in exactly one place. A
//! failure's [`FailureKind`] decides both its exit code and the stable `kind` that
//! scripts read, so two commands failing for the same reason say the same.

use std::fmt;

/// How a command that did its job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done.
    Done,
    /// The notification is safe in the outbox but not delivered yet.
    Queued,
}

/// Why a command could not do its job. Each kind has one exit code (README,
/// "Exit status") and one `kind` in `--json` errors; adding one means adding it to
/// both tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The command line itself: an unknown option, a missing argument.
    Usage,
    /// An input file or argument that must be changed (an incident file, a flag's value).
    Input,
    /// The configuration (config.toml, pins.toml, the identity it names).
    Config,
    /// A file, incident, recipient or message that is not there.
    NotFound,
    /// The home folder does not exist (a mistyped --home): nothing was created.
    NoHome,
    /// The request contradicts what was done before: an incident already notified,
    /// an idempotency key used for another request.
    Conflict,
    /// A recipient's public key is not installed.
    KeyMissing,
    /// A recipient's key is there but refused: pin mismatch, revoked, expired, no
    /// encryption subkey, unreadable.
    KeyRefused,
    /// Signing, decryption or the reporter's key could not be used.
    Crypto,
    /// Delivery failed for good, or the relay settings need fixing.
    Delivery,
    /// The IMAP mailbox could not be read.
    Mailbox,
    /// `log verify` (or `log anchor`) found the log changed.
    LogInconsistent,
    /// `doctor` found a check in error.
    ChecksFailed,
    /// Some other operation failed (the store, a file that could not be written).
    Failed,
    /// A bug or a state certmail cannot explain.
    Internal,
    /// Interrupted by a signal or Ctrl-C / Ctrl-D at a prompt.
    Interrupted,
}

impl FailureKind {
    /// Every kind, for the README table's test.
    pub const ALL: [FailureKind; 16] = [
        FailureKind::Usage,
        FailureKind::Input,
        FailureKind::Config,
        FailureKind::NotFound,
        FailureKind::NoHome,
        FailureKind::Conflict,
        FailureKind::KeyMissing,
        FailureKind::KeyRefused,
        FailureKind::Crypto,
        FailureKind::Delivery,
        FailureKind::Mailbox,
        FailureKind::LogInconsistent,
        FailureKind::ChecksFailed,
        FailureKind::Failed,
        FailureKind::Internal,
        FailureKind::Interrupted,
    ];

    /// The stable name scripts read as `error.kind`.
    pub fn key(self) -> &'static str {
        match self {
            FailureKind::Usage => "usage",
            FailureKind::Input => "invalid_input",
            FailureKind::Config => "config",
            FailureKind::NotFound => "not_found",
            FailureKind::NoHome => "no_home",
            FailureKind::Conflict => "conflict",
            FailureKind::KeyMissing => "key_missing",
            FailureKind::KeyRefused => "key_refused",
            FailureKind::Crypto => "crypto",
            FailureKind::Delivery => "delivery",
            FailureKind::Mailbox => "mailbox",
            FailureKind::LogInconsistent => "log_inconsistent",
            FailureKind::ChecksFailed => "checks_failed",
            FailureKind::Failed => "failed",
            FailureKind::Internal => "internal",
            FailureKind::Interrupted => "interrupted",
        }
    }

    /// The process exit code: 2 when the user must change what they asked or
    /// configured, 1 when the operation failed, 130 when interrupted.
    pub fn exit_code(self) -> u8 {
        match self {
            FailureKind::Usage
            | FailureKind::Input
            | FailureKind::Config
            | FailureKind::NotFound
            | FailureKind::NoHome
            | FailureKind::Conflict
            | FailureKind::KeyMissing => 2,
            FailureKind::KeyRefused
            | FailureKind::Crypto
            | FailureKind::Delivery
            | FailureKind::Mailbox
            | FailureKind::LogInconsistent
            | FailureKind::ChecksFailed
            | FailureKind::Failed
            | FailureKind::Internal => 1,
            FailureKind::Interrupted => 130,
        }
    }
}

/// One problem of an input, as editors and scripts locate it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problem {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The field path, e.g. `nis.users-affected`.
    pub field: Option<String>,
    /// What is expected there (the whole message).
    pub expected: String,
    /// The near miss's likely meaning, when there is one.
    pub did_you_mean: Option<String>,
}

/// A failure with a message meant for the person at the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    /// The field path the failure is about, where there is one.
    pub field: Option<String>,
    /// Every problem of an input, for validation failures.
    pub problems: Vec<Problem>,
    /// The command's own result, printed with the error in one object under --json
    /// (`keys check`'s and `doctor`'s checks, `notify`'s messages).
    pub report: Option<serde_json::Value>,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure { kind, message: message.into(), field: None, problems: Vec::new(), report: None }
    }

    pub fn input(message: impl Into<String>) -> Self {
        Failure::new(FailureKind::Input, message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Failure::new(FailureKind::Failed, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Failure::new(FailureKind::NotFound, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Failure::new(FailureKind::Config, message)
    }

    /// The same failure said to be of another kind (a caller knows better).
    pub fn as_kind(self, kind: FailureKind) -> Self {
        Failure { kind, ..self }
    }

    pub fn with_field(self, field: impl Into<String>) -> Self {
        Failure { field: Some(field.into()), ..self }
    }

    pub fn with_problems(self, problems: Vec<Problem>) -> Self {
        let field = self.field.or_else(|| problems.iter().find_map(|p| p.field.clone()));
        Failure { problems, field, ..self }
    }

    pub fn with_report(self, report: serde_json::Value) -> Self {
        Failure { report: Some(report), ..self }
    }

    /// Adds what was being done when the failure happened, keeping its kind.
    pub fn context(self, what: impl fmt::Display) -> Self {
        let message = format!("{what}: {}", self.message);
        Failure { message, ..self }
    }

    /// The one JSON object `--json` prints for this failure: the command's report
    /// (if any) with `error` beside it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut error = serde_json::json!({ "kind": self.kind.key(), "message": self.message, "exit_code": self.kind.exit_code() });
        if let Some(field) = &self.field {
            error["field"] = field.clone().into();
        }
        if !self.problems.is_empty() {
            let problems: Vec<_> = self
                .problems
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "file": p.file, "line": p.line, "column": p.column, "field": p.field,
                        "expected": p.expected, "did_you_mean": p.did_you_mean,
                    })
                })
                .collect();
            error["problems"] = problems.into();
        }
        let mut object = match &self.report {
            Some(serde_json::Value::Object(map)) => map.clone(),
            Some(other) => serde_json::Map::from_iter([("result".to_string(), other.clone())]),
            None => serde_json::Map::new(),
        };
        object.insert("error".into(), error);
        serde_json::Value::Object(object)
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
        Err(f) => f.kind.exit_code(),
    }
}

/// Shorthand for an I/O error on a named file: always names the path.
pub fn io_failure(action: &str, path: &std::path::Path, err: std::io::Error) -> Failure {
    let kind = match err.kind() {
        std::io::ErrorKind::NotFound => FailureKind::NotFound,
        std::io::ErrorKind::PermissionDenied => FailureKind::Input,
        _ => FailureKind::Failed,
    };
    Failure::new(kind, format!("{action} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_snake_case_and_unique() {
        let keys: std::collections::BTreeSet<_> = FailureKind::ALL.iter().map(|k| k.key()).collect();
        assert_eq!(keys.len(), FailureKind::ALL.len());
        assert!(keys.iter().all(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
    }

    #[test]
    fn a_failure_is_one_object_with_its_report_beside_the_error() {
        let f = Failure::input("bad").with_field("title").with_report(serde_json::json!({ "ok": false }));
        let j = f.to_json();
        assert_eq!(j["ok"], false);
        assert_eq!(j["error"]["kind"], "invalid_input");
        assert_eq!(j["error"]["field"], "title");
        assert_eq!(j["error"]["exit_code"], 2);
    }
}
