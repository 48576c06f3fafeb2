//! Base64 in a text: its runs, found by a byte scan, and what a run decodes to that is a secret
//! (a private key's DER, `user:password`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// The runs of base64 (`[A-Za-z0-9+/]`, twelve or more, and up to two `=`) of `text`, by a
/// plain byte scan: a regex for this shape crawls over code, where short runs abound.
pub(super) fn base64_runs(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let b = text.as_bytes();
    let is = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            if !is(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && is(b[i]) {
                i += 1;
            }
            if i - start < 12 {
                continue;
            }
            let mut end = i;
            while end < b.len() && end - i < 2 && b[end] == b'=' {
                end += 1;
            }
            i = end;
            return Some((start, end));
        }
        None
    })
}

/// Whether base64 `s` starts a DER private key: a SEQUENCE whose first element is a small
/// INTEGER version (0 or 1 for keys, 3 for PKCS#12), not a certificate or a public key.
pub(super) fn der_private_key(s: &str) -> bool {
    let Ok(head) = STANDARD_NO_PAD.decode(&s[..16]) else {
        return false;
    };
    if head.first() != Some(&0x30) {
        return false;
    }
    let after_len = match head.get(1) {
        Some(l) if *l < 0x80 => 2,
        Some(0x81) => 3,
        Some(0x82) => 4,
        Some(0x83) => 5,
        _ => return false,
    };
    matches!(
        head.get(after_len..after_len + 3),
        Some([0x02, 0x01, 0x00 | 0x01 | 0x03])
    )
}

/// Whether base64 `s` decodes to `user:password` (printable, one user without `/`, a
/// password of three characters or more that is not the rest of a URL).
pub(super) fn basic_credentials(s: &str) -> bool {
    let decoded = if s.len().is_multiple_of(4) {
        STANDARD.decode(s)
    } else {
        STANDARD_NO_PAD.decode(s)
    };
    let Ok(bytes) = decoded else {
        return false;
    };
    if bytes.len() < 6 || !bytes.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return false;
    }
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return false;
    };
    let Some((user, password)) = text.split_once(':') else {
        return false;
    };
    !user.is_empty()
        && user.len() <= 64
        && !user.contains('/')
        && password.len() >= 3
        && !password.starts_with("//")
}
