//! Whether a key's name says its value is a secret, and how strongly: a key is judged by its
//! words (`spring.datasource.password` → spring, datasource, password; `aws.secretKey` → aws,
//! secret, key).

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
}
