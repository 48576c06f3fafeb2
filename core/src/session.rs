//! A valid access token on demand. Refresh-ahead with a 5-minute margin; one refresh for any number
//! of callers in this process (single flight) and across processes (the store's file lock, with the
//! store re-read under it). A dead refresh token signs the profile out with the reason kept; a
//! transient failure keeps the tokens and backs off.
//!
//! Refresh tokens rotate (PROTOCOL.md §2): the new one exists only in the token answer until it is
//! saved. So a refresh and the save of its answer run as one task that owns the locks and outlives
//! the caller (a cancelled caller only stops waiting); the store is checked writable before the
//! old token is spent; a rotation no backend could take stays in memory as the authoritative copy
//! and is saved again on every later call; front ends `settle` before they exit.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::claims;
use crate::config::Settings;
use crate::error::{Error, ErrorKind, Result};
use crate::oauth::{
    BrowserLogin, BrowserLoginOptions, Completer, DEVICE_LOGIN_TIMEOUT, DeviceLogin, OAuthClient,
    SignInResult, TokenSet,
};
use crate::secret::Secret;
use crate::status::Status;
use crate::store::{AuthMode, AuthRecord, PendingLogin, SaveOutcome, SignInMethod, State, Store};

/// Refresh when the access token has less than this left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
const BACKOFF_START: Duration = Duration::from_secs(5);
const BACKOFF_MAX: Duration = Duration::from_secs(5 * 60);

/// An access token with what a backend request needs alongside it.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
    pub account_id: Option<String>,
    pub mode: AuthMode,
    /// `None` for API keys.
    pub expires_at: Option<DateTime<Utc>>,
    /// Backend calls add `X-OpenAI-Fedramp: true`.
    pub fedramp: bool,
}

/// What sign-out did.
#[derive(Debug, Clone, Serialize)]
pub struct SignOut {
    pub was_signed_in: bool,
    pub revoked: bool,
}

pub struct Session {
    /// This session, for the refresh task that must outlive its caller.
    me: Weak<Session>,
    settings: Arc<Settings>,
    store: Arc<Store>,
    oauth: OAuthClient,
    /// Held by the refresh task (and sign-out) for its whole run: one at a time, and `settle`
    /// waits for it.
    flight: tokio::sync::Mutex<()>,
    backoff: std::sync::Mutex<Option<(Instant, Duration)>>,
    /// A rotated record that no store could take: the authoritative copy until a save works.
    unsaved: std::sync::Mutex<Option<AuthRecord>>,
    /// Set by `settle`: the process is exiting, so no refresh may spend the token now.
    closing: std::sync::atomic::AtomicBool,
}

/// How long a front end waits at exit for a refresh in flight to be saved.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(35);

impl Session {
    /// The session of the settings' profile on the OS keychain.
    pub fn open(settings: Settings) -> Result<Arc<Self>> {
        let store = Store::open(&settings)?;
        Self::with_store(settings, store)
    }

