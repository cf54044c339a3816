//! What a CFCS analyst reads, end to end: the TLP marking as the report's first line
//! and never in cleartext, Danish times and numbers as sent, and bad markings refused
//! with the file, line and field (exit 2).

use std::path::Path;

use crate::support::*;

const VOLUNTARY: &str = "examples/voluntary-ransomware.toml";

#[test]
fn the_tlp_marking_is_the_first_line_inside_the_encryption_and_nowhere_outside() {
    let env = Env::new();
    let (out, message) = env.notify(Path::new(VOLUNTARY), &[]);
    assert_queued(&out);
    let outside = [text(&message), text(&out.stdout), text(&out.stderr)].join("\n");
    assert!(!outside.contains("TLP"), "the marking travels only inside the encryption:\n{outside}");
    let (inner, _) = gpg_decrypt(&env, &message);
    let report = report_text(&inner);
    assert!(report.starts_with("TLP:AMBER\n\n"), "{report}");
    // The Danish report shows Danish time and separators, as sent.
    assert!(report.contains("Hændelsens konstatering: 20.11.2026 kl. 06:40"), "{report}");
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
