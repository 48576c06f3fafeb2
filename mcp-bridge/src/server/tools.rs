//! `CodexServer`: the seven tools. Each parses its arguments, calls core once, and shapes the answer.

use std::sync::Arc;
use std::time::Duration;

use codex_oauth_core::codex::{CodexClient, CodexOptions, ResponseRequest, Turn};
use codex_oauth_core::files::{self, Bundle, Limits, Workspace, images};
use codex_oauth_core::review;
use codex_oauth_core::{ErrorKind, Session};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler, tool, tool_handler, tool_router};

use super::answers;
use super::args::{
    AccountArgs, Args, DEFAULT_MAX_OUTPUT_CHARS, ECHO_CHARS, LoginArgs, LoginMethod, QueryArgs,
    ReviewArgs, elide, input_schema,
};
use super::conversations::{Conversation, Conversations};
use super::elicit::Asked;
use super::format;
use super::login::Logins;
use super::progress::Progress;
use super::workspace::Roots;

/// `serverInfo.name`.
pub const SERVER_NAME: &str = "codex-oauth";

/// The longest prompt accepted, in bytes (far above any model's context window).
pub const MAX_PROMPT_BYTES: usize = 4 * 1024 * 1024;

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
    session: Arc<Session>,
    codex: Arc<CodexClient>,
    /// The clients of the other accounts asked for by name, made on first use.
    others: std::sync::Mutex<std::collections::HashMap<String, Arc<CodexClient>>>,
    codex_options: CodexOptions,
    conversations: Conversations,
    logins: Logins,
    progress_interval: Duration,
    roots: Roots,
    files: Limits,
}

#[derive(Clone)]
pub struct CodexServer {
    inner: Arc<Inner>,
    tool_router: ToolRouter<Self>,
}

impl CodexServer {
    pub fn new(session: Arc<Session>, options: ServerOptions) -> codex_oauth_core::Result<Self> {
        let files = options
            .files
            .unwrap_or_else(|| Limits::from_settings(session.settings()));
        let codex = Arc::new(CodexClient::with_options(
            Arc::clone(&session),
            options.codex.clone(),
        )?);
        Ok(Self {
            inner: Arc::new(Inner {
                logins: Logins::new(),
                session,
                codex,
                others: std::sync::Mutex::new(std::collections::HashMap::new()),
                codex_options: options.codex,
                conversations: Conversations::new(options.conversations),
                progress_interval: options.progress_interval,
                roots: Roots::default(),
                files,
            }),
            tool_router: Self::tool_router(),
        })
    }

    /// Before the process exits: abandon a sign-in pending in this process, and let a refresh
    /// in flight finish its save (SIGTERM, SIGINT and stdin EOF all come through here).
    pub async fn shutdown(&self) {
        if self.inner.logins.cancel(None).await {
            tracing::info!("cancelled the pending sign-in at exit");
        }
        if !self
            .inner
            .session
            .settle(codex_oauth_core::SETTLE_LIMIT)
            .await
        {
            tracing::error!(
                "a refreshed sign-in could not be saved before exit; the next call may ask to sign in again"
            );
        }
        let others: Vec<_> = self
            .inner
            .others
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        for c in others {
            if !c.session().settle(codex_oauth_core::SETTLE_LIMIT).await {
                tracing::error!(profile = %c.session().settings().profile, "a refreshed sign-in could not be saved before exit");
            }
        }
    }
}

impl Inner {
    /// The client of `account` (a profile name), or of the served profile when `None`.
    fn client(&self, account: Option<&str>) -> codex_oauth_core::Result<Arc<CodexClient>> {
        self.client_of(account, false)
    }

    /// The session of `account` for a sign-in: an account that does not exist yet is made
    /// (a new profile) when its name is valid.
    fn session_for_sign_in(&self, account: Option<&str>) -> codex_oauth_core::Result<Arc<Session>> {
        self.client_of(account, true)
            .map(|c| Arc::clone(c.session()))
    }

