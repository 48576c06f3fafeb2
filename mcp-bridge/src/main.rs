//! The `codex-mcp-bridge` binary: see the library for the server and the CLI.

use std::process::ExitCode;

use clap::Parser;
use codex_mcp_bridge::cli;

mod sandbox_exec;

fn main() -> ExitCode {
    codex_oauth_core::restrict_umask();
    // The sandbox launcher, before clap and before any thread exists.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(launcher_args) = sandbox_exec::requested(&args) {
        return sandbox_exec::main(launcher_args);
    }
    cli::run(cli::Args::parse())
}
