//! The `id` of a JSON-RPC message found while its line streams by, for the error that answers
//! a line too long to read.

use serde_json::Value;

/// The longest `id` taken from an oversized line (longer: answered with a null id).
const MAX_ID_BYTES: usize = 256;

/// Finds the `id` of a JSON object as its text streams by, keeping only its depth, whether it
/// is in a string, and the bytes of the top-level key or `id` value being read.
#[derive(Default)]
pub(super) struct IdScan {
    depth: u32,
    in_string: bool,
    escaped: bool,
    at: Top,
    /// The top-level key being read (raw, quotes included), or the `id` value.
    token: Vec<u8>,
    /// The token went past what is kept.
    token_over: bool,
    /// The last top-level key read was `id`.
    key_is_id: bool,
    found: Option<Value>,
}

/// Where the scan is in the top-level object.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Top {
    /// Before the first `{` (anything else: not an object).
    #[default]
    Start,
    /// Waiting for a key (or `}`).
    Key,
    /// Reading a key string.
    InKey,
    /// After a key, waiting for `:`.
    Colon,
    /// After `:`, waiting for the value.
    Value,
    /// Reading a string value.
    InString,
    /// Reading a number or a literal.
    InScalar,
    /// Inside an object or array value.
    Nested,
    /// After a value, waiting for `,` or `}`.
    Comma,
    /// Not an object, or it ended: nothing more to learn.
    Done,
}

impl IdScan {
    pub(super) fn id(&self) -> Option<Value> {
        self.found.clone()
    }

    pub(super) fn feed(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            if self.at == Top::Done || self.found.is_some() {
                return;
            }
            if self.in_string {
                let capturing = matches!(self.at, Top::InKey | Top::InString);
                if !capturing && !self.escaped {
                    // Skip to the next quote or backslash.
                    match bytes[i..].iter().position(|&b| b == b'"' || b == b'\\') {
                        Some(at) => i += at,
                        None => return,
                    }
                }
                let b = bytes[i];
                if capturing {
                    self.keep(b);
                }
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    self.string_ended();
                }
                i += 1;
                continue;
            }
            self.byte(bytes[i]);
            i += 1;
        }
    }

    fn keep(&mut self, b: u8) {
        if self.token.len() < MAX_ID_BYTES {
            self.token.push(b);
        } else {
            self.token_over = true;
        }
    }

    fn start_token(&mut self) {
        self.token.clear();
        self.token_over = false;
    }

    fn string_ended(&mut self) {
        match self.at {
            Top::InKey => {
                self.key_is_id = !self.token_over
                    && serde_json::from_slice::<String>(&self.token).is_ok_and(|k| k == "id");
                self.at = Top::Colon;
            }
            Top::InString => self.value_ended(),
            _ => {}
        }
    }

    /// A top-level value (a string or a scalar in `token`) has ended.
    fn value_ended(&mut self) {
        if self.key_is_id && !self.token_over {
            self.found = serde_json::from_slice::<Value>(&self.token)
                .ok()
                .filter(|v| v.is_string() || v.is_number());
        }
        self.key_is_id = false;
        self.at = Top::Comma;
    }

    fn byte(&mut self, b: u8) {
        if self.at == Top::InScalar {
            if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                self.value_ended();
            } else {
                self.keep(b);
                return;
            }
        }
        match b {
            b'"' => {
                self.in_string = true;
                match self.at {
                    Top::Key => {
                        self.start_token();
                        self.keep(b);
                        self.at = Top::InKey;
                    }
                    Top::Value => {
                        self.start_token();
                        self.keep(b);
                        self.at = Top::InString;
                    }
                    Top::Start => self.at = Top::Done,
                    _ => {}
                }
            }
            b'{' | b'[' => {
                self.depth = self.depth.saturating_add(1);
                match self.at {
                    Top::Start => {
                        self.at = if b == b'{' { Top::Key } else { Top::Done };
                    }
                    Top::Value => {
                        self.key_is_id = false;
                        self.at = Top::Nested;
                    }
                    _ => {}
                }
            }
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 1 && self.at == Top::Nested {
                    self.at = Top::Comma;
                } else if self.depth == 0 {
                    self.at = Top::Done;
                }
            }
            b',' if self.depth == 1 && self.at == Top::Comma => self.at = Top::Key,
            b':' if self.depth == 1 && self.at == Top::Colon => self.at = Top::Value,
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => match self.at {
                Top::Value => {
                    self.start_token();
                    self.keep(b);
                    self.at = Top::InScalar;
                }
                Top::Start => self.at = Top::Done,
                _ => {}
            },
        }
    }
}
