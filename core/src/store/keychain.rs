//! The OS keychain seam: a tiny get/set/delete trait, the real implementation on the `keyring`
//! crate (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows), and a wrapper
//! that puts a time limit on every call, so a locked or absent keychain never hangs anything.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::KeychainError;

/// The time limit of every keychain call.
pub const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(3);
/// After a call timed out, calls fail at once for this long instead of piling up blocked threads.
const COOL_DOWN: Duration = Duration::from_secs(30);

/// One keychain service; items are addressed by user name.
pub trait Keychain: Send + Sync {
    fn get(&self, user: &str) -> Result<Option<String>, KeychainError>;
    /// Create or update in place.
    fn set(&self, user: &str, value: &str) -> Result<(), KeychainError>;
    /// True when something was deleted.
    fn delete(&self, user: &str) -> Result<bool, KeychainError>;
    /// Largest value (in UTF-16 units) one item may hold; larger records are split.
    fn max_value_units(&self) -> usize;
}

/// The platform keychain through the `keyring` crate.
pub struct OsKeychain {
    service: String,
}

impl OsKeychain {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, user: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, user).map_err(map_keyring_error)
    }
}

fn map_keyring_error(e: keyring::Error) -> KeychainError {
    use keyring::Error as K;
    match e {
        K::PlatformFailure(inner) => KeychainError::Unavailable(inner.to_string()),
        K::NoStorageAccess(inner) => KeychainError::Locked(inner.to_string()),
        other => KeychainError::Failed(other.to_string()),
    }
}

impl Keychain for OsKeychain {
    fn get(&self, user: &str) -> Result<Option<String>, KeychainError> {
        match self.entry(user)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring_error(e)),
        }
    }

    fn set(&self, user: &str, value: &str) -> Result<(), KeychainError> {
        self.entry(user)?
            .set_password(value)
            .map_err(map_keyring_error)
    }

    fn delete(&self, user: &str) -> Result<bool, KeychainError> {
        match self.entry(user)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_keyring_error(e)),
        }
    }

    fn max_value_units(&self) -> usize {
        // Windows Credential Manager stores at most 2,560 bytes of UTF-16 per credential; the
        // others take far more than a record needs, but keep items a sane size everywhere.
        if cfg!(windows) { 1_200 } else { 16 * 1024 }
    }
}

/// Every call runs on a helper thread and is abandoned after `timeout`.
pub struct TimedKeychain {
    inner: Arc<dyn Keychain>,
    timeout: Duration,
    stalled_until: Mutex<Option<Instant>>,
}

impl TimedKeychain {
    pub fn new(inner: Arc<dyn Keychain>, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            stalled_until: Mutex::new(None),
        }
    }

    fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&dyn Keychain) -> Result<T, KeychainError> + Send + 'static,
    ) -> Result<T, KeychainError> {
        let secs = self.timeout.as_secs().max(1);
        if let Ok(guard) = self.stalled_until.lock()
            && let Some(until) = *guard
            && Instant::now() < until
        {
            return Err(KeychainError::TimedOut(secs));
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let inner = Arc::clone(&self.inner);
        let spawned = std::thread::Builder::new()
            .name("keychain".into())
            .spawn(move || {
                let _ = tx.send(op(inner.as_ref()));
            });
        if let Err(e) = spawned {
            return Err(KeychainError::Failed(format!("cannot start a thread: {e}")));
        }
        match rx.recv_timeout(self.timeout) {
            Ok(r) => {
                if let Ok(mut g) = self.stalled_until.lock() {
                    *g = None;
                }
                r
            }
            Err(_) => {
                if let Ok(mut g) = self.stalled_until.lock() {
                    *g = Some(Instant::now() + COOL_DOWN);
                }
                Err(KeychainError::TimedOut(secs))
            }
        }
    }
}

impl Keychain for TimedKeychain {
    fn get(&self, user: &str) -> Result<Option<String>, KeychainError> {
        let user = user.to_owned();
        self.run(move |k| k.get(&user))
    }

    fn set(&self, user: &str, value: &str) -> Result<(), KeychainError> {
        let user = user.to_owned();
        let value = crate::secret::Secret::new(value);
        self.run(move |k| k.set(&user, value.expose()))
    }

    fn delete(&self, user: &str) -> Result<bool, KeychainError> {
        let user = user.to_owned();
        self.run(move |k| k.delete(&user))
    }

    fn max_value_units(&self) -> usize {
        self.inner.max_value_units()
    }
}

#[cfg(any(test, feature = "test-support"))]
pub use support::{FaultyKeychain, MemoryKeychain};

