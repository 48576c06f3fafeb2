//! The MCP server that `codex-mcp-bridge` runs with no subcommand: stdio, stdout for JSON-RPC
//! only, the tools of DESIGN.md over the shared credential store.

mod answers;
pub(crate) mod args;
mod elicit;
mod format;
mod framing;
pub(crate) mod jobs;
mod login;
mod progress;
mod runner;
mod schemas;
mod serve;
mod tools;
pub(crate) mod work;
mod workspace;

pub use args::DEFAULT_MAX_OUTPUT_CHARS;
#[doc(hidden)]
pub use args::{LoginArgs, LoginMethod, QueryArgs, decode_args};
pub use codex_oauth_core::conversations::MAX_CONVERSATIONS;
pub use runner::run as run_job;
pub use serve::run;
pub use tools::{CodexServer, MAX_PROMPT_BYTES, SERVER_NAME, ServerOptions};
