//! What a front end shows about a profile: [`Status`], a typed snapshot, and its words. Every text
//! about a sign-in that the CLI, the bridge and the tray print is made here, once, so the three say
//! the same thing; a front end adds only what is its own (the command that signs in, its layout).

use chrono::{DateTime, Local, Utc};
use serde::Serialize;

use crate::config::Settings;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{RateLimits, Remaining};
use crate::store::{AuthMode, AuthRecord, Backend, OpenToOthers, PendingLogin, State};

/// The storage part of a status.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct StoreInfo {
    /// `keyring` or `file`; `null` when signed out.
    pub backend: Option<Backend>,
    pub location: Option<String>,
    /// Why the secret is not in the keychain, when it is not.
    pub reason: Option<String>,
    /// The configured mode: `auto`, `keyring` or `file`.
    pub mode: crate::StoreMode,
    /// The profile folder and the files in it that other users may open (`auth.json` at 0644):
    /// made private again at the store's next write.
    pub open_to_others: Vec<OpenToOthers>,
}

/// A snapshot for `status`, the tray and `codex_status`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    pub signed_in: bool,
    /// The stored sign-in could not be read (a locked keychain, an unreadable file): whether
    /// the profile is signed in is not known, and `last_error` says why. Not "signed out".
    pub unreadable: bool,
    pub profile: String,
    pub auth_mode: Option<AuthMode>,
    pub email: Option<String>,
    pub plan: Option<String>,
    pub account_id: Option<String>,
    /// The name of the workspace `account_id` is (from `accounts/check`), when known.
    pub workspace: Option<String>,
    pub user_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_refresh: Option<DateTime<Utc>>,
    pub store: StoreInfo,
    pub last_error: Option<String>,
    /// What the user can do about `last_error`.
    pub last_error_kind: Option<ErrorKind>,
    pub pending_login: Option<PendingLogin>,
    /// The rate-limit windows last seen (ChatGPT sign-ins), with the effective remaining.
    pub usage: Option<RateLimits>,
    pub generation: u64,
}

pub(crate) fn status_of(
    settings: &Settings,
    mode: crate::StoreMode,
    state: State,
    rec: Result<Option<AuthRecord>>,
) -> Status {
    let pending = state
        .pending_login
        .clone()
        .filter(|p| p.expires_at > Utc::now());
    let (rec, load_error) = match rec {
        Ok(r) => (r, None),
        Err(e) => (None, Some(e)),
    };
    let Some(rec) = rec else {
        // A corrupt record was moved aside: that profile is signed out. A store that cannot be
        // read may well hold a sign-in.
        let unreadable = matches!(
            load_error,
            Some(Error::Keychain(_) | Error::Io { .. } | Error::LockTimeout { .. })
        );
        let load_error = load_error.map(|e| (e.kind(), e.to_string()));
        return Status {
            unreadable,
            last_error_kind: load_error.as_ref().map(|(k, _)| *k).or(error_kind(&state)),
            last_error: load_error.map(|(_, m)| m).or(state.last_error),
            pending_login: pending,
            generation: state.generation,
            ..Status::signed_out(&settings.profile, mode)
        };
    };
    let c = rec.claims();
    let backend = state
        .backend
        .unwrap_or(if settings.store == crate::StoreMode::File {
            Backend::File
        } else {
            Backend::Keyring
        });
    Status {
        signed_in: true,
        unreadable: false,
        profile: settings.profile.clone(),
        auth_mode: Some(rec.mode()),
        email: c.email.clone(),
        plan: c.plan.clone(),
        workspace: state
            .workspace
            .as_ref()
            .filter(|w| Some(&w.account_id) == rec.account_id().as_ref())
            .and_then(|w| w.name.clone()),
        account_id: rec.account_id(),
        user_id: c.user_id.clone(),
        expires_at: c.expires_at,
        last_refresh: rec.last_refresh.or(state.last_refresh),
        store: StoreInfo {
            backend: Some(backend),
            location: state.location.clone(),
            reason: state.backend_reason.clone(),
            mode,
            open_to_others: Vec::new(),
        },
        last_error: state.last_error.clone(),
        last_error_kind: error_kind(&state),
        pending_login: pending,
        usage: state.rate_limits.clone(),
        generation: state.generation,
    }
}

