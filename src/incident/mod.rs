//! The incident model (from the Virk.dk form and the NIS law), reading it from TOML or
//! JSON with every problem of a file found in one pass, and its validation per scheme.
//! Pure apart from [`read_source`], which reads the named file or standard input.

pub mod answer;
mod check;
pub mod choices;
pub mod contact;
pub mod diagnostic;
pub mod document;
pub mod fields;
pub mod indicator;
mod located;
mod model;
mod schema;
pub mod skeleton;
pub mod suggest;
mod tree;
mod validate;

use std::io::Read;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use crate::config::IdentityConfig;
use crate::exit::{Failure, io_failure};

pub use check::is_placeholder;
pub use choices::{Scheme, Schemes};
pub use diagnostic::{Diagnostic, DiagnosticKind};
pub use model::*;
pub use schema::{json_schema, requirements};
pub use validate::{Contact, Problem, ProblemKind, validate, validate_contact};

/// Incident files larger than this are refused before parsing: a report is text.
pub const MAX_INCIDENT_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Language of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Language {
    #[serde(rename = "da")]
    Da,
    #[serde(rename = "en")]
    En,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Da => "da",
            Language::En => "en",
        }
    }
}

/// An incident file's text and the name to use in error messages.
pub struct Source {
    pub name: String,
    pub text: String,
    json: bool,
    /// Lines that were not UTF-8 (their bytes replaced in `text`).
    encoding: Vec<Diagnostic>,
}

impl Source {
    /// An incident file's text as it is being written (by `compose`), not read from disk.
    pub fn toml(name: &str, text: &str) -> Source {
        Source { name: name.to_string(), text: text.to_string(), json: false, encoding: Vec::new() }
    }
}

/// Reads an incident file, or standard input for `-`, with a size cap. A file that is
/// not UTF-8 is still read: its lines are named when it is checked.
pub fn read_source(path: &Path) -> Result<Source, Failure> {
    let (name, bytes) = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(MAX_INCIDENT_FILE_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Failure::input(format!("cannot read standard input: {e}")))?;
        ("<stdin>".to_string(), buf)
    } else {
        let file = std::fs::File::open(path).map_err(|e| io_failure("cannot read incident file", path, e))?;
        let mut buf = Vec::new();
        file.take(MAX_INCIDENT_FILE_BYTES + 1).read_to_end(&mut buf).map_err(|e| io_failure("cannot read incident file", path, e))?;
        (path.display().to_string(), buf)
    };
    if bytes.len() as u64 > MAX_INCIDENT_FILE_BYTES {
        return Err(Failure::input(format!("{name}: larger than {MAX_INCIDENT_FILE_BYTES} bytes; an incident file is text")));
    }
    let (text, encoding) = diagnostic::decode(&bytes);
    let json = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("toml") => false,
        // Standard input and other names: JSON always starts with an object.
        _ => text.trim_start().starts_with(['{', '[']),
    };
    Ok(Source { name, text, json, encoding })
}

/// Everything wrong with a file, in file order, and the incident when it could be read.
pub struct Examination {
    pub diagnostics: Vec<Diagnostic>,
    /// What is taken but doubted (a CVR whose check digits fail), given `now`.
    pub doubts: Vec<contact::Doubt>,
    pub incident: Option<Incident>,
}

/// Reads and checks a file: encoding, syntax, keys, kinds and choices, and, given
/// `now`, the scheme's rules (after `identity` has filled the reporter). Every
/// problem is found in this one pass.
pub fn examine(source: &Source, identity: Option<&IdentityConfig>, now: Option<DateTime<Utc>>) -> Examination {
    let mut diagnostics = source.encoding.clone();
    let tree = if source.json { tree::from_json(&source.text) } else { tree::from_toml(&source.text) };
    let mut broken_lines = Vec::new();
    for e in &tree.errors {
        // One error a line: the parser's next ones there follow from the first.
        let line = tree::line_column(&source.text, e.at).0;
        if !broken_lines.contains(&line) {
            broken_lines.push(line);
            let message = located::syntax_message(&source.text, e, source.json);
            diagnostics.push(Diagnostic::new(Some(e.at), "", DiagnosticKind::Syntax, message));
        }
    }
    let checked = check::check(&tree.root, source.json);
    let on_broken_line = |d: &Diagnostic| d.at.is_some_and(|at| broken_lines.contains(&tree::line_column(&source.text, at).0));
    diagnostics.extend(checked.diagnostics.iter().filter(|d| !on_broken_line(d)).cloned());
    let parsed: Result<Incident, _> = serde_path_to_error::deserialize(&checked.value);
    let incident = match parsed {
        Ok(incident) => incident,
        Err(e) => {
            // The checker refuses what serde would; this is the net under it.
            let path = e.path().to_string();
            let at = located::place(&tree.root, &path);
            diagnostics.push(Diagnostic::new(at, &path, DiagnosticKind::WrongType, e.inner().to_string()));
            located::sort(&mut diagnostics);
            return Examination { diagnostics, doubts: Vec::new(), incident: None };
        }
    };
    let mut doubts = Vec::new();
    let incident = match now {
        None => incident,
        Some(now) => {
            doubts = cvr_doubts(&incident, identity, &tree.root);
            let incident = with_identity(incident, identity);
            let problems = validate(&incident, now);
            let context = located::Context { text: &source.text, root: &tree.root, checked: &checked, syntax: &tree.errors };
            diagnostics.extend(problems.iter().filter_map(|p| context.diagnostic(p)));
            incident
        }
    };
    located::sort(&mut diagnostics);
    Examination { diagnostics, doubts, incident: Some(incident) }
}

