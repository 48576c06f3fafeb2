//! The filter itself: a text (a file, or one file's patch) in, the same text with every secret
//! replaced by a marker out, and where each one was.
//!
//! Line by line, with a little memory across lines for what spans several (a private key
//! block, a PuTTY key, a wrapped base64 key, a YAML block value, a `value:` under a `name:`).
//! A patch line is judged without its one-character prefix, so an added line is filtered like
//! the same line of the file. Every rule proposes byte ranges of the line; overlapping ranges
//! are joined (the most specific rule names the result), then replaced from the end.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use regex::{Regex, RegexSet};
use serde::Serialize;

use super::key_names::Strength;
use super::keys::{self, KEY_HINT_PATTERN};
use super::pattern::re;
use super::rules::{BY_CONTEXT, TOKEN_RULES, TokenRule};
use super::syntax::Syntax;
use super::values::not_a_secret;

/// A secret-looking value that was replaced, as the result lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

const KEY_BEGIN_PATTERN: &str = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----";
const PUTTY_PATTERN: &str = r"^\s*PuTTY-User-Key-File-\d+:";
const URL_USERINFO_PATTERN: &str = r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@'\x22<>`]*:[^\s/'\x22<>`]*@";

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

/// The finders: each rule run once over the whole text (fast: most have a literal prefix),
/// to learn which lines a rule can match; the rule itself then runs on those lines only. One
/// set of all rules run line by line would be far slower: its automaton is too large to cache.
/// A finder has no `^\s*` anchor (a patch line has a prefix) and matches across lines at most
/// a superset of what the rule matches on one line.
static FINDERS: LazyLock<Finders> = LazyLock::new(|| {
    let mut patterns: Vec<&str> = TOKEN_RULES.iter().map(|r| r.pattern).collect();
    patterns.extend([
        KEY_BEGIN_PATTERN,
        PUTTY_PATTERN,
        URL_USERINFO_PATTERN,
        KEY_HINT_PATTERN,
    ]);
    let finders: Vec<String> = patterns
        .iter()
        .map(|p| format!("(?m){}", p.replace(r"^\s*", "")))
        .collect();
    // A finder whose every match starts with one of a few literals (`sk-`, `ghp_`, `AKIA`…)
    // is gated: one pass of a set of those literals says which finders can match at all, and
    // a text with none of a finder's literals (most texts, for most finders) skips it.
    let mut gates = Vec::new();
    let mut gated = Vec::new();
    for (i, f) in finders.iter().enumerate() {
        let needs = TOKEN_RULES.get(i).map_or(&[][..], |r| r.needs);
        let lits = if needs.is_empty() {
            prefix_literals(f)
        } else {
            Some(needs.iter().map(|n| (*n).to_owned()).collect())
        };
        if let Some(lits) = lits {
            gated.push((i, gates.len()));
            gates.push(
                lits.iter()
                    .map(|l| regex::escape(l))
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    Finders {
        regexes: finders.iter().map(|f| re(f)).collect(),
        gates: RegexSet::new(&gates).unwrap_or_else(|e| panic!("bad literal set: {e}")),
        gated,
    }
});

struct Finders {
    regexes: Vec<Regex>,
    /// One entry a gated finder: its literals as an alternation.
    gates: RegexSet,
    /// (finder, its entry in `gates`).
    gated: Vec<(usize, usize)>,
}

/// The literals every match of `pattern` starts with, when they are few and not too short to
/// be worth a pass of their own; `None`: the finder always runs.
fn prefix_literals(pattern: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut ex = regex_syntax::hir::literal::Extractor::new();
    ex.limit_total(64);
    let seq = ex.extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || seq.min_literal_len()? < 2 {
        return None;
    }
    lits.iter()
        .map(|l| std::str::from_utf8(l.as_bytes()).ok().map(str::to_owned))
        .collect()
}

#[derive(Clone, Copy)]
enum Trigger {
    KeyBegin = 0,
    Putty,
    Url,
    Key,
    Base64,
}

/// Which finders matched on each line: bit `i` for token rule `i`, then the [`Trigger`]s.
struct Hits(Vec<u128>);

impl Hits {
    fn of(text: &str, lines: &[usize]) -> Self {
        let mut hits = vec![0u128; lines.len()];
        let line_of = |offset: usize| lines.partition_point(|&start| start <= offset) - 1;
        let open = FINDERS.gates.matches(text);
        let mut skip = vec![false; FINDERS.regexes.len()];
        for &(finder, gate) in &FINDERS.gated {
            skip[finder] = !open.matched(gate);
        }
        let base64 = 1u128 << (TOKEN_RULES.len() + Trigger::Base64 as usize);
        for (start, _) in base64_runs(text) {
            hits[line_of(start)] |= base64;
        }
        for (bit, finder) in FINDERS.regexes.iter().enumerate() {
            if skip[bit] {
                continue;
            }
            for m in finder.find_iter(text) {
                let last = line_of(m.end().saturating_sub(1).max(m.start()));
                for h in &mut hits[line_of(m.start())..=last] {
                    *h |= 1 << bit;
                }
            }
        }
        Self(hits)
    }

    fn rule(&self, line: usize, idx: usize) -> bool {
        self.0[line] & (1 << idx) != 0
    }

    fn trigger(&self, line: usize, t: Trigger) -> bool {
        self.rule(line, TOKEN_RULES.len() + t as usize)
    }
}

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

/// The runs of base64 (`[A-Za-z0-9+/]`, twelve or more, and up to two `=`) of `text`, by a
/// plain byte scan: a regex for this shape crawls over code, where short runs abound.
fn base64_runs(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
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
fn der_private_key(s: &str) -> bool {
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
fn basic_credentials(s: &str) -> bool {
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

/// Each finder's time over `text` (pattern, microseconds, matches): for tuning the filter.
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub fn finder_costs(text: &str) -> Vec<(String, u128, usize)> {
    FINDERS
        .regexes
        .iter()
        .map(|r| {
            let t = std::time::Instant::now();
            let n = r.find_iter(text).count();
            (
                r.as_str().chars().take(60).collect(),
                t.elapsed().as_micros(),
                n,
            )
        })
        .collect()
}
