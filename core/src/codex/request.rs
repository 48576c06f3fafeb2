//! What a Codex request carries (the body of PROTOCOL.md §6, in its two shapes: standard and
//! Responses-Lite) and what its answer is.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::codex::models::Model;
use crate::model::{RateLimits, TokenUsage};

/// This project's framing, sent as a developer message after the model's own instructions.
pub const FRAMING: &str = "You are Codex, consulted by another AI assistant (Claude Code) on \
behalf of a developer. Answer the question you are asked directly and precisely. You have no \
tools in this conversation: you cannot see the developer's files or run commands, so work only \
from what the messages give you, and say so when something you would need is missing. Prefer \
concrete code, exact commands and short explanations.";

/// The header a Responses-Lite request carries (and a standard one must not).
pub const LITE_HEADER: &str = "x-openai-internal-codex-responses-lite";

/// Which body and headers the model is asked with, from its catalog entry's `use_responses_lite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// `tools` at the top level, `reasoning: {effort}`.
    Standard,
    /// No `tools` key, `reasoning: {effort, context}`, the lite header.
    Lite,
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
        match self.role {
            Role::User => message("user", "input_text", &self.text),
            Role::Assistant => {
                let mut m = message("assistant", "output_text", &self.text);
                if let Some(obj) = m.as_object_mut() {
                    obj.insert("phase".into(), json!("final_answer"));
                }
                m
            }
        }
    }
}

fn message(role: &str, kind: &str, text: &str) -> Value {
    json!({
        "type": "message",
        "role": role,
        "content": [{ "type": kind, "text": text }],
    })
}

/// A new conversation id: a UUIDv7, as the Codex CLI uses for `session-id`, `thread-id` and
/// `x-client-request-id`.
pub fn new_conversation_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// One request to the model. The backend keeps nothing (`store: false`), so `input` holds the
/// whole conversation: the earlier turns, then the new user message.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseRequest {
    pub model: String,
    pub shape: Shape,
    /// The model's own instructions (its catalog entry), sent first.
    pub model_instructions: Option<String>,
    /// The caller's system prompt, sent after this project's framing.
    pub system_prompt: Option<String>,
    pub input: Vec<Turn>,
    /// Already checked against the model; `None`: no `effort` is sent.
    pub reasoning_effort: Option<String>,
    /// `text.verbosity`, for models that support it.
    pub verbosity: Option<String>,
    /// `reasoning.summary`; `None`: not asked.
    pub reasoning_summary: Option<String>,
    /// One per conversation: the `session-id`, `thread-id` and `x-client-request-id` headers and
    /// the `prompt_cache_key`.
    pub conversation_id: String,
    /// Images (data URLs) sent with the last user message, as `input_image` (only for a model
    /// whose `input_modalities` has `image`). Not part of the turns: a follow-up does not send
    /// them again.
    pub images: Vec<String>,
    /// The tools offered (function or custom tool objects, PROTOCOL.md §9): at the top level
    /// for a standard model, in an `additional_tools` item for a lite one.
    pub tools: Vec<Value>,
    /// Items after the turns, as a tool loop goes: each answer's output items, then the outputs
    /// of the calls it made.
    pub items: Vec<Value>,
    /// This project's framing (the developer message after the model's instructions).
    pub framing: &'static str,
}

impl ResponseRequest {
    /// A request for `model` in the shape its catalog entry asks for, with its own instructions
    /// and default effort, in a new conversation.
    pub fn new(model: &Model, input: Vec<Turn>) -> Self {
        Self {
            model: model.slug.clone(),
            shape: if model.use_responses_lite {
                Shape::Lite
            } else {
                Shape::Standard
            },
            model_instructions: model.instructions().map(str::to_owned),
            system_prompt: None,
            input,
            reasoning_effort: model.effort(None).ok().flatten(),
            verbosity: match model.support_verbosity {
                Some(false) => None,
                _ => Some(
                    model
                        .default_verbosity
                        .clone()
                        .unwrap_or_else(|| "low".into()),
                ),
            },
            reasoning_summary: match model.default_reasoning_summary.as_deref() {
                None => Some("auto".into()),
                Some(s) if s.eq_ignore_ascii_case("none") || s.trim().is_empty() => None,
                Some(s) => Some(s.to_owned()),
            },
            conversation_id: new_conversation_id(),
            images: Vec::new(),
            tools: Vec::new(),
            items: Vec::new(),
            framing: FRAMING,
        }
    }

    /// The developer messages, in order: the model's instructions, the framing, the caller's.
    fn developer_messages(&self) -> Vec<Value> {
        let system = self
            .system_prompt
            .as_deref()
            .filter(|s| !s.trim().is_empty());
        self.model_instructions
            .as_deref()
            .into_iter()
            .chain(Some(self.framing))
            .chain(system)
            .map(|text| message("developer", "input_text", text))
            .collect()
    }

