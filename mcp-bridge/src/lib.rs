//! `codex-mcp-bridge`: with no subcommand, an MCP server over stdio (stdout carries JSON-RPC only);
//! with one, the headless CLI (login, status, token, logout, import-codex, plugin-config, completions, man).

pub mod cli;
mod logging;
mod runtime;
pub mod server;
mod term;
