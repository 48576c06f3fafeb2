//! `Store`: one profile's record on the backend its store mode picks (`backend_for`), with
//! state.json kept in step with the secret and every change made under the cross-process lock.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;

use crate::config::{KEYCHAIN_SERVICE, Settings, StoreMode};
use crate::error::{Error, ErrorKind, Result};
use crate::store::backend::{SaveOutcome, SecretBackend};
use crate::store::fsutil;
use crate::store::keychain::{KEYCHAIN_TIMEOUT, Keychain, OsKeychain, TimedKeychain};
use crate::store::layout;
use crate::store::lock::{self, LOCK_WAIT, LockGuard};
use crate::store::modes::backend_for;
use crate::store::record::AuthRecord;
use crate::store::state::State;

/// A file or folder of the store that other users of the machine may open.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct OpenToOthers {
    pub path: String,
    /// Its permission bits, in octal: `0644`.
    pub mode: String,
}

pub struct Store {
    profile: String,
    dir: PathBuf,
    auth_path: PathBuf,
    mode: StoreMode,
    backend: Box<dyn SecretBackend>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("profile", &self.profile)
            .field("dir", &self.dir)
            .field("mode", &self.mode)
            .finish()
    }
}

impl Store {
    /// The store of the settings' profile, on the OS keychain (every call time-limited).
    pub fn open(settings: &Settings) -> Result<Self> {
        let os: Arc<dyn Keychain> = Arc::new(OsKeychain::new(KEYCHAIN_SERVICE));
        Self::with_keychain(settings, Arc::new(TimedKeychain::new(os, KEYCHAIN_TIMEOUT)))
    }

