//! The repository that holds the workspace, and the diff of what the scope says to compare: the
//! working tree against HEAD, everything since the point this branch left `base`, a range of
//! commits, the index against HEAD (`staged`), or one commit against its first parent.

use std::path::{Path, PathBuf};

use git2::{Diff, DiffFindOptions, DiffOptions, Repository, Tree};

use super::change::{Against, Scope};
use crate::error::{Error, Result};
use crate::files::{Limits, Project};

/// The repository of the workspace's first root.
pub(super) struct Repo {
    pub repo: Repository,
    /// Its working tree, canonical.
    pub workdir: PathBuf,
    /// Where the workspace's root is inside the working tree (empty: at its top).
    pub inside: PathBuf,
}

/// The diff of what was compared.
pub(super) struct Compared<'r> {
    pub diff: Diff<'r>,
    /// What was compared, for a person.
    pub what: String,
    /// The new side is stored blobs (a commit's tree, the index), not the working tree's files:
    /// the full texts are read from the blobs the diff names.
    pub from_blobs: bool,
}

pub(super) fn git_error(what: &str, e: &git2::Error) -> Error {
    Error::Input(format!("{what}: {}", e.message()))
}

/// The repository that holds the workspace's first root, and where that root is in it.
pub(super) fn open_repository(ws: &Project) -> Result<Repo> {
    let Some(root) = ws.roots().first() else {
        return Err(Error::Input(
            "no workspace: the client gave no folder this server may read".into(),
        ));
    };
    let repo = Repository::discover(root).map_err(|_| {
        Error::Input(format!(
            "{} is not in a git repository: codex_review reviews a git change. Use codex_query with `files` to have Codex read files instead.",
            root.display()
        ))
    })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Input("the repository is bare: it has no working tree".into()))?
        .canonicalize()
        .map_err(|e| Error::io("open the repository", root, e))?;
    // The workspace may be a folder inside the repository: only that part is compared. A
    // repository whose working tree is elsewhere (core.worktree) is not the workspace's.
    let Ok(inside) = root.strip_prefix(&workdir).map(Path::to_path_buf) else {
        return Err(Error::Input(format!(
            "the repository's working tree ({}) does not hold the workspace ({}): codex_review reviews the repository the workspace is in",
            workdir.display(),
            root.display()
        )));
    };
    Ok(Repo {
        repo,
        workdir,
        inside,
    })
}

/// How the diff is made: untracked files in, paths narrowed to `scope.paths` (else to the
/// workspace's part of the repository), large files as binaries.
pub(super) fn diff_options(inside: &Path, scope: &Scope, limits: &Limits) -> Result<DiffOptions> {
    let mut opts = DiffOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true)
        .include_typechange(true)
        // Paths, not patterns: a folder named `app[1]` is that folder.
        .disable_pathspec_match(true)
        // A larger file counts as binary: its content is never loaded into a patch.
        .max_size(i64::try_from(limits.max_file_bytes).unwrap_or(i64::MAX))
        .context_lines(3);
    let mut specs = 0;
    for p in &scope.paths {
        let rel = narrow(inside, p)?;
        opts.pathspec(rel);
        specs += 1;
    }
    if specs == 0 && !inside.as_os_str().is_empty() {
        opts.pathspec(inside.to_string_lossy().replace('\\', "/"));
    }
    Ok(opts)
}

/// The diff `scope` names (nothing: the working tree against HEAD; a `base` range `A..B`,
/// `A...B`: commits; a `base` branch, tag or commit: since this branch left it; `staged`: the
/// index against HEAD; `commit`: that commit against its first parent), with renames found.
pub(super) fn compare<'r>(
    repo: &'r Repository,
    scope: &Scope,
    opts: &mut DiffOptions,
) -> Result<Compared<'r>> {
    let mut compared = match scope.against()? {
        Against::WorkingTree => working_tree(repo, opts)?,
        Against::Base(range) if range.contains("..") => commit_range(repo, range, opts)?,
        Against::Base(base) => since_base(repo, base, opts)?,
        Against::Staged => staged(repo, opts)?,
        Against::Commit(rev) => one_commit(repo, rev, opts)?,
    };
    let mut find = DiffFindOptions::new();
    find.renames(true).copies(false).for_untracked(true);
    compared
        .diff
        .find_similar(Some(&mut find))
        .map_err(|e| git_error("cannot detect renames", &e))?;
    Ok(compared)
}

