//! Values under secret-named keys, in the many ways files write them: `KEY=value` in env files
//! and shell, `key: value` in YAML, `"key": "value"` in JSON, `key = "value"` in TOML, INI and
//! HCL, `a.b.password=value` in `.properties`, `<password>value</password>` in XML,
//! `define('DB_PASSWORD', 'value')` in PHP, `set -gx KEY value` in fish, `--password value` on a
//! command line, and assignments and keyword arguments in code.
//!
//! A key is judged by its words (`spring.datasource.password` → spring, datasource, password;
//! `aws.secretKey` → aws, secret, key): a strong key (its last word is `password`, `token`,
//! `secret`…, or `api key`, `private key`…) hides any literal value that is not a reference or a
//! placeholder; a weak key (`key`, `auth`, `salt`…) only a value that looks random.

use std::sync::LazyLock;

use regex::Regex;

use super::key_names::{Strength, classify};
use super::pattern::re;
use super::syntax::Syntax;
use super::values::looks_secret;

/// A cheap first look: can this line hold a secret-named key at all?
pub(super) const KEY_HINT_PATTERN: &str =
    r"(?i)pass|pwd|\bpw\b|secret|token|key|auth|cred|salt|cookie|sig|seed|login";
pub(super) static KEY_HINT: LazyLock<Regex> = LazyLock::new(|| re(KEY_HINT_PATTERN));

/// `key = value`, `key: value`, `"key": value`, `key := value`, `key => value`, `$key = value`.
static ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)(?:["'`]\]?|\])?[ \t]*(?P<op>:=|=>|=|:)"#)
});

/// `set -gx KEY value` (fish), `ENV KEY value` / `ARG` (Dockerfile), `--key value` (flags).
static SPACED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:^\s*(?:set\s+(?:-[A-Za-z]+\s+)*|ENV\s+|ARG\s+|setenv\s+)|(?:^|\s)--)(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]+",
    )
});

/// `define('KEY', value)`, `setenv("KEY", value)`, `put("KEY", value)`: a call's first
/// argument names the second.
static CALL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"\(\s*["'](?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)["']\s*,\s*"#));

/// `<password>value</password>`.
static ELEMENT: LazyLock<Regex> = LazyLock::new(|| {
    re(r"<(?P<key>[A-Za-z_][A-Za-z0-9_.:\-]*)(?P<attrs>\s[^<>]*)?>(?P<value>[^<]+)</")
});

/// `<add key="Password" value="…"/>`, `{"name": "DB_PASSWORD", "value": "…"}`.
static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\b(?:key|name)["']?\s*[=:]\s*["'](?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)["']\s*,?\s*["']?value["']?\s*[=:]\s*"#,
    )
});

/// A line that names a secret whose value follows on a later line: YAML's `- name: X` (its
/// `value:` next), HCL's `variable "x" {` (its `default =` inside).
static NAME_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"^\s*(?:-\s+)?name:\s*["']?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*$|^\s*variable\s+"(?P<var>[A-Za-z_][A-Za-z0-9_.\-]*)"\s*\{\s*$"#,
    )
});
static VALUE_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*(?:-\s+)?(?:value:|default\s*=)[ \t]*"));

/// `KEY "value"`, `KEY 'value'`: a key and a quoted value with only blanks between
/// (`proxy_set_header X-Api-Key "…"`, SQL `PASSWORD '…'`).
static KEY_QUOTED: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]+["']"#));

/// A configuration line of two words, a key and its value: `requirepass …`, `masterauth …`.
static KEY_WORD_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]+[^\s=:]"));

/// A type before the value: `API_KEY: &str = "…"`, `apiKey: string = "…"`.
static TYPED: LazyLock<Regex> = LazyLock::new(|| re(r"^[ \t]*[A-Za-z_&'\[\]<>:, ]+?[ \t]*=[ \t]*"));

/// A conversion around a literal: `[]byte("…")`, `String::from("…")`, `Buffer.from("…")`.
static WRAPPED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^[ \t]*(?:\[\]byte|String::from|str|bytes|Buffer\.from|Secret[A-Za-z]*(?:::new|::from|\.new)?|SecretStr|new String)\(\s*",
    )
});

