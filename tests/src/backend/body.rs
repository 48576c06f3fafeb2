//! A responses body checked the way the backend checks it: the request shape, and for the
//! ChatGPT backend the catalog, the client version, Responses-Lite and the efforts.

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::{header, minimal_version, version};
use crate::Shared;

/// Parameters the ChatGPT backend refuses ("Unsupported parameter").
const UNSUPPORTED: &[&str] = &["temperature", "top_p", "max_output_tokens", "metadata"];

/// Checks a responses body (and, for the ChatGPT backend, its headers) the way the backend does;
/// returns the user turns' texts. `chatgpt`: the request came to the ChatGPT backend, which
/// checks the catalog, the client version and the request shape; the API checks the body only.
pub(super) fn check_body(
    s: &Shared,
    headers: &HeaderMap,
    body: &Value,
    chatgpt: bool,
) -> Result<Vec<String>, (StatusCode, String)> {
    let bad = |m: &str| Err((StatusCode::BAD_REQUEST, m.to_string()));
    let Some(obj) = body.as_object() else {
        return bad("body must be a JSON object");
    };
    if obj.get("store") != Some(&Value::Bool(false)) {
        return bad("Store must be set to false");
    }
    if obj.get("stream") != Some(&Value::Bool(true)) {
        return bad("Stream must be set to true");
    }
    if obj.contains_key("previous_response_id") {
        return bad("previous_response_id is not supported with store=false");
    }
    let model_slug = obj.get("model").and_then(Value::as_str).unwrap_or("");
    let entry = s.cfg.models.iter().find(|m| m["slug"] == model_slug);
    if chatgpt {
        check_model(obj, headers, model_slug, entry)?;
    } else if let Some(t) = obj.get("temperature")
        && !t.as_f64().is_some_and(|t| (0.0..=2.0).contains(&t))
    {
        return bad("temperature must be a number between 0 and 2");
    }
    let Some(input) = obj.get("input").and_then(Value::as_array) else {
        return bad("input must be an array");
    };
    if let Some(tools) = obj.get("tools") {
        check_tools(tools)?;
    }
    for item in input.iter().filter(|i| i["type"] == "additional_tools") {
        for ns in item["tools"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if ns["type"] != "namespace" || !ns["name"].is_string() {
                return bad("additional_tools.tools holds namespaces with a name");
            }
            check_tools(&ns["tools"])?;
        }
    }
    check_input(input, chatgpt, model_slug, entry)
}

/// Tool definitions as the Responses API takes them: functions with a name and a JSON Schema
/// object of parameters, custom tools with a name and a format, namespaces of those; no name
/// twice. Built-in tools (`web_search`, …) carry no name and are taken as they are.
fn check_tools(tools: &Value) -> Result<(), (StatusCode, String)> {
    let bad = |m: String| Err((StatusCode::BAD_REQUEST, m));
    let Some(list) = tools.as_array() else {
        return bad("tools must be an array".into());
    };
    let mut names = std::collections::HashSet::new();
    for t in list {
        let kind = t["type"].as_str().unwrap_or("");
        if !matches!(kind, "function" | "custom" | "namespace") {
            continue;
        }
        let name = t["name"].as_str().unwrap_or("");
        if name.is_empty() || !names.insert(name) {
            return bad(format!(
                "every {kind} tool needs a name of its own (`{name}`)"
            ));
        }
        match kind {
            "function" if t["parameters"]["type"] == "object" => {}
            "function" => return bad(format!("tool {name}: parameters must be an object schema")),
            "custom" if t.get("format").is_none_or(|f| f["type"].is_string()) => {}
            "custom" => return bad(format!("tool {name}: format needs a type")),
            _ => check_tools(&t["tools"])?,
        }
    }
    Ok(())
}

/// The ChatGPT backend's checks of the model asked for: unsupported parameters, a model in the
/// catalog and allowed to this client version, the Responses-Lite shape (with its header) for a
/// lite model only, and an effort the model supports.
fn check_model(
    obj: &serde_json::Map<String, Value>,
    headers: &HeaderMap,
    model_slug: &str,
    entry: Option<&Value>,
) -> Result<(), (StatusCode, String)> {
    let bad = |m: &str| Err((StatusCode::BAD_REQUEST, m.to_string()));
    let lite_header = header(headers, "x-openai-internal-codex-responses-lite") == "true";
    for p in UNSUPPORTED {
        if obj.contains_key(*p) {
            return bad(&format!("Unsupported parameter: {p}"));
        }
    }
    let Some(entry) = entry else {
        return Err((
            StatusCode::BAD_REQUEST,
            format!(
                "The '{model_slug}' model is not supported when using Codex with a ChatGPT account."
            ),
        ));
    };
    let client = version(header(headers, "version")).unwrap_or_default();
    if client < minimal_version(entry) {
        return Err((
            StatusCode::BAD_REQUEST,
            format!(
                "The '{model_slug}' model requires a newer version of Codex. Please upgrade to the latest app or CLI and try again."
            ),
        ));
    }
    let lite_model = entry["use_responses_lite"] == true;
    if lite_model && !lite_header {
        return Err((StatusCode::NOT_FOUND, "Model not found".into()));
    }
    if !lite_model && lite_header {
        return bad(&format!(
            "x-openai-internal-codex-responses-lite is not supported for the '{model_slug}' model"
        ));
    }
    if lite_model {
        if obj
            .get("reasoning")
            .and_then(|r| r.get("context"))
            .is_none()
        {
            return bad("reasoning.context is required with Responses-Lite");
        }
        if obj.contains_key("tools") {
            return bad(
                "tools are not accepted at the top level with Responses-Lite; send them in an additional_tools input item",
            );
        }
    }
    if let Some(effort) = obj.get("reasoning").and_then(|r| r.get("effort")) {
        let effort = effort.as_str().unwrap_or("");
        let allowed = entry["supported_reasoning_levels"]
            .as_array()
            .map(|l| l.iter().any(|x| x["effort"] == effort))
            .unwrap_or(false);
        if !allowed {
            return bad(&format!(
                "Unsupported value: '{effort}' is not supported with the '{model_slug}' model for reasoning.effort"
            ));
        }
    }
    Ok(())
}

