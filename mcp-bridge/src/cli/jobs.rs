//! `jobs`, `jobs show ID [--wait S]`, `jobs cancel ID`: the background jobs of the profile, as the
//! tools `codex_jobs`, `codex_result` and `codex_cancel` answer (the same calls, the same JSON).

use std::process::ExitCode;
use std::time::Duration;

use codex_oauth_core::app::Accounts;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};

use super::args::JobsAction;
use super::output::{Output, fail_line, result_line};
use crate::server::args::TaskArgs;
use crate::server::{jobs, work};

pub async fn run(accounts: &Accounts, action: Option<JobsAction>, out: Output) -> ExitCode {
    let (r, showing) = match action {
        None => (jobs::list(accounts, None).await, false),
        Some(JobsAction::Show { id, wait }) => {
            let wait = Duration::from_secs(wait.unwrap_or(0));
            (jobs::result(accounts, &id, wait, &|_| {}).await, true)
        }
        Some(JobsAction::Cancel { id }) => (jobs::cancel(accounts, &id).await, false),
        Some(JobsAction::Apply { id }) => (jobs::apply(accounts, &id).await, false),
    };
    print(&r, out, showing)
}

/// `task "<task>" [--wait]`: a codex_task job over the working folder's project.
pub async fn task(
    accounts: &Accounts,
    task: String,
    model: Option<String>,
    wait: bool,
    out: Output,
) -> ExitCode {
    let args = TaskArgs {
        task,
        model,
        reasoning_effort: None,
        background: Some(true),
        timeout_seconds: None,
        account: None,
    };
    let limit = work::limit_of(accounts, None);
    let folders = std::env::current_dir().into_iter().collect();
    let title = args
        .task
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(80)
        .collect();
    let request = match serde_json::to_value(&args) {
        Ok(v) => jobs::JobRequest {
            tool: "codex_task".into(),
            args: v,
            folders,
        },
        Err(e) => return out.fail(&codex_oauth_core::Error::Internal(e.to_string())),
    };
    let started = jobs::start(
        accounts,
        request,
        title,
        None,
        Duration::from_secs(limit.seconds),
    )
    .await;
    let id = started
        .structured_content
        .as_ref()
        .and_then(|d| d.get("job_id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    match (id, wait) {
        (Some(id), true) => {
            let wait = Duration::from_secs(limit.seconds.saturating_add(30));
            let r = jobs::result(accounts, &id, wait, &|_| {}).await;
            print(&r, out, true)
        }
        _ => print(&started, out, false),
    }
}

/// The answer as the tool gives it: its text, or under `--json` its structured content. A
/// failure that is not a job's own is the CLI's error object. Exit 1 for a failure, and when
/// `showing` a job that failed or was cancelled.
fn print(r: &CallToolResult, out: Output, showing: bool) -> ExitCode {
    let text: Vec<&str> = r
        .content
        .iter()
        .filter_map(|c| match c {
            ContentBlock::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect();
    let text = text.join("\n\n");
    let data = r.structured_content.clone().unwrap_or(Value::Null);
    let state = data.get("state").and_then(Value::as_str);
    if r.is_error == Some(true) && state.is_none() {
        if out.json() {
            let e = json!({"error": {"kind": data["category"], "code": data["kind"], "message": data["error"]}});
            result_line(&e.to_string());
        } else {
            fail_line(&text);
        }
        return ExitCode::from(1);
    }
    if out.json() {
        result_line(&data.to_string());
    } else {
        result_line(&text);
    }
    match state {
        Some("failed" | "cancelled") if showing => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}
