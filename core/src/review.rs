//! The change `codex_review` is about, read with libgit2 (no git CLI needed): the unified diff
//! (redacted, capped) and the full text of the touched files (the same rules and caps as
//! `files`), what was compared, and the request's words; then Codex's answer read back into
//! findings.
//!
//! What is compared: by default the working tree against HEAD, staged and unstaged changes and
//! new files (not ignored ones); with `base` a branch, tag or commit, everything since the point
//! this branch left it (their merge base) up to the working tree; with `A..B` the commits from A
//! to B, and with `A...B` from their merge base to B; with `staged` the index against HEAD
//! (only what is staged); with `commit` that commit against its first parent. The full texts
//! are the new side's: the working tree's files, or the blobs of the index or the commit.

mod change;
mod collect;
mod deltas;
mod findings;
mod repository;

pub use change::{Change, ChangedFile, DiffRedaction, Scope};
pub use collect::collect;
pub use findings::{Finding, REVIEW_INSTRUCTIONS, Review, SEVERITIES, parse_review};

#[cfg(test)]
mod tests;
