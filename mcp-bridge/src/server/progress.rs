//! `notifications/progress` while an answer streams: at most one per interval, and a heartbeat
//! while the model is still thinking, so the client sees the call is alive.

use std::time::{Duration, Instant};

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// With no new text, a notification this often anyway.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Sends progress for one call until dropped.
pub struct Progress {
    chars: watch::Sender<usize>,
    task: Option<JoinHandle<()>>,
}

impl Progress {
    /// Progress for `token` (none when the client gave no token) at most once per `interval`.
    pub fn start(
        peer: Peer<RoleServer>,
        token: Option<ProgressToken>,
        what: String,
        interval: Duration,
    ) -> Self {
        let (chars, rx) = watch::channel(0usize);
        let task = token.map(|t| tokio::spawn(run(peer, t, rx, what, interval)));
        Self { chars, task }
    }

    /// The answer has `total` characters so far.
    pub fn received(&self, total: usize) {
        self.chars.send_replace(total);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

async fn run(
    peer: Peer<RoleServer>,
    token: ProgressToken,
    mut rx: watch::Receiver<usize>,
    what: String,
    interval: Duration,
) {
    let started = Instant::now();
    let mut step = 0u32;
    let mut first = true;
    loop {
        if !first {
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(HEARTBEAT) => {}
            }
        }
        first = false;
        let chars = *rx.borrow_and_update();
        let secs = started.elapsed().as_secs();
        let message = if chars == 0 {
            format!("{what}: waiting for the answer ({secs} s)")
        } else {
            format!("{what}: {chars} characters received ({secs} s)")
        };
        step += 1;
        let note =
            ProgressNotificationParam::new(token.clone(), f64::from(step)).with_message(message);
        if peer.notify_progress(note).await.is_err() {
            return;
        }
        tokio::time::sleep(interval).await;
    }
}
