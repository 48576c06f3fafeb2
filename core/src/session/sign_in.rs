//! Signing in and out: saving a finished sign-in, the pending sign-in record of a flow in
//! progress, how a flow ended, and sign-out with revocation.

use std::sync::Arc;

use super::{Session, SignOut};
use crate::error::{Error, ErrorKind, Result};
use crate::model::Workspace;
use crate::oauth::{
    BrowserLogin, BrowserLoginOptions, Completer, DEVICE_LOGIN_TIMEOUT, DeviceLogin, SignInResult,
    TokenSet,
};
use crate::store::{AuthRecord, PendingLogin, SaveOutcome, SignInMethod};

impl Session {
    /// Save the tokens of a finished sign-in.
    pub async fn complete_sign_in(&self, tokens: TokenSet) -> Result<SignInResult> {
        let expires_in = tokens.expires_in;
        let (Some(id), Some(refresh)) = (tokens.id_token, tokens.refresh_token) else {
            return Err(Error::BadResponse {
                what: "the sign-in server".into(),
                detail: "the token answer lacks an id_token or a refresh_token".into(),
            });
        };
        let mut rec = AuthRecord::from_tokens(id, tokens.access_token, refresh, None);
        rec.set_expires_in(expires_in);
        let saved = self.save_record(rec.clone()).await?;
        let c = rec.claims();
        Ok(SignInResult {
            email: c.email,
            plan: c.plan,
            account_id: rec.account_id(),
            saved,
        })
    }

    /// Save a whole record (sign-in, import, API key) under the lock; clears a pending sign-in.
    pub async fn save_record(&self, rec: AuthRecord) -> Result<SaveOutcome> {
        let saved = self
            .blocking(move |s| {
                let g = s.lock()?;
                let out = s.save(&g, &rec)?;
                s.update_state(&g, |st| st.pending_login = None)?;
                Ok(out)
            })
            .await?;
        // A new sign-in replaces a rotation held in memory.
        self.set_unsaved(None);
        Ok(saved)
    }

    /// What the flows call with their tokens.
    pub fn completer(self: &Arc<Self>) -> Completer {
        let me = Arc::clone(self);
        Arc::new(move |tokens| {
            let me = Arc::clone(&me);
            Box::pin(async move { me.complete_sign_in(tokens).await })
        })
    }

    /// Revoke (best effort) and delete the credentials of the profile.
    pub async fn sign_out(&self) -> Result<SignOut> {
        let _flight = self.flight.lock().await;
        let guard = self.store.lock_async().await?;
        let rec = match self.load().await {
            Ok(r) => r,
            Err(Error::Corrupt { .. }) => None,
            Err(e) => return Err(e),
        };
        // Deleted first, revoked after: a sign-out the store refuses (a locked keychain) leaves
        // a sign-in that still works, not a revoked record that comes back.
        let was = self.blocking(move |s| s.delete(&guard, None)).await?;
        self.set_unsaved(None);
        let revoked = match rec.as_ref().and_then(|r| r.tokens.as_ref()) {
            Some(t) => self.oauth.revoke(&t.refresh_token).await,
            None => false,
        };
        Ok(SignOut {
            was_signed_in: was || rec.is_some(),
            revoked,
        })
    }

    /// Make the profile use `workspace` of its sign-in (one that `accounts/check` lists): its id
    /// is sent as `ChatGPT-Account-ID` from now on, and it is part of the profile's identity.
    /// The same tokens serve every workspace of one sign-in; a refresh keeps the choice.
    pub async fn use_workspace(&self, workspace: Workspace) -> Result<()> {
        let _flight = self.flight.lock().await;
        let guard = self.store.lock_async().await?;
        let mut rec = self.load().await?.ok_or_else(|| Error::NotSignedIn {
            profile: self.settings.profile.clone(),
        })?;
        let Some(tokens) = rec.tokens.as_mut() else {
            return Err(Error::Input(
                "an API key has no workspaces: sign in with ChatGPT to choose one".into(),
            ));
        };
        // The workspace the token already names (the common case) costs no write of the secret.
        let changed = tokens.account_id.as_deref() != Some(workspace.account_id.as_str());
        tokens.account_id = Some(workspace.account_id.clone());
        self.blocking(move |s| {
            if changed {
                s.save(&guard, &rec)?;
            }
            s.update_state(&guard, |st| st.workspace = Some(workspace))?;
            Ok(())
        })
        .await?;
        // Saved: a rotation held in memory (if any) was part of that record.
        self.set_unsaved(None);
        Ok(())
    }

