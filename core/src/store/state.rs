//! `state.json`: everything about the profile except the secret. Other processes watch it to learn
//! of changes without touching the keychain; `generation` goes up on every change.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ErrorKind, json_problem};
use crate::model::{RateLimits, Workspace};
use crate::store::fsutil;
use crate::store::record::AuthMode;

/// Which backend holds the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Keyring,
    File,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Keyring => "keyring",
            Backend::File => "file",
        }
    }

    /// For people: "OS keychain", "file".
    pub fn label(self) -> &'static str {
        match self {
            Backend::Keyring => "OS keychain",
            Backend::File => "file",
        }
    }
}

/// How a sign-in is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignInMethod {
    /// The browser flow with the loopback callback (PKCE).
    Browser,
    /// The device-code flow: a URL and a code, on any device.
    Device,
}

impl SignInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Browser => "browser",
            SignInMethod::Device => "device",
        }
    }

    /// What a pending sign-in of this kind waits for: "waiting for the browser".
    pub fn waiting_for(self) -> &'static str {
        match self {
            SignInMethod::Browser => "waiting for the browser",
            SignInMethod::Device => "waiting for the device code",
        }
    }
}

impl std::fmt::Display for SignInMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sign-in that was started and has not finished (shown by status, and by the tray).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PendingLogin {
    pub method: SignInMethod,
    /// The URL the user must open.
    pub url: String,
    /// The code to type (device flow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_code: Option<String>,
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub pid: u32,
}

impl PendingLogin {
    /// A sign-in of `method` started now by this process, good for `ttl`.
    pub fn new(method: SignInMethod, url: &str, user_code: Option<String>, ttl: Duration) -> Self {
        let now = Utc::now();
        PendingLogin {
            method,
            url: url.into(),
            user_code,
            started_at: now,
            expires_at: now
                + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(15)),
            pid: std::process::id(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub generation: u64,
    #[serde(default)]
    pub signed_in: bool,
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub auth_mode: Option<AuthMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<Backend>,
    /// Where the secret is: the keychain item or the file path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Why the secret is not where the settings asked (e.g. "keychain unavailable: ...").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Expiry of the current access token: its JWT `exp`, or for an opaque token the token
    /// answer's `expires_in` (the only place that is kept; see `Store::load`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// What the user can do about `last_error` (kept with it, so no reader parses the text).
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_error_kind: Option<ErrorKind>,
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pending_login: Option<PendingLogin>,
    /// The workspace routing of the signed-in account (`wham/accounts/check`), read once per account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<Workspace>,
    /// Rate-limit windows last seen from the backend (no secrets). A value this release cannot
    /// read is dropped, never an error: the next answer brings new ones.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub rate_limits: Option<RateLimits>,
    /// After a refresh that failed for a passing reason (the issuer down): no process of this
    /// profile asks the issuer again before this time. One backoff for every process.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::option"
    )]
    pub refresh_retry_after: Option<RefreshBackoff>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The shared refresh backoff: the time before which nobody asks, and the pause that led to it
/// (doubled on the next failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshBackoff {
    pub until: DateTime<Utc>,
    pub pause_secs: u64,
}

impl State {
    /// Keep an error for people to see, with what they can do about it.
    pub fn set_error(&mut self, kind: ErrorKind, message: impl Into<String>) {
        self.last_error = Some(message.into());
        self.last_error_kind = Some(kind);
    }

    pub fn clear_error(&mut self) {
        self.last_error = None;
        self.last_error_kind = None;
    }

    /// A state that holds only an error.
    pub fn with_error(kind: ErrorKind, message: impl Into<String>) -> Self {
        let mut s = State::default();
        s.set_error(kind, message);
        s
    }

    /// The state.json at `path` as it is now; a corrupt one is moved aside (and said so), a
    /// missing one is empty. One replaced by another process while it was read is read again.
    pub(crate) fn read(path: &Path) -> State {
        for _ in 0..5 {
            let bytes = match fsutil::read_optional(path) {
                Ok(Some(b)) => b,
                Ok(None) => return State::default(),
                Err(e) => return State::with_error(e.kind(), e.to_string()),
            };
            let e = match serde_json::from_slice::<State>(&bytes) {
                Ok(s) => return s,
                Err(e) => e,
            };
            match fsutil::quarantine(path, &bytes) {
                Ok(Some(moved)) => {
                    tracing::error!(path = %path.display(), moved_to = %moved.display(), "corrupt state.json moved aside");
                    return State::with_error(
                        ErrorKind::Internal,
                        format!(
                            "{} was corrupt ({}); it was kept aside as {}",
                            path.display(),
                            json_problem(&e),
                            moved.display()
                        ),
                    );
                }
                Ok(None) => continue,
                Err(q) => return State::with_error(q.kind(), q.to_string()),
            }
        }
        State::with_error(
            ErrorKind::Retry,
            format!("{} kept changing while it was read", path.display()),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_rate_limits_the_client_writes_read_back_whole() {
        let text = r#"{"generation": 13, "signed_in": true, "rate_limits": {
            "primary": {"used_percent": 12.0, "window_minutes": 300, "resets_at": "2026-12-01T15:32:26Z"},
            "secondary": {"used_percent": 40.0, "window_minutes": 10080, "resets_at": "2026-12-04T14:32:26Z"},
            "credits": {"has_credits": false, "unlimited": false, "balance": "0"},
            "additional": [{"name": "gpt-6-2-sol", "primary": {"used_percent": 3.0, "window_minutes": 300, "resets_at": "2026-12-01T15:02:26Z"}}],
            "effective": {"percent_left": 60.0, "limit": "codex", "window": "weekly", "resets_at": "2026-12-04T14:32:26Z", "blocked": false},
            "observed_at": "2026-12-01T14:32:26.513930270Z"}}"#;
        let st: State = serde_json::from_str(text).unwrap();
        let limits = st.rate_limits.expect("the rate limits are read");
        assert_eq!(limits.effective.unwrap().percent_left, 60.0);
        assert_eq!(limits.additional.len(), 1);
    }

    #[test]
    fn fields_of_another_shape_are_dropped_not_a_corrupt_file() {
        let st: State = serde_json::from_str(
            r#"{"generation": 4, "auth_mode": "chatgpt", "rate_limits": {"primary": "lots"},
                "last_error": "x", "last_error_kind": "unknown_kind", "future_field": 1}"#,
        )
        .unwrap();
        assert_eq!(st.generation, 4);
        assert_eq!(st.auth_mode, Some(AuthMode::ChatGpt));
        assert_eq!(st.rate_limits, None);
        assert_eq!(st.last_error_kind, None);
        assert_eq!(st.extra["future_field"], 1, "unknown fields are kept");
        let back = serde_json::to_value(&st).unwrap();
        assert_eq!(back["future_field"], 1);
    }
}
