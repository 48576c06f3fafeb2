//! How much is read and sent: the caps of one request's files.

/// Files sent in one request at most.
pub const MAX_FILES: usize = 200;

/// Entries a walk of one folder visits at most, unless the limits say otherwise.
pub const WALK_MAX: usize = 200_000;

/// How much is read and sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one file; a longer one is cut at a line end and marked as cut.
    pub max_file_bytes: usize,
    /// Bytes of all files together (about a quarter of this in tokens).
    pub max_total_bytes: usize,
    /// Files in one request.
    pub max_files: usize,
    /// Entries a walk of one folder visits at most (a glob over a huge tree stops there, and
    /// says so).
    pub max_walk_entries: usize,
}

impl Limits {
    /// The caps the settings give (`files_max_file_kb`, `files_max_total_kb`), and 200 files.
    pub fn from_settings(s: &crate::Settings) -> Self {
        let kb = |n: u32| {
            usize::try_from(n)
                .unwrap_or(usize::MAX)
                .saturating_mul(1024)
        };
        Self {
            max_file_bytes: kb(s.files_max_file_kb),
            max_total_bytes: kb(s.files_max_total_kb),
            max_files: MAX_FILES,
            max_walk_entries: WALK_MAX,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        use crate::config::{DEFAULT_FILES_MAX_FILE_KB, DEFAULT_FILES_MAX_TOTAL_KB};
        Self {
            max_file_bytes: DEFAULT_FILES_MAX_FILE_KB as usize * 1024,
            max_total_bytes: DEFAULT_FILES_MAX_TOTAL_KB as usize * 1024,
            max_files: MAX_FILES,
            max_walk_entries: WALK_MAX,
        }
    }
}
