//! Received mail in the incident log: correlation lookups (our Message-IDs, the
//! references, the CERT's case number), identity lookups (the same message again, a
//! replay of signed content, a reused Message-ID), and recording a received message
//! with its events, once per content hash.

use sha2::{Digest, Sha256};

use super::sql::{Engine, Row};
use super::{Actor, Store, event};
use crate::crypto::SignatureStatus;
use crate::exit::Failure;
use crate::reply::Kind;

/// An incident and the last notification it sent, as a [`Correlation`], followed by
/// `$filter` (a WHERE on `i`): one constant text per lookup, so the hot path (every
/// threaded reply) neither formats nor hashes a new string for the statement cache.
macro_rules! correlation_sql {
    ($filter:literal) => {
        concat!(
            "SELECT i.id, i.reference,
                (SELECT m.message_id FROM messages m WHERE m.incident_id = i.id ORDER BY m.id DESC LIMIT 1),
                (SELECT m.recipient FROM messages m WHERE m.incident_id = i.id ORDER BY m.id DESC LIMIT 1),
                i.created_at
             FROM incidents i ",
            $filter
        )
    };
}

/// An incident a received message belongs to, and the notification it answers.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub incident_id: i64,
    pub reference: String,
    /// Our Message-ID it answers, when known.
    pub message_id: Option<String>,
    /// The recipient (CERT) that notification went to.
    pub recipient: Option<String>,
    /// When the incident was recorded (its first notification was made).
    pub created_at: String,
}

/// A message recorded before (ingest is idempotent).
pub struct Earlier {
    pub reference: Option<String>,
    pub message_id: Option<String>,
    pub kind: Kind,
    pub signature: SignatureStatus,
    pub encrypted: bool,
    pub signer: Option<String>,
    pub bound: bool,
}

/// A received message as recorded.
pub struct NewReceived<'a> {
    pub message_id: Option<&'a str>,
    pub content_hash: &'a str,
    /// Message-ID and content, or the signed content: the same message seen again.
    pub identity: &'a str,
    pub source: &'a str,
    pub kind: Kind,
    pub signature: SignatureStatus,
    pub encrypted: bool,
    pub signer: Option<&'a str>,
    /// The pinned recipient whose key signed it.
    pub signer_recipient: Option<&'a str>,
    /// A good, whole-message signature whose content names the incident: only then
    /// may it change the incident's state (the events below).
    pub bound: bool,
    /// What an analyst should know: "from-mismatch", "replay", "message-id-reused", ...
    pub flags: &'a [String],
    pub from: Option<&'a str>,
    pub subject: &'a str,
    /// Why it is malformed, or what a bounce said.
    pub reason: Option<&'a str>,
    /// The message as received, kept as evidence when it is signed or encrypted and
    /// tied to an incident; other mail stays in its mailbox and only its hash is kept.
    pub raw: &'a [u8],
    pub keep_raw: bool,
    /// The message's file (absolute), kept for mail whose bytes are not.
    pub file: Option<&'a str>,
    /// Extra events for the incident: ("acknowledged", detail), ("cert-closed", …), ("bounced", …).
    pub events: Vec<(&'a str, serde_json::Value)>,
    /// The CERT's case number, kept if the incident has none yet.
    pub cert_case: Option<&'a str>,
    /// Our message a failed bounce reports as undelivered; only one a relay took
    /// (see [`super::MessageState::relay_accepted`]).
    pub bounced_message: Option<&'a str>,
    /// This content was recorded before as an encrypted message that machine could
    /// not read (team mode: it was for another member's key); this reading replaces
    /// that row, and its event says so.
    pub replaces_unreadable: bool,
}

impl Store {
    /// How exactly this content was recorded before, if it was.
    pub fn already_received(&self, content_hash: &str) -> Result<Option<Earlier>, Failure> {
        let row = self.db().row_opt(
            "SELECT i.reference, r.message_id, r.kind, r.signature, r.encrypted, r.signer, r.bound
             FROM received r LEFT JOIN incidents i ON i.id = r.incident_id WHERE r.content_hash = ?1",
            vals![content_hash],
        )?;
        row.as_ref().map(earlier).transpose()
    }

