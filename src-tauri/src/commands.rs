//! The window's commands. Each is a few lines: call core (through the hub or a flow) once, shape
//! the answer, return [`CommandError`] on failure. Commands about an account take an optional
//! `profile`; without one they act on the default account. The `#[tauri::command]` wrappers only
//! fetch the managed state; the work is in plain functions that the tests call.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Local, Utc};
use codex_oauth_core::accounts::{place_sign_in, set_default, settings_of, workspace_name};
use codex_oauth_core::app::DefaultFrom;
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
}

impl AppState {
    pub fn new(hub: Arc<Hub>) -> Self {
        Self {
            hub,
            added: Mutex::new(BTreeSet::new()),
            want_add: AtomicBool::new(false),
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
    let Ok(account) = state.hub.account(profile) else {
        return;
    };
    match account.session.store().remove_if_empty() {
        Ok(true) => {}
        // It holds more than an empty sign-in (a conversation, a cache): it stays.
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, %profile, "cannot remove the folder of an account that was not added")
        }
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
    let usage = account.codex.usage().await?;
    // core has put the windows in state.json: show their effective remaining now, without
    // waiting for the file watcher.
    state.hub.reload(&profile).await;
    Ok(usage_bars(&usage.rate_limits))
}

/// A workspace an account's sign-in can use, for the window's picker.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WorkspaceChoice {
    /// Its account id (what `choose_workspace` takes).
    pub id: String,
    /// Its name ("Acme"), "Personal" for the user's own, else its id (the card shows the id
    /// beside it).
    pub label: String,
    /// The profile uses this one now.
    pub current: bool,
}

/// The workspaces an account's sign-in can use, asked of `accounts/check` now (an API key has
/// none), the one the profile uses marked.
pub async fn workspaces(
    state: &AppState,
    profile: Option<&str>,
) -> Result<Vec<WorkspaceChoice>, CommandError> {
    let profile = target(state, profile).await?;
    let account = state.hub.account(&profile)?;
    let list = account.codex.workspaces().await?;
    let snap = state.hub.current();
    let current = snap
        .account(&profile)
        .and_then(|a| a.status.account_id.clone());
    Ok(list
        .iter()
        .map(|w| WorkspaceChoice {
            id: w.account_id.clone(),
            label: workspace_name(w),
            current: current.as_deref() == Some(w.account_id.as_str()),
        })
        .collect())
}

/// Switch an account to another workspace of its sign-in (checked against `accounts/check`).
/// When another profile already holds that workspace, the sign-in moves there, as after a
/// sign-in (core's `place_sign_in`).
pub async fn choose_workspace(
    state: &AppState,
    profile: Option<&str>,
    workspace: &str,
) -> Result<WindowModel, CommandError> {
    let profile = target(state, profile).await?;
    let account = state.hub.account(&profile)?;
    place_sign_in(&account.session, Some(workspace), None).await?;
    let snap = state.hub.rescan().await;
    Ok(window_model(&snap, Utc::now(), &Local))
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
    // `CODEX_OAUTH_PROFILE` chose the profile for this process: the MCP config names it too.
    let from_env = state.hub.registry().default_from() == DefaultFrom::Environment;
    let settings = if from_env {
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
pub async fn get_workspaces(
    state: State<'_, AppState>,
    profile: Option<String>,
) -> Result<Vec<WorkspaceChoice>, CommandError> {
    workspaces(&state, profile.as_deref()).await
}

#[tauri::command]
pub async fn use_workspace(
    state: State<'_, AppState>,
    profile: Option<String>,
    workspace: String,
) -> Result<WindowModel, CommandError> {
    choose_workspace(&state, profile.as_deref(), &workspace).await
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
mod tests;
