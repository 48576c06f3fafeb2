//! The window's commands. Each is a few lines: call core (through the hub or a flow) once, shape
//! the answer, return [`CommandError`] on failure. The `#[tauri::command]` wrappers only fetch the
//! managed state; the work is in plain functions that the tests call.

use std::sync::Arc;

use chrono::{Local, Utc};
use codex_oauth_core::codex::CodexClient;
use serde::Serialize;
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::error::CommandError;
use crate::hub::Hub;
use crate::model::{WindowModel, window_model};
use crate::signin::{self, BrowserStarted, DeviceStarted, SignInEnded};
use crate::usage::{UsageBar, usage_bars};
use codex_oauth_core::signin::SignIns;

/// The app's state, managed by Tauri.
pub struct AppState {
    pub hub: Arc<Hub>,
    pub flows: Arc<SignIns>,
    /// The Codex backend client (usage); `None` when it could not be built.
    pub codex: Option<CodexClient>,
}

impl AppState {
    pub fn new(hub: Arc<Hub>) -> Self {
        let codex = match CodexClient::new(Arc::clone(hub.session())) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "cannot create the Codex client; usage will not be shown");
                None
            }
        };
        Self {
            flows: Arc::new(SignIns::new(Arc::clone(hub.session()))),
            hub,
            codex,
        }
    }
}

/// Event names the window listens to.
pub const EVENT_STATUS: &str = "status";
pub const EVENT_SIGNIN_ENDED: &str = "signin-ended";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SignedOut {
    pub was_signed_in: bool,
    /// The server was told (revoke); false means only the local copy is gone.
    pub revoked: bool,
}

pub async fn status(state: &AppState) -> WindowModel {
    let snap = state.hub.reload().await;
    window_model(&snap, Utc::now(), &Local)
}

pub async fn sign_out(state: &AppState) -> Result<SignedOut, CommandError> {
    state.flows.cancel();
    let out = state.hub.session().sign_out().await;
    state.hub.reload().await;
    let out = out?;
    Ok(SignedOut {
        was_signed_in: out.was_signed_in,
        revoked: out.revoked,
    })
}

/// The plan's usage windows, asked of the backend now (core also records them in state.json).
pub async fn usage(state: &AppState) -> Result<Vec<UsageBar>, CommandError> {
    let client = state
        .codex
        .as_ref()
        .ok_or_else(|| CommandError::failed("the Codex client could not be created"))?;
    let usage = client.usage().await?;
    // core has put the windows in state.json: show their effective remaining now, without
    // waiting for the file watcher.
    state.hub.reload().await;
    Ok(usage_bars(&usage.rate_limits))
}

/// The MCP config for Claude Code, given to `copy` (the clipboard); returns it too.
pub fn copy_mcp_config(
    state: &AppState,
    copy: impl FnOnce(&str) -> Result<(), String>,
) -> Result<String, CommandError> {
    use codex_oauth_core::mcp_config::{bridge_beside, mcp_json, server_env};
    let settings = state.hub.session().settings();
    let exe = std::env::current_exe().ok();
    let config = mcp_json(&bridge_beside(exe.as_deref()), &server_env(settings));
    copy(&config)
        .map_err(|e| CommandError::failed(format!("cannot copy to the clipboard: {e}")))?;
    Ok(config)
}

/// Open the URL of the running sign-in in the browser; no other URL.
pub fn open_url(
    state: &AppState,
    url: &str,
    open: impl FnOnce(&str) -> std::io::Result<()>,
) -> Result<(), CommandError> {
    if !state.flows.is_flow_url(url) {
        return Err(CommandError::invalid(
            "only the page of the running sign-in can be opened from here",
        ));
    }
    open(url).map_err(|e| {
        CommandError::failed(format!(
            "cannot open the browser ({e}): copy the link and open it yourself"
        ))
    })
}

fn ended(app: AppHandle) -> impl FnOnce(SignInEnded) + Send + 'static {
    move |e| {
        if let Err(err) = app.emit(EVENT_SIGNIN_ENDED, e) {
            tracing::warn!(error = %err, "could not tell the window that the sign-in ended");
        }
    }
}

fn clipboard(app: &AppHandle) -> impl FnOnce(&str) -> Result<(), String> + '_ {
    move |text| app.clipboard().write_text(text).map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn get_status(state: State<'_, AppState>) -> Result<WindowModel, CommandError> {
    Ok(status(&state).await)
}