/// `export X=…`, `set -gx X …`, `X=…` with an upper-case name and no blanks: a shell line.
static SHELL_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*(?:#\s*)?(?:export\s|set\s+-|ENV\s|[A-Z][A-Z0-9_]*=[^\s=])"));

/// A secret found under a key: the byte range of the value in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found {
    pub start: usize,
    pub end: usize,
}

/// What a key-value scan of one line yields.
#[derive(Debug, Default)]
pub(super) struct LineScan {
    pub found: Vec<Found>,
    /// The line opens a block value (`password: |`) under a strong key: the following lines
    /// more indented than this one are the secret.
    pub block: bool,
    /// The line names a secret (`- name: DB_PASSWORD`) whose value may follow within so many
    /// lines.
    pub names_secret: Option<(Strength, u8)>,
}

/// Every value under a secret-named key in `line`. `pending`: a previous line named a secret
/// whose value this line may give.
pub(super) fn scan_line(line: &str, syntax: Syntax, pending: Option<Strength>) -> LineScan {
    let mut out = LineScan::default();
    // A shell line inside code (a docstring, a comment, an embedded script) is shell.
    let syntax = if syntax == Syntax::Code && SHELL_LINE.is_match(line) {
        Syntax::Shell
    } else {
        syntax
    };
    if let Some(strength) = pending
        && let Some(m) = VALUE_LINE.find(line)
    {
        push_value(&mut out, line, m.end(), strength, syntax, Ctx::EndOfLine);
    }
    if !KEY_HINT.is_match(line) {
        return out;
    }
    if let Some(names_secret) = name_line(line) {
        out.names_secret = names_secret;
        return out;
    }
    assignments(&mut out, line, syntax);
    spaced_keys(&mut out, line, syntax);
    quoted_keys(&mut out, line, syntax);
    key_word_line(&mut out, line, syntax);
    call_arguments(&mut out, line);
    elements(&mut out, line);
    out
}

/// A line that names a secret whose value follows (`- name: DB_PASSWORD`, `variable "x" {`):
/// the key's strength and within how many lines its value may come (`None` inside: the name
/// is no secret's). `None`: the line names nothing.
fn name_line(line: &str) -> Option<Option<(Strength, u8)>> {
    if !(line.contains("name:") || line.contains("variable")) {
        return None;
    }
    let c = NAME_LINE.captures(line)?;
    if let Some(k) = c.name("key") {
        Some(classify(k.as_str()).map(|s| (s, 2)))
    } else if let Some(k) = c.name("var") {
        // An HCL block: its `default` comes after a description and a type.
        Some(classify(k.as_str()).map(|s| (s, 8)))
    } else {
        Some(None)
    }
}

/// The values of `key = value`, `key: value`, `"key": value`, `key := value`, `key => value`
/// under secret-named keys.
fn assignments(out: &mut LineScan, line: &str, syntax: Syntax) {
    let assigns = if line.contains(['=', ':']) {
        ASSIGN.find_iter(line).collect()
    } else {
        Vec::new()
    };
    let mut quotes = Quotes {
        line,
        at: 0,
        count: 0,
    };
    let mut covered = 0;
    for m in assigns {
        let (k, op) = split_assign(line, m);
        if k.start() < covered {
            continue;
        }
        let Some((strength, prose)) = assigned_strength(line, k, op) else {
            continue;
        };
        let after = &line[op.end()..];
        let ctx = if prose {
            Ctx::Word
        } else {
            context(line, k, op, syntax, &mut quotes)
        };
        if strength == Strength::Strong && op.as_str() == ":" && block_opener(after) {
            out.block = true;
            continue;
        }
        let from = value_start(line, op, syntax);
        // What a value covers holds no other key; a value to the end of the line ends the scan
        // (so a long line of keys costs one pass).
        if let Some((end, quoted)) = push_value(out, line, from, strength, syntax, ctx) {
            covered = end;
            if ctx == Ctx::EndOfLine && !quoted {
                break;
            }
        }
    }
}

