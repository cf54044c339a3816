//! The team's members (team mode, docs/TEAM-MODE.md §3): whose public keys every
//! notification is encrypted to as well, and for whom whoever can open a message
//! makes reading keys (session-key packets for the member's key, kept beside the
//! message in the store), so that any member reads what any member sent and what
//! the CERT wrote back, without anyone sharing a secret key.
//!
//! The member list lives in each home's `team/` folder, one `FINGERPRINT.asc` per
//! member, like the pinned recipient keys, and not in the shared database: whoever
//! could write one row there would otherwise have every later notification
//! encrypted to a key of their own. Adding a member is done on each machine (or the
//! folder is distributed with the configuration), after checking the fingerprint
//! with the member.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sequoia_openpgp::Cert;

use crate::config::Settings;
use crate::crypto;
use crate::exit::Failure;

/// A team member's public key, as the home's `team/` folder holds it.
#[derive(Clone)]
pub struct Member {
    /// The primary key's fingerprint, upper-case hex.
    pub fingerprint: String,
    /// The key's first user ID ("Mette Holm <mette@example.dk>"), as the key says.
    pub user_id: String,
    pub cert: Cert,
    pub file: PathBuf,
    /// Whether the key can be encrypted to now (not expired, revoked or sign-only).
    pub can_encrypt: bool,
}

pub fn team_dir(settings: &Settings) -> PathBuf {
    settings.home.join("team")
}

/// Every member the home lists, in fingerprint order. A file that is not one public
/// key, or whose name is not its fingerprint, is an error naming the file.
pub fn load(settings: &Settings, now: SystemTime) -> Result<Vec<Member>, Failure> {
    let dir = team_dir(settings);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Failure::config(format!("{}: cannot read the team's keys: {e}", dir.display()))),
    };
    let mut members = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Failure::config(format!("{}: {e}", dir.display())))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("asc") {
            continue;
        }
        let member = read_member(&path, now)?;
        let named = path.file_stem().and_then(|s| s.to_str()).map(crypto::normalise_fingerprint);
        if named.as_deref() != Some(member.fingerprint.as_str()) {
            return Err(Failure::config(format!(
                "{}: holds the key {}, not the one its name says; a member's file is named by its key's fingerprint (`certmail team add` names it)",
                path.display(),
                crypto::pretty_fingerprint(&member.fingerprint)
            )));
        }
        members.push(member);
    }
    members.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    Ok(members)
}

/// How many members other than this home's own key a message is encrypted to (what
/// `notify` says it did): those whose key can be encrypted to now.
pub fn others_encrypted_to(settings: &Settings, now: SystemTime) -> usize {
    let own = crate::identity::read(settings).ok().map(|i| i.fingerprint());
    load(settings, now).map_or(0, |members| members.iter().filter(|m| m.can_encrypt && Some(&m.fingerprint) != own.as_ref()).count())
}

/// The members' certificates, for encrypting to them.
pub fn certs(members: &[Member]) -> Vec<Cert> {
    members.iter().map(|m| m.cert.clone()).collect()
}

fn read_member(path: &Path, now: SystemTime) -> Result<Member, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::input(format!("{}: cannot read it: {e}", path.display())))?;
    let cert = crypto::read_cert(&bytes).map_err(|e| Failure::input(format!("{}: not an OpenPGP public key: {e}", path.display())))?;
    if cert.is_tsk() {
        return Err(Failure::input(format!(
            "{}: holds secret key material; a team member's file is their public key only (`gpg --export --armor KEY`)",
            path.display()
        )));
    }
    Ok(member_of(cert, path.to_path_buf(), now))
}

fn member_of(cert: Cert, file: PathBuf, now: SystemTime) -> Member {
    let user_id = cert.userids().next().map(|u| String::from_utf8_lossy(u.userid().value()).into_owned()).unwrap_or_default();
    let can_encrypt = crypto::can_encrypt_to(&cert, now);
    Member { fingerprint: crypto::fingerprint(&cert), user_id, cert, file, can_encrypt }
}

/// Adds the public key in `file` (or the reporter's own) to the team: it is checked
/// to be one public key that can be encrypted to now and written as
/// `team/FINGERPRINT.asc`. Adding a member already listed replaces their key (a
/// renewed expiry); the fingerprint is the same.
pub fn add(settings: &Settings, cert_bytes: &[u8], source: &str, now: SystemTime) -> Result<Member, Failure> {
    let cert = crypto::read_cert(cert_bytes).map_err(|e| Failure::input(format!("{source}: not an OpenPGP public key: {e}")))?;
    // Only the public key is kept, whatever was given.
    let cert = cert.strip_secret_key_material();
    let dir = team_dir(settings);
    let path = dir.join(format!("{}.asc", crypto::fingerprint(&cert)));
    let member = member_of(cert, path.clone(), now);
    if !member.can_encrypt {
        return Err(Failure::input(format!(
            "{source}: the key {} has no encryption key usable now (expired, revoked or sign-only); nothing was added",
            crypto::pretty_fingerprint(&member.fingerprint)
        )));
    }
    let armored = crypto::armored_public(&member.cert).map_err(Failure::failed)?;
    crate::fsutil::private_dir(&dir)?;
    crate::fsutil::write_private(&path, &armored)?;
    Ok(member)
}

/// Removes a member by fingerprint (spaces and case do not matter). Messages already
/// encrypted to them stay readable to them; later ones are not encrypted to them.
pub fn remove(settings: &Settings, fingerprint: &str, now: SystemTime) -> Result<Member, Failure> {
    let wanted = crypto::normalise_fingerprint(fingerprint);
    let members = load(settings, now)?;
    let Some(member) = members.into_iter().find(|m| m.fingerprint == wanted || (wanted.len() >= 16 && m.fingerprint.ends_with(&wanted)))
    else {
        return Err(Failure::not_found(format!("{fingerprint}: no team member with that fingerprint (`certmail team list` shows them)")));
    };
    std::fs::remove_file(&member.file).map_err(|e| Failure::failed(format!("{}: cannot remove it: {e}", member.file.display())))?;
    Ok(member)
}
