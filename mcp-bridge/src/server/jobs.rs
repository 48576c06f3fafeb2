//! Background jobs from the tools' side: start one (its runner a detached `codex-mcp-bridge
//! run-job` process), list them, read or wait for a result, cancel one. The jobs live in core's
//! `JobStore`, so any bridge, the CLI and the tray see the same ones.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use codex_oauth_core::app::{Accounts, Step};
use codex_oauth_core::jobs::{
    self, Job, JobError, JobState, JobStore, NewJob, Runner, process_start,
};
use codex_oauth_core::{Error, ErrorCode, ErrorKind, Refusal, Settings};
use rmcp::model::{CallToolResult, ContentBlock};
use serde::{Deserialize, Serialize};

use super::answers::{self, JobLine, JobStarted};
use super::args::ReviewArgs;
use super::format;

/// What a runner is given: the tool, its arguments as the caller gave them, the workspace.
#[derive(Debug, Serialize, Deserialize)]
pub struct JobRequest {
    pub tool: String,
    pub args: serde_json::Value,
    pub folders: Vec<PathBuf>,
}

/// How often a waiting `codex_result` or `codex_cancel` looks at the job again.
const LOOK_EVERY: Duration = Duration::from_millis(100);
/// How long `codex_cancel` waits for the runner to confirm.
const CANCEL_WAIT: Duration = Duration::from_secs(5);

/// Start `request` as a background job of `account`, stopped at `limit`.
pub async fn start(
    accounts: &Accounts,
    request: JobRequest,
    title: String,
    account: Option<&str>,
    limit: Duration,
) -> CallToolResult {
    let settings = match accounts.session(account) {
        Ok(s) => s.settings().clone(),
        Err(e) => return format::failure(&e),
    };
    match start_job(&settings, request, title, limit).await {
        Ok(job) => {
            let text = format!(
                "Started background job {} ({}: {}). Get its result with codex_result (job_id {}; wait_seconds waits for it); codex_jobs lists the jobs, codex_cancel stops one.",
                job.id, job.tool, job.title, job.id
            );
            format::typed(
                text,
                &JobStarted {
                    job_id: job.id.clone(),
                    state: job.state,
                    tool: job.tool.clone(),
                    title: job.title.clone(),
                    account: job.profile,
                },
            )
        }
        Err(e) => format::failure(&e),
    }
}

async fn start_job(
    settings: &Settings,
    request: JobRequest,
    title: String,
    limit: Duration,
) -> codex_oauth_core::Result<Job> {
    let store = JobStore::open(settings);
    let new = NewJob {
        tool: request.tool.clone(),
        title,
        request: serde_json::to_value(&request)
            .map_err(|e| Error::Internal(format!("cannot write a job's request: {e}")))?,
        timeout: limit,
    };
    let s = store.clone();
    let job = blocking(move || s.create(new)).await?;
    match spawn_runner(&settings.profile, &job.id) {
        Ok(runner) => {
            let (s, id) = (store.clone(), job.id.clone());
            blocking(move || s.set_runner(&id, runner)).await?;
            Ok(job)
        }
        Err(e) => {
            let error = JobError::of(&e);
            let (s, id) = (store.clone(), job.id.clone());
            let _ = blocking(move || s.finish(&id, JobState::Failed, None, Some(error))).await;
            Err(e)
        }
    }
}

/// Start this program as the runner of job `id` of `profile`, detached; the child is reaped
/// when it ends (while this process lives; after, by the system).
fn spawn_runner(profile: &str, id: &str) -> codex_oauth_core::Result<Runner> {
    let exe = std::env::current_exe().map_err(|e| {
        Error::Internal(format!(
            "cannot tell where this program is to run the job: {e}"
        ))
    })?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["--profile", profile, "run-job", id]);
    jobs::detach(&mut cmd);
    let mut child = tokio::process::Command::from(cmd)
        .kill_on_drop(false)
        .spawn()
        .map_err(|e| Error::Internal(format!("cannot start the job's process: {e}")))?;
    let pid = child
        .id()
        .ok_or_else(|| Error::Internal("the job's process ended at once".into()))?;
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
    Ok(Runner {
        pid,
        started: process_start(pid),
    })
}

/// `codex_jobs`: the jobs of `account`, newest first.
pub async fn list(accounts: &Accounts, account: Option<&str>) -> CallToolResult {
    let store = match accounts.session(account) {
        Ok(s) => JobStore::open(s.settings()),
        Err(e) => return format::failure(&e),
    };
    let profile = store.profile().to_owned();
    let jobs = match blocking(move || store.list()).await {
        Ok(j) => j,
        Err(e) => return format::failure(&e),
    };
    let running = jobs.iter().filter(|j| j.state == JobState::Running).count();
    let mut text = if jobs.is_empty() {
        format!("No background jobs in profile {profile}.")
    } else {
        format!(
            "{} job{} of profile {profile}, {running} running (newest first):",
            jobs.len(),
            if jobs.len() == 1 { "" } else { "s" }
        )
    };
    for j in &jobs {
        text.push_str(&format!(
            "\n- {} · {} · {} · {} · started {}",
            j.id,
            j.state.as_str(),
            j.tool,
            j.title,
            format::local(j.started_at)
        ));
    }
    format::typed(
        text,
        &answers::Jobs {
            jobs: jobs.iter().map(JobLine::of).collect(),
            running,
        },
    )
}

