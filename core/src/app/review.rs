//! `review`: Codex's review of the workspace's git change. The account's client, the budget
//! check, the change bundled from the repository (the diff and the changed files' full text,
//! secrets kept out), the model and effort, the request, and the findings read from the answer.

use super::ask::{Call, blocking, effort_for, respond, workspace};
use super::registry::Accounts;
use crate::codex::{Answer, ResponseRequest, Turn};
use crate::error::Result;
use crate::review::{self, Change, Review, Scope};

/// What is asked: the arguments of `codex_review`.
#[derive(Debug, Clone, Default)]
pub struct ReviewAsk {
    /// A branch, tag or commit (or a range) to compare with; `None`: HEAD, with what is staged,
    /// unstaged and new.
    pub base: Option<String>,
    /// Only what is staged: the index against HEAD. Excludes `base` and `commit`.
    pub staged: bool,
    /// One commit against its first parent. Excludes `base` and `staged`.
    pub commit: Option<String>,
    /// Paths or folders to narrow the change to.
    pub paths: Vec<String>,
    /// What the review should look at most.
    pub focus: Option<String>,
    pub model: Option<String>,
    pub reasoning_effort: Option<String>,
    pub account: Option<String>,
}

/// How a review ended.
#[derive(Debug)]
pub enum Reviewed {
    /// There was no change to review (nothing was sent).
    Nothing {
        /// What was compared, in words.
        compared: String,
    },
    /// Codex reviewed `change`.
    Done(Box<Done>),
}

/// A review Codex made.
#[derive(Debug)]
pub struct Done {
    pub answer: Answer,
    /// The findings, when the answer was in the review's format.
    pub review: Option<Review>,
    pub change: Change,
    pub profile: String,
}

/// Review the change (see the module's documentation). The workspace is `call.folders`; the
/// diff and full texts are bounded by `call.files`.
pub async fn review(accounts: &Accounts, ask: ReviewAsk, call: &Call<'_>) -> Result<Reviewed> {
    let change = change_of(accounts, &ask, call).await?;
    if change.is_empty() {
        return Ok(Reviewed::Nothing {
            compared: change.compared,
        });
    }
    review_change(accounts, ask, change, call).await
}

/// The change a review of `ask` would send, read now (nothing is asked of Codex): the
/// arguments checked, the account's budget checked, the change bundled from the repository.
pub async fn change_of(accounts: &Accounts, ask: &ReviewAsk, call: &Call<'_>) -> Result<Change> {
    let scope = Scope {
        base: ask.base.clone(),
        staged: ask.staged,
        commit: ask.commit.clone(),
        paths: ask.paths.clone(),
    };
    // Arguments that exclude each other are refused before anything is opened or asked.
    scope.check()?;
    let codex = accounts.client(ask.account.as_deref())?;
    codex.session().check_budget().await?;
    let ws = workspace(&codex, call.folders.clone());
    let limits = call.files;
    blocking("reading the change", move || {
        review::collect(&ws, &scope, &limits)
    })
    .await
}

/// Codex's review of `change` (read by [`change_of`] for the same `ask`).
pub async fn review_change(
    accounts: &Accounts,
    ask: ReviewAsk,
    change: Change,
    call: &Call<'_>,
) -> Result<Reviewed> {
    let codex = accounts.client(ask.account.as_deref())?;
    let profile = codex.session().settings().profile.clone();
    let settings = codex.session().settings();
    let asked = ask
        .model
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .or(settings.model.as_deref());
    let model = codex.model(asked).await?;
    let effort = effort_for(&model, ask.reasoning_effort.as_deref(), settings)?;
    let input = vec![Turn::user(change.prompt(ask.focus.as_deref()))];
    let mut req = ResponseRequest::new(&model, input);
    req.system_prompt = Some(review::REVIEW_INSTRUCTIONS.into());
    req.reasoning_effort = effort;
    let label = format!("Codex review ({})", model.slug);
    let answer = respond(&codex, &req, &label, call).await?;
    Ok(Reviewed::Done(Box::new(Done {
        review: review::parse_review(&answer.text),
        answer,
        change,
        profile,
    })))
}
