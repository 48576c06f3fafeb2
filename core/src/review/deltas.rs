//! The files of a diff read into the change: each one withheld (the store, secrets by name),
//! named only (the diff is full), or its patch redacted and added; and the files whose full
//! text goes too.

use std::path::Path;

use git2::{Delta, Diff, DiffDelta};

use super::change::{Change, ChangedFile, DiffRedaction};
use super::repository::{Repo, display, git_error};
use crate::error::Result;
use crate::files::{self, Limits, Project, Redaction, SkippedFile, secret_by_name};

/// A file whose full text goes with the diff: its path in the repository, and its blob on the
/// new side when that is not the working tree (a commit's tree, the index).
pub(super) type Text = (String, Option<git2::Oid>);

/// The change `diff` makes (compared as `compared`), and the files whose full text goes too.
/// `from_tree`: the new side is stored blobs (a commit's tree, the index), not the working tree.
pub(super) fn read_deltas(
    ws: &Project,
    repo: &Repo,
    diff: &Diff<'_>,
    from_tree: bool,
    limits: &Limits,
    compared: String,
) -> Result<(Change, Vec<Text>)> {
    let mut reader = Reader {
        ws,
        repo,
        limits,
        // The diff may use two thirds of the total cap; the files' text gets what is left.
        diff_cap: limits.max_total_bytes / 3 * 2,
        from_tree,
        change: Change {
            compared,
            ..Change::default()
        },
        texts: Vec::new(),
    };
    for idx in 0..diff.deltas().len() {
        reader.delta(diff, idx)?;
    }
    Ok((reader.change, reader.texts))
}

struct Reader<'a> {
    ws: &'a Project,
    repo: &'a Repo,
    limits: &'a Limits,
    diff_cap: usize,
    from_tree: bool,
    change: Change,
    texts: Vec<Text>,
}

impl Reader<'_> {
    /// One file of the diff.
    fn delta(&mut self, diff: &Diff<'_>, idx: usize) -> Result<()> {
        let Some(delta) = diff.get_delta(idx) else {
            return Ok(());
        };
        let Some(status) = self.status_of(&delta) else {
            return Ok(());
        };
        let path_of =
            |f: git2::DiffFile<'_>| f.path().map(|p| p.to_string_lossy().replace('\\', "/"));
        let (Some(path), old_path) = (
            path_of(delta.new_file()).or_else(|| path_of(delta.old_file())),
            path_of(delta.old_file()),
        ) else {
            return Ok(());
        };
        let inside = &self.repo.inside;
        let shown = display(inside, &path);
        if let Some(reason) = self.withheld_reason(&path, old_path.as_deref()) {
            self.change.withheld.push(SkippedFile {
                path: shown,
                reason,
            });
            return Ok(());
        }
        let old_shown = old_path
            .as_ref()
            .filter(|o| **o != path)
            .map(|o| display(inside, o));
        if self.change.diff.len() >= self.diff_cap {
            // The diff is full: the rest are named, not read.
            self.change.changed.push(ChangedFile {
                path: shown,
                status,
                old_path: old_shown,
                binary: false,
                diff_omitted: true,
            });
            self.change.diff_truncated = true;
            return Ok(());
        }
        let patch = patch_text(
            diff,
            idx,
            &delta,
            status,
            &path,
            old_path.as_deref(),
            self.limits,
        )?;
        let omitted = self.add_diff(&shown, &patch.body, &path);
        self.change.changed.push(ChangedFile {
            path: shown,
            status,
            old_path: old_shown,
            binary: patch.binary && !patch.too_large,
            diff_omitted: omitted,
        });
        if status != "deleted" && !patch.binary && !omitted {
            let id = self.from_tree.then(|| delta.new_file().id());
            self.texts.push((path, id));
        }
        Ok(())
    }

    /// How the file changed, for [`ChangedFile::status`]; `None` for a file that is left out
    /// (an unreadable one is withheld, and said so).
    fn status_of(&mut self, delta: &DiffDelta<'_>) -> Option<&'static str> {
        let status = match delta.status() {
            Delta::Added | Delta::Untracked => "added",
            Delta::Deleted => "deleted",
            Delta::Modified => "modified",
            Delta::Renamed => "renamed",
            Delta::Copied => "copied",
            Delta::Typechange => "typechange",
            Delta::Conflicted => "conflicted",
            Delta::Unreadable => {
                if let Some(p) = delta.new_file().path().or_else(|| delta.old_file().path()) {
                    self.change.withheld.push(SkippedFile {
                        path: display(&self.repo.inside, &p.to_string_lossy()),
                        reason: "unreadable (its permissions)".into(),
                    });
                }
                return None;
            }
            _ => return None,
        };
        Some(status)
    }

    /// Why a file of the change is never sent (this project's store, a secret by its name, under
    /// its new or its old name); `None` when it may be.
    fn withheld_reason(&self, path: &str, old_path: Option<&str>) -> Option<String> {
        let in_store = [Some(path), old_path]
            .into_iter()
            .flatten()
            .any(|p| self.ws.is_private(&self.repo.workdir.join(p)));
        if in_store {
            return Some("this project's own store (sign-in data): never sent".into());
        }
        let why = secret_by_name(Path::new(path))
            .or_else(|| old_path.and_then(|o| secret_by_name(Path::new(o))))?;
        Some(format!("{why}: never sent"))
    }

    /// A file's patch, redacted, added to the diff unless that would pass the cap; whether it
    /// was left out.
    fn add_diff(&mut self, shown: &str, body: &str, path: &str) -> bool {
        let (clean, found) = files::redact_diff(body, path);
        for r in &found {
            self.change.diff_redactions.push(DiffRedaction {
                path: shown.to_owned(),
                line: diff_line_number(&clean, r),
                kind: r.kind,
            });
        }
        let omitted = self.change.diff.len() + clean.len() > self.diff_cap;
        if omitted {
            self.change.diff_truncated = true;
        } else {
            self.change.diff.push_str(&clean);
        }
        omitted
    }
}

