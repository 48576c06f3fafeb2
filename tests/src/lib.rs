//! fake-openai: a strict local stand-in for the OpenAI servers a ChatGPT sign-in and the Codex
//! backend talk to (PROTOCOL.md). It is strict on purpose, so that passing against it means
//! something:
//!
//! - `/oauth/authorize` checks every parameter the Codex CLI sends (client id, redirect URI,
//!   scope, S256 PKCE challenge, state, originator) and auto-approves by redirecting to the
//!   callback with a single-use code (or an `error=` when a fault asks for it);
//! - `/oauth/token` checks the PKCE verifier against the challenge, the redirect URI and the
//!   client id; refresh tokens rotate and a reused one is refused with `refresh_token_reused`;
//! - the backend refuses unknown or expired access tokens, a wrong account header, missing
//!   headers, and request bodies the real backend refuses (`store: true`, no `stream`, unknown
//!   models), and streams answers over SSE;
//! - faults (status codes, delays, garbage, dropped streams, usage limits) are switched on at run
//!   time, from Rust (`set_faults`) or over HTTP (`PUT /_fake/faults`);
//! - a request it did not expect (a path or method no route serves, a query or body a handler
//!   cannot make sense of) is answered as the real server would (404, 405, 4xx) and kept
//!   (`unexpected`, `GET /_fake/unexpected`): dropping a `FakeOpenAi` that holds one fails the
//!   test, and the suites that run the binary ask for the record at the end.
//!
//! Every token it issues is remembered (`issued_secrets`) so leak sweeps can look for them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backend;
mod catalog;
mod control;
mod jwt;
mod oauth;
mod record;
mod tls;
mod unexpected;

pub use catalog::{catalog_model, todays_catalog};
pub use record::RecordedRequest;
pub use tls::TestTls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the fake's account looks like and how it behaves.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FakeConfig {
    pub client_id: String,
    pub email: String,
    pub plan: String,
    pub account_id: String,
    pub user_id: String,
    /// Lifetime of issued access tokens.
    pub access_ttl_secs: i64,
    /// The `interval` the device-code endpoint asks clients to poll at.
    pub device_interval_secs: u64,
    /// A device code is approved on this poll (as if the user typed it); 0 = only by `approve_device`.
    pub device_auto_approve_after: u64,
    /// Accept only the redirect URIs registered for the real client (ports 1455 and 1457).
    pub strict_redirect_ports: bool,
    /// Issue opaque access tokens (no JWT, no `exp`), as many standard OAuth servers do.
    pub opaque_access_tokens: bool,
    /// The backend's model catalog (`/models`), PROTOCOL.md §6 shape; gated by `client_version`.
    pub models: Vec<Value>,
    /// `accounts/check`: the account's backend origin (`NO_CONSTRAINT` or an origin).
    pub workspace_backend_origin: String,
    /// `accounts/check`: `NO_CONSTRAINT`, `us`, `us_cr`; anything else is required on every
    /// backend request as `x-openai-account-routing-override`.
    pub account_routing_override: String,
    /// Tokens carry `chatgpt_account_is_fedramp`; backend requests must send `X-OpenAI-Fedramp`.
    pub fedramp: bool,
    /// More workspaces the user belongs to besides `account_id` (listed by `accounts/check`,
    /// accepted as `ChatGPT-Account-ID`, and chosen at authorize with `allowed_workspace_id`).
    pub extra_workspaces: Vec<FakeWorkspace>,
}

/// A workspace of the fake's user other than its default one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FakeWorkspace {
    pub id: String,
    pub name: String,
    pub plan_type: String,
}

impl FakeConfig {
    /// Whether `id` is one of the user's workspaces.
    pub fn has_workspace(&self, id: &str) -> bool {
        id == self.account_id || self.extra_workspaces.iter().any(|w| w.id == id)
    }
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            client_id: "app_EMoamEEZ73f0CkXaXp7hrann".into(),
            email: "ada@example.com".into(),
            plan: "plus".into(),
            account_id: "acc-1234".into(),
            user_id: "user-ada".into(),
            access_ttl_secs: 3600,
            device_interval_secs: 0,
            device_auto_approve_after: 1,
            strict_redirect_ports: false,
            opaque_access_tokens: false,
            models: todays_catalog(),
            workspace_backend_origin: "NO_CONSTRAINT".into(),
            extra_workspaces: Vec::new(),
            account_routing_override: "NO_CONSTRAINT".into(),
            fedramp: false,
        }
    }
}

