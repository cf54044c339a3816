//! Where the incident log is: the SQLite file in the home folder, or a PostgreSQL
//! database named by `[store] url` (or `CERTMAIL_STORE_URL`), held to the contract of
//! docs/TEAM-MODE.md: no password in the URL, one host, and TLS with certificate
//! validation unless the host is loopback or a Unix socket. The URL is parsed by the
//! client crate's own parser, so what is checked is what connects.
//!
//! Pure: it reads no file and connects to nothing; config.rs resolves the paths.

use std::net::IpAddr;
use std::path::PathBuf;

use postgres::config::{Host, SslMode};

/// Where the store is, resolved from the configuration.
#[derive(Debug, Clone)]
pub enum Location {
    /// The embedded default: one file in the home folder.
    Sqlite(PathBuf),
    Postgres(Box<Postgres>),
}

/// A PostgreSQL store, checked (see [`check_url`]); connecting is the engine's part.
#[derive(Debug, Clone)]
pub struct Postgres {
    /// The URL as configured; it holds no password.
    pub url: String,
    /// The connection parameters the URL gives (no password among them).
    pub config: postgres::Config,
    pub tls: Tls,
    pub password: PasswordSource,
}

/// How the connection is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// TLS with the server's certificate validated against the system's roots, or
    /// against `ca-file` alone.
    Verified { ca_file: Option<PathBuf> },
    /// No TLS: only for a loopback host or a Unix socket, which never leave the machine.
    LocalOnly,
}

/// Where the database password comes from: `password-command`, `password-env`, else
/// the OS keyring entry [`Postgres::keyring_user`], else none (the server may not ask).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordSource {
    pub command: Option<Vec<String>>,
    pub env: Option<String>,
}

/// What a URL says, once checked.
#[derive(Debug, Clone)]
pub struct CheckedUrl {
    pub config: postgres::Config,
    /// The host is loopback or a Unix socket: the connection never leaves the machine.
    pub local: bool,
}

impl Postgres {
    /// The OS keyring entry of the password (`certmail secrets set store`).
    pub fn keyring_user(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(p)) => p.display().to_string(),
            None => String::new(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!("store:{}@{host}:{port}", self.config.get_user().unwrap_or(""))
    }
}

/// Checks a store URL against the contract. The error is a sentence to follow the
/// field's name; it never repeats the URL, which may hold the password it refuses.
pub fn check_url(url: &str) -> Result<CheckedUrl, String> {
    let url = url.trim();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("must be a URL starting with postgres:// (postgres://USER@HOST:PORT/DATABASE)".into());
    }
    let config: postgres::Config = url.parse().map_err(|e| format!("is not a PostgreSQL URL: {e}"))?;
    if config.get_password().is_some() {
        return Err("holds a password: never put one in the configuration; use password-command, password-env or \
                    `certmail secrets set store` (the OS keyring)"
            .into());
    }
    if !config.get_hostaddrs().is_empty() {
        return Err("has hostaddr, which certmail does not take: name the host itself".into());
    }
    let local = match config.get_hosts() {
        [] => return Err("names no host (postgres://USER@HOST:PORT/DATABASE, or a socket folder as host)".into()),
        [Host::Unix(_)] => true,
        [Host::Tcp(host)] => is_loopback(host),
        _ => return Err("names more than one host: give one".into()),
    };
    if config.get_ports().len() > 1 {
        return Err("names more than one port: give one".into());
    }
    if config.get_dbname().is_none_or(str::is_empty) {
        return Err("names no database (postgres://USER@HOST:PORT/DATABASE)".into());
    }
    if !local && config.get_ssl_mode() == SslMode::Disable {
        return Err("has sslmode=disable, but the host is not loopback: TLS with certificate validation is required \
                    for a database on another machine"
            .into());
    }
    Ok(CheckedUrl { config, local })
}

