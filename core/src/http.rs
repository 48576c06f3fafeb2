//! The process's one HTTP client, built on first use: building it reads and parses the system's
//! TLS roots, which is most of a bridge's start-up when done eagerly, and nothing needs it before
//! the first request. Sign-in, refresh, the Codex backend and the usage endpoint share it (and its
//! connection pool).

use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{Error, Result};

/// `User-Agent` of every request: `codex_oauth/<version> (<os>; <arch>)`.
pub fn user_agent() -> String {
    format!(
        "{}/{} ({}; {})",
        crate::config::ORIGINATOR,
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The shared client: no redirects followed (an OAuth or backend redirect is an answer to read,
/// not to follow), a 10 s connect timeout, our `User-Agent`. Request timeouts are per call.
pub fn client() -> Result<&'static reqwest::Client> {
    static CLIENT: OnceLock<std::result::Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(10))
                .user_agent(user_agent())
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))
}