/// How strongly the key of an assignment names a secret, and whether it is a key of two words
/// in prose (`API key: …`); `None` when this is no assignment of a secret (a reference, a
/// comparison, a `key="…" value="…"` pair).
fn assigned_strength(line: &str, k: Span<'_>, op: Span<'_>) -> Option<(Strength, bool)> {
    let before = &line[..k.start()];
    // `public key: …`, `API key: …`: a key of two words, in a comment or prose.
    let two = before
        .strip_suffix(' ')
        .filter(|b| op.as_str() == ":" && !b.ends_with(' '))
        .and_then(|b| b.rsplit(|c: char| !c.is_ascii_alphanumeric()).next())
        .filter(|w| w.len() > 1 && w.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(|w| format!("{w}_{}", k.as_str()));
    let mut strength = classify(two.as_deref().unwrap_or(k.as_str()))?;
    // Prose says `API key: see the docs`; only a random-looking word after it is a key.
    let prose = two.is_some();
    if prose {
        strength = Strength::Weak;
    }
    // `${TOKEN:-x}`, `{{ password }}`: a reference, not an assignment.
    if before.ends_with("${") || before.trim_end().ends_with("{{") {
        return None;
    }
    // `key="Password" value="…"` is read by NAMED.
    if k.as_str().eq_ignore_ascii_case("key") && line.contains("value") {
        return None;
    }
    let after = &line[op.end()..];
    // `==`, `=~`, `::` compare or name a path; `:=` and `=>` were taken whole.
    if (op.as_str() == "=" && (after.starts_with('=') || after.starts_with('~')))
        || (op.as_str() == ":" && after.starts_with(':'))
    {
        return None;
    }
    Some((strength, prose))
}

/// Where an assigned value starts: after the operator, a type (`API_KEY: &str = …`) and a
/// conversion around a literal (`String::from(…)`).
fn value_start(line: &str, op: Span<'_>, syntax: Syntax) -> usize {
    let after = &line[op.end()..];
    let mut from = op.end();
    if op.as_str() == ":"
        && syntax == Syntax::Code
        && let Some(t) = TYPED.find(after)
    {
        from += t.end();
    }
    if let Some(w) = WRAPPED.find(&line[from..]) {
        from += w.end();
    }
    from
}

/// `set -gx KEY value` (fish), `ENV KEY value` / `ARG` (Dockerfile), `--key value` (flags).
fn spaced_keys(out: &mut LineScan, line: &str, syntax: Syntax) {
    let spaced = ["set ", "ENV ", "ARG ", "--", "setenv"]
        .iter()
        .any(|w| line.contains(w));
    for c in SPACED.captures_iter(line).take_while(|_| spaced) {
        let (Some(k), Some(all)) = (c.name("key"), c.get(0)) else {
            continue;
        };
        if let Some(strength) = classify(k.as_str()) {
            push_value(out, line, all.end(), strength, syntax, Ctx::Word);
        }
    }
}

/// `KEY "value"`, `KEY 'value'`: a key and a quoted value with only blanks between.
fn quoted_keys(out: &mut LineScan, line: &str, syntax: Syntax) {
    let quoted = line.contains(['"', '\'']);
    for c in KEY_QUOTED.captures_iter(line).take_while(|_| quoted) {
        let (Some(k), Some(all)) = (c.name("key"), c.get(0)) else {
            continue;
        };
        if let Some(strength) = classify(k.as_str()) {
            push_value(out, line, all.end() - 1, strength, syntax, Ctx::Word);
        }
    }
}

/// A configuration line of two words, a key and its value: `requirepass …`, `masterauth …`.
fn key_word_line(out: &mut LineScan, line: &str, syntax: Syntax) {
    if syntax != Syntax::Code
        && let Some(c) = KEY_WORD_LINE.captures(line)
        && let Some(k) = c.name("key")
        && let Some(strength) = classify(k.as_str())
    {
        let rest = line[k.end()..].trim();
        // Prose (`Password reset`) is no directive: a value of lower-case letters is a word.
        if !rest.contains(char::is_whitespace) && !rest.bytes().all(|b| b.is_ascii_lowercase()) {
            push_value(out, line, k.end(), strength, syntax, Ctx::Word);
        }
    }
}

/// A call's first argument naming the second (`define('KEY', value)`), and a name and a value
/// side by side (`{"name": "DB_PASSWORD", "value": "…"}`).
fn call_arguments(out: &mut LineScan, line: &str) {
    let calls = line.contains('(');
    let named = line.contains("value") || line.contains("Value");
    for c in CALL
        .captures_iter(line)
        .take_while(|_| calls)
        .chain(NAMED.captures_iter(line).take_while(|_| named))
    {
        let (Some(k), Some(all)) = (c.name("key"), c.get(0)) else {
            continue;
        };
        if let Some(strength) = classify(k.as_str()) {
            push_value(out, line, all.end(), strength, Syntax::Code, Ctx::Word);
        }
    }
}

/// `<password>value</password>`, and an element whose `name` attribute names a secret.
fn elements(out: &mut LineScan, line: &str) {
    let elements = line.contains("</");
    for c in ELEMENT.captures_iter(line).take_while(|_| elements) {
        let (Some(k), Some(v)) = (c.name("key"), c.name("value")) else {
            continue;
        };
        // `<property name="hibernate.connection.password">…</property>`: the name says.
        let name = c
            .name("attrs")
            .and_then(|a| ATTR_NAME.captures(a.as_str()))
            .and_then(|n| n.name("name"))
            .map_or(k.as_str(), |n| n.as_str());
        let local = name.rsplit(':').next().unwrap_or(name);
        let trimmed = v.as_str().trim();
        if let Some(strength) = classify(local)
            && looks_secret(trimmed, strength, Syntax::Config)
        {
            let start = v.start() + (v.as_str().len() - v.as_str().trim_start().len());
            out.found.push(Found {
                start,
                end: start + trimmed.len(),
            });
        }
    }
}

/// The key and the operator of an [`ASSIGN`] match (`key`, a closing quote or bracket, blanks,
/// the operator), as sub-ranges of the line.
fn split_assign<'h>(line: &'h str, m: regex::Match<'h>) -> (Span<'h>, Span<'h>) {
    let text = m.as_str();
    let key_len = text
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        .count();
    let op_len = if text.ends_with(":=") || text.ends_with("=>") {
        2
    } else {
        1
    };
    let key = Span {
        line,
        start: m.start(),
        end: m.start() + key_len,
    };
    let op = Span {
        line,
        start: m.end() - op_len,
        end: m.end(),
    };
    (key, op)
}

