//! `certmail incident virk | close`: record the Virk.dk filing and the closing of an
//! incident as events in its log.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::cli::IncidentCommand;
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::regimes::schedule::{self, Deadline};
use crate::regimes::{RegimeId, StageId};
use crate::store::{NewFiling, Store, timestamp};
use crate::{fsutil, output};

/// When a stage was submitted: `--at` (a valid time, not in the future), or now.
fn submitted_at(at: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Failure> {
    let Some(at) = at else { return Ok(now) };
    let t = DateTime::parse_from_rfc3339(at.trim())
        .map_err(|_| {
            Failure::input(format!("--at {at:?}: a date and time in RFC 3339 with offset, e.g. 2026-11-20T08:15:00+01:00"))
                .with_field("--at")
        })?
        .with_timezone(&Utc);
    // Five minutes of slack for clocks that disagree a little, as for the incident's times.
    if t > now + chrono::Duration::minutes(5) {
        return Err(
            Failure::input(format!("--at {at}: a time in the past; a filing cannot be recorded before it is made")).with_field("--at")
        );
    }
    Ok(t)
}

/// One stage of one regime a filing records, and when it was due.
struct Target {
    regime: RegimeId,
    stage: StageId,
    due: Option<DateTime<Utc>>,
}

/// The regimes and stage a filing is for, each with that stage's due time: as given
/// (a stage named without --regime is filed for every regime of the incident that has
/// it, as the joint Virk.dk form sends one filing to each authority chosen), or the
/// unfiled stage due first. Refuses a stage or regime the incident does not have.
fn which_stage(
    settings: &Settings,
    store: &Store,
    reference: &str,
    regime: Option<&str>,
    stage: Option<&str>,
    submitted: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Target>, Failure> {
    let table = crate::legal::regimes_table(settings)?;
    let row = store.incident_status(reference)?.ok_or_else(|| Failure::not_found(format!("no incident {reference} in the log")))?;
    let legal = crate::legal::position(settings, &table, store, &row, now)?;
    let ids: Vec<&str> = legal.regimes.iter().map(|r| r.id.key()).collect();
    let regime = match regime {
        None => None,
        Some(r) => match RegimeId::from_key(&r.to_lowercase()).filter(|id| legal.regime(*id).is_some()) {
            Some(id) => Some(id),
            None => {
                return Err(
                    Failure::input(format!("--regime {r}: {reference} is reported under {}", ids.join(", "))).with_field("--regime")
                );
            }
        },
    };
    // A filing cannot come before the incident was known (five minutes of slack for
    // clocks, as elsewhere): a mistyped date would otherwise meet a deadline.
    if let crate::regimes::incident::ClocksFrom::Detection(aware) = legal.clocks_from
        && submitted < aware - chrono::Duration::minutes(5)
    {
        return Err(Failure::input(format!(
            "--at {}: before the incident was detected ({}); a filing is made after that",
            timestamp(submitted),
            crate::deadlines::stamp(aware)
        ))
        .with_field("--at"));
    }
    let stage = stage.and_then(StageId::from_key);
    let found: Vec<&Deadline> = match stage {
        // Unnamed, the filing is the stage due first; an intermediate report (made on
        // request, without a deadline of its own) is filed only by name.
        None => schedule::next_open(&legal.deadlines, regime)
            .filter(|d| d.stage != StageId::Intermediate || d.due.is_some())
            .into_iter()
            .collect(),
        Some(s) => {
            let of_stage: Vec<&Deadline> =
                legal.deadlines.iter().filter(|d| d.stage == s && regime.is_none_or(|r| r == d.regime)).collect();
            match of_stage.as_slice() {
                [] => {
                    let stages: Vec<String> =
                        legal.regimes.iter().flat_map(|r| r.stage.iter().map(move |st| format!("{} ({})", st.id, r.id))).collect();
                    let whose = match regime {
                        Some(r) => format!("{r} has no stage {s}"),
                        None => format!("not a stage of {reference}'s regimes"),
                    };
                    return Err(Failure::input(format!("--stage {s}: {whose}; its stages: {}", stages.join(", "))).with_field("--stage"));
                }
                all => {
                    // Without --regime, a stage already filed under one regime is
                    // filed for the others only: filing it again is a correction,
                    // said as one.
                    let open: Vec<&Deadline> = all.iter().copied().filter(|d| d.submitted.is_none()).collect();
                    if regime.is_none() && !open.is_empty() {
                        open
                    } else {
                        for d in all.iter().filter(|d| d.submitted.is_some()) {
                            output::warn(&format!(
                                "the {s} under {} was already filed ({}); this filing is recorded beside it, as a correction",
                                d.regime,
                                d.submitted.map(crate::deadlines::stamp).unwrap_or_default()
                            ));
                        }
                        all.to_vec()
                    }
                }
            }
        }
    };
    if found.is_empty() {
        return Err(Failure::input(format!(
            "{reference}: every stage with a deadline is filed; name the one this filing is for with --stage (an intermediate report is filed on request)"
        ))
        .with_field("--stage"));
    }
    // A stage whose clock counts from an earlier one's submission comes after it.
    for d in &found {
        let Some(stage) = legal.regime(d.regime).and_then(|r| r.stage(d.stage)) else { continue };
        for of in stage.clock.iter().filter(|c| c.from == crate::regimes::Start::Submission).filter_map(|c| c.of) {
            let earlier = legal.deadlines.iter().find(|e| e.regime == d.regime && e.stage == of).and_then(|e| e.submitted);
            if let Some(earlier) = earlier.filter(|e| submitted < *e) {
                return Err(Failure::input(format!(
                    "--at {}: the {} under {} follows the {of}, which was filed {}",
                    timestamp(submitted),
                    d.stage,
                    d.regime,
                    crate::deadlines::stamp(earlier)
                ))
                .with_field("--at"));
            }
        }
    }
    Ok(found.into_iter().map(|d| Target { regime: d.regime, stage: d.stage, due: d.due }).collect())
}

/// Receipts are evidence, not attachments to parse: a sane upper bound.
const MAX_RECEIPT_BYTES: u64 = 50 * 1024 * 1024;

pub fn run(settings: &Settings, command: &IncidentCommand, json: bool) -> CmdResult {
    let Some(mut store) = crate::commands::existing_store(settings, "incident")? else {
        return Err(Failure::not_found(format!("no incident log yet at {}", settings.store_path().display())));
    };
    let now = timestamp(Utc::now());
    match command {
        IncidentCommand::Virk { incident, stage, regime, at, late_reason, reference, receipt } => {
            let now_t = Utc::now();
            let submitted = submitted_at(at.as_deref(), now_t)?;
            if reference.trim().is_empty() {
                return Err(Failure::input("--reference: empty; give the reference (kvitteringsnummer) Virk.dk gave the filing")
                    .with_field("--reference"));
            }
            let stages = which_stage(settings, &store, incident, regime.as_deref(), stage.as_deref(), submitted, now_t)?;
            let mut kept_receipt = None;
            if let Some(file) = receipt {
                let size = std::fs::metadata(file).map_err(|e| crate::exit::io_failure("--receipt: cannot read", file, e))?.len();
                if size > MAX_RECEIPT_BYTES {
                    return Err(Failure::input(format!("--receipt {}: larger than {MAX_RECEIPT_BYTES} bytes", file.display())));
                }
                let bytes = fsutil::read(file)?;
                // Virk.dk's receipt is a PDF: anything else is the wrong file.
                if !bytes.starts_with(b"%PDF-") {
                    return Err(Failure::input(format!("--receipt {}: not a PDF (Virk.dk's receipt is one)", file.display()))
                        .with_field("--receipt"));
                }
                let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
                let kept = settings.home.join("receipts").join(format!("{incident}-{}.pdf", &digest[..16]));
                fsutil::write_private(&kept, &bytes)?;
                kept_receipt = Some(serde_json::json!({ "file": kept, "sha256": digest, "bytes": bytes.len() }));
            }
            let submitted_text = timestamp(submitted);
            let filings: Vec<NewFiling> = stages
                .iter()
                .map(|t| NewFiling {
                    regime: t.regime.key(),
                    stage: t.stage.key(),
                    virk_reference: reference,
                    submitted_at: &submitted_text,
                    late_reason: late_reason.as_deref(),
                    receipt: kept_receipt.clone(),
                })
                .collect();
            store.record_filings(incident, &filings, &now)?;
            for Target { regime, stage, due } in &stages {
                if !json {
                    output::say(&format!("{incident}: Virk.dk filing {reference} recorded as the {stage} under {regime}."));
                }
                let Some(d) = due.filter(|d| submitted > *d) else { continue };
                let asked = if late_reason.is_some() {
                    "its reason is recorded".to_string()
                } else {
                    "the Virk.dk form asks why (\"Begrundelse af hvorfor tidsfristen ikke er overholdt\"); record it with --late-reason"
                        .to_string()
                };
                output::warn(&format!("the {stage} under {regime} was filed after its deadline ({}): {asked}", crate::deadlines::stamp(d)));
            }
            if json {
                let recorded: Vec<_> = stages
                    .iter()
                    .map(|t| serde_json::json!({ "regime": t.regime.key(), "stage": t.stage.key(), "due": t.due.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) }))
                    .collect();
                output::json(&serde_json::json!({
                    "reference": incident, "event": "virk-filed", "virk_reference": reference,
                    "submitted_at": submitted_text, "filings": recorded, "receipt": kept_receipt,
                }));
            }
        }
        IncidentCommand::Mark { incident, message, kind, reason } => {
            let Some(kind) = crate::reply::Kind::from_key(kind) else {
                let all: Vec<&str> = crate::reply::Kind::ALL.iter().map(|k| k.key()).collect();
                return Err(Failure::input(format!("--as {kind}: not a kind of message; one of {}", all.join(", "))).with_field("--as"));
            };
            let (was, bound) = store.mark_kind(incident, message, kind, reason, &now)?;
            let effect =
                if bound { "" } else { " It is not bound to the incident by a good signature, so the incident's state is unchanged." };
            say(
                json,
                &format!("{incident}: {message} marked as {} (was {}).{effect}", kind.key(), was.key()),
                serde_json::json!({ "reference": incident, "event": "marked", "message_id": message, "kind": kind.key(), "was": was.key(), "bound": bound }),
            );
        }
        IncidentCommand::Close { incident, reason } => {
            store.add_event(incident, "closed", &serde_json::json!({ "reason": reason, "by": "reporter" }), &now)?;
            say(json, &format!("{incident}: closed."), serde_json::json!({ "reference": incident, "event": "closed", "reason": reason }));
        }
    }
    Ok(Outcome::Done)
}

/// What was recorded: a line for a person, an object for a script.
fn say(json: bool, text: &str, value: serde_json::Value) {
    if json { output::json(&value) } else { output::say(text) }
}
