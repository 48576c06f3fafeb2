//! The Codex backend (`/backend-api/codex/responses` over SSE, `/models`, `/wham/usage`,
//! `/wham/accounts/check`) and the API-key endpoint (`/v1/responses`), checking tokens, headers
//! and bodies as the real servers do today (PROTOCOL.md §6): the catalog gated by
//! `client_version`, a model refused below its `minimal_client_version`, Responses-Lite models
//! refused in the old shape, the lite header refused on a standard model, unsupported parameters
//! and efforts refused, zstd-compressed bodies (as the reference client sends) decoded.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::unexpected::{self, Params};
use crate::{Faults, RecordedRequest, Shared};

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

/// Checks a ChatGPT access token and the headers that go with it.
fn check_chatgpt_auth(s: &Shared, h: &HeaderMap) -> Result<(), (StatusCode, String)> {
    let token = bearer(h);
    let exp = s.lock().access.get(token).copied();
    match exp {
        None => {
            return Err((
                StatusCode::UNAUTHORIZED,
                "invalid or revoked access token".into(),
            ));
        }
        Some(exp) if exp <= chrono::Utc::now().timestamp() => {
            return Err((StatusCode::UNAUTHORIZED, "access token expired".into()));
        }
        Some(_) => {}
    }
    if !s.cfg.has_workspace(header(h, "chatgpt-account-id")) {
        return Err((
            StatusCode::FORBIDDEN,
            "ChatGPT-Account-ID is missing or not a workspace of this token's user".into(),
        ));
    }
    if header(h, "originator").is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            "originator header is missing".into(),
        ));
    }
    if header(h, "user-agent").is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            "User-Agent header is missing".into(),
        ));
    }
    let routing = s.cfg.account_routing_override.as_str();
    if routing != "NO_CONSTRAINT" && header(h, "x-openai-account-routing-override") != routing {
        return Err((
            StatusCode::FORBIDDEN,
            format!(
                "this workspace's requests must carry x-openai-account-routing-override: {routing}"
            ),
        ));
    }
    if s.cfg.fedramp && header(h, "x-openai-fedramp") != "true" {
        return Err((
            StatusCode::FORBIDDEN,
            "FedRAMP accounts must send X-OpenAI-Fedramp: true".into(),
        ));
    }
    Ok(())
}

fn unauthorized(s: &Shared, rec: RecordedRequest, status: StatusCode, why: String) -> Response {
    let mut rec = rec;
    rec.rejected = Some(why.clone());
    s.record(rec);
    if status == StatusCode::UNAUTHORIZED {
        error(
            status,
            json!({"error": {"message": why, "type": "invalid_request_error", "code": "token_expired"}}),
        )
    } else {
        error(status, json!({"detail": why}))
    }
}

/// A fault that answers before anything else, taking the one-shot status if set. The usage
/// limit applies to model calls only (`responses`): the catalog and usage are still served.
fn injected(s: &Shared, responses: bool) -> Option<Response> {
    let mut g = s.lock();
    let status = g
        .faults
        .backend_status_once
        .take()
        .or(g.faults.responses_status);
    let usage_limit = g.faults.usage_limit && responses;
    drop(g);
    if let Some(st) = status {
        let st = StatusCode::from_u16(st).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = if st == StatusCode::UNAUTHORIZED {
            json!({"error": {"message": "Your authentication token has expired.", "code": "token_expired"}})
        } else {
            json!({"detail": format!("injected fault: HTTP {}", st.as_u16())})
        };
        return Some(error(st, body));
    }
    if usage_limit {
        let resets_at = chrono::Utc::now().timestamp() + 2 * 3600;
        return Some(error(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": {
                "type": "usage_limit_reached",
                "message": "The usage limit has been reached",
                "plan_type": "plus",
                "resets_at": resets_at,
                "resets_in_seconds": 7200
            }}),
        ));
    }
    None
}