#[cfg(any(test, feature = "test-support"))]
mod support {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// An in-memory keychain that enforces an item size limit, like Windows does.
    pub struct MemoryKeychain {
        items: Mutex<BTreeMap<String, String>>,
        max_units: usize,
        pub sets: AtomicUsize,
    }

    impl MemoryKeychain {
        pub fn new(max_units: usize) -> Self {
            Self {
                items: Mutex::new(BTreeMap::new()),
                max_units,
                sets: AtomicUsize::new(0),
            }
        }
        pub fn users(&self) -> Vec<String> {
            self.items
                .lock()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        }
        pub fn raw(&self, user: &str) -> Option<String> {
            self.items.lock().ok().and_then(|m| m.get(user).cloned())
        }
    }

    impl Keychain for MemoryKeychain {
        fn get(&self, user: &str) -> Result<Option<String>, KeychainError> {
            Ok(self.raw(user))
        }
        fn set(&self, user: &str, value: &str) -> Result<(), KeychainError> {
            if value.encode_utf16().count() > self.max_units {
                return Err(KeychainError::Failed("value too long for one item".into()));
            }
            self.sets.fetch_add(1, Ordering::SeqCst);
            self.items
                .lock()
                .map_err(|_| KeychainError::Failed("poisoned".into()))?
                .insert(user.to_owned(), value.to_owned());
            Ok(())
        }
        fn delete(&self, user: &str) -> Result<bool, KeychainError> {
            Ok(self
                .items
                .lock()
                .map_err(|_| KeychainError::Failed("poisoned".into()))?
                .remove(user)
                .is_some())
        }
        fn max_value_units(&self) -> usize {
            self.max_units
        }
    }

    /// A keychain whose calls can be made to fail or to hang, switch by switch.
    pub struct FaultyKeychain {
        pub inner: MemoryKeychain,
        pub fail_get: AtomicBool,
        pub fail_set: AtomicBool,
        pub hang: AtomicBool,
        pub error: Mutex<KeychainError>,
    }

    impl FaultyKeychain {
        pub fn new() -> Self {
            Self {
                inner: MemoryKeychain::new(16 * 1024),
                fail_get: AtomicBool::new(false),
                fail_set: AtomicBool::new(false),
                hang: AtomicBool::new(false),
                error: Mutex::new(KeychainError::Unavailable("test: no Secret Service".into())),
            }
        }
        fn err(&self) -> KeychainError {
            self.error
                .lock()
                .map(|e| e.clone())
                .unwrap_or(KeychainError::Failed("poisoned".into()))
        }
        fn maybe_hang(&self) {
            while self.hang.load(Ordering::SeqCst) {
                std::thread::park_timeout(Duration::from_millis(50));
            }
        }
    }

    impl Default for FaultyKeychain {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Keychain for FaultyKeychain {
        fn get(&self, user: &str) -> Result<Option<String>, KeychainError> {
            self.maybe_hang();
            if self.fail_get.load(Ordering::SeqCst) {
                return Err(self.err());
            }
            self.inner.get(user)
        }
        fn set(&self, user: &str, value: &str) -> Result<(), KeychainError> {
            self.maybe_hang();
            if self.fail_set.load(Ordering::SeqCst) {
                return Err(self.err());
            }
            self.inner.set(user, value)
        }
        fn delete(&self, user: &str) -> Result<bool, KeychainError> {
            self.maybe_hang();
            if self.fail_set.load(Ordering::SeqCst) {
                return Err(self.err());
            }
            self.inner.delete(user)
        }
        fn max_value_units(&self) -> usize {
            self.inner.max_value_units()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn a_hanging_keychain_hits_the_time_limit_and_then_fails_fast() {
        let faulty = Arc::new(FaultyKeychain::new());
        faulty.hang.store(true, Ordering::SeqCst);
        let timed = TimedKeychain::new(faulty.clone(), Duration::from_millis(100));
        assert_eq!(timed.get("default"), Err(KeychainError::TimedOut(1)));
        // While cooling down, calls fail without starting another blocked thread.
        let t = Instant::now();
        assert_eq!(timed.set("default", "x"), Err(KeychainError::TimedOut(1)));
        assert!(t.elapsed() < Duration::from_millis(100));
        faulty.hang.store(false, Ordering::SeqCst);
    }

    #[test]
    fn answers_pass_through_the_timer() {
        let mem = Arc::new(MemoryKeychain::new(100));
        let timed = TimedKeychain::new(mem, Duration::from_secs(3));
        timed.set("u", "v").unwrap();
        assert_eq!(timed.get("u").unwrap().as_deref(), Some("v"));
        assert!(timed.delete("u").unwrap());
        assert!(!timed.delete("u").unwrap());
        assert_eq!(timed.get("u").unwrap(), None);
    }
}
