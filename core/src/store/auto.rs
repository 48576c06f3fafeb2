//! `auto`: the OS keychain when it works; when it is missing, locked or does not answer in time,
//! the 0600 file, with the reason recorded in state.json (shown in status: never a silent
//! fallback). Loads follow state.json; a delete clears both.

use crate::error::{Error, Result};
use crate::store::backend::{Places, SaveOutcome, SecretBackend};
use crate::store::record::AuthRecord;
use crate::store::state::Backend;

pub struct AutoBackend {
    places: Places,
}

impl AutoBackend {
    pub(crate) fn new(places: Places) -> Self {
        Self { places }
    }
}

impl SecretBackend for AutoBackend {
    fn load(&self) -> Result<Option<AuthRecord>> {
        let places = &self.places;
        let file_there = places.file.path().exists();
        match places.state().backend {
            // A refresh the keychain could not take went to the file, which then holds the
            // newer record; a file left behind by a failed delete holds an older one.
            Some(Backend::Keyring) if file_there => places.newer_of_both(),
            Some(Backend::Keyring) => places.keychain.load(),
            Some(Backend::File) => places.file.load(),
            None if file_there => places.newer_of_both(),
            None => match places.keychain.load() {
                Ok(r) => Ok(r),
                Err(e) => {
                    tracing::debug!(error = %e, "keychain not readable; looking for the file");
                    places.file.load()
                }
            },
        }
    }

    fn save(&self, record: &AuthRecord) -> Result<SaveOutcome> {
        match self.places.keychain.save(record) {
            Ok(()) => Ok(self.places.in_keychain()),
            Err(e) => {
                tracing::warn!(error = %e, "keychain unavailable; saving to the 0600 file");
                self.places.file.save(record)?;
                Ok(self
                    .places
                    .in_file(Some(format!("keychain unavailable: {e}"))))
            }
        }
    }

    fn fall_back(&self, record: &AuthRecord, refused: Error) -> Result<SaveOutcome> {
        self.places.fall_back_to_file(record, refused)
    }

    /// The keychain took it and state.json now names it there: the file's copy goes. (The
    /// pointer first, then the old copy: a failure between them leaves a state.json that names
    /// the record just saved.)
    fn tidy_after_save(&self, saved: &SaveOutcome) {
        if saved.backend != Backend::Keyring {
            return;
        }
        match self.places.file.delete() {
            Ok(true) => {
                tracing::info!(path = %self.places.file.location(), "moved the credentials from the file to the keychain")
            }
            Ok(false) => {}
            // An older copy left behind is never loaded over the newer one.
            Err(e) => tracing::warn!(error = %e, "cannot remove the old credential file"),
        }
    }

    /// With no keychain at all (no Secret Service) and no record said to be there, there is
    /// nothing to clear in it.
    fn delete(&self) -> Result<bool> {
        let kept_in_keychain = self.places.state().backend == Some(Backend::Keyring);
        self.places.delete_both(!kept_in_keychain)
    }
}
