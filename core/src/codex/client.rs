//! `CodexClient`: the Codex backend of a session (PROTOCOL.md §6). Answers stream over SSE in
//! the shape the model's catalog entry asks for; transient failures are retried a bounded number
//! of times (only while nothing was handed on); a 401 refreshes the session once; requests go to
//! the workspace's backend origin; rate limits go to state.json.

mod catalog;
mod failure;
mod limits;
mod routing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::{ACCEPT, IF_NONE_MATCH};
use reqwest::{Method, RequestBuilder, StatusCode};
use url::Url;

use crate::codex::models::ModelList;
use crate::codex::request::{Answer, LITE_HEADER, ResponseRequest, Shape, ToolCall};
use crate::codex::sse;
use crate::config::ORIGINATOR;
use crate::error::{Error, Result};
use crate::model::{RateLimits, Workspace};
use crate::oauth::network;
use crate::session::{AccessToken, Session};
use crate::store::AuthMode;
use failure::{Failure, classify, is_html};

const WHAT: &str = "the Codex backend";
/// The most of an error body that is read.
const ERROR_BODY_MAX: usize = 64 * 1024;
/// The most of a models or usage answer that is read.
const JSON_BODY_MAX: usize = 4 * 1024 * 1024;
/// The model of an API-key sign-in when the caller names none: the API has no catalog for us to
/// ask, so this is the one slug this project names itself (a standard-shape model of the API).
pub const API_KEY_DEFAULT_MODEL: &str = "gpt-5.5";

/// Limits and timings; the defaults are the production ones, tests shorten them.
#[derive(Debug, Clone)]
pub struct CodexOptions {
    /// The longest silence allowed while waiting for the answer to start or to go on.
    pub idle_timeout: Duration,
    /// Retries after a transient failure (5xx, 429 other than the usage limit, transport).
    pub max_retries: u32,
    /// The first retry waits this long, each next one twice as long (plus a little jitter).
    pub retry_base: Duration,
    /// Time limit of the models, usage and accounts requests.
    pub request_timeout: Duration,
    /// How long [`CodexClient::model`] trusts the catalog it has in memory.
    pub models_ttl: Duration,
}

impl Default for CodexOptions {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(300),
            max_retries: 3,
            retry_base: Duration::from_millis(500),
            request_timeout: Duration::from_secs(30),
            models_ttl: Duration::from_secs(5 * 60),
        }
    }
}

pub struct CodexClient {
    session: Arc<Session>,
    options: CodexOptions,
    models: tokio::sync::Mutex<Option<(Instant, ModelList)>>,
    /// The workspace routing of the account it was read for.
    workspace: tokio::sync::Mutex<Option<Workspace>>,
    /// The account whose `accounts/check` failed last, and when.
    routing_failed: std::sync::Mutex<Option<(String, Instant)>>,
    /// The rate limits last written to state.json (to write only changes).
    last_limits: std::sync::Mutex<Option<RateLimits>>,
}

impl CodexClient {
    pub fn new(session: Arc<Session>) -> Result<Self> {
        Self::with_options(session, CodexOptions::default())
    }

    pub fn with_options(session: Arc<Session>, options: CodexOptions) -> Result<Self> {
        Ok(Self {
            session,
            options,
            models: tokio::sync::Mutex::new(None),
            workspace: tokio::sync::Mutex::new(None),
            routing_failed: std::sync::Mutex::new(None),
            last_limits: std::sync::Mutex::new(None),
        })
    }

    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    pub fn options(&self) -> &CodexOptions {
        &self.options
    }

