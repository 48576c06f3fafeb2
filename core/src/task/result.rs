//! What a task changed: the diff from the copy's first commit to its working tree now (new
//! untracked files included, ignored ones not), as a unified diff `git apply` takes, and a
//! line count a file.

use std::path::Path;

use git2::{Delta, Diff, DiffFindOptions, DiffFormat, DiffOptions, Oid, Patch, Repository};
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::{Error, Result};

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
}

/// One changed file and its line counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FileStat {
    /// Its path (the new one when renamed).
    pub path: String,
    /// Its path before, when renamed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    pub status: FileStatus,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
    /// A binary file: no line counts; the patch carries it as a git binary patch.
    pub binary: bool,
}

/// The task's change: the patch and its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FinalPatch {
    /// A unified diff with `diff --git` headers, in `git apply` format (empty: no change).
    pub patch: String,
    pub files: Vec<FileStat>,
}

/// The patch from `first_commit` to the working tree of the copy at `copy_dir`. A text file
/// whose lines are not UTF-8 goes as a git binary patch, so the patch stays exact.
pub fn final_patch(copy_dir: &Path, first_commit: &str) -> Result<FinalPatch> {
    let repo = open(copy_dir)?;
    let diff = diff_since(&repo, first_commit, &[])?;
    let files = stats(&diff)?;
    let mut patch = String::new();
    for i in 0..diff.deltas().len() {
        let Some(mut one) =
            Patch::from_diff(&diff, i).map_err(|e| git("cannot read a change", &e))?
        else {
            continue;
        };
        let buf = one
            .to_buf()
            .map_err(|e| git("cannot write the patch", &e))?;
        match std::str::from_utf8(&buf) {
            Ok(text) => patch.push_str(text),
            Err(_) => patch.push_str(&as_binary(&repo, first_commit, &one)?),
        }
    }
    Ok(FinalPatch { patch, files })
}

/// One file's change again, as a git binary patch (ASCII whatever its bytes).
fn as_binary(repo: &Repository, first_commit: &str, one: &Patch<'_>) -> Result<String> {
    let delta = one.delta();
    let paths: Vec<&Path> = [delta.old_file().path(), delta.new_file().path()]
        .into_iter()
        .flatten()
        .collect();
    let diff = diff_since(repo, first_commit, &paths)?;
    let mut out = Vec::new();
    diff.print(DiffFormat::Patch, |_, _, line| {
        if matches!(line.origin(), '+' | '-' | ' ') {
            out.push(line.origin() as u8);
        }
        out.extend_from_slice(line.content());
        true
    })
    .map_err(|e| git("cannot write the patch", &e))?;
    String::from_utf8(out)
        .map_err(|_| Error::Internal("the task's copy: a binary patch came out as non-text".into()))
}

/// The files changed in the copy since `first_commit`, with their line counts.
pub fn changed_files(copy_dir: &Path, first_commit: &str) -> Result<Vec<FileStat>> {
    let repo = open(copy_dir)?;
    let diff = diff_since(&repo, first_commit, &[])?;
    stats(&diff)
}

fn git(what: &str, e: &git2::Error) -> Error {
    Error::Internal(format!("the task's copy: {what}: {}", e.message()))
}

fn open(copy_dir: &Path) -> Result<Repository> {
    Repository::open(copy_dir).map_err(|e| {
        Error::Input(format!(
            "{} is not a task's copy (no repository): {}",
            copy_dir.display(),
            e.message()
        ))
    })
}

/// The first commit's tree against the working tree, renames found; with `binary_paths`, only
/// those paths, every file as binary.
fn diff_since<'r>(
    repo: &'r Repository,
    first_commit: &str,
    binary_paths: &[&Path],
) -> Result<Diff<'r>> {
    let id = Oid::from_str(first_commit)
        .map_err(|_| Error::Input(format!("`{first_commit}` is not a commit id")))?;
    let tree = repo
        .find_commit(id)
        .and_then(|c| c.tree())
        .map_err(|e| git("cannot read the first commit", &e))?;
    let mut opts = DiffOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true)
        .include_typechange(true)
        .show_binary(true)
        .disable_pathspec_match(true)
        .context_lines(3);
    for p in binary_paths {
        opts.pathspec(p).force_binary(true);
    }
    let mut diff = repo
        .diff_tree_to_workdir(Some(&tree), Some(&mut opts))
        .map_err(|e| git("cannot compare the working tree", &e))?;
    let mut find = DiffFindOptions::new();
    find.renames(true).copies(false).for_untracked(true);
    diff.find_similar(Some(&mut find))
        .map_err(|e| git("cannot find renames", &e))?;
    Ok(diff)
}

fn stats(diff: &Diff<'_>) -> Result<Vec<FileStat>> {
    let mut files = Vec::new();
    for (i, delta) in diff.deltas().enumerate() {
        let status = match delta.status() {
            Delta::Added | Delta::Untracked => FileStatus::Added,
            Delta::Deleted => FileStatus::Deleted,
            Delta::Renamed => FileStatus::Renamed,
            Delta::Modified | Delta::Typechange | Delta::Copied => FileStatus::Modified,
            _ => continue,
        };
        let patch = Patch::from_diff(diff, i).map_err(|e| git("cannot read a change", &e))?;
        let (added, removed) = match &patch {
            Some(p) => {
                let (_, added, removed) = p.line_stats().map_err(|e| git("cannot count", &e))?;
                (added, removed)
            }
            None => (0, 0),
        };
        let name = |f: git2::DiffFile<'_>| {
            f.path()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default()
        };
        let path = match status {
            FileStatus::Deleted => name(delta.old_file()),
            _ => name(delta.new_file()),
        };
        files.push(FileStat {
            old_path: (status == FileStatus::Renamed).then(|| name(delta.old_file())),
            path,
            status,
            added,
            removed,
            binary: delta.flags().is_binary()
                || patch
                    .as_ref()
                    .is_some_and(|p| p.delta().flags().is_binary()),
        });
    }
    Ok(files)
}
