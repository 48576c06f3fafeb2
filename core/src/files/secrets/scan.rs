//! The filter itself: a text (a file, or one file's patch) in, the same text with every secret
//! replaced by a marker out, and where each one was.
//!
//! Line by line, with a little memory across lines for what spans several (a private key
//! block, a PuTTY key, a wrapped base64 key, a YAML block value, a `value:` under a `name:`).
//! A patch line is judged without its one-character prefix, so an added line is filtered like
//! the same line of the file. Every rule proposes byte ranges of the line; overlapping ranges
//! are joined (the most specific rule names the result), then replaced from the end.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::base64_values::{base64_runs, basic_credentials, der_private_key};
use super::finders::{Hits, KEY_BEGIN_PATTERN, PUTTY_PATTERN, Trigger, URL_USERINFO_PATTERN};
use super::key_names::Strength;
use super::keys;
use super::pattern::re;
use super::rules::{BY_CONTEXT, TOKEN_RULES, TokenRule};
use super::syntax::Syntax;
use super::values::not_a_secret;

/// A secret-looking value that was replaced, as the result lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Redaction {
    /// 1-based.
    pub line: usize,
    /// Which rule: `private_key`, `openai_key`, `jwt`, `password`…
    pub kind: &'static str,
}

/// What replaces a secret in the text sent.
pub fn marker(kind: &str) -> String {
    format!("[REDACTED {kind}]")
}

/// `text` with every secret-looking value replaced by [`marker`], and where each was; read as
/// configuration (a bare value after a secret-named key is a secret).
pub fn redact(text: &str) -> (String, Vec<Redaction>) {
    Filter::new(Syntax::Config, false).run(text)
}

/// The file `name` (a path; its extension says how values are written) with its secrets
/// replaced.
pub fn redact_file(text: &str, name: &str) -> (String, Vec<Redaction>) {
    Filter::new(Syntax::of(name), false).run(text)
}

/// A unified diff of the file `name` with its secrets replaced: added, removed and context
/// lines are each judged without their prefix. Redactions are numbered by the patch's lines.
pub fn redact_diff(patch: &str, name: &str) -> (String, Vec<Redaction>) {
    Filter::new(Syntax::of(name), true).run(patch)
}

