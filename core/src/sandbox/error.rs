//! What can go wrong running a sandboxed command, each said so a person can act on it.

use std::path::PathBuf;

/// A failure of the sandbox itself (never of the command: a command that fails is an
/// [`Output`](super::Output) with its exit code).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// No sandbox can be set up on this machine: commands must not run (never unconfined).
    #[error("no sandbox is available here: {reason}")]
    Unavailable { reason: String },

    /// The command's description was not usable.
    #[error("bad sandbox spec: {0}")]
    BadSpec(String),

    /// A folder the sandbox needs is missing or unreadable.
    #[error("cannot use {path} in the sandbox: {detail}")]
    Path { path: PathBuf, detail: String },

    /// A step of setting the sandbox up failed (in the launcher).
    #[error("setting up the sandbox failed at {step}: {detail}")]
    Setup { step: String, detail: String },

    /// The launcher could not be started or watched.
    #[error(
        "cannot run the sandbox launcher {program}: {detail}; check that the bridge binary is installed and executable"
    )]
    Launcher { program: PathBuf, detail: String },
}

impl SandboxError {
    /// A failed set-up step, from the system error that ended it.
    pub(crate) fn setup(step: &str, err: impl std::fmt::Display) -> Self {
        Self::Setup {
            step: step.to_owned(),
            detail: err.to_string(),
        }
    }
}
