//! Logs go to a daily file in `<home>/logs` (7 kept) always, and to stderr: for the server always
//! (Claude Code keeps the server's stderr in its own logs), for CLI commands only when asked
//! (`-v`, or `RUST_LOG`), since their messages for people already say what happened. Never stdout.
//! Colour only on a terminal without `NO_COLOR`. Nothing logs a secret: secrets are `Secret`
//! values whose Debug/Display print `[redacted]`.

use std::path::Path;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Who is logging: the MCP server or a CLI command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Server,
    Cli,
}

/// What goes where, decided from the flags and the environment (kept apart from them so it can be
/// tested without touching the process environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The `EnvFilter` directives for every destination.
    pub directives: String,
    /// Log to stderr too.
    pub stderr: bool,
}

impl Plan {
    /// `verbose` is the count of `-v`: 1 info, 2 debug, 3 or more trace; it wins over `RUST_LOG`
    /// (an empty `RUST_LOG` counts as unset). Without either, the server logs info (rmcp's own at
    /// warn) and a CLI command logs info to the file only.
    pub fn new(mode: Mode, verbose: u8, rust_log: Option<&str>) -> Self {
        let rust_log = rust_log.map(str::trim).filter(|s| !s.is_empty());
        let default = match mode {
            Mode::Server => "info,rmcp=warn",
            Mode::Cli => "info",
        };
        let directives = match verbose {
            0 => rust_log.unwrap_or(default),
            1 => default,
            2 => "debug",
            _ => "trace",
        }
        .to_string();
        let stderr = mode == Mode::Server || verbose > 0 || rust_log.is_some();
        Self { directives, stderr }
    }

    /// The plan for this process: `RUST_LOG` from the environment.
    pub fn from_env(mode: Mode, verbose: u8) -> Self {
        Self::new(mode, verbose, std::env::var("RUST_LOG").ok().as_deref())
    }
}

/// Install the subscriber of `plan`: the log file under `home`, and stderr when the plan says so.
/// A `RUST_LOG` that does not parse falls back to the default level.
pub fn init(home: &Path, mode: Mode, plan: &Plan) {
    let fallback = Plan::new(mode, 0, None).directives;
    let filter = EnvFilter::try_new(&plan.directives).unwrap_or_else(|_| EnvFilter::new(fallback));
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
    let stderr_layer = plan.stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(crate::term::stderr_colour())
            .with_target(false)
    });
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
        tracing::warn!(dir = %dir.display(), error = %e, "cannot write the log file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(mode: Mode, verbose: u8, rust_log: Option<&str>) -> (String, bool) {
        let p = Plan::new(mode, verbose, rust_log);
        (p.directives, p.stderr)
    }

    #[test]
    fn a_cli_command_logs_to_stderr_only_when_asked() {
        let table: &[(u8, Option<&str>, &str, bool)] = &[
            (0, None, "info", false),
            (0, Some(""), "info", false),
            (0, Some("  "), "info", false),
            (0, Some("warn"), "warn", true),
            (
                0,
                Some("codex_oauth_core=debug"),
                "codex_oauth_core=debug",
                true,
            ),
            (1, None, "info", true),
            (2, None, "debug", true),
            (3, None, "trace", true),
            (9, None, "trace", true),
            (2, Some("warn"), "debug", true),
            (1, Some("trace"), "info", true),
        ];
        for &(verbose, rust_log, directives, stderr) in table {
            assert_eq!(
                plan(Mode::Cli, verbose, rust_log),
                (directives.to_string(), stderr),
                "-v x{verbose}, RUST_LOG={rust_log:?}"
            );
        }
    }

    #[test]
    fn the_server_always_logs_to_stderr_at_info_unless_told_otherwise() {
        assert_eq!(
            plan(Mode::Server, 0, None),
            ("info,rmcp=warn".to_string(), true)
        );
        assert_eq!(plan(Mode::Server, 0, Some("debug")), ("debug".into(), true));
        assert_eq!(plan(Mode::Server, 2, None), ("debug".into(), true));
    }
}
