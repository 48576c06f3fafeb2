//! What never leaves the machine: files that are secrets by their name or place, and contents
//! that look like secrets (replaced by a marker, line by line, before anything is sent).
//!
//! Both lists err on the side of keeping a file home: a file skipped by mistake costs the user
//! one `prompt` line; a key sent by mistake cannot be taken back.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// Why a file is a secret by its name or place, when it is: "a private key", "an .env file".
pub fn secret_by_name(relative: &Path) -> Option<&'static str> {
    // Lossy: a name that is not UTF-8 is still checked (its odd bytes become U+FFFD).
    let name = relative.file_name()?.to_string_lossy().to_ascii_lowercase();
    let dirs: Vec<String> = relative
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
        .collect();
    let in_dir = |d: &str| dirs.iter().any(|x| x == d);
    let ext = name.rsplit_once('.').map(|(_, e)| e);

    if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") || name == ".envrc" {
        return Some("an .env file");
    }
    if name == "hosts.yml" && in_dir("gh") {
        return Some("a credential store");
    }
    if in_dir(".ssh") || in_dir(".gnupg") {
        return Some("a file of a key folder (.ssh, .gnupg)");
    }
    // id_rsa, id_ed25519, id_ecdsa_sk and their .pub: SSH keys by their usual names.
    if name.starts_with("id_") && (!name.contains('.') || name.ends_with(".pub")) {
        return Some("an SSH key");
    }
    if matches!(
        ext,
        Some("pem" | "key" | "p12" | "pfx" | "jks" | "keystore" | "ppk" | "asc" | "gpg" | "pgp")
    ) {
        return Some("a key or certificate file");
    }
    if matches!(ext, Some("kdbx" | "kdb" | "keychain" | "keychain-db")) {
        return Some("a password database");
    }
    if matches!(ext, Some("tfstate" | "tfvars")) || name.ends_with(".tfstate.backup") {
        return Some("a Terraform state or variables file (they hold secrets)");
    }
    const CREDENTIAL_FILES: &[&str] = &[
        ".netrc",
        "_netrc",
        ".git-credentials",
        ".pgpass",
        ".my.cnf",
        ".npmrc",
        ".pypirc",
        ".yarnrc.yml",
        ".htpasswd",
        ".dockercfg",
        "credentials",
        "credentials.json",
        "credentials.db",
        "client_secret.json",
        "application_default_credentials.json",
        "access_tokens.db",
        "kubeconfig",
        ".terraformrc",
        ".vault-token",
        "terraform.rc",
        "secrets.yml",
        "secrets.yaml",
        "secrets.json",
        "secrets.toml",
        // The sign-in of this project and of the Codex CLI (both use this name).
        "auth.json",
    ];
    if CREDENTIAL_FILES.contains(&name.as_str()) {
        return Some("a credential store");
    }
    const CLOUD_DIRS: &[&str] = &[
        ".aws", ".azure", "gcloud", ".kube", ".docker", ".oci", ".codex",
    ];
    if CLOUD_DIRS.iter().any(|d| in_dir(d)) {
        return Some(
            "a cloud or CLI configuration folder (.aws, .azure, gcloud, .kube, .docker, .codex)",
        );
    }
    None
}

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

struct Rule {
    kind: &'static str,
    re: Regex,
    /// The capture group that holds the secret (0: the whole match).
    group: usize,
}

fn rule(kind: &'static str, pattern: &str, group: usize) -> Rule {
    Rule {
        kind,
        // The patterns are constants of this file, covered by the tests below.
        re: Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern for {kind}: {e}")),
        group,
    }
}

/// The content rules, most specific first (a GitHub token is not reported as a password).
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{20,}", 0),
        rule(
            "openai_key",
            r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
            0,
        ),
        rule(
            "github_token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
            0,
        ),
        rule("gitlab_token", r"\bglpat-[A-Za-z0-9_-]{20,}", 0),
        rule(
            "aws_access_key_id",
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
            0,
        ),
        rule(
            "aws_secret_access_key",
            r#"(?i)aws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{30,})"#,
            1,
        ),
        rule("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b", 0),
        rule("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", 0),
        rule(
            "stripe_key",
            r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}",
            0,
        ),
        rule("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", 0),
        rule("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}\b", 0),
        rule(
            "jwt",
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
            0,
        ),
        rule(
            "url_password",
            r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:([^/\s@]{3,})@",
            1,
        ),
        // A quoted value given to a secret-sounding name: `password = "hunter22"`,
        // `"api_key": "…"`, `client_secret: '…'`.
        rule(
            "password",
            r#"(?i)(?:password|passwd|pwd|passphrase|secret|api_?key|apikey|access_?key|access_?token|auth_?token|refresh_?token|client_?secret|private_?key|token)["']?\s*(?::=|=>|[:=])\s*["']([^"'\s$<{%][^"'\s]{5,})["']"#,
            1,
        ),
        // An environment line with a secret-sounding name: `export DB_PASSWORD=hunter22`.
        rule(
            "password",
            r"(?m)^\s*(?:-\s*)?(?:export\s+)?[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*\s*=\s*([^\s$<{%'#][^\s'#]{5,})",
            1,
        ),
    ]
});

