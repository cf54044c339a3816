//! Renders an incident to the subject and body of the report, with minijinja.
//!
//! Templates are embedded at build time (templates/ in the repository) and a file of
//! the same name in the user's template folder overrides the embedded one. Pure apart
//! from reading that folder; time comes in as a parameter.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Timelike, Utc};
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

use crate::exit::Failure;
use crate::incident::{Incident, Language, Scheme, choices};

/// The embedded templates, by file name.
const EMBEDDED: &[(&str, &str)] = &[
    ("_report.da.txt", include_str!("../templates/_report.da.txt")),
    ("_report.en.txt", include_str!("../templates/_report.en.txt")),
    ("_message.da.txt", include_str!("../templates/_message.da.txt")),
    ("_message.en.txt", include_str!("../templates/_message.en.txt")),
    ("nis-operator.da.txt", include_str!("../templates/nis-operator.da.txt")),
    ("nis-operator.en.txt", include_str!("../templates/nis-operator.en.txt")),
    ("digital-service-provider.da.txt", include_str!("../templates/digital-service-provider.da.txt")),
    ("digital-service-provider.en.txt", include_str!("../templates/digital-service-provider.en.txt")),
    ("public-authority.da.txt", include_str!("../templates/public-authority.da.txt")),
    ("public-authority.en.txt", include_str!("../templates/public-authority.en.txt")),
    ("voluntary.da.txt", include_str!("../templates/voluntary.da.txt")),
    ("voluntary.en.txt", include_str!("../templates/voluntary.en.txt")),
    ("personal-data.da.txt", include_str!("../templates/personal-data.da.txt")),
    ("personal-data.en.txt", include_str!("../templates/personal-data.en.txt")),
    ("financial.da.txt", include_str!("../templates/financial.da.txt")),
    ("financial.en.txt", include_str!("../templates/financial.en.txt")),
];

/// What the template shows about an attachment (its content stays out of the body).
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentInfo {
    pub name: String,
    pub size: u64,
}

/// Everything a report is rendered from.
pub struct ReportInput<'a> {
    pub incident: &'a Incident,
    pub reference: &'a str,
    pub recipient_name: &'a str,
    pub recipient_address: &'a str,
    /// When the report is made; the template shows it in Danish time (`locale`).
    pub created: DateTime<Utc>,
    pub follow_up: Option<&'a str>,
    pub attachments: &'a [AttachmentInfo],
    /// Malware samples, each attached as its own password-protected zip.
    pub samples: &'a [crate::sample::SampleInfo],
    /// A follow-up's changed fields, shown before the whole updated report.
    pub changes: &'a [crate::followup::Change],
    pub language: Language,
    /// The regimes in force (the embedded table with the home's regimes.toml): the
    /// report names each one's legal basis and authority from it.
    pub regimes: &'a crate::regimes::Table,
}

/// Who writes a free-text message, as its signature block shows them.
#[derive(Debug, Clone, Serialize)]
pub struct Reporter {
    pub name: String,
    pub title: Option<String>,
    pub organisation: String,
    pub email: String,
    pub phone: Option<String>,
}

/// Everything a free-text message (`certmail reply`) is rendered from.
pub struct MessageInput<'a> {
    pub text: &'a str,
    pub reference: &'a str,
    /// The incident's title, for the subject.
    pub title: &'a str,
    pub reporter: &'a Reporter,
    pub recipient_name: &'a str,
    pub recipient_address: &'a str,
    pub attachments: &'a [AttachmentInfo],
    pub samples: &'a [crate::sample::SampleInfo],
    pub language: Language,
}

/// A rendered report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The names of the embedded templates, which a file of the same name in the
/// template folder overrides.
pub fn embedded_names() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|(name, _)| *name)
}

/// The template file used for a scheme and language.
pub fn template_name(scheme: Scheme, language: Language) -> String {
    format!("{}.{}.txt", scheme.key(), language.code())
}

