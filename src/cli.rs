//! The command line, as clap derive types only: names, flags and `--help` text.
//!
//! It imports nothing from the crate, so the interface can be read in one place and
//! changed without touching behaviour.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// The command line as `--help`, `man` and the completions show it: each command's
/// examples (its doc comment's "Example: …" lines, which clap joins into the prose)
/// apart, verbatim, one per line.
pub fn command() -> clap::Command {
    examples_apart(Cli::command())
}

/// Parses the process's arguments against [`command`].
pub fn parse() -> Result<Cli, clap::Error> {
    let mut command = command();
    let matches = command.try_get_matches_from_mut(std::env::args_os())?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))
}

/// Whether `--json` was asked for, read from the raw arguments: when the command
/// line does not parse, its usage error must still be JSON for the script.
pub fn json_requested(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    args.into_iter().skip(1).take_while(|a| a.as_os_str() != "--").any(|a| a == "--json")
}

/// A command line clap refused, as plain values (the binary says it as JSON).
#[derive(Debug, Clone)]
pub struct Refusal {
    /// clap's own words, "did you mean" and usage included, without colours.
    pub text: String,
    /// The argument or subcommand it is about.
    pub arg: Option<String>,
    pub did_you_mean: Option<String>,
}

pub fn refusal(e: &clap::Error) -> Refusal {
    use clap::error::{ContextKind, ContextValue};
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(list)) => list.first().cloned(),
        _ => None,
    };
    Refusal {
        text: e.render().to_string().trim().to_string(),
        arg: text(ContextKind::InvalidArg).or_else(|| text(ContextKind::InvalidSubcommand)),
        did_you_mean: text(ContextKind::SuggestedArg).or_else(|| text(ContextKind::SuggestedSubcommand)),
    }
}

fn examples_apart(mut command: clap::Command) -> clap::Command {
    if let Some(long) = command.get_long_about().map(|s| s.to_string()) {
        let (prose, examples) = split_examples(&long);
        if !examples.is_empty() {
            let lines: Vec<String> = examples.iter().map(|e| format!("  {e}")).collect();
            let heading = if examples.len() == 1 { "Example" } else { "Examples" };
            command = command.long_about(prose).after_long_help(format!("{heading}:\n{}", lines.join("\n")));
        }
    }
    let names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_string()).collect();
    for name in names {
        command = command.mut_subcommand(name, examples_apart);
    }
    command
}

/// The prose of a help text, and its examples ("Example: X", "Example (bash): X").
fn split_examples(text: &str) -> (String, Vec<String>) {
    let starts: Vec<usize> = text
        .match_indices("Example")
        .map(|(i, _)| i)
        .filter(|&i| {
            let before = text[..i].chars().next_back();
            let after = &text[i + "Example".len()..];
            before.is_none_or(char::is_whitespace) && (after.starts_with(": ") || after.starts_with(" ("))
        })
        .collect();
    let Some(&first) = starts.first() else { return (text.to_string(), Vec::new()) };
    let mut prose = text[..first].trim_end().to_string();
    let mut examples = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(text.len());
        let segment = &text[start..end];
        // An example ends with its paragraph; what follows is prose again.
        let (example, rest) = segment.split_once("\n\n").unwrap_or((segment, ""));
        let example = example.split_once(": ").map_or(example, |(_, e)| e).trim();
        examples.push(example.to_string());
        if !rest.trim().is_empty() {
            prose.push_str("\n\n");
            prose.push_str(rest.trim());
        }
    }
    (prose, examples)
}

/// Encrypted, signed incident notifications to the national CERT (CFCS, cert@cert.cfcs.dk).
///
/// Describe the incident in a TOML or JSON file (see `certmail schema` and the
/// examples/ folder), then `certmail notify FILE`. CFCS' 24/7 phone: +45 3332 5580.
#[derive(Debug, Parser)]
#[command(name = "certmail", version, max_term_width = 100)]
pub struct Cli {
    /// Folder holding the identity, the incident log and the outbox.
    ///
    /// Default: $XDG_DATA_HOME/certmail (usually ~/.local/share/certmail).
    #[arg(long, global = true, env = "CERTMAIL_HOME", value_name = "DIR", help_heading = "Global options")]
    pub home: Option<PathBuf>,

