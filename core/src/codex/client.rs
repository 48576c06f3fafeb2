//! `CodexClient`: the Codex backend of a session (PROTOCOL.md §6). Answers stream over SSE;
//! transient failures are retried a bounded number of times (only while nothing was handed on);
//! a 401 refreshes the session once; rate-limit headers go to state.json.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use futures::StreamExt;
use reqwest::header::{ACCEPT, ETAG, IF_NONE_MATCH};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use url::Url;

use crate::codex::models::{ModelCache, ModelList, ModelSource};
use crate::codex::ratelimits::RateLimits;
use crate::codex::request::{Answer, ResponseRequest};
use crate::codex::sse::{self, one_line};
use crate::codex::usage::Usage;
use crate::config::ORIGINATOR;
use crate::error::{Error, Result};
use crate::oauth::network;
use crate::session::{AccessToken, Session};
use crate::store::AuthMode;

const WHAT: &str = "the Codex backend";
/// The most of an error body that is read.
const ERROR_BODY_MAX: usize = 64 * 1024;
/// The most of a models or usage answer that is read.
const JSON_BODY_MAX: usize = 4 * 1024 * 1024;

/// Limits and timings; the defaults are the production ones, tests shorten them.
#[derive(Debug, Clone)]
pub struct CodexOptions {
    /// The longest silence allowed while waiting for the answer to start or to go on.
    pub idle_timeout: Duration,
    /// Retries after a transient failure (5xx, 429 other than the usage limit, transport).
    pub max_retries: u32,
    /// The first retry waits this long, each next one twice as long (plus a little jitter).
    pub retry_base: Duration,
    /// Time limit of the models and usage requests.
    pub request_timeout: Duration,
    /// How long [`CodexClient::default_model`] trusts the model list it has in memory.
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

/// Why an attempt failed, as the retry loop needs to know it.
enum Failure {
    /// HTTP 401, with the backend's message.
    Unauthorized(String),
    /// HTTP 400 "Instructions are not valid".
    InstructionsRejected(Error),
    Other(Error),
}

pub struct CodexClient {
    session: Arc<Session>,
    http: reqwest::Client,
    options: CodexOptions,
    models: tokio::sync::Mutex<Option<(Instant, ModelList)>>,
    /// The rate limits last written to state.json (to write only changes).
    last_limits: std::sync::Mutex<Option<RateLimits>>,
}

impl CodexClient {
    pub fn new(session: Arc<Session>) -> Result<Self> {
        Self::with_options(session, CodexOptions::default())
    }

