//! The commands against fake-openai, in a temp home, as the window calls them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use codex_oauth_core::store::SignInMethod;
use fake_openai::{FakeConfig, FakeOpenAi};
use tokio::sync::oneshot;

use super::*;
use crate::error::ErrorKind;
use crate::model::AccountView;

struct Env {
    fake: FakeOpenAi,
    state: AppState,
    home: tempfile::TempDir,
}

async fn env(cfg: FakeConfig) -> Env {
    let fake = FakeOpenAi::start(cfg).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let hub = crate::testing::hub_on(&fake, home.path()).await;
    Env {
        fake,
        state: AppState::new(hub),
        home,
    }
}

/// Device codes approved only by the test.
fn manual_approval() -> FakeConfig {
    FakeConfig {
        device_auto_approve_after: 0,
        ..FakeConfig::default()
    }
}

fn on_end() -> (
    impl FnOnce(SignInEnded) + Send + 'static,
    oneshot::Receiver<SignInEnded>,
) {
    let (tx, rx) = oneshot::channel();
    (
        move |e| {
            let _ = tx.send(e);
        },
        rx,
    )
}

async fn ended(rx: oneshot::Receiver<SignInEnded>) -> SignInEnded {
    tokio::time::timeout(Duration::from_secs(10), rx)
        .await
        .expect("the sign-in did not end within 10 s")
        .unwrap()
}

