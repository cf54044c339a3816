//! A real SMTP server for the delivery tests: Debian's aiosmtpd (tests/smtp/server.py)
//! on loopback, with STARTTLS or implicit TLS, AUTH, a throwaway CA made with openssl,
//! and the faults of the fault matrix.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::support::*;

pub const SMTP_USER: &str = "cm-user";
pub const SMTP_PASSWORD: &str = "relay pass 7";

/// The throwaway CA, the server's certificate, and a second, unrelated CA.
pub struct TlsMaterial {
    pub ca: PathBuf,
    pub wrong_ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    _dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl is required (Debian package openssl)");
    assert!(out.status.success(), "openssl {args:?}: {}", text(&out.stderr));
}

pub fn tls() -> &'static TlsMaterial {
    static TLS: OnceLock<TlsMaterial> = OnceLock::new();
    TLS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        for (name, cn) in [("ca", "certmail test CA"), ("wrong-ca", "unrelated test CA")] {
            let mut args = vec!["req", "-x509"];
            args.extend(ec);
            let (key, pem, subj) = (format!("{name}.key"), format!("{name}.pem"), format!("/CN={cn}"));
            args.extend(["-keyout", &key, "-out", &pem, "-days", "3", "-subj", &subj]);
            openssl(d, &args);
        }
        let mut args = vec!["req"];
        args.extend(ec);
        args.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
        openssl(d, &args);
        std::fs::write(d.join("ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "3",
                "-extfile",
                "ext",
            ],
        );
        TlsMaterial {
            ca: d.join("ca.pem"),
            wrong_ca: d.join("wrong-ca.pem"),
            cert: d.join("server.pem"),
            key: d.join("server.key"),
            _dir: dir,
        }
    })
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running server; stopped when dropped.
pub struct SmtpServer {
    pub port: u16,
    pub store: tempfile::TempDir,
    child: Child,
}

impl SmtpServer {
    /// `mode`: starttls, tls, no-starttls or plain; `fault`: see server.py.
    pub fn start(mode: &str, fault: &str) -> SmtpServer {
        SmtpServer::start_on(free_port(), mode, fault)
    }

    pub fn start_on(port: u16, mode: &str, fault: &str) -> SmtpServer {
        assert!(
            Path::new("/usr/bin/python3").exists(),
            "the delivery tests need Debian's python3 and python3-aiosmtpd (scripts/test installs them)"
        );
        let store = tempfile::tempdir().unwrap();
        let t = tls();
        let mut child = Command::new("/usr/bin/python3")
            .arg("tests/smtp/server.py")
            .args(["--port", &port.to_string(), "--mode", mode, "--fault", fault])
            .arg("--cert")
            .arg(&t.cert)
            .arg("--key")
            .arg(&t.key)
            .args(["--auth", &format!("{SMTP_USER}:{SMTP_PASSWORD}")])
            .arg("--store")
            .arg(store.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tests/smtp/server.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("READY"), "the SMTP test server did not start (is python3-aiosmtpd installed?): {line:?}");
        SmtpServer { port, store, child }
    }

    /// The messages the server accepted, oldest first.
    pub fn received(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<_> = std::fs::read_dir(self.store.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort_by_key(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            let (ms, n) = stem.split_once('-').unwrap();
            (ms.parse::<u64>().unwrap(), n.parse::<u64>().unwrap())
        });
        names.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    /// The envelopes (JSON) the server recorded, in no particular order.
    pub fn envelopes(&self) -> Vec<serde_json::Value> {
        std::fs::read_dir(self.store.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    pub fn auth_attempts(&self) -> String {
        std::fs::read_to_string(self.store.path().join("auth-attempts.log")).unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Env {
    /// Points the home's `[smtp]` at a loopback relay, password from the environment.
    pub fn set_relay(&self, port: u16, security: &str, ca: &Path, timeout_seconds: u64) {
        let config = std::fs::read_to_string(self.config_path()).unwrap();
        let config = match config.find("\n[smtp]") {
            Some(i) => config[..i].to_string(),
            None => config,
        };
        let user = if security == "plaintext-loopback-test-only" {
            String::new()
        } else {
            format!("username = \"{SMTP_USER}\"\npassword-env = \"CM_TEST_SMTP_PASSWORD\"\n")
        };
        let smtp = format!(
            "\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"{security}\"\n{user}ca-file = \"{}\"\ntimeout-seconds = {timeout_seconds}\n",
            ca.display()
        );
        std::fs::write(self.config_path(), config + &smtp).unwrap();
    }
}

/// Waits a little for a condition (servers write files asynchronously).
pub fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..50 {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
