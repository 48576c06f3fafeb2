//! The answers of `codex_login`: a sign-in started (or already pending), and one completed from
//! a pasted redirect.

use codex_oauth_core::signin::Started;
use rmcp::model::CallToolResult;

use super::{answers, local, rfc3339, typed};

pub fn login(started: &Started, profile: &str) -> CallToolResult {
    let p = &started.info;
    let mut text = if started.elsewhere {
        format!(
            "A sign-in is already pending in another codex-oauth process (the tray or another Claude Code session; {}); it was left running.",
            p.method
        )
    } else if !started.new {
        format!("A sign-in is already pending ({}).", p.method)
    } else {
        format!("Sign-in to profile {profile} started.")
    };
    match &p.user_code {
        Some(code) => text.push_str(&format!(
            " Open {} on any device and enter the code {code} (valid until {}). Never share this code.",
            p.url,
            local(p.expires_at)
        )),
        None if started.browser_opened => text.push_str(&format!(
            " A browser was opened at the ChatGPT sign-in page; if it did not appear, open {}",
            p.url
        )),
        None => text.push_str(&format!(
            " Open this URL in a browser on this machine to sign in: {}",
            p.url
        )),
    }
    if p.user_code.is_none() && !started.elsewhere {
        text.push_str(
            " If the browser runs on another machine, its last page (http://127.0.0.1:…/auth/callback?code=…) will not load: ask the user to copy that page's address from the address bar and call codex_login again with it as `redirect_url`.",
        );
    }
    text.push_str(
        " The sign-in completes in the background; call codex_status to see when it is done.",
    );
    typed(
        text,
        &answers::Login::Pending(answers::LoginPending {
            status: answers::PendingState::Pending,
            profile: profile.to_owned(),
            new: started.new,
            elsewhere: started.elsewhere,
            method: p.method,
            url: p.url.clone(),
            user_code: p.user_code.clone(),
            expires_at: rfc3339(p.expires_at),
            browser_opened: started.browser_opened,
        }),
    )
}

/// A sign-in completed from a pasted redirect.
pub fn pasted(profile: &str, r: &codex_oauth_core::oauth::SignInResult) -> CallToolResult {
    typed(
        format!(
            "Signed in to Codex as {} (profile {profile}); credentials stored in the {}.",
            r.who(),
            r.saved.backend.label()
        ),
        &answers::Login::SignedIn(answers::LoginSignedIn {
            status: answers::SignedInState::SignedIn,
            profile: profile.to_owned(),
            method: codex_oauth_core::store::SignInMethod::Browser,
            email: r.email.clone(),
            plan: r.plan.clone(),
            account_id: r.account_id.clone(),
            store: answers::Stored {
                backend: r.saved.backend,
                location: r.saved.location.clone(),
                reason: r.saved.reason.clone(),
            },
        }),
    )
}
