//! The sandbox's root: a fresh tmpfs holding only read-only copies of the system's folders and
//! the toolchains, the copy and the temp folder (writable), a few device files and a new /proc;
//! then it becomes `/`. What is not mounted here (the home folder, /run, /tmp, /var, sockets
//! anywhere else) does not exist for the command.

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use super::SandboxError;
use super::spec::{SYSTEM_READ_ONLY, Spec};
use super::sys::{self, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY};

/// The device files a command may use.
pub const DEVICES: [&str; 5] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];
/// Files of the system that hold secrets: empty in the sandbox.
const SYSTEM_SECRETS: [&str; 4] = [
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/shadow-",
    "/etc/gshadow-",
];
/// Where the new root is put together (hidden by it; a folder every system has).
const BUILD_AT: &str = "/tmp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ReadOnly,
    Writable,
    Device,
}

/// The root to build: each host path mounted at the same path, and top-level symlinks
/// (`/bin -> usr/bin` on merged-/usr systems) made again.
#[derive(Debug)]
pub struct Plan {
    pub mounts: Vec<(PathBuf, Kind)>,
    pub symlinks: Vec<(PathBuf, PathBuf)>,
}

impl Plan {
    /// The plan for `spec`: its folders made canonical (they must exist).
    pub fn new(spec: &Spec) -> Result<Self, SandboxError> {
        let mut plan = Plan {
            mounts: Vec::new(),
            symlinks: Vec::new(),
        };
        for sys_path in SYSTEM_READ_ONLY.iter().map(Path::new) {
            match std::fs::symlink_metadata(sys_path) {
                Ok(m) if m.file_type().is_symlink() => {
                    if let Ok(target) = std::fs::read_link(sys_path) {
                        plan.symlinks.push((sys_path.to_owned(), target));
                    }
                }
                Ok(m) if m.is_dir() => plan.mounts.push((sys_path.to_owned(), Kind::ReadOnly)),
                _ => {}
            }
        }
        let homes = user_homes();
        for path in &spec.read_only {
            plan.mounts
                .push((not_a_home(canonical(path)?, &homes)?, Kind::ReadOnly));
        }
        for path in [&spec.root, &spec.temp] {
            plan.mounts
                .push((not_a_home(canonical(path)?, &homes)?, Kind::Writable));
        }
        for dev in DEVICES.iter().map(Path::new).filter(|d| d.exists()) {
            plan.mounts.push((dev.to_owned(), Kind::Device));
        }
        // Parents before children, so a folder nested in another lands on top of it.
        plan.mounts.sort_by_key(|(p, _)| p.components().count());
        Ok(plan)
    }
}

/// The home folders of the people on this machine (root and uids from 1000, from
/// /etc/passwd), made canonical.
fn user_homes() -> Vec<PathBuf> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            let uid: u32 = fields.get(2)?.parse().ok()?;
            let home = Path::new(fields.get(5)?);
            (uid == 0 || (1000..65534).contains(&uid)).then(|| home.canonicalize().ok())?
        })
        .filter(|home| home.parent().is_some())
        .collect()
}

/// Refuse to mount a home folder (or a folder holding one, or holding `.ssh`, `.aws` or
/// `.gnupg`) into the sandbox: its secrets would be there.
fn not_a_home(path: PathBuf, homes: &[PathBuf]) -> Result<PathBuf, SandboxError> {
    let refuse = |why: String| SandboxError::Path {
        path: path.clone(),
        detail: format!("{why}; a home folder is never mounted into the sandbox"),
    };
    if let Some(home) = homes.iter().find(|h| h.starts_with(&path)) {
        return Err(refuse(format!(
            "it holds the home folder {}",
            home.display()
        )));
    }
    if let Some(secret) = [".ssh", ".aws", ".gnupg"]
        .iter()
        .find(|s| path.join(s).exists())
    {
        return Err(refuse(format!("it holds {secret}")));
    }
    Ok(path)
}

