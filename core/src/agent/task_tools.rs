//! The tools a task offers Codex, in the Codex CLI's vocabulary (PROTOCOL.md §9): `exec_command`
//! runs a shell command in the sandbox over the private copy, `apply_patch` edits the copy (in
//! this process, confined to the copy). Every output goes back through the secret filter.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use super::run::{Step, ToolBox, ToolRun};
use crate::codex::{ToolCall, ToolInput};
use crate::files::redact;
use crate::sandbox::{Output, Sandbox};
use crate::task::{apply_patch, apply_patch_tool, tool_output};

/// The tools of one task.
pub struct TaskTools {
    root: PathBuf,
    /// `None`: commands cannot run here (no sandbox), so `exec_command` is not offered.
    sandbox: Option<Sandbox>,
}

#[derive(Deserialize)]
struct ExecArgs {
    cmd: String,
    #[serde(default)]
    workdir: Option<String>,
}

impl TaskTools {
    /// The tools over the copy at `root`; commands run in `sandbox` when there is one.
    pub fn new(root: impl Into<PathBuf>, sandbox: Option<Sandbox>) -> Self {
        Self {
            root: root.into(),
            sandbox,
        }
    }

    async fn exec(&self, call: &ToolCall) -> ToolRun {
        let started = Instant::now();
        let step = |command: String, exit_code: Option<i32>| Step {
            tool: call.name.clone(),
            command,
            exit_code,
            seconds: started.elapsed().as_secs_f64(),
        };
        let ToolInput::Function { arguments } = &call.input else {
            return refused(
                step(String::new(), None),
                "exec_command takes JSON arguments",
            );
        };
        let args: ExecArgs = match serde_json::from_str(arguments) {
            Ok(a) => a,
            Err(e) => {
                let why = format!("exec_command's arguments are not {{\"cmd\": \"…\"}}: {e}");
                return refused(step(String::new(), None), &why);
            }
        };
        let Some(sandbox) = &self.sandbox else {
            let why = "commands cannot run in this session: no sandbox is available";
            return refused(step(args.cmd, None), why);
        };
        let workdir = match args.workdir.as_deref().map(|w| workdir_in(&self.root, w)) {
            None => PathBuf::from("."),
            Some(Ok(w)) => w,
            Some(Err(why)) => return refused(step(args.cmd, None), &why),
        };
        match sandbox.run_in(&args.cmd, &workdir).await {
            Ok(out) => {
                let text = exec_text(&out);
                ToolRun {
                    output: redact(&text).0,
                    step: step(args.cmd, out.exit_code),
                }
            }
            Err(e) => refused(
                step(args.cmd, None),
                &format!("the command could not run: {e}"),
            ),
        }
    }

    async fn patch(&self, call: &ToolCall) -> ToolRun {
        let started = Instant::now();
        let input = match &call.input {
            ToolInput::Custom { input } => input.clone(),
            // As a function: one `input` string.
            ToolInput::Function { arguments } => serde_json::from_str::<Value>(arguments)
                .ok()
                .and_then(|v| v.get("input").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default(),
        };
        let root = self.root.clone();
        let result = tokio::task::spawn_blocking(move || apply_patch(&root, &input))
            .await
            .map_err(|e| crate::error::Error::Internal(format!("apply_patch failed: {e}")))
            .and_then(|r| r);
        let (code, text) = tool_output(&result);
        let seconds = started.elapsed().as_secs_f64();
        let output = format!("Exit code: {code}\nWall time: {seconds:.4} seconds\nOutput:\n{text}");
        let command = match &result {
            Ok(o) => o
                .summary()
                .replace("Success. Updated the following files:\n", ""),
            Err(_) => "(refused)".into(),
        };
        ToolRun {
            output: redact(&output).0,
            step: Step {
                tool: call.name.clone(),
                command: command.replace('\n', ", "),
                exit_code: Some(code),
                seconds,
            },
        }
    }
}

impl ToolBox for TaskTools {
    fn definitions(&self) -> Vec<Value> {
        let mut tools = Vec::new();
        if self.sandbox.is_some() {
            tools.push(exec_command_tool());
        }
        tools.push(apply_patch_tool());
        tools
    }

    async fn run(&self, call: &ToolCall) -> ToolRun {
        match call.name.as_str() {
            "exec_command" => self.exec(call).await,
            "apply_patch" => self.patch(call).await,
            other => refused(
                Step {
                    tool: other.to_owned(),
                    command: String::new(),
                    exit_code: None,
                    seconds: 0.0,
                },
                &format!("there is no tool `{other}` here; use exec_command or apply_patch"),
            ),
        }
    }
}

/// `exec_command` as the Codex CLI 0.171 offers it (the parameters this loop honours).
pub fn exec_command_tool() -> Value {
    json!({
        "type": "function",
        "name": "exec_command",
        "description": "Runs a shell command in the project's private copy (a sandbox: no network, \
    writes only inside the copy and its temp folder) and returns its output and exit code.",
        "strict": false,
        "parameters": {
            "type": "object",
            "properties": {
                "cmd": {"type": "string", "description": "The shell command to run."},
                "workdir": {"type": "string", "description": "The folder to run it in, relative to the project (default: its root)."},
                "yield_time_ms": {"type": "number", "description": "How long to wait for output (ignored: commands run to the end or their time limit)."},
                "max_output_tokens": {"type": "number", "description": "The most output tokens to return."}
            },
            "required": ["cmd"],
            "additionalProperties": false
        }
    })
}

/// A command's result in the Codex CLI's shape.
fn exec_text(out: &Output) -> String {
    let ended = match (out.exit_code, out.timed_out) {
        (_, true) => format!(
            "Process stopped at its time limit ({:.0} s)",
            out.wall_time.as_secs_f64()
        ),
        (Some(code), false) => format!("Process exited with code {code}"),
        (None, false) => format!("Process killed by signal {}", out.signal.unwrap_or(0)),
    };
    let cut = if out.truncated {
        "\n[output cut: the middle was left out]"
    } else {
        ""
    };
    format!(
        "Chunk ID: {:06x}\nWall time: {:.4} seconds\n{ended}\nOriginal token count: {}\nOutput:\n{}{cut}",
        rand::random::<u32>() & 0xff_ffff,
        out.wall_time.as_secs_f64(),
        out.text.len().div_ceil(4),
        out.text
    )
}

/// `workdir` checked: relative, inside the copy.
fn workdir_in(root: &Path, workdir: &str) -> Result<PathBuf, String> {
    let p = Path::new(workdir);
    let p = p.strip_prefix(root).unwrap_or(p);
    if p.is_absolute()
        || p.components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(format!(
            "workdir `{workdir}` is not a folder of the project: give a path relative to it"
        ));
    }
    Ok(p.to_path_buf())
}

/// A call that could not run: the reason goes back to the model (through the secret filter,
/// like every output: it may repeat the command).
fn refused(step: Step, why: &str) -> ToolRun {
    ToolRun {
        output: redact(&format!("Process exited with code 1\nOutput:\n{why}")).0,
        step,
    }
}
