//! `plugin-config`: how to add this very binary to Claude Code without the plugin, as a
//! `claude mcp add` line or as the JSON of a `.mcp.json` file (core's `mcp_config` makes both).
//! Reads no credentials, writes nothing.

use std::process::ExitCode;

use codex_oauth_core::Settings;
use codex_oauth_core::mcp_config::{mcp_add_line, mcp_json, server_env};

use super::output::{fail_line, info, result_line};

/// Print the `claude mcp add` line (or, with `json`, the `.mcp.json` snippet) for the running binary.
pub fn run(settings: &Settings, json: bool) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            fail_line(&format!(
                "cannot tell where this program is ({e}); use the path of codex-mcp-bridge yourself"
            ));
            return ExitCode::from(1);
        }
    };
    let exe = exe.to_string_lossy();
    let env = server_env(settings);
    if json {
        info(
            "Put this in .mcp.json (a project) or pass the \"codex\" object to `claude mcp add-json codex`:",
        );
        result_line(&mcp_json(&exe, &env));
    } else {
        info(
            "Add codex-mcp-bridge to Claude Code for all your projects (use this or the plugin, not both):",
        );
        result_line(&mcp_add_line(&exe, &env));
        info("For a project's .mcp.json instead: codex-mcp-bridge plugin-config --json");
    }
    ExitCode::SUCCESS
}
