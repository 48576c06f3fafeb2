//! The background refresh, one timer per signed-in account: each sleeps until its token is due (a
//! timer from the expiry, re-armed on every status change), lets core refresh it, and backs off
//! when that fails. [`supervise`] starts a timer when an account appears signed in and ends it
//! when the account goes or signs out. No polling loop.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Utc;
use codex_oauth_core::{Error, Status};
use tokio::sync::{oneshot, watch};

use crate::hub::Hub;
use crate::model::Snapshot;
use crate::schedule::{next_wake, retry_pause, still_due};

/// The profiles that get a timer: signed in with a token that expires, or a store that could not
/// be read (it may hold one).
pub fn wanted(snap: &Snapshot) -> BTreeSet<String> {
    snap.accounts
        .iter()
        .filter(|a| (a.status.signed_in && !a.status.is_api_key()) || a.status.unreadable)
        .map(|a| a.profile().to_owned())
        .collect()
}

/// Keep one timer per account in [`wanted`], until the hub is gone.
pub async fn supervise(hub: Arc<Hub>) {
    let mut rx = hub.subscribe();
    // Dropping a timer's sender ends it (after a refresh in flight has finished).
    let mut timers: BTreeMap<String, oneshot::Sender<()>> = BTreeMap::new();
    loop {
        let want = wanted(&rx.borrow_and_update());
        timers.retain(|profile, _| {
            let keep = want.contains(profile);
            if !keep {
                tracing::debug!(%profile, "refresh timer ended");
            }
            keep
        });
        for profile in want {
            if let std::collections::btree_map::Entry::Vacant(slot) = timers.entry(profile) {
                let profile = slot.key().clone();
                tracing::debug!(%profile, "refresh timer started");
                let (stop, stopped) = oneshot::channel();
                tokio::spawn(run(Arc::clone(&hub), profile, stopped));
                slot.insert(stop);
            }
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// The status of `profile` in the latest snapshot (marking it seen).
fn status_of(rx: &mut watch::Receiver<Snapshot>, profile: &str) -> Option<Status> {
    rx.borrow_and_update()
        .account(profile)
        .map(|a| a.status.clone())
}

/// The timer of one account, until `stop` fires or its sender is dropped.
async fn run(hub: Arc<Hub>, profile: String, mut stop: oneshot::Receiver<()>) {
    let account = match hub.account(&profile) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, %profile, "no background refresh for this account");
            return;
        }
    };
    let mut rx = hub.subscribe();
    let mut failures: u32 = 0;
    let mut retry_at = None;
    loop {
        let Some(status) = status_of(&mut rx, &profile) else {
            return;
        };
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
            _ = &mut stop => return,
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
            () = sleep => {}
        }
        hub.set_refreshing(&profile, true);
        let result = account.session.access_token().await;
        hub.set_refreshing(&profile, false);
        let snap = hub.reload(&profile).await;
        let Some(status) = snap.account(&profile).map(|a| a.status.clone()) else {
            return;
        };
        match step_after(&result) {
            Step::Ended => tracing::info!(%profile, "the session ended; waiting for a new sign-in"),
            Step::Park => {
                // Trying again cannot help (status shows why): wait for the sign-in to change.
                if let Err(e) = &result {
                    tracing::warn!(error = %e, %profile, "background refresh stopped until the sign-in changes");
                }
                let key = record_key(&status);
                loop {
                    tokio::select! {
                        _ = &mut stop => return,
                        changed = rx.changed() => {
                            if changed.is_err() {
                                return;
                            }
                        }
                    }
                    match status_of(&mut rx, &profile) {
                        None => return,
                        Some(s) if record_key(&s) != key => break,
                        Some(_) => {}
                    }
                }
                failures = 0;
                retry_at = None;
                continue;
            }
            Step::Retry => {
                if let Err(e) = &result {
                    tracing::warn!(error = %e, %profile, "background refresh failed; will retry");
                }
            }
        }
        if still_due(&status, Utc::now()) {
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

fn record_key(s: &Status) -> RecordKey {
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
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::AccountSnapshot;
    use codex_oauth_core::StoreMode;
    use codex_oauth_core::store::AuthMode;

    fn account(profile: &str, signed_in: bool, mode: Option<AuthMode>) -> AccountSnapshot {
        let mut s = Status::signed_out(profile, StoreMode::File);
        s.signed_in = signed_in;
        s.auth_mode = mode;
        AccountSnapshot::new(s)
    }

    #[test]
    fn every_signed_in_chatgpt_account_and_every_unreadable_store_gets_a_timer() {
        let mut locked = account("locked", false, None);
        locked.status.unreadable = true;
        let snap = Snapshot {
            default: "default".into(),
            accounts: vec![
                account("default", true, Some(AuthMode::ChatGpt)),
                account("key", true, Some(AuthMode::ApiKey)),
                locked,
                account("out", false, None),
                account("work", true, Some(AuthMode::ChatGpt)),
            ],
            revision: 1,
        };
        assert_eq!(
            wanted(&snap).into_iter().collect::<Vec<_>>(),
            ["default", "locked", "work"]
        );
    }

    #[tokio::test]
    async fn an_account_that_appears_signed_in_gets_its_own_timer_which_refreshes_it() {
        use codex_oauth_core::accounts::settings_of;
        use codex_oauth_core::store::AuthRecord;
        use codex_oauth_core::{Secret, Session};
        use fake_openai::{FakeConfig, FakeOpenAi};

        let fake = FakeOpenAi::start(FakeConfig::default()).await.unwrap();
        let home = tempfile::tempdir().unwrap();
        let hub = crate::testing::hub_on(&fake, home.path()).await;
        let settings = hub.base().clone();
        let timers = tokio::spawn(supervise(Arc::clone(&hub)));

        // Another process signs in profile work with a token inside the refresh margin.
        let t = fake.mint_tokens(120);
        let work = Session::open(settings_of(&settings, "work")).unwrap();
        work.save_record(AuthRecord::from_tokens(
            Secret::new(t.id_token),
            Secret::new(t.access_token),
            Secret::new(t.refresh_token),
            None,
        ))
        .await
        .unwrap();
        let mut rx = hub.subscribe();
        hub.rescan().await;
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                let fresh = rx.borrow_and_update().account("work").is_some_and(|a| {
                    a.status
                        .expires_at
                        .is_some_and(|e| e > Utc::now() + chrono::Duration::minutes(30))
                });
                if fresh {
                    break;
                }
                rx.changed().await.unwrap();
            }
        })
        .await
        .expect("the new account was not refreshed within 10 s");
        assert_eq!(fake.stats().refreshes, 1);
        timers.abort();
    }

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
