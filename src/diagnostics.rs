//! An incident file's problems as values a script can read (`--json`'s
//! `error.problems`): file, line, column, field path, what is expected, and the
//! "did you mean" of a near miss. The text a person reads stays the one `incident`
//! writes; this only adds the same facts, located, beside it. Also what a file holds
//! that is taken but doubted, as warnings in the same places.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::IdentityConfig;
use crate::exit::{Failure, Problem};
use crate::incident::contact::{Doubt, Written};
use crate::incident::{self, Diagnostic, Incident, Source};
use crate::warnings::{Warning, WarningKind};

/// [`incident::load`], each problem also as a value, with what it takes but doubts, as warnings placed in the file (or, for
/// the identity's, in the configuration at `config`).
pub fn load_doubted(
    source: &Source,
    identity: Option<&IdentityConfig>,
    config: &Path,
    now: DateTime<Utc>,
) -> Result<(Incident, Vec<Warning>), Failure> {
    let exam = incident::examine(source, identity, Some(now));
    let doubts = exam.doubts.clone();
    let incident = finish(source, exam)?;
    Ok((incident, doubts.iter().map(|d| doubt_warning(source, d, config)).collect()))
}

fn doubt_warning(source: &Source, d: &Doubt, config: &Path) -> Warning {
    let w = Warning::new(WarningKind::CvrCheckDigits, d.message.clone());
    match d.written {
        Written::File { at } => w.placed(&source.name, at.map(|at| line_column(&source.text, at)), d.field),
        Written::Identity => {
            // Read again only for its line: a warning is rare, and the configuration small.
            let place = std::fs::read_to_string(config).ok().and_then(|text| incident::locate_in_toml(&text, "identity.cvr"));
            w.placed(&config.display().to_string(), place, &format!("identity.{}", d.field))
        }
    }
}

/// [`incident::parse`], each problem also as a value.
pub fn parse(source: &Source) -> Result<Incident, Failure> {
    finish(source, incident::examine(source, None, None))
}

fn finish(source: &Source, exam: incident::Examination) -> Result<Incident, Failure> {
    match exam.incident {
        Some(incident) if exam.diagnostics.is_empty() => Ok(incident),
        _ => Err(located(source, &exam.diagnostics)),
    }
}

/// The one error listing every problem, with the problems as values too.
pub fn located(source: &Source, diagnostics: &[Diagnostic]) -> Failure {
    let problems = diagnostics.iter().map(|d| problem(source, d)).collect();
    incident::diagnostics_to_failure(source, diagnostics).with_problems(problems)
}

/// Validation problems of an incident put together from several files (a
/// follow-up over the last report): they have a field, not a place.
pub fn unlocated(source_name: &str, problems: &[incident::Problem]) -> Failure {
    let values = problems
        .iter()
        .map(|p| Problem {
            file: Some(source_name.to_string()),
            field: Some(p.path.clone()),
            expected: p.expected.clone(),
            did_you_mean: did_you_mean(&p.expected),
            ..Problem::default()
        })
        .collect();
    incident::problems_to_failure(source_name, problems).with_problems(values)
}

fn problem(source: &Source, d: &Diagnostic) -> Problem {
    let (line, column) = d.at.map(|at| line_column(&source.text, at)).unzip();
    Problem {
        file: Some(source.name.clone()),
        line,
        column,
        field: (!d.path.is_empty()).then(|| d.path.clone()),
        expected: d.message.clone(),
        did_you_mean: did_you_mean(&d.message),
    }
}

/// The suggestion `incident` writes as "did you mean `X`?" (or without quotes).
fn did_you_mean(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("did you mean ")?;
    let meant = rest.split_once('?').map_or(rest, |(m, _)| m);
    let meant = meant.split(" (").next().unwrap_or(meant).trim().trim_matches(['`', '"']);
    (!meant.is_empty()).then(|| meant.to_string())
}

/// 1-based line and column (in characters) of a byte offset, as editors count.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_read_from_the_message() {
        assert_eq!(did_you_mean("unknown field `titel` here; did you mean `title`?").as_deref(), Some("title"));
        assert_eq!(did_you_mean("\"hackin\" is not one of the choices; did you mean hacking?").as_deref(), Some("hacking"));
        assert_eq!(did_you_mean("unknown field; did you mean `nis.sector` (a field of another section)?").as_deref(), Some("nis.sector"));
        assert_eq!(did_you_mean("expected a number"), None);
    }

    #[test]
    fn places_are_lines_and_columns_from_one() {
        assert_eq!(line_column("a = 1\nbæ = 2\n", 9), (2, 3));
        assert_eq!(line_column("x", 0), (1, 1));
    }
}
