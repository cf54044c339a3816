//! The configuration: one TOML file (kebab-case, unknown keys rejected), the home
//! folder's layout, and the recipients (built-in ones from keys/recipients.toml
//! merged with the user's). Resolved once per run into [`Settings`].
//!
//! It reads files but never writes secrets; `init` writes the file through
//! [`ConfigFile::write_new`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exit::{Failure, io_failure};
use crate::fsutil;
use crate::incident::Language;

/// The built-in recipients, shipped in the repository and embedded at build time.
const BUILTIN_RECIPIENTS: &str = include_str!("../keys/recipients.toml");
/// The public key of the clearly labelled example CERT used by demos and tests.
const EXAMPLE_CERT_KEY: &str = include_str!("../keys/example-cert.asc");

pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 20 * 1024 * 1024;

/// The largest `max-message-bytes` a PostgreSQL store takes.
pub const MAX_MESSAGE_BYTES_POSTGRES: u64 = 256 * 1024 * 1024;

/// The configuration file as written by people and scripts.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Recipient used when `--to` is not given (default "cfcs").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_recipient: Option<String>,
    /// Language of reports (default "da").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// Largest message certmail will queue, in bytes (default 20 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_message_bytes: Option<u64>,
    /// Folder of templates that override the embedded ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templates: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityConfig>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recipients: BTreeMap<String, RecipientConfig>,
    /// The relay notifications are delivered through; without it they stay queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxConfig>,
    /// The mailbox the CERT's replies land in, read by `certmail fetch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imap: Option<ImapConfig>,
    /// A command told about each event (acknowledged, question, closed, bounced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hooks: Option<HooksConfig>,
    /// What `certmail status` counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadlines: Option<DeadlinesConfig>,
    /// Team mode: the incident log and outbox on PostgreSQL (docs/TEAM-MODE.md);
    /// without it, SQLite in the home folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreConfig>,
}

/// `[store]`: the PostgreSQL database a team shares. Checked when the file is read
/// (store/target.rs has the rules); never a password in it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StoreConfig {
    /// postgres://USER@HOST:PORT/DATABASE; `CERTMAIL_STORE_URL` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Command (argv list) that prints the database password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_command: Option<Vec<String>>,
    /// Environment variable holding the database password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// PEM file of the CA that signed the server's certificate (replaces the system's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// `[deadlines]`: the acknowledgement timeout and the legal clocks per scheme.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DeadlinesConfig {
    /// Minutes after delivery without an acknowledgement before `status` says to
    /// call the CERT (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_minutes: Option<u64>,
    /// `[deadlines.schemes.personal-data]` etc.: hours after detection replacing the
    /// figures of the scheme's regime (regimes/regimes.toml), where sector rules set
    /// others. Mapped onto the regime's stages by `regimes::incident`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub schemes: BTreeMap<String, SchemeClocks>,
}

/// Legal clocks of one scheme, in hours after detection: the early warning, the
/// first report (notification; DORA's initial notification) and the final report.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SchemeClocks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_warning_hours: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_hours: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_report_hours: Option<u64>,
}

/// `[smtp]`: the relay. TLS is always required.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SmtpConfig {
    pub host: String,
    /// Default 465 for `tls`, 587 for `starttls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    pub security: SmtpSecurity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// PEM file of the CA that signed the relay's certificate (corporate relays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Deadline for connecting and for each step of the conversation (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Command (argv list) that prints the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_command: Option<Vec<String>>,
    /// Environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpSecurity {
    Tls,
    Starttls,
    /// No TLS, loopback only, no AUTH: for tests. Named so nobody mistakes it.
    PlaintextLoopbackTestOnly,
}

/// `[imap]`: the mailbox replies are fetched from. TLS is always required; there is
/// no plaintext mode, not even for tests.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImapConfig {
    pub host: String,
    /// Default 993 for `tls`, 143 for `starttls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    pub security: ImapSecurity,
    pub username: String,
    /// Command (argv list) that prints the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_command: Option<Vec<String>>,
    /// Environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// PEM file of the CA that signed the server's certificate (replaces the system's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Folder to read (default INBOX).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// Folder recorded mail is moved to; without it the server is left untouched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_folder: Option<String>,
    /// Deadline for connecting and for each step of the conversation (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImapSecurity {
    Tls,
    Starttls,
}

