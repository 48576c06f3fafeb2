//! `CodexServer`: the seven tools. Each parses its arguments, makes one call into core (the
//! accounts registry, or a use case of `core::app`), and shapes the typed answer.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use codex_oauth_core::app::{self, Accounts, Call};
use codex_oauth_core::codex::CodexOptions;
use codex_oauth_core::files::Limits;
use codex_oauth_core::{Error, Refusal, Session};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler, tool, tool_handler, tool_router};

use super::answers;
use super::args::{
    AccountArgs, Args, JobArgs, LoginArgs, LoginMethod, QueryArgs, ResultArgs, ReviewArgs,
    TaskArgs, input_schema,
};
use super::elicit::Asked;
use super::format;
use super::jobs;
use super::login::Logins;
use super::progress::Progress;
use super::work;
use super::workspace::Roots;

pub use codex_oauth_core::app::MAX_PROMPT_BYTES;

/// `serverInfo.name`.
pub const SERVER_NAME: &str = "codex-oauth";

const INSTRUCTIONS: &str = "Codex (OpenAI's coding model) through the user's own ChatGPT sign-in. \
Use codex_query for a second opinion: reviewing a diff or a design, a hard bug, an algorithm, a \
command or API you are unsure of, or a self-contained coding task to delegate. Codex runs no \
commands; it reads what you send. Name the files it needs in `files` (paths or globs in the \
workspace) instead of pasting them: they go as they are on disk, with secrets kept out, and the \
answer lists what was sent. \
Continue a discussion by passing the conversation_id a previous answer returned. When a tool says \
the user is not signed in, call codex_login and show the user the URL (and code) it returns, or \
ask them to run /codex-config. codex_status shows the account (and the other accounts of the \
machine), codex_models the models, codex_usage the remaining quota; codex_clear signs out. Pass \
`account` (a profile from codex_status) only when the user asks for that account, also after a \
usage limit that lists other accounts: never switch accounts on your own.";

/// Tunables of the server (tests shorten them).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub codex: CodexOptions,
    /// The bounds of the kept conversations (per profile).
    pub conversations: codex_oauth_core::conversations::Limits,
    /// At most one progress notification per interval.
    pub progress_interval: Duration,
    /// How much of the workspace one `codex_query` sends; `None`: what the settings say
    /// (`files_max_file_kb`, `files_max_total_kb`).
    pub files: Option<Limits>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            codex: CodexOptions::default(),
            conversations: Default::default(),
            progress_interval: Duration::from_millis(100),
            files: None,
        }
    }
}

struct Inner {
    accounts: Accounts,
    conversations: codex_oauth_core::conversations::Limits,
    logins: Logins,
    progress_interval: Duration,
    roots: Roots,
    files: Option<Limits>,
}

#[derive(Clone)]
pub struct CodexServer {
    inner: Arc<Inner>,
}

/// The tools, made once per process (their schemas read from `schemas.json`).
static TOOLS: LazyLock<ToolRouter<CodexServer>> = LazyLock::new(CodexServer::tool_router);

fn tools() -> &'static ToolRouter<CodexServer> {
    &TOOLS
}

impl CodexServer {
    /// The server of `accounts` (serving its served account when a call names none): nothing
    /// is opened until a tool needs it. The clients carry the registry's Codex options;
    /// `options.codex` is for [`CodexServer::with_session`].
    pub fn new(accounts: Accounts, options: ServerOptions) -> Self {
        Self::with_accounts(accounts, options)
    }

    /// The server of an account whose session is open already (an embedder, a test).
    pub fn with_session(
        session: Arc<Session>,
        options: ServerOptions,
    ) -> codex_oauth_core::Result<Self> {
        let accounts = Accounts::with_session(session, options.codex.clone())?;
        Ok(Self::with_accounts(accounts, options))
    }

