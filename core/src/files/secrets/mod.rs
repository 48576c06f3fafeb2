//! What never leaves the machine: files that are secrets by their name or place, and contents
//! that look like secrets (replaced by a marker before anything is sent).
//!
//! One filter for everything sent to Codex: the files of `codex_query`, the names of images,
//! `codex_review`'s diff and full texts, and conversation history sent again.

mod base64_values;
mod finders;
mod key_names;
mod keys;
mod names;
mod pattern;
mod rules;
mod scan;
mod syntax;
#[cfg(test)]
mod tests;
mod values;

#[cfg(feature = "test-support")]
#[doc(hidden)]
pub use finders::finder_costs;
pub use names::secret_by_name;
pub use scan::{Redaction, marker, redact, redact_diff, redact_file};
pub use syntax::Syntax;
#[cfg(test)]
pub(crate) use tests::cases;
