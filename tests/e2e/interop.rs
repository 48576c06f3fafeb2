//! Codex CLI interop: our record is a Codex `auth.json`; `import-codex` reads theirs.

use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn our_record_has_exactly_the_codex_cli_shape() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let v = home.auth_json();
    let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["OPENAI_API_KEY", "auth_mode", "last_refresh", "tokens"]
    );
    let tk: Vec<_> = v["tokens"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        tk,
        ["access_token", "account_id", "id_token", "refresh_token"]
    );
    assert_eq!(v["auth_mode"], "chatgpt");
    assert_eq!(v["OPENAI_API_KEY"], Value::Null);
    chrono::DateTime::parse_from_rfc3339(v["last_refresh"].as_str().unwrap()).unwrap();
}

#[tokio::test]
async fn import_codex_reads_a_codex_cli_login_and_keeps_it_usable() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let t = fake.mint_tokens(3600);
    let codex_home = tempfile::tempdir().unwrap();
    let codex_file = serde_json::json!({
        "OPENAI_API_KEY": null,
        "tokens": {"id_token": t.id_token, "access_token": t.access_token, "refresh_token": t.refresh_token, "account_id": "acc-1234"},
        "last_refresh": "2026-05-01T12:34:56.789Z"
    });
    std::fs::write(
        codex_home.path().join("auth.json"),
        serde_json::to_vec_pretty(&codex_file).unwrap(),
    )
    .unwrap();
    let out = home.cli(&[
        "import-codex",
        "--codex-home",
        codex_home.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (st, code) = home.status();
    assert_eq!(code, 0);
    assert_eq!(st["email"], "ada@example.com");
    assert_eq!(st["account_id"], "acc-1234");
    // The login is taken over, not shared: refreshed at once, so the Codex CLI's copy of the
    // refresh token is the one that ends, and the user is told.
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("the Codex CLI will ask you to sign in again"),
        "{said}"
    );
    assert_eq!(fake.stats().refreshes, 1);
    assert!(
        !fake.refresh_token_alive(&t.refresh_token),
        "the Codex CLI's copy still refreshes: two holders of one lineage"
    );
    let tok = home.cli(&["token"]);
    assert!(tok.status.success());
    assert_eq!(
        String::from_utf8(tok.stdout).unwrap().trim(),
        home.auth_json()["tokens"]["access_token"].as_str().unwrap()
    );
    assert_eq!(fake.stats().refreshes, 1, "the taken-over token lasts");
}

#[tokio::test]
async fn import_codex_without_a_login_says_where_it_looked() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let empty = tempfile::tempdir().unwrap();
    let mut c = home.cmd(&bin("codex-mcp-bridge"));
    // No Secret Service in reach: the keychain look-up fails fast, and the message says so.
    c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    let out = c
        .args([
            "import-codex",
            "--codex-home",
            empty.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no Codex CLI login found") && err.contains("auth.json"),
        "{err}"
    );
}
