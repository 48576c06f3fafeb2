//! `codex_status`, `codex_login`, `codex_clear`, `codex_models`, `codex_usage`.

use std::time::{Duration, Instant};

use codex_oauth_core::store::{PendingLogin, SignInMethod};
use fake_openai::{FakeConfig, Faults};
use serde_json::{Value, json};

use crate::support::*;

/// Wait (up to 10 s) until the profile is signed in, or not.
async fn until_signed_in(h: &Harness, want: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.session.status().await.signed_in != want {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for signed_in = {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn status_signed_out_says_how_to_sign_in() {
    let h = signed_out().await;
    let (text, data) = h.ok("codex_status", json!({})).await;
    assert!(text.starts_with("Not signed in"), "{text}");
    assert!(text.contains("codex_login"), "{text}");
    assert_eq!(data["signed_in"], false);
    assert_eq!(data["profile"], "default");
    h.stop().await;
}

#[tokio::test]
async fn status_signed_in_shows_who_until_when_and_where() {
    let h = signed_in().await;
    let (text, data) = h.ok("codex_status", json!({})).await;
    assert!(
        text.contains("Signed in as ada@example.com · Plus (profile"),
        "{text}"
    );
    assert!(text.contains("acc-1234"), "{text}");
    assert!(text.contains("Access token: valid until"), "{text}");
    assert!(text.contains("Stored in: file — "), "{text}");
    assert_eq!(data["signed_in"], true);
    assert_eq!(data["email"], "ada@example.com");
    assert_eq!(data["plan"], "plus");
    assert_eq!(data["account_id"], "acc-1234");
    assert_eq!(data["store"]["backend"], "file");
    assert!(data["expires_at"].is_string());
    // No secret in what status says.
    let all = format!("{text}{data}");
    for secret in h.fake.issued_secrets() {
        assert!(!all.contains(&secret), "status leaked a token");
    }
    h.stop().await;
}

#[tokio::test]
async fn status_reports_a_corrupt_credential_file_instead_of_failing() {
    let h = signed_in().await;
    let auth = h.home.path().join("default").join("auth.json");
    std::fs::write(&auth, b"{ this is not json").unwrap();
    let (text, data) = h.ok("codex_status", json!({})).await;
    assert_eq!(data["signed_in"], false);
    assert!(text.contains("corrupt"), "{text}");
    // The corrupt file was kept aside, never overwritten: the profile is signed out.
    let kept: Vec<_> = std::fs::read_dir(h.home.path().join("default"))
        .unwrap()
        .filter_map(std::result::Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1);
    let (text, data) = h.tool_error("codex_query", json!({"prompt": "hi"})).await;
    assert_eq!(data["kind"], "not_signed_in", "{text}");
    h.stop().await;
}

/// A sign-in pending in another live process of ours (the tray, another Claude Code session) is
/// returned as it is: this bridge neither starts its own (which would take that process's
/// callback port and break its link) nor cancels it.
#[tokio::test]
async fn codex_login_shows_a_sign_in_pending_in_another_process_and_leaves_it_running() {
    let h = signed_out().await;
    let mut other = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let mut pending = PendingLogin::new(
        SignInMethod::Browser,
        "http://127.0.0.1:1455/oauth-of-the-other-process",
        None,
        Duration::from_secs(600),
    );
    pending.pid = other.id();
    let store = h.session.store();
    let g = store.lock().unwrap();
    store
        .update_state(&g, |s| s.pending_login = Some(pending.clone()))
        .unwrap();
    drop(g);
    let (text, data) = h.ok("codex_login", json!({"method": "browser"})).await;
    assert_eq!(data["url"], pending.url.as_str(), "{data}");
    assert_eq!(data["new"], false);
    assert_eq!(data["elsewhere"], true);
    assert!(text.contains("another codex-oauth process"), "{text}");
    assert_eq!(h.fake.stats().authorize, 0);
    assert_eq!(
        h.session.store().state().pending_login.map(|p| p.url),
        Some(pending.url.clone()),
        "the other process's sign-in is still recorded"
    );
    // Once that process is gone, a new sign-in starts here.
    other.kill().unwrap();
    other.wait().unwrap();
    let (_, data) = h.ok("codex_login", json!({"method": "browser"})).await;
    assert_eq!(data["new"], true);
    assert_eq!(data["elsewhere"], false);
    assert_ne!(data["url"], pending.url.as_str());
    h.stop().await;
}

#[tokio::test]
async fn browser_login_returns_the_url_at_once_and_completes_in_the_background() {
    let h = signed_out().await;
    let started = Instant::now();
    let (text, data) = h.ok("codex_login", json!({"method": "browser"})).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "codex_login must not wait for the user"
    );
    let url = data["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", h.fake.issuer())),
        "{url}"
    );
    assert!(text.contains(&url), "{text}");
    assert_eq!(data["status"], "pending");
    assert_eq!(data["new"], true);
    assert_eq!(data["browser_opened"], false);

    // Pending: status shows it, and a second codex_login returns the same sign-in.
    let (status, sdata) = h.ok("codex_status", json!({})).await;
    assert!(
        status.contains("Pending sign-in: browser: open "),
        "{status}"
    );
    assert_eq!(sdata["pending_login"]["url"], url.as_str());
    let (_, again) = h.ok("codex_login", json!({})).await;
    assert_eq!(again["url"], url.as_str());
    assert_eq!(again["new"], false);

    // The user approves in the browser (the fake auto-approves and redirects to the callback).
    let page = reqwest::get(&url).await.unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    until_signed_in(&h, true).await;
    let (text, data) = h.ok("codex_status", json!({})).await;
    assert!(text.contains("ada@example.com"), "{text}");
    assert!(data["pending_login"].is_null(), "{data}");
    assert_eq!(h.fake.stats().code_exchanges, 1);

    // Now a query works.
    let (_, data) = h.ok("codex_query", json!({"prompt": "signed in?"})).await;
    assert_eq!(data["answer"], "Echo #1: signed in?");
    h.stop().await;
}

