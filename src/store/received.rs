//! Received mail in the incident log: correlation lookups (our Message-IDs, the
//! references, the CERT's case number), and recording a received message with its
//! events, once per content hash.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Store, db_error, event};
use crate::exit::Failure;

/// An incident a received message belongs to, and the notification it answers.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub incident_id: i64,
    pub reference: String,
    /// Our Message-ID it answers, when known.
    pub message_id: Option<String>,
    /// The recipient (CERT) that notification went to.
    pub recipient: Option<String>,
}

/// A message recorded before (ingest is idempotent).
pub struct Earlier {
    pub reference: Option<String>,
    pub message_id: Option<String>,
    pub kind: String,
    pub signature: String,
    pub encrypted: bool,
    pub signer: Option<String>,
}

/// A received message as recorded.
pub struct NewReceived<'a> {
    pub message_id: Option<&'a str>,
    pub content_hash: &'a str,
    pub source: &'a str,
    pub kind: &'a str,
    pub signature: &'a str,
    pub encrypted: bool,
    pub signer: Option<&'a str>,
    /// The message as received, kept as evidence when it is signed or encrypted and
    /// tied to an incident; other mail stays in its mailbox and only its hash is kept.
    pub raw: &'a [u8],
    pub keep_raw: bool,
    /// Extra events for the incident: ("acknowledged", detail), ("closed", …), ("bounced", …).
    pub events: Vec<(&'a str, serde_json::Value)>,
    /// The CERT's case number, kept if the incident has none yet.
    pub cert_case: Option<&'a str>,
    /// Our message a failed bounce reports as undelivered.
    pub bounced_message: Option<&'a str>,
}

impl Store {
    /// How exactly this content was recorded before, if it was.
    pub fn already_received(&self, content_hash: &str) -> Result<Option<Earlier>, Failure> {
        self.conn
            .prepare_cached(
                "SELECT i.reference, r.message_id, r.kind, r.signature, r.encrypted, r.signer
                 FROM received r LEFT JOIN incidents i ON i.id = r.incident_id WHERE r.content_hash = ?1",
            )
            .map_err(db_error("received"))?
            .query_row([content_hash], |r| {
                Ok(Earlier {
                    reference: r.get(0)?,
                    message_id: r.get(1)?,
                    kind: r.get(2)?,
                    signature: r.get(3)?,
                    encrypted: r.get(4)?,
                    signer: r.get(5)?,
                })
            })
            .optional()
            .map_err(db_error("received"))
    }

    /// The incident one of our Message-IDs belongs to.
    pub fn correlate_message_id(&self, message_id: &str) -> Result<Option<Correlation>, Failure> {
        self.conn
            .prepare_cached("SELECT i.id, i.reference, m.message_id, m.recipient FROM messages m JOIN incidents i ON i.id = m.incident_id WHERE m.message_id = ?1")
            .map_err(db_error("correlate"))?
            .query_row(
                [message_id.trim_matches(['<', '>'])],
                |r| Ok(Correlation { incident_id: r.get(0)?, reference: r.get(1)?, message_id: r.get(2)?, recipient: r.get(3)? }),
            )
            .optional()
            .map_err(db_error("correlate"))
    }

    /// The incident with this certmail reference or CERT case number.
    pub fn correlate_reference(&self, reference: &str) -> Result<Option<Correlation>, Failure> {
        self.conn
            .prepare_cached(
                "SELECT i.id, i.reference,
                        (SELECT m.message_id FROM messages m WHERE m.incident_id = i.id ORDER BY m.id DESC LIMIT 1),
                        (SELECT m.recipient FROM messages m WHERE m.incident_id = i.id ORDER BY m.id DESC LIMIT 1)
                 FROM incidents i WHERE i.reference = ?1 OR i.cert_case = ?1",
            )
            .map_err(db_error("correlate"))?
            .query_row([reference], |r| {
                Ok(Correlation { incident_id: r.get(0)?, reference: r.get(1)?, message_id: r.get(2)?, recipient: r.get(3)? })
            })
            .optional()
            .map_err(db_error("correlate"))
    }

    /// Every CERT case number known, to look for in replies.
    pub fn cert_cases(&self) -> Result<Vec<String>, Failure> {
        let mut stmt =
            self.conn.prepare_cached("SELECT cert_case FROM incidents WHERE cert_case IS NOT NULL").map_err(db_error("cases"))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(db_error("cases"))?;
        rows.collect::<Result<_, _>>().map_err(db_error("cases"))
    }

    /// Opens a batch: received messages are then committed together (ingest is
    /// idempotent, so a crash loses only what the next ingest adds again).
    pub fn begin_batch(&mut self) -> Result<(), Failure> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db_error("batch"))
    }

    /// Commits the open batch.
    pub fn commit_batch(&mut self) -> Result<(), Failure> {
        self.conn.execute_batch("COMMIT").map_err(db_error("batch"))
    }

    /// Records a received message (and its events) as one unit, inside the open
    /// batch if any; `false` if this content was recorded before.
    pub fn record_received(&mut self, incident: Option<&Correlation>, r: &NewReceived, now: &str) -> Result<bool, Failure> {
        // A savepoint nests in a batch, and is a transaction of its own without one.
        let tx = self.conn.savepoint().map_err(db_error("received"))?;
        let raw: &[u8] = if incident.is_some() && r.keep_raw { r.raw } else { &[] };
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO received (incident_id, message_id, content_hash, source, kind, signature, encrypted, signer, received_at, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut s| {
                s.execute(params![incident.map(|c| c.incident_id), r.message_id, r.content_hash, r.source, r.kind, r.signature, r.encrypted, r.signer, now, raw])
            })
            .map_err(db_error("received"))?;
        if inserted == 0 {
            return Ok(false);
        }
        if let Some(c) = incident {
            record_events(&tx, c, r, raw, now)?;
        }
        tx.commit().map_err(db_error("received"))?;
        Ok(true)
    }
}

fn record_events(tx: &Connection, c: &Correlation, r: &NewReceived, raw: &[u8], now: &str) -> Result<(), Failure> {
    // The content hash names the row, and the evidence's hash covers what is kept:
    // `log verify` holds the row's kind, signature and evidence to this event.
    let raw_sha256 = (!raw.is_empty()).then(|| Sha256::digest(raw).iter().map(|b| format!("{b:02x}")).collect::<String>());
    let detail = serde_json::json!({
        "kind": r.kind, "signature": r.signature, "signer": r.signer, "encrypted": r.encrypted,
        "message_id": r.message_id, "source": r.source, "answers": c.message_id,
        "content_hash": r.content_hash, "raw-sha256": raw_sha256,
    });
    event(tx, c.incident_id, c.message_id.as_deref(), now, "received", &detail)?;
    for (kind, extra) in &r.events {
        event(tx, c.incident_id, c.message_id.as_deref(), now, kind, extra)?;
    }
    if let Some(case) = r.cert_case {
        let set = tx
            .execute("UPDATE incidents SET cert_case = ?1 WHERE id = ?2 AND cert_case IS NULL", params![case, c.incident_id])
            .map_err(db_error("case"))?;
        if set > 0 {
            event(tx, c.incident_id, c.message_id.as_deref(), now, "cert-case", &serde_json::json!({ "case": case }))?;
        }
    }
    if let Some(id) = r.bounced_message {
        tx.execute("UPDATE messages SET state = 'bounced', updated_at = ?1 WHERE message_id = ?2", params![now, id])
            .map_err(db_error("bounce"))?;
    }
    Ok(())
}
