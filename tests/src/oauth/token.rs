//! The token endpoint: the authorization-code grant (PKCE checked), the refresh grant
//! (tokens rotate, a reused one is refused) and the API-key token exchange.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::common::{SCOPE, is_b64url, now, oauth_error, redact_form, reject, s256};
use crate::unexpected::Body;
use crate::{RecordedRequest, Shared, jwt};

const CODE_TTL_SECS: i64 = 600;

/// A form-encoded or JSON body as a flat string map (Codex sends refresh as JSON).
fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<HashMap<String, String>, String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("application/x-www-form-urlencoded") {
        Ok(url::form_urlencoded::parse(body).into_owned().collect())
    } else if ct.starts_with("application/json") {
        let v: Value =
            serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
        let obj = v.as_object().ok_or("body is not a JSON object")?;
        Ok(obj
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect())
    } else {
        Err(format!("unsupported Content-Type `{ct}`"))
    }
}

/// The token endpoint. With `token_answer_delay_ms`, the grant is carried out at once (a refresh
/// token rotates: the old one is dead from now on) and only the answer is held back, as when the
/// issuer answered and the answer is still on its way.
pub async fn token(
    state: State<Arc<Shared>>,
    rec: RecordedRequest,
    headers: HeaderMap,
    Body(body): Body,
) -> Response {
    let hold = state.lock().faults.token_answer_delay_ms;
    let answer = token_grant(state, rec, headers, body).await;
    if hold > 0 {
        tokio::time::sleep(Duration::from_millis(hold)).await;
    }
    answer
}

async fn token_grant(
    State(s): State<Arc<Shared>>,
    mut rec: RecordedRequest,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let map = match parse_body(&headers, &body) {
        Ok(m) => m,
        Err(why) => return reject(&s, rec, StatusCode::BAD_REQUEST, "invalid_request", &why),
    };
    rec.body = redact_form(&map);
    let grant = map.get("grant_type").cloned().unwrap_or_default();
    let faults = {
        let mut g = s.lock();
        if grant == "refresh_token" {
            g.stats.refresh_attempts += 1;
        }
        for k in ["code", "code_verifier", "refresh_token", "subject_token"] {
            if let Some(v) = map.get(k) {
                g.secrets.push(v.clone());
            }
        }
        g.faults.clone()
    };
    if faults.token_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.token_delay_ms)).await;
    }
    if let Some(status) = faults.token_status {
        let st = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        s.record(rec);
        return oauth_error(
            &s,
            st,
            "server_error",
            "the token service is unavailable (injected fault)",
        );
    }
    if faults.token_garbage {
        s.record(rec);
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Just a moment...</body></html>",
        )
            .into_response();
    }
    if faults.token_missing_fields {
        s.record(rec);
        return axum::Json(json!({"token_type": "Bearer", "expires_in": 3600})).into_response();
    }
    if map.get("client_id").map(String::as_str) != Some(s.cfg.client_id.as_str()) {
        return reject(
            &s,
            rec,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown or missing client_id",
        );
    }
    match grant.as_str() {
        "authorization_code" => code_grant(&s, rec, &map),
        "refresh_token" => refresh_grant(&s, rec, &map, &faults),
        "urn:ietf:params:oauth:grant-type:token-exchange" => api_key_exchange(&s, rec, &map),
        other => reject(
            &s,
            rec,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("grant_type `{other}`"),
        ),
    }
}

fn token_answer(s: &Shared, ttl: i64) -> Response {
    token_answer_for(s, ttl, None)
}

fn token_answer_for(s: &Shared, ttl: i64, workspace: Option<&str>) -> Response {
    let t = s.issue_for(ttl, workspace);
    axum::Json(json!({
        "id_token": t.id_token,
        "access_token": t.access_token,
        "refresh_token": t.refresh_token,
        "expires_in": ttl,
        "token_type": "Bearer",
        "scope": SCOPE,
    }))
    .into_response()
}

