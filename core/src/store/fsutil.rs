//! Files that are private from the moment they exist and replaced atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Create `dir` (and parents) with mode 0700 when missing; an existing folder is left as it is
/// (it may be the user's own, e.g. CODEX_OAUTH_HOME=~).
pub fn create_dir_private(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io("create the folder", dir, e))
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))
}

/// Create `dir` (and parents) with mode 0700, and tighten it if it already exists wider.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.is_dir() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::io("create the folder", dir, e))?;
        }
        let meta = fs::metadata(dir).map_err(|e| Error::io("read", dir, e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::io("make private the folder", dir, e))?;
        }
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))?;
    Ok(())
}

/// Replace `path` with `bytes`: a 0600 temp file in the same folder, written, fsynced, renamed over,
/// then the folder fsynced. A reader sees the old content or the new, never a mix; nobody else
/// can read it at any moment (the temp file is created 0600, whatever the umask).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("{} has no parent folder", path.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // tempfile creates the file with O_EXCL and mode 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", tmp.path().to_path_buf(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("flush to disk", tmp.path().to_path_buf(), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    sync_dir(dir)
}

/// Whether `size` bytes can be written in `dir` now: a private temp file of that size, written and
/// synced, then removed (tempfile removes it on drop, also when a write fails).
pub fn check_writable(dir: &Path, size: usize) -> Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".write-check.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))?;
    tmp.write_all(&vec![b'\n'; size])
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io("write", dir, e))?;
    tmp.close()
        .map_err(|e| Error::io("remove a temporary file in", dir, e))
}

/// Make a rename or unlink in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let d = fs::File::open(dir).map_err(|e| Error::io("open the folder", dir, e))?;
        d.sync_all()
            .map_err(|e| Error::io("flush the folder", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Read a file; `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Remove a file; false when it was not there.
pub fn remove_optional(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => {
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("delete", path, e)),
    }
}

/// Move a file that cannot be parsed out of the way (`<name>.corrupt-<time>`) and return the new
/// path, when it still holds the bytes `read`; `None` when it changed meanwhile (read it again).
/// The copy is not overwritten; sign-out removes it (it may hold a secret).
pub fn quarantine(path: &Path, read: &[u8]) -> Result<Option<PathBuf>> {
    // Another process may have replaced the file since it was read (writes are atomic renames):
    // then it is the other's new file, not the damaged one, and it stays.
    if read_optional(path)?.as_deref() != Some(read) {
        return Ok(None);
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut target = path.with_file_name(format!("{name}.corrupt-{stamp}"));
    let mut n = 1;
    while target.exists() {
        target = path.with_file_name(format!("{name}.corrupt-{stamp}-{n}"));
        n += 1;
    }
    fs::rename(path, &target).map_err(|e| Error::io("move aside the corrupt file", path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(Some(target))
}

/// How deep and how far a store folder is looked through for what others may open
/// (`<profile>/conversations/<file>`, `<profile>/jobs/<id>/<file>`).
const OPEN_DEPTH: usize = 3;
const OPEN_MAX: usize = 5_000;

/// The folder `dir`, and the files and folders under it, that other users may open (any of the
/// group's and others' permission bits set), with their mode (0644). Links are not followed.
pub fn open_to_others(dir: &Path) -> Vec<(PathBuf, u32)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let walker = ignore::WalkBuilder::new(dir)
            .standard_filters(false)
            .follow_links(false)
            .max_depth(Some(OPEN_DEPTH))
            .build();
        let mut found: Vec<(PathBuf, u32)> = walker
            .take(OPEN_MAX)
            .flatten()
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                let mode = meta.permissions().mode() & 0o7777;
                ((meta.is_file() || meta.is_dir()) && mode & 0o077 != 0)
                    .then(|| (e.into_path(), mode))
            })
            .collect();
        found.sort();
        found
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Vec::new()
    }
}

/// Make private again what [`open_to_others`] found: files 0600, folders 0700. What cannot be
/// changed is logged and left (the next write tries again).
pub fn make_private(found: &[(PathBuf, u32)]) {
    #[cfg(unix)]
    for (path, mode) in found {
        use std::os::unix::fs::PermissionsExt;
        let private = if path.is_dir() { 0o700 } else { 0o600 };
        match fs::set_permissions(path, fs::Permissions::from_mode(private)) {
            Ok(()) => {
                tracing::info!(path = %path.display(), was = format!("{mode:04o}"), now = format!("{private:04o}"), "made a store file private again")
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot make a store file private")
            }
        }
    }
    #[cfg(not(unix))]
    let _ = found;
}

/// Create (if needed) a private file without truncating it: for the lock file.
pub fn open_private(path: &Path) -> Result<fs::File> {
    let mut opts = fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map_err(|e| Error::io("open", path, e))
}

/// Make every file this process creates from now on private to the user (umask 077): log files,
/// caches, temp files. The store sets its own modes anyway; this covers everything else.
pub fn restrict_umask() {
    #[cfg(unix)]
    #[allow(unsafe_code)]
    // SAFETY: umask(2) only sets this process's file-creation mask and cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn files_and_folders_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        ensure_private_dir(&sub).unwrap();
        assert_eq!(
            fs::metadata(&sub).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let p = sub.join("auth.json");
        write_atomic(&p, b"x").unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&sub).unwrap();
        assert_eq!(
            fs::metadata(&sub).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[cfg(unix)]
    #[test]
    fn what_others_may_open_is_found_and_made_private_again() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("default");
        ensure_private_dir(&profile.join("conversations")).unwrap();
        write_atomic(&profile.join("auth.json"), b"{}").unwrap();
        write_atomic(&profile.join("conversations/c.json"), b"{}").unwrap();
        assert_eq!(open_to_others(&profile), []);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let set = |p: &Path, m: u32| fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
        set(&profile.join("auth.json"), 0o644);
        set(&profile.join("conversations/c.json"), 0o640);
        set(&profile, 0o755);
        let found = open_to_others(&profile);
        assert_eq!(
            found,
            [
                (profile.clone(), 0o755),
                (profile.join("auth.json"), 0o644),
                (profile.join("conversations/c.json"), 0o640)
            ]
        );
        make_private(&found);
        assert_eq!(open_to_others(&profile), []);
        assert_eq!(mode(&profile), 0o700);
        assert_eq!(mode(&profile.join("auth.json")), 0o600);
        assert_eq!(mode(&profile.join("conversations/c.json")), 0o600);
    }

    #[test]
    fn quarantine_keeps_the_bad_file_under_a_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        fs::write(&p, b"{garbage").unwrap();
        let moved = quarantine(&p, b"{garbage").unwrap().unwrap();
        assert!(!p.exists());
        assert_eq!(fs::read(&moved).unwrap(), b"{garbage");
        assert!(
            moved
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("state.json.corrupt-")
        );
        fs::write(&p, b"again").unwrap();
        let moved2 = quarantine(&p, b"again").unwrap().unwrap();
        assert_ne!(moved, moved2);
    }

    #[test]
    fn a_file_replaced_since_it_was_read_is_not_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.json");
        fs::write(&p, b"{\"new\": \"record\"}").unwrap();
        assert_eq!(quarantine(&p, b"{garbage").unwrap(), None);
        assert_eq!(fs::read(&p).unwrap(), b"{\"new\": \"record\"}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
