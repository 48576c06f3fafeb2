//! The credential record in the OS keychain: service `codex-oauth`, user = profile; a record
//! larger than one item may hold is split over chunk items.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::keychain::Keychain;
use crate::store::record::AuthRecord;

/// The record's item in the OS keychain: service `codex-oauth`, user = profile. A record larger than one item may hold
/// (Windows: 2,560 bytes) is split over chunk items, written before the head item that names them,
/// so a crash leaves the old record readable.
pub struct KeychainItem {
    keychain: Arc<dyn Keychain>,
    service: String,
    user: String,
}

#[derive(Serialize, Deserialize)]
struct ChunkHead {
    codex_oauth_chunks: ChunkInfo,
}

#[derive(Serialize, Deserialize)]
struct ChunkInfo {
    id: String,
    count: usize,
    sha256: String,
}

impl KeychainItem {
    pub fn new(keychain: Arc<dyn Keychain>, service: &str, user: &str) -> Self {
        Self {
            keychain,
            service: service.to_owned(),
            user: user.to_owned(),
        }
    }

    fn chunk_user(&self, id: &str, i: usize) -> String {
        // '#' cannot appear in a profile name, so chunk items never collide with a profile.
        format!("{}#{}.{}", self.user, id, i)
    }

    fn head_info(raw: &str) -> Option<ChunkInfo> {
        serde_json::from_str::<ChunkHead>(raw)
            .ok()
            .map(|h| h.codex_oauth_chunks)
    }