    pub fn with_options(session: Arc<Session>, options: CodexOptions) -> Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .user_agent(crate::user_agent())
            .build()
            .map_err(|e| Error::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            session,
            http,
            options,
            models: tokio::sync::Mutex::new(None),
            last_limits: std::sync::Mutex::new(None),
        })
    }

    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    pub fn options(&self) -> &CodexOptions {
        &self.options
    }

    /// Ask the model. Text deltas go to `on_delta` as they arrive; the whole answer is returned.
    pub async fn respond(
        &self,
        req: &ResponseRequest,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Answer> {
        let mut token = self.session.access_token().await?;
        let mut refreshed = false;
        let mut developer = false;
        let mut retries = 0;
        loop {
            let mut delivered = false;
            let result = {
                let mut forward = |d: &str| {
                    delivered = true;
                    on_delta(d);
                };
                self.attempt(&token, req, developer, &mut forward).await
            };
            match result {
                Ok(answer) => return Ok(answer),
                Err(Failure::Unauthorized(message)) => {
                    token = self.after_unauthorized(&token, refreshed, message).await?;
                    refreshed = true;
                }
                Err(Failure::InstructionsRejected(e)) => {
                    if developer || req.system_prompt.is_none() {
                        return Err(e);
                    }
                    tracing::warn!(
                        "the backend refused the instructions; sending the system prompt as a developer message"
                    );
                    developer = true;
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
        developer: bool,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> std::result::Result<Answer, Failure> {
        let settings = self.session.settings();
        let url = match token.mode {
            AuthMode::ChatGpt => settings.responses_url(),
            AuthMode::ApiKey => settings.openai_responses_url(),
        };
        let mut builder = self
            .authed(Method::POST, url, token)
            .header(ACCEPT, "text/event-stream")
            .json(&req.body(developer));
        if token.mode == AuthMode::ChatGpt {
            builder = builder.header("session_id", &req.session_id);
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
        let limits = RateLimits::from_headers(resp.headers());
        if let Some(l) = &limits {
            self.remember_limits(l);
        }
        let status = resp.status();
        if !status.is_success() {
            let body = self.read_capped(resp, ERROR_BODY_MAX).await;
            return Err(classify(status, &body));
        }
        let out = sse::read_answer(resp.bytes_stream(), idle, on_delta)
            .await
            .map_err(Failure::Other)?;
        Ok(Answer {
            text: out.text,
            model: req.model.clone(),
            response_id: out.response_id,
            usage: out.usage,
            incomplete: out.incomplete,
            rate_limits: limits,
        })
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

    fn authed(&self, method: Method, url: Url, token: &AccessToken) -> RequestBuilder {
        let mut b = self
            .http
            .request(method, url)
            .bearer_auth(token.token.expose());
        if token.mode == AuthMode::ChatGpt {
            b = b.header("originator", ORIGINATOR);
            if let Some(account) = &token.account_id {
                b = b.header("ChatGPT-Account-ID", account);
            }
        }
        b
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
                    let body = self.read_capped(resp, ERROR_BODY_MAX).await;
                    match classify(status, &body) {
                        Failure::Unauthorized(message) => {
                            token = self.after_unauthorized(&token, refreshed, message).await?;
                            refreshed = true;
                            continue;
                        }
                        Failure::InstructionsRejected(e) | Failure::Other(e) => e,
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

    /// The model list: fetched (revalidated with the cached ETag), else the cache, else the
    /// built-in fallback when nothing was ever fetched.
    pub async fn models(&self) -> Result<ModelList> {
        let mut memo = self.models.lock().await;
        let list = self.fetch_models().await?;
        *memo = Some((Instant::now(), list.clone()));
        Ok(list)
    }

    /// The default model: the first visible one by priority, from a list at most
    /// `models_ttl` old (fetched when older).
    pub async fn default_model(&self) -> Result<String> {
        let mut memo = self.models.lock().await;
        if let Some((at, list)) = memo.as_ref()
            && at.elapsed() < self.options.models_ttl
        {
            return Ok(list.default_model.clone());
        }
        let list = self.fetch_models().await?;
        let slug = list.default_model.clone();
        *memo = Some((Instant::now(), list));
        Ok(slug)
    }

    async fn fetch_models(&self) -> Result<ModelList> {
        let path = self.session.settings().profile_dir().join("models.json");
        let p = path.clone();
        let cache = tokio::task::spawn_blocking(move || ModelCache::read(&p))
            .await
            .ok()
            .flatten();
        let token = match self.session.access_token().await {
            Ok(t) => t,
            Err(e) => return stale(cache, e),
        };
        if token.mode == AuthMode::ApiKey {
            return Ok(ModelList::fallback(Some(
                "signed in with an API key: the ChatGPT model list does not apply; any model of the OpenAI API can be named".into(),
            )));
        }
        let mut url = self.session.settings().models_url();
        url.query_pairs_mut()
            .append_pair("client_version", env!("CARGO_PKG_VERSION"));
        let etag = cache.as_ref().and_then(|c| c.etag.clone());
        let resp = match self.get(token, url, etag.as_deref()).await {
            Ok(r) => r,
            Err(e) => return stale(cache, e),
        };
        if resp.status() == StatusCode::NOT_MODIFIED {
            if let Some(c) = cache {
                return Ok(c.list(ModelSource::Revalidated));
            }
            return Ok(ModelList::fallback(Some(
                "the backend answered 304 Not Modified to a request without a cached list".into(),
            )));
        }
        let new_etag = resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = match self.read_body(resp, JSON_BODY_MAX).await {
            Ok(b) => b,
            Err(e) => return stale(cache, e),
        };
        let models = match serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("models").and_then(Value::as_array).cloned())
        {
            Some(m) => m,
            None => {
                let e = Error::BadResponse {
                    what: "the Codex models endpoint".into(),
                    detail: "the answer has no `models` list".into(),
                };
                return stale(cache, e);
            }
        };
        let fresh = ModelCache {
            etag: new_etag,
            fetched_at: Utc::now(),
            client_version: env!("CARGO_PKG_VERSION").into(),
            models,
        };
        let list = fresh.list(ModelSource::Network);
        let write = tokio::task::spawn_blocking(move || fresh.write(&path)).await;
        match write {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot write the model cache"),
            Err(e) => tracing::warn!(error = %e, "cannot write the model cache"),
        }
        Ok(list)
    }

    /// The plan's rate-limit windows and credits (ChatGPT sign-ins only).
    pub async fn usage(&self) -> Result<Usage> {
        let token = self.session.access_token().await?;
        if token.mode == AuthMode::ApiKey {
            return Err(Error::Invalid(
                "usage limits belong to ChatGPT sign-ins; this profile uses an API key, whose usage is shown on the OpenAI platform's usage page".into(),
            ));
        }
        let url = self.session.settings().usage_url.clone();
        let resp = self.get(token, url, None).await?;
        let body = self.read_body(resp, JSON_BODY_MAX).await?;
        let usage = Usage::parse(&body)?;
        if usage.rate_limits.has_data() {
            self.remember_limits(&usage.rate_limits);
        }
        Ok(usage)
    }

    /// Note rate limits in state.json when they changed, in the background (never delays an answer).
    fn remember_limits(&self, limits: &RateLimits) {
        {
            let Ok(mut last) = self.last_limits.lock() else {
                return;
            };
            if last.as_ref().is_some_and(|l| l.same_numbers(limits)) {
                return;
            }
            *last = Some(limits.clone());
        }
        let Ok(value) = serde_json::to_value(limits) else {
            return;
        };
        let store = Arc::clone(self.session.store());
        tokio::spawn(async move {
            let guard = match store.lock_async().await {
                Ok(g) => g,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot record the rate limits");
                    return;
                }
            };
            let written = tokio::task::spawn_blocking(move || {
                store.update_state(&guard, |s| s.rate_limits = Some(value))
            })
            .await;
            if let Ok(Err(e)) = written {
                tracing::warn!(error = %e, "cannot record the rate limits");
            }
        });
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

/// The cached list (saying why it is not fresh), else: the error when the user must act (sign
/// in), the built-in fallback otherwise.
fn stale(cache: Option<ModelCache>, error: Error) -> Result<ModelList> {
    match cache {
        Some(c) => {
            let mut list = c.list(ModelSource::Cache);
            list.note = Some(format!("could not refresh the model list: {error}"));
            Ok(list)
        }
        None if error.needs_sign_in() => Err(error),
        None => Ok(ModelList::fallback(Some(format!(
            "could not fetch the model list: {error}"
        )))),
    }
}

/// A non-2xx answer of the backend, classified for the retry loop.
fn classify(status: StatusCode, body: &[u8]) -> Failure {
    let v: Option<Value> = serde_json::from_slice(body).ok();
    let error = v
        .as_ref()
        .and_then(|v| v.get("error"))
        .filter(|e| e.is_object());
    let s = |o: Option<&Value>, k: &str| {
        o.and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let message = s(v.as_ref(), "detail")
        .or_else(|| s(error, "message"))
        .or_else(|| s(v.as_ref(), "error"))
        .or_else(|| s(v.as_ref(), "message"))
        .map(|m| one_line(&m))
        .unwrap_or_else(|| {
            let text = one_line(&String::from_utf8_lossy(body));
            if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("(empty answer)")
                    .to_owned()
            } else {
                text
            }
        });
    let kind = s(error, "type").or_else(|| s(error, "code"));
    match status.as_u16() {
        401 => Failure::Unauthorized(message),
        429 if kind.as_deref() == Some("usage_limit_reached") => {
            let resets_at = error
                .and_then(|e| e.get("resets_at"))
                .and_then(Value::as_i64)
                .and_then(|t| Utc.timestamp_opt(t, 0).single())
                .or_else(|| {
                    error
                        .and_then(|e| e.get("resets_in_seconds"))
                        .and_then(Value::as_i64)
                        .map(|s| Utc::now() + chrono::Duration::seconds(s))
                });
            Failure::Other(Error::UsageLimit {
                resets_at,
                plan: s(error, "plan_type"),
            })
        }
        400 if message
            .to_ascii_lowercase()
            .contains("instructions are not valid") =>
        {
            Failure::InstructionsRejected(Error::Backend {
                status: 400,
                message,
            })
        }
        status => Failure::Other(Error::Backend { status, message }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::codex::request::{DEFAULT_INSTRUCTIONS, Turn};
    use crate::config::{Settings, StoreMode};
    use crate::secret::Secret;
    use crate::store::AuthRecord;
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

    /// A backend that refuses any `instructions` but the default ones, and answers with the
    /// developer message it was given.
    async fn picky_backend(seen: Arc<Mutex<Vec<Value>>>) -> String {
        use axum::routing::post;
        let app = axum::Router::new().route(
            "/codex/responses",
            post(move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                let seen = Arc::clone(&seen);
                async move {
                    seen.lock().unwrap().push(serde_json::json!({
                        "body": body.0,
                        "account": headers.get("chatgpt-account-id").and_then(|v| v.to_str().ok()),
                        "session": headers.get("session_id").and_then(|v| v.to_str().ok()),
                    }));
                    if body.0["instructions"] != DEFAULT_INSTRUCTIONS {
                        return (
                            axum::http::StatusCode::BAD_REQUEST,
                            r#"{"detail":"Instructions are not valid"}"#.to_string(),
                        );
                    }
                    let dev = body.0["input"][0]["content"][0]["text"].as_str().unwrap_or("").to_owned();
                    let delta = serde_json::json!({"type": "response.output_text.delta", "delta": dev});
                    let done = serde_json::json!({"type": "response.completed", "response": {"id": "r1"}});
                    (
                        axum::http::StatusCode::OK,
                        format!("data: {delta}\n\ndata: {done}\n\n"),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}/codex")
    }

    #[tokio::test]
    async fn refused_instructions_are_sent_again_as_a_developer_message() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let base = picky_backend(Arc::clone(&seen)).await;
        let home = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_home(home.path()).unwrap();
        settings.store = StoreMode::File;
        settings.api_base = Url::parse(&base).unwrap();
        let session = Session::open(settings).unwrap();
        let auth = serde_json::json!({"chatgpt_account_id": "acc-9"});
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
        let client = CodexClient::new(session).unwrap();
        let mut req = ResponseRequest::new("m", vec![Turn::user("hi")]);
        req.system_prompt = Some("Answer in French.".into());
        let mut deltas = String::new();
        let answer = client
            .respond(&req, &mut |d: &str| deltas.push_str(d))
            .await
            .unwrap();
        assert_eq!(answer.text, "Answer in French.");
        assert_eq!(deltas, "Answer in French.");
        assert_eq!(answer.response_id.as_deref(), Some("r1"));
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "one refusal, one retry");
        assert_eq!(seen[0]["body"]["instructions"], "Answer in French.");
        assert_eq!(seen[1]["body"]["input"][0]["role"], "developer");
        assert_eq!(seen[1]["account"], "acc-9");
        assert_eq!(seen[0]["session"], seen[1]["session"]);
    }

    fn other(f: Failure) -> Error {
        match f {
            Failure::Other(e) => e,
            Failure::InstructionsRejected(e) => panic!("instructions: {e}"),
            Failure::Unauthorized(m) => panic!("401: {m}"),
        }
    }

    #[test]
    fn a_400_shows_the_backend_detail() {
        let e = other(classify(
            StatusCode::BAD_REQUEST,
            br#"{"detail":"The 'gpt-9' model is not supported when using Codex with a ChatGPT account."}"#,
        ));
        assert_eq!(
            e.to_string(),
            "the Codex backend answered HTTP 400: The 'gpt-9' model is not supported when using Codex with a ChatGPT account."
        );
        assert!(!e.is_transient());
        let e = other(classify(
            StatusCode::BAD_REQUEST,
            br#"{"error":{"message":"Unsupported parameter: temperature","type":"invalid_request_error"}}"#,
        ));
        assert!(
            e.to_string()
                .ends_with("Unsupported parameter: temperature")
        );
    }

    #[test]
    fn a_usage_limit_is_not_retried_and_names_the_local_reset_time() {
        let e = other(classify(
            StatusCode::TOO_MANY_REQUESTS,
            br#"{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_at":1900000000}}"#,
        ));
        assert!(!e.is_transient());
        let local = Utc
            .timestamp_opt(1_900_000_000, 0)
            .unwrap()
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string();
        let text = e.to_string();
        assert!(text.contains(&local), "{text}");
        assert!(text.contains("plus plan"), "{text}");
        assert!(!text.contains('\n'));
    }

    #[test]
    fn other_429s_and_5xx_are_transient() {
        assert!(
            other(classify(
                StatusCode::TOO_MANY_REQUESTS,
                br#"{"error":{"type":"rate_limit_exceeded","message":"slow down"}}"#
            ))
            .is_transient()
        );
        let e = other(classify(StatusCode::BAD_GATEWAY, b""));
        assert!(e.is_transient());
        assert_eq!(
            e.to_string(),
            "the Codex backend answered HTTP 502: Bad Gateway"
        );
    }

    #[test]
    fn a_401_and_refused_instructions_are_told_apart() {
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, br#"{"detail":"expired"}"#),
            Failure::Unauthorized(m) if m == "expired"
        ));
        assert!(matches!(
            classify(
                StatusCode::BAD_REQUEST,
                br#"{"detail":"Instructions are not valid"}"#
            ),
            Failure::InstructionsRejected(_)
        ));
    }

    #[test]
    fn an_html_error_page_becomes_one_short_line() {
        let page = format!("<html>\n<body>{}</body>\n</html>", "x".repeat(2000));
        let e = other(classify(StatusCode::FORBIDDEN, page.as_bytes()));
        let text = e.to_string();
        assert!(!text.contains('\n'));
        assert!(text.chars().count() < 500, "{}", text.len());
    }
}
