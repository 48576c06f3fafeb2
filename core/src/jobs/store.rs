//! `JobStore`: a profile's jobs on disk, `<profile>/jobs/<id>/` (0700; `job.json`, `request.json`,
//! `result.json`, a `cancel` mark; each 0600, written whole and atomically), under the jobs'
//! own lock for every read-modify-write. Any reader that finds a `running` job whose runner is
//! gone, or silent for too long, records it `failed`: no job stays `running` forever.
//!
//! Every call does blocking file work: call it from a blocking thread in async code.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::alive::alive;
use super::record::{Job, JobError, JobProgress, JobState, Runner};
use crate::config::Settings;
use crate::error::{Error, ErrorCode, ErrorKind, Refusal, Result, json_problem};
use crate::store::layout::JOB_FILE;
use crate::store::lock::{self, LOCK_WAIT, LockGuard};
use crate::store::{fsutil, layout};

/// At most this many jobs of one account run at once.
pub const MAX_RUNNING: usize = 4;
/// The jobs kept per profile (the newest), and for how long after they ended.
pub const KEEP_JOBS: usize = 100;
pub const KEEP_FOR: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often a runner says it is alive, and how long a silent one is trusted.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
pub const STALE_AFTER: Duration = Duration::from_secs(60);
/// How long a job may wait for its runner to name itself.
const START_GRACE: Duration = Duration::from_secs(30);

const REQUEST_FILE: &str = "request.json";
const RESULT_FILE: &str = "result.json";
const CANCEL_FILE: &str = "cancel";

/// The jobs of one profile.
#[derive(Debug, Clone)]
pub struct JobStore {
    dir: PathBuf,
    profile: String,
}

/// A new job's particulars.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub tool: String,
    pub title: String,
    pub request: serde_json::Value,
    pub timeout: Duration,
}

impl JobStore {
    /// The jobs of the settings' profile.
    pub fn open(settings: &Settings) -> Self {
        Self {
            dir: layout::jobs_dir(&settings.profile_dir()),
            profile: settings.profile.clone(),
        }
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The folder of the jobs (watch it to learn of changes).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> Result<LockGuard> {
        fsutil::ensure_private_dir(&self.dir)?;
        lock::acquire(&layout::lock_file(&self.dir), LOCK_WAIT)
    }

    /// The folder of job `id`; `None` for an id this program does not make.
    fn job_dir(&self, id: &str) -> Option<PathBuf> {
        let ok = uuid::Uuid::parse_str(id).is_ok_and(|u| u.hyphenated().to_string() == id);
        ok.then(|| self.dir.join(id))
    }

    fn read_job(dir: &Path) -> Result<Option<Job>> {
        let path = dir.join(JOB_FILE);
        let Some(bytes) = fsutil::read_optional(&path)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| unreadable(&path, &e))
    }

    fn write_job(&self, job: &Job) -> Result<()> {
        let dir = self.dir.join(&job.id);
        fsutil::ensure_private_dir(&dir)?;
        let bytes = serde_json::to_vec_pretty(job)
            .map_err(|e| Error::Internal(format!("cannot write a job: {e}")))?;
        fsutil::write_atomic(&dir.join(JOB_FILE), &bytes)
    }

