//! `codex_login`: core's one sign-in at a time, in the bridge's way: asking again while one is
//! pending returns the pending one (a model that calls twice must not break the link it gave).

use std::sync::Arc;

use codex_oauth_core::oauth::SignInResult;
use codex_oauth_core::signin::{Again, SignIns, Started};
use codex_oauth_core::store::SignInMethod;
use codex_oauth_core::{Result, Session};

use super::args::LoginMethod;

pub struct Logins(SignIns);

impl Logins {
    pub fn new(session: Arc<Session>) -> Self {
        Self(SignIns::new(session))
    }

    /// Start a sign-in, or return the one pending in this process.
    pub async fn start(&self, method: LoginMethod) -> Result<Started> {
        let method = match method {
            LoginMethod::Browser => SignInMethod::Browser,
            LoginMethod::Device => SignInMethod::Device,
        };
        self.0.start(method, Again::Reuse, None).await
    }

    /// Complete the browser sign-in pending in this process with its pasted final redirect.
    pub async fn paste(&self, redirect_url: &str) -> Result<SignInResult> {
        self.0.paste(redirect_url).await
    }

    /// Cancel the sign-in pending in this process, if any (sign-out, shutdown).
    pub async fn cancel(&self) -> bool {
        self.0.cancel_and_wait().await
    }
}
