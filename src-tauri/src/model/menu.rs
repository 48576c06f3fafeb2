//! What the tray shows: the icon, tooltip and state line are about the default account; the menu
//! lists every account.

use chrono::{DateTime, TimeZone, Utc};
use codex_oauth_core::Status;

use super::snapshot::{AccountSnapshot, IconState, Snapshot, clock, icon_state, short};

/// One account of the menu (a check item: the default is checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountItem {
    pub profile: String,
    pub label: String,
    pub default: bool,
}

/// What the tray shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    pub icon: IconState,
    /// The disabled first line of the menu (the default account).
    pub state_line: String,
    /// Tooltip (where the platform shows one).
    pub tooltip: String,
    /// The default account is signed in: the menu offers "Add account…" and "Sign out" instead
    /// of "Sign in…".
    pub sign_out: bool,
    /// Every account, in profile order.
    pub accounts: Vec<AccountItem>,
    /// "2 Codex jobs running", while any background job of any account runs.
    pub jobs_line: Option<String>,
}

/// The menu line of the running background jobs.
pub fn jobs_line(running: usize) -> Option<String> {
    match running {
        0 => None,
        1 => Some("1 Codex job running".into()),
        n => Some(format!("{n} Codex jobs running")),
    }
}

/// The face, the state line and the tooltip of one account.
pub(super) fn account_lines<Tz: TimeZone>(
    account: &AccountSnapshot,
    now: DateTime<Utc>,
    tz: &Tz,
) -> (IconState, String, String)
where
    Tz::Offset: std::fmt::Display,
{
    let s = &account.status;
    let icon = icon_state(account, now);
    let headline = s.headline();
    let (state_line, tooltip) = if s.signed_in {
        let validity = match s.token_expiry() {
            Some(e) if e <= now => " · token expired".to_string(),
            Some(e) if account.refreshing => {
                format!(" · refreshing (valid until {})", clock(e, now, tz))
            }
            Some(e) => format!(" · token valid until {}", clock(e, now, tz)),
            None => String::new(),
        };
        let line = format!("{headline}{validity}");
        let left = s
            .remaining()
            .map(|r| format!("\nUsage: {}", r.describe()))
            .unwrap_or_default();
        let tip = match &s.last_error {
            Some(e) if icon == IconState::Attention => {
                format!("codex-oauth: {line}{left}\n{}", short(e, 120))
            }
            _ => format!("codex-oauth: {line}{left}"),
        };
        (line, tip)
    } else if s.pending_login.is_some() || s.session_expired() {
        let tip = match &s.last_error {
            Some(e) if s.pending_login.is_none() => format!("codex-oauth: {}", short(e, 120)),
            _ => format!("codex-oauth: {headline}"),
        };
        (headline, tip)
    } else if let Some(e) = &s.last_error {
        (
            format!("{headline}: {}", short(e, 60)),
            format!("codex-oauth: {}", short(e, 120)),
        )
    } else {
        (headline, "codex-oauth: not signed in".to_string())
    };
    (icon, state_line, tooltip)
}

/// The menu item of an account: "work — ada@example.com · 60% left", "work — API key",
/// "work — not signed in".
pub fn account_label(s: &Status) -> String {
    let what = if s.is_api_key() {
        "API key".to_owned()
    } else if s.signed_in {
        let who = s.who();
        match s.remaining() {
            Some(r) if r.blocked => format!("{who} · limit reached"),
            Some(r) => format!("{who} · {:.0}% left", r.percent_left),
            None => who.to_owned(),
        }
    } else if s.unreadable {
        "cannot read the sign-in".to_owned()
    } else if s.pending_login.is_some() {
        "signing in…".to_owned()
    } else if s.session_expired() {
        "session expired".to_owned()
    } else {
        "not signed in".to_owned()
    };
    format!("{} — {what}", s.profile)
}

