//! `CodexClient`: the Codex backend of a session (PROTOCOL.md §6). Answers stream over SSE in
//! the shape the model's catalog entry asks for; transient failures are retried a bounded number
//! of times (only while nothing was handed on); a 401 refreshes the session once; requests go to
//! the workspace's backend origin; rate limits go to state.json.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use futures::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, ETAG, HeaderMap, IF_NONE_MATCH};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::codex::models::{Model, ModelCache, ModelList, ModelSource};
use crate::codex::ratelimits::RateLimits;
use crate::codex::request::{Answer, LITE_HEADER, ResponseRequest, Shape};
use crate::codex::sse::{self, one_line};
use crate::codex::usage::Usage;
use crate::codex::workspace::{Workspace, parse_accounts_check};
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

/// Why an attempt failed, as the retry loop needs to know it.
enum Failure {
    /// HTTP 401, with the backend's message.
    Unauthorized(String),
    Other(Error),
}

pub struct CodexClient {
    session: Arc<Session>,
    http: reqwest::Client,
    options: CodexOptions,
    models: tokio::sync::Mutex<Option<(Instant, ModelList)>>,
    /// The workspace routing of the account it was read for.
    workspace: tokio::sync::Mutex<Option<Workspace>>,
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
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            session,
            http,
            options,
            models: tokio::sync::Mutex::new(None),
            workspace: tokio::sync::Mutex::new(None),
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
            .await
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
        })
    }

    /// A 400/404 that says the model is unknown or unsupported: most often our client version
    /// is behind the backend's minimum for it.
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
    async fn authed(&self, method: Method, url: Url, token: &AccessToken) -> RequestBuilder {
        if token.mode == AuthMode::ApiKey {
            return self
                .http
                .request(method, url)
                .bearer_auth(token.token.expose());
        }
        let workspace = self.workspace(token).await;
        let url = match &workspace {
            Some(w) => w.route(&url),
            None => url,
        };
        let mut b = self
            .http
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
        b
    }

    /// The routing of the token's workspace: from memory, else state.json, else asked once of
    /// `accounts/check` and kept in state.json. A failure to ask routes nowhere special (and is
    /// asked again next time).
    async fn workspace(&self, token: &AccessToken) -> Option<Workspace> {
        let account = token.account_id.clone()?;
        let mut memo = self.workspace.lock().await;
        if let Some(w) = memo.as_ref().filter(|w| w.account_id == account) {
            return Some(w.clone());
        }
        let store = Arc::clone(self.session.store());
        let kept = tokio::task::spawn_blocking(move || store.state().workspace)
            .await
            .ok()
            .flatten()
            .filter(|w| w.account_id == account);
        if let Some(w) = kept {
            *memo = Some(w.clone());
            return Some(w);
        }
        let asked = self
            .http
            .get(self.session.settings().accounts_check_url())
            .timeout(self.options.request_timeout)
            .bearer_auth(token.token.expose())
            .header("originator", ORIGINATOR)
            .header("version", &self.session.settings().codex_version)
            .header("ChatGPT-Account-ID", &account)
            .send()
            .await;
        let found = match asked {
            Ok(resp) if resp.status().is_success() => {
                match self.read_body(resp, JSON_BODY_MAX).await {
                    Ok(body) => parse_accounts_check(&body).map(|ws| {
                        ws.into_iter()
                            .find(|w| w.account_id == account)
                            .unwrap_or(Workspace {
                                account_id: account.clone(),
                                name: None,
                                plan_type: None,
                                structure: None,
                                backend_origin: None,
                                routing_override: None,
                                checked_at: Utc::now(),
                            })
                    }),
                    Err(e) => Err(e),
                }
            }
            Ok(resp) => Err(Error::Backend {
                status: resp.status().as_u16(),
                message: "accounts/check".into(),
            }),
            Err(e) => Err(network(WHAT, &e)),
        };
        let w = match found {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the workspace routing; using the default backend");
                return None;
            }
        };
        *memo = Some(w.clone());
        let store = Arc::clone(self.session.store());
        let keep = w.clone();
        let saved = async move {
            let guard = store.lock_async().await?;
            tokio::task::spawn_blocking(move || {
                store.update_state(&guard, |s| s.workspace = Some(keep))
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
        };
        if let Err(e) = saved.await {
            tracing::warn!(error = %e, "cannot record the workspace routing");
        }
        Some(w)
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
                .await
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

    /// The model catalog: fetched (revalidated with the cached ETag), else the cache.
    pub async fn models(&self) -> Result<ModelList> {
        let mut memo = self.models.lock().await;
        let list = self.fetch_models().await?;
        *memo = Some((Instant::now(), list.clone()));
        Ok(list)
    }

    /// The catalog entry of `slug` (listed or hidden), or of the default model when `None`, from
    /// a catalog at most `models_ttl` old; a slug it lacks is looked up once more in a fresh
    /// catalog, then refused with the slugs that can be used.
    pub async fn model(&self, slug: Option<&str>) -> Result<Model> {
        let slug = slug.map(str::trim).filter(|s| !s.is_empty());
        let mut memo = self.models.lock().await;
        let fresh_enough = memo
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < self.options.models_ttl);
        if !fresh_enough {
            let list = self.fetch_models().await?;
            *memo = Some((Instant::now(), list));
        }
        for attempt in 0..2 {
            let Some((_, list)) = memo.as_ref() else {
                break;
            };
            if list.source == ModelSource::ApiKey {
                return Ok(Model::bare(slug.unwrap_or(&list.default_model)));
            }
            let found = match slug {
                Some(s) => list.get(s),
                None => list.default(),
            };
            if let Some(m) = found {
                return Ok(m.clone());
            }
            if attempt == 0 && fresh_enough {
                let list = self.fetch_models().await?;
                *memo = Some((Instant::now(), list));
            } else {
                return Err(Error::UnknownModel {
                    model: slug.unwrap_or_default().to_owned(),
                    available: list.slugs(),
                });
            }
        }
        Err(Error::UnknownModel {
            model: slug.unwrap_or_default().to_owned(),
            available: Vec::new(),
        })
    }

    async fn fetch_models(&self) -> Result<ModelList> {
        let settings = self.session.settings();
        let version = settings.codex_version.clone();
        let path = settings.profile_dir().join("models.json");
        let p = path.clone();
        let cache = tokio::task::spawn_blocking(move || ModelCache::read(&p))
            .await
            .ok()
            .flatten();
        let token = match self.session.access_token().await {
            Ok(t) => t,
            Err(e) => return stale(cache, e, &version),
        };
        if token.mode == AuthMode::ApiKey {
            return Ok(ModelList::api_key(API_KEY_DEFAULT_MODEL, &version));
        }
        let mut url = settings.models_url();
        url.query_pairs_mut()
            .append_pair("client_version", &version);
        // A cache asked for another client version is not revalidated: its ETag is not ours.
        let etag = cache
            .as_ref()
            .filter(|c| c.client_version == version)
            .and_then(|c| c.etag.clone());
        let resp = match self.get(token, url, etag.as_deref()).await {
            Ok(r) => r,
            Err(e) => return stale(cache, e, &version),
        };
        if resp.status() == StatusCode::NOT_MODIFIED {
            if let Some(c) = cache {
                return c.list(ModelSource::Revalidated, &version);
            }
            return Err(Error::BadResponse {
                what: "the Codex models endpoint".into(),
                detail: "it answered 304 Not Modified to a request without a cached catalog".into(),
            });
        }
        let new_etag = resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = match self.read_body(resp, JSON_BODY_MAX).await {
            Ok(b) => b,
            Err(e) => return stale(cache, e, &version),
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
                return stale(cache, e, &version);
            }
        };
        let fresh = ModelCache {
            etag: new_etag,
            fetched_at: Utc::now(),
            client_version: version.clone(),
            models,
        };
        let list = match fresh.list(ModelSource::Network, &version) {
            Ok(l) => l,
            // An empty catalog: the cache, when it has models, else the error.
            Err(e) => return stale(cache, e, &version),
        };
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
            return Err(Error::Input(
                "usage limits belong to ChatGPT sign-ins; this profile uses an API key, whose usage is shown on the OpenAI platform's usage page".into(),
            ));
        }
        let url = self.session.settings().usage_url.clone();
        let resp = self.get(token, url, None).await?;
        let body = self.read_body(resp, JSON_BODY_MAX).await?;
        let usage = Usage::parse(&body)?;
        // Asked for on purpose: state.json has the numbers when this returns, so a front end
        // that reloads its status next shows them (the effective remaining) at once.
        if usage.rate_limits.has_data() && self.limits_changed(&usage.rate_limits) {
            write_limits(Arc::clone(self.session.store()), usage.rate_limits.clone()).await;
        }
        Ok(usage)
    }

    /// Note rate limits in state.json when they changed, in the background (never delays an answer).
    fn remember_limits(&self, limits: &RateLimits) {
        if !self.limits_changed(limits) {
            return;
        }
        let store = Arc::clone(self.session.store());
        let value = limits.clone();
        tokio::spawn(write_limits(store, value));
    }

    /// Whether `limits` differ from the last ones noted (and note them).
    fn limits_changed(&self, limits: &RateLimits) -> bool {
        let Ok(mut last) = self.last_limits.lock() else {
            return false;
        };
        if last.as_ref().is_some_and(|l| l.same_numbers(limits)) {
            return false;
        }
        *last = Some(limits.clone());
        true
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

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/html"))
}

