//! Walking a folder as git would list it: `.gitignore` (and `.ignore`) respected, hidden files
//! included but `.git`, symlinks not followed, within a cap of entries.

use std::path::{Path, PathBuf};

/// The folders a glob starts with, before its first component with a glob character
/// (`src/app` of `./src/app/**/*.rs`); empty when it starts with one.
pub(super) fn literal_prefix(pattern: &str) -> PathBuf {
    let parts: Vec<&str> = pattern
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let mut prefix = PathBuf::new();
    // The last part names files, not a folder to start in.
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        if part.contains(['*', '?', '[', '{', '\\']) {
            break;
        }
        prefix.push(part);
    }
    prefix
}

/// What a walk of a folder found.
#[derive(Debug, Clone, Default)]
pub(super) struct Walk {
    /// The files (and folders when asked), sorted.
    pub files: Vec<PathBuf>,
    /// The walk stopped at its cap: more entries are there, not looked at.
    pub capped: bool,
}

/// The files (and with `dirs` the folders) a walk of `dir` yields (see `Gatherer::walk`), at
/// most `depth` levels down, among the first `cap` entries.
pub(super) fn walk_entries(dir: &Path, depth: Option<usize>, dirs: bool, cap: usize) -> Walk {
    let mut out = Vec::new();
    let mut capped = false;
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .max_depth(depth)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for (seen, entry) in walker.enumerate() {
        if seen == cap {
            capped = true;
            break;
        }
        let Ok(entry) = entry else { continue };
        let wanted = entry.depth() > 0
            && entry
                .file_type()
                .is_some_and(|t| t.is_file() || t.is_symlink() || (dirs && t.is_dir()));
        if wanted {
            // Under a canonical folder and not through a link: canonical already (a link is
            // kept as found, and followed by the check).
            out.push(entry.path().to_path_buf());
        }
    }
    out.sort();
    Walk { files: out, capped }
}
