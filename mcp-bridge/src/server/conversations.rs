//! The conversations of this process, for `conversation_id`: the backend keeps nothing
//! (`store: false`), so each follow-up sends the earlier turns again. The least recently used
//! conversation is dropped past the limit.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;

use codex_oauth_core::codex::Turn;

/// How many conversations a process keeps.
pub const MAX_CONVERSATIONS: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub turns: Vec<Turn>,
    /// The backend conversation id (a UUIDv7): the `session-id`, `thread-id` and
    /// `x-client-request-id` headers and the prompt cache key.
    pub session_id: String,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
}

impl Conversation {
    pub fn new() -> Self {
        Self {
            turns: Vec::new(),
            session_id: codex_oauth_core::codex::new_conversation_id(),
            model: None,
            system_prompt: None,
        }
    }
}

pub struct Conversations {
    max: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    clock: u64,
    map: HashMap<String, (u64, Conversation)>,
}

impl Conversations {
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the map half-changed: use it as it is.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of the conversation, marked as just used.
    pub fn get(&self, id: &str) -> Option<Conversation> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        inner.map.get_mut(id).map(|(used, c)| {
            *used = now;
            c.clone()
        })
    }

    /// How many conversations are kept.
    pub fn capacity(&self) -> usize {
        self.max
    }

    /// Add a finished exchange to conversation `id`: created from `base` when it is not kept,
    /// else with `base`'s model and system prompt (a turn may switch them).
    pub fn append(&self, id: &str, base: Conversation, user: Turn, assistant: Turn) {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let entry = match inner.map.entry(id.to_owned()) {
            Entry::Occupied(o) => {
                let e = o.into_mut();
                e.1.model = base.model;
                e.1.system_prompt = base.system_prompt;
                e
            }
            Entry::Vacant(v) => v.insert((now, base)),
        };
        entry.0 = now;
        entry.1.turns.push(user);
        entry.1.turns.push(assistant);
        while inner.map.len() > self.max {
            let oldest = inner
                .map
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    inner.map.remove(&k);
                }
                None => break,
            }
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn an_exchange_is_kept_and_continued() {
        let c = Conversations::new(5);
        assert!(c.get("a").is_none());
        let mut base = Conversation::new();
        base.model = Some("m".into());
        c.append("a", base.clone(), Turn::user("q1"), Turn::assistant("a1"));
        let mut next = Conversation::new();
        next.model = Some("m2".into());
        c.append("a", next, Turn::user("q2"), Turn::assistant("a2"));
        let got = c.get("a").unwrap();
        assert_eq!(got.session_id, base.session_id, "the session id stays");
        assert_eq!(
            got.model.as_deref(),
            Some("m2"),
            "the last model chosen is kept"
        );
        let texts: Vec<_> = got.turns.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, vec!["q1", "a1", "q2", "a2"]);
    }

    #[test]
    fn the_least_recently_used_conversation_is_dropped_past_the_limit() {
        let c = Conversations::new(3);
        for id in ["a", "b", "c"] {
            c.append(id, Conversation::new(), Turn::user(id), Turn::assistant(id));
        }
        // Using "a" makes "b" the oldest.
        assert!(c.get("a").is_some());
        c.append(
            "d",
            Conversation::new(),
            Turn::user("d"),
            Turn::assistant("d"),
        );
        assert_eq!(c.len(), 3);
        assert!(c.get("b").is_none());
        for id in ["a", "c", "d"] {
            assert!(c.get(id).is_some(), "{id}");
        }
    }

    #[test]
    fn fifty_is_the_default_limit() {
        let c = Conversations::new(MAX_CONVERSATIONS);
        for i in 0..60 {
            let id = format!("c{i}");
            c.append(
                &id,
                Conversation::new(),
                Turn::user("q"),
                Turn::assistant("a"),
            );
        }
        assert_eq!(c.len(), 50);
        assert!(c.get("c9").is_none());
        assert!(c.get("c10").is_some());
        assert!(c.get("c59").is_some());
    }
}
