//! `ConversationStore`: a profile's conversations on disk, under their own lock.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::codex::Turn;
use crate::config::Settings;
use crate::conversations::{Conversation, Limits, is_conversation_id};
use crate::error::{Error, Result, json_problem};
use crate::store::lock::{self, LOCK_WAIT, LockGuard};
use crate::store::{fsutil, layout};

/// The conversations of one profile. Every call does blocking file work: call it from a blocking
/// thread in async code.
#[derive(Debug, Clone)]
pub struct ConversationStore {
    dir: PathBuf,
    limits: Limits,
}

impl ConversationStore {
    /// The conversations of the settings' profile.
    pub fn open(settings: &Settings, limits: Limits) -> Self {
        Self::in_dir(layout::conversations_dir(&settings.profile_dir()), limits)
    }

    /// The conversations kept in `dir`.
    pub fn in_dir(dir: PathBuf, limits: Limits) -> Self {
        let limits = Limits {
            max_conversations: limits.max_conversations.max(1),
            ..limits
        };
        Self { dir, limits }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn path(&self, id: &str) -> Option<PathBuf> {
        is_conversation_id(id).then(|| self.dir.join(format!("{id}.json")))
    }

    fn lock(&self) -> Result<LockGuard> {
        fsutil::ensure_private_dir(&self.dir)?;
        lock::acquire(&layout::lock_file(&self.dir), LOCK_WAIT)
    }

    /// The conversation `id`; `None` when there is none by that id (also when the id is not one
    /// this program makes, or the conversation was unused for longer than the limit). A file that
    /// cannot be read as a conversation is moved aside and the error says so.
    pub fn get(&self, id: &str) -> Result<Option<Conversation>> {
        let Some(path) = self.path(id) else {
            return Ok(None);
        };
        let Some(bytes) = fsutil::read_optional(&path)? else {
            return Ok(None);
        };
        if self.expired(&path) {
            return Ok(None);
        }
        match parse(&bytes) {
            Ok(c) => Ok(Some(c)),
            // Writers replace the file whole under the lock: look again under it before moving
            // anything aside.
            Err(_) => {
                let _guard = self.lock()?;
                self.load_locked(id, &path)
            }
        }
    }

    /// Under the lock: the conversation at `path`, a corrupt file moved aside.
    fn load_locked(&self, id: &str, path: &Path) -> Result<Option<Conversation>> {
        // A file replaced while it was read (by a writer that does not take the lock) is read
        // again rather than moved aside.
        for _ in 0..3 {
            let Some(bytes) = fsutil::read_optional(path)? else {
                return Ok(None);
            };
            let reason = match parse(&bytes) {
                Ok(c) => return Ok(Some(c)),
                Err(reason) => reason,
            };
            let Some(moved) = fsutil::quarantine(path, &bytes)? else {
                continue;
            };
            tracing::error!(path = %path.display(), moved_to = %moved.display(), "corrupt conversation moved aside");
            return Err(Error::ConversationCorrupt {
                id: id.to_owned(),
                moved_to: moved.display().to_string(),
                reason,
            });
        }
        Err(Error::Internal(format!(
            "{} kept changing while it was read",
            path.display()
        )))
    }

    /// Add a finished exchange to conversation `id` under the lock: to the conversation as it is
    /// on disk now (another process may have added to it since `base` was read), else `base`
    /// (a new conversation). The model and system prompt are `base`'s (a turn may switch them).
    /// Past the size limit the oldest exchanges are dropped; then the other conversations are
    /// pruned to the limits. A corrupt file is moved aside and replaced.
    pub fn append(&self, id: &str, base: Conversation, user: Turn, assistant: Turn) -> Result<()> {
        let path = self
            .path(id)
            .ok_or_else(|| Error::Input(format!("`{id}` is not a conversation id")))?;
        let guard = self.lock()?;
        let mut c = match self.load_locked(id, &path) {
            Ok(Some(mut on_disk)) => {
                on_disk.model = base.model;
                on_disk.system_prompt = base.system_prompt;
                on_disk
            }
            Ok(None) => base,
            Err(e @ Error::ConversationCorrupt { .. }) => {
                tracing::warn!(error = %e, "starting the conversation again from this process's copy");
                base
            }
            Err(e) => return Err(e),
        };
        c.turns.push(user);
        c.turns.push(assistant);
        let drop = c.overflow(0, self.limits.max_chars, 2);
        c.turns.drain(..drop);
        let bytes = serde_json::to_vec(&c).map_err(|e| Error::Internal(e.to_string()))?;
        fsutil::write_atomic(&path, &bytes)?;
        if let Err(e) = self.prune(&guard, id) {
            tracing::warn!(error = %e, "cannot prune the old conversations");
        }
        Ok(())
    }

    fn expired(&self, path: &Path) -> bool {
        fs::metadata(path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| age(t) > self.limits.max_age)
    }

    /// Under the lock: remove the conversations unused for too long, then the least recently
    /// used past the count (never `keep`), copies kept aside as corrupt once as old, and the temp
    /// files of writes that were killed (every write happens under the lock). How many removed.
    fn prune(&self, _guard: &LockGuard, keep: &str) -> Result<usize> {
        let entries = fs::read_dir(&self.dir).map_err(|e| Error::io("list", &self.dir, e))?;
        let mut live: Vec<(SystemTime, String)> = Vec::new();
        let mut gone = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let old = age(modified) > self.limits.max_age;
            match name.strip_suffix(".json") {
                Some(id) if is_conversation_id(id) => {
                    if old && id != keep {
                        gone.push(entry.path());
                    } else {
                        live.push((modified, id.to_owned()));
                    }
                }
                _ if name.starts_with('.') && name.ends_with(".tmp") => gone.push(entry.path()),
                _ if name.contains(".json.corrupt-") && old => gone.push(entry.path()),
                _ => {}
            }
        }
        // The least recently used first; ids are UUIDv7, so equal times fall back to creation.
        live.sort();
        let excess = live.len().saturating_sub(self.limits.max_conversations);
        gone.extend(
            live.iter()
                .filter(|(_, id)| id != keep)
                .take(excess)
                .map(|(_, id)| self.dir.join(format!("{id}.json"))),
        );
        let mut removed = 0;
        for p in &gone {
            match fs::remove_file(p) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("delete", p, e)),
            }
        }
        if removed > 0 {
            fsutil::sync_dir(&self.dir)?;
        }
        Ok(removed)
    }
}

