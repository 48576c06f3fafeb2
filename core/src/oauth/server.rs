//! The browser sign-in: a loopback server on 127.0.0.1 that receives the authorization code
//! (PROTOCOL.md §1). Options in, a handle out: the authorize URL, the port, wait, cancel.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, Notify, oneshot};
use url::Url;

use crate::config::{DEFAULT_CALLBACK_PORT, FALLBACK_CALLBACK_PORT};
use crate::error::{Error, Result};
use crate::oauth::client::OAuthClient;
use crate::oauth::pkce::{Pkce, new_state};
use crate::oauth::{Completer, SignInResult};
use crate::secret::Secret;

mod paste;

pub use paste::PasteHandle;

/// A pending browser sign-in is abandoned after this long.
pub const BROWSER_LOGIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// After a success, how long the server stays up for the browser to fetch `/success`.
const SUCCESS_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct BrowserLoginOptions {
    /// The port to listen on; 0 picks a free one (tests).
    pub port: u16,
    /// The user chose the port: no `/cancel` to a busy port and no fallback to 1457.
    pub port_explicit: bool,
    pub open_browser: bool,
    /// Use this `state` instead of a random one (tests).
    pub force_state: Option<String>,
    pub timeout: Duration,
    /// Ask the issuer for a sign-in to this workspace only (`allowed_workspace_id`).
    pub workspace: Option<String>,
}

impl BrowserLoginOptions {
    pub fn from_settings(s: &crate::Settings) -> Self {
        Self {
            port: s.callback_port,
            port_explicit: s.callback_port_explicit,
            open_browser: s.open_browser,
            force_state: None,
            timeout: BROWSER_LOGIN_TIMEOUT,
            workspace: None,
        }
    }
}

type Outcome = Result<SignInResult>;

struct Flow {
    state: Secret,
    verifier: Secret,
    redirect_uri: Url,
    port: u16,
    client: OAuthClient,
    complete: Completer,
    outcome: std::sync::Mutex<Option<oneshot::Sender<Outcome>>>,
    exchanging: Mutex<()>,
    finished: AtomicBool,
    /// The flow is abandoned at this instant (the pending sign-in's time limit).
    deadline: tokio::time::Instant,
    /// Set once the credentials are saved: only then does `/success` say "Signed in".
    succeeded: AtomicBool,
    success_served: Notify,
}

impl Flow {
    fn finish(&self, outcome: Outcome) {
        self.finished.store(true, Ordering::SeqCst);
        if let Ok(mut tx) = self.outcome.lock()
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(outcome);
        }
    }

    /// Finished, cancelled or past its time limit: nothing can complete it any more.
    fn ended(&self) -> bool {
        self.finished.load(Ordering::SeqCst) || tokio::time::Instant::now() >= self.deadline
    }
}

/// Cancels a pending browser sign-in from anywhere.
#[derive(Clone)]
pub struct CancelHandle(Arc<Flow>);

impl CancelHandle {
    pub fn cancel(&self) {
        self.0.finish(Err(Error::LoginCancelled));
    }
}

