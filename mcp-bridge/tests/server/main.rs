//! In-process tests of the MCP server: an rmcp client and the bridge's server over an in-memory
//! pipe, with fake-openai as the OpenAI side. One test binary (run: `cargo test -p codex-mcp-bridge`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod elicit;
mod protocol;
mod query;
mod support;
