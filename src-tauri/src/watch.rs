//! Watch the store for changes made by any process: `state.json` in each profile folder (a
//! bridge's sign-in, the CLI, a refresh), profile folders that come and go in the home folder
//! (`login --profile work`), and config.toml (`use NAME` changes the default). Folders, not
//! files, are watched: state.json and config.toml are replaced by rename. No polling: every
//! folder is watched on its own (not recursively), so a new profile folder is watched as soon as
//! its creation is seen ([`Watch::sync_dirs`]), before it is looked into.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use codex_oauth_core::store::layout;
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

/// What a file event means for the hub.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// This profile's state.json may have changed: read its status again.
    Profile(String),
    /// A profile folder came or went, or config.toml changed: list the profiles and the default
    /// again.
    Accounts,
    /// This profile's background jobs may have changed (one started, progressed or ended, or
    /// its `jobs` folder was made): read them again.
    Jobs(String),
}

/// What `event` may have changed (created, written, renamed into place, removed); nothing for
/// reads and for files nobody watches (locks, temp files, the secret).
pub fn classify(event: &Event, home: &Path, config_file: &Path) -> Vec<Change> {
    if matches!(event.kind, EventKind::Access(_)) {
        return Vec::new();
    }
    let mut out: Vec<Change> = event
        .paths
        .iter()
        .filter_map(|p| {
            if p == config_file {
                return Some(Change::Accounts);
            }
            if p.parent()? == home {
                // A folder of the home folder: a profile may have come or gone.
                return layout::profile_of_folder(home, p).map(|_| Change::Accounts);
            }
            if let Some(profile) = layout::profile_of_jobs_path(home, p) {
                return Some(Change::Jobs(profile.to_owned()));
            }
            layout::profile_of_state_file(home, p)
                .map(|profile| Change::Profile(profile.to_owned()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The watcher of the store, and which profile folders it watches.
pub struct Watch {
    home: PathBuf,
    watcher: Mutex<RecommendedWatcher>,
    dirs: Mutex<BTreeSet<String>>,
    /// The profiles whose `jobs` folder is watched (with every job folder in it).
    jobs: Mutex<BTreeSet<String>>,
}

impl Watch {
    /// Watch the home folder, the folder of `config_file` (when it is elsewhere) and every profile
    /// folder; `on_change` runs (on the watcher's thread) for each event that matters. Keep the
    /// returned watch alive for as long as changes matter.
    pub fn start(
        home: &Path,
        config_file: &Path,
        on_change: impl Fn(Change) + Send + 'static,
    ) -> notify::Result<Self> {
        let (h, c) = (home.to_path_buf(), config_file.to_path_buf());
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<Event>| match res {
                Ok(event) => classify(&event, &h, &c).into_iter().for_each(&on_change),
                Err(e) => tracing::warn!(error = %e, "watching the store failed"),
            })?;
        watcher.watch(home, RecursiveMode::NonRecursive)?;
        if let Some(dir) = config_file.parent().filter(|d| *d != home)
            && let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive)
        {
            tracing::warn!(error = %e, folder = %dir.display(), "cannot watch the config folder; a default changed by another program shows up on the next change of the accounts");
        }
        let watch = Self {
            home: home.to_path_buf(),
            watcher: Mutex::new(watcher),
            dirs: Mutex::new(BTreeSet::new()),
            jobs: Mutex::new(BTreeSet::new()),
        };
        watch.sync_dirs();
        Ok(watch)
    }

    /// Watch every profile folder of the home folder (and forget the ones gone). Call it before
    /// listing the profiles, so a state.json written after the listing is seen. Watching a folder
    /// again is harmless, and needed when one was removed and made again under the same name.
    pub fn sync_dirs(&self) {
        let present: BTreeSet<String> = layout::profile_folders(&self.home).into_iter().collect();
        {
            let (Ok(mut watcher), Ok(mut dirs)) = (self.watcher.lock(), self.dirs.lock()) else {
                return;
            };
            // A folder removed took its watch with it: nothing to undo for the ones gone.
            dirs.clear();
            if let Ok(mut jobs) = self.jobs.lock() {
                jobs.clear();
            }
            for name in &present {
                match watcher.watch(
                    &layout::profile_dir(&self.home, name),
                    RecursiveMode::NonRecursive,
                ) {
                    Ok(()) => {
                        dirs.insert(name.clone());
                    }
                    // Removed again meanwhile, or out of watches: say so, the rest still counts.
                    Err(e) => {
                        tracing::warn!(error = %e, profile = %name, "cannot watch a profile folder");
                    }
                }
            }
        }
        for name in &present {
            self.watch_jobs(name);
        }
    }

    /// Watch the `jobs` folder of `profile` and the job folders in it (recursively: a job's
    /// record is replaced by rename inside its own folder), once it exists; again after
    /// [`Watch::sync_dirs`].
    pub fn watch_jobs(&self, profile: &str) {
        let dir = layout::jobs_dir(&layout::profile_dir(&self.home, profile));
        let (Ok(mut watcher), Ok(mut jobs)) = (self.watcher.lock(), self.jobs.lock()) else {
            return;
        };
        if jobs.contains(profile) || !dir.is_dir() {
            return;
        }
        match watcher.watch(&dir, RecursiveMode::Recursive) {
            Ok(()) => {
                jobs.insert(profile.to_owned());
            }
            Err(e) => {
                tracing::warn!(error = %e, profile, "cannot watch the background jobs folder");
            }
        }
    }

    /// The profile folders watched (for tests).
    #[cfg(test)]
    pub fn watched(&self) -> Vec<String> {
        self.dirs
            .lock()
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use notify::event::{AccessKind, CreateKind, ModifyKind, RemoveKind, RenameMode};
    use std::sync::mpsc;
    use std::time::Duration;

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        Event {
            kind,
            paths: paths.iter().map(PathBuf::from).collect(),
            attrs: Default::default(),
        }
    }

    fn classified(kind: EventKind, paths: &[&str]) -> Vec<Change> {
        classify(
            &event(kind, paths),
            Path::new("/h"),
            Path::new("/h/config.toml"),
        )
    }

    #[test]
    fn state_json_of_a_profile_profile_folders_and_config_toml_count_nothing_else() {
        let rename = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        let work = || vec![Change::Profile("work".into())];
        assert_eq!(
            classified(rename, &["/h/work/.tmp123", "/h/work/state.json"]),
            work()
        );
        assert_eq!(
            classified(EventKind::Create(CreateKind::File), &["/h/work/state.json"]),
            work()
        );
        assert_eq!(
            classified(EventKind::Remove(RemoveKind::File), &["/h/work/state.json"]),
            work()
        );
        assert_eq!(
            classified(EventKind::Access(AccessKind::Any), &["/h/work/state.json"]),
            []
        );
        assert_eq!(
            classified(EventKind::Modify(ModifyKind::Any), &["/h/work/lock"]),
            []
        );
        assert_eq!(
            classified(EventKind::Create(CreateKind::File), &["/h/work/auth.json"]),
            []
        );
        // A profile folder made or removed; config.toml replaced by rename.
        assert_eq!(
            classified(EventKind::Create(CreateKind::Folder), &["/h/team"]),
            [Change::Accounts]
        );
        assert_eq!(
            classified(EventKind::Remove(RemoveKind::Folder), &["/h/team"]),
            [Change::Accounts]
        );
        assert_eq!(
            classified(rename, &["/h/.config.toml.tmp1", "/h/config.toml"]),
            [Change::Accounts]
        );
        // Not profiles: a temp file in the home folder, a deeper state.json.
        assert_eq!(
            classified(EventKind::Create(CreateKind::File), &["/h/.tmp9"]),
            []
        );
        assert_eq!(
            classified(
                EventKind::Create(CreateKind::File),
                &["/h/work/sub/state.json"]
            ),
            []
        );
    }

    #[test]
    fn a_config_file_elsewhere_is_recognised_by_its_path() {
        let e = event(
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            &["/cfg/codex-oauth/config.toml"],
        );
        assert_eq!(
            classify(
                &e,
                Path::new("/h"),
                Path::new("/cfg/codex-oauth/config.toml")
            ),
            [Change::Accounts]
        );
        let other = event(
            EventKind::Modify(ModifyKind::Any),
            &["/cfg/codex-oauth/notes.txt"],
        );
        assert_eq!(
            classify(
                &other,
                Path::new("/h"),
                Path::new("/cfg/codex-oauth/config.toml")
            ),
            []
        );
    }

    fn wait_for(rx: &mpsc::Receiver<Change>, want: &Change) {
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(c) if &c == want => return,
                Ok(_) => {}
                Err(_) => panic!("no {want:?} within 1 s"),
            }
        }
    }

    #[test]
    fn a_new_profile_its_state_json_and_a_replaced_config_are_seen_within_a_second() {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join("config.toml");
        std::fs::create_dir(home.path().join("default")).unwrap();
        let (tx, rx) = mpsc::channel();
        let watch = Watch::start(home.path(), &config, move |c| {
            let _ = tx.send(c);
        })
        .unwrap();
        assert_eq!(watch.watched(), ["default"]);
        let write = codex_oauth_core::store::write_atomic;
        let state_of = |p: &str| layout::state_file(&home.path().join(p));

        write(&state_of("default"), b"{}").unwrap();
        wait_for(&rx, &Change::Profile("default".into()));

        // Another process makes a profile: the folder first, then its state.json.
        std::fs::create_dir(home.path().join("work")).unwrap();
        wait_for(&rx, &Change::Accounts);
        watch.sync_dirs();
        assert_eq!(watch.watched(), ["default", "work"]);
        write(&state_of("work"), b"{}").unwrap();
        wait_for(&rx, &Change::Profile("work".into()));

        write(&config, b"profile = \"work\"\n").unwrap();
        wait_for(&rx, &Change::Accounts);

        // Gone: forgotten; made again under the same name: watched again (a new folder).
        std::fs::remove_dir_all(home.path().join("work")).unwrap();
        watch.sync_dirs();
        assert_eq!(watch.watched(), ["default"]);
        std::fs::create_dir(home.path().join("work")).unwrap();
        watch.sync_dirs();
        assert_eq!(watch.watched(), ["default", "work"]);
    }
}
