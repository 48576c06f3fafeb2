//! The ground floor: the types every layer shares (the plan's rate limits and the effective
//! remaining, the ChatGPT workspace, token usage). Plain data and what follows from it; no I/O.
//! The codex client reads them from the backend's answers, the store keeps them in state.json.

mod ratelimits;
mod token_usage;
mod workspace;

pub use ratelimits::{CODEX_LIMIT, Credits, NamedLimit, RateLimits, Remaining, Window};
pub use token_usage::TokenUsage;
pub use workspace::Workspace;