    /// Configuration file. Default: config.toml in the home folder.
    #[arg(long, global = true, env = "CERTMAIL_CONFIG", value_name = "FILE", help_heading = "Global options")]
    pub config: Option<PathBuf>,

    /// Print the result, and any failure, as JSON on stdout (one object; see README, "JSON").
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the reporter identity: configuration and signing key.
    ///
    /// Example: certmail init --name "Jane Doe" --email soc@example.dk --org "Example A/S" --cvr 12345678
    Init(InitArgs),

    /// Compose, sign and encrypt a notification, queue it, and deliver it.
    ///
    /// Exits 0 when delivered, 3 when queued for a retry, 1 when it failed.
    /// Example: certmail notify incident.toml --attach iocs.txt --out sent.eml
    /// Example: certmail notify incident.toml --to cfcs --to sector-cert --sample dropper.exe
    /// Example: certmail notify changes.toml --follow-up CM-7KQ2-M9XD-3RTA
    Notify(NotifyArgs),

    /// Send a message in your own words on an incident, e.g. the answer to the CERT's question.
    ///
    /// Signed, encrypted to each recipient and to you, threaded to the CERT's last
    /// signed reply (or the notification), recorded and delivered like a notification.
    /// Exits 0 when delivered, 3 when queued for a retry, 1 when it failed.
    /// Example: certmail reply CM-7KQ2-M9XD-3RTA --text answer.txt --attach firewall.log
    /// Example: echo "The VPN account was disabled at 07:10." | certmail reply CM-7KQ2-M9XD-3RTA
    Reply(ReplyArgs),

    /// Show the message a notification would carry, and what travels in cleartext.
    ///
    /// Nothing is signed, encrypted or recorded. Example: certmail preview incident.toml --lang en
    Preview(PreviewArgs),

    /// Print the JSON Schema of incident files, for scripts and editors.
    ///
    /// Example: certmail schema > incident.schema.json
    Schema,

    /// List, check and import recipient keys (the CERT's public key).
    #[command(subcommand)]
    Keys(KeysCommand),

    /// Show and deliver the outbox.
    #[command(subcommand)]
    Outbox(OutboxCommand),

    /// Store secrets in the OS keyring.
    #[command(subcommand)]
    Secrets(SecretsCommand),

    /// Stay connected to the [imap] mailbox and ingest each reply as it arrives.
    ///
    /// Uses IMAP IDLE where the server offers it (polling every minute otherwise),
    /// delivers the outbox when messages fall due, reconnects with backoff, logs one
    /// line per event on stderr. SIGTERM or Ctrl-C ends it. For a service or a terminal.
    /// Example: certmail watch --json
    Watch,

    /// Read the CERT's replies (and bounces) into the incident log.
    ///
    /// Decrypts and verifies each message, ties it to its incident and records it
    /// once (running it again on the same mail adds nothing).
    /// Example: certmail ingest --maildir ~/Maildir/.cert --json
    Ingest(IngestArgs),

    /// Read the new mail of the [imap] mailbox into the incident log, as ingest does.
    ///
    /// Each message is read once (by UID) and nothing is marked read on the server;
    /// with processed-folder, recorded mail is moved there. Run it from cron or a timer.
    /// Example: certmail fetch --json
    Fetch,

    /// Read, export and verify the incident log.
    #[command(subcommand)]
    Log(LogCommand),

    /// Move this home's incident log and outbox into the team's PostgreSQL store.
    #[command(subcommand)]
    Store(StoreCommand),

    /// The team members every message is encrypted to, and their reading keys.
    #[command(subcommand)]
    Team(TeamCommand),