    /// Ask the model. Text deltas of the answer go to `on_delta` as they arrive; the whole answer
    /// is returned.
    pub async fn respond(
        &self,
        req: &ResponseRequest,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Answer> {
        let mut token = self.session.access_token().await?;
        let mut refreshed = false;
        let mut retries = 0;
        loop {
            let mut delivered = false;
            let result = {
                let mut forward = |d: &str| {
                    delivered = true;
                    on_delta(d);
                };
                self.attempt(&token, req, &mut forward).await
            };
            match result {
                Ok(answer) => return Ok(answer),
                Err(Failure::Unauthorized(message)) => {
                    token = self.after_unauthorized(&token, refreshed, message).await?;
                    refreshed = true;
                }
                Err(Failure::Other(e)) => {
                    if !e.is_transient() || delivered || retries >= self.options.max_retries {
                        return Err(e);
                    }
                    let wait = self.backoff(retries);
                    retries += 1;
                    tracing::warn!(error = %e, retry = retries, wait_ms = wait.as_millis() as u64, "Codex request failed; retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        token: &AccessToken,
        req: &ResponseRequest,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> std::result::Result<Answer, Failure> {
        let settings = self.session.settings();
        let url = match token.mode {
            AuthMode::ChatGpt => settings.responses_url(),
            AuthMode::ApiKey => settings.openai_responses_url(),
        };
        let mut builder = self
            .authed(Method::POST, url, token)
            .await?
            .header(ACCEPT, "text/event-stream")
            .json(&req.body());
        if token.mode == AuthMode::ChatGpt {
            let id = req.conversation_id.as_str();
            builder = builder
                .header("session-id", id)
                .header("thread-id", id)
                .header("x-client-request-id", id);
            if req.shape == Shape::Lite {
                builder = builder.header(LITE_HEADER, "true");
            }
        }
        let idle = self.options.idle_timeout;
        let resp = match tokio::time::timeout(idle, builder.send()).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(Failure::Other(network(WHAT, &e))),
            Err(_) => {
                return Err(Failure::Other(Error::Network {
                    what: WHAT.into(),
                    detail: format!("no answer within {} s", idle.as_secs().max(1)),
                }));
            }
        };
        let header_limits = RateLimits::from_headers(resp.headers());
        let status = resp.status();
        if !status.is_success() {
            if let Some(l) = &header_limits {
                self.remember_limits(l);
            }
            let html = is_html(resp.headers());
            let body = self.read_capped(resp, ERROR_BODY_MAX).await;
            return Err(match classify(status, html, &body) {
                Failure::Other(e) => Failure::Other(self.model_refusal(e, &req.model)),
                unauthorized => unauthorized,
            });
        }
        let out = sse::read_answer(resp.bytes_stream(), idle, on_delta)
            .await
            .map_err(Failure::Other)?;
        let limits = header_limits.or(out.rate_limits);
        if let Some(l) = &limits {
            self.remember_limits(l);
        }
        Ok(Answer {
            text: out.text,
            commentary: out.commentary,
            model: req.model.clone(),
            response_id: out.response_id,
            usage: out.usage,
            incomplete: out.incomplete,
            rate_limits: limits,
            calls: out.items.iter().filter_map(ToolCall::from_item).collect(),
            items: out.items,
        })
    }

    /// A 400/404 that says the model is unknown or unsupported (most often our client version
    /// is behind the backend's minimum for it), or that is otherwise about the model.
    fn model_refusal(&self, e: Error, model: &str) -> Error {
        match e {
            Error::Backend {
                status: status @ (400 | 404),
                message,
            } => {
                let m = message.to_ascii_lowercase();
                if m.contains("model not found")
                    || m.contains("not supported when using codex")
                    || m.contains("requires a newer version")
                {
                    Error::ModelRefused {
                        model: model.to_owned(),
                        client_version: self.session.settings().codex_version.clone(),
                        message,
                    }
                } else if m.contains("model") {
                    Error::ModelRejected {
                        model: model.to_owned(),
                        message,
                    }
                } else {
                    Error::Backend { status, message }
                }
            }
            other => other,
        }
    }

    /// After a 401: refresh once (ChatGPT sign-ins), else say what to do.
    async fn after_unauthorized(
        &self,
        token: &AccessToken,
        already_refreshed: bool,
        message: String,
    ) -> Result<AccessToken> {
        if token.mode == AuthMode::ApiKey {
            return Err(Error::Backend {
                status: 401,
                message: format!(
                    "the API key was refused ({message}); store a valid key with `codex-mcp-bridge login --with-api-key`"
                ),
            });
        }
        if already_refreshed {
            return Err(Error::SessionExpired {
                reason: format!(
                    "the Codex backend refused the access token even after a refresh: {message}"
                ),
            });
        }
        tracing::info!("the Codex backend answered 401; refreshing the session once");
        self.session.refresh_after_unauthorized(&token.token).await
    }

    /// A request with the headers every backend call carries (PROTOCOL.md §6), sent to the
    /// workspace's backend origin when it has one.
    async fn authed(
        &self,
        method: Method,
        url: Url,
        token: &AccessToken,
    ) -> Result<RequestBuilder> {
        let http = crate::http::client()?;
        if token.mode == AuthMode::ApiKey {
            return Ok(http.request(method, url).bearer_auth(token.token.expose()));
        }
        let workspace = self.workspace(token).await;
        let url = match &workspace {
            Some(w) => w.route(&url),
            None => url,
        };
        let mut b = http
            .request(method, url)
            .bearer_auth(token.token.expose())
            .header("originator", ORIGINATOR)
            .header("version", &self.session.settings().codex_version);
        if let Some(account) = &token.account_id {
            b = b.header("ChatGPT-Account-ID", account);
        }
        if token.fedramp {
            b = b.header("X-OpenAI-Fedramp", "true");
        }
        if let Some(o) = workspace
            .as_ref()
            .and_then(|w| w.routing_override.as_deref())
        {
            b = b.header("x-openai-account-routing-override", o);
        }
        Ok(b)
    }

    /// GET with the session's token: one refresh on 401, bounded retries on transient failures.
    /// Returns any 2xx or 304 answer.
    async fn get(
        &self,
        mut token: AccessToken,
        url: Url,
        etag: Option<&str>,
    ) -> Result<reqwest::Response> {
        let mut refreshed = false;
        let mut retries = 0;
        loop {
            let mut b = self
                .authed(Method::GET, url.clone(), &token)
                .await?
                .timeout(self.options.request_timeout);
            if let Some(e) = etag {
                b = b.header(IF_NONE_MATCH, e);
            }
            let error = match b.send().await {
                Ok(resp)
                    if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED =>
                {
                    return Ok(resp);
                }
                Ok(resp) => {
                    let status = resp.status();
                    let html = is_html(resp.headers());
                    let body = self.read_capped(resp, ERROR_BODY_MAX).await;
                    match classify(status, html, &body) {
                        Failure::Unauthorized(message) => {
                            token = self.after_unauthorized(&token, refreshed, message).await?;
                            refreshed = true;
                            continue;
                        }
                        Failure::Other(e) => e,
                    }
                }
                Err(e) => network(WHAT, &e),
            };
            if !error.is_transient() || retries >= self.options.max_retries {
                return Err(error);
            }
            let wait = self.backoff(retries);
            retries += 1;
            tracing::warn!(error = %error, retry = retries, "Codex request failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Up to `max` bytes of a body, for an error message; what cannot be read is left out.
    async fn read_capped(&self, resp: reqwest::Response, max: usize) -> Vec<u8> {
        let read = async {
            let mut out = Vec::new();
            let mut stream = resp.bytes_stream();
            while let Some(Ok(chunk)) = stream.next().await {
                let room = max.saturating_sub(out.len());
                out.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if out.len() >= max {
                    break;
                }
            }
            out
        };
        tokio::time::timeout(self.options.request_timeout, read)
            .await
            .unwrap_or_default()
    }

    /// A whole body of at most `max` bytes.
    async fn read_body(&self, resp: reqwest::Response, max: usize) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| network(WHAT, &e))?;
            if out.len() + chunk.len() > max {
                return Err(Error::BadResponse {
                    what: WHAT.into(),
                    detail: format!("the answer is larger than {} KiB", max / 1024),
                });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    fn backoff(&self, retry: u32) -> Duration {
        let base = self.options.retry_base.saturating_mul(1 << retry.min(10));
        let jitter_max = (base.as_millis() as u64 / 4).max(1);
        base + Duration::from_millis(rand::random::<u64>() % jitter_max)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::codex::models::Model;
    use crate::codex::request::Turn;
    use crate::config::{Settings, StoreMode};
    use crate::secret::Secret;
    use crate::store::AuthRecord;
    use chrono::Utc;
    use serde_json::Value;
    use std::sync::Mutex;

    fn jwt(payload: Value) -> String {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(b"{\"alg\":\"none\"}"),
            e.encode(payload.to_string())
        )
    }

    /// A session signed in (file store under `home`) with an hour-long token whose auth claim is
    /// `auth`, pointed at the backend at `base`.
    async fn signed_in_at(base: &str, home: &std::path::Path, auth: Value) -> Arc<Session> {
        let mut settings = Settings::for_home(home).unwrap();
        settings.store = StoreMode::File;
        settings.api_base = Url::parse(&format!("{base}/codex")).unwrap();
        settings.usage_url = Url::parse(&format!("{base}/wham/usage")).unwrap();
        let session = Session::open(settings).unwrap();
        let exp = Utc::now().timestamp() + 3600;
        session
            .save_record(AuthRecord::from_tokens(
                Secret::new(jwt(
                    serde_json::json!({"email": "a@b.c", "https://api.openai.com/auth": auth}),
                )),
                Secret::new(jwt(
                    serde_json::json!({"exp": exp, "https://api.openai.com/auth": auth}),
                )),
                Secret::new("rt"),
                None,
            ))
            .await
            .unwrap();
        session
    }

    /// A backend whose `accounts/check` puts the account in a residency workspace served at the
    /// same address under another host name (`localhost`); it records every request's host and
    /// headers, and answers in SSE.
    async fn residency_backend(seen: Arc<Mutex<Vec<Value>>>) -> String {
        use axum::routing::{get, post};
        let record = |seen: Arc<Mutex<Vec<Value>>>, headers: &axum::http::HeaderMap, path: &str| {
            let h = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            seen.lock().unwrap().push(serde_json::json!({
                "path": path,
                "host": h("host"),
                "version": h("version"),
                "session": h("session-id"),
                "thread": h("thread-id"),
                "request": h("x-client-request-id"),
                "lite": h(LITE_HEADER),
                "override": h("x-openai-account-routing-override"),
                "fedramp": h("x-openai-fedramp"),
            }));
        };
        let (s1, s2) = (Arc::clone(&seen), Arc::clone(&seen));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new()
            .route(
                "/wham/accounts/check",
                get(move |headers: axum::http::HeaderMap| {
                    record(Arc::clone(&s1), &headers, "check");
                    async move {
                        serde_json::json!({"accounts": [{"id": "acc-9",
                            "workspace_backend_origin": format!("http://localhost:{port}"),
                            "account_routing_override": "us"}]})
                        .to_string()
                    }
                }),
            )
            .route(
                "/codex/responses",
                post(move |headers: axum::http::HeaderMap| {
                    record(Arc::clone(&s2), &headers, "responses");
                    async move {
                        let delta = serde_json::json!({"type": "response.output_text.delta", "delta": "ok"});
                        let done = serde_json::json!({"type": "response.completed", "response": {"id": "r1"}});
                        format!("data: {delta}\n\ndata: {done}\n\n")
                    }
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://127.0.0.1:{port}")
    }

    #[tokio::test]
    async fn requests_carry_the_version_and_conversation_headers_and_follow_the_workspace() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let base = residency_backend(Arc::clone(&seen)).await;
        let home = tempfile::tempdir().unwrap();
        let auth =
            serde_json::json!({"chatgpt_account_id": "acc-9", "chatgpt_account_is_fedramp": true});
        let session = signed_in_at(&base, home.path(), auth).await;
        let client = CodexClient::new(Arc::clone(&session)).unwrap();
        let lite: Model =
            serde_json::from_value(serde_json::json!({"slug": "m", "use_responses_lite": true}))
                .unwrap();
        let req = ResponseRequest::new(&lite, vec![Turn::user("hi")]);
        let answer = client.respond(&req, &mut |_| {}).await.unwrap();
        assert_eq!(answer.text, "ok");
        let standard = ResponseRequest::new(&Model::bare("s"), vec![Turn::user("hi")]);
        client.respond(&standard, &mut |_| {}).await.unwrap();

        let seen = seen.lock().unwrap().clone();
        let paths: Vec<_> = seen.iter().map(|r| r["path"].as_str().unwrap()).collect();
        assert_eq!(
            paths,
            ["check", "responses", "responses"],
            "accounts/check asked once"
        );
        assert!(seen[0]["host"].as_str().unwrap().starts_with("127.0.0.1:"));
        let (l, s) = (&seen[1], &seen[2]);
        for r in [l, s] {
            assert!(r["host"].as_str().unwrap().starts_with("localhost:"), "{r}");
            assert_eq!(r["override"], "us");
            assert_eq!(r["fedramp"], "true");
            assert_eq!(r["version"], "0.171.0");
        }
        assert_eq!(l["session"], req.conversation_id.as_str());
        assert_eq!(l["thread"], l["session"]);
        assert_eq!(l["request"], l["session"]);
        assert_eq!(l["lite"], "true");
        assert_eq!(s["lite"], Value::Null, "never on a standard model");
        assert_ne!(s["session"], l["session"]);
        let kept = session.store().state().workspace.unwrap();
        assert_eq!(kept.routing_override.as_deref(), Some("us"));
    }

    #[test]
    fn a_400_about_the_model_is_a_model_error_whatever_its_words() {
        let home = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_home(home.path()).unwrap();
        settings.store = StoreMode::File;
        let client = CodexClient::new(Session::open(settings).unwrap()).unwrap();
        let backend = |status, message: &str| Error::Backend {
            status,
            message: message.into(),
        };
        let e = client.model_refusal(
            backend(
                400,
                "The 'gpt-x' model is not available with a ChatGPT account",
            ),
            "gpt-x",
        );
        assert!(matches!(e, Error::ModelRejected { .. }), "{e}");
        assert_eq!(e.kind(), crate::ErrorKind::Input);
        assert!(e.to_string().contains("codex_models"), "{e}");
        let e = client.model_refusal(backend(400, "Model not found gpt-x"), "gpt-x");
        assert!(matches!(e, Error::ModelRefused { .. }), "{e}");
        let e = client.model_refusal(backend(400, "Unsupported parameter: top_p"), "gpt-x");
        assert!(matches!(e, Error::Backend { status: 400, .. }), "{e}");
    }

    #[tokio::test]
    async fn a_failing_accounts_check_is_not_asked_again_before_every_request() {
        use axum::routing::{get, post};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let checks = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&checks);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route(
                "/wham/accounts/check",
                get(move || {
                    c.fetch_add(1, Ordering::SeqCst);
                    async { (axum::http::StatusCode::BAD_GATEWAY, "down") }
                }),
            )
            .route(
                "/codex/responses",
                post(|| async {
                    let delta =
                        serde_json::json!({"type": "response.output_text.delta", "delta": "ok"});
                    let done =
                        serde_json::json!({"type": "response.completed", "response": {"id": "r1"}});
                    format!("data: {delta}\n\ndata: {done}\n\n")
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let home = tempfile::tempdir().unwrap();
        let session = signed_in_at(
            &base,
            home.path(),
            serde_json::json!({"chatgpt_account_id": "acc-9"}),
        )
        .await;
        let client = CodexClient::new(Arc::clone(&session)).unwrap();
        let req = ResponseRequest::new(&Model::bare("s"), vec![Turn::user("hi")]);
        for _ in 0..3 {
            let answer = client.respond(&req, &mut |_| {}).await.unwrap();
            assert_eq!(answer.text, "ok");
        }
        assert_eq!(checks.load(Ordering::SeqCst), 1);
    }
}