    /// The head item and the value it stands for (the head itself, or its chunks joined).
    /// A chunk that is missing or does not match the checksum while the head changed meanwhile
    /// is a writer's replacement in progress, not damage: it is read again (bounded).
    fn read_raw(&self) -> Result<Option<(String, String)>> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Some(head) = self.keychain.get(&self.user)? else {
                return Ok(None);
            };
            let Some(info) = Self::head_info(&head) else {
                return Ok(Some((head.clone(), head)));
            };
            let problem = match self.join_chunks(&info)? {
                Ok(joined) => return Ok(Some((head, joined))),
                Err(problem) => problem,
            };
            let now = self.keychain.get(&self.user)?;
            if now.as_deref() != Some(head.as_str()) && attempts < 5 {
                tracing::debug!("the keychain record changed while it was read; reading again");
                continue;
            }
            return self.corrupt(&head, &head, problem);
        }
    }

    /// The chunks of `info` joined, or what is wrong with them.
    fn join_chunks(&self, info: &ChunkInfo) -> Result<std::result::Result<String, String>> {
        let mut joined = String::new();
        for i in 0..info.count {
            match self.keychain.get(&self.chunk_user(&info.id, i))? {
                Some(part) => joined.push_str(&part),
                None => return Ok(Err(format!("chunk {i} of {} is missing", info.count))),
            }
        }
        if hex(&Sha256::digest(joined.as_bytes())) != info.sha256 {
            return Ok(Err("the chunks do not match their checksum".into()));
        }
        Ok(Ok(joined))
    }

    /// Keep the bad value aside under another item name and report it. The head is deleted only
    /// while it is still the one read: a record a writer saved meanwhile is never touched.
    fn corrupt<T>(&self, head: &str, value: &str, reason: String) -> Result<T> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = format!("{}#corrupt-{stamp}", self.user);
        let still = self.keychain.get(&self.user)?;
        if still.as_deref() != Some(head) {
            return Err(Error::Keychain(crate::error::KeychainError::Failed(
                "the keychain record changed while it was read; try again".into(),
            )));
        }
        self.keychain.set(&aside, value)?;
        self.keychain.delete(&self.user)?;
        tracing::error!(item = %self.location(), moved_to = %aside, "corrupt keychain item moved aside");
        Err(Error::Corrupt {
            what: self.location(),
            moved_to: format!("keychain item service `{}` user `{aside}`", self.service),
            reason,
        })
    }

    fn split(value: &str, max_units: usize) -> Vec<String> {
        let max_units = max_units.max(2);
        let mut parts = Vec::new();
        let mut cur = String::new();
        let mut units = 0;
        for c in value.chars() {
            let n = c.len_utf16();
            if units + n > max_units {
                parts.push(std::mem::take(&mut cur));
                units = 0;
            }
            cur.push(c);
            units += n;
        }
        if !cur.is_empty() {
            parts.push(cur);
        }
        parts
    }

    fn delete_chunks(&self, info: &ChunkInfo) -> Result<()> {
        for i in 0..info.count {
            self.keychain.delete(&self.chunk_user(&info.id, i))?;
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl KeychainItem {
    /// For people: the keychain item.
    pub fn location(&self) -> String {
        format!(
            "keychain item service `{}` user `{}`",
            self.service, self.user
        )
    }

    pub fn load(&self) -> Result<Option<AuthRecord>> {
        let Some((head, raw)) = self.read_raw()? else {
            return Ok(None);
        };
        match AuthRecord::from_json(raw.as_bytes()) {
            Ok(r) => Ok(Some(r)),
            Err(e) => self.corrupt(&head, &raw, e.to_string()),
        }
    }

    pub fn save(&self, record: &AuthRecord) -> Result<()> {
        let json =
            String::from_utf8(record.to_json()?).map_err(|e| Error::Internal(e.to_string()))?;
        let old = self
            .keychain
            .get(&self.user)?
            .and_then(|h| Self::head_info(&h));
        let max = self.keychain.max_value_units();
        if json.encode_utf16().count() <= max {
            self.keychain.set(&self.user, &json)?;
        } else {
            let id = hex(&rand::random::<[u8; 4]>());
            let parts = Self::split(&json, max);
            for (i, part) in parts.iter().enumerate() {
                self.keychain.set(&self.chunk_user(&id, i), part)?;
            }
            let head = ChunkHead {
                codex_oauth_chunks: ChunkInfo {
                    id,
                    count: parts.len(),
                    sha256: hex(&Sha256::digest(json.as_bytes())),
                },
            };
            let head = serde_json::to_string(&head).map_err(|e| Error::Internal(e.to_string()))?;
            self.keychain.set(&self.user, &head)?;
        }
        if let Some(old) = old
            && let Err(e) = self.delete_chunks(&old)
        {
            tracing::warn!(error = %e, "could not delete the previous keychain chunks");
        }
        Ok(())
    }

    /// True when there was an item to delete.
    pub fn delete(&self) -> Result<bool> {
        let head = self.keychain.get(&self.user)?;
        if let Some(info) = head.as_deref().and_then(Self::head_info) {
            self.delete_chunks(&info)?;
        }
        Ok(self.keychain.delete(&self.user)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeychainError;
    use crate::secret::Secret;
    use crate::store::keychain::MemoryKeychain;

    fn big_record(n: usize) -> AuthRecord {
        AuthRecord::from_tokens(
            Secret::new(format!("h.{}.s", "i".repeat(n))),
            Secret::new(format!("h.{}.s", "a".repeat(n))),
            Secret::new("rt_é😀".to_string()),
            None,
        )
    }

    #[test]
    fn a_record_larger_than_one_item_is_split_and_read_back_whole() {
        let mem = Arc::new(MemoryKeychain::new(1_200));
        let kb = KeychainItem::new(mem.clone(), "codex-oauth", "default");
        let rec = big_record(3_000);
        kb.save(&rec).unwrap();
        assert!(mem.users().len() > 3, "{:?}", mem.users());
        assert_eq!(kb.load().unwrap().unwrap(), rec);
        // Updating in place replaces the chunks; the old ones are gone.
        let rec2 = big_record(2_000);
        kb.save(&rec2).unwrap();
        assert_eq!(kb.load().unwrap().unwrap(), rec2);
        let n = mem.users().len();
        assert_eq!(
            n,
            1 + rec2.to_json().unwrap().len().div_ceil(1_200),
            "{:?}",
            mem.users()
        );
        // Back to a small record: one item.
        let small = big_record(10);
        kb.save(&small).unwrap();
        assert_eq!(mem.users(), vec!["default".to_string()]);
        assert!(kb.delete().unwrap());
        assert!(mem.users().is_empty());
        assert!(kb.load().unwrap().is_none());
    }

    #[test]
    fn a_missing_chunk_is_reported_and_kept_aside() {
        let mem = Arc::new(MemoryKeychain::new(500));
        let kb = KeychainItem::new(mem.clone(), "codex-oauth", "default");
        kb.save(&big_record(2_000)).unwrap();
        let victim = mem.users().into_iter().find(|u| u.ends_with(".1")).unwrap();
        mem.delete(&victim).unwrap();
        let err = kb.load().unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        assert!(
            mem.users()
                .iter()
                .any(|u| u.starts_with("default#corrupt-"))
        );
        assert!(kb.load().unwrap().is_none());
    }

    /// A keychain in which another process replaces the record just after the reader took the
    /// head: the first chunk read triggers the writer's save.
    struct WriterMidRead {
        inner: Arc<MemoryKeychain>,
        next: std::sync::Mutex<Option<AuthRecord>>,
    }

    impl Keychain for WriterMidRead {
        fn get(&self, user: &str) -> std::result::Result<Option<String>, KeychainError> {
            if user.contains('#')
                && let Some(rec) = self.next.lock().unwrap().take()
            {
                let writer = KeychainItem::new(self.inner.clone(), "codex-oauth", "default");
                writer.save(&rec).unwrap();
            }
            self.inner.get(user)
        }
        fn set(&self, user: &str, value: &str) -> std::result::Result<(), KeychainError> {
            self.inner.set(user, value)
        }
        fn delete(&self, user: &str) -> std::result::Result<bool, KeychainError> {
            self.inner.delete(user)
        }
        fn max_value_units(&self) -> usize {
            self.inner.max_value_units()
        }
    }

    #[test]
    fn a_reader_racing_a_writer_reads_again_and_never_deletes_the_new_record() {
        let mem = Arc::new(MemoryKeychain::new(500));
        KeychainItem::new(mem.clone(), "codex-oauth", "default")
            .save(&big_record(2_000))
            .unwrap();
        let newer = big_record(2_100);
        let racing = Arc::new(WriterMidRead {
            inner: mem.clone(),
            next: std::sync::Mutex::new(Some(newer.clone())),
        });
        let reader = KeychainItem::new(racing, "codex-oauth", "default");
        assert_eq!(reader.load().unwrap().unwrap(), newer);
        assert!(
            !mem.users().iter().any(|u| u.contains("#corrupt-")),
            "{:?}",
            mem.users()
        );
        let plain = KeychainItem::new(mem, "codex-oauth", "default");
        assert_eq!(plain.load().unwrap().unwrap(), newer);
    }
}
