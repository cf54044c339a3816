//! `certmail completions SHELL` and `certmail man [COMMAND]...`: shell completion
//! scripts (clap_complete) and roff manual pages (clap_mangen), made from the same
//! command-line definition as `--help`, so they never disagree with it. They need no
//! home, configuration or key, and read nothing.

use std::io::Write;

use crate::cli::{self, Shell};
use crate::exit::{CmdResult, Failure, Outcome};

pub fn completions(shell: Shell) -> CmdResult {
    let mut command = cli::command();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Elvish => clap_complete::Shell::Elvish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "certmail", &mut out);
    write_out(&out)
}

/// The page of the command named by `path` ("incident virk"), or of certmail itself.
pub fn man(path: &[String]) -> CmdResult {
    let mut command = cli::command();
    command.build();
    let mut title = String::from("certmail");
    for name in path {
        let Some(sub) = command.find_subcommand(name).cloned() else {
            let known: Vec<_> = command.get_subcommands().map(|c| c.get_name().to_string()).collect();
            return Err(Failure::not_found(format!("no command `{title} {name}`: one of {}", known.join(", "))));
        };
        title = format!("{title}-{name}");
        command = sub;
    }
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .title(title.to_uppercase())
        .section("1")
        .manual("certmail")
        .render(&mut out)
        .map_err(|e| Failure::failed(format!("man page: {e}")))?;
    write_out(&out)
}

fn write_out(bytes: &[u8]) -> CmdResult {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).and_then(|_| stdout.flush()).map_err(|e| Failure::failed(format!("standard output: {e}")))?;
    Ok(Outcome::Done)
}