    fn client_of(
        &self,
        account: Option<&str>,
        new_ok: bool,
    ) -> codex_oauth_core::Result<Arc<CodexClient>> {
        let served = &self.session.settings().profile;
        let Some(name) = account
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != served)
        else {
            return Ok(Arc::clone(&self.codex));
        };
        if let Some(c) = self.others.lock().ok().and_then(|m| m.get(name).cloned()) {
            return Ok(c);
        }
        let settings = self.session.settings();
        let known = codex_oauth_core::accounts::profile_names(settings, served);
        if new_ok {
            codex_oauth_core::config::validate_profile(name).map_err(|why| {
                codex_oauth_core::Error::Input(format!(
                    "`{}` cannot be an account name: {why}",
                    elide(name, ECHO_CHARS)
                ))
            })?;
        } else if !known.iter().any(|p| p == name) {
            return Err(codex_oauth_core::Error::Input(format!(
                "there is no account `{}`; the accounts (profiles) are: {} (see codex_status)",
                elide(name, ECHO_CHARS),
                known.join(", ")
            )));
        }
        let session = Session::open(codex_oauth_core::accounts::settings_of(settings, name))?;
        let client = Arc::new(CodexClient::with_options(
            session,
            self.codex_options.clone(),
        )?);
        if let Ok(mut m) = self.others.lock() {
            m.insert(name.to_owned(), Arc::clone(&client));
        }
        Ok(client)
    }

    /// Other signed-in accounts whose effective remaining is not used up: `(profile, text)`.
    async fn accounts_with_room(&self, except: &str) -> Vec<(String, String)> {
        let settings = self.session.settings();
        codex_oauth_core::accounts::list(settings, &settings.profile)
            .await
            .into_iter()
            .filter(|a| a.profile != except && a.status.signed_in)
            .filter(|a| a.status.remaining().is_none_or(|r| !r.blocked))
            .map(|a| {
                let room = a
                    .status
                    .remaining()
                    .map(codex_oauth_core::model::Remaining::describe)
                    .unwrap_or_else(|| "usage not seen yet".into());
                (a.profile, room)
            })
            .collect()
    }
}

impl Inner {
    /// The workspace of this call: the client's roots (else the working folder), less the
    /// store and the config, which never go even when a root holds them.
    async fn workspace(&self, ctx: &RequestContext<RoleServer>, codex: &CodexClient) -> Workspace {
        let folders = self.roots.folders(&ctx.peer).await;
        let settings = codex.session().settings();
        let mut private = vec![settings.home.clone()];
        private.extend(
            settings
                .config_file
                .parent()
                .map(std::path::Path::to_path_buf),
        );
        Workspace::new(folders, &private)
    }

    /// Send `req` with progress notifications labelled `label`, until the answer, or the
    /// client's cancel (then a `cancelled` result).
    async fn respond(
        &self,
        ctx: &RequestContext<RoleServer>,
        codex: &CodexClient,
        req: &ResponseRequest,
        label: String,
    ) -> Result<codex_oauth_core::Result<codex_oauth_core::codex::Answer>, CallToolResult> {
        let progress = Progress::start(
            ctx.peer.clone(),
            ctx.meta.get_progress_token(),
            label,
            self.progress_interval,
        );
        let mut received = 0usize;
        let mut on_delta = |d: &str| {
            received += d.chars().count();
            progress.received(received);
        };
        tokio::select! {
            r = codex.respond(req, &mut on_delta) => Ok(r),
            _ = ctx.ct.cancelled() => {
                tracing::info!("a Codex call was cancelled by the client; the upstream request is dropped");
                Err(format::refusal(
                    "cancelled",
                    ErrorKind::Cancelled,
                    "The request was cancelled.".into(),
                ))
            }
        }
    }

    /// The failure of a call to Codex: at a usage limit, with the other accounts that have room.
    async fn failed(
        &self,
        e: &codex_oauth_core::Error,
        profile: &str,
        tool: &str,
    ) -> CallToolResult {
        tracing::warn!(error = %e, "{tool} failed");
        if matches!(e, codex_oauth_core::Error::UsageLimit { .. }) {
            let others = self.accounts_with_room(profile).await;
            return format::usage_limit_with_others(e, &others);
        }
        format::failure(e)
    }