/// Faults switched on at run time. The default is a healthy server. Over HTTP, a field it does
/// not know is refused (and recorded as unexpected), so a typo does not pass as "no fault".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Every `/oauth/token` request answers this status (with an OpenAI-style error body).
    pub token_status: Option<u16>,
    /// `/oauth/token` waits this long before answering.
    pub token_delay_ms: u64,
    /// `/oauth/token` carries out the grant at once (a refresh token rotates) and holds only the
    /// answer back this long: the window in which a dropped answer loses the rotation.
    pub token_answer_delay_ms: u64,
    /// `/oauth/token` answers 200 with a body that is not JSON.
    pub token_garbage: bool,
    /// `/oauth/token` answers 200 with JSON that lacks the tokens.
    pub token_missing_fields: bool,
    /// Refresh requests fail with 401 and this error code (e.g. `refresh_token_expired`).
    pub refresh_error: Option<String>,
    /// Token errors come as RFC 9457 problem+json instead of OpenAI's error shape.
    pub problem_json: bool,
    /// `/oauth/authorize` redirects back with `error` and `error_description`.
    pub authorize_error: Option<(String, String)>,
    /// The device-code endpoints answer 404 (not enabled).
    pub device_disabled: bool,
    /// Every backend request answers this status.
    pub responses_status: Option<u16>,
    /// The backend answers 429 `usage_limit_reached`.
    pub usage_limit: bool,
    /// The SSE stream ends (without `response.completed`) after this many text deltas.
    pub sse_drop_after: Option<usize>,
    /// The stream ends with `response.failed` and this error code.
    pub sse_failed: Option<String>,
    /// The backend waits this long before answering.
    pub responses_delay_ms: u64,
    /// The backend waits this long between text deltas.
    pub delta_delay_ms: u64,
    /// The next backend request (only that one) answers this status.
    pub backend_status_once: Option<u16>,
    /// The 5-hour window is this much used (percent), in the usage answer and in the answer
    /// stream's rate-limit event; at 100 or more the usage answer says the limit is reached.
    /// Not a fault: the way a test moves usage past a threshold.
    pub primary_used_percent: Option<f64>,
    /// The backend answers this text instead of echoing the last user message (a test's
    /// scripted answer, such as a review in its JSON shape).
    pub answer: Option<String>,
    /// Scripted answers, one per backend `responses` request, taken from the front: `{"function_call":
    /// {"name", "arguments": <object>}}`, `{"custom_tool_call": {"name", "input": <text>}}` or
    /// `{"answer": <text>}`. Empty: the usual echo (or `answer`).
    #[serde(default)]
    pub script: Vec<Value>,
    /// The backend starts the answer (its commentary and the answer's first item) and then
    /// never ends it: it sends only SSE keep-alive comments, every 100 ms, until the client
    /// closes the connection (counted in `Stats::responses_abandoned`).
    pub hang: bool,
}

/// What reached the fake (counters only go up).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub authorize: u64,
    /// Authorization codes exchanged for tokens (successfully).
    pub code_exchanges: u64,
    /// Refresh grants that issued new tokens.
    pub refreshes: u64,
    /// Refresh grant requests that reached the token endpoint, whatever the outcome.
    pub refresh_attempts: u64,
    /// Refresh tokens presented a second time.
    pub reuse_rejections: u64,
    pub revokes: u64,
    pub api_key_exchanges: u64,
    pub device_usercodes: u64,
    pub device_polls: u64,
    /// Backend `responses` requests (ChatGPT and API-key), whatever the outcome.
    pub responses: u64,
    /// Answer streams the client closed before they ended.
    pub responses_abandoned: u64,
    pub models: u64,
    pub usage: u64,
    pub accounts_check: u64,
    /// Requests refused for breaking the protocol (bad parameters, headers, bodies, tokens).
    pub rejected: u64,
}

/// Tokens as a sign-in would have issued them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuedTokens {
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: String,
}

#[derive(Debug)]
pub(crate) struct CodeGrant {
    pub challenge: String,
    pub redirect_uri: String,
    pub created: i64,
    pub used: bool,
    /// `allowed_workspace_id` of the authorize request: the tokens name that workspace.
    pub workspace: Option<String>,
}

#[derive(Debug)]
pub(crate) struct RefreshState {
    /// Rotated (used) or revoked.
    pub dead: bool,
    pub revoked: bool,
}