/// The cached catalog (saying why it is not fresh), else the error.
fn stale(cache: Option<ModelCache>, error: Error, version: &str) -> Result<ModelList> {
    match cache.map(|c| c.list(ModelSource::Cache, version)) {
        Some(Ok(mut list)) => {
            list.note = Some(format!("could not refresh the model catalog: {error}"));
            Ok(list)
        }
        _ => Err(error),
    }
}

/// Write rate limits into state.json under the store lock; a failure is only logged.
async fn write_limits(store: Arc<crate::store::Store>, limits: RateLimits) {
    let guard = match store.lock_async().await {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "cannot record the rate limits");
            return;
        }
    };
    let written = tokio::task::spawn_blocking(move || {
        store.update_state(&guard, |s| s.rate_limits = Some(limits))
    })
    .await;
    if let Ok(Err(e)) = written {
        tracing::warn!(error = %e, "cannot record the rate limits");
    }
}

/// A non-2xx answer of the backend, classified for the retry loop. `html`: the answer is a web
/// page (a 403 page of Cloudflare's means the network is blocked).
fn classify(status: StatusCode, html: bool, body: &[u8]) -> Failure {
    let parsed: Option<BackendError> = serde_json::from_slice(body).ok();
    if status == StatusCode::FORBIDDEN && parsed.is_none() {
        let text = String::from_utf8_lossy(body).to_ascii_lowercase();
        if html
            && (text.contains("cloudflare")
                || text.contains("cf-ray")
                || text.contains("challenge"))
        {
            return Failure::Other(Error::NetworkBlocked {
                what: WHAT.into(),
                status: 403,
            });
        }
    }
    let parsed = parsed.unwrap_or_default();
    let (error, error_text) = match parsed.error {
        Some(BackendErrorField::Object(e)) => (Some(e), None),
        Some(BackendErrorField::Text(t)) => (None, Some(t)),
        Some(BackendErrorField::Other(_)) | None => (None, None),
    };
    let message = parsed
        .detail
        .or_else(|| error.as_ref().and_then(|e| e.message.clone()))
        .or(error_text)
        .or(parsed.message)
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
    let named = |n: &str| {
        error
            .as_ref()
            .is_some_and(|e| e.kind.as_deref() == Some(n) || e.code.as_deref() == Some(n))
    };
    let plan = error.as_ref().and_then(|e| e.plan_type.clone());
    match status.as_u16() {
        401 => Failure::Unauthorized(message),
        429 if named("usage_not_included") => Failure::Other(Error::PlanExcludesCodex { plan }),
        429 if named("usage_limit_reached") => {
            let resets_at = error.as_ref().and_then(|e| {
                // `as` saturates (NaN is 0); an out-of-range time is then refused by chrono.
                e.resets_at
                    .and_then(|t| Utc.timestamp_opt(t as i64, 0).single())
                    .or_else(|| {
                        e.resets_in_seconds
                            .and_then(|s| chrono::Duration::try_seconds(s as i64))
                            .and_then(|d| Utc::now().checked_add_signed(d))
                    })
            });
            Failure::Other(Error::UsageLimit { resets_at, plan })
        }
        status => Failure::Other(Error::Backend { status, message }),
    }
}

