//! The work of `codex_query` and `codex_review`, the same whether a tool call waits for it or a
//! background job's runner does it: one call into `core::app`, the answer shaped as the tool
//! returns it, and a failure shaped as a tool error (at a usage limit, with the other accounts
//! that have room). A time limit stops the work.

use std::time::Duration;

use codex_oauth_core::Error;
use codex_oauth_core::app::{self, Accounts, Ask, Call, ReviewAsk, TaskAsk, TaskCall};
use rmcp::model::CallToolResult;

use super::args::{DEFAULT_MAX_OUTPUT_CHARS, QueryArgs, ReviewArgs, TaskArgs};
use super::format;

/// A call's time limit: the time left, and the limit as the caller set it (which the error
/// names: a job's runner starts with less left than its whole limit).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub left: Duration,
    pub seconds: u64,
}

/// `codex_query`'s work, stopped at `limit`.
pub async fn query(
    accounts: &Accounts,
    a: QueryArgs,
    call: &Call<'_>,
    limit: Limit,
) -> CallToolResult {
    let max = a.max_output_chars.unwrap_or(DEFAULT_MAX_OUTPUT_CHARS) as usize;
    let account = a.account.clone();
    let ask = Ask {
        prompt: a.prompt,
        system_prompt: a.system_prompt,
        files: a.files,
        images: a.images,
        model: a.model,
        reasoning_effort: a.reasoning_effort,
        conversation_id: a.conversation_id,
        account: a.account,
    };
    match within(limit, app::ask(accounts, ask, call)).await {
        Ok(asked) => format::query(&asked, max, call.conversations.max_chars),
        Err(e) => failed(accounts, &e, account.as_deref(), "codex_query").await,
    }
}

/// `codex_review`'s work, stopped at `limit`.
pub async fn review(
    accounts: &Accounts,
    a: ReviewArgs,
    call: &Call<'_>,
    limit: Limit,
) -> CallToolResult {
    let paths = a.paths.clone();
    let account = a.account.clone();
    let ask = ReviewAsk {
        base: a.base,
        staged: a.staged,
        commit: a.commit,
        paths: a.paths,
        focus: a.focus,
        model: a.model,
        reasoning_effort: a.reasoning_effort,
        account: a.account,
    };
    match within(limit, app::review(accounts, ask, call)).await {
        Ok(reviewed) => format::review(&reviewed, &paths),
        Err(e) => failed(accounts, &e, account.as_deref(), "codex_review").await,
    }
}

/// `codex_task`'s work in the job folder `dir` (the copy goes there), stopped at `limit`.
pub async fn task(
    accounts: &Accounts,
    a: TaskArgs,
    call: &TaskCall<'_>,
    limit: Limit,
) -> CallToolResult {
    let account = a.account.clone();
    let ask = TaskAsk {
        task: a.task,
        model: a.model,
        reasoning_effort: a.reasoning_effort,
        account: a.account,
    };
    match within(limit, app::task(accounts, ask, call)).await {
        Ok(done) => format::task(&done),
        Err(e) => failed(accounts, &e, account.as_deref(), "codex_task").await,
    }
}

/// The time limit of a call: its `timeout_seconds`, else the setting `job_timeout_minutes`.
pub fn limit_of(accounts: &Accounts, timeout_seconds: Option<u64>) -> Limit {
    let seconds =
        timeout_seconds.unwrap_or_else(|| u64::from(accounts.settings().job_timeout_minutes) * 60);
    Limit {
        left: Duration::from_secs(seconds),
        seconds,
    }
}

/// `work`, or [`Error::TimedOut`] past `limit` (the work is dropped: a request in flight is
/// closed).
async fn within<T>(
    limit: Limit,
    work: impl std::future::Future<Output = codex_oauth_core::Result<T>>,
) -> codex_oauth_core::Result<T> {
    match tokio::time::timeout(limit.left, work).await {
        Ok(r) => r,
        Err(_) => Err(Error::TimedOut {
            seconds: limit.seconds,
        }),
    }
}

/// A failed call: at a usage limit, with the other accounts that have room.
pub async fn failed(
    accounts: &Accounts,
    e: &Error,
    account: Option<&str>,
    tool: &str,
) -> CallToolResult {
    tracing::warn!(error = %e, "{tool} failed");
    if matches!(e, Error::UsageLimit { .. }) {
        let profile = accounts.resolve(account).to_owned();
        let others = accounts.with_room(&profile).await;
        return format::failure_with_others(e, &others);
    }
    format::failure(e)
}
