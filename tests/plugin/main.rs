//! The Claude Code plugin (`plugin/`) and the marketplace entry (`.claude-plugin/`), checked
//! against Claude Code's documented fields and against the real bridge: every tool a command
//! names is one the bridge lists, and `plugin/.mcp.json`, expanded as Claude Code expands it,
//! starts a bridge that answers. Also `codex-mcp-bridge plugin-config`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod cli;
mod expand;
mod frontmatter;
mod hooks;
mod manifests;
mod mcp_json;
