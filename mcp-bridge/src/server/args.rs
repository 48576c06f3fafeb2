//! The tools' arguments: JSON schemas from the types, and an extractor that answers bad
//! arguments with a JSON-RPC error (-32602) instead of a tool result.

use std::sync::Arc;

use codex_oauth_core::echo::{elide, elide_to};
use rmcp::ErrorData;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The default of `max_output_chars`.
pub const DEFAULT_MAX_OUTPUT_CHARS: u32 = 20_000;

/// The arguments of a tool call, deserialized; a mismatch is a protocol error (`invalid params`).
pub struct Args<T>(pub T);

impl<S, T: DeserializeOwned + JsonSchema + 'static> FromContextPart<ToolCallContext<'_, S>>
    for Args<T>
{
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        decode_args(context.arguments.take()).map(Args)
    }
}

/// A tool call's `arguments` (`None` when absent, as `{}`) as `T`, within the limits its input
/// schema advertises; a mismatch names the argument (and the limit), echoing at most a few dozen
/// characters of what was sent. Public for the fuzz targets and property tests.
#[doc(hidden)]
pub fn decode_args<T: DeserializeOwned + JsonSchema + 'static>(
    arguments: Option<JsonObject>,
) -> Result<T, ErrorData> {
    let arguments = arguments.unwrap_or_default();
    check_limits(&input_schema::<T>(), &arguments)
        .map_err(|m| ErrorData::invalid_params(m, None))?;
    serde_path_to_error::deserialize(serde_json::Value::Object(arguments)).map_err(|e| {
        let path = elide(&e.path().to_string());
        let inner = elide_quoted(&e.inner().to_string());
        let message = if path == "." {
            format!("invalid arguments: {inner}")
        } else {
            format!("invalid argument `{path}`: {inner}")
        };
        ErrorData::invalid_params(message, None)
    })
}

/// `message` with every `quoted` or "quoted" part cut to a few dozen characters (`core::echo`) (serde repeats the value
/// it could not take).
fn elide_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut rest = message;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = &rest[open..=open];
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        match after.find(quote) {
            Some(close) => {
                out.push_str(&elide(&after[..close]));
                out.push_str(quote);
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&elide(after));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    elide_to(&out, 1000)
}

/// The limits of `schema`'s properties (`maxLength`, `minLength`, `maxItems`, `minItems`,
/// `minimum`, `maximum`, and the same for array items) checked against `arguments`: the error
/// names the argument and the limit, never repeating the value.
fn check_limits(schema: &JsonObject, arguments: &JsonObject) -> Result<(), String> {
    let Some(Value::Object(properties)) = schema.get("properties") else {
        return Ok(());
    };
    for (name, value) in arguments {
        if let Some(Value::Object(rules)) = properties.get(name) {
            check_value(name, rules, value)?;
        }
    }
    Ok(())
}