/// An error answer of the Codex backend: `{"error": {"type", "code", "message", "plan_type",
/// "resets_at" | "resets_in_seconds"}}`, FastAPI's `{"detail"}`, or `{"error": "<text>"}`.
#[derive(Debug, Default, Deserialize)]
struct BackendError {
    #[serde(default)]
    error: Option<BackendErrorField>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum BackendErrorField {
    Object(BackendErrorObject),
    Text(String),
    /// Any other shape: matched so the rest of the body still reads, never looked into.
    Other(#[allow(dead_code)] serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
struct BackendErrorObject {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    plan_type: Option<String>,
    /// Seconds since the epoch (servers write integers or floats).
    #[serde(default)]
    resets_at: Option<f64>,
    #[serde(default)]
    resets_in_seconds: Option<f64>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::codex::request::Turn;
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
        let mut settings = Settings::for_home(home.path()).unwrap();
        settings.store = StoreMode::File;
        settings.api_base = Url::parse(&format!("{base}/codex")).unwrap();
        settings.usage_url = Url::parse(&format!("{base}/wham/usage")).unwrap();
        let session = Session::open(settings).unwrap();
        let auth =
            serde_json::json!({"chatgpt_account_id": "acc-9", "chatgpt_account_is_fedramp": true});
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

    fn other(f: Failure) -> Error {
        match f {
            Failure::Other(e) => e,
            Failure::Unauthorized(m) => panic!("401: {m}"),
        }
    }

    #[test]
    fn a_400_shows_the_backend_detail() {
        let e = other(classify(
            StatusCode::BAD_REQUEST,
            false,
            br#"{"error":{"message":"Unsupported parameter: temperature","type":"invalid_request_error"}}"#,
        ));
        assert!(
            e.to_string()
                .ends_with("Unsupported parameter: temperature")
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn a_usage_limit_is_not_retried_and_names_the_local_reset_time() {
        let e = other(classify(
            StatusCode::TOO_MANY_REQUESTS,
            false,
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
        // A reset time that overflows is left out, not a panic.
        let e = other(classify(
            StatusCode::TOO_MANY_REQUESTS,
            false,
            br#"{"error":{"type":"usage_limit_reached","resets_in_seconds":9223372036854775807}}"#,
        ));
        assert!(matches!(
            e,
            Error::UsageLimit {
                resets_at: None,
                ..
            }
        ));
    }

    #[test]
    fn a_plan_without_codex_is_permanent_and_says_so() {
        let e = other(classify(
            StatusCode::TOO_MANY_REQUESTS,
            false,
            br#"{"error":{"type":"usage_not_included","plan_type":"free","message":"no"}}"#,
        ));
        assert!(matches!(e, Error::PlanExcludesCodex { .. }), "{e}");
        assert!(!e.is_transient());
        assert!(e.to_string().contains("free plan"), "{e}");
    }

    #[test]
    fn a_cloudflare_block_page_is_named_as_a_network_block() {
        let page = b"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>cf-ray: 8a1</body></html>";
        let e = other(classify(StatusCode::FORBIDDEN, true, page));
        assert!(matches!(e, Error::NetworkBlocked { .. }), "{e}");
        assert!(e.to_string().contains("network"), "{e}");
        // A JSON 403 is not a block page.
        let e = other(classify(
            StatusCode::FORBIDDEN,
            false,
            br#"{"detail":"wrong account"}"#,
        ));
        assert!(matches!(e, Error::Backend { status: 403, .. }));
    }

    #[test]
    fn other_429s_and_5xx_are_transient() {
        assert!(
            other(classify(
                StatusCode::TOO_MANY_REQUESTS,
                false,
                br#"{"error":{"type":"rate_limit_exceeded","message":"slow down"}}"#
            ))
            .is_transient()
        );
        let e = other(classify(StatusCode::BAD_GATEWAY, false, b""));
        assert!(e.is_transient());
        assert_eq!(
            e.to_string(),
            "the Codex backend answered HTTP 502: Bad Gateway"
        );
    }

    #[test]
    fn a_401_is_told_apart() {
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, false, br#"{"detail":"expired"}"#),
            Failure::Unauthorized(m) if m == "expired"
        ));
    }

    #[test]
    fn an_html_error_page_becomes_one_short_line() {
        let page = format!("<html>\n<body>{}</body>\n</html>", "x".repeat(2000));
        let e = other(classify(StatusCode::BAD_GATEWAY, true, page.as_bytes()));
        let text = e.to_string();
        assert!(!text.contains('\n'));
        assert!(text.chars().count() < 500, "{}", text.len());
    }
}