/// A range of a line, as the key scan handles it (like a regex match).
#[derive(Clone, Copy)]
pub(super) struct Span<'h> {
    line: &'h str,
    start: usize,
    end: usize,
}

impl<'h> Span<'h> {
    fn as_str(&self) -> &'h str {
        &self.line[self.start..self.end]
    }
    fn start(&self) -> usize {
        self.start
    }
    fn end(&self) -> usize {
        self.end
    }
}

/// The `name` or `key` attribute of an element.
static ATTR_NAME: LazyLock<Regex> =
    LazyLock::new(|| re(r#"\b(?:name|key)\s*=\s*["'](?P<name>[^"']+)["']"#));

/// Where a bare value ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// At the end of the line (YAML, INI, `.properties`), before a ` #` comment.
    EndOfLine,
    /// At the first blank (shell, a command line).
    Word,
    /// Inside a string or a connection string: at `;`, `&`, a quote or a blank.
    Inline,
}

/// Counts the `"` of a line up to a point, going forward only: the key scan asks for each
/// key in order, so a long line costs one pass, not one pass a key.
struct Quotes<'h> {
    line: &'h str,
    at: usize,
    count: usize,
}

impl Quotes<'_> {
    fn before(&mut self, end: usize) -> usize {
        if end >= self.at {
            self.count += self.line[self.at..end].matches('"').count();
            self.at = end;
            self.count
        } else {
            self.line[..end].matches('"').count()
        }
    }
}

fn context(
    line: &str,
    key: Span<'_>,
    op: Span<'_>,
    syntax: Syntax,
    quotes: &mut Quotes<'_>,
) -> Ctx {
    let before = &line[..key.start()];
    let quotes = quotes.before(key.start()) - usize::from(before.ends_with('"'));
    if matches!(before.chars().next_back(), Some(';' | '?' | '&')) || !quotes.is_multiple_of(2) {
        return Ctx::Inline;
    }
    let tight = op.as_str() == "="
        && op.start() == key.end()
        && !line[op.end()..].starts_with(char::is_whitespace);
    // `export X=a b` or `docker run -e X=a img`: the value is one word; a line that is only
    // `X=a b` (an env file, a compose list item, `.properties`) keeps the rest of the line.
    let lead = before.trim().trim_start_matches('-').trim();
    if tight && (syntax == Syntax::Shell || !lead.is_empty()) {
        Ctx::Word
    } else {
        Ctx::EndOfLine
    }
}