    /// Open incidents, what each waits for, and what is overdue.
    ///
    /// Each incident also says what was done on it last, when, and by whom: the name,
    /// e-mail and signing key (its last 8 hex digits) of the certmail that wrote that
    /// event to the log (`last_event` with its `by` under --json).
    /// Example: certmail status --json
    Status,

    /// Check that everything a notification needs works, and say what to fix.
    ///
    /// The identity and its key, every recipient key (pin, expiry within 30 days,
    /// revocation), the relay (connect, greeting, STARTTLS, AUTH, never a message),
    /// the keyring, the clock, file modes and template overrides. Exits 1 when a
    /// check is in error, 0 otherwise (warnings included).
    /// Example: certmail doctor
    /// Example: certmail doctor --json
    Doctor,

    /// Record steps of an incident's handling.
    #[command(subcommand)]
    Incident(IncidentCommand),

    /// Show what the CERT wrote: every message of an incident, decrypted and sanitised.
    ///
    /// Received and sent messages, oldest first, each with a banner saying who signed
    /// which part; unsigned parts are marked. A message we sent says who made it (the
    /// name, e-mail and signing key of the certmail that queued it; `by` under --json,
    /// and `sent_by` for who handed it to the relay). Attachments are listed with type
    /// and size and saved only with --save-attachments (owner-only files, safe names).
    /// Example: certmail read CM-7KQ2-M9XD-3RTA
    /// Example: certmail read '<reply-id@cert.example>' --json
    Read(ReadArgs),

    // The responder's first hour: a file to fill in, or questions that fill it.
    /// Print a commented incident file for a scheme, to fill in.
    ///
    /// Every field of the Virk.dk form in the form's order; the scheme's required
    /// fields hold "<…>" placeholders that preview and notify refuse until filled in,
    /// each choice list is in a comment, optional fields are commented out.
    /// Example: certmail new voluntary --lang en > incident.toml
    New(NewArgs),

    /// Ask for the required fields on a terminal, one by one, then preview and send.
    ///
    /// Each answer is checked as it is typed and saved to FILE at once (owner-only),
    /// so nothing typed is lost: run it again to go on where you stopped. After the
    /// preview it asks before sending, which is `certmail notify FILE`.
    /// Example: certmail compose incident.toml --lang da
    Compose(ComposeArgs),

    /// Print a shell completion script.
    ///
    /// Example (bash): certmail completions bash > ~/.local/share/bash-completion/completions/certmail
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },

    /// Print a manual page (roff) for certmail or one of its commands.
    ///
    /// Example: certmail man incident virk | man -l -
    Man {
        /// The command, as typed after `certmail` ("notify", "incident virk").
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
    },
}

