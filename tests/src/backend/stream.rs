//! What a model call answers: its SSE events (with the injected stream faults) and the
//! rate-limit headers.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::{Faults, Shared};

pub(super) fn rate_limit_headers(h: &mut HeaderMap) {
    let now = chrono::Utc::now().timestamp();
    let pairs = [
        ("x-codex-primary-used-percent", "12.5".to_string()),
        ("x-codex-primary-window-minutes", "300".to_string()),
        ("x-codex-primary-reset-at", (now + 3600).to_string()),
        ("x-codex-secondary-used-percent", "40".to_string()),
        ("x-codex-secondary-window-minutes", "10080".to_string()),
        ("x-codex-secondary-reset-at", (now + 3 * 86400).to_string()),
        ("x-codex-credits-has-credits", "false".to_string()),
        ("x-codex-credits-unlimited", "false".to_string()),
        ("x-codex-credits-balance", "0".to_string()),
    ];
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
}

fn sse(event: &Value) -> Bytes {
    Bytes::from(format!(
        "event: {}\ndata: {}\n\n",
        event["type"].as_str().unwrap_or("message"),
        event
    ))
}

pub(super) fn stream_answer(
    answer: String,
    model: String,
    faults: Faults,
    shared: Arc<Shared>,
) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    let abandoned = move || shared.lock().stats.responses_abandoned += 1;
    tokio::spawn(async move {
        let id = format!("resp_{}", uuid::Uuid::new_v4().simple());
        let send = |v: Value| {
            let tx = tx.clone();
            async move { tx.send(Ok(sse(&v))).await.is_ok() }
        };
        if !send(json!({"type": "response.created", "response": {"id": id, "model": model, "status": "in_progress"}}))
            .await
        {
            return;
        }
        // What the model says on the way: a `commentary` item, never part of the answer.
        let note_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let note = "Reading the question first.";
        send(json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"type": "message", "id": note_id, "role": "assistant", "status": "in_progress", "phase": "commentary", "content": []}}))
        .await;
        send(
            json!({"type": "response.output_text.delta", "item_id": note_id, "output_index": 0,
            "content_index": 0, "delta": note}),
        )
        .await;
        send(json!({"type": "response.output_item.done", "output_index": 0,
            "item": {"type": "message", "id": note_id, "role": "assistant", "status": "completed", "phase": "commentary",
                "content": [{"type": "output_text", "text": note, "annotations": []}]}}))
        .await;
        let item_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        send(json!({"type": "response.output_item.added", "output_index": 1,
            "item": {"type": "message", "id": item_id, "role": "assistant", "status": "in_progress", "phase": "final_answer", "content": []}}))
        .await;
        if faults.hang {
            keep_alive_forever(&tx).await;
            abandoned();
            return;
        }
        let chars: Vec<char> = answer.chars().collect();
        for (i, chunk) in chars.chunks(6).enumerate() {
            if faults.sse_drop_after.is_some_and(|n| i >= n) {
                // Cut the connection mid-answer: no completion event.
                let _ = tx
                    .send(Err(std::io::Error::other("injected stream drop")))
                    .await;
                return;
            }
            if faults.delta_delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(faults.delta_delay_ms)).await;
            }
            let delta: String = chunk.iter().collect();
            if !send(
                json!({"type": "response.output_text.delta", "item_id": item_id, "output_index": 0,
                "content_index": 0, "delta": delta}),
            )
            .await
            {
                abandoned(); // the client went away
                return;
            }
        }
        finish(&send, &id, &model, &item_id, &answer, &faults).await;
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Body::from_stream(stream)
}

/// The end of an answer: `response.failed` when the faults say so, else the answer's item done,
/// the rate limits and `response.completed` with the usage.
async fn finish<F, Fut>(
    send: &F,
    id: &str,
    model: &str,
    item_id: &str,
    answer: &str,
    faults: &Faults,
) where
    F: Fn(Value) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    if let Some(code) = &faults.sse_failed {
        let message = match code.as_str() {
            "rate_limit_exceeded" => "Rate limit reached. Please try again in 20s.".to_string(),
            "context_length_exceeded" => {
                "Your input exceeds the context window of this model.".to_string()
            }
            other => format!("The response failed ({other})."),
        };
        send(
            json!({"type": "response.failed", "response": {"id": id, "status": "failed",
                "error": {"code": code, "message": message}}}),
        )
        .await;
        return;
    }
    send(
            json!({"type": "response.output_item.done", "output_index": 1,
            "item": {"type": "message", "id": item_id, "role": "assistant", "status": "completed", "phase": "final_answer",
                "content": [{"type": "output_text", "text": answer, "annotations": []}]}}),
        )
        .await;
    let now = chrono::Utc::now().timestamp();
    send(json!({"type": "codex.rate_limits", "plan_type": "plus",
            "rate_limits": {"primary": {"used_percent": faults.primary_used_percent.unwrap_or(12.5), "window_minutes": 300, "resets_at": now + 3600},
                "secondary": {"used_percent": 40.0, "window_minutes": 10080, "resets_at": now + 3 * 86400}},
            "credits": {"has_credits": false, "unlimited": false, "balance": "0"}}))
        .await;
    let input_tokens = 17 + answer.len() as u64 / 4;
    let output_tokens = (answer.chars().count() as u64).div_ceil(4);
    send(json!({"type": "response.completed", "response": {"id": id, "model": model, "status": "completed",
            "usage": {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": input_tokens + output_tokens}}}))
        .await;
}

/// SSE keep-alive comments every 100 ms, until the client closes the stream.
async fn keep_alive_forever(tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>) {
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if tx
            .send(Ok(Bytes::from_static(b": keep-alive\n\n")))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// An answer that calls a tool: a `function_call` (`arguments`: an object, sent as JSON text)
/// or, when `function` is false, a `custom_tool_call` (`input`: text), streamed as the backend
/// does (PROTOCOL.md §9), then `response.completed`.
pub(super) fn stream_call(call: &Value, function: bool, model: String) -> Body {
    let id = format!("resp_{}", uuid::Uuid::new_v4().simple());
    let item_id = format!("fc_{}", uuid::Uuid::new_v4().simple());
    let call_id = format!("call_{}", uuid::Uuid::new_v4().simple());
    let name = call["name"].as_str().unwrap_or("").to_owned();
    let (kind, field, text, delta_event) = if function {
        let args = call["arguments"].to_string();
        (
            "function_call",
            "arguments",
            args,
            "response.function_call_arguments.delta",
        )
    } else {
        let input = call["input"].as_str().unwrap_or("").to_owned();
        (
            "custom_tool_call",
            "input",
            input,
            "response.custom_tool_call_input.delta",
        )
    };
    let mut added = json!({"type": kind, "id": item_id, "call_id": call_id, "name": name, "status": "in_progress"});
    added[field] = json!("");
    let mut done = added.clone();
    done[field] = json!(text);
    done["status"] = json!("completed");
    let events = [
        json!({"type": "response.created", "response": {"id": id, "model": model, "status": "in_progress"}}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": added}),
        json!({"type": delta_event, "item_id": item_id, "output_index": 0, "delta": text}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": done}),
        json!({"type": "response.completed", "response": {"id": id, "model": model, "status": "completed",
            "usage": {"input_tokens": 40, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 12, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 52}}}),
    ];
    let body: Vec<Result<Bytes, std::io::Error>> = events.iter().map(|e| Ok(sse(e))).collect();
    Body::from_stream(futures::stream::iter(body))
}