pub struct BrowserLogin {
    auth_url: Url,
    port: u16,
    browser_opened: bool,
    timeout: Duration,
    flow: Arc<Flow>,
    outcome: oneshot::Receiver<Outcome>,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl BrowserLogin {
    /// Bind the callback server, build the authorize URL, open the browser if asked.
    pub async fn start(
        client: OAuthClient,
        complete: Completer,
        opts: BrowserLoginOptions,
    ) -> Result<Self> {
        let listener = bind(opts.port, opts.port_explicit).await?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::PortBusy {
                detail: e.to_string(),
            })?
            .port();
        let redirect_uri = Url::parse(&format!("http://127.0.0.1:{port}/auth/callback"))
            .map_err(|e| Error::Internal(e.to_string()))?;
        let pkce = Pkce::new();
        let state = opts
            .force_state
            .clone()
            .map(Secret::new)
            .unwrap_or_else(new_state);
        let auth_url = client.authorize_url(
            &redirect_uri,
            pkce.challenge,
            &state,
            opts.workspace.as_deref(),
        );
        let (tx, rx) = oneshot::channel();
        let flow = Arc::new(Flow {
            state,
            verifier: pkce.verifier,
            redirect_uri,
            port,
            client,
            complete,
            outcome: std::sync::Mutex::new(Some(tx)),
            exchanging: Mutex::new(()),
            finished: AtomicBool::new(false),
            deadline: tokio::time::Instant::now() + opts.timeout,
            succeeded: AtomicBool::new(false),
            success_served: Notify::new(),
        });
        let app = Router::new()
            .route("/auth/callback", get(callback))
            .route("/success", get(success))
            .route("/cancel", get(cancel))
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(Arc::clone(&flow), guard))
            .with_state(Arc::clone(&flow));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let r = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "callback server stopped with an error");
            }
        });
        let browser_opened = opts.open_browser && open_browser(&auth_url).await;
        tracing::info!(port, "waiting for the sign-in callback");
        Ok(Self {
            auth_url,
            port,
            browser_opened,
            timeout: opts.timeout,
            flow,
            outcome: rx,
            stop: stop_tx,
            server,
        })
    }

    pub fn auth_url(&self) -> &Url {
        &self.auth_url
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    /// False when the browser was not asked to open or could not be opened: show the URL.
    pub fn browser_opened(&self) -> bool {
        self.browser_opened
    }
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(Arc::clone(&self.flow))
    }
    /// Completes this sign-in from the final redirect pasted by hand (the browser ran elsewhere).
    pub fn paste_handle(&self) -> PasteHandle {
        PasteHandle(Arc::clone(&self.flow))
    }

    /// Wait for the sign-in to finish (saved, or failed), then stop the server.
    pub async fn wait(self) -> Result<SignInResult> {
        let outcome = match tokio::time::timeout_at(self.flow.deadline, self.outcome).await {
            Ok(Ok(o)) => o,
            Ok(Err(_)) => Err(Error::LoginCancelled),
            Err(_) => Err(Error::LoginTimedOut {
                minutes: self.timeout.as_secs().div_ceil(60),
            }),
        };
        self.flow.finished.store(true, Ordering::SeqCst);
        if outcome.is_ok() {
            // Let the browser fetch the success page before the server goes away.
            let _ = tokio::time::timeout(SUCCESS_GRACE, self.flow.success_served.notified()).await;
        }
        let _ = self.stop.send(());
        let mut server = self.server;
        if tokio::time::timeout(Duration::from_secs(2), &mut server)
            .await
            .is_err()
        {
            server.abort();
        }
        outcome
    }
}

/// 127.0.0.1 only. The default port, when busy: ask whoever holds it to cancel (another pending
/// Codex sign-in), retry 10 × 200 ms, then the one other registered port.
async fn bind(port: u16, explicit: bool) -> Result<TcpListener> {
    let try_bind = |p: u16| TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, p)));
    if explicit || port != DEFAULT_CALLBACK_PORT {
        return try_bind(port).await.map_err(|e| Error::PortBusy {
            detail: format!("port {port} on 127.0.0.1: {e}"),
        });
    }
    match try_bind(port).await {
        Ok(l) => return Ok(l),
        Err(e) if e.kind() != std::io::ErrorKind::AddrInUse => {
            return Err(Error::PortBusy {
                detail: format!("port {port} on 127.0.0.1: {e}"),
            });
        }
        Err(_) => {}
    }
    tracing::info!(
        port,
        "callback port busy; asking the holder to cancel its sign-in"
    );
    send_cancel(port).await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Ok(l) = try_bind(port).await {
            return Ok(l);
        }
    }
    try_bind(FALLBACK_CALLBACK_PORT).await.map_err(|e| Error::PortBusy {
        detail: format!("ports {DEFAULT_CALLBACK_PORT} and {FALLBACK_CALLBACK_PORT} on 127.0.0.1 are both busy ({e})"),
    })
}

async fn send_cancel(port: u16) {
    let Ok(client) = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
    else {
        return;
    };
    let _ = client
        .get(format!("http://127.0.0.1:{port}/cancel"))
        .header(CANCEL_HEADER, "1")
        .send()
        .await;
}

async fn open_browser(url: &Url) -> bool {
    let url = url.to_string();
    let r = tokio::task::spawn_blocking(move || {
        if let Some(spec) = std::env::var_os("BROWSER").filter(|b| !b.is_empty()) {
            return spawn_browser_var(&spec.to_string_lossy(), &url);
        }
        webbrowser::open(&url).map_err(|e| e.to_string())
    })
    .await;
    match r {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not open the browser");
            false
        }
        Err(_) => false,
    }
}

