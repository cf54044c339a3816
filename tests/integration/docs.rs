//! The conventions of the ecosystem: shell completions, manual pages, and `--help`
//! with its examples on lines of their own and the global options apart.

use std::process::{Command, Stdio};

use crate::support::*;

#[test]
fn completions_are_valid_scripts_for_each_shell() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = env.certmail(&["completions", shell]);
        assert_success(&out);
        let script = text(&out.stdout);
        assert!(script.contains("notify") && script.contains("ingest"), "{shell}: {script}");
    }
    let bash = env.write("certmail.bash", &text(&env.certmail(&["completions", "bash"]).stdout));
    let checked = Command::new("bash").arg("-n").arg(&bash).output().unwrap();
    assert!(checked.status.success(), "bash -n: {}", text(&checked.stderr));
    // Made from the command line alone: no home is needed, none is created.
    let nowhere = env.path("no-home-here");
    let out = env.command().env("CERTMAIL_HOME", &nowhere).args(["completions", "zsh"]).output().unwrap();
    assert_success(&out);
    assert!(!nowhere.exists());
    assert_exit(&env.certmail(&["completions", "tcsh"]), 2);
}

#[test]
fn man_pages_render_for_certmail_and_its_commands() {
    require("man", "man-db");
    let env = Env::new();
    for path in [&[][..], &["notify"][..], &["incident", "virk"][..]] {
        let mut args = vec!["man"];
        args.extend(path);
        let page = env.certmail(&args);
        assert_success(&page);
        let mut man = Command::new("man")
            .args(["-l", "-"])
            .env("MANWIDTH", "100")
            .env("MAN_KEEP_FORMATTING", "0")
            // man-db's pipeline of helpers does not start under libfaketime (a suite
            // run a year ahead); rendering a page does not depend on the date.
            .env_remove("LD_PRELOAD")
            .env_remove("FAKETIME")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut man.stdin.take().unwrap(), &page.stdout).unwrap();
        let shown = man.wait_with_output().unwrap();
        assert!(shown.status.success(), "man -l: {}", text(&shown.stderr));
        let name = std::iter::once("certmail").chain(path.iter().copied()).collect::<Vec<_>>().join("-");
        assert!(text(&shown.stdout).contains(&name), "{name}: {}", text(&shown.stdout));
    }
    let unknown = env.certmail(&["man", "incident", "nope"]);
    assert_exit(&unknown, 2);
    assert!(text(&unknown.stderr).contains("virk"), "the commands there are named: {}", text(&unknown.stderr));
}

#[test]
fn help_keeps_examples_verbatim_on_their_own_lines_and_global_options_apart() {
    let env = Env::new();
    let help = text(&env.certmail(&["read", "--help"]).stdout);
    let lines: Vec<&str> = help.lines().collect();
    assert!(lines.contains(&"  certmail read CM-7KQ2-M9XD-3RTA"), "{help}");
    assert!(lines.contains(&"  certmail read '<reply-id@cert.example>' --json"), "{help}");
    assert!(!help.contains("safe names). Example"), "no example runs on inside the prose: {help}");
    let (own, global) = help.split_once("Global options:").expect("a section for the global options");
    assert!(own.contains("--save-attachments") && !own.contains("--home"), "{help}");
    assert!(global.contains("--home") && global.contains("--config"), "{help}");
    // Every command's long help: no "Example:" left inside a paragraph.
    for command in ["init", "notify", "preview", "ingest", "fetch", "watch", "status", "man", "completions"] {
        let help = text(&env.certmail(&[command, "--help"]).stdout);
        assert!(!help.lines().any(|l| l.contains(". Example")), "{command}: {help}");
    }
}
