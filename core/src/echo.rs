//! A caller's value echoed in a message (an account name, a conversation id, an image's name):
//! cut short, so a hostile 100 KB value is never repeated whole.

/// At most this many characters of a value are echoed.
pub const ECHO_CHARS: usize = 40;

/// `text`, cut after [`ECHO_CHARS`] characters with `…`.
pub fn elide(text: &str) -> String {
    match text.char_indices().nth(ECHO_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
