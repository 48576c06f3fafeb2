//! Reading an answer from the Server-Sent Events of `POST /responses` (PROTOCOL.md §6): the
//! `final_answer` text handed on as it comes (a message item's `commentary` is kept apart), the
//! end recognised (`response.completed`, `.incomplete`, `.failed`), `codex.rate_limits` read, a
//! stream that stops early or falls silent is an error.

use std::collections::HashMap;
use std::time::Duration;

use eventsource_stream::{EventStreamError, Eventsource};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::Value;

use crate::codex::wire::{ErrorObject, Item, Response, StreamEvent};
use crate::error::{Error, Result};
use crate::lenient::Lenient;
use crate::model::{RateLimits, TokenUsage};

/// A UTF-8 byte order mark. eventsource-stream 0.2.3 panics on a stream that starts with one (it
/// cuts one byte off the three-byte character), so leading ones are taken off before it.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What a stream that ended well gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamOutcome {
    /// The answer: the text of `final_answer` message items (and of items with no phase).
    pub text: String,
    /// The text of `commentary` message items.
    pub commentary: String,
    /// The last `codex.rate_limits` event.
    pub rate_limits: Option<RateLimits>,
    pub response_id: Option<String>,
    pub usage: Option<TokenUsage>,
    /// `response.incomplete`: why the answer stopped early.
    pub incomplete: Option<String>,
}

/// Read events until the answer ends. Every text delta goes to `on_delta` at once. `idle` is
/// the longest silence allowed between two chunks.
pub(crate) async fn read_answer<S, B, E>(
    bytes: S,
    idle: Duration,
    on_delta: &mut (dyn FnMut(&str) + Send),
) -> Result<StreamOutcome>
where
    S: Stream<Item = std::result::Result<B, E>>,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let mut start = Some(Vec::new());
    let events = bytes
        .map(move |chunk| chunk.map(|b| without_leading_boms(&mut start, b.as_ref())))
        .eventsource();
    futures::pin_mut!(events);
    let mut out = StreamOutcome::default();
    // The phase of each message item, by id, from `response.output_item.added`.
    let mut phases: HashMap<String, Phase> = HashMap::new();
    // Text of finished answer items, used when the backend sent no deltas for them.
    let mut item_text = String::new();
    loop {
        let next = match tokio::time::timeout(idle, events.next()).await {
            Ok(n) => n,
            Err(_) => {
                return Err(Error::Network {
                    what: "the Codex backend".into(),
                    detail: format!(
                        "the answer stream was silent for {} s",
                        idle.as_secs().max(1)
                    ),
                });
            }
        };
        let event = match next {
            None => {
                return Err(Error::StreamEnded {
                    detail: "the connection closed without response.completed".into(),
                });
            }
            Some(Err(EventStreamError::Transport(e))) => {
                return Err(Error::StreamEnded {
                    detail: format!("the connection broke: {e}"),
                });
            }
            Some(Err(e)) => {
                return Err(Error::StreamEnded {
                    detail: format!("unreadable event stream: {e}"),
                });
            }
            Some(Ok(ev)) => ev,
        };
        let data = event.data.trim();
        if data.is_empty() || data == "[DONE]" {
            continue;
        }
        let Some(event) = parse_event(data, &event.event) else {
            tracing::debug!("skipping an event that is not a JSON object");
            continue;
        };
        match event {
            StreamEvent::ItemAdded { item } => {
                if let Some(item) = item.into_inner()
                    && let Some(id) = item.id.as_ref()
                {
                    phases.insert(id.clone(), Phase::of(&item));
                }
            }
            StreamEvent::TextDelta { item_id, delta } => {
                let phase = item_id
                    .as_ref()
                    .and_then(|id| phases.get(id))
                    .copied()
                    .unwrap_or(Phase::Answer);
                if let Some(d) = delta.into_inner().filter(|d| !d.is_empty()) {
                    match phase {
                        Phase::Answer => {
                            out.text.push_str(&d);
                            on_delta(&d);
                        }
                        Phase::Commentary => out.commentary.push_str(&d),
                    }
                }
            }
            StreamEvent::ItemDone { item } => {
                if let Some(item) = item.into_inner()
                    && item.kind.as_ref().map(String::as_str) == Some("message")
                {
                    let known = item.id.as_ref().and_then(|id| phases.get(id)).copied();
                    match known.unwrap_or_else(|| Phase::of(&item)) {
                        Phase::Answer => item_text.push_str(&message_text(&item)),
                        // Commentary that came without deltas.
                        Phase::Commentary if known.is_none() => {
                            out.commentary.push_str(&message_text(&item))
                        }
                        Phase::Commentary => {}
                    }
                }
            }
            StreamEvent::RateLimits(event) => {
                if let Some(l) = RateLimits::from_event(event) {
                    out.rate_limits = Some(l);
                }
            }
            StreamEvent::Completed { response } => {
                return Ok(finish(out, response, None, item_text, on_delta));
            }
            StreamEvent::Incomplete { response } => {
                let reason = response
                    .as_ref()
                    .and_then(|r| r.incomplete_details.as_ref())
                    .and_then(|d| d.reason.as_ref())
                    .cloned()
                    .unwrap_or_else(|| "unknown reason".to_owned());
                return Ok(finish(out, response, Some(reason), item_text, on_delta));
            }
            StreamEvent::Failed { response } => {
                let error = response.into_inner().and_then(|r| r.error.into_inner());
                return Err(failure(error.unwrap_or_default()));
            }
            StreamEvent::Error { error, top } => {
                return Err(failure(error.into_inner().unwrap_or(top)));
            }
            StreamEvent::Other => {}
        }
    }
}

