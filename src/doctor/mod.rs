//! `certmail doctor`'s checks as values: each says what it looked at, whether that
//! is fine, and what to do when it is not. The checks read and probe; they never
//! write to the home, never prompt, and never send a message.
//!
//! One file per area: `keys` (the identity and the recipients' keys), `relay`
//! (the SMTP conversation up to AUTH), `host` (keyring, clock, file modes), `store` (where the log is
//! kept) and `templates` (overrides and whether they still render).

pub mod host;
pub mod keys;
pub mod relay;
pub mod store;
pub mod templates;

/// How a check came out. Only `Error` makes `doctor` fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    /// Works now, but will not for long or not everywhere (a key expiring, a
    /// recipient not installed that is not the default).
    Warning,
    /// A notification would fail (or fail open) because of it.
    Error,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Error => "error",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Stable and short: `identity`, `recipient cfcs`, `relay`, `file modes`.
    pub name: String,
    pub status: Status,
    pub message: String,
    /// What to do; empty when nothing needs doing.
    pub fix: String,
}

impl Check {
    pub fn ok(name: impl Into<String>, message: impl Into<String>) -> Check {
        Check { name: name.into(), status: Status::Ok, message: message.into(), fix: String::new() }
    }

    pub fn warning(name: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { name: name.into(), status: Status::Warning, message: message.into(), fix: fix.into() }
    }

    pub fn error(name: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { name: name.into(), status: Status::Error, message: message.into(), fix: fix.into() }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "name": self.name, "status": self.status.key(), "message": self.message, "fix": self.fix })
    }
}

/// Keys and certificates warned about this long before they expire (as `keys check`).
pub const EXPIRY_WARNING: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Whole days from `now` to `t` (0 when past), for "expires in N day(s)".
pub fn days_until(t: std::time::SystemTime, now: std::time::SystemTime) -> u64 {
    t.duration_since(now).unwrap_or_default().as_secs() / 86_400
}
