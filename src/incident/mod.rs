//! The incident model (from the Virk.dk form and the NIS law), reading it from TOML or
//! JSON, and its validation per scheme. Pure apart from [`read_source`], which reads
//! the named file or standard input.

pub mod choices;
mod model;
mod validate;

use std::io::Read;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::IdentityConfig;
use crate::exit::{Failure, io_failure};

pub use choices::Scheme;
pub use model::*;
pub use validate::{Problem, validate, validate_contact};

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
}

/// Reads an incident file, or standard input for `-`, with a size cap.
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
    let text = String::from_utf8(bytes)
        .map_err(|e| Failure::input(format!("{name}: not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to())))?;
    let json = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("toml") => false,
        // Standard input and other names: JSON always starts with an object.
        _ => text.trim_start().starts_with('{'),
    };
    Ok(Source { name, text, json })
}

/// Parses an incident, naming the file, the field path and what was expected.
pub fn parse(source: &Source) -> Result<Incident, Failure> {
    let located = |path: String, msg: String| {
        let path = if path.is_empty() || path == "." { String::new() } else { format!("{path}: ") };
        Failure::input(format!("{}: {path}{}", source.name, msg.trim()))
    };
    if source.json {
        let mut de = serde_json::Deserializer::from_str(&source.text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| located(e.path().to_string(), e.inner().to_string()))
    } else {
        let de = toml::Deserializer::parse(&source.text).map_err(|e| located(String::new(), e.to_string()))?;
        serde_path_to_error::deserialize(de).map_err(|e| located(e.path().to_string(), e.inner().message().to_string()))
    }
}

/// Fills the reporter section from the configured identity where the file is silent,
/// as the Virk.dk form fills it from the reporter's login.
pub fn with_identity(mut incident: Incident, identity: Option<&IdentityConfig>) -> Incident {
    let Some(id) = identity else { return incident };
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
    fill(&mut r.phone, id.phone.as_ref());
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

/// The JSON Schema of incident files.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Incident)).unwrap_or(serde_json::Value::Null)
}
