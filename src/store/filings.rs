//! Staged filings on Virk.dk: `incident virk` records one stage of one regime, its
//! Virk.dk reference and when it was submitted, as a `filings` row and the
//! `virk-filed` event that states it, in one transaction. Filings recorded before
//! stages existed are events without a stage (see [`Filed::stage`]).

use rusqlite::{OptionalExtension, params};

use super::{Store, db_error, event};
use crate::exit::Failure;

/// A stage's submission to record.
pub struct NewFiling<'a> {
    pub regime: &'a str,
    pub stage: &'a str,
    pub virk_reference: &'a str,
    /// When it was submitted on Virk.dk (RFC 3339).
    pub submitted_at: &'a str,
    pub late_reason: Option<&'a str>,
    /// The kept receipt: `{ file, sha256, bytes }`.
    pub receipt: Option<serde_json::Value>,
}

/// One recorded filing of an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// None for a filing recorded before stages: it covered every stage but the
    /// intermediate and final reports, as certmail then counted them.
    pub regime: Option<String>,
    pub stage: Option<String>,
    pub virk_reference: Option<String>,
    pub submitted_at: String,
}

impl Store {
    /// Records a filing on the incident `reference`: one stage of each regime it was
    /// for (one submission of the joint form can go to several authorities), all or none.
    pub fn record_filings(&mut self, reference: &str, filings: &[NewFiling], now: &str) -> Result<(), Failure> {
        let err = db_error("filing");
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(&err)?;
        let id: Option<i64> =
            tx.query_row("SELECT id FROM incidents WHERE reference = ?1", [reference], |r| r.get(0)).optional().map_err(&err)?;
        let Some(id) = id else { return Err(Failure::not_found(format!("no incident {reference} in the log"))) };
        for f in filings {
            record(&tx, id, f, now, &self.by)?;
        }
        tx.commit().map_err(&err)
    }

    /// Every filing of the incident `reference`, oldest first.
    pub fn filings(&self, reference: &str) -> Result<Vec<Filed>, Failure> {
        let err = db_error("filings");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT f.regime, f.stage, f.virk_reference, f.submitted_at FROM filings f
                   JOIN incidents i ON i.id = f.incident_id WHERE i.reference = ?1
                 UNION ALL
                 SELECT NULL, NULL, json_extract(e.detail, '$.\"virk-reference\"'), e.at FROM events e
                   JOIN incidents i ON i.id = e.incident_id
                  WHERE i.reference = ?1 AND e.kind = 'virk-filed' AND json_extract(e.detail, '$.stage') IS NULL
                 ORDER BY 4",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([reference], |r| {
                Ok(Filed { regime: r.get(0)?, stage: r.get(1)?, virk_reference: r.get(2)?, submitted_at: r.get(3)? })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }
}

/// One stage's row and the `virk-filed` event that states it.
fn record(tx: &rusqlite::Transaction, id: i64, f: &NewFiling, now: &str, by: &super::Actor) -> Result<(), Failure> {
    let err = db_error("filing");
    let receipt_sha256 = f.receipt.as_ref().and_then(|r| r["sha256"].as_str()).map(str::to_string);
    tx.execute(
        "INSERT INTO filings (incident_id, regime, stage, virk_reference, submitted_at, late_reason, receipt_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, f.regime, f.stage, f.virk_reference, f.submitted_at, f.late_reason, receipt_sha256],
    )
    .map_err(&err)?;
    let filing = tx.last_insert_rowid();
    // Every column of the row, so `log verify` holds the row to it.
    let mut detail = serde_json::json!({
        "virk-reference": f.virk_reference,
        "filing": filing,
        "regime": f.regime,
        "stage": f.stage,
        "submitted-at": f.submitted_at,
        "late-reason": f.late_reason,
        "receipt-sha256": receipt_sha256,
    });
    if let Some(r) = &f.receipt {
        detail["receipt"] = r.clone();
    }
    event(tx, id, None, now, "virk-filed", &detail, by)
}
