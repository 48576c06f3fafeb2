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
        match result {
            Err(Error::SessionExpired { .. }) | Err(Error::NotSignedIn { .. }) => {
                tracing::info!("the session ended; waiting for a new sign-in");
            }
            Err(e) => tracing::warn!(error = %e, "background refresh failed; will retry"),
            Ok(_) => {}
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
