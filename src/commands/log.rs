//! `certmail log list | show | export | verify | anchor`: the incident log as the
//! team's record, and the signed head that lets it be held against a rewrite.

use std::io::Write;
use std::path::Path;

use chrono::Utc;

use crate::anchor::{self, Kept, LogHead, Statement};
use crate::cli::LogCommand;
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, FailureKind, Outcome};
use crate::store::{ChainProblem, Store, timestamp};
use crate::{crypto, fsutil, identity, output};

/// What `log verify` cannot know from the log alone, said whenever no anchor is given.
const WITHOUT_ANCHOR: &str = "Without an anchor this cannot show that the whole chain was not rewritten with its hashes recomputed, nor that its newest events were not deleted with the head moved back. Keep the output of `certmail log anchor` elsewhere and check the log with `certmail log verify --anchor FILE`.";

pub fn run(settings: &Settings, command: &LogCommand, json: bool) -> CmdResult {
    let Some(store) = crate::commands::existing_store(settings, "log")? else {
        return Err(Failure::not_found(format!(
            "no incident log yet at {}: `certmail notify` creates it",
            settings.store_path().display()
        )));
    };
    match command {
        LogCommand::List => list(&store, json),
        LogCommand::Show { reference } => show(&store, reference, json),
        LogCommand::Export { csv } => export(&store, *csv),
        LogCommand::Verify { anchor } => verify(settings, &store, anchor.as_deref(), json),
        LogCommand::Anchor => take_anchor(settings, &store, json),
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
    let events = store.timeline(reference)?.ok_or_else(|| Failure::not_found(format!("no incident {reference} in the log")))?;
    if json {
        let events: Vec<_> = events
            .iter()
            .map(|e| serde_json::json!({ "id": e.id, "at": e.at, "kind": e.kind, "message_id": e.message_id, "by": e.by, "detail": output::snake_case_keys(&e.detail) }))
            .collect();
        output::json(&serde_json::json!({ "reference": reference, "events": events }));
        return Ok(Outcome::Done);
    }
    output::say(&format!("{reference}:"));
    for e in &events {
        let message = e.message_id.as_deref().map(|m| format!(" <{m}>")).unwrap_or_default();
        let by = e.by.shown().map(|b| format!(" {b}")).unwrap_or_default();
        output::say(&format!("  {}  {:<10}{message}{by} {}", e.at, e.kind, e.detail));
    }
    Ok(Outcome::Done)
}

fn export(store: &Store, csv: bool) -> CmdResult {
    let mut out = std::io::stdout().lock();
    if csv {
        let _ = writeln!(out, "reference,id,at,kind,message_id,detail,by_name,by_email,by_key,by_db_user");
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
                    e.by.name.clone().unwrap_or_default(),
                    e.by.email.clone().unwrap_or_default(),
                    e.by.key.clone().unwrap_or_default(),
                    e.by.db_user.clone().unwrap_or_default(),
                ];
                fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",")
            } else {
                serde_json::json!({ "reference": incident.reference, "id": e.id, "at": e.at, "kind": e.kind, "message_id": e.message_id, "by": e.by, "detail": output::snake_case_keys(&e.detail) }).to_string()
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

/// An anchor read from a file, and where its trust comes from.
struct Anchored {
    head: LogHead,
    /// When it was taken (signed anchors only).
    at: Option<String>,
    /// The key that signed it; none for a notification's head.
    signer: Option<String>,
}

fn read_anchor(settings: &Settings, path: &Path) -> Result<Anchored, Failure> {
    let named = |e: String| format!("--anchor {}: {e}", path.display());
    let kept = anchor::read_kept(&fsutil::read(path)?).map_err(|e| Failure::input(named(e)))?;
    match kept {
        Kept::Notification(head) => Ok(Anchored { head, at: None, signer: None }),
        Kept::Signed(block) => {
            let identity = identity::read(settings)?;
            let signer = identity.fingerprint();
            let text = crypto::verify_statement(&identity.tsk, &block, Utc::now().into()).map_err(|e| {
                Failure::failed(named(format!(
                    "{e}; it is not an anchor signed by your key {}, and vouches for nothing",
                    crypto::pretty_fingerprint(&signer)
                )))
            })?;
            let statement = Statement::parse(&text).map_err(|e| Failure::failed(named(e)))?;
            Ok(Anchored { head: statement.head, at: Some(statement.at), signer: Some(signer) })
        }
    }
}

fn verify(settings: &Settings, store: &Store, anchor: Option<&Path>, json: bool) -> CmdResult {
    let anchored = anchor.map(|path| read_anchor(settings, path)).transpose()?;
    let found = store.verify(anchored.as_ref().map(|a| &a.head))?;
    let problems = &found.problems;
    let report = serde_json::json!({
        "ok": problems.is_empty(),
        "problems": problems,
        "events": found.head.count,
        "head": found.head.hash,
        "anchor": anchored.as_ref().map(|a| serde_json::json!({
            "events": a.head.count,
            "head": a.head.hash,
            "at": a.at,
            "signer": a.signer,
            "source": if a.signer.is_some() { "signed" } else { "notification" },
            "events_after": found.after_anchor,
        })),
        "cannot_prove": if anchored.is_none() { WITHOUT_ANCHOR } else { ANCHOR_LIMIT },
    });
    if problems.is_empty() {
        if json {
            output::json(&report);
        } else {
            say_intact(&found.head, anchored.as_ref(), found.after_anchor);
        }
        return Ok(Outcome::Done);
    }
    if !json {
        say_problems(problems);
    }
    // Under --json the report travels with the error: one object.
    Err(Failure::new(FailureKind::LogInconsistent, format!("the incident log was changed: {} problem(s)", problems.len()))
        .with_report(report))
}

/// What a holding anchor still leaves open.
const ANCHOR_LIMIT: &str = "Events recorded after the anchor are consistent with it, but nothing outside the log vouches for them: take a new anchor to cover them.";

fn say_intact(head: &LogHead, anchored: Option<&Anchored>, after: Option<i64>) {
    output::say(&format!(
        "The incident log is consistent: its {} events are each as recorded, in order, and every row agrees with them.",
        head.count
    ));
    let Some(a) = anchored else {
        output::say(WITHOUT_ANCHOR);
        return;
    };
    match (&a.signer, &a.at) {
        (Some(signer), Some(at)) => output::say(&format!(
            "It holds the anchor taken {at} and signed by your key {}: its first {} events are exactly those the anchor vouches for.",
            crypto::pretty_fingerprint(signer),
            a.head.count
        )),
        _ => output::say(&format!(
            "It holds the head the notification carried: its first {} events are exactly those that notification witnessed. That head is as trustworthy as the copy it came from (the CERT's copy is the witness).",
            a.head.count
        )),
    }
    if let Some(after) = after.filter(|n| *n > 0) {
        output::say(&format!("{after} event(s) recorded since. {ANCHOR_LIMIT}"));
    }
}

fn say_problems(problems: &[ChainProblem]) {
    for p in problems {
        match p.event {
            Some(id) => output::say(&format!("event {id}: {}", p.problem)),
            None => output::say(&p.problem),
        }
    }
}

/// Signs the head of a consistent log with the reporter's key.
fn take_anchor(settings: &Settings, store: &Store, json: bool) -> CmdResult {
    let now = Utc::now();
    let found = store.verify(None)?;
    if !found.problems.is_empty() {
        if !json {
            say_problems(&found.problems);
        }
        return Err(Failure::new(
            FailureKind::LogInconsistent,
            format!(
                "the incident log is not consistent ({} problem(s)): an anchor now would vouch for the changes, so none was made",
                found.problems.len()
            ),
        ));
    }
    let statement = Statement { head: found.head, at: timestamp(now), log: crate::commands::store_name(settings)?.display().to_string() };
    let (identity, signer) = identity::unlock(settings, now.into())?;
    let signed = crypto::sign_statement(signer, &statement.text(), now.into())
        .map_err(|e| Failure::new(FailureKind::Crypto, format!("signing the anchor failed: {e}")))?;
    if json {
        output::json(&serde_json::json!({
            "events": statement.head.count,
            "head": statement.head.hash,
            "at": statement.at,
            "log": statement.log,
            "signer": identity.fingerprint(),
            "anchor": signed,
        }));
    } else {
        // The signed text as it is: sanitising it would break the signature.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(signed.as_bytes());
    }
    Ok(Outcome::Done)
}