/// One line of [`Status::details`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Account,
    AccessToken,
    Usage,
    StoredIn,
    Why,
    Permissions,
    PendingSignIn,
    LastError,
}

impl Detail {
    pub fn label(self) -> &'static str {
        match self {
            Detail::Account => "Account",
            Detail::AccessToken => "Access token",
            Detail::Usage => "Usage",
            Detail::StoredIn => "Stored in",
            Detail::Why => "Why",
            Detail::Permissions => "Permissions",
            Detail::PendingSignIn => "Pending sign-in",
            Detail::LastError => "Last error",
        }
    }
}

/// The kind of state.json's last error. Only with an error (an older release clears the message
/// and leaves the kind), and for a message an older release wrote without a kind, the one it
/// wrote with a sign-out: "session expired".
fn error_kind(state: &State) -> Option<ErrorKind> {
    let message = state.last_error.as_deref()?;
    state.last_error_kind.or_else(|| {
        message
            .starts_with("session expired")
            .then_some(ErrorKind::SignIn)
    })
}

impl Status {
    /// A profile with no credentials and nothing else to say (the base of every signed-out status).
    pub fn signed_out(profile: &str, mode: crate::StoreMode) -> Self {
        Status {
            signed_in: false,
            unreadable: false,
            profile: profile.to_owned(),
            auth_mode: None,
            email: None,
            plan: None,
            account_id: None,
            workspace: None,
            user_id: None,
            expires_at: None,
            last_refresh: None,
            store: StoreInfo {
                backend: None,
                location: None,
                reason: None,
                mode,
                open_to_others: Vec::new(),
            },
            last_error: None,
            last_error_kind: None,
            pending_login: None,
            usage: None,
            generation: 0,
        }
    }

    /// Signed in with an OpenAI API key (no expiry, no usage windows).
    pub fn is_api_key(&self) -> bool {
        self.signed_in && self.auth_mode == Some(AuthMode::ApiKey)
    }

    /// The access token's expiry, for ChatGPT sign-ins (API keys do not expire).
    pub fn token_expiry(&self) -> Option<DateTime<Utc>> {
        if self.signed_in && !self.is_api_key() {
            self.expires_at
        } else {
            None
        }
    }

    /// Signed out because the session died: only a new sign-in helps.
    pub fn session_expired(&self) -> bool {
        !self.signed_in && self.last_error_kind == Some(ErrorKind::SignIn)
    }

    /// The effective remaining of the last windows seen.
    pub fn remaining(&self) -> Option<&Remaining> {
        self.usage.as_ref()?.effective.as_ref()
    }

    /// The email, or words for it.
    pub fn who(&self) -> &str {
        self.email.as_deref().unwrap_or("your ChatGPT account")
    }

    /// The plan as people write it ("Plus", "Pro"), when known.
    pub fn plan_label(&self) -> Option<String> {
        self.plan.as_deref().map(plan_label)
    }

    /// One line: "Signed in as ada@example.com · Plus", "Signed in with an API key",
    /// "Signing in… (waiting for the browser)", "Session expired — sign in again", "Not signed in".
    pub fn headline(&self) -> String {
        if self.is_api_key() {
            "Signed in with an API key".into()
        } else if self.signed_in {
            let plan = self
                .plan_label()
                .map(|p| format!(" · {p}"))
                .unwrap_or_default();
            format!("Signed in as {}{plan}", self.who())
        } else if self.unreadable {
            "Cannot read the stored sign-in".into()
        } else if let Some(p) = &self.pending_login {
            format!("Signing in… ({})", p.method.waiting_for())
        } else if self.session_expired() {
            "Session expired — sign in again".into()
        } else {
            "Not signed in".into()
        }
    }

    /// What other users may open, and what makes it private: "other users of this machine may
    /// open /…/auth.json (0644); …".
    fn open_to_others_text(&self) -> String {
        let open = &self.store.open_to_others;
        let list: Vec<String> = open
            .iter()
            .map(|o| format!("{} ({})", o.path, o.mode))
            .collect();
        let paths: Vec<&str> = open.iter().map(|o| o.path.as_str()).collect();
        format!(
            "other users of this machine may open {}; they are made private again (files 0600, folders 0700) at the store's next write, or now with `chmod go-rwx {}`",
            list.join(", "),
            paths.join(" ")
        )
    }

