//! The window's commands. Each is a few lines: call core (through the hub or a flow) once, shape
//! the answer, return [`CommandError`] on failure. Commands about an account take an optional
//! `profile`; without one they act on the default account. The `#[tauri::command]` wrappers only
//! fetch the managed state; the work is in plain functions that the tests call.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Local, Utc};
use codex_oauth_core::accounts::{set_default, settings_of};
use codex_oauth_core::config::{DEFAULT_PROFILE, validate_profile};
use serde::Serialize;
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::error::CommandError;
use crate::hub::Hub;
use crate::model::{WindowModel, window_model};
use crate::signin::{self, BrowserStarted, DeviceStarted, Pasted, SignInEnded};
use crate::usage::{UsageBar, usage_bars};

/// The app's state, managed by Tauri.
pub struct AppState {
    pub hub: Arc<Hub>,
    /// Profiles made by "Add account…" whose first sign-in has not succeeded yet: a cancelled
    /// one leaves no empty profile behind.
    added: Mutex<BTreeSet<String>>,
    /// The menu asked for "Add account…" before the window could be told.
    want_add: AtomicBool,
    /// `CODEX_OAUTH_PROFILE` chose the profile for this process (then the MCP config names it).
    profile_from_env: bool,
}

impl AppState {
    pub fn new(hub: Arc<Hub>, profile_from_env: bool) -> Self {
        Self {
            hub,
            added: Mutex::new(BTreeSet::new()),
            want_add: AtomicBool::new(false),
            profile_from_env,
        }
    }

    fn added(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.added
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Remember that the window should show "Add account…" (the menu asked for it).
    pub fn ask_to_add(&self) {
        self.want_add.store(true, Ordering::SeqCst);
    }

    /// Whether "Add account…" was asked for since the window last looked (and forget it).
    pub fn take_add_request(&self) -> bool {
        self.want_add.swap(false, Ordering::SeqCst)
    }

    /// Cancel every sign-in of the app (Quit).
    pub fn cancel_all(&self) {
        for a in self.hub.opened() {
            a.flows.cancel();
        }
    }
}

/// Event names the window listens to.
pub const EVENT_STATUS: &str = "status";
pub const EVENT_SIGNIN_ENDED: &str = "signin-ended";
/// The menu's "Add account…": the window shows the name field.
pub const EVENT_ADD_ACCOUNT: &str = "add-account";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SignedOut {
    pub profile: String,
    pub was_signed_in: bool,
    /// The server was told (revoke); false means only the local copy is gone.
    pub revoked: bool,
}

/// Whether `profile` is an account now: listed, or found when the store is looked at again (a
/// change the watcher has not reported yet).
async fn exists(state: &AppState, profile: &str) -> bool {
    state.hub.is_listed(profile) || state.hub.rescan().await.account(profile).is_some()
}

/// The profile a command is about: the one named (it must be one of the accounts), or the
/// default.
pub async fn target(state: &AppState, profile: Option<&str>) -> Result<String, CommandError> {
    let Some(name) = profile else {
        return Ok(state.hub.default_profile());
    };
    validate_profile(name).map_err(CommandError::invalid)?;
    if exists(state, name).await {
        Ok(name.to_owned())
    } else {
        Err(CommandError::invalid(format!(
            "there is no profile `{name}`; add it with \"Add account…\""
        )))
    }
}

/// A name for a new account's profile: valid, and not one of the accounts already.
pub async fn new_profile(state: &AppState, name: &str) -> Result<String, CommandError> {
    let name = name.trim();
    validate_profile(name).map_err(CommandError::invalid)?;
    if exists(state, name).await {
        return Err(CommandError::invalid(format!(
            "there is already a profile `{name}`: choose another name, or sign in from its card"
        )));
    }
    Ok(name.to_owned())
}

/// The profile a sign-in is for: `add` asks for a new one (`profile` is its name), else the one
/// named or the default.
async fn sign_in_target(
    state: &AppState,
    profile: Option<&str>,
    add: bool,
) -> Result<String, CommandError> {
    if !add {
        return target(state, profile).await;
    }
    let name = new_profile(state, profile.unwrap_or_default()).await?;
    state.added().insert(name.clone());
    Ok(name)
}

pub async fn status(state: &AppState) -> WindowModel {
    let snap = state.hub.rescan().await;
    window_model(&snap, Utc::now(), &Local)
}

pub async fn sign_in_browser_in(
    state: &AppState,
    profile: Option<&str>,
    add: bool,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> Result<BrowserStarted, CommandError> {
    let profile = sign_in_target(state, profile, add).await?;
    signin::start_browser(&state.hub, &profile, on_end).await
}

pub async fn sign_in_device_in(
    state: &AppState,
    profile: Option<&str>,
    add: bool,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> Result<DeviceStarted, CommandError> {
    let profile = sign_in_target(state, profile, add).await?;
    signin::start_device(&state.hub, &profile, on_end).await
}

/// The end of a sign-in, as the app sees it: a profile that "Add account…" made is kept only when
/// its sign-in succeeded there; a failed one leaves no empty profile behind. (A cancelled one
/// ended by [`cancel_sign_in_of`] is removed there; one replaced by a new sign-in goes on.)
pub async fn sign_in_ended(state: &AppState, end: &SignInEnded) {
    let cancelled = end
        .error
        .as_ref()
        .is_some_and(|e| e.kind == crate::error::ErrorKind::Cancelled);
    if !end.ok && cancelled {
        return;
    }
    let was_added = state.added().remove(&end.profile);
    if !end.ok && was_added {
        discard_if_empty(state, &end.profile).await;
    }
}

/// Remove a profile folder that holds no sign-in and is not the default, then list the
/// accounts again.
async fn discard_if_empty(state: &AppState, profile: &str) {
    if profile == state.hub.default_profile() {
        return;
    }
    let snap = state.hub.reload(profile).await;
    let Some(a) = snap.account(profile) else {
        return;
    };
    if a.status.signed_in || a.status.unreadable || a.status.pending_login.is_some() {
        return;
    }
    let dir = settings_of(state.hub.base(), profile).profile_dir();
    let holds_more = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            !matches!(
                e.file_name().to_str(),
                Some(crate::watch::STATE_FILE | "lock")
            )
        });
    if holds_more {
        return;
    }
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        tracing::warn!(error = %e, %profile, "cannot remove the folder of an account that was not added");
    }
    state.hub.rescan().await;
}

