//! `certmail log list | show | export | verify`: the incident log as the team's record.

use std::io::Write;

use crate::cli::LogCommand;
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::output;
use crate::store::Store;

pub fn run(settings: &Settings, command: &LogCommand) -> CmdResult {
    let path = settings.store_path();
    if !path.exists() {
        return Err(Failure::input(format!("no incident log yet at {}: `certmail notify` creates it", path.display())));
    }
    let store = Store::open(&path)?;
    match command {
        LogCommand::List { json } => list(&store, *json),
        LogCommand::Show { reference, json } => show(&store, reference, *json),
        LogCommand::Export { csv, .. } => export(&store, *csv),
        LogCommand::Verify { json } => verify(&store, *json),
    }
}

fn list(store: &Store, json: bool) -> CmdResult {
    let incidents = store.incidents()?;
    if json {
        output::json(&serde_json::json!({ "incidents": incidents }));
    } else if incidents.is_empty() {
        output::say("No incidents yet.");
    } else {
        for i in &incidents {
            output::say(&format!(
                "{}  {:<24} {}  ({} message(s), last: {})",
                i.reference,
                i.scheme,
                i.title,
                i.messages,
                i.last_event.as_deref().unwrap_or("-")
            ));
        }
    }
    Ok(Outcome::Done)
}

fn show(store: &Store, reference: &str, json: bool) -> CmdResult {
    let events = store.timeline(reference)?.ok_or_else(|| Failure::input(format!("no incident {reference} in the log")))?;
    if json {
        output::json(&serde_json::json!({ "reference": reference, "events": events }));
        return Ok(Outcome::Done);
    }
    output::say(&format!("{reference}:"));
    for e in &events {
        let message = e.message_id.as_deref().map(|m| format!(" <{m}>")).unwrap_or_default();
        output::say(&format!("  {}  {:<10}{message} {}", e.at, e.kind, e.detail));
    }
    Ok(Outcome::Done)
}

fn export(store: &Store, csv: bool) -> CmdResult {
    let mut out = std::io::stdout().lock();
    if csv {
        let _ = writeln!(out, "reference,event,at,kind,message_id,detail");
    }
    for incident in store.incidents()?.iter().rev() {
        for e in store.timeline(&incident.reference)?.unwrap_or_default() {
            let line = if csv {
                let fields = [
                    incident.reference.clone(),
                    e.id.to_string(),
                    e.at.clone(),
                    e.kind.clone(),
                    e.message_id.clone().unwrap_or_default(),
                    e.detail.to_string(),
                ];
                fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",")
            } else {
                serde_json::json!({ "reference": incident.reference, "event": e.id, "at": e.at, "kind": e.kind, "message_id": e.message_id, "detail": e.detail }).to_string()
            };
            // A closed pipe ends the export quietly.
            if writeln!(out, "{line}").is_err() {
                break;
            }
        }
    }
    Ok(Outcome::Done)
}

/// RFC 4180 quoting; a leading =, +, - or @ is defused so spreadsheets do not run it.
fn csv_field(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_string() };
    if defused.contains([',', '"', '\n', '\r']) { format!("\"{}\"", defused.replace('"', "\"\"")) } else { defused }
}

fn verify(store: &Store, json: bool) -> CmdResult {
    let problems = store.verify_chain()?;
    if json {
        output::json(&serde_json::json!({ "ok": problems.is_empty(), "problems": problems }));
    } else if problems.is_empty() {
        output::say("The incident log is intact: every event is as it was recorded.");
    } else {
        for p in &problems {
            match p.event {
                Some(id) => output::say(&format!("event {id}: {}", p.problem)),
                None => output::say(&p.problem),
            }
        }
    }
    if problems.is_empty() {
        Ok(Outcome::Done)
    } else {
        Err(Failure::failed(format!("the incident log was changed: {} problem(s)", problems.len())))
    }
}
