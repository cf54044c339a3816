//! Recipient key checks before encryption (expired, revoked, pin mismatch, no
//! encryption subkey), `keys check` expiry warnings, and importing with pins.

use std::path::Path;
use std::time::{Duration, SystemTime};

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::serialize::SerializeInto;
use openpgp::types::ReasonForRevocation;

use crate::support::*;

const INCIDENT: &str = "examples/voluntary-ransomware.toml";
const USER_ID: &str = "Example CERT — test only <cert@example-cert.test>";

fn write_cert(env: &Env, name: &str, cert: &openpgp::Cert) -> std::path::PathBuf {
    let path = env.path(name);
    std::fs::write(&path, cert.armored().to_vec().unwrap()).unwrap();
    path
}

fn builder() -> CertBuilder<'static> {
    CertBuilder::new().set_cipher_suite(CipherSuite::Cv25519).add_userid(USER_ID)
}

/// Configures a recipient with this cert and checks notify refuses it, naming the
/// recipient, its fingerprint and phone, with nothing queued.
fn assert_refused(env: &Env, cert: &openpgp::Cert, pin: Option<&str>, expected: &str) {
    let path = write_cert(env, "bad-cert.asc", cert);
    let fingerprint = cert.fingerprint().to_hex();
    let pin = pin.unwrap_or(&fingerprint);
    env.add_recipient("bad-cert", pin, &path);
    let out = env.certmail(&["notify", INCIDENT, "--to", "bad-cert"]);
    assert_exit(&out, 1);
    let err = text(&out.stderr);
    for needle in [expected, "bad-cert", CERT_PHONE, "Nothing was queued", &certmail::crypto::pretty_fingerprint(pin)] {
        assert!(err.contains(needle), "missing {needle:?} in: {err}");
    }
    assert!(!env.has_store() || env.store().count_state("queued").unwrap() == 0);
}

#[test]
fn expired_recipient_key_is_refused() {
    let env = Env::new();
    let (cert, _) = builder()
        .set_creation_time(SystemTime::now() - Duration::from_secs(10 * 86400))
        .set_validity_period(Duration::from_secs(86400))
        .add_transport_encryption_subkey()
        .generate()
        .unwrap();
    assert_refused(&env, &cert, None, "expired");
}

#[test]
fn revoked_recipient_key_is_refused() {
    let env = Env::new();
    let (cert, _) = builder().add_transport_encryption_subkey().generate().unwrap();
    let mut signer = cert.primary_key().key().clone().parts_into_secret().unwrap().into_keypair().unwrap();
    let revocation = CertRevocationBuilder::new()
        .set_reason_for_revocation(ReasonForRevocation::KeyCompromised, b"test: key compromised")
        .unwrap()
        .build(&mut signer, &cert, None)
        .unwrap();
    let (revoked, _) = cert.insert_packets(revocation).unwrap();
    assert_refused(&env, &revoked.strip_secret_key_material(), None, "revoked");
}

#[test]
fn recipient_key_without_encryption_subkey_is_refused() {
    let env = Env::new();
    let (cert, _) = builder().add_signing_subkey().generate().unwrap();
    assert_refused(&env, &cert.strip_secret_key_material(), None, "no valid encryption-capable subkey");
}

#[test]
fn recipient_key_with_another_fingerprint_than_the_pin_is_refused() {
    let env = Env::new();
    let (cert, _) = builder().add_transport_encryption_subkey().generate().unwrap();
    assert_refused(
        &env,
        &cert.strip_secret_key_material(),
        Some("2CE4 BA61 B873 B089 0BE9 4ED2 3CDA 6879 6740 E2CD"),
        "does not match the pinned fingerprint",
    );
}

