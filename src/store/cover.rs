//! What the chain vouches for beyond its own events. Every column that `status`,
//! `log` and delivery read changes only in the transaction of an event that says
//! what it became (a state change is an event named for the new state; a queued
//! event holds the SHA-256 of the bytes; a received event what its row holds: kind,
//! signature, binding, flags, From, reason; a `marked` event the analyst's kind). Walking the chain therefore gives what each row must hold now, and
//! [`check_rows`] reports a row that holds something else, a row no event recorded,
//! and a recorded row that is gone: each was changed outside certmail.
//!
//! Logs recorded before this rule have events that do not say everything (an inline
//! message's hash, which received row an event was about). The upgrade states once,
//! in `attested` events, what those columns held when it ran ([`attest_uncovered`]);
//! an attestation can add to what the chain says, never contradict it.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::sql::Engine;
use super::{ChainProblem, event, spool};
use crate::exit::Failure;

/// A row the chain speaks about, by the key its events name it with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Row {
    Incident(i64),
    /// By Message-ID.
    Message(String),
    /// By content hash.
    Received(String),
    /// A stage filed on Virk.dk, by its row id.
    Filing(i64),
}

impl Row {
    fn kind(&self) -> &'static str {
        match self {
            Row::Incident(_) => "incident",
            Row::Message(_) => "message",
            Row::Received(_) => "received",
            Row::Filing(_) => "filing",
        }
    }

    fn key(&self) -> Value {
        match self {
            Row::Incident(id) | Row::Filing(id) => json!(id),
            Row::Message(id) | Row::Received(id) => json!(id),
        }
    }

    fn from_attested(detail: &Value) -> Option<Row> {
        match (detail["row"].as_str()?, &detail["key"]) {
            ("incident", Value::Number(n)) => n.as_i64().map(Row::Incident),
            ("message", Value::String(id)) => Some(Row::Message(id.clone())),
            ("received", Value::String(hash)) => Some(Row::Received(hash.clone())),
            ("filing", Value::Number(n)) => n.as_i64().map(Row::Filing),
            _ => None,
        }
    }
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Row::Incident(id) => write!(f, "incident #{id}"),
            Row::Message(id) => write!(f, "message <{id}>"),
            Row::Received(hash) => write!(f, "received message {}…", &hash[..hash.len().min(16)]),
            Row::Filing(id) => write!(f, "filing #{id}"),
        }
    }
}

/// The columns covered, as named in problems and attestations. The SHA-256 of a
/// message's bytes is `sha256`, of an incident's JSON `incident_json`, of a received
/// message kept as evidence `raw`.
const COLUMNS: &[&str] = &[
    "reference",
    "scheme",
    "title",
    "created_at",
    "detected_at",
    "incident_json",
    "cert_case",
    "incident_id",
    "state",
    "attempts",
    "last_reply",
    "last_error",
    "next_attempt_at",
    "claimed_by",
    "size",
    "sha256",
    "incident_sha256",
    "recipient",
    "recipient_fingerprint",
    "envelope_from",
    "envelope_to",
    "message_id",
    "kind",
    "signature",
    "signer",
    "encrypted",
    "received_at",
    "raw",
    "bound",
    "flags",
    "signer_recipient",
    "from_address",
    "marked_kind",
    "reason",
    "regime",
    "stage",
    "virk_reference",
    "submitted_at",
    "late_reason",
    "receipt_sha256",
];

fn column_name(name: &str) -> Option<&'static str> {
    COLUMNS.iter().copied().find(|c| *c == name)
}