fn canonical(path: &Path) -> Result<PathBuf, SandboxError> {
    let real = path.canonicalize().map_err(|e| SandboxError::Path {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    if real.parent().is_none() {
        return Err(SandboxError::Path {
            path: path.to_owned(),
            detail: "the whole filesystem cannot be mounted into the sandbox".into(),
        });
    }
    Ok(real)
}

/// Build the planned root and make it `/` (in a fresh mount namespace, as pid 1 of a fresh PID
/// namespace so /proc shows only the sandbox's processes).
pub fn enter_root(plan: &Plan) -> Result<(), SandboxError> {
    let step = |what: &'static str| move |e: io::Error| SandboxError::setup(what, e);
    sys::mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE, None)
        .map_err(step("making the mounts private"))?;
    let mut trees = Vec::new();
    for (path, kind) in &plan.mounts {
        trees.push(clone(path, *kind).map_err(|e| SandboxError::Path {
            path: path.clone(),
            detail: format!("cannot mount it in the sandbox: {e}"),
        })?);
    }
    let base = Path::new(BUILD_AT);
    sys::mount(
        Some(c"tmpfs"),
        c"/tmp",
        Some(c"tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(c"mode=0755,size=1m"),
    )
    .map_err(step("mounting the new root"))?;
    for ((path, kind), tree) in plan.mounts.iter().zip(&trees) {
        let at = inside(base, path);
        make_mount_point(&at, *kind).map_err(step("making a mount point"))?;
        sys::attach_tree(tree, &sys::cpath(&at).map_err(step("a mount point"))?).map_err(|e| {
            SandboxError::Path {
                path: path.clone(),
                detail: format!("cannot mount it in the sandbox: {e}"),
            }
        })?;
    }
    drop(trees);
    for (link, target) in &plan.symlinks {
        std::os::unix::fs::symlink(target, inside(base, link)).map_err(step("a system symlink"))?;
    }
    dev_links(base).map_err(step("/dev"))?;
    mask_system_secrets(base).map_err(step("masking the system's secrets"))?;
    mount_proc(base);
    sys::chdir(base).map_err(step("entering the new root"))?;
    sys::pivot_here().map_err(step("pivot_root"))?;
    sys::chdir(Path::new("/")).map_err(step("entering the new root"))?;
    let ro = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV;
    sys::mount(None, c"/", None, ro, None).map_err(step("making the new root read-only"))
}

/// A detached copy of `path`'s mounts with `kind`'s flags.
fn clone(path: &Path, kind: Kind) -> io::Result<OwnedFd> {
    let tree = sys::clone_tree(&sys::cpath(path)?)?;
    let attrs = match kind {
        Kind::ReadOnly => MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        Kind::Writable => MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        Kind::Device => MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
    };
    sys::set_tree_attrs(&tree, attrs)?;
    Ok(tree)
}

/// `path` (absolute) under `base`.
fn inside(base: &Path, path: &Path) -> PathBuf {
    base.join(path.strip_prefix("/").unwrap_or(path))
}

fn make_mount_point(at: &Path, kind: Kind) -> io::Result<()> {
    if at.exists() {
        return Ok(());
    }
    match kind {
        Kind::Device => {
            if let Some(parent) = at.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::File::create(at).map(drop)
        }
        _ => std::fs::create_dir_all(at),
    }
}

fn dev_links(base: &Path) -> io::Result<()> {
    let dev = base.join("dev");
    std::fs::create_dir_all(&dev)?;
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(target, dev.join(name))?;
    }
    Ok(())
}

/// The system's own secrets under /etc (readable to a caller running as root): each replaced
/// by an empty file (a bind of /dev/null).
fn mask_system_secrets(base: &Path) -> io::Result<()> {
    let mut secrets: Vec<PathBuf> = SYSTEM_SECRETS.iter().map(PathBuf::from).collect();
    if let Ok(entries) = std::fs::read_dir("/etc/ssh") {
        secrets.extend(entries.flatten().map(|e| e.path()).filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ssh_host_") && n.ends_with("_key"))
        }));
    }
    for secret in secrets.iter().filter(|p| p.is_file()) {
        let at = sys::cpath(&inside(base, secret))?;
        sys::mount(Some(c"/dev/null"), &at, None, libc::MS_BIND, None)?;
    }
    Ok(())
}

/// A /proc of the new PID namespace. Where the kernel refuses one (a container that hides
/// parts of its own /proc), the command runs without /proc: less to see, nothing more.
fn mount_proc(base: &Path) {
    let at = base.join("proc");
    if std::fs::create_dir_all(&at).is_err() {
        return;
    }
    if let Ok(c) = sys::cpath(&at) {
        let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        let _ = sys::mount(Some(c"proc"), &c, Some(c"proc"), flags, None);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_holding_a_home_folder_or_its_secrets_is_never_mounted() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home/me");
        std::fs::create_dir_all(home.join("project")).unwrap();
        let homes = [home.clone()];
        for refused in [dir.path().to_owned(), dir.path().join("home"), home.clone()] {
            let err = not_a_home(refused.clone(), &homes).unwrap_err().to_string();
            assert!(
                err.contains("never mounted"),
                "{}: {err}",
                refused.display()
            );
        }
        assert!(not_a_home(home.join("project"), &homes).is_ok());
        std::fs::create_dir(home.join("project/.aws")).unwrap();
        let err = not_a_home(home.join("project"), &homes)
            .unwrap_err()
            .to_string();
        assert!(err.contains(".aws"), "{err}");
    }

    #[test]
    fn the_plan_mounts_parents_before_children_and_keeps_system_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("copy");
        let temp = root.join(".tmp");
        std::fs::create_dir_all(&temp).unwrap();
        let spec = Spec {
            root: root.clone(),
            temp: temp.clone(),
            read_only: Vec::new(),
            command: "true".into(),
            workdir: "".into(),
            time_limit_ms: 1000,
            env: Default::default(),
        };
        let plan = Plan::new(&spec).unwrap();
        let at = |p: &Path| plan.mounts.iter().position(|(m, _)| m == p).unwrap();
        let (root, temp) = (root.canonicalize().unwrap(), temp.canonicalize().unwrap());
        assert!(at(&root) < at(&temp));
        assert!(
            plan.mounts
                .iter()
                .any(|(p, k)| p == Path::new("/usr") && *k == Kind::ReadOnly)
        );
        assert!(
            !plan
                .mounts
                .iter()
                .any(|(p, _)| p == Path::new("/home") || p == Path::new("/tmp"))
        );
        let missing = Spec {
            root: dir.path().join("missing"),
            ..spec
        };
        assert!(
            Plan::new(&missing)
                .unwrap_err()
                .to_string()
                .contains("missing")
        );
    }
}
