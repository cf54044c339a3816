//! What a CFCS analyst reads, end to end: the TLP marking as the report's first line
//! and never in cleartext, Danish times and numbers as sent, and bad markings refused
//! with the file, line and field (exit 2).

use std::path::Path;

use crate::support::*;

const VOLUNTARY: &str = "examples/voluntary-ransomware.toml";
/// The voluntary example with three indicators.
const WITH_INDICATORS: &str = "tests/fixtures/golden/voluntary-indicators.toml";

#[test]
fn the_tlp_marking_is_the_first_line_inside_the_encryption_and_nowhere_outside() {
    let env = Env::new();
    let (out, message) = env.notify(Path::new(VOLUNTARY), &[]);
    assert_queued(&out);
    // Outside the ciphertext: its armor is random base64, which holds "TLP" about once
    // in a hundred messages.
    let envelope = text(&message).replace(&armored_part(&message), "");
    let outside = [envelope, text(&out.stdout), text(&out.stderr)].join("\n");
    assert!(!outside.contains("TLP"), "the marking travels only inside the encryption:\n{outside}");
    let (inner, _) = gpg_decrypt(&env, &message);
    let report = report_text(&inner);
    assert!(report.starts_with("TLP:AMBER\n\n"), "{report}");
    // The Danish report shows Danish time and separators, as sent.
    assert!(report.contains("Tidspunkt for hændelsens konstatering: 20.11.2026 kl. 06:40"), "{report}");
    assert!(!report.contains("+01:00") && !report.contains(" UTC"), "{report}");
}