/// The chunk with the byte order marks that start the stream taken off, across chunk boundaries:
/// `start` holds the first bytes while they may still be (part of) one, and is `None` after.
fn without_leading_boms(start: &mut Option<Vec<u8>>, chunk: &[u8]) -> Vec<u8> {
    let Some(head) = start else {
        return chunk.to_vec();
    };
    head.extend_from_slice(chunk);
    let boms = head.chunks(BOM.len()).take_while(|c| *c == BOM).count();
    head.drain(..boms * BOM.len());
    if head.len() < BOM.len() && BOM.starts_with(head) {
        return Vec::new();
    }
    start.take().unwrap_or_default()
}

/// [`read_answer`] over a whole stream given as chunks, with no idle limit: the outcome and the
/// deltas handed on. For the fuzz targets and property tests; needs a Tokio runtime with time.
#[doc(hidden)]
pub async fn read_chunks(chunks: Vec<Vec<u8>>) -> (Result<StreamOutcome>, Vec<String>) {
    let mut deltas = Vec::new();
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>));
    let out = read_answer(stream, Duration::from_secs(24 * 3600), &mut |d: &str| {
        deltas.push(d.to_owned())
    })
    .await;
    (out, deltas)
}

/// Whether a message item is the answer or what the model says on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `final_answer`, or no phase at all (older servers, the API).
    Answer,
    Commentary,
}

impl Phase {
    fn of(item: &Item) -> Self {
        match item.phase.as_ref().map(String::as_str) {
            Some("commentary") => Phase::Commentary,
            _ => Phase::Answer,
        }
    }
}

/// The event in `data`, its type from the data's `type`, else from the SSE event name. `None`
/// for data that is not a JSON object.
fn parse_event(data: &str, name: &str) -> Option<StreamEvent> {
    let mut v: Value = serde_json::from_str(data).ok()?;
    let object = v.as_object_mut()?;
    if !object.get("type").is_some_and(Value::is_string) {
        object.insert("type".into(), Value::String(name.to_owned()));
    }
    // An event whose known type has fields of another shape than ours is read leniently; one
    // that still does not fit is nothing the answer needs.
    Some(StreamEvent::deserialize(v).unwrap_or(StreamEvent::Other))
}

