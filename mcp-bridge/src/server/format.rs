//! The tools' answers: a text for the model to read, structured content for programs, and
//! failures as `isError` results that say what to do. The answers about the account, of
//! `codex_login` and of `codex_review` are in files of their own; the bound of the large answers
//! too.

mod account;
mod bound;
mod review;
mod sign_in;
mod task;

use chrono::{DateTime, Utc};
use codex_oauth_core::app::Asked;
use codex_oauth_core::codex::{ModelList, ModelSource};
use codex_oauth_core::status::{capitalized, local_time};
use codex_oauth_core::{Error, ErrorCode};
use rmcp::model::{CallToolResult, ContentBlock};
use serde::Serialize;
use serde_json::Value;

use super::answers;

pub use account::{status, status_with_others, usage};
pub use bound::large_answer_meta;
pub use review::review;
pub use sign_in::{login, pasted};
pub use task::task;

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

/// The longest answer `codex_query` returns whatever `max_output_chars` says: the bound of a
/// result, less room for the lines after the answer.
const MAX_QUERY_CHARS: usize = bound::MAX_TEXT_CHARS - 8_000;

/// The answer of `codex_query`, cut to `max_chars` (at most [`MAX_QUERY_CHARS`]), with what
/// went with the question and what became of the conversation (`kept_chars`: its bound).
pub fn query(q: &Asked, max_chars: usize, kept_chars: usize) -> CallToolResult {
    let a = &q.answer;
    let max_chars = max_chars.min(MAX_QUERY_CHARS);
    let (shown, total) = cut(&a.text, max_chars);
    let mut text = shown.to_owned();
    if let Some(total) = total {
        let how = if max_chars == MAX_QUERY_CHARS {
            "the most a result carries; ask for a shorter answer, or for it in parts"
        } else {
            "ask for a shorter answer, or call again with a larger max_output_chars"
        };
        text.push_str(&format!(
            "\n\n[answer cut: {max_chars} of {total} characters shown; {how}]"
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
    bound::bound(&mut text, 0..shown.len(), "ask for a shorter answer");
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
}
