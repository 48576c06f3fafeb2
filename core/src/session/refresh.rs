//! Tokens on demand: the refresh-ahead, the one refresh task per profile that outlives its caller,
//! the rotation held in memory when no store takes it, and the backoff after a transient failure.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{AccessToken, Session};
use crate::claims;
use crate::error::{Error, ErrorKind, Result};
use crate::oauth::TokenSet;
use crate::secret::Secret;
use crate::store::{AuthMode, AuthRecord, LockGuard, RefreshBackoff};

/// Refresh when the access token has less than this left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// What [`Session::access_token_for_a_moment`] needs left on a token.
const QUICK_MARGIN: Duration = Duration::from_secs(60);
const BACKOFF_START: Duration = Duration::from_secs(5);
const BACKOFF_MAX: Duration = Duration::from_secs(5 * 60);

impl Session {
    pub(super) fn unsaved_record(&self) -> Option<AuthRecord> {
        self.unsaved.lock().ok().and_then(|u| u.clone())
    }

    pub(super) fn set_unsaved(&self, rec: Option<AuthRecord>) {
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

    /// For a call that takes seconds, not minutes (one request): the stored token while it has
    /// `QUICK_MARGIN` left, even inside the refresh margin (a sign-in whose tokens last only a
    /// few minutes is not refreshed at once for it); else as [`Session::access_token`].
    pub async fn access_token_for_a_moment(&self) -> Result<AccessToken> {
        self.flush_unsaved().await;
        let rec = self.load().await?.ok_or_else(|| self.not_signed_in())?;
        if let Some(t) = usable(&rec, QUICK_MARGIN)? {
            return Ok(t);
        }
        self.access_token().await
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

    /// Make this profile the only holder of a refresh-token lineage it shares with another
    /// program (an imported Codex CLI login): refresh now, so the copy the other program kept is
    /// the one that dies (PROTOCOL.md §2). True when the lineage was taken over; false when the
    /// refresh could not be done now (a passing failure: the next refresh takes it over).
    pub async fn take_over_lineage(&self) -> Result<bool> {
        let rec = self.load().await?.ok_or_else(|| self.not_signed_in())?;
        let Some(shared) = rec.tokens.map(|t| t.refresh_token) else {
            return Ok(false);
        };
        let kept = shared.clone();
        self.refresh_if(move |rec| match &rec.tokens {
            // Already rotated (by us or another process of ours): nothing left to do.
            Some(t) if t.refresh_token != kept => usable(rec, Duration::ZERO),
            _ => Ok(None),
        })
        .await?;
        let now = self.load().await?;
        Ok(now
            .and_then(|r| r.tokens)
            .is_some_and(|t| t.refresh_token != shared))
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
        let asked_at = Utc::now();
        tokio::spawn(async move { me.refresh_owned(fresh, asked_at).await })
            .await
            .map_err(|e| Error::Internal(format!("internal task failed: {e}")))?
    }

    /// Under the single-flight guard and the file lock: re-read, and refresh unless `fresh` finds
    /// a token. The store is checked writable before the old refresh token is spent.
    async fn refresh_owned(
        &self,
        fresh: impl Fn(&AuthRecord) -> Result<Option<AccessToken>>,
        asked_at: DateTime<Utc>,
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
        if let Some(t) = self.during_backoff(&current, asked_at).await? {
            return Ok(t);
        }
        // A rotation that cannot be written would be lost: find out before spending the token.
        let size = serde_json::to_vec(&rec).map(|v| v.len()).unwrap_or(8192);
        if let Err(e) = self.blocking(move |s| s.check_writable(size)).await {
            return self.not_writable(guard, &e, current).await;
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
            Ok(new) => self.refreshed(guard, rec, new).await,
            Err(Error::SessionExpired { reason }) => self.expired(guard, reason).await,
            Err(e) => self.refresh_failed(guard, e, current).await,
        }
    }

    /// One backoff for every process of the profile (state.json): after a passing failure,
    /// callers get the token they still have instead of each asking a down issuer in turn.
    /// With no token left, a caller that was already waiting when the refresh failed (in this
    /// process or another) is told at once; one that asks after the failure tries again.
    /// `Some`: the token to answer with; `None`: refresh.
    async fn during_backoff(
        &self,
        current: &Option<AccessToken>,
        asked_at: DateTime<Utc>,
    ) -> Result<Option<AccessToken>> {
        let backoff = self.blocking(|s| Ok(s.state().refresh_retry_after)).await?;
        let now = Utc::now();
        let Some(b) = backoff.filter(|b| now < b.until) else {
            return Ok(None);
        };
        // state.json is read leniently, not trusted: a pause no time can hold means "now".
        let failed_at = i64::try_from(b.pause_secs)
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .and_then(|p| b.until.checked_sub_signed(p))
            .unwrap_or(now);
        match current {
            Some(t) => Ok(Some(t.clone())),
            None if failed_at >= asked_at => Err(Error::Network {
                what: "the sign-in server".into(),
                detail: "the refresh failed while this call waited for it; try again (the sign-in is kept)".into(),
            }),
            None => Ok(None),
        }
    }

    /// The store cannot take a refreshed sign-in: not refreshed, and said so in state.json;
    /// the current token if there is one.
    async fn not_writable(
        &self,
        guard: LockGuard,
        e: &Error,
        current: Option<AccessToken>,
    ) -> Result<AccessToken> {
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
        match current {
            Some(t) => Ok(t),
            None => Err(Error::StoreNotWritable { detail: message }),
        }
    }

    /// The issuer answered with new tokens: keep them, and hand on the new access token.
    async fn refreshed(
        &self,
        guard: LockGuard,
        rec: AuthRecord,
        new: TokenSet,
    ) -> Result<AccessToken> {
        let rec = merge_refresh(rec, new);
        let token = usable(&rec, Duration::ZERO)?;
        self.keep_rotation(guard, rec).await;
        token.ok_or_else(|| Error::BadResponse {
            what: "the sign-in server".into(),
            detail: "the refreshed access token is already expired (is the system clock right?)"
                .into(),
        })
    }

    /// The issuer rejected the refresh token: the sign-in is over, signed out.
    async fn expired(&self, guard: LockGuard, reason: String) -> Result<AccessToken> {
        tracing::warn!(%reason, "refresh token rejected; signing out");
        let message = format!("session expired: sign in again ({reason})");
        let store = Arc::clone(&self.store);
        let m = message.clone();
        let _ = tokio::task::spawn_blocking(move || store.delete(&guard, Some(m))).await;
        self.set_unsaved(None);
        Err(Error::SessionExpired { reason })
    }

    /// The refresh failed otherwise: the failure and the next backoff in state.json; the
    /// current token if there is one.
    async fn refresh_failed(
        &self,
        guard: LockGuard,
        e: Error,
        current: Option<AccessToken>,
    ) -> Result<AccessToken> {
        let message = if e.is_transient() {
            format!("refresh failed, will retry: {e}")
        } else {
            format!("refresh failed: {e}")
        };
        let store = Arc::clone(&self.store);
        let kind = e.kind();
        let _ = tokio::task::spawn_blocking(move || {
            store.update_state(&guard, |s| {
                s.set_error(kind, message);
                s.refresh_retry_after = Some(next_backoff(s.refresh_retry_after));
            })
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

    /// Save a rotated record: where the mode says, else the 0600 file, else keep it in memory as
    /// the authoritative copy (and say so in state.json when that can still be written).
    async fn keep_rotation(&self, guard: LockGuard, rec: AuthRecord) {
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

    fn not_signed_in(&self) -> Error {
        Error::NotSignedIn {
            profile: self.settings.profile.clone(),
        }
    }
}

/// The backoff after one more failed refresh: 5 s, doubling up to 5 minutes.
fn next_backoff(previous: Option<RefreshBackoff>) -> RefreshBackoff {
    let pause = previous
        .map(|b| b.pause_secs.saturating_mul(2))
        .unwrap_or(BACKOFF_START.as_secs())
        .clamp(BACKOFF_START.as_secs(), BACKOFF_MAX.as_secs());
    RefreshBackoff {
        until: Utc::now() + chrono::Duration::seconds(pause as i64),
        pause_secs: pause,
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
pub(super) fn unsaved_message(error: &str) -> String {
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
            // The workspace is the profile's choice (it may differ from the id token's default
            // workspace): a refresh fills it only when none was recorded.
            if t.account_id.is_none() {
                t.account_id = claims::decode(t.id_token.expose())
                    .ok()
                    .and_then(|c| c.account_id);
            }
        }
    }
    rec.last_refresh = Some(Utc::now());
    rec.set_expires_in(expires_in);
    rec
}
