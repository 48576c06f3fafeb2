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
