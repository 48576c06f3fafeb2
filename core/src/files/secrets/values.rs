//! Whether a value under a secret-named key is a secret: references, placeholders, paths, URLs,
//! booleans and words of prose are not; under a weak key only a value that looks random is.

use std::sync::LazyLock;

use regex::Regex;

use super::key_names::Strength;
use super::pattern::re;
use super::syntax::Syntax;

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

/// Values that are no secret whatever their key: booleans, types, the key's own name, the
/// words a template leaves.
const NO_SECRET_WORDS: &[&str] = &[
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

/// How a reference to a secret kept elsewhere starts: a variable, a template, a vault, a URL.
const REFERENCE_PREFIXES: &[&str] = &[
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

/// References, placeholders and ordinary values that are no secret whatever their key.
pub(super) fn not_a_secret(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    NO_SECRET_WORDS.contains(&lower.as_str())
        || REFERENCE_PREFIXES.iter().any(|p| lower.starts_with(p))
        || is_placeholder(v, &lower)
        || is_call_or_type(v)
}

/// A reference or a placeholder anywhere in the value: `ENV['X']`, `ENV.fetch("X")`, `${X}`,
/// `{placeholder}`, `<your key>`, `sk-...`, `your-api-key-here`, `xxxxxxxx`, `********`.
fn is_placeholder(v: &str, lower: &str) -> bool {
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
    lower.starts_with("your")
        || lower.starts_with("<your")
        || lower.ends_with("_here")
        || lower.ends_with("-here")
        || lower.starts_with("example")
        || v.chars()
            .all(|c| matches!(c, 'x' | 'X' | '*' | '.' | '-' | '_' | '#' | '•'))
}

/// A function call (`get_password()`) or a type (`Option<String>`).
fn is_call_or_type(v: &str) -> bool {
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'))
    };
    v.find('(')
        .is_some_and(|open| v.ends_with(')') && ident(&v[..open]))
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