    /// The labelled facts under the headline, in the order people read them.
    pub fn details(&self) -> Vec<(Detail, String)> {
        let now = Utc::now();
        let mut out = Vec::new();
        if let Some(a) = &self.account_id {
            let text = match &self.workspace {
                Some(name) => format!("{a} (workspace {name})"),
                None => a.clone(),
            };
            out.push((Detail::Account, text));
        }
        if let Some(exp) = self.token_expiry() {
            let text = if exp <= now {
                format!(
                    "expired at {}; it is refreshed on next use",
                    local_time(exp, now)
                )
            } else {
                format!(
                    "valid until {} (refreshed automatically)",
                    local_time(exp, now)
                )
            };
            out.push((Detail::AccessToken, text));
        }
        if let Some(r) = self.remaining() {
            out.push((Detail::Usage, r.describe()));
        }
        if let Some(b) = self.store.backend {
            let place = self
                .store
                .location
                .as_deref()
                .map(|l| format!(" — {l}"))
                .unwrap_or_default();
            out.push((Detail::StoredIn, format!("{}{place}", b.label())));
        }
        if let Some(r) = &self.store.reason {
            out.push((Detail::Why, r.clone()));
        }
        if !self.store.open_to_others.is_empty() {
            out.push((Detail::Permissions, self.open_to_others_text()));
        }
        if let Some(p) = &self.pending_login {
            out.push((Detail::PendingSignIn, pending_text(p, now)));
        }
        if let Some(e) = &self.last_error {
            out.push((Detail::LastError, e.clone()));
        }
        out
    }
}

/// "browser: open https://… (until 14:05 UTC)", "device: open https://… and enter the code ABCD-1234 (…)".
pub fn pending_text(p: &PendingLogin, now: DateTime<Utc>) -> String {
    let code = p
        .user_code
        .as_deref()
        .map(|c| format!(" and enter the code {c}"))
        .unwrap_or_default();
    format!(
        "{}: open {}{code} (until {})",
        p.method,
        p.url,
        local_time(p.expires_at, now)
    )
}

/// "Plus", "Pro", "Team"; unknown plans keep their name with a capital first letter.
pub fn plan_label(plan: &str) -> String {
    capitalized(plan)
}