#[test]
fn a_marking_the_standard_does_not_have_is_refused_naming_the_line() {
    let env = Env::new();
    let original = std::fs::read_to_string(VOLUNTARY).unwrap();
    let file = env.write("incident.toml", &original.replace("tlp = \"TLP:AMBER\"", "tlp = \"TLP:WHITE\""));
    let line = original.lines().position(|l| l.starts_with("tlp = ")).unwrap() + 1;
    let out = env.certmail(&["preview", file.to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    assert!(err.contains(&format!("incident.toml:{line}:7: tlp: `TLP:WHITE` is not a choice here")), "{err}");
    assert!(err.contains("TLP:AMBER+STRICT"), "the choices are listed: {err}");
    let near = env.write("near.toml", &original.replace("tlp = \"TLP:AMBER\"", "tlp = \"tlp:amber+strict\""));
    let err = text(&env.certmail(&["preview", near.to_str().unwrap()]).stderr);
    assert!(err.contains("did you mean `TLP:AMBER+STRICT`?"), "{err}");
}

/// The attachment `name` of a decrypted inner entity: its part's headers and its
/// bytes, base64-decoded.
fn part(inner: &str, name: &str) -> (String, Vec<u8>) {
    use base64::Engine;
    let start = inner.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no part {name}"));
    let head_start = inner[..start].rfind("\r\n--").unwrap();
    let rest = &inner[head_start..];
    let (head, body) = rest.split_once("\r\n\r\n").unwrap();
    let body = &body[..body.find("\r\n--").unwrap()];
    (head.to_string(), base64::engine::general_purpose::STANDARD.decode(body.replace("\r\n", "")).unwrap())
}

#[test]
fn the_indicators_are_listed_and_attached_as_csv_that_gnupg_decrypts_and_verifies() {
    let env = Env::new();
    let iocs = env.write("notes.txt", "more\n");
    let (out, message) = env.notify(Path::new(WITH_INDICATORS), &["--attach", iocs.to_str().unwrap()]);
    assert_queued(&out);
    assert!(!text(&message).contains("185.220.101.7"), "indicators travel only inside the encryption");
    let (inner, status) = gpg_decrypt(&env, &message);
    assert!(status.contains("[GNUPG:] DECRYPTION_OKAY") && status.contains("[GNUPG:] GOODSIG"), "{status}");
    let inner = text(&inner);
    let (head, csv) = part(&inner, "indicators.csv");
    assert!(head.contains("Content-Type: text/csv; charset=utf-8; name=\"indicators.csv\""), "{head}");
    assert!(head.contains("Content-Disposition: attachment; filename=\"indicators.csv\""), "{head}");
    assert_eq!(
        text(&csv),
        "type,value,note\r\n\
         ip,185.220.101.7,\"Login på VPN-kontoen, 20.11 kl. 02:10\"\r\n\
         domain,update-check.example.net,\"C2, kontaktet fra FS01\"\r\n\
         hash,e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,\"Krypteringsprogrammet (locker.exe), SHA-256\"\r\n"
    );
    // The file given with --attach is there too, before the CSV.
    assert!(inner.find("filename=\"notes.txt\"").unwrap() < inner.find("filename=\"indicators.csv\"").unwrap());
    let report = report_text(inner.as_bytes());
    assert!(report.contains("== Indikatorer (IoC'er) ==\n  - IP-adresse: 185.220.101.7\n    Login på VPN-kontoen"), "{report}");
    assert!(report.contains("  - Filhash (SHA-256): e3b0c442"), "{report}");
}

#[test]
fn each_indicator_is_checked_by_its_type_and_named_with_its_line() {
    let env = Env::new();
    let original = std::fs::read_to_string(WITH_INDICATORS).unwrap();
    let broken = original
        .replace("value = \"185.220.101.7\"", "value = \"185.220.101.300\"")
        .replace("type = \"domain\"", "typ = \"domain\"")
        .replace("value = \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"", "value = \"e3b0c442\"")
        + "\n[[indicators]]\ntype = \"url\"\nvalue = \"hxxp://evil.example.net/x\"\n";
    let file = env.write("incident.toml", &broken);
    let line = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let out = env.certmail(&["preview", file.to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    for expected in [
        format!("incident.toml:{}:9: indicators[0].value: an IPv4 or IPv6 address", line("185.220.101.300")),
        format!("incident.toml:{}:1: indicators[1].typ: unknown field `typ` in [indicators[1]]; did you mean `type`?", line("typ = ")),
        format!(
            "incident.toml:{}:9: indicators[2].value: an MD5 (32 hex digits), SHA-1 (40) or SHA-256 (64) hash; this one has 8",
            line("\"e3b0c442\"")
        ),
        format!("incident.toml:{}:9: indicators[3].value: the indicator as it is, not defanged", line("hxxp")),
    ] {
        assert!(err.contains(&expected), "{expected:?} missing:\n{err}");
    }
    // The unknown key is what is wrong with the second one: it is not also said to lack a type.
    assert!(!err.contains("indicators[1].type"), "{err}");
    let json = env.certmail(&["preview", file.to_str().unwrap(), "--json"]);
    assert_exit(&json, 2);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let fields: Vec<&str> = v["error"]["problems"].as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["indicators[0].value", "indicators[1].typ", "indicators[2].value", "indicators[3].value"]);
}

#[test]
fn the_skeleton_offers_the_marking_and_a_commented_indicator_that_works_uncommented() {
    let env = Env::new();
    for lang in ["da", "en"] {
        let skeleton = text(&env.certmail(&["new", "voluntary", "--lang", lang]).stdout);
        assert!(
            skeleton.contains("\n# tlp = \"<choose from the list above>\"\n")
                || skeleton.contains("\n# tlp = \"<vælg fra listen ovenfor>\"\n")
        );
        assert!(skeleton.contains("#   TLP:AMBER+STRICT  "), "{skeleton}");
        let example: String = skeleton
            .split("\n# [[indicators]]\n")
            .nth(1)
            .unwrap_or_else(|| panic!("no commented [[indicators]] in:\n{skeleton}"))
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap()))
            .collect();
        let original = std::fs::read_to_string(VOLUNTARY).unwrap();
        let file = env.write(&format!("{lang}.toml"), &format!("{original}\n[[indicators]]\n{example}"));
        let out = env.certmail(&["preview", file.to_str().unwrap()]);
        assert_success(&out);
        assert!(text(&out.stdout).contains("203.0.113.7"), "{}", text(&out.stdout));
    }
}
