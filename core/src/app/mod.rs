//! The use cases, one call each, that every front end (the MCP tools, the CLI, the tray's
//! commands) makes: the accounts registry, signing in, asking Codex, a review. A front end parses
//! its input, makes one call here, and shapes the typed answer.

pub mod accounts;
mod ask;
mod registry;
mod review;
pub mod signin;
mod task;

pub use ask::{Ask, Asked, Call, MAX_PROMPT_BYTES, Step, ask};
pub use registry::{Accounts, DefaultFrom};
pub use review::{ReviewAsk, Reviewed, change_of, review, review_change};
pub use task::{TASK_FRAMING, TaskAsk, TaskCall, TaskDone, task};
