//! A PostgreSQL server for the tests of a shared store: Debian's postgresql, started
//! once per test binary in a folder of its own on a free loopback port, one database
//! per test. A missing or unstartable PostgreSQL fails the test that needs it, loudly,
//! with the reason: no test is skipped.
//!
//! initdb and postgres refuse to run as root, and the suite runs as root in CI: then
//! both run as the `postgres` system user (Debian's package makes it), switched to in
//! the child before exec. The server dies with the test binary: its parent-death
//! signal is set after that switch (a change of user clears it), from a thread that
//! lives as long as the process (the signal follows the thread that spawned it), and
//! the binary's normal exit stops it and removes its folder. A folder left by a run
//! that was killed is removed by the next run, after stopping its server if it runs.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where each run's server lives: `RUNS/run-PID`.
fn runs_dir() -> PathBuf {
    std::env::temp_dir().join("certmail-test-postgres")
}

/// The suite's server.
pub struct Server {
    pub port: u16,
    /// The run's folder (data, socket, log).
    pub dir: PathBuf,
    pid: u32,
}

/// The server also speaks TLS, with a certificate for 127.0.0.1 and localhost signed
/// by the suite's throwaway CA (`smtp::tls()`, made with openssl): `ca` validates it,
/// `wrong_ca` does not.
pub fn tls() -> &'static crate::smtp::TlsMaterial {
    crate::smtp::tls()
}

/// One test's database on the suite's server.
pub struct Database {
    pub name: String,
    /// postgres://certmail@127.0.0.1:PORT/NAME (trust on loopback: no password).
    pub url: String,
}

/// The server, started by the first test that asks for it.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start().unwrap_or_else(|e| panic!("cannot start PostgreSQL for the tests: {e}")))
}

/// A new, empty database for one test, owned by the role `certmail`.
pub fn database(test: &str) -> Database {
    static N: AtomicU64 = AtomicU64::new(0);
    let server = server();
    let clean: String = test.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(40).collect();
    let name = format!("t{}_{clean}", N.fetch_add(1, Ordering::Relaxed));
    let mut admin = server.connect("postgres", "postgres");
    admin.batch_execute(&format!("CREATE DATABASE \"{name}\" OWNER certmail")).unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    Database { url: format!("postgres://certmail@127.0.0.1:{}/{name}", server.port), name }
}

impl Database {
    /// A plain connection (no TLS: loopback), as the database's owner.
    pub fn connect(&self) -> postgres::Client {
        server().connect("certmail", &self.name)
    }
}

impl Server {
    /// A connection as `user` to `database`.
    pub fn connect(&self, user: &str, database: &str) -> postgres::Client {
        let mut config = postgres::Config::new();
        config.host("127.0.0.1").port(self.port).user(user).dbname(database).connect_timeout(Duration::from_secs(10));
        config.connect(postgres::NoTls).unwrap_or_else(|e| panic!("connecting to the test PostgreSQL as {user} to {database}: {e}"))
    }

    fn start() -> Result<Server, String> {
        let bin = bin_dir()?;
        let runs = runs_dir();
        std::fs::create_dir_all(&runs).map_err(|e| format!("{}: {e}", runs.display()))?;
        // Shared like /tmp itself, so that runs as different users each find room.
        if std::fs::metadata(&runs).is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == unsafe { libc::geteuid() }) {
            let _ = std::fs::set_permissions(&runs, std::os::unix::fs::PermissionsExt::from_mode(0o1777));
        }
        remove_stale_runs(&runs);
        let dir = runs.join(format!("run-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let user = server_user()?;
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(|e| format!("chown {}: {e}", dir.display()))?;
        }
        let data = dir.join("data");
        let init = as_server_user(Command::new(bin.join("initdb")), user)
            .args(["--no-sync", "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C", "-D"])
            .arg(&data)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.join("initdb").display()))?;
        if !init.status.success() {
            return Err(format!("initdb failed: {}{}", String::from_utf8_lossy(&init.stdout), String::from_utf8_lossy(&init.stderr)));
        }
        // Trust on loopback, but members of `password_users` must give their password
        // (tests of where a password comes from).
        let hba = "local all all trust\nhost all +password_users 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\n";
        std::fs::write(data.join("pg_hba.conf"), hba).map_err(|e| format!("pg_hba.conf: {e}"))?;
        // The server's certificate and key, its own (postgres refuses a key others can read).
        for (from, to) in [(&tls().cert, "server.pem"), (&tls().key, "server.key")] {
            let to = data.join(to);
            std::fs::copy(from, &to).map_err(|e| format!("{}: {e}", to.display()))?;
            std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(0o600)).map_err(|e| e.to_string())?;
            if let Some((uid, gid)) = user {
                std::os::unix::fs::chown(&to, Some(uid), Some(gid)).map_err(|e| format!("chown {}: {e}", to.display()))?;
            }
        }
        // The port is free when asked; another process may take it before postgres
        // binds it, so a start that fails is tried again on another.
        let mut last = String::new();
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
            match spawn_postgres(&bin, &dir, port, user) {
                Ok(pid) => {
                    let server = Server { port, dir: dir.clone(), pid };
                    match server.wait_ready() {
                        Ok(()) => {
                            server.create_role();
                            stop_at_exit(pid, &dir);
                            return Ok(server);
                        }
                        Err(e) => {
                            server.stop();
                            last = e;
                        }
                    }
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut config = postgres::Config::new();
        config.host("127.0.0.1").port(self.port).user("postgres").dbname("postgres").connect_timeout(Duration::from_secs(2));
        loop {
            match config.connect(postgres::NoTls) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline || !alive(self.pid) => {
                    let log = std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
                    return Err(format!("PostgreSQL on port {} did not come up ({e}); its log:\n{log}", self.port));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn create_role(&self) {
        self.connect("postgres", "postgres")
            .batch_execute("CREATE ROLE certmail LOGIN; CREATE ROLE password_users NOLOGIN")
            .expect("CREATE ROLE certmail");
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    fn stop(&self) {
        stop(self.pid);
    }
}

/// Debian's server binaries, the newest version installed.
pub fn bin_dir() -> Result<PathBuf, String> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists() && bin.join("postgres").exists())
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "no /usr/lib/postgresql/*/bin/initdb: install Debian's `postgresql` (scripts/test does it: apt-get install postgresql)".into()
    })
}

