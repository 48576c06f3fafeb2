//! The one place the app learns the accounts' state: a session per profile of the home folder
//! (`accounts::profile_names`) and a snapshot of every account's status and of the default,
//! re-read when a state.json, a profile folder or config.toml changes (any process), after each
//! command, and by the refresh timers; everything that shows state (tray, window, notifications,
//! the refresh timers themselves) subscribes to it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use codex_oauth_core::accounts::profile_names;
use codex_oauth_core::app::Accounts;
use codex_oauth_core::codex::CodexClient;
use codex_oauth_core::jobs::{JobState, JobStore};
use codex_oauth_core::signin::SignIns;
use codex_oauth_core::{Session, Settings, Status};
use tokio::sync::{Notify, watch};

use crate::model::{AccountSnapshot, JobSummary, Snapshot};
use crate::watch::{Change, Watch};

/// One profile of the app: its session and Codex client (the registry's) and its sign-in flows.
pub struct Account {
    pub session: Arc<Session>,
    pub flows: SignIns,
    /// The Codex backend client (usage).
    pub codex: Arc<CodexClient>,
}

impl Account {
    /// The account of `profile` from the registry (a profile that does not exist yet is made by
    /// its first sign-in).
    fn open(registry: &Accounts, profile: &str) -> codex_oauth_core::Result<Self> {
        let session = registry.for_sign_in(Some(profile))?;
        let codex = registry.client(Some(profile))?;
        Ok(Self {
            flows: SignIns::new(Arc::clone(&session)),
            session,
            codex,
        })
    }
}

/// While a job is shown running, its account's jobs are read again this often: a runner that
/// died (killed, it changes nothing on disk) is then seen and recorded failed by the reading.
const RUNNING_JOBS_RECHECK: Duration = Duration::from_secs(10);

/// Changes waiting for the reload task: a poke never blocks and none is lost; many become one.
#[derive(Default)]
struct Pokes {
    pending: Mutex<Pending>,
    wake: Notify,
}

#[derive(Default)]
struct Pending {
    accounts: bool,
    profiles: BTreeSet<String>,
    jobs: BTreeSet<String>,
}

pub struct Hub {
    /// The accounts registry of core: the profiles, the default, each one's session and client.
    registry: Accounts,
    /// Every profile opened so far, with its sign-in flows (kept when it goes: it may come back,
    /// and a timer or a flow may still hold it).
    accounts: Mutex<BTreeMap<String, Arc<Account>>>,
    tx: watch::Sender<Snapshot>,
    /// Serializes reloads, so an older status never overwrites a newer one.
    reloading: tokio::sync::Mutex<()>,
    pokes: Pokes,
    watch: OnceLock<Watch>,
    /// [`RUNNING_JOBS_RECHECK`] (shorter in tests).
    running_recheck: Mutex<Duration>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere: the map is still whole.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Hub {
    /// A hub over the accounts of `registry` with its first snapshot; the registry's default
    /// is the default at start. Fails when the default profile cannot be opened.
    pub async fn new(registry: Accounts) -> codex_oauth_core::Result<Arc<Self>> {
        let default = registry.default_profile().to_owned();
        let first = Account::open(&registry, &default)?;
        let (tx, _) = watch::channel(Snapshot {
            default: default.clone(),
            accounts: Vec::new(),
            revision: 0,
        });
        let hub = Arc::new(Self {
            accounts: Mutex::new(BTreeMap::from([(default, Arc::new(first))])),
            registry,
            tx,
            reloading: tokio::sync::Mutex::new(()),
            pokes: Pokes::default(),
            watch: OnceLock::new(),
            running_recheck: Mutex::new(RUNNING_JOBS_RECHECK),
        });
        hub.rescan().await;
        Ok(hub)
    }

    /// The settings the app started with (its default profile then).
    pub fn base(&self) -> &Settings {
        self.registry.settings()
    }

    /// The accounts registry.
    pub fn registry(&self) -> &Accounts {
        &self.registry
    }

    /// Watch the store from now on (the home folder, config.toml and every profile folder).
    pub fn watch_store(self: &Arc<Self>) -> notify::Result<()> {
        let me = Arc::downgrade(self);
        let watch = Watch::start(&self.base().home, &self.base().config_file, move |c| {
            if let Some(hub) = me.upgrade() {
                hub.poke(c);
            }
        })?;
        let _ = self.watch.set(watch);
        Ok(())
    }

    /// The account of `profile`, opened on first use (a profile that does not exist yet is made
    /// by its first sign-in).
    pub fn account(&self, profile: &str) -> codex_oauth_core::Result<Arc<Account>> {
        if let Some(a) = lock(&self.accounts).get(profile) {
            return Ok(Arc::clone(a));
        }
        let opened = Arc::new(Account::open(&self.registry, profile)?);
        Ok(Arc::clone(
            lock(&self.accounts)
                .entry(profile.to_owned())
                .or_insert(opened),
        ))
    }

    /// The accounts opened so far (listed or not).
    pub fn opened(&self) -> Vec<Arc<Account>> {
        lock(&self.accounts).values().cloned().collect()
    }

    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.tx.subscribe()
    }

