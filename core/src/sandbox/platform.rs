//! Whether this machine can sandbox a command, and the launcher's entry point, per platform.

use std::convert::Infallible;
use std::ffi::OsString;

use serde::Serialize;

use super::SandboxError;
use super::spec::{SETUP_ERROR_PREFIX, SETUP_FAILED_EXIT, Spec};

/// Whether commands can be sandboxed here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Availability {
    /// They can (Linux: the Landlock ABI in force).
    Available { landlock_abi: u32 },
    /// They cannot: why, and what would fix it. `exec_command` must not be offered.
    Unavailable { reason: String },
}

/// Whether this machine has what the sandbox needs (read from the system, nothing started;
/// [`Sandbox::probe`](super::Sandbox::probe) tries it for real).
pub fn availability() -> Availability {
    #[cfg(target_os = "linux")]
    {
        linux_availability()
    }
    #[cfg(not(target_os = "linux"))]
    {
        Availability::Unavailable {
            reason: "commands can be sandboxed only on Linux for now (macOS Seatbelt is to come)"
                .into(),
        }
    }
}

#[cfg(target_os = "linux")]
fn linux_availability() -> Availability {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_owned())
    };
    let unavailable = |reason: &str| Availability::Unavailable {
        reason: reason.to_owned(),
    };
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return unavailable(
            "unprivileged user namespaces are off; turn them on with \
             `sysctl kernel.unprivileged_userns_clone=1`",
        );
    }
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return unavailable(
            "user namespaces are off; turn them on with `sysctl user.max_user_namespaces=15000`",
        );
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        return unavailable(
            "AppArmor restricts unprivileged user namespaces; allow them for codex-mcp-bridge \
             with an AppArmor profile, or `sysctl kernel.apparmor_restrict_unprivileged_userns=0`",
        );
    }
    match super::landlock::abi() {
        Some(abi) => Availability::Available { landlock_abi: abi },
        None => unavailable(
            "Landlock is not enabled in this kernel (Linux 5.13 or later, with landlock in the \
             `lsm=` boot parameter)",
        ),
    }
}

/// Enter the sandbox described by `spec` and run its command in place of this process. Call
/// it from a fresh process before it starts any thread (the bridge's `__sandbox-exec`).
pub fn enter_and_exec(spec: &Spec) -> Result<Infallible, SandboxError> {
    #[cfg(target_os = "linux")]
    {
        super::linux::enter_and_exec(spec)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = spec;
        Err(SandboxError::Unavailable {
            reason: "commands can be sandboxed only on Linux for now".into(),
        })
    }
}

/// The whole launcher: `args` are those after the hidden first argument (one: the spec as
/// JSON). Runs the command, or says on stderr why the sandbox could not be set up and returns
/// [`SETUP_FAILED_EXIT`].
pub fn launcher_main(args: &[OsString]) -> i32 {
    let err = match args {
        [arg] => match arg.to_str().map(Spec::from_arg) {
            Some(Ok(spec)) => match enter_and_exec(&spec) {
                Ok(never) => match never {},
                Err(e) => e,
            },
            Some(Err(e)) => e,
            None => SandboxError::BadSpec("the spec is not UTF-8".into()),
        },
        _ => SandboxError::BadSpec(format!(
            "the launcher takes one argument (the spec as JSON), not {}",
            args.len()
        )),
    };
    eprintln!("{SETUP_ERROR_PREFIX}{err}");
    SETUP_FAILED_EXIT
}
