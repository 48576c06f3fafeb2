//! Reading an answer from the Server-Sent Events of `POST /responses` (PROTOCOL.md §6): the
//! `final_answer` text handed on as it comes (a message item's `commentary` is kept apart), the
//! end recognised (`response.completed`, `.incomplete`, `.failed`), `codex.rate_limits` read, a
//! stream that stops early or falls silent is an error.

use std::collections::HashMap;
use std::time::Duration;

use eventsource_stream::{Event, EventStreamError, Eventsource};
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
    /// Every finished output item as it came (`response.output_item.done`): messages, reasoning
    /// (with its `encrypted_content`) and tool calls, to send back in the next request of a
    /// tool loop.
    pub items: Vec<Value>,
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
    let mut answer = Answer::default();
    loop {
        let event = next_event(&mut events, idle).await?;
        let data = event.data.trim();
        if data.is_empty() || data == "[DONE]" {
            continue;
        }
        let Some((event, item)) = parse_event(data, &event.event) else {
            tracing::debug!("skipping an event that is not a JSON object");
            continue;
        };
        if let Some(item) = item.filter(Value::is_object) {
            answer.out.items.push(item);
        }
        if let Some(end) = answer.take(event, on_delta) {
            return end;
        }
    }
}

/// The next event of the stream; an error when it falls silent for `idle`, ends, breaks or is
/// unreadable.
async fn next_event<S, E>(events: &mut S, idle: Duration) -> Result<Event>
where
    S: Stream<Item = std::result::Result<Event, EventStreamError<E>>> + Unpin,
    E: std::fmt::Display,
{
    let Ok(next) = tokio::time::timeout(idle, events.next()).await else {
        return Err(Error::Network {
            what: "the Codex backend".into(),
            detail: format!(
                "the answer stream was silent for {} s",
                idle.as_secs().max(1)
            ),
        });
    };
    match next {
        None => Err(Error::StreamEnded {
            detail: "the connection closed without response.completed".into(),
        }),
        Some(Err(EventStreamError::Transport(e))) => Err(Error::StreamEnded {
            detail: format!("the connection broke: {e}"),
        }),
        Some(Err(e)) => Err(Error::StreamEnded {
            detail: format!("unreadable event stream: {e}"),
        }),
        Some(Ok(ev)) => Ok(ev),
    }
}

/// An answer as its events come.
#[derive(Default)]
struct Answer {
    out: StreamOutcome,
    /// The phase of each message item, by id, from `response.output_item.added`.
    phases: HashMap<String, Phase>,
    /// Text of finished answer items, used when the backend sent no deltas for them.
    item_text: String,
}

impl Answer {
    /// Take one event; `Some` when the answer ended with it (well or not).
    fn take(
        &mut self,
        event: StreamEvent,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Option<Result<StreamOutcome>> {
        match event {
            StreamEvent::ItemAdded { item } => {
                if let Some(item) = item.into_inner()
                    && let Some(id) = item.id.as_ref()
                {
                    self.phases.insert(id.clone(), Phase::of(&item));
                }
            }
            StreamEvent::TextDelta { item_id, delta } => {
                self.text_delta(item_id.as_ref(), delta.into_inner(), on_delta);
            }
            StreamEvent::ItemDone { item } => {
                if let Some(item) = item.into_inner() {
                    self.item_done(&item);
                }
            }
            StreamEvent::RateLimits(event) => {
                if let Some(l) = RateLimits::from_event(event) {
                    self.out.rate_limits = Some(l);
                }
            }
            StreamEvent::Completed { response } => {
                return Some(Ok(self.finish(response, None, on_delta)));
            }
            StreamEvent::Incomplete { response } => {
                let reason = response
                    .as_ref()
                    .and_then(|r| r.incomplete_details.as_ref())
                    .and_then(|d| d.reason.as_ref())
                    .cloned()
                    .unwrap_or_else(|| "unknown reason".to_owned());
                return Some(Ok(self.finish(response, Some(reason), on_delta)));
            }
            StreamEvent::Failed { response } => {
                let error = response.into_inner().and_then(|r| r.error.into_inner());
                return Some(Err(failure(error.unwrap_or_default())));
            }
            StreamEvent::Error { error, top } => {
                return Some(Err(failure(error.into_inner().unwrap_or(top))));
            }
            StreamEvent::Other => {}
        }
        None
    }

    /// A piece of text: the answer's (handed on) or commentary, by its item's phase.
    fn text_delta(
        &mut self,
        item_id: Option<&String>,
        delta: Option<String>,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) {
        let phase = item_id
            .and_then(|id| self.phases.get(id))
            .copied()
            .unwrap_or(Phase::Answer);
        if let Some(d) = delta.filter(|d| !d.is_empty()) {
            match phase {
                Phase::Answer => {
                    self.out.text.push_str(&d);
                    on_delta(&d);
                }
                Phase::Commentary => self.out.commentary.push_str(&d),
            }
        }
    }

    /// A finished item: a message's text is kept for when no deltas came.
    fn item_done(&mut self, item: &Item) {
        if item.kind.as_ref().map(String::as_str) != Some("message") {
            return;
        }
        let known = item.id.as_ref().and_then(|id| self.phases.get(id)).copied();
        match known.unwrap_or_else(|| Phase::of(item)) {
            Phase::Answer => self.item_text.push_str(&message_text(item)),
            // Commentary that came without deltas.
            Phase::Commentary if known.is_none() => {
                self.out.commentary.push_str(&message_text(item))
            }
            Phase::Commentary => {}
        }
    }

    /// The outcome of a finished answer: its id and token counts, and the text of the finished
    /// answer items when no deltas came.
    fn finish(
        &mut self,
        response: Lenient<Response>,
        incomplete: Option<String>,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> StreamOutcome {
        let mut out = std::mem::take(&mut self.out);
        let item_text = std::mem::take(&mut self.item_text);
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

/// The event in `data`, its type from the data's `type`, else from the SSE event name, and for
/// `response.output_item.done` the item as it came. `None` for data that is not a JSON object.
fn parse_event(data: &str, name: &str) -> Option<(StreamEvent, Option<Value>)> {
    let mut v: Value = serde_json::from_str(data).ok()?;
    let object = v.as_object_mut()?;
    if !object.get("type").is_some_and(Value::is_string) {
        object.insert("type".into(), Value::String(name.to_owned()));
    }
    let item = (object.get("type").and_then(Value::as_str) == Some("response.output_item.done"))
        .then(|| object.get("item").cloned())
        .flatten();
    // An event whose known type has fields of another shape than ours is read leniently; one
    // that still does not fit is nothing the answer needs.
    Some((
        StreamEvent::deserialize(v).unwrap_or(StreamEvent::Other),
        item,
    ))
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
mod tests;