/// `[hooks]`: the command run once per event, with its JSON on standard input.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HooksConfig {
    /// Program and arguments (argv list); no shell unless you name one.
    pub command: Vec<String>,
    /// The hook is stopped after this long (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

/// `[outbox]`: how long certmail keeps retrying.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OutboxConfig {
    /// A message not delivered after this many hours is failed (default 72).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_hours: Option<u64>,
}

/// `[identity]`: who reports, and where their signing key is.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IdentityConfig {
    // Defaults let a config name only the passphrase source before `certmail init`.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub organisation: String,
    #[serde(default)]
    pub cvr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The phone is not a Danish number (the Virk.dk form's "foreign number"); `init`
    /// sets it, and every notification carries it with the phone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub foreign_phone: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Secret key file (default: identity/secret.asc in the home folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// Command (argv list) that prints the key's passphrase on stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passphrase_command: Option<Vec<String>>,
    /// Environment variable holding the key's passphrase (for scripts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passphrase_env: Option<String>,
}

impl IdentityConfig {
    /// The phone is foreign: said so (`foreign-phone`), or written with another
    /// country's code (a configuration from before `init` kept the box).
    pub fn phone_is_foreign(&self) -> bool {
        self.foreign_phone || self.phone.as_deref().is_some_and(crate::incident::contact::Phone::looks_foreign)
    }

    /// The phone in its one form, as notifications show it.
    pub fn phone_shown(&self) -> Option<String> {
        self.phone.as_deref().map(|p| crate::incident::contact::canonical_phone(p, self.phone_is_foreign()))
    }
}

/// `[recipients.NAME]`: a CERT that notifications can be sent to.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RecipientConfig {
    /// Display name, e.g. "CFCS Netsikkerhedstjenesten".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub address: String,
    /// Pinned fingerprint of the recipient's primary key.
    pub fingerprint: String,
    /// Phone number to verify the key or report by voice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Public key file (relative paths are taken from the config file's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// Where and how to obtain the genuine key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obtain: Option<String>,
    /// Another secure way to reach the recipient the recipient itself offers, said
    /// when its key is missing (CFCS: S/MIME with its NemID certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative: Option<String>,
    /// Marks throwaway recipients for demos and tests.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test_only: bool,
}

/// Where a recipient's public key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    File(PathBuf),
    Embedded(&'static str),
    Missing(PathBuf),
}

/// A recipient with its effective pin and key source.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub id: String,
    pub config: RecipientConfig,
    /// The pin in force: an explicit re-pin, else the configured fingerprint.
    pub pin: String,
    pub re_pinned: bool,
    pub cert: CertSource,
}

impl Recipient {
    pub fn display_name(&self) -> &str {
        self.config.name.as_deref().unwrap_or(&self.id)
    }

    pub fn phone(&self) -> &str {
        self.config.phone.as_deref().unwrap_or("(no phone number configured)")
    }
}

/// Everything a command needs to know about its environment, resolved once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub home: PathBuf,
    pub config_path: PathBuf,
    pub file: ConfigFile,
}

