//! `codex-mcp-bridge`: with no subcommand, an MCP server over stdio (stdout carries JSON-RPC only);
//! with one, the headless CLI (login, status, token, logout, import-codex).

mod cli;
mod logging;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    cli::run(args)
}
