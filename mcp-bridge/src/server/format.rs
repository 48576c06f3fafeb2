//! The tools' answers: a text for the model to read, structured content for programs, and
//! failures as `isError` results that say what to do.

use chrono::{DateTime, Utc};
use codex_oauth_core::app::{Asked, Reviewed};
use codex_oauth_core::codex::{ModelList, ModelSource, Usage};
use codex_oauth_core::model::{RateLimits, Window};
use codex_oauth_core::status::{Detail, capitalized, local_time};
use codex_oauth_core::{Error, ErrorCode, Status};
use rmcp::model::{CallToolResult, ContentBlock};
use serde::Serialize;
use serde_json::Value;

use super::answers;

use codex_oauth_core::signin::Started;

/// A successful result: `text` for the model, `data` as structured content.
pub fn ok(text: String, data: Value) -> CallToolResult {
    let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
    r.structured_content = Some(data);
    r
}

/// A successful result whose structured content is a typed answer (its schema the tool's
/// `outputSchema`); a value that cannot be written as JSON is an internal failure.
pub fn typed<T: Serialize>(text: String, data: &T) -> CallToolResult {
    match serde_json::to_value(data) {
        Ok(v) => ok(text, v),
        Err(e) => failure(&Error::Internal(format!(
            "the answer could not be written as JSON: {e}"
        ))),
    }
}

/// A tool failure (`isError: true`) with a message a person can act on; its structured content
/// carries core's error code.
pub fn failure(e: &Error) -> CallToolResult {
    failure_with_others(e, &[])
}

/// What a person can do next about a failure with this code, through this server.
fn hint(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotSignedIn => {
            " Run /codex-config to sign in (or call codex_login, or run `codex-mcp-bridge login` in a terminal)."
        }
        ErrorCode::SessionExpired => " Run /codex-config to sign in again (or call codex_login).",
        ErrorCode::ContextLengthExceeded => {
            " Start a new conversation (omit conversation_id) or shorten the prompt."
        }
        ErrorCode::SignInEnded => {
            " Call codex_login (without redirect_url) to start a new sign-in."
        }
        ErrorCode::NoPendingSignIn => {
            " Call codex_login (without redirect_url) to start a browser sign-in, then pass the address its last page shows."
        }
        _ => "",
    }
}