    /// Whether the log itself says this content was recorded as an encrypted message
    /// that could not be read: its last `received` event says so, or (mail about no
    /// incident, which has no event and changed nothing) its row does. The row alone
    /// is not believed: whoever can write to the database could mark an acknowledged
    /// reply unreadable to have it recorded, and acknowledge or close, again.
    pub fn recorded_as_unreadable(&self, content_hash: &str) -> Result<bool, Failure> {
        let rows = self.db().rows(
            "SELECT detail FROM events WHERE kind = 'received' AND detail LIKE ?1 ORDER BY id",
            vals![&format!("%{content_hash}%")],
        )?;
        let mut last = None;
        for r in &rows {
            let detail: String = r.get(0)?;
            if let Ok(d) = serde_json::from_str::<serde_json::Value>(&detail)
                && d["content_hash"].as_str() == Some(content_hash)
            {
                last = Some(d);
            }
        }
        match last {
            Some(d) => Ok(d["kind"] == "malformed" && d["encrypted"] == true),
            None => self.db().one(
                "SELECT EXISTS (SELECT 1 FROM received WHERE content_hash = ?1 AND incident_id IS NULL AND kind = 'malformed' AND encrypted = 1)",
                vals![content_hash],
            ),
        }
    }

    /// The message recorded before with this identity and Message-ID: the same
    /// message again (from another mailbox, with other line ends or headers).
    pub fn same_message(&self, identity: &str, message_id: Option<&str>) -> Result<Option<Earlier>, Failure> {
        let row = self.db().row_opt(
            "SELECT i.reference, r.message_id, r.kind, r.signature, r.encrypted, r.signer, r.bound
             FROM received r LEFT JOIN incidents i ON i.id = r.incident_id
             WHERE r.identity = ?1 AND r.message_id IS NOT DISTINCT FROM CAST(?2 AS TEXT) ORDER BY r.id LIMIT 1",
            vals![identity, message_id],
        )?;
        row.as_ref().map(earlier).transpose()
    }

    /// Whether this identity (signed content) was recorded before under any Message-ID.
    pub fn identity_seen(&self, identity: &str) -> Result<bool, Failure> {
        self.db().one("SELECT EXISTS (SELECT 1 FROM received WHERE identity = ?1)", vals![identity])
    }

    /// Whether another message was recorded before with this Message-ID.
    pub fn message_id_seen(&self, message_id: &str) -> Result<bool, Failure> {
        self.db().one("SELECT EXISTS (SELECT 1 FROM received WHERE message_id = ?1)", vals![message_id])
    }

    /// Every recipient the incident's messages went to.
    pub fn incident_recipients(&self, incident_id: i64) -> Result<Vec<String>, Failure> {
        let rows = self.db().rows("SELECT DISTINCT recipient FROM messages WHERE incident_id = ?1", vals![incident_id])?;
        rows.iter().map(|r| r.get(0)).collect()
    }

    /// The incident one of our Message-IDs belongs to.
    pub fn correlate_message_id(&self, message_id: &str) -> Result<Option<Correlation>, Failure> {
        let row = self.db().row_opt(
            "SELECT i.id, i.reference, m.message_id, m.recipient, i.created_at FROM messages m JOIN incidents i ON i.id = m.incident_id WHERE m.message_id = ?1",
            vals![message_id.trim().trim_matches(['<', '>'])],
        )?;
        row.as_ref().map(correlation).transpose()
    }

    /// The delivery state of one of our messages, by Message-ID.
    pub fn message_state(&self, message_id: &str) -> Result<Option<super::MessageState>, Failure> {
        let state: Option<String> =
            self.db().one_opt("SELECT state FROM messages WHERE message_id = ?1", vals![message_id.trim().trim_matches(['<', '>'])])?;
        Ok(state.as_deref().map(super::MessageState::from_key))
    }

