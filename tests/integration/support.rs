//! Test harness: a throwaway certmail home with a reporter identity, a throwaway
//! "Example CERT — test only" key made by GnuPG, and helpers to run certmail, GnuPG
//! and sq and to take messages apart.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub const CERT_ADDRESS: &str = "cert@example-cert.test";
pub const CERT_PHONE: &str = "+45 1234 5678";

/// Fails loudly (never skips) when a tool the suite needs is missing.
pub fn require(tool: &str, package: &str) {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().map(|o| o.status.success()).unwrap_or(false);
    assert!(found, "`{tool}` is required by the test suite: install Debian's `{package}` (scripts/test does it)");
}

/// The reporter identity used by tests that call the library directly.
pub fn test_identity() -> certmail::config::IdentityConfig {
    certmail::config::IdentityConfig {
        name: "Jens Ærø".into(),
        email: "soc@example.dk".into(),
        organisation: "Eksempel A/S".into(),
        cvr: "12345678".into(),
        phone: Some("+45 11 22 33 44".into()),
        ..Default::default()
    }
}

/// The CERT's throwaway key, made once per test run with GnuPG.
pub struct CertKey {
    pub fingerprint: String,
    pub public: PathBuf,
    pub secret: PathBuf,
    _dir: tempfile::TempDir,
}

pub fn cert_key() -> &'static CertKey {
    static KEY: OnceLock<CertKey> = OnceLock::new();
    KEY.get_or_init(|| CertKey::generate("Example CERT — test only <cert@example-cert.test>"))
}

impl CertKey {
    /// A CERT's throwaway key (no passphrase), made with GnuPG.
    pub fn generate(user_id: &str) -> CertKey {
        require("gpg", "gnupg");
        let dir = tempfile::tempdir().unwrap();
        let gnupg = dir.path().join("gnupg");
        std::fs::create_dir_all(&gnupg).unwrap();
        let fingerprint = gpg_generate(&gnupg, user_id);
        let public = dir.path().join("cert.asc");
        let secret = dir.path().join("cert-secret.asc");
        std::fs::write(&public, gpg(&gnupg, &["--armor", "--export", &fingerprint]).stdout).unwrap();
        std::fs::write(&secret, gpg(&gnupg, &["--armor", "--export-secret-keys", &fingerprint]).stdout).unwrap();
        kill_agent(&gnupg);
        CertKey { fingerprint, public, secret, _dir: dir }
    }
}

/// Generates an Ed25519 + Cv25519 key without passphrase; returns its fingerprint.
pub fn gpg_generate(gnupg: &Path, user_id: &str) -> String {
    gpg_generate_with(gnupg, user_id, "")
}

