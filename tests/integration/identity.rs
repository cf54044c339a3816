//! Identity fields as people write them, end to end: a foreign phone `init` accepted is
//! carried into every notification (and marked foreign in the report), Danish numbers
//! written with 0045, +45 or neither are one number shown one way, and a CVR written
//! with spaces or a DK prefix is eight digits, warned about (never refused) when its
//! check digits fail.

use std::path::Path;

use crate::support::*;

const VOLUNTARY: &str = "examples/voluntary-ransomware.toml";

/// A home made by `init` with these contact details, the test CERT its default.
fn home_with(cvr: &str, phone: &str, extra: &[&str]) -> Env {
    let env = Env::bare();
    let mut args = vec!["init", "--name", "A B", "--email", "a@example.dk", "--org", "O", "--cvr", cvr, "--phone", phone];
    args.extend_from_slice(extra);
    assert_success(&env.certmail(&args));
    env.add_recipient("test-cert", &cert_key().fingerprint, &cert_key().public);
    env
}

#[test]
fn a_foreign_phone_init_accepted_is_carried_into_every_notification() {
    let env = home_with("13748136", "+46 8 123 456 78", &[]);
    let (out, message) = env.notify(Path::new(VOLUNTARY), &[]);
    assert_queued(&out);
    let report = report_text(&gpg_decrypt(&env, &message).0);
    assert!(report.contains("+46 8 123 456 78 (udenlandsk nummer)"), "{report}");
}

#[test]
fn init_with_foreign_phone_marks_a_number_without_country_code() {
    let env = home_with("13748136", "212 555 0100", &["--foreign-phone"]);
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(config.contains("phone = \"212 555 0100\"") && config.contains("foreign-phone = true"), "{config}");
    let (out, message) = env.notify(Path::new(VOLUNTARY), &["--lang", "en"]);
    assert_queued(&out);
    let report = report_text(&gpg_decrypt(&env, &message).0);
    assert!(report.contains("212 555 0100 (foreign number)"), "{report}");
}

#[test]
fn danish_numbers_written_any_way_are_shown_one_way() {
    for written in ["0045 12 34 56 78", "+45 12345678", "12 34 56 78"] {
        let env = home_with("13748136", written, &[]);
        let config = std::fs::read_to_string(env.config_path()).unwrap();
        assert!(config.contains("phone = \"+45 12 34 56 78\"") && !config.contains("foreign-phone"), "{written}: {config}");
        let (out, message) = env.notify(Path::new(VOLUNTARY), &[]);
        assert_queued(&out);
        let report = report_text(&gpg_decrypt(&env, &message).0);
        assert!(report.contains("Telefon: +45 12 34 56 78\n"), "{written}: {report}");
    }
    // Written so in the incident file itself, too (and the DPO's).
    let env = home_with("13748136", "+45 11 22 33 44", &[]);
    let text = std::fs::read_to_string("examples/personal-data-breach.toml")
        .unwrap()
        .replace("foreign-phone = false\n", "foreign-phone = false\nphone = \"0045 87654321\"\n")
        .replace("phone = \"+45 87 65 43 21\"", "phone = \"87 65 43 21\"");
    let file = env.write("incident.toml", &text);
    let (out, message) = env.notify(&file, &[]);
    assert_queued(&out);
    let report = report_text(&gpg_decrypt(&env, &message).0);
    assert_eq!(report.matches("+45 87 65 43 21").count(), 2, "{report}");
    assert!(!report.contains("0045"), "{report}");
}

#[test]
fn cvr_with_spaces_or_dk_prefix_is_eight_digits_everywhere() {
    let env = home_with("DK 13 74 81 36", "12345678", &[]);
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(config.contains("cvr = \"13748136\""), "{config}");
    let text = std::fs::read_to_string(VOLUNTARY).unwrap().replace("[reporter]\n", "[reporter]\ncvr = \"2918 9900\"\n");
    let file = env.write("incident.toml", &text);
    let (out, message) = env.notify(&file, &[]);
    assert_queued(&out);
    let report = report_text(&gpg_decrypt(&env, &message).0);
    assert!(report.contains("CVR: 29189900\n"), "{report}");
    // A CVR that is not eight digits is still refused, naming file, line and field.
    let bad = env.write("bad.toml", &text.replace("2918 9900", "DK 2918 990"));
    let out = env.certmail(&["notify", bad.to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = text_of(&out.stderr);
    assert!(err.contains("bad.toml:8:") && err.contains("reporter.cvr") && err.contains("8 digits"), "{err}");
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
