//! What the CLI prints. Results go to stdout; messages for people go to stderr.

use std::io::{Write, stderr, stdout};

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

/// The one-line failure message: what happened and what to do. `error:` is red on a terminal.
pub fn fail_line(text: &str) {
    let one_line = text.replace('\n', " ");
    let label = if crate::term::stderr_colour() {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    let _ = writeln!(stderr().lock(), "{label}: {one_line}");
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
        "last_error_kind": s.last_error_kind,
        "profile": s.profile,
        "auth_mode": s.auth_mode,
        "user_id": s.user_id,
        "last_refresh": s.last_refresh.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "pending_login": s.pending_login,
        "usage": s.remaining(),
    })
}

/// `status`: the headline with the profile, how to sign in when signed out, then the details
/// in aligned columns.
pub fn status_text(s: &Status) -> String {
    let mut head = format!("{} (profile {}).", s.headline(), s.profile);
    if !s.signed_in {
        head.push_str(" Sign in with `codex-mcp-bridge login`.");
    }
    let mut lines = vec![head];
    lines.extend(
        s.details()
            .into_iter()
            .map(|(d, text)| format!("{:<14}{text}", format!("{}:", d.label()))),
    );
    lines.join("\n")
}
