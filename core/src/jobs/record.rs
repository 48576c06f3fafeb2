//! A job as `job.json` holds it: what was asked, its state, its deadline, its runner and
//! heartbeat, its progress, and how it ended. The result itself is `result.json` beside it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, ErrorKind};

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn ended(self) -> bool {
        self != JobState::Running
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// The process that does a job's work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runner {
    pub pid: u32,
    /// When the process started, as the system counts it (Linux: clock ticks since boot), so a
    /// process that later gets the same pid is not taken for the runner.
    pub started: Option<u64>,
}

/// How far the work has come.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JobProgress {
    /// Characters of the answer received so far.
    pub chars: usize,
    /// What the work is doing, in words.
    pub message: Option<String>,
}

/// Why a job failed (or that it was cancelled), as the tools' errors say it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JobError {
    pub message: String,
    pub code: ErrorCode,
    pub kind: ErrorKind,
}

impl JobError {
    pub fn of(e: &Error) -> Self {
        Self {
            message: e.to_string(),
            code: e.code(),
            kind: e.kind(),
        }
    }
}

/// `job.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// A UUIDv7 (time-ordered).
    pub id: String,
    /// The tool whose call this is: `codex_query`, `codex_review`, `codex_task`.
    pub tool: String,
    /// What the job is about, in a line.
    pub title: String,
    /// The account (profile) it runs with.
    pub profile: String,
    pub state: JobState,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Past this the runner stops the work and records the job failed.
    pub deadline: DateTime<Utc>,
    pub timeout_seconds: u64,
    pub runner: Option<Runner>,
    /// The runner's last sign of life.
    pub heartbeat_at: DateTime<Utc>,
    #[serde(default)]
    pub progress: JobProgress,
    /// Why it failed or was cancelled.
    pub error: Option<JobError>,
    /// What was asked: the tool's arguments as the caller gave them (and the workspace
    /// folders), for the runner. Never a secret of ours: the caller's own words.
    pub request: serde_json::Value,
}
