//! The private copy: the user's repository as it is now (tracked files with their uncommitted
//! changes, untracked files that are not ignored), secret files by name left out, copied byte
//! for byte into a folder that becomes a fresh git repository whose first commit is that state.
//! The user's repository is only read: its files, index, refs and config stay as they are.

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use git2::{Repository, RepositoryInitOptions, Signature, Status, StatusOptions};
use schemars::JsonSchema;
use serde::Serialize;

use super::confine::{in_git_folder, no_link_along};
use crate::error::{Error, Result};
use crate::files::secret_by_name;

/// The author and committer of the copy's first commit.
pub const COPY_AUTHOR: &str = "codex-oauth task";
const COPY_EMAIL: &str = "task@codex-oauth.invalid";
/// A gitlink (a submodule's commit) in the index.
const GITLINK_MODE: u32 = 0o160_000;

/// What `make_copy` made.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PrivateCopy {
    /// The copy's folder: its own git repository.
    pub dir: PathBuf,
    /// The user's working tree it was copied from.
    pub source: PathBuf,
    /// How many files (and symbolic links) were copied.
    pub files: usize,
    /// Their size in bytes.
    pub bytes: u64,
    /// What was left out, and why.
    pub left_out: Vec<LeftOut>,
    /// The id of the copy's first commit (the state copied).
    pub first_commit: String,
}

/// A file of the user's project that the copy does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LeftOut {
    /// Its path in the repository.
    pub path: String,
    /// Why: "an .env file", "a submodule", ...
    pub why: String,
}

/// Copies the repository that holds `workspace` (a folder inside it) into `dest` (a folder
/// that does not exist yet or is empty, outside that repository) and makes `dest` a fresh git
/// repository whose first commit is what was copied.
pub fn make_copy(workspace: &Path, dest: &Path) -> Result<PrivateCopy> {
    let (user, source) = open_user_repository(workspace)?;
    let dest = prepare_dest(&source, dest)?;
    let mut copy = PrivateCopy {
        dir: dest,
        source,
        files: 0,
        bytes: 0,
        left_out: Vec::new(),
        first_commit: String::new(),
    };
    let paths = listed(&user, &mut copy.left_out)?;
    drop(user);
    let mut copied = Vec::with_capacity(paths.len());
    for rel in paths {
        if copy_one(&mut copy, &rel)? {
            copied.push(rel);
        }
    }
    copy.first_commit = first_commit(&copy.dir, &copied)?.to_string();
    Ok(copy)
}

/// The repository holding `workspace`, and its working tree (canonical).
fn open_user_repository(workspace: &Path) -> Result<(Repository, PathBuf)> {
    let repo = Repository::discover(workspace).map_err(|_| {
        Error::Input(format!(
            "{} is not in a git repository: a task works on a copy of a git repository; run `git init` there first",
            workspace.display()
        ))
    })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| {
            Error::Input("the repository is bare: it has no working tree to copy".into())
        })?
        .canonicalize()
        .map_err(|e| Error::io("open the repository", workspace, e))?;
    Ok((repo, workdir))
}

/// `dest` checked to be neither inside the user's working tree nor holding it, then created
/// (or found empty); canonical.
fn prepare_dest(source: &Path, dest: &Path) -> Result<PathBuf> {
    let planned = planned_path(dest)?;
    if planned.starts_with(source) || source.starts_with(&planned) {
        return Err(Error::Input(format!(
            "the task's folder {} and the project {} overlap: the copy must be made outside the project",
            planned.display(),
            source.display()
        )));
    }
    fs::create_dir_all(&planned).map_err(|e| Error::io("create the task's folder", &planned, e))?;
    let mut entries =
        fs::read_dir(&planned).map_err(|e| Error::io("read the task's folder", &planned, e))?;
    if entries.next().is_some() {
        return Err(Error::Input(format!(
            "{} is not empty: the private copy goes into a new, empty folder",
            planned.display()
        )));
    }
    Ok(planned)
}

/// `dest` made absolute with its existing part canonical (links resolved), before anything
/// is created.
fn planned_path(dest: &Path) -> Result<PathBuf> {
    let absolute =
        std::path::absolute(dest).map_err(|e| Error::io("find the task's folder", dest, e))?;
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    while fs::symlink_metadata(existing).is_err() {
        let (Some(name), Some(parent)) = (existing.file_name(), existing.parent()) else {
            break;
        };
        missing.push(name.to_owned());
        existing = parent;
    }
    let mut planned = existing
        .canonicalize()
        .map_err(|e| Error::io("open the task's folder", existing, e))?;
    for name in missing.iter().rev() {
        planned.push(name);
    }
    Ok(planned)
}

