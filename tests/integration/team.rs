//! Team mode (docs/TEAM-MODE.md): the `[store]` contract, and the PostgreSQL server
//! the tests of a shared store run against.

use crate::support::*;

#[test]
fn a_bad_store_section_is_a_config_error_naming_the_file_the_line_and_the_key() {
    let env = Env::new();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let line = config.lines().count() + 3;
    std::fs::write(env.config_path(), format!("{config}\n[store]\nurl = \"postgres://soc:hunter2@db.example.dk/certmail\"\n")).unwrap();
    let out = env.certmail(&["log", "list"]);
    assert_exit(&out, 2);
    let said = text(&out.stderr);
    assert!(said.contains(&format!("config.toml:{line}: [store] url holds a password")), "{said}");
    assert!(!said.contains("hunter2"), "the password is never repeated: {said}");
    let json = env.certmail(&["log", "list", "--json"]);
    assert_exit(&json, 2);
    let said = text(&json.stdout) + &text(&json.stderr);
    assert!(said.contains("\"field\":\"store.url\""), "{said}");

    std::fs::write(env.config_path(), format!("{config}\n[store]\nurl = \"postgres://soc@db.example.dk/certmail?sslmode=disable\"\n"))
        .unwrap();
    let out = env.certmail(&["log", "list"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("TLS with certificate validation is required"), "{}", text(&out.stderr));
}

#[test]
fn without_a_store_there_is_no_store_password_and_the_variable_is_checked() {
    let env = Env::new();
    let out = env.certmail_stdin(&["secrets", "set", "store"], b"x\n");
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("SQLite"), "{}", text(&out.stderr));
    let out = env
        .command()
        .env("CERTMAIL_STORE_URL", "postgres://soc:hunter2@db.example.dk/c")
        .args(["secrets", "set", "store"])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("CERTMAIL_STORE_URL holds a password"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("hunter2"));
}
