//! The conversations of `codex_query`, for `conversation_id`: core's per-profile store on disk
//! (so a conversation outlives this process and is shared with the other bridges), called off the
//! async runtime.

use codex_oauth_core::Settings;
use codex_oauth_core::codex::Turn;
use codex_oauth_core::conversations::{ConversationStore, Limits};

pub use codex_oauth_core::conversations::{Conversation, MAX_CONVERSATIONS, new_id};

pub struct Conversations {
    limits: Limits,
}

impl Conversations {
    pub fn new(limits: Limits) -> Self {
        Self { limits }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn store(&self, settings: &Settings) -> ConversationStore {
        ConversationStore::open(settings, self.limits)
    }

    /// The conversation `id` of the settings' profile; `None` when there is none by that id.
    pub async fn get(
        &self,
        settings: &Settings,
        id: &str,
    ) -> codex_oauth_core::Result<Option<Conversation>> {
        let store = self.store(settings);
        let id = id.to_owned();
        blocking(move || store.get(&id)).await
    }

    /// Add a finished exchange to conversation `id` (see [`ConversationStore::append`]).
    pub async fn append(
        &self,
        settings: &Settings,
        id: &str,
        base: Conversation,
        user: Turn,
        assistant: Turn,
    ) -> codex_oauth_core::Result<()> {
        let store = self.store(settings);
        let id = id.to_owned();
        blocking(move || store.append(&id, base, user, assistant)).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> codex_oauth_core::Result<T> + Send + 'static,
) -> codex_oauth_core::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        codex_oauth_core::Error::Internal(format!("the conversation store task failed: {e}"))
    })?
}
