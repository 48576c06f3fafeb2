//! The tools' structured content as types: each derives `Serialize` (what the result carries)
//! and `JsonSchema` (the `outputSchema` the tool advertises, derived from the same type, so the
//! two cannot drift apart). Fields that may be unknown are written as `null`, never left out,
//! unless the type says otherwise.

use std::sync::Arc;

use codex_oauth_core::codex::{ModelSource, Upgrade};
use codex_oauth_core::files::images::SentImage;
use codex_oauth_core::files::{Bundle, SentFile, SkippedFile};
use codex_oauth_core::jobs::{Job, JobError, JobProgress, JobState};
use codex_oauth_core::model::{RateLimits, Remaining, TokenUsage};
use codex_oauth_core::review::{ChangedFile, DiffRedaction, Finding};
use codex_oauth_core::store::{Backend, SignInMethod};
use codex_oauth_core::{ErrorCode, ErrorKind};
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::Serialize;

/// The `outputSchema` of a tool whose structured content is a `T`.
pub fn schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    super::schemas::output::<T>()
}

/// `codex_models`: the catalog as this account may use it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Models {
    /// The listed models, best first.
    pub models: Vec<ModelEntry>,
    /// The model used when a call names none.
    pub default_model: String,
    /// The `client_version` the catalog was asked for.
    pub client_version: String,
    /// Where the list came from.
    pub source: ModelSource,
    /// When the list was fetched from the backend (RFC 3339).
    pub fetched_at: Option<String>,
    /// Why the list may be stale.
    pub note: Option<String>,
}

/// One model of `codex_models`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelEntry {
    pub slug: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// Whether this is the default model.
    pub default: bool,
    pub default_reasoning_effort: Option<String>,
    /// The `reasoning_effort` values the model takes.
    pub reasoning_efforts: Vec<String>,
    /// In tokens.
    pub context_window: Option<u64>,
    /// Whether the model takes images.
    pub image_input: bool,
    /// The request shape the model is asked in.
    pub shape: Shape,
    /// The model the catalog suggests moving to.
    pub upgrade: Option<Upgrade>,
    pub available_in_plans: Vec<String>,
}

/// The request shape of a model.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    Standard,
    Lite,
}

/// `codex_usage`: the plan's rate-limit windows.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Usage {
    pub plan_type: Option<String>,
    /// The smallest share left among the windows that apply, and when it comes back.
    pub effective: Option<Remaining>,
    pub rate_limits: RateLimits,
}

/// `codex_clear`: what signing out did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Cleared {
    pub was_signed_in: bool,
    /// Whether the refresh token was revoked at the server.
    pub revoked: bool,
    /// Whether a sign-in pending in this bridge was cancelled.
    pub cancelled_pending_login: bool,
    pub profile: String,
}

/// `codex_status`: the served account's sign-in (the fields of `status --json`), its rate
/// limits, and every account of the machine.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Status {
    #[serde(flatten)]
    pub status: crate::cli::output::StatusJson,
    /// The rate-limit windows last seen.
    pub rate_limits: Option<RateLimits>,
    /// This bridge's account first, then the other profiles (absent when a sign-in ended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<AccountLine>>,
    /// The background jobs of this account that are running (absent when a sign-in ended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_jobs: Option<usize>,
}

/// One account of `codex_status`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AccountLine {
    pub profile: String,
    /// Whether this bridge answers with this account when no `account` is given.
    pub served: bool,
    pub signed_in: bool,
    pub email: Option<String>,
    pub plan: Option<String>,
    pub account_id: Option<String>,
    /// The effective remaining usage.
    pub usage: Option<Remaining>,
}

impl AccountLine {
    pub fn of(s: &codex_oauth_core::Status, served: bool) -> Self {
        Self {
            profile: s.profile.clone(),
            served,
            signed_in: s.signed_in,
            email: s.email.clone(),
            plan: s.plan.clone(),
            account_id: s.account_id.clone(),
            usage: s.remaining().cloned(),
        }
    }
}

/// `codex_login`: a sign-in started (or already pending), one completed from a pasted
/// address, or, when it ended while the user was asked for that address, the status.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(extend("type" = "object"))]
pub enum Login {
    Pending(LoginPending),
    SignedIn(LoginSignedIn),
    Status(Box<Status>),
}

/// `status` of a sign-in that is pending.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PendingState {
    Pending,
}

/// `status` of a completed sign-in.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignedInState {
    SignedIn,
}

