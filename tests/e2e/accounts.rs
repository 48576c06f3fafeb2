//! Several accounts side by side from the CLI: `accounts` lists every profile with who is signed
//! in, `use` sets the default in config.toml, `logout --all` signs out of every one.

use serde_json::Value;

use crate::support::*;

/// An API key stored in `profile` (a second account without a browser).
fn store_api_key(home: &Home, profile: &str, key: &str) {
    let out = home.cli_with_stdin(
        &["login", "--with-api-key", "--profile", profile],
        key.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn accounts(home: &Home) -> Value {
    let out = home.cli(&["accounts", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn two_accounts_are_listed_the_default_moves_and_logout_all_signs_out_of_both() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    store_api_key(&home, "work", "sk-proj-work-key-1\n");

    let v = accounts(&home);
    assert_eq!(v["default"], "default");
    let list = v["accounts"].as_array().unwrap();
    let names: Vec<_> = list
        .iter()
        .map(|a| a["profile"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "work"]);
    assert_eq!(list[0]["email"], "ada@example.com");
    assert_eq!(list[0]["default"], true);
    assert_eq!(list[1]["auth_mode"], "apikey");
    assert_eq!(list[1]["default"], false);
    assert!(list.iter().all(|a| a["signed_in"] == true));
    let text = String::from_utf8(home.cli(&["profiles"]).stdout).unwrap();
    assert!(
        text.contains("* default") && text.contains("ada@example.com"),
        "{text}"
    );
    assert!(!text.contains("sk-proj"), "a key in the listing: {text}");

    let out = home.cli(&["use", "work"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(accounts(&home)["default"], "work");
    let (st, _) = home.status();
    assert_eq!(
        st["profile"], "work",
        "commands now use the default account"
    );
    let out = home.cli(&["use", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("login --profile nobody"));

    let out = home.cli(&["logout", "--all"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = accounts(&home);
    assert!(
        v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["signed_in"] == false),
        "{v}"
    );
    assert_eq!(fake.stats().revokes, 1, "the ChatGPT sign-in was revoked");
}

/// A second sign-in of an account another profile already holds renews that profile instead of
/// creating a duplicate.
#[tokio::test]
async fn signing_in_the_same_account_under_a_new_profile_renews_the_existing_one() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let before = home.auth_json();
    let run = Running::spawn({
        let mut c = home.cmd(&bin("codex-mcp-bridge"));
        c.args(["login", "--no-browser", "--profile", "second"]);
        c
    });
    let url = run.line();
    let page = browser().get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (code, stderr) = run.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("already profile default"), "{stderr}");
    let v = accounts(&home);
    let names: Vec<_> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["profile"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["default"], "{v}");
    assert!(!home.path().join("second").exists());
    let after = home.auth_json();
    assert_ne!(
        after["tokens"]["refresh_token"], before["tokens"]["refresh_token"],
        "the existing profile holds the new sign-in"
    );
    assert!(home.cli(&["token"]).status.success());
}
