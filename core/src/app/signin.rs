//! The one sign-in a process runs at a time, for every front end: start a browser or device-code
//! flow of the session, answer at once with what the user must open, finish it in the background
//! (the session records how it ended), and let one cancel it. Asking again while a flow runs
//! either returns that flow ([`Again::Reuse`], the bridge: a model that calls `codex_login` twice
//! must not break the link it already gave) or replaces it ([`Again::Replace`], the tray: the user
//! pressed "Sign in" again).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::oauth::{BrowserLoginOptions, PasteHandle, SignInCancel, SignInResult};
use crate::session::Session;
use crate::store::{PendingLogin, SignInMethod};

/// What to do when a sign-in is asked for while one of this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Again {
    /// Return the running one.
    Reuse,
    /// Cancel it (freeing its callback port) and start anew.
    Replace,
}

/// What a start gave: the pending sign-in and whether it is the one asked for now.
#[derive(Debug, Clone)]
pub struct Started {
    pub info: PendingLogin,
    pub browser_opened: bool,
    /// False when a sign-in already running was returned.
    pub new: bool,
    /// The sign-in returned runs in another process of ours (the tray, another bridge): it
    /// finishes there, and this process has nothing to cancel.
    pub elsewhere: bool,
}

/// Called once a flow has ended (after the session recorded the end).
pub type OnEnd =
    Box<dyn FnOnce(Result<SignInResult>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

struct Active {
    id: u64,
    info: PendingLogin,
    browser_opened: bool,
    cancel: SignInCancel,
    task: JoinHandle<()>,
}

/// How long `cancel_and_wait` waits for a cancelled flow to stop (it notices at once).
const STOP_WAIT: Duration = Duration::from_secs(3);

pub struct SignIns {
    session: Arc<Session>,
    next: AtomicU64,
    /// Bumped by every cancel: a start that sees it change while it was starting cancels the flow
    /// it just made (a sign-out during a start must not be followed by a sign-in).
    cancels: AtomicU64,
    /// A flow cancelled without waiting (`cancel`), until a later start has seen it stop.
    stopping: Mutex<Option<JoinHandle<()>>>,
    /// Held across a start, so two starts never race for the port.
    starting: tokio::sync::Mutex<()>,
    active: Arc<Mutex<Option<Active>>>,
    /// The browser sign-in last started here, to complete from a pasted redirect (kept after it
    /// ends, so a late paste hears that it ended).
    paste: Mutex<Option<PasteHandle>>,
    /// Counts the flows that ended (after `on_end` ran): a front end waits on it.
    ends: Arc<tokio::sync::watch::Sender<u64>>,
}

impl SignIns {
    pub fn new(session: Arc<Session>) -> Self {
        Self {
            session,
            next: AtomicU64::new(0),
            cancels: AtomicU64::new(0),
            stopping: Mutex::new(None),
            starting: tokio::sync::Mutex::new(()),
            active: Arc::new(Mutex::new(None)),
            paste: Mutex::new(None),
            ends: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// Changes each time a flow of this process ends, however it ended (after the session
    /// recorded it and `on_end` ran).
    pub fn ends(&self) -> tokio::sync::watch::Receiver<u64> {
        self.ends.subscribe()
    }

    /// Start a sign-in of `method` (see [`Again`] for one already running). `on_end` runs when it
    /// ends, however it ends.
    pub async fn start(
        &self,
        method: SignInMethod,
        again: Again,
        on_end: Option<OnEnd>,
    ) -> Result<Started> {
        self.start_for(method, again, on_end, None).await
    }

    /// [`SignIns::start`] for one workspace of the account: the browser flow asks the issuer
    /// for it (`allowed_workspace_id`).
    pub async fn start_for(
        &self,
        method: SignInMethod,
        again: Again,
        on_end: Option<OnEnd>,
        workspace: Option<String>,
    ) -> Result<Started> {
        let _starting = self.starting.lock().await;
        match again {
            Again::Reuse => {
                if let Some(s) = self.running() {
                    return Ok(s);
                }
                // One pending in another live process of ours: starting here would take its
                // callback port (asking it to cancel) and break the link it already gave.
                let session = Arc::clone(&self.session);
                let theirs = tokio::task::spawn_blocking(move || session.store().state())
                    .await
                    .ok()
                    .and_then(|st| st.pending_login)
                    .filter(|p| {
                        p.pid != std::process::id()
                            && p.expires_at > Utc::now()
                            && process_alive(p.pid)
                    });
                if let Some(info) = theirs {
                    return Ok(Started {
                        info,
                        browser_opened: false,
                        new: false,
                        elsewhere: true,
                    });
                }
            }
            Again::Replace => {
                self.cancel_and_wait().await;
            }
        }
        // A flow cancelled earlier without waiting may still hold the callback port.
        let stopping = self
            .stopping
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = stopping {
            let _ = tokio::time::timeout(STOP_WAIT, task).await;
        }
        let cancels = self.cancels.load(Ordering::SeqCst);
        let session = &self.session;
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let (info, browser_opened, cancel, task, paste) = match method {
            SignInMethod::Browser => {
                let mut opts = BrowserLoginOptions::from_settings(session.settings());
                opts.workspace = workspace;
                let (login, info) = session.start_browser_sign_in(opts).await?;
                let opened = login.browser_opened();
                let cancel: SignInCancel = login.cancel_handle().into();
                let paste = login.paste_handle();
                let task = self.background(id, &info.url, login.wait(), on_end);
                (info, opened, cancel, task, Some(paste))
            }
            SignInMethod::Device => {
                let (login, info) = session.start_device_sign_in().await?;
                let cancel: SignInCancel = login.cancel_handle().into();
                let task = self.background(id, &info.url, login.wait(), on_end);
                (info, false, cancel, task, None)
            }
        };
        *self
            .paste
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = paste;
        if self.cancels.load(Ordering::SeqCst) != cancels {
            // Cancelled (a sign-out, a shutdown) while it was starting: it must not go on.
            cancel.cancel();
            let _ = tokio::time::timeout(STOP_WAIT, task).await;
            return Err(crate::Error::LoginCancelled);
        }
        tracing::info!(method = %info.method, "sign-in started; it completes in the background");
        let started = Started {
            info: info.clone(),
            browser_opened,
            new: true,
            elsewhere: false,
        };
        let old = self.slot().replace(Active {
            id,
            info,
            browser_opened,
            cancel,
            task,
        });
        // A finished or expired earlier attempt is simply replaced.
        if let Some(old) = old {
            old.cancel.cancel();
        }
        Ok(started)
    }

    /// The sign-in running in this process, if any.
    pub fn running(&self) -> Option<Started> {
        let slot = self.slot();
        let a = slot.as_ref()?;
        (!a.task.is_finished() && a.info.expires_at > Utc::now()).then(|| Started {
            info: a.info.clone(),
            browser_opened: a.browser_opened,
            new: false,
            elsewhere: false,
        })
    }

    /// Ask the running sign-in to stop; false when none was running. Does not wait.
    pub fn cancel(&self) -> bool {
        self.cancels.fetch_add(1, Ordering::SeqCst);
        match self.slot().take() {
            Some(a) => {
                a.cancel.cancel();
                let was_running = !a.task.is_finished();
                *self
                    .stopping
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(a.task);
                was_running
            }
            None => false,
        }
    }

    /// Cancel the running sign-in and wait (bounded) until it has stopped and freed its port.
    pub async fn cancel_and_wait(&self) -> bool {
        self.cancels.fetch_add(1, Ordering::SeqCst);
        let Some(a) = self.slot().take() else {
            return false;
        };
        let was_running = !a.task.is_finished();
        a.cancel.cancel();
        let _ = tokio::time::timeout(STOP_WAIT, a.task).await;
        was_running
    }

    /// Complete the browser sign-in started here from its final redirect, pasted by hand (see
    /// [`PasteHandle::complete`]); [`Error::NoBrowserSignIn`] when none was started.
    pub async fn paste(&self, pasted: &str) -> Result<SignInResult> {
        let handle = self
            .paste
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match handle {
            Some(h) => h.complete(pasted).await,
            None => Err(Error::NoBrowserSignIn),
        }
    }

    /// Whether `url` is the page the running sign-in asks the user to open (the only one a front
    /// end should open for it).
    pub fn is_flow_url(&self, url: &str) -> bool {
        self.slot()
            .as_ref()
            .is_some_and(|a| !a.task.is_finished() && a.info.url == url)
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Active>> {
        // A poisoned slot only means a panic elsewhere: the value is still a valid Option.
        self.active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wait for the flow in the background: take it out of the slot, let the session record how
    /// it ended, then tell `on_end`.
    fn background(
        &self,
        id: u64,
        url: &str,
        flow: impl Future<Output = Result<SignInResult>> + Send + 'static,
        on_end: Option<OnEnd>,
    ) -> JoinHandle<()> {
        let session = Arc::clone(&self.session);
        let active = Arc::clone(&self.active);
        let ends = Arc::clone(&self.ends);
        let url = url.to_owned();
        tokio::spawn(async move {
            let result = flow.await;
            {
                let mut slot = active
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if slot.as_ref().is_some_and(|a| a.id == id) {
                    *slot = None;
                }
            }
            if let Ok(r) = &result {
                tracing::info!(plan = ?r.plan, backend = r.saved.backend.as_str(), "signed in");
            }
            session.end_sign_in_of(&result, &url).await;
            if let Some(f) = on_end {
                f(result).await;
            }
            ends.send_modify(|n| *n = n.wrapping_add(1));
        })
    }
}

/// Whether a process with this id runs (and may be signalled by us or not).
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(pid) = libc::pid_t::try_from(pid).ok().filter(|p| *p > 0) else {
            return false;
        };
        #[allow(unsafe_code)]
        // SAFETY: kill(2) with signal 0 sends nothing; it only checks the process exists.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}