static KEY_BEGIN: LazyLock<Regex> = LazyLock::new(|| re(KEY_BEGIN_PATTERN));
static KEY_END: LazyLock<Regex> =
    LazyLock::new(|| re(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"));
static PUTTY: LazyLock<Regex> = LazyLock::new(|| re(PUTTY_PATTERN));
/// A URL with credentials before its host: `scheme://user:password@host`.
static URL_USERINFO: LazyLock<Regex> = LazyLock::new(|| re(URL_USERINFO_PATTERN));
/// A run of base64 (a DER key, `user:password` encoded).
/// A line that is nothing but base64 (the rest of a wrapped key).
static BASE64_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(r#"^\s*["']?[A-Za-z0-9+/]{16,}={0,2}["',\\n]*\s*$"#));

static TOKENS: LazyLock<Vec<Regex>> =
    LazyLock::new(|| TOKEN_RULES.iter().map(|r| re(r.pattern)).collect());

/// What the previous lines left open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Nothing,
    /// Inside `-----BEGIN … PRIVATE KEY-----` … `-----END …`.
    PemKey,
    /// Inside a PuTTY key file, up to its `Private-MAC:` line.
    Putty,
    /// After the first line of a wrapped base64 key: lines of base64 go on.
    Base64,
    /// A YAML block value under a secret key: lines more indented than the key's.
    Block {
        indent: usize,
    },
}

struct Filter {
    syntax: Syntax,
    diff: bool,
    open: Open,
    /// A `name:` line named a secret; its `value:` may come within this many lines.
    pending: Option<(Strength, u8)>,
}

/// A range of a line to replace, and the rule that asked.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    kind: &'static str,
}

impl Filter {
    fn new(syntax: Syntax, diff: bool) -> Self {
        Self {
            syntax,
            diff,
            open: Open::Nothing,
            pending: None,
        }
    }

    fn run(mut self, text: &str) -> (String, Vec<Redaction>) {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text));
        let hits = Hits::of(text, &starts);
        if hits.0.iter().all(|&h| h == 0) {
            return (text.to_owned(), Vec::new());
        }
        let mut out = String::with_capacity(text.len());
        let mut found = Vec::new();
        let mut in_hunk = false;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let (body, eol) = match line.strip_suffix('\n') {
                Some(b) => match b.strip_suffix('\r') {
                    Some(b2) => (b2, "\r\n"),
                    None => (b, "\n"),
                },
                None => (line, ""),
            };
            // A patch: the header up to the first hunk is judged as it is; a hunk's lines
            // without their prefix (`+`, `-`, ` `).
            let (prefix, body) = if self.diff {
                if body.starts_with("@@") {
                    in_hunk = true;
                    ("", body)
                } else if in_hunk && body.starts_with(['+', '-', ' ']) {
                    body.split_at(1)
                } else {
                    ("", body)
                }
            } else {
                ("", body)
            };
            out.push_str(prefix);
            out.push_str(&self.line(body, i, &hits, &mut found));
            out.push_str(eol);
        }
        (out, found)
    }

    /// One line's text as sent.
    fn line(&mut self, body: &str, i: usize, hits: &Hits, found: &mut Vec<Redaction>) -> String {
        let n = i + 1;
        if self.inside_open_secret(body) {
            return String::new();
        }
        let pending = self.pending.take();
        if hits.0[i] == 0 && pending.is_none() {
            return body.to_owned();
        }
        let mut spans: Vec<Span> = Vec::new();

        if hits.trigger(i, Trigger::KeyBegin) {
            self.pem_key_span(body, &mut spans);
        }
        if hits.trigger(i, Trigger::Putty) && PUTTY.is_match(body) {
            self.open = Open::Putty;
            found.push(Redaction {
                line: n,
                kind: "putty_key",
            });
            return body.to_owned();
        }
        for (idx, r) in TOKEN_RULES.iter().enumerate() {
            if hits.rule(i, idx) {
                token_spans(r, &TOKENS[idx], body, &mut spans);
            }
        }
        if hits.trigger(i, Trigger::Url) {
            url_spans(body, &mut spans);
        }
        if hits.trigger(i, Trigger::Key) || pending.is_some() {
            self.key_spans(body, n, pending, &mut spans, found);
        }
        if hits.trigger(i, Trigger::Base64) && self.open == Open::Nothing {
            base64_spans(body, &mut spans, &mut self.open);
        }
        if spans.is_empty() {
            return body.to_owned();
        }
        apply(body, spans, n, found)
    }

    /// Whether the line belongs to a secret that spans several (a private key, a PuTTY key, a
    /// wrapped base64 key, a YAML block value) and goes whole; the secret is closed where it
    /// ends.
    fn inside_open_secret(&mut self, body: &str) -> bool {
        match self.open {
            Open::PemKey => {
                if KEY_END.is_match(body) {
                    self.open = Open::Nothing;
                }
                return true;
            }
            Open::Putty => {
                if body.trim_start().starts_with("Private-MAC:") {
                    self.open = Open::Nothing;
                }
                return true;
            }
            Open::Base64 => {
                if BASE64_LINE.is_match(body) {
                    return true;
                }
                self.open = Open::Nothing;
            }
            Open::Block { indent } => {
                if body.trim().is_empty() || indent_of(body) > indent {
                    return true;
                }
                self.open = Open::Nothing;
            }
            Open::Nothing => {}
        }
        false
    }

    /// A PEM private key from its BEGIN line to its END line, or to the end of the line (the
    /// lines after it then go whole, up to the END line).
    fn pem_key_span(&mut self, body: &str, spans: &mut Vec<Span>) {
        let Some(m) = KEY_BEGIN.find(body) else {
            return;
        };
        let end = match KEY_END.find_at(body, m.end()) {
            Some(e) => e.end(),
            None => {
                self.open = Open::PemKey;
                body.len()
            }
        };
        spans.push(Span {
            start: m.start(),
            end,
            kind: "private_key",
        });
    }

    /// The values under secret-named keys on line `n`; a block value opened, a name whose value
    /// may follow remembered, or the wait for one (`pending`) carried on.
    fn key_spans(
        &mut self,
        body: &str,
        n: usize,
        pending: Option<(Strength, u8)>,
        spans: &mut Vec<Span>,
        found: &mut Vec<Redaction>,
    ) {
        let scan = keys::scan_line(body, self.syntax, pending.map(|(s, _)| s));
        for f in scan.found {
            spans.push(Span {
                start: f.start,
                end: f.end,
                kind: "password",
            });
        }
        if scan.block {
            self.open = Open::Block {
                indent: indent_of(body),
            };
            found.push(Redaction {
                line: n,
                kind: "password",
            });
        }
        if let Some(named) = scan.names_secret {
            self.pending = Some(named);
        } else if let Some((s, left)) = pending
            && left > 1
            && !keys_line_ends_entry(body)
        {
            self.pending = Some((s, left - 1));
        }
    }
}

