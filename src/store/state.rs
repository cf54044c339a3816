//! A message's delivery state, as the outbox state machine moves it and the log
//! records it: text only where it meets SQL and JSON.

/// Where a message of ours is on its way to the CERT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageState {
    Queued,
    Sending,
    Sent,
    Deferred,
    Failed,
    /// A failed bounce reported it undelivered after the relay took it.
    Bounced,
}

impl MessageState {
    pub const ALL: [MessageState; 6] = [
        MessageState::Queued,
        MessageState::Sending,
        MessageState::Sent,
        MessageState::Deferred,
        MessageState::Failed,
        MessageState::Bounced,
    ];

    pub fn key(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::Sending => "sending",
            MessageState::Sent => "sent",
            MessageState::Deferred => "deferred",
            MessageState::Failed => "failed",
            MessageState::Bounced => "bounced",
        }
    }

    /// Whether a relay has taken the message (answered 250 to its data): only such a
    /// message can bounce. A report that one never handed over failed is not about
    /// anything we sent, and must not stop it from being sent.
    pub fn relay_accepted(self) -> bool {
        matches!(self, MessageState::Sent | MessageState::Bounced)
    }

    /// The state as the log stores it; text no release writes reads as failed, so a
    /// message in an unknown state is never taken for delivered.
    pub fn from_key(key: &str) -> MessageState {
        MessageState::ALL.into_iter().find(|s| s.key() == key).unwrap_or(MessageState::Failed)
    }
}

impl std::fmt::Display for MessageState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_unknown_text_is_never_delivered() {
        for s in MessageState::ALL {
            assert_eq!(MessageState::from_key(s.key()), s);
        }
        assert_eq!(MessageState::from_key("delivered?"), MessageState::Failed);
    }

    #[test]
    fn only_what_a_relay_took_can_bounce() {
        let accepted: Vec<_> = MessageState::ALL.into_iter().filter(|s| s.relay_accepted()).collect();
        assert_eq!(accepted, [MessageState::Sent, MessageState::Bounced]);
    }
}