fn code_grant(s: &Shared, rec: RecordedRequest, map: &HashMap<String, String>) -> Response {
    let get = |k: &str| map.get(k).map(String::as_str).unwrap_or("");
    let verifier = get("code_verifier");
    if verifier.len() < 43 || verifier.len() > 128 || !is_b64url(verifier) {
        return reject(
            s,
            rec,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_verifier must be 43-128 URL-safe characters",
        );
    }
    let outcome = {
        let mut g = s.lock();
        match g.codes.get_mut(get("code")) {
            None => Err("unknown authorization code"),
            Some(c) if c.used => Err("authorization code already used"),
            Some(c) if now() - c.created > CODE_TTL_SECS => Err("authorization code expired"),
            Some(c) => {
                // Single use, even when the rest of the request is wrong (as real servers do).
                c.used = true;
                if c.redirect_uri != get("redirect_uri") {
                    Err("redirect_uri does not match the authorize request")
                } else if c.challenge != s256(verifier) {
                    Err("PKCE verification failed: code_verifier does not match code_challenge")
                } else {
                    Ok(c.workspace.clone())
                }
            }
        }
    };
    let workspace = match outcome {
        Ok(w) => w,
        Err(why) => return reject(s, rec, StatusCode::BAD_REQUEST, "invalid_grant", why),
    };
    s.record(rec);
    s.lock().stats.code_exchanges += 1;
    token_answer_for(s, s.cfg.access_ttl_secs, workspace.as_deref())
}

fn refresh_grant(
    s: &Shared,
    rec: RecordedRequest,
    map: &HashMap<String, String>,
    faults: &crate::Faults,
) -> Response {
    if let Some(code) = &faults.refresh_error {
        s.record(rec);
        let message = match code.as_str() {
            "refresh_token_expired" => {
                "Your refresh token has expired. Please try signing in again."
            }
            "refresh_token_reused" => {
                "Your refresh token has already been used to generate a new access token. Please try signing in again."
            }
            "refresh_token_invalidated" => {
                "Your refresh token has been invalidated. Please try signing in again."
            }
            _ => "The refresh token is not valid.",
        };
        return oauth_error(s, StatusCode::UNAUTHORIZED, code, message);
    }
    let rt = map.get("refresh_token").map(String::as_str).unwrap_or("");
    if let Some(scope) = map.get("scope")
        && scope.split(' ').any(|x| !SCOPE.split(' ').any(|y| y == x))
    {
        return reject(
            s,
            rec,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope is wider than the grant",
        );
    }
    let verdict = {
        let mut g = s.lock();
        match g.refresh.get_mut(rt) {
            None => Err(("refresh_token_invalidated", "unknown refresh token")),
            Some(r) if r.revoked => Err((
                "refresh_token_invalidated",
                "Your refresh token has been revoked.",
            )),
            Some(r) if r.dead => {
                g.stats.reuse_rejections += 1;
                Err((
                    "refresh_token_reused",
                    "Your refresh token has already been used to generate a new access token. Please try signing in again.",
                ))
            }
            Some(r) => {
                r.dead = true;
                Ok(())
            }
        }
    };
    match verdict {
        Err((code, why)) => reject(s, rec, StatusCode::UNAUTHORIZED, code, why),
        Ok(()) => {
            s.record(rec);
            s.lock().stats.refreshes += 1;
            token_answer(s, s.cfg.access_ttl_secs)
        }
    }
}

fn api_key_exchange(s: &Shared, rec: RecordedRequest, map: &HashMap<String, String>) -> Response {
    let get = |k: &str| map.get(k).map(String::as_str).unwrap_or("");
    if get("requested_token") != "openai-api-key"
        || get("subject_token_type") != "urn:ietf:params:oauth:token-type:id_token"
    {
        return reject(
            s,
            rec,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "bad token-exchange parameters",
        );
    }
    if !s.lock().id_tokens.iter().any(|t| t == get("subject_token")) {
        return reject(
            s,
            rec,
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
            "subject_token is not an id_token we issued",
        );
    }
    s.record(rec);
    let key = format!("sk-proj-fake{}", jwt::random(24));
    {
        let mut g = s.lock();
        g.stats.api_key_exchanges += 1;
        g.api_keys.push(key.clone());
        g.secrets.push(key.clone());
    }
    axum::Json(
        json!({"access_token": key, "token_type": "Bearer", "issued_token_type": "openai-api-key"}),
    )
    .into_response()
}
