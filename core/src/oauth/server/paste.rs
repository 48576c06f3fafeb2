//! Completing a browser sign-in from its final redirect pasted by hand: when the browser runs on
//! another machine (SSH, a container, Claude Code on the web), its last page, our loopback
//! callback, cannot load; the user copies that address and pastes it. It is read as the callback
//! server reads a request (the same `state` check), then exchanged and saved the same way.

use std::sync::Arc;

use url::Url;

use super::{CallbackQuery, Exchanged, Flow, exchange, read_callback_query};
use crate::error::{Error, Result};
use crate::oauth::SignInResult;

/// Completes a pending browser sign-in from a pasted final redirect, from anywhere.
#[derive(Clone)]
pub struct PasteHandle(pub(super) Arc<Flow>);

impl PasteHandle {
    /// Complete the sign-in with `pasted`: the whole address of the last page
    /// (`http://127.0.0.1:<port>/auth/callback?code=…&state=…`) or only its query.
    ///
    /// An address that is not this sign-in's callback, or carries another `state`, is refused
    /// ([`Error::RedirectRefused`]) and the sign-in keeps waiting. An error redirect ends the
    /// sign-in as the callback does. After the end, [`Error::SignInEnded`]. When the paste ended
    /// the sign-in with a failure, [`Error::SignInFailed`] (the flow's waiter gets the failure).
    pub async fn complete(&self, pasted: &str) -> Result<SignInResult> {
        let flow = &self.0;
        if flow.ended() {
            return Err(Error::SignInEnded);
        }
        let query = callback_query(pasted, flow.port)?;
        let code = match read_callback_query(&query, &flow.state) {
            CallbackQuery::Code(code) => code,
            CallbackQuery::WrongState => {
                tracing::warn!("a pasted redirect with a wrong state was refused; still waiting");
                return Err(Error::RedirectRefused {
                    reason: "it belongs to another sign-in (its state is not this one's); paste the address the page of this sign-in led to".into(),
                });
            }
            CallbackQuery::Denied(e) => return Err(end_with(flow, e)),
            CallbackQuery::NoCode => {
                let e = Error::OAuth {
                    code: None,
                    message:
                        "the sign-in server sent no authorization code; start the sign-in again"
                            .into(),
                };
                return Err(end_with(flow, e));
            }
        };
        // As the callback does: a task of its own, so a caller that goes away never leaves a
        // half-done sign-in.
        match tokio::spawn(exchange(Arc::clone(flow), code)).await {
            Ok(Exchanged::Done(done)) => {
                // No browser will fetch `/success`: the waiter need not wait for it.
                flow.success_served.notify_one();
                Ok(done)
            }
            Ok(Exchanged::Failed { message, kind }) => Err(Error::SignInFailed { message, kind }),
            Ok(Exchanged::AlreadyFinished) => Err(Error::SignInEnded),
            Err(e) => Err(Error::Internal(format!("the sign-in task failed: {e}"))),
        }
    }

    /// Whether the sign-in has ended (then every paste is refused with [`Error::SignInEnded`]).
    pub fn has_ended(&self) -> bool {
        self.0.ended()
    }
}

/// End the flow with `e`; what the paste reports.
fn end_with(flow: &Flow, e: Error) -> Error {
    if flow.ended() {
        return Error::SignInEnded;
    }
    let refused = Error::SignInFailed {
        message: e.to_string(),
        kind: e.kind(),
    };
    flow.finish(Err(e));
    refused
}

/// The query of a pasted callback address, or why it is not one of ours. Accepts the whole
/// address (`localhost` or `127.0.0.1`, the scheme may be missing), the path and query, or the
/// query alone (with or without `?`); surrounding white space is ignored. The pasted text holds
/// an authorization code: no message repeats it.
fn callback_query(pasted: &str, port: u16) -> Result<String> {
    let text = pasted.trim();
    let text = text.split_once('#').map_or(text, |(t, _)| t);
    let refuse = |why: &str| Error::RedirectRefused {
        reason: format!(
            "{why}; paste the whole address of the page that failed to load, http://127.0.0.1:{port}/auth/callback?code=…&state=…"
        ),
    };
    if text.is_empty() {
        return Err(refuse("nothing was pasted"));
    }
    let (before, query) = text.split_once('?').unwrap_or((text, ""));
    if before.is_empty() {
        return Ok(query.to_owned());
    }
    if query.is_empty() && !text.contains('/') && text.contains('=') {
        return Ok(text.to_owned());
    }
    if before.starts_with('/') {
        return if before == CALLBACK_PATH {
            Ok(query.to_owned())
        } else {
            Err(refuse("it is not the address of this sign-in's callback"))
        };
    }
    let with_scheme = if before.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url = Url::parse(&with_scheme).map_err(|_| refuse("it is not an address"))?;
    let host_ok = matches!(url.host_str(), Some("127.0.0.1" | "localhost"));
    if url.scheme() != "http" || !host_ok || url.port() != Some(port) || url.path() != CALLBACK_PATH
    {
        return Err(refuse("it is not the address of this sign-in's callback"));
    }
    Ok(url.query().unwrap_or_default().to_owned())
}

