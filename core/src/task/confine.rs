//! Paths held inside a folder: a relative path with no way out (no absolute path, no `..` above
//! the folder), and no symbolic link anywhere along it, so a write never lands outside.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

/// `path` as a clean relative path inside the folder: `.` dropped, `a/../b` folded to `b`.
/// Refused: an empty path, an absolute one (or a drive), and a `..` that climbs above the
/// folder. The error says why, for a person.
pub(super) fn relative(path: &str) -> Result<PathBuf, String> {
    let mut clean = PathBuf::new();
    for part in Path::new(path).components() {
        match part {
            Component::Normal(name) => clean.push(name),
            Component::CurDir => {}
            Component::ParentDir => {
                if !clean.pop() {
                    return Err(format!(
                        "`{path}` leaves the project's folder (`..`): only paths inside it may be written"
                    ));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "`{path}` is an absolute path: give a path relative to the project's folder"
                ));
            }
        }
    }
    if clean.as_os_str().is_empty() {
        return Err(format!("`{path}` names no file"));
    }
    Ok(clean)
}

/// Whether `rel` (a clean relative path) names a file of a `.git` folder, which is never
/// written through a patch.
pub(super) fn in_git_folder(rel: &Path) -> bool {
    rel.components().any(|c| {
        c.as_os_str()
            .to_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(".git"))
    })
}

/// Refuses when a part of `root/rel` that exists is a symbolic link (the last part included
/// unless `last_may_be_link`), or when a folder along it is a file. A part that does not
/// exist ends the check: what is under it does not exist either.
pub(super) fn no_link_along(root: &Path, rel: &Path, last_may_be_link: bool) -> Result<(), String> {
    let mut at = root.to_path_buf();
    let parts: Vec<Component<'_>> = rel.components().collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let last = i + 1 == parts.len();
        let shown = || {
            parts[..=i]
                .iter()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        };
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                if last && last_may_be_link {
                    return Ok(());
                }
                return Err(format!(
                    "`{}` is a symbolic link: writes never go through a link (it may point outside the project)",
                    shown()
                ));
            }
            Ok(meta) if !last && !meta.is_dir() => {
                return Err(format!("`{}` is a file, not a folder", shown()));
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("cannot read `{}`: {e}", shown())),
        }
    }
    Ok(())
}
