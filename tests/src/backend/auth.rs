//! Who may call the backend: a ChatGPT access token and the headers that go with it, the answer
//! to a refused one, and the injected faults that answer before anything else.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::{bearer, error, header};
use crate::{RecordedRequest, Shared};

/// Checks a ChatGPT access token and the headers that go with it.
pub(super) fn check_chatgpt_auth(s: &Shared, h: &HeaderMap) -> Result<(), (StatusCode, String)> {
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

pub(super) fn unauthorized(
    s: &Shared,
    rec: RecordedRequest,
    status: StatusCode,
    why: String,
) -> Response {
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
pub(super) fn injected(s: &Shared, responses: bool) -> Option<Response> {
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
