//! Several accounts side by side from the CLI: `accounts` lists every profile with who is signed
//! in, `use` sets the default in config.toml, `logout --all` signs out of every one; a sign-in
//! that can use several workspaces lets the user choose one.

use std::process::Output;

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

#[tokio::test]
async fn in_a_fresh_home_the_first_account_signed_in_is_the_default_and_no_other_is_listed() {
    let fake = fake().await;
    let home = Home::new(&fake);
    store_api_key(&home, "personal", "sk-proj-personal-key-1\n");
    store_api_key(&home, "work", "sk-proj-work-key-2\n");
    let v = accounts(&home);
    assert_eq!(v["default"], "personal", "{v}");
    assert_eq!(
        v["default_from"], "config",
        "the first sign-in wrote it: {v}"
    );
    let names: Vec<_> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["profile"].as_str().unwrap(),
                a["default"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("personal", true), ("work", false)]);
    // `status` without --profile answers for the default.
    let (st, code) = home.status();
    assert_eq!(st["profile"], "personal", "{st}");
    assert_eq!(code, 0, "{st}");
}

/// A fake whose user belongs to a team workspace besides the personal one (`acc-1234`).
async fn fake_with_a_team() -> fake_openai::FakeOpenAi {
    fake_with(|c| {
        c.extra_workspaces = vec![fake_openai::FakeWorkspace {
            id: "ws-acme".into(),
            name: "Acme".into(),
            plan_type: "team".into(),
        }];
        // Inside the refresh margin from the start: the first `token` refreshes.
        c.access_ttl_secs = 120;
    })
    .await
}

fn login_device(home: &Home, args: &[&str]) -> Output {
    let mut all = vec!["login", "--device"];
    all.extend_from_slice(args);
    home.cli(&all)
}

fn status_of(home: &Home, profile: &str) -> Value {
    let out = home.cli(&["status", "--json", "--profile", profile]);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn without_a_terminal_the_sign_in_keeps_its_default_workspace_and_lists_the_others() {
    let fake = fake_with_a_team().await;
    let home = Home::new(&fake);
    let run = Running::spawn({
        let mut c = home.cmd(&bin("codex-mcp-bridge"));
        c.args(["login", "--no-browser"]);
        c
    });
    let url = run.line();
    assert!(!url.contains("allowed_workspace_id"), "{url}");
    assert_eq!(browser().get(&url).send().await.unwrap().status(), 200);
    let (code, stderr) = run.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("can use 2 workspaces: Personal (acc-1234), Acme (ws-acme)")
            && stderr.contains("login --workspace ID"),
        "{stderr}"
    );
    let st = status_of(&home, "default");
    assert_eq!(st["account_id"], "acc-1234");

    // Asked for by id: the authorize request names it, and the tokens are for it.
    let run = Running::spawn({
        let mut c = home.cmd(&bin("codex-mcp-bridge"));
        c.args([
            "login",
            "--no-browser",
            "--profile",
            "acme",
            "--workspace",
            "ws-acme",
        ]);
        c
    });
    let url = run.line();
    assert_eq!(query(&url)["allowed_workspace_id"], "ws-acme", "{url}");
    assert_eq!(browser().get(&url).send().await.unwrap().status(), 200);
    let (code, stderr) = run.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("uses workspace Acme (ws-acme)"), "{stderr}");
    let st = status_of(&home, "acme");
    assert_eq!(st["account_id"], "ws-acme");
    assert_eq!(st["workspace"], "Acme", "{st}");
    let listing = String::from_utf8(home.cli(&["accounts"]).stdout).unwrap();
    assert!(listing.contains("· workspace Acme"), "{listing}");
    // Two workspaces of one sign-in are two accounts, not a duplicate merged away.
    let v = accounts(&home);
    let ids: Vec<_> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["profile"].clone(), a["account_id"].clone()))
        .collect();
    assert_eq!(
        ids,
        [
            (Value::from("acme"), Value::from("ws-acme")),
            (Value::from("default"), Value::from("acc-1234"))
        ],
        "{v}"
    );
}

#[tokio::test]
async fn a_workspace_chosen_after_the_sign_in_is_used_and_survives_a_refresh() {
    let fake = fake_with_a_team().await;
    let home = Home::new(&fake);
    // The device flow has no authorize request: the token names the personal workspace, and
    // the choice is made after.
    let out = login_device(&home, &["--workspace", "ws-acme", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account_id"], "ws-acme", "{v}");
    assert_eq!(v["workspace"]["name"], "Acme", "{v}");
    assert_eq!(v["workspaces"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(home.auth_json()["tokens"]["account_id"], "ws-acme");
    let refreshes = fake.stats().refreshes;

    // The token is inside the refresh margin: `token` refreshes, and the new id token names the
    // personal workspace again. The choice stays.
    token(&home);
    assert_eq!(fake.stats().refreshes, refreshes + 1);
    assert_eq!(home.auth_json()["tokens"]["account_id"], "ws-acme");
    let st = status_of(&home, "default");
    assert_eq!(st["account_id"], "ws-acme", "{st}");
}

#[tokio::test]
async fn a_workspace_the_sign_in_cannot_use_is_refused_and_the_sign_in_is_kept() {
    let fake = fake_with_a_team().await;
    let home = Home::new(&fake);
    let out = login_device(&home, &["--workspace", "ws-elsewhere"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot use workspace ws-elsewhere")
            && stderr.contains("Personal (acc-1234), Acme (ws-acme)"),
        "{stderr}"
    );
    let st = status_of(&home, "default");
    assert_eq!(st["signed_in"], true, "nothing lost: {st}");
    assert_eq!(st["account_id"], "acc-1234");
}

#[tokio::test]
async fn at_a_terminal_the_sign_in_asks_which_workspace() {
    use std::io::Write;
    let fake = fake_with_a_team().await;
    let home = Home::new(&fake);
    // `script` gives the CLI a terminal; the answer is typed before the question comes and
    // waits in the terminal's input.
    let command = format!(
        "{} login --device --profile picked",
        bin("codex-mcp-bridge").display()
    );
    let mut child = home
        .cmd(std::path::Path::new("script"))
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.as_mut().unwrap().write_all(b"2\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("1. Personal (acc-1234)  (its default)")
            && text.contains("2. Acme (ws-acme)")
            && text.contains("Which one should profile picked use? [1]"),
        "{text}"
    );
    assert_eq!(status_of(&home, "picked")["account_id"], "ws-acme");
}