    /// The images `given` names (workspace paths or data URLs), read and fitted to the caps off
    /// the async threads; a refusal naming each one that cannot be sent.
    async fn images(
        &self,
        ctx: &RequestContext<RoleServer>,
        codex: &CodexClient,
        given: Vec<String>,
    ) -> Result<Vec<images::Image>, CallToolResult> {
        let ws = self.workspace(ctx, codex).await;
        let loaded = blocking("reading the images", move || {
            let limits = images::ImageLimits::default();
            given
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    images::load(&ws, g, i + 1, &limits).map_err(|why| {
                        format!(
                            "{}: {why}",
                            elide(&images::source_name(g, i + 1), ECHO_CHARS)
                        )
                    })
                })
                .collect::<Vec<_>>()
        })
        .await?;
        let refused: Vec<&str> = loaded
            .iter()
            .filter_map(|r| r.as_ref().err().map(String::as_str))
            .collect();
        if !refused.is_empty() {
            return Err(format::refusal(
                "bad_image",
                ErrorKind::Input,
                format!(
                    "Not sent: {}. Name PNG, JPEG, WebP or GIF files inside the workspace, or pass data:image/…;base64 URLs.",
                    refused.join("; ")
                ),
            ));
        }
        Ok(loaded.into_iter().filter_map(Result::ok).collect())
    }

    /// The files `patterns` name, read from the workspace (off the async threads); a refusal
    /// when none of them can be sent, so no request goes without the files it was about.
    async fn gather(
        &self,
        ctx: &RequestContext<RoleServer>,
        codex: &CodexClient,
        patterns: Vec<String>,
    ) -> Result<Bundle, CallToolResult> {
        let ws = self.workspace(ctx, codex).await;
        let limits = self.files;
        let roots = ws.describe_roots();
        let bundle = blocking("reading the files", move || {
            files::gather(&ws, &patterns, &limits)
        })
        .await?;
        if bundle.sent.is_empty() {
            let where_ = if roots.is_empty() {
                "the client gave no workspace folder".to_owned()
            } else {
                format!("the workspace is {roots}")
            };
            return Err(format::refusal(
                "no_files",
                ErrorKind::Input,
                format!(
                    "No file of `files` can be sent ({}). Name files inside the workspace ({where_}), or put what Codex needs in the prompt.",
                    bundle.summary()
                ),
            ));
        }
        Ok(bundle)
    }
}

/// Run blocking file work (`what`, for the error) off the async threads.
async fn blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CallToolResult> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        format::failure(&codex_oauth_core::Error::Internal(format!(
            "{what} failed: {e}"
        )))
    })
}

fn invalid(message: impl Into<String>) -> ErrorData {
    ErrorData::invalid_params(message.into(), None)
}

