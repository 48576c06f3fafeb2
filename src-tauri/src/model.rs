//! From a status snapshot of core to what the tray and the window show. Pure functions of the
//! snapshot and the time, so every mapping is tested without a desktop.

use chrono::{DateTime, TimeZone, Utc};
use codex_oauth_core::store::{AuthMode, SignInMethod};
use codex_oauth_core::{REFRESH_MARGIN, Status, StoreMode};
use serde::Serialize;

use crate::usage::{UsageBar, usage_bars};

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

/// A status snapshot and what this process is doing about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub status: Status,
    /// This process is refreshing the token right now.
    pub refreshing: bool,
}

/// What the tray shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    pub icon: IconState,
    /// The disabled first line of the menu.
    pub state_line: String,
    /// Tooltip (where the platform shows one).
    pub tooltip: String,
    /// The sign item says "Sign out" (true) or "Sign in…" (false).
    pub sign_out: bool,
}

fn margin() -> chrono::Duration {
    chrono::Duration::from_std(REFRESH_MARGIN).unwrap_or(chrono::Duration::minutes(5))
}

pub fn icon_state(snap: &Snapshot, now: DateTime<Utc>) -> IconState {
    let s = &snap.status;
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
    if snap.refreshing || expiry.is_some_and(|e| e - margin() <= now) {
        return IconState::Refreshing;
    }
    if s.last_error.is_some() {
        return IconState::Attention;
    }
    IconState::SignedIn
}

