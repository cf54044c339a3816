//! Which hook events have fired: one row per event key, claimed before the hook runs.

use super::Store;
use crate::exit::Failure;

impl Store {
    /// Claims the event `key`: true if it had not fired before (the hook is to run
    /// now), false if it has. Outside any batch, so the claim is committed at once.
    pub fn claim_hook_event(&self, key: &str, event: &str, reference: Option<&str>, now: &str) -> Result<bool, Failure> {
        self.db()
            .execute(
                "INSERT INTO hooks_fired (key, event, reference, fired_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO NOTHING",
                vals![key, event, reference, now],
            )
            .map(|n| n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_claimed_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        assert!(store.claim_hook_event("acknowledged:<m@x>", "acknowledged", Some("CM-1"), "t").unwrap());
        assert!(!store.claim_hook_event("acknowledged:<m@x>", "acknowledged", Some("CM-1"), "t").unwrap());
        assert!(store.claim_hook_event("question:<m@x>", "question", None, "t").unwrap());
    }
}
