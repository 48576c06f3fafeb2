//! codex-oauth core: settings, claims, the credential store, sign-in flows, sessions and the Codex
//! backend client. No GUI and no MCP here; the tray and the bridge are thin front ends over this.

pub mod claims;
pub mod codex;
pub mod config;
mod error;
pub mod import;
pub mod oauth;
pub mod secret;
mod session;
pub mod store;

pub use config::{Settings, StoreMode};
pub use error::{Error, KeychainError, Result};
pub use secret::Secret;
pub use session::{AccessToken, REFRESH_MARGIN, Session, SignOut, Status, StoreInfo};

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
