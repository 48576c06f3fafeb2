//! Whether a stream gets colour: only a terminal, and never when `NO_COLOR` is set to anything
//! (https://no-color.org). Pipes, files and Claude Code's captured stderr get plain text.

use std::ffi::OsStr;
use std::io::IsTerminal;

/// Colour for stderr, from the real stream and the real environment.
pub fn stderr_colour() -> bool {
    colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// The rule itself: a terminal, and `NO_COLOR` unset or empty.
pub fn colour(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        let set = OsStr::new("1");
        let empty = OsStr::new("");
        assert!(colour(true, None));
        assert!(colour(true, Some(empty)), "an empty NO_COLOR is unset");
        assert!(!colour(true, Some(set)));
        assert!(!colour(false, None));
        assert!(!colour(false, Some(set)));
    }
}
