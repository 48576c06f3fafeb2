//! Sign-in from the app: start a browser or device-code flow of core, record it as pending in
//! state.json (so the tray, the window and other processes see it), finish it in the background,
//! and let one cancel it. At most one flow of this app at a time: a new one cancels the old.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use codex_oauth_core::oauth::{BrowserLoginOptions, SignInCancel, SignInResult};
use serde::Serialize;

use crate::error::CommandError;
use crate::hub::Hub;

struct Active {
    id: u64,
    cancel: SignInCancel,
    /// The URL the user may open (authorize URL or device page): the only one `open_url` opens.
    url: String,
}

/// The sign-in flows of this app (managed state).
#[derive(Default)]
pub struct Flows {
    next: AtomicU64,
    active: Mutex<Option<Active>>,
}

impl Flows {
    fn begin(&self, cancel: SignInCancel, url: String) -> u64 {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(mut a) = self.active.lock()
            && let Some(old) = a.replace(Active { id, cancel, url })
        {
            old.cancel.cancel();
        }
        id
    }

    fn end(&self, id: u64) {
        if let Ok(mut a) = self.active.lock()
            && a.as_ref().is_some_and(|a| a.id == id)
        {
            *a = None;
        }
    }

    /// Cancel the running flow; false when there was none.
    pub fn cancel(&self) -> bool {
        match self.active.lock().ok().and_then(|mut a| a.take()) {
            Some(a) => {
                a.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Whether `url` is the one the running flow asks the user to open.
    pub fn is_flow_url(&self, url: &str) -> bool {
        self.active
            .lock()
            .is_ok_and(|a| a.as_ref().is_some_and(|a| a.url == url))
    }
}

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

/// Wait for the flow in the background; record a failure for people to see; tell `on_end`.
fn finish<F>(
    hub: Arc<Hub>,
    flows: Arc<Flows>,
    id: u64,
    wait: F,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) where
    F: std::future::Future<Output = codex_oauth_core::Result<SignInResult>> + Send + 'static,
{
    tokio::spawn(async move {
        let result = wait.await;
        flows.end(id);
        hub.session().end_sign_in(&result).await;
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
    });
}

/// Start the browser sign-in: the callback server listens, the browser opens (unless it cannot).
pub async fn start_browser(
    hub: &Arc<Hub>,
    flows: &Arc<Flows>,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> Result<BrowserStarted, CommandError> {
    let session = hub.session();
    let opts = BrowserLoginOptions::from_settings(session.settings());
    // Free the callback port of an earlier flow of ours first.
    flows.cancel();
    let (login, pending) = session.start_browser_sign_in(opts).await?;
    let started = BrowserStarted {
        url: pending.url.clone(),
        browser_opened: login.browser_opened(),
    };
    let id = flows.begin(login.cancel_handle().into(), pending.url);
    finish(Arc::clone(hub), Arc::clone(flows), id, login.wait(), on_end);
    Ok(started)
}

/// Start the device-code sign-in: returns the code and the page to type it on.
pub async fn start_device(
    hub: &Arc<Hub>,
    flows: &Arc<Flows>,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> Result<DeviceStarted, CommandError> {
    let session = hub.session();
    flows.cancel();
    let (login, pending) = session.start_device_sign_in().await?;
    let started = DeviceStarted {
        user_code: login.user_code().to_string(),
        verification_url: pending.url.clone(),
        expires_at: pending.expires_at,
    };
    let id = flows.begin(login.cancel_handle().into(), pending.url);
    finish(Arc::clone(hub), Arc::clone(flows), id, login.wait(), on_end);
    Ok(started)
}
