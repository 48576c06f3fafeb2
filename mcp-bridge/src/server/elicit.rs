//! The pasted final redirect through MCP form elicitation: while a browser sign-in of this bridge
//! waits, a client that can show forms (Claude Code) shows the sign-in link and a field for the
//! address the browser's last page shows when it cannot load (the browser runs on another
//! machine). The form is withdrawn (`notifications/cancelled`) when the sign-in ends without it.

use std::time::Duration;

use chrono::Utc;
use codex_oauth_core::Result;
use codex_oauth_core::oauth::SignInResult;
use codex_oauth_core::signin::{SignIns, Started};
use rmcp::model::{
    ClientResult, ElicitRequest, ElicitRequestParams, ElicitationAction, ElicitationSchema,
    ProtocolVersion, ServerRequest,
};
use rmcp::service::{ElicitationMode, PeerRequestOptions};
use rmcp::{Peer, RoleServer};
use schemars::JsonSchema;
use serde::Deserialize;

/// A refused address is asked for again, this many times in all.
const ATTEMPTS: usize = 3;

/// The form's one field.
#[derive(Debug, Deserialize, JsonSchema)]
struct PastedRedirect {
    /// The address the browser's last page shows: http://127.0.0.1:1455/auth/callback?code=…&state=…
    redirect_url: String,
}

/// How the form ended.
pub enum Asked {
    /// The user pasted an address: the sign-in it completed, or why it was refused.
    Pasted(Result<SignInResult>),
    /// The sign-in ended without the form (through the callback, a cancel, its time limit).
    Ended,
    /// Declined, dismissed, or the client could not show it: the sign-in goes on.
    NotAnswered,
}

/// The client shows forms, on a protocol that lets a server ask during a call.
pub fn can_ask(peer: &Peer<RoleServer>) -> bool {
    let Some(info) = peer.peer_info() else {
        return false;
    };
    info.protocol_version < ProtocolVersion::V_2026_07_28
        && peer
            .supported_elicitation_modes()
            .contains(&ElicitationMode::Form)
}

/// Ask for the address until one completes the sign-in, the user declines, or the sign-in ends
/// on its own.
pub async fn ask_for_redirect(
    peer: &Peer<RoleServer>,
    sign_ins: &SignIns,
    started: &Started,
    profile: &str,
) -> Asked {
    let mut ends = sign_ins.ends();
    ends.borrow_and_update();
    let schema = match ElicitationSchema::from_type::<PastedRedirect>() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot build the sign-in form");
            return Asked::NotAnswered;
        }
    };
    let mut refused: Option<String> = None;
    for _ in 0..ATTEMPTS {
        if sign_ins.running().is_none() {
            return Asked::Ended;
        }
        let message = message(started, profile, refused.as_deref());
        let request = ServerRequest::ElicitRequest(ElicitRequest::new(
            ElicitRequestParams::FormElicitationParams {
                meta: None,
                message,
                requested_schema: schema.clone(),
            },
        ));
        let left = (started.info.expires_at - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let options = PeerRequestOptions::with_timeout(left);
        let mut handle = match peer.send_cancellable_request(request, options).await {
            Ok(h) => h,
            Err(e) => {
                tracing::info!(error = %e, "the client did not take the sign-in form");
                return Asked::NotAnswered;
            }
        };
        let answer = tokio::select! {
            a = &mut handle.rx => Some(a),
            _ = ends.changed() => None,
            () = tokio::time::sleep(left) => None,
        };
        let Some(answer) = answer else {
            // The sign-in ended (or ran out of time): the form is not wanted any more.
            let _ = handle.cancel(Some("the sign-in ended".into())).await;
            return Asked::Ended;
        };
        let result = match answer {
            Ok(Ok(ClientResult::ElicitResult(r))) => r,
            Ok(Ok(_)) | Ok(Err(_)) | Err(_) => return Asked::NotAnswered,
        };
        if result.action != ElicitationAction::Accept {
            return Asked::NotAnswered;
        }
        let pasted = result
            .content
            .and_then(|c| serde_json::from_value::<PastedRedirect>(c).ok())
            .filter(|p| !p.redirect_url.trim().is_empty());
        let Some(pasted) = pasted else {
            return Asked::NotAnswered;
        };
        match sign_ins.paste(&pasted.redirect_url).await {
            Ok(done) => return Asked::Pasted(Ok(done)),
            // Refused, the sign-in goes on: say why and ask again.
            Err(e) if sign_ins.running().is_some() => refused = Some(e.to_string()),
            Err(e) => return Asked::Pasted(Err(e)),
        }
    }
    Asked::NotAnswered
}

fn message(started: &Started, profile: &str, refused: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(why) = refused {
        text.push_str(&format!("That address was refused: {why}\n\n"));
    }
    text.push_str(&format!(
        "Sign in to Codex (profile {profile}): open {}\n\nIf the browser runs on another machine, its last page (http://127.0.0.1:…/auth/callback?code=…) will not load: copy that page's address from the address bar and paste it here. If the sign-in finishes in the browser, this form closes by itself.",
        started.info.url
    ));
    text
}
