//! The Codex backend (`/backend-api/codex/responses` over SSE, `/models`, `/wham/usage`,
//! `/wham/accounts/check`) and the API-key endpoint (`/v1/responses`), checking tokens, headers
//! and bodies as the real servers do today (PROTOCOL.md §6): the catalog gated by
//! `client_version`, a model refused below its `minimal_client_version`, Responses-Lite models
//! refused in the old shape, the lite header refused on a standard model, unsupported parameters
//! and efforts refused, zstd-compressed bodies (as the reference client sends) decoded.

mod account;
mod auth;
mod body;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::unexpected;
use crate::{RecordedRequest, Shared};

use account::{accounts_check, models, usage};
use auth::{check_chatgpt_auth, injected, unauthorized};
use body::check_body;
use stream::{rate_limit_headers, stream_answer, stream_call};

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/backend-api/codex/responses",
            post(chatgpt_responses).get(websocket_upgrade),
        )
        .route("/backend-api/codex/models", get(models))
        .route("/backend-api/wham/usage", get(usage))
        .route("/backend-api/wham/accounts/check", get(accounts_check))
        .route(
            "/v1/responses",
            post(api_key_responses).get(websocket_upgrade),
        )
}

/// The reference client tries a websocket first; this fake speaks HTTP only, so it says so
/// and the client falls back to POST. A GET that is not a websocket handshake is unexpected.
async fn websocket_upgrade(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !header(&headers, "upgrade").eq_ignore_ascii_case("websocket") {
        s.unexpected(unexpected::entry(
            &method,
            uri.path(),
            "a GET that is not a websocket handshake (responses are POSTed)",
        ));
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"detail": "Method Not Allowed"}),
        );
    }
    error(
        StatusCode::UPGRADE_REQUIRED,
        json!({"detail": "websockets are not served here; use POST"}),
    )
}

/// `x.y.z` as numbers; anything else is `None`.
pub(crate) fn version(text: &str) -> Option<(u64, u64, u64)> {
    let mut p = text.trim().split('.');
    let mut n = || p.next()?.parse::<u64>().ok();
    let v = (n()?, n()?, n()?);
    p.next().is_none().then_some(v)
}

/// A catalog entry's `minimal_client_version` (`"x.y.z"` or `[x, y, z]`).
fn minimal_version(model: &Value) -> (u64, u64, u64) {
    match &model["minimal_client_version"] {
        Value::String(s) => version(s).unwrap_or_default(),
        Value::Array(a) => {
            let at = |i: usize| a.get(i).and_then(Value::as_u64).unwrap_or(0);
            (at(0), at(1), at(2))
        }
        _ => (0, 0, 0),
    }
}

fn error(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn reject(s: &Shared, mut rec: RecordedRequest, status: StatusCode, why: &str) -> Response {
    rec.rejected = Some(why.to_string());
    s.record(rec);
    error(status, json!({"detail": why}))
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn bearer(h: &HeaderMap) -> &str {
    header(h, "authorization")
        .strip_prefix("Bearer ")
        .unwrap_or("")
}

async fn respond(
    s: Arc<Shared>,
    rec: RecordedRequest,
    headers: &HeaderMap,
    body: &Bytes,
    chatgpt: bool,
) -> Response {
    let mut rec = rec;
    let faults = s.lock().faults.clone();
    if faults.responses_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.responses_delay_ms)).await;
    }
    if !header(headers, "content-type").starts_with("application/json") {
        return reject(
            &s,
            rec,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    if !header(headers, "accept").contains("text/event-stream") {
        return reject(
            &s,
            rec,
            StatusCode::NOT_ACCEPTABLE,
            "Accept must include text/event-stream",
        );
    }
    let body = match decode(headers, body) {
        Ok(b) => b,
        Err((status, why)) => return reject(&s, rec, status, &why),
    };
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return reject(
                &s,
                rec,
                StatusCode::BAD_REQUEST,
                &format!("body is not JSON: {e}"),
            );
        }
    };
    rec.body = v.clone();
    let users = match check_body(&s, headers, &v, chatgpt) {
        Ok(u) => u,
        Err((st, why)) => return reject(&s, rec, st, &why),
    };
    s.record(rec);
    if let Some(r) = injected(&s, true) {
        return r;
    }
    let step = {
        let mut g = s.lock();
        (!g.faults.script.is_empty()).then(|| g.faults.script.remove(0))
    };
    let model = v["model"].as_str().unwrap_or("").to_string();
    if let Some(resp) = step.as_ref().and_then(|st| scripted_call(st, &model)) {
        return resp;
    }
    let scripted = step.and_then(|st| st.get("answer").and_then(Value::as_str).map(str::to_owned));
    let answer = scripted
        .or_else(|| faults.answer.clone())
        .unwrap_or_else(|| {
            format!(
                "Echo #{}: {}",
                users.len(),
                users.last().cloned().unwrap_or_default()
            )
        });
    let mut resp = Response::new(stream_answer(answer, model, faults, Arc::clone(&s)));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    rate_limit_headers(h);
    resp
}

/// The body as sent: identity, or zstd-compressed (as the reference client sends it).
fn decode<'a>(
    headers: &HeaderMap,
    body: &'a Bytes,
) -> Result<std::borrow::Cow<'a, [u8]>, (StatusCode, String)> {
    match header(headers, "content-encoding") {
        "" | "identity" => Ok(std::borrow::Cow::Borrowed(&body[..])),
        "zstd" => zstd::stream::decode_all(&body[..])
            .map(std::borrow::Cow::Owned)
            .map_err(|e| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("body is not valid zstd: {e}"),
                )
            }),
        other => Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Encoding `{other}` is not supported"),
        )),
    }
}

/// The answer of a scripted step that calls a tool (`function_call` or `custom_tool_call`).
fn scripted_call(step: &Value, model: &str) -> Option<Response> {
    let (function, call) = match (step.get("function_call"), step.get("custom_tool_call")) {
        (Some(c), _) => (true, c),
        (None, Some(c)) => (false, c),
        (None, None) => return None,
    };
    let mut resp = Response::new(stream_call(call, function, model.to_owned()));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    rate_limit_headers(h);
    Some(resp)
}

async fn chatgpt_responses(
    State(s): State<Arc<Shared>>,
    rec: RecordedRequest,
    headers: HeaderMap,
    unexpected::Body(body): unexpected::Body,
) -> Response {
    s.lock().stats.responses += 1;
    if let Err((st, why)) = check_chatgpt_auth(&s, &headers) {
        return unauthorized(&s, rec, st, why);
    }
    if header(&headers, "session-id").is_empty() {
        return reject(
            &s,
            rec,
            StatusCode::BAD_REQUEST,
            "session-id header is missing",
        );
    }
    respond(s, rec, &headers, &body, true).await
}

async fn api_key_responses(
    State(s): State<Arc<Shared>>,
    rec: RecordedRequest,
    headers: HeaderMap,
    unexpected::Body(body): unexpected::Body,
) -> Response {
    s.lock().stats.responses += 1;
    let key = bearer(&headers);
    let known = s.lock().api_keys.iter().any(|k| k == key);
    if !(known || (key.starts_with("sk-") && key.len() >= 12)) {
        let mut rec = rec;
        rec.rejected = Some("invalid API key".into());
        s.record(rec);
        return error(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": "invalid_api_key"}}),
        );
    }
    respond(s, rec, &headers, &body, false).await
}