/// What a browser does with the authorize URL: follow the redirects to the callback.
async fn browse(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

/// The card of `profile` (or of the default) as the window gets it now.
async fn card(env: &Env, profile: Option<&str>) -> AccountView {
    let w = status(&env.state).await;
    let p = profile.unwrap_or(&w.default).to_owned();
    w.account(&p)
        .cloned()
        .unwrap_or_else(|| panic!("no card for {p}: {w:?}"))
}

/// Sign `profile` in (or the default) through the browser flow.
async fn sign_in(env: &Env, profile: Option<&str>, add: bool) -> SignInEnded {
    let (f, rx) = on_end();
    let started = sign_in_browser_in(&env.state, profile, add, f)
        .await
        .unwrap();
    browse(&started.url).await;
    let end = ended(rx).await;
    sign_in_ended(&env.state, &end).await;
    end
}

async fn api_key_in(env: &Env, profile: &str) {
    let session =
        codex_oauth_core::Session::open(settings_of(env.state.hub.base(), profile)).unwrap();
    session
        .save_record(codex_oauth_core::store::AuthRecord::from_api_key(
            codex_oauth_core::Secret::new("sk-test-key"),
        ))
        .await
        .unwrap();
}

fn query_param(url: &str, key: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn browser_sign_in_shows_the_url_then_the_account_and_sign_out_ends_it() {
    let env = env(FakeConfig::default()).await;
    assert!(!card(&env, None).await.signed_in);

    let (f, rx) = on_end();
    let started = sign_in_browser_in(&env.state, None, false, f)
        .await
        .unwrap();
    assert_eq!(started.profile, "default");
    assert!(!started.browser_opened, "CODEX_OAUTH_NO_BROWSER is set");
    assert!(started.url.starts_with(&env.fake.issuer()));
    let pending = card(&env, None).await.pending.unwrap();
    assert_eq!(pending.method, SignInMethod::Browser);
    assert_eq!(pending.url, started.url);

    let page = browse(&started.url).await;
    assert!(page.contains("Signed in"), "{page}");
    let end = ended(rx).await;
    assert!(end.ok, "{end:?}");
    assert_eq!(end.email.as_deref(), Some("ada@example.com"));
    assert_eq!(end.merged_into, None);
    assert_eq!(
        end.message.as_deref(),
        Some("Signed in as ada@example.com (plus).")
    );

    let w = card(&env, None).await;
    assert!(w.signed_in && w.default);
    assert_eq!(w.email.as_deref(), Some("ada@example.com"));
    assert_eq!(w.plan.as_deref(), Some("Plus"));
    assert_eq!(w.account_id.as_deref(), Some("acc-1234"));
    assert_eq!(w.storage.backend.as_deref(), Some("file"));
    assert!(w.pending.is_none());
    assert!(w.expires_at.unwrap() > Utc::now() + chrono::Duration::minutes(50));
    // No secret of the fake's reaches the window model.
    let json = serde_json::to_string(&status(&env.state).await).unwrap();
    for secret in env.fake.issued_secrets() {
        assert!(
            !json.contains(&secret),
            "a token leaked into the window model"
        );
    }

    let bars = usage(&env.state, None).await.unwrap();
    assert_eq!(
        bars.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(),
        ["5-hour limit", "Weekly limit", "gpt-6-2-sol: 5-hour limit"],
        "the plan's windows, then the per-model limit"
    );
    // The window shows their effective remaining, and the workspace, as soon as the usage
    // was asked for.
    let w = card(&env, None).await;
    assert_eq!(w.usage.len(), 3);
    assert!(
        w.remaining
            .as_deref()
            .is_some_and(|r| r.starts_with("60% left (weekly window")),
        "{:?}",
        w.remaining
    );
    assert_eq!(w.workspace.as_deref(), Some("Personal"));
    assert_eq!(bars[0].used_percent, 12.0);

    let out = sign_out(&env.state, None).await.unwrap();
    assert!(out.was_signed_in);
    assert!(out.revoked);
    assert!(!card(&env, None).await.signed_in);
    let err = usage(&env.state, None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::SignIn);
}

#[tokio::test]
async fn device_sign_in_gives_the_code_and_can_be_cancelled() {
    let env = env(manual_approval()).await;
    let (f, rx) = on_end();
    let started = sign_in_device_in(&env.state, None, false, f).await.unwrap();
    assert!(!started.user_code.is_empty());
    assert!(started.verification_url.ends_with("/codex/device"));
    let w = card(&env, None).await;
    assert_eq!(
        w.pending.unwrap().user_code.as_deref(),
        Some(started.user_code.as_str())
    );

    assert!(cancel_sign_in_of(&env.state, None).await);
    let end = ended(rx).await;
    assert!(!end.ok);
    assert_eq!(end.error.unwrap().kind, ErrorKind::Cancelled);
    let w = card(&env, None).await;
    assert!(w.pending.is_none());
    assert!(!w.signed_in);
    assert_eq!(w.last_error, None, "a cancel is not an error");
    assert!(
        !cancel_sign_in_of(&env.state, None).await,
        "nothing left to cancel"
    );
}

#[tokio::test]
async fn an_approved_device_code_signs_in() {
    let env = env(manual_approval()).await;
    let (f, rx) = on_end();
    let started = sign_in_device_in(&env.state, None, false, f).await.unwrap();
    assert!(env.fake.approve_device(&started.user_code));
    let end = ended(rx).await;
    assert!(end.ok, "{end:?}");
    assert!(card(&env, None).await.signed_in);
}

#[tokio::test]
async fn a_refused_sign_in_is_recorded_as_the_last_error() {
    let env = env(FakeConfig::default()).await;
    let (f, rx) = on_end();
    let started = sign_in_browser_in(&env.state, None, false, f)
        .await
        .unwrap();
    // The browser comes back with an error instead of a code.
    let state = query_param(&started.url, "state");
    let redirect = query_param(&started.url, "redirect_uri");
    let _ = reqwest::get(format!(
        "{redirect}?error=access_denied&error_description=nope&state={state}"
    ))
    .await
    .unwrap();
    let end = ended(rx).await;
    assert!(!end.ok);
    let w = card(&env, None).await;
    assert!(w.last_error.unwrap().starts_with("sign-in failed:"));
    assert!(w.pending.is_none());
    assert_eq!(w.icon, crate::model::IconState::Attention);
}

#[tokio::test]
async fn a_second_sign_in_cancels_the_first_even_of_another_profile() {
    let env = env(FakeConfig::default()).await;
    let (f1, rx1) = on_end();
    let first = sign_in_browser_in(&env.state, None, false, f1)
        .await
        .unwrap();
    let (f2, rx2) = on_end();
    let second = sign_in_browser_in(&env.state, None, false, f2)
        .await
        .unwrap();
    assert_eq!(ended(rx1).await.error.unwrap().kind, ErrorKind::Cancelled);
    let flows = |url: &str| {
        env.state
            .hub
            .opened()
            .iter()
            .any(|a| a.flows.is_flow_url(url))
    };
    assert!(!flows(&first.url));
    assert!(flows(&second.url));
    // One callback port: a sign-in in a new profile ends the default's.
    let (f3, _rx3) = on_end();
    let third = sign_in_browser_in(&env.state, Some("work"), true, f3)
        .await
        .unwrap();
    assert_eq!(third.profile, "work");
    assert_eq!(ended(rx2).await.error.unwrap().kind, ErrorKind::Cancelled);
    assert!(flows(&third.url));
    cancel_sign_in_of(&env.state, None).await;
}

#[tokio::test]
async fn only_the_running_sign_in_page_can_be_opened() {
    let env = env(FakeConfig::default()).await;
    let opened = std::sync::Mutex::new(Vec::new());
    let err = open_url(&env.state, "https://evil.example/", |u| {
        opened.lock().unwrap().push(u.to_string());
        Ok(())
    })
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Input);

    let (f, _rx) = on_end();
    let started = sign_in_browser_in(&env.state, None, false, f)
        .await
        .unwrap();
    open_url(&env.state, &started.url, |u| {
        opened.lock().unwrap().push(u.to_string());
        Ok(())
    })
    .unwrap();
    let err = open_url(&env.state, &started.url, |_| {
        Err(std::io::Error::other("no browser"))
    })
    .unwrap_err();
    assert!(err.message.contains("copy the link"));
    assert_eq!(*opened.lock().unwrap(), vec![started.url]);
    env.state.cancel_all();
}

#[tokio::test]
async fn copy_mcp_config_puts_the_bridge_on_the_clipboard() {
    let env = env(FakeConfig::default()).await;
    let mut copied = String::new();
    let config = copy_mcp_config(&env.state, |t| {
        copied = t.to_string();
        Ok(())
    })
    .unwrap();
    assert_eq!(config, copied);
    let v: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert!(
        v["mcpServers"]["codex"]["command"]
            .as_str()
            .unwrap()
            .ends_with("codex-mcp-bridge")
    );
    let err = copy_mcp_config(&env.state, |_| Err("no display".into())).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Internal);
    assert!(err.message.contains("no display"));
}