    /// Record (or clear) a pending sign-in in state.json, for status and the tray.
    pub async fn set_pending_login(&self, pending: Option<PendingLogin>) -> Result<()> {
        self.blocking(move |s| {
            let g = s.lock()?;
            s.update_state(&g, |st| st.pending_login = pending)?;
            Ok(())
        })
        .await
    }

    /// Start the browser sign-in (the callback server listens, the browser opens unless it cannot)
    /// and record it as pending in state.json, so `status`, the tray and other processes show it;
    /// returns the flow and what was recorded. The flow saves through this session when it
    /// completes; pass its result to `end_sign_in`.
    pub async fn start_browser_sign_in(
        self: &Arc<Self>,
        opts: BrowserLoginOptions,
    ) -> Result<(BrowserLogin, PendingLogin)> {
        let ttl = opts.timeout;
        let login = BrowserLogin::start(self.oauth.clone(), self.completer(), opts).await?;
        let pending =
            PendingLogin::new(SignInMethod::Browser, login.auth_url().as_str(), None, ttl);
        self.note_pending(&pending).await;
        Ok((login, pending))
    }

    /// Start the device-code sign-in (asks the server for a code) and record it as pending.
    pub async fn start_device_sign_in(self: &Arc<Self>) -> Result<(DeviceLogin, PendingLogin)> {
        let login =
            DeviceLogin::start(self.oauth.clone(), self.completer(), DEVICE_LOGIN_TIMEOUT).await?;
        let mut pending = PendingLogin::new(
            SignInMethod::Device,
            login.verification_url().as_str(),
            Some(login.user_code().to_owned()),
            DEVICE_LOGIN_TIMEOUT,
        );
        pending.expires_at = login.expires_at();
        self.note_pending(&pending).await;
        Ok((login, pending))
    }

    async fn note_pending(&self, pending: &PendingLogin) {
        if let Err(e) = self.set_pending_login(Some(pending.clone())).await {
            // The flow itself goes on; only other processes will not see it pending.
            tracing::warn!(error = %e, "cannot record the pending sign-in in state.json");
        }
    }

    /// After a sign-in flow ended: a failure clears the pending sign-in and is kept as the last
    /// error for people to see (a cancel is not an error). A success was saved by the flow.
    pub async fn end_sign_in(&self, result: &Result<SignInResult>) {
        self.end(result, None).await;
    }

    /// `end_sign_in` for the flow that asked the user to open `url`: the pending sign-in in
    /// state.json is cleared only when it is still that flow's (a newer one, of this process or
    /// another, stays shown).
    pub async fn end_sign_in_of(&self, result: &Result<SignInResult>, url: &str) {
        self.end(result, Some(url)).await;
    }

    async fn end(&self, result: &Result<SignInResult>, url: Option<&str>) {
        let Err(e) = result else { return };
        let url = url.map(str::to_owned);
        let cleared = self
            .blocking(move |s| {
                let g = s.lock()?;
                s.update_state(&g, |st| {
                    let ours = match (&st.pending_login, &url) {
                        (Some(p), Some(u)) => &p.url == u,
                        _ => true,
                    };
                    if ours {
                        st.pending_login = None;
                    }
                })?;
                Ok(())
            })
            .await;
        if let Err(e) = cleared {
            tracing::warn!(error = %e, "cannot clear the pending sign-in in state.json");
        }
        if !matches!(e, Error::LoginCancelled) {
            tracing::warn!(error = %e, "sign-in did not complete");
            let _ = self
                .record_error(e.kind(), format!("sign-in failed: {e}"))
                .await;
        }
    }

