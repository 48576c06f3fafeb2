//! A command's output, capped: stdout and stderr interleaved as written, the head and the tail
//! kept when it is longer than the cap.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

/// How one sandboxed command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    /// The shell's exit code (a command killed by a signal inside the sandbox: 128 + signal, as
    /// shells report it); `None` when the launcher itself was killed (see `signal`).
    pub exit_code: Option<i32>,
    /// The signal that killed the launcher (at the time limit: `SIGKILL`, 9).
    pub signal: Option<i32>,
    /// stdout and stderr, interleaved (invalid UTF-8 replaced).
    pub text: String,
    /// Whether output was left out (over the cap).
    pub truncated: bool,
    /// Whether the time limit ended the command (its whole process tree killed).
    pub timed_out: bool,
    /// Wall time from start to end.
    #[serde(serialize_with = "seconds")]
    pub wall_time: Duration,
}

impl Output {
    /// Whether the command ran to the end and exited 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// The bytes kept of an output: the first half of the cap, then the last half.
#[derive(Debug)]
pub(crate) struct Capture {
    head_cap: usize,
    tail_cap: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    dropped: u64,
}

impl Capture {
    /// A capture that keeps at most `cap` bytes.
    pub fn new(cap: usize) -> Self {
        let head_cap = cap / 2;
        Self {
            head_cap,
            tail_cap: cap - head_cap,
            head: Vec::new(),
            tail: VecDeque::new(),
            dropped: 0,
        }
    }

    /// Take the next bytes written.
    pub fn push(&mut self, mut bytes: &[u8]) {
        let room = self.head_cap - self.head.len();
        if room > 0 {
            let n = room.min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        if bytes.len() >= self.tail_cap {
            self.dropped += (self.tail.len() + bytes.len() - self.tail_cap) as u64;
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - self.tail_cap..]);
            return;
        }
        let over = (self.tail.len() + bytes.len()).saturating_sub(self.tail_cap);
        self.tail.drain(..over);
        self.dropped += over as u64;
        self.tail.extend(bytes);
    }

    /// The text kept, and whether some was left out (then a line in the middle says how much).
    pub fn finish(self) -> (String, bool) {
        let head = String::from_utf8_lossy(&self.head);
        let tail_bytes: Vec<u8> = self.tail.into_iter().collect();
        let tail = String::from_utf8_lossy(&tail_bytes);
        if self.dropped == 0 {
            return (format!("{head}{tail}"), false);
        }
        let cut = format!("\n[… {} bytes of output left out …]\n", self.dropped);
        (format!("{head}{cut}{tail}"), true)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn captured(cap: usize, chunks: &[&[u8]]) -> (String, bool) {
        let mut c = Capture::new(cap);
        for chunk in chunks {
            c.push(chunk);
        }
        c.finish()
    }

    #[test]
    fn output_under_the_cap_is_kept_whole() {
        assert_eq!(captured(10, &[b"abc", b"def"]), ("abcdef".into(), false));
        assert_eq!(captured(10, &[b"0123456789"]), ("0123456789".into(), false));
        assert_eq!(captured(10, &[]), (String::new(), false));
    }

    #[test]
    fn output_over_the_cap_keeps_head_and_tail_and_says_how_much_is_missing() {
        let (text, cut) = captured(10, &[b"01234", b"56789", b"abcde"]);
        assert!(cut);
        assert!(text.starts_with("01234\n"), "{text}");
        assert!(text.ends_with("\nabcde"), "{text}");
        assert!(text.contains("5 bytes of output left out"), "{text}");
    }

    #[test]
    fn many_small_writes_keep_the_last_bytes() {
        let chunks: Vec<[u8; 1]> = (0..100u8).map(|i| [b'a' + i % 26]).collect();
        let refs: Vec<&[u8]> = chunks.iter().map(|c| &c[..]).collect();
        let (text, cut) = captured(8, &refs);
        assert!(cut);
        assert!(text.starts_with("abcd\n"), "{text}");
        // The last four of 100 letters cycling a..z: indexes 96..99 → s t u v.
        assert!(text.ends_with("\nstuv"), "{text}");
        assert!(text.contains("92 bytes"), "{text}");
    }

    #[test]
    fn one_huge_write_is_capped() {
        let big = vec![b'x'; 1_000_000];
        let (text, cut) = captured(1000, &[&big]);
        assert!(cut);
        assert!(text.len() < 1100, "{}", text.len());
        assert!(text.contains("999000 bytes"), "{text}");
    }

    #[test]
    fn a_zero_cap_keeps_nothing_but_says_so() {
        let (text, cut) = captured(0, &[b"abc"]);
        assert!(cut);
        assert!(text.contains("3 bytes"), "{text}");
    }

    #[test]
    fn success_needs_exit_zero_and_no_timeout() {
        let mut o = Output {
            exit_code: Some(0),
            signal: None,
            text: String::new(),
            truncated: false,
            timed_out: false,
            wall_time: Duration::ZERO,
        };
        assert!(o.success());
        o.timed_out = true;
        assert!(!o.success());
    }
}
