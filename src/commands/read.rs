//! `certmail read REF|MSGID`: every message of an incident, sent and received,
//! decrypted and sanitised, each with a banner saying who signed which part and
//! marking every unsigned part. Attachments are listed and saved only on request,
//! under safe names, owner-only. Nothing is rendered as HTML; nothing is recorded.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::Digest;

use crate::cli::ReadArgs;
use crate::crypto::{SignatureStatus, Verified};
use crate::exit::{CmdResult, Failure, Outcome};
use crate::ingest::Rereader;
use crate::ingest::reading::{Reading, ShownPart};
use crate::store::StoredMessage;
use crate::{fsutil, output};

pub fn run(settings: &crate::config::Settings, args: &ReadArgs, json: bool) -> CmdResult {
    let Some(store) = crate::commands::existing_store(settings, "read")? else {
        return Err(Failure::not_found(format!("no incident log yet at {}", settings.store_path().display())));
    };
    let Some((incident_id, reference)) = store.find_incident(&args.target)? else {
        return Err(Failure::not_found(format!("{}: no incident or message with that reference or Message-ID in the log", args.target)));
    };
    let messages = store.incident_messages(incident_id)?;
    let writers = store.messages_by(incident_id)?;
    let mut reader = Rereader::new(settings, SystemTime::now());
    let names = KeyNames(reader.key_names());
    let own = reader.own_fingerprint().map(str::to_string);
    let incident = Named {
        reference: reference.clone(),
        sent: messages.iter().filter(|m| m.sent).filter_map(|m| m.message_id.clone()).collect(),
        cert_case: store.cert_case_of(incident_id)?,
    };
    // Why ingest found a message unreadable names keys by their IDs: say whose.
    let messages: Vec<StoredMessage> = messages
        .into_iter()
        .map(|mut m| {
            m.reason = m.reason.map(|r| names.explain(&r));
            m
        })
        .collect();
    let mut saved_count = 0;
    let mut readable = 0;
    if !json {
        output::say(&format!("{reference}: {} message(s), oldest first", messages.len()));
    }
    for (n, message) in messages.iter().enumerate() {
        let raw = match (&message.file, message.raw.is_empty()) {
            (Some((file, sha256)), true) => from_file(file, sha256).map(std::borrow::Cow::Owned),
            (None, true) => Err(message.reason.clone().filter(|_| message.sent).unwrap_or_else(|| "not kept in the log".to_string())),
            _ => Ok(std::borrow::Cow::Borrowed(&message.raw)),
        };
        let read = match raw {
            Ok(raw) => {
                let reading_keys = match &own {
                    Some(own) => store.reading_keys(&crate::store::reading_keys::message_key(&raw), own)?,
                    None => Vec::new(),
                };
                let read = if message.sent { reader.read_sent(&raw, &reading_keys) } else { reader.read(&raw, &reading_keys) };
                read.map_err(|e| names.explain(&e)).map(|(mail, mut reading)| {
                    reading.problem = reading.problem.map(|p| names.explain(&p));
                    (mail, reading)
                })
            }
            Err(e) => Err(e),
        };
        if read.as_ref().is_ok_and(|(_, r)| !r.parts.is_empty()) {
            readable += 1;
        }
        let saved = match (&args.save_attachments, &read) {
            (Some(dir), Ok((_, reading))) => save_attachments(dir, n + 1, reading)?,
            _ => Vec::new(),
        };
        saved_count += saved.len();
        let by = if message.sent { message.message_id.as_ref().and_then(|id| writers.get(id)) } else { None };
        let names_it = read.as_ref().is_ok_and(|(_, r)| incident.is_named_by(r));
        if json {
            let mut shown = as_json(&reference, message, &read, &reader, &saved);
            shown["bound_here"] = (message.bound && verdict_here(&read) == Some(SignatureStatus::Good) && names_it).into();
            shown["by"] = serde_json::json!(by.map(|b| b.queued.clone().unwrap_or_default()));
            shown["sent_by"] = serde_json::json!(by.and_then(|b| b.sent.clone()));
            output::json(&shown);
        } else {
            show(message, &read, &reader, &saved, by, names_it);
        }
    }
    if !json && args.save_attachments.is_some() {
        output::say(&format!("{saved_count} attachment(s) saved."));
    }
    if readable == 0 && !messages.is_empty() {
        return Err(Failure::failed(format!(
            "none of {reference}'s {} message(s) could be read on this machine (see above)",
            messages.len()
        )));
    }
    Ok(Outcome::Done)
}

