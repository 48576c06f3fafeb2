//! Statuses and snapshots for the model's tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use codex_oauth_core::store::{AuthMode, Backend, PendingLogin, SignInMethod};
use codex_oauth_core::{Status, StoreInfo, StoreMode};

use super::{AccountSnapshot, Snapshot};

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn signed_out() -> Status {
    Status {
        generation: 3,
        ..Status::signed_out("default", StoreMode::Auto)
    }
}

pub fn signed_in(expires_in_min: i64) -> Status {
    Status {
        signed_in: true,
        auth_mode: Some(AuthMode::ChatGpt),
        email: Some("ada@example.com".into()),
        plan: Some("plus".into()),
        account_id: Some("acc-1".into()),
        user_id: Some("user-ada".into()),
        expires_at: Some(now() + chrono::Duration::minutes(expires_in_min)),
        store: StoreInfo {
            backend: Some(Backend::Keyring),
            location: Some("keychain: codex-oauth/default".into()),
            reason: None,
            mode: StoreMode::Auto,
            open_to_others: Vec::new(),
        },
        ..signed_out()
    }
}

/// `status` under another profile name.
pub fn named(profile: &str, mut status: Status) -> Status {
    status.profile = profile.into();
    status
}

/// An API key stored in `profile`.
pub fn api_key(profile: &str) -> Status {
    let mut s = named(profile, signed_in(0));
    s.auth_mode = Some(AuthMode::ApiKey);
    s.expires_at = None;
    s.email = None;
    s.plan = None;
    s.account_id = None;
    s.user_id = None;
    s
}

/// `status` with the backend's usage windows: this much of the effective one left.
pub fn with_left(mut status: Status, percent_left: f64) -> Status {
    status.usage = Some(
        serde_json::from_value(serde_json::json!({
            "observed_at": "2026-05-01T12:00:00Z",
            "effective": {
                "percent_left": percent_left,
                "limit": "codex",
                "window": "weekly",
                "blocked": percent_left <= 0.0,
            },
        }))
        .unwrap(),
    );
    status
}

pub fn acc(status: Status) -> AccountSnapshot {
    AccountSnapshot::new(status)
}

/// One account, the default.
pub fn snap(status: Status) -> Snapshot {
    Snapshot::single(acc(status))
}

/// These accounts, `default` the default.
pub fn several(default: &str, statuses: Vec<Status>) -> Snapshot {
    Snapshot {
        default: default.into(),
        accounts: statuses.into_iter().map(acc).collect(),
        revision: 1,
    }
}

/// Signed out because the session died ("sign in again").
pub fn expired() -> Status {
    let mut s = signed_out();
    s.last_error = Some("session expired: sign in again (invalid_grant)".into());
    s.last_error_kind = Some(codex_oauth_core::ErrorKind::SignIn);
    s
}

/// Signed out, a device-code sign-in waiting.
pub fn pending_device() -> Status {
    Status {
        pending_login: Some(PendingLogin {
            method: SignInMethod::Device,
            url: "https://auth.example/codex/device".into(),
            user_code: Some("ABCD-1234".into()),
            started_at: now(),
            expires_at: now() + chrono::Duration::minutes(15),
            pid: 1,
        }),
        ..signed_out()
    }
}
