//! What a Codex request carries (the body of PROTOCOL.md §6) and what its answer is.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::codex::ratelimits::RateLimits;

/// The `instructions` sent when the caller gives no system prompt (or when the backend refused theirs).
pub const DEFAULT_INSTRUCTIONS: &str = "You are Codex, a coding assistant consulted by another AI \
assistant (Claude Code) on behalf of a developer. Answer the question you are asked directly and \
precisely. You cannot see the developer's files or run commands: work only from what the message \
gives you, and say so when something you would need is missing. Prefer concrete code, exact \
commands and short explanations.";

/// How hard the model thinks before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningEffort {
    None,
    Minimal,
    Low,
    #[default]
    Medium,
    High,
    Xhigh,
}

impl ReasoningEffort {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Minimal => "minimal",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Xhigh => "xhigh",
        }
    }

    /// The effort named `name` (case-insensitive), if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "minimal" => Some(Self::Minimal),
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            "xhigh" => Some(Self::Xhigh),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub role: Role,
    pub text: String,
}

impl Turn {
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            text: text.into(),
        }
    }
    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            text: text.into(),
        }
    }

    fn to_input(&self) -> Value {
        let (role, kind) = match self.role {
            Role::User => ("user", "input_text"),
            Role::Assistant => ("assistant", "output_text"),
        };
        json!({
            "type": "message",
            "role": role,
            "content": [{ "type": kind, "text": self.text }],
        })
    }
}

/// One request to the model. The backend keeps nothing (`store: false`), so `input` holds the
/// whole conversation: the earlier turns, then the new user message.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseRequest {
    pub model: String,
    /// The caller's system prompt; `None` sends [`DEFAULT_INSTRUCTIONS`].
    pub system_prompt: Option<String>,
    pub input: Vec<Turn>,
    /// `None`: `medium`.
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Sent only when given.
    pub temperature: Option<f64>,
    /// One per conversation: the `session_id` header and the `prompt_cache_key`.
    pub session_id: String,
}

impl ResponseRequest {
    /// A request for `model` with a new session id and everything else at its default.
    pub fn new(model: impl Into<String>, input: Vec<Turn>) -> Self {
        Self {
            model: model.into(),
            system_prompt: None,
            input,
            reasoning_effort: None,
            temperature: None,
            session_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The JSON body. With `system_as_developer`, the system prompt goes in a leading `developer`
    /// message and `instructions` holds the default (for a backend that refuses other instructions).
    pub fn body(&self, system_as_developer: bool) -> Value {
        let system = self
            .system_prompt
            .as_deref()
            .filter(|s| !s.trim().is_empty());
        let (instructions, developer) = match (system, system_as_developer) {
            (Some(s), false) => (s, None),
            (Some(s), true) => (DEFAULT_INSTRUCTIONS, Some(s)),
            (None, _) => (DEFAULT_INSTRUCTIONS, None),
        };
        let mut input = Vec::with_capacity(self.input.len() + 1);
        if let Some(d) = developer {
            input.push(json!({
                "type": "message",
                "role": "developer",
                "content": [{ "type": "input_text", "text": d }],
            }));
        }
        input.extend(self.input.iter().map(Turn::to_input));
        let mut body = json!({
            "model": self.model,
            "instructions": instructions,
            "input": input,
            "tools": [],
            "tool_choice": "auto",
            "parallel_tool_calls": false,
            "reasoning": {
                "effort": self.reasoning_effort.unwrap_or_default().as_str(),
                "summary": "auto",
            },
            "store": false,
            "stream": true,
            "include": ["reasoning.encrypted_content"],
            "prompt_cache_key": self.session_id,
        });
        if let (Some(t), Some(obj)) = (self.temperature, body.as_object_mut()) {
            obj.insert("temperature".into(), json!(t));
        }
        body
    }
}

/// Token counts of one answer (`response.completed` → `response.usage`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// A finished answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub text: String,
    pub model: String,
    pub response_id: Option<String>,
    pub usage: Option<TokenUsage>,
    /// Set when the backend stopped early (`response.incomplete`): the reason, e.g. `max_output_tokens`.
    pub incomplete: Option<String>,
    /// The rate-limit windows the backend reported with this answer.
    pub rate_limits: Option<RateLimits>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn request() -> ResponseRequest {
        let mut r = ResponseRequest::new(
            "gpt-5.1-codex",
            vec![
                Turn::user("first"),
                Turn::assistant("answer one"),
                Turn::user("second"),
            ],
        );
        r.session_id = "sess-1".into();
        r
    }

    #[test]
    fn the_body_has_every_field_the_backend_requires() {
        let b = request().body(false);
        assert_eq!(b["model"], "gpt-5.1-codex");
        assert_eq!(b["store"], false);
        assert_eq!(b["stream"], true);
        assert_eq!(b["instructions"], DEFAULT_INSTRUCTIONS);
        assert_eq!(b["tools"], json!([]));
        assert_eq!(b["tool_choice"], "auto");
        assert_eq!(b["parallel_tool_calls"], false);
        assert_eq!(
            b["reasoning"],
            json!({"effort": "medium", "summary": "auto"})
        );
        assert_eq!(b["include"], json!(["reasoning.encrypted_content"]));
        assert_eq!(b["prompt_cache_key"], "sess-1");
        assert!(
            b.get("temperature").is_none(),
            "temperature only when given"
        );
        assert!(b.get("previous_response_id").is_none());
    }

    #[test]
    fn earlier_turns_are_re_sent_in_order_with_their_roles() {
        let b = request().body(false);
        assert_eq!(
            b["input"],
            json!([
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "first"}]},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "answer one"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "second"}]},
            ])
        );
    }

    #[test]
    fn temperature_and_effort_are_sent_when_given() {
        let mut r = request();
        r.temperature = Some(0.25);
        r.reasoning_effort = Some(ReasoningEffort::High);
        let b = r.body(false);
        assert_eq!(b["temperature"], 0.25);
        assert_eq!(b["reasoning"]["effort"], "high");
    }

    #[test]
    fn a_system_prompt_goes_in_instructions_or_in_a_developer_message() {
        let mut r = request();
        r.system_prompt = Some("Be terse.".into());
        let b = r.body(false);
        assert_eq!(b["instructions"], "Be terse.");
        assert_eq!(b["input"].as_array().unwrap().len(), 3);

        let b = r.body(true);
        assert_eq!(b["instructions"], DEFAULT_INSTRUCTIONS);
        let input = b["input"].as_array().unwrap();
        assert_eq!(input.len(), 4);
        assert_eq!(input[0]["role"], "developer");
        assert_eq!(input[0]["content"][0]["text"], "Be terse.");
    }

    #[test]
    fn a_blank_system_prompt_counts_as_none() {
        let mut r = request();
        r.system_prompt = Some("  ".into());
        assert_eq!(r.body(false)["instructions"], DEFAULT_INSTRUCTIONS);
    }

    #[test]
    fn efforts_parse_case_insensitively() {
        assert_eq!(ReasoningEffort::parse("HIGH"), Some(ReasoningEffort::High));
        assert_eq!(
            ReasoningEffort::parse("xhigh"),
            Some(ReasoningEffort::Xhigh)
        );
        assert_eq!(ReasoningEffort::parse("max"), None);
        for e in [
            ReasoningEffort::None,
            ReasoningEffort::Minimal,
            ReasoningEffort::Low,
            ReasoningEffort::Medium,
            ReasoningEffort::High,
            ReasoningEffort::Xhigh,
        ] {
            assert_eq!(ReasoningEffort::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), json!(e.as_str()));
        }
    }
}
