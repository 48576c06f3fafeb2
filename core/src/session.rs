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

mod refresh;
mod sign_in;

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Settings;
use crate::error::{Error, ErrorKind, Result};
use crate::oauth::OAuthClient;
use crate::secret::Secret;
use crate::status::Status;
use crate::store::{AuthMode, AuthRecord, State, Store};
use refresh::unsaved_message;

pub use refresh::REFRESH_MARGIN;

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

    /// Refuse when `claude_budget_percent` is set and the weekly window last seen (state.json)
    /// is used past it. Nothing is asked of the network.
    pub async fn check_budget(&self) -> Result<()> {
        let Some(cap) = self.settings.claude_budget_percent else {
            return Ok(());
        };
        let limits = self.blocking(|s| Ok(s.state().rate_limits)).await?;
        let Some(week) = limits.as_ref().and_then(|l| l.weekly()) else {
            return Ok(());
        };
        if week.used_percent < f64::from(cap) {
            return Ok(());
        }
        Err(Error::BudgetReached {
            used: week.used_percent,
            cap,
            config_file: self.settings.config_file.display().to_string(),
            resets: week
                .resets_at
                .map(|t| crate::status::local_time(t, Utc::now()))
                .unwrap_or_else(|| "when the weekly window ends".into()),
        })
    }

    /// Signed in or not, who, until when, where the secret is and why. Reads the record itself, so
    /// a state.json out of step (or missing) cannot make it lie.
    pub async fn status(&self) -> Status {
        let (mut state, rec, open) = match self
            .blocking(|s| Ok((s.state(), s.load(), s.open_to_others())))
            .await
        {
            Ok(x) => x,
            Err(e) => (State::default(), Err(e), Vec::new()),
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
        let mut status = crate::status::status_of(&self.settings, self.store.mode(), state, rec);
        status.store.open_to_others = open;
        status
    }
}
