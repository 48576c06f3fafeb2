//! The change `codex_review` is about, read with libgit2 (no git CLI needed): the unified diff
//! (redacted, capped) and the full text of the touched files (the same rules and caps as
//! `files`), what was compared, and the request's words; then Codex's answer read back into
//! findings.
//!
//! What is compared: by default the working tree against HEAD, staged and unstaged changes and
//! new files (not ignored ones); with `base` a branch, tag or commit, everything since the point
//! this branch left it (their merge base) up to the working tree; with `A..B` the commits from A
//! to B, and with `A...B` from their merge base to B.

use std::path::{Path, PathBuf};

use git2::{Delta, DiffFindOptions, DiffOptions, Repository, Tree};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files::{
    self, Boundary, Bundle, Limits, Redaction, SkippedFile, Workspace, secret_by_name,
};

/// What to review.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// A branch, tag or commit (`main`, `v1.2`, `abc123`), or a range `A..B` / `A...B`.
    pub base: Option<String>,
    /// Paths or folders inside the workspace to narrow the change to.
    pub paths: Vec<String>,
}

/// One file of the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFile {
    pub path: String,
    /// `added`, `modified`, `deleted`, `renamed`, `copied`, `typechange`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub binary: bool,
    /// Its diff is not in what was sent: the diff was full (the size cap).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub diff_omitted: bool,
}

/// A redaction in the diff, by the file and its line in the new version (the old one for a
/// removed line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffRedaction {
    pub path: String,
    pub line: usize,
    pub kind: &'static str,
}

/// The change, bundled.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Change {
    /// What was compared, for a person: "HEAD → the working tree (staged, unstaged and new files)".
    pub compared: String,
    pub changed: Vec<ChangedFile>,
    /// Changed files whose diff and text were not sent (secrets by name).
    pub withheld: Vec<SkippedFile>,
    #[serde(skip)]
    pub diff: String,
    pub diff_bytes: usize,
    /// The diff was cut at the size limit.
    pub diff_truncated: bool,
    pub diff_redactions: Vec<DiffRedaction>,
    /// The full text of the touched files (new versions).
    pub files: Bundle,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.withheld.is_empty()
    }

    /// The user message for Codex: what was compared, the diff and the files' full text, each
    /// between lines that carry one boundary found nowhere in the message; names are quoted.
    pub fn prompt(&self, focus: Option<&str>) -> String {
        let focus = focus.map(str::trim).filter(|f| !f.is_empty());
        let withheld = files::quoted_list(self.withheld.iter().map(|w| w.path.as_str()));
        let omitted = files::quoted_list(
            self.changed
                .iter()
                .filter(|f| f.diff_omitted)
                .map(|f| f.path.as_str()),
        );
        let texts = self.files.boundary_texts();
        let boundary = Boundary::avoiding(
            texts
                .iter()
                .map(String::as_str)
                .chain([self.compared.as_str(), &withheld, &omitted, &self.diff])
                .chain(focus),
        );
        let mut p = format!(
            "Review this change: {}. {} file(s) changed.\n",
            self.compared,
            self.changed.len()
        );
        if let Some(f) = focus {
            p.push_str(&format!("Focus on: {f}\n"));
        }
        if !withheld.is_empty() {
            p.push_str(&format!("Not included (secrets by name): {withheld}\n"));
        }
        if !omitted.is_empty() {
            p.push_str(&format!(
                "Changed too, but their diff is not included (the size limit): {omitted}\n"
            ));
        }
        p.push_str(&format!("{}\n\n", boundary.explained()));
        p.push_str(&boundary.begin("the unified diff"));
        p.push_str(&self.diff);
        if !self.diff.ends_with('\n') {
            p.push('\n');
        }
        p.push_str(&boundary.end("the unified diff"));
        if !self.files.sent.is_empty() {
            p.push_str(
                "\nThe full text of the changed files, new versions (line numbers added; values that look like secrets are replaced by [REDACTED kind]):\n\n",
            );
            self.files.write_sections(&boundary, &mut p);
        }
        p
    }
}