    /// Start a job: refused when [`MAX_RUNNING`] jobs of this account run already. Old jobs past
    /// the bounds are removed first. The job is `running` with no runner yet ([`Self::set_runner`]).
    pub fn create(&self, new: NewJob) -> Result<Job> {
        let _guard = self.lock()?;
        let mut jobs = self.all_locked()?;
        let running = jobs.iter().filter(|j| j.state == JobState::Running).count();
        if running >= MAX_RUNNING {
            return Err(Error::refused(
                Refusal::TooManyJobs,
                format!(
                    "{running} jobs of profile {} are running already (at most {MAX_RUNNING}). Wait for one to end (codex_jobs lists them, codex_result waits), or cancel one with codex_cancel.",
                    self.profile
                ),
            ));
        }
        self.prune_locked(&mut jobs);
        let now = Utc::now();
        let timeout = new.timeout.max(Duration::from_secs(1));
        let job = Job {
            id: uuid::Uuid::now_v7().hyphenated().to_string(),
            tool: new.tool,
            title: new.title,
            profile: self.profile.clone(),
            state: JobState::Running,
            started_at: now,
            ended_at: None,
            deadline: now + chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::MAX),
            timeout_seconds: timeout.as_secs(),
            runner: None,
            heartbeat_at: now,
            progress: JobProgress::default(),
            error: None,
            request: serde_json::Value::Null,
        };
        let dir = self.dir.join(&job.id);
        fsutil::ensure_private_dir(&dir)?;
        let request = serde_json::to_vec(&new.request)
            .map_err(|e| Error::Internal(format!("cannot write a job's request: {e}")))?;
        fsutil::write_atomic(&dir.join(REQUEST_FILE), &request)?;
        self.write_job(&job)?;
        Ok(job)
    }

    /// What job `id` was asked to do.
    pub fn request(&self, id: &str) -> Result<serde_json::Value> {
        let dir = self.job_dir(id).ok_or_else(|| unknown(id))?;
        let path = dir.join(REQUEST_FILE);
        let bytes = fsutil::read_optional(&path)?.ok_or_else(|| unknown(id))?;
        serde_json::from_slice(&bytes).map_err(|e| unreadable(&path, &e))
    }

    /// Name the process that runs job `id`.
    pub fn set_runner(&self, id: &str, runner: Runner) -> Result<()> {
        self.update(id, |job| {
            job.runner = Some(runner);
            job.heartbeat_at = Utc::now();
        })
        .map(|_| ())
    }

    /// The runner is alive (and has come this far): false when the job is no longer running.
    pub fn heartbeat(&self, id: &str, progress: Option<JobProgress>) -> Result<bool> {
        let job = self.update(id, |job| {
            job.heartbeat_at = Utc::now();
            if let Some(p) = progress {
                job.progress = p;
            }
        })?;
        Ok(job.state == JobState::Running)
    }

    /// `f` applied to running job `id` under the lock (an ended job is returned as it is).
    fn update(&self, id: &str, f: impl FnOnce(&mut Job)) -> Result<Job> {
        let dir = self.job_dir(id).ok_or_else(|| unknown(id))?;
        let _guard = self.lock()?;
        let mut job = Self::read_job(&dir)?.ok_or_else(|| unknown(id))?;
        if job.state == JobState::Running {
            f(&mut job);
            self.write_job(&job)?;
        }
        Ok(job)
    }

    /// End running job `id` in `state`, with the call's `result` (what the synchronous call
    /// would have returned) and the reason it failed or was cancelled. A job that ended already
    /// (a reader recorded its runner gone) is left as it is and returned.
    pub fn finish(
        &self,
        id: &str,
        state: JobState,
        result: Option<&serde_json::Value>,
        error: Option<JobError>,
    ) -> Result<Job> {
        let dir = self.job_dir(id).ok_or_else(|| unknown(id))?;
        let _guard = self.lock()?;
        let mut job = Self::read_job(&dir)?.ok_or_else(|| unknown(id))?;
        if job.state.ended() {
            return Ok(job);
        }
        if let Some(r) = result {
            let bytes = serde_json::to_vec(r)
                .map_err(|e| Error::Internal(format!("cannot write a job's result: {e}")))?;
            fsutil::write_atomic(&dir.join(RESULT_FILE), &bytes)?;
        }
        job.state = state;
        job.ended_at = Some(Utc::now());
        job.error = error;
        self.write_job(&job)?;
        Ok(job)
    }

    /// Job `id` as it stands (a runner found gone is recorded first); `None` when there is none.
    pub fn get(&self, id: &str) -> Result<Option<Job>> {
        let Some(dir) = self.job_dir(id) else {
            return Ok(None);
        };
        match Self::read_job(&dir)? {
            Some(job) if stopped(&job, Utc::now()) => {
                let _guard = self.lock()?;
                let mut job = Self::read_job(&dir)?.ok_or_else(|| unknown(id))?;
                self.settle_locked(&mut job)?;
                Ok(Some(job))
            }
            other => Ok(other),
        }
    }

    /// Every kept job, newest first (runners found gone recorded first).
    pub fn list(&self) -> Result<Vec<Job>> {
        let now = Utc::now();
        let mut jobs = self.read_all()?;
        if jobs.iter().any(|j| stopped(j, now)) {
            let _guard = self.lock()?;
            jobs = self.all_locked()?;
        }
        jobs.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(jobs)
    }

    /// The result job `id` ended with (what the synchronous call returns), if any.
    pub fn result(&self, id: &str) -> Result<Option<serde_json::Value>> {
        let Some(dir) = self.job_dir(id) else {
            return Ok(None);
        };
        let path = dir.join(RESULT_FILE);
        let Some(bytes) = fsutil::read_optional(&path)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| unreadable(&path, &e))
    }

    /// Ask the runner of job `id` to stop: it closes its request and records the job
    /// `cancelled`. A job whose runner is gone is recorded `cancelled` here.
    pub fn request_cancel(&self, id: &str) -> Result<Job> {
        let dir = self.job_dir(id).ok_or_else(|| unknown(id))?;
        let _guard = self.lock()?;
        let mut job = Self::read_job(&dir)?.ok_or_else(|| unknown(id))?;
        if job.state.ended() {
            return Ok(job);
        }
        fsutil::write_atomic(&dir.join(CANCEL_FILE), b"")?;
        if stopped(&job, Utc::now()) {
            job.state = JobState::Cancelled;
            job.ended_at = Some(Utc::now());
            job.error = Some(cancelled_error());
            self.write_job(&job)?;
        }
        Ok(job)
    }

    /// Whether a cancel of job `id` was asked for.
    pub fn cancel_requested(&self, id: &str) -> bool {
        self.job_dir(id)
            .is_some_and(|d| d.join(CANCEL_FILE).exists())
    }

    fn read_all(&self) -> Result<Vec<Job>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read the jobs folder", &self.dir, e)),
        };
        let mut jobs = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(dir) = name.to_str().and_then(|n| self.job_dir(n)) else {
                continue;
            };
            match Self::read_job(&dir) {
                Ok(Some(job)) => jobs.push(job),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "a job could not be read; it is left out"),
            }
        }
        Ok(jobs)
    }

    /// Under the lock: every job, runners found gone recorded.
    fn all_locked(&self) -> Result<Vec<Job>> {
        let mut jobs = self.read_all()?;
        for job in &mut jobs {
            self.settle_locked(job)?;
        }
        Ok(jobs)
    }

    /// Under the lock: a running job whose runner is gone recorded `failed`.
    fn settle_locked(&self, job: &mut Job) -> Result<()> {
        if !stopped(job, Utc::now()) {
            return Ok(());
        }
        let why = match &job.runner {
            None => "its process did not start".to_owned(),
            Some(r) if !alive(r) => format!("process {} is gone", r.pid),
            Some(_) => format!(
                "no sign of life from its process for {} s",
                STALE_AFTER.as_secs()
            ),
        };
        job.state = JobState::Failed;
        job.ended_at = Some(Utc::now());
        job.error = Some(JobError {
            message: format!(
                "The job's process stopped before the job ended ({why}). Start it again."
            ),
            code: ErrorCode::JobStopped,
            kind: ErrorKind::Retry,
        });
        self.write_job(job)
    }

    /// Under the lock: the ended jobs past [`KEEP_JOBS`] or older than [`KEEP_FOR`] removed.
    fn prune_locked(&self, jobs: &mut Vec<Job>) {
        let now = Utc::now();
        let old = |j: &Job| {
            j.ended_at
                .is_some_and(|t| (now - t).to_std().is_ok_and(|age| age > KEEP_FOR))
        };
        jobs.sort_by(|a, b| b.id.cmp(&a.id));
        // Room for the job about to be made.
        let mut kept = 1usize;
        jobs.retain(|j| {
            let keep = j.state == JobState::Running || (kept < KEEP_JOBS && !old(j));
            if keep {
                kept += 1;
            } else if let Err(e) = std::fs::remove_dir_all(self.dir.join(&j.id)) {
                tracing::warn!(job = %j.id, error = %e, "cannot remove an old job");
            }
            keep
        });
    }
}

