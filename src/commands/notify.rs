//! `certmail notify`: validate and render the incident (a follow-up's changes laid over
//! the incident as last reported), refuse an accidental duplicate, then sign, encrypt
//! and queue one message per recipient with the incident in one transaction, and
//! deliver. Fails closed: if any step fails, nothing is queued.

use std::io::IsTerminal;

use chrono::{Datelike, Utc};

use crate::cli::NotifyArgs;
use crate::commands::language;
use crate::compose::{self, Draft};
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, FailureKind};
use crate::identity;
use crate::outgoing::{self, Kind, Letter, Parts, Queue, Signing};
use crate::output;
use crate::recipients;
use crate::sample;
use crate::signals;
use crate::store::{MessageState, NewIncident, Notified, Revision, Store};
use crate::warnings;

pub fn run(settings: &Settings, args: &NotifyArgs, json: bool) -> CmdResult {
    // Ctrl-C, at a passphrase prompt or while the relay is slow, says where the
    // notification is; the line changes once it is queued (outgoing::queue).
    signals::report_on_interrupt("nothing was queued yet; run the same command again to notify".into())?;
    let now = Utc::now();
    // A broken relay configuration is an input error before anything is queued.
    let relay = settings.relay()?;
    let store_path = crate::commands::store_name(settings)?;
    let mut store = crate::commands::open_store(settings, "notify")?;
    let earlier = match &args.follow_up {
        Some(r) => Some(store.reported(r)?.ok_or_else(|| Failure::not_found(format!("--follow-up {r}: no such incident in the log")))?),
        None => None,
    };
    let earlier_json = earlier.as_ref().map(|e| e.incident_json.as_str());
    let mut draft =
        compose::load_onto(settings, &args.incident, earlier_json, args.lang.map(language), &args.attachments, &args.samples, now)?;
    require_late_reason(settings, Some(&store), &draft, args.follow_up.as_deref(), now)?;
    let content_sha256 = compose::sha256_hex(incident_json(&draft)?.as_bytes());
    let request = request(args, &draft);
    if let Some(key) = &args.idempotency_key
        && let Some(used) = store.idempotency_key(key)?
    {
        return outgoing::replay(settings, key, &request, used, json);
    }
    if !args.again {
        let thread = match &args.follow_up {
            Some(r) => store.messages_of(r)?,
            None => Vec::new(),
        };
        refuse_duplicate(args, &draft, &store.notified_with(&content_sha256)?, &thread)?;
        if args.follow_up.is_none() {
            refuse_same_title(args, &draft, &store)?;
        }
    }
    let ids: Vec<String> = match (&earlier, args.to.is_empty()) {
        (_, false) => unique(&args.to),
        (Some(e), true) if !e.recipients.is_empty() => e.recipients.clone(),
        _ => vec![settings.default_recipient().to_string()],
    };
    // Said before anything is sent, and before a recipient's key can refuse.
    let warnings = crate::legal::before_sending(settings, &draft, &ids, now)?;
    warnings::say(&warnings);
    let ready = ids.iter().map(|id| recipients::load_checked(settings, id, now.into())).collect::<Result<Vec<_>, _>>()?;
    let (identity, signer) = identity::unlock(settings, now.into())?;
    let signing = Signing::of_home(settings, &identity, &signer, now)?;
    let packed = draft.samples.iter().map(|s| sample::pack(s, &settings.home, now)).collect::<Result<Vec<_>, _>>()?;
    let sample_infos: Vec<_> = packed.iter().map(|p| p.info.clone()).collect();

    let pending = store.begin(args.follow_up.as_deref(), now.year())?;
    // Again under the write lock: a concurrent run may have committed meanwhile.
    if let Some(key) = &args.idempotency_key
        && let Some(used) = pending.idempotency_key(key)?
    {
        drop(pending);
        return outgoing::replay(settings, key, &request, used, json);
    }
    if !args.again {
        refuse_duplicate(args, &draft, &pending.notified_with(&content_sha256)?, &pending.messages()?)?;
    }
    if pending.incident_json()?.as_deref() != earlier_json {
        return Err(Failure::failed(format!(
            "{} was changed by another certmail meanwhile; nothing was queued. Run this again",
            pending.reference
        )));
    }
    let reference = pending.reference.clone();
    if args.follow_up.is_some() {
        compose::mark_follow_up(&mut draft.incident, &reference);
    }
    let mut letters = Vec::new();
    for ready in ready {
        let rendered = compose::render_with(settings, &draft, &reference, &ready.recipient, now, args.follow_up.as_deref(), &sample_infos)?;
        let thread = pending.thread(&ready.recipient.id)?;
        letters.push(Letter { ready, subject: rendered.subject, body: rendered.body, thread });
    }
    let attachments = || {
        let mut all = compose::open_attachments(&draft)?;
        all.extend(crate::sample::attachments(&packed)?);
        Ok(all)
    };
    let estimate = |body_len| compose::estimated_size(&draft, body_len);
    let parts = Parts { attachments: &attachments, estimate: &estimate, limit: settings.max_message_bytes() };

    let incident_json = incident_json(&draft)?;
    let title = draft.incident.title.clone().unwrap_or_default();
    // Only a known detection time starts the clocks; with "unknown" or "other" they
    // start when the incident is recorded, and `status` says so.
    let detected_at = draft
        .incident
        .timeline
        .as_ref()
        .and_then(|t| t.detected.as_ref())
        .filter(|d| d.status == crate::incident::choices::TimeKnowledge::Known)
        .and_then(|d| d.at.clone());
    let scheme_keys = draft.incident.scheme.as_ref().map(crate::incident::Schemes::keys).unwrap_or_default();
    let revision = Revision::Report(NewIncident {
        scheme: &scheme_keys,
        title: &title,
        detected_at: detected_at.as_deref(),
        incident_json: &incident_json,
    });
    let how = Queue {
        kind: if args.follow_up.is_some() { Kind::FollowUp } else { Kind::Notification },
        revision,
        key: args.idempotency_key.as_deref().map(|k| (k, request.as_str())),
        relay: relay.is_some(),
        out: args.out.as_deref(),
        store_path: &store_path,
        warnings,
    };
    let queued = outgoing::queue(pending, &signing, letters, &parts, how)?;
    let sent = outgoing::deliver(&mut store, settings, relay.as_ref(), queued)?;
    sent.finish(settings, json)
}

