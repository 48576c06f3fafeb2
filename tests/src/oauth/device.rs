//! The device flow: a user code to type in elsewhere, then polls that end with an authorization
//! code and the PKCE pair the server made (approved automatically after some polls, or by
//! `approve_device`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::common::{now, reject, s256};
use crate::unexpected::Body;
use crate::{CodeGrant, DeviceGrant, RecordedRequest, Shared, jwt};

const DEVICE_TTL_SECS: i64 = 900;

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

/// The JSON body of a device-code request, kept in `rec`; or the answer when the flow is switched
/// off (404, as a server without it) or the body is not JSON (400), with the request recorded.
fn device_body(
    s: &Arc<Shared>,
    rec: &mut RecordedRequest,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, Box<Response>> {
    if s.lock().faults.device_disabled {
        s.record(rec.clone());
        return Err(Box::new(
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"detail": "Not Found"})),
            )
                .into_response(),
        ));
    }
    let v = json_body(headers, body).map_err(|why| {
        reject(
            s,
            rec.clone(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &why,
        )
    })?;
    rec.body = v.clone();
    Ok(v)
}

/// `/api/accounts/deviceauth/usercode`
pub async fn usercode(
    State(s): State<Arc<Shared>>,
    mut rec: RecordedRequest,
    headers: HeaderMap,
    Body(body): Body,
) -> Response {
    let v = match device_body(&s, &mut rec, &headers, &body) {
        Ok(v) => v,
        Err(answer) => return *answer,
    };
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

/// `/api/accounts/deviceauth/token`
pub async fn token(
    State(s): State<Arc<Shared>>,
    mut rec: RecordedRequest,
    headers: HeaderMap,
    Body(body): Body,
) -> Response {
    let v = match device_body(&s, &mut rec, &headers, &body) {
        Ok(v) => v,
        Err(answer) => return *answer,
    };
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
                        workspace: None,
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
