//! `certmail status`: the open incidents, what each waits for, and what is overdue.
//! It also tells the hook of deadlines that fell due or overdue since it last looked
//! (as `watch` does each minute), after printing.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::deadlines::{self, Item};
use crate::exit::{CmdResult, Failure, Outcome};
use crate::hooks::{self, Event};
use crate::incident::Schemes;
use crate::legal;
use crate::output;
use crate::regimes;
use crate::regimes::incident::{ClocksFrom, Position};
use crate::regimes::schedule::NoClock;
use crate::reminders;
use crate::store::{StatusRow, Store};

/// An open incident and what it waits for at one moment.
pub(crate) struct Waiting {
    pub row: StatusRow,
    pub items: Vec<Item>,
    /// The number to call the CERT its notification went to.
    pub phone: String,
    /// Its regimes and each stage's deadline.
    pub legal: Position,
    /// Its Virk.dk filings, for the reference each stage was filed under.
    pub filed: Vec<crate::store::Filed>,
}

/// Every open incident of `store` and what it waits for at `now`.
pub(crate) fn waiting(settings: &Settings, store: &Store, now: DateTime<Utc>) -> Result<Vec<Waiting>, Failure> {
    let config = settings.file.deadlines.clone().unwrap_or_default();
    let ack = chrono::Duration::minutes(config.ack_minutes.unwrap_or(60) as i64);
    let table = legal::regimes_table(settings)?;
    let rows = store.open_incidents()?;
    rows.into_iter()
        .map(|row| {
            let filed = store.filings(&row.reference)?;
            let legal = legal::position_filed(settings, &table, &row, &filed, now);
            let phone = crate::recipients::cert_phone(settings, row.recipient.as_deref());
            let items = deadlines::items(&row, now, ack, &legal, &phone);
            Ok(Waiting { row, items, phone, legal, filed })
        })
        .collect()
}

/// The `deadlines` of `status --json`: every stage that has a due time, overdue first.
fn deadlines_json(legal: &Position) -> Vec<serde_json::Value> {
    legal
        .deadlines
        .iter()
        .filter_map(|d| {
            let due = d.due?;
            Some(serde_json::json!({
                "regime": d.regime.key(),
                "stage": d.stage.key(),
                "due": due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "due_local": regimes::clock::copenhagen(due),
                "state": d.state,
                "submitted_at": d.submitted.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                "late": d.late,
                "rule": d.rule,
                "period_ends": d.period_ends.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            }))
        })
        .collect()
}

/// The stages without a due time (on request, no fixed deadline, or waiting for an
/// earlier stage), for `status --json`.
fn undated_json(legal: &Position) -> Vec<serde_json::Value> {
    legal
        .deadlines
        .iter()
        .filter(|d| d.due.is_none())
        .map(|d| {
            let waits = match d.no_clock {
                Some(NoClock::Waits(of)) => Some(format!("submission of {of}")),
                Some(NoClock::WaitsClassification) => Some("classification".to_string()),
                _ => None,
            };
            serde_json::json!({ "regime": d.regime.key(), "stage": d.stage.key(), "state": d.state, "waits_for": waits,
                "submitted_at": d.submitted.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) })
        })
        .collect()
}

/// Tells the hook (if one is configured) of each deadline event of `report` not told
/// before; returns those told now.
pub(crate) fn remind(settings: &Settings, store: &Store, report: &[Waiting], now: DateTime<Utc>) -> Vec<Event> {
    let Some(hook) = hooks::configured(settings) else { return Vec::new() };
    let events: Vec<Event> = report.iter().flat_map(|w| reminders::events(&w.row.reference, &w.items, now, &w.phone)).collect();
    hooks::fire(Some(&hook), store, &events).into_iter().cloned().collect()
}

/// Each open incident's messages, by reference.
type Messages = std::collections::HashMap<String, Vec<crate::store::OutboxRow>>;

/// Each open incident's newest event (what was done last, and by whom), by reference.
type LastEvents = std::collections::HashMap<String, crate::store::LastEvent>;

pub fn run(settings: &Settings, json: bool) -> CmdResult {
    let store = crate::commands::existing_store(settings, "status")?;
    let now = Utc::now();
    let report = match &store {
        Some(store) => waiting(settings, store, now)?,
        None => Vec::new(),
    };
    // The mailbox's health: when `fetch` last read it (none if it never ran).
    let last_fetch = match &store {
        Some(store) => store.last_fetch()?,
        None => None,
    };
    // Each message with its own delivery state (one per recipient and report).
    let mut messages = Messages::new();
    let mut last = LastEvents::new();
    if let Some(store) = &store {
        for w in &report {
            messages.insert(w.row.reference.clone(), store.incident_outbox(&w.row.reference)?);
            if let Some(e) = store.last_event(&w.row.reference)? {
                last.insert(w.row.reference.clone(), e);
            }
        }
    }
    print(&report, &messages, &last, last_fetch.as_ref(), json);
    if let Some(store) = &store {
        remind(settings, store, &report, now);
    }
    Ok(Outcome::Done)
}

/// A stored time as status shows times (RFC 3339 text that does not parse as is).
fn shown_time(t: &str) -> String {
    DateTime::parse_from_rfc3339(t).map(|t| deadlines::stamp(t.with_timezone(&Utc))).unwrap_or_else(|_| t.to_string())
}

