//! The `codex-mcp-bridge` binary: see the library for the server and the CLI.

use std::process::ExitCode;

use clap::Parser;
use codex_mcp_bridge::cli;

fn main() -> ExitCode {
    codex_oauth_core::restrict_umask();
    cli::run(cli::Args::parse())
}
