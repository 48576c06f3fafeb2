//! codex-oauth core: settings, claims, the credential store, sign-in flows, sessions and the Codex
//! backend client. No GUI and no MCP here; the tray and the bridge are thin front ends over this.

pub mod claims;
pub mod config;
mod error;
pub mod secret;
pub mod store;

pub use config::{Settings, StoreMode};
pub use error::{Error, KeychainError, Result};
pub use secret::Secret;