/// `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The TLS a checked URL gets: verified TLS for another machine, and for a local one
/// that asks for it (`sslmode=require`); none otherwise. `ca_file` without TLS is an
/// error (it would be silently unused).
pub fn tls_for(checked: &CheckedUrl, ca_file: Option<PathBuf>) -> Result<Tls, String> {
    if !checked.local || checked.config.get_ssl_mode() == SslMode::Require {
        return Ok(Tls::Verified { ca_file });
    }
    match ca_file {
        Some(_) => Err("is set, but the connection to a loopback host or a socket uses no TLS: add ?sslmode=require to \
                        the url, or remove ca-file"
            .into()),
        None => Ok(Tls::LocalOnly),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_one_host_and_a_database_and_holds_no_password() {
        let ok = check_url("postgres://certmail@db.soc.example.dk:5433/certmail").unwrap();
        assert!(!ok.local);
        assert_eq!(ok.config.get_user(), Some("certmail"));
        assert_eq!(ok.config.get_ports(), &[5433]);
        for (url, said) in [
            ("postgres://certmail:hunter2@db.example.dk/certmail", "password"),
            ("postgres://certmail@db.example.dk/certmail?password=hunter2", "password"),
            ("host=db.example.dk dbname=certmail", "postgres://"),
            ("mysql://db.example.dk/certmail", "postgres://"),
            ("postgres://certmail@a.example.dk,b.example.dk/certmail", "more than one host"),
            ("postgres://certmail@db.example.dk/certmail?hostaddr=192.0.2.1", "hostaddr"),
            ("postgres://certmail@db.example.dk", "no database"),
            ("postgres://certmail@db.example.dk/certmail?sslmode=disable", "TLS"),
            ("postgres://certmail@db.example.dk/certmail?sslmode=maybe", "not a PostgreSQL URL"),
        ] {
            let err = check_url(url).unwrap_err();
            assert!(err.contains(said), "{url}: {err}");
            assert!(!err.contains("hunter2"), "{url}: the password is never repeated: {err}");
        }
    }

    #[test]
    fn tls_is_verified_unless_the_host_is_loopback_or_a_socket() {
        for url in [
            "postgres://certmail@localhost:5432/certmail",
            "postgres://certmail@127.0.0.1/certmail",
            "postgres://certmail@127.8.9.10/certmail",
            "postgres://certmail@[::1]:5432/certmail",
            "postgres://certmail@%2Frun%2Fpostgresql/certmail",
            "postgres://certmail@/certmail?host=/run/postgresql",
        ] {
            let checked = check_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(checked.local, "{url}");
            assert_eq!(tls_for(&checked, None).unwrap(), Tls::LocalOnly, "{url}");
            assert!(tls_for(&checked, Some("ca.pem".into())).unwrap_err().contains("sslmode=require"), "{url}");
        }
        let local_tls = check_url("postgres://certmail@localhost/certmail?sslmode=require").unwrap();
        assert_eq!(tls_for(&local_tls, Some("ca.pem".into())).unwrap(), Tls::Verified { ca_file: Some("ca.pem".into()) });
        for url in ["postgres://certmail@db.example.dk/certmail", "postgres://certmail@128.0.0.1/certmail", "postgres://c@[::2]/certmail"] {
            let checked = check_url(url).unwrap();
            assert_eq!(tls_for(&checked, None).unwrap(), Tls::Verified { ca_file: None }, "{url}");
        }
        assert!(!is_loopback("localhost.example.dk") && !is_loopback("10.0.0.1") && is_loopback("LOCALHOST"));
    }

    #[test]
    fn the_keyring_entry_names_user_host_and_port() {
        let checked = check_url("postgres://certmail@db.example.dk/certmail").unwrap();
        let pg = Postgres {
            url: String::new(),
            config: checked.config,
            tls: Tls::Verified { ca_file: None },
            password: PasswordSource::default(),
        };
        assert_eq!(pg.keyring_user(), "store:certmail@db.example.dk:5432");
    }
}
