//! Sign-in from the app: start a browser or device-code flow of core, record it as pending in
//! state.json (so the tray, the window and other processes see it), finish it in the background,
//! and let one cancel it: core's one sign-in at a time ([`SignIns`]), where a new one replaces the old.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use codex_oauth_core::oauth::SignInResult;
use codex_oauth_core::signin::{Again, OnEnd, SignIns, Started};
use codex_oauth_core::store::SignInMethod;
use serde::Serialize;

use crate::error::CommandError;
use crate::hub::Hub;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BrowserStarted {
    pub url: String,
    /// False when the browser could not be opened (or opening is off): show the URL.
    pub browser_opened: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeviceStarted {
    pub user_code: String,
    pub verification_url: String,
    pub expires_at: DateTime<Utc>,
}

/// How a flow ended (event `signin-ended`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SignInEnded {
    pub ok: bool,
    pub email: Option<String>,
    pub error: Option<CommandError>,
}

/// After core has recorded the end: reload the hub, then tell `on_end`.
fn ended(hub: Arc<Hub>, on_end: impl FnOnce(SignInEnded) + Send + 'static) -> OnEnd {
    Box::new(move |result: codex_oauth_core::Result<SignInResult>| {
        Box::pin(async move {
            let ended = match result {
                Ok(r) => SignInEnded {
                    ok: true,
                    email: r.email,
                    error: None,
                },
                Err(e) => SignInEnded {
                    ok: false,
                    email: None,
                    error: Some(CommandError::from(e)),
                },
            };
            hub.reload().await;
            on_end(ended);
        })
    })
}

/// Start a sign-in of this app; one running already is cancelled first (its port freed).
async fn start(
    hub: &Arc<Hub>,
    flows: &SignIns,
    method: SignInMethod,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> Result<Started, CommandError> {
    let end = ended(Arc::clone(hub), on_end);
    Ok(flows.start(method, Again::Replace, Some(end)).await?)
}

/// Start the browser sign-in: the callback server listens, the browser opens (unless it cannot).
pub async fn start_browser(
    hub: &Arc<Hub>,
    flows: &SignIns,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> Result<BrowserStarted, CommandError> {
    let s = start(hub, flows, SignInMethod::Browser, on_end).await?;
    Ok(BrowserStarted {
        url: s.info.url,
        browser_opened: s.browser_opened,
    })
}

/// Start the device-code sign-in: returns the code and the page to type it on.
pub async fn start_device(
    hub: &Arc<Hub>,
    flows: &SignIns,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> Result<DeviceStarted, CommandError> {
    let s = start(hub, flows, SignInMethod::Device, on_end).await?;
    Ok(DeviceStarted {
        user_code: s.info.user_code.unwrap_or_default(),
        verification_url: s.info.url,
        expires_at: s.info.expires_at,
    })
}