impl Settings {
    /// Resolves the home folder and reads the configuration file, if any.
    pub fn load(home: Option<PathBuf>, config: Option<PathBuf>) -> Result<Settings, Failure> {
        let home = match home {
            Some(h) => h,
            None => default_home()?,
        };
        let explicit = config.is_some();
        let config_path = config.unwrap_or_else(|| home.join("config.toml"));
        let file = match std::fs::read_to_string(&config_path) {
            Ok(text) => parse_config(&text, &config_path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => ConfigFile::default(),
            Err(e) => return Err(io_failure("cannot read configuration", &config_path, e)),
        };
        Ok(Settings { home, config_path, file })
    }

    pub fn store_path(&self) -> PathBuf {
        self.home.join("certmail.sqlite")
    }

    /// Where the store is: PostgreSQL when `CERTMAIL_STORE_URL` or `[store] url` names
    /// a database, else the SQLite file of [`Settings::store_path`].
    pub fn store_location(&self) -> Result<crate::store::target::Location, Failure> {
        let env = std::env::var(STORE_URL_ENV).ok().filter(|u| !u.trim().is_empty());
        self.store_location_with(env)
    }

    fn store_location_with(&self, env_url: Option<String>) -> Result<crate::store::target::Location, Failure> {
        use crate::store::target::Location;
        let file = self.file.store.clone().unwrap_or_default();
        let at = |field: &str| format!("{}: [store] {field}", self.config_path.display());
        let (url, said_by) = match (env_url, file.url) {
            (Some(url), _) => (url, STORE_URL_ENV.to_string()),
            (None, Some(url)) => (url, at("url")),
            (None, None) if self.file.store.is_some() => {
                return Err(Failure::config(format!("{} is missing: name the database (or set {STORE_URL_ENV})", at("url")))
                    .with_field("store.url"));
            }
            (None, None) => {
                let path = self.store_path();
                let moved = crate::store::moving::moved_path(&path);
                // A forgotten [store] line must not split the record (docs/TEAM-MODE.md §5).
                if !path.exists() && moved.exists() {
                    return Err(Failure::config(format!(
                        "this home's log moved to PostgreSQL ({} is the copy left behind); set [store] url in {} (or {STORE_URL_ENV})",
                        moved.display(),
                        self.config_path.display()
                    ))
                    .with_field("store.url"));
                }
                return Ok(Location::Sqlite(path));
            }
        };
        let field = if said_by == STORE_URL_ENV { STORE_URL_ENV } else { "store.url" };
        self.postgres_location(&url, &said_by, field)
    }

    /// The PostgreSQL store at `url` (`store migrate --to`), with the rest of `[store]`
    /// (password source, `ca-file`) as configured.
    pub fn store_location_to(&self, url: &str) -> Result<crate::store::target::Location, Failure> {
        self.postgres_location(url, "--to", "to")
    }

    fn postgres_location(&self, url: &str, said_by: &str, field: &str) -> Result<crate::store::target::Location, Failure> {
        use crate::store::target::{self, Location, PasswordSource, Postgres};
        let file = self.file.store.clone().unwrap_or_default();
        let at = |field: &str| format!("{}: [store] {field}", self.config_path.display());
        let checked = target::check_url(url).map_err(|m| Failure::config(format!("{said_by} {m}")).with_field(field.to_string()))?;
        let ca_file = file.ca_file.as_ref().map(|p| self.relative_to_config(p));
        let tls = target::tls_for(&checked, ca_file)
            .map_err(|m| Failure::config(format!("{} {m}", at("ca-file"))).with_field("store.ca-file"))?;
        // A message's bytes are one bytea parameter (docs/TEAM-MODE.md): PostgreSQL takes
        // up to 1 GiB, and the team store holds a message to a quarter of that.
        if self.max_message_bytes() > MAX_MESSAGE_BYTES_POSTGRES {
            return Err(Failure::config(format!(
                "{}: max-message-bytes is {}, over {MAX_MESSAGE_BYTES_POSTGRES} (256 MiB), the most a message on a PostgreSQL store may have",
                self.config_path.display(),
                self.max_message_bytes()
            ))
            .with_field("max-message-bytes"));
        }
        let password = PasswordSource { command: file.password_command, env: file.password_env };
        Ok(Location::Postgres(Box::new(Postgres { url: url.trim().to_string(), config: checked.config, tls, password })))
    }

    pub fn recipients_dir(&self) -> PathBuf {
        self.home.join("recipients")
    }

    pub fn pins_path(&self) -> PathBuf {
        self.recipients_dir().join("pins.toml")
    }

    pub fn secret_key_path(&self) -> PathBuf {
        match self.file.identity.as_ref().and_then(|i| i.key.as_ref()) {
            Some(p) => self.relative_to_config(p),
            None => self.home.join("identity").join("secret.asc"),
        }
    }

    pub fn templates_dir(&self) -> PathBuf {
        match &self.file.templates {
            Some(p) => self.relative_to_config(p),
            None => self.home.join("templates"),
        }
    }

    pub fn language(&self) -> Language {
        self.file.language.unwrap_or(Language::Da)
    }

    pub fn max_message_bytes(&self) -> u64 {
        self.file.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES)
    }

