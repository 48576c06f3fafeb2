//! `ask`: one question to Codex, the whole of it. The account's client from the registry, the
//! kept conversation it continues, the budget check, the files and images the caller named (read
//! from the workspace, secrets kept out), the model and effort, the request, and the exchange kept
//! for a follow-up. A front end shapes what comes back ([`Asked`]); a refusal or failure is a core
//! [`Error`] with its code.

use std::path::PathBuf;
use std::sync::Arc;

use super::registry::Accounts;
use crate::codex::{Answer, CodexClient, ResponseRequest, Turn};
use crate::conversations::{self, Conversation, ConversationStore};
use crate::echo::elide;
use crate::error::{Error, Refusal, Result};
use crate::files::{self, Bundle, Limits, Project, images};

/// The longest prompt (or system prompt) accepted, in bytes: far above any model's context.
pub const MAX_PROMPT_BYTES: usize = 4 * 1024 * 1024;

/// What is asked: the arguments of `codex_query`.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub prompt: String,
    pub system_prompt: Option<String>,
    /// Paths or globs in the workspace, sent as they are on disk (secrets redacted).
    pub files: Vec<String>,
    /// Project paths or `data:image/…;base64,` URLs.
    pub images: Vec<String>,
    pub model: Option<String>,
    pub reasoning_effort: Option<String>,
    /// The conversation to continue; `None`: a new one.
    pub conversation_id: Option<String>,
    /// The account (profile) to ask with; `None`: the served one.
    pub account: Option<String>,
}

/// How far a call has come, for a front end's progress.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// The request is on its way to `label` (e.g. `Codex (gpt-5.5)`).
    Sending(&'a str),
    /// This many characters of the answer have arrived.
    Received(usize),
}

/// What one call works with besides its arguments.
pub struct Call<'a> {
    /// The workspace: the client's roots (else the working folder).
    pub folders: Vec<PathBuf>,
    /// How much of the workspace may go.
    pub files: Limits,
    /// The bounds of the kept conversations.
    pub conversations: conversations::Limits,
    /// Told of each step.
    pub on_step: &'a (dyn Fn(Step<'_>) + Send + Sync),
}

/// What came back, and what went.
#[derive(Debug)]
pub struct Asked {
    pub answer: Answer,
    pub conversation_id: String,
    /// The account that answered, and who is signed in to it (from state.json).
    pub profile: String,
    pub email: Option<String>,
    /// The oldest turns of the conversation left out to fit its bound.
    pub dropped_turns: usize,
    /// The exchange could not be kept for a follow-up: why.
    pub not_kept: Option<Error>,
    /// The files that went and those that did not (when `files` named any).
    pub files: Option<Bundle>,
    pub images: Vec<images::SentImage>,
}

