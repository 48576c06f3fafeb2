//! The filter's regular expressions, compiled with ASCII word boundaries.

use regex::Regex;

/// A pattern of the filter, compiled.
pub(super) fn re(p: &str) -> Regex {
    // The patterns are constants of the filter's files, each covered by a test.
    Regex::new(&ascii_boundaries(p)).unwrap_or_else(|e| panic!("bad pattern {p}: {e}"))
}

/// Word boundaries of ASCII words: a Unicode `\b` makes the fast engines give up on any line
/// with a non-ASCII character (a comment's dash), and the filter then crawls.
pub(super) fn ascii_boundaries(p: &str) -> String {
    p.replace(r"\b", r"(?-u:\b)")
}