    /// The incident with this certmail reference or CERT case number.
    pub fn correlate_reference(&self, reference: &str) -> Result<Option<Correlation>, Failure> {
        let by_reference = self.db().row_opt(correlation_sql!("WHERE i.reference = ?1"), vals![reference])?;
        if let Some(row) = by_reference {
            return correlation(&row).map(Some);
        }
        // A case number binds only if an event of the incident recorded it: the
        // column alone is whatever the last writer to the database made it. The
        // events are read here, not matched with LIKE in SQL: a LIKE pattern bound
        // as a parameter makes SQLite prepare the statement again at every call,
        // which was a tenth of ingest's time.
        let holders = self.db().rows(correlation_sql!("WHERE i.cert_case = ?1 ORDER BY i.id"), vals![reference])?;
        for row in &holders {
            let found = correlation(row)?;
            let events = self.db().rows(
                "SELECT kind, detail FROM events WHERE incident_id = ?1 AND kind IN ('cert-case', 'attested') ORDER BY id",
                vals![found.incident_id],
            )?;
            for event in &events {
                let (kind, detail): (String, String) = (event.get(0)?, event.get(1)?);
                if records_case(&kind, &detail, reference) {
                    return Ok(Some(found));
                }
            }
        }
        Ok(None)
    }

    /// The CERT case number the incident's row holds.
    pub fn cert_case_of(&self, incident_id: i64) -> Result<Option<String>, Failure> {
        self.db().one("SELECT cert_case FROM incidents WHERE id = ?1", vals![incident_id])
    }

    /// Every CERT case number known, to look for in replies.
    pub fn cert_cases(&self) -> Result<Vec<String>, Failure> {
        let rows = self.db().rows("SELECT cert_case FROM incidents WHERE cert_case IS NOT NULL", &[])?;
        rows.iter().map(|r| r.get(0)).collect()
    }

    /// Opens a batch: received messages are then committed together (ingest is
    /// idempotent, so a crash loses only what the next ingest adds again).
    pub fn begin_batch(&mut self) -> Result<(), Failure> {
        self.db.get_mut().begin_write()
    }

    /// Commits the open batch.
    pub fn commit_batch(&mut self) -> Result<(), Failure> {
        self.db.get_mut().commit()
    }

    /// Records a received message (and its events) as one unit, inside the open
    /// batch if any; `false` if this content was recorded before.
    pub fn record_received(&mut self, incident: Option<&Correlation>, r: &NewReceived, now: &str) -> Result<bool, Failure> {
        let (db, by) = (self.db.get_mut(), &self.by);
        // Mail about no incident is one INSERT, atomic on its own; the rest is several
        // statements, so a savepoint (in a batch) or a transaction of its own (without
        // one) makes them one unit. Opening one for every message of a mailbox cost
        // more than the insert.
        let Some(c) = incident else {
            return insert_received(db, None, r, now);
        };
        let work = |db: &mut Engine| -> Result<bool, Failure> {
            if !insert_received(db, incident, r, now)? {
                return Ok(false);
            }
            let raw = kept(db, incident, r);
            record_events(db, c, r, raw, now, by)?;
            Ok(true)
        };
        if !db.in_transaction() {
            return db.write(work);
        }
        db.savepoint("received")?;
        match work(db) {
            Ok(done) => {
                db.release("received")?;
                Ok(done)
            }
            Err(e) => {
                db.rollback_to("received");
                Err(e)
            }
        }
    }
}

/// The bytes of a received message kept in its row: evidence (signed or encrypted,
/// and tied to an incident); on PostgreSQL also mail whose file is only on this
/// machine, which another cannot read.
fn kept<'r>(db: &Engine, incident: Option<&Correlation>, r: &NewReceived<'r>) -> &'r [u8] {
    let evidence = incident.is_some() && r.keep_raw;
    let elsewhere = matches!(db, Engine::Postgres(_)) && r.file.is_some();
    if evidence || elsewhere { r.raw } else { &[] }
}

/// Inserts the row of a received message; `false` if its content was recorded before.
fn insert_received(db: &mut Engine, incident: Option<&Correlation>, r: &NewReceived, now: &str) -> Result<bool, Failure> {
    if r.replaces_unreadable {
        // Only a row that could not be read, so that nothing it changed is undone:
        // an unreadable message changes no incident's state.
        db.execute("DELETE FROM received WHERE content_hash = ?1 AND kind = 'malformed' AND encrypted = 1", vals![r.content_hash])?;
    }
    let raw = kept(db, incident, r);
    let file = if raw.is_empty() { r.file } else { None };
    let flags = serde_json::to_string(r.flags).unwrap_or_else(|_| "[]".into());
    let inserted = db.execute(
        "INSERT INTO received (incident_id, message_id, content_hash, source, kind, signature, encrypted, signer, received_at, raw,
                               identity, bound, signer_recipient, flags, from_address, subject, file, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
         ON CONFLICT DO NOTHING",
        vals![
            incident.map(|c| c.incident_id),
            r.message_id,
            r.content_hash,
            r.source,
            r.kind.key(),
            r.signature.key(),
            r.encrypted,
            r.signer,
            now,
            raw,
            r.identity,
            r.bound,
            r.signer_recipient,
            &flags,
            r.from,
            r.subject,
            file,
            r.reason,
        ],
    )?;
    Ok(inserted > 0)
}

