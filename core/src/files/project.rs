//! Where files may be read: the workspace's roots, and the private folders (this project's own
//! store) inside which nothing is ever read, even through a hard link.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The user's project as Codex may see it: the folders files may be read from (the MCP roots
/// the client gave, else the working folder), less the private ones. (Not a ChatGPT workspace:
/// that is `model::Workspace`.)
#[derive(Debug, Clone)]
pub struct Project {
    /// Canonical (symlinks resolved), existing folders.
    roots: Vec<PathBuf>,
    /// Folders never read from, whatever the roots (this project's own store).
    private: Vec<PathBuf>,
    /// The files of the private folders that have another name too (a hard link), by device
    /// and inode; looked up the first time a file with several names is checked.
    linked: OnceLock<HashSet<(u64, u64)>>,
}

impl Project {
    /// A workspace of these folders; those that do not exist are left out (and logged).
    /// `private`: folders inside which nothing is ever read.
    pub fn new(roots: impl IntoIterator<Item = PathBuf>, private: &[PathBuf]) -> Self {
        let roots = roots
            .into_iter()
            .filter_map(|r| match r.canonicalize() {
                Ok(c) if c.is_dir() => Some(c),
                Ok(c) => {
                    tracing::warn!(root = %c.display(), "a workspace root is not a folder; left out");
                    None
                }
                Err(e) => {
                    tracing::warn!(root = %r.display(), error = %e, "a workspace root cannot be opened; left out");
                    None
                }
            })
            .collect();
        let private = private
            .iter()
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
            .collect();
        Self {
            roots,
            private,
            linked: OnceLock::new(),
        }
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// A path the user gave (relative to a root, or absolute), resolved (symlinks followed)
    /// and checked: inside the workspace, outside its private folders; else why not.
    pub fn resolve(&self, given: &Path) -> Result<PathBuf, String> {
        if self.roots.is_empty() {
            return Err("no workspace: the client gave no folder this server may read".into());
        }
        let path = self.find(given).ok_or("not found in the workspace")?;
        if self.root_of(&path).is_none() {
            return Err(self.outside());
        }
        if self.is_private(&path) {
            return Err("this project's own store (sign-in data)".into());
        }
        Ok(path)
    }

    /// Where `given` (absolute, or relative to the first root that has it) is, symlinks
    /// followed; `None` when it does not exist. Not checked: see [`Project::resolve`].
    pub(super) fn find(&self, given: &Path) -> Option<PathBuf> {
        if given.is_absolute() {
            given.canonicalize().ok()
        } else {
            self.roots
                .iter()
                .find_map(|r| r.join(given).canonicalize().ok())
        }
    }

    /// The roots, for a message: "/home/ada/app, /home/ada/lib".
    pub fn describe_roots(&self) -> String {
        self.roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Why a path outside the roots is not read.
    pub(super) fn outside(&self) -> String {
        format!(
            "outside the workspace ({}); only files inside it are read",
            self.describe_roots()
        )
    }

    /// Whether `path` is inside one of the folders never read from (this project's store), or
    /// is one of their files under another name (a hard link: the same device and inode).
    pub fn is_private(&self, path: &Path) -> bool {
        self.private.iter().any(|p| path.starts_with(p)) || self.links_to_private(path)
    }

    /// Whether `path` (followed if a symlink) is a file of a private folder under another name.
    /// Only a file with more than one name can be: the private folders are looked through
    /// once, the first time one is met.
    #[cfg(unix)]
    fn links_to_private(&self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        meta.is_file()
            && meta.nlink() > 1
            && self
                .linked
                .get_or_init(|| linked_files(&self.private))
                .contains(&(meta.dev(), meta.ino()))
    }

    #[cfg(not(unix))]
    fn links_to_private(&self, _path: &Path) -> bool {
        false
    }

    /// The root `path` (canonical) is inside, if any.
    pub(super) fn root_of(&self, path: &Path) -> Option<&Path> {
        self.roots
            .iter()
            .filter(|r| path.starts_with(r))
            .max_by_key(|r| r.components().count())
            .map(PathBuf::as_path)
    }

    /// How a file is named in what is sent: relative to its root, behind the root's folder name
    /// when there are several roots.
    pub(super) fn display(&self, root: &Path, path: &Path) -> String {
        let rel = path.strip_prefix(root).unwrap_or(path);
        let rel = rel.to_string_lossy().replace('\\', "/");
        if self.roots.len() > 1 {
            let name = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("{name}/{rel}")
        } else {
            rel
        }
    }
}

/// How deep and how far the private folders are looked through for files with several names
/// (the store: `<home>/<profile>/conversations/<file>`, `<home>/<profile>/jobs/<id>/<file>`).
const PRIVATE_DEPTH: usize = 4;
const PRIVATE_MAX: usize = 20_000;

/// The files under `folders` that have more than one name, by device and inode.
#[cfg(unix)]
fn linked_files(folders: &[PathBuf]) -> HashSet<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = HashSet::new();
    for dir in folders {
        let walker = ignore::WalkBuilder::new(dir)
            .standard_filters(false)
            .follow_links(false)
            .max_depth(Some(PRIVATE_DEPTH))
            .build();
        for entry in walker.take(PRIVATE_MAX).flatten() {
            if let Ok(meta) = entry.metadata()
                && meta.is_file()
                && meta.nlink() > 1
            {
                out.insert((meta.dev(), meta.ino()));
            }
        }
    }
    out
}
