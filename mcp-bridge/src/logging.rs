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

/// The server's logging: stderr and a daily log file in `<home>/logs` (7 kept); `RUST_LOG`
/// overrides the level (default: info, rmcp's own at warn). stdout is never touched.
pub fn init_server(home: &std::path::Path) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"));
    let dir = home.join("logs");
    let file = codex_oauth_core::store::ensure_private_dir(&dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("mcp-bridge")
                .filename_suffix("log")
                .max_log_files(7)
                .build(&dir)
                .map_err(|e| e.to_string())
        });
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let (file_layer, file_error) = match file {
        Ok(appender) => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(appender)
                    .with_ansi(false)
                    .with_target(false),
            ),
            None,
        ),
        Err(e) => (None, Some(e)),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr_layer)
        .with(file_layer)
        .try_init();
    if let Some(e) = file_error {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot write the log file; logging to stderr only");
    }
}