fn earlier(r: &Row) -> Result<Earlier, Failure> {
    let kind: String = r.get(2)?;
    let signature: String = r.get(3)?;
    Ok(Earlier {
        reference: r.get(0)?,
        message_id: r.get(1)?,
        kind: Kind::from_key(&kind).unwrap_or(Kind::Malformed),
        signature: SignatureStatus::from_key(&signature),
        encrypted: r.get(4)?,
        signer: r.get(5)?,
        bound: r.get(6)?,
    })
}

fn correlation(r: &Row) -> Result<Correlation, Failure> {
    Ok(Correlation { incident_id: r.get(0)?, reference: r.get(1)?, message_id: r.get(2)?, recipient: r.get(3)?, created_at: r.get(4)? })
}

fn record_events(db: &mut Engine, c: &Correlation, r: &NewReceived, raw: &[u8], now: &str, by: &Actor) -> Result<(), Failure> {
    // The content hash names the row, and the evidence's hash covers what is kept:
    // `log verify` holds every column `read` and `status` trust to this event (see
    // cover.rs). The content hash is the SHA-256 of the raw message, which is what is kept.
    let raw_sha256 = (!raw.is_empty()).then(|| {
        if raw.len() == r.raw.len() {
            r.content_hash.to_string()
        } else {
            Sha256::digest(raw).iter().map(|b| format!("{b:02x}")).collect::<String>()
        }
    });
    let mut detail = serde_json::json!({
        "kind": r.kind.key(), "signature": r.signature.key(), "signer": r.signer, "signer-recipient": r.signer_recipient,
        "bound": r.bound, "flags": r.flags, "encrypted": r.encrypted,
        "message_id": r.message_id, "source": r.source, "answers": c.message_id,
        "content_hash": r.content_hash, "raw-sha256": raw_sha256,
        "from": r.from, "reason": r.reason, "marked_kind": null,
    });
    if r.replaces_unreadable {
        // Read again where it can be decrypted: the earlier received event said it
        // could not be; this one states what the row holds now.
        detail["read_again"] = true.into();
    }
    event(db, c.incident_id, c.message_id.as_deref(), now, "received", &detail, by)?;
    for (kind, extra) in &r.events {
        // An incident is acknowledged once; later receipts are in their "received" events.
        if *kind == "acknowledged" && has_event(db, c.incident_id, "acknowledged")? {
            continue;
        }
        event(db, c.incident_id, c.message_id.as_deref(), now, kind, extra, by)?;
    }
    // Only a bound reply's case number is kept: unsigned mail never sets one.
    if let Some(case) = r.cert_case.filter(|_| r.bound) {
        let set = db.execute("UPDATE incidents SET cert_case = ?1 WHERE id = ?2 AND cert_case IS NULL", vals![case, c.incident_id])?;
        if set > 0 {
            event(db, c.incident_id, c.message_id.as_deref(), now, "cert-case", &serde_json::json!({ "case": case }), by)?;
        }
    }
    if let Some(id) = r.bounced_message {
        // The one change unsigned mail may make: a bounce marks our message
        // undelivered, which only ever makes status more cautious. Only a message a
        // relay took: a queued one must still be sent (ingest flags a bounce for it).
        db.execute(
            "UPDATE messages SET state = 'bounced', updated_at = ?1 WHERE message_id = ?2 AND state IN ('sent', 'bounced')",
            vals![now, id],
        )?;
    }
    Ok(())
}

fn has_event(db: &mut Engine, incident_id: i64, kind: &str) -> Result<bool, Failure> {
    db.one("SELECT EXISTS (SELECT 1 FROM events WHERE incident_id = ?1 AND kind = ?2)", vals![incident_id, kind])
}

