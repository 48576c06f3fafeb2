//! `codex-mcp-bridge __sandbox-exec <spec JSON>`: the sandbox launcher. The bridge starts its
//! own binary this way for each command a task runs; this process enters the sandbox before it
//! has any thread (no tokio runtime, no clap, no logging) and becomes `/bin/sh -c <command>`.

use std::ffi::OsString;
use std::process::ExitCode;

use codex_oauth_core::sandbox;

/// The launcher's arguments when `args` (all of them, the program first) ask for it.
pub fn requested(args: &[OsString]) -> Option<&[OsString]> {
    match args {
        [_, first, rest @ ..] if first == sandbox::LAUNCHER_ARG => Some(rest),
        _ => None,
    }
}

/// Enter the sandbox and run the command; returns only when that could not be done.
pub fn main(args: &[OsString]) -> ExitCode {
    let code = sandbox::launcher_main(args);
    ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_first_argument_of_sandbox_exec_makes_a_launcher() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            requested(&args(&["bridge", "__sandbox-exec", "{}"])),
            Some(&args(&["{}"])[..])
        );
        assert_eq!(
            requested(&args(&["bridge", "status", "__sandbox-exec"])),
            None
        );
        assert_eq!(requested(&args(&["bridge"])), None);
    }
}
