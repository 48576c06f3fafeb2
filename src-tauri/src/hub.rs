//! The one place the app learns the account's state: a status snapshot from core, reloaded when
//! state.json changes (any process), after each command, and by the refresh timer; everything that
//! shows state (tray, window, notifications, the refresh timer itself) subscribes to it.

use std::sync::Arc;

use codex_oauth_core::Session;
use tokio::sync::{Mutex, mpsc, watch};

use crate::model::Snapshot;

pub struct Hub {
    session: Arc<Session>,
    tx: watch::Sender<Snapshot>,
    /// Serializes reloads, so an older status never overwrites a newer one.
    reloading: Mutex<()>,
    poke: mpsc::Sender<()>,
}

impl Hub {
    /// A hub with its first snapshot, and the receiver of pokes for [`Hub::run_reloads`].
    pub async fn new(session: Arc<Session>) -> (Arc<Self>, mpsc::Receiver<()>) {
        let status = session.status().await;
        let (tx, _) = watch::channel(Snapshot {
            status,
            refreshing: false,
        });
        // One slot: any number of pokes while a reload runs become one more reload.
        let (poke, pokes) = mpsc::channel(1);
        (
            Arc::new(Self {
                session,
                tx,
                reloading: Mutex::new(()),
                poke,
            }),
            pokes,
        )
    }

    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.tx.subscribe()
    }

    pub fn current(&self) -> Snapshot {
        self.tx.borrow().clone()
    }

    /// Read the status again and tell the subscribers if it changed.
    pub async fn reload(&self) -> Snapshot {
        let _one = self.reloading.lock().await;
        let status = self.session.status().await;
        self.tx.send_if_modified(|snap| {
            if snap.status == status {
                false
            } else {
                snap.status = status;
                true
            }
        });
        self.current()
    }

    pub fn set_refreshing(&self, refreshing: bool) {
        self.tx.send_if_modified(|snap| {
            let changed = snap.refreshing != refreshing;
            snap.refreshing = refreshing;
            changed
        });
    }

    /// Ask for a reload from any thread (the file watcher's); never blocks.
    pub fn poke(&self) {
        let _ = self.poke.try_send(());
    }

    /// Reload once per poke (coalesced) until the hub is gone.
    pub async fn run_reloads(self: Arc<Self>, mut pokes: mpsc::Receiver<()>) {
        while pokes.recv().await.is_some() {
            self.reload().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use codex_oauth_core::store::Store;
    use codex_oauth_core::{Settings, StoreMode};

    #[tokio::test]
    async fn a_change_made_through_another_store_reaches_subscribers_on_reload() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_home(dir.path()).unwrap();
        settings.store = StoreMode::File;
        let session = Session::open(settings.clone()).unwrap();
        let (hub, _pokes) = Hub::new(session).await;
        let mut rx = hub.subscribe();
        let first = hub.current().status.generation;

        // "Another process": a second store on the same folder records an error.
        let other = Store::open(&settings).unwrap();
        let g = other.lock().unwrap();
        other
            .update_state(&g, |s| s.last_error = Some("sign-in failed: denied".into()))
            .unwrap();
        drop(g);

        hub.reload().await;
        assert!(rx.has_changed().unwrap());
        let snap = rx.borrow_and_update().clone();
        assert_eq!(snap.status.generation, first + 1);
        assert_eq!(
            snap.status.last_error.as_deref(),
            Some("sign-in failed: denied")
        );

        // Nothing new: no wake-up for the subscribers.
        hub.reload().await;
        assert!(!rx.has_changed().unwrap());
        hub.set_refreshing(true);
        assert!(rx.has_changed().unwrap());
    }
}
