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

/// How a file writes values: in code a bare value is an expression (`password = read()`), in
/// configuration it is the value itself, in shell it ends at the first blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Code,
    Config,
    Shell,
}

impl Syntax {
    /// The syntax of a file by its name.
    pub fn of(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        let base = lower.rsplit('/').next().unwrap_or(&lower);
        let ext = base.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        const SHELL_NAMES: &[&str] = &[
            "dockerfile",
            "containerfile",
            "makefile",
            "bashrc",
            ".bashrc",
            "zshrc",
            ".zshrc",
            ".profile",
            "profile",
            ".bash_profile",
            ".zprofile",
            "config.fish",
            "procfile",
        ];
        if SHELL_NAMES.contains(&base)
            || base.starts_with("dockerfile.")
            || base.ends_with(".dockerfile")
            || matches!(ext, "sh" | "bash" | "zsh" | "fish" | "ksh" | "ps1" | "mk")
        {
            return Syntax::Shell;
        }
        const CODE_EXTS: &[&str] = &[
            "rs", "py", "pyi", "js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", "go", "java",
            "kt", "kts", "scala", "sc", "rb", "php", "c", "h", "cc", "cpp", "cxx", "hpp", "hh",
            "cs", "fs", "swift", "m", "mm", "dart", "lua", "pl", "pm", "r", "ex", "exs", "erl",
            "clj", "cljs", "groovy", "gradle", "vue", "svelte", "hs", "ml", "zig", "nim", "jl",
            "sql", "tf", "hcl",
        ];
        if CODE_EXTS.contains(&ext) {
            Syntax::Code
        } else {
            Syntax::Config
        }
    }
}

/// How much a key's name says its value is a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strength {
    /// Any literal value is a secret.
    Strong,
    /// Only a value that looks random is.
    Weak,
}

/// The words of a key: `aws.secretKey` → `aws`, `secret`, `key`; `APIKey` → `api`, `key`.
fn words(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in key.split(|c: char| !c.is_ascii_alphanumeric()) {
        let chars: Vec<char> = part.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let boundary = i > 0
                && c.is_ascii_uppercase()
                && (chars[i - 1].is_ascii_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || (chars[i - 1].is_ascii_uppercase()
                        && chars.get(i + 1).is_some_and(char::is_ascii_lowercase)));
            if boundary && !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            word.push(c.to_ascii_lowercase());
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

/// Words that make a key strong when they end it.
const STRONG_LAST: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passwort",
    "passcode",
    "pass",
    "pwd",
    "pw",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
    "creds",
    "requirepass",
    "masterauth",
    "masterpass",
];

/// Words a key may end with after its secret word: `SECRET_KEY_BASE`, `PASSWORD_B64`,
/// `DB_PASSWORD_PROD`, `TOKEN_2`.
const NEUTRAL_LAST: &[&str] = &[
    "base",
    "value",
    "val",
    "str",
    "string",
    "b64",
    "base64",
    "hex",
    "raw",
    "enc",
    "encoded",
    "bytes",
    "plain",
    "text",
    "literal",
    "content",
    "contents",
    "prod",
    "production",
    "dev",
    "development",
    "staging",
    "stage",
    "test",
    "local",
    "qa",
    "old",
    "new",
    "next",
    "prev",
    "previous",
    "primary",
    "secondary",
    "main",
    "backup",
    "default",
    "override",
    "current",
];

/// One-word spellings that end with a strong word: `dbpassword`, `clientsecret`, `accesstoken`.
const STRONG_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "secretkey",
    "privatekey",
    "accesskey",
    "accountkey",
    "masterkey",
];

/// What comes before `key` in a strong compound: `api key`, `secret key`, `account key`.
const STRONG_KEY_PREV: &[&str] = &[
    "api",
    "secret",
    "private",
    "access",
    "master",
    "encryption",
    "encrypt",
    "decryption",
    "signing",
    "account",
    "consumer",
    "hmac",
    "subscription",
    "license",
    "app",
    "client",
    "shared",
    "sas",
    "webhook",
    "jwt",
    "session",
    "auth",
    "admin",
    "deploy",
    "service",
    "cipher",
    "crypt",
    "root",
];

/// Words that make a key weak when they end it.
const WEAK_LAST: &[&str] = &[
    "key",
    "auth",
    "salt",
    "cookie",
    "signature",
    "sig",
    "seed",
    "login",
];