/// Cancel the sign-in of `profile` (any of the app's when none is named); a profile that
/// "Add account…" made for it is removed again.
pub async fn cancel_sign_in_of(state: &AppState, profile: Option<&str>) -> bool {
    let accounts = match profile {
        Some(p) => state.hub.account(p).into_iter().collect(),
        None => state.hub.opened(),
    };
    let mut cancelled = false;
    for a in &accounts {
        cancelled |= a.flows.cancel_and_wait().await;
    }
    let added: Vec<String> = {
        let mut added = state.added();
        let gone: Vec<String> = added
            .iter()
            .filter(|p| profile.is_none_or(|want| want == p.as_str()))
            .cloned()
            .collect();
        for p in &gone {
            added.remove(p);
        }
        gone
    };
    for p in added {
        discard_if_empty(state, &p).await;
    }
    cancelled
}

pub async fn paste_redirect(
    state: &AppState,
    profile: Option<&str>,
    pasted: &str,
) -> Result<Pasted, CommandError> {
    // The paste goes to the browser sign-in it came from: the one named, or the one running.
    let profile = match profile {
        Some(p) => target(state, Some(p)).await?,
        None => signin::running_profile(&state.hub).unwrap_or_else(|| state.hub.default_profile()),
    };
    signin::paste(&state.hub, &profile, pasted).await
}

pub async fn sign_out(state: &AppState, profile: Option<&str>) -> Result<SignedOut, CommandError> {
    let profile = target(state, profile).await?;
    let account = state.hub.account(&profile)?;
    account.flows.cancel();
    let out = account.session.sign_out().await;
    state.hub.reload(&profile).await;
    let out = out?;
    Ok(SignedOut {
        profile,
        was_signed_in: out.was_signed_in,
        revoked: out.revoked,
    })
}

/// Make `profile` the default account: `profile` in config.toml, as `codex-mcp-bridge use` does.
pub async fn make_default(state: &AppState, profile: &str) -> Result<WindowModel, CommandError> {
    let profile = target(state, Some(profile)).await?;
    set_default(state.hub.base(), &profile)?;
    let now = state.hub.load_default()?;
    if now != profile {
        return Err(CommandError::invalid(format!(
            "config.toml now names profile {profile}, but CODEX_OAUTH_PROFILE={now} is set for this app and wins over it; start the app without it"
        )));
    }
    let snap = state.hub.rescan().await;
    Ok(window_model(&snap, Utc::now(), &Local))
}

/// The plan's usage windows of an account, asked of the backend now (core also records them in
/// state.json).
pub async fn usage(state: &AppState, profile: Option<&str>) -> Result<Vec<UsageBar>, CommandError> {
    let profile = target(state, profile).await?;
    let account = state.hub.account(&profile)?;
    let client = account
        .codex
        .as_ref()
        .ok_or_else(|| CommandError::failed("the Codex client could not be created"))?;
    let usage = client.usage().await?;
    // core has put the windows in state.json: show their effective remaining now, without
    // waiting for the file watcher.
    state.hub.reload(&profile).await;
    Ok(usage_bars(&usage.rate_limits))
}