fn rate_limit_headers(h: &mut HeaderMap) {
    let now = chrono::Utc::now().timestamp();
    let pairs = [
        ("x-codex-primary-used-percent", "12.5".to_string()),
        ("x-codex-primary-window-minutes", "300".to_string()),
        ("x-codex-primary-reset-at", (now + 3600).to_string()),
        ("x-codex-secondary-used-percent", "40".to_string()),
        ("x-codex-secondary-window-minutes", "10080".to_string()),
        ("x-codex-secondary-reset-at", (now + 3 * 86400).to_string()),
        ("x-codex-credits-has-credits", "false".to_string()),
        ("x-codex-credits-unlimited", "false".to_string()),
        ("x-codex-credits-balance", "0".to_string()),
    ];
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
}

/// Parameters the ChatGPT backend refuses ("Unsupported parameter").
const UNSUPPORTED: &[&str] = &["temperature", "top_p", "max_output_tokens", "metadata"];

/// Checks a responses body (and, for the ChatGPT backend, its headers) the way the backend does;
/// returns the user turns' texts. `chatgpt`: the request came to the ChatGPT backend, which
/// checks the catalog, the client version and the request shape; the API checks the body only.
fn check_body(
    s: &Shared,
    headers: &HeaderMap,
    body: &Value,
    chatgpt: bool,
) -> Result<Vec<String>, (StatusCode, String)> {
    let bad = |m: &str| Err((StatusCode::BAD_REQUEST, m.to_string()));
    let Some(obj) = body.as_object() else {
        return bad("body must be a JSON object");
    };
    if obj.get("store") != Some(&Value::Bool(false)) {
        return bad("Store must be set to false");
    }
    if obj.get("stream") != Some(&Value::Bool(true)) {
        return bad("Stream must be set to true");
    }
    if obj.contains_key("previous_response_id") {
        return bad("previous_response_id is not supported with store=false");
    }
    let model_slug = obj.get("model").and_then(Value::as_str).unwrap_or("");
    let entry = s.cfg.models.iter().find(|m| m["slug"] == model_slug);
    let lite_header = header(headers, "x-openai-internal-codex-responses-lite") == "true";
    if chatgpt {
        for p in UNSUPPORTED {
            if obj.contains_key(*p) {
                return bad(&format!("Unsupported parameter: {p}"));
            }
        }
        let Some(entry) = entry else {
            return Err((
                StatusCode::BAD_REQUEST,
                format!(
                    "The '{model_slug}' model is not supported when using Codex with a ChatGPT account."
                ),
            ));
        };
        let client = version(header(headers, "version")).unwrap_or_default();
        if client < minimal_version(entry) {
            return Err((
                StatusCode::BAD_REQUEST,
                format!(
                    "The '{model_slug}' model requires a newer version of Codex. Please upgrade to the latest app or CLI and try again."
                ),
            ));
        }
        let lite_model = entry["use_responses_lite"] == true;
        if lite_model && !lite_header {
            return Err((StatusCode::NOT_FOUND, "Model not found".into()));
        }
        if !lite_model && lite_header {
            return bad(&format!(
                "x-openai-internal-codex-responses-lite is not supported for the '{model_slug}' model"
            ));
        }
        if lite_model {
            if obj
                .get("reasoning")
                .and_then(|r| r.get("context"))
                .is_none()
            {
                return bad("reasoning.context is required with Responses-Lite");
            }
            if obj.contains_key("tools") {
                return bad(
                    "tools are not accepted at the top level with Responses-Lite; send them in an additional_tools input item",
                );
            }
        }
        if let Some(effort) = obj.get("reasoning").and_then(|r| r.get("effort")) {
            let effort = effort.as_str().unwrap_or("");
            let allowed = entry["supported_reasoning_levels"]
                .as_array()
                .map(|l| l.iter().any(|x| x["effort"] == effort))
                .unwrap_or(false);
            if !allowed {
                return bad(&format!(
                    "Unsupported value: '{effort}' is not supported with the '{model_slug}' model for reasoning.effort"
                ));
            }
        }
    } else if let Some(t) = obj.get("temperature")
        && !t.as_f64().is_some_and(|t| (0.0..=2.0).contains(&t))
    {
        return bad("temperature must be a number between 0 and 2");
    }
    let Some(input) = obj.get("input").and_then(Value::as_array) else {
        return bad("input must be an array");
    };
    let mut users = Vec::new();
    let mut last_role = "";
    for item in input {
        match item["type"].as_str().unwrap_or("") {
            "message" => {}
            // The reference client's tool list (lite) and settings change items.
            "additional_tools" | "configuration_update" => continue,
            other => return bad(&format!("unknown input item type `{other}`")),
        }
        let role = item["role"].as_str().unwrap_or("");
        let want: &[&str] = match role {
            "user" => &["input_text", "input_image"],
            "developer" | "system" => &["input_text"],
            "assistant" => &["output_text"],
            _ => return bad(&format!("unknown role `{role}`")),
        };
        if let Some(phase) = item.get("phase")
            && !matches!(phase.as_str(), Some("commentary" | "final_answer"))
        {
            return bad("phase must be commentary or final_answer");
        }
        let Some(content) = item["content"].as_array() else {
            return bad("message content must be an array");
        };
        let mut text = String::new();
        for c in content {
            let kind = c["type"].as_str().unwrap_or("");
            if !want.contains(&kind) {
                return bad(&format!(
                    "{role} content must be one of {want:?}, not `{kind}`"
                ));
            }
            if kind == "input_image" {
                if chatgpt
                    && !entry.is_some_and(|e| {
                        e["input_modalities"]
                            .as_array()
                            .is_some_and(|m| m.iter().any(|x| x == "image"))
                    })
                {
                    return bad(&format!(
                        "The '{model_slug}' model does not accept image input"
                    ));
                }
                if !c["image_url"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("data:image/") || u.starts_with("https://"))
                {
                    return bad("input_image.image_url must be a data: URL or https URL");
                }
                continue;
            }
            text.push_str(c["text"].as_str().unwrap_or(""));
        }
        if role == "user" {
            users.push(text);
        }
        last_role = role;
    }
    if last_role != "user" {
        return bad("the last input item must be a user message");
    }
    Ok(users)
}

