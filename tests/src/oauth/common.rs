//! What the issuer's endpoints share: the scope, the error shapes, form redaction, PKCE.

use std::collections::HashMap;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{RecordedRequest, Shared};

pub const SCOPE: &str =
    "openid profile email offline_access api.connectors.read api.connectors.invoke";

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// OpenAI's error shape, or RFC 9457 problem+json when that fault is on.
pub fn oauth_error(s: &Shared, status: StatusCode, code: &str, message: &str) -> Response {
    if s.lock().faults.problem_json {
        let body = json!({"type": "about:blank", "title": code, "status": status.as_u16(), "detail": message});
        return (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
    }
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub fn reject(
    s: &Shared,
    mut rec: RecordedRequest,
    status: StatusCode,
    code: &str,
    why: &str,
) -> Response {
    rec.rejected = Some(why.to_string());
    s.record(rec);
    oauth_error(s, status, code, why)
}

pub fn redact_form(map: &HashMap<String, String>) -> Value {
    const SECRET: [&str; 5] = [
        "code",
        "code_verifier",
        "refresh_token",
        "subject_token",
        "token",
    ];
    Value::Object(
        map.iter()
            .map(|(k, v)| {
                let v = if SECRET.contains(&k.as_str()) {
                    "[redacted]".to_string()
                } else {
                    v.clone()
                };
                (k.clone(), Value::String(v))
            })
            .collect(),
    )
}

pub fn is_b64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}