/// What names this incident in what a good signature covers: its reference, the
/// Message-ID of one of its notifications, its CERT case number (the same ways
/// ingest binds a reply, see ingest/binding.rs). A reply the log says is bound is
/// shown as bound only if it names this incident: a database writer could move it.
struct Named {
    reference: String,
    sent: Vec<String>,
    cert_case: Option<String>,
}

impl Named {
    fn is_named_by(&self, reading: &Reading) -> bool {
        let signed = &reading.signed;
        let text = format!("{}\n{}\n{}", signed.subject, signed.headers, signed.text);
        let threaded = signed.in_reply_to.iter().chain(&signed.references).map(|id| id.trim().trim_matches(['<', '>']));
        text.contains(&self.reference)
            || threaded.into_iter().any(|id| self.sent.iter().any(|s| s == id))
            || self.sent.iter().any(|id| text.contains(id.as_str()))
            || self.cert_case.as_deref().is_some_and(|case| crate::reply::contains_token(&text, case))
    }
}

/// Whose each key is, by the hex key IDs and fingerprints an error names: the
/// reporter's own, the team members', the pinned recipients' (see
/// [`Rereader::key_names`]). So "cannot decrypt" says who can.
struct KeyNames(Vec<(String, String)>);

impl KeyNames {
    /// The error with each key it names followed by whose it is.
    fn explain(&self, error: &str) -> String {
        let mut out = error.to_string();
        for (handle, name) in &self.0 {
            if out.contains(handle.as_str()) && !out.contains(&format!("{handle} (")) {
                out = out.replace(handle.as_str(), &format!("{handle} ({name})"));
            }
        }
        if out.contains("not encrypted to this machine's key") {
            out.push_str(". A team member whose key it is for can give this machine a reading key: `certmail team add` of this machine's public key there, then `certmail team reencrypt`");
        }
        out
    }
}

/// Unsigned mail read from a file was not copied into the log: read it from there,
/// as it was when it was ingested or not at all.
fn from_file(file: &str, sha256: &str) -> Result<Vec<u8>, String> {
    let not_copied = "unsigned mail read from a file is not copied into the log (ingest --keep-copies copies it)";
    let path = crate::mailbox::maildir_file_now(Path::new(file)).ok_or_else(|| format!("{not_copied}, and its file {file} is gone"))?;
    let raw = std::fs::read(&path).map_err(|e| format!("{not_copied}, and its file {} cannot be read: {e}", path.display()))?;
    let now: String = sha2::Sha256::digest(&raw).iter().map(|b| format!("{b:02x}")).collect();
    if now != sha256 {
        return Err(format!("{not_copied}, and its file {} has changed since it was ingested", path.display()));
    }
    Ok(raw)
}

fn signed_by(reader: &Rereader, v: &Verified) -> String {
    let who = reader.signer(v).unwrap_or_else(|| "a key that is not pinned".into());
    let fpr = v.signer.as_deref().unwrap_or("?");
    match v.status {
        SignatureStatus::Good => format!("signed by {who} ({fpr})"),
        other => format!("signature {} ({fpr})", other.key()),
    }
}

fn part_label(reader: &Rereader, p: &ShownPart, sent: bool) -> String {
    match &p.signature {
        Some(v) if sent && v.status == SignatureStatus::Good => {
            let who = reader.sender(v).unwrap_or_else(|| "a key that is not this team's".into());
            format!("sent, signed by {who} ({})", v.signer.as_deref().unwrap_or("?"))
        }
        Some(v) if sent => format!(
            "sent, NOT SIGNED by you or a listed team member: signature {} ({})",
            v.status.key(),
            v.signer.as_deref().unwrap_or("?")
        ),
        None if sent => "sent, NOT SIGNED by you or a listed team member".into(),
        Some(v) => signed_by(reader, v),
        None => "UNSIGNED".into(),
    }
}

/// What starts every line of a message's text: whether a good signature covers it.
/// Banners start with "====", "----" or spaces and content never does, so no text a
/// sender writes can pass for a banner, or unsigned text for signed.
fn trust_prefix(p: &ShownPart, sent: bool) -> &'static str {
    match p.signature.as_ref().is_some_and(|v| v.status == SignatureStatus::Good) {
        true if sent => "sent     | ",
        true => "signed   | ",
        false => "UNSIGNED | ",
    }
}