    /// The JSON body. No top-level `instructions`, `temperature`, `max_output_tokens` or
    /// `metadata`: the ChatGPT backend refuses them.
    pub fn body(&self) -> Value {
        let mut input = Vec::new();
        if self.shape == Shape::Lite && !self.tools.is_empty() {
            input.push(json!({
                "type": "additional_tools",
                "role": "developer",
                "tools": [{"type": "namespace", "name": "functions", "tools": self.tools}],
            }));
        }
        input.extend(self.developer_messages());
        input.extend(self.input.iter().map(Turn::to_input));
        if !self.images.is_empty()
            && let Some(content) = input
                .last_mut()
                .filter(|m| m["role"] == "user")
                .and_then(|m| m.get_mut("content"))
                .and_then(Value::as_array_mut)
        {
            content.extend(
                self.images
                    .iter()
                    .map(|url| json!({"type": "input_image", "image_url": url})),
            );
        }
        input.extend(self.items.iter().cloned());
        let mut reasoning = serde_json::Map::new();
        if let Some(e) = &self.reasoning_effort {
            reasoning.insert("effort".into(), json!(e));
        }
        if let Some(summary) = &self.reasoning_summary {
            reasoning.insert("summary".into(), json!(summary));
        }
        if self.shape == Shape::Lite {
            reasoning.insert("context".into(), json!("all_turns"));
        }
        let mut body = json!({
            "model": self.model,
            "input": input,
            "tool_choice": "auto",
            "parallel_tool_calls": false,
            "store": false,
            "stream": true,
            "include": ["reasoning.encrypted_content"],
            "prompt_cache_key": self.conversation_id,
            // What the Codex CLI tells the backend about the turn, less its telemetry.
            "client_metadata": {
                "session_id": self.conversation_id,
                "thread_id": self.conversation_id,
                "turn_id": new_conversation_id(),
            },
        });
        if let Some(obj) = body.as_object_mut() {
            if !reasoning.is_empty() {
                obj.insert("reasoning".into(), Value::Object(reasoning));
            }
            if self.shape == Shape::Standard {
                obj.insert("tools".into(), Value::Array(self.tools.clone()));
            }
            if let Some(v) = &self.verbosity {
                obj.insert("text".into(), json!({ "verbosity": v }));
            }
        }
        body
    }
}

/// A finished answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The `final_answer` text.
    pub text: String,
    /// What the model said on the way (`commentary` phase): not the answer.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub commentary: String,
    pub model: String,
    pub response_id: Option<String>,
    pub usage: Option<TokenUsage>,
    /// Set when the backend stopped early (`response.incomplete`): the reason, e.g. `max_output_tokens`.
    pub incomplete: Option<String>,
    /// The rate-limit windows the backend reported with this answer.
    pub rate_limits: Option<RateLimits>,
    /// The answer's output items as they came, to send back in a tool loop's next request.
    #[serde(skip)]
    pub items: Vec<Value>,
    /// The tools the model called, in order (none: the answer is final).
    #[serde(skip)]
    pub calls: Vec<ToolCall>,
}

/// A call of a tool the request offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub call_id: String,
    pub name: String,
    pub input: ToolInput,
}

/// What a call carries: a function's JSON arguments (as text), or a freeform tool's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolInput {
    Function { arguments: String },
    Custom { input: String },
}

impl ToolCall {
    /// The call in an output item, when it is one (`function_call` or `custom_tool_call`).
    pub fn from_item(item: &Value) -> Option<Self> {
        let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
        let input = match item.get("type").and_then(Value::as_str)? {
            "function_call" => ToolInput::Function {
                arguments: text("arguments").unwrap_or_default(),
            },
            "custom_tool_call" => ToolInput::Custom {
                input: text("input").unwrap_or_default(),
            },
            _ => return None,
        };
        Some(Self {
            call_id: text("call_id")?,
            name: text("name")?,
            input,
        })
    }

