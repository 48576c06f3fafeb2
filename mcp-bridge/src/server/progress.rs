//! `notifications/progress` while an answer streams: at most one per interval, and a heartbeat
//! while the model is still thinking, so the client sees the call is alive.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use codex_oauth_core::app::Step;

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// With no new text, a notification this often anyway.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Sends progress for one call until dropped, from the moment the request goes (core's
/// [`Step`]s).
pub struct Progress {
    peer: Peer<RoleServer>,
    token: Option<ProgressToken>,
    interval: Duration,
    chars: watch::Sender<usize>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Progress {
    /// Progress for `token` (none when the client gave no token) at most once per `interval`.
    pub fn new(peer: Peer<RoleServer>, token: Option<ProgressToken>, interval: Duration) -> Self {
        Self {
            peer,
            token,
            interval,
            chars: watch::channel(0usize).0,
            task: Mutex::new(None),
        }
    }

    /// A step of the call: the request going to `what` starts the notifications; each part of
    /// the answer updates them.
    pub fn step(&self, step: Step<'_>) {
        match step {
            Step::Sending(what) => {
                let Some(token) = self.token.clone() else {
                    return;
                };
                self.chars.send_replace(0);
                let rx = self.chars.subscribe();
                let task = tokio::spawn(run(
                    self.peer.clone(),
                    token,
                    rx,
                    what.to_owned(),
                    self.interval,
                ));
                let mut slot = self.task.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(old) = slot.replace(task) {
                    old.abort();
                }
            }
            Step::Received(total) => {
                self.chars.send_replace(total);
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        let slot = self.task.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = slot.take() {
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
