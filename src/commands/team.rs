//! `certmail team add|list|remove|reencrypt`: the team members every message is
//! encrypted to (team.rs), and reading keys for messages that were encrypted before a
//! member was listed (store/reading_keys.rs). See docs/TEAM-MODE.md §3.

use std::time::SystemTime;

use crate::cli::TeamCommand;
use crate::config::Settings;
use crate::crypto;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::ingest::{Rereader, reading_keys_for};
use crate::output;
use crate::store::reading_keys::message_key;
use crate::team::{self, Member};

pub fn run(settings: &Settings, command: &TeamCommand, json: bool) -> CmdResult {
    let now = SystemTime::now();
    match command {
        TeamCommand::Add { file, me } => {
            let (bytes, source) = match (file, me) {
                (_, true) => (crate::identity::read(settings)?.public_armored().map_err(Failure::failed)?, "your identity".to_string()),
                (Some(path), false) => (
                    std::fs::read(path).map_err(|e| Failure::input(format!("{}: cannot read it: {e}", path.display())))?,
                    path.display().to_string(),
                ),
                (None, false) => return Err(Failure::input("name the member's public key file, or --me")),
            };
            let member = team::add(settings, &bytes, &source, now)?;
            if json {
                output::json(&member_json(&member));
            } else {
                output::say(&format!("Added {} to the team.", output::one_line(&member.user_id)));
                output::say(&format!("  fingerprint: {}", crypto::pretty_fingerprint(&member.fingerprint)));
                output::say("  Check this fingerprint with the member (by phone or in person) before relying on it.");
                output::say(
                    "  Every message this home sends from now on is encrypted to them too; `certmail team reencrypt` gives them the ones before.",
                );
            }
            Ok(Outcome::Done)
        }
        TeamCommand::List => {
            let members = team::load(settings, now)?;
            if json {
                output::json(&serde_json::json!({ "members": members.iter().map(member_json).collect::<Vec<_>>() }));
            } else if members.is_empty() {
                output::say("No team members: messages are encrypted to their recipients and to you only (`certmail team add`).");
            } else {
                for m in &members {
                    let usable = if m.can_encrypt {
                        "  can be encrypted to"
                    } else {
                        "  CANNOT BE ENCRYPTED TO NOW (expired, revoked or sign-only): passed over"
                    };
                    output::say(&format!("{}  {}{usable}", crypto::pretty_fingerprint(&m.fingerprint), output::one_line(&m.user_id)));
                }
            }
            Ok(Outcome::Done)
        }
        TeamCommand::Remove { fingerprint } => {
            let member = team::remove(settings, fingerprint, now)?;
            if json {
                output::json(&member_json(&member));
            } else {
                output::say(&format!(
                    "Removed {} ({}): later messages are not encrypted to them; what they could read, they still can.",
                    output::one_line(&member.user_id),
                    crypto::pretty_fingerprint(&member.fingerprint)
                ));
            }
            Ok(Outcome::Done)
        }
        TeamCommand::Reencrypt => reencrypt(settings, now, json),
    }
}

/// Received messages recorded as unreadable where they arrived (encrypted to
/// another member's key) are ingested again here, where that key may be: each one
/// this machine can now read replaces its unreadable row, and may acknowledge, ask
/// or close as it says (the same rules as any reply), and its members' reading keys
/// are made as it is recorded.
fn read_again(
    settings: &Settings,
    store: crate::store::Store,
    now: SystemTime,
) -> Result<(crate::store::Store, Vec<crate::ingest::Outcome>), Failure> {
    let mut unreadable = Vec::new();
    for incident in store.incidents()? {
        let Some((id, _)) = store.find_incident(&incident.reference)? else { continue };
        unreadable.extend(
            store
                .incident_messages(id)?
                .into_iter()
                .filter(|m| !m.sent && m.kind == Some(crate::reply::Kind::Malformed) && !m.raw.is_empty())
                .map(|m| m.raw),
        );
    }
    let mut ingestor = crate::ingest::Ingestor::new(settings, store, now);
    let mut read = Vec::new();
    for raw in unreadable {
        let outcome = ingestor.ingest("team reencrypt (read again)", &raw)?;
        if !outcome.duplicate {
            read.push(outcome);
        }
    }
    ingestor.finish()?;
    Ok((ingestor.store, read))
}

