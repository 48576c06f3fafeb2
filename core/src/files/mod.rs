//! Files from the workspace for Codex: what Claude names (paths, folders or globs), read only
//! inside the workspace roots, with `.gitignore` respected, binaries skipped, secrets by name
//! kept home and secret-looking contents redacted, within per-file and total caps. The result
//! says what was sent, what was skipped and why, and every redaction, so the user can see what
//! left the machine. Nothing here writes or runs anything.

mod bundle;
mod gather;
pub mod images;
mod limits;
mod project;
pub mod secrets;
pub mod sections;
mod walk;

pub(crate) use bundle::size;
pub use bundle::{Bundle, SentFile, SkippedFile};
pub use gather::gather;
pub use limits::{Limits, MAX_FILES, WALK_MAX};
pub use project::Project;
pub use secrets::{Redaction, redact, redact_diff, redact_file, secret_by_name};
pub use sections::{Boundary, diff_path, quoted, quoted_list};

#[cfg(test)]
mod tests;