#[tokio::test]
async fn device_login_returns_url_and_code_and_completes_in_the_background() {
    let h = signed_out().await;
    let (text, data) = h.ok("codex_login", json!({"method": "device"})).await;
    assert_eq!(data["method"], "device");
    assert_eq!(data["url"], format!("{}/codex/device", h.fake.issuer()));
    let code = data["user_code"].as_str().unwrap();
    assert!(!code.is_empty());
    assert!(text.contains(code), "{text}");
    assert!(text.contains("Never share this code"), "{text}");
    // The fake approves the code at the first poll.
    until_signed_in(&h, true).await;
    h.stop().await;
}

#[tokio::test]
async fn a_login_that_cannot_start_is_an_error_that_suggests_another_way() {
    let h = signed_out().await;
    h.fake.set_faults(Faults {
        device_disabled: true,
        ..Faults::default()
    });
    let (text, _) = h
        .tool_error("codex_login", json!({"method": "device"}))
        .await;
    assert!(text.contains("browser sign-in"), "{text}");
    h.stop().await;
}

#[tokio::test]
async fn a_login_refused_in_the_browser_is_recorded_for_status() {
    let h = signed_out().await;
    h.fake.set_faults(Faults {
        authorize_error: Some(("access_denied".into(), "the user said no".into())),
        ..Faults::default()
    });
    let (_, data) = h.ok("codex_login", json!({})).await;
    let url = data["url"].as_str().unwrap().to_owned();
    let _ = reqwest::get(&url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (text, data) = h.ok("codex_status", json!({})).await;
        if data["pending_login"].is_null() && !data["last_error"].is_null() {
            assert!(text.contains("access_denied"), "{text}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the failed sign-in never showed: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!h.session.status().await.signed_in);
    // A new attempt starts a new sign-in.
    h.fake.set_faults(Faults::default());
    let (_, again) = h.ok("codex_login", json!({})).await;
    assert_eq!(again["new"], true);
    h.stop().await;
}

#[tokio::test]
async fn clear_revokes_and_deletes_and_status_follows() {
    let h = signed_in().await;
    let (text, data) = h.ok("codex_clear", json!({})).await;
    assert!(text.contains("Signed out of profile default"), "{text}");
    assert!(text.contains("revoked"), "{text}");
    assert_eq!(data["was_signed_in"], true);
    assert_eq!(data["revoked"], true);
    assert_eq!(h.fake.stats().revokes, 1);
    assert!(!h.home.path().join("default").join("auth.json").exists());
    assert_eq!(h.state_json()["signed_in"], false);
    let (_, status) = h.ok("codex_status", json!({})).await;
    assert_eq!(status["signed_in"], false);

    // Again: nothing to do, and no error.
    let (text, data) = h.ok("codex_clear", json!({})).await;
    assert!(text.contains("was not signed in"), "{text}");
    assert_eq!(data["was_signed_in"], false);
    h.stop().await;
}

#[tokio::test]
async fn clear_cancels_a_pending_login() {
    let h = signed_out().await;
    let (_, data) = h.ok("codex_login", json!({})).await;
    let url = data["url"].as_str().unwrap().to_owned();
    let (text, data) = h.ok("codex_clear", json!({})).await;
    assert_eq!(data["cancelled_pending_login"], true, "{text}");
    let (_, status) = h.ok("codex_status", json!({})).await;
    assert!(status["pending_login"].is_null(), "{status}");
    // The abandoned callback no longer signs anyone in.
    let _ = reqwest::get(&url).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!h.session.status().await.signed_in);
    h.stop().await;
}

#[tokio::test]
async fn models_come_from_the_catalog_without_hidden_or_too_new_ones_and_with_the_default_marked() {
    let h = signed_in().await;
    let (text, data) = h.ok("codex_models", json!({})).await;
    let slugs: Vec<&str> = data["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        vec!["gpt-6.2-sol", "gpt-6.2-astra", "gpt-6-luna", "gpt-5.5"],
        "by priority; gpt-6.3-nova needs 0.180.0, codex-auto-review is hidden"
    );
    assert_eq!(data["default_model"], "gpt-6.2-sol");
    assert_eq!(data["source"], "network");
    assert_eq!(data["client_version"], "0.171.0");
    assert!(text.contains("* gpt-6.2-sol (GPT-6.2 Sol)"), "{text}");
    assert!(!text.contains("codex-auto-review"), "{text}");
    assert!(!text.contains("gpt-6.3-nova"), "{text}");
    assert!(
        text.contains("efforts low/medium/high/xhigh/max/ultra, default low; 272k context; images"),
        "{text}"
    );
    assert!(
        text.contains("gpt-6-luna") && text.contains("text only"),
        "{text}"
    );
    let sol = &data["models"][0];
    assert_eq!(sol["default"], true);
    assert_eq!(sol["default_reasoning_effort"], "low");
    assert_eq!(sol["image_input"], true);
    assert_eq!(sol["shape"], "lite");
    assert_eq!(data["models"][3]["shape"], "standard");
    assert_eq!(data["models"][2]["image_input"], false);
    let req = &h.fake.requests_to("/backend-api/codex/models")[0];
    assert_eq!(req.query.as_deref(), Some("client_version=0.171.0"));
    assert_eq!(req.headers["version"], "0.171.0");

    // Cached with its ETag: the next call revalidates (304) instead of downloading.
    let cache: Value = serde_json::from_slice(
        &std::fs::read(h.home.path().join("default").join("models.json")).unwrap(),
    )
    .unwrap();
    let etag = cache["etag"].as_str().unwrap().to_owned();
    let (_, data) = h.ok("codex_models", json!({})).await;
    assert_eq!(data["source"], "revalidated");
    let reqs = h.fake.requests_to("/backend-api/codex/models");
    assert_eq!(reqs[1].headers["if-none-match"], etag);

    // Offline: the cache, saying why.
    h.fake.set_faults(Faults {
        responses_status: Some(500),
        ..Faults::default()
    });
    let (text, data) = h.ok("codex_models", json!({})).await;
    assert_eq!(data["source"], "cache");
    assert_eq!(data["default_model"], "gpt-6.2-sol");
    assert!(text.contains("could not refresh"), "{text}");
    h.stop().await;
}

#[tokio::test]
async fn with_no_catalog_ever_fetched_and_the_backend_down_there_is_no_made_up_default() {
    let h = signed_in().await;
    h.fake.set_faults(Faults {
        responses_status: Some(500),
        ..Faults::default()
    });
    let (text, data) = h.tool_error("codex_models", json!({})).await;
    assert!(text.contains("HTTP 500"), "{text}");
    assert_eq!(data["retryable"], true);
    let (text, _) = h.tool_error("codex_query", json!({"prompt": "hi"})).await;
    assert!(text.contains("HTTP 500"), "{text}");
    assert_eq!(
        h.fake.stats().responses,
        0,
        "no query without a model from the catalog"
    );
    h.stop().await;
}

#[tokio::test]
async fn an_empty_catalog_is_an_error_that_names_the_version_sent() {
    let cfg = FakeConfig {
        models: Vec::new(),
        ..FakeConfig::default()
    };
    let h = start(cfg, test_options(), Some(3600)).await;
    for tool in ["codex_models", "codex_query"] {
        let (text, data) = h.tool_error(tool, json!({"prompt": "hi"})).await;
        assert_eq!(data["kind"], "no_models", "{tool}: {text}");
        assert!(
            text.contains("client version 0.171.0") && text.contains("codex_version"),
            "{tool}: {text}"
        );
    }
    h.stop().await;
}

#[tokio::test]
async fn models_signed_out_is_an_error_that_says_how_to_sign_in() {
    let h = signed_out().await;
    let (text, data) = h.tool_error("codex_models", json!({})).await;
    assert!(text.contains("/codex-config"), "{text}");
    assert_eq!(data["kind"], "not_signed_in");
    h.stop().await;
}

#[tokio::test]
async fn the_default_model_follows_the_backend_list() {
    let mut cfg = FakeConfig::default();
    for m in &mut cfg.models {
        if m["slug"] == "gpt-5.5" {
            m["priority"] = json!(0);
        }
    }
    let h = start(cfg, test_options(), Some(3600)).await;
    let (_, data) = h.ok("codex_query", json!({"prompt": "which model?"})).await;
    assert_eq!(data["model"], "gpt-5.5");
    let r = &h.fake.requests_to("/responses")[0];
    assert_eq!(r.rejected, None, "asked in the standard shape");
    h.stop().await;
}

#[tokio::test]
async fn usage_shows_the_windows_and_credits() {
    let h = signed_in().await;
    let (text, data) = h.ok("codex_usage", json!({})).await;
    assert!(text.contains("Plan: plus"), "{text}");
    assert!(text.contains("5-hour window: 12% used"), "{text}");
    assert!(text.contains("Weekly window: 40% used"), "{text}");
    assert!(text.contains("no credits"), "{text}");
    assert!(
        text.contains("Remaining: 60% left (weekly window"),
        "the effective remaining is the tightest window: {text}"
    );
    assert!(
        text.contains("gpt-6-2-sol limit, 5-hour window: 3% used"),
        "{text}"
    );
    assert_eq!(data["effective"]["percent_left"], 60.0);
    assert_eq!(data["plan_type"], "plus");
    assert_eq!(data["rate_limits"]["primary"]["window_minutes"], 300);
    assert!(data["rate_limits"]["primary"]["resets_at"].is_string());
    eventually("usage in state.json", || {
        h.state_json()["rate_limits"]["secondary"]["used_percent"] == json!(40.0)
    })
    .await;
    h.stop().await;
}

#[tokio::test]
async fn usage_failures_are_tool_errors() {
    let h = signed_out().await;
    let (text, _) = h.tool_error("codex_usage", json!({})).await;
    assert!(text.contains("/codex-config"), "{text}");
    h.stop().await;

    let h = signed_in().await;
    h.fake.set_faults(Faults {
        responses_status: Some(500),
        ..Faults::default()
    });
    let (text, data) = h.tool_error("codex_usage", json!({})).await;
    assert!(text.contains("HTTP 500"), "{text}");
    assert_eq!(data["retryable"], true);
    assert_eq!(h.fake.stats().usage, 3);
    h.stop().await;
}

/// `codex_status` lists the other accounts (profiles) of the machine beside the one it serves.
#[tokio::test]
async fn codex_status_lists_every_account_and_which_one_answers() {
    let h = signed_in().await;
    let work = codex_oauth_core::Session::open(codex_oauth_core::accounts::settings_of(
        h.session.settings(),
        "work",
    ))
    .unwrap();
    work.save_record(codex_oauth_core::store::AuthRecord::from_api_key(
        codex_oauth_core::Secret::new("sk-proj-work"),
    ))
    .await
    .unwrap();
    let (text, data) = h.ok("codex_status", json!({})).await;
    let accounts = data["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{data}");
    assert_eq!(accounts[0]["profile"], "default");
    assert_eq!(accounts[0]["served"], true);
    assert_eq!(accounts[1]["profile"], "work");
    assert_eq!(accounts[1]["signed_in"], true);
    assert!(text.contains("- work: Signed in with an API key"), "{text}");
    assert!(!text.contains("sk-proj"), "{text}");
    h.stop().await;
}

/// The address the browser's last page shows: the fake approves and redirects to our callback,
/// which a browser on another machine cannot load.
pub async fn final_redirect(authorize_url: &str) -> reqwest::Url {
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let approved = no_redirects.get(authorize_url).send().await.unwrap();
    let location = approved.headers()["location"].to_str().unwrap();
    reqwest::Url::parse(location).unwrap()
}

pub fn with_state(url: &reqwest::Url, state: &str) -> String {
    let mut url = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "state" {
                (k, state.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

#[tokio::test]
async fn a_pasted_final_redirect_completes_the_browser_sign_in_and_a_wrong_state_is_refused() {
    let h = signed_out().await;
    let (text, data) = h.ok("codex_login", json!({})).await;
    assert!(text.contains("redirect_url"), "{text}");
    let redirect = final_redirect(data["url"].as_str().unwrap()).await;

    let (text, err) = h
        .tool_error(
            "codex_login",
            json!({"redirect_url": with_state(&redirect, "not-this-sign-in")}),
        )
        .await;
    assert!(text.contains("still waiting"), "{text}");
    assert_eq!(err["kind"], "redirect_refused", "{err}");
    assert!(!h.session.status().await.signed_in);
    assert_eq!(h.fake.stats().code_exchanges, 0);

    let pasted = format!("  {redirect}\n");
    let (text, data) = h.ok("codex_login", json!({"redirect_url": pasted})).await;
    assert!(
        text.contains("Signed in to Codex as ada@example.com"),
        "{text}"
    );
    assert_eq!(data["status"], "signed_in");
    let code = redirect
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    assert!(!text.contains(&code) && !data.to_string().contains(&code));
    let (_, status) = h.ok("codex_status", json!({})).await;
    assert_eq!(status["signed_in"], true, "{status}");
    assert!(status["pending_login"].is_null(), "{status}");
    assert_eq!(h.fake.stats().code_exchanges, 1);

    // The sign-in has ended: the same address again is refused, and says so.
    let (text, err) = h
        .tool_error("codex_login", json!({"redirect_url": redirect.to_string()}))
        .await;
    assert!(
        text.starts_with("This sign-in has ended; start a new one"),
        "{text}"
    );
    assert_eq!(err["kind"], "sign_in_ended", "{err}");
    assert_eq!(h.fake.stats().code_exchanges, 1);
    h.stop().await;
}

#[tokio::test]
async fn a_pasted_redirect_without_a_pending_browser_sign_in_is_a_clear_tool_error() {
    let h = signed_out().await;
    let (text, err) = h
        .tool_error(
            "codex_login",
            json!({"redirect_url": "http://127.0.0.1:1455/auth/callback?code=c&state=s"}),
        )
        .await;
    assert!(text.starts_with("No browser sign-in is waiting"), "{text}");
    assert_eq!(err["kind"], "no_pending_sign_in", "{err}");
    h.stop().await;
}