/// The text of one file's patch, and what kind of file it is.
struct Patch {
    body: String,
    /// Its content is not in the patch (binary, or over the size cap).
    binary: bool,
    /// Over the size cap (which makes it count as binary).
    too_large: bool,
}

/// The patch of the file at `idx`; a binary or too large file is named with why its content
/// is not sent.
fn patch_text(
    diff: &Diff<'_>,
    idx: usize,
    delta: &DiffDelta<'_>,
    status: &str,
    path: &str,
    old_path: Option<&str>,
    limits: &Limits,
) -> Result<Patch> {
    let patch = git2::Patch::from_diff(diff, idx)
        .map_err(|e| git_error(&format!("cannot read the change of {path}"), &e))?;
    let binary = patch.is_none() || delta.flags().is_binary();
    let too_large = [delta.new_file().size(), delta.old_file().size()]
        .into_iter()
        .any(|n| n > limits.max_file_bytes as u64);
    let body = match patch {
        Some(mut p) if !binary => {
            let buf = p
                .to_buf()
                .map_err(|e| git_error(&format!("cannot format the change of {path}"), &e))?;
            String::from_utf8_lossy(&buf).into_owned()
        }
        _ if too_large => format!(
            "diff --git {} {}\nLarge file {} {status} (over {}: its content is not sent)\n",
            files::diff_path("a/", old_path.unwrap_or(path)),
            files::diff_path("b/", path),
            files::quoted(path),
            files::size(limits.max_file_bytes)
        ),
        _ => format!(
            "diff --git {} {}\nBinary file {} {status} (its content is not sent)\n",
            files::diff_path("a/", old_path.unwrap_or(path)),
            files::diff_path("b/", path),
            files::quoted(path),
        ),
    };
    Ok(Patch {
        body,
        binary,
        too_large,
    })
}

fn diff_line_number(patch: &str, r: &Redaction) -> usize {
    let (mut old, mut new) = (0usize, 0usize);
    let mut in_hunk = false;
    for (i, line) in patch.lines().enumerate() {
        let here = i + 1;
        if let Some(rest) = line.strip_prefix("@@ ") {
            // @@ -a,b +c,d @@
            let mut parts = rest.split_whitespace();
            let start = |p: Option<&str>| {
                p.and_then(|x| x.get(1..))
                    .and_then(|x| x.split(',').next())
                    .and_then(|x| x.parse::<usize>().ok())
                    .unwrap_or(0)
            };
            old = start(parts.next());
            new = start(parts.next());
            in_hunk = true;
            if here == r.line {
                return new;
            }
            continue;
        }
        let kind = line.chars().next();
        if here == r.line {
            return match (in_hunk, kind) {
                (true, Some('-')) => old,
                (true, _) => new,
                (false, _) => 0,
            };
        }
        if in_hunk {
            match kind {
                Some('+') => new += 1,
                Some('-') => old += 1,
                Some(' ') => {
                    new += 1;
                    old += 1;
                }
                _ => {}
            }
        }
    }
    0
}