/// A failure; at a usage limit, with the other signed-in accounts that have room and the
/// argument that would use one: Claude can offer it; the user decides (this server never
/// switches by itself).
pub fn failure_with_others(e: &Error, others: &[(String, String)]) -> CallToolResult {
    let code = e.code();
    let base = match e {
        Error::NotSignedIn { profile } => format!("Not signed in to Codex (profile {profile})"),
        other => other.to_string().replace('\n', " "),
    };
    let mut message = format!("{}.{}", capitalized(base.trim_end_matches('.')), hint(code));
    let limit = matches!(e, Error::UsageLimit { .. });
    if limit && !others.is_empty() {
        let list: Vec<String> = others
            .iter()
            .map(|(p, room)| format!("{p} ({room})"))
            .collect();
        message.push_str(&format!(
            " Other signed-in accounts with room: {}. To use one, ask the user first, then call codex_query again with account set to its profile name (e.g. \"account\": \"{}\").",
            list.join("; "),
            others[0].0
        ));
    }
    let (resets_at, plan) = match e {
        Error::UsageLimit { resets_at, plan } => (Some(resets_at.map(rfc3339)), Some(plan.clone())),
        _ => (None, None),
    };
    let data = answers::Failure {
        error: message.clone(),
        kind: code,
        category: e.kind(),
        retryable: e.is_transient(),
        resets_at,
        plan,
        other_accounts: if limit {
            others
                .iter()
                .map(|(p, room)| answers::OtherAccount {
                    profile: p.clone(),
                    remaining: room.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
    };
    let mut r = CallToolResult::error(vec![ContentBlock::text(message)]);
    r.structured_content = serde_json::to_value(&data).ok();
    r
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A time for people: local, with how far away it is (core's wording).
pub fn local(t: DateTime<Utc>) -> String {
    local_time(t, Utc::now())
}

/// `text` cut to at most `max` characters; the full length when it was cut.
pub fn cut(text: &str, max: usize) -> (&str, Option<usize>) {
    match text.char_indices().nth(max) {
        Some((byte, _)) => (&text[..byte], Some(text.chars().count())),
        None => (text, None),
    }
}

/// The answer of `codex_query`, cut to `max_chars`, with what went with the question and what
/// became of the conversation (`kept_chars`: its bound).
pub fn query(q: &Asked, max_chars: usize, kept_chars: usize) -> CallToolResult {
    let a = &q.answer;
    let (shown, total) = cut(&a.text, max_chars);
    let mut text = shown.to_owned();
    if let Some(total) = total {
        text.push_str(&format!(
            "\n\n[answer cut: {max_chars} of {total} characters shown; ask for a shorter answer, or call again with a larger max_output_chars]"
        ));
    }
    if let Some(reason) = &a.incomplete {
        text.push_str(&format!(
            "\n\n[the answer is incomplete: Codex stopped early ({reason})]"
        ));
    }
    let tokens = a
        .usage
        .map(|u| format!(" · {} tokens", u.total_tokens))
        .unwrap_or_default();
    text.push_str(&format!(
        "\n\n[codex · model {} · conversation_id {}{tokens}]",
        a.model, q.conversation_id
    ));
    if q.dropped_turns > 0 {
        text.push_str(&format!(
            "\n[the conversation is past {kept_chars} characters: its {} oldest turns were left out]",
            q.dropped_turns
        ));
    }
    if let Some(e) = &q.not_kept {
        text.push_str(&format!(
            "\n[this exchange could not be kept for a follow-up ({}); a follow-up with this conversation_id misses it]",
            e.to_string().replace('\n', " ")
        ));
    }
    let data = answers::Query {
        answer: shown.to_owned(),
        model: a.model.clone(),
        conversation_id: q.conversation_id.clone(),
        response_id: a.response_id.clone(),
        usage: a.usage,
        rate_limits: a.rate_limits.clone(),
        commentary: (!a.commentary.is_empty()).then(|| a.commentary.clone()),
        truncated: total.is_some(),
        answer_chars: total.unwrap_or_else(|| a.text.chars().count()),
        incomplete: a.incomplete.clone(),
        dropped_turns: q.dropped_turns,
        account: answers::AccountRef {
            profile: q.profile.clone(),
            email: Some(q.email.clone()),
        },
        files: q.files.as_ref().map(answers::FilesSent::of),
        images: q.images.clone(),
    };
    let mut r = typed(text, &data);
    if let Some(b) = &q.files {
        r.content
            .push(ContentBlock::text(format!("Files: {}.", b.summary())));
    }
    if !q.images.is_empty() {
        let lines: Vec<String> = q
            .images
            .iter()
            .map(|i| {
                let scaled = if i.downscaled { ", scaled down" } else { "" };
                format!(
                    "{} ({}×{}, {} KB{scaled})",
                    i.source,
                    i.width,
                    i.height,
                    i.bytes.div_ceil(1024)
                )
            })
            .collect();
        r.content
            .push(ContentBlock::text(format!("Images: {}.", lines.join(", "))));
    }
    r
}

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
    }
}

/// `codex_status`: this bridge's account, then every other profile in one line each; the
/// structured content gains `accounts` (each: `profile`, `served`, `signed_in`, `email`, `plan`,
/// `account_id`, `usage`).
pub fn status_with_others(
    s: &Status,
    others: &[codex_oauth_core::accounts::Account],
) -> CallToolResult {
    let (mut text, mut data) = status_parts(s);
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

pub fn models(list: &ModelList) -> CallToolResult {
    let mut lines = vec![match list.source {
        ModelSource::Network | ModelSource::Revalidated => format!(
            "Codex models for this account (client version {}; * = default):",
            list.client_version
        ),
        ModelSource::Cache => format!(
            "Codex models (cached{}; * = default):",
            list.fetched_at
                .map(|t| format!(" at {}", local(t)))
                .unwrap_or_default()
        ),
        ModelSource::ApiKey => "Signed in with an API key (no catalog; * = default):".to_owned(),
    }];
    let entries: Vec<answers::ModelEntry> = list
        .models
        .iter()
        .map(|m| {
            let default = m.slug == list.default_model;
            let mut line = format!("{} {}", if default { "*" } else { " " }, m.slug);
            if let Some(n) = &m.display_name {
                line.push_str(&format!(" ({n})"));
            }
            if let Some(d) = &m.description {
                line.push_str(&format!(": {d}"));
            }
            let mut facts = Vec::new();
            if !m.supported_reasoning_levels.is_empty() {
                let default_effort = m
                    .default_reasoning_level
                    .as_deref()
                    .map(|d| format!(", default {d}"))
                    .unwrap_or_default();
                facts.push(format!("efforts {}{default_effort}", m.efforts().join("/")));
            }
            if let Some(c) = m.context_window {
                facts.push(format!("{}k context", c / 1000));
            }
            facts.push(if m.accepts_images() {
                "images".to_owned()
            } else {
                "text only".to_owned()
            });
            if let Some(u) = &m.upgrade {
                facts.push(format!("upgrade: {}", u.model));
            }
            line.push_str(&format!(" [{}]", facts.join("; ")));
            lines.push(line);
            answers::ModelEntry {
                slug: m.slug.clone(),
                display_name: m.display_name.clone(),
                description: m.description.clone(),
                default,
                default_reasoning_effort: m.default_reasoning_level.clone(),
                reasoning_efforts: m.efforts().into_iter().map(str::to_owned).collect(),
                context_window: m.context_window,
                image_input: m.accepts_images(),
                shape: if m.use_responses_lite {
                    answers::Shape::Lite
                } else {
                    answers::Shape::Standard
                },
                upgrade: m.upgrade.clone(),
                available_in_plans: m.available_in_plans.clone(),
            }
        })
        .collect();
    if let Some(n) = &list.note {
        lines.push(format!("Note: {n}"));
    }
    typed(
        lines.join("\n"),
        &answers::Models {
            models: entries,
            default_model: list.default_model.clone(),
            client_version: list.client_version.clone(),
            source: list.source,
            fetched_at: list.fetched_at.map(rfc3339),
            note: list.note.clone(),
        },
    )
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

/// The result of a review: the findings for a person and as structured content, with what was
/// sent (the changed files, the redactions, what was withheld), or Codex's own words when it
/// did not answer in the review's format; or that there was nothing to review.
pub fn review(reviewed: &Reviewed, paths: &[String]) -> CallToolResult {
    let (a, parsed, change, profile) = match reviewed {
        Reviewed::Nothing { compared } => {
            let narrowed = if paths.is_empty() {
                String::new()
            } else {
                format!(" under {}", paths.join(", "))
            };
            return typed(
                format!("Nothing to review: no change{narrowed} ({compared})."),
                &answers::Review {
                    empty: true,
                    compared: compared.clone(),
                    findings: Some(Vec::new()),
                    reviewed: None,
                },
            );
        }
        Reviewed::Done(d) => (&d.answer, &d.review, &d.change, &d.profile),
    };
    let n = change.changed.len();
    let mut text = format!(
        "Codex review of {} ({n} changed file{}):\n\n",
        change.compared,
        if n == 1 { "" } else { "s" }
    );
    match parsed {
        Some(r) => text.push_str(&r.describe()),
        None => {
            text.push_str("Codex did not answer in the review format; its answer:\n\n");
            text.push_str(&a.text);
        }
    }
    let mut sent = vec![format!(
        "the diff ({} KB{})",
        change.diff_bytes.div_ceil(1024),
        if change.diff_truncated {
            ", cut at the size limit"
        } else {
            ""
        }
    )];
    if !change.files.sent.is_empty() || !change.files.skipped.is_empty() {
        sent.push(format!("full text: {}", change.files.summary()));
    }
    if !change.diff_redactions.is_empty() {
        let r: Vec<String> = change
            .diff_redactions
            .iter()
            .map(|r| format!("{}:{} {}", r.path, r.line, r.kind))
            .collect();
        sent.push(format!("redacted in the diff: {}", r.join(", ")));
    }
    if !change.withheld.is_empty() {
        let w: Vec<String> = change
            .withheld
            .iter()
            .map(|w| format!("{} ({})", w.path, w.reason))
            .collect();
        sent.push(format!("not sent: {}", w.join("; ")));
    }
    text.push_str(&format!("\n\nSent: {}.", sent.join("; ")));
    text.push_str(&format!("\n\n[codex · model {}]", a.model));
    typed(
        text,
        &answers::Review {
            empty: false,
            compared: change.compared.clone(),
            findings: parsed.as_ref().map(|r| r.findings.clone()),
            reviewed: Some(answers::Reviewed {
                summary: parsed.as_ref().map(|r| r.summary.clone()),
                parsed: parsed.is_some(),
                answer: parsed.is_none().then(|| a.text.clone()),
                changed: change.changed.clone(),
                withheld: change.withheld.clone(),
                diff_bytes: change.diff_bytes,
                diff_truncated: change.diff_truncated,
                diff_redactions: change.diff_redactions.clone(),
                files: answers::FilesSent::of(&change.files),
                model: a.model.clone(),
                account: answers::AccountRef {
                    profile: profile.clone(),
                    email: None,
                },
                usage: a.usage,
                rate_limits: a.rate_limits.clone(),
            }),
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn cutting_counts_characters_not_bytes() {
        assert_eq!(cut("héllo", 10), ("héllo", None));
        assert_eq!(cut("héllo", 5), ("héllo", None));
        assert_eq!(cut("héllo", 2), ("hé", Some(5)));
        assert_eq!(cut("✓✓✓", 0), ("", Some(3)));
    }

    #[test]
    fn failures_are_errors_that_say_what_to_do() {
        let r = failure(&Error::NotSignedIn {
            profile: "default".into(),
        });
        assert_eq!(r.is_error, Some(true));
        let text = &r.content[0].as_text().unwrap().text;
        assert!(text.contains("/codex-config"), "{text}");
        let data = r.structured_content.unwrap();
        assert_eq!(data["kind"], "not_signed_in");
        assert_eq!(data["category"], "sign_in");
        assert_eq!(data["retryable"], false);

        let r = failure(&Error::UsageLimit {
            resets_at: Some(Utc::now() + chrono::Duration::hours(2)),
            plan: Some("plus".into()),
        });
        let data = r.structured_content.unwrap();
        assert_eq!(data["kind"], "usage_limit");
        assert_eq!(data["category"], "retry");
        assert!(data["resets_at"].is_string());
    }

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
