//! certmail: encrypted, signed incident notifications to a national CERT (by default
//! CFCS, cert@cert.cfcs.dk), a durable outbox, and a local incident log.
//!
//! ```text
//! incident (TOML/JSON) ─▶ template ─▶ mime (inner entity) ─▶ crypto (sign+encrypt)
//!    ─▶ mime (RFC 3156 outer) ─▶ store: outbox row, committed ─▶ (transport: SMTP)
//! reply (.eml | Maildir | mbox | imap: fetch) ─▶ ingest ─▶ store: events on the incident
//! ```
//!
//! Pure modules (`incident`, `template`, `mime`) do no I/O beyond reading their
//! inputs; each external crate is owned by one module (sequoia: `crypto`, rusqlite:
//! `store`, minijinja: `template`, keyring: `secrets`, clap: `cli`, imap: `imap`).
//! Time is read once per command and passed down.

#[macro_use]
mod per_thread;

pub mod anchor;
pub mod armor;
pub mod bytes;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod config;
pub mod crypto;
pub mod deadlines;
pub mod diagnostics;
pub mod doctor;
pub mod exit;
pub mod followup;
pub mod fsutil;
pub mod hooks;
pub mod identity;
pub mod imap;
pub mod incident;
pub mod ingest;
pub mod legal;
pub(crate) mod locale;
pub mod mailbox;
pub mod mime;
pub mod outbox;
pub mod outgoing;
pub mod output;
pub mod recipients;
pub mod reference;
pub mod regimes;
pub mod reminders;
pub mod reply;
pub mod sample;
pub mod secrets;
pub mod signals;
pub mod store;
pub mod team;
pub mod template;
pub mod transport;
pub mod warnings;

use cli::{Cli, Command};
use exit::CmdResult;

/// Runs one parsed command line.
pub fn run(cli: Cli) -> CmdResult {
    // Generated from the command line alone: they work before `init` and with a
    // broken configuration.
    match &cli.command {
        Command::Completions { shell } => return commands::docs::completions(*shell),
        Command::Man { command } => return commands::docs::man(command),
        _ => {}
    }
    let json = cli.json;
    let settings = config::Settings::load(cli.home, cli.config)?;
    // Commands that only read the log say so when there is no home at all (a mistyped
    // --home), instead of "no open incidents" or creating a log there.
    let reads_only = matches!(
        &cli.command,
        Command::Status | Command::Read(_) | Command::Log(_) | Command::Outbox(cli::OutboxCommand::List) | Command::Doctor
    );
    if reads_only && !settings.home.exists() {
        return Err(exit::Failure::new(
            exit::FailureKind::NoHome,
            format!(
                "no certmail home at {}: check --home or CERTMAIL_HOME, or run `certmail init` there first; nothing was created",
                settings.home.display()
            ),
        ));
    }
    match &cli.command {
        Command::Init(args) => commands::init::run(&settings, args, json),
        Command::Notify(args) => commands::notify::run(&settings, args, json),
        Command::Reply(args) => commands::reply::run(&settings, args, json),
        Command::Preview(args) => commands::preview::run(&settings, args, json),
        Command::Schema => commands::schema::run(),
        Command::Keys(command) => commands::keys::run(&settings, command, json),
        Command::Outbox(command) => commands::outbox::run(&settings, command, json),
        Command::Secrets(command) => commands::secrets::run(&settings, command, json),
        Command::Log(command) => commands::log::run(&settings, command, json),
        Command::Store(command) => commands::store::run(&settings, command, json),
        Command::Team(command) => commands::team::run(&settings, command, json),
        Command::Ingest(args) => commands::ingest::run(&settings, args, json),
        Command::Fetch => commands::fetch::run(&settings, json),
        Command::Watch => commands::watch::run(&settings, json),
        Command::Status => commands::status::run(&settings, json),
        Command::Doctor => commands::doctor::run(&settings, json),
        Command::Incident(command) => commands::incident::run(&settings, command, json),
        Command::Read(args) => commands::read::run(&settings, args, json),
        Command::Completions { shell } => commands::docs::completions(*shell),
        Command::Man { command } => commands::docs::man(command),
        Command::New(args) => commands::new::run(&settings, args, json),
        Command::Compose(args) => commands::compose::run(&settings, args),
    }
}
