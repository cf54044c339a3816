//! The OS keyring's success path against a real Secret Service: GNOME Keyring in a
//! private D-Bus session, its login keyring in a temporary folder. What
//! `certmail secrets set` stores there is what notify (the key's passphrase) and
//! delivery (the relay password) then use; a reachable keyring without the entry,
//! or with a wrong one, fails loudly and queues nothing it should not.

use std::path::Path;
use std::process::Command;

use crate::smtp::*;
use crate::support::*;

const INCIDENT: &str = "examples/voluntary-ransomware.toml";

/// What one step run inside the D-Bus session gave.
pub(crate) struct Step {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `steps` (each: certmail arguments and an optional line for its stdin) one
/// after another in one D-Bus session with an unlocked GNOME keyring, which ends
/// with them. Each step's output is kept apart.
pub(crate) fn in_keyring_session(env: &Env, steps: &[(&[&str], Option<&str>)]) -> Vec<Step> {
    require("dbus-run-session", "dbus-daemon");
    require("gnome-keyring-daemon", "gnome-keyring");
    let session = env.path("session");
    for d in ["home", "data", "cache", "runtime"] {
        std::fs::create_dir_all(session.join(d)).unwrap();
    }
    std::fs::set_permissions(session.join("runtime"), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let bin = env!("CARGO_BIN_EXE_certmail");
    // The keyring's own unlock password is not a certmail secret: a fixed test value.
    let mut script = String::from("printf 'test keyring' | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 90\n");
    for (i, (args, stdin)) in steps.iter().enumerate() {
        let quoted: Vec<String> = args.iter().map(|a| format!("'{}'", a.replace('\'', "'\\''"))).collect();
        let input = match stdin {
            Some(line) => format!("printf '%s\\n' '{}'", line.replace('\'', "'\\''")),
            None => "true".into(),
        };
        script.push_str(&format!(
            "{input} | '{bin}' {} >'{d}/out{i}' 2>'{d}/err{i}'; echo $? >'{d}/rc{i}'\n",
            quoted.join(" "),
            d = session.display()
        ));
    }
    let run = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .env("CERTMAIL_HOME", &env.home)
        .envs(env.store_url.iter().map(|u| ("CERTMAIL_STORE_URL", u)))
        .env("HOME", session.join("home"))
        .env("XDG_DATA_HOME", session.join("data"))
        .env("XDG_CACHE_HOME", session.join("cache"))
        .env("XDG_RUNTIME_DIR", session.join("runtime"))
        .env_remove("CERTMAIL_CONFIG")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("CM_TEST_SMTP_PASSWORD")
        .output()
        .expect("run dbus-run-session");
    assert!(run.status.success(), "the keyring session failed ({}): {}", run.status, text(&run.stderr));
    let read = |name: String| std::fs::read_to_string(session.join(name)).unwrap_or_default();
    (0..steps.len())
        .map(|i| Step {
            code: read(format!("rc{i}")).trim().parse().expect("each step ran"),
            stdout: read(format!("out{i}")),
            stderr: read(format!("err{i}")),
        })
        .collect()
}

/// A home whose key is protected by `passphrase` and whose configuration names no
/// passphrase source: the keyring is where it must come from.
pub fn env_with_protected_key(passphrase: &str) -> Env {
    let env = Env::with_key_behind_env_passphrase(passphrase);
    let config = std::fs::read_to_string(env.config_path()).unwrap().replace("passphrase-env = \"CM_TEST_PASSPHRASE\"\n", "");
    std::fs::write(env.config_path(), config).unwrap();
    env.add_recipient("test-cert", &cert_key().fingerprint, &cert_key().public);
    env
}

#[test]
fn the_key_passphrase_comes_from_the_os_keyring() {
    let env = env_with_protected_key("keyring horse");
    let steps = in_keyring_session(
        &env,
        &[
            (&["notify", INCIDENT], None),
            (&["secrets", "set", "identity"], Some("not the passphrase")),
            (&["notify", INCIDENT], None),
            (&["secrets", "set", "identity"], Some("keyring horse")),
            (&["notify", INCIDENT, "--json"], None),
        ],
    );
    // Reachable keyring, no entry: loud, names the entry and the fallbacks.
    assert_eq!(steps[0].code, 2, "{}", steps[0].stderr);
    assert!(steps[0].stderr.contains("has no entry certmail/identity:"), "{}", steps[0].stderr);
    assert!(steps[0].stderr.contains("passphrase-env"), "{}", steps[0].stderr);
    // A wrong passphrase in the keyring is found out, not queued.
    assert_eq!(steps[1].code, 0, "{}", steps[1].stderr);
    assert!(steps[1].stdout.contains("Stored in the OS keyring as certmail/identity:"), "{}", steps[1].stdout);
    assert_eq!(steps[2].code, 1, "{}", steps[2].stderr);
    assert!(steps[2].stderr.contains("passphrase does not unlock"), "{}", steps[2].stderr);
    // The right one, replacing it: the notification is signed and queued.
    assert_eq!(steps[3].code, 0, "{}", steps[3].stderr);
    assert_eq!(steps[4].code, 3, "{}", steps[4].stderr);
    let json: serde_json::Value = serde_json::from_str(&steps[4].stdout).unwrap();
    assert_eq!(json["state"], "queued");
    let listed = env.certmail(&["outbox", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["messages"].as_array().map(Vec::len), Some(1), "only the signed notification was queued");
    // No secret in any output.
    for s in &steps {
        assert!(!s.stdout.contains("keyring horse") && !s.stderr.contains("keyring horse"));
    }
}

#[test]
fn the_relay_password_comes_from_the_os_keyring() {
    let server = SmtpServer::start("starttls", "none");
    let env = Env::new();
    env.set_relay(server.port, "starttls", &tls().ca, 5);
    let config = std::fs::read_to_string(env.config_path()).unwrap().replace("password-env = \"CM_TEST_SMTP_PASSWORD\"\n", "");
    assert!(!config.contains("password-env"), "the relay's password must come from the keyring here");
    std::fs::write(env.config_path(), config).unwrap();
    // No keyring at all (no D-Bus session): queued for retry, loudly, nothing sent.
    let (first, _) = env.notify(Path::new(INCIDENT), &[]);
    assert_exit(&first, 1);
    assert!(text(&first.stdout).contains("queued for retry") && text(&first.stdout).contains("keyring"), "{}", text(&first.stdout));

    let steps = in_keyring_session(
        &env,
        &[
            (&["outbox", "flush", "--retry-now"], None),
            (&["secrets", "set", "smtp"], Some(SMTP_PASSWORD)),
            (&["outbox", "flush", "--retry-now", "--json"], None),
        ],
    );
    assert_ne!(steps[0].code, 0, "flushed without a password: {}", steps[0].stdout);
    let said = format!("{}{}", steps[0].stdout, steps[0].stderr);
    assert!(said.contains("has no entry certmail/smtp:") && said.contains("password-env"), "{said}");
    assert_eq!(steps[1].code, 0, "{}", steps[1].stderr);
    assert_eq!(steps[2].code, 0, "{}\n{}", steps[2].stdout, steps[2].stderr);
    assert!(eventually(|| !server.received().is_empty()), "the relay got the notification");
    assert_eq!(server.received().len(), 1, "once: the flush without a password sent nothing");
    // The relay requires AUTH and accepts only SMTP_USER with SMTP_PASSWORD, over TLS.
    assert!(server.auth_attempts().contains("tls=True"), "{}", server.auth_attempts());
}
