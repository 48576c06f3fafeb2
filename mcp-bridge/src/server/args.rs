//! The tools' arguments: JSON schemas from the types, and an extractor that answers bad
//! arguments with a JSON-RPC error (-32602) instead of a tool result.

use std::sync::Arc;

use rmcp::ErrorData;
use rmcp::handler::server::common::{FromContextPart, schema_for_empty_input, schema_for_input};
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The default of `max_output_chars`.
pub const DEFAULT_MAX_OUTPUT_CHARS: u32 = 20_000;

/// The arguments of a tool call, deserialized; a mismatch is a protocol error (`invalid params`).
pub struct Args<T>(pub T);

impl<S, T: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Args<T> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        decode_args(context.arguments.take()).map(Args)
    }
}

/// A tool call's `arguments` (`None` when absent, as `{}`) as `T`; a mismatch names the argument.
/// Public for the fuzz targets and property tests.
#[doc(hidden)]
pub fn decode_args<T: DeserializeOwned>(arguments: Option<JsonObject>) -> Result<T, ErrorData> {
    let arguments = serde_json::Value::Object(arguments.unwrap_or_default());
    serde_path_to_error::deserialize(arguments).map_err(|e| {
        let path = e.path().to_string();
        let message = if path == "." {
            format!("invalid arguments: {}", e.inner())
        } else {
            format!("invalid argument `{path}`: {}", e.inner())
        };
        ErrorData::invalid_params(message, None)
    })
}

/// The input schema of `T` (an object schema; never panics).
pub fn input_schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    schema_for_input::<T>().unwrap_or_else(|_| schema_for_empty_input())
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryArgs {
    /// The question or task for Codex. Name the files it should read in `files` rather than
    /// pasting them; include errors and other context it needs.
    #[schemars(length(min = 1))]
    pub prompt: String,
    /// The model slug (see codex_models); default: the backend's default model, or the model of
    /// the conversation being continued.
    #[serde(default)]
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
    /// The account (profile, see codex_status) to answer with; default: the one this server
    /// serves. Use another only when the user asks for it.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewArgs {
    /// What to compare the working tree with: a branch, tag or commit (`main`: everything since
    /// this branch left it, committed or not), or a range of commits `A..B` (`A...B`: from their
    /// merge base). Default: HEAD, so the staged, unstaged and new files.
    #[serde(default)]
    #[schemars(length(min = 1, max = 256))]
    pub base: Option<String>,
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
    pub model: Option<String>,
    /// One of the efforts the model lists in codex_models; default: the model's own.
    #[serde(default)]
    #[schemars(length(min = 1, max = 32))]
    pub reasoning_effort: Option<String>,
    /// The account (profile, see codex_status) to answer with; default: the one this server
    /// serves. Use another only when the user asks for it.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    pub account: Option<String>,
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