fn print(report: &[Waiting], messages: &Messages, last: &LastEvents, last_fetch: Option<&crate::store::LastFetch>, json: bool) {
    if json {
        let incidents: Vec<_> = report
            .iter()
            .map(|Waiting { row, items, legal, .. }| {
                let clocks_from = match legal.clocks_from {
                    ClocksFrom::Detection(t) => {
                        serde_json::json!({ "event": "detection", "at": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) })
                    }
                    ClocksFrom::Recorded(t) => {
                        serde_json::json!({ "event": "recorded", "at": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) })
                    }
                };
                serde_json::json!({
                    "reference": row.reference, "scheme": row.scheme, "title": row.title,
                    "detected_at": row.detected_at, "acknowledged": row.acknowledged, "acknowledged_at": row.acknowledged_at,
                    "cert_case": row.cert_case, "virk_filed": row.virk_filed, "virk_reference": row.virk_reference,
                    "bounced_but_acknowledged": row.bounced_but_acknowledged,
                    "cert_closed": row.cert_closed, "last_reply_at": row.last_reply_at, "last_reply_from": row.last_reply_from,
                    "unverified_messages": row.unverified,
                    "overdue": items.iter().any(|i| i.overdue), "waiting_for": items,
                    "messages": messages.get(&row.reference),
                    "last_event": last.get(&row.reference),
                    "schemes": Schemes::from_keys(&row.scheme).iter().map(|s| s.key()).collect::<Vec<_>>(),
                    "regimes": legal.regimes.iter().map(|r| serde_json::json!({
                        "id": r.id.key(), "name": r.name.en, "basis": r.basis.en, "authority": r.authority.en,
                    })).collect::<Vec<_>>(),
                    "clocks_from": clocks_from,
                    "deadlines": deadlines_json(legal),
                    "stages_without_deadline": undated_json(legal),
                })
            })
            .collect();
        output::json(&serde_json::json!({ "incidents": incidents, "last_fetch": last_fetch }));
        return;
    }
    if report.is_empty() {
        output::say("No open incidents.");
    }
    for Waiting { row, items, legal, filed, .. } in report {
        let flag = if items.iter().any(|i| i.overdue) { "OVERDUE" } else { "open" };
        output::say(&format!("{} [{flag}] {} ({})", row.reference, row.title, row.scheme));
        let names: Vec<String> = legal.regimes.iter().map(|r| format!("{} ({})", r.name.en, r.id)).collect();
        if !names.is_empty() {
            output::say(&format!("  reported under {}", names.join(", ")));
        }
        if let ClocksFrom::Recorded(t) = legal.clocks_from {
            output::say(&format!(
                "  the detection time is not known (timeline.detected is \"unknown\" or \"other\"): the legal clocks count from when the incident was recorded, {}; send a follow-up with the time to correct them",
                deadlines::stamp(t)
            ));
        }
        for d in legal.deadlines.iter().filter(|d| d.state == regimes::schedule::State::Met) {
            let late = if d.late { " (after its deadline)" } else { "" };
            let at = d.submitted.map(deadlines::stamp).unwrap_or_default();
            // The filing that met it (the first), and its Virk.dk reference.
            let virk = filed
                .iter()
                .filter(|f| {
                    f.regime.as_deref().is_none_or(|r| r == d.regime.key()) && f.stage.as_deref().is_none_or(|s| s == d.stage.key())
                })
                .min_by(|a, b| a.submitted_at.cmp(&b.submitted_at))
                .and_then(|f| f.virk_reference.as_deref())
                .map(|r| format!(" as {}", output::one_line(r)))
                .unwrap_or_default();
            output::say(&format!("  filed on Virk.dk: {} {} on {at}{virk}{late}", d.regime, d.stage));
        }
        // What the CERT vouched for with a good, bound signature, and what was filed.
        if row.acknowledged {
            let at = row.acknowledged_at.as_deref().map(|t| format!(" on {}", shown_time(t))).unwrap_or_default();
            let case = row.cert_case.as_deref().map(|c| format!("; CERT case {}", output::one_line(c))).unwrap_or_default();
            output::say(&format!("  acknowledged by the CERT with a good signature{at}{case}"));
        }
        // A log from before staged filings knows only its last reference.
        if let Some(virk) = row.virk_reference.as_deref().filter(|_| row.virk_filed && filed.is_empty()) {
            output::say(&format!("  filed on Virk.dk: {}", output::one_line(virk)));
        }
        if row.bounced_but_acknowledged > 0 {
            output::say(&format!(
                "  a bounce reported {} message(s) undelivered, but the CERT has since acknowledged receipt with a good signature: see `certmail read {}`",
                row.bounced_but_acknowledged, row.reference
            ));
        }
        if let Some(at) = &row.last_reply_at {
            let from = row.last_reply_from.as_deref().map(output::one_line).unwrap_or_else(|| "unknown sender".into());
            let closed = if row.cert_closed { "; the CERT has closed its case (your clocks still run)" } else { "" };
            output::say(&format!("  last reply {at} from {from} (as its From header says){closed}"));
        }
        for m in messages.get(&row.reference).into_iter().flatten() {
            output::say(&format!("  message <{}> to {} <{}>: {}", m.message_id, m.recipient, m.to, m.state));
        }
        if let Some(e) = last.get(&row.reference) {
            // An event from before certmail kept its writer, or by a home that knew none.
            let by = e.by.shown().unwrap_or_else(|| "(who is not recorded)".into());
            output::say(&format!("  last done: {} {} {by}", output::one_line(&e.kind), shown_time(&e.at)));
        }
        if items.is_empty() {
            output::say("  waiting for nothing");
        }
        for i in items {
            let due = i.due.map(|d| format!(" due {}", deadlines::stamp(d))).unwrap_or_default();
            let mark = if i.overdue { "!!" } else { "  " };
            output::say(&format!("  {mark} {}{due}: {}", i.what, i.action));
        }
    }
    if let Some(f) = last_fetch {
        output::say(&format!("Mailbox {} last fetched {}.", f.folder, f.at));
    }
}
