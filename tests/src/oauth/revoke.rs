//! Revocation: `/oauth/revoke` takes a JSON body with the client id and the token, and kills a
//! refresh token (it can no longer be used) or an access token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::common::reject;
use crate::unexpected::Body;
use crate::{RecordedRequest, Shared};

pub async fn revoke(
    State(s): State<Arc<Shared>>,
    mut rec: RecordedRequest,
    headers: HeaderMap,
    Body(body): Body,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return reject(
            &s,
            rec,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "revoke takes a JSON body",
        );
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return reject(
            &s,
            rec,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "body is not JSON",
        );
    };
    let token = v["token"].as_str().unwrap_or("").to_string();
    let mut shown = v.clone();
    shown["token"] = json!("[redacted]");
    rec.body = shown;
    if v["client_id"].as_str() != Some(s.cfg.client_id.as_str()) {
        return reject(
            &s,
            rec,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown or missing client_id",
        );
    }
    if token.is_empty() {
        return reject(
            &s,
            rec,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is missing",
        );
    }
    s.record(rec);
    let mut g = s.lock();
    g.stats.revokes += 1;
    g.secrets.push(token.clone());
    if let Some(r) = g.refresh.get_mut(&token) {
        r.revoked = true;
        r.dead = true;
    }
    g.access.remove(&token);
    (StatusCode::OK, axum::Json(json!({}))).into_response()
}