/// The paths to copy, sorted: every tracked file (the index) and every untracked file that is
/// not ignored. Submodules and names that are not UTF-8 go to `left_out`.
fn listed(repo: &Repository, left_out: &mut Vec<LeftOut>) -> Result<BTreeSet<String>> {
    let git = |what: &str, e: git2::Error| Error::Input(format!("{what}: {}", e.message()));
    let mut paths = BTreeSet::new();
    let index = repo
        .index()
        .map_err(|e| git("cannot read the repository's index", e))?;
    for entry in index.iter() {
        let Ok(path) = String::from_utf8(entry.path.clone()) else {
            left_out.push(LeftOut {
                path: String::from_utf8_lossy(&entry.path).into_owned(),
                why: "a name that is not UTF-8".into(),
            });
            continue;
        };
        if entry.mode & 0o170_000 == GITLINK_MODE {
            left_out.push(LeftOut {
                path,
                why: "a submodule (its own repository)".into(),
            });
            continue;
        }
        paths.insert(path);
    }
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .include_unmodified(false)
        .exclude_submodules(true)
        .renames_head_to_index(false)
        .renames_index_to_workdir(false);
    let statuses = repo
        .statuses(Some(&mut opts))
        .map_err(|e| git("cannot list the repository's untracked files", e))?;
    for entry in statuses.iter() {
        if !entry.status().contains(Status::WT_NEW) {
            continue;
        }
        match entry.path() {
            Ok(path) if path.ends_with('/') => left_out.push(LeftOut {
                path: path.to_owned(),
                why: "a nested repository".into(),
            }),
            Ok(path) => {
                paths.insert(path.to_owned());
            }
            Err(_) => left_out.push(LeftOut {
                path: String::from_utf8_lossy(entry.path_bytes()).into_owned(),
                why: "a name that is not UTF-8".into(),
            }),
        }
    }
    Ok(paths)
}

/// Copies one file or symbolic link; false when it was left out (its reason noted) or is
/// gone from the working tree.
fn copy_one(copy: &mut PrivateCopy, rel: &str) -> Result<bool> {
    let rel_path = Path::new(rel);
    let refused = if in_git_folder(rel_path) {
        Some("a file of a .git folder".to_owned())
    } else if let Some(why) = secret_by_name(rel_path) {
        Some(format!("{why} (a secret by its name)"))
    } else {
        no_link_along(&copy.source, rel_path, true).err()
    };
    if let Some(why) = refused {
        copy.left_out.push(LeftOut {
            path: rel.to_owned(),
            why,
        });
        return Ok(false);
    }
    let from = copy.source.join(rel_path);
    let meta = match fs::symlink_metadata(&from) {
        Ok(meta) => meta,
        // Deleted in the working tree: not part of the project as it is now.
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("read", from, e)),
    };
    let to = copy.dir.join(rel_path);
    if let Some(parent) = to.parent() {
        if let Err(why) = no_link_along(&copy.dir, rel_path, false) {
            return Err(Error::Internal(format!("the private copy: {why}")));
        }
        fs::create_dir_all(parent).map_err(|e| Error::io("create the folder", parent, e))?;
    }
    if meta.file_type().is_symlink() {
        copy_link(&from, &to)?;
    } else if meta.is_file() {
        let n = fs::copy(&from, &to).map_err(|e| Error::io("copy", &from, e))?;
        copy.bytes += n;
    } else {
        copy.left_out.push(LeftOut {
            path: rel.to_owned(),
            why: "not a file (a folder, socket or device)".into(),
        });
        return Ok(false);
    }
    copy.files += 1;
    Ok(true)
}

/// A symbolic link copied as a link with the same target (never followed).
#[cfg(unix)]
fn copy_link(from: &Path, to: &Path) -> Result<()> {
    let target = fs::read_link(from).map_err(|e| Error::io("read the link", from, e))?;
    std::os::unix::fs::symlink(&target, to).map_err(|e| Error::io("create the link", to, e))
}

/// Elsewhere a link's target is copied as a file's text, as git does without symlink support.
#[cfg(not(unix))]
fn copy_link(from: &Path, to: &Path) -> Result<()> {
    let target = fs::read_link(from).map_err(|e| Error::io("read the link", from, e))?;
    fs::write(to, target.to_string_lossy().as_bytes()).map_err(|e| Error::io("write", to, e))
}

/// `dir` made a fresh repository (no template, branch `main`) whose first commit holds
/// `copied`.
fn first_commit(dir: &Path, copied: &[String]) -> Result<git2::Oid> {
    let git = |what: &str, e: git2::Error| {
        Error::Internal(format!("the private copy: {what}: {}", e.message()))
    };
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main")
        .no_reinit(true)
        .external_template(false)
        .mkdir(false);
    let repo =
        Repository::init_opts(dir, &opts).map_err(|e| git("cannot create its repository", e))?;
    let mut index = repo.index().map_err(|e| git("cannot open its index", e))?;
    for rel in copied {
        index
            .add_path(Path::new(rel))
            .map_err(|e| git(&format!("cannot add {rel}"), e))?;
    }
    index
        .write()
        .map_err(|e| git("cannot write its index", e))?;
    let tree_id = index
        .write_tree()
        .map_err(|e| git("cannot write its tree", e))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(|e| git("cannot read its tree", e))?;
    let sig = Signature::now(COPY_AUTHOR, COPY_EMAIL).map_err(|e| git("cannot sign", e))?;
    repo.commit(
        Some("HEAD"),
        &sig,
        &sig,
        "The project as it was when the task started",
        &tree,
        &[],
    )
    .map_err(|e| git("cannot make its first commit", e))
}
