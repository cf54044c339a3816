//! Routing that matches the law, through the binary: an incident none of whose regimes
//! has CFCS receive the report is warned about before sending (the authority named
//! from the regimes table, the e-mail voluntary), on stderr and in `--json`'s
//! `warnings`, and is sent all the same; public authorities are reminded of CFCS'
//! FIIN address; a missing CFCS key names the S/MIME route CFCS' page gives.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

fn warnings(out: &std::process::Output) -> Vec<Value> {
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    json["warnings"].as_array().unwrap_or_else(|| panic!("no warnings array: {json}")).clone()
}

fn of_kind<'a>(list: &'a [Value], kind: &str) -> Vec<&'a str> {
    list.iter().filter(|w| w["kind"] == kind).map(|w| w["message"].as_str().unwrap()).collect()
}

#[test]
fn a_personal_data_only_incident_is_told_the_report_goes_to_datatilsynet_and_is_sent() {
    let env = Env::new();
    let (out, message) = env.notify(Path::new("examples/personal-data-breach.toml"), &["--json"]);
    assert_queued(&out);
    assert!(!message.is_empty(), "sent all the same");
    let list = warnings(&out);
    let routing = of_kind(&list, "routing");
    assert_eq!(routing.len(), 1, "{list:?}");
    for said in ["Virk.dk", "Datatilsynet", "voluntary", "CFCS does not receive it", "Example CERT"] {
        assert!(routing[0].contains(said), "{said:?} missing: {}", routing[0]);
    }
    let err = text(&out.stderr);
    assert!(err.contains("warning: the legal report under the GDPR") && err.contains("Datatilsynet"), "{err}");
    // Said before anything was queued.
    assert!(err.find("Datatilsynet").unwrap() < err.find("queued in the outbox").unwrap(), "{err}");

    // And in the text a person reads, the same words on stderr.
    let text_run = env.certmail(&["notify", "examples/personal-data-breach.toml", "--again"]);
    assert_queued(&text_run);
    assert!(text(&text_run.stderr).contains("goes via Virk.dk to the Danish Data Protection Agency (Datatilsynet)"));
}

#[test]
fn the_telecom_route_and_dora_name_their_authorities() {
    let env = Env::new();
    let telecom = std::fs::read_to_string("examples/personal-data-breach.toml")
        .unwrap()
        .replace("report-to = \"datatilsynet\"", "report-to = \"erhvervsstyrelsen\"");
    assert!(telecom.contains("erhvervsstyrelsen"), "the example names its route");
    let file = env.write("telecom.toml", &telecom);
    let out = env.certmail(&["preview", file.to_str().unwrap(), "--json"]);
    assert_success(&out);
    let routing = warnings(&out);
    assert!(of_kind(&routing, "routing").iter().any(|m| m.contains("Erhvervsstyrelsen")), "{routing:?}");

    let out = env.certmail(&["preview", "examples/bank-outage.toml", "--json"]);
    assert_success(&out);
    let list = warnings(&out);
    assert!(of_kind(&list, "routing").iter().any(|m| m.contains("Finanstilsynet") && m.contains("Virk.dk")), "{list:?}");
    assert!(text(&out.stderr).contains("Finanstilsynet"), "said on stderr too");
}

#[test]
fn an_incident_cfcs_receives_is_not_warned_about_routing() {
    let env = Env::new();
    // NIS2 and a personal data breach: CFCS is the CSIRT the NIS2 report reaches.
    let out = env.certmail(&["preview", "examples/hospital-ransomware.toml", "--json"]);
    assert_success(&out);
    assert!(of_kind(&warnings(&out), "routing").is_empty(), "{}", text(&out.stdout));
    let out = env.certmail(&["preview", "examples/voluntary-ransomware.toml", "--json"]);
    assert_success(&out);
    assert!(of_kind(&warnings(&out), "routing").is_empty());
}

#[test]
fn public_authorities_are_reminded_of_fiin() {
    let env = Env::new();
    let (out, _) = env.notify(Path::new("examples/public-authority-phishing.toml"), &["--json"]);
    assert_queued(&out);
    let list = warnings(&out);
    let reminder = of_kind(&list, "reminder");
    assert!(reminder.len() == 1 && reminder[0].contains("FIIN: FE-KTP-MILCERT"), "{list:?}");
    assert!(of_kind(&list, "routing").is_empty(), "CFCS receives a public authority's report");
    assert!(text(&out.stderr).contains("FE-KTP-MILCERT"));
}

#[test]
fn without_cfcs_key_the_s_mime_route_cfcs_offers_is_named() {
    let env = Env::bare();
    assert_success(&env.certmail(&[
        "init",
        "--name",
        "A B",
        "--email",
        "a@example.dk",
        "--org",
        "O",
        "--cvr",
        "13748136",
        "--phone",
        "12345678",
    ]));
    let out = env.certmail(&["notify", "examples/voluntary-ransomware.toml", "--json"]);
    assert_exit(&out, 2);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["kind"], "key_missing");
    let message = json["error"]["message"].as_str().unwrap();
    for said in ["S/MIME", "NemID", "søg efter cert@cert.cfcs.dk", "MitID Erhverv", "keys import-recipient", "+45 3332 5580"] {
        assert!(message.contains(said), "{said:?} missing: {message}");
    }
    assert!(text(&out.stderr).contains("S/MIME"), "said on stderr too");
    // preview says what notify would refuse, with the same route.
    let preview = env.certmail(&["preview", "examples/voluntary-ransomware.toml", "--json"]);
    assert_success(&preview);
    let json: Value = serde_json::from_slice(&preview.stdout).unwrap();
    assert!(json["key_problem"].as_str().unwrap().contains("NemID"), "{json}");
    // A recipient that offers no other route is not said to.
    env.add_recipient("test-cert", &cert_key().fingerprint, &env.path("not-installed.asc"));
    let out = env.certmail(&["notify", "examples/voluntary-ransomware.toml"]);
    assert_exit(&out, 2);
    assert!(!text(&out.stderr).contains("S/MIME"), "{}", text(&out.stderr));
}
