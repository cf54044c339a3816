//! One contract for scripts: every command takes `--json`, and with it any failure
//! is one JSON object on stdout, `{"error": {"kind", "message", "field"?, ...}}`, with
//! the exit code the README's table gives that kind, the same as without `--json`.

use std::process::Output;

use certmail::exit::FailureKind;

use crate::support::*;

const INCIDENT: &str = "examples/voluntary-ransomware.toml";

/// The documented exit code of an error kind.
fn code_of(kind: &str) -> i32 {
    FailureKind::ALL.iter().find(|k| k.key() == kind).map(|k| k.exit_code() as i32).unwrap_or_else(|| panic!("undocumented kind {kind}"))
}

/// stdout is exactly one JSON object with `error.kind == kind`; the exit code is
/// that kind's, and the same without --json. Returns the object.
#[track_caller]
fn json_failure(env: &Env, args: &[&str], kind: &str) -> serde_json::Value {
    let mut with = args.to_vec();
    with.push("--json");
    let out = env.certmail(&with);
    let value = one_object(&out);
    assert_eq!(value["error"]["kind"], kind, "{args:?}: {value}");
    assert!(!value["error"]["message"].as_str().unwrap_or_default().is_empty(), "{args:?}: {value}");
    assert_eq!(out.status.code(), Some(code_of(kind)), "{args:?}: {value}");
    assert_eq!(value["error"]["exit_code"], code_of(kind), "{args:?}: {value}");
    let without = env.certmail(args);
    assert_eq!(without.status.code(), out.status.code(), "{args:?} without --json: {}", text(&without.stderr));
    assert!(without.stdout.is_empty() || !text(&without.stdout).trim_start().starts_with("{\"error\""), "{args:?}");
    value
}

#[track_caller]
fn one_object(out: &Output) -> serde_json::Value {
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one JSON object on stdout, got: {stdout}\nstderr: {}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(value.is_object() && value["error"].is_object(), "{value}");
    value
}

#[test]
fn every_command_fails_as_one_json_object_with_its_documented_exit_code() {
    let env = Env::new();
    let missing = env.path("missing.toml");
    let missing = missing.to_str().unwrap();
    // The log commands first, while there is no incident log (notify makes one).
    for (args, kind) in [
        (&["log", "list"][..], "not_found"),
        (&["log", "show", "CM-AAAA-BBBB-CCCC"][..], "not_found"),
        (&["log", "export"][..], "not_found"),
        (&["log", "verify"][..], "not_found"),
        (&["log", "anchor"][..], "not_found"),
        (&["init", "--name", "A", "--email", "a@example.dk", "--org", "O", "--cvr", "12345678"][..], "conflict"),
        (&["notify", missing][..], "not_found"),
        (&["preview", missing][..], "not_found"),
        (&["reply", "CM-AAAA-BBBB-CCCC", "--text", missing][..], "not_found"),
        (&["keys", "import-recipient", missing][..], "not_found"),
        (&["incident", "virk", "CM-AAAA-BBBB-CCCC", "--reference", "2026-1"][..], "not_found"),
        (&["incident", "close", "CM-AAAA-BBBB-CCCC"][..], "not_found"),
        (&["incident", "mark", "CM-AAAA-BBBB-CCCC", "--message", "<m@x>", "--as", "ack", "--reason", "r"][..], "not_found"),
        (&["outbox", "flush"][..], "config"),
        (&["outbox", "retry", "CM-AAAA-BBBB-CCCC"][..], "config"),
        (&["secrets", "set", "smtp"][..], "config"),
        (&["fetch"][..], "config"),
        (&["watch"][..], "config"),
        (&["ingest"][..], "invalid_input"),
        (&["compose", missing][..], "invalid_input"),
        (&["man", "nope"][..], "not_found"),
        (&["read", "CM-AAAA-BBBB-CCCC"][..], "not_found"),
    ] {
        // A PostgreSQL store exists once it is configured: no "no incident log yet".
        let before_any_log = args[0] == "log" && args[1] != "show";
        if on_postgres() && before_any_log {
            assert_success(&env.certmail(args));
            continue;
        }
        json_failure(&env, args, kind);
    }
    // Commands that cannot fail on their own fail on their command line.
    for args in [&["schema", "--bogus"][..], &["new", "no-such-scheme"][..], &["completions", "tcsh"][..], &["status", "extra"][..]] {
        json_failure(&env, args, "usage");
    }
    // A mistyped home: the read commands say so and create nothing.
    let nowhere = env.path("no-home-here");
    for args in [&["status"][..], &["outbox", "list"][..], &["log", "list"][..], &["read", "CM-AAAA-BBBB-CCCC"][..], &["doctor"][..]] {
        let mut with = args.to_vec();
        with.push("--json");
        let out = env.command().env("CERTMAIL_HOME", &nowhere).args(&with).output().unwrap();
        let value = one_object(&out);
        assert_eq!(value["error"]["kind"], "no_home", "{args:?}: {value}");
        assert_exit(&out, 2);
        assert!(!nowhere.exists(), "{args:?} created {}", nowhere.display());
    }
}