/// Renders the report; `user_dir` holds templates overriding the embedded ones.
pub fn render(input: &ReportInput, user_dir: Option<&Path>) -> Result<Rendered, Failure> {
    // Several schemes: the first one's template frames the report.
    let scheme = input.incident.scheme.as_ref().and_then(|s| s.primary()).ok_or_else(|| Failure::input("incident has no scheme"))?;
    let name = template_name(scheme, input.language);
    let env = environment(user_dir.map(Path::to_path_buf), input.language);
    let where_ = |e: minijinja::Error| {
        let origin = match user_dir.map(|d| d.join(&name)).filter(|p| p.exists()) {
            Some(p) => p.display().to_string(),
            None => format!("embedded template {name}"),
        };
        Failure::input(format!("{origin}: {e:#}"))
    };
    let template = env.get_template(&name).map_err(where_)?;
    let regimes = regimes(input.incident, input.regimes, input.language);
    let context = minijinja::context! {
        incident => snake_keys(serde_json::to_value(input.incident).unwrap_or_default()),
        labels => choices::labels(input.language),
        regimes => &regimes,
        // `{% if "nis2" in regime_ids %}`: wording that depends on the law in force.
        regime_ids => regimes.iter().filter_map(|r| r["id"].as_str()).collect::<Vec<_>>(),
        // `incident.scheme` is one key or a list of them: the templates list these.
        schemes => input.incident.scheme.as_ref().map(|s| s.list().iter().map(|s| s.key()).collect::<Vec<_>>()).unwrap_or_default(),
        reference => input.reference,
        recipient => minijinja::context! { name => input.recipient_name, address => input.recipient_address },
        // To the minute: the report's reader plans by minutes, and seconds in
        // "Oprettet" only looked precise.
        created => input.created.with_nanosecond(0).and_then(|t| t.with_second(0)).unwrap_or(input.created).to_rfc3339(),
        follow_up => input.follow_up,
        attachments => input.attachments,
        samples => input.samples,
        changes => input.changes,
    };
    let mut captured = template.render_captured(context).map_err(where_)?;
    let subject = captured.with_state_mut(|state| state.render_block("subject")).map_err(where_)?;
    let body = captured.with_state_mut(|state| state.render_block("body")).map_err(where_)?;
    Ok(Rendered { subject: one_line(&subject), body: tidy(&body) })
}

/// The regimes the report is for, each with its legal basis and who receives it, as
/// `table` names them (a report is rendered before the log knows the incident). A
/// detection time not known counts as the law in force now.
fn regimes(incident: &Incident, table: &crate::regimes::Table, lang: Language) -> Vec<serde_json::Value> {
    use crate::regimes::select;
    let detected = incident.detected_at();
    let facts = select::Facts {
        awareness: detected.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
        personal_data_to: incident.personal_data.as_ref().and_then(|p| p.report_to),
    };
    let schemes = incident.scheme.as_ref().map(|s| s.list()).unwrap_or_default();
    select::regimes(&schemes, &facts)
        .into_iter()
        .filter_map(|id| table.get(id))
        .map(|r| {
            serde_json::json!({
                "id": r.id.key(), "name": r.name.get(lang), "basis": r.basis.get(lang), "authority": r.authority.get(lang),
                "route": r.route.as_ref().map(|t| t.get(lang)),
            })
        })
        .collect()
}

/// Renders a free-text message from `_message.LANG.txt` (overridable like the reports).
pub fn render_message(input: &MessageInput, user_dir: Option<&Path>) -> Result<Rendered, Failure> {
    let name = format!("_message.{}.txt", input.language.code());
    let env = environment(user_dir.map(Path::to_path_buf), input.language);
    let where_ = |e: minijinja::Error| Failure::input(format!("template {name}: {e:#}"));
    let template = env.get_template(&name).map_err(where_)?;
    let context = minijinja::context! {
        text => input.text.trim_end(),
        reference => input.reference,
        title => input.title,
        reporter => input.reporter,
        recipient => minijinja::context! { name => input.recipient_name, address => input.recipient_address },
        attachments => input.attachments,
        samples => input.samples,
    };
    let mut captured = template.render_captured(context).map_err(where_)?;
    let subject = captured.with_state_mut(|state| state.render_block("subject")).map_err(where_)?;
    let body = captured.with_state_mut(|state| state.render_block("body")).map_err(where_)?;
    Ok(Rendered { subject: one_line(&subject), body: tidy(&body) })
}