#[tauri::command]
pub async fn get_usage(state: State<'_, AppState>) -> Result<Vec<UsageBar>, CommandError> {
    usage(&state).await
}

#[tauri::command]
pub async fn sign_in_browser(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<BrowserStarted, CommandError> {
    signin::start_browser(&state.hub, &state.flows, ended(app)).await
}

#[tauri::command]
pub async fn sign_in_device(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<DeviceStarted, CommandError> {
    signin::start_device(&state.hub, &state.flows, ended(app)).await
}

#[tauri::command]
pub fn cancel_sign_in(state: State<'_, AppState>) -> bool {
    state.flows.cancel()
}

#[tauri::command]
pub async fn sign_out_account(state: State<'_, AppState>) -> Result<SignedOut, CommandError> {
    sign_out(&state).await
}

#[tauri::command]
pub fn copy_mcp(app: AppHandle, state: State<'_, AppState>) -> Result<String, CommandError> {
    copy_mcp_config(&state, clipboard(&app))
}

#[tauri::command]
pub fn copy_text(app: AppHandle, text: String) -> Result<(), CommandError> {
    clipboard(&app)(&text)
        .map_err(|e| CommandError::failed(format!("cannot copy to the clipboard: {e}")))
}

#[tauri::command]
pub fn open_sign_in_page(state: State<'_, AppState>, url: String) -> Result<(), CommandError> {
    open_url(&state, &url, webbrowser::open)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;
    use std::time::Duration;

    use codex_oauth_core::{Session, Settings};
    use fake_openai::{FakeConfig, FakeOpenAi};
    use tokio::sync::oneshot;

    use super::*;
    use crate::error::ErrorKind;

    struct Env {
        fake: FakeOpenAi,
        state: AppState,
        _home: tempfile::TempDir,
    }

    async fn env(cfg: FakeConfig) -> Env {
        let fake = FakeOpenAi::start(cfg).await.unwrap();
        let home = tempfile::tempdir().unwrap();
        let vars: HashMap<String, String> = [
            (
                "CODEX_OAUTH_HOME",
                home.path().to_string_lossy().into_owned(),
            ),
            ("CODEX_OAUTH_STORE", "file".into()),
            ("CODEX_OAUTH_NO_BROWSER", "1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(fake.env())
        .collect();
        let mut settings = Settings::from_env(&vars).unwrap();
        // Any free port, so tests run in parallel.
        settings.callback_port = 0;
        settings.callback_port_explicit = true;
        let session = Session::open(settings).unwrap();
        let (hub, _pokes) = Hub::new(session).await;
        Env {
            fake,
            state: AppState::new(hub),
            _home: home,
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

    #[tokio::test]
    async fn browser_sign_in_shows_the_url_then_the_account_and_sign_out_ends_it() {
        let env = env(FakeConfig::default()).await;
        let before = status(&env.state).await;
        assert!(!before.signed_in);

        let (f, rx) = on_end();
        let started = signin::start_browser(&env.state.hub, &env.state.flows, f)
            .await
            .unwrap();
        assert!(!started.browser_opened, "CODEX_OAUTH_NO_BROWSER is set");
        assert!(started.url.starts_with(&env.fake.issuer()));
        let pending = status(&env.state).await.pending.unwrap();
        assert_eq!(
            pending.method,
            codex_oauth_core::store::SignInMethod::Browser
        );
        assert_eq!(pending.url, started.url);

        let page = browse(&started.url).await;
        assert!(page.contains("Signed in"), "{page}");
        let end = ended(rx).await;
        assert!(end.ok, "{end:?}");
        assert_eq!(end.email.as_deref(), Some("ada@example.com"));

        let w = status(&env.state).await;
        assert!(w.signed_in);
        assert_eq!(w.email.as_deref(), Some("ada@example.com"));
        assert_eq!(w.plan.as_deref(), Some("Plus"));
        assert_eq!(w.account_id.as_deref(), Some("acc-1234"));
        assert_eq!(w.storage.backend.as_deref(), Some("file"));
        assert!(w.pending.is_none());
        assert!(w.expires_at.unwrap() > Utc::now() + chrono::Duration::minutes(50));
        // No secret of the fake's reaches the window model.
        let json = serde_json::to_string(&w).unwrap();
        for secret in env.fake.issued_secrets() {
            assert!(
                !json.contains(&secret),
                "a token leaked into the window model"
            );
        }

        let bars = usage(&env.state).await.unwrap();
        assert_eq!(
            bars.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(),
            ["5-hour limit", "Weekly limit", "gpt-6-2-sol: 5-hour limit"],
            "the plan's windows, then the per-model limit"
        );
        // The window shows their effective remaining as soon as the usage was asked for.
        let w = status(&env.state).await;
        assert_eq!(w.usage.len(), 3);
        assert!(
            w.remaining
                .as_deref()
                .is_some_and(|r| r.starts_with("60% left (weekly window")),
            "{:?}",
            w.remaining
        );
        assert_eq!(bars[0].used_percent, 12.0);

        let out = sign_out(&env.state).await.unwrap();
        assert!(out.was_signed_in);
        assert!(out.revoked);
        assert!(!status(&env.state).await.signed_in);
        let err = usage(&env.state).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::SignIn);
    }

    #[tokio::test]
    async fn device_sign_in_gives_the_code_and_can_be_cancelled() {
        let cfg = FakeConfig {
            device_auto_approve_after: 0,
            ..FakeConfig::default()
        };
        let env = env(cfg).await;
        let (f, rx) = on_end();
        let started = signin::start_device(&env.state.hub, &env.state.flows, f)
            .await
            .unwrap();
        assert!(!started.user_code.is_empty());
        assert!(started.verification_url.ends_with("/codex/device"));
        let w = status(&env.state).await;
        assert_eq!(
            w.pending.unwrap().user_code.as_deref(),
            Some(started.user_code.as_str())
        );

        assert!(env.state.flows.cancel());
        let end = ended(rx).await;
        assert!(!end.ok);
        assert_eq!(end.error.unwrap().kind, ErrorKind::Cancelled);
        let w = status(&env.state).await;
        assert!(w.pending.is_none());
        assert!(!w.signed_in);
        assert_eq!(w.last_error, None, "a cancel is not an error");
        assert!(!env.state.flows.cancel(), "nothing left to cancel");
    }

    #[tokio::test]
    async fn an_approved_device_code_signs_in() {
        let cfg = FakeConfig {
            device_auto_approve_after: 0,
            ..FakeConfig::default()
        };
        let env = env(cfg).await;
        let (f, rx) = on_end();
        let started = signin::start_device(&env.state.hub, &env.state.flows, f)
            .await
            .unwrap();
        assert!(env.fake.approve_device(&started.user_code));
        let end = ended(rx).await;
        assert!(end.ok, "{end:?}");
        assert!(status(&env.state).await.signed_in);
    }

    #[tokio::test]
    async fn a_refused_sign_in_is_recorded_as_the_last_error() {
        let env = env(FakeConfig::default()).await;
        let (f, rx) = on_end();
        let started = signin::start_browser(&env.state.hub, &env.state.flows, f)
            .await
            .unwrap();
        // The browser comes back with an error instead of a code.
        let state = url::Url::parse(&started.url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let redirect = url::Url::parse(&started.url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1
            .into_owned();
        let _ = reqwest::get(format!(
            "{redirect}?error=access_denied&error_description=nope&state={state}"
        ))
        .await
        .unwrap();
        let end = ended(rx).await;
        assert!(!end.ok);
        let w = status(&env.state).await;
        assert!(w.last_error.unwrap().starts_with("sign-in failed:"));
        assert!(w.pending.is_none());
        assert_eq!(w.icon, crate::model::IconState::Attention);
    }

    #[tokio::test]
    async fn a_second_sign_in_cancels_the_first() {
        let env = env(FakeConfig::default()).await;
        let (f1, rx1) = on_end();
        let first = signin::start_browser(&env.state.hub, &env.state.flows, f1)
            .await
            .unwrap();
        let (f2, _rx2) = on_end();
        let second = signin::start_browser(&env.state.hub, &env.state.flows, f2)
            .await
            .unwrap();
        assert_eq!(ended(rx1).await.error.unwrap().kind, ErrorKind::Cancelled);
        assert!(!env.state.flows.is_flow_url(&first.url));
        assert!(env.state.flows.is_flow_url(&second.url));
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
        let started = signin::start_browser(&env.state.hub, &env.state.flows, f)
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
        env.state.flows.cancel();
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
    async fn signing_out_when_signed_out_says_so() {
        let env = env(FakeConfig::default()).await;
        let out = sign_out(&env.state).await.unwrap();
        assert!(!out.was_signed_in);
    }
}
