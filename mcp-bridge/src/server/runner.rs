//! `codex-mcp-bridge run-job ID`: the detached process that does a background job's work (a
//! bridge starts it and may exit at once). It names itself in the job, does the work as the
//! synchronous call would, says it is alive while it works, and ends the job however it ends:
//! the result, its time limit, or a cancel (which drops the work, closing the request).

use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use codex_oauth_core::agent::{LoopEvent, LoopLimits};
use codex_oauth_core::app::{Accounts, Call, Step, TaskCall};
use codex_oauth_core::files::Limits;
use codex_oauth_core::jobs::{
    HEARTBEAT, JobError, JobProgress, JobState, JobStore, cancelled_error, this_process,
};
use codex_oauth_core::sandbox::Launcher;
use codex_oauth_core::{Error, ErrorCode, ErrorKind, Refusal};
use rmcp::model::CallToolResult;

use super::format;
use super::jobs::{JobRequest, blocking};
use super::work;

/// How often the runner looks for a cancel and writes its progress.
const TICK: Duration = Duration::from_millis(200);
/// At most one progress write per this long.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Run job `id` of the served profile of `accounts` to its end.
pub fn run(accounts: Accounts, id: &str) -> ExitCode {
    use crate::logging::{Mode, Plan};
    crate::logging::init(
        &accounts.settings().home,
        Mode::Cli,
        &Plan::from_env(Mode::Cli, 0),
    );
    let runtime = match crate::runtime::multi_thread() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async {
        let code = match run_job(&accounts, id).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(job = id, error = %e, "the job could not be run");
                ExitCode::from(1)
            }
        };
        if !accounts.settle().await {
            tracing::error!("a refreshed sign-in could not be saved before the job's exit");
        }
        code
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

/// How the wait beside the work ended.
enum Stop {
    Cancelled,
    /// The job ended elsewhere (a reader took this process for gone): nothing more to record.
    EndedElsewhere,
}

async fn run_job(accounts: &Accounts, id: &str) -> codex_oauth_core::Result<()> {
    let store = JobStore::open(&accounts.settings_of(accounts.served()));
    let (s, key) = (store.clone(), id.to_owned());
    blocking(move || s.set_runner(&key, this_process())).await?;
    let (s, key) = (store.clone(), id.to_owned());
    let job = blocking(move || s.get(&key))
        .await?
        .ok_or_else(|| Error::Internal(format!("job {id} is not in the store")))?;
    if job.state.ended() {
        return Ok(());
    }
    let (s, key) = (store.clone(), id.to_owned());
    let request: JobRequest = serde_json::from_value(blocking(move || s.request(&key)).await?)
        .map_err(|e| Error::Internal(format!("job {id}'s request cannot be read: {e}")))?;
    let progress = Arc::new(Mutex::new(JobProgress::default()));
    let seen = Arc::clone(&progress);
    let on_step = move |step: Step<'_>| {
        let mut p = seen.lock().unwrap_or_else(PoisonError::into_inner);
        match step {
            Step::Sending(what) => p.message = Some(format!("waiting for {what}")),
            Step::Received(n) => p.chars = n,
        }
    };
    let call = Call {
        folders: request.folders.clone(),
        files: Limits::from_settings(accounts.settings()),
        conversations: Default::default(),
        on_step: &on_step,
    };
    let left = (job.deadline - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    let limit = work::Limit {
        left,
        seconds: job.timeout_seconds,
    };
    let on_event = |e: LoopEvent<'_>| {
        let mut p = progress.lock().unwrap_or_else(PoisonError::into_inner);
        match e {
            LoopEvent::Asking(turn) => p.message = Some(format!("turn {turn}: waiting for Codex")),
            LoopEvent::Running { turn, tool } => {
                p.message = Some(format!("turn {turn}: running {tool}"));
            }
            LoopEvent::Received(n) => p.chars = n,
        }
    };
    let task_call = TaskCall {
        folders: request.folders.clone(),
        dir: store.dir().join(id),
        launcher: Launcher::bridge(
            std::env::current_exe().unwrap_or_else(|_| "codex-mcp-bridge".into()),
        ),
        limits: LoopLimits::default(),
        on_event: &on_event,
    };
    let work = do_work(accounts, &request, &call, &task_call, limit);
    let stop = watch(&store, id, &progress);
    let (state, result, error) = tokio::select! {
        r = work => {
            let error = error_of(&r);
            let state = if error.is_some() { JobState::Failed } else { JobState::Completed };
            (state, r, error)
        }
        stop = stop => match stop {
            Stop::Cancelled => {
                tracing::info!(job = id, "cancelled: the request is dropped");
                let e = Error::refused(Refusal::Cancelled, "The job was cancelled.");
                (JobState::Cancelled, format::failure(&e), Some(cancelled_error()))
            }
            Stop::EndedElsewhere => return Ok(()),
        },
    };
    let value = serde_json::to_value(&result)
        .map_err(|e| Error::Internal(format!("cannot write job {id}'s result: {e}")))?;
    let (s, key) = (store.clone(), id.to_owned());
    blocking(move || s.finish(&key, state, Some(&value), error)).await?;
    tracing::info!(job = id, state = state.as_str(), "the job ended");
    Ok(())
}