/// HEAD against the working tree (staged, unstaged and new files).
fn working_tree<'r>(repo: &'r Repository, opts: &mut DiffOptions) -> Result<Compared<'r>> {
    let old = head_tree(repo);
    let diff = repo
        .diff_tree_to_workdir_with_index(old.as_ref(), Some(opts))
        .map_err(|e| git_error("cannot compare the working tree", &e))?;
    let what = if old.is_some() {
        "HEAD → the working tree (staged, unstaged and new files)"
    } else {
        "the working tree of a repository with no commit yet (every file is new)"
    };
    Ok(Compared {
        diff,
        what: what.to_owned(),
        from_blobs: false,
    })
}

/// HEAD against the index: what is staged, not the unstaged changes, not the new files. The
/// new texts are the index's blobs.
fn staged<'r>(repo: &'r Repository, opts: &mut DiffOptions) -> Result<Compared<'r>> {
    let old = head_tree(repo);
    let index = repo
        .index()
        .map_err(|e| git_error("cannot read the index", &e))?;
    let diff = repo
        .diff_tree_to_index(old.as_ref(), Some(&index), Some(opts))
        .map_err(|e| git_error("cannot compare the index", &e))?;
    let what = if old.is_some() {
        "HEAD → the index (staged changes only)"
    } else {
        "the index of a repository with no commit yet (staged changes only; every file is new)"
    };
    Ok(Compared {
        diff,
        what: what.to_owned(),
        from_blobs: true,
    })
}

/// One commit against its first parent (a root commit against the empty tree; a merge against
/// its first parent). The new texts are the commit's blobs.
fn one_commit<'r>(repo: &'r Repository, rev: &str, opts: &mut DiffOptions) -> Result<Compared<'r>> {
    if rev.contains("..") || rev.contains(':') {
        return Err(Error::Input(format!(
            "`{rev}` is not one commit: `commit` takes a commit, branch or tag (for a range, use `base`; to narrow the review, `paths`)"
        )));
    }
    let commit = repo
        .find_commit(commit_of(repo, rev)?)
        .map_err(|e| git_error(&format!("cannot read the commit `{rev}`"), &e))?;
    let new = commit
        .tree()
        .map_err(|e| git_error(&format!("cannot read the commit `{rev}`"), &e))?;
    let id = short(commit.id());
    let named = if id.starts_with(rev) || rev.starts_with(&id) {
        String::new()
    } else {
        format!(", `{rev}`")
    };
    let (old, what) = if commit.parent_count() == 0 {
        (
            None,
            format!("the empty tree → {id} (the first commit{named})"),
        )
    } else {
        let parent = commit
            .parent(0)
            .and_then(|p| p.tree())
            .map_err(|e| git_error(&format!("cannot read the parent of `{rev}`"), &e))?;
        let merge = if commit.parent_count() > 1 {
            "; a merge, against its first parent"
        } else {
            ""
        };
        (
            Some(parent),
            format!("{id}^ → {id} (one commit{named}{merge})"),
        )
    };
    let diff = repo
        .diff_tree_to_tree(old.as_ref(), Some(&new), Some(opts))
        .map_err(|e| git_error("cannot compare the commit with its parent", &e))?;
    Ok(Compared {
        diff,
        what,
        from_blobs: true,
    })
}

