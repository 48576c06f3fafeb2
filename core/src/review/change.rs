//! What a review is about: the scope asked for, the files of the change, the redactions of its
//! diff, and the change bundled into the user message for Codex.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::files::{self, Boundary, Bundle, SkippedFile};

/// What to review. `base`, `staged` and `commit` exclude each other; none of them: the working
/// tree against HEAD.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// A branch, tag or commit (`main`, `v1.2`, `abc123`), or a range `A..B` / `A...B`.
    pub base: Option<String>,
    /// Only what is staged: the index against HEAD (not the unstaged changes, not new files).
    pub staged: bool,
    /// One commit (`abc123`, `HEAD~2`, a branch or tag) against its first parent (a root
    /// commit against the empty tree).
    pub commit: Option<String>,
    /// Paths or folders inside the workspace to narrow the change to.
    pub paths: Vec<String>,
}

/// What [`Scope`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Against<'s> {
    /// The working tree against HEAD.
    WorkingTree,
    /// A base or a range (`Scope::base`).
    Base(&'s str),
    /// The index against HEAD.
    Staged,
    /// One commit against its first parent.
    Commit(&'s str),
}

impl Scope {
    /// What the scope compares, or why it names no one thing (`base`, `staged` and `commit`
    /// together, an empty `commit`).
    pub fn check(&self) -> Result<()> {
        self.against().map(|_| ())
    }

    pub(super) fn against(&self) -> Result<Against<'_>> {
        let base = self
            .base
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty());
        let commit = self.commit.as_deref().map(str::trim);
        if commit == Some("") {
            return Err(Error::Input(
                "`commit` is empty: name one commit (`abc1234`, `HEAD~2`, a branch or a tag)"
                    .into(),
            ));
        }
        let given: Vec<&str> = [
            base.map(|_| "`base`"),
            self.staged.then_some("`staged`"),
            commit.map(|_| "`commit`"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if given.len() > 1 {
            return Err(Error::Input(format!(
                "{} exclude each other: give one of `base` (a branch, tag or range), `staged: true` (the index against HEAD) or `commit` (one commit against its parent), or none (the working tree against HEAD)",
                given.join(" and ")
            )));
        }
        Ok(match (base, self.staged, commit) {
            (Some(b), _, _) => Against::Base(b),
            (_, true, _) => Against::Staged,
            (_, _, Some(c)) => Against::Commit(c),
            _ => Against::WorkingTree,
        })
    }
}

/// One file of the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DiffRedaction {
    pub path: String,
    pub line: usize,
    pub kind: &'static str,
}

/// The change, bundled.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Change {
    /// What was compared, for a person: "HEAD → the working tree (staged, unstaged and new
    /// files)", "HEAD → the index (staged changes only)", "abc1234^ → abc1234 (one commit)".
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
    /// The full text of the touched files (new versions: in the working tree, the index or the
    /// commit, as compared).
    pub files: Bundle,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.withheld.is_empty()
    }

    /// A digest of everything the review would send of this change (what was compared, the
    /// diff, the names withheld, the files' texts): equal digests, equal reviews' input.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut part = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        part(self.compared.as_bytes());
        part(self.diff.as_bytes());
        for w in &self.withheld {
            part(w.path.as_bytes());
        }
        for t in self.files.boundary_texts() {
            part(t.as_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
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
