//! `codex_login`: start a sign-in, answer at once with what the user must open, and finish it
//! in the background in this process. One sign-in at a time: asking again while one is pending
//! returns the pending one.

use std::sync::Arc;

use chrono::Utc;
use codex_oauth_core::oauth::{BrowserLoginOptions, SignInCancel};
use codex_oauth_core::store::PendingLogin;
use codex_oauth_core::{Result, Session};
use tokio::task::JoinHandle;

use super::args::LoginMethod;

struct Pending {
    info: PendingLogin,
    browser_opened: bool,
    cancel: SignInCancel,
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
                let (login, info) = session.start_browser_sign_in(opts).await?;
                Pending {
                    info,
                    browser_opened: login.browser_opened(),
                    cancel: login.cancel_handle().into(),
                    task: background(Arc::clone(session), login.wait()),
                }
            }
            LoginMethod::Device => {
                let (login, info) = session.start_device_sign_in().await?;
                Pending {
                    info,
                    browser_opened: false,
                    cancel: login.cancel_handle().into(),
                    task: background(Arc::clone(session), login.wait()),
                }
            }
        };
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

/// Wait for the flow in the background; the session records how it ended.
fn background(
    session: Arc<Session>,
    flow: impl std::future::Future<Output = Result<codex_oauth_core::oauth::SignInResult>>
    + Send
    + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let result = flow.await;
        if let Ok(r) = &result {
            tracing::info!(plan = ?r.plan, backend = r.saved.backend.as_str(), "signed in");
        }
        session.end_sign_in(&result).await;
    })
}