/// The CVR numbers of a report whose check digits fail: those the file writes, where
/// it writes them, and the identity's where it fills the reporter's.
fn cvr_doubts(written: &Incident, identity: Option<&IdentityConfig>, root: &tree::Node) -> Vec<contact::Doubt> {
    use contact::{Doubt, Written, cvr_doubt};
    let in_file = |field: &'static str, value: Option<&String>| {
        let message = cvr_doubt(value?)?;
        Some(Doubt { written: Written::File { at: located::place(root, field) }, field, message })
    };
    let reporter = written.reporter.as_ref().and_then(|r| r.cvr.as_ref());
    let mut doubts: Vec<Doubt> =
        [in_file("reporter.cvr", reporter), in_file("on-behalf-of.cvr", written.on_behalf_of.as_ref().and_then(|b| b.cvr.as_ref()))]
            .into_iter()
            .flatten()
            .collect();
    if reporter.is_none()
        && let Some(message) = identity.and_then(|id| cvr_doubt(&id.cvr))
    {
        doubts.push(Doubt { written: Written::Identity, field: "cvr", message });
    }
    doubts
}

/// Where `path` (`identity.cvr`) is written in a TOML text: 1-based line and column.
pub fn locate_in_toml(text: &str, path: &str) -> Option<(usize, usize)> {
    let tree = tree::from_toml(text);
    let at = located::place(&tree.root, path)?;
    Some(tree::line_column(text, at))
}

/// Parses an incident, naming every problem with its file, line, column and field.
pub fn parse(source: &Source) -> Result<Incident, Failure> {
    finish(source, examine(source, None, None))
}

/// Parses, completes (from `identity`) and validates an incident at `now`: every
/// problem of the file, of form and of meaning, in one error.
pub fn load(source: &Source, identity: Option<&IdentityConfig>, now: DateTime<Utc>) -> Result<Incident, Failure> {
    finish(source, examine(source, identity, Some(now)))
}

fn finish(source: &Source, exam: Examination) -> Result<Incident, Failure> {
    match exam.incident {
        Some(incident) if exam.diagnostics.is_empty() => Ok(incident),
        _ => Err(diagnostics_to_failure(source, &exam.diagnostics)),
    }
}

/// One error listing every problem, each on its own line as `file:line:column: path: …`.
pub fn diagnostics_to_failure(source: &Source, diagnostics: &[Diagnostic]) -> Failure {
    let unfilled = diagnostics.iter().filter(|d| d.kind == DiagnosticKind::Unfilled).count();
    let mut msg = if unfilled == diagnostics.len() {
        format!("{}: {unfilled} required field(s) still to fill in:", source.name)
    } else {
        let still = if unfilled > 0 { format!(" ({unfilled} still to fill in)") } else { String::new() };
        format!("{}: {} problem(s){still}; fix them all, then run it again:", source.name, diagnostics.len().max(1))
    };
    for d in diagnostics {
        msg.push_str(&format!("\n  {}", d.render(&source.name, &source.text)));
    }
    Failure::input(msg)
}

/// Fills the reporter section from the configured identity where the file is silent,
/// as the Virk.dk form fills it from the reporter's login (a phone filled from the
/// identity brings the identity's "foreign number" with it: the box describes the
/// number), then writes the phone and CVR numbers in their one form.
pub fn with_identity(mut incident: Incident, identity: Option<&IdentityConfig>) -> Incident {
    if let Some(id) = identity {
        let r = incident.reporter.get_or_insert_with(Reporter::default);
        let fill = |slot: &mut Option<String>, value: Option<&String>| {
            if slot.is_none() {
                *slot = value.cloned();
            }
        };
        fill(&mut r.organisation, Some(&id.organisation));
        fill(&mut r.cvr, Some(&id.cvr));
        fill(&mut r.contact_name, Some(&id.name));
        fill(&mut r.contact_title, id.title.as_ref());
        fill(&mut r.email, Some(&id.email));
        if r.phone.is_none()
            && let Some(phone) = &id.phone
        {
            r.phone = Some(phone.clone());
            r.foreign_phone = if id.phone_is_foreign() { Some(true) } else { r.foreign_phone.map(|_| false) };
        }
    }
    canonical_contacts(incident)
}

/// The phone and CVR numbers of an incident in their one form (those that do not
/// read are left as written, for validation to name).
pub fn canonical_contacts(mut incident: Incident) -> Incident {
    if let Some(r) = incident.reporter.as_mut() {
        let foreign = r.foreign_phone.unwrap_or(false);
        r.phone = r.phone.as_deref().map(|p| contact::canonical_phone(p, foreign));
        r.cvr = r.cvr.as_deref().map(contact::canonical_cvr);
    }
    if let Some(b) = incident.on_behalf_of.as_mut() {
        b.cvr = b.cvr.as_deref().map(contact::canonical_cvr);
    }
    if let Some(d) = incident.dpo.as_mut() {
        let foreign = d.foreign_phone.unwrap_or(false);
        d.phone = d.phone.as_deref().map(|p| contact::canonical_phone(p, foreign));
    }
    incident
}

/// Turns validation problems into one error naming the file and every field.
pub fn problems_to_failure(source_name: &str, problems: &[Problem]) -> Failure {
    let mut msg = format!("{source_name}: {} problem(s) in the incident:", problems.len());
    for p in problems {
        msg.push_str(&format!("\n  {source_name}: {}: {}", p.path, p.expected));
    }
    Failure::input(msg)
}