/// Whether a key's name says its value is a secret, and how strongly.
pub(super) fn classify(key: &str) -> Option<Strength> {
    let mut w = words(key);
    // What is public says so: `publishable_key`, `public_key`, `pubkey`.
    if w.iter()
        .any(|x| matches!(x.as_str(), "public" | "publishable" | "pub" | "pubkey"))
    {
        return None;
    }
    while w.len() > 1
        && w.last().is_some_and(|x| {
            NEUTRAL_LAST.contains(&x.as_str()) || x.bytes().all(|b| b.is_ascii_digit())
        })
    {
        w.pop();
    }
    let last = w.last()?.as_str();
    let prev = w.len().checked_sub(2).map(|i| w[i].as_str());
    if STRONG_LAST.contains(&last) {
        // `token_key`-free: `pass` and `pw` only as words of their own.
        return Some(Strength::Strong);
    }
    if STRONG_SUFFIXES
        .iter()
        .any(|s| last.len() > s.len() && last.ends_with(s))
    {
        return Some(Strength::Strong);
    }
    if last == "key" || last == "keys" {
        return Some(match prev {
            Some(p) if STRONG_KEY_PREV.contains(&p) => Strength::Strong,
            _ => Strength::Weak,
        });
    }
    // kubeconfig's `client-key-data`, a key's bytes.
    if last == "data" && prev == Some("key") {
        return Some(Strength::Strong);
    }
    if WEAK_LAST.contains(&last) {
        return Some(Strength::Weak);
    }
    None
}

/// A cheap first look: can this line hold a secret-named key at all?
pub(super) const KEY_HINT_PATTERN: &str =
    r"(?i)pass|pwd|\bpw\b|secret|token|key|auth|cred|salt|cookie|sig|seed|login";
pub(super) static KEY_HINT: LazyLock<Regex> = LazyLock::new(|| re(KEY_HINT_PATTERN));

fn re(p: &str) -> Regex {
    // The patterns are constants of this file, covered by its tests.
    Regex::new(&ascii_boundaries(p)).unwrap_or_else(|e| panic!("bad pattern {p}: {e}"))
}

