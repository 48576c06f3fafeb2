//! The issuer: authorize (auto-approve), token (code, refresh, API-key exchange), revoke, and the
//! device-code endpoints, each checking its input as strictly as the real server does (or more).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{CodeGrant, DeviceGrant, RecordedRequest, Shared, jwt, record_headers};

const SCOPE: &str = "openid profile email offline_access api.connectors.read api.connectors.invoke";
/// The authorize originators auth.openai.com accepts for the Codex client id (PROTOCOL.md §1);
/// any other gets its error page.
const ALLOWED_ORIGINATORS: &[&str] = &["codex_cli_rs", "codex_vscode", "codex_chatgpt_desktop"];
const CODE_TTL_SECS: i64 = 600;
const DEVICE_TTL_SECS: i64 = 900;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route("/api/accounts/deviceauth/usercode", post(device_usercode))
        .route("/api/accounts/deviceauth/token", post(device_token))
        .route(
            "/codex/device",
            get(|| async { Html("<h1>Enter the code shown in your terminal</h1>") }),
        )
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// OpenAI's error shape, or RFC 9457 problem+json when that fault is on.
fn oauth_error(s: &Shared, status: StatusCode, code: &str, message: &str) -> Response {
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

fn reject(
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

fn redact_form(map: &HashMap<String, String>) -> Value {
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

fn is_b64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn redirect_ok(s: &Shared, uri: &str) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|e| format!("redirect_uri is not a URL: {e}"))?;
    if url.scheme() != "http"
        || url.host_str() != Some("127.0.0.1")
        || url.path() != "/auth/callback"
    {
        return Err(format!(
            "redirect_uri {uri} is not registered (http://127.0.0.1:<port>/auth/callback)"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("redirect_uri must not carry a query or fragment".into());
    }
    let port = url.port().ok_or("redirect_uri has no port")?;
    if s.cfg.strict_redirect_ports && port != 1455 && port != 1457 {
        return Err(format!(
            "redirect_uri port {port} is not registered (only 1455 and 1457 are)"
        ));
    }
    Ok(())
}

async fn authorize(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    s.lock().stats.authorize += 1;
    let mut rec = RecordedRequest {
        method: "GET".into(),
        path: "/oauth/authorize".into(),
        query: None,
        headers: record_headers(&headers),
        body: redact_form(&q),
        rejected: None,
    };
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let problem = (|| -> Result<(), String> {
        let want = [
            ("response_type", "code"),
            ("code_challenge_method", "S256"),
            ("id_token_add_organizations", "true"),
            ("codex_cli_simplified_flow", "true"),
            ("scope", SCOPE),
        ];
        for (k, v) in want {
            if get(k) != v {
                return Err(format!("{k} must be `{v}`, got `{}`", get(k)));
            }
        }
        if get("client_id") != s.cfg.client_id {
            return Err(format!("unknown client_id `{}`", get("client_id")));
        }
        redirect_ok(&s, get("redirect_uri"))?;
        let ch = get("code_challenge");
        if ch.len() != 43 || !is_b64url(ch) {
            return Err(
                "code_challenge must be base64url(SHA-256) without padding (43 chars)".into(),
            );
        }
        if get("state").len() < 16 {
            return Err("state is missing or too short".into());
        }
        Ok(())
    })();
    if let Err(why) = problem {
        rec.rejected = Some(why.clone());
        s.record(rec);
        return (
            StatusCode::BAD_REQUEST,
            Html(format!("<h1>Bad authorize request</h1><p>{why}</p>")),
        )
            .into_response();
    }
    if !ALLOWED_ORIGINATORS.contains(&get("originator")) {
        // What auth.openai.com shows for an originator it does not allow for this client.
        rec.rejected = Some(format!(
            "originator `{}` is not allowed for this client (missing_required_parameter)",
            get("originator")
        ));
        s.record(rec);
        return (
            StatusCode::BAD_REQUEST,
            Html(
                "<!DOCTYPE html><html><head><title>Oops!</title></head><body><h1>Oops!</h1>\
                 <p>Something went wrong. Error: missing_required_parameter</p></body></html>"
                    .to_string(),
            ),
        )
            .into_response();
    }
    s.record(rec);
    let redirect_uri = get("redirect_uri").to_string();
    let mut target = url::Url::parse(&redirect_uri).expect("checked above");
    let fault = s.lock().faults.authorize_error.clone();
    if let Some((error, description)) = fault {
        target
            .query_pairs_mut()
            .append_pair("error", &error)
            .append_pair("error_description", &description)
            .append_pair("state", get("state"));
        return Redirect::to(target.as_str()).into_response();
    }
    let code = format!("ac_{}", jwt::random(32));
    {
        let mut g = s.lock();
        g.codes.insert(
            code.clone(),
            CodeGrant {
                challenge: get("code_challenge").to_string(),
                redirect_uri,
                created: now(),
                used: false,
            },
        );
        g.secrets.push(code.clone());
    }
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", get("state"));
    Redirect::to(target.as_str()).into_response()
}

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
async fn token(state: State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let hold = state.lock().faults.token_answer_delay_ms;
    let answer = token_grant(state, headers, body).await;
    if hold > 0 {
        tokio::time::sleep(Duration::from_millis(hold)).await;
    }
    answer
}

async fn token_grant(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let map = match parse_body(&headers, &body) {
        Ok(m) => m,
        Err(why) => {
            let rec = RecordedRequest {
                method: "POST".into(),
                path: "/oauth/token".into(),
                query: None,
                headers: record_headers(&headers),
                body: Value::Null,
                rejected: None,
            };
            return reject(&s, rec, StatusCode::BAD_REQUEST, "invalid_request", &why);
        }
    };
    let rec = RecordedRequest {
        method: "POST".into(),
        path: "/oauth/token".into(),
        query: None,
        headers: record_headers(&headers),
        body: redact_form(&map),
        rejected: None,
    };
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
    let t = s.issue(ttl);
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
                    Ok(())
                }
            }
        }
    };
    if let Err(why) = outcome {
        return reject(s, rec, StatusCode::BAD_REQUEST, "invalid_grant", why);
    }
    s.record(rec);
    s.lock().stats.code_exchanges += 1;
    token_answer(s, s.cfg.access_ttl_secs)
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

