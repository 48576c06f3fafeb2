//! The browser flow: `/oauth/authorize` checks every parameter the Codex CLI sends and
//! auto-approves by redirecting to the callback with a single-use code (or an `error=`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::common::{SCOPE, is_b64url, now, redact_form};
use crate::unexpected::Params;
use crate::{CodeGrant, RecordedRequest, Shared, jwt};

/// The authorize originators auth.openai.com accepts for the Codex client id (PROTOCOL.md §1);
/// any other gets its error page.
const ALLOWED_ORIGINATORS: &[&str] = &["codex_cli_rs", "codex_vscode", "codex_chatgpt_desktop"];

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

/// The parameters the Codex CLI sends, checked as auth.openai.com does (the originator aside).
fn check_request(s: &Shared, q: &HashMap<String, String>) -> Result<(), String> {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
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
    redirect_ok(s, get("redirect_uri"))?;
    let ch = get("code_challenge");
    if ch.len() != 43 || !is_b64url(ch) {
        return Err("code_challenge must be base64url(SHA-256) without padding (43 chars)".into());
    }
    if get("state").len() < 16 {
        return Err("state is missing or too short".into());
    }
    if let Some(w) = q.get("allowed_workspace_id")
        && !s.cfg.has_workspace(w)
    {
        return Err(format!(
            "allowed_workspace_id `{w}` is not a workspace of this user"
        ));
    }
    Ok(())
}

pub async fn authorize(
    State(s): State<Arc<Shared>>,
    mut rec: RecordedRequest,
    Params(q): Params<HashMap<String, String>>,
) -> Response {
    s.lock().stats.authorize += 1;
    rec.body = redact_form(&q);
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let problem = check_request(&s, &q);
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
                workspace: q.get("allowed_workspace_id").cloned(),
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