/// A `value:` line ends the wait for one; so does a new `- ` list item or the end of a block.
fn keys_line_ends_entry(body: &str) -> bool {
    let t = body.trim_start();
    t.starts_with("value:") || t.starts_with("- ") || t.starts_with('}') || t.starts_with("default")
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn token_spans(r: &TokenRule, re: &Regex, body: &str, spans: &mut Vec<Span>) {
    for c in re.captures_iter(body) {
        let m = if r.group == 0 {
            c.get(0)
        } else {
            (r.group..c.len()).find_map(|g| c.get(g))
        };
        let Some(m) = m else { continue };
        let s = m.as_str();
        if r.check.is_some_and(|check| !check(s))
            || (BY_CONTEXT.contains(&r.kind) && not_a_secret(s))
            || s.contains("xxxxxxxx")
            || s.contains("XXXXXXXX")
        {
            continue;
        }
        spans.push(Span {
            start: m.start(),
            end: m.end(),
            kind: r.kind,
        });
    }
}

/// The password of `scheme://user:password@host`: after the userinfo's first `:`, up to the
/// last `@` before the host (a password may hold `@`), any user (or none).
fn url_spans(body: &str, spans: &mut Vec<Span>) {
    for m in URL_USERINFO.find_iter(body) {
        let s = m.as_str();
        let Some(scheme_end) = s.find("://") else {
            continue;
        };
        let info_start = m.start() + scheme_end + 3;
        // The match ends at the last `@` before a `/`: a password may hold `@`, not `/`.
        let info = &body[info_start..m.end() - 1];
        let Some(colon) = info.find(':') else {
            continue;
        };
        let start = info_start + colon + 1;
        let end = m.end() - 1;
        let password = &body[start..end];
        if password.is_empty() || not_a_secret(password) {
            continue;
        }
        spans.push(Span {
            start,
            end,
            kind: "url_password",
        });
    }
}

/// Base64 that decodes to a private key's DER (PKCS#1, SEC1, PKCS#8, PKCS#12), or to
/// `user:password`.
fn base64_spans(body: &str, spans: &mut Vec<Span>, open: &mut Open) {
    for (start, end) in base64_runs(body) {
        let m = Match {
            start,
            end,
            text: &body[start..end],
        };
        let s = m.as_str();
        if s.len() >= 40 && s.starts_with('M') && der_private_key(s) {
            let rest = body[m.end()..].trim_end_matches(['"', '\'', ',', ' ', '\\', 'n']);
            // A key wrapped over several lines: the base64 lines that follow go too.
            if rest.is_empty() && s.len() >= 60 {
                *open = Open::Base64;
            }
            spans.push(Span {
                start: m.start(),
                end: m.end(),
                kind: "private_key",
            });
        } else if s.len() <= 512 && basic_credentials(s) {
            spans.push(Span {
                start: m.start(),
                end: m.end(),
                kind: "basic_credentials",
            });
        }
    }
}

/// A run of base64 in a line, as [`base64_spans`] reads it.
struct Match<'h> {
    start: usize,
    end: usize,
    text: &'h str,
}

impl<'h> Match<'h> {
    fn as_str(&self) -> &'h str {
        self.text
    }
    fn start(&self) -> usize {
        self.start
    }
    fn end(&self) -> usize {
        self.end
    }
}

/// The line with its spans replaced: overlapping spans are joined, named by the first rule
/// that asked (the most specific).
fn apply(body: &str, mut spans: Vec<Span>, n: usize, found: &mut Vec<Redaction>) -> String {
    spans.retain(|s| s.end > s.start);
    // Sorted by start; the rule order breaks ties (stable sort).
    spans.sort_by_key(|s| s.start);
    let mut joined: Vec<Span> = Vec::new();
    for s in spans {
        match joined.last_mut() {
            Some(last) if s.start < last.end => last.end = last.end.max(s.end),
            _ => joined.push(s),
        }
    }
    let mut line = String::with_capacity(body.len());
    let mut at = 0;
    for s in &joined {
        line.push_str(&body[at..s.start]);
        line.push_str(&marker(s.kind));
        at = s.end;
        found.push(Redaction {
            line: n,
            kind: s.kind,
        });
    }
    line.push_str(&body[at..]);
    line
}

/// The offsets where lines start, after the first.
fn memchr_newlines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i + 1)
        .filter(move |&i| i < text.len())
}
