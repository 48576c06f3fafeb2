//! `state.json`: everything about the profile except the secret. Other processes watch it to learn
//! of changes without touching the keychain; `generation` goes up on every change.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Which backend holds the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// A sign-in that was started and has not finished (shown by status, and by the tray).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// `browser` or `device`.
    pub method: String,
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
    pub fn new(method: &str, url: &str, user_code: Option<String>, ttl: Duration) -> Self {
        let now = Utc::now();
        PendingLogin {
            method: method.into(),
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_login: Option<PendingLogin>,
    /// The workspace routing of the signed-in account (`wham/accounts/check`), read once per account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<crate::codex::Workspace>,
    /// Rate-limit windows last seen from the backend (no secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