/// A message of an incident as `certmail read` shows it.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub sent: bool,
    pub message_id: Option<String>,
    pub at: String,
    /// Received: as it arrived (empty if it was not kept); sent: the bytes that travel.
    pub raw: Vec<u8>,
    /// Received and not kept: the file it was read from, and the SHA-256 it had.
    pub file: Option<(String, String)>,
    pub kind: Option<Kind>,
    /// An analyst's correction, if any.
    pub marked_kind: Option<Kind>,
    pub signature: Option<SignatureStatus>,
    pub bound: bool,
    pub flags: Vec<String>,
    pub from: Option<String>,
    /// Received: why it is malformed, or what a bounce said (as ingest found it);
    /// sent: why its bytes are not shown (changed since they were queued).
    pub reason: Option<String>,
    /// Sent: the delivery state.
    pub state: Option<super::MessageState>,
}

impl Store {
    /// The incident with this reference, or the one a message with this Message-ID
    /// (sent or received) belongs to.
    pub fn find_incident(&self, target: &str) -> Result<Option<(i64, String)>, Failure> {
        let id = target.trim().trim_matches(['<', '>']);
        let row = self.db().row_opt(
            "SELECT i.id, i.reference FROM incidents i WHERE i.reference = ?1
             UNION ALL SELECT i.id, i.reference FROM messages m JOIN incidents i ON i.id = m.incident_id WHERE m.message_id = ?2
             UNION ALL SELECT i.id, i.reference FROM received r JOIN incidents i ON i.id = r.incident_id WHERE r.message_id = ?2
             LIMIT 1",
            vals![target.trim(), id],
        )?;
        row.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
    }

    /// Every message of an incident, sent and received, oldest first.
    pub fn incident_messages(&self, incident_id: i64) -> Result<Vec<StoredMessage>, Failure> {
        let mut out = Vec::new();
        let sent =
            self.db().rows("SELECT message_id, created_at, state FROM messages WHERE incident_id = ?1 ORDER BY id", vals![incident_id])?;
        for r in &sent {
            let (message_id, at, state): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            // Bytes that are not what was queued are not shown; the rest of the
            // incident still is.
            let (raw, reason) = match self.message_bytes(&message_id) {
                Ok(raw) => (raw.unwrap_or_default(), None),
                Err(f) => (Vec::new(), Some(f.message)),
            };
            out.push(StoredMessage {
                sent: true,
                message_id: Some(message_id),
                at,
                raw,
                file: None,
                kind: None,
                marked_kind: None,
                signature: None,
                bound: false,
                flags: Vec::new(),
                from: None,
                reason,
                state: Some(super::MessageState::from_key(&state)),
            });
        }
        let received = self.db().rows(
            &format!(
                "SELECT message_id, received_at, CASE WHEN LENGTH(raw) > {max} THEN substr(raw, 1, 0) ELSE raw END,
                        kind, marked_kind, signature, bound, flags, from_address, file, content_hash,
                        CASE WHEN LENGTH(raw) > {max} THEN 'larger than any message ingest records: not read' ELSE reason END
                 FROM received WHERE incident_id = ?1 ORDER BY id",
                // No row ingest made is larger; a larger one was written by someone
                // else, and is not read into memory.
                max = crate::reply::MAX_MESSAGE_BYTES
            ),
            vals![incident_id],
        )?;
        for r in &received {
            let kind: String = r.get(3)?;
            let marked: Option<String> = r.get(4)?;
            let signature: String = r.get(5)?;
            let flags: Option<String> = r.get(7)?;
            out.push(StoredMessage {
                sent: false,
                message_id: r.get(0)?,
                at: r.get(1)?,
                raw: r.get(2)?,
                file: r.get::<Option<String>>(9)?.map(|f| (f, r.get(10).unwrap_or_default())),
                kind: Kind::from_key(&kind),
                marked_kind: marked.as_deref().and_then(Kind::from_key),
                signature: Some(SignatureStatus::from_key(&signature)),
                bound: r.get(6)?,
                flags: flags.and_then(|f| serde_json::from_str(&f).ok()).unwrap_or_default(),
                from: r.get(8)?,
                reason: r.get(11)?,
                state: None,
            });
        }
        out.sort_by(|a, b| a.at.cmp(&b.at));
        Ok(out)
    }

