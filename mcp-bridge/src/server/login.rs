//! `codex_login`: core's one sign-in at a time per account, in the bridge's way: asking again
//! while one is pending returns the pending one (a model that calls twice must not break the
//! link it gave). When a sign-in ends, it is placed: the workspace asked for, and one account is
//! one profile (a sign-in of an account another profile holds goes there).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use codex_oauth_core::oauth::SignInResult;
use codex_oauth_core::signin::{Again, OnEnd, SignIns, Started};
use codex_oauth_core::store::SignInMethod;
use codex_oauth_core::{Result, Session, accounts};

use super::args::LoginMethod;

/// The sign-ins of this bridge, one slot per account (profile).
#[derive(Default)]
pub struct Logins {
    by_profile: Mutex<HashMap<String, Arc<SignIns>>>,
}

impl Logins {
    pub fn new() -> Self {
        Self::default()
    }

    /// The sign-ins of `session`'s profile (made on first use).
    pub fn of(&self, session: &Arc<Session>) -> Arc<SignIns> {
        let mut map = self
            .by_profile
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(
            map.entry(session.settings().profile.clone())
                .or_insert_with(|| Arc::new(SignIns::new(Arc::clone(session)))),
        )
    }

    /// The sign-ins of `profile`, if this bridge started one there.
    fn existing(&self, profile: &str) -> Option<Arc<SignIns>> {
        self.by_profile
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(profile)
            .cloned()
    }

    /// Start a sign-in to `session`'s profile (for `workspace` when given), or return the one
    /// pending there.
    pub async fn start(
        &self,
        session: &Arc<Session>,
        method: LoginMethod,
        workspace: Option<String>,
    ) -> Result<(Started, Arc<SignIns>)> {
        let method = match method {
            LoginMethod::Browser => SignInMethod::Browser,
            LoginMethod::Device => SignInMethod::Device,
        };
        let sign_ins = self.of(session);
        let started = sign_ins
            .start_for(
                method,
                Again::Reuse,
                Some(place(Arc::clone(session), workspace.clone())),
                workspace,
            )
            .await?;
        Ok((started, sign_ins))
    }

    /// Complete the browser sign-in pending in `session`'s profile with its pasted final
    /// redirect.
    pub async fn paste(&self, session: &Arc<Session>, redirect_url: &str) -> Result<SignInResult> {
        self.of(session).paste(redirect_url).await
    }

    /// Cancel the sign-in pending in `profile` (or in every profile), if any.
    pub async fn cancel(&self, profile: Option<&str>) -> bool {
        let all: Vec<Arc<SignIns>> = match profile {
            Some(p) => self.existing(p).into_iter().collect(),
            None => self
                .by_profile
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .values()
                .cloned()
                .collect(),
        };
        let mut any = false;
        for s in all {
            any |= s.cancel_and_wait().await;
        }
        any
    }
}

/// After a sign-in that worked: the workspace asked for, then one account, one profile. What
/// goes wrong is kept as the profile's last error (codex_status shows it).
fn place(session: Arc<Session>, workspace: Option<String>) -> OnEnd {
    Box::new(move |result| {
        Box::pin(async move {
            if result.is_err() {
                return;
            }
            match accounts::place_sign_in(&session, workspace.as_deref(), None).await {
                Ok(p) if p.merged => tracing::info!(
                    profile = %p.profile,
                    "the sign-in went to the profile that already held this account"
                ),
                Ok(_) => {}
                Err(e) => {
                    let message = format!(
                        "signed in, but {e}; the sign-in uses its default workspace (call codex_login with another `workspace` to change it)"
                    );
                    if let Err(e) = session.record_error(e.kind(), message).await {
                        tracing::warn!(error = %e, "cannot record how the sign-in was placed");
                    }
                }
            }
        })
    })
}