/// Every content rule and the key block's start in one set: a text none of them matches is
/// left as it is after one scan (most files), and a line only when one matches it.
static ANY: LazyLock<regex::RegexSet> = LazyLock::new(|| {
    let mut patterns: Vec<&str> = RULES.iter().map(|r| r.re.as_str()).collect();
    patterns.push(KEY_BEGIN.as_str());
    regex::RegexSet::new(patterns).unwrap_or_else(|e| panic!("bad pattern set: {e}"))
});

static KEY_BEGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
        .unwrap_or_else(|e| panic!("bad pattern: {e}"))
});
static KEY_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
        .unwrap_or_else(|e| panic!("bad pattern: {e}"))
});

/// `text` with every secret-looking value replaced by [`marker`], and where each was. A private
/// key block is replaced whole (its lines but the first become empty), even when it does not end.
pub fn redact(text: &str) -> (String, Vec<Redaction>) {
    if !ANY.is_match(text) {
        return (text.to_owned(), Vec::new());
    }
    let mut out = String::with_capacity(text.len());
    let mut found = Vec::new();
    let mut in_key = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        let (body, eol) = match line.strip_suffix('\n') {
            Some(b) => match b.strip_suffix('\r') {
                Some(b2) => (b2, "\r\n"),
                None => (b, "\n"),
            },
            None => (line, ""),
        };
        if in_key {
            if KEY_END.is_match(body) {
                in_key = false;
            }
            out.push_str(eol);
            continue;
        }
        if let Some(m) = KEY_BEGIN.find(body) {
            found.push(Redaction {
                line: n,
                kind: "private_key",
            });
            out.push_str(&body[..m.start()]);
            out.push_str(&marker("private_key"));
            in_key = !KEY_END.is_match(&body[m.end()..]);
            out.push_str(eol);
            continue;
        }
        if ANY.is_match(body) {
            out.push_str(&redact_line(body, n, &mut found));
        } else {
            out.push_str(body);
        }
        out.push_str(eol);
    }
    (out, found)
}

fn redact_line(line: &str, n: usize, found: &mut Vec<Redaction>) -> String {
    let mut line = line.to_owned();
    for r in RULES.iter() {
        // Replace from the end, so earlier offsets stay valid.
        let spans: Vec<(usize, usize)> = r
            .re
            .captures_iter(&line)
            .filter_map(|c| c.get(r.group))
            .filter(|m| !m.as_str().starts_with("[REDACTED"))
            // An address is no password (one with a password in it is `url_password`).
            .filter(|m| {
                r.kind != "password"
                    || !(m.as_str().starts_with("http://") || m.as_str().starts_with("https://"))
            })
            .map(|m| (m.start(), m.end()))
            .collect();
        for (start, end) in spans.into_iter().rev() {
            line.replace_range(start..end, &marker(r.kind));
            found.push(Redaction {
                line: n,
                kind: r.kind,
            });
        }
    }
    line
}

