//! When the background refresh wakes up: one timer from the token's expiry, no polling. Wake a few
//! seconds inside core's refresh margin (so `Session::access_token` refreshes), and after a failed
//! attempt retry with a growing pause, never later than the expiry itself.

use chrono::{DateTime, Utc};
use codex_oauth_core::{REFRESH_MARGIN, Status};

/// How far inside the refresh margin the timer fires.
pub const LEAD: chrono::Duration = chrono::Duration::seconds(5);
const RETRY_FIRST: chrono::Duration = chrono::Duration::seconds(30);
const RETRY_MAX: chrono::Duration = chrono::Duration::minutes(5);

/// When the token of `status` should be refreshed; `None` when there is nothing to refresh
/// (signed out, API key, no readable expiry).
pub fn refresh_due(status: &Status) -> Option<DateTime<Utc>> {
    if !status.signed_in || status.is_api_key() {
        return None;
    }
    let margin = chrono::Duration::from_std(REFRESH_MARGIN).ok()?;
    Some(status.expires_at? - margin + LEAD)
}

/// The next wake-up: the refresh due time, or after a failure `retry_at`, capped at the expiry.
pub fn next_wake(
    status: &Status,
    now: DateTime<Utc>,
    retry_at: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    // A store that cannot be read (a locked keychain) may hold a sign-in that needs refreshing:
    // look again after the retry pause instead of standing down as if signed out.
    if status.unreadable {
        return Some(retry_at.unwrap_or(now + RETRY_FIRST).max(now));
    }
    let due = refresh_due(status)?;
    if due > now {
        return Some(due);
    }
    let retry = retry_at.unwrap_or(now).max(now);
    match status.expires_at {
        Some(exp) if exp > now => Some(retry.min(exp)),
        _ => Some(retry),
    }
}

/// The pause after the `failures`-th failed attempt in a row (1 → 30 s, doubling, at most 5 min).
pub fn retry_pause(failures: u32) -> chrono::Duration {
    let mut pause = RETRY_FIRST;
    for _ in 1..failures {
        pause = (pause * 2).min(RETRY_MAX);
        if pause == RETRY_MAX {
            break;
        }
    }
    pause.min(RETRY_MAX)
}

/// Whether an attempt left the token still due: then it failed (core keeps a still-valid token
/// on a transient failure and says so in `last_error`). A store still unreadable is a failure too.
pub fn still_due(status: &Status, now: DateTime<Utc>) -> bool {
    status.unreadable || refresh_due(status).is_some_and(|due| due <= now)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use codex_oauth_core::StoreMode;
    use codex_oauth_core::store::{AuthMode, Backend};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }
    fn mins(m: i64) -> chrono::Duration {
        chrono::Duration::minutes(m)
    }

    fn status(expires_in: Option<chrono::Duration>) -> Status {
        let mut s = Status::signed_out("default", StoreMode::File);
        s.signed_in = true;
        s.auth_mode = Some(AuthMode::ChatGpt);
        s.expires_at = expires_in.map(|d| now() + d);
        s.store.backend = Some(Backend::File);
        s.generation = 1;
        s
    }

    #[test]
    fn the_timer_fires_just_inside_the_refresh_margin() {
        let s = status(Some(mins(60)));
        assert_eq!(next_wake(&s, now(), None), Some(now() + mins(55) + LEAD));
        assert!(!still_due(&s, now()));
    }

    #[test]
    fn nothing_to_wake_for_when_signed_out_or_on_an_api_key() {
        let mut s = status(Some(mins(60)));
        s.signed_in = false;
        assert_eq!(next_wake(&s, now(), None), None);
        let mut s = status(Some(mins(60)));
        s.auth_mode = Some(AuthMode::ApiKey);
        assert_eq!(next_wake(&s, now(), None), None);
        assert_eq!(next_wake(&status(None), now(), None), None);
    }

    #[test]
    fn a_due_token_is_refreshed_now_then_retried_after_a_pause_but_not_past_expiry() {
        let s = status(Some(mins(3)));
        assert!(still_due(&s, now()));
        assert_eq!(next_wake(&s, now(), None), Some(now()));
        let retry = now() + retry_pause(1);
        assert_eq!(next_wake(&s, now(), Some(retry)), Some(retry));
        let late = now() + mins(10);
        assert_eq!(next_wake(&s, now(), Some(late)), Some(now() + mins(3)));
        // A retry time in the past means now.
        assert_eq!(next_wake(&s, now(), Some(now() - mins(1))), Some(now()));
    }

    #[test]
    fn an_expired_token_keeps_being_retried_with_backoff() {
        let s = status(Some(mins(-2)));
        let retry = now() + retry_pause(3);
        assert_eq!(next_wake(&s, now(), Some(retry)), Some(retry));
    }

    #[test]
    fn an_unreadable_store_is_looked_at_again_with_backoff_not_stood_down() {
        let mut s = Status::signed_out("default", StoreMode::Auto);
        s.unreadable = true;
        assert!(still_due(&s, now()));
        assert_eq!(next_wake(&s, now(), None), Some(now() + retry_pause(1)));
        let later = now() + retry_pause(4);
        assert_eq!(next_wake(&s, now(), Some(later)), Some(later));
    }

    #[test]
    fn the_retry_pause_doubles_up_to_five_minutes() {
        assert_eq!(retry_pause(0), chrono::Duration::seconds(30));
        assert_eq!(retry_pause(1), chrono::Duration::seconds(30));
        assert_eq!(retry_pause(2), chrono::Duration::seconds(60));
        assert_eq!(retry_pause(3), chrono::Duration::seconds(120));
        assert_eq!(retry_pause(5), mins(5));
        assert_eq!(retry_pause(u32::MAX), mins(5));
    }
}