async fn revoke(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut rec = RecordedRequest {
        method: "POST".into(),
        path: "/oauth/revoke".into(),
        query: None,
        headers: record_headers(&headers),
        body: Value::Null,
        rejected: None,
    };
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

fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(format!("expected a JSON body, got Content-Type `{ct}`"));
    }
    serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))
}

async fn device_usercode(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut rec = RecordedRequest {
        method: "POST".into(),
        path: "/api/accounts/deviceauth/usercode".into(),
        query: None,
        headers: record_headers(&headers),
        body: Value::Null,
        rejected: None,
    };
    if s.lock().faults.device_disabled {
        s.record(rec);
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"detail": "Not Found"})),
        )
            .into_response();
    }
    let v = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(why) => return reject(&s, rec, StatusCode::BAD_REQUEST, "invalid_request", &why),
    };
    rec.body = v.clone();
    if v["client_id"].as_str() != Some(s.cfg.client_id.as_str()) {
        return reject(
            &s,
            rec,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown or missing client_id",
        );
    }
    s.record(rec);
    let id = format!("deviceauth_{}", jwt::random(16));
    let code = {
        let r = jwt::random(6).to_ascii_uppercase().replace(['-', '_'], "X");
        format!("{}-{}", &r[..4], &r[4..8])
    };
    {
        let mut g = s.lock();
        g.stats.device_usercodes += 1;
        g.devices.insert(
            id.clone(),
            DeviceGrant {
                user_code: code.clone(),
                polls: 0,
                approved: false,
                created: now(),
                done: false,
            },
        );
    }
    axum::Json(json!({
        "device_auth_id": id,
        "user_code": code,
        "interval": s.cfg.device_interval_secs.to_string(),
        "expires_at": chrono::Utc::now() + chrono::Duration::seconds(DEVICE_TTL_SECS),
    }))
    .into_response()
}

async fn device_token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut rec = RecordedRequest {
        method: "POST".into(),
        path: "/api/accounts/deviceauth/token".into(),
        query: None,
        headers: record_headers(&headers),
        body: Value::Null,
        rejected: None,
    };
    if s.lock().faults.device_disabled {
        s.record(rec);
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"detail": "Not Found"})),
        )
            .into_response();
    }
    let v = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(why) => return reject(&s, rec, StatusCode::BAD_REQUEST, "invalid_request", &why),
    };
    rec.body = v.clone();
    let id = v["device_auth_id"].as_str().unwrap_or("");
    let code = v["user_code"].as_str().unwrap_or("");
    let auto = s.cfg.device_auto_approve_after;
    let outcome = {
        let mut g = s.lock();
        g.stats.device_polls += 1;
        match g.devices.get_mut(id) {
            None => Err((StatusCode::BAD_REQUEST, "unknown device_auth_id")),
            Some(d) if d.user_code != code => Err((
                StatusCode::BAD_REQUEST,
                "user_code does not match device_auth_id",
            )),
            Some(d) if d.done => Err((StatusCode::BAD_REQUEST, "device code already used")),
            Some(d) if now() - d.created > DEVICE_TTL_SECS => {
                Err((StatusCode::GONE, "device code expired"))
            }
            Some(d) => {
                d.polls += 1;
                if auto > 0 && d.polls >= auto {
                    d.approved = true;
                }
                if d.approved {
                    d.done = true;
                    Ok(true)
                } else {
                    Ok(false)
                }
            }
        }
    };
    match outcome {
        Err((st, why)) => reject(&s, rec, st, "invalid_request", why),
        Ok(false) => {
            s.record(rec);
            (
                StatusCode::FORBIDDEN,
                axum::Json(json!({"error": "authorization_pending"})),
            )
                .into_response()
        }
        Ok(true) => {
            s.record(rec);
            // The server made the PKCE pair; the client exchanges the code with this verifier.
            let verifier = jwt::random(64);
            let challenge = s256(&verifier);
            let auth_code = format!("ac_{}", jwt::random(32));
            {
                let mut g = s.lock();
                g.codes.insert(
                    auth_code.clone(),
                    CodeGrant {
                        challenge: challenge.clone(),
                        redirect_uri: format!("{}/deviceauth/callback", s.issuer()),
                        created: now(),
                        used: false,
                    },
                );
                g.secrets.extend([auth_code.clone(), verifier.clone()]);
            }
            axum::Json(json!({"authorization_code": auth_code, "code_challenge": challenge, "code_verifier": verifier}))
                .into_response()
        }
    }
}

pub fn approve_device(s: &Shared, user_code: &str) -> bool {
    let mut g = s.lock();
    match g
        .devices
        .values_mut()
        .find(|d| d.user_code == user_code && !d.done)
    {
        Some(d) => {
            d.approved = true;
            true
        }
        None => false,
    }
}