/// What reading the message again here finds of its signature: `None` when it
/// cannot be read here (not kept, or encrypted to a key this machine lacks).
fn verdict_here(read: &Result<(crate::reply::Mail, Reading), String>) -> Option<SignatureStatus> {
    read.as_ref().ok().filter(|(_, r)| !r.parts.is_empty()).map(|(_, r)| r.verdict.status)
}

/// Why a received message is malformed, or what a bounce said: as ingest recorded it,
/// else as reading it again finds it (rows recorded before the reason was kept).
fn reason<'a>(message: &'a StoredMessage, read: &'a Result<(crate::reply::Mail, Reading), String>) -> Option<&'a str> {
    message.reason.as_deref().or_else(|| read.as_ref().ok().and_then(|(_, r)| r.problem.as_deref()))
}

fn show(
    message: &StoredMessage,
    read: &Result<(crate::reply::Mail, Reading), String>,
    reader: &Rereader,
    saved: &[PathBuf],
    by: Option<&crate::store::MessageBy>,
    names_it: bool,
) {
    let direction = if message.sent { "sent" } else { "received" };
    let id = message.message_id.as_deref().unwrap_or("(no Message-ID)");
    output::say("");
    output::say(&format!("==== {direction} {}  <{id}>", message.at));
    if message.sent {
        output::say(&format!("     state: {}", message.state.map_or("?", |s| s.key())));
        // Who made it (its `queued` event), and who handed it to the relay if another.
        let made = by.and_then(|b| b.queued.as_ref());
        if let Some(shown) = made.and_then(|a| a.shown()) {
            output::say(&format!("     {shown}"));
        }
        if let Some(shown) = by.and_then(|b| b.sent.as_ref()).filter(|s| Some(*s) != made).and_then(|a| a.shown()) {
            output::say(&format!("     handed to the relay {shown}"));
        }
    } else {
        let kind = message.kind.map(|k| k.key()).unwrap_or("?");
        let marked = message.marked_kind.map(|k| format!(" (marked as {} by an analyst)", k.key())).unwrap_or_default();
        let signature = message.signature.map(|s| s.key()).unwrap_or("none");
        // The log's verdict is what ingest found; whoever can write to the database
        // could have changed it, so it is held to what reading it here finds.
        let here = verdict_here(read);
        let trust = match (message.bound, here) {
            (true, Some(SignatureStatus::Good)) if names_it => "bound to this incident by a good signature over the whole message",
            (true, Some(SignatureStatus::Good)) => {
                "NOT BOUND HERE: the log records it as bound to this incident, but what its good signature covers names another; `certmail log verify` says whether the log was changed"
            }
            (true, None) => {
                "the log records it as bound to this incident by a good signature, which this machine cannot check (it cannot read the message)"
            }
            _ => "NOT AUTHENTICATED: no good signature over the whole message names this incident; confirm by phone before acting on it",
        };
        let from = output::one_line(message.from.as_deref().unwrap_or("?"));
        output::say(&format!("     from: {from}  kind: {kind}{marked}  signature: {signature}"));
        if let Some(found) = here.filter(|h| Some(*h) != message.signature) {
            output::say(&format!(
                "     WARNING: the log records signature {signature}, but reading the message again here finds {}: trust what is shown below; `certmail log verify` says whether the log was changed",
                found.key()
            ));
        }
        output::say(&format!("     {trust}"));
        if !message.flags.is_empty() {
            output::say(&format!("     flags: {}", output::one_line(&message.flags.join(", "))));
        }
        match (message.kind, reason(message, read)) {
            (Some(crate::reply::Kind::Malformed), Some(why)) => {
                output::say(&format!("     MALFORMED: {}: what it shows is below, none of it trusted", output::one_line(why)))
            }
            (Some(crate::reply::Kind::Bounce), Some(said)) => output::say(&format!("     the bounce says: {}", output::one_line(said))),
            _ => {}
        }
    }
    match read {
        Err(e) => output::say(&format!("     (cannot show it: {e})")),
        Ok((mail, reading)) => {
            // What could not be read (a layer this machine cannot decrypt), unless the
            // MALFORMED line above said it already.
            if let Some(problem) =
                reading.problem.as_deref().filter(|_| message.sent || message.kind != Some(crate::reply::Kind::Malformed))
            {
                output::say(&format!("     (cannot show all of it: {})", output::one_line(problem)));
            }
            if !message.sent && !mail.subject.is_empty() {
                output::say(&format!("     subject (unsigned outer header): {}", output::one_line(&mail.subject)));
            }
            let mut saved = saved.iter();
            for p in &reading.parts {
                let label = part_label(reader, p, message.sent);
                match &p.part.text {
                    Some(text) if p.part.name.is_none() => {
                        output::say(&format!("---- [{label}] {} ----", output::one_line(&p.part.content_type)));
                        let prefix = trust_prefix(p, message.sent);
                        // `say` escapes every control character but the line feed, so
                        // each line a terminal shows starts with the prefix.
                        for line in text.lines() {
                            output::say(&format!("{prefix}{line}"));
                        }
                    }
                    _ => {
                        let name = output::one_line(p.part.name.as_deref().unwrap_or("(no name)"));
                        let place = saved.next().map(|f| format!(", saved as {}", f.display())).unwrap_or_default();
                        output::say(&format!(
                            "---- [{label}] attachment {name} ({}, {} bytes{place}) ----",
                            p.part.content_type, p.part.size
                        ));
                    }
                }
            }
        }
    }
}

