//! The credential store shared by the tray and every bridge process: one folder per profile with
//! the secret (keychain or `auth.json`), `state.json` and the `lock` file. Its layout is known
//! here alone (`layout`); the backend of the store mode is picked in one place (`backend_for`).

mod auth_file;
mod auto;
mod backend;
pub(crate) mod fsutil;
mod keychain;
mod keychain_item;
pub mod layout;
pub(crate) mod lock;
mod modes;
mod profile;
mod record;
mod state;

pub use backend::{SaveOutcome, SecretBackend};
pub use fsutil::{ensure_private_dir, restrict_umask, write_atomic};
#[cfg(any(test, feature = "test-support"))]
pub use keychain::{FaultyKeychain, MemoryKeychain};
pub use keychain::{KEYCHAIN_TIMEOUT, Keychain, OsKeychain, TimedKeychain};
pub use lock::{LOCK_WAIT, LockGuard};
pub use modes::backend_for;
pub use profile::{OpenToOthers, Store};
pub use record::{AuthMode, AuthRecord, TokenData};
pub use state::{Backend, PendingLogin, RefreshBackoff, SignInMethod, State};