pub fn tray_model<Tz: TimeZone>(snap: &Snapshot, now: DateTime<Utc>, tz: &Tz) -> TrayModel
where
    Tz::Offset: std::fmt::Display,
{
    let default = snap.default_account();
    let (icon, state_line, mut tooltip) = account_lines(&default, now, tz);
    if snap.accounts.len() > 1 {
        tooltip.push_str(&format!(
            "\n{} accounts (default: {})",
            snap.accounts.len(),
            snap.default
        ));
    }
    TrayModel {
        icon,
        state_line,
        tooltip,
        sign_out: default.status.signed_in,
        accounts: snap
            .accounts
            .iter()
            .map(|a| AccountItem {
                profile: a.profile().to_owned(),
                label: account_label(&a.status),
                default: a.profile() == snap.default,
            })
            .collect(),
        jobs_line: jobs_line(snap.running_jobs()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::fixtures::{
        api_key, named, now, pending_device, several, signed_in, signed_out, snap, with_left,
    };
    use codex_oauth_core::ErrorKind;

    #[test]
    fn a_fresh_sign_in_shows_the_green_icon_and_who_until_when() {
        let m = tray_model(&snap(signed_in(54)), now(), &Utc);
        assert_eq!(m.icon, IconState::SignedIn);
        assert_eq!(
            m.state_line,
            "Signed in as ada@example.com · Plus · token valid until 12:54"
        );
        assert_eq!(
            m.tooltip,
            "codex-oauth: Signed in as ada@example.com · Plus · token valid until 12:54"
        );
        assert!(m.sign_out);
        assert_eq!(
            m.accounts,
            [AccountItem {
                profile: "default".into(),
                label: "default — ada@example.com".into(),
                default: true,
            }]
        );
    }

    #[test]
    fn a_refreshing_token_says_until_when_it_is_valid() {
        let mut s = snap(signed_in(60));
        s.accounts[0].refreshing = true;
        assert!(
            tray_model(&s, now(), &Utc)
                .state_line
                .ends_with("refreshing (valid until 13:00)")
        );
    }

    #[test]
    fn an_expired_token_or_a_failing_refresh_needs_attention() {
        let m = tray_model(&snap(signed_in(-1)), now(), &Utc);
        assert_eq!(m.icon, IconState::Attention);
        assert!(m.state_line.ends_with("token expired"));

        let mut st = signed_in(30);
        st.last_error = Some("refresh failed, will retry: cannot reach the sign-in server".into());
        let m = tray_model(&snap(st), now(), &Utc);
        assert_eq!(m.icon, IconState::Attention);
        assert!(m.tooltip.contains("refresh failed"), "{}", m.tooltip);
    }

    #[test]
    fn signed_out_is_grey_unless_the_session_expired() {
        let m = tray_model(&snap(signed_out()), now(), &Utc);
        assert_eq!(m.icon, IconState::SignedOut);
        assert_eq!(m.state_line, "Not signed in");
        assert!(!m.sign_out);
        assert_eq!(m.accounts[0].label, "default — not signed in");

        let mut st = signed_out();
        st.last_error = Some("session expired: sign in again (refresh_token_reused)".into());
        st.last_error_kind = Some(ErrorKind::SignIn);
        let m = tray_model(&snap(st), now(), &Utc);
        assert_eq!(m.icon, IconState::Attention);
        assert_eq!(m.state_line, "Session expired — sign in again");
        assert_eq!(m.accounts[0].label, "default — session expired");
    }

    #[test]
    fn an_unreadable_store_says_why_in_the_menu_cut_short() {
        let mut st = signed_out();
        st.last_error = Some(format!(
            "the keychain is locked or refused access: {}",
            "x".repeat(200)
        ));
        let m = tray_model(&snap(st), now(), &Utc);
        assert_eq!(m.icon, IconState::Attention);
        assert!(
            m.state_line
                .starts_with("Not signed in: the keychain is locked")
        );
        assert!(m.state_line.ends_with('…'));
        assert!(m.state_line.chars().count() < 90);
    }

    #[test]
    fn a_pending_sign_in_is_shown_while_signed_out() {
        let st = pending_device();
        let m = tray_model(&snap(st), now(), &Utc);
        assert_eq!(m.state_line, "Signing in… (waiting for the device code)");
        assert_eq!(m.accounts[0].label, "default — signing in…");
    }

    #[test]
    fn an_api_key_never_expires_and_is_said_so() {
        let m = tray_model(&snap(api_key("default")), now(), &Utc);
        assert_eq!(m.icon, IconState::SignedIn);
        assert_eq!(m.state_line, "Signed in with an API key");
        assert_eq!(m.accounts[0].label, "default — API key");
    }

    #[test]
    fn an_expiry_a_day_away_shows_the_date() {
        let m = tray_model(&snap(signed_in(60 * 30)), now(), &Utc);
        assert!(
            m.state_line.ends_with("valid until May 2, 18:00"),
            "{}",
            m.state_line
        );
    }

    #[test]
    fn every_account_is_an_item_the_default_checked_and_the_state_line_is_the_defaults() {
        let mut bob = named("work", with_left(signed_in(90), 18.4));
        bob.email = Some("bob@example.com".into());
        let snap = several(
            "work",
            vec![
                with_left(signed_in(30), 60.0),
                api_key("team"),
                named("zeta", signed_out()),
                bob,
            ],
        );
        let m = tray_model(&snap, now(), &Utc);
        let items: Vec<(&str, &str, bool)> = m
            .accounts
            .iter()
            .map(|a| (a.profile.as_str(), a.label.as_str(), a.default))
            .collect();
        assert_eq!(
            items,
            [
                ("default", "default — ada@example.com · 60% left", false),
                ("team", "team — API key", false),
                ("zeta", "zeta — not signed in", false),
                ("work", "work — bob@example.com · 18% left", true),
            ]
        );
        assert_eq!(
            m.state_line,
            "Signed in as bob@example.com · Plus · token valid until 13:30"
        );
        assert!(m.sign_out);
        assert!(
            m.tooltip
                .starts_with("codex-oauth: Signed in as bob@example.com"),
            "{}",
            m.tooltip
        );
        assert!(
            m.tooltip.ends_with("\n4 accounts (default: work)"),
            "{}",
            m.tooltip
        );
    }

    #[test]
    fn a_signed_out_default_offers_sign_in_though_another_account_is_signed_in() {
        let snap = several("default", vec![signed_out(), named("work", signed_in(60))]);
        let m = tray_model(&snap, now(), &Utc);
        assert!(!m.sign_out);
        assert_eq!(m.icon, IconState::SignedOut);
        assert_eq!(m.state_line, "Not signed in");
        assert_eq!(
            m.accounts.iter().filter(|a| a.default).count(),
            1,
            "exactly one checked"
        );
        assert_eq!(m.accounts[1].label, "work — ada@example.com");
    }

    #[test]
    fn an_account_out_of_usage_says_so_and_one_tooltip_line_counts_the_accounts_only_when_several()
    {
        let m = tray_model(&snap(with_left(signed_in(60), 0.0)), now(), &Utc);
        assert_eq!(
            m.accounts[0].label,
            "default — ada@example.com · limit reached"
        );
        assert!(!m.tooltip.contains("accounts"), "{}", m.tooltip);
    }
}
