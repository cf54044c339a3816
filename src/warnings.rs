//! What a command warns about without refusing: a typed kind, the words for a person,
//! and the file, line and field where it has a place. Said on stderr as soon as it is
//! known (before anything is sent), and under `--json` listed in the command's result
//! as `warnings`, an array of objects with snake_case keys (`kind`, `message`, and
//! `file`, `line`, `column`, `field` where there is a place), so a script sees what a
//! person sees. A warning never changes the exit code.

use serde::{Deserialize, Serialize};

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// No regime of the incident has CFCS receive the legal report: it goes via
    /// Virk.dk to another authority, and the e-mail is voluntary.
    Routing,
    /// A channel the regime's reporters are reminded of (public authorities: FIIN).
    Reminder,
    /// A CVR number whose modulus-11 check digits fail.
    CvrCheckDigits,
}

/// One warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub kind: WarningKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Warning {
    pub fn new(kind: WarningKind, message: impl Into<String>) -> Warning {
        Warning { kind, message: message.into(), file: None, line: None, column: None, field: None }
    }

    /// The same warning, placed: a file, its line and column where known, a field.
    pub fn placed(self, file: &str, place: Option<(usize, usize)>, field: &str) -> Warning {
        Warning {
            file: Some(file.to_string()),
            line: place.map(|p| p.0),
            column: place.map(|p| p.1),
            field: Some(field.to_string()),
            ..self
        }
    }

    /// `file:line:column: field: message`, as compilers write it.
    pub fn text(&self) -> String {
        let place = match (&self.file, self.line, self.column) {
            (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}: "),
            (Some(f), Some(l), None) => format!("{f}:{l}: "),
            (Some(f), None, _) => format!("{f}: "),
            (None, _, _) => String::new(),
        };
        let field = self.field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default();
        format!("{place}{field}{}", self.message)
    }
}

/// Says each warning on stderr.
pub fn say(warnings: &[Warning]) {
    for w in warnings {
        crate::output::warn(&w.text());
    }
}

/// The `warnings` array of a command's JSON result.
pub fn json(warnings: &[Warning]) -> serde_json::Value {
    serde_json::to_value(warnings).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placed_warnings_read_like_compiler_messages_and_json_is_snake_case() {
        let w = Warning::new(WarningKind::CvrCheckDigits, "12345678 fails").placed("i.toml", Some((8, 7)), "reporter.cvr");
        assert_eq!(w.text(), "i.toml:8:7: reporter.cvr: 12345678 fails");
        let j = json(std::slice::from_ref(&w));
        assert_eq!(j[0]["kind"], "cvr_check_digits");
        assert_eq!((j[0]["line"].as_u64(), j[0]["field"].as_str()), (Some(8), Some("reporter.cvr")));
        let bare = Warning::new(WarningKind::Routing, "via Virk.dk");
        assert_eq!(bare.text(), "via Virk.dk");
        assert_eq!(json(&[bare]).to_string(), r#"[{"kind":"routing","message":"via Virk.dk"}]"#);
    }
}