/// Start the browser `$BROWSER` names (entries split by `:`, `%s` for the URL, else the URL
/// last), the first that starts, with no stdio of ours and without waiting for it. A text browser
/// (w3m, lynx) run by the webbrowser crate would take over this process's terminal or, in the MCP
/// bridge, write into the JSON-RPC stream and block until it exits.
fn spawn_browser_var(spec: &str, url: &str) -> Result<(), String> {
    let mut last = String::from("BROWSER names no command");
    for entry in spec.split(':').filter(|e| !e.trim().is_empty()) {
        let mut words: Vec<String> = entry.split_whitespace().map(str::to_owned).collect();
        if words.iter().any(|w| w.contains("%s")) {
            for w in &mut words {
                *w = w.replace("%s", url);
            }
        } else {
            words.push(url.to_owned());
        }
        let Some((program, args)) = words.split_first() else {
            continue;
        };
        match std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            Ok(mut child) => {
                // Reap it whenever it exits; never wait for it here.
                std::thread::spawn(move || child.wait());
                return Ok(());
            }
            Err(e) => last = format!("cannot start {program}: {e}"),
        }
    }
    Err(last)
}

/// Every answer closes the connection; requests for another host (DNS rebinding) are refused.
async fn guard(State(flow): State<Arc<Flow>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let allowed = [
        format!("localhost:{}", flow.port),
        format!("127.0.0.1:{}", flow.port),
    ];
    let mut resp = if allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        next.run(req).await
    } else {
        tracing::warn!("callback request with an unexpected Host header refused");
        page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "This server only answers requests for localhost.",
        )
    };
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// What a request to `/auth/callback` asks for, read from its query string alone.
#[derive(Debug)]
pub enum CallbackQuery {
    /// `state` is missing or not the one of this sign-in: ignore the request, keep waiting.
    WrongState,
    /// The issuer refused (`error=`): the sign-in ends with this error.
    Denied(Error),
    /// No authorization code, or an empty one: the sign-in ends with an error.
    NoCode,
    /// The authorization code to exchange.
    Code(Secret),
}

/// Read the query string (without the `?`) of a callback request. `state` is compared in
/// constant time; a repeated parameter counts with its last value; bad percent-escapes and
/// invalid UTF-8 decode lossily, as the `Query` extractor did. Public for the fuzz targets.
#[doc(hidden)]
pub fn read_callback_query(query: &str, expected_state: &Secret) -> CallbackQuery {
    let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let given = q.get("state").map(String::as_bytes).unwrap_or_default();
    if !bool::from(given.ct_eq(expected_state.expose().as_bytes())) {
        return CallbackQuery::WrongState;
    }
    if let Some(err) = q.get("error") {
        let description = q.get("error_description").cloned();
        let e = if err == "access_denied"
            && description
                .as_deref()
                .is_some_and(|d| d.contains("missing_codex_entitlement"))
        {
            Error::NoCodexEntitlement
        } else {
            Error::AuthorizeDenied {
                error: err.clone(),
                description,
            }
        };
        return CallbackQuery::Denied(e);
    }
    match q.get("code").filter(|c| !c.is_empty()) {
        Some(c) => CallbackQuery::Code(Secret::new(c.clone())),
        None => CallbackQuery::NoCode,
    }
}