fn check_value(path: &str, rules: &JsonObject, value: &Value) -> Result<(), String> {
    let limit = |key: &str| rules.get(key).and_then(Value::as_u64);
    match value {
        Value::String(text) => {
            // Bytes bound characters from above: count only when it can matter.
            if let Some(max) = limit("maxLength")
                && text.len() as u64 > max
            {
                let n = text.chars().count() as u64;
                if n > max {
                    return Err(format!(
                        "invalid argument `{path}`: {n} characters, over the limit of {max}"
                    ));
                }
            }
            if let Some(min) = limit("minLength")
                && (text
                    .chars()
                    .take(usize::try_from(min).unwrap_or(usize::MAX))
                    .count() as u64)
                    < min
            {
                return Err(if min == 1 {
                    format!("invalid argument `{path}`: must not be empty")
                } else {
                    format!("invalid argument `{path}`: fewer than {min} characters")
                });
            }
        }
        Value::Array(items) => {
            let n = items.len() as u64;
            if let Some(max) = limit("maxItems")
                && n > max
            {
                return Err(format!(
                    "invalid argument `{path}`: {n} entries, over the limit of {max}"
                ));
            }
            if let Some(min) = limit("minItems")
                && n < min
            {
                return Err(format!(
                    "invalid argument `{path}`: {n} entries, fewer than the {min} needed"
                ));
            }
            if let Some(Value::Object(item)) = rules.get("items") {
                for (i, v) in items.iter().enumerate() {
                    check_value(&format!("{path}[{i}]"), item, v)?;
                }
            }
        }
        Value::Number(n) => {
            let Some(x) = n.as_f64() else { return Ok(()) };
            if let Some(min) = rules.get("minimum").and_then(Value::as_f64)
                && x < min
            {
                return Err(format!(
                    "invalid argument `{path}`: {n}, under the least allowed, {min}"
                ));
            }
            if let Some(max) = rules.get("maximum").and_then(Value::as_f64)
                && x > max
            {
                return Err(format!(
                    "invalid argument `{path}`: {n}, over the most allowed, {max}"
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The input schema of `T` (an object schema; never panics).
pub fn input_schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    super::schemas::input::<T>()
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryArgs {
    /// The question or task for Codex. Name the files it should read in `files` rather than
    /// pasting them; include errors and other context it needs.
    #[schemars(length(min = 1))]
    pub prompt: String,
    /// The model slug (see codex_models); default: the backend's default model, or the model of
    /// the conversation being continued.
    #[serde(default)]
    #[schemars(length(max = 128))]
    pub model: Option<String>,
    /// A system prompt for this conversation (kept for its later turns).
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// How hard the model thinks before answering: one of the efforts the model lists in
    /// codex_models (today `low`, `medium`, `high`, `xhigh`, `max`, and on most models `ultra`);
    /// default: the model's own default. There is no temperature: the ChatGPT backend refuses it.
    #[serde(default)]
    #[schemars(length(min = 1, max = 32))]
    pub reasoning_effort: Option<String>,
    /// Continue an earlier conversation: the conversation_id a previous codex_query returned
    /// (kept per account for 30 days, the last 50; it survives a restart of the bridge). Its
    /// earlier turns are sent again, the oldest left out past 400,000 characters. Omit to start
    /// a new conversation.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    pub conversation_id: Option<String>,
    /// Files for Codex to read, from the workspace (the client's roots, else the server's
    /// working folder): paths, folders or globs relative to it (`src/main.rs`, `src/net`,
    /// `src/**/*.rs`). Prefer this to pasting code: the file is sent as it is on disk, with line
    /// numbers. `.gitignore` is respected, binaries are skipped, secrets (.env files, keys,
    /// credential stores) are never sent and secret-looking values are redacted; the result
    /// lists every file sent, skipped (and why) and redacted. Read-only, nothing runs.
    #[serde(default)]
    #[schemars(length(max = 200), inner(length(min = 1, max = 4096)))]
    pub files: Vec<String>,
    /// Images for Codex to look at (a screenshot of a bug, a diagram): PNG, JPEG, WebP or GIF
    /// files of the workspace, or `data:image/…;base64,` URLs. Only for a model with image input
    /// (see codex_models); a large image is scaled down. Sent with this message only.
    #[serde(default)]
    #[schemars(length(max = 10))]
    pub images: Vec<String>,
    /// The longest answer returned, in characters (default 20000); a longer answer is cut and
    /// the result says so.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_output_chars: Option<u32>,
    /// Run it as a background job: the call returns at once with a `job_id`; get the answer
    /// with codex_result (which can wait), list jobs with codex_jobs, stop one with
    /// codex_cancel. The job goes on if this session ends. Use it for slow work (high
    /// efforts, large reviews). Default: false.
    #[serde(default)]
    pub background: bool,
    /// The call's time limit in seconds, past which it stops and fails (1-86400); default: the
    /// setting `job_timeout_minutes` (30 minutes).
    #[serde(default)]
    #[schemars(range(min = 1, max = 86400))]
    pub timeout_seconds: Option<u64>,
    /// The account (profile, see codex_status) to answer with; default: the one this server
    /// serves. Use another only when the user asks for it.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewArgs {
    /// What to compare the working tree with: a branch, tag or commit (`main`: everything since
    /// this branch left it, committed or not), or a range of commits `A..B` (`A...B`: from their
    /// merge base). Default: HEAD, so the staged, unstaged and new files. Not with `staged` or
    /// `commit`.
    #[serde(default)]
    #[schemars(length(min = 1, max = 256))]
    pub base: Option<String>,
    /// Review only what is staged (`git diff --cached`): the index against HEAD, without the
    /// unstaged changes and the new files; the files' text sent is the staged version. Not
    /// with `base` or `commit`. Default: false.
    #[serde(default)]
    pub staged: bool,
    /// Review one commit (`abc1234`, `HEAD`, `HEAD~2`, a branch or tag: its last commit)
    /// against its first parent (a first commit against nothing), as it is in that commit,
    /// whatever the working tree holds now. Not with `base` or `staged`.
    #[serde(default)]
    #[schemars(length(min = 1, max = 256))]
    pub commit: Option<String>,
    /// Folders or files of the workspace to narrow the review to (relative to it); default:
    /// the whole change.
    #[serde(default)]
    #[schemars(length(max = 100), inner(length(min = 1, max = 4096)))]
    pub paths: Vec<String>,
    /// What the review should look at most (`error handling`, `the SQL`, `thread safety`).
    #[serde(default)]
    #[schemars(length(max = 2000))]
    pub focus: Option<String>,
    /// The model slug (see codex_models); default: the backend's default model.
    #[serde(default)]
    #[schemars(length(max = 128))]
    pub model: Option<String>,
    /// One of the efforts the model lists in codex_models; default: the model's own.
    #[serde(default)]
    #[schemars(length(min = 1, max = 32))]
    pub reasoning_effort: Option<String>,
    /// Run it as a background job: the call returns at once with a `job_id`; get the answer
    /// with codex_result (which can wait), list jobs with codex_jobs, stop one with
    /// codex_cancel. The job goes on if this session ends. Use it for slow work (high
    /// efforts, large reviews). Default: false.
    #[serde(default)]
    pub background: bool,
    /// The call's time limit in seconds, past which it stops and fails (1-86400); default: the
    /// setting `job_timeout_minutes` (30 minutes).
    #[serde(default)]
    #[schemars(range(min = 1, max = 86400))]
    pub timeout_seconds: Option<u64>,
    /// The account (profile, see codex_status) to answer with; default: the one this server
    /// serves. Use another only when the user asks for it.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    pub account: Option<String>,
}

impl ReviewArgs {
    /// Why these arguments name no one change (`base`, `staged` and `commit` together), checked
    /// before a job starts; `None` when they do.
    pub fn refused(&self) -> Option<codex_oauth_core::Error> {
        let scope = codex_oauth_core::review::Scope {
            base: self.base.clone(),
            staged: self.staged,
            commit: self.commit.clone(),
            paths: Vec::new(),
        };
        scope.check().err()
    }
}

/// `codex_task`: what Codex is to do in a private copy of the project.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskArgs {
    /// The task, as you would give it to a colleague: what to change or find out, how to check
    /// it (the test command), and any constraint. Codex works in a private copy of the project
    /// (the repository as it is now, uncommitted changes included; secret files left out),
    /// runs commands in a sandbox (no network) and edits files; the result is a patch.
    #[schemars(length(min = 1, max = 100_000))]
    pub task: String,
    /// The model slug (see codex_models); default: the catalog's default standard model.
    #[serde(default)]
    #[schemars(length(max = 128))]
    pub model: Option<String>,
    /// One of the efforts the model lists in codex_models; default: the model's own.
    #[serde(default)]
    #[schemars(length(min = 1, max = 32))]
    pub reasoning_effort: Option<String>,
    /// Run as a background job (default true): the call returns at once with a `job_id`
    /// (codex_result gets the result). With false the call waits for the task to end.
    #[serde(default)]
    pub background: Option<bool>,
    /// The task's time limit in seconds (1-86400); default: the setting `job_timeout_minutes`.
    #[serde(default)]
    #[schemars(range(min = 1, max = 86400))]
    pub timeout_seconds: Option<u64>,
    /// The account (profile, see codex_status) to work with; default: the one this server
    /// serves. Use another only when the user asks for it.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    pub account: Option<String>,
}

/// `codex_result`: a job, and how long to wait for it to end.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultArgs {
    /// The job_id a background call (or codex_jobs) gave.
    #[schemars(length(min = 1, max = 64))]
    pub job_id: String,
    /// Wait up to this many seconds for a running job to end (0-600; default 0: answer at
    /// once). Progress is reported while waiting.
    #[serde(default)]
    #[schemars(range(min = 0, max = 600))]
    pub wait_seconds: Option<u64>,
}

/// `codex_cancel`: the job to stop.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobArgs {
    /// The job_id a background call (or codex_jobs) gave.
    #[schemars(length(min = 1, max = 64))]
    pub job_id: String,
}

/// The arguments of the tools that only choose an account. Other arguments are ignored, as they
/// were when these tools took none.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct AccountArgs {
    /// The account (profile, see codex_status); default: the one this server serves.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoginMethod {
    /// Open the ChatGPT sign-in page in a browser on this machine.
    #[default]
    Browser,
    /// Show a code to type at a page that can be opened on any device (SSH, WSL, no browser).
    Device,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginArgs {
    /// `browser` (default) or `device`.
    #[serde(default)]
    pub method: LoginMethod,
    /// The address the browser's last page shows when it fails to load (the browser runs on
    /// another machine): `http://127.0.0.1:1455/auth/callback?code=…&state=…`, pasted by the
    /// user. Completes the browser sign-in pending in this bridge.
    #[serde(default)]
    #[schemars(length(min = 1, max = 8192))]
    pub redirect_url: Option<String>,
    /// The account (profile) to sign in to; default: the one this server serves. A new name
    /// adds an account.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    pub account: Option<String>,
    /// The workspace id to use, for a sign-in that can use several (a personal plan and a
    /// team); default: the sign-in's own.
    #[serde(default)]
    #[schemars(length(min = 1, max = 128))]
    pub workspace: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn echoes_are_cut_after_a_few_dozen_characters_on_a_character_boundary() {
        assert_eq!(elide("short"), "short");
        assert_eq!(elide(&"é".repeat(50)), format!("{}…", "é".repeat(40)));
        let long = "x".repeat(100);
        assert_eq!(
            elide_quoted(&format!(
                "unknown variant `{long}`, expected `browser` or `device`"
            )),
            format!(
                "unknown variant `{}…`, expected `browser` or `device`",
                "x".repeat(40)
            )
        );
        assert_eq!(
            elide_quoted(&format!("invalid type: string \"{long}\", expected u32")),
            format!("invalid type: string \"{}…\", expected u32", "x".repeat(40))
        );
        // An unclosed quote is cut too.
        assert_eq!(
            elide_quoted(&format!("bad `{long}")),
            format!("bad `{}…", "x".repeat(40))
        );
    }

    #[test]
    fn every_limit_the_schema_declares_is_checked_and_named() {
        let check = |args: serde_json::Value| {
            let serde_json::Value::Object(args) = args else {
                panic!()
            };
            decode_args::<QueryArgs>(Some(args))
                .map(|_| ())
                .map_err(|e| e.message.into_owned())
        };
        assert_eq!(check(serde_json::json!({"prompt": "q"})), Ok(()));
        assert_eq!(
            check(serde_json::json!({"prompt": "q", "reasoning_effort": "h".repeat(33)})),
            Err("invalid argument `reasoning_effort`: 33 characters, over the limit of 32".into())
        );
        // Characters, not bytes: 64 two-byte characters fit in 64.
        assert_eq!(
            check(serde_json::json!({"prompt": "q", "account": "é".repeat(64)})),
            Ok(())
        );
        assert_eq!(
            check(serde_json::json!({"prompt": "q", "files": [""]})),
            Err("invalid argument `files[0]`: must not be empty".into())
        );
        assert_eq!(
            check(serde_json::json!({"prompt": "q", "max_output_chars": 0})),
            Err("invalid argument `max_output_chars`: 0, under the least allowed, 1".into())
        );
        assert_eq!(
            check(serde_json::json!({"prompt": "q", "model": "m".repeat(129)})),
            Err("invalid argument `model`: 129 characters, over the limit of 128".into())
        );
    }
}
