//! `certmail reply REF`: a message in the reporter's own words on an incident already
//! notified (the answer to the CERT's question, news that fits no form field), signed,
//! encrypted to each recipient and the reporter, threaded to the CERT's last signed
//! reply or our notification, and queued and delivered like a notification.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Utc};

use crate::cli::ReplyArgs;
use crate::commands::language;
use crate::compose;
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, io_failure};
use crate::identity;
use crate::incident::{Incident, Language};
use crate::outgoing::{self, Kind, Letter, Parts, Queue, Signing};
use crate::recipients;
use crate::sample::{self, Sample};
use crate::store::Revision;
use crate::template::{self, MessageInput, Reporter};

/// A message is text; evidence goes in attachments.
const MAX_TEXT_BYTES: u64 = 1024 * 1024;

pub fn run(settings: &Settings, args: &ReplyArgs, json: bool) -> CmdResult {
    // As in notify: Ctrl-C says whether the message was queued yet.
    crate::signals::report_on_interrupt("nothing was queued yet; run the same command again to send it".into())?;
    let now = Utc::now();
    let relay = settings.relay()?;
    let text = read_text(args.text.as_deref(), &args.reference)?;
    let files = compose::check_attachments(&args.attachments)?;
    let samples = args.samples.iter().map(|p| Sample::check(p)).collect::<Result<Vec<_>, _>>()?;
    let sizes: Vec<u64> = files.iter().map(|(_, i)| i.size).chain(samples.iter().map(Sample::estimated_zip_size)).collect();
    let estimate = |body_len| compose::estimated_size_of(body_len, &sizes);
    let limit = settings.max_message_bytes();
    if estimate(text.len() + 4096) > limit {
        return Err(Failure::input(format!(
            "the message would be about {} bytes, over the limit of {limit} bytes (max-message-bytes in the configuration); nothing was queued. Send large evidence in several replies",
            estimate(text.len() + 4096)
        )));
    }
    let store_path = crate::commands::store_name(settings)?;
    let mut store = crate::commands::open_store(settings, "reply")?;
    let reported = store
        .reported(&args.reference)?
        .ok_or_else(|| Failure::not_found(format!("{}: no such incident in the log (see `certmail log list`)", args.reference)))?;
    let text_sha256 = compose::sha256_hex(text.as_bytes());
    let request = request(args, &text_sha256);
    if let Some(key) = &args.idempotency_key
        && let Some(used) = store.idempotency_key(key)?
    {
        return outgoing::replay(settings, key, &request, used, json);
    }
    let ids = if args.to.is_empty() { reported.recipients.clone() } else { args.to.clone() };
    if ids.is_empty() {
        return Err(Failure::input(format!("{}: no message of the incident names a recipient; give one with --to", args.reference)));
    }
    let ready = ids.iter().map(|id| recipients::load_checked(settings, id, now.into())).collect::<Result<Vec<_>, _>>()?;
    let (identity, signer) = identity::unlock(settings, now.into())?;
    let id = settings.identity()?;
    let signing = Signing::of_home(settings, &identity, &signer, now)?;
    let reporter = Reporter {
        name: id.name.clone(),
        title: id.title.clone(),
        organisation: id.organisation.clone(),
        email: id.email.clone(),
        // As the notifications show it, however the configuration writes it.
        phone: id.phone_shown(),
    };
    let language = args.lang.map(language).or_else(|| incident_language(&reported.incident_json)).unwrap_or(settings.language());
    let packed = samples.iter().map(|s| sample::pack(s, &settings.home, now)).collect::<Result<Vec<_>, _>>()?;
    let sample_infos: Vec<_> = packed.iter().map(|p| p.info.clone()).collect();
    let infos: Vec<_> = files.iter().map(|(_, i)| i.clone()).collect();

    let pending = store.begin(Some(&args.reference), now.year())?;
    if let Some(key) = &args.idempotency_key
        && let Some(used) = pending.idempotency_key(key)?
    {
        drop(pending);
        return outgoing::replay(settings, key, &request, used, json);
    }
    let mut letters = Vec::new();
    for ready in ready {
        let input = MessageInput {
            text: &text,
            reference: &pending.reference,
            title: &reported.title,
            reporter: &reporter,
            recipient_name: ready.recipient.display_name(),
            recipient_address: &ready.recipient.config.address,
            attachments: &infos,
            samples: &sample_infos,
            language,
        };
        let rendered = template::render_message(&input, Some(&settings.templates_dir()))?;
        let thread = pending.thread(&ready.recipient.id)?;
        letters.push(Letter { ready, subject: rendered.subject, body: rendered.body, thread });
    }
    let attachments = || {
        let mut all = compose::open_files(&files)?;
        all.extend(crate::sample::attachments(&packed)?);
        Ok(all)
    };
    let parts = Parts { attachments: &attachments, estimate: &estimate, limit };
    let how = Queue {
        kind: Kind::Reply,
        revision: Revision::Message { text_sha256: &text_sha256 },
        key: args.idempotency_key.as_deref().map(|k| (k, request.as_str())),
        relay: relay.is_some(),
        out: args.out.as_deref(),
        store_path: &store_path,
        warnings: Vec::new(),
    };
    let queued = outgoing::queue(pending, &signing, letters, &parts, how)?;
    let sent = outgoing::deliver(&mut store, settings, relay.as_ref(), queued)?;
    sent.finish(settings, json)
}

/// The message from `--text FILE`, or from standard input (`-`, or no --text); on a
/// terminal, the user is told how to end it.
fn read_text(path: Option<&Path>, reference: &str) -> Result<String, Failure> {
    let (name, bytes) = match path.filter(|p| *p != Path::new("-")) {
        Some(p) => {
            let file = std::fs::File::open(p).map_err(|e| io_failure("--text: cannot read", p, e))?;
            let mut buf = Vec::new();
            file.take(MAX_TEXT_BYTES + 1).read_to_end(&mut buf).map_err(|e| io_failure("--text: cannot read", p, e))?;
            (p.display().to_string(), buf)
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("Type the message to {reference}'s recipients; end it with Ctrl-D on a line of its own.");
            }
            let mut buf = Vec::new();
            stdin
                .lock()
                .take(MAX_TEXT_BYTES + 1)
                .read_to_end(&mut buf)
                .map_err(|e| Failure::input(format!("cannot read standard input: {e}")))?;
            ("standard input".to_string(), buf)
        }
    };
    if bytes.len() as u64 > MAX_TEXT_BYTES {
        return Err(Failure::input(format!("{name}: longer than {MAX_TEXT_BYTES} bytes; a message is text, send files with --attach")));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|b| **b == b'\n').count();
        Failure::input(format!("{name}: not UTF-8 text (line {line}); save it as UTF-8"))
    })?;
    if text.trim().is_empty() {
        return Err(Failure::input(format!("{name}: the message is empty; nothing was queued")));
    }
    Ok(text)
}

fn incident_language(incident_json: &str) -> Option<Language> {
    serde_json::from_str::<Incident>(incident_json).ok().and_then(|i| i.language)
}

/// What an idempotency key is held to: the same words on the same incident, to the
/// same recipients, with the same files.
fn request(args: &ReplyArgs, text_sha256: &str) -> String {
    let files = |list: &[PathBuf]| list.iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
    outgoing::request_sha256(&serde_json::json!({
        "command": "reply",
        "reference": args.reference,
        "text": text_sha256,
        "to": args.to,
        "attachments": files(&args.attachments),
        "samples": files(&args.samples),
        "lang": args.lang.map(language).map(|l| l.code()),
    }))
}
