//! `certmail notify`: validate, render, sign, encrypt, record the incident and place
//! the final bytes in the outbox, in one transaction. Fails closed: if any step
//! fails, nothing is queued.

use chrono::{Datelike, Utc};

use crate::cli::NotifyArgs;
use crate::commands::language;

use crate::compose;
use crate::config::Settings;
use crate::crypto::{self, pretty_fingerprint};
use crate::exit::{CmdResult, Failure, Outcome};
use crate::identity;
use crate::mime;
use crate::outbox::{self, Delivery, describe, summary_outcome};
use crate::output;
use crate::recipients;
use crate::store::{NewIncident, NewMessage, Pending, Store};
use std::io::Write;

pub fn run(settings: &Settings, args: &NotifyArgs) -> CmdResult {
    let now = Utc::now();
    let system_now = now.into();
    let mut draft = compose::load(settings, &args.incident, args.lang.map(language), &args.attachments, now)?;
    // A broken relay configuration is an input error before anything is queued.
    let relay = settings.relay()?;
    let recipient_id = args.to.as_deref().unwrap_or(settings.default_recipient());
    let ready = recipients::load_checked(settings, recipient_id, system_now)?;
    let (identity, signer) = identity::unlock(settings, system_now)?;
    let attachments = compose::open_attachments(&draft)?;
    let sender = settings.identity()?.email.clone();

    let mut store = Store::open(&settings.store_path())?;
    let pending = store.begin(args.follow_up.as_deref(), now.year())?;
    let reference = pending.reference.clone();
    if args.follow_up.is_some() {
        compose::mark_follow_up(&mut draft.incident, &reference);
    }
    let rendered = compose::render(settings, &draft, &reference, &ready.recipient, now, args.follow_up.as_deref())?;
    let message_id = compose::new_message_id(&sender)?;
    let mut headers = compose::headers(settings, &reference, &ready.recipient, rendered.subject, message_id.clone(), &pending.thread, now)?;
    // Read under the write lock `begin` took: no event can come between it and ours.
    headers.log_head = Some(pending.log_head()?);

    let mut sink = pending.message_sink(&message_id, compose::estimated_size(&draft, rendered.body.len()))?;
    let written = sink.write_all(mime::outer_head(&headers).as_bytes()).map_err(|e| e.to_string()).and_then(|()| {
        crypto::sign_and_encrypt(&identity, signer, &ready.key.cert, system_now, &mut sink, |w| {
            mime::write_inner(&headers, &rendered.body, attachments, w)
        })
    });
    written
        .and_then(|()| sink.write_all(mime::outer_tail(&headers).as_bytes()).map_err(|e| e.to_string()))
        .map_err(|e| Failure::failed(format!("signing and encrypting failed, nothing was queued: {e}")))?;
    let bytes = sink.finish()?;
    if let Err(f) = compose::check_size(&draft, settings.max_message_bytes(), bytes.len()) {
        bytes.discard();
        return Err(f);
    }

    let incident_json = serde_json::to_string(&draft.incident).map_err(|e| Failure::failed(format!("serialising the incident: {e}")))?;
    let scheme = draft.incident.scheme.map(|s| s.key()).unwrap_or_default();
    let title = draft.incident.title.clone().unwrap_or_default();
    let detected_at = draft.incident.timeline.as_ref().and_then(|t| t.detected.as_ref()).and_then(|d| d.at.clone());
    let in_reply_to = headers.in_reply_to.clone();
    let commit = if relay.is_some() { Pending::commit_claimed } else { Pending::commit };
    let committed = commit(
        pending,
        &NewIncident { scheme, title: &title, detected_at: detected_at.as_deref(), incident_json: &incident_json },
        &NewMessage {
            message_id: &message_id,
            recipient: &ready.recipient.id,
            recipient_fingerprint: &ready.key.fingerprint,
            envelope_from: &sender,
            envelope_to: &ready.recipient.config.address,
            in_reply_to: in_reply_to.as_deref(),
            bytes: &bytes,
        },
        &crate::store::timestamp(now),
    );
    if let Err(f) = committed {
        bytes.discard();
        return Err(f);
    }
    if let Some(out) = &args.out {
        bytes.copy_to(out).map_err(|f| f.context(format!("{reference} is queued, but --out failed")))?;
    }

    let store_path = settings.store_path();
    let report = match &relay {
        None => None,
        Some(relay) => {
            let password = || outbox::smtp_password(settings, relay);
            let clock = Utc::now;
            let delivery = Delivery { relay, password: &password, lifetime: settings.outbox_lifetime(), clock: &clock, retry_now: false };
            let claimed = store.claimed_by_me(&message_id)?;
            let report = outbox::deliver_claimed(&mut store, &delivery, claimed)?;
            // Given up at once (a permanent rejection): told as a flush would tell it.
            crate::commands::outbox::tell_failures(settings, &store, std::slice::from_ref(&report));
            Some(report)
        }
    };
    let state = report.as_ref().map_or(crate::store::MessageState::Queued, |r| r.state);
    if args.json {
        output::json(&serde_json::json!({
            "reference": reference,
            "message_id": message_id,
            "state": state,
            "detail": report.as_ref().map(|r| r.detail.clone()),
            "next_attempt_at": report.as_ref().and_then(|r| r.next_attempt_at.clone()),
            "recipient": ready.recipient.id,
            "to": ready.recipient.config.address,
            "fingerprint": ready.key.fingerprint,
            "bytes": bytes.len(),
            "store": store_path,
            "out": args.out,
        }));
    } else {
        output::say(&format!(
            "{reference}: notification signed and encrypted to {} <{}> (key {}) and to you; queued in the outbox.",
            ready.recipient.display_name(),
            ready.recipient.config.address,
            pretty_fingerprint(&ready.key.fingerprint)
        ));
        output::say(&format!("  Message-ID: <{message_id}>, {} bytes, stored in {}", bytes.len(), store_path.display()));
        if let Some(out) = &args.out {
            output::say(&format!("  Exact bytes also written to {}", out.display()));
        }
        match &report {
            Some(r) => output::say(&format!("  {}", describe(r))),
            None => output::say(&format!(
                "  Not sent: no [smtp] relay is configured in {}. Add one (see README, \"Delivery\"), then run `certmail outbox flush`.",
                settings.config_path.display()
            )),
        }
        if ready.recipient.config.test_only {
            output::say(
                "  Test-only recipient: this reaches no real CERT. For a real incident notify cfcs, or call CFCS at +45 3332 5580.",
            );
        } else if state != crate::store::MessageState::Sent {
            output::say(&format!("  The CERT does not have it yet. If the incident is urgent, call {} now.", ready.recipient.phone()));
        }
    }
    match &report {
        None => Ok(Outcome::Queued),
        Some(r) => summary_outcome(std::slice::from_ref(r)),
    }
}
