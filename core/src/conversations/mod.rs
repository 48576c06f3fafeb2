//! The conversations of `codex_query`, kept per profile so that a `conversation_id` outlives the
//! bridge process that made it: `<profile>/conversations/<id>.json`. The backend keeps nothing
//! (`store: false`), so a follow-up sends the earlier turns again.
//!
//! The folder is 0700 and each file 0600 from the moment it exists, replaced atomically under
//! `conversations/lock` (several bridges may append to one conversation at once). Bounded: at
//! most [`MAX_CONVERSATIONS`] a profile, none unused for longer than [`MAX_AGE`] (both pruned on
//! write, the least recently used first), and at most [`MAX_CONVERSATION_CHARS`] of text in one
//! conversation (the oldest exchanges go first). The files hold what the user sent and what Codex
//! answered, the model and the system prompt: never a token or an account id.

mod conversation;
mod store;

pub use conversation::{
    Conversation, Limits, MAX_AGE, MAX_CONVERSATION_CHARS, MAX_CONVERSATIONS, is_conversation_id,
    new_id,
};
pub use store::ConversationStore;