    /// The same on a given keychain (tests pass an in-memory or failing one).
    pub fn with_keychain(settings: &Settings, keychain: Arc<dyn Keychain>) -> Result<Self> {
        let dir = settings.profile_dir();
        fsutil::create_dir_private(&settings.home)?;
        fsutil::ensure_private_dir(&dir)?;
        Ok(Self {
            profile: settings.profile.clone(),
            auth_path: layout::auth_file(&dir),
            backend: backend_for(settings.store, &dir, &settings.profile, keychain),
            dir,
            mode: settings.store,
        })
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn mode(&self) -> StoreMode {
        self.mode
    }
    pub fn auth_path(&self) -> &Path {
        &self.auth_path
    }
    pub fn state_path(&self) -> PathBuf {
        layout::state_file(&self.dir)
    }
    pub fn lock_path(&self) -> PathBuf {
        layout::lock_file(&self.dir)
    }

    /// Take the cross-process lock (blocking, with a time limit).
    pub fn lock(&self) -> Result<LockGuard> {
        lock::acquire(&self.lock_path(), LOCK_WAIT)
    }

    /// Take the cross-process lock without blocking the async runtime.
    pub async fn lock_async(&self) -> Result<LockGuard> {
        lock::acquire_async(&self.lock_path(), LOCK_WAIT).await
    }

    /// The record, from where the store mode keeps it (`auto`: where state.json says it is, or,
    /// with no state, wherever it is found).
    pub fn load(&self) -> Result<Option<AuthRecord>> {
        let mut rec = self.backend.load()?;
        // An opaque access token's expiry is in state.json alone (`save` wrote it there from the
        // record's `expires_in`); it holds only while state.json describes this very record.
        if let Some(r) = rec.as_mut()
            && r.tokens.is_some()
            && r.access_expiry().is_none()
        {
            let st = self.state();
            if st.last_refresh.is_some() && st.last_refresh == r.last_refresh {
                r.access_expires_hint = st.expires_at;
            }
        }
        Ok(rec)
    }

    /// Save the record where the mode says, and bring state.json in step.
    pub fn save(&self, guard: &LockGuard, record: &AuthRecord) -> Result<SaveOutcome> {
        record.validate()?;
        let outcome = self.backend.save(record)?;
        self.note_saved(guard, record, &outcome)?;
        self.backend.tidy_after_save(&outcome);
        Ok(outcome)
    }

    /// Save `record` as `save` does; when the chosen backend cannot take it (a keychain write
    /// that fails), save it to the 0600 file instead and say why in state.json. A rotated
    /// refresh token is worth more than the user's storage preference.
    pub fn save_or_fallback(&self, guard: &LockGuard, record: &AuthRecord) -> Result<SaveOutcome> {
        let refused = match self.save(guard, record) {
            Ok(o) => return Ok(o),
            Err(e) => e,
        };
        let outcome = self.backend.fall_back(record, refused)?;
        self.note_saved(guard, record, &outcome)?;
        Ok(outcome)
    }

    /// Whether a record of about `size` bytes can be written in the profile folder now: a
    /// private temp file of that size is written, synced and removed.
    pub fn check_writable(&self, size: usize) -> Result<()> {
        fsutil::check_writable(&self.dir, size.max(1024) * 2)
    }

    /// state.json after a save: signed in, where, and the record's facts.
    fn note_saved(
        &self,
        guard: &LockGuard,
        record: &AuthRecord,
        outcome: &SaveOutcome,
    ) -> Result<()> {
        let claims = record.claims();
        self.update_state(guard, |s| {
            s.signed_in = true;
            s.auth_mode = Some(record.mode());
            s.backend = Some(outcome.backend);
            s.location = Some(outcome.location.clone());
            s.backend_reason = outcome.reason.clone();
            s.email = claims.email.clone();
            s.plan = claims.plan.clone();
            s.account_id = record.account_id();
            s.user_id = claims.user_id.clone();
            s.expires_at = claims.expires_at;
            s.last_refresh = record.last_refresh;
            s.clear_error();
            s.refresh_retry_after = None;
        })?;
        Ok(())
    }

    /// Delete the secret wherever the mode may have put it; state.json says signed out, with
    /// `reason` kept as the last error (e.g. "session expired: sign in again"). True when a secret
    /// was deleted. A keychain that cannot be cleared changes nothing and says so.
    pub fn delete(&self, guard: &LockGuard, reason: Option<String>) -> Result<bool> {
        let deleted = self.backend.delete()?;
        self.remove_leftovers();
        self.update_state(guard, |s| {
            let generation = s.generation;
            let rate_limits = s.rate_limits.take();
            *s = State {
                generation,
                rate_limits,
                ..State::default()
            };
            if let Some(r) = &reason {
                // A delete with a reason is the sign-out of a dead session.
                s.set_error(ErrorKind::SignIn, r.clone());
            }
        })?;
        Ok(deleted)
    }

    /// Copies of the record that outlived what made them (temp files of a killed write, space
    /// checks, records kept aside as corrupt). Each may hold a refresh token; after a sign-out
    /// none is wanted.
    fn remove_leftovers(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if layout::is_leftover_copy(&name)
                && let Err(e) = std::fs::remove_file(entry.path())
            {
                tracing::warn!(error = %e, file = %name, "cannot remove a leftover copy of the credentials");
            }
        }
    }

    /// Remove the profile folder when it holds nothing but state.json and the lock: a profile
    /// made for a sign-in that never finished. True when the folder is gone.
    pub fn remove_if_empty(&self) -> Result<bool> {
        layout::remove_if_empty(&self.dir)
    }

    /// Remove the profile folder and everything in it (conversations, caches), once its secret
    /// is deleted: a profile that was merged into another.
    pub fn remove_folder(&self) -> Result<()> {
        layout::remove(&self.dir)
    }

    /// state.json as it is now; a corrupt one is moved aside (and said so), a missing one is empty.
    /// One replaced by another process while it was read is read again.
    pub fn state(&self) -> State {
        State::read(&self.state_path())
    }

