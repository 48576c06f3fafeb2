//! The answers about the account: `codex_status` (this bridge's account, and the others in a
//! line each) and `codex_usage`, with the rate-limit windows and credits as lines.

use codex_oauth_core::Status;
use codex_oauth_core::codex::Usage;
use codex_oauth_core::model::{RateLimits, Window};
use codex_oauth_core::status::{Detail, capitalized};
use rmcp::model::CallToolResult;

use super::{answers, local, typed};

fn window_line(name: &str, w: &Window) -> String {
    let resets = w
        .resets_at
        .map(|t| format!(", resets {}", local(t)))
        .unwrap_or_default();
    format!("{name}: {:.0}% used{resets}", w.used_percent)
}

fn window_name(w: &Window, fallback: &str) -> String {
    match w.window_minutes {
        Some(m) if m > 0 => format!("{} window", w.label()),
        _ => fallback.to_owned(),
    }
}

fn limit_lines(l: &RateLimits) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(e) = l.effective.clone().or_else(|| l.compute_effective()) {
        lines.push(format!("Remaining: {}", e.describe()));
    }
    if let Some(w) = &l.primary {
        lines.push(window_line(
            &capitalized(&window_name(w, "short window")),
            w,
        ));
    }
    if let Some(w) = &l.secondary {
        lines.push(window_line(&capitalized(&window_name(w, "long window")), w));
    }
    for n in &l.additional {
        let active = if l.active_limit.as_deref() == Some(n.name.as_str()) {
            " (applies now)"
        } else {
            ""
        };
        for w in [&n.primary, &n.secondary].into_iter().flatten() {
            lines.push(window_line(
                &format!("{} limit{active}, {}", n.name, window_name(w, "window")),
                w,
            ));
        }
    }
    if let Some(c) = &l.credits {
        let mut parts = Vec::new();
        if c.unlimited == Some(true) {
            parts.push("unlimited".to_owned());
        } else if let Some(b) = &c.balance {
            parts.push(format!("balance {b}"));
        }
        if c.has_credits == Some(false) && c.unlimited != Some(true) {
            parts.push("no credits".into());
        }
        if !parts.is_empty() {
            lines.push(format!("Credits: {}", parts.join(", ")));
        }
    }
    lines
}

fn status_parts(s: &Status) -> (String, answers::Status) {
    let mut head = format!("{} (profile {}).", s.headline(), s.profile);
    if s.unreadable {
        head.push_str(" Unlock the keychain (or fix what the last error names), then try again.");
    } else if !s.signed_in {
        head.push_str(" Call codex_login, or run /codex-config, to sign in.");
    }
    let mut lines = vec![head];
    lines.extend(
        s.details()
            .into_iter()
            .filter(|(d, _)| *d != Detail::Usage)
            .map(|(d, text)| format!("{}: {text}", d.label())),
    );
    if let Some(l) = &s.usage {
        lines.extend(limit_lines(l));
    }
    (lines.join("\n"), status_answer(s, None))
}

/// A sign-in's status (what `codex_login` says when the sign-in ended while it asked).
pub fn status(s: &Status) -> CallToolResult {
    let (text, data) = status_parts(s);
    typed(text, &answers::Login::Status(Box::new(data)))
}

fn status_answer(s: &Status, accounts: Option<Vec<answers::AccountLine>>) -> answers::Status {
    answers::Status {
        status: crate::cli::output::StatusJson::of(s),
        rate_limits: s.usage.clone(),
        accounts,
        running_jobs: None,
    }
}

/// `codex_status`: this bridge's account, then every other profile in one line each; the
/// structured content gains `accounts` (each: `profile`, `served`, `signed_in`, `email`, `plan`,
/// `account_id`, `usage`).
pub fn status_with_others(
    s: &Status,
    others: &[codex_oauth_core::accounts::Account],
    running_jobs: usize,
) -> CallToolResult {
    let (mut text, mut data) = status_parts(s);
    data.running_jobs = Some(running_jobs);
    if running_jobs > 0 {
        text.push_str(&format!(
            "\nBackground jobs: {running_jobs} running (codex_jobs lists them, codex_result gets one's result)."
        ));
    }
    let mut accounts = vec![answers::AccountLine::of(s, true)];
    accounts.extend(
        others
            .iter()
            .map(|a| answers::AccountLine::of(&a.status, false)),
    );
    data.accounts = Some(accounts);
    if !others.is_empty() {
        let lines: Vec<String> = others
            .iter()
            .map(|a| {
                let usage = a
                    .status
                    .remaining()
                    .map(|u| format!(" · {}", u.describe()))
                    .unwrap_or_default();
                format!("- {}: {}{usage}", a.profile, a.status.headline())
            })
            .collect();
        let extra = format!(
            "\nOther accounts (profiles) on this machine; this bridge answers with profile {}:\n{}",
            s.profile,
            lines.join("\n")
        );
        text.push_str(&extra);
    }
    typed(text, &data)
}

pub fn usage(u: &Usage) -> CallToolResult {
    let mut lines = Vec::new();
    if let Some(p) = &u.plan_type {
        lines.push(format!("Plan: {p}"));
    }
    let limits = limit_lines(&u.rate_limits);
    if limits.is_empty() {
        lines.push("The backend reported no usage windows.".into());
    }
    lines.extend(limits);
    typed(
        lines.join("\n"),
        &answers::Usage {
            plan_type: u.plan_type.clone(),
            effective: u.rate_limits.effective.clone(),
            rate_limits: u.rate_limits.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn window_names_follow_their_length() {
        let w = |m| Window {
            used_percent: 1.0,
            window_minutes: Some(m),
            resets_at: None,
        };
        assert_eq!(window_name(&w(300), "x"), "5-hour window");
        assert_eq!(window_name(&w(10080), "x"), "weekly window");
        assert_eq!(window_name(&w(4320), "x"), "3-day window");
        assert_eq!(window_name(&w(45), "x"), "45-minute window");
    }
}
