//! The background refresh: sleep until the token is due (a timer from its expiry, re-armed on every
//! status change), let core refresh it, and back off when that fails. No polling loop.

use std::sync::Arc;

use chrono::Utc;
use codex_oauth_core::Error;

use crate::hub::Hub;
use crate::schedule::{next_wake, retry_pause, still_due};

/// Run until the hub's sender is gone.
pub async fn run(hub: Arc<Hub>) {
    let mut rx = hub.subscribe();
    let mut failures: u32 = 0;
    let mut retry_at = None;
    loop {
        let status = rx.borrow_and_update().status.clone();
        if !still_due(&status, Utc::now()) {
            failures = 0;
            retry_at = None;
        }
        let wake = next_wake(&status, Utc::now(), retry_at);
        let sleep = async {
            match wake {
                Some(at) => {
                    let wait = (at - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait).await
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
            () = sleep => {}
        }
        hub.set_refreshing(true);
        let result = hub.session().access_token().await;
        hub.set_refreshing(false);
        let snap = hub.reload().await;
        match step_after(&result) {
            Step::Ended => tracing::info!("the session ended; waiting for a new sign-in"),
            Step::Park => {
                // Trying again cannot help (status shows why): wait for the sign-in to change.
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "background refresh stopped until the sign-in changes");
                }
                let key = record_key(&snap.status);
                loop {
                    if rx.changed().await.is_err() {
                        return;
                    }
                    if record_key(&rx.borrow_and_update().status) != key {
                        break;
                    }
                }
                failures = 0;
                retry_at = None;
                continue;
            }
            Step::Retry => {
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "background refresh failed; will retry");
                }
            }
        }
        if still_due(&snap.status, Utc::now()) {
            failures = failures.saturating_add(1);
            retry_at = Some(Utc::now() + retry_pause(failures));
        } else {
            failures = 0;
            retry_at = None;
        }
        // The reload may have changed nothing (a failed refresh): mark it seen and re-arm.
        rx.borrow_and_update();
    }
}

/// What identifies the stored sign-in: a change to any of these is a new chance for a refresh.
#[derive(PartialEq)]
struct RecordKey {
    signed_in: bool,
    last_refresh: Option<chrono::DateTime<Utc>>,
    expires_at: Option<chrono::DateTime<Utc>>,
    account_id: Option<String>,
}

fn record_key(s: &codex_oauth_core::Status) -> RecordKey {
    RecordKey {
        signed_in: s.signed_in,
        last_refresh: s.last_refresh,
        expires_at: s.expires_at,
        account_id: s.account_id.clone(),
    }
}

/// What the timer does after an attempt.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Go on: re-arm from the new status, backing off while the token stays due.
    Retry,
    /// The sign-in is gone; the timer stands down until there is a new one.
    Ended,
    /// Trying again cannot help: wait for the stored sign-in to change.
    Park,
}

fn step_after<T>(result: &Result<T, Error>) -> Step {
    match result {
        Err(Error::SessionExpired { .. } | Error::NotSignedIn { .. }) => Step::Ended,
        Err(e) if e.retry_cannot_help() => Step::Park,
        _ => Step::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_that_cannot_pass_parks_the_timer_and_a_passing_one_retries() {
        let refused: Result<(), Error> = Err(Error::OAuth {
            code: Some("invalid_client".into()),
            message: "unknown client".into(),
        });
        assert_eq!(step_after(&refused), Step::Park);
        let down: Result<(), Error> = Err(Error::Network {
            what: "the sign-in server".into(),
            detail: "connection refused".into(),
        });
        assert_eq!(step_after(&down), Step::Retry);
        let locked: Result<(), Error> = Err(Error::Keychain(
            codex_oauth_core::KeychainError::Locked("locked".into()),
        ));
        assert_eq!(
            step_after(&locked),
            Step::Retry,
            "a keychain may be unlocked"
        );
        let gone: Result<(), Error> = Err(Error::SessionExpired {
            reason: "invalid_grant".into(),
        });
        assert_eq!(step_after(&gone), Step::Ended);
        assert_eq!(step_after(&Ok::<(), Error>(())), Step::Retry);
    }
}