/// The instructions of a review, and the shape of the answer.
pub const REVIEW_INSTRUCTIONS: &str = "You review a code change for its author. Report only \
problems worth fixing: bugs, security holes, data loss, races, wrong error handling, broken \
edge cases, misleading names or docs, missing tests for risky logic. No praise, no style nits \
a formatter would fix. Answer with one JSON object and nothing else: {\"summary\": \"<two \
sentences at most>\", \"findings\": [{\"file\": \"<path as in the diff>\", \"line\": <line in \
the new version, or null>, \"severity\": \"critical|high|medium|low|info\", \"title\": \"<one \
line>\", \"detail\": \"<why it is a problem>\", \"suggestion\": \"<the change to make, code or \
words, or null>\"}]}. An empty findings list is a fine answer when the change is sound.";

/// Severity of a finding, most severe first.
pub const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "info"];

/// One finding of a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub file: String,
    pub line: Option<u64>,
    pub severity: String,
    pub title: String,
    pub detail: String,
    pub suggestion: Option<String>,
}

/// Codex's review, read from its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub summary: String,
    pub findings: Vec<Finding>,
}

/// The review in `answer`: its JSON object (alone, or in a fenced block, or among words), with
/// fields of another type tolerated (a line written as "12", a severity in capitals). `None`
/// when there is no such object.
pub fn parse_review(answer: &str) -> Option<Review> {
    let start = answer.find('{')?;
    let end = answer.rfind('}')?;
    let v: serde_json::Value = serde_json::from_str(answer.get(start..=end)?).ok()?;
    let obj = v.as_object()?;
    let findings = obj.get("findings")?.as_array()?;
    let text = |v: &serde_json::Value, k: &str| -> Option<String> {
        match v.get(k)? {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut out: Vec<Finding> = findings
        .iter()
        .filter(|f| f.is_object())
        .map(|f| {
            let severity = text(f, "severity")
                .map(|s| s.to_ascii_lowercase())
                .filter(|s| SEVERITIES.contains(&s.as_str()))
                .unwrap_or_else(|| "info".into());
            Finding {
                file: text(f, "file").unwrap_or_default(),
                line: f.get("line").and_then(|l| {
                    l.as_u64()
                        .or_else(|| l.as_str().and_then(|s| s.trim().parse().ok()))
                }),
                severity,
                title: text(f, "title").unwrap_or_else(|| "(no title)".into()),
                detail: text(f, "detail").unwrap_or_default(),
                suggestion: text(f, "suggestion"),
            }
        })
        .collect();
    out.sort_by_key(|f| SEVERITIES.iter().position(|s| *s == f.severity));
    Some(Review {
        summary: text(&v, "summary").unwrap_or_default(),
        findings: out,
    })
}

impl Review {
    /// The review for a person to read.
    pub fn describe(&self) -> String {
        let mut t = match self.findings.len() {
            0 => "No findings.".to_owned(),
            1 => "1 finding:".to_owned(),
            n => format!("{n} findings:"),
        };
        for (i, f) in self.findings.iter().enumerate() {
            let at = match f.line {
                Some(l) => format!("{}:{l}", f.file),
                None => f.file.clone(),
            };
            t.push_str(&format!(
                "\n\n{}. [{}] {at}: {}",
                i + 1,
                f.severity,
                f.title
            ));
            if !f.detail.is_empty() {
                t.push_str(&format!("\n   {}", f.detail));
            }
            if let Some(s) = &f.suggestion {
                t.push_str(&format!("\n   Suggestion: {s}"));
            }
        }
        if !self.summary.is_empty() {
            t.push_str(&format!("\n\nSummary: {}", self.summary));
        }
        t
    }
}

fn git_error(what: &str, e: &git2::Error) -> Error {
    Error::Input(format!("{what}: {}", e.message()))
}

/// The change `scope` names in the repository that holds the workspace's first root. The diff
/// and the files come only from inside the roots.
pub fn collect(ws: &Workspace, scope: &Scope, limits: &Limits) -> Result<Change> {
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
        let rel = narrow(&inside, p)?;
        opts.pathspec(rel);
        specs += 1;
    }
    if specs == 0 && !inside.as_os_str().is_empty() {
        opts.pathspec(inside.to_string_lossy().replace('\\', "/"));
    }

    let head_tree = || -> Option<Tree<'_>> { repo.head().ok()?.peel_to_tree().ok() };
    let tree_of = |spec: &str| -> Result<Tree<'_>> {
        refuse_path_spec(spec)?;
        repo.revparse_single(spec)
            .and_then(|o| o.peel_to_commit())
            .and_then(|c| c.tree())
            .map_err(|_| {
                Error::Input(format!(
                    "`{spec}` is not a branch, tag or commit of this repository"
                ))
            })
    };
    let commit_of = |spec: &str| -> Result<git2::Oid> {
        refuse_path_spec(spec)?;
        repo.revparse_single(spec)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
            .map_err(|_| {
                Error::Input(format!(
                    "`{spec}` is not a branch, tag or commit of this repository"
                ))
            })
    };
    let short = |oid: git2::Oid| oid.to_string()[..7].to_owned();

    // (the diff, what was compared, the tree of the new side when it is not the working tree)
    let (mut diff, compared, new_tree) = match scope.base.as_deref().map(str::trim) {
        None | Some("") => {
            let old = head_tree();
            let d = repo
                .diff_tree_to_workdir_with_index(old.as_ref(), Some(&mut opts))
                .map_err(|e| git_error("cannot compare the working tree", &e))?;
            let what = if old.is_some() {
                "HEAD → the working tree (staged, unstaged and new files)"
            } else {
                "the working tree of a repository with no commit yet (every file is new)"
            };
            (d, what.to_owned(), None)
        }
        Some(range) if range.contains("..") => {
            let three = range.contains("...");
            let (a, b) = range
                .split_once(if three { "..." } else { ".." })
                .unwrap_or((range, ""));
            let b = if b.is_empty() { "HEAD" } else { b };
            let a = if a.is_empty() { "HEAD" } else { a };
            let new = tree_of(b)?;
            let old = if three {
                let mb = repo.merge_base(commit_of(a)?, commit_of(b)?).map_err(|e| {
                    git_error(&format!("`{a}` and `{b}` have no common commit"), &e)
                })?;
                repo.find_commit(mb)
                    .and_then(|c| c.tree())
                    .map_err(|e| git_error("cannot read the merge base", &e))?
            } else {
                tree_of(a)?
            };
            let d = repo
                .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut opts))
                .map_err(|e| git_error("cannot compare the commits", &e))?;
            (d, format!("{a} → {b}"), Some(new))
        }
        Some(base) => {
            let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(|_| {
                Error::Input(
                    "the repository has no commit yet: there is no branch to compare with".into(),
                )
            })?;
            let mb = repo
                .merge_base(commit_of(base)?, head.id())
                .map_err(|e| git_error(&format!("`{base}` and HEAD have no common commit"), &e))?;
            let old = repo
                .find_commit(mb)
                .and_then(|c| c.tree())
                .map_err(|e| git_error("cannot read the merge base", &e))?;
            let d = repo
                .diff_tree_to_workdir_with_index(Some(&old), Some(&mut opts))
                .map_err(|e| git_error("cannot compare the working tree", &e))?;
            (
                d,
                format!(
                    "{base} (where this branch left it, {}) → the working tree",
                    short(mb)
                ),
                None,
            )
        }
    };
    let mut find = DiffFindOptions::new();
    find.renames(true).copies(false).for_untracked(true);
    diff.find_similar(Some(&mut find))
        .map_err(|e| git_error("cannot detect renames", &e))?;

    let mut change = Change {
        compared,
        ..Change::default()
    };
    // The diff may use two thirds of the total cap; the files' text gets what is left.
    let diff_cap = limits.max_total_bytes / 3 * 2;
    let mut texts: Vec<(String, Option<git2::Oid>)> = Vec::new();
    for idx in 0..diff.deltas().len() {
        let Some(delta) = diff.get_delta(idx) else {
            continue;
        };
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
                    change.withheld.push(SkippedFile {
                        path: display(&inside, &p.to_string_lossy()),
                        reason: "unreadable (its permissions)".into(),
                    });
                }
                continue;
            }
            _ => continue,
        };
        let path_of =
            |f: git2::DiffFile<'_>| f.path().map(|p| p.to_string_lossy().replace('\\', "/"));
        let (Some(path), old_path) = (
            path_of(delta.new_file()).or_else(|| path_of(delta.old_file())),
            path_of(delta.old_file()),
        ) else {
            continue;
        };
        let shown = display(&inside, &path);
        let in_store = [Some(path.as_str()), old_path.as_deref()]
            .into_iter()
            .flatten()
            .any(|p| ws.is_private(&workdir.join(p)));
        if in_store {
            change.withheld.push(SkippedFile {
                path: shown,
                reason: "this project's own store (sign-in data): never sent".into(),
            });
            continue;
        }
        if let Some(why) = secret_by_name(Path::new(&path)).or_else(|| {
            old_path
                .as_deref()
                .and_then(|o| secret_by_name(Path::new(o)))
        }) {
            change.withheld.push(SkippedFile {
                path: shown,
                reason: format!("{why}: never sent"),
            });
            continue;
        }
        if change.diff.len() >= diff_cap {
            // The diff is full: the rest are named, not read.
            change.changed.push(ChangedFile {
                path: shown,
                status,
                old_path: old_path
                    .filter(|o| *o != path)
                    .map(|o| display(&inside, &o)),
                binary: false,
                diff_omitted: true,
            });
            change.diff_truncated = true;
            continue;
        }
        let patch = git2::Patch::from_diff(&diff, idx)
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
                files::diff_path("a/", old_path.as_deref().unwrap_or(&path)),
                files::diff_path("b/", &path),
                files::quoted(&path),
                files::size(limits.max_file_bytes)
            ),
            _ => format!(
                "diff --git {} {}\nBinary file {} {status} (its content is not sent)\n",
                files::diff_path("a/", old_path.as_deref().unwrap_or(&path)),
                files::diff_path("b/", &path),
                files::quoted(&path),
            ),
        };
        let (clean, found) = files::redact_diff(&body, &path);
        for r in &found {
            change.diff_redactions.push(DiffRedaction {
                path: shown.clone(),
                line: diff_line_number(&clean, r),
                kind: r.kind,
            });
        }
        let omitted = change.diff.len() + clean.len() > diff_cap;
        if omitted {
            change.diff_truncated = true;
        } else {
            change.diff.push_str(&clean);
        }
        change.changed.push(ChangedFile {
            path: shown.clone(),
            status,
            old_path: old_path
                .filter(|o| *o != path)
                .map(|o| display(&inside, &o)),
            binary: binary && !too_large,
            diff_omitted: omitted,
        });
        if status != "deleted" && !binary && !omitted {
            texts.push((path, new_tree.as_ref().map(|_| delta.new_file().id())));
        }
    }
    change.diff_bytes = change.diff.len();

    // The full text of the touched files, in what the total cap leaves.
    let room = limits.max_total_bytes.saturating_sub(change.diff.len());
    let text_limits = Limits {
        max_total_bytes: room,
        ..*limits
    };
    if new_tree.is_none() {
        let patterns: Vec<String> = texts
            .iter()
            .map(|(p, _)| workdir.join(p).to_string_lossy().into_owned())
            .collect();
        change.files = files::gather(ws, &patterns, &text_limits);
    } else {
        let mut bundle = Bundle::default();
        let mut total = 0usize;
        for (path, id) in &texts {
            let shown = display(&inside, path);
            let left = text_limits.max_total_bytes.saturating_sub(total);
            if left == 0 || bundle.sent.len() >= limits.max_files {
                bundle.skipped.push(SkippedFile {
                    path: shown,
                    reason: "over the size limit of the review".into(),
                });
                continue;
            }
            let Some(blob) = id.and_then(|id| repo.find_blob(id).ok()) else {
                continue;
            };
            let cap = limits.max_file_bytes.min(left);
            let content = blob.content();
            let whole = content.len() <= cap;
            let bytes = &content[..content.len().min(cap)];
            match bundle.add_text(&shown, bytes, whole, cap, &text_limits) {
                Ok(n) => total += n,
                Err(why) => bundle.skipped.push(SkippedFile {
                    path: shown,
                    reason: why,
                }),
            }
        }
        change.files = bundle;
    }
    Ok(change)
}

/// A path of the repository as the workspace names it (relative to the workspace's root).
fn display(inside: &Path, path: &str) -> String {
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

/// The line of the file a redaction of a file's patch text is on: in the new version, or in
/// the old one for a removed line; 0 for the patch's header lines.
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

#[cfg(test)]
mod tests;

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
