//! The layout of the home folder, known here alone: one folder per profile, named by the profile,
//! holding `auth.json` (the secret, when it is not in the keychain), `state.json` (everything
//! else), `lock` (the cross-process lock), `models.json` (the model catalog's cache) and
//! `conversations/` and `jobs/` (each with its own `lock`). Everyone else asks for these paths.

use std::path::{Path, PathBuf};

use crate::config::validate_profile;
use crate::error::{Error, Result};

const AUTH_FILE: &str = "auth.json";
const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "lock";
const CATALOG_FILE: &str = "models.json";
const CONVERSATIONS_DIR: &str = "conversations";
const JOBS_DIR: &str = "jobs";
/// A job's record in its folder under `jobs/` (the jobs store writes the rest of that folder).
pub(crate) const JOB_FILE: &str = "job.json";

/// The folder of `profile` in `home` (as `Settings::profile_dir`).
pub fn profile_dir(home: &Path, profile: &str) -> PathBuf {
    home.join(profile)
}

/// The profile's `auth.json`: the credential record when the file holds it.
pub fn auth_file(profile_dir: &Path) -> PathBuf {
    profile_dir.join(AUTH_FILE)
}

/// The profile's `state.json`: everything but the secret; others watch it to learn of changes.
pub fn state_file(profile_dir: &Path) -> PathBuf {
    profile_dir.join(STATE_FILE)
}

/// The cross-process lock of a folder of the store: a profile folder, or its conversations.
pub fn lock_file(dir: &Path) -> PathBuf {
    dir.join(LOCK_FILE)
}

/// The model catalog's cache of the profile (kept with its ETag).
pub fn catalog_file(profile_dir: &Path) -> PathBuf {
    profile_dir.join(CATALOG_FILE)
}

/// The folder of the profile's conversations (its lock: [`lock_file`] of it).
pub fn conversations_dir(profile_dir: &Path) -> PathBuf {
    profile_dir.join(CONVERSATIONS_DIR)
}

/// The folder of the profile's background jobs (its lock: [`lock_file`] of it).
pub fn jobs_dir(profile_dir: &Path) -> PathBuf {
    profile_dir.join(JOBS_DIR)
}

/// Whether `dir` holds a profile: a `state.json` or an `auth.json` (a folder made for a sign-in
/// that never wrote either is none).
pub fn holds_a_profile(dir: &Path) -> bool {
    state_file(dir).is_file() || auth_file(dir).is_file()
}

/// The folders of `home` named as a profile may be (whether or not they hold one), unsorted.
pub fn profile_folders(home: &Path) -> Vec<String> {
    std::fs::read_dir(home)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| validate_profile(n).is_ok())
        .collect()
}

/// The profiles of `home`: the folders named as a profile may be that hold one, unsorted.
pub fn profiles(home: &Path) -> Vec<String> {
    let mut names = profile_folders(home);
    names.retain(|n| holds_a_profile(&profile_dir(home, n)));
    names
}

/// The profile whose folder `path` is, when it is one of `home` (it may be gone already).
pub fn profile_of_folder<'a>(home: &Path, path: &'a Path) -> Option<&'a str> {
    let name = path.file_name()?.to_str()?;
    (path.parent()? == home && validate_profile(name).is_ok()).then_some(name)
}

/// The profile whose `state.json` `path` is, when it is one of `home`: what a watcher of the
/// store follows to learn of another process's changes.
pub fn profile_of_state_file<'a>(home: &Path, path: &'a Path) -> Option<&'a str> {
    if path.file_name()?.to_str()? != STATE_FILE {
        return None;
    }
    let dir = path.parent()?;
    (dir.parent()? == home).then_some(dir.file_name()?.to_str()?)
}

/// The profile whose background jobs `path` is about, when it is one of `home`'s: its `jobs`
/// folder (made by the first job), or a job's `job.json` in it. What a watcher of the store
/// follows to learn that a job started, progressed or ended.
pub fn profile_of_jobs_path<'a>(home: &Path, path: &'a Path) -> Option<&'a str> {
    let jobs = if path.file_name()?.to_str()? == JOBS_DIR {
        path
    } else if path.file_name()?.to_str()? == JOB_FILE {
        path.parent()?.parent()?
    } else {
        return None;
    };
    if jobs.file_name()?.to_str()? != JOBS_DIR {
        return None;
    }
    let dir = jobs.parent()?;
    (dir.parent()? == home).then_some(dir.file_name()?.to_str()?)
}

/// Copies of the record that outlived what made them: temp files of a write that was killed
/// (`.auth.json.*.tmp`), space checks (`.write-check.*.tmp`) and records kept aside as corrupt
/// (`auth.json.corrupt-*`). Each may hold a refresh token.
pub(crate) fn is_leftover_copy(name: &str) -> bool {
    (name.starts_with(&format!(".{AUTH_FILE}.")) && name.ends_with(".tmp"))
        || (name.starts_with(".write-check.") && name.ends_with(".tmp"))
        || name.starts_with(&format!("{AUTH_FILE}.corrupt-"))
}

/// Remove the profile folder `dir` when it holds nothing but `state.json` and `lock`: a profile
/// made for a sign-in that did not finish. True when it is gone (removed now, or before).
pub(crate) fn remove_if_empty(dir: &Path) -> Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(Error::io("read the folder", dir, e)),
    };
    let holds_more = entries
        .flatten()
        .any(|e| !matches!(e.file_name().to_str(), Some(STATE_FILE | LOCK_FILE)));
    if holds_more {
        return Ok(false);
    }
    remove(dir)?;
    Ok(true)
}

/// Remove the profile folder `dir` and everything in it.
pub(crate) fn remove(dir: &Path) -> Result<()> {
    std::fs::remove_dir_all(dir).map_err(|e| Error::io("remove the profile folder", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_file_is_known_by_its_name_one_folder_below_the_home() {
        let home = Path::new("/h");
        let of = |p: &'static str| profile_of_state_file(home, Path::new(p));
        assert_eq!(of("/h/work/state.json"), Some("work"));
        assert_eq!(of("/h/work/auth.json"), None);
        assert_eq!(of("/h/work/sub/state.json"), None);
        assert_eq!(of("/h/state.json"), None);
        let folder = |p: &'static str| profile_of_folder(home, Path::new(p));
        assert_eq!(folder("/h/team"), Some("team"));
        assert_eq!(folder("/h/.tmp9"), None);
        assert_eq!(folder("/h/work/team"), None);
    }

    #[test]
    fn only_a_folder_with_nothing_but_state_and_lock_is_removed_as_empty() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("p");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(state_file(&dir), b"{}").unwrap();
        std::fs::write(lock_file(&dir), b"").unwrap();
        std::fs::write(catalog_file(&dir), b"{}").unwrap();
        assert!(!remove_if_empty(&dir).unwrap());
        assert!(dir.exists());
        std::fs::remove_file(catalog_file(&dir)).unwrap();
        assert!(remove_if_empty(&dir).unwrap());
        assert!(!dir.exists());
        assert!(remove_if_empty(&dir).unwrap(), "gone already");
    }

    #[test]
    fn leftover_copies_of_the_record_are_recognised_by_name() {
        for name in [
            ".auth.json.Xy12ab.tmp",
            ".write-check.Q9.tmp",
            "auth.json.corrupt-20261201T101010.123Z",
        ] {
            assert!(is_leftover_copy(name), "{name}");
        }
        for name in ["auth.json", "state.json", ".state.json.Xy.tmp", "lock"] {
            assert!(!is_leftover_copy(name), "{name}");
        }
    }
}