    pub fn default_recipient(&self) -> &str {
        self.file.default_recipient.as_deref().unwrap_or("cfcs")
    }

    /// The relay, resolved and checked; `None` when delivery is not configured.
    pub fn relay(&self) -> Result<Option<crate::transport::Relay>, Failure> {
        use crate::transport::{Relay, Security};
        let Some(smtp) = &self.file.smtp else { return Ok(None) };
        let bad = |msg: String| Failure::config(format!("{}: [smtp] {msg}", self.config_path.display()));
        if smtp.password_command.is_some() && smtp.password_env.is_some() {
            return Err(bad("has both password-command and password-env; keep one".into()));
        }
        let security = match smtp.security {
            SmtpSecurity::Tls => Security::Tls,
            SmtpSecurity::Starttls => Security::Starttls,
            SmtpSecurity::PlaintextLoopbackTestOnly => Security::PlaintextLoopbackTestOnly,
        };
        let port = smtp.port.unwrap_or(match security {
            Security::Tls => 465,
            Security::Starttls => 587,
            Security::PlaintextLoopbackTestOnly => 25,
        });
        let hello_name = self
            .file
            .identity
            .as_ref()
            .and_then(|i| i.email.rsplit_once('@').map(|(_, d)| d.to_string()))
            .unwrap_or_else(|| "localhost".into());
        let relay = Relay {
            host: smtp.host.clone(),
            port,
            security,
            username: smtp.username.clone(),
            ca_file: smtp.ca_file.as_ref().map(|p| self.relative_to_config(p)),
            timeout: std::time::Duration::from_secs(smtp.timeout_seconds.unwrap_or(30).max(1)),
            hello_name,
        };
        crate::transport::check_relay(&relay).map_err(bad)?;
        Ok(Some(relay))
    }

    /// The mailbox of `[imap]`, resolved and checked; `None` when it is not configured.
    pub fn mailbox(&self) -> Result<Option<crate::imap::Mailbox>, Failure> {
        use crate::imap::{Mailbox, Security};
        let Some(imap) = &self.file.imap else { return Ok(None) };
        let bad = |msg: &str| Failure::config(format!("{}: [imap] {msg}", self.config_path.display()));
        if imap.password_command.is_some() && imap.password_env.is_some() {
            return Err(bad("has both password-command and password-env; keep one"));
        }
        if imap.host.trim().is_empty() || imap.username.trim().is_empty() {
            return Err(bad("needs a host and a username"));
        }
        let security = match imap.security {
            ImapSecurity::Tls => Security::Tls,
            ImapSecurity::Starttls => Security::Starttls,
        };
        let folder = imap.folder.clone().unwrap_or_else(|| "INBOX".into());
        if imap.processed_folder.as_deref().is_some_and(|p| p == folder || p.trim().is_empty()) {
            return Err(bad("processed-folder must name another folder than the one read"));
        }
        Ok(Some(Mailbox {
            host: imap.host.clone(),
            port: imap.port.unwrap_or(match security {
                Security::Tls => 993,
                Security::Starttls => 143,
            }),
            security,
            username: imap.username.clone(),
            ca_file: imap.ca_file.as_ref().map(|p| self.relative_to_config(p)),
            folder,
            processed_folder: imap.processed_folder.clone(),
            timeout: std::time::Duration::from_secs(imap.timeout_seconds.unwrap_or(30).clamp(1, 3600)),
        }))
    }

