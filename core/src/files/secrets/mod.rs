//! What never leaves the machine: files that are secrets by their name or place, and contents
//! that look like secrets (replaced by a marker before anything is sent).
//!
//! One filter for everything sent to Codex: the files of `codex_query`, the names of images,
//! `codex_review`'s diff and full texts, and conversation history sent again.

mod keys;
mod names;
mod rules;
mod scan;
#[cfg(test)]
mod tests;

pub use keys::Syntax;
pub use names::secret_by_name;
pub use scan::{Redaction, marker, redact, redact_diff, redact_file};

/// Each token rule's example: its kind, a line it must catch and the secret in it.
#[cfg(test)]
pub(crate) fn cases() -> Vec<(&'static str, &'static str, &'static str)> {
    rules::TOKEN_RULES
        .iter()
        .map(|r| (r.kind, r.example.0, r.example.1))
        .chain(tests::KEY_CASES.iter().copied())
        .collect()
}
