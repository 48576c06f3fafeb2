//! `auth.json` in the profile folder: where the credential record lives when the keychain does
//! not hold it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::store::fsutil;
use crate::store::record::AuthRecord;

/// `auth.json` in the profile folder: 0600 from creation, replaced atomically.
pub struct AuthFile {
    path: PathBuf,
}

impl AuthFile {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// For people: the file path.
    pub fn location(&self) -> String {
        self.path.display().to_string()
    }

    /// The record; a file that is not one is moved aside and the error says where.
    pub fn load(&self) -> Result<Option<AuthRecord>> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Some(bytes) = fsutil::read_optional(&self.path)? else {
                return Ok(None);
            };
            let e = match AuthRecord::from_json(&bytes) {
                Ok(r) => return Ok(Some(r)),
                Err(e) => e,
            };
            let Some(moved) = fsutil::quarantine(&self.path, &bytes)? else {
                if attempts < 5 {
                    continue;
                }
                return Err(Error::Internal(format!(
                    "{} kept changing while it was read; try again",
                    self.path.display()
                )));
            };
            tracing::error!(path = %self.path.display(), moved_to = %moved.display(), "corrupt credential file moved aside");
            return Err(Error::Corrupt {
                what: self.path.display().to_string(),
                moved_to: moved.display().to_string(),
                reason: e.to_string(),
            });
        }
    }

    /// Write the record: 0600 from creation, to a temp file that is synced and renamed over.
    pub fn save(&self, record: &AuthRecord) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            fsutil::ensure_private_dir(dir)?;
        }
        fsutil::write_atomic(&self.path, &record.to_json()?)
    }

    /// True when there was a file to delete.
    pub fn delete(&self) -> Result<bool> {
        fsutil::remove_optional(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_file_is_moved_aside_with_its_path_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.json");
        std::fs::write(&p, b"{\"tokens\": 12").unwrap();
        let fb = AuthFile::new(p.clone());
        let err = fb.load().unwrap_err().to_string();
        assert!(
            err.contains(&p.display().to_string()) && err.contains("auth.json.corrupt-"),
            "{err}"
        );
        assert!(!p.exists());
        assert!(fb.load().unwrap().is_none());
    }
}