#[derive(Debug)]
pub(crate) struct DeviceGrant {
    pub user_code: String,
    pub polls: u64,
    pub approved: bool,
    pub created: i64,
    pub done: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub faults: Faults,
    pub stats: Stats,
    pub requests: Vec<RecordedRequest>,
    /// Requests the fake did not expect, one line each (`GET /path: reason`).
    pub unexpected: Vec<String>,
    pub codes: HashMap<String, CodeGrant>,
    pub refresh: HashMap<String, RefreshState>,
    /// access token → expiry (unix s)
    pub access: HashMap<String, i64>,
    pub id_tokens: Vec<String>,
    pub api_keys: Vec<String>,
    pub devices: HashMap<String, DeviceGrant>,
    pub secrets: Vec<String>,
}

pub(crate) struct Shared {
    pub cfg: FakeConfig,
    pub base_url: String,
    inner: Mutex<Inner>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn issuer(&self) -> String {
        self.base_url.clone()
    }

    /// Issue a full token set and remember it.
    pub fn issue(&self, ttl: i64) -> IssuedTokens {
        self.issue_for(ttl, None)
    }

    /// Issue tokens whose claims name `workspace` (default: the config's account).
    pub fn issue_for(&self, ttl: i64, workspace: Option<&str>) -> IssuedTokens {
        let now = chrono::Utc::now().timestamp();
        let mut cfg = self.cfg.clone();
        if let Some(w) = workspace {
            cfg.account_id = w.to_owned();
        }
        let t = IssuedTokens {
            id_token: jwt::id_token(&cfg, &self.issuer(), now),
            access_token: if cfg.opaque_access_tokens {
                jwt::opaque_access_token()
            } else {
                jwt::access_token(&cfg, &self.issuer(), now, ttl)
            },
            refresh_token: jwt::refresh_token(),
        };
        let mut g = self.lock();
        g.access.insert(t.access_token.clone(), now + ttl);
        g.refresh.insert(
            t.refresh_token.clone(),
            RefreshState {
                dead: false,
                revoked: false,
            },
        );
        g.id_tokens.push(t.id_token.clone());
        g.secrets.extend([
            t.id_token.clone(),
            t.access_token.clone(),
            t.refresh_token.clone(),
        ]);
        t
    }

    pub fn record(&self, r: RecordedRequest) {
        let mut g = self.lock();
        if r.rejected.is_some() {
            g.stats.rejected += 1;
        }
        g.requests.push(r);
    }

    /// Keep a request the fake did not expect (`unexpected::entry` makes the line).
    pub fn unexpected(&self, entry: String) {
        tracing::warn!("fake-openai: unexpected request: {entry}");
        self.lock().unexpected.push(entry);
    }
}

/// A running fake. It serves on its own thread and runtime (so a test may block its own thread
/// on a child process that talks to the fake), and stops when dropped. Dropping it panics when
/// it holds requests it did not expect (unless the thread is already panicking): a test that
/// sends one on purpose takes them first with `take_unexpected`.
pub struct FakeOpenAi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeOpenAi {
    /// Start on a free port of 127.0.0.1.
    pub async fn start(cfg: FakeConfig) -> anyhow::Result<Self> {
        Self::start_on(cfg, "127.0.0.1:0".parse()?).await
    }

    pub async fn start_on(cfg: FakeConfig, bind: SocketAddr) -> anyhow::Result<Self> {
        Self::start_with(cfg, bind, None).await
    }

    /// Start on a free port of 127.0.0.1, serving HTTPS with `tls`'s certificate; the base URL
    /// is `https://localhost:<port>` (the name the certificate holds).
    pub async fn start_tls(cfg: FakeConfig, tls: &TestTls) -> anyhow::Result<Self> {
        Self::start_with(cfg, "127.0.0.1:0".parse()?, Some(tls.acceptor()?)).await
    }