/// Ask Codex (see the module's documentation).
pub async fn ask(accounts: &Accounts, ask: Ask, call: &Call<'_>) -> Result<Asked> {
    refuse_oversized(&ask)?;
    let codex = accounts.client(ask.account.as_deref())?;
    let settings = codex.session().settings();
    let store = ConversationStore::open(settings, call.conversations);
    let (conversation_id, base) = match &ask.conversation_id {
        Some(id) => (id.clone(), kept(&store, id, call.conversations).await?),
        None => (conversations::new_id(), Conversation::new()),
    };
    codex.session().check_budget().await?;
    let workspace = workspace(&codex, call.folders.clone());
    let bundle = if ask.files.is_empty() {
        None
    } else {
        Some(gather(&workspace, ask.files.clone(), call.files).await?)
    };
    let mut user_text = match &bundle {
        Some(b) => b.prompt(&ask.prompt),
        None => ask.prompt.clone(),
    };
    let asked_model = ask
        .model
        .clone()
        .filter(|m| !m.trim().is_empty())
        .or(base.model.clone())
        .or(settings.model.clone());
    let model = codex.model(asked_model.as_deref()).await?;
    let effort = effort_for(&model, ask.reasoning_effort.as_deref(), settings)?;
    let images = if ask.images.is_empty() {
        Vec::new()
    } else if !model.accepts_images() {
        return Err(Error::refused(
            Refusal::ImagesUnsupported,
            format!(
                "The model {} takes text only, so `images` cannot be sent. Choose a model with image input (codex_models lists it), or leave `images` out.",
                model.slug
            ),
        ));
    } else {
        load_images(workspace, ask.images.clone()).await?
    };
    name_images(&mut user_text, &images);
    let system_prompt = ask.system_prompt.clone().or(base.system_prompt.clone());
    let max_chars = call.conversations.max_chars;
    let dropped_turns = base.overflow(user_text.chars().count(), max_chars, 0);
    let mut input = base.history(dropped_turns);
    input.push(Turn::user(user_text.clone()));
    let mut req = ResponseRequest::new(&model, input);
    req.images = images.iter().map(|i| i.data_url.clone()).collect();
    req.system_prompt = system_prompt.clone();
    req.reasoning_effort = effort;
    req.conversation_id = base.session_id.clone();

    let answer = respond(&codex, &req, &format!("Codex ({})", model.slug), call).await?;
    let base = Conversation {
        model: Some(model.slug),
        system_prompt,
        ..base
    };
    let exchange = (Turn::user(user_text), Turn::assistant(answer.text.clone()));
    let not_kept = keep(store, &conversation_id, base, exchange).await;
    // state.json names who is signed in: no keychain read on every answer.
    let state = Arc::clone(codex.session().store());
    let email = blocking("reading state.json", move || Ok(state.state().email))
        .await
        .ok()
        .flatten();
    Ok(Asked {
        answer,
        conversation_id,
        profile: settings.profile.clone(),
        email,
        dropped_turns,
        not_kept,
        files: bundle,
        images: images.into_iter().map(|i| i.sent).collect(),
    })
}

/// A prompt or system prompt over [`MAX_PROMPT_BYTES`] refused.
fn refuse_oversized(ask: &Ask) -> Result<()> {
    for (name, text) in [
        ("prompt", Some(&ask.prompt)),
        ("system prompt", ask.system_prompt.as_ref()),
    ] {
        let len = text.map_or(0, String::len);
        if len > MAX_PROMPT_BYTES {
            return Err(Error::refused(
                Refusal::PromptTooLarge,
                format!(
                    "The {name} is {} MB; the limit is {} MB, far beyond what the model can read. Send only the parts Codex needs.",
                    len / (1024 * 1024),
                    MAX_PROMPT_BYTES / (1024 * 1024)
                ),
            ));
        }
    }
    Ok(())
}

/// The message names the images attached to it.
fn name_images(user_text: &mut String, images: &[images::Image]) {
    if images.is_empty() {
        return;
    }
    let names = files::quoted_list(images.iter().map(|i| i.sent.source.as_str()));
    let what = if images.len() == 1 {
        "An image is"
    } else {
        "Images are"
    };
    user_text.push_str(&format!("\n\n[{what} attached to this message: {names}]"));
}

/// Keep the exchange in conversation `id` for a follow-up; why it could not be, if it could not.
async fn keep(
    store: ConversationStore,
    id: &str,
    base: Conversation,
    (user, assistant): (Turn, Turn),
) -> Option<Error> {
    let id = id.to_owned();
    let not_kept = blocking("the conversation store", move || {
        store.append(&id, base, user, assistant)
    })
    .await
    .err();
    if let Some(e) = &not_kept {
        tracing::warn!(error = %e, "the conversation could not be kept");
    }
    not_kept
}

/// The effort of a call: the one asked for (checked against the model), else the setting
/// `reasoning_effort` when the model takes it (a default that does not fit one model is no
/// error), else the model's own default.
pub(super) fn effort_for(
    model: &crate::codex::Model,
    asked: Option<&str>,
    settings: &crate::config::Settings,
) -> Result<Option<String>> {
    let asked = asked.filter(|e| !e.trim().is_empty());
    if asked.is_some() {
        return model.effort(asked);
    }
    match settings.reasoning_effort.as_deref() {
        Some(default) => model.effort(Some(default)).or_else(|_| {
            tracing::info!(model = %model.slug, effort = default, "the default effort does not fit this model: its own is used");
            model.effort(None)
        }),
        None => model.effort(None),
    }
}