#[tool_router]
impl CodexServer {
    #[tool(
        description = "Ask Codex (OpenAI's coding model, through the user's ChatGPT sign-in). Returns the answer as text, with the model, usage and a conversation_id to continue the conversation. Pass `files` (paths or globs in the workspace) for the code it should read instead of pasting it; the result lists the files sent, skipped and redacted.",
        input_schema = input_schema::<QueryArgs>(),
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
        for (name, text) in [
            ("prompt", Some(&a.prompt)),
            ("system prompt", a.system_prompt.as_ref()),
        ] {
            let len = text.map_or(0, String::len);
            if len > MAX_PROMPT_BYTES {
                return Ok(format::refusal(
                    "prompt_too_large",
                    ErrorKind::Input,
                    format!(
                        "The {name} is {} MB; the limit is {} MB, far beyond what the model can read. Send only the parts Codex needs.",
                        len / (1024 * 1024),
                        MAX_PROMPT_BYTES / (1024 * 1024)
                    ),
                ));
            }
        }
        let me = &self.inner;
        let codex = match me.client(a.account.as_deref()) {
            Ok(c) => c,
            Err(e) => return Ok(format::failure(&e)),
        };
        let settings = codex.session().settings();
        let (conversation_id, base) = match &a.conversation_id {
            Some(id) => match me.conversations.get(settings, id).await {
                Ok(Some(c)) => (id.clone(), c),
                Ok(None) => {
                    let limits = me.conversations.limits();
                    return Ok(format::refusal(
                        "unknown_conversation",
                        ErrorKind::Input,
                        format!(
                            "Unknown conversation_id `{}`: this bridge keeps the last {} conversations of each account, for {} days after their last use. Start a new conversation (omit conversation_id) and include the context it needs.",
                            elide(id, ECHO_CHARS),
                            limits.max_conversations,
                            limits.max_age.as_secs() / 86_400
                        ),
                    ));
                }
                Err(e) => return Ok(format::failure(&e)),
            },
            None => (super::conversations::new_id(), Conversation::new()),
        };
        let profile = settings.profile.clone();
        if let Err(e) = codex.session().check_budget().await {
            return Ok(format::failure(&e));
        }
        let bundle = if a.files.is_empty() {
            None
        } else {
            match me.gather(&ctx, &codex, a.files.clone()).await {
                Ok(b) => Some(b),
                Err(refused) => return Ok(refused),
            }
        };
        let mut user_text = match &bundle {
            Some(b) => b.prompt(&a.prompt),
            None => a.prompt.clone(),
        };
        let asked = a
            .model
            .clone()
            .filter(|m| !m.trim().is_empty())
            .or(base.model.clone());
        let model = match codex.model(asked.as_deref()).await {
            Ok(m) => m,
            Err(e) => return Ok(format::failure(&e)),
        };
        let effort = match model.effort(a.reasoning_effort.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(format::failure(&e)),
        };
        let images = if a.images.is_empty() {
            Vec::new()
        } else if !model.accepts_images() {
            return Ok(format::refusal(
                "images_unsupported",
                ErrorKind::Input,
                format!(
                    "The model {} takes text only, so `images` cannot be sent. Choose a model with image input (codex_models lists it), or leave `images` out.",
                    model.slug
                ),
            ));
        } else {
            match me.images(&ctx, &codex, a.images.clone()).await {
                Ok(i) => i,
                Err(refused) => return Ok(refused),
            }
        };
        if !images.is_empty() {
            let names = files::quoted_list(images.iter().map(|i| i.sent.source.as_str()));
            user_text.push_str(&format!(
                "\n\n[{} attached to this message: {names}]",
                if images.len() == 1 {
                    "An image is"
                } else {
                    "Images are"
                },
            ));
        }
        let system_prompt = a.system_prompt.clone().or(base.system_prompt.clone());
        let max_chars = me.conversations.limits().max_chars;
        let dropped = base.overflow(user_text.chars().count(), max_chars, 0);
        let mut input = base.history(dropped);
        input.push(Turn::user(user_text.clone()));
        let mut req = ResponseRequest::new(&model, input);
        req.images = images.iter().map(|i| i.data_url.clone()).collect();
        req.system_prompt = system_prompt.clone();
        req.reasoning_effort = effort;
        req.conversation_id = base.session_id.clone();
        let model = model.slug;