async fn callback(State(flow): State<Arc<Flow>>, RawQuery(query): RawQuery) -> Response {
    let request = read_callback_query(query.as_deref().unwrap_or_default(), &flow.state);
    if matches!(request, CallbackQuery::WrongState) {
        tracing::warn!("sign-in callback with a wrong state ignored; still waiting");
        return page(
            StatusCode::BAD_REQUEST,
            "State mismatch",
            "This sign-in link does not belong to the sign-in in progress, so it was ignored. Start the sign-in again from the app if you need to.",
        );
    }
    if flow.finished.load(Ordering::SeqCst) {
        return page(
            StatusCode::BAD_REQUEST,
            "Already finished",
            "This sign-in has already finished. You can close this tab.",
        );
    }
    let code = match request {
        CallbackQuery::Code(code) => code,
        CallbackQuery::Denied(e) => {
            let text = e.to_string();
            flow.finish(Err(e));
            return page(StatusCode::OK, "Sign-in failed", &text);
        }
        // (a wrong state was answered above)
        CallbackQuery::NoCode | CallbackQuery::WrongState => {
            let e = Error::OAuth {
                code: None,
                message: "the sign-in server sent no authorization code; start the sign-in again"
                    .into(),
            };
            let text = e.to_string();
            flow.finish(Err(e));
            return page(StatusCode::BAD_REQUEST, "Sign-in failed", &text);
        }
    };
    // The exchange and the save run in a task of their own: a browser that goes away (a closed
    // tab, a dropped connection) drops this handler, never a half-done sign-in.
    let job = tokio::spawn(exchange(Arc::clone(&flow), code));
    match job.await {
        Ok(Exchanged::Done(_)) => Redirect::to("/success").into_response(),
        Ok(Exchanged::Failed { message, .. }) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            &message,
        ),
        Ok(Exchanged::AlreadyFinished) => page(
            StatusCode::BAD_REQUEST,
            "Already finished",
            "This sign-in has already finished. You can close this tab.",
        ),
        Err(e) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            &format!("internal error: {e}"),
        ),
    }
}

enum Exchanged {
    Done(SignInResult),
    /// What to show, and the failure's kind (the flow ended with the failure itself).
    Failed {
        message: String,
        kind: crate::ErrorKind,
    },
    AlreadyFinished,
}

/// Exchange the code and save the tokens, one callback at a time, and end the flow with it.
async fn exchange(flow: Arc<Flow>, code: Secret) -> Exchanged {
    let _one_at_a_time = flow.exchanging.lock().await;
    if flow.ended() {
        return Exchanged::AlreadyFinished;
    }
    let result = async {
        let tokens = flow
            .client
            .exchange_code(&code, &flow.verifier, &flow.redirect_uri)
            .await?;
        (flow.complete)(tokens).await
    }
    .await;
    match result {
        Ok(done) => {
            flow.succeeded.store(true, Ordering::SeqCst);
            flow.finish(Ok(done.clone()));
            Exchanged::Done(done)
        }
        Err(e) => {
            let message = e.to_string();
            let kind = e.kind();
            flow.finish(Err(e));
            Exchanged::Failed { message, kind }
        }
    }
}

async fn success(State(flow): State<Arc<Flow>>) -> Response {
    // A visit before the sign-in completed (a stray tab, a hostile page) must not claim success.
    if !flow.succeeded.load(Ordering::SeqCst) {
        return page(
            StatusCode::NOT_FOUND,
            "Not signed in yet",
            "No sign-in has completed here. Finish signing in from the page you were sent to.",
        );
    }
    flow.success_served.notify_one();
    page(
        StatusCode::OK,
        "Signed in",
        "Signed in to Codex. You can close this tab.",
    )
}

/// The header with which one codex-oauth sign-in asks another to give the port up. A web page
/// cannot send it to 127.0.0.1 without a CORS preflight, which this server never grants, so a
/// plain GET from any page (an image tag) cannot end a sign-in. The Codex CLI's own `/cancel`
/// is refused too: it then takes its fallback port, as it does when 1455 stays busy.
const CANCEL_HEADER: &str = "x-codex-oauth-cancel";

async fn cancel(State(flow): State<Arc<Flow>>, headers: axum::http::HeaderMap) -> Response {
    if headers.get(CANCEL_HEADER).is_none_or(|v| v != "1") {
        tracing::warn!("a /cancel without our header was refused");
        return page(
            StatusCode::FORBIDDEN,
            "Not cancelled",
            "Only another codex-oauth sign-in can cancel this one.",
        );
    }
    flow.finish(Err(Error::LoginCancelled));
    page(
        StatusCode::OK,
        "Login cancelled",
        "Login cancelled. You can close this tab.",
    )
}

async fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, "Not found", "Nothing here.")
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} · codex-oauth</title>\
<meta name=\"viewport\" content=\"width=device-width\"><style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}}\
@media(prefers-color-scheme:dark){{body{{background:#1e1e1e;color:#eee}}}}</style></head>\
<body><h1>{t}</h1><p>{x}</p></body></html>",
        t = esc(title),
        x = esc(text)
    );
    let mut r = (status, Html(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    r
}
