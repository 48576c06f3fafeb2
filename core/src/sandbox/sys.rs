//! Thin wrappers over the Linux system calls the launcher makes. Each returns the system's error;
//! none is called from a multi-threaded process (the launcher is single-threaded).

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

// Stable kernel ABI values (linux/mount.h, linux/capability.h).
const OPEN_TREE_CLONE: libc::c_uint = 1;
const AT_RECURSIVE: libc::c_uint = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const CAP_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A path as a C string.
pub fn cpath(path: &Path) -> io::Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
}

/// unshare(2).
#[allow(unsafe_code)]
pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare takes flags only and touches no memory of ours.
    check(unsafe { libc::unshare(flags) }.into()).map(drop)
}

/// What fork(2) made of this process.
pub enum Fork {
    Parent(libc::pid_t),
    Child,
}

/// fork(2) (the caller is single-threaded, so the child may allocate).
#[allow(unsafe_code)]
pub fn fork() -> io::Result<Fork> {
    // SAFETY: the launcher is single-threaded, so the child is a full copy with no lock held by
    // another thread.
    let pid = check(unsafe { libc::fork() }.into())?;
    Ok(match pid {
        0 => Fork::Child,
        pid => Fork::Parent(pid as libc::pid_t),
    })
}

/// How a child ended.
pub enum Ended {
    Exited(i32),
    Signaled(i32),
}

/// waitpid(2) for `pid` (-1: any child), retried on EINTR: the pid that ended and how.
#[allow(unsafe_code)]
pub fn wait(pid: libc::pid_t) -> io::Result<(libc::pid_t, Ended)> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid int for the kernel to write.
        let got = unsafe { libc::waitpid(pid, &mut status, 0) };
        if got < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if libc::WIFEXITED(status) {
            return Ok((got, Ended::Exited(libc::WEXITSTATUS(status))));
        }
        if libc::WIFSIGNALED(status) {
            return Ok((got, Ended::Signaled(libc::WTERMSIG(status))));
        }
    }
}

/// _exit(2): leave now, without running anything of the parent's copied state.
#[allow(unsafe_code)]
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and needs no state.
    unsafe { libc::_exit(code) }
}

/// Be killed when the parent (the launcher) dies.
#[allow(unsafe_code)]
pub fn die_with_parent() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) }.into())
        .map(drop)
}

/// alarm(2): a backstop that ends this process after `seconds`.
#[allow(unsafe_code)]
pub fn alarm(seconds: u32) {
    // SAFETY: alarm takes an integer and cannot fail.
    unsafe { libc::alarm(seconds) };
}

/// mount(2).
#[allow(unsafe_code)]
pub fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> io::Result<()> {
    let ptr = |s: Option<&CStr>| s.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: every pointer is null or a NUL-terminated string that outlives the call.
    let ret = unsafe {
        libc::mount(
            ptr(source),
            target.as_ptr(),
            ptr(fstype),
            flags,
            ptr(data).cast(),
        )
    };
    check(ret.into()).map(drop)
}

/// open_tree(2) with OPEN_TREE_CLONE | AT_RECURSIVE: a detached copy of the mount tree at
/// `path`, to attach elsewhere later (even after `path` is hidden).
#[allow(unsafe_code)]
pub fn clone_tree(path: &CStr) -> io::Result<OwnedFd> {
    let flags = OPEN_TREE_CLONE | AT_RECURSIVE | libc::O_CLOEXEC as libc::c_uint;
    // SAFETY: `path` is NUL-terminated; the kernel returns a new fd we then own.
    let fd =
        check(unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) })?;
    // SAFETY: `fd` is a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// mount_setattr(2) on a whole detached tree: add `set` (MOUNT_ATTR_*).
#[allow(unsafe_code)]
pub fn set_tree_attrs(tree: &OwnedFd, set: u64) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = libc::AT_EMPTY_PATH as libc::c_uint | AT_RECURSIVE;
    // SAFETY: an empty path with AT_EMPTY_PATH names the fd itself; `attr` is a valid struct
    // of the size passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    check(ret).map(drop)
}

/// move_mount(2): attach a detached tree at `target`.
#[allow(unsafe_code)]
pub fn attach_tree(tree: &OwnedFd, target: &CStr) -> io::Result<()> {
    // SAFETY: both paths are NUL-terminated; the fd is a detached tree we own.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    check(ret).map(drop)
}

/// pivot_root(".", ".") in the current folder, then detach the old root stacked on it: the
/// current folder becomes `/` and nothing of the old root stays reachable.
#[allow(unsafe_code)]
pub fn pivot_here() -> io::Result<()> {
    // SAFETY: both arguments are NUL-terminated static strings.
    check(unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) })?;
    // SAFETY: a static NUL-terminated path.
    check(unsafe { libc::umount2(c".".as_ptr(), libc::MNT_DETACH) }.into()).map(drop)
}

/// Set no_new_privs: nothing exec'd can gain privileges (needed for Landlock).
#[allow(unsafe_code)]
pub fn no_new_privs() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }.into()).map(drop)
}

/// Drop every capability: the ambient set, the bounding set, then effective, permitted and
/// inheritable (so a command running as uid 0 in the namespace gets none back at exec).
#[allow(unsafe_code)]
pub fn drop_capabilities() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    check(
        unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL,
                0,
                0,
                0,
            )
        }
        .into(),
    )?;
    for cap in 0..64 {
        // SAFETY: prctl with integer arguments only; EINVAL past the last capability.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINVAL) {
                break;
            }
            return Err(err);
        }
    }
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: a v3 header and two data structs, as capset(2) reads for version 3.
    check(unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut CapHeader,
            data.as_ptr(),
        )
    })
    .map(drop)
}

/// chdir(2).
pub fn chdir(path: &Path) -> io::Result<()> {
    std::env::set_current_dir(path)
}

/// execve(2) of `/bin/sh -c command` with exactly `env`: returns only on failure.
#[allow(unsafe_code)]
pub fn exec_shell(command: &str, env: &[(String, String)]) -> io::Error {
    let args = match [c"sh".to_owned(), c"-c".to_owned()]
        .into_iter()
        .map(Ok)
        .chain([CString::new(command)])
        .collect::<Result<Vec<CString>, _>>()
    {
        Ok(args) => args,
        Err(e) => return io::Error::new(io::ErrorKind::InvalidInput, e),
    };
    let env = match env
        .iter()
        .map(|(k, v)| CString::new(format!("{k}={v}")))
        .collect::<Result<Vec<CString>, _>>()
    {
        Ok(env) => env,
        Err(e) => return io::Error::new(io::ErrorKind::InvalidInput, e),
    };
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: argv and envp are null-terminated arrays of NUL-terminated strings that outlive
    // the call; execve returns only on failure.
    unsafe { libc::execve(c"/bin/sh".as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    io::Error::last_os_error()
}