#[tokio::test]
async fn the_mcp_config_follows_the_default_account_instead_of_pinning_one() {
    let env = env(FakeConfig::default()).await;
    api_key_in(&env, "work").await;
    make_default(&env.state, "work").await.unwrap();
    let config = copy_mcp_config(&env.state, |_| Ok(())).unwrap();
    let v: serde_json::Value = serde_json::from_str(&config).unwrap();
    let vars = &v["mcpServers"]["codex"]["env"];
    assert!(vars.get("CODEX_OAUTH_PROFILE").is_none(), "{config}");
    assert!(vars.get("CODEX_OAUTH_HOME").is_some(), "{config}");
}

#[tokio::test]
async fn signing_out_when_signed_out_says_so() {
    let env = env(FakeConfig::default()).await;
    let out = sign_out(&env.state, None).await.unwrap();
    assert!(!out.was_signed_in);
    assert_eq!(out.profile, "default");
}

#[tokio::test]
async fn two_accounts_each_with_its_card_make_default_and_sign_out_of_one_only() {
    let env = env(FakeConfig::default()).await;
    assert!(sign_in(&env, None, false).await.ok);
    api_key_in(&env, "work").await;
    let w = status(&env.state).await;
    let cards: Vec<(&str, bool, bool)> = w
        .accounts
        .iter()
        .map(|a| (a.profile.as_str(), a.default, a.signed_in))
        .collect();
    assert_eq!(cards, [("default", true, true), ("work", false, true)]);

    let w = make_default(&env.state, "work").await.unwrap();
    assert_eq!(w.default, "work");
    let config = std::fs::read_to_string(env.home.path().join("config.toml")).unwrap();
    assert!(config.contains("profile = \"work\""), "{config}");
    assert!(
        card(&env, None).await.auth_mode.is_some(),
        "the default is work's card"
    );
    assert_eq!(card(&env, None).await.profile, "work");

    // Without a profile a command acts on the default: now work.
    let out = sign_out(&env.state, None).await.unwrap();
    assert_eq!(out.profile, "work");
    assert!(!card(&env, Some("work")).await.signed_in);
    assert!(
        card(&env, Some("default")).await.signed_in,
        "the other stays signed in"
    );
    let out = sign_out(&env.state, Some("default")).await.unwrap();
    assert!(out.was_signed_in && out.revoked);

    let err = make_default(&env.state, "nobody").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Input);
    assert!(
        err.message.contains("no profile `nobody`"),
        "{}",
        err.message
    );
    let err = make_default(&env.state, "../etc").await.unwrap_err();
    assert!(
        err.message.contains("not a valid profile name"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn add_account_refuses_a_bad_or_taken_name_and_a_cancelled_one_leaves_no_profile() {
    let env = env(FakeConfig::default()).await;
    api_key_in(&env, "work").await;
    for (name, said) in [
        ("../x", "not a valid profile name"),
        ("", "not a valid profile name"),
        ("work", "there is already a profile `work`"),
        ("default", "there is already a profile `default`"),
    ] {
        let (f, _rx) = on_end();
        let err = sign_in_device_in(&env.state, Some(name), true, f)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Input, "{name}");
        assert!(err.message.contains(said), "{name}: {}", err.message);
    }
    let (f, rx) = on_end();
    let started = sign_in_browser_in(&env.state, Some("team"), true, f)
        .await
        .unwrap();
    assert_eq!(started.profile, "team");
    let w = status(&env.state).await;
    assert!(w.account("team").unwrap().pending.is_some(), "{w:?}");
    assert!(!w.account("team").unwrap().default);
    assert!(cancel_sign_in_of(&env.state, Some("team")).await);
    let end = ended(rx).await;
    sign_in_ended(&env.state, &end).await;
    let w = status(&env.state).await;
    assert!(w.account("team").is_none(), "{w:?}");
    assert!(!env.home.path().join("team").exists());

    // The name is free again, and a sign-in there works though its folder went away.
    let end = sign_in(&env, Some("team"), true).await;
    assert!(end.ok, "{end:?}");
    assert_eq!(end.merged_into, None);
    assert!(card(&env, Some("team")).await.signed_in);
}

#[tokio::test]
async fn the_same_account_added_under_a_new_profile_renews_the_one_that_holds_it() {
    let env = env(FakeConfig::default()).await;
    assert!(sign_in(&env, None, false).await.ok);
    let end = sign_in(&env, Some("second"), true).await;
    assert!(end.ok, "{end:?}");
    assert_eq!(end.merged_into.as_deref(), Some("default"));
    assert!(
        end.message
            .as_deref()
            .is_some_and(|m| m.contains("already profile default")),
        "{end:?}"
    );
    let w = status(&env.state).await;
    assert_eq!(
        w.accounts
            .iter()
            .map(|a| a.profile.as_str())
            .collect::<Vec<_>>(),
        ["default"]
    );
    assert!(w.accounts[0].signed_in);
    assert!(!env.home.path().join("second").exists());
}

#[tokio::test]
async fn a_pasted_redirect_completes_the_sign_in_and_a_wrong_state_is_refused() {
    let env = env(FakeConfig::default()).await;
    let (f, rx) = on_end();
    let started = sign_in_browser_in(&env.state, None, false, f)
        .await
        .unwrap();
    // A browser elsewhere: follow the authorize URL up to the redirect to the callback.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = client.get(&started.url).send().await.unwrap();
    let final_url = answer.headers()["location"].to_str().unwrap().to_owned();
    let state = query_param(&final_url, "state");
    let wrong = final_url.replace(&state, "not-this-sign-ins-state-xxxxxxxxxx");
    let err = paste_redirect(&env.state, None, &wrong).await.unwrap_err();
    assert!(
        err.message.contains("the pasted address was not used"),
        "{}",
        err.message
    );
    assert!(card(&env, None).await.pending.is_some(), "still waiting");
    let done = paste_redirect(&env.state, Some("default"), &final_url)
        .await
        .unwrap();
    assert_eq!(done.email.as_deref(), Some("ada@example.com"));
    let end = ended(rx).await;
    assert!(end.ok, "{end:?}");
    assert!(card(&env, None).await.signed_in);
    assert_eq!(env.fake.stats().code_exchanges, 1);
    // Too late: that sign-in has ended (a stale address), and core says so.
    let err = paste_redirect(&env.state, None, &final_url)
        .await
        .unwrap_err();
    assert_eq!(err.message, "this sign-in has ended; start a new one");
}

#[tokio::test]
async fn the_workspaces_of_a_sign_in_are_listed_and_one_is_chosen_checked_against_them() {
    let env = env(FakeConfig {
        extra_workspaces: vec![fake_openai::FakeWorkspace {
            id: "ws-acme".into(),
            name: "Acme".into(),
            plan_type: "team".into(),
        }],
        ..FakeConfig::default()
    })
    .await;
    assert!(sign_in(&env, None, false).await.ok);
    let listed = workspaces(&env.state, None).await.unwrap();
    let shown: Vec<_> = listed
        .iter()
        .map(|w| (w.id.as_str(), w.label.as_str(), w.current))
        .collect();
    assert_eq!(
        shown,
        [("acc-1234", "Personal", true), ("ws-acme", "Acme", false)]
    );

    let w = choose_workspace(&env.state, None, "ws-acme").await.unwrap();
    let a = w.account("default").unwrap();
    assert_eq!(a.account_id.as_deref(), Some("ws-acme"));
    assert_eq!(a.workspace.as_deref(), Some("Acme"));
    let current: Vec<_> = workspaces(&env.state, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|w| w.current)
        .map(|w| w.id)
        .collect();
    assert_eq!(current, ["ws-acme"]);

    // A workspace the sign-in cannot use is refused, and the choice stays.
    let e = choose_workspace(&env.state, None, "ws-other")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Input, "{e:?}");
    assert_eq!(
        card(&env, None).await.account_id.as_deref(),
        Some("ws-acme")
    );
}