    /// The hook of `[hooks]`, checked; `None` when none is configured.
    pub fn hook(&self) -> Result<Option<crate::hooks::Hook>, Failure> {
        let Some(hooks) = &self.file.hooks else { return Ok(None) };
        if hooks.command.is_empty() {
            return Err(Failure::config(format!(
                "{}: [hooks] command is empty: give a program and its arguments",
                self.config_path.display()
            )));
        }
        let timeout = std::time::Duration::from_secs(hooks.timeout_seconds.unwrap_or(30).clamp(1, 3600));
        Ok(Some(crate::hooks::Hook { command: hooks.command.clone(), timeout }))
    }

    /// How long the outbox keeps retrying a message.
    pub fn outbox_lifetime(&self) -> chrono::Duration {
        let hours = self.file.outbox.as_ref().and_then(|o| o.lifetime_hours).unwrap_or(72);
        chrono::Duration::hours(hours.min(24 * 365) as i64)
    }

    /// The identity, or a clear error telling how to create one.
    pub fn identity(&self) -> Result<&IdentityConfig, Failure> {
        match self.file.identity.as_ref() {
            Some(id) if !id.name.is_empty() && !id.email.is_empty() && !id.organisation.is_empty() && !id.cvr.is_empty() => Ok(id),
            _ => Err(Failure::config(format!(
                "no complete reporter identity in {}: run `certmail init --name ... --email ... --org ... --cvr ...` first",
                self.config_path.display()
            ))),
        }
    }

    fn relative_to_config(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.config_path.parent().unwrap_or(Path::new(".")).join(p) }
    }

    /// All recipients: built-in ones, overridden or extended by the config file,
    /// with explicit re-pins applied.
    pub fn recipients(&self) -> Result<BTreeMap<String, Recipient>, Failure> {
        let builtin: BTreeMap<String, RecipientConfig> =
            toml::from_str(BUILTIN_RECIPIENTS).map_err(|e| Failure::failed(format!("built-in keys/recipients.toml is broken: {e}")))?;
        let pins = self.re_pins()?;
        let mut all = BTreeMap::new();
        for (id, config) in builtin {
            let cert = match &config.cert {
                Some(file) if id == "example-cert" => {
                    let imported = self.recipients_dir().join(file);
                    if imported.exists() { CertSource::File(imported) } else { CertSource::Embedded(EXAMPLE_CERT_KEY) }
                }
                Some(file) => self.imported_or_missing(file),
                None => self.imported_or_missing(Path::new(&format!("{id}.asc"))),
            };
            all.insert(id.clone(), Recipient { id, pin: config.fingerprint.clone(), re_pinned: false, config, cert });
        }
        for (id, config) in &self.file.recipients {
            let cert = match &config.cert {
                Some(p) => {
                    let p = self.relative_to_config(p);
                    if p.exists() { CertSource::File(p) } else { CertSource::Missing(p) }
                }
                None => self.imported_or_missing(Path::new(&format!("{id}.asc"))),
            };
            let recipient = Recipient { id: id.clone(), pin: config.fingerprint.clone(), re_pinned: false, config: config.clone(), cert };
            all.insert(id.clone(), recipient);
        }
        for (id, pin) in pins {
            if let Some(r) = all.get_mut(&id) {
                r.pin = pin.fingerprint;
                r.re_pinned = true;
            }
        }
        Ok(all)
    }

    fn imported_or_missing(&self, file: &Path) -> CertSource {
        let p = self.recipients_dir().join(file);
        if p.exists() { CertSource::File(p) } else { CertSource::Missing(p) }
    }

    /// Looks a recipient up by name, with the list of known names on failure.
    pub fn recipient(&self, id: &str) -> Result<Recipient, Failure> {
        let mut all = self.recipients()?;
        all.remove(id).ok_or_else(|| {
            let known: Vec<_> = all.keys().cloned().collect();
            Failure::not_found(format!("unknown recipient '{id}' (known: {})", known.join(", ")))
        })
    }

    /// Explicit re-pins made with `keys import-recipient --re-pin`.
    pub fn re_pins(&self) -> Result<BTreeMap<String, RePin>, Failure> {
        let path = self.pins_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| Failure::config(format!("{}: {}", path.display(), e.message()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(io_failure("cannot read", &path, e)),
        }
    }
}