/// The report is the next stage due of each of its regimes; made after that stage's
/// deadline where the law asks a late report for its reasons (GDPR art. 33(1), DORA:
/// `reasons-if-late` in the table), it must give them (the Virk.dk form's "Begrundelse
/// af hvorfor tidsfristen ikke er overholdt"); another late stage is warned about. A
/// timely report, or a follow-up whose next stage is not due yet, is not asked.
pub(crate) fn require_late_reason(
    settings: &Settings,
    store: Option<&Store>,
    draft: &Draft,
    follow_up: Option<&str>,
    now: chrono::DateTime<Utc>,
) -> Result<(), Failure> {
    use crate::regimes::incident::{Known, position};
    let given = draft.incident.timeline.as_ref().and_then(|t| t.late_reason.as_deref()).is_some_and(|r| !r.trim().is_empty());
    if given {
        return Ok(());
    }
    let table = crate::legal::regimes_table(settings)?;
    let row = match (follow_up, store) {
        (Some(r), Some(store)) => store.incident_status(r)?.map(|row| (row, store)),
        _ => None,
    };
    let legal = match row {
        Some((row, store)) => crate::legal::position(settings, &table, store, &row, now)?,
        None => {
            let timeline = draft.incident.timeline.as_ref();
            let known_at = |p: Option<&crate::incident::TimePoint>| p.and_then(crate::incident::TimePoint::known_at);
            let known = Known {
                schemes: draft.incident.scheme.as_ref().map(crate::incident::Schemes::list).unwrap_or_default(),
                detected: known_at(timeline.and_then(|t| t.detected.as_ref())),
                recorded: now,
                personal_data_to: draft.incident.personal_data.as_ref().and_then(|p| p.report_to),
                classification: known_at(timeline.and_then(|t| t.classified.as_ref())),
                filings: Vec::new(),
            };
            let config = settings.file.deadlines.clone().unwrap_or_default();
            position(&table, &known, &|s| crate::legal::configured(&config, s), now)
        }
    };
    // The report is each regime's next stage.
    for regime in &legal.regimes {
        let Some(d) = crate::regimes::schedule::next_open(&legal.deadlines, Some(regime.id)) else { continue };
        let Some(due) = d.due.filter(|due| now > *due) else { continue };
        let said = format!(
            "this report is the {} under {}, due {} ({})",
            d.stage,
            d.regime,
            crate::deadlines::stamp(due),
            d.rule.as_deref().unwrap_or("its clock")
        );
        if regime.stage(d.stage).is_some_and(|s| s.reasons_if_late) {
            return Err(Failure::input(format!(
                "{}: timeline.late-reason: required: {said}, and the law asks a late report to give the reasons for the delay",
                draft.source_name
            )));
        }
        crate::output::warn(&format!(
            "{said}: its filing on Virk.dk is late (this e-mail is not that filing); timeline.late-reason can say why, and `certmail incident virk` records the filing"
        ));
    }
    Ok(())
}

