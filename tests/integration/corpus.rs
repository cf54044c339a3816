//! The blind reply corpus (tests/corpus/, written without reading the classifier or
//! ingest): genuine CERT replies in many wordings and MIME shapes from GnuPG, sq and
//! Python, replays, re-threadings, cross-organisation tags, case-number poisoning,
//! partial signatures and hostile mail, generated against three real notifications
//! and ingested one file at a time, in order. Every expectation must hold: the kind,
//! the whole-message signature verdict, the incident, whether it is bound, and
//! whether it changed the incident's state.

use std::path::Path;
use std::process::Command;

use crate::support::*;

#[test]
fn the_blind_corpus_is_read_as_the_cert_meant_it() {
    read_blind_corpus("tests/corpus/make_corpus.py", 60);
}

/// The second blind set (`wording`): receipts, questions, closures and reopenings as
/// ticketing systems and duty officers word them, every one signed and bound.
#[test]
fn the_blind_wording_corpus_is_read_as_the_cert_meant_it() {
    read_blind_corpus("tests/corpus/make_corpus_wordings.py", 45);
}

/// The held-out blind set, written after the classifier was last changed for the
/// wording set, by someone who saw neither: wordings of other CERTs, abbreviations,
/// numbered questions, hedged closures, forwarded and replayed receipts, delay notices.
#[test]
fn the_held_out_blind_corpus_is_read_as_the_cert_meant_it() {
    read_blind_corpus("tests/corpus/make_corpus_heldout.py", 35);
}

/// Generates a blind corpus against three fresh notifications and ingests it one file
/// at a time, in order, holding every case to its expectations.
fn read_blind_corpus(generator: &str, at_least: usize) {
    require("python3", "python3");
    require("sq", "sq");
    let env = Env::new();
    let mut incidents = Vec::new();
    for example in ["examples/voluntary-ransomware.toml", "examples/public-authority-phishing.toml", "examples/nis-operator-outage.toml"] {
        let (out, _) = env.notify(Path::new(example), &["--json"]);
        assert_queued(&out);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let reference = json["reference"].as_str().unwrap().to_string();
        incidents.push(serde_json::json!({
            "reference": reference,
            "message_id": json["message_id"],
            "title": example,
            "cleartext_subject": format!("[{reference}] Encrypted message"),
        }));
    }
    let gnupg = env.path("cert-gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    gpg_ok(&gnupg, &["--import", cert_key().secret.to_str().unwrap()]);
    kill_agent(&gnupg);
    let manifest = serde_json::json!({
        "cert_gnupg_home": gnupg,
        "cert_fingerprint": cert_key().fingerprint,
        "cert_address": CERT_ADDRESS,
        "reporter_public_key": env.reporter_public(),
        "reporter_address": "soc@example.dk",
        "incidents": incidents,
    });
    let manifest_file = env.write("manifest.json", &manifest.to_string());
    let out_dir = env.path("corpus");
    let made =
        Command::new("python3").arg(generator).arg("--manifest").arg(&manifest_file).arg("--out").arg(&out_dir).output().expect("python3");
    assert!(made.status.success(), "the corpus generator failed: {}", text(&made.stderr));
    let expected: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(out_dir.join("expected.json")).unwrap()).unwrap();
    assert!(expected.len() >= at_least, "the corpus is whole");

    let mut wrong = Vec::new();
    let mut per_set = std::collections::BTreeMap::<String, (usize, usize)>::new();
    for case in &expected {
        let file = out_dir.join(case["file"].as_str().unwrap());
        let out = env.certmail(&["ingest", file.to_str().unwrap(), "--json"]);
        let set = case["set"].as_str().unwrap_or("?").to_string();
        let tally = per_set.entry(set.clone()).or_default();
        tally.0 += 1;
        let got: serde_json::Value = match serde_json::from_slice(&out.stdout) {
            Ok(v) if out.status.success() => v,
            _ => {
                wrong.push(format!("{} [{set}]: ingest failed ({:?}): {}", case["file"], out.status.code(), text(&out.stderr)));
                continue;
            }
        };
        let mut problems = Vec::new();
        for key in ["kind", "signature", "incident", "bound"] {
            if got[key] != case[key] {
                problems.push(format!("{key}: expected {} got {}", case[key], got[key]));
            }
        }
        let changes = !case["state_change"].is_null();
        if got["state_changed"].as_bool() != Some(changes) {
            problems.push(format!("state change: expected {} got {}", case["state_change"], got["state_changed"]));
        }
        if problems.is_empty() {
            tally.1 += 1;
        } else {
            wrong.push(format!("{} [{set}] {}: {}", case["file"], case["description"], problems.join("; ")));
        }
    }
    let status: serde_json::Value = serde_json::from_slice(&env.certmail(&["status", "--json"]).stdout).unwrap();
    for incident in status["incidents"].as_array().unwrap() {
        assert!(incident["reference"].is_string() && incident["acknowledged"].is_boolean(), "{incident}");
    }
    assert!(wrong.is_empty(), "{} of {} cases wrong (right per set: {per_set:?}):\n{}", wrong.len(), expected.len(), wrong.join("\n"));
}
