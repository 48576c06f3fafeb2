//! codex-oauth core: the shared types, settings, claims, the credential store, sign-in flows,
//! sessions and the Codex backend client. No GUI and no MCP here; the tray and the bridge are thin
//! front ends over this.

pub mod agent;
pub mod app;
pub mod claims;
pub mod codex;
pub mod config;
pub mod conversations;
pub mod echo;
mod error;
pub mod files;
mod http;
pub mod import;
pub mod jobs;
mod lenient;
pub mod mcp_config;
pub mod model;
pub mod oauth;
pub mod review;
pub mod sandbox;
pub mod secret;
mod session;
pub mod status;
pub mod store;
pub mod task;

pub use app::{accounts, signin};
pub use config::{Settings, StoreMode};
pub use error::{Error, ErrorCode, ErrorKind, KeychainError, Refusal, Result};
pub use secret::Secret;
pub use session::{AccessToken, REFRESH_MARGIN, SETTLE_LIMIT, Session, SignOut};
pub use status::{Status, StoreInfo};

pub use http::user_agent;
pub use store::restrict_umask;