/// A tool call echoed from an earlier answer (it must carry its id, name and input) or a tool
/// output (it must answer a call made before it, with a text or content items), as the backend
/// checks them;
/// what the item counts as for the last-item rule.
fn tool_item(
    kind: &str,
    item: &Value,
    open_calls: &mut Vec<(String, &'static str)>,
    (model_slug, takes_images): (&str, bool),
) -> Result<&'static str, (StatusCode, String)> {
    let bad = |m: String| Err((StatusCode::BAD_REQUEST, m));
    if let Some(output_kind) = match kind {
        "function_call" => Some("function_call_output"),
        "custom_tool_call" => Some("custom_tool_call_output"),
        _ => None,
    } {
        let field = if kind == "function_call" {
            "arguments"
        } else {
            "input"
        };
        let (Some(call_id), Some(_), Some(_)) = (
            item["call_id"].as_str(),
            item["name"].as_str(),
            item[field].as_str(),
        ) else {
            return bad(format!("a {kind} item needs call_id, name and {field}"));
        };
        open_calls.push((call_id.to_owned(), output_kind));
        return Ok("call");
    }
    let call_id = item["call_id"].as_str().unwrap_or("");
    let Some(at) = open_calls
        .iter()
        .position(|(id, k)| id == call_id && *k == kind)
    else {
        return bad(format!(
            "No tool call found for {kind} with call_id {call_id}."
        ));
    };
    // A text, or a list of content items (the Codex CLI's view_image sends one input_image).
    match &item["output"] {
        Value::String(_) => {}
        Value::Array(parts) => {
            for part in parts {
                match part["type"].as_str().unwrap_or("") {
                    "input_text" if part["text"].is_string() => {}
                    "input_image" => {
                        if !takes_images {
                            return bad(format!(
                                "The '{model_slug}' model does not accept image input"
                            ));
                        }
                        if !part["image_url"].as_str().is_some_and(|u| {
                            u.starts_with("data:image/") || u.starts_with("https://")
                        }) {
                            return bad(
                                "input_image.image_url must be a data: URL or https URL".into()
                            );
                        }
                    }
                    other => {
                        return bad(format!(
                            "{kind}.output items must be input_text or input_image, not `{other}`"
                        ));
                    }
                }
            }
        }
        _ => {
            return bad(format!(
                "{kind}.output must be a string or a list of content items"
            ));
        }
    }
    open_calls.remove(at);
    Ok("tool")
}

/// The input items: messages (with the contents their role may carry, images only where the
/// model takes them) ending with a user's; returns the user turns' texts.
fn check_input(
    input: &[Value],
    chatgpt: bool,
    model_slug: &str,
    entry: Option<&Value>,
) -> Result<Vec<String>, (StatusCode, String)> {
    let bad = |m: &str| Err((StatusCode::BAD_REQUEST, m.to_string()));
    let mut users = Vec::new();
    let mut last_role = "";
    // Tool calls echoed from earlier answers, waiting for their output: call_id → output type.
    let mut open_calls: Vec<(String, &'static str)> = Vec::new();
    let takes_images = !chatgpt
        || entry.is_some_and(|e| {
            e["input_modalities"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == "image"))
        });
    for item in input {
        match item["type"].as_str().unwrap_or("") {
            "message" => {}
            // The reference client's tool list (lite) and settings change items.
            "additional_tools" | "configuration_update" => continue,
            "reasoning" => continue,
            kind @ ("function_call"
            | "custom_tool_call"
            | "function_call_output"
            | "custom_tool_call_output") => {
                last_role = tool_item(kind, item, &mut open_calls, (model_slug, takes_images))?;
                continue;
            }
            other => return bad(&format!("unknown input item type `{other}`")),
        }
        let role = item["role"].as_str().unwrap_or("");
        let want: &[&str] = match role {
            "user" => &["input_text", "input_image"],
            "developer" | "system" => &["input_text"],
            "assistant" => &["output_text"],
            _ => return bad(&format!("unknown role `{role}`")),
        };
        if let Some(phase) = item.get("phase")
            && !matches!(phase.as_str(), Some("commentary" | "final_answer"))
        {
            return bad("phase must be commentary or final_answer");
        }
        let Some(content) = item["content"].as_array() else {
            return bad("message content must be an array");
        };
        let mut text = String::new();
        for c in content {
            let kind = c["type"].as_str().unwrap_or("");
            if !want.contains(&kind) {
                return bad(&format!(
                    "{role} content must be one of {want:?}, not `{kind}`"
                ));
            }
            if kind == "input_image" {
                if !takes_images {
                    return bad(&format!(
                        "The '{model_slug}' model does not accept image input"
                    ));
                }
                if !c["image_url"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("data:image/") || u.starts_with("https://"))
                {
                    return bad("input_image.image_url must be a data: URL or https URL");
                }
                continue;
            }
            text.push_str(c["text"].as_str().unwrap_or(""));
        }
        if role == "user" {
            users.push(text);
        }
        last_role = role;
    }
    if let Some((call_id, _)) = open_calls.first() {
        return bad(&format!(
            "No tool output found for function call {call_id}."
        ));
    }
    if last_role != "user" && last_role != "tool" {
        return bad("the last input item must be a user message or a tool output");
    }
    Ok(users)
}
