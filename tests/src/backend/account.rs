//! The account's other endpoints on the ChatGPT backend: the model catalog (gated by
//! `client_version`, with an ETag), the workspace check and the usage windows.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{check_chatgpt_auth, injected, unauthorized};
// `header`: the parent's fn and, through its import, axum's `header` module.
use super::{bearer, header, minimal_version, reject, version};
use crate::unexpected::Params;
use crate::{RecordedRequest, Shared};

#[derive(serde::Deserialize)]
pub(super) struct ModelsQuery {
    client_version: Option<String>,
}

pub(super) async fn models(
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
pub(super) async fn accounts_check(
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

pub(super) async fn usage(
    State(s): State<Arc<Shared>>,
    rec: RecordedRequest,
    headers: HeaderMap,
) -> Response {
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
