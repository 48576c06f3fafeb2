//! `codex_login`: start a sign-in, answer at once with what the user must open, and finish it
//! in the background in this process. One sign-in at a time: asking again while one is pending
//! returns the pending one.

use std::sync::Arc;

use chrono::Utc;
use codex_oauth_core::oauth::{
    BrowserLogin, BrowserLoginOptions, CancelHandle, DEVICE_LOGIN_TIMEOUT, DeviceCancel,
    DeviceLogin, SignInResult,
};
use codex_oauth_core::store::PendingLogin;
use codex_oauth_core::{Error, Result, Session};
use tokio::task::JoinHandle;

use super::args::LoginMethod;

enum Cancel {
    Browser(CancelHandle),
    Device(DeviceCancel),
}

impl Cancel {
    fn cancel(&self) {
        match self {
            Cancel::Browser(c) => c.cancel(),
            Cancel::Device(c) => c.cancel(),
        }
    }
}

struct Pending {
    info: PendingLogin,
    browser_opened: bool,
    cancel: Cancel,
    task: JoinHandle<()>,
}

/// What `codex_login` started (or found pending).
#[derive(Debug, Clone)]
pub struct Started {
    pub info: PendingLogin,
    pub browser_opened: bool,
    /// False when an earlier pending sign-in was returned.
    pub new: bool,
}

pub struct Logins {
    session: Arc<Session>,
    slot: tokio::sync::Mutex<Option<Pending>>,
}

impl Logins {
    pub fn new(session: Arc<Session>) -> Self {
        Self {
            session,
            slot: tokio::sync::Mutex::new(None),
        }
    }

    /// Start a sign-in, or return the one pending in this process.
    pub async fn start(&self, method: LoginMethod) -> Result<Started> {
        let mut slot = self.slot.lock().await;
        if let Some(p) = slot.as_ref()
            && !p.task.is_finished()
            && p.info.expires_at > Utc::now()
        {
            return Ok(Started {
                info: p.info.clone(),
                browser_opened: p.browser_opened,
                new: false,
            });
        }
        let session = &self.session;
        let pending = match method {
            LoginMethod::Browser => {
                let opts = BrowserLoginOptions::from_settings(session.settings());
                let login =
                    BrowserLogin::start(session.oauth().clone(), session.completer(), opts.clone())
                        .await?;
                let info = pending_info("browser", login.auth_url().as_str(), None, opts.timeout);
                let browser_opened = login.browser_opened();
                let cancel = Cancel::Browser(login.cancel_handle());
                let task = tokio::spawn(finish(Arc::clone(session), login.wait()));
                Pending {
                    info,
                    browser_opened,
                    cancel,
                    task,
                }
            }
            LoginMethod::Device => {
                let login = DeviceLogin::start(
                    session.oauth().clone(),
                    session.completer(),
                    DEVICE_LOGIN_TIMEOUT,
                    false,
                )
                .await?;
                let info = pending_info(
                    "device",
                    login.verification_url().as_str(),
                    Some(login.user_code().to_owned()),
                    DEVICE_LOGIN_TIMEOUT,
                );
                let cancel = Cancel::Device(login.cancel_handle());
                let task = tokio::spawn(finish(Arc::clone(session), login.wait()));
                Pending {
                    info,
                    browser_opened: false,
                    cancel,
                    task,
                }
            }
        };
        if let Err(e) = session.set_pending_login(Some(pending.info.clone())).await {
            tracing::warn!(error = %e, "cannot record the pending sign-in in state.json");
        }
        tracing::info!(method = %pending.info.method, "sign-in started; it completes in the background");
        let started = Started {
            info: pending.info.clone(),
            browser_opened: pending.browser_opened,
            new: true,
        };
        // A finished or expired earlier attempt is simply replaced.
        if let Some(old) = slot.replace(pending) {
            old.cancel.cancel();
        }
        Ok(started)
    }

    /// Cancel the sign-in pending in this process, if any (sign-out, shutdown).
    pub async fn cancel(&self) -> bool {
        let Some(p) = self.slot.lock().await.take() else {
            return false;
        };
        let was_pending = !p.task.is_finished();
        p.cancel.cancel();
        // The flow notices the cancel at once; do not hang on it.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), p.task).await;
        was_pending
    }
}

fn pending_info(
    method: &str,
    url: &str,
    user_code: Option<String>,
    ttl: std::time::Duration,
) -> PendingLogin {
    let now = Utc::now();
    PendingLogin {
        method: method.into(),
        url: url.into(),
        user_code,
        started_at: now,
        expires_at: now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(15)),
        pid: std::process::id(),
    }
}

/// Wait for the flow; on failure clear the pending state and record why (not for a cancel).
async fn finish(
    session: Arc<Session>,
    flow: impl std::future::Future<Output = Result<SignInResult>>,
) {
    match flow.await {
        Ok(r) => {
            tracing::info!(plan = ?r.plan, backend = r.saved.backend.as_str(), "signed in");
        }
        Err(e) => {
            tracing::warn!(error = %e, "sign-in did not complete");
            let _ = session.set_pending_login(None).await;
            if !matches!(e, Error::LoginCancelled) {
                let _ = session.record_error(format!("sign-in failed: {e}")).await;
            }
        }
    }
}
