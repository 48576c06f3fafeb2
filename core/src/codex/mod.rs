//! The Codex backend client (PROTOCOL.md §6): answers over Server-Sent Events in the standard or
//! Responses-Lite shape, the model catalog (cached on disk with its ETag), the plan's usage and
//! the workspace routing.

mod client;
mod models;
mod ratelimits;
mod request;
mod sse;
mod usage;
mod wire;
mod workspace;

pub use client::{API_KEY_DEFAULT_MODEL, CodexClient, CodexOptions};
pub use models::{Model, ModelList, ModelSource, ReasoningLevel, Upgrade};
pub use request::{
    Answer, FRAMING, LITE_HEADER, ResponseRequest, Role, Shape, ToolCall, ToolInput, Turn,
    new_conversation_id,
};
#[doc(hidden)]
pub use sse::{StreamOutcome, read_chunks};
pub use usage::Usage;
pub use workspace::parse_accounts_check;
