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
    let line = cvr_line(&text);
    assert!(err.contains(&format!("bad.toml:{line}:")) && err.contains("reporter.cvr") && err.contains("8 digits"), "{err}");
}

/// The line of the reporter's `cvr` in an incident file's text (the examples change).
fn cvr_line(text: &str) -> u64 {
    text.lines().position(|l| l.starts_with("cvr = ")).expect("a cvr line") as u64 + 1
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn cvr_warnings(out: &std::process::Output) -> Vec<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text_of(&out.stdout)));
    json["warnings"].as_array().unwrap().iter().filter(|w| w["kind"] == "cvr_check_digits").cloned().collect()
}

#[test]
fn a_cvr_failing_its_check_digits_is_warned_about_with_file_line_and_field_and_sent() {
    let env = home_with("13748136", "12345678", &[]);
    let text = std::fs::read_to_string(VOLUNTARY).unwrap().replace("[reporter]\n", "[reporter]\ncvr = \"DK 1234 5678\"\n");
    let file = env.write("incident.toml", &text);
    let (out, message) = env.notify(&file, &["--json"]);
    assert_queued(&out);
    let err = text_of(&out.stderr);
    let line = cvr_line(&text);
    assert!(err.contains(&format!("incident.toml:{line}:7: reporter.cvr: the CVR number fails its check digits")), "{err}");
    let list = cvr_warnings(&out);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        (list[0]["line"].as_u64(), list[0]["column"].as_u64(), list[0]["field"].as_str()),
        (Some(line), Some(7), Some("reporter.cvr"))
    );
    assert!(list[0]["file"].as_str().unwrap().ends_with("incident.toml"));
    let report = report_text(&gpg_decrypt(&env, &message).0);
    assert!(report.contains("CVR: 12345678\n"), "sent as the file says, in its one form: {report}");

    // preview says it too; a CVR whose digits hold is not doubted.
    let out = env.certmail(&["preview", file.to_str().unwrap(), "--json"]);
    assert_success(&out);
    assert_eq!(cvr_warnings(&out).len(), 1);
    let out = env.certmail(&["preview", VOLUNTARY, "--json"]);
    assert_success(&out);
    assert!(cvr_warnings(&out).is_empty(), "{}", text_of(&out.stdout));
}

#[test]
fn the_identity_s_cvr_is_warned_about_in_the_configuration_where_it_is_written() {
    let env = Env::bare();
    let init =
        env.certmail(&["init", "--name", "A B", "--email", "a@example.dk", "--org", "O", "--cvr", "DK 12 34 56 78", "--phone", "12345678"]);
    assert_success(&init);
    assert!(text_of(&init.stderr).contains("--cvr: the CVR number fails its check digits"), "{}", text_of(&init.stderr));
    let again = env.certmail(&["init", "--force", "--json", "--cvr", "12345678"]);
    assert_success(&again);
    let json: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((json["warnings"][0]["kind"].as_str(), json["warnings"][0]["field"].as_str()), (Some("cvr_check_digits"), Some("--cvr")));
    env.add_recipient("test-cert", &cert_key().fingerprint, &cert_key().public);
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let line = config.lines().position(|l| l.starts_with("cvr = ")).unwrap() + 1;
    let out = env.certmail(&["preview", VOLUNTARY, "--json"]);
    assert_success(&out);
    let list = cvr_warnings(&out);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["file"].as_str(), Some(env.config_path().to_str().unwrap()));
    assert_eq!((list[0]["line"].as_u64(), list[0]["field"].as_str()), (Some(line as u64), Some("identity.cvr")));
    let text_run = env.certmail(&["notify", VOLUNTARY]);
    assert_queued(&text_run);
    let expected = format!("config.toml:{line}:7: identity.cvr: the CVR number fails its check digits");
    assert!(text_of(&text_run.stderr).contains(&expected), "{expected}: {}", text_of(&text_run.stderr));
}

#[test]
fn a_follow_up_writing_the_same_number_another_way_changes_nothing() {
    let env = home_with("13748136", "+45 11 22 33 44", &[]);
    let (first, _) = env.notify(Path::new(VOLUNTARY), &["--json"]);
    assert_queued(&first);
    let json: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let reference = json["reference"].as_str().unwrap();
    let same = env.write("same.toml", "[reporter]\nphone = \"0045 11223344\"\ncvr = \"DK 1374 8136\"\n");
    let out = env.certmail(&["notify", same.to_str().unwrap(), "--follow-up", reference]);
    assert_exit(&out, 2);
    assert!(text_of(&out.stderr).contains("changes nothing"), "{}", text_of(&out.stderr));
}

#[test]
fn a_reply_shows_the_phone_of_a_hand_written_configuration_in_its_one_form() {
    let env = home_with("13748136", "+45 11 22 33 44", &[]);
    let (first, _) = env.notify(Path::new(VOLUNTARY), &["--json"]);
    assert_queued(&first);
    let json: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let reference = json["reference"].as_str().unwrap();
    let config = std::fs::read_to_string(env.config_path()).unwrap().replace("phone = \"+45 11 22 33 44\"", "phone = \"0045 11223344\"");
    std::fs::write(env.config_path(), config).unwrap();
    let answer = env.write("answer.txt", "Vi har lukket porten.\n");
    let out = env.path("reply.eml");
    let sent = env.certmail(&["reply", reference, "--text", answer.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_queued(&sent);
    let body = report_text(&gpg_decrypt(&env, &std::fs::read(&out).unwrap()).0);
    assert!(body.contains("+45 11 22 33 44") && !body.contains("0045"), "{body}");
}

fn doctor_contact(env: &Env) -> serde_json::Value {
    let out = env.certmail(&["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text_of(&out.stdout)));
    report["checks"].as_array().unwrap().iter().find(|c| c["name"] == "identity contact").cloned().expect("an identity contact check")
}

#[test]
fn doctor_checks_the_identity_s_cvr_and_phone_as_notify_will() {
    let good = home_with("13748136", "0045 11223344", &[]);
    let check = doctor_contact(&good);
    assert_eq!((check["status"].as_str(), check["message"].as_str()), (Some("ok"), Some("CVR 13748136, phone +45 11 22 33 44")));
    let doubted = home_with("12345678", "11223344", &[]);
    let check = doctor_contact(&doubted);
    assert_eq!(check["status"], "warning", "{check}");
    assert!(check["message"].as_str().unwrap().contains("check digits"), "{check}");
    // A number hand-written wrong in the configuration is what every notify would refuse.
    let config = std::fs::read_to_string(good.config_path()).unwrap().replace("+45 11 22 33 44", "1122334");
    std::fs::write(good.config_path(), config).unwrap();
    let check = doctor_contact(&good);
    assert_eq!(check["status"], "error", "{check}");
    assert!(check["message"].as_str().unwrap().starts_with("[identity] phone: a Danish phone number of 8 digits"), "{check}");
}
