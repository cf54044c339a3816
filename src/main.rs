//! The certmail binary: parse the command line, run, map the result to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match certmail::cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap: 0 for --help/--version, 2 for usage errors, as documented.
            if e.use_stderr() && certmail::cli::json_requested(std::env::args_os()) {
                certmail::output::usage_error(&certmail::cli::refusal(&e));
            }
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let json = cli.json;
    let result = certmail::run(cli);
    if let Err(failure) = &result {
        certmail::output::failure(failure, json);
    }
    ExitCode::from(certmail::exit::code(&result))
}