fn clock<Tz: TimeZone>(t: DateTime<Utc>, now: DateTime<Utc>, tz: &Tz) -> String
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
fn short(message: &str, max: usize) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    if line.chars().count() <= max {
        line.to_string()
    } else {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

pub fn tray_model<Tz: TimeZone>(snap: &Snapshot, now: DateTime<Utc>, tz: &Tz) -> TrayModel
where
    Tz::Offset: std::fmt::Display,
{
    let s = &snap.status;
    let icon = icon_state(snap, now);
    let headline = s.headline();
    let (state_line, tooltip) = if s.signed_in {
        let validity = match s.token_expiry() {
            Some(e) if e <= now => " · token expired".to_string(),
            Some(e) if snap.refreshing => {
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
    TrayModel {
        icon,
        state_line,
        tooltip,
        sign_out: s.signed_in,
    }
}

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

/// Everything the window shows, sent on every change (event `status`) and by `get_status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowModel {
    pub signed_in: bool,
    pub icon: IconState,
    pub state_line: String,
    pub profile: String,
    pub email: Option<String>,
    pub plan: Option<String>,
    pub account_id: Option<String>,
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
}

pub fn window_model<Tz: TimeZone>(snap: &Snapshot, now: DateTime<Utc>, tz: &Tz) -> WindowModel
where
    Tz::Offset: std::fmt::Display,
{
    let s = &snap.status;
    let tray = tray_model(snap, now, tz);
    WindowModel {
        signed_in: s.signed_in,
        icon: tray.icon,
        state_line: tray.state_line,
        profile: s.profile.clone(),
        email: s.email.clone(),
        plan: s.plan_label(),
        account_id: s.account_id.clone(),
        auth_mode: s.auth_mode,
        expires_at: s.token_expiry(),
        last_refresh: s.last_refresh,
        refreshing: snap.refreshing,
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
            .map(codex_oauth_core::codex::Remaining::describe),
        generation: s.generation,
    }
}

/// A desktop notification worth sending for a change from `prev` to `next`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// A notification about the usage of the account, when one is due between two snapshots: once
/// when the effective remaining crosses one of `alerts` (percent used; the highest one crossed),
/// and once when a limit that had run out has reset.
pub fn usage_notice(prev: &Status, next: &Status, alerts: &[u8]) -> Option<Notice> {
    let (before, after) = (prev.remaining()?, next.remaining()?);
    if before.blocked && !after.blocked {
        return Some(Notice {
            title: "Codex limit reset".into(),
            body: format!("Codex can be used again: {}.", after.describe()),
        });
    }
    let used = |r: &codex_oauth_core::codex::Remaining| 100.0 - r.percent_left;
    let crossed = alerts
        .iter()
        .rev()
        .find(|t| used(before) < f64::from(**t) && used(after) >= f64::from(**t))?;
    Some(Notice {
        title: format!("Codex usage past {crossed}%"),
        body: format!("{}: {}.", next.who(), after.describe()),
    })
}

pub fn notice(prev: &Status, next: &Status) -> Option<Notice> {
    // A keychain that could be read again is not a new sign-in.
    if !prev.signed_in && !prev.unreadable && next.signed_in {
        let who = next.who();
        let plan = next
            .plan_label()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        return Some(Notice {
            title: "Signed in".into(),
            body: format!("codex-oauth is signed in as {who}{plan}."),
        });
    }
    if prev.signed_in && next.session_expired() {
        return Some(Notice {
            title: "Session expired — sign in again".into(),
            body: "The ChatGPT session ended. Open codex-oauth from the tray and sign in again."
                .into(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use codex_oauth_core::store::{Backend, PendingLogin};
    use codex_oauth_core::{ErrorKind, StoreInfo};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn signed_out() -> Status {
        Status {
            generation: 3,
            ..Status::signed_out("default", StoreMode::Auto)
        }
    }

    fn signed_in(expires_in_min: i64) -> Status {
        Status {
            signed_in: true,
            auth_mode: Some(AuthMode::ChatGpt),
            email: Some("ada@example.com".into()),
            plan: Some("plus".into()),
            account_id: Some("acc-1".into()),
            expires_at: Some(now() + chrono::Duration::minutes(expires_in_min)),
            store: StoreInfo {
                backend: Some(Backend::Keyring),
                location: Some("keychain: codex-oauth/default".into()),
                reason: None,
                mode: StoreMode::Auto,
            },
            ..signed_out()
        }
    }

    fn snap(status: Status) -> Snapshot {
        Snapshot {
            status,
            refreshing: false,
        }
    }

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
    }

    #[test]
    fn a_token_inside_the_refresh_margin_or_being_refreshed_shows_refreshing() {
        assert_eq!(
            icon_state(&snap(signed_in(4)), now()),
            IconState::Refreshing
        );
        let mut s = snap(signed_in(60));
        s.refreshing = true;
        assert_eq!(icon_state(&s, now()), IconState::Refreshing);
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

        let mut st = signed_out();
        st.last_error = Some("session expired: sign in again (refresh_token_reused)".into());
        st.last_error_kind = Some(ErrorKind::SignIn);
        let m = tray_model(&snap(st), now(), &Utc);
        assert_eq!(m.icon, IconState::Attention);
        assert_eq!(m.state_line, "Session expired — sign in again");
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
        let mut st = signed_out();
        st.pending_login = Some(PendingLogin {
            method: SignInMethod::Device,
            url: "https://auth.example/codex/device".into(),
            user_code: Some("ABCD-1234".into()),
            started_at: now(),
            expires_at: now() + chrono::Duration::minutes(15),
            pid: 1,
        });
        let s = snap(st);
        assert_eq!(
            tray_model(&s, now(), &Utc).state_line,
            "Signing in… (waiting for the device code)"
        );
        let w = window_model(&s, now(), &Utc);
        let p = w.pending.unwrap();
        assert_eq!(p.user_code.as_deref(), Some("ABCD-1234"));
        assert_eq!(p.method, SignInMethod::Device);
    }

    #[test]
    fn an_api_key_never_expires_and_is_said_so() {
        let mut st = signed_in(0);
        st.auth_mode = Some(AuthMode::ApiKey);
        st.expires_at = None;
        st.email = None;
        st.plan = None;
        let s = snap(st);
        let m = tray_model(&s, now(), &Utc);
        assert_eq!(m.icon, IconState::SignedIn);
        assert_eq!(m.state_line, "Signed in with an API key");
        assert_eq!(window_model(&s, now(), &Utc).expires_at, None);
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
    fn the_window_model_names_the_backend_and_the_fallback_reason() {
        let mut st = signed_in(54);
        st.store.backend = Some(Backend::File);
        st.store.location = Some("/home/ada/.local/share/codex-oauth/default/auth.json".into());
        st.store.reason = Some("keychain unavailable: no Secret Service".into());
        let w = window_model(&snap(st), now(), &Utc);
        assert_eq!(w.storage.backend.as_deref(), Some("file"));
        assert_eq!(
            w.storage.reason.as_deref(),
            Some("keychain unavailable: no Secret Service")
        );
        assert_eq!(w.plan.as_deref(), Some("Plus"));
        assert_eq!(w.icon, IconState::SignedIn);
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(json["icon"], "signed-in");
        assert_eq!(json["storage"]["mode"], "auto");

        let w = window_model(&snap(signed_in(54)), now(), &Utc);
        assert_eq!(w.storage.backend.as_deref(), Some("OS keychain"));
    }

    #[test]
    fn notices_for_sign_in_and_for_an_expired_session_only() {
        let n = notice(&signed_out(), &signed_in(60)).unwrap();
        assert_eq!(n.title, "Signed in");
        assert_eq!(
            n.body,
            "codex-oauth is signed in as ada@example.com (Plus)."
        );

        let mut expired = signed_out();
        expired.last_error = Some("session expired: sign in again (invalid_grant)".into());
        expired.last_error_kind = Some(ErrorKind::SignIn);
        let n = notice(&signed_in(60), &expired).unwrap();
        assert_eq!(n.title, "Session expired — sign in again");

        // A deliberate sign-out, a refresh, or nothing new: no notification.
        assert_eq!(notice(&signed_in(60), &signed_out()), None);
        assert_eq!(notice(&signed_in(10), &signed_in(60)), None);
        assert_eq!(notice(&signed_out(), &signed_out()), None);
    }

    #[test]
    fn a_keychain_read_again_after_it_was_locked_is_no_new_sign_in() {
        let mut locked = signed_out();
        locked.unreadable = true;
        locked.last_error = Some("the keychain is locked or refused access: locked".into());
        assert_eq!(notice(&signed_in(60), &locked), None);
        assert_eq!(notice(&locked, &signed_in(60)), None);
        assert_eq!(
            icon_state(&snap(locked.clone()), now()),
            IconState::Attention
        );
        assert_eq!(locked.headline(), "Cannot read the stored sign-in");
    }

    fn with_left(percent_left: f64) -> Status {
        let mut s = signed_in(60);
        s.usage = Some(
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
        s
    }

    #[test]
    fn usage_notices_come_once_per_threshold_crossed_and_when_a_limit_resets() {
        let alerts = [80, 95];
        assert_eq!(
            usage_notice(&with_left(30.0), &with_left(25.0), &alerts),
            None
        );
        let n = usage_notice(&with_left(25.0), &with_left(19.0), &alerts).unwrap();
        assert_eq!(n.title, "Codex usage past 80%");
        assert!(n.body.contains("19% left"), "{}", n.body);
        // Already past 80: only the next threshold counts, once.
        assert_eq!(
            usage_notice(&with_left(19.0), &with_left(10.0), &alerts),
            None
        );
        let n = usage_notice(&with_left(19.0), &with_left(2.0), &alerts).unwrap();
        assert_eq!(n.title, "Codex usage past 95%");
        // Both at once: the higher one.
        let n = usage_notice(&with_left(50.0), &with_left(0.0), &alerts).unwrap();
        assert_eq!(n.title, "Codex usage past 95%");
        let n = usage_notice(&with_left(0.0), &with_left(100.0), &alerts).unwrap();
        assert_eq!(n.title, "Codex limit reset");
        assert_eq!(usage_notice(&with_left(40.0), &with_left(1.0), &[]), None);
        assert_eq!(usage_notice(&signed_in(60), &with_left(1.0), &alerts), None);
    }
}
