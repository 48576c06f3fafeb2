//! The task's patch checked against, and applied to, the user's working tree: all or nothing,
//! the index untouched, the user's other uncommitted changes kept; refused when it no longer
//! applies, or when a path it names is not a plain path inside the tree.

use std::path::{Path, PathBuf};

use git2::{ApplyLocation, ApplyOptions, Diff, DiffFile, FileMode, Repository};
use schemars::JsonSchema;
use serde::Serialize;

use super::confine::{in_git_folder, no_link_along, relative};
use crate::error::{Error, Result};

/// Whether the patch applies to the user's working tree now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Applies {
    pub applies: bool,
    /// Why not, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What applying the patch did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Applied {
    /// The working tree written to.
    pub workdir: PathBuf,
    /// The paths the patch wrote or removed, relative to it.
    pub files: Vec<String>,
}

/// Whether `patch` applies to the working tree of the repository holding `user_dir` now.
/// Writes nothing.
pub fn applies_to(user_dir: &Path, patch: &str) -> Result<Applies> {
    let (repo, workdir) = open(user_dir)?;
    let diff = parse(patch)?;
    Ok(match check(&repo, &workdir, &diff) {
        Ok(_) => Applies {
            applies: true,
            reason: None,
        },
        Err(reason) => Applies {
            applies: false,
            reason: Some(reason),
        },
    })
}

/// Applies `patch` to the working tree of the repository holding `user_dir`, all or nothing;
/// the index and the files the patch does not name stay as they are.
pub fn apply_to(user_dir: &Path, patch: &str) -> Result<Applied> {
    let (repo, workdir) = open(user_dir)?;
    let diff = parse(patch)?;
    let files = check(&repo, &workdir, &diff).map_err(Error::Input)?;
    repo.apply(&diff, ApplyLocation::WorkDir, None)
        .map_err(|e| {
            Error::Input(format!(
                "the patch was not applied: {}; the working tree may have changed since the check, look at `git status` there",
                e.message()
            ))
        })?;
    Ok(Applied { workdir, files })
}

fn open(user_dir: &Path) -> Result<(Repository, PathBuf)> {
    let repo = Repository::discover(user_dir).map_err(|_| {
        Error::Input(format!(
            "{} is not in a git repository: the patch applies to the repository the task copied",
            user_dir.display()
        ))
    })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Input("the repository is bare: it has no working tree".into()))?
        .canonicalize()
        .map_err(|e| Error::io("open the repository", user_dir, e))?;
    // libgit2 writes the blobs of what a patch makes, even when it only checks: into memory
    // here, so the user's object store (their `.git`) is never written.
    repo.odb()
        .and_then(|odb| odb.add_new_mempack_backend(1000).map(|_| ()))
        .map_err(|e| {
            Error::Internal(format!(
                "cannot keep the patch's objects in memory: {}",
                e.message()
            ))
        })?;
    Ok((repo, workdir))
}

fn parse(patch: &str) -> Result<Diff<'static>> {
    Diff::from_buffer(patch.as_bytes()).map_err(|e| {
        Error::Input(format!(
            "the patch cannot be read as a git diff: {}",
            e.message()
        ))
    })
}

/// The paths the patch touches, once each are plain paths inside the tree (no link along
/// them, no `.git` folder) and the patch applies; else why not.
fn check(repo: &Repository, workdir: &Path, diff: &Diff<'_>) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(path) = confined(workdir, &file)?
                && !files.contains(&path)
            {
                files.push(path);
            }
        }
    }
    let mut opts = ApplyOptions::new();
    opts.check(true);
    repo.apply(diff, ApplyLocation::WorkDir, Some(&mut opts))
        .map_err(|e| {
            format!(
                "the patch no longer applies to the working tree: {}; the files it changes were edited since the task copied them",
                e.message()
            )
        })?;
    Ok(files)
}

/// The side's path when it names a file, once checked.
fn confined(workdir: &Path, file: &DiffFile<'_>) -> Result<Option<String>, String> {
    let Some(path) = file.path() else {
        return Ok(None);
    };
    let text = path.to_string_lossy().into_owned();
    if text.is_empty() || text == "/dev/null" {
        return Ok(None);
    }
    let rel = relative(&text).map_err(|why| format!("the patch is refused: {why}"))?;
    if in_git_folder(&rel) {
        return Err(format!(
            "the patch is refused: `{text}` is inside a .git folder"
        ));
    }
    // A tracked link may itself be changed (its target is its content), never written through.
    let is_link = file.mode() == FileMode::Link;
    no_link_along(workdir, &rel, is_link).map_err(|why| format!("the patch is refused: {why}"))?;
    Ok(Some(text))
}
