//! The launcher's side on Linux: from a fresh single-threaded process, enter new user, mount,
//! network, PID and IPC namespaces, then (as pid 1 of the new PID namespace) build the root,
//! apply Landlock, drop every capability and run the shell; pid 1 waits for it, and when it
//! exits the kernel kills whatever it left behind.

use std::convert::Infallible;
use std::path::Path;

use super::SandboxError;
use super::landlock::{self, Rules};
use super::mounts::{self, DEVICES, Plan};
use super::spec::{SETUP_ERROR_PREFIX, SETUP_FAILED_EXIT, Spec, private_home, private_tmp};
use super::sys::{self, Ended, Fork};

/// Seconds past the time limit after which the launcher ends itself (the runner normally kills
/// it at the limit; this holds when the runner is gone).
const BACKSTOP_GRACE_SECS: u64 = 5;

/// Enter the sandbox and run `spec`'s command; returns only when the sandbox could not be
/// set up. Call it from a process that has no other thread.
pub fn enter_and_exec(spec: &Spec) -> Result<Infallible, SandboxError> {
    spec.check()?;
    for dir in [private_home(&spec.temp), private_tmp(&spec.temp)] {
        std::fs::create_dir_all(&dir).map_err(|e| SandboxError::Path {
            path: dir.clone(),
            detail: e.to_string(),
        })?;
    }
    let plan = Plan::new(spec)?;
    let (uid, gid) = ids();
    let flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWIPC;
    sys::unshare(flags).map_err(|e| SandboxError::Unavailable {
        reason: format!(
            "cannot create user namespaces ({e}); allow unprivileged user namespaces \
             (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)"
        ),
    })?;
    map_ids(uid, gid)?;
    let backstop = spec
        .time_limit()
        .as_secs()
        .saturating_add(BACKSTOP_GRACE_SECS);
    sys::alarm(u32::try_from(backstop).unwrap_or(u32::MAX));
    match sys::fork().map_err(|e| SandboxError::setup("fork", e))? {
        Fork::Parent(pid) => relay(pid),
        Fork::Child => {
            let err = init(&plan, spec);
            eprintln!("{SETUP_ERROR_PREFIX}{err}");
            sys::exit_now(SETUP_FAILED_EXIT)
        }
    }
}

#[allow(unsafe_code)]
fn ids() -> (libc::uid_t, libc::gid_t) {
    // SAFETY: getuid and getgid always succeed and touch no memory.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// Map this user's own ids into the new user namespace (the only mapping allowed unprivileged).
fn map_ids(uid: libc::uid_t, gid: libc::gid_t) -> Result<(), SandboxError> {
    let write = |file: &str, text: String| {
        std::fs::write(format!("/proc/self/{file}"), text)
            .map_err(|e| SandboxError::setup(&format!("writing /proc/self/{file}"), e))
    };
    write("setgroups", "deny".into())?;
    write("uid_map", format!("{uid} {uid} 1"))?;
    write("gid_map", format!("{gid} {gid} 1"))
}

/// The launcher outside the PID namespace: wait for its pid 1 and exit as it did.
fn relay(pid: libc::pid_t) -> Result<Infallible, SandboxError> {
    match sys::wait(pid) {
        Ok((_, Ended::Exited(code))) => sys::exit_now(code),
        Ok((_, Ended::Signaled(sig))) => sys::exit_now(128 + sig),
        Err(e) => Err(SandboxError::setup("waiting for the sandbox", e)),
    }
}

/// pid 1 of the sandbox: set it up, start the shell, reap until the shell ends. Returns only
/// the error that stopped the set-up.
fn init(plan: &Plan, spec: &Spec) -> SandboxError {
    match setup(plan, spec) {
        Ok(()) => {}
        Err(e) => return e,
    }
    let cwd = spec.cwd();
    let env: Vec<(String, String)> = spec.env.clone().into_iter().collect();
    let shell = match sys::fork() {
        Ok(Fork::Child) => {
            if let Err(e) = sys::chdir(&cwd) {
                eprintln!("{SETUP_ERROR_PREFIX}cannot enter {}: {e}", cwd.display());
                sys::exit_now(SETUP_FAILED_EXIT);
            }
            let e = sys::exec_shell(&spec.command, &env);
            eprintln!("{SETUP_ERROR_PREFIX}cannot run /bin/sh: {e}");
            sys::exit_now(SETUP_FAILED_EXIT)
        }
        Ok(Fork::Parent(pid)) => pid,
        Err(e) => return SandboxError::setup("fork", e),
    };
    loop {
        match sys::wait(-1) {
            Ok((pid, Ended::Exited(code))) if pid == shell => sys::exit_now(code),
            Ok((pid, Ended::Signaled(sig))) if pid == shell => sys::exit_now(128 + sig),
            Ok(_) => {}
            Err(e) => return SandboxError::setup("waiting for the shell", e),
        }
    }
}

/// Everything between the namespaces and the shell.
fn setup(plan: &Plan, spec: &Spec) -> Result<(), SandboxError> {
    sys::die_with_parent().map_err(|e| SandboxError::setup("prctl", e))?;
    mounts::enter_root(plan)?;
    let root = spec
        .root
        .canonicalize()
        .map_err(|e| SandboxError::setup("finding the copy in the sandbox", e))?;
    let temp = spec
        .temp
        .canonicalize()
        .map_err(|e| SandboxError::setup("finding the temp folder in the sandbox", e))?;
    let devices: Vec<&Path> = DEVICES
        .iter()
        .map(Path::new)
        .filter(|d| d.exists())
        .collect();
    sys::no_new_privs().map_err(|e| SandboxError::setup("no_new_privs", e))?;
    landlock::restrict(&Rules {
        readable: &[Path::new("/")],
        writable: &[&root, &temp],
        writable_files: &devices,
    })
    .map_err(|e| SandboxError::setup("Landlock", e))?;
    sys::drop_capabilities().map_err(|e| SandboxError::setup("dropping capabilities", e))
}