/// The tool's work, as the synchronous call does it.
async fn do_work(
    accounts: &Accounts,
    request: &JobRequest,
    call: &Call<'_>,
    task_call: &TaskCall<'_>,
    limit: work::Limit,
) -> CallToolResult {
    let bad = |e: serde_json::Error| {
        format::failure(&Error::Internal(format!(
            "the job's arguments cannot be read: {e}"
        )))
    };
    match request.tool.as_str() {
        "codex_query" => match serde_json::from_value(request.args.clone()) {
            Ok(a) => work::query(accounts, a, call, limit).await,
            Err(e) => bad(e),
        },
        "codex_review" => match serde_json::from_value(request.args.clone()) {
            Ok(a) => work::review(accounts, a, call, limit).await,
            Err(e) => bad(e),
        },
        "codex_task" => match serde_json::from_value(request.args.clone()) {
            Ok(a) => work::task(accounts, a, task_call, limit).await,
            Err(e) => bad(e),
        },
        other => format::failure(&Error::Internal(format!(
            "a job of `{other}` cannot be run by this version"
        ))),
    }
}

/// Beside the work: a cancel asked for ends it; progress and a heartbeat are written.
async fn watch(store: &JobStore, id: &str, progress: &Arc<Mutex<JobProgress>>) -> Stop {
    let mut written = JobProgress::default();
    let mut last_write = Instant::now();
    loop {
        tokio::time::sleep(TICK).await;
        let (s, key) = (store.clone(), id.to_owned());
        if blocking(move || Ok(s.cancel_requested(&key)))
            .await
            .unwrap_or(false)
        {
            return Stop::Cancelled;
        }
        let now = progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let due = last_write.elapsed() >= HEARTBEAT
            || (now != written && last_write.elapsed() >= PROGRESS_EVERY);
        if !due {
            continue;
        }
        let (s, key, p) = (store.clone(), id.to_owned(), now.clone());
        match blocking(move || s.heartbeat(&key, Some(p))).await {
            Ok(true) => {}
            Ok(false) => return Stop::EndedElsewhere,
            Err(e) => tracing::warn!(job = id, error = %e, "cannot write the job's heartbeat"),
        }
        written = now;
        last_write = Instant::now();
    }
}

/// The reason a tool result failed, from its structured content (`answers::Failure`: `error`,
/// `kind` the code, `category` the kind).
fn error_of(r: &CallToolResult) -> Option<JobError> {
    if r.is_error != Some(true) {
        return None;
    }
    let data = r.structured_content.as_ref();
    let field = |k: &str| data.and_then(|d| d.get(k)).cloned();
    Some(JobError {
        message: field("error")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "the call failed".into()),
        code: field("kind")
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or(ErrorCode::Error),
        kind: field("category")
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or(ErrorKind::Internal),
    })
}