/// Generates an Ed25519 key with Cv25519 encryption and Ed25519 signing subkeys,
/// protected by `passphrase` (none if empty); returns its fingerprint.
pub fn gpg_generate_with(gnupg: &Path, user_id: &str, passphrase: &str) -> String {
    gpg_ok(
        gnupg,
        &["--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase, "--quick-gen-key", user_id, "ed25519", "cert", "never"],
    );
    let listing = gpg_ok(gnupg, &["--with-colons", "--list-secret-keys", user_id]);
    let fingerprint =
        String::from_utf8(listing.stdout).unwrap().lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_string();
    for (algo, usage) in [("cv25519", "encr"), ("ed25519", "sign")] {
        // An encryption subkey for notifications, a signing subkey for replies.
        gpg_ok(
            gnupg,
            &["--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase, "--quick-add-key", &fingerprint, algo, usage, "never"],
        );
    }
    fingerprint
}

pub fn gpg(gnupg: &Path, args: &[&str]) -> Output {
    Command::new("gpg")
        .arg("--homedir")
        .arg(gnupg)
        .args(["--batch", "--no-tty", "--quiet"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run gpg")
}

pub fn gpg_ok(gnupg: &Path, args: &[&str]) -> Output {
    let out = gpg(gnupg, args);
    assert!(out.status.success(), "gpg {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

pub fn kill_agent(gnupg: &Path) {
    let _ = Command::new("gpgconf").arg("--homedir").arg(gnupg).args(["--kill", "all"]).output();
}

/// Whether the suite runs on PostgreSQL (`CERTMAIL_TEST_STORE=postgres`, the second
/// run of scripts/test): each home then keeps its store in a database of its own on
/// the suite's server (tests/integration/pg.rs) instead of its SQLite file.
pub fn on_postgres() -> bool {
    match std::env::var("CERTMAIL_TEST_STORE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Ok("") | Err(_) => false,
        Ok(other) => panic!("CERTMAIL_TEST_STORE={other}: say postgres or sqlite"),
    }
}

/// A certmail home with an identity and the test CERT configured as `test-cert`.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    /// On PostgreSQL: the home's own database, given to every command as
    /// `CERTMAIL_STORE_URL` unless the home's config has a `[store]` of its own.
    pub store_url: Option<String>,
}

impl Env {
    pub fn new() -> Env {
        let env = Env::bare();
        let out = env.certmail(&[
            "init",
            "--name",
            "Jens Ærø",
            "--email",
            "soc@example.dk",
            "--org",
            "Eksempel A/S",
            "--cvr",
            "12345678",
            "--phone",
            "+45 11 22 33 44",
        ]);
        assert_success(&out);
        env.add_recipient("test-cert", &cert_key().fingerprint, &cert_key().public);
        env
    }

    /// A home made by `init` whose key is protected by `passphrase`, read from
    /// CM_TEST_PASSPHRASE (`passphrase-env` in the configuration); no recipient yet.
    pub fn with_key_behind_env_passphrase(passphrase: &str) -> Env {
        let env = Env::bare();
        std::fs::create_dir_all(&env.home).unwrap();
        std::fs::write(env.config_path(), "[identity]\npassphrase-env = \"CM_TEST_PASSPHRASE\"\n").unwrap();
        let init = env
            .command()
            .env("CM_TEST_PASSPHRASE", passphrase)
            .args(["init", "--name", "A B", "--email", "a@example.dk", "--org", "O", "--cvr", "12345678", "--phone", "12345678"])
            .output()
            .unwrap();
        assert_success(&init);
        env
    }

    /// A home with nothing in it.
    pub fn bare() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let store_url = on_postgres().then(|| crate::pg::database("home").url);
        Env { dir, home, store_url }
    }

    /// Another machine of the same team: a home of its own (made by `init`, with the
    /// test CERT) on this home's PostgreSQL database.
    pub fn same_store(&self) -> Env {
        let mut other = Env::new();
        other.store_url = self.store_url.clone();
        other
    }

    /// The store's location, as the commands find it.
    pub fn location(&self) -> certmail::store::target::Location {
        use certmail::store::target;
        match &self.store_url {
            None => target::Location::Sqlite(self.home.join("certmail.sqlite")),
            Some(url) => {
                let checked = target::check_url(url).unwrap();
                let tls = target::tls_for(&checked, None).unwrap();
                target::Location::Postgres(Box::new(target::Postgres {
                    url: url.clone(),
                    config: checked.config,
                    tls,
                    password: Default::default(),
                }))
            }
        }
    }

    /// The home's store, opened as a command opens it (as no writer: the events it
    /// appends name none).
    pub fn store(&self) -> certmail::store::Store {
        certmail::store::Store::open_at(&self.location(), "test", Default::default()).unwrap()
    }

    /// Whether the home has a store yet (a PostgreSQL one always has).
    pub fn has_store(&self) -> bool {
        self.store_url.is_some() || self.home.join("certmail.sqlite").exists()
    }

    /// A raw connection to the home's store, behind certmail's back (as someone with
    /// the database would change it): one statement text on either engine.
    pub fn raw_db(&self) -> certmail::store::sql::Engine {
        use certmail::store::sql::{Engine, PgConnection};
        match &self.store_url {
            None => Engine::Sqlite(rusqlite::Connection::open(self.home.join("certmail.sqlite")).unwrap()),
            Some(url) => {
                let config: postgres::Config = url.parse().unwrap();
                Engine::Postgres(Box::new(PgConnection::new(config.connect(postgres::NoTls).unwrap())))
            }
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.home.join("config.toml")
    }

    /// Adds `[recipients.NAME]` and makes it the default recipient.
    pub fn add_recipient(&self, name: &str, fingerprint: &str, cert: &Path) {
        let config = std::fs::read_to_string(self.config_path()).unwrap();
        let config: String = config.lines().filter(|l| !l.starts_with("default-recipient")).map(|l| format!("{l}\n")).collect();
        let config = format!(
            "default-recipient = \"{name}\"\n{config}\n[recipients.{name}]\nname = \"Example CERT — test only\"\naddress = \"{CERT_ADDRESS}\"\nfingerprint = \"{fingerprint}\"\nphone = \"{CERT_PHONE}\"\ncert = \"{}\"\ntest-only = true\n",
            cert.display()
        );
        std::fs::write(self.config_path(), config).unwrap();
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_certmail"));
        cmd.env("CERTMAIL_HOME", &self.home)
            .env_remove("CERTMAIL_CONFIG")
            .env("CM_TEST_SMTP_PASSWORD", crate::smtp::SMTP_PASSWORD)
            .env_remove("CERTMAIL_STORE_URL")
            .stdin(Stdio::null());
        if let Some(url) = &self.store_url {
            let own = std::fs::read_to_string(self.config_path()).is_ok_and(|c| c.lines().any(|l| l.trim() == "[store]"));
            if !own {
                cmd.env("CERTMAIL_STORE_URL", url);
            }
        }
        cmd
    }

    pub fn certmail(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run certmail")
    }

    pub fn certmail_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self.command().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Runs notify with --out and returns (output, message bytes).
    pub fn notify(&self, incident: &Path, extra: &[&str]) -> (Output, Vec<u8>) {
        let out_file = self.path(&format!("sent-{}.eml", rand_suffix()));
        let mut args = vec!["notify", incident.to_str().unwrap(), "--out", out_file.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = self.certmail(&args);
        let bytes = std::fs::read(&out_file).unwrap_or_default();
        (out, bytes)
    }

    pub fn reporter_public(&self) -> PathBuf {
        self.home.join("identity/public.asc")
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "certmail failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Notify without a relay: queued in the outbox, exit 3.
pub fn assert_queued(out: &Output) {
    assert_exit(out, 3);
    assert!(text(&out.stdout).contains("queued") || text(&out.stdout).contains("\"state\":\"queued\""), "{}", text(&out.stdout));
}

pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The armored OpenPGP message inside an RFC 3156 message.
pub fn armored_part(message: &[u8]) -> String {
    let t = text(message);
    let start = t.find("-----BEGIN PGP MESSAGE-----").expect("no PGP message");
    let end = t.find("-----END PGP MESSAGE-----").expect("no end of PGP message") + "-----END PGP MESSAGE-----".len();
    t[start..end].to_string()
}

/// Decrypts and verifies with GnuPG, holding only the CERT's secret key and the
/// reporter's public key. Returns the inner entity and GnuPG's status lines.
pub fn gpg_decrypt(env: &Env, message: &[u8]) -> (Vec<u8>, String) {
    gpg_try_decrypt(env, message, &cert_key().secret).unwrap_or_else(|e| panic!("gpg --decrypt failed: {e}"))
}

/// Decrypts with GnuPG holding only `secret` (a recipient's secret key) and the
/// reporter's public key; the error is GnuPG's stderr.
pub fn gpg_try_decrypt(env: &Env, message: &[u8], secret: &Path) -> Result<(Vec<u8>, String), String> {
    // A GnuPG home per key (its folder's name is unique), holding only that key.
    let folder = secret.parent().and_then(|p| p.file_name()).unwrap_or_default().to_string_lossy().into_owned();
    let gnupg = env.path(&format!("gnupg-{folder}"));
    std::fs::create_dir_all(&gnupg).unwrap();
    gpg_ok(&gnupg, &["--import", secret.to_str().unwrap(), env.reporter_public().to_str().unwrap()]);
    let armored = env.path("message.asc");
    std::fs::write(&armored, armored_part(message)).unwrap();
    let out = gpg(&gnupg, &["--status-fd", "2", "--decrypt", armored.to_str().unwrap()]);
    kill_agent(&gnupg);
    if out.status.success() { Ok((out.stdout, text(&out.stderr))) } else { Err(text(&out.stderr)) }
}

/// Decrypts and verifies with Debian's `sq`.
pub fn sq_decrypt(env: &Env, message: &[u8], secret_key: &Path) -> Vec<u8> {
    sq_try_decrypt(env, message, secret_key).unwrap_or_else(|e| panic!("sq decrypt failed: {e}"))
}

/// Decrypts with `sq`, requiring a good signature by the reporter; the error is sq's stderr.
pub fn sq_try_decrypt(env: &Env, message: &[u8], secret_key: &Path) -> Result<Vec<u8>, String> {
    require("sq", "sq");
    let armored = env.path("message-sq.asc");
    std::fs::write(&armored, armored_part(message)).unwrap();
    let out = Command::new("sq")
        .args(["decrypt", "--recipient-key"])
        .arg(secret_key)
        .arg("--signer-cert")
        .arg(env.reporter_public())
        .arg(&armored)
        .output()
        .unwrap();
    if out.status.success() { Ok(out.stdout) } else { Err(text(&out.stderr)) }
}

/// Decodes quoted-printable text (soft line breaks, =XX escapes).
pub fn qp_decode(text: &str) -> String {
    let mut out = Vec::new();
    let bytes = text.replace("=\r\n", "").into_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap().replace("\r\n", "\n")
}

/// The decoded text/plain report from a decrypted inner entity.
pub fn report_text(inner: &[u8]) -> String {
    let t = text(inner);
    let start = t.find("Content-Transfer-Encoding: quoted-printable\r\n\r\n").expect("no text part")
        + "Content-Transfer-Encoding: quoted-printable\r\n\r\n".len();
    let rest = &t[start..];
    let end = rest.find("\r\n--=_certmail_inner_").unwrap_or(rest.len());
    qp_decode(&rest[..end])
}