const CALLBACK_PATH: &str = "/auth/callback";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::server::{BrowserLogin, BrowserLoginOptions};
    use crate::oauth::{Completer, OAuthClient};
    use std::time::Duration;

    const STATE: &str = "the-state-of-this-sign-in";

    async fn login(dir: &std::path::Path, timeout: Duration) -> BrowserLogin {
        let settings = Arc::new(crate::Settings::for_home(dir).unwrap());
        let client = OAuthClient::new(settings).unwrap();
        let complete: Completer =
            Arc::new(|_| Box::pin(async { Err(Error::Internal("nothing to save".into())) }));
        let opts = BrowserLoginOptions {
            port: 0,
            port_explicit: true,
            open_browser: false,
            force_state: Some(STATE.into()),
            timeout,
            workspace: None,
        };
        BrowserLogin::start(client, complete, opts).await.unwrap()
    }

    #[test]
    fn the_whole_address_the_path_or_the_query_alone_is_read_and_nothing_else() {
        let q = "code=c0de&state=s";
        for pasted in [
            format!("http://127.0.0.1:1455/auth/callback?{q}"),
            format!("  http://localhost:1455/auth/callback?{q}\n"),
            format!("HTTP://127.0.0.1:1455/auth/callback?{q}#top"),
            format!("127.0.0.1:1455/auth/callback?{q}"),
            format!("/auth/callback?{q}"),
            format!("?{q}"),
            q.to_owned(),
        ] {
            assert_eq!(callback_query(&pasted, 1455).unwrap(), q, "{pasted}");
        }
        for pasted in [
            format!("http://127.0.0.1:1457/auth/callback?{q}"),
            format!("http://evil.example:1455/auth/callback?{q}"),
            format!("https://127.0.0.1:1455/auth/callback?{q}"),
            format!("http://127.0.0.1:1455/success?{q}"),
            format!("/cancel?{q}"),
            "   ".to_owned(),
            "not an address".to_owned(),
        ] {
            let e = callback_query(&pasted, 1455).unwrap_err();
            assert!(matches!(e, Error::RedirectRefused { .. }), "{pasted}: {e}");
            assert!(!e.to_string().contains("c0de"), "{e}");
        }
    }

    #[tokio::test]
    async fn a_wrong_state_or_another_address_is_refused_and_the_sign_in_keeps_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let login = login(dir.path(), Duration::from_secs(60)).await;
        let paste = login.paste_handle();
        let port = login.port();
        let wrong = format!("http://127.0.0.1:{port}/auth/callback?code=c0de&state=another");
        let e = paste.complete(&wrong).await.unwrap_err();
        assert!(matches!(e, Error::RedirectRefused { .. }), "{e}");
        assert!(e.to_string().contains("still waiting"), "{e}");
        let elsewhere = format!("http://127.0.0.1:{port}/elsewhere?code=c0de&state={STATE}");
        let e = paste.complete(&elsewhere).await.unwrap_err();
        assert!(matches!(e, Error::RedirectRefused { .. }), "{e}");
        assert!(!paste.has_ended());
        login.cancel_handle().cancel();
        assert!(matches!(login.wait().await, Err(Error::LoginCancelled)));
        let e = paste.complete(&wrong).await.unwrap_err();
        assert!(matches!(e, Error::SignInEnded), "{e}");
    }

    #[tokio::test]
    async fn an_error_redirect_pasted_ends_the_sign_in_as_the_callback_does() {
        let dir = tempfile::tempdir().unwrap();
        let login = login(dir.path(), Duration::from_secs(60)).await;
        let paste = login.paste_handle();
        let denied = format!(
            "error=access_denied&error_description=missing_codex_entitlement&state={STATE}"
        );
        let e = paste.complete(&denied).await.unwrap_err();
        assert!(e.to_string().contains("Codex is not enabled"), "{e}");
        assert_eq!(e.kind(), crate::ErrorKind::Input);
        assert!(paste.has_ended());
        assert!(matches!(login.wait().await, Err(Error::NoCodexEntitlement)));
    }

    #[tokio::test]
    async fn a_paste_after_the_time_limit_is_refused_as_ended() {
        let dir = tempfile::tempdir().unwrap();
        let login = login(dir.path(), Duration::from_millis(200)).await;
        let paste = login.paste_handle();
        assert!(matches!(
            login.wait().await,
            Err(Error::LoginTimedOut { .. })
        ));
        let e = paste
            .complete(&format!("code=c0de&state={STATE}"))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::SignInEnded), "{e}");
        assert_eq!(e.to_string(), "this sign-in has ended; start a new one");
    }
}