/// Each content rule with a line it must catch and the secret in it; a rule removed fails its
/// case (here and in the files' fixture suite).
#[cfg(test)]
pub(crate) const CASES: &[(&str, &str, &str)] = &[
    (
        "anthropic_key",
        "ANTHROPIC=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",
    ),
    (
        "openai_key",
        "client = OpenAI(api_key=os.environ.get('X') or sk-proj-AbCdEfGhIjKlMnOpQrStUvWx)",
        "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "github_token",
        "git clone https://x:ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789@github.com/o/r",
        "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    (
        "github_token",
        "GH = github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv",
    ),
    (
        "gitlab_token",
        "token glpat-AbCdEfGhIjKlMnOpQrSt",
        "glpat-AbCdEfGhIjKlMnOpQrSt",
    ),
    (
        "aws_access_key_id",
        "key AKIAIOSFODNN7EXAMPLE in use",
        "AKIAIOSFODNN7EXAMPLE",
    ),
    (
        "aws_secret_access_key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    (
        "google_api_key",
        "const KEY = AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW;",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
    ),
    (
        "slack_token",
        "hook: xoxb-1234567890-abcdefghijkl",
        "xoxb-1234567890-abcdefghijkl",
    ),
    (
        "stripe_key",
        "Stripe.api_key = sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    ),
    (
        "npm_token",
        "//registry.npmjs.org/:_authToken=npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    (
        "huggingface_token",
        "HF hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456",
    ),
    (
        "jwt",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    (
        "url_password",
        "DATABASE_URL: postgres://app:s3cr3tpw@db.internal:5432/app",
        "s3cr3tpw",
    ),
    (
        "password",
        r#"db = connect(password="hunter2hunter2")"#,
        "hunter2hunter2",
    ),
    (
        "password",
        r#"  "client_secret": "a1b2c3d4e5f6g7","#,
        "a1b2c3d4e5f6g7",
    ),
    (
        "password",
        "export DB_PASSWORD=correcthorsebattery",
        "correcthorsebattery",
    ),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_content_rule_catches_its_fixture_and_only_the_secret_goes() {
        for (kind, line, secret) in CASES {
            let (out, found) = redact(line);
            assert!(!out.contains(secret), "{kind}: {secret} left in {out}");
            assert!(
                found.iter().any(|r| r.kind == *kind && r.line == 1),
                "{kind}: not reported as such in {found:?} ({out})"
            );
            assert!(out.contains(&marker(kind)), "{out}");
        }
    }

    #[test]
    fn a_private_key_block_goes_whole_and_the_rest_of_the_file_stays() {
        let text = "before\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAMwAAAAtzc2gtZWQyNTUxOQ\n-----END OPENSSH PRIVATE KEY-----\nafter\r\n";
        let (out, found) = redact(text);
        assert_eq!(out, "before\n[REDACTED private_key]\n\n\n\nafter\r\n");
        assert_eq!(
            found,
            [Redaction {
                line: 2,
                kind: "private_key"
            }]
        );
        // A block that does not end takes the rest of the file.
        let (out, _) = redact("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nMIIEpA");
        assert!(!out.contains("MIIE"), "{out}");
    }

    #[test]
    fn code_that_only_names_secrets_is_left_alone() {
        for line in [
            "let password: String = read_password()?;",
            "fn token(&self) -> &str { &self.token }",
            "api_key = os.environ[\"OPENAI_API_KEY\"]",
            "password = \"${DB_PASSWORD}\"",
            "secret: \"<your secret here>\"",
            "TOKEN_URL=https://auth.example.com/token",
            "sk-learn is a library",
            "See https://example.com/path@v2",
        ] {
            let (out, found) = redact(line);
            assert_eq!(out, line, "{found:?}");
        }
    }

    #[test]
    fn files_that_are_secrets_by_name_or_place() {
        for (path, why) in [
            (".env", "an .env file"),
            ("config/.env.production", "an .env file"),
            ("prod.env", "an .env file"),
            ("home/.ssh/config", "a file of a key folder (.ssh, .gnupg)"),
            ("keys/id_ed25519", "an SSH key"),
            ("keys/id_rsa.pub", "an SSH key"),
            ("tls/server.pem", "a key or certificate file"),
            ("tls/server.KEY", "a key or certificate file"),
            ("vault.kdbx", "a password database"),
            (".envrc", "an .env file"),
            (
                "prod.tfvars",
                "a Terraform state or variables file (they hold secrets)",
            ),
            (".vault-token", "a credential store"),
            (".config/gh/hosts.yml", "a credential store"),
            (
                "infra/terraform.tfstate",
                "a Terraform state or variables file (they hold secrets)",
            ),
            (".netrc", "a credential store"),
            (".git-credentials", "a credential store"),
            (".npmrc", "a credential store"),
            ("creds/credentials.json", "a credential store"),
            (".codex/auth.json", "a credential store"),
            (
                ".aws/config",
                "a cloud or CLI configuration folder (.aws, .azure, gcloud, .kube, .docker, .codex)",
            ),
            (
                ".config/gcloud/properties",
                "a cloud or CLI configuration folder (.aws, .azure, gcloud, .kube, .docker, .codex)",
            ),
        ] {
            assert_eq!(secret_by_name(Path::new(path)), Some(why), "{path}");
        }
        for path in [
            "src/main.rs",
            "src/id_map.rs",
            "docs/keys.md",
            "environment.ts",
            "src/auth.rs",
            "README.md",
        ] {
            assert_eq!(secret_by_name(Path::new(path)), None, "{path}");
        }
    }
}

#[cfg(all(test, unix))]
mod unix_tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn a_name_that_is_not_utf8_is_still_checked() {
        let name = std::ffi::OsStr::from_bytes(b"\xff.env");
        assert_eq!(secret_by_name(Path::new(name)), Some("an .env file"));
    }
}
