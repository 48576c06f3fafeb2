//! `task`: Codex carries out a task in a private copy of the user's project. The copy is made
//! (never touching the user's repository), Codex works through `exec_command` (in the sandbox)
//! and `apply_patch` until it answers, and the change comes back as a patch, checked to apply to
//! the user's tree as it is now. Nothing here writes to the user's project.

use std::path::{Path, PathBuf};

use super::ask::{blocking, effort_for};
use super::registry::Accounts;
use crate::agent::{LoopEvent, LoopLimits, Step, TaskTools, run_loop};
use crate::codex::{CodexClient, Model, ResponseRequest, Turn};
use crate::error::{Error, Result};
use crate::sandbox::{Availability, Enforced, Launcher, Sandbox, availability, toolchain_paths};
use crate::task::{Applies, FinalPatch, PrivateCopy, applies_to, final_patch, make_copy};

/// The framing of a task (instead of a question's): Codex works, with tools, in a copy.
pub const TASK_FRAMING: &str = "You are Codex, working on a task for a developer, asked by \
another AI assistant (Claude Code). You work in a private copy of the developer's project: the \
copy is a git repository whose first commit is the project as it is now. Run commands with \
exec_command (a sandbox: no network, writes only inside the copy) and edit files with \
apply_patch (paths relative to the project's folder). Do the task, check your work (run the \
tests when there are some), then answer with a short summary of what you changed and why. Your \
change is handed back to the developer as a patch; nothing you do reaches their files unless \
they apply it.";

/// What is asked: the arguments of `codex_task`.
#[derive(Debug, Clone, Default)]
pub struct TaskAsk {
    pub task: String,
    pub model: Option<String>,
    pub reasoning_effort: Option<String>,
    pub account: Option<String>,
}

/// What a task works with besides its arguments.
pub struct TaskCall<'a> {
    /// The workspace: its first folder is (inside) the project's repository.
    pub folders: Vec<PathBuf>,
    /// A folder of this task's own (the job's): the copy and the private temp folder go in it.
    pub dir: PathBuf,
    /// The program that enters the sandbox (the bridge itself).
    pub launcher: Launcher,
    pub limits: LoopLimits,
    /// Told of each step.
    pub on_event: &'a (dyn Fn(LoopEvent<'_>) + Send + Sync),
}

/// A finished task.
#[derive(Debug)]
pub struct TaskDone {
    /// Codex's summary (its last answer).
    pub summary: String,
    pub patch: FinalPatch,
    /// Whether the patch applies to the user's tree now.
    pub applies: Applies,
    pub commands: Vec<Step>,
    /// What the sandbox enforced; `None` with the reason when commands could not run.
    pub sandbox: Option<Enforced>,
    pub sandbox_missing: Option<String>,
    pub copy: PrivateCopy,
    pub model: String,
    pub turns: usize,
    /// The loop stopped at its turn limit.
    pub turn_limit: bool,
    pub profile: String,
    /// How long making the copy took.
    pub copy_seconds: f64,
    /// Time spent by the loop outside the model's answers (running tools, building requests).
    pub loop_seconds: f64,
}

/// Run a task (see the module's documentation).
pub async fn task(accounts: &Accounts, ask: TaskAsk, call: &TaskCall<'_>) -> Result<TaskDone> {
    let codex = accounts.client(ask.account.as_deref())?;
    let profile = codex.session().settings().profile.clone();
    codex.session().check_budget().await?;
    let project = call.folders.first().cloned().ok_or_else(|| {
        Error::Input(
            "a task needs the project's folder: the client gave no workspace folder".into(),
        )
    })?;
    let (copy_dir, temp) = (call.dir.join("copy"), call.dir.join("tmp"));
    let (p, c) = (project.clone(), copy_dir.clone());
    let copying = std::time::Instant::now();
    let copy = blocking("making the private copy", move || make_copy(&p, &c)).await?;
    let copy_seconds = copying.elapsed().as_secs_f64();
    let (sandbox, sandbox_missing) = sandbox_for(call, &copy.dir, &temp).await;
    let settings = codex.session().settings();
    let asked = ask
        .model
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .or(settings.model.as_deref());
    let model = task_model(&codex, asked).await?;
    let effort = effort_for(&model, ask.reasoning_effort.as_deref(), settings)?;
    let mut req = ResponseRequest::new(&model, vec![Turn::user(ask.task.clone())]);
    req.framing = TASK_FRAMING;
    req.reasoning_effort = effort;
    let enforced = sandbox.as_ref().map(Sandbox::enforced);
    let tools = TaskTools::new(copy.dir.clone(), sandbox).with_images(model.accepts_images());
    let done = run_loop(&codex, req, &tools, call.limits, call.on_event).await?;
    let (dir, first) = (copy.dir.clone(), copy.first_commit.clone());
    let patch = blocking("making the patch", move || final_patch(&dir, &first)).await?;
    let text = patch.patch.clone();
    let applies = if text.is_empty() {
        Applies {
            applies: true,
            reason: None,
        }
    } else {
        blocking("checking the patch", move || applies_to(&project, &text)).await?
    };
    Ok(TaskDone {
        summary: done.answer.text.clone(),
        patch,
        applies,
        commands: done.steps,
        sandbox: enforced,
        sandbox_missing,
        copy,
        model: model.slug.clone(),
        turns: done.turns,
        turn_limit: done.turn_limit,
        profile,
        copy_seconds,
        loop_seconds: done.overhead_seconds,
    })
}

/// The sandbox over the copy, or why there is none (then commands are not offered).
async fn sandbox_for(
    call: &TaskCall<'_>,
    root: &Path,
    temp: &Path,
) -> (Option<Sandbox>, Option<String>) {
    if let Availability::Unavailable { reason } = availability() {
        return (None, Some(reason));
    }
    if let Err(e) = std::fs::create_dir_all(temp) {
        return (
            None,
            Some(format!("cannot make the task's temp folder: {e}")),
        );
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let sandbox = Sandbox::new(call.launcher.clone(), root, temp)
        .read_only(home.map(|h| toolchain_paths(&h)).unwrap_or_default());
    match sandbox.probe().await {
        Ok(()) => (Some(sandbox), None),
        Err(e) => (None, Some(format!("the sandbox cannot start here: {e}"))),
    }
}

/// The model of a task: the one asked for, else the catalog's default when it is a standard
/// model, else the first standard one (PROTOCOL.md §9: lite models are tuned to a code mode this
/// loop does not offer).
async fn task_model(codex: &CodexClient, asked: Option<&str>) -> Result<Model> {
    if asked.is_some_and(|m| !m.trim().is_empty()) {
        return codex.model(asked).await;
    }
    let default = codex.model(None).await?;
    if !default.use_responses_lite {
        return Ok(default);
    }
    let list = codex.models().await?;
    match list.models.iter().find(|m| !m.use_responses_lite) {
        Some(m) => codex.model(Some(&m.slug)).await,
        None => Ok(default),
    }
}