    /// Record an error for people to see (status, tray).
    pub async fn record_error(&self, kind: ErrorKind, message: String) -> Result<()> {
        self.blocking(move |s| {
            let g = s.lock()?;
            s.update_state(&g, |st| st.set_error(kind, message))?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreMode;
    use crate::config::Settings;
    use std::time::Duration;

    fn session(dir: &std::path::Path) -> Arc<Session> {
        let mut settings = Settings::for_home(dir).unwrap();
        settings.store = StoreMode::File;
        Session::open(settings).unwrap()
    }

    fn device_pending() -> PendingLogin {
        PendingLogin::new(
            SignInMethod::Device,
            "https://auth.example/codex/device",
            Some("ABCD-1234".into()),
            Duration::from_secs(900),
        )
    }

    #[tokio::test]
    async fn the_end_of_an_older_flow_leaves_a_newer_pending_sign_in_alone() {
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path());
        let newer = device_pending();
        s.set_pending_login(Some(newer.clone())).await.unwrap();
        s.end_sign_in_of(&Err(Error::LoginCancelled), "http://127.0.0.1:1455/older")
            .await;
        assert_eq!(s.status().await.pending_login, Some(newer.clone()));
        s.end_sign_in_of(&Err(Error::LoginCancelled), &newer.url)
            .await;
        assert_eq!(s.status().await.pending_login, None);
    }

    #[tokio::test]
    async fn a_cancelled_sign_in_clears_the_pending_one_without_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path());
        s.set_pending_login(Some(device_pending())).await.unwrap();
        assert!(s.status().await.pending_login.is_some());
        s.end_sign_in(&Err(Error::LoginCancelled)).await;
        let st = s.status().await;
        assert!(st.pending_login.is_none());
        assert_eq!(st.last_error, None);
    }

    #[tokio::test]
    async fn a_failed_sign_in_clears_the_pending_one_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path());
        s.set_pending_login(Some(device_pending())).await.unwrap();
        s.end_sign_in(&Err(Error::LoginTimedOut { minutes: 15 }))
            .await;
        let st = s.status().await;
        assert!(st.pending_login.is_none());
        let said = st.last_error.unwrap();
        assert!(said.starts_with("sign-in failed: "), "{said}");
        assert!(said.contains("15"), "{said}");
    }

    #[test]
    fn a_pending_sign_in_belongs_to_this_process_and_expires_after_its_ttl() {
        let p = device_pending();
        assert_eq!(p.pid, std::process::id());
        assert_eq!((p.expires_at - p.started_at).num_seconds(), 900);
        assert_eq!(p.user_code.as_deref(), Some("ABCD-1234"));
    }

    #[tokio::test]
    async fn a_locked_keychain_is_unreadable_not_signed_out() {
        use crate::store::FaultyKeychain;
        use std::sync::atomic::Ordering;
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_home(dir.path()).unwrap();
        settings.store = StoreMode::Keyring;
        let faulty = Arc::new(FaultyKeychain::new());
        let store = crate::store::Store::with_keychain(&settings, faulty.clone()).unwrap();
        let session = Session::with_store(settings, store).unwrap();
        session
            .save_record(AuthRecord::from_api_key(crate::Secret::new("sk-test")))
            .await
            .unwrap();
        *faulty.error.lock().unwrap() =
            crate::KeychainError::Locked("test: the collection is locked".into());
        faulty.fail_get.store(true, Ordering::SeqCst);
        let st = session.status().await;
        assert!(!st.signed_in);
        assert!(st.unreadable, "{st:?}");
        assert_eq!(st.headline(), "Cannot read the stored sign-in");
        assert!(st.last_error.unwrap().contains("locked"));
        faulty.fail_get.store(false, Ordering::SeqCst);
        let st = session.status().await;
        assert!(st.signed_in && !st.unreadable);
    }

    #[tokio::test]
    async fn a_backoff_in_state_json_that_no_time_can_hold_is_no_panic() {
        use base64::Engine;
        let jwt = |payload: serde_json::Value| {
            let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            format!(
                "{}.{}.sig",
                e.encode(b"{\"alg\":\"none\"}"),
                e.encode(payload.to_string())
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let session = session(dir.path());
        let expired = chrono::Utc::now().timestamp() - 60;
        session
            .save_record(AuthRecord::from_tokens(
                crate::Secret::new(jwt(serde_json::json!({"email": "a@b.c"}))),
                crate::Secret::new(jwt(serde_json::json!({"exp": expired}))),
                crate::Secret::new("rt"),
                None,
            ))
            .await
            .unwrap();
        let store = session.store();
        let g = store.lock().unwrap();
        store
            .update_state(&g, |s| {
                s.refresh_retry_after = Some(crate::store::RefreshBackoff {
                    until: chrono::Utc::now() + chrono::Duration::hours(1),
                    pause_secs: i64::MAX as u64,
                })
            })
            .unwrap();
        drop(g);
        let e = session.access_token().await.unwrap_err();
        assert!(e.is_transient(), "{e}");
    }
}
