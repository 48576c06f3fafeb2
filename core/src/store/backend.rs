//! One trait for where a profile's secret is kept, with one implementation per store mode (file,
//! keychain, auto; see `modes.rs` and `auto.rs`), picked in one place (`backend_for`). Under it,
//! the two places a record can be: the keychain item and `auth.json`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::KEYCHAIN_SERVICE;
use crate::error::{Error, KeychainError, Result};
use crate::store::auth_file::AuthFile;
use crate::store::keychain::Keychain;
use crate::store::keychain_item::KeychainItem;
use crate::store::layout;
use crate::store::record::AuthRecord;
use crate::store::state::{Backend, State};

/// Where a save went, and why when it is not where the settings asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveOutcome {
    pub backend: Backend,
    pub location: String,
    pub reason: Option<String>,
}

/// Load, save and delete one profile's record the way its store mode says. The store keeps
/// state.json in step around these calls, under the lock.
pub trait SecretBackend: Send + Sync {
    /// The record, from where this mode keeps it.
    fn load(&self) -> Result<Option<AuthRecord>>;

    /// Put the record where this mode keeps it; the answer says where it went (and why, when that
    /// is not where the settings asked).
    fn save(&self, record: &AuthRecord) -> Result<SaveOutcome>;

    /// After `save` failed with `refused`: put the record in the 0600 file instead and say why,
    /// for a record worth more than the storage preference (a rotated refresh token). The file
    /// mode has nowhere else to go: `refused` is the answer.
    fn fall_back(&self, _record: &AuthRecord, refused: Error) -> Result<SaveOutcome> {
        Err(refused)
    }

    /// Once state.json names the record `save` put at `saved`: remove the copies it replaces.
    /// What cannot be removed is logged, not returned (an older copy is never loaded over the
    /// newer one).
    fn tidy_after_save(&self, _saved: &SaveOutcome) {}

    /// Delete the record wherever this mode may have put it; true when something was deleted.
    /// A keychain that cannot be cleared is [`Error::SignOutIncomplete`], and then nothing else
    /// is deleted.
    fn delete(&self) -> Result<bool>;
}

/// The places of one profile's record, shared by the backends: the keychain item, `auth.json`,
/// and `state.json`, which says which of the two holds it.
pub(crate) struct Places {
    pub keychain: KeychainItem,
    pub file: AuthFile,
    state_file: PathBuf,
}

impl Places {
    pub fn new(dir: &Path, profile: &str, keychain: Arc<dyn Keychain>) -> Self {
        Self {
            keychain: KeychainItem::new(keychain, KEYCHAIN_SERVICE, profile),
            file: AuthFile::new(layout::auth_file(dir)),
            state_file: layout::state_file(dir),
        }
    }

    /// state.json as it is now.
    pub fn state(&self) -> State {
        State::read(&self.state_file)
    }

    pub fn in_keychain(&self) -> SaveOutcome {
        SaveOutcome {
            backend: Backend::Keyring,
            location: self.keychain.location(),
            reason: None,
        }
    }

    pub fn in_file(&self, reason: Option<String>) -> SaveOutcome {
        SaveOutcome {
            backend: Backend::File,
            location: self.file.location(),
            reason,
        }
    }

    /// The keychain's record and the file's, the newer of the two by `last_refresh`; a keychain
    /// that cannot be read leaves the file's.
    pub fn newer_of_both(&self) -> Result<Option<AuthRecord>> {
        match (self.keychain.load(), self.file.load()) {
            (Ok(Some(k)), Ok(Some(f))) => Ok(Some(newer(k, f))),
            (Ok(Some(k)), _) => Ok(Some(k)),
            (Ok(None), f) => f,
            (Err(e), Ok(Some(f))) => {
                tracing::warn!(error = %e, "keychain not readable; using the file");
                Ok(Some(f))
            }
            (Err(e), _) => Err(e),
        }
    }

    /// The record the keychain refused goes to the 0600 file, with the reason for status.
    pub fn fall_back_to_file(&self, record: &AuthRecord, refused: Error) -> Result<SaveOutcome> {
        tracing::warn!(error = %refused, "the keychain cannot take the refreshed sign-in; saving it to the 0600 file");
        self.file.save(record)?;
        Ok(self.in_file(Some(format!(
            "the keychain could not take a refreshed sign-in ({refused}); it is in the private file until the keychain works again"
        ))))
    }

    /// Delete the keychain's record, then the file's. A keychain that cannot be cleared stops
    /// the sign-out (the user is told, instead of a state.json that says "signed out" over a
    /// record that still loads), except a keychain that is not there at all when
    /// `none_kept_there` (nothing can have been kept in it).
    pub fn delete_both(&self, none_kept_there: bool) -> Result<bool> {
        let mut deleted = false;
        match self.keychain.delete() {
            Ok(d) => deleted |= d,
            Err(Error::Keychain(KeychainError::Unavailable(e))) if none_kept_there => {
                tracing::debug!(error = %e, "no keychain while deleting; nothing kept there")
            }
            Err(e) => {
                return Err(Error::SignOutIncomplete {
                    what: self.keychain.location(),
                    detail: e.to_string(),
                });
            }
        }
        deleted |= self.file.delete()?;
        Ok(deleted)
    }
}

/// Of two copies of the record, the one refreshed last (the keychain's when they tie).
fn newer(keyring: AuthRecord, file: AuthRecord) -> AuthRecord {
    if file.last_refresh > keyring.last_refresh {
        file
    } else {
        keyring
    }
}