    fn with_accounts(accounts: Accounts, options: ServerOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                accounts,
                logins: Logins::new(),
                conversations: options.conversations,
                progress_interval: options.progress_interval,
                roots: Roots::default(),
                files: options.files,
            }),
        }
    }

    /// Makes the tools on another thread, so that the work overlaps the server's start
    /// (logging, the runtime, `initialize`): `tools/list` and every call wait for it.
    pub fn prepare_tools() {
        std::thread::spawn(|| LazyLock::force(&TOOLS));
    }

    /// The tools as `tools/list` lists them, their schemas made now.
    #[cfg(test)]
    pub(crate) fn tools_for_tests() -> Vec<rmcp::model::Tool> {
        Self::tool_router().list_all()
    }

    /// Before the process exits: abandon a sign-in pending in this process, and let a refresh
    /// in flight finish its save (SIGTERM, SIGINT and stdin EOF all come through here).
    pub async fn shutdown(&self) {
        if self.inner.logins.cancel(None).await {
            tracing::info!("cancelled the pending sign-in at exit");
        }
        if !self.inner.accounts.settle().await {
            tracing::error!(
                "a refreshed sign-in could not be saved before exit; the next call may ask to sign in again"
            );
        }
    }
}

impl Inner {
    /// What a call to a use case works with: the workspace folders (asked of the client only
    /// when `needs_folders`), the limits, and progress notifications for its steps.
    async fn call_parts(
        &self,
        ctx: &RequestContext<RoleServer>,
        needs_folders: bool,
    ) -> (Vec<std::path::PathBuf>, Limits, Progress) {
        let folders = if needs_folders {
            self.roots.folders(&ctx.peer).await
        } else {
            Vec::new()
        };
        let files = self
            .files
            .unwrap_or_else(|| Limits::from_settings(self.accounts.settings()));
        let progress = Progress::new(
            ctx.peer.clone(),
            ctx.meta.get_progress_token(),
            self.progress_interval,
        );
        (folders, files, progress)
    }

    /// Start `args` of `tool` as a background job.
    async fn start_job<A: serde::Serialize>(
        &self,
        tool: &str,
        args: &A,
        folders: Vec<std::path::PathBuf>,
        title: String,
        account: Option<String>,
        limit: work::Limit,
    ) -> CallToolResult {
        let args = match serde_json::to_value(args) {
            Ok(v) => v,
            Err(e) => {
                return format::failure(&Error::Internal(format!(
                    "the arguments cannot be kept for the job: {e}"
                )));
            }
        };
        let request = jobs::JobRequest {
            tool: tool.to_owned(),
            args,
            folders,
        };
        jobs::start(
            &self.accounts,
            request,
            title,
            account.as_deref(),
            Duration::from_secs(limit.seconds),
        )
        .await
    }
}

/// `work`, or a cancelled result when the client cancels the call first (the work is dropped:
/// an upstream request in flight is closed).
async fn unless_cancelled(
    ctx: &RequestContext<RoleServer>,
    work: impl std::future::Future<Output = CallToolResult>,
) -> CallToolResult {
    tokio::select! {
        r = work => r,
        _ = ctx.ct.cancelled() => {
            tracing::info!("a Codex call was cancelled by the client; the upstream request is dropped");
            format::failure(&Error::refused(Refusal::Cancelled, "The request was cancelled."))
        }
    }
}

fn invalid(message: impl Into<String>) -> ErrorData {
    ErrorData::invalid_params(message.into(), None)
}