/// A sign-in the user finishes in the browser (or on another device, with the code).
#[derive(Debug, Serialize, JsonSchema)]
pub struct LoginPending {
    pub status: PendingState,
    pub profile: String,
    /// False when a sign-in already pending was returned.
    pub new: bool,
    /// The pending sign-in runs in another process (the tray, another bridge).
    pub elsewhere: bool,
    pub method: SignInMethod,
    /// The address to open.
    pub url: String,
    /// The code to enter (device sign-in).
    pub user_code: Option<String>,
    /// When the sign-in stops waiting (RFC 3339).
    pub expires_at: String,
    pub browser_opened: bool,
}

/// A sign-in completed from a pasted redirect.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LoginSignedIn {
    pub status: SignedInState,
    pub profile: String,
    pub method: SignInMethod,
    pub email: Option<String>,
    pub plan: Option<String>,
    pub account_id: Option<String>,
    /// Where the credentials were stored, and why there.
    pub store: Stored,
}

/// Where a sign-in's credentials went.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Stored {
    pub backend: Backend,
    pub location: String,
    /// Why the secret is not in the keychain, when it is not.
    pub reason: Option<String>,
}

/// `codex_query`: Codex's answer, the conversation to continue, and what went with the question.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Query {
    /// The answer, cut to `max_output_chars`.
    pub answer: String,
    pub model: String,
    /// Pass it back to continue this conversation.
    pub conversation_id: String,
    pub response_id: Option<String>,
    pub usage: Option<TokenUsage>,
    /// The rate-limit windows the backend reported with this answer.
    pub rate_limits: Option<RateLimits>,
    /// What the model said on the way (not the answer).
    pub commentary: Option<String>,
    /// The answer was cut to `max_output_chars`.
    pub truncated: bool,
    /// The whole answer's length in characters.
    pub answer_chars: usize,
    /// Why Codex stopped early, when it did (e.g. `max_output_tokens`).
    pub incomplete: Option<String>,
    /// The oldest turns of the conversation left out to fit its bound.
    pub dropped_turns: usize,
    /// The account that answered.
    pub account: AccountRef,
    /// The files sent and those named but not sent (present when `files` named any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<FilesSent>,
    /// The images sent (present when any was).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<SentImage>,
}

/// An account named in an answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AccountRef {
    pub profile: String,
    /// Who is signed in to it (absent from a review's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Option<String>>,
}

/// The files of a question or a review: what went (with its redactions) and what did not, why.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FilesSent {
    pub sent: Vec<SentFile>,
    pub skipped: Vec<SkippedFile>,
}

impl FilesSent {
    pub fn of(b: &Bundle) -> Self {
        Self {
            sent: b.sent.clone(),
            skipped: b.skipped.clone(),
        }
    }
}

/// `codex_review`: the findings, and what was sent. With no change to review only `empty`,
/// `compared` and `findings` (empty) are there.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Review {
    /// Nothing to review (nothing was sent).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub empty: bool,
    /// What was compared, in words.
    pub compared: String,
    /// The findings, most severe first; `null` when Codex did not answer in the review format.
    pub findings: Option<Vec<Finding>>,
    #[serde(flatten)]
    pub reviewed: Option<Reviewed>,
}

/// The parts of a review that went to Codex.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Reviewed {
    pub summary: Option<String>,
    /// Whether the answer was in the review format.
    pub parsed: bool,
    /// Codex's own words, when the answer was not in the review format.
    pub answer: Option<String>,
    pub changed: Vec<ChangedFile>,
    /// Changed files whose diff and text were not sent, and why.
    pub withheld: Vec<SkippedFile>,
    pub diff_bytes: usize,
    /// The diff was cut at the size limit.
    pub diff_truncated: bool,
    pub diff_redactions: Vec<DiffRedaction>,
    /// The full texts of the changed files.
    pub files: FilesSent,
    pub model: String,
    pub account: AccountRef,
    pub usage: Option<TokenUsage>,
    pub rate_limits: Option<RateLimits>,
}

/// The structured content of every failed call (`isError: true`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Failure {
    /// What happened and what to do.
    pub error: String,
    /// What failed, for a program to branch on.
    pub kind: ErrorCode,
    /// What a person can do about it.
    pub category: ErrorKind,
    /// Whether the same call may work later by itself.
    pub retryable: bool,
    /// At a usage limit: when the window resets (RFC 3339), and the plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Option<String>>,
    /// At a usage limit: the other signed-in accounts with room.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_accounts: Vec<OtherAccount>,
}

