//! A caller's value echoed in a message (an account name, a conversation id, an image's name):
//! cut short, so a hostile 100 KB value is never repeated whole.

/// At most this many characters of a value are echoed.
pub const ECHO_CHARS: usize = 40;

/// `text`, cut after [`ECHO_CHARS`] characters with `…`.
pub fn elide(text: &str) -> String {
    elide_to(text, ECHO_CHARS)
}

/// `text`, cut after `max` characters with `…` (on a character boundary).
pub fn elide_to(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