/// `text` with its first letter in upper case (core's messages start in lower case).
pub fn capitalized(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A time for people: local, with how far away it is ("2026-12-01 14:05 CET (in 12 min)").
pub fn local_time(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let text = t.with_timezone(&Local).format("%Y-%m-%d %H:%M %Z");
    let mins = (t - now).num_minutes();
    if t <= now {
        format!("{text}")
    } else if mins < 120 {
        format!("{text} (in {mins} min)")
    } else if mins < 48 * 60 {
        format!("{text} (in {} h)", mins / 60)
    } else {
        format!("{text} (in {} days)", mins / (24 * 60))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::StoreMode;
    use crate::store::SignInMethod;

    fn signed_out() -> Status {
        Status::signed_out("default", StoreMode::Auto)
    }

    fn signed_in() -> Status {
        Status {
            signed_in: true,
            auth_mode: Some(AuthMode::ChatGpt),
            email: Some("ada@example.com".into()),
            plan: Some("plus".into()),
            account_id: Some("acc-1".into()),
            expires_at: Some(Utc::now() + chrono::Duration::minutes(50)),
            store: StoreInfo {
                backend: Some(Backend::File),
                location: Some("/home/ada/auth.json".into()),
                reason: Some("keychain unavailable: no D-Bus".into()),
                mode: StoreMode::Auto,
                open_to_others: Vec::new(),
            },
            ..signed_out()
        }
    }

    #[test]
    fn the_headline_says_who_or_why_not() {
        assert_eq!(
            signed_in().headline(),
            "Signed in as ada@example.com · Plus"
        );
        let mut key = signed_in();
        key.auth_mode = Some(AuthMode::ApiKey);
        assert_eq!(key.headline(), "Signed in with an API key");
        assert_eq!(key.token_expiry(), None, "API keys do not expire");
        assert_eq!(signed_out().headline(), "Not signed in");

        let mut expired = signed_out();
        expired.last_error = Some("session expired: sign in again (invalid_grant)".into());
        assert_eq!(
            expired.headline(),
            "Not signed in",
            "the kind decides, not the text"
        );
        expired.last_error_kind = Some(ErrorKind::SignIn);
        assert!(expired.session_expired());
        assert_eq!(expired.headline(), "Session expired — sign in again");

        let mut pending = signed_out();
        pending.pending_login = Some(PendingLogin::new(
            SignInMethod::Device,
            "https://auth.example/codex/device",
            Some("ABCD-1234".into()),
            std::time::Duration::from_secs(900),
        ));
        assert_eq!(
            pending.headline(),
            "Signing in… (waiting for the device code)"
        );
        let details = pending.details();
        let (label, text) = &details[0];
        assert_eq!(*label, Detail::PendingSignIn);
        assert!(
            text.starts_with(
                "device: open https://auth.example/codex/device and enter the code ABCD-1234 (until "
            ),
            "{text}"
        );
    }

    #[test]
    fn the_details_come_in_reading_order_with_the_storage_named_for_people() {
        let labels: Vec<&str> = signed_in()
            .details()
            .iter()
            .map(|(d, _)| d.label())
            .collect();
        assert_eq!(labels, ["Account", "Access token", "Stored in", "Why"]);
        let details = signed_in().details();
        assert_eq!(details[2].1, "file — /home/ada/auth.json");
        assert!(details[1].1.starts_with("valid until "), "{}", details[1].1);
        let mut st = signed_in();
        st.expires_at = Some(Utc::now() - chrono::Duration::minutes(1));
        assert!(st.details()[1].1.starts_with("expired at "));
    }

    #[test]
    fn an_older_release_s_session_expired_without_a_kind_still_reads_as_expired() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::for_home(dir.path()).unwrap();
        let state = State {
            last_error: Some("session expired: sign in again (refresh_token_reused)".into()),
            ..State::default()
        };
        let st = status_of(&settings, StoreMode::Auto, state, Ok(None));
        assert!(st.session_expired());
        assert_eq!(st.headline(), "Session expired — sign in again");
        // A kind an older release left behind without its message is no error at all.
        let state = State {
            last_error_kind: Some(ErrorKind::SignIn),
            ..State::default()
        };
        let st = status_of(&settings, StoreMode::Auto, state, Ok(None));
        assert_eq!(st.last_error_kind, None);
        assert!(!st.session_expired());
    }

    #[test]
    fn store_files_open_to_others_are_a_detail_that_says_what_to_do() {
        let mut st = signed_in();
        st.store.open_to_others = vec![
            OpenToOthers {
                path: "/home/ada/.local/share/codex-oauth/default".into(),
                mode: "0755".into(),
            },
            OpenToOthers {
                path: "/home/ada/.local/share/codex-oauth/default/auth.json".into(),
                mode: "0644".into(),
            },
        ];
        let details = st.details();
        let labels: Vec<&str> = details.iter().map(|(d, _)| d.label()).collect();
        assert_eq!(
            labels,
            ["Account", "Access token", "Stored in", "Why", "Permissions"]
        );
        assert_eq!(
            details[4].1,
            "other users of this machine may open /home/ada/.local/share/codex-oauth/default (0755), /home/ada/.local/share/codex-oauth/default/auth.json (0644); they are made private again (files 0600, folders 0700) at the store's next write, or now with `chmod go-rwx /home/ada/.local/share/codex-oauth/default /home/ada/.local/share/codex-oauth/default/auth.json`"
        );
    }

    #[test]
    fn plan_labels_keep_unknown_plans() {
        assert_eq!(plan_label("pro"), "Pro");
        assert_eq!(plan_label("enterprise_plus"), "Enterprise_plus");
        assert_eq!(plan_label(""), "");
        assert_eq!(capitalized("énorme"), "Énorme");
    }
}