/// Send `req`, telling `call` of the steps, until the answer.
pub(super) async fn respond(
    codex: &CodexClient,
    req: &ResponseRequest,
    label: &str,
    call: &Call<'_>,
) -> Result<Answer> {
    (call.on_step)(Step::Sending(label));
    let mut received = 0usize;
    let mut on_delta = |d: &str| {
        received += d.chars().count();
        (call.on_step)(Step::Received(received));
    };
    codex.respond(req, &mut on_delta).await
}

/// The workspace of a call: `folders`, less the store and the config, which never go even when a
/// folder holds them.
pub(super) fn workspace(codex: &CodexClient, folders: Vec<PathBuf>) -> Project {
    let settings = codex.session().settings();
    let mut private = vec![settings.home.clone()];
    private.extend(
        settings
            .config_file
            .parent()
            .map(std::path::Path::to_path_buf),
    );
    Project::new(folders, &private)
}

/// The kept conversation `id`, or a refusal that says how long conversations are kept.
async fn kept(
    store: &ConversationStore,
    id: &str,
    limits: conversations::Limits,
) -> Result<Conversation> {
    let (store, key) = (store.clone(), id.to_owned());
    match blocking("the conversation store", move || store.get(&key)).await? {
        Some(c) => Ok(c),
        None => Err(Error::refused(
            Refusal::UnknownConversation,
            format!(
                "Unknown conversation_id `{}`: this bridge keeps the last {} conversations of each account, for {} days after their last use. Start a new conversation (omit conversation_id) and include the context it needs.",
                elide(id),
                limits.max_conversations,
                limits.max_age.as_secs() / 86_400
            ),
        )),
    }
}

/// The files `patterns` name; a refusal when none of them can be sent, so no request goes
/// without the files it was about.
async fn gather(ws: &Project, patterns: Vec<String>, limits: Limits) -> Result<Bundle> {
    let roots = ws.describe_roots();
    let ws = ws.clone();
    let bundle = blocking("reading the files", move || {
        Ok(files::gather(&ws, &patterns, &limits))
    })
    .await?;
    if bundle.sent.is_empty() {
        let where_ = if roots.is_empty() {
            "the client gave no workspace folder".to_owned()
        } else {
            format!("the workspace is {roots}")
        };
        return Err(Error::refused(
            Refusal::NoFiles,
            format!(
                "No file of `files` can be sent ({}). Name files inside the workspace ({where_}), or put what Codex needs in the prompt.",
                bundle.summary()
            ),
        ));
    }
    Ok(bundle)
}

/// The images `given` names, read and fitted to the caps; a refusal naming each one that
/// cannot be sent.
async fn load_images(ws: Project, given: Vec<String>) -> Result<Vec<images::Image>> {
    let loaded = blocking("reading the images", move || {
        let limits = images::ImageLimits::default();
        Ok(given
            .iter()
            .enumerate()
            .map(|(i, g)| {
                images::load(&ws, g, i + 1, &limits)
                    .map_err(|why| format!("{}: {why}", elide(&images::source_name(g, i + 1))))
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let refused: Vec<&str> = loaded
        .iter()
        .filter_map(|r| r.as_ref().err().map(String::as_str))
        .collect();
    if !refused.is_empty() {
        return Err(Error::refused(
            Refusal::BadImage,
            format!(
                "Not sent: {}. Name PNG, JPEG, WebP or GIF files inside the workspace, or pass data:image/…;base64 URLs.",
                refused.join("; ")
            ),
        ));
    }
    Ok(loaded
        .into_iter()
        .filter_map(std::result::Result::ok)
        .collect())
}

/// Run blocking file work (`what`, for the error) off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("{what} failed: {e}")))?
}