    /// The item that answers this call with `output` (the text a tool gave, or a list of
    /// content items such as an `input_image`).
    pub fn output_item(&self, output: Value) -> Value {
        let kind = match self.input {
            ToolInput::Function { .. } => "function_call_output",
            ToolInput::Custom { .. } => "custom_tool_call_output",
        };
        // With an id of its own, as the Codex CLI sends it (`fco_<uuid>`).
        let id = format!("fco_{}", uuid::Uuid::now_v7());
        json!({"type": kind, "id": id, "call_id": self.call_id, "output": output})
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn model(lite: bool) -> Model {
        serde_json::from_value(json!({
            "slug": if lite { "gpt-6.2-sol" } else { "gpt-5.5" },
            "use_responses_lite": lite,
            "default_reasoning_level": "medium",
            "supported_reasoning_levels": ["low", "medium", "max"],
            "model_messages": {"instructions_template": "You are the model."}
        }))
        .unwrap()
    }

    fn request(lite: bool) -> ResponseRequest {
        let mut r = ResponseRequest::new(
            &model(lite),
            vec![
                Turn::user("first"),
                Turn::assistant("answer one"),
                Turn::user("second"),
            ],
        );
        r.conversation_id = "conv-1".into();
        r
    }

    #[test]
    fn a_standard_body_has_tools_and_a_plain_reasoning_object() {
        let b = request(false).body();
        assert_eq!(b["model"], "gpt-5.5");
        assert_eq!(b["store"], false);
        assert_eq!(b["stream"], true);
        assert_eq!(b["tools"], json!([]));
        assert_eq!(b["tool_choice"], "auto");
        assert_eq!(b["parallel_tool_calls"], false);
        assert_eq!(
            b["reasoning"],
            json!({"effort": "medium", "summary": "auto"})
        );
        assert_eq!(b["client_metadata"]["thread_id"], "conv-1");
        assert_eq!(b["include"], json!(["reasoning.encrypted_content"]));
        assert_eq!(b["prompt_cache_key"], "conv-1");
        assert_eq!(b["text"], json!({"verbosity": "low"}));
        for refused in [
            "instructions",
            "temperature",
            "max_output_tokens",
            "metadata",
            "previous_response_id",
        ] {
            assert!(b.get(refused).is_none(), "{refused}");
        }
    }

    #[test]
    fn a_lite_body_has_no_tools_key_and_a_reasoning_context() {
        let b = request(true).body();
        assert!(b.get("tools").is_none());
        assert_eq!(
            b["reasoning"],
            json!({"effort": "medium", "summary": "auto", "context": "all_turns"})
        );
        assert!(b.get("instructions").is_none());
        let mut none: Model = model(true);
        none.default_reasoning_summary = Some("none".into());
        let b = ResponseRequest::new(&none, vec![Turn::user("x")]).body();
        assert_eq!(
            b["reasoning"],
            json!({"effort": "medium", "context": "all_turns"}),
            "a catalog summary of `none` asks for none"
        );
    }

    #[test]
    fn instructions_go_in_as_developer_messages_then_the_turns_in_order() {
        let mut r = request(true);
        r.system_prompt = Some("Be terse.".into());
        let input = r.body()["input"].as_array().unwrap().clone();
        let dev: Vec<_> = input
            .iter()
            .take_while(|i| i["role"] == "developer")
            .map(|i| i["content"][0]["text"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(dev, vec!["You are the model.", FRAMING, "Be terse."]);
        assert_eq!(
            input[3..],
            [
                json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "first"}]}),
                json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "answer one"}], "phase": "final_answer"}),
                json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "second"}]}),
            ]
        );
        r.system_prompt = Some("  ".into());
        assert_eq!(r.body()["input"].as_array().unwrap().len(), 5);
    }

    #[test]
    fn the_effort_is_the_one_given_and_none_sends_no_effort() {
        let mut r = request(false);
        r.reasoning_effort = Some("max".into());
        assert_eq!(r.body()["reasoning"]["effort"], "max");
        r.reasoning_effort = None;
        r.reasoning_summary = None;
        assert!(r.body().get("reasoning").is_none());
        let mut r = request(true);
        r.reasoning_effort = None;
        r.reasoning_summary = None;
        assert_eq!(r.body()["reasoning"], json!({"context": "all_turns"}));
    }

    #[test]
    fn images_go_with_the_last_user_message_only() {
        let m = model(false);
        let mut r = ResponseRequest::new(
            &m,
            vec![
                Turn::user("q1"),
                Turn::assistant("a1"),
                Turn::user("what is in it?"),
            ],
        );
        r.images = vec!["data:image/png;base64,AAAA".into()];
        let body = r.body();
        let input = body["input"].as_array().unwrap();
        let last = input.last().unwrap();
        assert_eq!(
            last["content"],
            json!([{"type": "input_text", "text": "what is in it?"},
                   {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}])
        );
        let images = body.to_string().matches("input_image").count();
        assert_eq!(images, 1, "earlier turns carry none");
    }

    #[test]
    fn conversation_ids_are_uuid_v7() {
        let id = uuid::Uuid::parse_str(&new_conversation_id()).unwrap();
        assert_eq!(id.get_version_num(), 7);
    }
}