/// How many jobs of the served account are running (0 when they cannot be read).
pub async fn running(accounts: &Accounts) -> usize {
    let store = JobStore::open(&accounts.settings_of(accounts.served()));
    blocking(move || store.list())
        .await
        .map(|jobs| jobs.iter().filter(|j| j.state == JobState::Running).count())
        .unwrap_or(0)
}

/// `codex_result`: the job's result once it ended, waiting up to `wait` for that.
pub async fn result(
    accounts: &Accounts,
    job_id: &str,
    wait: Duration,
    on_step: &(dyn Fn(Step<'_>) + Send + Sync),
) -> CallToolResult {
    let (store, mut job) = match find(accounts, job_id).await {
        Ok(found) => found,
        Err(e) => return format::failure(&e),
    };
    let until = Instant::now() + wait;
    if job.state == JobState::Running && !wait.is_zero() {
        on_step(Step::Sending(&format!("job {} ({})", job.id, job.tool)));
    }
    while job.state == JobState::Running && Instant::now() < until {
        tokio::time::sleep(LOOK_EVERY.min(until - Instant::now())).await;
        let (s, id) = (store.clone(), job.id.clone());
        match blocking(move || s.get(&id)).await {
            Ok(Some(j)) => job = j,
            Ok(None) => return format::failure(&unknown(job_id)),
            Err(e) => return format::failure(&e),
        }
        on_step(Step::Received(job.progress.chars));
    }
    shaped(&store, &job).await
}

/// What `codex_result` says of `job` as it stands.
async fn shaped(store: &JobStore, job: &Job) -> CallToolResult {
    let line = JobLine::of(job);
    match job.state {
        JobState::Running => {
            let secs = (chrono::Utc::now() - job.started_at).num_seconds().max(0);
            let text = format!(
                "Job {} ({}: {}) is still running ({} characters of the answer so far, {secs} s). Call codex_result again with wait_seconds to wait for it.",
                job.id, job.tool, job.title, job.progress.chars
            );
            with_job(format::typed(text, &line), job)
        }
        JobState::Cancelled => {
            let text = format!(
                "Job {} ({}: {}) was cancelled.",
                job.id, job.tool, job.title
            );
            with_job(format::typed(text, &line), job)
        }
        JobState::Completed | JobState::Failed => {
            let (s, id) = (store.clone(), job.id.clone());
            let stored = blocking(move || s.result(&id)).await;
            match stored.map(|r| r.map(serde_json::from_value::<CallToolResult>)) {
                Ok(Some(Ok(r))) => with_job(r, job),
                Ok(None) | Ok(Some(Err(_))) => with_job(failure_of(job), job),
                Err(e) => format::failure(&e),
            }
        }
    }
}

/// A failed job without a stored result (its process stopped): its recorded reason.
fn failure_of(job: &Job) -> CallToolResult {
    let e = job.error.clone().unwrap_or(JobError {
        message: "the job ended without a result".into(),
        code: ErrorCode::Error,
        kind: ErrorKind::Internal,
    });
    let data = answers::Failure {
        error: e.message.clone(),
        kind: e.code,
        category: e.kind,
        retryable: e.kind == ErrorKind::Retry,
        resets_at: None,
        plan: None,
        other_accounts: Vec::new(),
    };
    let mut r = CallToolResult::error(vec![ContentBlock::text(e.message)]);
    r.structured_content = serde_json::to_value(&data).ok();
    r
}

/// `r` with the job's id and state in its structured content and a last line naming the job.
fn with_job(mut r: CallToolResult, job: &Job) -> CallToolResult {
    let mut object = match r.structured_content.take() {
        Some(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    object.remove("job_id");
    object.remove("state");
    let typed = answers::JobResult {
        job_id: job.id.clone(),
        state: job.state,
        result: object,
    };
    r.structured_content = serde_json::to_value(&typed).ok();
    r.content.push(ContentBlock::text(format!(
        "[job {} · {}]",
        job.id,
        job.state.as_str()
    )));
    r
}

/// `codex_cancel`: ask the job's runner to stop, and wait a little for it to say it did.
pub async fn cancel(accounts: &Accounts, job_id: &str) -> CallToolResult {
    let (store, job) = match find(accounts, job_id).await {
        Ok(found) => found,
        Err(e) => return format::failure(&e),
    };
    if job.state.ended() {
        let text = format!(
            "Job {} had already ended ({}); nothing to cancel.",
            job.id,
            job.state.as_str()
        );
        return format::typed(text, &JobLine::of(&job));
    }
    let (s, id) = (store.clone(), job.id.clone());
    let mut job = match blocking(move || s.request_cancel(&id)).await {
        Ok(j) => j,
        Err(e) => return format::failure(&e),
    };
    let until = Instant::now() + CANCEL_WAIT;
    while job.state == JobState::Running && Instant::now() < until {
        tokio::time::sleep(LOOK_EVERY).await;
        let (s, id) = (store.clone(), job.id.clone());
        if let Ok(Some(j)) = blocking(move || s.get(&id)).await {
            job = j;
        }
    }
    let text = match job.state {
        JobState::Cancelled => format!("Cancelled job {} ({}: {}).", job.id, job.tool, job.title),
        JobState::Running => format!(
            "Asked job {} to stop; its process has not confirmed yet (codex_jobs shows when it does).",
            job.id
        ),
        other => format!(
            "Job {} ended ({}) before the cancel reached it.",
            job.id,
            other.as_str()
        ),
    };
    format::typed(text, &JobLine::of(&job))
}

/// `codex_apply`: the patch of finished task `job_id` put in the user's working tree, all or
/// nothing; refused, saying why, when it no longer applies (nothing written then).
pub async fn apply(accounts: &Accounts, job_id: &str) -> CallToolResult {
    match apply_job(accounts, job_id).await {
        Ok(applied) => {
            let text = if applied.files.is_empty() {
                format!("Task {job_id} changed nothing: there was nothing to apply.")
            } else {
                format!(
                    "Applied the patch of task {job_id} to {}: {}. Your other uncommitted changes are as they were; nothing was staged or committed.",
                    applied.workdir,
                    applied.files.join(", ")
                )
            };
            format::typed(text, &applied)
        }
        Err(e) => format::failure(&e),
    }
}

async fn apply_job(
    accounts: &Accounts,
    job_id: &str,
) -> codex_oauth_core::Result<answers::Applied> {
    let (store, job) = find(accounts, job_id).await?;
    let refuse = |why: String| Err(Error::Input(why));
    if job.tool != "codex_task" {
        return refuse(format!(
            "job {} is a {}, not a codex_task: it has no patch to apply",
            job.id, job.tool
        ));
    }
    match job.state {
        JobState::Completed => {}
        JobState::Running => {
            return refuse(format!(
                "task {} is still running: wait for it (codex_result with wait_seconds), then apply",
                job.id
            ));
        }
        other => {
            return refuse(format!(
                "task {} ended {}: it has no patch to apply",
                job.id,
                other.as_str()
            ));
        }
    }
    let (s, id) = (store.clone(), job.id.clone());
    let (result, request) = blocking(move || Ok((s.result(&id)?, s.request(&id)?))).await?;
    let patch = result
        .as_ref()
        .and_then(|r| {
            r.get("structuredContent")
                .or_else(|| r.get("structured_content"))
        })
        .and_then(|c| c.get("patch"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let request: JobRequest = serde_json::from_value(request)
        .map_err(|e| Error::Internal(format!("task {}'s request cannot be read: {e}", job.id)))?;
    let Some(project) = request.folders.first().cloned() else {
        return refuse(format!("task {} names no project folder", job.id));
    };
    if patch.is_empty() {
        return Ok(answers::Applied {
            job_id: job.id.clone(),
            workdir: project.display().to_string(),
            files: Vec::new(),
        });
    }
    let applied = blocking(move || codex_oauth_core::task::apply_to(&project, &patch)).await?;
    Ok(answers::Applied {
        job_id: job.id.clone(),
        workdir: applied.workdir.display().to_string(),
        files: applied.files,
    })
}

/// The job `id`: in the served account first, then in the others.
async fn find(accounts: &Accounts, id: &str) -> codex_oauth_core::Result<(JobStore, Job)> {
    let mut profiles = vec![accounts.served().to_owned()];
    profiles.extend(
        accounts
            .names()
            .into_iter()
            .filter(|p| p != accounts.served()),
    );
    for profile in profiles {
        let store = JobStore::open(&accounts.settings_of(&profile));
        let (s, key) = (store.clone(), id.to_owned());
        if let Some(job) = blocking(move || s.get(&key)).await? {
            return Ok((store, job));
        }
    }
    Err(unknown(id))
}

fn unknown(id: &str) -> Error {
    Error::refused(
        Refusal::UnknownJob,
        format!(
            "There is no job `{}` in any account (codex_jobs lists the jobs kept: the last {}, for {} days).",
            codex_oauth_core::echo::elide(id),
            jobs::KEEP_JOBS,
            jobs::KEEP_FOR.as_secs() / 86_400
        ),
    )
}

/// Job-store work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> codex_oauth_core::Result<T> + Send + 'static,
) -> codex_oauth_core::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("the job store task failed: {e}")))?
}
/// A job's title from a prompt: its first line, cut to 80 characters.
pub fn title(prompt: &str) -> String {
    let line = prompt
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    match line.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}

/// A review job's title: what it compares and where.
pub fn review_title(a: &ReviewArgs) -> String {
    let mut t = match (&a.base, &a.commit) {
        (Some(b), _) => format!("review since {b}"),
        (_, Some(c)) => format!("review of commit {c}"),
        _ if a.staged => "review of the staged changes".to_owned(),
        _ => "review of the working tree".to_owned(),
    };
    if !a.paths.is_empty() {
        t.push_str(&format!(" under {}", a.paths.join(", ")));
    }
    title(&t)
}
