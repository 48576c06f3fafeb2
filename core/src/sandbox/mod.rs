//! Running a command with no network, no local service, no secrets, and writes only where
//! allowed (per platform): what a task's `exec_command` runs in.
//!
//! A command runs in a fresh process, never set up from a thread of the caller: [`Sandbox::run`]
//! starts the launcher (the caller's own binary, re-executed) as `<program> <args…> <spec JSON>`,
//! and that process calls [`enter_and_exec`] before it has any thread. On Linux it enters user,
//! mount, network, PID and IPC namespaces, builds a root of read-only system folders plus the copy
//! and the private temp folder, applies Landlock, drops its capabilities and runs `/bin/sh -c`.

mod error;
#[cfg(target_os = "linux")]
mod landlock;
#[cfg(unix)]
mod launch;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod mounts;
mod output;
mod platform;
mod run;
mod spec;
#[cfg(target_os = "linux")]
mod sys;

pub use error::SandboxError;
pub use output::Output;
pub use platform::{Availability, availability, enter_and_exec, launcher_main};
pub use run::{Launcher, Sandbox};
pub use spec::{
    ALLOWED_ENV, DEFAULT_OUTPUT_CAP, DEFAULT_TIME_LIMIT, Enforced, LAUNCHER_ARG,
    SETUP_ERROR_PREFIX, SETUP_FAILED_EXIT, SYSTEM_READ_ONLY, Spec, clean_env, toolchain_paths,
};
