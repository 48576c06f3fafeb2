//! One kept conversation, its bounds, and which ids are conversation ids.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::codex::{Turn, new_conversation_id};

/// How many conversations a profile keeps.
pub const MAX_CONVERSATIONS: usize = 50;

/// How long an unused conversation is kept.
pub const MAX_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The most text (in characters, all turns together) one conversation sends; past it, the oldest
/// exchanges are left out. About 100k tokens: well inside every model's context window.
pub const MAX_CONVERSATION_CHARS: usize = 400_000;

/// The bounds of a profile's conversations (tests lower them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_conversations: usize,
    pub max_age: Duration,
    pub max_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_conversations: MAX_CONVERSATIONS,
            max_age: MAX_AGE,
            max_chars: MAX_CONVERSATION_CHARS,
        }
    }
}

/// One conversation as it is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// The backend conversation id (a UUIDv7): the `session-id`, `thread-id` and
    /// `x-client-request-id` headers and the prompt cache key.
    pub session_id: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub system_prompt: Option<String>,
    #[serde(default)]
    pub turns: Vec<Turn>,
}

impl Default for Conversation {
    fn default() -> Self {
        Self::new()
    }
}

impl Conversation {
    /// A conversation with no turns yet and a new backend id.
    pub fn new() -> Self {
        Self {
            session_id: new_conversation_id(),
            model: None,
            system_prompt: None,
            turns: Vec::new(),
        }
    }

    /// How many of the oldest turns to leave out (whole user+assistant exchanges) so that the
    /// turns, plus `extra` characters, fit in `max_chars`; the last `keep` turns always stay.
    pub fn overflow(&self, extra: usize, max_chars: usize, keep: usize) -> usize {
        let chars = |t: &Turn| t.text.chars().count();
        let mut total = self.turns.iter().map(chars).sum::<usize>() + extra;
        let mut skip = 0;
        while total > max_chars && self.turns.len() - skip > keep {
            let n = 2.min(self.turns.len() - skip - keep);
            total -= self.turns[skip..skip + n].iter().map(chars).sum::<usize>();
            skip += n;
        }
        skip
    }
}

impl Conversation {
    /// The turns from the `skip`-th on, as they are sent again: each passed through the
    /// secret filter, so what a turn once carried (a pasted key, an answer quoting one) does
    /// not leave with every follow-up.
    pub fn history(&self, skip: usize) -> Vec<Turn> {
        self.turns
            .iter()
            .skip(skip)
            .map(|t| Turn {
                role: t.role,
                text: crate::files::redact(&t.text).0,
            })
            .collect()
    }
}

/// Whether `id` is a conversation id this program makes: a UUIDv7 in its canonical form
/// (lowercase, hyphenated). Nothing else ever becomes a file name.
pub fn is_conversation_id(id: &str) -> bool {
    id.len() == 36
        && uuid::Uuid::try_parse(id)
            .is_ok_and(|u| u.get_version_num() == 7 && u.hyphenated().to_string() == id)
}

/// A new conversation id (a UUIDv7).
pub fn new_id() -> String {
    new_conversation_id()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_sent_again_passes_the_secret_filter() {
        let mut c = Conversation::new();
        c.turns.push(Turn::user("first"));
        c.turns.push(Turn::assistant("ok"));
        c.turns.push(Turn::user(
            "deploy with\nexport DB_PASSWORD=pasted-secret-77\nplease",
        ));
        c.turns.push(Turn::assistant(
            "Set `token: hvs.AbCdEfGhIjKlMnOpQrStUvWxYz012345`.",
        ));
        let h = c.history(2);
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].role, c.turns[2].role);
        assert!(!h[0].text.contains("pasted-secret-77"), "{}", h[0].text);
        assert!(h[0].text.ends_with("\nplease"), "{}", h[0].text);
        assert!(!h[1].text.contains("hvs.AbCd"), "{}", h[1].text);
        // What is kept on disk is what was said; only what is sent again is filtered.
        assert!(c.turns[2].text.contains("pasted-secret-77"));
    }

    #[test]
    fn only_canonical_uuidv7_ids_are_conversation_ids() {
        let good = new_id();
        assert!(is_conversation_id(&good));
        let v4 = uuid::Uuid::new_v4().to_string();
        for bad in [
            "",
            "nope",
            "../state",
            "../../etc/passwd",
            "0190a8e2-1c3b-7def-8abc-0123456789ab/../x",
            &v4,
            &good.to_uppercase(),
            &good.replace('-', ""),
            &format!("{{{good}}}"),
            &format!("{good}.json"),
            &format!("urn:uuid:{good}"),
        ] {
            assert!(!is_conversation_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_oldest_exchanges_are_left_out_past_the_size() {
        let mut c = Conversation::new();
        for n in 0..4 {
            c.turns.push(Turn::user(format!("q{n}-").repeat(10))); // 30 chars
            c.turns.push(Turn::assistant("a".repeat(70)));
        }
        // 400 in all: with a 50-char prompt it fits in 450, with a 51-char one not.
        assert_eq!(c.overflow(50, 450, 0), 0);
        assert_eq!(c.overflow(51, 450, 0), 2, "one exchange, both its turns");
        assert_eq!(c.overflow(0, 150, 0), 6);
        assert_eq!(c.overflow(1000, 10, 0), 8, "a prompt past the limit alone");
        assert_eq!(c.overflow(1000, 10, 2), 6, "the last exchange kept");
    }
}
