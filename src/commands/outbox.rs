//! `certmail outbox list | flush | retry`: the outbox's states, delivering what is
//! due, and sending a given-up notification again once its cause is fixed.

use chrono::Utc;

use crate::cli::OutboxCommand;
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::hooks::{self, Event};
use crate::outbox::{self, Delivery, Report, describe, summary_outcome};
use crate::output;
use crate::store::{MessageState, Store, timestamp};

pub fn run(settings: &Settings, command: &OutboxCommand, json: bool) -> CmdResult {
    match command {
        OutboxCommand::List => list(settings, json),
        OutboxCommand::Flush { retry_now } => flush(settings, json, *retry_now),
        OutboxCommand::Retry { target, reason } => retry(settings, target, reason, json),
    }
}

fn retry(settings: &Settings, target: &str, reason: &str, json: bool) -> CmdResult {
    let relay = configured_relay(settings)?;
    let mut store = crate::commands::open_store(settings, "outbox")?;
    let requeued = store.requeue_failed(target, reason, &timestamp(Utc::now()))?;
    if requeued.is_empty() {
        return Err(Failure::not_found(format!(
            "{target}: no failed or bounced message of that reference or Message-ID (see `certmail outbox list`)"
        )));
    }
    if !json {
        output::say(&format!("{target}: queued again ({} message(s)); delivering ...", requeued.len()));
    }
    let password = || outbox::smtp_password(settings, &relay);
    let clock = Utc::now;
    let delivery = Delivery { relay: &relay, password: &password, lifetime: settings.outbox_lifetime(), clock: &clock, retry_now: true };
    let mut reports = Vec::new();
    for id in &requeued {
        reports.extend(outbox::flush(&mut store, &delivery, Some(id))?);
    }
    tell_failures(settings, &store, &reports);
    for r in &reports {
        if json {
            output::json(&serde_json::to_value(r).unwrap_or_default());
        } else {
            output::say(&describe(r));
        }
    }
    summary_outcome(&reports)
}

fn list(settings: &Settings, json: bool) -> CmdResult {
    let store = crate::commands::open_store(settings, "outbox")?;
    let rows = store.outbox()?;
    if json {
        output::json(&serde_json::json!({ "messages": rows }));
        return Ok(Outcome::Done);
    }
    if rows.is_empty() {
        output::say("The outbox is empty.");
    }
    for r in &rows {
        let extra = match r.state {
            MessageState::Sent => r.last_reply.clone().unwrap_or_default(),
            MessageState::Deferred => {
                format!("next attempt {}: {}", r.next_attempt_at.as_deref().unwrap_or("?"), r.last_error.as_deref().unwrap_or(""))
            }
            MessageState::Failed => r.last_error.clone().unwrap_or_default(),
            _ => String::new(),
        };
        output::say(&format!(
            "{} {:<8} <{}> to {} <{}> ({} bytes, {} attempt(s)) {extra}",
            r.reference,
            r.state.key(),
            r.message_id,
            r.recipient,
            r.to,
            r.size,
            r.attempts
        ));
    }
    Ok(Outcome::Done)
}

fn flush(settings: &Settings, json: bool, retry_now: bool) -> CmdResult {
    let relay = configured_relay(settings)?;
    let mut store = crate::commands::open_store(settings, "outbox")?;
    let password = || outbox::smtp_password(settings, &relay);
    let clock = Utc::now;
    let delivery = Delivery { relay: &relay, password: &password, lifetime: settings.outbox_lifetime(), clock: &clock, retry_now };
    let reports = outbox::flush(&mut store, &delivery, None)?;
    tell_failures(settings, &store, &reports);
    // Flush is what operators and cron run regularly: it also tidies the spool.
    let leftovers = store.remove_spool_leftovers()?;
    if !leftovers.is_empty() {
        output::warn(&format!(
            "removed {} leftover spool file(s) of notifications that were interrupted before they were queued (never in the log, never sent): {}",
            leftovers.len(),
            leftovers.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    if json {
        for r in &reports {
            output::json(&serde_json::to_value(r).unwrap_or_default());
        }
    } else if reports.is_empty() {
        output::say("Nothing is due.");
        // Given-up messages are never due again by themselves: say how to send one.
        for r in store.outbox()?.iter().filter(|r| matches!(r.state, MessageState::Failed | MessageState::Bounced)) {
            output::say(&format!(
                "{} <{}> was {}: once the cause is fixed, `certmail outbox retry {}` sends it again.",
                r.reference,
                r.message_id,
                r.state.key(),
                r.reference
            ));
        }
    }
    if !json {
        for r in &reports {
            output::say(&describe(r));
        }
    }
    summary_outcome(&reports)
}

/// The `[smtp]` relay; without one nothing can be delivered, which is a configuration
/// error here (notify only queues instead).
fn configured_relay(settings: &Settings) -> Result<crate::transport::Relay, Failure> {
    settings.relay()?.ok_or_else(|| {
        Failure::config(format!(
            "no [smtp] relay in {}: nothing can be delivered (see README, \"Delivery\")",
            settings.config_path.display()
        ))
    })
}

/// Tells the hook of each message the outbox gave up in `reports`, once per message,
/// with the number to call the CERT it was for.
pub(crate) fn tell_failures(settings: &Settings, store: &Store, reports: &[Report]) {
    if !reports.iter().any(|r| r.state == MessageState::Failed) {
        return;
    }
    let Some(hook) = hooks::configured(settings) else { return };
    let at = timestamp(Utc::now());
    let events: Vec<Event> =
        reports.iter().filter_map(|r| Event::of_delivery(r, &at, &crate::recipients::cert_phone(settings, Some(&r.recipient)))).collect();
    hooks::fire(Some(&hook), store, &events);
}