fn incident_json(draft: &Draft) -> Result<String, Failure> {
    serde_json::to_string(&draft.incident).map_err(|e| Failure::new(FailureKind::Internal, format!("serialising the incident: {e}")))
}

/// What an idempotency key is held to: the same file (as parsed), on the same
/// incident, to the same recipients, with the same files.
fn request(args: &NotifyArgs, draft: &Draft) -> String {
    let files = |list: &[std::path::PathBuf]| list.iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
    outgoing::request_sha256(&serde_json::json!({
        "command": "notify",
        "incident": draft.input_sha256,
        "follow-up": args.follow_up,
        "to": args.to,
        "attachments": files(&args.attachments),
        "samples": files(&args.samples),
        "lang": args.lang.map(language).map(|l| l.code()),
    }))
}

fn unique(ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    out
}

/// Running `notify` again on the same file (after Ctrl-C, a relay error, in a shell's
/// history) is refused: it names what exists and what to do. `same` are the messages
/// that carried the same incident; `thread` the follow-up's incident's messages.
fn refuse_duplicate(args: &NotifyArgs, draft: &Draft, same: &[Notified], thread: &[Notified]) -> Result<(), Failure> {
    let file = args.incident.display();
    if let Some(reference) = &args.follow_up {
        if !draft.changes.is_empty() {
            return Ok(());
        }
        return Err(Failure::new(
            FailureKind::Conflict,
            format!(
                "{file} changes nothing in {reference} as last reported, so nothing was queued. {} To send the report again anyway, add --again; to answer the CERT in your own words, `certmail reply {reference}`",
                where_they_are(thread)
            ),
        ));
    }
    let Some(last) = same.last() else { return Ok(()) };
    let reference = &last.reference;
    let mine: Vec<Notified> = same.iter().filter(|n| &n.reference == reference).cloned().collect();
    Err(Failure::new(
        FailureKind::Conflict,
        format!(
            "{file} was already notified as {reference}, so nothing was queued. {} To send it as a new incident anyway, add --again; to add to {reference}, change the file and run `certmail notify FILE --follow-up {reference}`, or `certmail reply {reference}`",
            where_they_are(&mine)
        ),
    ))
}

/// A new incident whose title an open one already has is most likely that incident
/// again, edited (a second notification would give the CERT two cases for one
/// attack). On a terminal, certmail asks before sending it as a new incident (no
/// answer: nothing is queued); a script, whose alerts may share a title, is warned
/// on stderr and goes on. `--again` says it is meant.
fn refuse_same_title(args: &NotifyArgs, draft: &Draft, store: &Store) -> Result<(), Failure> {
    let Some(title) = draft.incident.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) else { return Ok(()) };
    let Some(reference) = store.open_incident_titled(title)? else { return Ok(()) };
    let file = args.incident.display();
    let said = format!(
        "{reference} is an open incident with the same title ({title:?}). To report what changed in it: `certmail notify {file} --follow-up {reference}`"
    );
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        output::warn(&format!("{said}. Sending this as a new incident (add --again to say so and not be warned)."));
        return Ok(());
    }
    eprint!("{said}.\nSend it as a NEW incident anyway? [y/N] ");
    let mut line = String::new();
    let yes = std::io::stdin().read_line(&mut line).is_ok() && output::is_yes(&line);
    if yes { Ok(()) } else { Err(Failure::input(format!("nothing was queued. {said}; to send it as a new incident, add --again"))) }
}

/// The messages and their states, and what to do about those not delivered.
fn where_they_are(messages: &[Notified]) -> String {
    if messages.is_empty() {
        return String::new();
    }
    let listed: Vec<String> =
        messages.iter().map(|m| format!("<{}> to {}, made {}: {}", m.message_id, m.recipient, m.created_at, m.state)).collect();
    let waiting = messages.iter().any(|m| matches!(m.state, MessageState::Queued | MessageState::Sending | MessageState::Deferred));
    let failed = messages.iter().any(|m| matches!(m.state, MessageState::Failed | MessageState::Bounced));
    let what = if waiting {
        " Not delivered yet: `certmail outbox flush` sends what waits."
    } else if failed {
        " Delivery failed (`certmail outbox list` says why; `certmail outbox retry REF` sends it again once fixed)."
    } else {
        ""
    };
    format!("Its messages: {}.{what}", listed.join("; "))
}
