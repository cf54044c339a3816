//! Template overrides: which embedded templates a file in the template folder
//! replaces, whether each still renders (with a stand-in incident), and files there
//! that replace nothing (a misspelt name is silently not used).

use std::path::Path;

use super::{Check, Status};
use crate::config::Settings;
use crate::incident::{Incident, Language, Scheme};
use crate::template::{self, MessageInput, ReportInput, Reporter};

const NAME: &str = "templates";
const SCHEMES: [Scheme; 5] =
    [Scheme::NisOperator, Scheme::DigitalServiceProvider, Scheme::PublicAuthority, Scheme::Voluntary, Scheme::PersonalData];

pub fn check(settings: &Settings) -> Check {
    let dir = settings.templates_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Check::ok(NAME, format!("no overrides ({} does not exist): the embedded templates are used", dir.display()));
    };
    let mut names: Vec<String> =
        entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| !n.starts_with('.')).collect();
    names.sort();
    let embedded: Vec<&str> = template::embedded_names().collect();
    let (overrides, unused): (Vec<String>, Vec<String>) = names.into_iter().partition(|n| embedded.contains(&n.as_str()));
    let broken: Vec<String> = overrides.iter().filter_map(|n| renders(&dir, n).err()).collect();
    let status = if !broken.is_empty() {
        Status::Error
    } else if !unused.is_empty() {
        Status::Warning
    } else {
        Status::Ok
    };
    let mut said = Vec::new();
    said.push(if overrides.is_empty() {
        format!("no overrides in {}", dir.display())
    } else {
        format!("{} overrides {}", dir.display(), overrides.join(", "))
    });
    if !broken.is_empty() {
        said.push(format!("does not render: {}", broken.join("; ")));
    } else if !overrides.is_empty() {
        said.push("each renders".into());
    }
    if !unused.is_empty() {
        said.push(format!("not used (no embedded template has that name): {}", unused.join(", ")));
    }
    let fix = match status {
        Status::Ok => String::new(),
        Status::Error => "fix the template named (or remove it to use the embedded one), then `certmail preview FILE`".into(),
        Status::Warning => format!("rename or remove the unused files; the names that override are: {}", embedded.join(", ")),
    };
    Check { name: NAME.into(), status, message: said.join("; "), fix }
}

/// Renders the templates an override takes part in; the error names it and why.
fn renders(dir: &Path, name: &str) -> Result<(), String> {
    let parts: Vec<&str> = name.split('.').collect();
    let language = match parts.get(1) {
        Some(&"da") => Language::Da,
        Some(&"en") => Language::En,
        _ => return Err(format!("{name}: not a language this release has")),
    };
    let said = |f: crate::exit::Failure| format!("{name}: {}", f.message);
    if parts[0] == "_message" {
        let reporter = Reporter {
            name: "Doctor".into(),
            title: None,
            organisation: "Test".into(),
            email: "doctor@example.invalid".into(),
            phone: None,
        };
        let input = MessageInput {
            text: "certmail doctor: a test rendering",
            reference: "CM-0000-0000-0000",
            title: "certmail doctor",
            reporter: &reporter,
            recipient_name: "Example CERT",
            recipient_address: "cert@example.invalid",
            attachments: &[],
            samples: &[],
            language,
        };
        return template::render_message(&input, Some(dir)).map(drop).map_err(said);
    }
    // `_report` is shared by every scheme's report: each must still render.
    let schemes: Vec<Scheme> = SCHEMES.into_iter().filter(|s| parts[0] == "_report" || s.key() == parts[0]).collect();
    for scheme in schemes {
        let incident =
            Incident { scheme: Some(scheme.into()), title: Some("certmail doctor: a test rendering".into()), ..Incident::default() };
        let input = ReportInput {
            incident: &incident,
            reference: "CM-0000-0000-0000",
            recipient_name: "Example CERT",
            recipient_address: "cert@example.invalid",
            created: chrono::DateTime::UNIX_EPOCH,
            follow_up: None,
            attachments: &[],
            samples: &[],
            changes: &[],
            language,
            regimes: &crate::regimes::Table::embedded(),
        };
        template::render(&input, Some(dir)).map_err(said)?;
    }
    Ok(())
}
