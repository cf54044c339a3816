//! Staged filings on Virk.dk: `incident virk` records one stage of one regime, its
//! Virk.dk reference and when it was submitted, as a `filings` row and the
//! `virk-filed` event that states it, in one transaction. Filings recorded before
//! stages existed are events without a stage (see [`Filed::stage`]).

use super::sql::Engine;
use super::{Actor, Store, event};
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
        self.db.get_mut().write(|db| {
            let Some(id) = db.one_opt::<i64>("SELECT id FROM incidents WHERE reference = ?1", vals![reference])? else {
                return Err(Failure::not_found(format!("no incident {reference} in the log")));
            };
            for f in filings {
                record(db, id, f, now, &self.by)?;
            }
            Ok(())
        })
    }

    /// Every filing of the incident `reference`, oldest first.
    pub fn filings(&self, reference: &str) -> Result<Vec<Filed>, Failure> {
        let mut db = self.db();
        let d = db.dialect();
        let (virk_reference, stage) = (d.json_text("e.detail", &["virk-reference"]), d.json_text("e.detail", &["stage"]));
        let rows = db.rows(
            &format!(
                "SELECT f.regime, f.stage, f.virk_reference, f.submitted_at FROM filings f
                   JOIN incidents i ON i.id = f.incident_id WHERE i.reference = ?1
                 UNION ALL
                 SELECT NULL, NULL, {virk_reference}, e.at FROM events e
                   JOIN incidents i ON i.id = e.incident_id
                  WHERE i.reference = ?1 AND e.kind = 'virk-filed' AND {stage} IS NULL
                 ORDER BY 4"
            ),
            vals![reference],
        )?;
        rows.iter().map(|r| Ok(Filed { regime: r.get(0)?, stage: r.get(1)?, virk_reference: r.get(2)?, submitted_at: r.get(3)? })).collect()
    }
}

/// One stage's row and the `virk-filed` event that states it.
fn record(db: &mut Engine, id: i64, f: &NewFiling, now: &str, by: &Actor) -> Result<(), Failure> {
    let receipt_sha256 = f.receipt.as_ref().and_then(|r| r["sha256"].as_str()).map(str::to_string);
    let filing: i64 = db.one(
        "INSERT INTO filings (incident_id, regime, stage, virk_reference, submitted_at, late_reason, receipt_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        vals![id, f.regime, f.stage, f.virk_reference, f.submitted_at, f.late_reason, receipt_sha256.as_deref()],
    )?;
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
    event(db, id, None, now, "virk-filed", &detail, by)
}
