//! Reading keys (team mode, docs/TEAM-MODE.md §3): session-key packets that let a
//! team member's key open a message as it arrived, made by whichever machine could
//! open it. Stored by the SHA-256 of the message's bytes and the member's
//! fingerprint, so the same bytes sent or received, kept in the log or read from
//! its file, find them. They hold no secret (each is the message's session key
//! encrypted to a public key), and are not in the chain: a forged one opens nothing
//! the data's integrity check accepts, and what it opens is verified as ever.

use super::Store;
use super::sql::Value;
use crate::exit::Failure;

/// The most a member's reading keys for one message take: one session-key packet per
/// encryption subkey and layer is a few hundred bytes.
const MAX_READING_KEYS_BYTES: i64 = 16 * 1024;

/// The key a message's reading keys are found by.
pub fn message_key(raw: &[u8]) -> String {
    super::sha256_hex(raw)
}

impl Store {
    /// Keeps `packets` for `member` on the message with these bytes; `false` if the
    /// member had reading keys for it already (they are not replaced).
    pub fn add_reading_keys(&mut self, message: &str, member: &str, packets: &[u8], now: &str) -> Result<bool, Failure> {
        let added = self.db.get_mut().execute(
            "INSERT INTO reading_keys (message_sha256, member, packets, made_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (message_sha256, member) DO NOTHING",
            &[Value::Text(message), Value::Text(member), Value::Bytes(packets), Value::Text(now)],
        )?;
        Ok(added > 0)
    }

    /// The reading keys made for `member` (this machine's key, by its primary
    /// fingerprint) for the message with these bytes. A row larger than any real one
    /// (a few session-key packets) is passed over: rows are not in the chain, and
    /// whoever writes to the database could make one of any size.
    pub fn reading_keys(&self, message: &str, member: &str) -> Result<Vec<u8>, Failure> {
        let rows = self.db().rows(
            &format!(
                "SELECT packets FROM reading_keys WHERE message_sha256 = ?1 AND member = ?2 AND LENGTH(packets) <= {MAX_READING_KEYS_BYTES}"
            ),
            &[Value::Text(message), Value::Text(member)],
        )?;
        match rows.first() {
            Some(r) => r.get(0),
            None => Ok(Vec::new()),
        }
    }

    /// The members that have reading keys for the message with these bytes.
    pub fn reading_key_members(&self, message: &str) -> Result<Vec<String>, Failure> {
        let rows = self.db().rows("SELECT member FROM reading_keys WHERE message_sha256 = ?1", &[Value::Text(message)])?;
        rows.iter().map(|r| r.get(0)).collect()
    }
}
