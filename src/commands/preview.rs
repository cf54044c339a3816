//! `certmail preview`: shows the inner message a notification would carry and,
//! separately, exactly what would travel in cleartext, with the warnings `notify`
//! would give before sending. Signs, encrypts and records nothing.

use chrono::Utc;

use crate::cli::PreviewArgs;
use crate::commands::language;
use crate::compose;
use crate::config::Settings;
use crate::exit::{CmdResult, Outcome};
use crate::mime;
use crate::output;
use crate::recipients;

/// What a new incident's reference looks like in a preview.
const PLACEHOLDER_REFERENCE: &str = "CM-XXXX-XXXX-XXXX";

pub fn run(settings: &Settings, args: &PreviewArgs, json: bool) -> CmdResult {
    let now = Utc::now();
    let store_path = settings.store_path();
    let store = crate::commands::existing_store(settings, "preview")?;
    // A follow-up may hold only what changed: read over the incident as last reported,
    // exactly as notify will.
    let earlier = match (&args.follow_up, &store) {
        (Some(r), Some(store)) => Some(
            store
                .reported(r)?
                .ok_or_else(|| crate::exit::Failure::not_found(format!("--follow-up {r}: no such incident in the log")))?
                .incident_json,
        ),
        _ => None,
    };
    let mut draft = compose::load_onto(settings, &args.incident, earlier.as_deref(), args.lang.map(language), &args.attachments, &[], now)?;
    let recipient = settings.recipient(args.to.as_deref().unwrap_or(settings.default_recipient()))?;
    // What notify will refuse, refused here too: a late report without its reasons.
    crate::commands::notify::require_late_reason(settings, store.as_ref(), &draft, args.follow_up.as_deref(), now)?;
    // What notify will say before sending, said here too.
    let warnings = crate::legal::before_sending(settings, &draft, std::slice::from_ref(&recipient.id), now)?;
    crate::warnings::say(&warnings);
    let key_note = match recipients::check(&recipient, now.into()) {
        Ok(_) => None,
        Err(f) => Some(f.message),
    };
    let (reference, thread) = match (&args.follow_up, &store) {
        (Some(r), Some(store)) => {
            let thread =
                store.thread(r)?.ok_or_else(|| crate::exit::Failure::not_found(format!("--follow-up {r}: no such incident in the log")))?;
            (r.clone(), thread)
        }
        (Some(r), None) => {
            return Err(crate::exit::Failure::input(format!("--follow-up {r}: no incident log yet at {}", store_path.display())));
        }
        // References are random and notify draws its own: the preview shows a
        // placeholder no one can write down or read out to the CERT as the real one.
        (None, _) => (PLACEHOLDER_REFERENCE.to_string(), Vec::new()),
    };
    if args.follow_up.is_some() {
        compose::mark_follow_up(&mut draft.incident, &reference);
    }
    let rendered = compose::render(settings, &draft, &reference, &recipient, now, args.follow_up.as_deref())?;
    let message_id = compose::new_message_id(&settings.identity()?.email)?;
    let headers = compose::headers(settings, &reference, &recipient, rendered.subject.clone(), message_id, &thread, now)?;
    let outer = mime::outer_head(&headers);
    let visible = outer.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n", "\n");
    let encrypted_bytes = compose::estimated_size(&draft, rendered.body.len());
    if json {
        let csv = draft.indicators_csv().map(|c| serde_json::json!({ "name": compose::INDICATORS_CSV, "bytes": c.len() }));
        let attachments: Vec<_> =
            draft.attachments.iter().map(|(_, a)| serde_json::json!({ "name": a.name, "bytes": a.size })).chain(csv).collect();
        output::json(&serde_json::json!({
            "reference": reference,
            "recipient": recipient.id,
            "from": headers.from.address,
            "to": headers.to.address,
            "subject": rendered.subject,
            "date": headers.date,
            "body": rendered.body,
            "attachments": attachments,
            "cleartext_headers": visible,
            "encrypted_bytes": encrypted_bytes,
            "key_problem": key_note,
            "warnings": crate::warnings::json(&warnings),
        }));
        return Ok(Outcome::Done);
    }

    if args.follow_up.is_none() {
        output::say(&format!(
            "({PLACEHOLDER_REFERENCE} stands for the reference `certmail notify` gives the incident; it prints it first.)"
        ));
    }
    output::say("===== Inner message: signed by you, encrypted to the recipient and to you =====");
    output::say(&format!("From: {}", mime::format_mailbox(&headers.from)));
    output::say(&format!("To: {}", mime::format_mailbox(&headers.to)));
    output::say(&format!("Subject: {}", rendered.subject));
    output::say(&format!("Date: {}", headers.date));
    for (_, a) in &draft.attachments {
        output::say(&format!("Attachment: {} ({} bytes)", a.name, a.size));
    }
    if let Some(csv) = draft.indicators_csv() {
        output::say(&format!("Attachment: {} ({} bytes, the incident's indicators)", compose::INDICATORS_CSV, csv.len()));
    }
    output::say("");
    output::say(rendered.body.trim_end());
    output::say("");
    output::say("===== Travels in cleartext: visible to every mail server on the way =====");
    output::say(&format!("SMTP envelope: MAIL FROM:<{}> RCPT TO:<{}>", headers.from.address, headers.to.address));
    output::say(&visible);
    output::say(&format!(
        "(then the OpenPGP-encrypted part: about {encrypted_bytes} bytes, which reveals the message's size but nothing of its content)"
    ));
    if let Some(note) = key_note {
        output::warn(&format!("`certmail notify` would refuse this now: {note}"));
    }
    Ok(Outcome::Done)
}
