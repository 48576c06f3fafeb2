//! The backend of each store mode, and the one factory that picks it: `file` keeps the record in
//! `auth.json`, `keyring` in the OS keychain, `auto` in the keychain when it works and else in the
//! file (`auto.rs`).

use std::path::Path;
use std::sync::Arc;

use crate::config::StoreMode;
use crate::error::{Error, Result};
use crate::store::auto::AutoBackend;
use crate::store::backend::{Places, SaveOutcome, SecretBackend};
use crate::store::keychain::Keychain;
use crate::store::record::AuthRecord;
use crate::store::state::Backend;

/// The backend of `mode` for the profile whose folder is `dir` (keychain user `profile`).
pub fn backend_for(
    mode: StoreMode,
    dir: &Path,
    profile: &str,
    keychain: Arc<dyn Keychain>,
) -> Box<dyn SecretBackend> {
    let places = Places::new(dir, profile, keychain);
    match mode {
        StoreMode::File => Box::new(FileBackend { places }),
        StoreMode::Keyring => Box::new(KeyringBackend { places }),
        StoreMode::Auto => Box::new(AutoBackend::new(places)),
    }
}

/// `file`: `auth.json` in the profile folder, 0600 from creation, replaced atomically.
struct FileBackend {
    places: Places,
}

impl SecretBackend for FileBackend {
    fn load(&self) -> Result<Option<AuthRecord>> {
        self.places.file.load()
    }

    fn save(&self, record: &AuthRecord) -> Result<SaveOutcome> {
        self.places.file.save(record)?;
        Ok(self.places.in_file(None))
    }

    /// The keychain is left alone unless state.json says the record was last saved there (the
    /// mode was changed since): touching a locked keychain would make the desktop ask for its
    /// password on every sign-out of someone who chose the file.
    fn delete(&self) -> Result<bool> {
        if self.places.state().backend == Some(Backend::Keyring) {
            self.places.delete_both(false)
        } else {
            self.places.file.delete()
        }
    }
}

/// `keyring`: the OS keychain, and nothing else unless a refreshed sign-in it refused had to go
/// to the file.
struct KeyringBackend {
    places: Places,
}

impl SecretBackend for KeyringBackend {
    fn load(&self) -> Result<Option<AuthRecord>> {
        // A refresh the keychain could not take went to the file (`fall_back`): the newer of the
        // two is the record.
        if self.places.file.path().exists() {
            self.places.newer_of_both()
        } else {
            self.places.keychain.load()
        }
    }

    fn save(&self, record: &AuthRecord) -> Result<SaveOutcome> {
        self.places.keychain.save(record)?;
        Ok(self.places.in_keychain())
    }

    fn fall_back(&self, record: &AuthRecord, refused: Error) -> Result<SaveOutcome> {
        self.places.fall_back_to_file(record, refused)
    }

    fn delete(&self) -> Result<bool> {
        self.places.delete_both(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::store::keychain::{FaultyKeychain, MemoryKeychain};
    use crate::store::layout;
    use std::sync::atomic::Ordering;

    /// A record told apart by its refresh token, all refreshed at the same time.
    fn record(rt: &str) -> AuthRecord {
        let mut r = AuthRecord::from_tokens(
            Secret::new("h.i.s"),
            Secret::new("h.a.s"),
            Secret::new(rt),
            None,
        );
        r.last_refresh = chrono::DateTime::from_timestamp(1_800_000_000, 0);
        r
    }

    #[test]
    fn the_factory_gives_each_mode_its_place() {
        for (mode, backend, in_file) in [
            (StoreMode::File, Backend::File, true),
            (StoreMode::Keyring, Backend::Keyring, false),
            (StoreMode::Auto, Backend::Keyring, false),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let mem = Arc::new(MemoryKeychain::new(10_000));
            let b = backend_for(mode, dir.path(), "default", mem.clone());
            let saved = b.save(&record("rt_1")).unwrap();
            assert_eq!(saved.backend, backend, "{mode:?}");
            assert_eq!(saved.reason, None, "{mode:?}");
            assert_eq!(layout::auth_file(dir.path()).exists(), in_file, "{mode:?}");
            assert_eq!(mem.users().is_empty(), in_file, "{mode:?}");
            assert_eq!(b.load().unwrap(), Some(record("rt_1")), "{mode:?}");
            assert!(b.delete().unwrap(), "{mode:?}");
            assert_eq!(b.load().unwrap(), None, "{mode:?}");
        }
    }

    #[test]
    fn auto_falls_back_to_the_file_saying_why_and_only_the_file_mode_refuses_a_fall_back() {
        let dir = tempfile::tempdir().unwrap();
        let faulty = Arc::new(FaultyKeychain::new());
        faulty.fail_set.store(true, Ordering::SeqCst);
        let auto = backend_for(StoreMode::Auto, dir.path(), "default", faulty.clone());
        let saved = auto.save(&record("rt_1")).unwrap();
        assert_eq!(saved.backend, Backend::File);
        assert!(
            saved
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("keychain unavailable:")),
            "{saved:?}"
        );
        let refused = || Error::Internal("refused".into());
        let keyring = backend_for(StoreMode::Keyring, dir.path(), "default", faulty.clone());
        let kept = keyring.fall_back(&record("rt_2"), refused()).unwrap();
        assert_eq!(kept.backend, Backend::File);
        assert!(kept.reason.is_some_and(|r| r.contains("refused")));
        let file = backend_for(StoreMode::File, dir.path(), "default", faulty);
        assert!(file.fall_back(&record("rt_3"), refused()).is_err());
        assert_eq!(file.load().unwrap(), Some(record("rt_2")));
    }

    #[test]
    fn auto_loads_from_where_state_json_says_and_tidies_the_file_only_after_a_keychain_save() {
        let dir = tempfile::tempdir().unwrap();
        let mem = Arc::new(MemoryKeychain::new(10_000));
        let auto = backend_for(StoreMode::Auto, dir.path(), "default", mem.clone());
        let places = Places::new(dir.path(), "default", mem);
        places.keychain.save(&record("rt_keychain")).unwrap();
        places.file.save(&record("rt_file")).unwrap();
        let state = |backend: &str| {
            std::fs::write(
                layout::state_file(dir.path()),
                format!(r#"{{"backend": "{backend}"}}"#),
            )
            .unwrap()
        };
        state("file");
        assert_eq!(auto.load().unwrap(), Some(record("rt_file")));
        // Said to be in the keychain, with a file beside it: the newer of the two (a tie: the
        // keychain's).
        state("keyring");
        assert_eq!(auto.load().unwrap(), Some(record("rt_keychain")));

        auto.tidy_after_save(&places.in_file(None));
        assert!(places.file.path().exists(), "a save to the file keeps it");
        auto.tidy_after_save(&places.in_keychain());
        assert!(!places.file.path().exists(), "the keychain took over");
        assert_eq!(auto.load().unwrap(), Some(record("rt_keychain")));
    }
}