/// The user the server runs as: `postgres` when the suite runs as root, else the
/// suite's own user (`None`: no switch).
fn server_user() -> Result<Option<(u32, u32)>, String> {
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let pw = unsafe { libc::getpwnam(c"postgres".as_ptr()) };
    if pw.is_null() {
        return Err("the suite runs as root, where PostgreSQL will not run, and there is no `postgres` user to run it as: \
                    install Debian's `postgresql`, which makes it"
            .into());
    }
    Ok(Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) }))
}

/// `command`, run as the server's user, killed (SIGQUIT: PostgreSQL's immediate
/// shutdown) when the thread that spawned it ends.
fn as_server_user(mut command: Command, user: Option<(u32, u32)>) -> Command {
    command.stdin(Stdio::null()).env_remove("LD_PRELOAD").env_remove("FAKETIME").env("LC_ALL", "C");
    unsafe {
        command.pre_exec(move || {
            if let Some((uid, gid)) = user
                && (libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(gid) != 0 || libc::setuid(uid) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            // After the switch, which clears it.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
}

/// Starts postgres from a thread that never ends, so its parent-death signal fires
/// only when the test binary does; returns its pid.
fn spawn_postgres(bin: &Path, dir: &Path, port: u16, user: Option<(u32, u32)>) -> Result<u32, String> {
    let (tx, rx) = std::sync::mpsc::channel::<Result<u32, String>>();
    let (bin, dir) = (bin.to_path_buf(), dir.to_path_buf());
    std::thread::Builder::new()
        .name(format!("postgres-{port}"))
        .spawn(move || {
            let log = match std::fs::File::create(dir.join("postgres.log")) {
                Ok(f) => f,
                Err(e) => return tx.send(Err(format!("postgres.log: {e}"))).unwrap_or(()),
            };
            let err = log.try_clone().expect("log file");
            let child: std::io::Result<Child> = as_server_user(Command::new(bin.join("postgres")), user)
                .arg("-D")
                .arg(dir.join("data"))
                .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"])
                .args(["-c", "ssl=on", "-c", "ssl_cert_file=server.pem", "-c", "ssl_key_file=server.key"])
                .arg("-c")
                .arg(format!("unix_socket_directories={}", dir.display()))
                .stdout(log)
                .stderr(err)
                .spawn();
            match child {
                Ok(mut child) => {
                    let _ = tx.send(Ok(child.id()));
                    // Reaped here if it ends (it is not left a zombie); the thread
                    // itself stays, holding the parent-death signal, until the binary exits.
                    let _ = child.wait();
                    loop {
                        std::thread::park();
                    }
                }
                Err(e) => tx.send(Err(format!("cannot start {}: {e}", bin.join("postgres").display()))).unwrap_or(()),
            }
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    rx.recv().map_err(|_| "the postgres thread ended".to_string())?
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
}

/// Immediate shutdown, waited for (at most 10 s), then SIGKILL.
fn stop(pid: u32) {
    unsafe { libc::kill(pid as i32, libc::SIGQUIT) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(pid) {
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
}

/// At the binary's normal exit: the server stopped, its folder removed.
fn stop_at_exit(pid: u32, dir: &Path) {
    static AT_EXIT: OnceLock<(u32, PathBuf)> = OnceLock::new();
    if AT_EXIT.set((pid, dir.to_path_buf())).is_err() {
        return;
    }
    extern "C" fn at_exit() {
        if let Some((pid, dir)) = AT_EXIT.get() {
            stop(*pid);
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    unsafe { libc::atexit(at_exit) };
}

/// Folders of earlier runs whose test binary is gone: their server (if a kill left it
/// running, which the parent-death signal should prevent) is stopped by its pid file,
/// and the folder removed.
fn remove_stale_runs(runs: &Path) {
    for entry in std::fs::read_dir(runs).into_iter().flatten().flatten() {
        let Some(owner) = entry.file_name().to_str().and_then(|n| n.strip_prefix("run-")).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if owner == std::process::id() || alive(owner) {
            continue;
        }
        let pid_file = entry.path().join("data/postmaster.pid");
        let pid = std::fs::read_to_string(&pid_file).ok().and_then(|t| t.lines().next()?.trim().parse::<u32>().ok());
        if let Some(pid) = pid
            && alive(pid)
            && std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.contains("postgres"))
        {
            stop(pid);
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}