fn sse(event: &Value) -> Bytes {
    Bytes::from(format!(
        "event: {}\ndata: {}\n\n",
        event["type"].as_str().unwrap_or("message"),
        event
    ))
}

fn stream_answer(answer: String, model: String, faults: Faults) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        let id = format!("resp_{}", uuid::Uuid::new_v4().simple());
        let send = |v: Value| {
            let tx = tx.clone();
            async move { tx.send(Ok(sse(&v))).await.is_ok() }
        };
        if !send(json!({"type": "response.created", "response": {"id": id, "model": model, "status": "in_progress"}}))
            .await
        {
            return;
        }
        // What the model says on the way: a `commentary` item, never part of the answer.
        let note_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let note = "Reading the question first.";
        send(json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"type": "message", "id": note_id, "role": "assistant", "status": "in_progress", "phase": "commentary", "content": []}}))
        .await;
        send(
            json!({"type": "response.output_text.delta", "item_id": note_id, "output_index": 0,
            "content_index": 0, "delta": note}),
        )
        .await;
        send(json!({"type": "response.output_item.done", "output_index": 0,
            "item": {"type": "message", "id": note_id, "role": "assistant", "status": "completed", "phase": "commentary",
                "content": [{"type": "output_text", "text": note, "annotations": []}]}}))
        .await;
        let item_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        send(json!({"type": "response.output_item.added", "output_index": 1,
            "item": {"type": "message", "id": item_id, "role": "assistant", "status": "in_progress", "phase": "final_answer", "content": []}}))
        .await;
        let chars: Vec<char> = answer.chars().collect();
        for (i, chunk) in chars.chunks(6).enumerate() {
            if faults.sse_drop_after.is_some_and(|n| i >= n) {
                // Cut the connection mid-answer: no completion event.
                let _ = tx
                    .send(Err(std::io::Error::other("injected stream drop")))
                    .await;
                return;
            }
            if faults.delta_delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(faults.delta_delay_ms)).await;
            }
            let delta: String = chunk.iter().collect();
            if !send(
                json!({"type": "response.output_text.delta", "item_id": item_id, "output_index": 0,
                "content_index": 0, "delta": delta}),
            )
            .await
            {
                return; // the client went away
            }
        }
        if let Some(code) = faults.sse_failed {
            let message = match code.as_str() {
                "rate_limit_exceeded" => "Rate limit reached. Please try again in 20s.".to_string(),
                "context_length_exceeded" => {
                    "Your input exceeds the context window of this model.".to_string()
                }
                other => format!("The response failed ({other})."),
            };
            send(
                json!({"type": "response.failed", "response": {"id": id, "status": "failed",
                "error": {"code": code, "message": message}}}),
            )
            .await;
            return;
        }
        send(
            json!({"type": "response.output_item.done", "output_index": 1,
            "item": {"type": "message", "id": item_id, "role": "assistant", "status": "completed", "phase": "final_answer",
                "content": [{"type": "output_text", "text": answer, "annotations": []}]}}),
        )
        .await;
        let now = chrono::Utc::now().timestamp();
        send(json!({"type": "codex.rate_limits", "plan_type": "plus",
            "rate_limits": {"primary": {"used_percent": faults.primary_used_percent.unwrap_or(12.5), "window_minutes": 300, "resets_at": now + 3600},
                "secondary": {"used_percent": 40.0, "window_minutes": 10080, "resets_at": now + 3 * 86400}},
            "credits": {"has_credits": false, "unlimited": false, "balance": "0"}}))
        .await;
        let input_tokens = 17 + answer.len() as u64 / 4;
        let output_tokens = (chars.len() as u64).div_ceil(4);
        send(json!({"type": "response.completed", "response": {"id": id, "model": model, "status": "completed",
            "usage": {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": input_tokens + output_tokens}}}))
        .await;
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Body::from_stream(stream)
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
    let decoded;
    let body: &[u8] = match header(headers, "content-encoding") {
        "" | "identity" => body,
        "zstd" => match zstd::stream::decode_all(&body[..]) {
            Ok(d) => {
                decoded = d;
                &decoded
            }
            Err(e) => {
                return reject(
                    &s,
                    rec,
                    StatusCode::BAD_REQUEST,
                    &format!("body is not valid zstd: {e}"),
                );
            }
        },
        other => {
            return reject(
                &s,
                rec,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!("Content-Encoding `{other}` is not supported"),
            );
        }
    };
    let v: Value = match serde_json::from_slice(body) {
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
    let answer = faults.answer.clone().unwrap_or_else(|| {
        format!(
            "Echo #{}: {}",
            users.len(),
            users.last().cloned().unwrap_or_default()
        )
    });
    let model = v["model"].as_str().unwrap_or("").to_string();
    let mut resp = Response::new(stream_answer(answer, model, faults));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    rate_limit_headers(h);
    resp
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

#[derive(serde::Deserialize)]
struct ModelsQuery {
    client_version: Option<String>,
}

async fn models(
    State(s): State<Arc<Shared>>,
    mut rec: RecordedRequest,
    headers: HeaderMap,
    Params(q): Params<ModelsQuery>,
) -> Response {
    s.lock().stats.models += 1;
    rec.query = q
        .client_version
        .clone()
        .map(|v| format!("client_version={v}"));
    if let Err((st, why)) = check_chatgpt_auth(&s, &headers) {
        return unauthorized(&s, rec, st, why);
    }
    let Some(asked) = q.client_version.filter(|v| !v.is_empty()) else {
        return reject(
            &s,
            rec,
            StatusCode::BAD_REQUEST,
            "client_version is required",
        );
    };
    let Some(client) = version(&asked) else {
        return reject(
            &s,
            rec,
            StatusCode::BAD_REQUEST,
            "client_version must be x.y.z",
        );
    };
    if version(header(&headers, "version")).is_none() {
        return reject(
            &s,
            rec,
            StatusCode::BAD_REQUEST,
            "the version header (x.y.z) is missing",
        );
    }
    s.record(rec);
    if let Some(r) = injected(&s, false) {
        return r;
    }
    // Models above the client's version are hidden from it.
    let served: Vec<&Value> = s
        .cfg
        .models
        .iter()
        .filter(|m| minimal_version(m) <= client)
        .collect();
    let body = json!({"models": served});
    let etag = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(body.to_string().as_bytes());
        format!(
            "\"{}\"",
            d.iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
    };
    if header(&headers, "if-none-match") == etag {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        StatusCode::OK,
        [
            (header::ETAG, etag),
            (header::CONTENT_TYPE, "application/json".to_string()),
        ],
        body.to_string(),
    )
        .into_response()
}

/// Workspace routing of the account (PROTOCOL.md §6). The reference client sends neither
/// `originator` nor `version` here, so they are not required.
async fn accounts_check(
    State(s): State<Arc<Shared>>,
    rec: RecordedRequest,
    headers: HeaderMap,
) -> Response {
    s.lock().stats.accounts_check += 1;
    let token = bearer(&headers).to_string();
    let known = s
        .lock()
        .access
        .get(&token)
        .is_some_and(|exp| *exp > chrono::Utc::now().timestamp());
    if !known {
        return unauthorized(
            &s,
            rec,
            StatusCode::UNAUTHORIZED,
            "invalid or expired access token".into(),
        );
    }
    s.record(rec);
    let mut accounts = vec![json!({
        "id": s.cfg.account_id,
        "name": null,
        "plan_type": s.cfg.plan,
        "structure": "personal",
        "workspace_backend_origin": s.cfg.workspace_backend_origin,
        "account_routing_override": s.cfg.account_routing_override,
    })];
    accounts.extend(s.cfg.extra_workspaces.iter().map(|w| {
        json!({
            "id": w.id,
            "name": w.name,
            "plan_type": w.plan_type,
            "structure": "workspace",
            "workspace_backend_origin": "NO_CONSTRAINT",
            "account_routing_override": "NO_CONSTRAINT",
        })
    }));
    let ordering: Vec<&Value> = accounts.iter().map(|a| &a["id"]).collect();
    axum::Json(json!({
        "accounts": accounts,
        "account_ordering": ordering,
        "default_account_id": s.cfg.account_id,
    }))
    .into_response()
}

async fn usage(State(s): State<Arc<Shared>>, rec: RecordedRequest, headers: HeaderMap) -> Response {
    s.lock().stats.usage += 1;
    if let Err((st, why)) = check_chatgpt_auth(&s, &headers) {
        return unauthorized(&s, rec, st, why);
    }
    s.record(rec);
    if let Some(r) = injected(&s, false) {
        return r;
    }
    let now = chrono::Utc::now().timestamp();
    let used = s.lock().faults.primary_used_percent.unwrap_or(12.0);
    let reached = used >= 100.0;
    axum::Json(json!({
        "additional_rate_limits": [{"limit_name": "gpt-6-2-sol", "metered_feature": "gpt-6-2-sol",
            "rate_limit": {"allowed": true, "limit_reached": false,
                "primary_window": {"used_percent": 3, "limit_window_seconds": 18000, "reset_after_seconds": 1800, "reset_at": now + 1800},
                "secondary_window": null}}],
        "rate_limit_reached_type": null,
        "plan_type": s.cfg.plan,
        "rate_limit": {
            "allowed": !reached,
            "limit_reached": reached,
            "primary_window": {"used_percent": used, "limit_window_seconds": 18000, "reset_after_seconds": 3600, "reset_at": now + 3600},
            "secondary_window": {"used_percent": 40, "limit_window_seconds": 604800, "reset_after_seconds": 259200, "reset_at": now + 259200}
        },
        "credits": {"has_credits": false, "unlimited": false, "balance": "0"}
    }))
    .into_response()
}