/// `|`, `|-`, `>`, `>+`: a YAML block scalar follows on the next lines.
fn block_opener(after: &str) -> bool {
    let v = after.trim();
    let v = v.split(" #").next().unwrap_or(v).trim();
    matches!(v, "|" | "|-" | "|+" | ">" | ">-" | ">+")
}

fn push_value(
    out: &mut LineScan,
    line: &str,
    from: usize,
    strength: Strength,
    syntax: Syntax,
    ctx: Ctx,
) -> Option<(usize, bool)> {
    let (start, end, quoted) = value_at(line, from, syntax, ctx)?;
    {
        let value = &line[start..end];
        let syntax = if quoted && syntax == Syntax::Shell {
            Syntax::Config
        } else {
            syntax
        };
        if looks_secret(
            value,
            strength,
            if quoted { syntax } else { Syntax::Config },
        ) {
            out.found.push(Found { start, end });
        }
    }
    Some((end, quoted))
}

/// The byte range of the value that starts at `from` (after blanks), and whether it was
/// quoted; `None` when there is no literal value (code's bare expressions).
fn value_at(line: &str, from: usize, syntax: Syntax, ctx: Ctx) -> Option<(usize, usize, bool)> {
    let rest = &line[from..];
    let skip = rest.len() - rest.trim_start().len();
    let mut start = from + skip;
    let mut rest = &line[start..];
    // Python's b"…", r'…', f"…" and C#'s @"…".
    let prefix = rest
        .bytes()
        .take_while(|b| {
            matches!(
                b,
                b'b' | b'B' | b'r' | b'R' | b'u' | b'U' | b'f' | b'F' | b'@'
            )
        })
        .count();
    if prefix <= 2 && matches!(rest.as_bytes().get(prefix), Some(b'"' | b'\'' | b'`')) {
        start += prefix;
        rest = &line[start..];
    }
    let first = *rest.as_bytes().first()?;
    // TOML's and Python's """…""" and '''…''' on one line.
    for triple in ["\"\"\"", "\'\'\'"] {
        if let Some(inner) = rest.strip_prefix(triple) {
            let body = start + 3;
            let end = inner.find(triple).map_or(line.len(), |i| body + i);
            return Some((body, end, true));
        }
    }
    if matches!(first, b'"' | b'\'' | b'`') {
        let body = start + 1;
        let mut escaped = false;
        for (i, b) in line[body..].bytes().enumerate() {
            if escaped {
                escaped = false;
            } else if b == b'\\' && first != b'\'' {
                escaped = true;
            } else if b == first {
                return Some((body, body + i, true));
            }
        }
        // An unterminated string: the rest of the line (a YAML or shell value).
        return (syntax != Syntax::Code).then_some((body, line.len(), true));
    }
    // In code a bare value is an expression, unless it is inside a string (a connection
    // string's `password=…`).
    if syntax == Syntax::Code && ctx != Ctx::Inline {
        return None;
    }
    let end = match ctx {
        Ctx::Word => rest
            .find(|c: char| {
                c.is_whitespace() || matches!(c, ';' | '&' | '|' | ')' | '`' | '"' | '\'')
            })
            .unwrap_or(rest.len()),
        Ctx::Inline => rest
            .find(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | ',' | '"' | '\'' | '<'))
            .unwrap_or(rest.len()),
        Ctx::EndOfLine => {
            let cut = rest
                .find(" #")
                .or_else(|| rest.find("\t#"))
                .unwrap_or(rest.len());
            let mut v = rest[..cut].trim_end();
            // A flow mapping or a trailing separator: `{password: x}`, `password: x,`.
            v = v.trim_end_matches([',', ';']);
            if line.find('{').is_some_and(|i| i < start) {
                v = v.trim_end_matches('}').trim_end_matches([',', ' ']);
            }
            if line.find('[').is_some_and(|i| i < start) {
                v = v.trim_end_matches(']');
            }
            v.len()
        }
    };
    // `Password: { … }`, `password: [ … ]`: a structure, not a value.
    if rest.starts_with(['{', '[']) {
        return None;
    }
    (end > 0).then_some((start, start + end, false))
}