/// The shells `certmail completions` writes for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct ReadArgs {
    /// An incident's reference, or the Message-ID of one message.
    #[arg(value_name = "REF|MSGID")]
    pub target: String,
    /// Save attachments into this folder (created owner-only).
    #[arg(long, value_name = "DIR")]
    pub save_attachments: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Record one stage's filing on Virk.dk (its reference, and the receipt).
    ///
    /// Each stage is its own submission and clears only its own clock; a stage whose
    /// clock counts from it (NIS2's final report, a month after the notification)
    /// starts then. A stage named without --regime is recorded for each of the
    /// incident's regimes that has it and has not had it filed (the joint form sends
    /// one filing to each authority); filed again, it is recorded as a correction, and
    /// said so. Without --stage: the stage due first that is not filed yet (an
    /// intermediate report, made on request, only by name). A filing dated before the
    /// detection, or before the stage it counts from, is refused.
    /// Example: certmail incident virk CM-7KQ2-M9XD-3RTA --stage early-warning --reference 2026-123456 --receipt kvittering.pdf
    Virk {
        /// The incident's reference (as `status` shows it, e.g. CM-7KQ2-M9XD-3RTA).
        #[arg(value_name = "REF")]
        incident: String,
        /// The stage filed (DORA: initial, intermediate, final).
        #[arg(long, value_name = "STAGE", value_parser = ["early-warning", "initial", "notification", "intermediate", "final"])]
        stage: Option<String>,
        /// Only under this regime, when the incident has several (nis2, gdpr, dora, ...).
        #[arg(long, value_name = "REGIME")]
        regime: Option<String>,
        /// When it was submitted on Virk.dk (RFC 3339, e.g. 2026-11-20T08:15:00+01:00); default now.
        #[arg(long, visible_alias = "submitted-at", value_name = "TIME")]
        at: Option<String>,
        /// Why it was filed after its deadline (the form's "Begrundelse af hvorfor
        /// tidsfristen ikke er overholdt"), kept in the log.
        #[arg(long, value_name = "TEXT")]
        late_reason: Option<String>,
        /// The reference number Virk.dk gave the filing.
        #[arg(long, value_name = "VIRK-REF")]
        reference: String,
        /// The receipt (PDF) downloaded from Virk.dk; a copy is kept in the home folder.
        #[arg(long, value_name = "PDF")]
        receipt: Option<PathBuf>,
    },
    /// Correct what a received message is (ack, question, closed, reply, ...).
    ///
    /// Recorded as an event in the log, with who said so and why; the original
    /// verdict stays in the log. It changes the incident's state only for a message
    /// bound to it by a good signature.
    /// Example: certmail incident mark CM-7KQ2-M9XD-3RTA --message '<r1@cert.example>' --as question --reason "asks for logs"
    Mark {
        /// The incident's reference.
        #[arg(value_name = "REF")]
        incident: String,
        /// The received message's Message-ID.
        #[arg(long, value_name = "MSGID")]
        message: String,
        /// What it is: ack, question, closed, reply, auto-reply, bounce, unrelated or malformed.
        #[arg(long = "as", value_name = "KIND")]
        kind: String,
        /// Why (kept in the log).
        #[arg(long)]
        reason: String,
    },
    /// Close an incident: it no longer appears in `certmail status`.
    ///
    /// Example: certmail incident close CM-2026-0001 --reason "resolved, CERT case closed"
    Close {
        /// The incident's reference (as `status` shows it, e.g. CM-7KQ2-M9XD-3RTA).
        #[arg(value_name = "REF")]
        incident: String,
        /// Why it is closed.
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Message files (.eml), or - for one message on standard input.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A Maildir: every message in its new/ and cur/ folders.
    #[arg(long, value_name = "DIR")]
    pub maildir: Vec<PathBuf>,
    /// An mbox file.
    #[arg(long, value_name = "FILE")]
    pub mbox: Vec<PathBuf>,
    /// Copy unsigned mail read from message files into the log as well. Signed or
    /// encrypted mail, standard input and mbox messages are always copied; without
    /// this, `certmail read` reads unsigned mail again from its file.
    #[arg(long)]
    pub keep_copies: bool,
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// List the incidents, newest first.
    ///
    /// Example: certmail log list --json
    List,
    /// Show one incident's timeline.
    ///
    /// Each event says who wrote it, "by NAME <EMAIL> (key …LAST8)": the identity and
    /// signing key of the certmail that recorded it (a `by` object under --json, its
    /// parts null when not known; events recorded before certmail kept this name no one).
    /// The hash chain covers it: `certmail log verify` finds a rewritten author.
    /// Example: certmail log show CM-2026-0001
    Show {
        /// The incident's reference.
        #[arg(value_name = "REF")]
        reference: String,
    },
    /// Export every event of every incident, as JSON lines or CSV.
    ///
    /// Each event with who wrote it (`by`; the CSV's by_name, by_email, by_key and
    /// by_db_user columns).
    /// Example: certmail log export --csv > log.csv
    Export {
        /// CSV with a header line (instead of JSON lines, the default).
        #[arg(long, conflicts_with = "json")]
        csv: bool,
    },
    /// Check that no event was edited, deleted or reordered since it was recorded,
    /// and that every row agrees with the events.
    ///
    /// With --anchor, also that the log still holds the head that anchor vouches
    /// for: this finds a chain rewritten with its hashes recomputed, events deleted
    /// from its end, and a log wiped and made anew. Without one, it can show only that
    /// the log is consistent with itself. Exits 1 and names each problem.
    /// Example: certmail log verify --anchor ~/paper/certmail-anchor.asc
    Verify {
        /// A head kept elsewhere: the output of `certmail log anchor` (text or
        /// --json), or a decrypted notification (its X-Certmail-Log-Head header).
        #[arg(long, value_name = "FILE")]
        anchor: Option<PathBuf>,
    },
    /// Print the log's head (event count, last hash, time) signed by your key, to
    /// keep somewhere an attacker on this machine cannot reach.
    ///
    /// Keep it on paper, in a ticket or on another machine, and check the log
    /// against it later with `certmail log verify --anchor FILE`. Refuses if the log
    /// is not consistent now.
    /// Example: certmail log anchor > ~/paper/certmail-anchor.asc
    Anchor,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List every message in the outbox with its delivery state.
    ///
    /// Example: certmail outbox list --json
    List,
    /// Deliver every message that is due, over one connection.
    ///
    /// Safe to run from cron or a systemd timer: two flushes never send the same
    /// message at the same time. Example: certmail outbox flush
    Flush {
        /// Retry deferred messages now, without waiting for their next attempt time.
        #[arg(long)]
        retry_now: bool,
    },
    /// Send a notification the outbox gave up (or that bounced) again, once its cause is fixed.
    ///
    /// The same message (same reference, Message-ID and encrypted bytes) is queued
    /// again with a new delivery lifetime and delivered at once; the log records who
    /// asked and why. Example: certmail outbox retry CM-7KQ2-M9XD-3RTA --reason "relay fixed"
    Retry {
        /// The incident's reference (all its failed messages) or one Message-ID.
        target: String,
        /// Why it is sent again, for the log.
        #[arg(long, default_value = "sent again by the operator")]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy the SQLite log and outbox into an empty PostgreSQL database, once.
    ///
    /// Verifies the SQLite log first (a broken chain is not moved), copies every table
    /// with its ids and hashes in one transaction (spooled messages read in), verifies
    /// the chain there to the same count and head, records the move, and renames
    /// certmail.sqlite to certmail.sqlite.moved. A database that holds anything is
    /// refused. The password comes from [store] password-command, password-env or the
    /// OS keyring, never the command line. Then set [store] url in every home.
    ///
    /// Example: certmail store migrate --to postgres://certmail@db.soc.example.dk/certmail
    Migrate {
        /// The PostgreSQL store: postgres://USER@HOST:PORT/DATABASE (no password in it).
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Add a team member's public key (or this machine's own, with --me).
    ///
    /// From then on every notification and reply this home sends is encrypted to
    /// the member too, and each message this home opens gets a reading key for them.
    /// Check the fingerprint it prints with the member before relying on it. Run it
    /// on every machine of the team (or share the home's team/ folder).
    /// Example: certmail team add mette.asc
    /// Example: certmail team add --me
    Add {
        /// The member's public key (armored or binary OpenPGP).
        #[arg(value_name = "FILE", required_unless_present = "me", conflicts_with = "me")]
        file: Option<PathBuf>,
        /// Add this home's own identity key (the public part).
        #[arg(long)]
        me: bool,
    },
    /// List the team members, their fingerprints and whether they can be encrypted to.
    ///
    /// Example: certmail team list --json
    List,
    /// Remove a team member: later messages are not encrypted to them.
    ///
    /// Example: certmail team remove "5C6D 1E2F ..."
    Remove {
        /// The member's fingerprint (spaces and case do not matter).
        #[arg(value_name = "FINGERPRINT")]
        fingerprint: String,
    },
    /// Give every listed member a reading key for every message this machine can open.
    ///
    /// For a member added after messages were sent or received: run it where the
    /// messages can be decrypted (the watch host for replies to the team key, the
    /// sender's machine for a notification). Nothing is decrypted into the store.
    /// Example: certmail team reencrypt
    Reencrypt,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Store a secret in the OS keyring, read from the terminal (or one line of stdin).
    ///
    /// Example: certmail secrets set smtp
    /// Example: certmail secrets set imap
    /// Example: certmail secrets set store
    Set {
        /// Which secret: the relay password, the mailbox password, the reporter key's
        /// passphrase, or the password of the team's database (`[store] url`).
        #[arg(value_enum)]
        which: SecretName,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretName {
    Smtp,
    Imap,
    Identity,
    Store,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Reporter's name (the contact person).
    #[arg(long)]
    pub name: Option<String>,
    /// Reporter's e-mail address; the notification is sent from it.
    #[arg(long)]
    pub email: Option<String>,
    /// Organisation (company or authority) name.
    #[arg(long)]
    pub org: Option<String>,
    /// Organisation's CVR number: 8 digits (spaces and a DK prefix are fine).
    #[arg(long)]
    pub cvr: Option<String>,
    /// Contact phone number: Danish as you write it (+45 12 34 56 78, 0045 …, 12345678),
    /// or another country's with its code (+46 …, taken as foreign).
    #[arg(long)]
    pub phone: Option<String>,
    /// The phone number is not Danish (also when it has no country code).
    #[arg(long)]
    pub foreign_phone: bool,
    /// Contact person's title (e.g. CISO).
    #[arg(long)]
    pub title: Option<String>,
    /// Import this OpenPGP secret key instead of generating one.
    #[arg(long, value_name = "FILE")]
    pub import_key: Option<PathBuf>,
    /// Store the generated key without a passphrase (owner-only file).
    #[arg(long)]
    pub no_passphrase: bool,
    /// Replace an existing identity and configuration.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// Incident file (TOML or JSON), or - for standard input. With --follow-up, only
    /// the fields that changed are needed.
    #[arg(value_name = "FILE")]
    pub incident: PathBuf,
    /// Attach a file (logs, IOC lists) inside the encrypted part. Repeatable.
    #[arg(long = "attach", value_name = "FILE")]
    pub attachments: Vec<PathBuf>,
    /// Attach a malware sample, packed in a zip with the password "infected" (as CFCS
    /// asks), inside the encrypted part. Repeatable.
    #[arg(long = "sample", value_name = "FILE")]
    pub samples: Vec<PathBuf>,
    /// Recipient name from keys/recipients.toml or the config; repeat it for several
    /// CERTs, each getting its own message (default: default-recipient, or for a
    /// follow-up the incident's recipients).
    #[arg(long, value_name = "RECIPIENT")]
    pub to: Vec<String>,
    /// Also write the exact bytes placed in the outbox to this file (with several
    /// recipients, one file each: FILE's name with the recipient before the extension).
    #[arg(long, value_name = "MSG.eml")]
    pub out: Option<PathBuf>,
    /// Update an earlier incident (e.g. CM-7KQ2-M9XD-3RTA): FILE holds the fields that
    /// changed, and the report shows them first. The message is threaded to the earlier one.
    #[arg(long, value_name = "REF")]
    pub follow_up: Option<String>,
    /// Send even though this incident file was notified before (or, with --follow-up,
    /// changes nothing).
    #[arg(long)]
    pub again: bool,
    /// A key of the caller's choosing (a ticket number, a UUID): run again with the same
    /// key, certmail sends nothing and prints the first run's result, with its exit code.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Language of the report.
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

/// `certmail reply`: a message in your own words on an incident already notified.
#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The incident's reference.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The message: a UTF-8 text file, or - for standard input (the default).
    #[arg(long, value_name = "FILE|-")]
    pub text: Option<PathBuf>,
    /// Attach a file inside the encrypted part. Repeatable.
    #[arg(long = "attach", value_name = "FILE")]
    pub attachments: Vec<PathBuf>,
    /// Attach a malware sample, zipped with the password "infected". Repeatable.
    #[arg(long = "sample", value_name = "FILE")]
    pub samples: Vec<PathBuf>,
    /// Recipient (repeatable; default: every recipient the incident was notified to).
    #[arg(long, value_name = "RECIPIENT")]
    pub to: Vec<String>,
    /// Also write the exact bytes placed in the outbox to this file (as for notify).
    #[arg(long, value_name = "MSG.eml")]
    pub out: Option<PathBuf>,
    /// As for notify: a retry with the same key sends nothing and prints the first result.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Language of the signature block and subject (default: the incident's).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Incident file (TOML or JSON), or - for standard input.
    #[arg(value_name = "FILE")]
    pub incident: PathBuf,
    /// Language of the report.
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// Attachments to list in the preview.
    #[arg(long = "attach", value_name = "FILE")]
    pub attachments: Vec<PathBuf>,
    /// Recipient name (default: default-recipient).
    #[arg(long, value_name = "RECIPIENT")]
    pub to: Option<String>,
    /// Thread to an earlier incident, as `notify --follow-up` would.
    #[arg(long, value_name = "REF")]
    pub follow_up: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    Da,
    En,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List recipients, their pinned fingerprints and key files, and the identity.
    ///
    /// Example: certmail keys list --json
    List,
    /// Check every recipient key and the identity at the current time.
    ///
    /// Fails if a key is missing, revoked, expired, unpinned or cannot encrypt;
    /// warns 30 days before a key expires. Example: certmail keys check
    Check,
    /// Import a recipient's public key after checking it against its pin.
    ///
    /// A fingerprint that differs from the pin is refused. After verifying the new
    /// fingerprint by phone with the CERT, re-pin explicitly with --re-pin.
    /// Example: certmail keys import-recipient cfcs.asc --name cfcs
    ImportRecipient {
        /// The recipient's public key (armored or binary OpenPGP).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Recipient name (default: found by fingerprint or e-mail address).
        #[arg(long)]
        name: Option<String>,
        /// Replace the pin with this fingerprint, verified by phone with the CERT.
        #[arg(long, value_name = "FINGERPRINT")]
        re_pin: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The notification scheme; several for one incident reported under several
    /// (`certmail new nis-operator personal-data`).
    #[arg(value_enum, required = true, num_args = 1..)]
    pub scheme: Vec<SchemeName>,
    /// Language of the comments and of the report (default: the configuration's).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// The incident file to fill in: made if it does not exist, continued if it does.
    #[arg(value_name = "FILE", default_value = "incident.toml")]
    pub file: PathBuf,
    /// The scheme, for a new file (asked for when not given); repeat it, or separate
    /// with commas, for an incident reported under several.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub scheme: Vec<SchemeName>,
    /// Language of the questions and of the report (default: the file's, else the configuration's).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

/// The notification schemes, as `certmail new` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemeName {
    /// Essential or important entities under the NIS2 law (before 1 July 2025:
    /// operators of essential services).
    NisOperator,
    /// Digital service providers (online marketplaces, search engines, cloud):
    /// NIS2 today, the 2018 NIS law § 9 before 1 July 2025.
    DigitalServiceProvider,
    /// Major IT security breaches in public authorities.
    PublicAuthority,
    /// Voluntary reports from companies.
    Voluntary,
    /// Personal data breaches.
    PersonalData,
    /// Incidents in the financial sector (DORA).
    Financial,
}

impl Cli {
    /// A command one command runs for the user (compose runs preview and notify), read
    /// as if it were typed, so it has every option's default and the same checks.
    pub fn command_from(args: &[&str]) -> Result<Command, String> {
        Cli::try_parse_from(std::iter::once("certmail").chain(args.iter().copied())).map(|cli| cli.command).map_err(|e| e.to_string())
    }
}
