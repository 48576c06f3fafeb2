//! Serving MCP on stdio: the runtime, the framing, the signals, and a clean stop (the pending
//! sign-in abandoned, a refresh in flight saved, the last messages written).

use std::process::ExitCode;
use std::time::Duration;

use codex_oauth_core::app::Accounts;
use rmcp::ServiceExt;
use rmcp::service::ServerInitializeError;

use super::framing;
use super::tools::{CodexServer, ServerOptions};

/// Serve MCP on stdin/stdout until stdin closes or a termination signal arrives. Logs go to
/// stderr and the log file (`verbose`: the count of `-v`, see `logging::Plan`).
pub fn run(accounts: Accounts, verbose: u8) -> ExitCode {
    use crate::logging::{Mode, Plan};
    CodexServer::prepare_tools();
    crate::logging::init(
        &accounts.settings().home,
        Mode::Server,
        &Plan::from_env(Mode::Server, verbose),
    );
    let runtime = match crate::runtime::multi_thread() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(serve_stdio(accounts));
    // A blocking stdin read cannot be interrupted: do not wait for it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

async fn serve_stdio(accounts: Accounts) -> ExitCode {
    let server = CodexServer::new(accounts, ServerOptions::default());
    // Signal handlers are installed now, before the first message, and kept for the whole run:
    // a SIGTERM that arrives at any moment after this line is seen.
    let signals = Signals::install();
    let (signal_tx, signal_rx) = tokio::sync::watch::channel::<Option<&'static str>>(None);
    tokio::spawn(async move {
        let name = signals.recv().await;
        let _ = signal_tx.send(Some(name));
    });
    let signalled = |mut rx: tokio::sync::watch::Receiver<Option<&'static str>>| async move {
        let got = rx.wait_for(Option::is_some).await.ok().and_then(|v| *v);
        match got {
            Some(name) => name,
            None => std::future::pending().await,
        }
    };
    // stdin and stdout through the bridge's own framing: an oversized message is answered.
    let (stdin, stdout) = rmcp::transport::stdio_pipes();
    let (reader, writer, output) = framing::frame(stdin, stdout, framing::MAX_LINE_BYTES);
    let init = server.clone().serve((reader, writer));
    let running = tokio::select! {
        r = init => match r {
            Ok(r) => r,
            Err(ServerInitializeError::ConnectionClosed(_)) => {
                tracing::info!("the client left before initializing");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                tracing::error!(error = %e, "MCP initialization failed");
                return ExitCode::from(1);
            }
        },
        signal = signalled(signal_rx.clone()) => {
            tracing::info!(signal, "stopped before initialization");
            return ExitCode::SUCCESS;
        }
    };
    let stop = running.cancellation_token();
    let watcher = tokio::spawn(async move {
        let signal = signalled(signal_rx).await;
        tracing::info!(signal, "stopping: finishing the message being written");
        stop.cancel();
    });
    tracing::info!(pid = std::process::id(), "MCP server ready");
    let reason = running.waiting().await;
    watcher.abort();
    server.shutdown().await;
    // The service has dropped its reader and writer: the last lines are written, then the task ends.
    if tokio::time::timeout(Duration::from_secs(2), output)
        .await
        .is_err()
    {
        tracing::warn!("the last messages could not be written within 2 s");
    }
    match reason {
        Ok(r) => {
            tracing::info!(reason = ?r, "MCP server stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "the MCP service task failed");
            ExitCode::from(1)
        }
    }
}

/// SIGTERM and SIGINT (Ctrl-C); on other platforms Ctrl-C only. Installed once, at start.
struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(t), Ok(i)) => Some((t, i)),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "cannot watch for SIGTERM/SIGINT");
                    None
                }
            };
            Self { streams }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    async fn recv(self) -> &'static str {
        #[cfg(unix)]
        {
            match self.streams {
                Some((mut term, mut int)) => tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                },
                None => std::future::pending().await,
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        }
    }
}