/// `A..B` (the commits from A to B) or `A...B` (from their merge base to B); a side left out
/// is HEAD.
fn commit_range<'r>(
    repo: &'r Repository,
    range: &str,
    opts: &mut DiffOptions,
) -> Result<Compared<'r>> {
    let three = range.contains("...");
    let (a, b) = range
        .split_once(if three { "..." } else { ".." })
        .unwrap_or((range, ""));
    let b = if b.is_empty() { "HEAD" } else { b };
    let a = if a.is_empty() { "HEAD" } else { a };
    let new = tree_of(repo, b)?;
    let old = if three {
        let mb = repo
            .merge_base(commit_of(repo, a)?, commit_of(repo, b)?)
            .map_err(|e| git_error(&format!("`{a}` and `{b}` have no common commit"), &e))?;
        repo.find_commit(mb)
            .and_then(|c| c.tree())
            .map_err(|e| git_error("cannot read the merge base", &e))?
    } else {
        tree_of(repo, a)?
    };
    let diff = repo
        .diff_tree_to_tree(Some(&old), Some(&new), Some(opts))
        .map_err(|e| git_error("cannot compare the commits", &e))?;
    Ok(Compared {
        diff,
        what: format!("{a} → {b}"),
        from_blobs: true,
    })
}

/// From where this branch left `base` (their merge base) to the working tree.
fn since_base<'r>(
    repo: &'r Repository,
    base: &str,
    opts: &mut DiffOptions,
) -> Result<Compared<'r>> {
    let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(|_| {
        Error::Input("the repository has no commit yet: there is no branch to compare with".into())
    })?;
    let mb = repo
        .merge_base(commit_of(repo, base)?, head.id())
        .map_err(|e| git_error(&format!("`{base}` and HEAD have no common commit"), &e))?;
    let old = repo
        .find_commit(mb)
        .and_then(|c| c.tree())
        .map_err(|e| git_error("cannot read the merge base", &e))?;
    let diff = repo
        .diff_tree_to_workdir_with_index(Some(&old), Some(opts))
        .map_err(|e| git_error("cannot compare the working tree", &e))?;
    Ok(Compared {
        diff,
        what: format!(
            "{base} (where this branch left it, {}) → the working tree",
            short(mb)
        ),
        from_blobs: false,
    })
}

fn head_tree(repo: &Repository) -> Option<Tree<'_>> {
    repo.head().ok()?.peel_to_tree().ok()
}

fn tree_of<'r>(repo: &'r Repository, spec: &str) -> Result<Tree<'r>> {
    refuse_path_spec(spec)?;
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .and_then(|c| c.tree())
        .map_err(|_| {
            Error::Input(format!(
                "`{spec}` is not a branch, tag or commit of this repository"
            ))
        })
}

fn commit_of(repo: &Repository, spec: &str) -> Result<git2::Oid> {
    refuse_path_spec(spec)?;
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|_| {
            Error::Input(format!(
                "`{spec}` is not a branch, tag or commit of this repository"
            ))
        })
}

fn short(oid: git2::Oid) -> String {
    oid.to_string()[..7].to_owned()
}

/// A path of the repository as the workspace names it (relative to the workspace's root).
pub(super) fn display(inside: &Path, path: &str) -> String {
    Path::new(path)
        .strip_prefix(inside)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| path.to_owned())
}

/// A `paths` entry (relative to the workspace) as a pathspec of the repository.
fn narrow(inside: &Path, given: &str) -> Result<String> {
    let p = Path::new(given.trim());
    if p.as_os_str().is_empty()
        || p.is_absolute()
        || p.components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(Error::Input(format!(
            "`paths` entries are folders or files inside the workspace, relative to it and without `..`: `{given}` is not"
        )));
    }
    let joined: PathBuf = inside.join(p);
    Ok(joined.to_string_lossy().replace('\\', "/"))
}

/// A `base` that names a path inside a commit (`HEAD:src`) would compare subtrees re-rooted
/// where the workspace's paths mean something else: refused.
fn refuse_path_spec(spec: &str) -> Result<()> {
    if spec.contains(':') {
        return Err(Error::Input(format!(
            "`{spec}` names a path inside a commit; `base` takes a branch, tag or commit (narrow the review with `paths`)"
        )));
    }
    Ok(())
}