    pub fn with_store(settings: Settings, store: Store) -> Result<Arc<Self>> {
        let settings = Arc::new(settings);
        let oauth = OAuthClient::new(Arc::clone(&settings))?;
        Ok(Arc::new_cyclic(|me| Self {
            me: me.clone(),
            settings,
            store: Arc::new(store),
            oauth,
            flight: tokio::sync::Mutex::new(()),
            backoff: std::sync::Mutex::new(None),
            unsaved: std::sync::Mutex::new(None),
            closing: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
    pub fn oauth(&self) -> &OAuthClient {
        &self.oauth
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| Error::Internal(format!("internal task failed: {e}")))?
    }

    /// The record: the rotation held in memory when there is one (it is newer than any store),
    /// else the store's.
    async fn load(&self) -> Result<Option<AuthRecord>> {
        if let Some(rec) = self.unsaved_record() {
            return Ok(Some(rec));
        }
        self.blocking(Store::load).await
    }

    fn unsaved_record(&self) -> Option<AuthRecord> {
        self.unsaved.lock().ok().and_then(|u| u.clone())
    }

    fn set_unsaved(&self, rec: Option<AuthRecord>) {
        if let Ok(mut u) = self.unsaved.lock() {
            *u = rec;
        }
    }

    /// Try again to save a rotation held in memory; true when nothing is left unsaved.
    async fn flush_unsaved(&self) -> bool {
        let Some(rec) = self.unsaved_record() else {
            return true;
        };
        let saved = self
            .blocking(move |s| {
                let g = s.lock()?;
                // Another sign-in may have happened meanwhile (another account, an API key, a
                // newer refresh): that one wins and the copy in memory is dropped.
                if let Ok(Some(current)) = s.load()
                    && (current.mode() != rec.mode()
                        || current.account_id() != rec.account_id()
                        || current.last_refresh > rec.last_refresh)
                {
                    return Ok(rec);
                }
                s.save_or_fallback(&g, &rec).map(|_| rec)
            })
            .await;
        match saved {
            Ok(done) => {
                tracing::info!("the refreshed sign-in held in memory is saved now");
                // Only that copy: a newer rotation may have been put in memory meanwhile.
                if let Ok(mut u) = self.unsaved.lock()
                    && u.as_ref() == Some(&done)
                {
                    *u = None;
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "the refreshed sign-in is still held only in memory");
                false
            }
        }
    }

    /// Before the process exits: wait (at most `limit`) for a refresh in flight to be saved, and
    /// try once more to save a rotation held in memory. False when one could not be saved: the
    /// caller should say so (it is lost with the process).
    ///
    /// From this call on, no new refresh is started (one would be cut off by the exit).
    pub async fn settle(&self, limit: Duration) -> bool {
        self.closing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let settled = tokio::time::timeout(limit, async {
            drop(self.flight.lock().await);
            self.flush_unsaved().await
        })
        .await;
        match settled {
            Ok(done) => done,
            Err(_) => {
                tracing::warn!(
                    seconds = limit.as_secs(),
                    "a refresh was still running at exit"
                );
                false
            }
        }
    }

    /// A token valid for at least 5 more minutes (refreshing if needed), or an error that says what to do.
    pub async fn access_token(&self) -> Result<AccessToken> {
        self.flush_unsaved().await;
        let rec = self.load().await?.ok_or_else(|| self.not_signed_in())?;
        if let Some(t) = usable(&rec, REFRESH_MARGIN)? {
            return Ok(t);
        }
        self.refresh_if(|rec| usable(rec, REFRESH_MARGIN)).await
    }

    /// The backend refused `rejected` (HTTP 401): refresh once, unless another caller or process
    /// already replaced it.
    ///
    /// When the refresh fails for a passing reason (the issuer is down), the token the backend
    /// just refused is not handed back as if it were good: the caller is told to try again later,
    /// which is what it is (the sign-in itself is intact).
    pub async fn refresh_after_unauthorized(&self, rejected: &Secret) -> Result<AccessToken> {
        let refused = rejected.clone();
        let t = self
            .refresh_if(move |rec| {
                let t = rec.tokens.as_ref().map(|t| &t.access_token);
                if rec.mode() == AuthMode::ChatGpt && t != Some(&refused) {
                    usable(rec, Duration::ZERO)
                } else {
                    Ok(None)
                }
            })
            .await?;
        if &t.token == rejected {
            return Err(Error::Network {
                what: "the sign-in server".into(),
                detail: "the Codex backend refused the access token and it could not be refreshed now (the sign-in is kept)".into(),
            });
        }
        Ok(t)
    }

    /// Refresh unless `fresh` finds a token, in a task of its own: the refresh and the save of
    /// its answer finish even when the caller stops waiting (a cancelled MCP call, a timeout).
    async fn refresh_if(
        &self,
        fresh: impl Fn(&AuthRecord) -> Result<Option<AccessToken>> + Send + Sync + 'static,
    ) -> Result<AccessToken> {
        let me = self
            .me
            .upgrade()
            .ok_or_else(|| Error::Internal("the session is closing".into()))?;
        tokio::spawn(async move { me.refresh_owned(fresh).await })
            .await
            .map_err(|e| Error::Internal(format!("internal task failed: {e}")))?
    }

    /// Under the single-flight guard and the file lock: re-read, and refresh unless `fresh` finds
    /// a token. The store is checked writable before the old refresh token is spent.
    async fn refresh_owned(
        &self,
        fresh: impl Fn(&AuthRecord) -> Result<Option<AccessToken>>,
    ) -> Result<AccessToken> {
        let _flight = self.flight.lock().await;
        let guard = self.store.lock_async().await?;
        let rec = self.load().await?.ok_or_else(|| self.not_signed_in())?;
        if let Some(t) = fresh(&rec)? {
            return Ok(t);
        }
        let Some(tokens) = rec.tokens.clone() else {
            return Err(Error::Input(
                "an API key cannot be refreshed; check the key".into(),
            ));
        };
        let current = usable(&rec, Duration::from_secs(10))?;
        if let Some(t) = &current
            && self.in_backoff()
        {
            return Ok(t.clone());
        }
        // A rotation that cannot be written would be lost: find out before spending the token.
        let size = serde_json::to_vec(&rec).map(|v| v.len()).unwrap_or(8192);
        if let Err(e) = self.blocking(move |s| s.check_writable(size)).await {
            tracing::info!(error = %e, "the store cannot take a refreshed sign-in; not refreshing");
            let message = format!(
                "cannot refresh: {e}; the sign-in was left as it was (nothing is lost): free space or fix the folder, then try again"
            );
            let store = Arc::clone(&self.store);
            let m = message.clone();
            let _ = tokio::task::spawn_blocking(move || {
                store.update_state(&guard, |s| s.set_error(ErrorKind::Internal, m))
            })
            .await;
            return match current {
                Some(t) => Ok(t),
                None => Err(Error::StoreNotWritable { detail: message }),
            };
        }
        if self.closing.load(std::sync::atomic::Ordering::SeqCst) {
            // Exiting: a refresh now could be cut off after the token is spent.
            return current.ok_or_else(|| {
                Error::Internal(
                    "this process is exiting; the session was not refreshed (nothing is lost)"
                        .into(),
                )
            });
        }
        tracing::info!(profile = %self.settings.profile, "refreshing the access token");
        match self.oauth.refresh(&tokens.refresh_token).await {
            Ok(new) => {
                self.clear_backoff();
                let rec = merge_refresh(rec, new);
                let token = usable(&rec, Duration::ZERO)?;
                self.keep_rotation(guard, rec).await;
                token.ok_or_else(|| Error::BadResponse {
                    what: "the sign-in server".into(),
                    detail:
                        "the refreshed access token is already expired (is the system clock right?)"
                            .into(),
                })
            }
            Err(Error::SessionExpired { reason }) => {
                tracing::warn!(%reason, "refresh token rejected; signing out");
                let message = format!("session expired: sign in again ({reason})");
                let store = Arc::clone(&self.store);
                let m = message.clone();
                let _ = tokio::task::spawn_blocking(move || store.delete(&guard, Some(m))).await;
                self.set_unsaved(None);
                Err(Error::SessionExpired { reason })
            }
            Err(e) => {
                self.start_backoff();
                let message = format!("refresh failed, will retry: {e}");
                let store = Arc::clone(&self.store);
                let _ = tokio::task::spawn_blocking(move || {
                    store.update_state(&guard, |s| s.set_error(ErrorKind::Retry, message))
                })
                .await;
                match current {
                    Some(t) => {
                        tracing::warn!(error = %e, "refresh failed; the current token is still valid");
                        Ok(t)
                    }
                    None => Err(e),
                }
            }
        }
    }

    /// Save a rotated record: where the mode says, else the 0600 file, else keep it in memory as
    /// the authoritative copy (and say so in state.json when that can still be written).
    async fn keep_rotation(&self, guard: crate::store::LockGuard, rec: AuthRecord) {
        let store = Arc::clone(&self.store);
        let keep = rec.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let r = store.save_or_fallback(&guard, &keep).map(|_| ());
            (guard, r)
        })
        .await;
        let (guard, error) = match joined {
            Ok((_, Ok(()))) => {
                self.set_unsaved(None);
                return;
            }
            Ok((guard, Err(e))) => (Some(guard), e.to_string()),
            Err(e) => (None, format!("internal task failed: {e}")),
        };
        tracing::error!(error = %error, "a refreshed sign-in could not be saved anywhere; keeping it in memory");
        self.set_unsaved(Some(rec));
        let message = unsaved_message(&error);
        if let Some(guard) = guard {
            let store = Arc::clone(&self.store);
            let _ = tokio::task::spawn_blocking(move || {
                store.update_state(&guard, |s| s.set_error(ErrorKind::Internal, message))
            })
            .await;
        }
    }

    fn in_backoff(&self) -> bool {
        self.backoff
            .lock()
            .ok()
            .and_then(|b| *b)
            .is_some_and(|(until, _)| Instant::now() < until)
    }
    fn start_backoff(&self) {
        if let Ok(mut b) = self.backoff.lock() {
            let next = b
                .map(|(_, d)| (d * 2).min(BACKOFF_MAX))
                .unwrap_or(BACKOFF_START);
            *b = Some((Instant::now() + next, next));
        }
    }
    fn clear_backoff(&self) {
        if let Ok(mut b) = self.backoff.lock() {
            *b = None;
        }
    }

    fn not_signed_in(&self) -> Error {
        Error::NotSignedIn {
            profile: self.settings.profile.clone(),
        }
    }

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
        self.clear_backoff();
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
        let revoked = match rec.as_ref().and_then(|r| r.tokens.as_ref()) {
            Some(t) => self.oauth.revoke(&t.refresh_token).await,
            None => false,
        };
        let was = self.blocking(move |s| s.delete(&guard, None)).await?;
        self.set_unsaved(None);
        Ok(SignOut {
            was_signed_in: was || rec.is_some(),
            revoked,
        })
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

    /// Signed in or not, who, until when, where the secret is and why. Reads the record itself, so
    /// a state.json out of step (or missing) cannot make it lie.
    pub async fn status(&self) -> Status {
        let (mut state, rec) = match self.blocking(|s| Ok((s.state(), s.load()))).await {
            Ok(x) => x,
            Err(e) => (State::default(), Err(e)),
        };
        // A rotation held in memory is this process's truth: say so, loudly.
        let rec = match self.unsaved_record() {
            Some(r) => {
                state.set_error(
                    ErrorKind::Internal,
                    unsaved_message("no store could take it yet"),
                );
                Ok(Some(r))
            }
            None => rec,
        };
        crate::status::status_of(&self.settings, self.store.mode(), state, rec)
    }
}

/// The record's token, if it stays valid for `margin` more.
fn usable(rec: &AuthRecord, margin: Duration) -> Result<Option<AccessToken>> {
    match rec.mode() {
        AuthMode::ApiKey => {
            let key = rec
                .openai_api_key
                .clone()
                .ok_or_else(|| Error::Internal("API-key record without a key".into()))?;
            Ok(Some(AccessToken {
                token: key,
                account_id: None,
                mode: AuthMode::ApiKey,
                expires_at: None,
                fedramp: false,
            }))
        }
        AuthMode::ChatGpt => {
            let Some(t) = &rec.tokens else {
                return Err(Error::Internal("a ChatGPT record without tokens".into()));
            };
            // A token without a readable expiry is refreshed: better one refresh than a 401 loop.
            let exp = rec.access_expiry();
            let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::zero());
            match exp {
                Some(exp) if exp - margin > Utc::now() => Ok(Some(AccessToken {
                    token: t.access_token.clone(),
                    account_id: rec.account_id(),
                    mode: AuthMode::ChatGpt,
                    expires_at: Some(exp),
                    fedramp: rec.is_fedramp(),
                })),
                _ => Ok(None),
            }
        }
    }
}

/// What people are told while a rotation is held only in memory.
fn unsaved_message(error: &str) -> String {
    format!(
        "the refreshed sign-in is saved nowhere yet ({error}): it is held in the memory of process {}; keep that process running until the store works again (it retries on every call), or sign in again later",
        std::process::id()
    )
}

/// The record after a refresh: rotated tokens in, absent ones kept.
fn merge_refresh(mut rec: AuthRecord, new: TokenSet) -> AuthRecord {
    let expires_in = new.expires_in;
    if let Some(t) = rec.tokens.as_mut() {
        t.access_token = new.access_token;
        if let Some(r) = new.refresh_token {
            t.refresh_token = r;
        }
        if let Some(id) = new.id_token {
            t.id_token = id;
            if let Some(acc) = claims::decode(t.id_token.expose())
                .ok()
                .and_then(|c| c.account_id)
            {
                t.account_id = Some(acc);
            }
        }
    }
    rec.last_refresh = Some(Utc::now());
    rec.set_expires_in(expires_in);
    rec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreMode;

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
}