/// Word boundaries of ASCII words: a Unicode `\b` makes the fast engines give up on any line
/// with a non-ASCII character (a comment's dash), and the filter then crawls.
pub(super) fn ascii_boundaries(p: &str) -> String {
    p.replace(r"\b", r"(?-u:\b)")
}

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
    if (line.contains("name:") || line.contains("variable"))
        && let Some(c) = NAME_LINE.captures(line)
    {
        if let Some(k) = c.name("key") {
            out.names_secret = classify(k.as_str()).map(|s| (s, 2));
        } else if let Some(k) = c.name("var") {
            // An HCL block: its `default` comes after a description and a type.
            out.names_secret = classify(k.as_str()).map(|s| (s, 8));
        }
        return out;
    }
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
        let before = &line[..k.start()];
        // `public key: …`, `API key: …`: a key of two words, in a comment or prose.
        let two = before
            .strip_suffix(' ')
            .filter(|b| op.as_str() == ":" && !b.ends_with(' '))
            .and_then(|b| b.rsplit(|c: char| !c.is_ascii_alphanumeric()).next())
            .filter(|w| w.len() > 1 && w.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(|w| format!("{w}_{}", k.as_str()));
        let Some(mut strength) = classify(two.as_deref().unwrap_or(k.as_str())) else {
            continue;
        };
        // Prose says `API key: see the docs`; only a random-looking word after it is a key.
        let prose = two.is_some();
        if prose {
            strength = Strength::Weak;
        }
        // `${TOKEN:-x}`, `{{ password }}`: a reference, not an assignment.
        if before.ends_with("${") || before.trim_end().ends_with("{{") {
            continue;
        }
        // `key="Password" value="…"` is read by NAMED.
        if k.as_str().eq_ignore_ascii_case("key") && line.contains("value") {
            continue;
        }
        let after = &line[op.end()..];
        // `==`, `=~`, `::` compare or name a path; `:=` and `=>` were taken whole.
        if (op.as_str() == "=" && (after.starts_with('=') || after.starts_with('~')))
            || (op.as_str() == ":" && after.starts_with(':'))
        {
            continue;
        }
        let ctx = if prose {
            Ctx::Word
        } else {
            context(line, k, op, syntax, &mut quotes)
        };
        if strength == Strength::Strong && op.as_str() == ":" && block_opener(after) {
            out.block = true;
            continue;
        }
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
        // What a value covers holds no other key; a value to the end of the line ends the scan
        // (so a long line of keys costs one pass).
        if let Some((end, quoted)) = push_value(&mut out, line, from, strength, syntax, ctx) {
            covered = end;
            if ctx == Ctx::EndOfLine && !quoted {
                break;
            }
        }
    }
    let spaced = ["set ", "ENV ", "ARG ", "--", "setenv"]
        .iter()
        .any(|w| line.contains(w));
    for c in SPACED.captures_iter(line).take_while(|_| spaced) {
        let (Some(k), Some(all)) = (c.name("key"), c.get(0)) else {
            continue;
        };
        if let Some(strength) = classify(k.as_str()) {
            push_value(&mut out, line, all.end(), strength, syntax, Ctx::Word);
        }
    }
    let quoted = line.contains(['"', '\'']);
    for c in KEY_QUOTED.captures_iter(line).take_while(|_| quoted) {
        let (Some(k), Some(all)) = (c.name("key"), c.get(0)) else {
            continue;
        };
        if let Some(strength) = classify(k.as_str()) {
            push_value(&mut out, line, all.end() - 1, strength, syntax, Ctx::Word);
        }
    }
    if syntax != Syntax::Code
        && let Some(c) = KEY_WORD_LINE.captures(line)
        && let Some(k) = c.name("key")
        && let Some(strength) = classify(k.as_str())
    {
        let rest = line[k.end()..].trim();
        // Prose (`Password reset`) is no directive: a value of lower-case letters is a word.
        if !rest.contains(char::is_whitespace) && !rest.bytes().all(|b| b.is_ascii_lowercase()) {
            push_value(&mut out, line, k.end(), strength, syntax, Ctx::Word);
        }
    }
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
            push_value(&mut out, line, all.end(), strength, Syntax::Code, Ctx::Word);
        }
    }
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
    out
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

/// Whether a value under a key of this strength is a secret: not a reference, a placeholder,
/// a path, a URL, a boolean or a word of prose; a weak key's value only when it looks random.
pub(super) fn looks_secret(value: &str, strength: Strength, syntax: Syntax) -> bool {
    let v = value.trim();
    if v.chars().count() < 4 || not_a_secret(v) {
        return false;
    }
    // In code a quoted string with blanks is a message (`"Password is required"`).
    if syntax == Syntax::Code && v.contains(char::is_whitespace) {
        return false;
    }
    match strength {
        Strength::Strong => true,
        Strength::Weak => random_looking(v),
    }
}

/// References, placeholders and ordinary values that are no secret whatever their key.
pub(super) fn not_a_secret(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "null",
        "nil",
        "none",
        "undefined",
        "required",
        "optional",
        "string",
        "str",
        "bool",
        "boolean",
        "int",
        "integer",
        "number",
        "bytes",
        "object",
        "password",
        "passwd",
        "secret",
        "secrets",
        "token",
        "changeme",
        "change_me",
        "change-me",
        "replace_me",
        "replace-me",
        "replaceme",
        "todo",
        "tbd",
        "example",
        "placeholder",
        "redacted",
        "dummy",
        "empty",
        "inherit",
        "hidden",
        "masked",
        "default",
        "unset",
        "env",
        "auto",
        "prompt",
        "stdin",
        "file",
        "basic",
        "bearer",
    ];
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    const REFERENCES: &[&str] = &[
        "$",
        "%(",
        "%{",
        "{{",
        "{%",
        "<%",
        "#{",
        "@{",
        "!",
        "[redacted",
        "env.",
        "env(",
        "env[",
        "secrets.",
        "vars.",
        "process.env",
        "os.environ",
        "os.getenv",
        "getenv(",
        "system.getenv",
        "config.",
        "settings.",
        "self.",
        "this.",
        "params.",
        "request.",
        "req.",
        "args.",
        "options.",
        "opts.",
        "vault:",
        "arn:aws:secretsmanager",
        "ref+",
        "sops:",
        "op://",
        "keyvault:",
        "file:",
        "http://",
        "https://",
        "pk_live_",
        "pk_test_",
    ];
    if REFERENCES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    // ENV['X'], ENV.fetch("X"), `${X}` anywhere, `{placeholder}`, `<your key>`, `sk-...`.
    if v.contains("${")
        || lower.starts_with("env[")
        || lower.starts_with("env.fetch")
        || (v.starts_with('<') && v.ends_with('>'))
        || PLACEHOLDER.is_match(v)
        || v.ends_with("...")
        || v.ends_with('…')
    {
        return true;
    }
    // your-api-key-here, my_password, xxxxxxxx, ********, ....
    if lower.starts_with("your")
        || lower.starts_with("<your")
        || lower.ends_with("_here")
        || lower.ends_with("-here")
        || lower.starts_with("example")
        || v.chars()
            .all(|c| matches!(c, 'x' | 'X' | '*' | '.' | '-' | '_' | '#' | '•'))
    {
        return true;
    }
    // A function call (`get_password()`) or a type (`Option<String>`).
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'))
    };
    if let Some(open) = v.find('(')
        && v.ends_with(')')
        && ident(&v[..open])
    {
        return true;
    }
    false
}