fn environment(user_dir: Option<PathBuf>, lang: Language) -> Environment<'static> {
    let mut env = Environment::new();
    // `{{ p.at | time }}`, `{{ s.total | number }}`: the reader's way of writing them.
    // A value they cannot read (an override passing something else) is shown as is.
    env.add_filter("time", move |v: Value| match v.as_str().and_then(|s| crate::locale::time_text(s, lang)) {
        Some(t) => Value::from(t),
        None => v,
    });
    // A regime's name starts a list item: "NIS 2-loven", "Databeskyttelsesforordningen"
    // (minijinja's `capitalize` would lower-case the rest).
    env.add_filter("upper_first", |s: String| {
        let mut chars = s.chars();
        chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
    });
    // A count, or a count written as text (a follow-up's changed value): other text
    // passes as it is.
    env.add_filter("number", move |v: Value| {
        let digits = v.as_str().filter(|t| !t.is_empty() && t.len() <= 18 && t.bytes().all(|b| b.is_ascii_digit()));
        match (v.is_integer(), i128::try_from(v.clone()), digits.and_then(|t| t.parse::<i128>().ok())) {
            (true, Ok(n), _) | (_, _, Some(n)) => Value::from(crate::locale::number(n, lang)),
            _ => v,
        }
    });
    // A field's path as the form asks for it, with the path for the precise reader.
    env.add_filter("field_label", move |path: String| match crate::incident::fields::field(&path) {
        Some(f) => format!("{} ({path})", f.question(lang).trim_end_matches(['?', ':'])),
        None => path,
    });
    // Missing optional sections are simply absent: `incident.nis.duration` on an
    // incident without `[nis]` is undefined, not an error.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_keep_trailing_newline(true);
    env.set_loader(move |name| {
        if let Some(dir) = &user_dir {
            // Only plain file names: a template cannot reach outside its folder.
            if !name.contains(['/', '\\']) && !name.starts_with('.') {
                match std::fs::read_to_string(dir.join(name)) {
                    Ok(text) => return Ok(Some(text)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("cannot read {}: {e}", dir.join(name).display()),
                        ));
                    }
                }
            }
        }
        Ok(EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, t)| t.to_string()))
    });
    env
}

/// Template authors write `incident.timeline.how_detected`; files say `how-detected`.
fn snake_keys(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k.replace('-', "_"), snake_keys(v))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(snake_keys).collect()),
        other => other,
    }
}

/// A subject is one line: line breaks from the title become spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Trailing spaces go, runs of blank lines become one, and the text ends in one newline.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.trim_start_matches('\n').lines() {
        // The signature separator "-- " keeps its trailing space (RFC 3676).
        let line = if line == "-- " { line } else { line.trim_end() };
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_collapses_blank_runs_and_keeps_signature_dash() {
        assert_eq!(tidy("\na  \n\n\n\nb\n-- \nc\n\n"), "a\n\nb\n-- \nc\n");
    }

    #[test]
    fn a_message_keeps_the_writers_words_and_names_the_incident() {
        let reporter = Reporter {
            name: "Jens".into(),
            title: None,
            organisation: "Eksempel A/S".into(),
            email: "soc@example.dk".into(),
            phone: Some("+45 11".into()),
        };
        let input = MessageInput {
            text: "Logs attached.\n\n\n\nRegards\n",
            reference: "CM-7KQ2-M9XD-3RTA",
            title: "Ransomware",
            reporter: &reporter,
            recipient_name: "CFCS",
            recipient_address: "cert@cert.cfcs.dk",
            attachments: &[AttachmentInfo { name: "fw.log".into(), size: 9 }],
            samples: &[],
            language: Language::En,
        };
        let r = render_message(&input, None).unwrap();
        assert_eq!(r.subject, "Re: [CM-7KQ2-M9XD-3RTA] Ransomware");
        assert!(r.body.starts_with("Logs attached.\n\nRegards\n\nReference: CM-7KQ2-M9XD-3RTA\n"), "{}", r.body);
        assert!(r.body.contains("  - fw.log (9 bytes)") && r.body.contains("phone: +45 11"), "{}", r.body);
        let da = render_message(&MessageInput { language: Language::Da, ..input }, None).unwrap();
        assert_eq!(da.subject, "Sv: [CM-7KQ2-M9XD-3RTA] Ransomware");
    }

    #[test]
    fn every_scheme_has_both_languages_embedded() {
        for (key, _, _) in Scheme::OPTIONS {
            for lang in ["da", "en"] {
                let name = format!("{key}.{lang}.txt");
                assert!(EMBEDDED.iter().any(|(n, _)| *n == name), "{name} missing");
            }
        }
    }
}