fn member_json(m: &Member) -> serde_json::Value {
    serde_json::json!({
        "fingerprint": m.fingerprint,
        "user_id": m.user_id,
        "can_encrypt": m.can_encrypt,
        "file": m.file.display().to_string(),
    })
}

/// Every message of every incident this machine can open gets a reading key for
/// every listed member that has none and was not among its recipients.
fn reencrypt(settings: &Settings, now: SystemTime, json: bool) -> CmdResult {
    let members = team::load(settings, now)?;
    if members.is_empty() {
        return Err(Failure::input("no team members are listed (`certmail team add`): there is no one to make reading keys for"));
    }
    let Some(store) = crate::commands::existing_store(settings, "team reencrypt")? else {
        return Err(Failure::not_found(format!("no incident log yet at {}", settings.store_path().display())));
    };
    let (mut store, read_again) = read_again(settings, store, now)?;
    let made_at = crate::store::timestamp(now.into());
    let mut reader = Rereader::new(settings, now);
    let (mut messages, mut made, mut closed) = (0usize, 0usize, Vec::new());
    for incident in store.incidents()? {
        let Some((id, _)) = store.find_incident(&incident.reference)? else { continue };
        for message in store.incident_messages(id)? {
            if message.raw.is_empty() {
                continue;
            }
            messages += 1;
            let key = message_key(&message.raw);
            let have = store.reading_key_members(&key)?;
            let reading_keys = match reader.own_fingerprint() {
                Some(own) => store.reading_keys(&key, own)?,
                None => Vec::new(),
            };
            let read = if message.sent { reader.read_sent(&message.raw, &reading_keys) } else { reader.read(&message.raw, &reading_keys) };
            let opened = match read {
                Ok((_, reading)) if reading.encrypted && reading.opened.is_empty() => {
                    closed.push(message.message_id.clone().unwrap_or_default());
                    continue;
                }
                Ok((_, reading)) => reading.opened.iter().cloned().map(|k| (k, reading.encrypted_to.clone())).collect::<Vec<_>>(),
                Err(_) => continue,
            };
            for (member, packets) in reading_keys_for(&members, &opened, &have, now) {
                if store.add_reading_keys(&key, &member, &packets, &made_at)? {
                    made += 1;
                }
            }
        }
    }
    if json {
        output::json(&serde_json::json!({
            "messages": messages, "reading_keys_made": made, "cannot_open_here": closed,
            "read_again": read_again.iter().map(|o| serde_json::json!({
                "message_id": o.message_id, "incident": o.incident, "kind": o.kind.key(),
                "signature": o.signature.key(), "bound": o.bound, "state_changed": o.state_changed,
            })).collect::<Vec<_>>(),
        }));
    } else {
        for o in &read_again {
            output::say(&format!(
                "Read again here: {} on {}: {} (signature {}{})",
                output::one_line(o.message_id.as_deref().unwrap_or("(no Message-ID)")),
                o.incident.as_deref().unwrap_or("no incident"),
                o.kind.key(),
                o.signature.key(),
                if o.state_changed { ", the incident's state changed" } else { "" }
            ));
        }
        // A message read again got its members' reading keys as it was recorded.
        let again = match read_again.len() {
            0 => String::new(),
            n => format!(" ({n} read again here, with reading keys for the members as they were recorded)"),
        };
        output::say(&format!("{messages} message(s) looked at, {made} reading key(s) made for {} member(s){again}.", members.len()));
        if !closed.is_empty() {
            output::say(&format!(
                "{} encrypted message(s) cannot be opened on this machine (run it where their key is): {}",
                closed.len(),
                output::one_line(&closed.join(", "))
            ));
        }
    }
    Ok(Outcome::Done)
}
