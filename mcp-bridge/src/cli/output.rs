//! What the CLI prints. Results go to stdout; messages for people go to stderr.

use std::io::{Write, stderr, stdout};

use chrono::{DateTime, Local, Utc};
use codex_oauth_core::Status;

/// One line on stdout (a URL, a code, a token, JSON).
pub fn result_line(text: &str) {
    let mut out = stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// A message for people on stderr.
pub fn info(text: &str) {
    let _ = writeln!(stderr().lock(), "{text}");
}

/// The one-line failure message: what happened and what to do.
pub fn fail_line(text: &str) {
    let one_line = text.replace('\n', " ");
    let _ = writeln!(stderr().lock(), "error: {one_line}");
}

pub fn when(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Local).format("%Y-%m-%d %H:%M %Z");
    let left = t - Utc::now();
    let mins = left.num_minutes();
    if left.num_seconds() < 0 {
        format!("{local} (expired; it is refreshed on next use)")
    } else if mins < 120 {
        format!("{local} (in {mins} min)")
    } else {
        format!("{local} (in {} h)", left.num_hours())
    }
}

/// `status --json`: the documented fields first, then the extra ones.
pub fn status_json(s: &Status) -> serde_json::Value {
    serde_json::json!({
        "signed_in": s.signed_in,
        "email": s.email,
        "plan": s.plan,
        "account_id": s.account_id,
        "expires_at": s.expires_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "store": {
            "backend": s.store.backend,
            "location": s.store.location,
            "reason": s.store.reason,
            "mode": s.store.mode,
        },
        "last_error": s.last_error,
        "profile": s.profile,
        "auth_mode": s.auth_mode,
        "user_id": s.user_id,
        "last_refresh": s.last_refresh.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "pending_login": s.pending_login,
        "usage": remaining(s),
    })
}

/// The effective remaining of the last rate limits seen (core keeps it with them).
fn remaining(s: &Status) -> Option<codex_oauth_core::codex::Remaining> {
    let effective = s.rate_limits.as_ref()?.get("effective")?.clone();
    serde_json::from_value(effective).ok()
}

pub fn status_text(s: &Status) -> String {
    let mut lines = Vec::new();
    if s.signed_in {
        let who = s.email.as_deref().unwrap_or("(unknown email)");
        let plan = s
            .plan
            .as_deref()
            .map(|p| format!(" · {p}"))
            .unwrap_or_default();
        if s.auth_mode.as_deref() == Some("apikey") {
            lines.push(format!("Signed in with an API key (profile {})", s.profile));
        } else {
            lines.push(format!("Signed in as {who}{plan} (profile {})", s.profile));
        }
        if let Some(acc) = &s.account_id {
            lines.push(format!("Account:      {acc}"));
        }
        if let Some(exp) = s.expires_at {
            lines.push(format!("Access token: valid until {}", when(exp)));
        }
        if let Some(r) = remaining(s) {
            lines.push(format!("Usage:        {}", r.describe()));
        }
    } else {
        lines.push(format!(
            "Not signed in (profile {}). Sign in with `codex-mcp-bridge login`.",
            s.profile
        ));
    }
    if let Some(b) = &s.store.backend {
        let place = s
            .store
            .location
            .as_deref()
            .map(|l| format!(" — {l}"))
            .unwrap_or_default();
        lines.push(format!("Stored in:    {b}{place}"));
    }
    if let Some(r) = &s.store.reason {
        lines.push(format!("Why:          {r}"));
    }
    if let Some(p) = &s.pending_login {
        lines.push(format!("Pending sign-in ({}) : open {}", p.method, p.url));
    }
    if let Some(e) = &s.last_error {
        lines.push(format!("Last error:   {e}"));
    }
    lines.join("\n")
}