/// Where an event puts a column's new value.
enum Source {
    /// A field of the detail; an event without it changed the column without saying
    /// to what (a log from before the rule), and the column is unknown until stated.
    Detail(&'static str),
    /// The event's time.
    At,
    /// The event's incident.
    Incident,
    Text(&'static str),
    Int(i64),
    Null,
}

use Source::{At, Detail, Incident, Int, Null, Text};

/// The incident columns a `created` event sets (a follow-up sets the mutable ones).
const CREATED: &[(&str, Source)] = &[
    ("reference", Detail("reference")),
    ("scheme", Detail("scheme")),
    ("title", Detail("title")),
    ("created_at", At),
    ("detected_at", Detail("detected_at")),
    ("incident_json", Detail("incident-sha256")),
    ("cert_case", Detail("cert_case")),
];
const FOLLOW_UP: &[(&str, Source)] =
    &[("title", Detail("title")), ("detected_at", Detail("detected_at")), ("incident_json", Detail("incident-sha256"))];
const QUEUED: &[(&str, Source)] = &[
    ("incident_id", Incident),
    ("state", Text("queued")),
    ("attempts", Int(0)),
    ("last_reply", Null),
    ("last_error", Null),
    ("next_attempt_at", Null),
    ("claimed_by", Null),
    ("size", Detail("bytes")),
    ("sha256", Detail("sha256")),
    // Older queued events do not say it: unknown (and unchecked) for their rows.
    ("incident_sha256", Detail("incident-sha256")),
    ("recipient", Detail("recipient")),
    ("recipient_fingerprint", Detail("fingerprint")),
    ("envelope_from", Detail("from")),
    ("envelope_to", Detail("to")),
    ("created_at", At),
];
const SENDING: &[(&str, Source)] = &[("state", Text("sending")), ("attempts", Detail("attempt")), ("claimed_by", Detail("by"))];
const SENT: &[(&str, Source)] =
    &[("state", Text("sent")), ("last_reply", Detail("reply")), ("last_error", Null), ("next_attempt_at", Null), ("claimed_by", Null)];
const DEFERRED: &[(&str, Source)] =
    &[("state", Text("deferred")), ("last_error", Detail("error")), ("next_attempt_at", Detail("next-attempt")), ("claimed_by", Null)];
const FAILED: &[(&str, Source)] =
    &[("state", Text("failed")), ("last_error", Detail("error")), ("next_attempt_at", Null), ("claimed_by", Null)];
const BOUNCED: &[(&str, Source)] = &[("state", Text("bounced"))];
const REQUEUED: &[(&str, Source)] = &[("state", Text("queued")), ("last_error", Null), ("next_attempt_at", Null), ("claimed_by", Null)];
const RECEIVED: &[(&str, Source)] = &[
    ("incident_id", Incident),
    ("message_id", Detail("message_id")),
    ("kind", Detail("kind")),
    ("signature", Detail("signature")),
    ("signer", Detail("signer")),
    ("encrypted", Detail("encrypted")),
    ("received_at", At),
    ("raw", Detail("raw-sha256")),
    // What `read` and `status` trust: whether a good signature binds it, what an
    // analyst should know, whose pinned key signed it, who it says it is from, and
    // (stated since COVER_RECEIVED) an analyst's correction and why it is malformed.
    ("bound", Detail("bound")),
    ("flags", Detail("flags")),
    ("signer_recipient", Detail("signer-recipient")),
    ("from_address", Detail("from")),
    ("marked_kind", Detail("marked_kind")),
    ("reason", Detail("reason")),
];

/// The filing row a `virk-filed` event with a stage records (older ones record none).
const FILED: &[(&str, Source)] = &[
    ("incident_id", Incident),
    ("regime", Detail("regime")),
    ("stage", Detail("stage")),
    ("virk_reference", Detail("virk-reference")),
    ("submitted_at", Detail("submitted-at")),
    ("late_reason", Detail("late-reason")),
    ("receipt_sha256", Detail("receipt-sha256")),
];

/// One event as the walk reads it.
struct Event {
    id: i64,
    incident_id: i64,
    message_id: Option<String>,
    at: String,
    kind: String,
    detail: Value,
}

/// What the chain says about one row: the event that recorded it (none if events
/// speak of a row no event recorded), and per column the value and who set it.
#[derive(Default)]
struct Known {
    recorded_by: Option<i64>,
    columns: BTreeMap<&'static str, (Value, i64)>,
}

#[derive(Default)]
struct Stated {
    rows: BTreeMap<Row, Known>,
    problems: Vec<ChainProblem>,
}

impl Stated {
    fn set(&mut self, e: &Event, row: Row, records: bool, columns: &[(&str, Source)]) {
        let known = self.rows.entry(row).or_default();
        if records {
            known.recorded_by.get_or_insert(e.id);
        }
        for (column, source) in columns {
            let Some(column) = column_name(column) else { continue };
            let value = match source {
                Detail(field) => e.detail.get(*field).cloned(),
                At => Some(json!(e.at)),
                Incident => Some(json!(e.incident_id)),
                Text(t) => Some(json!(t)),
                Int(i) => Some(json!(i)),
                Null => Some(Value::Null),
            };
            match value {
                Some(v) => known.columns.insert(column, (v, e.id)),
                None => known.columns.remove(column),
            };
        }
    }

    /// An attestation fills in what the chain did not say, and must agree with what it did.
    fn attest(&mut self, e: &Event) {
        let Some(row) = Row::from_attested(&e.detail) else {
            self.problems.push(ChainProblem { event: Some(e.id), problem: "an attestation that names no row".into() });
            return;
        };
        let known = self.rows.entry(row.clone()).or_default();
        known.recorded_by.get_or_insert(e.id);
        for (name, value) in e.detail["columns"].as_object().into_iter().flatten() {
            let Some(column) = column_name(name) else { continue };
            match known.columns.get(column) {
                Some((earlier, by)) if earlier != value => self.problems.push(ChainProblem {
                    event: Some(e.id),
                    problem: format!("attests {column} of {row} as {}, but event {by} recorded {}", shown(value), shown(earlier)),
                }),
                Some(_) => {}
                None => {
                    known.columns.insert(column, (value.clone(), e.id));
                }
            }
        }
    }

    fn apply(&mut self, e: &Event) {
        let message = || e.message_id.clone().map(Row::Message);
        match e.kind.as_str() {
            "created" => self.set(e, Row::Incident(e.incident_id), true, CREATED),
            "follow-up" => self.set(e, Row::Incident(e.incident_id), false, FOLLOW_UP),
            "cert-case" => self.set(e, Row::Incident(e.incident_id), false, &[("cert_case", Detail("case"))]),
            "virk-filed" => {
                if let Some(id) = e.detail.get("filing").and_then(Value::as_i64) {
                    self.set(e, Row::Filing(id), true, FILED);
                }
            }
            "attested" => self.attest(e),
            "queued" | "requeued" | "sending" | "sent" | "deferred" | "failed" => {
                let Some(row) = message() else { return };
                let (records, columns) = match e.kind.as_str() {
                    "queued" => (true, QUEUED),
                    "requeued" => (false, REQUEUED),
                    "sending" => (false, SENDING),
                    "sent" => (false, SENT),
                    "deferred" => (false, DEFERRED),
                    _ => (false, FAILED),
                };
                self.set(e, row, records, columns);
            }
            // The bounce names the message it reports, which ingest marks `bounced`
            // (a bounce that names none marks nothing).
            "bounced" => {
                if let Some(id) = e.detail["message"].as_str() {
                    self.set(e, Row::Message(id.to_string()), false, BOUNCED);
                }
            }
            _ => {}
        }
        // Any event naming a received message by its content hash (the received event,
        // an analyst's correction of its kind) states the columns it carries.
        if let Some(hash) = e.detail.get("content_hash").and_then(Value::as_str) {
            let row = Row::Received(hash.to_string());
            if e.kind == "received" {
                self.set(e, row, true, RECEIVED);
            } else {
                let carried: Vec<(&str, Source)> = ["kind", "signature", "signer", "marked_kind"]
                    .into_iter()
                    .filter(|f| e.detail.get(*f).is_some())
                    .map(|f| (f, Detail(f)))
                    .collect();
                self.set(e, row, false, &carried);
            }
        }
    }
}

fn shown(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 80 { format!("{}…", text.chars().take(80).collect::<String>()) } else { text }
}

fn walk(db: &mut Engine) -> Result<Stated, Failure> {
    let rows = db.rows("SELECT id, incident_id, message_id, at, kind, detail FROM events ORDER BY id", &[])?;
    let mut stated = Stated::default();
    for r in &rows {
        let detail: String = r.get(5)?;
        let e = Event {
            id: r.get(0)?,
            incident_id: r.get(1)?,
            message_id: r.get(2)?,
            at: r.get(3)?,
            kind: r.get(4)?,
            detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
        };
        stated.apply(&e);
    }
    Ok(stated)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A row as it is, in the covered columns; spooled messages also name their file.
struct Actual {
    columns: BTreeMap<&'static str, Value>,
    spool: Option<String>,
}

fn actual_rows(db: &mut Engine) -> Result<BTreeMap<Row, Actual>, Failure> {
    let mut rows = BTreeMap::new();
    let mut put = |row: Row, values: Vec<(&'static str, Value)>, spool: Option<String>| {
        rows.insert(row, Actual { columns: values.into_iter().collect(), spool });
    };
    for r in &db.rows("SELECT id, reference, scheme, title, created_at, detected_at, incident_json, cert_case FROM incidents", &[])? {
        let json: String = r.get(6)?;
        let text = |i: usize| r.get::<Option<String>>(i).map(|v| json!(v));
        put(
            Row::Incident(r.get(0)?),
            vec![
                ("reference", text(1)?),
                ("scheme", text(2)?),
                ("title", text(3)?),
                ("created_at", text(4)?),
                ("detected_at", text(5)?),
                ("incident_json", json!(sha256_hex(json.as_bytes()))),
                ("cert_case", text(7)?),
            ],
            None,
        );
    }
    let messages = db.rows(
        "SELECT m.message_id, m.incident_id, m.state, m.attempts, m.last_reply, m.last_error, m.next_attempt_at, m.claimed_by,
                m.size, m.recipient, m.recipient_fingerprint, m.envelope_from, m.envelope_to, m.created_at,
                b.bytes, m.spool, m.sha256, m.incident_sha256
         FROM messages m LEFT JOIN message_bytes b ON b.message = m.id",
        &[],
    )?;
    for r in &messages {
        let text = |i: usize| r.get::<Option<String>>(i).map(|v| json!(v));
        let int = |i: usize| r.get::<Option<i64>>(i).map(|v| json!(v));
        let inline: Option<Vec<u8>> = r.get(14)?;
        let spool: Option<String> = r.get(15)?;
        // The hash of the bytes that will travel: inline, computed; spooled, the
        // row's (the file is checked against the row separately).
        let sha256 = match &inline {
            Some(bytes) => json!(sha256_hex(bytes)),
            None => text(16)?,
        };
        put(
            Row::Message(r.get(0)?),
            vec![
                ("incident_id", int(1)?),
                ("state", text(2)?),
                ("attempts", int(3)?),
                ("last_reply", text(4)?),
                ("last_error", text(5)?),
                ("next_attempt_at", text(6)?),
                ("claimed_by", int(7)?),
                ("size", int(8)?),
                ("recipient", text(9)?),
                ("recipient_fingerprint", text(10)?),
                ("envelope_from", text(11)?),
                ("envelope_to", text(12)?),
                ("created_at", text(13)?),
                ("sha256", sha256),
                ("incident_sha256", text(17)?),
            ],
            if inline.is_none() { spool } else { None },
        );
    }
    let received = db.rows(
        "SELECT content_hash, incident_id, message_id, kind, signature, signer, encrypted, received_at, raw,
                bound, flags, signer_recipient, from_address, marked_kind, reason, file
         FROM received",
        &[],
    )?;
    for r in &received {
        let text = |i: usize| r.get::<Option<String>>(i).map(|v| json!(v));
        let raw: Vec<u8> = r.get(8)?;
        // Mail ingested from a file kept no bytes; `store migrate` reads them in from
        // the file when it still holds them: they are the row's own content, whose
        // hash is the row's key, so the row states them as ingest did (none kept).
        let file: Option<String> = r.get(15)?;
        let content_hash: String = r.get(0)?;
        let read_in = file.is_some() && !raw.is_empty() && sha256_hex(&raw) == content_hash;
        // As the events state them: `bound` a boolean (any other number is itself an
        // edit), `flags` the list its JSON text holds.
        let bound = match r.get::<i64>(9)? {
            0 => json!(false),
            1 => json!(true),
            other => json!(other),
        };
        let flags: String = r.get(10)?;
        let flags = serde_json::from_str::<Value>(&flags).unwrap_or(Value::String(flags));
        put(
            Row::Received(r.get(0)?),
            vec![
                ("incident_id", json!(r.get::<Option<i64>>(1)?)),
                ("message_id", text(2)?),
                ("kind", text(3)?),
                ("signature", text(4)?),
                ("signer", text(5)?),
                ("encrypted", json!(r.get::<bool>(6)?)),
                ("received_at", text(7)?),
                ("raw", if raw.is_empty() || read_in { Value::Null } else { json!(sha256_hex(&raw)) }),
                ("bound", bound),
                ("flags", flags),
                ("signer_recipient", text(11)?),
                ("from_address", text(12)?),
                ("marked_kind", text(13)?),
                ("reason", text(14)?),
            ],
            None,
        );
    }
    let filings =
        db.rows("SELECT id, incident_id, regime, stage, virk_reference, submitted_at, late_reason, receipt_sha256 FROM filings", &[])?;
    for r in &filings {
        let text = |i: usize| r.get::<Option<String>>(i).map(|v| json!(v));
        put(
            Row::Filing(r.get(0)?),
            vec![
                ("incident_id", json!(r.get::<i64>(1)?)),
                ("regime", text(2)?),
                ("stage", text(3)?),
                ("virk_reference", text(4)?),
                ("submitted_at", text(5)?),
                ("late_reason", text(6)?),
                ("receipt_sha256", text(7)?),
            ],
            None,
        );
    }
    Ok(rows)
}

/// A received message kept apart from any incident has no events (they belong to an
/// incident): the chain covers it only once it is tied to one.
fn needs_an_event(row: &Row, actual: &Actual) -> bool {
    !matches!(row, Row::Received(_)) || !actual.columns.get("incident_id").is_none_or(Value::is_null)
}

/// Compares every covered row with what the chain says it holds.
pub(super) fn check_rows(db: &mut Engine, store_path: Option<&Path>) -> Result<Vec<ChainProblem>, Failure> {
    let Stated { rows: stated, mut problems } = walk(db)?;
    let actual = actual_rows(db)?;
    for (row, known) in &stated {
        let Some(recorded_by) = known.recorded_by else { continue };
        let Some(found) = actual.get(row) else {
            problems.push(ChainProblem {
                event: Some(recorded_by),
                problem: format!("{row}, recorded by this event, is no longer in the log: its row was deleted outside certmail"),
            });
            continue;
        };
        for (column, (value, by)) in &known.columns {
            let holds = found.columns.get(column).unwrap_or(&Value::Null);
            if holds != value {
                problems.push(ChainProblem {
                    event: Some(*by),
                    problem: format!(
                        "{row}: {column} is {} in its row, but this event recorded {}: the row was changed outside certmail",
                        shown(holds),
                        shown(value)
                    ),
                });
            }
        }
    }
    for (row, found) in &actual {
        if stated.get(row).is_none_or(|k| k.recorded_by.is_none()) && needs_an_event(row, found) {
            problems.push(ChainProblem {
                event: None,
                problem: format!("{row} is in the log, but no event recorded it: it was added outside certmail"),
            });
        }
        if let (Some(name), Some(Value::String(recorded))) = (&found.spool, found.columns.get("sha256")) {
            match spool_sha256(store_path, name) {
                Ok(found) if &found == recorded => {}
                Ok(found) => problems.push(ChainProblem {
                    event: None,
                    problem: format!(
                        "{row}: its spool file {name} has SHA-256 {found}, not the recorded {recorded}: the bytes to send were changed"
                    ),
                }),
                Err(e) => problems.push(ChainProblem { event: None, problem: format!("{row}: its spool file {name} cannot be read: {e}") }),
            }
        }
    }
    Ok(problems)
}

fn spool_sha256(store_path: Option<&Path>, name: &str) -> std::io::Result<String> {
    let Some(store_path) = store_path else { return Err(std::io::Error::other("a spool file on PostgreSQL, which has no spool")) };
    if name.contains('/') || name.starts_with('.') {
        return Err(std::io::Error::other("not a name certmail writes"));
    }
    let mut file = std::fs::File::open(spool::spool_dir(store_path).join(name))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => hash.update(&buf[..n]),
        }
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// States, in one `attested` event per row, the covered columns the chain does not
/// say yet (a log from before the rule); returns how many rows needed one. Run by
/// the upgrade only: run later, it would vouch for whatever a row then holds.
pub(super) fn attest_uncovered(db: &mut Engine, now: &str, by: &super::Actor) -> Result<usize, Failure> {
    let Stated { rows: stated, .. } = walk(db)?;
    let actual = actual_rows(db)?;
    let incidents: std::collections::BTreeSet<i64> =
        actual.keys().filter_map(|r| if let Row::Incident(id) = r { Some(*id) } else { None }).collect();
    let mut attested = 0;
    for (row, now_row) in &actual {
        let incident = match row {
            Row::Incident(id) => Some(*id),
            _ => now_row.columns.get("incident_id").and_then(Value::as_i64),
        };
        // Events belong to an incident; a row without one stays as it is.
        let Some(incident) = incident.filter(|id| incidents.contains(id)) else { continue };
        let known = stated.get(row);
        let missing: serde_json::Map<String, Value> = now_row
            .columns
            .iter()
            .filter(|(c, _)| known.is_none_or(|k| !k.columns.contains_key(*c)))
            .map(|(c, v)| (c.to_string(), v.clone()))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let message_id = if let Row::Message(id) = row { Some(id.as_str()) } else { None };
        let detail = json!({
            "row": row.kind(),
            "key": row.key(),
            "columns": missing,
            "note": "stated by the upgrade that made the chain cover rows: the values as found then",
        });
        event(db, incident, message_id, now, "attested", &detail, by)?;
        attested += 1;
    }
    Ok(attested)
}
