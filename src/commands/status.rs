//! `certmail status`: the open incidents, what each waits for, and what is overdue.

use chrono::Utc;

use crate::config::Settings;
use crate::deadlines;
use crate::exit::{CmdResult, Outcome};
use crate::output;
use crate::store::Store;

pub fn run(settings: &Settings, json: bool) -> CmdResult {
    let path = settings.store_path();
    let store = if path.exists() { Some(Store::open(&path)?) } else { None };
    let rows = match &store {
        Some(store) => store.open_incidents()?,
        None => Vec::new(),
    };
    // The mailbox's health: when `fetch` last read it (none if it never ran).
    let last_fetch = match &store {
        Some(store) => store.last_fetch()?,
        None => None,
    };
    let now = Utc::now();
    let config = settings.file.deadlines.clone().unwrap_or_default();
    let ack = chrono::Duration::minutes(config.ack_minutes.unwrap_or(60) as i64);
    let mut report = Vec::new();
    for row in &rows {
        let clocks = deadlines::legal_clocks(&row.scheme, config.schemes.get(&row.scheme));
        let phone = crate::recipients::cert_phone(settings, row.recipient.as_deref());
        let items = deadlines::items(row, now, ack, &clocks, &phone);
        report.push((row, items));
    }
    // Each message with its own delivery state (one per recipient and report).
    let mut messages = std::collections::HashMap::new();
    if let Some(store) = &store {
        for row in &rows {
            messages.insert(row.reference.clone(), store.incident_outbox(&row.reference)?);
        }
    }
    if json {
        let incidents: Vec<_> = report
            .iter()
            .map(|(row, items)| {
                serde_json::json!({
                    "reference": row.reference, "scheme": row.scheme, "title": row.title,
                    "detected_at": row.detected_at, "acknowledged": row.acknowledged, "virk_filed": row.virk_filed,
                    "cert_closed": row.cert_closed, "last_reply_at": row.last_reply_at, "last_reply_from": row.last_reply_from,
                    "unverified_messages": row.unverified,
                    "overdue": items.iter().any(|i| i.overdue), "waiting_for": items,
                    "messages": messages.get(&row.reference),
                })
            })
            .collect();
        output::json(&serde_json::json!({ "incidents": incidents, "last_fetch": last_fetch }));
        return Ok(Outcome::Done);
    }
    if report.is_empty() {
        output::say("No open incidents.");
    }
    for (row, items) in &report {
        let flag = if items.iter().any(|i| i.overdue) { "OVERDUE" } else { "open" };
        output::say(&format!("{} [{flag}] {} ({})", row.reference, row.title, row.scheme));
        if let Some(at) = &row.last_reply_at {
            let from = row.last_reply_from.as_deref().map(output::one_line).unwrap_or_else(|| "unknown sender".into());
            let closed = if row.cert_closed { "; the CERT has closed its case (your clocks still run)" } else { "" };
            output::say(&format!("  last reply {at} from {from} (as its From header says){closed}"));
        }
        for m in messages.get(&row.reference).into_iter().flatten() {
            output::say(&format!("  message <{}> to {} <{}>: {}", m.message_id, m.recipient, m.to, m.state));
        }
        if items.is_empty() {
            output::say("  waiting for nothing");
        }
        for i in items {
            let due = i.due.as_deref().map(|d| format!(" due {d}")).unwrap_or_default();
            let mark = if i.overdue { "!!" } else { "  " };
            output::say(&format!("  {mark} {}{due}: {}", i.what, i.action));
        }
    }
    if let Some(f) = &last_fetch {
        output::say(&format!("Mailbox {} last fetched {}.", f.folder, f.at));
    }
    Ok(Outcome::Done)
}