fn age(t: SystemTime) -> Duration {
    SystemTime::now().duration_since(t).unwrap_or_default()
}

/// A conversation file, or what is wrong with it (never quoting it).
fn parse(bytes: &[u8]) -> std::result::Result<Conversation, String> {
    let c: Conversation = serde_json::from_slice(bytes).map_err(|e| json_problem(&e))?;
    // It becomes request headers: only an id this program made.
    if uuid::Uuid::try_parse(&c.session_id).is_err() {
        return Err("its session id is not a UUID".into());
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversations::new_id;

    fn store(dir: &Path, limits: Limits) -> ConversationStore {
        ConversationStore::in_dir(layout::conversations_dir(&dir.join("p")), limits)
    }

    fn exchange(s: &ConversationStore, id: &str, base: &Conversation, q: &str, a: &str) {
        s.append(id, base.clone(), Turn::user(q), Turn::assistant(a))
            .unwrap();
    }

    fn texts(c: &Conversation) -> Vec<&str> {
        c.turns.iter().map(|t| t.text.as_str()).collect()
    }

    /// Make conversation `id` look last used `ago` ago.
    fn touch(s: &ConversationStore, id: &str, ago: Duration) {
        let f = fs::File::options()
            .write(true)
            .open(s.dir().join(format!("{id}.json")))
            .unwrap();
        f.set_modified(SystemTime::now() - ago).unwrap();
    }

    #[test]
    fn an_exchange_is_kept_on_disk_and_continued_by_another_store() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), Limits::default());
        let id = new_id();
        assert_eq!(s.get(&id).unwrap(), None);
        let mut base = Conversation::new();
        base.model = Some("m".into());
        exchange(&s, &id, &base, "q1", "a1");
        // Another process: another store on the same folder.
        let again = store(dir.path(), Limits::default());
        let mut next = again.get(&id).unwrap().unwrap();
        assert_eq!(next.session_id, base.session_id, "the session id stays");
        next.model = Some("m2".into());
        exchange(&again, &id, &next, "q2", "a2");
        let got = s.get(&id).unwrap().unwrap();
        assert_eq!(got.model.as_deref(), Some("m2"), "the last model chosen");
        assert_eq!(texts(&got), ["q1", "a1", "q2", "a2"]);
    }

    #[test]
    fn two_appends_from_the_same_start_both_stay() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), Limits::default());
        let id = new_id();
        exchange(&s, &id, &Conversation::new(), "q1", "a1");
        let seen = s.get(&id).unwrap().unwrap();
        std::thread::scope(|scope| {
            for n in 0..8 {
                let (s, seen, id) = (&s, &seen, &id);
                scope.spawn(move || exchange(s, id, seen, &format!("q{n}"), "a"));
            }
        });
        let got = s.get(&id).unwrap().unwrap();
        assert_eq!(
            got.turns.len(),
            2 + 16,
            "no exchange lost: {:?}",
            texts(&got)
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_folder_is_0700_and_each_file_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), Limits::default());
        let id = new_id();
        exchange(&s, &id, &Conversation::new(), "q", "a");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(s.dir()), 0o700);
        assert_eq!(mode(&s.dir().join(format!("{id}.json"))), 0o600);
        assert_eq!(mode(&layout::lock_file(s.dir())), 0o600);
        // A folder made wider by someone else is tightened on the next write.
        fs::set_permissions(s.dir(), fs::Permissions::from_mode(0o755)).unwrap();
        exchange(&s, &id, &Conversation::new(), "q", "a");
        assert_eq!(mode(s.dir()), 0o700);
    }

    #[test]
    fn an_invalid_id_is_unknown_and_never_touches_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), Limits::default());
        // A file that a path traversal would reach.
        fs::create_dir_all(dir.path().join("p")).unwrap();
        let target = layout::state_file(&dir.path().join("p"));
        fs::write(&target, br#"{"session_id": "x"}"#).unwrap();
        for id in ["../state", "..", "", "a/b"] {
            assert_eq!(s.get(id).unwrap(), None, "{id:?}");
            let err = s
                .append(
                    id,
                    Conversation::new(),
                    Turn::user("q"),
                    Turn::assistant("a"),
                )
                .unwrap_err();
            assert!(matches!(err, Error::Input(_)), "{err}");
        }
        assert_eq!(fs::read(&target).unwrap(), br#"{"session_id": "x"}"#);
        assert!(!s.dir().exists(), "nothing was made");
    }

    #[test]
    fn the_least_recently_used_go_first_past_the_count() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(
            dir.path(),
            Limits {
                max_conversations: 3,
                ..Limits::default()
            },
        );
        let ids: Vec<String> = (0..4).map(|_| new_id()).collect();
        for (n, id) in ids.iter().take(3).enumerate() {
            exchange(&s, id, &Conversation::new(), "q", "a");
            touch(&s, id, Duration::from_secs(100 - n as u64));
        }
        // Using the first makes the second the least recently used.
        let first = s.get(&ids[0]).unwrap().unwrap();
        exchange(&s, &ids[0], &first, "q", "a");
        exchange(&s, &ids[3], &Conversation::new(), "q", "a");
        assert_eq!(s.get(&ids[1]).unwrap(), None);
        for id in [&ids[0], &ids[2], &ids[3]] {
            assert!(s.get(id).unwrap().is_some(), "{id}");
        }
    }

    #[test]
    fn fifty_conversations_and_thirty_days_are_the_defaults() {
        assert_eq!(Limits::default().max_conversations, 50);
        assert_eq!(Limits::default().max_age.as_secs(), 30 * 86_400);
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), Limits::default());
        let ids: Vec<String> = (0..55).map(|_| new_id()).collect();
        for id in &ids {
            exchange(&s, id, &Conversation::new(), "q", "a");
        }
        let kept = fs::read_dir(s.dir())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".json")
            })
            .count();
        assert_eq!(kept, 50);
        assert!(s.get(&ids[4]).unwrap().is_none(), "the oldest went first");
        assert!(s.get(&ids[5]).unwrap().is_some());
    }

    #[test]
    fn a_conversation_unused_for_thirty_days_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), Limits::default());
        let (old, recent, other) = (new_id(), new_id(), new_id());
        for id in [&old, &recent] {
            exchange(&s, id, &Conversation::new(), "q", "a");
        }
        touch(&s, &old, Duration::from_secs(31 * 86_400));
        touch(&s, &recent, Duration::from_secs(29 * 86_400));
        assert_eq!(s.get(&old).unwrap(), None, "unknown once past the age");
        assert!(s.get(&recent).unwrap().is_some());
        // The next write removes it from the disk.
        exchange(&s, &other, &Conversation::new(), "q", "a");
        assert!(!s.dir().join(format!("{old}.json")).exists());
        assert!(s.dir().join(format!("{recent}.json")).exists());
    }

    #[test]
    fn a_conversation_past_the_size_keeps_its_newest_exchanges_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(
            dir.path(),
            Limits {
                max_chars: 10,
                ..Limits::default()
            },
        );
        let id = new_id();
        let mut c = Conversation::new();
        for n in 0..3 {
            exchange(&s, &id, &c, &format!("q{n}"), "aaa");
            c = s.get(&id).unwrap().unwrap();
        }
        assert_eq!(texts(&c), ["q1", "aaa", "q2", "aaa"]);
        // An exchange longer than the limit alone stays: it is the conversation.
        exchange(&s, &id, &c, "a long question", "a long answer");
        let c = s.get(&id).unwrap().unwrap();
        assert_eq!(texts(&c), ["a long question", "a long answer"]);
    }

    #[test]
    fn a_corrupt_conversation_is_moved_aside_and_the_others_still_work() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), Limits::default());
        let (bad, good) = (new_id(), new_id());
        for id in [&bad, &good] {
            exchange(&s, id, &Conversation::new(), "q", "a");
        }
        let path = s.dir().join(format!("{bad}.json"));
        fs::write(&path, b"{\"session_id\": \"sk-secret-1\", \"turns\": [").unwrap();
        let err = s.get(&bad).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::ConversationCorrupt { .. }), "{msg}");
        assert!(
            msg.contains(&bad) && msg.contains("new conversation"),
            "{msg}"
        );
        assert!(!msg.contains("sk-secret"), "{msg}");
        assert!(!path.exists(), "moved aside");
        let aside: Vec<_> = fs::read_dir(s.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&format!("{bad}.json.corrupt-")))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(s.get(&bad).unwrap(), None, "then it is unknown");
        assert!(s.get(&good).unwrap().is_some());
        exchange(&s, &good, &Conversation::new(), "q2", "a2");

        // A session id that is not a UUID (it becomes a header) is corrupt too.
        let path = s.dir().join(format!("{good}.json"));
        fs::write(&path, br#"{"session_id": "x\r\nevil: 1", "turns": []}"#).unwrap();
        assert!(matches!(
            s.get(&good).unwrap_err(),
            Error::ConversationCorrupt { .. }
        ));
    }

    #[test]
    fn an_append_over_a_corrupt_file_starts_from_the_callers_copy() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), Limits::default());
        let id = new_id();
        exchange(&s, &id, &Conversation::new(), "q1", "a1");
        let seen = s.get(&id).unwrap().unwrap();
        fs::write(s.dir().join(format!("{id}.json")), b"garbage").unwrap();
        exchange(&s, &id, &seen, "q2", "a2");
        assert_eq!(
            texts(&s.get(&id).unwrap().unwrap()),
            ["q1", "a1", "q2", "a2"]
        );
    }

    #[test]
    fn leftovers_of_killed_writes_are_removed_on_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), Limits::default());
        let id = new_id();
        exchange(&s, &id, &Conversation::new(), "q", "a");
        let tmp = s.dir().join(format!(".{id}.json.x1y2z3.tmp"));
        fs::write(&tmp, b"{").unwrap();
        exchange(&s, &id, &Conversation::new(), "q", "a");
        assert!(!tmp.exists());
    }

    #[test]
    fn a_file_holds_the_turns_and_settings_only() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), Limits::default());
        let id = new_id();
        let mut base = Conversation::new();
        base.system_prompt = Some("Be terse.".into());
        exchange(&s, &id, &base, "q", "a");
        let v: serde_json::Value =
            serde_json::from_slice(&fs::read(s.dir().join(format!("{id}.json"))).unwrap()).unwrap();
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["model", "session_id", "system_prompt", "turns"]);
        assert_eq!(
            v["turns"][0],
            serde_json::json!({"role": "user", "text": "q"})
        );
    }
}