/// A path (`/run/secrets/db`, `~/.pgpass`, `./certs/key`), a `{placeholder}` or a `[list]` of
/// names, a run of `xxxxxxxx`.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:(?:~|\.{1,2})?(?:/[A-Za-z0-9_.@-]+)+/?|\{[A-Za-z_][A-Za-z0-9_.]*\}|\[[A-Za-z_ ,]*\])$|(?i)x{8}|\*{8}",
    )
});

/// A value that looks random: long enough, varied, not a word.
pub(super) fn random_looking(v: &str) -> bool {
    if v.len() < 16 || v.contains(char::is_whitespace) {
        return false;
    }
    let digits = v.bytes().any(|b| b.is_ascii_digit());
    let upper = v.bytes().any(|b| b.is_ascii_uppercase());
    let lower = v.bytes().any(|b| b.is_ascii_lowercase());
    let symbols = v.bytes().any(|b| matches!(b, b'+' | b'/' | b'='));
    // CamelCase words (`RequirePasswordChangeOnFirstLogin`) have no digit.
    let varied = (digits && (upper || lower)) || (upper && lower && symbols && v.len() >= 24);
    varied && entropy(v) >= 3.0
}

/// Shannon entropy in bits per character.
pub(super) fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_judged_by_its_words() {
        for (key, want) in [
            ("password", Some(Strength::Strong)),
            ("spring.datasource.password", Some(Strength::Strong)),
            ("aws.secretKey", Some(Strength::Strong)),
            ("POSTGRES_PASSWORD", Some(Strength::Strong)),
            ("DB_PASS", Some(Strength::Strong)),
            ("_authToken", Some(Strength::Strong)),
            ("client-key-data", Some(Strength::Strong)),
            ("AccountKey", Some(Strength::Strong)),
            ("SharedAccessKey", Some(Strength::Strong)),
            ("SECRET_KEY", Some(Strength::Strong)),
            ("APIKey", Some(Strength::Strong)),
            ("dbpassword", Some(Strength::Strong)),
            ("auth", Some(Strength::Weak)),
            ("key", Some(Strength::Weak)),
            ("password_file", None),
            ("token_url", None),
            ("secret_name", None),
            ("password_min_length", None),
            ("max_tokens", None),
            ("bypass", None),
            ("passport", None),
            ("primary_key", Some(Strength::Weak)),
            ("tokenizer", None),
        ] {
            assert_eq!(classify(key), want, "{key}");
        }
    }

    #[test]
    fn references_and_placeholders_are_no_secrets() {
        for v in [
            "${DB_PASSWORD}",
            "${{ secrets.X }}",
            "{{ vault_password }}",
            "<your key>",
            "your-api-key-here",
            "xxxxxxxx",
            "os.environ['X']",
            "get_password()",
            "ENV['SECRET_KEY']",
            "/run/secrets/db",
            "true",
        ] {
            assert!(!looks_secret(v, Strength::Strong, Syntax::Config), "{v}");
        }
        for v in ["hunter22", "correct horse battery staple", "p@ss:w0rd;x"] {
            assert!(looks_secret(v, Strength::Strong, Syntax::Config), "{v}");
        }
    }
}