/// The MCP config for Claude Code, given to `copy` (the clipboard); returns it too. The bridge
/// it starts follows the default account (config.toml), unless this app was started with
/// `CODEX_OAUTH_PROFILE`, which it then passes on.
pub fn copy_mcp_config(
    state: &AppState,
    copy: impl FnOnce(&str) -> Result<(), String>,
) -> Result<String, CommandError> {
    use codex_oauth_core::mcp_config::{bridge_beside, mcp_json, server_env};
    let base = state.hub.base();
    let settings = if state.profile_from_env {
        base.clone()
    } else {
        settings_of(base, DEFAULT_PROFILE)
    };
    let exe = std::env::current_exe().ok();
    let config = mcp_json(&bridge_beside(exe.as_deref()), &server_env(&settings));
    copy(&config)
        .map_err(|e| CommandError::failed(format!("cannot copy to the clipboard: {e}")))?;
    Ok(config)
}

/// Open the URL of a running sign-in in the browser; no other URL.
pub fn open_url(
    state: &AppState,
    url: &str,
    open: impl FnOnce(&str) -> std::io::Result<()>,
) -> Result<(), CommandError> {
    if !state.hub.opened().iter().any(|a| a.flows.is_flow_url(url)) {
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

/// What the app does when a sign-in of the window ends: forget an empty added profile, then
/// tell the window.
fn ended(app: AppHandle) -> impl FnOnce(SignInEnded) + Send + 'static {
    move |e| {
        tauri::async_runtime::spawn(async move {
            if let Some(state) = tauri::Manager::try_state::<AppState>(&app) {
                sign_in_ended(&state, &e).await;
            }
            if let Err(err) = app.emit(EVENT_SIGNIN_ENDED, e) {
                tracing::warn!(error = %err, "could not tell the window that the sign-in ended");
            }
        });
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
pub async fn get_usage(
    state: State<'_, AppState>,
    profile: Option<String>,
) -> Result<Vec<UsageBar>, CommandError> {
    usage(&state, profile.as_deref()).await
}

#[tauri::command]
pub async fn sign_in_browser(
    app: AppHandle,
    state: State<'_, AppState>,
    profile: Option<String>,
    add: Option<bool>,
) -> Result<BrowserStarted, CommandError> {
    sign_in_browser_in(&state, profile.as_deref(), add == Some(true), ended(app)).await
}

#[tauri::command]
pub async fn sign_in_device(
    app: AppHandle,
    state: State<'_, AppState>,
    profile: Option<String>,
    add: Option<bool>,
) -> Result<DeviceStarted, CommandError> {
    sign_in_device_in(&state, profile.as_deref(), add == Some(true), ended(app)).await
}

#[tauri::command]
pub async fn paste_sign_in(
    state: State<'_, AppState>,
    profile: Option<String>,
    url: String,
) -> Result<Pasted, CommandError> {
    paste_redirect(&state, profile.as_deref(), &url).await
}

#[tauri::command]
pub async fn cancel_sign_in(
    state: State<'_, AppState>,
    profile: Option<String>,
) -> Result<bool, CommandError> {
    Ok(cancel_sign_in_of(&state, profile.as_deref()).await)
}

#[tauri::command]
pub async fn sign_out_account(
    state: State<'_, AppState>,
    profile: Option<String>,
) -> Result<SignedOut, CommandError> {
    sign_out(&state, profile.as_deref()).await
}

#[tauri::command]
pub async fn make_default_account(
    state: State<'_, AppState>,
    profile: String,
) -> Result<WindowModel, CommandError> {
    make_default(&state, &profile).await
}

#[tauri::command]
pub fn take_add_request(state: State<'_, AppState>) -> bool {
    state.take_add_request()
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

    use codex_oauth_core::Settings;
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
        let hub = Hub::new(
            settings,
            Box::new(move || Settings::from_env(&vars).map(|s| s.profile)),
        )
        .await
        .unwrap();
        Env {
            fake,
            state: AppState::new(hub, false),
            home,
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
        let cfg = FakeConfig {
            device_auto_approve_after: 0,
            ..FakeConfig::default()
        };
        let env = env(cfg).await;
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
        let cfg = FakeConfig {
            device_auto_approve_after: 0,
            ..FakeConfig::default()
        };
        let env = env(cfg).await;
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
        // Too late: that sign-in has ended.
        let err = paste_redirect(&env.state, None, &final_url)
            .await
            .unwrap_err();
        assert!(
            err.message.contains("ended") || err.message.contains("no browser sign-in"),
            "{}",
            err.message
        );
    }
}
