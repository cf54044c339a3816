//! `certmail incident virk | close`: record the Virk.dk filing and the closing of an
//! incident as events in its log.

use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::cli::IncidentCommand;
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::store::{Store, timestamp};
use crate::{fsutil, output};

/// Receipts are evidence, not attachments to parse: a sane upper bound.
const MAX_RECEIPT_BYTES: u64 = 50 * 1024 * 1024;

pub fn run(settings: &Settings, command: &IncidentCommand, json: bool) -> CmdResult {
    let path = settings.store_path();
    if !path.exists() {
        return Err(Failure::not_found(format!("no incident log yet at {}", path.display())));
    }
    let mut store = Store::open(&path)?;
    let now = timestamp(Utc::now());
    match command {
        IncidentCommand::Virk { incident, reference, receipt } => {
            let mut detail = serde_json::json!({ "virk-reference": reference });
            if let Some(file) = receipt {
                let size = std::fs::metadata(file).map_err(|e| crate::exit::io_failure("--receipt: cannot read", file, e))?.len();
                if size > MAX_RECEIPT_BYTES {
                    return Err(Failure::input(format!("--receipt {}: larger than {MAX_RECEIPT_BYTES} bytes", file.display())));
                }
                let bytes = fsutil::read(file)?;
                let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
                let kept = settings.home.join("receipts").join(format!("{incident}-{}.pdf", &digest[..16]));
                fsutil::write_private(&kept, &bytes)?;
                detail["receipt"] = serde_json::json!({ "file": kept, "sha256": digest, "bytes": bytes.len() });
            }
            store.add_event(incident, "virk-filed", &detail, &now)?;
            say(
                json,
                &format!("{incident}: Virk.dk filing {reference} recorded."),
                serde_json::json!({ "reference": incident, "event": "virk-filed", "detail": output::snake_case_keys(&detail) }),
            );
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