    pub fn current(&self) -> Snapshot {
        self.tx.borrow().clone()
    }

    pub fn default_profile(&self) -> String {
        self.tx.borrow().default.clone()
    }

    /// Whether `profile` is one of the accounts listed now.
    pub fn is_listed(&self, profile: &str) -> bool {
        self.tx.borrow().account(profile).is_some()
    }

    /// What the default is now, by config.toml (read again).
    pub fn load_default(&self) -> codex_oauth_core::Result<String> {
        self.registry.default_now()
    }

    /// Read one account's status (and workspace) now.
    async fn read(&self, profile: &str) -> AccountSnapshot {
        let account = match self.account(profile) {
            Ok(a) => a,
            Err(e) => {
                let mut s = Status::signed_out(profile, self.base().store);
                s.last_error_kind = Some(e.kind());
                s.last_error = Some(e.to_string());
                return AccountSnapshot::new(s);
            }
        };
        let status = account.session.status().await;
        let store = Arc::clone(account.session.store());
        let workspace = tokio::task::spawn_blocking(move || store.state().workspace)
            .await
            .ok()
            .flatten();
        AccountSnapshot {
            status,
            refreshing: false,
            workspace,
            // Read when the list is read, and when the jobs folder changes (`reload_jobs`), not
            // on every change of the sign-in.
            jobs: Vec::new(),
        }
    }

