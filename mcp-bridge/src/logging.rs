//! Logs go to stderr (never stdout) and, for the server, to a file in CODEX_OAUTH_HOME.
//! Nothing logs a secret: secrets are `Secret` values whose Debug/Display print `[redacted]`.

use tracing_subscriber::EnvFilter;

/// Stderr logging for CLI commands; `RUST_LOG` overrides the level (default: warnings).
pub fn init_cli() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