/// An account with room, offered after a usage limit.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OtherAccount {
    pub profile: String,
    /// How much is left, in words.
    pub remaining: String,
}

/// A background job just started: where to get its result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobStarted {
    pub job_id: String,
    /// `running`.
    pub state: JobState,
    pub tool: String,
    pub title: String,
    /// The account (profile) it runs with.
    pub account: String,
}

/// `codex_query`: the answer, or (with `background`) the job started. Only its schema is used:
/// a result is written as the one type it is, which serializes the same.
#[allow(dead_code)]
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(extend("type" = "object"))]
pub enum QueryOrJob {
    Answer(Box<Query>),
    Job(JobStarted),
}

/// `codex_review`: the review, or (with `background`) the job started (its schema only, as
/// [`QueryOrJob`]).
#[allow(dead_code)]
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(extend("type" = "object"))]
pub enum ReviewOrJob {
    Review(Box<Review>),
    Job(JobStarted),
}

/// `codex_task`: the job started, or (with `background: false`) its result as `codex_result`
/// gives it (its schema only, as [`QueryOrJob`]).
#[allow(dead_code)]
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(extend("type" = "object"))]
pub enum TaskOrJob {
    Job(JobStarted),
    Result(JobResult),
}

/// One job of `codex_jobs` (and `codex_cancel`'s answer).
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobLine {
    pub job_id: String,
    pub tool: String,
    pub state: JobState,
    pub title: String,
    /// RFC 3339.
    pub started_at: String,
    pub ended_at: Option<String>,
    /// The account (profile) it runs with.
    pub account: String,
    pub progress: JobProgress,
    /// Why it failed or was cancelled.
    pub error: Option<JobError>,
}

impl JobLine {
    pub fn of(j: &Job) -> Self {
        let time =
            |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self {
            job_id: j.id.clone(),
            tool: j.tool.clone(),
            state: j.state,
            title: j.title.clone(),
            started_at: time(j.started_at),
            ended_at: j.ended_at.map(time),
            account: j.profile.clone(),
            progress: j.progress.clone(),
            error: j.error.clone(),
        }
    }
}

/// `codex_jobs`: the jobs kept, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Jobs {
    pub jobs: Vec<JobLine>,
    /// How many of them are running.
    pub running: usize,
}

/// `codex_result`: the job's state, and once it completed or failed, exactly what the
/// synchronous call returns (its structured content's fields beside these).
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobResult {
    pub job_id: String,
    pub state: JobState,
    #[serde(flatten)]
    pub result: serde_json::Map<String, serde_json::Value>,
}

/// `codex_task`'s finished result (in `codex_result`, with `job_id` and `state`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Task {
    /// Codex's summary of what it did.
    pub summary: String,
    /// The change as a unified diff from the project as it was (`git apply` format); empty when
    /// nothing changed.
    pub patch: String,
    pub files: Vec<codex_oauth_core::task::FileStat>,
    /// Whether the patch applies to the user's working tree now (codex_apply applies it).
    pub applies: bool,
    /// Why it does not, when it does not.
    pub applies_reason: Option<String>,
    /// Every tool call, in order.
    pub commands: Vec<codex_oauth_core::agent::Step>,
    /// What the sandbox enforced; `null` when commands could not run (`sandbox_missing` says why).
    pub sandbox: Option<codex_oauth_core::sandbox::Enforced>,
    pub sandbox_missing: Option<String>,
    /// The private copy: files and bytes copied, what was left out and why.
    pub copy: TaskCopy,
    pub model: String,
    /// Requests made to the model.
    pub turns: usize,
    /// The task stopped at its turn limit before Codex answered.
    pub turn_limit: bool,
    /// Time the loop spent outside the model's answers: running the tools, building requests.
    pub loop_seconds: f64,
    pub account: AccountRef,
}

/// The private copy of a task.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TaskCopy {
    pub files: usize,
    pub bytes: u64,
    pub left_out: Vec<codex_oauth_core::task::LeftOut>,
    /// How long making it took.
    pub seconds: f64,
}

/// `codex_apply`: the task's patch put in the user's working tree.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Applied {
    pub job_id: String,
    /// The working tree written to.
    pub workdir: String,
    /// The files the patch wrote or removed, relative to it.
    pub files: Vec<String>,
}
