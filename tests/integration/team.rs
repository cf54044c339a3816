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

#[test]
fn the_test_postgresql_keeps_what_it_is_given_one_database_per_test() {
    let db = crate::pg::database("round trip");
    // Its URL is one the [store] contract takes, and connects as it says.
    let checked = certmail::store::target::check_url(&db.url).unwrap();
    assert!(checked.local, "{}", db.url);
    let mut client = checked.config.connect(postgres::NoTls).unwrap();
    client.batch_execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL, bytes BYTEA NOT NULL)").unwrap();
    // Message bytes of any size travel as one binary parameter.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3 * 1024 * 1024 + 7).collect();
    client.execute("INSERT INTO t (id, name, bytes) VALUES ($1, $2, $3)", &[&1i64, &"Jens Ærø", &bytes]).unwrap();
    let row = client.query_one("SELECT name, bytes, current_user::text FROM t WHERE id = $1", &[&1i64]).unwrap();
    assert_eq!(row.get::<_, String>(0), "Jens Ærø");
    assert!(row.get::<_, Vec<u8>>(1) == bytes, "the bytes came back changed");
    assert_eq!(row.get::<_, String>(2), "certmail");
    let version: String = client.query_one("SHOW server_version_num", &[]).unwrap().get(0);
    assert!(version.parse::<u32>().unwrap() >= 150000, "{version}");
    let other = crate::pg::database("round trip");
    assert_ne!(other.name, db.name);
    assert!(other.connect().query("SELECT 1 FROM t", &[]).is_err(), "each test has a database of its own");
}

/// Run by the test below as a child of its own: starts the server, says its pid and
/// folder, then exits or waits to be killed, as `CERTMAIL_TEST_PG_CHILD` says.
#[test]
fn postgres_child() {
    let Ok(mode) = std::env::var("CERTMAIL_TEST_PG_CHILD") else { return };
    let server = crate::pg::server();
    println!("server={} dir={}", server.pid(), server.dir.display());
    if mode == "wait" {
        std::thread::sleep(std::time::Duration::from_secs(120));
    }
}

#[test]
fn the_test_postgresql_never_outlives_its_test_binary() {
    for mode in ["exit", "wait"] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "team::postgres_child", "--nocapture", "--test-threads=1"])
            .env("CERTMAIL_TEST_PG_CHILD", mode)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut said = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        while !said.contains("server=") {
            let mut line = String::new();
            if std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() == 0 {
                panic!("{mode}: the child said no server: {said}");
            }
            said.push_str(&line);
        }
        let line = said.lines().find(|l| l.contains("server=")).unwrap();
        let line = &line[line.find("server=").unwrap()..];
        let pid: u32 = line["server=".len()..].split(' ').next().unwrap().parse().unwrap();
        let dir = std::path::PathBuf::from(line.split(" dir=").nth(1).unwrap().trim());
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "{mode}: the server runs while its binary does");
        if mode == "wait" {
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        }
        child.wait().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::path::Path::new(&format!("/proc/{pid}")).exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "{mode}: postgres {pid} outlived its test binary");
        if mode == "exit" {
            assert!(!dir.exists(), "a normal exit removes the server's folder {}", dir.display());
        } else {
            // A killed binary's folder is removed by the next run (this one's server
            // already started, so it is done here by hand the same way).
            assert!(dir.exists());
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
