//! What the Codex backend writes, as types (PROTOCOL.md §6): the events of an answer stream, the
//! rate-limit windows of the `codex.rate_limits` event and of the usage answer. Unknown fields are
//! ignored and a field of another shape is absent ([`Lenient`]), so one odd field never costs the
//! rest of an event.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;

use crate::lenient::Lenient;
use crate::model::TokenUsage;

/// One event of `POST /responses`, by its `type` (the SSE event name when the data has none).
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub(crate) enum StreamEvent {
    #[serde(rename = "response.output_item.added")]
    ItemAdded {
        #[serde(default)]
        item: Lenient<Item>,
    },
    #[serde(rename = "response.output_text.delta")]
    TextDelta {
        #[serde(default)]
        item_id: Lenient<String>,
        #[serde(default)]
        delta: Lenient<String>,
    },
    #[serde(rename = "response.output_item.done")]
    ItemDone {
        #[serde(default)]
        item: Lenient<Item>,
    },
    #[serde(rename = "codex.rate_limits")]
    RateLimits(RateLimitsEvent),
    #[serde(rename = "response.completed")]
    Completed {
        #[serde(default)]
        response: Lenient<Response>,
    },
    #[serde(rename = "response.incomplete")]
    Incomplete {
        #[serde(default)]
        response: Lenient<Response>,
    },
    #[serde(rename = "response.failed")]
    Failed {
        #[serde(default)]
        response: Lenient<FailedResponse>,
    },
    /// `{"type": "error", "error": {...}}`, or the failure's fields beside `type`.
    #[serde(rename = "error")]
    Error {
        #[serde(default)]
        error: Lenient<ErrorObject>,
        #[serde(flatten)]
        top: ErrorObject,
    },
    /// Reasoning summaries, content parts, keep-alives: nothing the answer needs.
    #[serde(other)]
    Other,
}

/// An output item (`message`, `reasoning`, ...).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Item {
    #[serde(default)]
    pub id: Lenient<String>,
    #[serde(default, rename = "type")]
    pub kind: Lenient<String>,
    /// `final_answer` or `commentary` (message items of today's backend).
    #[serde(default)]
    pub phase: Lenient<String>,
    #[serde(default)]
    pub content: Lenient<Vec<Lenient<ContentPart>>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ContentPart {
    #[serde(default, rename = "type")]
    pub kind: Lenient<String>,
    #[serde(default)]
    pub text: Lenient<String>,
}

/// The `response` of `response.completed` / `response.incomplete`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Response {
    #[serde(default)]
    pub id: Lenient<String>,
    #[serde(default)]
    pub usage: Lenient<TokenUsage>,
    #[serde(default)]
    pub incomplete_details: Lenient<IncompleteDetails>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct IncompleteDetails {
    #[serde(default)]
    pub reason: Lenient<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FailedResponse {
    #[serde(default)]
    pub error: Lenient<ErrorObject>,
}

/// The backend's error object, in an answer stream (`response.failed`, `error`) and in an HTTP
/// error body alike: `{"type", "code", "message", "plan_type", "resets_at" | "resets_in_seconds"}`.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct ErrorObject {
    #[serde(default)]
    pub code: Lenient<String>,
    #[serde(default, rename = "type")]
    pub kind: Lenient<String>,
    #[serde(default)]
    pub message: Lenient<String>,
    #[serde(default)]
    pub plan_type: Lenient<String>,
    /// Seconds since the epoch (servers write integers or floats).
    #[serde(default)]
    pub resets_at: Lenient<f64>,
    #[serde(default)]
    pub resets_in_seconds: Lenient<f64>,
}

impl ErrorObject {
    /// Its code, else its type.
    pub fn code(&self) -> Option<&str> {
        self.code
            .as_ref()
            .or(self.kind.as_ref())
            .map(String::as_str)
    }

    /// Whether its code or its type is `name`.
    pub fn is(&self, name: &str) -> bool {
        [&self.code, &self.kind]
            .iter()
            .any(|v| v.as_ref().map(String::as_str) == Some(name))
    }

    /// When a usage limit lifts. A number that is no time (NaN, out of range) gives `None`.
    pub fn resets(&self) -> Option<DateTime<Utc>> {
        // `as` saturates (NaN is 0); an out-of-range time is then refused by chrono.
        let at = self
            .resets_at
            .as_ref()
            .and_then(|t| Utc.timestamp_opt(*t as i64, 0).single());
        at.or_else(|| {
            let secs = chrono::Duration::try_seconds(*self.resets_in_seconds.as_ref()? as i64)?;
            Utc::now().checked_add_signed(secs)
        })
    }
}

/// An HTTP error body of the backend: `{"error": {...}}`, FastAPI's `{"detail"}`, or
/// `{"error": "<text>"}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub error: Lenient<ErrorField>,
    #[serde(default)]
    pub detail: Lenient<String>,
    #[serde(default)]
    pub message: Lenient<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ErrorField {
    Object(ErrorObject),
    Text(String),
}

/// `codex.rate_limits`: `{"rate_limits": {"primary", "secondary", "credits"?}, "credits"?}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RateLimitsEvent {
    #[serde(default)]
    pub rate_limits: Lenient<EventWindows>,
    #[serde(default)]
    pub credits: Lenient<WireCredits>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct EventWindows {
    #[serde(default)]
    pub primary: Lenient<WireWindow>,
    #[serde(default)]
    pub secondary: Lenient<WireWindow>,
    #[serde(default)]
    pub credits: Lenient<WireCredits>,
}

/// The answer of `GET {usage_url}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct UsageAnswer {
    #[serde(default)]
    pub plan_type: Lenient<String>,
    #[serde(default)]
    pub rate_limit: Lenient<UsageWindows>,
    #[serde(default)]
    pub credits: Lenient<WireCredits>,
    #[serde(default)]
    pub additional_rate_limits: Lenient<Vec<Lenient<WireNamed>>>,
    #[serde(default)]
    pub rate_limit_reached_type: Lenient<String>,
}

/// `{"primary_window", "secondary_window"}` of the usage answer.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct UsageWindows {
    #[serde(default)]
    pub primary_window: Lenient<WireWindow>,
    #[serde(default)]
    pub secondary_window: Lenient<WireWindow>,
}

/// A window as the usage endpoint or the `codex.rate_limits` event writes it.
#[derive(Debug, Deserialize)]
pub(crate) struct WireWindow {
    pub used_percent: f64,
    #[serde(default)]
    pub window_minutes: Lenient<u64>,
    #[serde(default)]
    pub limit_window_seconds: Lenient<u64>,
    #[serde(default, alias = "reset_at")]
    pub resets_at: Lenient<i64>,
    #[serde(default, alias = "resets_in_seconds")]
    pub reset_after_seconds: Lenient<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireCredits {
    #[serde(default)]
    pub has_credits: Lenient<bool>,
    #[serde(default)]
    pub unlimited: Lenient<bool>,
    #[serde(default)]
    pub balance: Lenient<Balance>,
}

/// A credit balance: servers write a string or a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Balance {
    Text(String),
    Number(serde_json::Number),
}

/// `additional_rate_limits: [{limit_name, rate_limit: {primary_window, secondary_window}}]`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireNamed {
    #[serde(default, alias = "name")]
    pub limit_name: Lenient<String>,
    #[serde(default)]
    pub metered_feature: Lenient<String>,
    #[serde(default)]
    pub rate_limit: Lenient<UsageWindows>,
}