    /// An analyst's correction of a received message's kind, with its event; the
    /// original verdict stays in the log. A bound message marked as a question or a
    /// closure changes the incident's state like one that said so.
    pub fn mark_kind(&mut self, reference: &str, message_id: &str, kind: Kind, reason: &str, now: &str) -> Result<(Kind, bool), Failure> {
        self.db.get_mut().write(|db| {
            let id = message_id.trim().trim_matches(['<', '>']);
            let known: bool = db.one("SELECT EXISTS (SELECT 1 FROM incidents WHERE reference = ?1)", vals![reference])?;
            if !known {
                return Err(Failure::not_found(format!("no incident {reference} in the log")));
            }
            let row = db.row_opt(
                "SELECT r.id, i.id, r.kind, r.bound, r.content_hash FROM received r JOIN incidents i ON i.id = r.incident_id
                 WHERE i.reference = ?1 AND r.message_id = ?2 ORDER BY r.id DESC LIMIT 1",
                vals![reference, id],
            )?;
            let Some(row) = row else {
                return Err(Failure::input(format!("--message {message_id}: no received message with that Message-ID on {reference}")));
            };
            let (row_id, incident_id, was, bound, content_hash): (i64, i64, String, bool, String) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?);
            let was = Kind::from_key(&was).unwrap_or(Kind::Malformed);
            db.execute("UPDATE received SET marked_kind = ?1 WHERE id = ?2", vals![kind.key(), row_id])?;
            // Names the row by its content hash and states what it now holds, so `log
            // verify` holds the row's correction to this event.
            let detail = serde_json::json!({
                "message_id": id, "was": was.key(), "as": kind.key(), "reason": reason, "bound": bound,
                "content_hash": content_hash, "marked_kind": kind.key(),
            });
            event(db, incident_id, None, now, "marked", &detail, &self.by)?;
            if bound && kind == Kind::Closed && !has_event(db, incident_id, "cert-closed")? {
                event(db, incident_id, None, now, "cert-closed", &serde_json::json!({ "marked": id }), &self.by)?;
            }
            Ok((was, bound))
        })
    }
}

/// Whether an event records `case` as its incident's CERT case number: a
/// `cert-case` event, or the upgrade's `attested` event stating the column.
fn records_case(kind: &str, detail: &str, case: &str) -> bool {
    let Ok(detail) = serde_json::from_str::<serde_json::Value>(detail) else { return false };
    match kind {
        "cert-case" => detail["case"].as_str() == Some(case),
        "attested" => detail["row"] == "incident" && detail["columns"]["cert_case"].as_str() == Some(case),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::records_case;

    #[test]
    fn a_case_number_is_recorded_only_by_an_event_that_states_exactly_it() {
        assert!(records_case("cert-case", r#"{"case":"CFCS-2026-4411"}"#, "CFCS-2026-4411"));
        assert!(!records_case("cert-case", r#"{"case":"CFCS-2026-4411"}"#, "CFCS-2026-441"));
        assert!(!records_case("cert-case", r#"{"case":"CFCS-2026-4411"}"#, "2026"));
        // What LIKE made a wildcard is a character like any other.
        assert!(!records_case("cert-case", r#"{"case":"CFCSx2026"}"#, "CFCS_2026"));
        assert!(!records_case("cert-case", r#"{"case":"CFCS-2026-4411"}"#, "%"));
        // The upgrade's attestation of an incident row states the column as found.
        let attested = r#"{"row":"incident","key":"CM-2026-0001","columns":{"cert_case":"88231","reference":"CM-2026-0001"},"note":"x"}"#;
        assert!(records_case("attested", attested, "88231"));
        assert!(!records_case("attested", &attested.replace("\"incident\"", "\"message\""), "88231"));
        // Named anywhere else in an event, it is not recorded as the case number.
        assert!(!records_case("received", r#"{"case":"88231"}"#, "88231"));
        assert!(!records_case("cert-case", r#"{"note":"\"case\":\"88231\""}"#, "88231"));
        assert!(!records_case("cert-case", "not json", "88231"));
    }
}