fn as_json(
    reference: &str,
    message: &StoredMessage,
    read: &Result<(crate::reply::Mail, Reading), String>,
    reader: &Rereader,
    saved: &[PathBuf],
) -> serde_json::Value {
    let mut saved = saved.iter();
    let parts: Vec<serde_json::Value> = match read {
        Err(_) => Vec::new(),
        Ok((_, reading)) => reading
            .parts
            .iter()
            .map(|p| {
                let attachment = p.part.text.is_none() || p.part.name.is_some();
                serde_json::json!({
                    "content_type": p.part.content_type,
                    "name": p.part.name,
                    "size": p.part.size,
                    "signed": p.signature.as_ref().is_some_and(|v| v.status == SignatureStatus::Good),
                    "signature": p.signature.as_ref().map(|v| v.status.key()),
                    "signer": p.signature.as_ref().and_then(|v| v.signer.clone()),
                    "signer_recipient": p.signature.as_ref().and_then(|v| reader.signer(v)),
                    "text": if attachment { None } else { p.part.text.clone() },
                    "saved_as": if attachment { saved.next().map(|f| f.display().to_string()) } else { None },
                })
            })
            .collect(),
    };
    serde_json::json!({
        "reference": reference,
        "direction": if message.sent { "sent" } else { "received" },
        "message_id": message.message_id,
        "at": message.at,
        "from": message.from,
        "kind": message.kind.map(|k| k.key()),
        "marked_kind": message.marked_kind.map(|k| k.key()),
        "signature": message.signature.map(|s| s.key()),
        // What reading it again on this machine finds (null: it cannot be read here),
        // and whether that holds the log's binding.
        "signature_here": verdict_here(read).map(|s| s.key()),
        "bound": message.bound,
        "bound_here": null,
        "flags": message.flags,
        "state": message.state,
        "subject": read.as_ref().ok().map(|(m, _)| m.subject.clone()),
        // Why it cannot be shown, or why what is shown is not the whole message.
        "error": read.as_ref().err().map(String::as_str).or_else(|| read.as_ref().ok().and_then(|(_, r)| r.problem.as_deref())),
        "reason": if message.sent { None } else { reason(message, read) },
        "parts": parts,
    })
}

/// Saves a message's attachments as `<message>-<part>-<safe name>`, owner-only.
fn save_attachments(dir: &Path, message: usize, reading: &Reading) -> Result<Vec<PathBuf>, Failure> {
    let mut saved = Vec::new();
    for (i, p) in reading.parts.iter().enumerate().filter(|(_, p)| p.part.text.is_none() || p.part.name.is_some()) {
        fsutil::private_dir(dir)?;
        let name = safe_name(p.part.name.as_deref().unwrap_or("attachment.bin"));
        let path = dir.join(format!("{message:03}-{:02}-{name}", i + 1));
        let bytes = if p.part.bytes.is_empty() { p.part.text.clone().unwrap_or_default().into_bytes() } else { p.part.bytes.clone() };
        fsutil::write_private(&path, &bytes)?;
        saved.push(path);
    }
    Ok(saved)
}

/// A file name that stays in its folder and shows as what it is: letters, digits,
/// '.', '-' and '_' only, no leading dot, at most 80 characters.
fn safe_name(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).take(80).collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() { "attachment.bin".into() } else { trimmed.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_cannot_escape_or_hide() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".bashrc"), "bashrc");
        assert_eq!(safe_name("rapport\u{202e}fdp.exe"), "rapport_fdp.exe");
        assert_eq!(safe_name(""), "attachment.bin");
        assert_eq!(safe_name("log 2026.zip"), "log_2026.zip");
    }
}