    /// Read-modify-write state.json under the lock; bumps `generation`. Every write of the
    /// store ends here, and leaves nothing of the profile folder open to other users (files
    /// 0600, folders 0700), whatever a copy or a `chmod` did to it.
    pub fn update_state(&self, _guard: &LockGuard, f: impl FnOnce(&mut State)) -> Result<State> {
        let mut s = self.state();
        let generation = s.generation;
        f(&mut s);
        s.generation = generation + 1;
        s.updated_at = Some(Utc::now());
        let bytes = serde_json::to_vec_pretty(&s).map_err(|e| Error::Internal(e.to_string()))?;
        fsutil::write_atomic(&self.state_path(), &bytes)?;
        fsutil::make_private(&fsutil::open_to_others(&self.dir));
        Ok(s)
    }

    /// The profile folder and what is in it that other users may open (a status reports them;
    /// the next write makes them private again).
    pub fn open_to_others(&self) -> Vec<OpenToOthers> {
        fsutil::open_to_others(&self.dir)
            .into_iter()
            .map(|(path, mode)| OpenToOthers {
                path: path.display().to_string(),
                mode: format!("{mode:04o}"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::KeychainError;
    use crate::secret::Secret;
    use crate::store::keychain::{FaultyKeychain, MemoryKeychain};
    use crate::store::state::Backend;
    use std::sync::atomic::Ordering;

    fn jwt(payload: serde_json::Value) -> String {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(b"{\"alg\":\"none\"}"),
            e.encode(payload.to_string())
        )
    }

    fn record() -> AuthRecord {
        let auth = serde_json::json!({"chatgpt_account_id": "acc-1", "chatgpt_plan_type": "plus"});
        AuthRecord::from_tokens(
            Secret::new(jwt(
                serde_json::json!({"email": "ada@example.com", "https://api.openai.com/auth": auth}),
            )),
            Secret::new(jwt(serde_json::json!({"exp": 1_900_000_000}))),
            Secret::new("rt_1"),
            None,
        )
    }

    fn settings(dir: &Path, mode: StoreMode) -> Settings {
        let mut s = Settings::for_home(dir).unwrap();
        s.store = mode;
        s
    }

    #[cfg(unix)]
    #[test]
    fn a_store_open_to_others_is_reported_and_made_private_by_the_next_write() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mem = Arc::new(MemoryKeychain::new(10_000));
        let store = Store::with_keychain(&settings(dir.path(), StoreMode::File), mem).unwrap();
        let g = store.lock().unwrap();
        store.save(&g, &record()).unwrap();
        assert_eq!(store.open_to_others(), []);
        let set = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        set(store.auth_path(), 0o644);
        set(&store.state_path(), 0o644);
        set(&store.lock_path(), 0o666);
        set(store.dir(), 0o755);
        let open: Vec<(String, String)> = store
            .open_to_others()
            .into_iter()
            .map(|o| (o.path, o.mode))
            .collect();
        let shown = |p: &Path| p.display().to_string();
        assert_eq!(
            open,
            [
                (shown(store.dir()), "0755".to_owned()),
                (shown(store.auth_path()), "0644".to_owned()),
                (shown(&store.lock_path()), "0666".to_owned()),
                (shown(&store.state_path()), "0644".to_owned()),
            ]
        );
        // A write of the state alone (a usage update) is a write of the store.
        store.update_state(&g, |s| s.email = None).unwrap();
        assert_eq!(store.open_to_others(), []);
        assert_eq!(mode(store.dir()), 0o700);
        assert_eq!(mode(store.auth_path()), 0o600);
        assert_eq!(mode(&store.state_path()), 0o600);
        assert_eq!(mode(&store.lock_path()), 0o600);
    }

    #[test]
    fn auto_prefers_the_keychain_and_removes_a_leftover_file() {
        let dir = tempfile::tempdir().unwrap();
        let mem = Arc::new(MemoryKeychain::new(10_000));
        let store = Store::with_keychain(&settings(dir.path(), StoreMode::Auto), mem).unwrap();
        let rec = record();
        std::fs::write(store.auth_path(), rec.to_json().unwrap()).unwrap();
        let g = store.lock().unwrap();
        let out = store.save(&g, &rec).unwrap();
        assert_eq!(out.backend, Backend::Keyring);
        assert!(out.reason.is_none());
        assert!(!store.auth_path().exists());
        let st = store.state();
        assert!(st.signed_in);
        assert_eq!(st.email.as_deref(), Some("ada@example.com"));
        assert_eq!(st.account_id.as_deref(), Some("acc-1"));
        assert_eq!(st.plan.as_deref(), Some("plus"));
        assert_eq!(st.backend, Some(Backend::Keyring));
        assert_eq!(store.load().unwrap().unwrap(), rec);
    }

    #[test]
    fn an_opaque_access_token_keeps_its_expires_in_across_processes_but_only_for_its_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&settings(dir.path(), StoreMode::File)).unwrap();
        let mut rec = record();
        if let Some(t) = rec.tokens.as_mut() {
            t.access_token = Secret::new("at_not_a_jwt");
        }
        assert_eq!(rec.access_expiry(), None);
        rec.set_expires_in(Some(3_600));
        let expect = rec.last_refresh.unwrap() + chrono::Duration::seconds(3_600);
        assert_eq!(rec.access_expiry(), Some(expect));
        let g = store.lock().unwrap();
        store.save(&g, &rec).unwrap();
        drop(g);
        // A fresh Store (another process) reads the expiry back from state.json.
        let again = Store::open(&settings(dir.path(), StoreMode::File)).unwrap();
        assert_eq!(again.load().unwrap().unwrap().access_expiry(), Some(expect));
        assert_eq!(again.state().expires_at, Some(expect));
        // The record replaced behind our back (say, by the Codex CLI): the old expiry does not apply.
        let mut other = rec.clone();
        other.last_refresh = Some(expect);
        std::fs::write(again.auth_path(), other.to_json().unwrap()).unwrap();
        assert_eq!(again.load().unwrap().unwrap().access_expiry(), None);
        // A JWT's own `exp` always wins over `expires_in`.
        let mut jwt_rec = record();
        jwt_rec.set_expires_in(Some(60));
        assert_eq!(jwt_rec.access_expires_hint, None);
        assert_eq!(
            jwt_rec.access_expiry().map(|e| e.timestamp()),
            Some(1_900_000_000)
        );
    }