#[tool_router]
impl CodexServer {
    #[tool(
        description = "Ask Codex (OpenAI's coding model, through the user's ChatGPT sign-in). Returns the answer as text, with the model, usage and a conversation_id to continue the conversation. Pass `files` (paths or globs in the workspace) for the code it should read instead of pasting it; the result lists the files sent, skipped and redacted.",
        meta = format::large_answer_meta(),
        input_schema = input_schema::<QueryArgs>(),
        output_schema = answers::schema::<answers::QueryOrJob>(),
        annotations(
            title = "Ask Codex",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn codex_query(
        &self,
        Args(a): Args<QueryArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        if a.prompt.trim().is_empty() {
            return Err(invalid("`prompt` must not be empty"));
        }
        if a.max_output_chars == Some(0) {
            return Err(invalid("`max_output_chars` must be at least 1"));
        }
        let me = &self.inner;
        let needs_folders = !a.files.is_empty() || !a.images.is_empty();
        let (folders, files, progress) = me.call_parts(&ctx, needs_folders).await;
        let limit = work::limit_of(&me.accounts, a.timeout_seconds);
        if a.background {
            let title = jobs::title(&a.prompt);
            let account = a.account.clone();
            return Ok(me
                .start_job("codex_query", &a, folders, title, account, limit)
                .await);
        }
        let on_step = |step: app::Step<'_>| progress.step(step);
        let call = Call {
            folders,
            files,
            conversations: me.conversations,
            on_step: &on_step,
        };
        Ok(unless_cancelled(&ctx, work::query(&me.accounts, a, &call, limit)).await)
    }

    #[tool(
        description = "Have Codex review the workspace's git change: by default the staged, unstaged and new files against HEAD; with `base` everything since a branch, tag or commit (or a commit range A..B); with `staged: true` only what is staged; with `commit` one commit against its parent. The bridge bundles the unified diff and the full text of the changed files itself (read-only, secrets kept out), so do not paste the code. Returns findings (file, line, severity, title, detail, suggestion) as structured content and as text, and what was sent.",
        meta = format::large_answer_meta(),
        input_schema = input_schema::<ReviewArgs>(),
        output_schema = answers::schema::<answers::ReviewOrJob>(),
        annotations(
            title = "Codex code review",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn codex_review(
        &self,
        Args(a): Args<ReviewArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        if let Some(e) = a.refused() {
            return Ok(format::failure(&e));
        }
        let me = &self.inner;
        let (folders, files, progress) = me.call_parts(&ctx, true).await;
        let limit = work::limit_of(&me.accounts, a.timeout_seconds);
        if a.background {
            let title = jobs::review_title(&a);
            let account = a.account.clone();
            return Ok(me
                .start_job("codex_review", &a, folders, title, account, limit)
                .await);
        }
        let on_step = |step: app::Step<'_>| progress.step(step);
        let call = Call {
            folders,
            files,
            conversations: me.conversations,
            on_step: &on_step,
        };
        Ok(unless_cancelled(&ctx, work::review(&me.accounts, a, &call, limit)).await)
    }

    #[tool(
        description = "Whether the user is signed in to Codex, as whom (email, plan, account), until when the access token is valid, where the credentials are stored and why, a pending sign-in, the last rate limits seen, and the last error.",
        output_schema = answers::schema::<answers::Status>(),
        annotations(
            title = "Codex sign-in status",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn codex_status(&self) -> Result<CallToolResult, ErrorData> {
        let (status, others) = self.inner.accounts.overview().await;
        let running = jobs::running(&self.inner.accounts).await;
        Ok(format::status_with_others(&status, &others, running))
    }

    #[tool(
        description = "Start signing in to Codex with the user's ChatGPT account. Returns at once with the URL to open (and, for method `device`, the code to enter); the sign-in completes in the background. Show the URL (and code) to the user, then check with codex_status. A second call while a sign-in is pending returns the pending one. When the browser runs on another machine its last page (http://127.0.0.1:1455/auth/callback?...) fails to load: ask the user to paste that page's address and call again with it as `redirect_url` to complete the sign-in (clients that support forms get a form for it at once). `account` signs in to another account (profile), a new name adds one; `workspace` picks the workspace of a sign-in that can use several.",
        input_schema = input_schema::<LoginArgs>(),
        output_schema = answers::schema::<answers::Login>(),
        annotations(
            title = "Sign in to Codex",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn codex_login(
        &self,
        Args(a): Args<LoginArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let session = match self.inner.accounts.for_sign_in(a.account.as_deref()) {
            Ok(s) => s,
            Err(e) => return Ok(format::failure(&e)),
        };
        let profile = session.settings().profile.clone();
        if let Some(url) = &a.redirect_url {
            return match self.inner.logins.paste(&session, url).await {
                Ok(done) => Ok(format::pasted(&profile, &done)),
                Err(e) => Ok(format::failure(&e)),
            };
        }
        let (started, sign_ins) = match self
            .inner
            .logins
            .start(&session, a.method, a.workspace.clone())
            .await
        {
            Ok(s) => s,
            Err(e) => return Ok(format::failure(&e)),
        };
        // A browser sign-in of this process, and a client that can ask the user: the address
        // can be pasted into a form (a browser on another machine), which the callback
        // closes when the browser reaches it after all.
        if a.method == LoginMethod::Browser
            && !started.elsewhere
            && super::elicit::can_ask(&ctx.peer)
        {
            match super::elicit::ask_for_redirect(&ctx.peer, &sign_ins, &started, &profile).await {
                Asked::Pasted(Ok(done)) => return Ok(format::pasted(&profile, &done)),
                Asked::Pasted(Err(e)) => return Ok(format::failure(&e)),
                // Through the callback after all (or it failed): say how it stands.
                Asked::Ended => return Ok(format::status(&session.status().await)),
                Asked::NotAnswered => {}
            }
        }
        Ok(format::login(&started, &profile))
    }

    #[tool(
        description = "Sign out of Codex: revoke the refresh token (best effort) and delete the stored credentials of the account (`account`: a profile from codex_status; default: the one this server serves). A pending sign-in of that account in this bridge is cancelled too.",
        input_schema = input_schema::<AccountArgs>(),
        output_schema = answers::schema::<answers::Cleared>(),
        annotations(
            title = "Sign out of Codex",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn codex_clear(&self, Args(a): Args<AccountArgs>) -> Result<CallToolResult, ErrorData> {
        let me = &self.inner;
        let session = match me.accounts.session(a.account.as_deref()) {
            Ok(s) => s,
            Err(e) => return Ok(format::failure(&e)),
        };
        let profile = &session.settings().profile;
        let cancelled = me.logins.cancel(Some(profile)).await;
        match session.sign_out().await {
            Ok(out) => {
                let mut text = if out.was_signed_in {
                    let revoked = if out.revoked {
                        "the refresh token was revoked"
                    } else {
                        "the server could not be told (revoke failed), but the local credentials are gone"
                    };
                    format!("Signed out of profile {profile}: {revoked}.")
                } else {
                    format!("Profile {profile} was not signed in; nothing to delete.")
                };
                if cancelled {
                    text.push_str(" The pending sign-in was cancelled.");
                }
                Ok(format::typed(
                    text,
                    &answers::Cleared {
                        was_signed_in: out.was_signed_in,
                        revoked: out.revoked,
                        cancelled_pending_login: cancelled,
                        profile: profile.clone(),
                    },
                ))
            }
            Err(e) => Ok(format::failure(&e)),
        }
    }

    #[tool(
        description = "The Codex models this account can use (from the backend, cached), with the default marked and the reasoning efforts each supports.",
        input_schema = input_schema::<AccountArgs>(),
        output_schema = answers::schema::<answers::Models>(),
        annotations(
            title = "Codex models",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn codex_models(&self, Args(a): Args<AccountArgs>) -> Result<CallToolResult, ErrorData> {
        let codex = match self.inner.accounts.client(a.account.as_deref()) {
            Ok(c) => c,
            Err(e) => return Ok(format::failure(&e)),
        };
        match codex.models().await {
            Ok(list) => Ok(format::models(&list)),
            Err(e) => Ok(format::failure(&e)),
        }
    }

    #[tool(
        description = "The Codex usage of the signed-in ChatGPT plan: the rate-limit windows (percent used, when each resets) and credits.",
        input_schema = input_schema::<AccountArgs>(),
        output_schema = answers::schema::<answers::Usage>(),
        annotations(
            title = "Codex usage",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn codex_usage(&self, Args(a): Args<AccountArgs>) -> Result<CallToolResult, ErrorData> {
        let codex = match self.inner.accounts.client(a.account.as_deref()) {
            Ok(c) => c,
            Err(e) => return Ok(format::failure(&e)),
        };
        match codex.usage().await {
            Ok(u) => Ok(format::usage(&u)),
            Err(e) => Ok(format::failure(&e)),
        }
    }

    #[tool(
        description = "The background jobs of the account (newest first): job_id, tool, state (running, completed, failed, cancelled), title, when each started and ended.",
        input_schema = input_schema::<AccountArgs>(),
        output_schema = answers::schema::<answers::Jobs>(),
        annotations(
            title = "Codex background jobs",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn codex_jobs(&self, Args(a): Args<AccountArgs>) -> Result<CallToolResult, ErrorData> {
        Ok(jobs::list(&self.inner.accounts, a.account.as_deref()).await)
    }

    #[tool(
        description = "The result of a background job (job_id from a call with background: true, or from codex_jobs). A completed job returns exactly what the call would have returned, with job_id and state; a running one its progress (pass wait_seconds, up to 600, to wait for it to end); a failed one is an error with the reason; a cancelled one says so.",
        meta = format::large_answer_meta(),
        input_schema = input_schema::<ResultArgs>(),
        output_schema = answers::schema::<answers::JobResult>(),
        annotations(
            title = "Codex job result",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn codex_result(
        &self,
        Args(a): Args<ResultArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let wait = Duration::from_secs(a.wait_seconds.unwrap_or(0).min(600));
        let progress = Progress::new(
            ctx.peer.clone(),
            ctx.meta.get_progress_token(),
            self.inner.progress_interval,
        );
        let on_step = |step: app::Step<'_>| progress.step(step);
        let answer = jobs::result(&self.inner.accounts, &a.job_id, wait, &on_step);
        Ok(unless_cancelled(&ctx, answer).await)
    }

    #[tool(
        description = "Cancel a background job: its process closes the request to Codex and records the job cancelled. A job that already ended is left as it is.",
        input_schema = input_schema::<JobArgs>(),
        output_schema = answers::schema::<answers::JobLine>(),
        annotations(
            title = "Cancel a Codex job",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn codex_cancel(&self, Args(a): Args<JobArgs>) -> Result<CallToolResult, ErrorData> {
        Ok(jobs::cancel(&self.inner.accounts, &a.job_id).await)
    }

    #[tool(
        description = "Give Codex a task to carry out: it works in a private copy of the project (the repository as it is now, uncommitted changes included, secret files left out), runs commands there in a sandbox (no network, writes only inside the copy) and edits files, then answers with a summary and a patch. Your files are not touched: the result says whether the patch applies to your working tree now, and codex_apply puts it there. Runs as a background job by default (codex_result gets the result; wait_seconds waits).",
        meta = format::large_answer_meta(),
        input_schema = input_schema::<TaskArgs>(),
        output_schema = answers::schema::<answers::TaskOrJob>(),
        annotations(
            title = "Codex task",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn codex_task(
        &self,
        Args(a): Args<TaskArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        if a.task.trim().is_empty() {
            return Err(invalid("`task` must not be empty"));
        }
        let me = &self.inner;
        let (folders, _, progress) = me.call_parts(&ctx, true).await;
        let limit = work::limit_of(&me.accounts, a.timeout_seconds);
        let title = jobs::title(&a.task);
        let (account, wait) = (a.account.clone(), !a.background.unwrap_or(true));
        let started = me
            .start_job("codex_task", &a, folders, title, account, limit)
            .await;
        let job_id = started
            .structured_content
            .as_ref()
            .and_then(|d| d.get("job_id"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let (Some(job_id), true) = (job_id, wait) else {
            return Ok(started);
        };
        // Waited for: the call ends with the job (a cancel of the call cancels the job).
        let on_step = |step: app::Step<'_>| progress.step(step);
        let waited = jobs::result(
            &me.accounts,
            &job_id,
            Duration::from_secs(limit.seconds.saturating_add(30)),
            &on_step,
        );
        tokio::select! {
            r = waited => Ok(r),
            _ = ctx.ct.cancelled() => {
                jobs::cancel(&me.accounts, &job_id).await;
                Ok(format::failure(&Error::refused(Refusal::Cancelled, "The task was cancelled.")))
            }
        }
    }

    #[tool(
        description = "Apply the patch of a finished codex_task (its job_id) to the user's working tree, all or nothing, keeping their other uncommitted changes; nothing is staged or committed. Refuses, saying why, when the patch no longer applies. Only when the user asks for it.",
        input_schema = input_schema::<JobArgs>(),
        output_schema = answers::schema::<answers::Applied>(),
        annotations(
            title = "Apply a Codex task's patch",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn codex_apply(&self, Args(a): Args<JobArgs>) -> Result<CallToolResult, ErrorData> {
        Ok(jobs::apply(&self.inner.accounts, &a.job_id).await)
    }
}

#[tool_handler(router = tools())]
impl ServerHandler for CodexServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION"))
                    .with_title("Codex (ChatGPT sign-in)"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn on_roots_list_changed(&self, _context: NotificationContext<RoleServer>) {
        tracing::info!("the client's roots changed");
        self.inner.roots.forget();
    }
}
