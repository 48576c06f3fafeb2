//! The Codex backend client (PROTOCOL.md §6): answers over Server-Sent Events, the model list
//! (cached on disk with its ETag) and the plan's usage.

mod client;
mod models;
mod ratelimits;
mod request;
mod sse;
mod usage;

pub use client::{CodexClient, CodexOptions};
pub use models::{FALLBACK_MODEL, Model, ModelList, ModelSource, ReasoningLevel};
pub use ratelimits::{Credits, RateLimits, Window};
pub use request::{
    Answer, DEFAULT_INSTRUCTIONS, ReasoningEffort, ResponseRequest, Role, TokenUsage, Turn,
};
#[doc(hidden)]
pub use sse::{StreamOutcome, read_chunks};
pub use usage::Usage;
