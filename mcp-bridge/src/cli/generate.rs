//! `completions` and `man`: scripts and man pages generated from the very parser the binary uses
//! (clap_complete, clap_mangen), so they never drift from the flags. Packages install them.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;

use super::Args;
use super::output::{fail_line, result_bytes};

/// The parser as the man pages describe it: no page for the `help` subcommand (`--help` stays).
fn man_command() -> clap::Command {
    Args::command().disable_help_subcommand(true)
}

/// The completion script for `shell`, on stdout. Generated into memory first: clap_complete
/// panics when a write fails (a closed pipe), and a script cut short is worse than none.
pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut cmd = Args::command();
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    result_bytes(&script);
    ExitCode::SUCCESS
}

/// The man page in roff on stdout (`codex-mcp-bridge man | man -l -`), or, with `out_dir`, every
/// page (the main one and one per command) written there.
pub fn man(out_dir: Option<&Path>) -> ExitCode {
    let done = match out_dir {
        Some(dir) => clap_mangen::generate_to(man_command(), dir),
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(man_command())
                .render(&mut page)
                .map(|()| result_bytes(&page))
        }
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            fail_line(&format!("cannot write the man page: {e}"));
            ExitCode::from(1)
        }
    }
}
