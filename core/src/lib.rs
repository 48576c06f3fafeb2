//! codex-oauth core: the shared types, settings, claims, the credential store, sign-in flows,
//! sessions and the Codex backend client. No GUI and no MCP here; the tray and the bridge are thin
//! front ends over this.

pub mod accounts;
pub mod claims;
pub mod codex;
pub mod config;
pub mod conversations;
mod error;
pub mod files;
pub mod import;
mod lenient;
pub mod mcp_config;
pub mod model;
pub mod oauth;
pub mod review;
pub mod secret;
mod session;
pub mod signin;
pub mod status;
pub mod store;

pub use config::{Settings, StoreMode};
pub use error::{Error, ErrorKind, KeychainError, Result};
pub use secret::Secret;
pub use session::{AccessToken, REFRESH_MARGIN, SETTLE_LIMIT, Session, SignOut};
pub use status::{Status, StoreInfo};

/// `User-Agent` of every request: `codex_oauth/<version> (<os>; <arch>)`.
pub fn user_agent() -> String {
    format!(
        "{}/{} ({}; {})",
        config::ORIGINATOR,
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Make every file this process creates from now on private to the user (umask 077): log files,
/// caches, temp files. The store sets its own modes anyway; this covers everything else.
pub fn restrict_umask() {
    #[cfg(unix)]
    #[allow(unsafe_code)]
    // SAFETY: umask(2) only sets this process's file-creation mask and cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}