/// One explicit re-pin, kept with when it was made.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RePin {
    pub fingerprint: String,
    pub previous: String,
    pub at: String,
}

impl ConfigFile {
    /// Writes a new configuration file, owner-only.
    pub fn write_new(&self, path: &Path) -> Result<(), Failure> {
        let text = toml::to_string(self).map_err(|e| Failure::failed(format!("cannot serialise configuration: {e}")))?;
        let header = "# certmail configuration (written by `certmail init`; see README.md for every key)\n\n";
        // Without a relay, notify only queues: show where it goes, ready to fill in.
        let relay_hint = if self.smtp.is_none() {
            "\n# Your organisation's mail relay: without it `notify` only queues (exit 3).\n\
             # [smtp]\n\
             # host = \"smtp.example.dk\"\n\
             # port = 587\n\
             # security = \"starttls\"               # or \"tls\"\n\
             # username = \"soc@example.dk\"\n\
             # and the password: `certmail secrets set smtp` (the OS keyring), or a command or an\n\
             # environment variable named here (README, \"Delivery\")\n"
        } else {
            ""
        };
        fsutil::write_private(path, format!("{header}{text}{relay_hint}").as_bytes())
    }
}

/// The environment variable that overrides `[store] url`.
pub const STORE_URL_ENV: &str = "CERTMAIL_STORE_URL";

/// Parses the configuration, naming the file and the key path on any error.
pub fn parse_config(text: &str, path: &Path) -> Result<ConfigFile, Failure> {
    let de = toml::Deserializer::parse(text).map_err(|e| Failure::config(format!("{}: {}", path.display(), e.to_string().trim())))?;
    let file: ConfigFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        Failure::config(format!("{}: {}: {}", path.display(), field, e.inner().message().trim())).with_field(field)
    })?;
    check_store(&file, text, path)?;
    Ok(file)
}

/// `[store]` held to its contract when the file is read, so a mistake is named with
/// its file, line and key before any command runs.
fn check_store(file: &ConfigFile, text: &str, path: &Path) -> Result<(), Failure> {
    use crate::store::target;
    let Some(store) = &file.store else { return Ok(()) };
    let bad = |key: &str, message: &str| {
        let line = line_of(text, &["store", key]).map(|l| format!(":{l}")).unwrap_or_default();
        Failure::config(format!("{}{line}: [store] {key} {message}", path.display())).with_field(format!("store.{key}"))
    };
    if store.password_command.is_some() && store.password_env.is_some() {
        return Err(bad("password-env", "is set beside password-command: keep one"));
    }
    if store.password_command.as_ref().is_some_and(|argv| argv.first().is_none_or(|p| p.trim().is_empty())) {
        return Err(bad("password-command", "is empty: give a program and its arguments as a list"));
    }
    if store.password_env.as_ref().is_some_and(|v| v.trim().is_empty()) {
        return Err(bad("password-env", "is empty: name the environment variable that holds the password"));
    }
    if let Some(url) = &store.url {
        let checked = target::check_url(url).map_err(|m| bad("url", &m))?;
        target::tls_for(&checked, store.ca_file.clone()).map_err(|m| bad("ca-file", &m))?;
    }
    Ok(())
}

/// The line (from 1) where the key at `keys` is written, if the text parses.
fn line_of(text: &str, keys: &[&str]) -> Option<usize> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let (last, tables) = keys.split_last()?;
    let mut table = doc.as_table() as &dyn toml_edit::TableLike;
    for key in tables {
        table = table.get(key)?.as_table_like()?;
    }
    let (key, _) = table.get_key_value(last)?;
    let start = key.span()?.start;
    Some(text[..start].matches('\n').count() + 1)
}

