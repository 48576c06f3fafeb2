#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::rules::TOKEN_RULES;
use super::*;

/// Each token rule's example: its kind, a line it must catch and the secret in it.
pub(crate) fn cases() -> Vec<(&'static str, &'static str, &'static str)> {
    TOKEN_RULES
        .iter()
        .map(|r| (r.kind, r.example.0, r.example.1))
        .chain(KEY_CASES.iter().copied())
        .collect()
}

/// Values under secret-named keys: a line, and the secret in it (reported as `password`).
pub(crate) const KEY_CASES: &[(&str, &str, &str)] = &[
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

/// Lines as configuration files write them (the file's name says the syntax), and the secret
/// each holds.
const FORMATS: &[(&str, &str, &str)] = &[
    (
        "config/database.yml",
        "  password: s3cr3t-yaml",
        "s3cr3t-yaml",
    ),
    (
        "docker-compose.yml",
        "      POSTGRES_PASSWORD: pg_compose_pw",
        "pg_compose_pw",
    ),
    (
        "docker-compose.yml",
        "      - MYSQL_ROOT_PASSWORD=root pw with spaces",
        "root pw with spaces",
    ),
    (
        "app.properties",
        "spring.datasource.password=Spr1ngPw!",
        "Spr1ngPw!",
    ),
    (
        "app.properties",
        "aws.secretKey=awsPropSecret9",
        "awsPropSecret9",
    ),
    ("my.ini", "password = ini pass word", "ini pass word"),
    (
        "settings.py",
        "SECRET_KEY = 'django-insecure-k3y'",
        "django-insecure-k3y",
    ),
    (
        "main.tf",
        r#"  secret_key = "tf-secret-abc""#,
        "tf-secret-abc",
    ),
    (
        "config.php",
        "define('DB_PASSWORD','php-define-pw');",
        "php-define-pw",
    ),
    (
        "config.php",
        "$db['password'] = 'php-array-pw';",
        "php-array-pw",
    ),
    (
        "settings.xml",
        "  <password>maven-pw-1</password>",
        "maven-pw-1",
    ),
    (
        "web.config",
        r#"<add key="SmtpPassword" value="smtp-pw-77" />"#,
        "smtp-pw-77",
    ),
    (
        "inventory.ini",
        "web1 ansible_host=10.0.0.5 ansible_password=ans1ble",
        "ans1ble",
    ),
    ("deploy.sh", "export DB_PASS=shellpass1", "shellpass1"),
    (
        "deploy.sh",
        r#"export DB_PASSWORD="correct horse battery staple""#,
        "correct horse battery staple",
    ),
    (
        "config.fish",
        "set -gx AWS_SECRET_ACCESS_KEY fishSecretValue1",
        "fishSecretValue1",
    ),
    (
        "Dockerfile",
        "ENV API_TOKEN dockerfile-token-1",
        "dockerfile-token-1",
    ),
    ("client.rb", "  password: 'ruby-kw-pw',", "ruby-kw-pw"),
    ("main.go", r#"	Password: "go-struct-pw","#, "go-struct-pw"),
    (
        "app.js",
        "const apiKey = 'js-api-key-123';",
        "js-api-key-123",
    ),
    (
        "config.toml",
        r#"token = "toml-token-xyz""#,
        "toml-token-xyz",
    ),
    (
        "appsettings.json",
        r#"  "Storage": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=azKey0123456789+/abc==;EndpointSuffix=core.windows.net","#,
        "azKey0123456789+/abc==",
    ),
    (
        "appsettings.json",
        r#"  "Bus": "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=sbKey987654321=","#,
        "sbKey987654321=",
    ),
    (
        "appsettings.json",
        r#"  "Sql": "Server=tcp:db;User ID=app;Password=sql-conn-pw;""#,
        "sql-conn-pw",
    ),
    (
        "cache.yml",
        "url: redis://:redisEmptyUser@cache:6379/0",
        "redisEmptyUser",
    ),
    (
        "db.yml",
        "url: postgres://app:p@ss@word!@db.internal:5432/app",
        "p@ss@word!",
    ),
    (
        "app.properties",
        "jdbc.url=jdbc:mysql://db:3306/app?user=app&password=jdbcQueryPw",
        "jdbcQueryPw",
    ),
    (
        "app.properties",
        "jdbc.url=jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=jdbcSemiPw;",
        "jdbcSemiPw",
    ),
    (
        "README.md",
        "curl -H 'Authorization: Bearer opaque0123456789abcdef' https://api",
        "opaque0123456789abcdef",
    ),
    (
        "npm-settings.txt",
        "//npm.internal/:_authToken=0b7c2d7e-5a0f-4a9e-9b1c-3c2e6f4d8a11",
        "0b7c2d7e-5a0f-4a9e-9b1c-3c2e6f4d8a11",
    ),
    (
        "vault.yml",
        "token: hvs.short-but-unquoted-token-0123",
        "hvs.short-but-unquoted-token-0123",
    ),
    ("pgpass.txt", "*:*:*:replicator:repl-pw-5", "repl-pw-5"),
    (
        "docker-config.json",
        r#"      "auth": "ZGVwbG95OmRvY2tlci1zZWNyZXQtOTk=""#,
        "ZGVwbG95OmRvY2tlci1zZWNyZXQtOTk=",
    ),
    (
        "ci.yml",
        "  REGISTRY_CREDS_B64: ZGVwbG95OmNpLXNlY3JldC0xMjM=",
        "ZGVwbG95OmNpLXNlY3JldC0xMjM=",
    ),
];

#[test]
fn every_token_rule_catches_its_example_and_only_the_secret_goes() {
    for (kind, line, secret) in cases() {
        let (out, found) = redact(line);
        assert!(!out.contains(secret), "{kind}: {secret} left in {out}");
        assert!(
            found.iter().any(|r| r.kind == kind && r.line == 1),
            "{kind}: not reported as such in {found:?} ({out})"
        );
        assert!(out.contains(&marker(kind)), "{out}");
    }
    // Rules are named once each (a kind is what a user reads in the result).
    let mut kinds: Vec<&str> = TOKEN_RULES.iter().map(|r| r.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), TOKEN_RULES.len());
}

#[test]
fn values_under_secret_keys_go_in_every_format() {
    for (name, line, secret) in FORMATS {
        let (out, found) = redact_file(line, name);
        assert!(!out.contains(secret), "{name}: {secret} left in {out}");
        assert!(!found.is_empty(), "{name}: {line}");
    }
}

#[test]
fn a_diff_is_judged_without_its_prefix_added_removed_and_context_alike() {
    let patch = "diff --git a/deploy.sh b/deploy.sh\n--- a/deploy.sh\n+++ b/deploy.sh\n@@ -1,3 +1,3 @@\n export A=1\n-export VAULT_TOKEN=old-vault-token-0\n+export VAULT_TOKEN=hvs.AbCdEfGhIjKlMnOpQrStUvWxYz012345\n+export DB_PASS=added-pass-1\n  password: context-pw-2\n";
    let (out, found) = redact_diff(patch, "deploy.sh");
    for s in [
        "old-vault-token-0",
        "hvs.AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        "added-pass-1",
        "context-pw-2",
    ] {
        assert!(!out.contains(s), "{s} left in {out}");
    }
    // The prefixes stay, so the patch still reads as one.
    assert!(out.contains("\n-export VAULT_TOKEN=[REDACTED"), "{out}");
    assert!(
        out.contains("\n+export VAULT_TOKEN=[REDACTED vault_token]"),
        "{out}"
    );
    assert!(
        out.contains("\n+export DB_PASS=[REDACTED password]"),
        "{out}"
    );
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(found[0].line, 6);
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
    // In a JSON string, on one line: the key goes, the rest of the line stays.
    let (out, _) = redact(
        r#"{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n", "client_email": "a@b.iam"}"#,
    );
    assert!(!out.contains("MIIEvQ"), "{out}");
    assert!(out.contains(r#""client_email": "a@b.iam""#), "{out}");
}

#[test]
fn encoded_keys_are_known_by_their_content() {
    // PKCS#8 (an RSA key's DER, base64, no header), wrapped over lines.
    let text = "key: |\n  MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n  MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKx\nnext: 1\n";
    let (out, _) = redact_file(text, "values.yaml");
    assert!(!out.contains("Us8cK"), "{out}");
    assert!(out.contains("next: 1"), "{out}");
    let (out, found) =
        redact("P12=MIIJqQIBAzCCCW8GCSqGSIb3DQEHAaCCCWAEgglcMIIJWDCCBA8GCSqGSIb3DQEHBqCCBAAwggP8");
    assert!(out.starts_with("P12=[REDACTED"), "{out} {found:?}");
    // A certificate is public: it stays.
    let cert = "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTES";
    assert_eq!(redact(cert).0, cert);
    let putty = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 1\nAAAAC3NzaC1lZDI1NTE5AAAAIO\nPrivate-Lines: 1\nAAAAIBd2b0zPrivateBits\nPrivate-MAC: 0123abcd\nafter\n";
    let (out, _) = redact(putty);
    assert!(!out.contains("PrivateBits"), "{out}");
    assert!(out.ends_with("after\n"), "{out}");
}

#[test]
fn a_kubernetes_env_value_under_a_secret_name_goes() {
    let text = "env:\n  - name: DB_PASSWORD\n    value: k8s-env-pw-1\n  - name: LOG_LEVEL\n    value: debug\n";
    let (out, _) = redact_file(text, "deploy.yaml");
    assert!(!out.contains("k8s-env-pw-1"), "{out}");
    assert!(out.contains("value: debug"), "{out}");
}

#[test]
fn code_that_only_names_secrets_is_left_alone() {
    for (name, line) in [
        ("a.rs", "let password: String = read_password()?;"),
        ("a.rs", "fn token(&self) -> &str { &self.token }"),
        ("a.py", "api_key = os.environ[\"OPENAI_API_KEY\"]"),
        ("a.py", "password = request.form['password']"),
        ("a.py", "raise ValueError(\"Password is required\")"),
        ("a.js", "errors.password = 'Password must be 8 characters';"),
        ("a.toml", "password = \"${DB_PASSWORD}\""),
        ("a.yml", "secret: \"<your secret here>\""),
        ("a.yml", "token: ${{ secrets.GITHUB_TOKEN }}"),
        ("a.yml", "password_min_length: 8"),
        ("a.yml", "secret_name: db-creds"),
        ("a.yml", "token_url: https://auth.example.com/token"),
        (".env.example", "TOKEN_URL=https://auth.example.com/token"),
        ("a.md", "sk-learn is a library"),
        ("a.md", "See https://example.com/path@v2"),
        (
            "a.lock",
            "checksum = \"5f0ba2d5d4f8d2a6b1c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7\"",
        ),
        (
            "a.json",
            "\"integrity\": \"sha512-Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4==\"",
        ),
        (
            "a.yml",
            "image: ghcr.io/acme/app@sha256:0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c",
        ),
        ("a.css", ".btn { color: #1a2b3c; background: #FFFFFF; }"),
        ("a.yml", "auth: true"),
        (
            "a.sh",
            "git checkout 3f786850e387550fdab836ed7e6dc881de23001b",
        ),
        ("a.rb", "password = ENV['DB_PASSWORD']"),
        ("a.ts", "const STORAGE_KEY = 'todos';"),
        ("a.yml", "key: build-cache"),
    ] {
        let (out, found) = redact_file(line, name);
        assert_eq!(out, line, "{name}: {found:?}");
    }
}

#[test]
fn an_image_named_with_a_secret_is_named_without_it() {
    let name = crate::files::images::source_name("shots/sk-proj-AbCdEfGhIjKlMnOpQrStUvWx.png", 1);
    assert_eq!(name, "shots/[REDACTED openai_key].png");
    assert_eq!(
        crate::files::images::source_name(" ui/login.png ", 2),
        "ui/login.png"
    );
}

#[test]
fn several_keys_on_one_line_are_each_judged() {
    let (out, found) = redact_file(
        r#"{"password": "first-pw-1", "token": "second-tok-2", "user": "bob"}"#,
        "a.json",
    );
    assert!(
        !out.contains("first-pw-1") && !out.contains("second-tok-2"),
        "{out}"
    );
    assert!(out.contains(r#""user": "bob""#), "{out}");
    assert_eq!(found.len(), 2);
}
