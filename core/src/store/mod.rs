//! The credential store shared by the tray and every bridge process: one folder per profile with
//! the secret (keychain or `auth.json`), `state.json` and the `lock` file.

mod backend;
pub(crate) mod fsutil;
mod keychain;
pub(crate) mod lock;
mod profile;
mod record;
mod state;

pub use backend::{FileBackend, KeyringBackend, SecretBackend};
pub use fsutil::{ensure_private_dir, write_atomic};
#[cfg(any(test, feature = "test-support"))]
pub use keychain::{FaultyKeychain, MemoryKeychain};
pub use keychain::{KEYCHAIN_TIMEOUT, Keychain, OsKeychain, TimedKeychain};
pub use lock::{LOCK_WAIT, LockGuard};
pub use profile::{OpenToOthers, SaveOutcome, Store};
pub use record::{AuthMode, AuthRecord, TokenData};
pub use state::{Backend, PendingLogin, RefreshBackoff, SignInMethod, State};