        let result = match me
            .respond(&ctx, &codex, &req, format!("Codex ({model})"))
            .await
        {
            Ok(r) => r,
            Err(cancelled) => return Ok(cancelled),
        };
        match result {
            Ok(answer) => {
                let base = Conversation {
                    model: Some(model),
                    system_prompt,
                    ..base
                };
                let saved = me
                    .conversations
                    .append(
                        codex.session().settings(),
                        &conversation_id,
                        base,
                        Turn::user(user_text),
                        Turn::assistant(answer.text.clone()),
                    )
                    .await;
                let max = a.max_output_chars.unwrap_or(DEFAULT_MAX_OUTPUT_CHARS) as usize;
                let mut r = format::answer(&answer, &conversation_id, max);
                format::conversation_notes(&mut r, dropped, max_chars, saved.err());
                // state.json names who is signed in: no keychain read on every answer.
                let store = Arc::clone(codex.session().store());
                let email = tokio::task::spawn_blocking(move || store.state().email)
                    .await
                    .ok()
                    .flatten();
                if let Some(data) = r.structured_content.as_mut() {
                    data["account"] = serde_json::json!({"profile": profile, "email": email});
                }
                let sent: Vec<_> = images.iter().map(|i| &i.sent).collect();
                format::what_was_sent(&mut r, bundle.as_ref(), &sent);
                Ok(r)
            }
            Err(e) => Ok(me.failed(&e, &profile, "codex_query").await),
        }
    }

    #[tool(
        description = "Have Codex review the workspace's git change: by default the staged, unstaged and new files against HEAD; with `base` everything since a branch, tag or commit (or a commit range A..B). The bridge bundles the unified diff and the full text of the changed files itself (read-only, secrets kept out), so do not paste the code. Returns findings (file, line, severity, title, detail, suggestion) as structured content and as text, and what was sent.",
        input_schema = input_schema::<ReviewArgs>(),
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
        let me = &self.inner;
        let codex = match me.client(a.account.as_deref()) {
            Ok(c) => c,
            Err(e) => return Ok(format::failure(&e)),
        };
        let profile = codex.session().settings().profile.clone();
        if let Err(e) = codex.session().check_budget().await {
            return Ok(format::failure(&e));
        }
        let ws = me.workspace(&ctx, &codex).await;
        let scope = review::Scope {
            base: a.base.clone(),
            paths: a.paths.clone(),
        };
        let limits = me.files;
        let change = match blocking("reading the change", move || {
            review::collect(&ws, &scope, &limits)
        })
        .await
        {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Ok(format::failure(&e)),
            Err(failed) => return Ok(failed),
        };
        if change.is_empty() {
            let narrowed = if a.paths.is_empty() {
                String::new()
            } else {
                format!(" under {}", a.paths.join(", "))
            };
            return Ok(format::ok(
                format!(
                    "Nothing to review: no change{narrowed} ({}).",
                    change.compared
                ),
                serde_json::json!({"empty": true, "compared": change.compared, "findings": []}),
            ));
        }
        let asked = a.model.as_deref().filter(|m| !m.trim().is_empty());
        let model = match codex.model(asked).await {
            Ok(m) => m,
            Err(e) => return Ok(format::failure(&e)),
        };
        let effort = match model.effort(a.reasoning_effort.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(format::failure(&e)),
        };
        let input = vec![Turn::user(change.prompt(a.focus.as_deref()))];
        let mut req = ResponseRequest::new(&model, input);
        req.system_prompt = Some(review::REVIEW_INSTRUCTIONS.into());
        req.reasoning_effort = effort;
        let label = format!("Codex review ({})", model.slug);
        let answer = match me.respond(&ctx, &codex, &req, label).await {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return Ok(me.failed(&e, &profile, "codex_review").await),
            Err(cancelled) => return Ok(cancelled),
        };
        Ok(format::review(&answer, &change, &profile))
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
        let status = self.inner.session.status().await;
        let settings = self.inner.session.settings();
        let others: Vec<_> = codex_oauth_core::accounts::list(settings, &settings.profile)
            .await
            .into_iter()
            .filter(|a| a.profile != settings.profile)
            .collect();
        Ok(format::status_with_others(&status, &others))
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
        let session = match self.inner.session_for_sign_in(a.account.as_deref()) {
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
        let session = match me.client(a.account.as_deref()) {
            Ok(c) => Arc::clone(c.session()),
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
        let codex = match self.inner.client(a.account.as_deref()) {
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
        let codex = match self.inner.client(a.account.as_deref()) {
            Ok(c) => c,
            Err(e) => return Ok(format::failure(&e)),
        };
        match codex.usage().await {
            Ok(u) => Ok(format::usage(&u)),
            Err(e) => Ok(format::failure(&e)),
        }
    }
}

#[tool_handler(router = self.tool_router)]
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
