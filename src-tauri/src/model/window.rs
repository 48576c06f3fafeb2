//! What the window shows: a card per account, the default marked.

use chrono::{DateTime, TimeZone, Utc};
use codex_oauth_core::model::Workspace;
use codex_oauth_core::status::capitalized;
use codex_oauth_core::store::{AuthMode, SignInMethod};
use codex_oauth_core::{Status, StoreMode};
use serde::Serialize;

use super::menu::account_lines;
use super::snapshot::{AccountSnapshot, IconState, JobSummary, Snapshot};
use crate::usage::{UsageBar, usage_bars};

/// Where the secret is, for the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageView {
    /// "OS keychain", "file", or null when signed out.
    pub backend: Option<String>,
    pub location: Option<String>,
    /// Why the secret is not in the keychain (a fallback), when it is not.
    pub reason: Option<String>,
    /// The configured mode: auto, keyring or file.
    pub mode: StoreMode,
}

/// A sign-in that has started and not finished (this process's or another's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingView {
    pub method: SignInMethod,
    pub url: String,
    pub user_code: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// One account's card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountView {
    pub profile: String,
    /// The default account (what commands without a profile act on).
    pub default: bool,
    pub signed_in: bool,
    pub icon: IconState,
    pub state_line: String,
    pub email: Option<String>,
    pub plan: Option<String>,
    pub account_id: Option<String>,
    /// The workspace's name ("Personal" for a personal account), when known.
    pub workspace: Option<String>,
    pub auth_mode: Option<AuthMode>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_refresh: Option<DateTime<Utc>>,
    pub refreshing: bool,
    pub storage: StorageView,
    pub last_error: Option<String>,
    pub pending: Option<PendingView>,
    pub usage: Vec<UsageBar>,
    /// The effective remaining in words, when the backend reported windows.
    pub remaining: Option<String>,
    pub generation: u64,
    /// The account's background jobs: the running ones and the last ended, newest first (at
    /// most [`JOBS_SHOWN`]).
    pub jobs: Vec<JobSummary>,
}

/// The most jobs a card lists.
pub const JOBS_SHOWN: usize = 8;

/// Everything the window shows, sent on every change (event `status`) and by `get_status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowModel {
    /// The default profile.
    pub default: String,
    /// Every account, in profile order.
    pub accounts: Vec<AccountView>,
    /// Grows with every change: an answer with a lower one is older than what the window shows.
    pub revision: u64,
}

impl WindowModel {
    pub fn account(&self, profile: &str) -> Option<&AccountView> {
        self.accounts.iter().find(|a| a.profile == profile)
    }

    /// The default account's card (the hub always lists the default).
    pub fn default_account(&self) -> Option<&AccountView> {
        self.account(&self.default)
    }
}

/// The workspace as people name it: its name, else its kind ("Personal"). Only the one of the
/// signed-in account counts.
fn workspace_label(status: &Status, workspace: Option<&Workspace>) -> Option<String> {
    let w = workspace.filter(|w| status.account_id.as_deref() == Some(w.account_id.as_str()))?;
    w.name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .or_else(|| w.structure.as_deref().map(capitalized))
}

fn account_view<Tz: TimeZone>(
    a: &AccountSnapshot,
    default: bool,
    now: DateTime<Utc>,
    tz: &Tz,
) -> AccountView
where
    Tz::Offset: std::fmt::Display,
{
    let s = &a.status;
    let (icon, state_line, _) = account_lines(a, now, tz);
    AccountView {
        profile: s.profile.clone(),
        default,
        signed_in: s.signed_in,
        icon,
        state_line,
        email: s.email.clone(),
        plan: s.plan_label(),
        account_id: s.account_id.clone(),
        workspace: workspace_label(s, a.workspace.as_ref()),
        auth_mode: s.auth_mode,
        expires_at: s.token_expiry(),
        last_refresh: s.last_refresh,
        refreshing: a.refreshing,
        storage: StorageView {
            backend: s.store.backend.map(|b| b.label().to_owned()),
            location: s.store.location.clone(),
            reason: s.store.reason.clone(),
            mode: s.store.mode,
        },
        last_error: s.last_error.clone(),
        pending: if s.signed_in {
            None
        } else {
            s.pending_login.as_ref().map(|p| PendingView {
                method: p.method,
                url: p.url.clone(),
                user_code: p.user_code.clone(),
                expires_at: p.expires_at,
            })
        },
        usage: s.usage.as_ref().map(usage_bars).unwrap_or_default(),
        remaining: s
            .remaining()
            .map(codex_oauth_core::model::Remaining::describe),
        generation: s.generation,
        jobs: a.jobs.iter().take(JOBS_SHOWN).cloned().collect(),
    }
}