/// The outcome of a finished answer: its id and token counts, and the text of the finished
/// answer items when no deltas came.
fn finish(
    mut out: StreamOutcome,
    response: Lenient<Response>,
    incomplete: Option<String>,
    item_text: String,
    on_delta: &mut (dyn FnMut(&str) + Send),
) -> StreamOutcome {
    let response = response.into_inner().unwrap_or_default();
    out.response_id = response.id.into_inner();
    out.usage = response.usage.into_inner();
    out.incomplete = incomplete;
    if out.text.is_empty() && !item_text.is_empty() {
        on_delta(&item_text);
        out.text = item_text;
    }
    out
}

/// The text parts of a finished `message` item.
fn message_text(item: &Item) -> String {
    item.content
        .as_ref()
        .map(|parts| {
            parts
                .iter()
                .filter_map(Lenient::as_ref)
                .filter(|p| p.kind.as_ref().map(String::as_str) == Some("output_text"))
                .filter_map(|p| p.text.as_ref().map(String::as_str))
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// The error of a `response.failed` (`response.error`) or `error` event.
fn failure(error: ErrorObject) -> Error {
    let plan = error.plan_type.as_ref().cloned();
    if error.is("usage_not_included") {
        return Error::PlanExcludesCodex { plan };
    }
    if error.is("usage_limit_reached") {
        return Error::UsageLimit {
            resets_at: error.resets(),
            plan,
        };
    }
    let code = error.code().map(str::to_owned);
    let message = one_line(
        &error
            .message
            .into_inner()
            .unwrap_or_else(|| "the backend reported a failure".into()),
    );
    let message = match code.as_deref() {
        Some("cyber_policy") => format!(
            "OpenAI's cyber-security policy stopped this request ({message}); rephrase it, or see OpenAI's usage policies"
        ),
        Some("context_length_exceeded") => format!(
            "{message}; send less (fewer files or a shorter prompt), or start a new conversation"
        ),
        Some("insufficient_quota") => {
            format!("{message}; the account has no quota left for this model")
        }
        _ => message,
    };
    Error::ResponseFailed { code, message }
}

/// A message from a server, on one line and not too long.
pub(crate) fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 400 {
        format!("{}…", flat.chars().take(400).collect::<String>())
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn sse(events: &[Value]) -> String {
        events
            .iter()
            .map(|e| {
                format!(
                    "event: {}\ndata: {}\n\n",
                    e["type"].as_str().unwrap_or(""),
                    e
                )
            })
            .collect()
    }

    /// The text cut into chunks of `n` bytes, as a network would.
    fn chunks(
        text: &str,
        n: usize,
    ) -> impl Stream<Item = std::result::Result<Vec<u8>, std::io::Error>> {
        let bytes = text.as_bytes().to_vec();
        let parts: Vec<_> = bytes.chunks(n).map(|c| Ok(c.to_vec())).collect();
        futures::stream::iter(parts)
    }

    fn happy() -> String {
        sse(&[
            json!({"type": "response.created", "response": {"id": "resp_1"}}),
            json!({"type": "response.output_item.added", "item": {"type": "message"}}),
            json!({"type": "response.output_text.delta", "delta": "Hel"}),
            json!({"type": "response.output_text.delta", "delta": "lo, "}),
            json!({"type": "response.output_text.delta", "delta": "wörld ✓"}),
            json!({"type": "response.output_item.done", "item": {"type": "message", "content": [{"type": "output_text", "text": "Hello, wörld ✓"}]}}),
            json!({"type": "response.completed", "response": {"id": "resp_1", "usage": {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}}}),
        ])
    }

    async fn read(text: &str, n: usize) -> (Result<StreamOutcome>, Vec<String>) {
        let mut deltas = Vec::new();
        let r = read_answer(chunks(text, n), Duration::from_secs(5), &mut |d: &str| {
            deltas.push(d.to_owned())
        })
        .await;
        (r, deltas)
    }

    #[tokio::test]
    async fn deltas_arrive_in_order_and_the_answer_is_whole_whatever_the_chunking() {
        for n in [1, 2, 3, 7, 64, 100_000] {
            let (r, deltas) = read(&happy(), n).await;
            let out = r.unwrap();
            assert_eq!(out.text, "Hello, wörld ✓", "chunk size {n}");
            assert_eq!(deltas, vec!["Hel", "lo, ", "wörld ✓"]);
            assert_eq!(out.response_id.as_deref(), Some("resp_1"));
            assert_eq!(
                out.usage,
                Some(TokenUsage {
                    input_tokens: 7,
                    output_tokens: 3,
                    total_tokens: 10
                })
            );
            assert_eq!(out.incomplete, None);
        }
    }

    #[tokio::test]
    async fn crlf_line_ends_and_comments_are_understood() {
        let text = happy().replace('\n', "\r\n");
        let text = format!(": keep-alive\r\n\r\n{text}");
        let (r, _) = read(&text, 5).await;
        assert_eq!(r.unwrap().text, "Hello, wörld ✓");
    }

    #[tokio::test]
    async fn a_stream_that_ends_before_completion_is_an_error() {
        let full = happy();
        let cut = &full[..full.find("response.completed").unwrap() - 20];
        let (r, deltas) = read(cut, 16).await;
        let e = r.unwrap_err();
        assert!(matches!(e, Error::StreamEnded { .. }), "{e}");
        assert!(e.is_transient());
        assert_eq!(deltas.len(), 3, "what came is still handed on");
    }

    #[tokio::test]
    async fn a_broken_connection_is_an_error_that_says_so() {
        let first: Vec<std::result::Result<Vec<u8>, std::io::Error>> = vec![
            Ok(sse(&[json!({"type": "response.output_text.delta", "delta": "x"})]).into_bytes()),
            Err(std::io::Error::other("connection reset")),
        ];
        let r = read_answer(
            futures::stream::iter(first),
            Duration::from_secs(5),
            &mut |_| {},
        )
        .await;
        let e = r.unwrap_err();
        assert!(e.to_string().contains("connection reset"), "{e}");
    }

    #[tokio::test]
    async fn a_silent_stream_hits_the_idle_limit() {
        let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(
            sse(&[json!({"type": "response.output_text.delta", "delta": "x"})]).into_bytes(),
        )])
        .chain(futures::stream::pending());
        let r = read_answer(stream, Duration::from_millis(50), &mut |_| {}).await;
        let e = r.unwrap_err();
        assert!(matches!(e, Error::Network { .. }), "{e}");
        assert!(e.to_string().contains("silent"), "{e}");
    }

    #[tokio::test]
    async fn response_failed_carries_the_backend_message() {
        let text = sse(&[
            json!({"type": "response.created"}),
            json!({"type": "response.failed", "response": {"error": {"code": "context_length_exceeded", "message": "Your input exceeds\nthe context window."}}}),
        ]);
        let (r, _) = read(&text, 9).await;
        let e = r.unwrap_err();
        assert_eq!(
            e.to_string(),
            "Codex could not answer: Your input exceeds the context window.; send less (fewer files or a shorter prompt), or start a new conversation (context_length_exceeded)"
        );
        assert!(!e.is_transient());

        let text = sse(&[
            json!({"type": "response.failed", "response": {"error": {"code": "server_is_overloaded", "message": "busy"}}}),
        ]);
        assert!(read(&text, 9).await.0.unwrap_err().is_transient());
    }

    #[tokio::test]
    async fn only_the_final_answer_phase_is_the_answer_and_commentary_is_kept_apart() {
        let text = sse(&[
            json!({"type": "response.created", "response": {"id": "r"}}),
            json!({"type": "response.output_item.added", "item": {"type": "message", "id": "m1", "phase": "commentary"}}),
            json!({"type": "response.output_text.delta", "item_id": "m1", "delta": "Let me look. "}),
            json!({"type": "response.output_item.done", "item": {"type": "message", "id": "m1", "phase": "commentary", "content": [{"type": "output_text", "text": "Let me look. "}]}}),
            json!({"type": "response.output_item.added", "item": {"type": "message", "id": "m2", "phase": "final_answer"}}),
            json!({"type": "response.output_text.delta", "item_id": "m2", "delta": "It is 4."}),
            json!({"type": "response.output_item.done", "item": {"type": "message", "id": "m2", "phase": "final_answer", "content": [{"type": "output_text", "text": "It is 4."}]}}),
            json!({"type": "codex.rate_limits", "rate_limits": {"primary": {"used_percent": 30.0, "window_minutes": 300, "resets_at": 1900000000}}, "plan_type": "plus"}),
            json!({"type": "response.completed", "response": {"id": "r"}}),
        ]);
        for n in [3, 1000] {
            let (r, deltas) = read(&text, n).await;
            let out = r.unwrap();
            assert_eq!(out.text, "It is 4.");
            assert_eq!(out.commentary, "Let me look. ");
            assert_eq!(deltas, vec!["It is 4."]);
            let limits = out.rate_limits.unwrap();
            assert_eq!(limits.primary.unwrap().used_percent, 30.0);
        }
        // Commentary with no deltas is still kept apart.
        let text = sse(&[
            json!({"type": "response.output_item.done", "item": {"type": "message", "phase": "commentary", "content": [{"type": "output_text", "text": "thinking aloud"}]}}),
            json!({"type": "response.output_item.done", "item": {"type": "message", "phase": "final_answer", "content": [{"type": "output_text", "text": "done"}]}}),
            json!({"type": "response.completed", "response": {"id": "r"}}),
        ]);
        let out = read(&text, 50).await.0.unwrap();
        assert_eq!(
            (out.text.as_str(), out.commentary.as_str()),
            ("done", "thinking aloud")
        );
    }

    #[tokio::test]
    async fn plan_and_policy_failures_are_named() {
        let text = sse(&[
            json!({"type": "response.failed", "response": {"error": {"code": "usage_not_included", "message": "no", "plan_type": "free"}}}),
        ]);
        let e = read(&text, 50).await.0.unwrap_err();
        assert!(matches!(e, Error::PlanExcludesCodex { .. }), "{e}");
        assert!(e.to_string().contains("free plan"), "{e}");
        assert!(!e.is_transient());
        let text = sse(&[
            json!({"type": "response.failed", "response": {"error": {"code": "cyber_policy", "message": "flagged"}}}),
        ]);
        let e = read(&text, 50).await.0.unwrap_err().to_string();
        assert!(
            e.contains("cyber-security policy") && e.contains("cyber_policy"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_usage_limit_inside_the_stream_names_the_reset_time() {
        let text = sse(&[
            json!({"type": "response.failed", "response": {"error": {"code": "usage_limit_reached", "message": "limit", "resets_at": 1900000000, "plan_type": "plus"}}}),
        ]);
        match read(&text, 50).await.0.unwrap_err() {
            Error::UsageLimit { resets_at, plan } => {
                assert_eq!(resets_at.unwrap().timestamp(), 1_900_000_000);
                assert_eq!(plan.as_deref(), Some("plus"));
            }
            other => panic!("{other}"),
        }
    }

    #[tokio::test]
    async fn an_error_event_is_a_failure() {
        let text = "data: {\"type\":\"error\",\"code\":\"invalid_prompt\",\"message\":\"no\"}\n\n";
        let e = read(text, 50).await.0.unwrap_err();
        assert_eq!(e.to_string(), "Codex could not answer: no (invalid_prompt)");
    }

    #[tokio::test]
    async fn incomplete_returns_what_came_with_the_reason() {
        let text = sse(&[
            json!({"type": "response.output_text.delta", "delta": "part"}),
            json!({"type": "response.incomplete", "response": {"id": "r", "incomplete_details": {"reason": "max_output_tokens"}}}),
        ]);
        let out = read(&text, 50).await.0.unwrap();
        assert_eq!(out.text, "part");
        assert_eq!(out.incomplete.as_deref(), Some("max_output_tokens"));
    }

    #[tokio::test]
    async fn an_answer_without_deltas_is_taken_from_the_finished_item() {
        let text = sse(&[
            json!({"type": "response.output_item.done", "item": {"type": "reasoning", "summary": []}}),
            json!({"type": "response.output_item.done", "item": {"type": "message", "content": [{"type": "output_text", "text": "whole"}]}}),
            json!({"type": "response.completed", "response": {"id": "r"}}),
        ]);
        let (r, deltas) = read(&text, 50).await;
        assert_eq!(r.unwrap().text, "whole");
        assert_eq!(deltas, vec!["whole"]);
    }

    #[tokio::test]
    async fn a_stream_that_starts_with_byte_order_marks_is_read_whatever_the_chunking() {
        // Found by the `sse` fuzz target: eventsource-stream panicked on a leading BOM.
        for boms in 1..=3 {
            let text = format!("{}{}", "\u{feff}".repeat(boms), happy());
            for n in [1, 2, 3, 4, 1000] {
                let (r, _) = read(&text, n).await;
                assert_eq!(
                    r.unwrap().text,
                    "Hello, wörld ✓",
                    "{boms} BOMs, chunks of {n}"
                );
            }
        }
        for text in ["\u{feff}", "\u{feff}\u{feff}", "\u{feff}data: x\n\n"] {
            let (r, _) = read(text, 1).await;
            assert!(matches!(r, Err(Error::StreamEnded { .. })), "{text:?}");
        }
        let (r, _) = read_chunks(vec![b"\xEF\xBB".to_vec()]).await;
        assert!(matches!(r, Err(Error::StreamEnded { .. })));
    }

    #[tokio::test]
    async fn a_reset_time_written_as_a_float_is_read_like_the_backend_error_body() {
        let text = sse(&[
            json!({"type": "response.failed", "response": {"error": {"type": "usage_limit_reached", "resets_at": 1900000000.5}}}),
        ]);
        match read(&text, 50).await.0.unwrap_err() {
            Error::UsageLimit { resets_at, .. } => {
                assert_eq!(resets_at.unwrap().timestamp(), 1_900_000_000);
            }
            other => panic!("{other}"),
        }
    }

    #[tokio::test]
    async fn a_field_of_another_shape_costs_only_that_field() {
        let text = sse(&[
            json!({"type": "response.output_item.added", "item": {"id": "c", "type": "message", "phase": "commentary", "content": 7}}),
            json!({"type": "response.output_text.delta", "item_id": "c", "delta": "aside"}),
            json!({"type": "response.output_text.delta", "item_id": 5, "delta": "an"}),
            json!({"type": "response.output_text.delta", "delta": ["x"]}),
            json!({"type": "response.output_text.delta", "delta": "swer"}),
            json!({"type": "codex.rate_limits", "rate_limits": {"primary": {"used_percent": 40.0, "window_minutes": "300"}, "secondary": "gone"}, "credits": 3}),
            json!({"type": "response.completed", "response": {"id": "r", "usage": "n/a"}}),
        ]);
        let out = read(&text, 7).await.0.unwrap();
        assert_eq!(out.text, "answer");
        assert_eq!(out.commentary, "aside");
        assert_eq!(out.response_id.as_deref(), Some("r"));
        assert_eq!(out.usage, None);
        let limits = out.rate_limits.unwrap();
        let primary = limits.primary.unwrap();
        assert_eq!((primary.used_percent, primary.window_minutes), (40.0, None));
        assert_eq!(limits.secondary, None);
    }

    #[tokio::test]
    async fn junk_and_unknown_events_are_skipped() {
        let mut text = String::from("data: not json\n\ndata: [DONE]\n\n");
        text.push_str(&sse(&[
            json!({"type": "codex.rate_limits", "rate_limits": {}}),
            json!({"type": "response.reasoning_summary_text.delta", "delta": "thinking"}),
            json!({"type": "response.output_text.delta", "delta": "ok"}),
            json!({"type": "response.completed", "response": {"id": "r"}}),
        ]));
        let out = read(&text, 4).await.0.unwrap();
        assert_eq!(out.text, "ok");
        assert_eq!(out.usage, None);
    }
}