    /// The background jobs of `profile` (a runner found gone is recorded by the reading).
    async fn read_jobs(&self, profile: &str) -> Vec<JobSummary> {
        let store = JobStore::open(&self.registry.settings_of(profile));
        match tokio::task::spawn_blocking(move || store.list()).await {
            Ok(Ok(jobs)) => jobs.iter().map(JobSummary::of).collect(),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, profile, "cannot read the background jobs");
                Vec::new()
            }
            Err(_) => Vec::new(),
        }
    }

    /// Read one account's background jobs again and tell the subscribers if they changed.
    pub async fn reload_jobs(&self, profile: &str) -> Snapshot {
        if !self.is_listed(profile) {
            return self.rescan().await;
        }
        if let Some(w) = self.watch.get() {
            w.watch_jobs(profile);
        }
        let _one = self.reloading.lock().await;
        let jobs = self.read_jobs(profile).await;
        self.tx.send_if_modified(|snap| {
            let Some(a) = snap.account_mut(profile) else {
                return false;
            };
            if a.jobs == jobs {
                return false;
            }
            a.jobs = jobs;
            snap.revision += 1;
            true
        });
        self.current()
    }

    /// List the profiles and the default again, and read every account's status.
    pub async fn rescan(&self) -> Snapshot {
        let _one = self.reloading.lock().await;
        if let Some(w) = self.watch.get() {
            w.sync_dirs();
        }
        let default = match self.load_default() {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read which account is the default; keeping the one shown");
                self.default_profile()
            }
        };
        let base = self.base().clone();
        let also = default.clone();
        let names = tokio::task::spawn_blocking(move || profile_names(&base, &also))
            .await
            .unwrap_or_else(|_| vec![default.clone()]);
        let mut fresh = Vec::with_capacity(names.len());
        for name in &names {
            let mut account = self.read(name).await;
            account.jobs = self.read_jobs(name).await;
            fresh.push(account);
        }
        self.tx.send_if_modified(|snap| {
            let accounts: Vec<AccountSnapshot> = fresh
                .into_iter()
                .map(|mut a| {
                    // What this process is doing is not in the store: keep it.
                    a.refreshing = snap.account(a.profile()).is_some_and(|o| o.refreshing);
                    a
                })
                .collect();
            if snap.default == default && snap.accounts == accounts {
                return false;
            }
            snap.default = default;
            snap.accounts = accounts;
            snap.revision += 1;
            true
        });
        self.current()
    }

    /// Read one account's status again and tell the subscribers if it changed; a profile not
    /// listed yet makes the list be read again.
    pub async fn reload(&self, profile: &str) -> Snapshot {
        if !self.is_listed(profile) {
            return self.rescan().await;
        }
        let _one = self.reloading.lock().await;
        let next = self.read(profile).await;
        self.tx.send_if_modified(|snap| {
            let Some(a) = snap.account_mut(profile) else {
                return false;
            };
            if a.status == next.status && a.workspace == next.workspace {
                return false;
            }
            a.status = next.status;
            a.workspace = next.workspace;
            snap.revision += 1;
            true
        });
        self.current()
    }

    pub fn set_refreshing(&self, profile: &str, refreshing: bool) {
        self.tx.send_if_modified(|snap| {
            let Some(a) = snap.account_mut(profile) else {
                return false;
            };
            let changed = a.refreshing != refreshing;
            a.refreshing = refreshing;
            if changed {
                snap.revision += 1;
            }
            changed
        });
    }

    /// Ask for a reload from any thread (the file watcher's); never blocks.
    pub fn poke(&self, change: Change) {
        {
            let mut p = lock(&self.pokes.pending);
            match change {
                Change::Accounts => p.accounts = true,
                Change::Profile(name) => {
                    p.profiles.insert(name);
                }
                Change::Jobs(name) => {
                    p.jobs.insert(name);
                }
            }
        }
        self.pokes.wake.notify_one();
    }

    /// The accounts with a job shown running.
    fn with_running_jobs(&self) -> BTreeSet<String> {
        let snap = self.tx.borrow();
        snap.accounts
            .iter()
            .filter(|a| a.jobs.iter().any(|j| j.state == JobState::Running))
            .map(|a| a.profile().to_owned())
            .collect()
    }

    #[cfg(test)]
    fn set_running_recheck(&self, every: Duration) {
        *lock(&self.running_recheck) = every;
    }

    /// Reload what the pokes asked for (coalesced), for as long as the app runs; while a job is
    /// shown running, its account's jobs also every [`RUNNING_JOBS_RECHECK`].
    pub async fn run_reloads(self: Arc<Self>) {
        loop {
            let running = self.with_running_jobs();
            if running.is_empty() {
                self.pokes.wake.notified().await;
            } else {
                let every = *lock(&self.running_recheck);
                tokio::select! {
                    () = self.pokes.wake.notified() => {}
                    () = tokio::time::sleep(every) => lock(&self.pokes.pending).jobs.extend(running),
                }
            }
            let Pending {
                accounts,
                profiles,
                jobs,
            } = std::mem::take(&mut *lock(&self.pokes.pending));
            if accounts {
                self.rescan().await;
            }
            for p in profiles {
                self.reload(&p).await;
            }
            for p in jobs {
                self.reload_jobs(&p).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use codex_oauth_core::StoreMode;
    use codex_oauth_core::store::{AuthRecord, Store};

    fn settings(home: &std::path::Path) -> Settings {
        let mut s = Settings::for_home(home).unwrap();
        s.store = StoreMode::File;
        s
    }

    async fn hub(home: &std::path::Path) -> Arc<Hub> {
        let registry = Accounts::new(
            settings(home),
            codex_oauth_core::codex::CodexOptions::default(),
        );
        Hub::new(registry).await.unwrap()
    }

    #[tokio::test]
    async fn a_change_made_through_another_store_reaches_subscribers_on_reload() {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub(dir.path()).await;
        let mut rx = hub.subscribe();
        let first = hub.current();
        assert_eq!(first.default, "default");
        let generation = first.account("default").unwrap().status.generation;

        // "Another process": a second store on the same folder records an error.
        let other = Store::open(&settings(dir.path())).unwrap();
        let g = other.lock().unwrap();
        other
            .update_state(&g, |s| s.last_error = Some("sign-in failed: denied".into()))
            .unwrap();
        drop(g);

        hub.reload("default").await;
        assert!(rx.has_changed().unwrap());
        let snap = rx.borrow_and_update().clone();
        let status = &snap.account("default").unwrap().status;
        assert_eq!(status.generation, generation + 1);
        assert_eq!(status.last_error.as_deref(), Some("sign-in failed: denied"));
        assert!(snap.revision > first.revision);

        // Nothing new: no wake-up for the subscribers.
        hub.reload("default").await;
        assert!(!rx.has_changed().unwrap());
        hub.set_refreshing("default", true);
        assert!(rx.has_changed().unwrap());
        assert!(hub.current().account("default").unwrap().refreshing);
    }

    fn names(snap: &Snapshot) -> Vec<&str> {
        snap.accounts.iter().map(AccountSnapshot::profile).collect()
    }

    async fn api_key_in(home: &std::path::Path, profile: &str) {
        let s = Session::open(codex_oauth_core::accounts::settings_of(
            &settings(home),
            profile,
        ))
        .unwrap();
        s.save_record(AuthRecord::from_api_key(codex_oauth_core::Secret::new(
            "sk-test-key",
        )))
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn profiles_made_by_others_and_a_new_default_appear_on_a_rescan_and_a_refreshing_flag_survives()
     {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub(dir.path()).await;
        assert_eq!(names(&hub.current()), ["default"]);
        hub.set_refreshing("default", true);

        // Another process signs in profile work (an API key).
        api_key_in(dir.path(), "work").await;
        let snap = hub.rescan().await;
        assert_eq!(names(&snap), ["default", "work"]);
        assert_eq!(snap.default, "default");
        assert!(snap.account("work").unwrap().status.is_api_key());
        assert!(
            snap.account("default").unwrap().refreshing,
            "a rescan keeps what this process is doing"
        );

        // ...and makes it the default: the old default, which holds nothing, is no account.
        codex_oauth_core::accounts::set_default(&settings(dir.path()), "work").unwrap();
        let snap = hub.rescan().await;
        assert_eq!(snap.default, "work");
        assert_eq!(names(&snap), ["work"]);

        // The profile goes (its folder removed): the default is listed all the same.
        std::fs::remove_dir_all(dir.path().join("work")).unwrap();
        let snap = hub.rescan().await;
        assert_eq!(names(&snap), ["work"]);
        assert!(!snap.account("work").unwrap().status.signed_in);
        codex_oauth_core::accounts::set_default(&settings(dir.path()), "default").unwrap();
        assert_eq!(names(&hub.rescan().await), ["default"]);
    }

    #[tokio::test]
    async fn pokes_from_the_watcher_reload_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub(dir.path()).await;
        hub.watch_store().unwrap();
        tokio::spawn(Arc::clone(&hub).run_reloads());
        let mut rx = hub.subscribe();
        api_key_in(dir.path(), "work").await;
        tokio::time::timeout(std::time::Duration::from_secs(2), async {
            loop {
                rx.changed().await.unwrap();
                let snap = rx.borrow_and_update();
                if snap.account("work").is_some_and(|a| a.status.is_api_key()) {
                    break;
                }
            }
        })
        .await
        .expect("the new profile did not appear signed in within 2 s");
    }

    /// A runner killed with SIGKILL changes nothing on disk: the hub still sees it, by reading
    /// the running job's account again while it is shown running, and shows the job failed.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_job_whose_runner_was_killed_is_shown_failed_with_nothing_changed_on_disk() {
        use codex_oauth_core::jobs::{NewJob, Runner, process_start};

        let home = tempfile::tempdir().unwrap();
        let h = hub(home.path()).await;
        h.set_running_recheck(Duration::from_millis(50));
        let store = JobStore::open(&settings(home.path()));
        let job = store
            .create(NewJob {
                tool: "codex_query".into(),
                title: "a question".into(),
                request: serde_json::Value::Null,
                timeout: Duration::from_secs(600),
            })
            .unwrap();
        let mut runner = std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .unwrap();
        let pid = runner.id();
        store
            .set_runner(
                &job.id,
                Runner {
                    pid,
                    started: process_start(pid),
                },
            )
            .unwrap();
        let state = |snap: &Snapshot| {
            snap.account("default")
                .and_then(|a| a.jobs.iter().find(|j| j.id == job.id))
                .map(|j| j.state)
        };
        assert_eq!(state(&h.rescan().await), Some(JobState::Running));
        let mut rx = h.subscribe();
        tokio::spawn(Arc::clone(&h).run_reloads());
        runner.kill().unwrap();
        runner.wait().unwrap();
        tokio::time::timeout(Duration::from_secs(20), async {
            while state(&rx.borrow_and_update()) != Some(JobState::Failed) {
                rx.changed().await.unwrap();
            }
        })
        .await
        .expect("the job was not shown failed within 20 s");
        let recorded = store.get(&job.id).unwrap().unwrap();
        assert_eq!(recorded.state, JobState::Failed);
    }
}