    async fn start_with(
        cfg: FakeConfig,
        bind: SocketAddr,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind(bind)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let base_url = match tls {
            Some(_) => format!("https://localhost:{}", addr.port()),
            None => format!("http://{addr}"),
        };
        let shared = Arc::new(Shared {
            cfg,
            base_url,
            inner: Mutex::new(Inner::default()),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<anyhow::Result<()>>();
        let app = router(shared.clone());
        let thread = std::thread::Builder::new()
            .name("fake-openai".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let stop = async move {
                        let _ = rx.await;
                    };
                    if let Some(acceptor) = tls {
                        let listener = tls::TlsListener {
                            tcp: listener,
                            acceptor,
                        };
                        let _ = axum::serve(listener, app)
                            .with_graceful_shutdown(stop)
                            .await;
                        return;
                    }
                    // Answers go out as they are written, as a real server's would: without this,
                    // Nagle's algorithm holds each SSE event back until the client's delayed ACK.
                    use axum::serve::ListenerExt;
                    let listener = listener.tap_io(|tcp| {
                        let _ = tcp.set_nodelay(true);
                    });
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(stop)
                        .await;
                });
                // Streams still open (a client that never reads) must not keep the thread alive.
                rt.shutdown_background();
            })?;
        ready_rx.await??;
        Ok(Self {
            shared,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:<port>`
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }
    /// The OAuth issuer (`CODEX_OAUTH_ISSUER`).
    pub fn issuer(&self) -> String {
        self.shared.issuer()
    }
    /// The Codex backend base (`CODEX_OAUTH_API_BASE`).
    pub fn api_base(&self) -> String {
        format!("{}/backend-api/codex", self.shared.base_url)
    }
    /// `CODEX_OAUTH_USAGE_URL`
    pub fn usage_url(&self) -> String {
        format!("{}/backend-api/wham/usage", self.shared.base_url)
    }
    /// The API-key endpoint base (`CODEX_OAUTH_OPENAI_API_BASE`).
    pub fn openai_api_base(&self) -> String {
        format!("{}/v1", self.shared.base_url)
    }
    /// The settings that point a client at this fake, as environment pairs: the issuer, the
    /// Codex backend, the usage URL and the API-key endpoint base.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("CODEX_OAUTH_ISSUER", self.issuer()),
            ("CODEX_OAUTH_API_BASE", self.api_base()),
            ("CODEX_OAUTH_USAGE_URL", self.usage_url()),
            ("CODEX_OAUTH_OPENAI_API_BASE", self.openai_api_base()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
    pub fn config(&self) -> &FakeConfig {
        &self.shared.cfg
    }

    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }
    pub fn faults(&self) -> Faults {
        self.shared.lock().faults.clone()
    }
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }
    /// Requests to paths that end with `suffix`.
    pub fn requests_to(&self, suffix: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with(suffix))
            .collect()
    }
    /// A token set as a sign-in would issue it, with an access token valid for `access_ttl_secs`
    /// (negative: already expired).
    pub fn mint_tokens(&self, access_ttl_secs: i64) -> IssuedTokens {
        self.shared.issue(access_ttl_secs)
    }
    /// Whether `refresh_token` would still be accepted (issued, not rotated, not revoked).
    pub fn refresh_token_alive(&self, refresh_token: &str) -> bool {
        self.shared
            .lock()
            .refresh
            .get(refresh_token)
            .is_some_and(|r| !r.dead && !r.revoked)
    }
    /// Every token, code, verifier and key the fake issued or received, for leak sweeps.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.shared.lock().secrets.clone()
    }
    /// Approve a pending device code (as if the user typed it in). False when no such code is pending.
    pub fn approve_device(&self, user_code: &str) -> bool {
        oauth::approve_device(&self.shared, user_code)
    }
    /// The requests it did not expect so far, one line each (`GET /path: reason`).
    pub fn unexpected(&self) -> Vec<String> {
        self.shared.lock().unexpected.clone()
    }
    /// Take the record of unexpected requests (it is empty afterwards): how a test that sends
    /// one on purpose opts out of the check at drop.
    pub fn take_unexpected(&self) -> Vec<String> {
        std::mem::take(&mut self.shared.lock().unexpected)
    }
    /// Fail now if it got a request it did not expect (drop checks the same at the end).
    #[track_caller]
    pub fn assert_no_unexpected(&self) {
        let seen = self.unexpected();
        assert!(seen.is_empty(), "{}", unexpected_message(&seen));
    }
}

fn unexpected_message(seen: &[String]) -> String {
    format!(
        "fake-openai got {} request(s) it did not expect (a test that sends one on purpose \
         takes them with take_unexpected()):\n  {}",
        seen.len(),
        seen.join("\n  ")
    )
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // The server has stopped: nothing more can arrive.
        let seen = self.take_unexpected();
        if !seen.is_empty() && !std::thread::panicking() {
            panic!("{}", unexpected_message(&seen));
        }
    }
}

/// Every route, then the fallbacks that keep what no route expects (`unexpected`); the
/// method fallback applies to the routes above it, so it comes after them.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(oauth::routes())
        .merge(backend::routes())
        .merge(control::routes())
        .method_not_allowed_fallback(unexpected::method_not_allowed)
        .fallback(unexpected::no_route)
        .with_state(shared)
}