#[test]
fn keys_check_warns_thirty_days_before_expiry() {
    let env = Env::new();
    let (cert, _) = builder().set_validity_period(Duration::from_secs(10 * 86400)).add_transport_encryption_subkey().generate().unwrap();
    let fingerprint = cert.fingerprint().to_hex();
    let path = write_cert(&env, "soon.asc", &cert.strip_secret_key_material());
    env.add_recipient("soon", &fingerprint, &path);
    let out = env.certmail(&["keys", "check", "--json"]);
    // CFCS' key is not installed here, but it is not the default recipient: no failure.
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let soon = json["checks"].as_array().unwrap().iter().find(|c| c["what"] == "recipient soon").unwrap();
    assert_eq!(soon["status"], "expires-soon", "{json}");
    let test_cert = json["checks"].as_array().unwrap().iter().find(|c| c["what"] == "recipient test-cert").unwrap();
    assert_eq!(test_cert["status"], "ok");
    let cfcs = json["checks"].as_array().unwrap().iter().find(|c| c["what"] == "recipient cfcs").unwrap();
    assert_eq!(cfcs["status"], "not-installed");
    assert_eq!(json["ok"], true);
    assert!(
        text(&out.stderr).contains("expires in 9 day(s)") || text(&out.stderr).contains("expires in 10 day(s)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn keys_list_shows_the_cfcs_pin_and_phone() {
    let env = Env::new();
    let out = env.certmail(&["keys", "list", "--json"]);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cfcs = json["recipients"].as_array().unwrap().iter().find(|r| r["name"] == "cfcs").unwrap();
    assert_eq!(cfcs["pin"], "2CE4BA61B873B0890BE94ED23CDA68796740E2CD");
    assert_eq!(cfcs["phone"], "+45 3332 5580");
    assert_eq!(cfcs["address"], "cert@cert.cfcs.dk");
    assert_eq!(cfcs["installed"], false);
    let example = json["recipients"].as_array().unwrap().iter().find(|r| r["name"] == "example-cert").unwrap();
    assert_eq!(example["test_only"], true);
}

#[test]
fn import_recipient_checks_the_pin_and_re_pins_only_explicitly() {
    let env = Env::new();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(
        env.config_path(),
        format!("{config}\n[recipients.partner]\naddress = \"{CERT_ADDRESS}\"\nfingerprint = \"2CE4 BA61 B873 B089 0BE9 4ED2 3CDA 6879 6740 E2CD\"\nphone = \"+45 9999 0000\"\n"),
    )
    .unwrap();
    let key = cert_key();
    let file = key.public.to_str().unwrap();

    let refused = env.certmail(&["keys", "import-recipient", file, "--name", "partner"]);
    assert_exit(&refused, 1);
    let err = text(&refused.stderr);
    assert!(err.contains("Refused") && err.contains("+45 9999 0000") && err.contains("--re-pin"), "{err}");
    assert!(!env.home.join("recipients/partner.asc").exists());

    let wrong = env.certmail(&[
        "keys",
        "import-recipient",
        file,
        "--name",
        "partner",
        "--re-pin",
        "0000 0000 0000 0000 0000 0000 0000 0000 0000 0000",
    ]);
    assert_exit(&wrong, 2);

    let secret = env.certmail(&["keys", "import-recipient", key.secret.to_str().unwrap(), "--name", "partner"]);
    assert_exit(&secret, 2);
    assert!(text(&secret.stderr).contains("secret key"));

    let pretty = certmail::crypto::pretty_fingerprint(&key.fingerprint);
    let ok = env.certmail(&["keys", "import-recipient", file, "--name", "partner", "--re-pin", &pretty]);
    assert_success(&ok);
    assert!(text(&ok.stderr).contains("re-pinned"));
    assert!(env.home.join("recipients/partner.asc").exists());
    let (out, message) = env.notify(Path::new(INCIDENT), &["--to", "partner"]);
    assert_queued(&out);
    assert!(report_text(&gpg_decrypt(&env, &message).0).contains("Ransomware"));
}

#[test]
fn import_finds_the_recipient_by_its_pinned_fingerprint() {
    let env = Env::new();
    let key = cert_key();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(
        env.config_path(),
        format!("{config}\n[recipients.by-pin]\naddress = \"x@example-cert.test\"\nfingerprint = \"{}\"\n", key.fingerprint),
    )
    .unwrap();
    // test-cert has the same pin but a configured file; the first match by pin wins,
    // so name the recipient explicitly when two share a key.
    let out = env.certmail(&["keys", "import-recipient", key.public.to_str().unwrap(), "--name", "by-pin"]);
    assert_success(&out);
    assert!(text(&out.stdout).contains("Installed the key of 'by-pin'"));
}