fn default_home() -> Result<PathBuf, Failure> {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("certmail"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/share/certmail")),
        None => Err(Failure::new(crate::exit::FailureKind::NoHome, "no home folder: set --home or CERTMAIL_HOME")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named_with_their_path() {
        let err =
            parse_config("[identity]\nname='a'\nemail='b'\norganisation='c'\ncvr='1'\ncolour='x'\n", Path::new("c.toml")).unwrap_err();
        assert!(err.message.contains("c.toml"), "{}", err.message);
        assert!(err.message.contains("identity"), "{}", err.message);
        assert!(err.message.contains("colour"), "{}", err.message);
    }

    #[test]
    fn imap_defaults_and_contract() {
        let path = Path::new("c.toml");
        let settings = |text: &str| Settings { home: "h".into(), config_path: path.into(), file: parse_config(text, path).unwrap() };
        let s = settings("[imap]\nhost='imap.example.dk'\nsecurity='starttls'\nusername='soc'\n");
        let m = s.mailbox().unwrap().unwrap();
        assert_eq!((m.port, m.folder.as_str(), m.timeout.as_secs()), (143, "INBOX", 30));
        let m = settings("[imap]\nhost='h'\nsecurity='tls'\nusername='u'\nfolder='CERT'\n").mailbox().unwrap().unwrap();
        assert_eq!((m.port, m.folder.as_str()), (993, "CERT"));
        let err = parse_config("[imap]\nhost='h'\nsecurity='tls'\nusername='u'\npassword='x'\n", path).unwrap_err();
        assert!(err.message.contains("imap") && err.message.contains("password"), "{}", err.message);
        assert!(parse_config("[imap]\nhost='h'\nsecurity='plain'\nusername='u'\n", path).is_err());
        let both = settings("[imap]\nhost='h'\nsecurity='tls'\nusername='u'\npassword-env='A'\npassword-command=['b']\n");
        assert!(both.mailbox().unwrap_err().message.contains("keep one"));
        let same = settings("[imap]\nhost='h'\nsecurity='tls'\nusername='u'\nprocessed-folder='INBOX'\n");
        assert!(same.mailbox().is_err());
    }

    #[test]
    fn without_store_the_log_stays_the_sqlite_file_in_the_home() {
        use crate::store::target::Location;
        let s =
            Settings { home: "h".into(), config_path: "h/c.toml".into(), file: parse_config("language = 'en'\n", Path::new("c")).unwrap() };
        assert!(matches!(s.store_location_with(None).unwrap(), Location::Sqlite(p) if p == Path::new("h/certmail.sqlite")));
    }

    #[test]
    fn store_mistakes_name_the_file_the_line_and_the_key() {
        let path = Path::new("team.toml");
        for (text, line, field, said) in [
            ("language = 'da'\n\n[store]\nurl = 'postgres://u:hunter2@db.example.dk/certmail'\n", 4, "store.url", "password"),
            ("[store]\nurl = 'postgres://u@db.example.dk/certmail?sslmode=disable'\n", 2, "store.url", "TLS"),
            ("[store]\nurl = 'db.example.dk'\n", 2, "store.url", "postgres://"),
            (
                "[store]\nurl = 'postgres://u@localhost/c'\npassword-env = 'A'\npassword-command = ['b']\n",
                3,
                "store.password-env",
                "keep one",
            ),
            ("[store]\nurl = 'postgres://u@localhost/c'\npassword-command = []\n", 3, "store.password-command", "empty"),
            ("[store]\nurl = 'postgres://u@localhost/c'\n\nca-file = 'ca.pem'\n", 4, "store.ca-file", "sslmode=require"),
            ("store = { url = 'postgres://u@a,b/c' }\n", 1, "store.url", "more than one host"),
        ] {
            let err = parse_config(text, path).unwrap_err();
            assert_eq!(err.kind, crate::exit::FailureKind::Config, "{text}");
            assert!(err.message.starts_with(&format!("team.toml:{line}: [store] ")), "{text}: {}", err.message);
            assert!(err.message.contains(said), "{text}: {}", err.message);
            assert!(!err.message.contains("hunter2"), "{}", err.message);
            assert_eq!(err.field.as_deref(), Some(field), "{text}");
        }
        let err = parse_config("[store]\nurl = 'postgres://u@h/c'\npassword = 'x'\n", path).unwrap_err();
        assert!(err.message.contains("store") && err.message.contains("password"), "a password key is unknown: {}", err.message);
    }

    #[test]
    fn the_store_url_comes_from_the_file_or_the_environment() {
        use crate::store::target::{Location, PasswordSource, Tls};
        let dir = Path::new("/etc/certmail");
        let settings = |text: &str| Settings {
            home: "h".into(),
            config_path: dir.join("config.toml"),
            file: parse_config(text, Path::new("config.toml")).unwrap(),
        };
        let s = settings("[store]\nurl = 'postgres://certmail@db.example.dk/soc'\npassword-env = 'PW'\nca-file = 'ca.pem'\n");
        let Location::Postgres(pg) = s.store_location_with(None).unwrap() else { panic!("PostgreSQL") };
        assert_eq!(pg.config.get_dbname(), Some("soc"));
        assert_eq!(pg.tls, Tls::Verified { ca_file: Some(dir.join("ca.pem")) });
        assert_eq!(pg.password, PasswordSource { command: None, env: Some("PW".into()) });
        // The variable overrides the url; the rest of [store] still applies.
        let Location::Postgres(pg) = s.store_location_with(Some("postgres://other@db2.example.dk/team".into())).unwrap() else {
            panic!("PostgreSQL")
        };
        assert_eq!((pg.config.get_user(), pg.url.as_str()), (Some("other"), "postgres://other@db2.example.dk/team"));
        assert_eq!(pg.password.env.as_deref(), Some("PW"));
        // Alone, without [store]: loopback needs no TLS.
        let bare = settings("");
        let Location::Postgres(pg) = bare.store_location_with(Some("postgres://u@127.0.0.1:5433/t".into())).unwrap() else {
            panic!("PostgreSQL")
        };
        assert_eq!(pg.tls, Tls::LocalOnly);
        let err = bare.store_location_with(Some("postgres://u:pw@db.example.dk/t".into())).unwrap_err();
        assert!(err.message.starts_with("CERTMAIL_STORE_URL holds a password"), "{}", err.message);
        assert_eq!(err.field.as_deref(), Some("CERTMAIL_STORE_URL"));
        let err = bare.store_location_with(Some("postgres://u@db.example.dk/t?sslmode=disable".into())).unwrap_err();
        assert!(err.message.contains("CERTMAIL_STORE_URL") && err.message.contains("TLS"), "{}", err.message);
        // [store] without a url needs the variable.
        let err = settings("[store]\npassword-env = 'PW'\n").store_location_with(None).unwrap_err();
        assert!(err.message.contains("[store] url is missing"), "{}", err.message);
        assert_eq!(err.kind, crate::exit::FailureKind::Config);
        // A message too large for one bytea parameter is refused before any connection.
        let big = settings(
            "max-message-bytes = 300000000
[store]
url = 'postgres://u@127.0.0.1/t'
",
        );
        let err = big.store_location_with(None).unwrap_err();
        assert!(err.message.contains("config.toml: max-message-bytes is 300000000"), "{}", err.message);
        assert_eq!((err.kind, err.field.as_deref()), (crate::exit::FailureKind::Config, Some("max-message-bytes")));
        assert!(
            settings(
                "max-message-bytes = 300000000
"
            )
            .store_location_with(None)
            .is_ok(),
            "SQLite has no such bound"
        );
    }

    #[test]
    fn builtin_recipients_parse_and_pin_cfcs() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings { home: dir.path().into(), config_path: dir.path().join("c.toml"), file: ConfigFile::default() };
        let all = s.recipients().unwrap();
        let cfcs = &all["cfcs"];
        assert_eq!(cfcs.config.address, "cert@cert.cfcs.dk");
        assert_eq!(cfcs.pin, "2CE4 BA61 B873 B089 0BE9 4ED2 3CDA 6879 6740 E2CD");
        assert!(matches!(cfcs.cert, CertSource::Missing(_)));
        assert!(all["example-cert"].config.test_only);
        assert!(matches!(all["example-cert"].cert, CertSource::Embedded(_)));
    }
}
