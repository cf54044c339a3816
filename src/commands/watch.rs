//! `certmail watch`: stays connected to the `[imap]` folder and ingests each new reply
//! as it arrives (IMAP IDLE where offered, polling otherwise), delivers the outbox
//! when messages fall due, tells the hook of deadlines each minute (also while the
//! server is away), and reconnects with backoff when the server goes away.
//! One line per event on stderr; the messages' lines (or JSON) on stdout, as `fetch`
//! prints them. SIGTERM and Ctrl-C end it between steps.

use std::time::{Duration, Instant, SystemTime};

use crate::commands::fetch::{configured, failure, pass, password};
use crate::commands::{outbox::tell_failures, status};
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::imap::{Mailbox, Session, Wake};
use crate::outbox::{self, Delivery, describe};
use crate::output;
use crate::signals::Stop;

/// The whole folder is looked at (and the outbox flushed) at least this often, even
/// when IDLE reports nothing: mail that arrives while IDLE is being renewed is
/// announced to no one.
const TICK: Duration = Duration::from_secs(60);
/// Longest IDLE before it is renewed: also how long a stop request may wait.
const IDLE_SLICE: Duration = Duration::from_secs(2);
/// Reconnection backoff: 1, 2, 4 … seconds, at most this.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub fn run(settings: &Settings, json: bool) -> CmdResult {
    let mailbox = configured(settings)?;
    // A password source that does not work is a configuration error: say it once.
    drop(password(settings, &mailbox)?);
    let stop = Stop::install()?;
    let mut backoff = Duration::from_secs(1);
    while !stop.requested() {
        match watch_connected(settings, &mailbox, json, &stop, &mut backoff) {
            Ok(()) => break,
            Err(f) => {
                log(&format!("{}; trying again in {} s", f.message, backoff.as_secs()));
                // The clocks run while the mailbox is away.
                remind_due(settings);
                if stop.sleep(backoff) {
                    break;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    log("stopped");
    Ok(Outcome::Done)
}

/// One connection's life: `Ok` when a stop was requested, `Err` when the connection
/// (or a pass) failed and a new one is due.
fn watch_connected(settings: &Settings, mailbox: &Mailbox, json: bool, stop: &Stop, backoff: &mut Duration) -> Result<(), Failure> {
    let secret = password(settings, mailbox)?;
    let mut session = Session::open(mailbox, &secret).map_err(failure)?;
    drop(secret);
    let mode = if session.can_idle() { "IDLE" } else { "polling every minute" };
    log(&format!("watching {} ({mode})", mailbox.url()));
    let result = watch_session(settings, mailbox, json, stop, backoff, &mut session);
    if result.is_ok() {
        session.close();
    }
    result
}

fn watch_session(
    settings: &Settings,
    mailbox: &Mailbox,
    json: bool,
    stop: &Stop,
    backoff: &mut Duration,
    session: &mut Session,
) -> Result<(), Failure> {
    loop {
        let recorded = pass(settings, mailbox, session, json, SystemTime::now())?;
        // A pass went through: the connection is good, so the next failure starts over.
        *backoff = Duration::from_secs(1);
        if recorded > 0 {
            log(&format!("{recorded} new message(s)"));
        }
        flush_due(settings);
        remind_due(settings);
        let until = Instant::now() + TICK;
        loop {
            if stop.requested() {
                return Ok(());
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if !session.can_idle() {
                if stop.sleep(left) {
                    return Ok(());
                }
                break;
            }
            if session.idle(left.min(IDLE_SLICE)).map_err(failure)? == Wake::Changed {
                break;
            }
        }
    }
}

/// Delivers what is due in the outbox, when a relay is configured; a failure is
/// logged and the watch goes on (the outbox keeps the messages).
fn flush_due(settings: &Settings) {
    let relay = match settings.relay() {
        Ok(Some(relay)) => relay,
        Ok(None) => return,
        Err(f) => return log(&f.message),
    };
    let result = crate::commands::open_store(settings, "watch").and_then(|mut store| {
        let password = || outbox::smtp_password(settings, &relay);
        let clock = chrono::Utc::now;
        let delivery =
            Delivery { relay: &relay, password: &password, lifetime: settings.outbox_lifetime(), clock: &clock, retry_now: false };
        let reports = outbox::flush(&mut store, &delivery, None)?;
        tell_failures(settings, &store, &reports);
        Ok(reports)
    });
    match result {
        Ok(reports) => reports.iter().for_each(|r| log(&describe(r))),
        Err(f) => log(&format!("outbox: {}", f.message)),
    }
}

/// Tells the hook of acknowledgements and legal clocks that fell due or overdue
/// since it last looked; a line per event told.
fn remind_due(settings: &Settings) {
    let now = chrono::Utc::now();
    let result = crate::commands::open_store(settings, "watch").and_then(|store| {
        let report = status::waiting(settings, &store, now)?;
        Ok(status::remind(settings, &store, &report, now))
    });
    match result {
        Ok(told) => told.iter().for_each(|e| log(&e.summary())),
        Err(f) => log(&format!("deadlines: {}", f.message)),
    }
}

fn log(line: &str) {
    eprintln!("certmail: watch: {}", output::sanitize(line));
}