    #[test]
    fn file_mode_sign_out_leaves_the_keychain_alone_unless_the_record_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let mem = Arc::new(MemoryKeychain::new(10_000));
        // Saved to the keychain under `auto`, then the user switched to the file store.
        let auto =
            Store::with_keychain(&settings(dir.path(), StoreMode::Auto), mem.clone()).unwrap();
        let g = auto.lock().unwrap();
        auto.save(&g, &record()).unwrap();
        drop(g);
        assert_eq!(mem.users(), vec!["default".to_string()]);
        let file =
            Store::with_keychain(&settings(dir.path(), StoreMode::File), mem.clone()).unwrap();
        let g = file.lock().unwrap();
        assert!(
            file.delete(&g, None).unwrap(),
            "the keychain copy is removed"
        );
        assert!(mem.users().is_empty());

        // A file-store sign-in and sign-out never reach the keychain (a locked one would prompt).
        file.save(&g, &record()).unwrap();
        mem.set("default", "an item of someone else's choosing")
            .unwrap();
        assert!(file.delete(&g, None).unwrap());
        assert!(!file.auth_path().exists());
        assert_eq!(
            mem.raw("default").as_deref(),
            Some("an item of someone else's choosing")
        );
    }

    #[test]
    fn auto_falls_back_to_the_file_and_records_why() {
        let dir = tempfile::tempdir().unwrap();
        let faulty = Arc::new(FaultyKeychain::new());
        faulty.fail_set.store(true, Ordering::SeqCst);
        faulty.fail_get.store(true, Ordering::SeqCst);
        let store = Store::with_keychain(&settings(dir.path(), StoreMode::Auto), faulty).unwrap();
        let g = store.lock().unwrap();
        let rec = record();
        let out = store.save(&g, &rec).unwrap();
        assert_eq!(out.backend, Backend::File);
        let reason = out.reason.unwrap();
        assert!(reason.starts_with("keychain unavailable:"), "{reason}");
        let st = store.state();
        assert_eq!(st.backend, Some(Backend::File));
        assert_eq!(st.backend_reason.as_deref(), Some(reason.as_str()));
        assert_eq!(store.load().unwrap().unwrap(), rec);
    }

    #[test]
    fn keyring_mode_reports_the_keychain_error_instead_of_falling_back() {
        let dir = tempfile::tempdir().unwrap();
        let faulty = Arc::new(FaultyKeychain::new());
        faulty.fail_set.store(true, Ordering::SeqCst);
        let store =
            Store::with_keychain(&settings(dir.path(), StoreMode::Keyring), faulty).unwrap();
        let g = store.lock().unwrap();
        assert!(matches!(store.save(&g, &record()), Err(Error::Keychain(_))));
        assert!(!store.auth_path().exists());
        assert!(!store.state().signed_in);
    }

    #[test]
    fn a_keychain_that_reads_but_fails_to_write_keeps_the_old_record_or_falls_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let faulty = Arc::new(FaultyKeychain::new());
        let old = record();
        let mut new = record();
        new.last_refresh = Some(chrono::Utc::now() + chrono::Duration::seconds(5));
        assert_ne!(old, new);

        // keyring mode: the write fails, the error says so, and the old record is still there.
        let keyring =
            Store::with_keychain(&settings(dir.path(), StoreMode::Keyring), faulty.clone())
                .unwrap();
        let g = keyring.lock().unwrap();
        keyring.save(&g, &old).unwrap();
        faulty.fail_set.store(true, Ordering::SeqCst);
        assert_eq!(keyring.load().unwrap().unwrap(), old, "reads still work");
        assert!(matches!(keyring.save(&g, &new), Err(Error::Keychain(_))));
        assert_eq!(keyring.load().unwrap().unwrap(), old, "old record intact");
        assert!(keyring.state().signed_in);
        drop(g);

        // auto mode: the new record goes to the file, whole, with the reason; loads find it.
        let auto = Store::with_keychain(&settings(dir.path(), StoreMode::Auto), faulty).unwrap();
        let g = auto.lock().unwrap();
        let out = auto.save(&g, &new).unwrap();
        assert_eq!(out.backend, Backend::File);
        assert!(out.reason.unwrap().starts_with("keychain unavailable:"));
        assert_eq!(auto.load().unwrap().unwrap(), new, "the newer record wins");
        assert_eq!(auto.state().backend, Some(Backend::File));
    }

    #[test]
    fn a_rotation_the_keychain_refuses_goes_to_the_file_and_is_what_loads_next() {
        let dir = tempfile::tempdir().unwrap();
        let faulty = Arc::new(FaultyKeychain::new());
        let old = record();
        let mut rotated = record();
        rotated.last_refresh = Some(chrono::Utc::now() + chrono::Duration::seconds(5));
        for mode in [StoreMode::Keyring, StoreMode::Auto] {
            faulty.fail_set.store(false, Ordering::SeqCst);
            let store = Store::with_keychain(&settings(dir.path(), mode), faulty.clone()).unwrap();
            let g = store.lock().unwrap();
            store.save(&g, &old).unwrap();
            faulty.fail_set.store(true, Ordering::SeqCst);
            let out = store.save_or_fallback(&g, &rotated).unwrap();
            assert_eq!(out.backend, Backend::File, "{mode:?}");
            assert!(
                out.reason.is_some(),
                "{mode:?}: status says why it is not in the keychain"
            );
            assert_eq!(
                store.load().unwrap().unwrap(),
                rotated,
                "{mode:?}: the rotation is what loads, not the keychain's spent copy"
            );
            // Even with state.json gone, the newer copy wins.
            std::fs::remove_file(store.state_path()).unwrap();
            assert_eq!(store.load().unwrap().unwrap(), rotated, "{mode:?}");
            faulty.fail_set.store(false, Ordering::SeqCst);
            store.delete(&g, None).unwrap();
        }
    }

    #[test]
    fn delete_signs_out_keeps_the_reason_and_bumps_the_generation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::with_keychain(
            &settings(dir.path(), StoreMode::File),
            Arc::new(MemoryKeychain::new(100)),
        )
        .unwrap();
        let g = store.lock().unwrap();
        store.save(&g, &record()).unwrap();
        let before = store.state().generation;
        assert!(
            store
                .delete(&g, Some("session expired: sign in again".into()))
                .unwrap()
        );
        let st = store.state();
        assert!(!st.signed_in);
        assert!(st.email.is_none());
        assert_eq!(
            st.last_error.as_deref(),
            Some("session expired: sign in again")
        );
        assert_eq!(st.last_error_kind, Some(ErrorKind::SignIn));
        assert!(st.generation > before);
        assert!(store.load().unwrap().is_none());
    }

    #[test]
    fn a_sign_out_that_cannot_clear_a_locked_keychain_says_so_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let faulty = Arc::new(FaultyKeychain::new());
        let store =
            Store::with_keychain(&settings(dir.path(), StoreMode::Auto), faulty.clone()).unwrap();
        let g = store.lock().unwrap();
        let rec = record();
        assert_eq!(store.save(&g, &rec).unwrap().backend, Backend::Keyring);
        *faulty.error.lock().unwrap() = KeychainError::Locked("test: locked".into());
        faulty.fail_set.store(true, Ordering::SeqCst);
        let e = store.delete(&g, None).unwrap_err();
        assert!(matches!(e, Error::SignOutIncomplete { .. }), "{e}");
        assert!(e.to_string().contains("unlock the keychain"), "{e}");
        assert!(store.state().signed_in, "state.json still says signed in");
        faulty.fail_set.store(false, Ordering::SeqCst);
        assert_eq!(store.load().unwrap().unwrap(), rec);
        assert!(store.delete(&g, None).unwrap());
        assert!(store.load().unwrap().is_none());
        assert!(!store.state().signed_in);
    }

    #[test]
    fn sign_out_removes_leftover_copies_that_may_hold_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::with_keychain(
            &settings(dir.path(), StoreMode::File),
            Arc::new(MemoryKeychain::new(10_000)),
        )
        .unwrap();
        let g = store.lock().unwrap();
        store.save(&g, &record()).unwrap();
        let profile = store.auth_path().parent().unwrap().to_path_buf();
        let leftovers = [
            ".auth.json.Xy12ab.tmp",
            ".write-check.Q9.tmp",
            "auth.json.corrupt-20261201T101010.123Z",
        ];
        for name in leftovers {
            std::fs::write(profile.join(name), b"rt_secret").unwrap();
        }
        assert!(store.delete(&g, None).unwrap());
        for name in leftovers {
            assert!(!profile.join(name).exists(), "{name} is left");
        }
        assert!(layout::state_file(&profile).exists());
    }

    #[test]
    fn a_corrupt_state_file_is_kept_aside_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::with_keychain(
            &settings(dir.path(), StoreMode::File),
            Arc::new(MemoryKeychain::new(100)),
        )
        .unwrap();
        std::fs::write(store.state_path(), b"{not json").unwrap();
        let st = store.state();
        assert!(st.last_error.unwrap().contains("state.json.corrupt-"));
        let moved: Vec<_> = std::fs::read_dir(store.dir())
            .unwrap()
            .filter_map(std::result::Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("state.json.corrupt-")
            })
            .collect();
        assert_eq!(moved.len(), 1);
    }
}
