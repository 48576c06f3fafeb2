//! The hub's snapshot: every account (profile) with its status, which one is the default, and
//! which are being refreshed; and the icon face of an account.

use std::borrow::Cow;

use chrono::{DateTime, TimeZone, Utc};
use codex_oauth_core::jobs::{Job, JobState};
use codex_oauth_core::model::Workspace;
use codex_oauth_core::{REFRESH_MARGIN, Status, StoreMode};
use serde::Serialize;

/// The four faces of the tray icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IconState {
    SignedOut,
    SignedIn,
    /// A refresh is running, or the token is inside the refresh margin.
    Refreshing,
    /// Session expired, the store cannot be read, a refresh keeps failing: the user should look.
    Attention,
}

/// One account's status and what this process is doing about it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSnapshot {
    pub status: Status,
    /// This process is refreshing the account's token right now.
    pub refreshing: bool,
    /// The workspace of the sign-in (state.json, from `accounts/check`), when known.
    pub workspace: Option<Workspace>,
    /// The account's background jobs, newest first.
    pub jobs: Vec<JobSummary>,
}

/// A background job as the tray shows it (its progress left out: it changes every second and
/// is shown nowhere here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobSummary {
    pub id: String,
    pub tool: String,
    pub title: String,
    pub state: JobState,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl JobSummary {
    pub fn of(j: &Job) -> Self {
        Self {
            id: j.id.clone(),
            tool: j.tool.clone(),
            title: j.title.clone(),
            state: j.state,
            started_at: j.started_at,
            ended_at: j.ended_at,
        }
    }
}

impl AccountSnapshot {
    pub fn new(status: Status) -> Self {
        Self {
            status,
            refreshing: false,
            workspace: None,
            jobs: Vec::new(),
        }
    }

    pub fn profile(&self) -> &str {
        &self.status.profile
    }
}

/// Every account of the home folder (sorted by profile name) and the default one.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The default profile (`profile` in config.toml); always one of `accounts`.
    pub default: String,
    pub accounts: Vec<AccountSnapshot>,
    /// Bumped on every change, so the window can drop an answer older than what it shows.
    pub revision: u64,
}

impl Snapshot {
    /// A snapshot of one account, the default.
    pub fn single(account: AccountSnapshot) -> Self {
        Self {
            default: account.status.profile.clone(),
            accounts: vec![account],
            revision: 0,
        }
    }

    pub fn account(&self, profile: &str) -> Option<&AccountSnapshot> {
        self.accounts.iter().find(|a| a.profile() == profile)
    }

    pub fn account_mut(&mut self, profile: &str) -> Option<&mut AccountSnapshot> {
        self.accounts.iter_mut().find(|a| a.profile() == profile)
    }

    /// The default account; signed out when it is not listed (the hub always lists it).
    /// How many background jobs run, in every account.
    pub fn running_jobs(&self) -> usize {
        self.accounts
            .iter()
            .flat_map(|a| &a.jobs)
            .filter(|j| j.state == JobState::Running)
            .count()
    }

    pub fn default_account(&self) -> Cow<'_, AccountSnapshot> {
        match self.account(&self.default) {
            Some(a) => Cow::Borrowed(a),
            None => {
                let mode = self
                    .accounts
                    .first()
                    .map_or(StoreMode::Auto, |a| a.status.store.mode);
                Cow::Owned(AccountSnapshot::new(Status::signed_out(
                    &self.default,
                    mode,
                )))
            }
        }
    }
}

pub(super) fn margin() -> chrono::Duration {
    chrono::Duration::from_std(REFRESH_MARGIN).unwrap_or(chrono::Duration::minutes(5))
}

pub fn icon_state(account: &AccountSnapshot, now: DateTime<Utc>) -> IconState {
    let s = &account.status;
    if !s.signed_in {
        return if s.last_error.is_some() {
            IconState::Attention
        } else {
            IconState::SignedOut
        };
    }
    let expiry = s.token_expiry();
    if expiry.is_some_and(|e| e <= now) {
        return IconState::Attention;
    }
    if account.refreshing || expiry.is_some_and(|e| e - margin() <= now) {
        return IconState::Refreshing;
    }
    if s.last_error.is_some() {
        return IconState::Attention;
    }
    IconState::SignedIn
}

/// A time of day, with the date when it is 20 hours away or more.
pub(super) fn clock<Tz: TimeZone>(t: DateTime<Utc>, now: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let local = t.with_timezone(tz);
    if (t - now).num_hours() < 20 {
        local.format("%H:%M").to_string()
    } else {
        local.format("%b %-d, %H:%M").to_string()
    }
}

/// The first line of an error, cut to a length a menu can show.
pub(super) fn short(message: &str, max: usize) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    if line.chars().count() <= max {
        line.to_string()
    } else {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::fixtures::{acc, now, signed_in, signed_out};

    #[test]
    fn a_token_inside_the_refresh_margin_or_being_refreshed_shows_refreshing() {
        assert_eq!(icon_state(&acc(signed_in(4)), now()), IconState::Refreshing);
        let mut a = acc(signed_in(60));
        a.refreshing = true;
        assert_eq!(icon_state(&a, now()), IconState::Refreshing);
    }

    #[test]
    fn the_default_account_is_found_by_profile_and_is_signed_out_when_missing() {
        let mut work = signed_in(60);
        work.profile = "work".into();
        let snap = Snapshot {
            default: "work".into(),
            accounts: vec![acc(signed_out()), acc(work)],
            revision: 3,
        };
        assert_eq!(snap.default_account().profile(), "work");
        assert!(snap.default_account().status.signed_in);
        let gone = Snapshot {
            default: "personal".into(),
            ..snap
        };
        let d = gone.default_account();
        assert_eq!(d.profile(), "personal");
        assert!(!d.status.signed_in);
    }
}