pub fn window_model<Tz: TimeZone>(snap: &Snapshot, now: DateTime<Utc>, tz: &Tz) -> WindowModel
where
    Tz::Offset: std::fmt::Display,
{
    WindowModel {
        default: snap.default.clone(),
        accounts: snap
            .accounts
            .iter()
            .map(|a| account_view(a, a.profile() == snap.default, now, tz))
            .collect(),
        revision: snap.revision,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::fixtures::{
        acc, api_key, named, now, pending_device, several, signed_in, signed_out, snap, with_left,
    };
    use codex_oauth_core::store::Backend;

    fn workspace(account_id: &str, name: Option<&str>, structure: Option<&str>) -> Workspace {
        Workspace {
            account_id: account_id.into(),
            name: name.map(Into::into),
            plan_type: None,
            structure: structure.map(Into::into),
            backend_origin: None,
            routing_override: None,
            checked_at: now(),
        }
    }

    #[test]
    fn the_window_model_names_the_backend_and_the_fallback_reason() {
        let mut st = signed_in(54);
        st.store.backend = Some(Backend::File);
        st.store.location = Some("/home/ada/.local/share/codex-oauth/default/auth.json".into());
        st.store.reason = Some("keychain unavailable: no Secret Service".into());
        let w = window_model(&snap(st), now(), &Utc);
        let a = w.default_account().unwrap();
        assert_eq!(a.storage.backend.as_deref(), Some("file"));
        assert_eq!(
            a.storage.reason.as_deref(),
            Some("keychain unavailable: no Secret Service")
        );
        assert_eq!(a.plan.as_deref(), Some("Plus"));
        assert_eq!(a.icon, IconState::SignedIn);
        assert!(a.default);
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(json["default"], "default");
        assert_eq!(json["accounts"][0]["icon"], "signed-in");
        assert_eq!(json["accounts"][0]["storage"]["mode"], "auto");

        let w = window_model(&snap(signed_in(54)), now(), &Utc);
        assert_eq!(
            w.accounts[0].storage.backend.as_deref(),
            Some("OS keychain")
        );
    }

    #[test]
    fn a_pending_sign_in_is_shown_on_its_card_while_signed_out() {
        let st = pending_device();
        let w = window_model(&snap(st), now(), &Utc);
        let p = w.accounts[0].pending.clone().unwrap();
        assert_eq!(p.user_code.as_deref(), Some("ABCD-1234"));
        assert_eq!(p.method, SignInMethod::Device);
    }

    #[test]
    fn an_api_key_has_no_expiry_on_its_card() {
        let w = window_model(&snap(api_key("default")), now(), &Utc);
        assert_eq!(w.accounts[0].expires_at, None);
        assert_eq!(w.accounts[0].auth_mode, Some(AuthMode::ApiKey));
    }

    #[test]
    fn every_account_gets_a_card_with_its_own_usage_and_only_the_default_is_marked() {
        let mut work = named("work", with_left(signed_in(90), 25.0));
        work.email = Some("bob@example.com".into());
        work.generation = 9;
        let mut snap = several(
            "work",
            vec![
                signed_in(30),
                api_key("team"),
                work,
                named("zeta", signed_out()),
            ],
        );
        snap.revision = 17;
        snap.accounts[2].refreshing = true;
        let w = window_model(&snap, now(), &Utc);
        assert_eq!(w.default, "work");
        assert_eq!(w.revision, 17);
        let cards: Vec<(&str, bool, bool)> = w
            .accounts
            .iter()
            .map(|a| (a.profile.as_str(), a.default, a.signed_in))
            .collect();
        assert_eq!(
            cards,
            [
                ("default", false, true),
                ("team", false, true),
                ("work", true, true),
                ("zeta", false, false),
            ]
        );
        let work = w.default_account().unwrap();
        assert_eq!(work.email.as_deref(), Some("bob@example.com"));
        assert!(work.refreshing);
        assert_eq!(work.icon, IconState::Refreshing);
        assert_eq!(work.generation, 9);
        assert!(
            work.remaining
                .as_deref()
                .is_some_and(|r| r.starts_with("25% left (weekly window")),
            "{:?}",
            work.remaining
        );
        let ada = w.account("default").unwrap();
        assert_eq!(ada.remaining, None, "usage belongs to its own account");
        assert!(!ada.refreshing);
        assert_eq!(w.account("zeta").unwrap().state_line, "Not signed in");
    }

    #[test]
    fn the_workspace_is_its_name_or_its_kind_and_only_the_signed_in_accounts() {
        let mut a = acc(signed_in(60));
        a.workspace = Some(workspace("acc-1", None, Some("personal")));
        let w = window_model(&Snapshot::single(a.clone()), now(), &Utc);
        assert_eq!(w.accounts[0].workspace.as_deref(), Some("Personal"));
        a.workspace = Some(workspace("acc-1", Some("Research"), Some("workspace")));
        let w = window_model(&Snapshot::single(a.clone()), now(), &Utc);
        assert_eq!(w.accounts[0].workspace.as_deref(), Some("Research"));
        // A record left from another account of the profile is not this one's.
        a.workspace = Some(workspace("acc-other", Some("Research"), None));
        let w = window_model(&Snapshot::single(a), now(), &Utc);
        assert_eq!(w.accounts[0].workspace, None);
    }
}