/// A running job whose runner is gone, silent past [`STALE_AFTER`], or never named.
fn stopped(job: &Job, now: DateTime<Utc>) -> bool {
    if job.state != JobState::Running {
        return false;
    }
    let since = |t: DateTime<Utc>| (now - t).to_std().unwrap_or_default();
    match &job.runner {
        None => since(job.started_at) > START_GRACE,
        Some(r) => !alive(r) || since(job.heartbeat_at) > STALE_AFTER,
    }
}

/// What a cancelled job records.
pub fn cancelled_error() -> JobError {
    JobError {
        message: "The job was cancelled.".into(),
        code: ErrorCode::Cancelled,
        kind: ErrorKind::Cancelled,
    }
}

/// A job file that does not parse (written whole, so only damage does that).
fn unreadable(path: &Path, e: &serde_json::Error) -> Error {
    Error::Internal(format!(
        "the job file {} cannot be read ({}); remove the job's folder",
        path.display(),
        json_problem(e)
    ))
}

fn unknown(id: &str) -> Error {
    Error::refused(
        Refusal::UnknownJob,
        format!(
            "There is no job `{}` in this account (codex_jobs lists the jobs kept: the last {KEEP_JOBS}, for {} days).",
            crate::echo::elide(id),
            KEEP_FOR.as_secs() / 86_400
        ),
    )
}