#[test]
fn usage_errors_are_json_too_with_the_argument_and_what_was_meant() {
    let env = Env::bare();
    let out = env.certmail(&["notify", "--jsn", "x.toml", "--json"]);
    assert_exit(&out, 2);
    let value = one_object(&out);
    assert_eq!(value["error"]["kind"], "usage", "{value}");
    assert_eq!(value["error"]["field"], "--jsn", "{value}");
    let out = env.certmail(&["--json", "notfy"]);
    assert_exit(&out, 2);
    let value = one_object(&out);
    assert_eq!(value["error"]["did_you_mean"], "notify", "{value}");
    // --help is not a failure, with --json or without.
    assert_success(&env.certmail(&["notify", "--help", "--json"]));
}

#[test]
fn a_missing_cert_key_is_the_same_failure_for_notify_and_keys_check() {
    let env = Env::new();
    let notify = json_failure(&env, &["notify", INCIDENT, "--to", "cfcs"], "key_missing");
    assert!(notify["error"]["message"].as_str().unwrap().contains("2CE4 BA61"), "{notify}");
    let config =
        std::fs::read_to_string(env.config_path()).unwrap().replace("default-recipient = \"test-cert\"", "default-recipient = \"cfcs\"");
    std::fs::write(env.config_path(), config).unwrap();
    let check = json_failure(&env, &["keys", "check"], "key_missing");
    // The checks travel in the same object as the error.
    assert_eq!(check["ok"], false, "{check}");
    assert!(check["checks"].as_array().unwrap().iter().any(|c| c["what"] == "recipient cfcs" && c["status"] == "error"), "{check}");
}

#[test]
fn validation_failures_list_every_problem_with_its_place_and_suggestion() {
    let env = Env::new();
    let file = env.write("typos.toml", "scheme = \"voluntary\"\ntitel = \"Ransomware\"\n\n[description]\nnature = [\"hackin\"]\n");
    let value = json_failure(&env, &["notify", file.to_str().unwrap()], "invalid_input");
    let problems = value["error"]["problems"].as_array().unwrap_or_else(|| panic!("{value}"));
    let titel = problems.iter().find(|p| p["did_you_mean"] == "title").unwrap_or_else(|| panic!("{value}"));
    assert_eq!((titel["line"].as_u64(), titel["column"].as_u64()), (Some(2), Some(1)), "{value}");
    assert_eq!(titel["file"], file.to_str().unwrap());
    let nature = problems.iter().find(|p| p["did_you_mean"] == "hacking").unwrap_or_else(|| panic!("{value}"));
    assert_eq!(nature["line"], 5, "{value}");
    assert!(nature["field"].as_str().unwrap().starts_with("description.nature"), "{value}");
    assert!(problems.iter().all(|p| p["expected"].is_string()), "{value}");
    assert!(value["error"]["field"].is_string(), "{value}");
}

#[test]
fn json_keys_are_snake_case_and_event_details_too() {
    let env = Env::new();
    let out = env.certmail(&["keys", "list", "--json"]);
    assert_success(&out);
    assert_snake_case(&serde_json::from_slice(&out.stdout).unwrap());
    let (queued, _) = env.notify(std::path::Path::new(INCIDENT), &["--json"]);
    assert_queued(&queued);
    let reference = serde_json::from_slice::<serde_json::Value>(&queued.stdout).unwrap()["reference"].as_str().unwrap().to_string();
    assert_success(&env.certmail(&["incident", "virk", &reference, "--reference", "2026-77", "--json"]));
    let show = env.certmail(&["log", "show", &reference, "--json"]);
    assert_success(&show);
    let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_snake_case(&show);
    assert!(show["events"].as_array().unwrap().iter().any(|e| e["detail"]["virk_reference"] == "2026-77"), "{show}");
    let export = env.certmail(&["log", "export"]);
    for line in text(&export.stdout).lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(event["id"].is_i64(), "{event}");
        assert_snake_case(&event);
    }
}

#[track_caller]
fn assert_snake_case(value: &serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                assert!(!k.contains('-'), "kebab-case key {k:?} in {value}");
                assert_snake_case(v);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(assert_snake_case),
        _ => {}
    }
}

#[test]
fn the_readme_documents_every_error_kind_with_its_exit_code() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    for kind in FailureKind::ALL {
        let row = format!("| `{}` | {} |", kind.key(), kind.exit_code());
        assert!(readme.contains(&row), "README has no row {row}");
    }
}
