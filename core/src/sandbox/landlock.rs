//! Landlock through its three system calls (no allocation-heavy crate in the launcher): writes
//! only under the writable folders, reads and execution anywhere in the (already reduced) root,
//! no TCP bind or connect (ABI 4), no abstract Unix socket or signal out of the sandbox (ABI 6).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::sys::cpath;

const CREATE_RULESET_VERSION: u32 = 1;
const RULE_PATH_BENEATH: libc::c_int = 1;

const EXECUTE: u64 = 1 << 0;
const WRITE_FILE: u64 = 1 << 1;
const READ_FILE: u64 = 1 << 2;
const READ_DIR: u64 = 1 << 3;
const REFER: u64 = 1 << 13;
const TRUNCATE: u64 = 1 << 14;
const IOCTL_DEV: u64 = 1 << 15;
const NET_BIND_TCP: u64 = 1 << 0;
const NET_CONNECT_TCP: u64 = 1 << 1;
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// The Landlock ABI version of this kernel; `None` where Landlock is off or missing.
#[allow(unsafe_code)]
pub fn abi() -> Option<u32> {
    // SAFETY: with a null attr and size 0, the call only returns the version.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(v).ok().filter(|v| *v > 0)
}

/// Every filesystem right the ABI knows.
fn fs_rights(abi: u32) -> u64 {
    let mut all = (1 << 13) - 1;
    if abi >= 2 {
        all |= REFER;
    }
    if abi >= 3 {
        all |= TRUNCATE;
    }
    if abi >= 5 {
        all |= IOCTL_DEV;
    }
    all
}

/// What the sandbox applies, by ABI.
pub struct Rules<'a> {
    /// Read and execute below these (the sandbox's root, `/`).
    pub readable: &'a [&'a Path],
    /// Every right below these (the copy and the temp folder).
    pub writable: &'a [&'a Path],
    /// Files that may also be written (`/dev/null` and the like).
    pub writable_files: &'a [&'a Path],
}

/// Restrict this process (and all it starts) for good; the ABI used.
#[allow(unsafe_code)]
pub fn restrict(rules: &Rules<'_>) -> io::Result<u32> {
    let abi = abi().ok_or_else(|| io::Error::other("Landlock is not enabled in this kernel"))?;
    let all = fs_rights(abi);
    let attr = RulesetAttr {
        handled_access_fs: all,
        handled_access_net: if abi >= 4 {
            NET_BIND_TCP | NET_CONNECT_TCP
        } else {
            0
        },
        scoped: if abi >= 6 {
            SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        } else {
            0
        },
    };
    let size: usize = match abi {
        1..=3 => 8,
        4 | 5 => 16,
        _ => 24,
    };
    // SAFETY: `attr` is valid for `size` bytes (its first fields, as the ABI reads them).
    let fd = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            &attr as *const RulesetAttr,
            size,
            0u32,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    let ruleset = unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) };
    let read = EXECUTE | READ_FILE | READ_DIR;
    let file_rights = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;
    for path in rules.readable {
        add_rule(&ruleset, path, read & all)?;
    }
    for path in rules.writable {
        add_rule(&ruleset, path, all)?;
    }
    for path in rules.writable_files {
        add_rule(&ruleset, path, file_rights & all)?;
    }
    // SAFETY: a ruleset fd we own; no flags.
    if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset.as_raw_fd(), 0u32) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(abi)
}

#[allow(unsafe_code)]
fn add_rule(ruleset: &OwnedFd, path: &Path, access: u64) -> io::Result<()> {
    let c = cpath(path)?;
    // SAFETY: a NUL-terminated path; O_PATH opens it for reference only.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!("{}: {err}", path.display()),
        ));
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    let parent = unsafe { OwnedFd::from_raw_fd(fd) };
    let attr = PathBeneathAttr {
        allowed_access: access,
        parent_fd: parent.as_raw_fd(),
    };
    // SAFETY: `attr` is a valid packed path-beneath struct that outlives the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset.as_raw_fd(),
            RULE_PATH_BENEATH,
            &attr as *const PathBeneathAttr,
            0u32,
        )
    };
    if ret < 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!("{}: {err}", path.display()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_abi_handles_the_rights_it_knows() {
        assert_eq!(fs_rights(1), 0x1fff);
        assert_eq!(fs_rights(2), 0x3fff);
        assert_eq!(fs_rights(4), 0x7fff);
        assert_eq!(fs_rights(7), 0xffff);
    }
}
