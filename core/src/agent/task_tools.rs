//! The tools a task offers Codex, in the Codex CLI's vocabulary (PROTOCOL.md §9): `exec_command`
//! runs a shell command in the sandbox over the private copy, `apply_patch` edits the copy (in
//! this process, confined to the copy), `view_image` shows Codex an image of the copy (for a
//! model that takes images). Every text output goes back through the secret filter.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use super::run::{Step, ToolBox, ToolOutput, ToolRun};
use crate::codex::{ToolCall, ToolInput};
use crate::files::images::{ImageLimits, load};
use crate::files::{Project, redact};
use crate::sandbox::{Output, Sandbox};
use crate::task::{apply_patch, apply_patch_tool, tool_output};

/// The tools of one task.
pub struct TaskTools {
    root: PathBuf,
    /// `None`: commands cannot run here (no sandbox), so `exec_command` is not offered.
    sandbox: Option<Sandbox>,
    /// The model takes images: `view_image` is offered.
    images: bool,
}

#[derive(Deserialize)]
struct ViewArgs {
    path: String,
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
            images: false,
        }
    }

    /// Offer `view_image` too (the model takes images).
    #[must_use]
    pub fn with_images(mut self, images: bool) -> Self {
        self.images = images;
        self
    }

    /// `view_image`: the image at `path` in the copy (never outside it: the path is resolved,
    /// links followed, as `codex_query`'s images are), checked by its content and scaled to
    /// the caps of `codex_query`'s images.
    async fn view(&self, call: &ToolCall) -> ToolRun {
        let step = stepper(call, Instant::now());
        let args = match &call.input {
            ToolInput::Function { arguments } => serde_json::from_str::<ViewArgs>(arguments)
                .map_err(|e| format!("view_image's arguments are not {{\"path\": \"…\"}}: {e}")),
            ToolInput::Custom { .. } => Err("view_image takes JSON arguments".to_owned()),
        };
        let path = match args {
            Ok(a) => a.path,
            Err(why) => return refused(step(String::new(), None), &why),
        };
        if path.trim_start().starts_with("data:") {
            let why = "view_image takes the path of an image file of the project";
            return refused(step(String::new(), None), why);
        }
        let project = Project::new([self.root.clone()], &[]);
        let given = path.clone();
        let loaded =
            tokio::task::spawn_blocking(move || load(&project, &given, 1, &ImageLimits::default()))
                .await
                .unwrap_or_else(|e| Err(format!("failed: {e}")));
        match loaded {
            Ok(image) => ToolRun {
                output: ToolOutput::Image {
                    data_url: image.data_url,
                },
                step: step(redact(&path).0, Some(0)),
            },
            Err(why) => {
                let why = format!("unable to view the image at `{path}`: {why}");
                refused(step(path, None), &why)
            }
        }
    }

    async fn exec(&self, call: &ToolCall) -> ToolRun {
        let step = stepper(call, Instant::now());
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
                    output: redact(&text).0.into(),
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
            output: redact(&output).0.into(),
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
        if self.images {
            tools.push(view_image_tool());
        }
        tools
    }

    async fn run(&self, call: &ToolCall) -> ToolRun {
        match call.name.as_str() {
            "exec_command" => self.exec(call).await,
            "apply_patch" => self.patch(call).await,
            "view_image" if self.images => self.view(call).await,
            other => refused(
                Step {
                    tool: other.to_owned(),
                    command: String::new(),
                    exit_code: None,
                    seconds: 0.0,
                },
                &format!(
                    "there is no tool `{other}` here; use {}",
                    self.definitions()
                        .iter()
                        .filter_map(|d| d["name"].as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
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

/// `view_image` as the Codex CLI 0.171 offers it to a model that takes images (its `detail`
/// left out: images are always scaled to fit).
pub fn view_image_tool() -> Value {
    json!({
        "type": "function",
        "name": "view_image",
        "description": "View an image file of the project (PNG, JPEG, WebP or GIF): it is attached \
    for you to look at. Give its path relative to the project.",
        "strict": false,
        "parameters": {
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "The image's path, relative to the project."}
            },
            "required": ["path"],
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

/// The step of `call`, begun at `started`, once its command and how it ended are known.
fn stepper(call: &ToolCall, started: Instant) -> impl Fn(String, Option<i32>) -> Step + '_ {
    move |command, exit_code| Step {
        tool: call.name.clone(),
        command,
        exit_code,
        seconds: started.elapsed().as_secs_f64(),
    }
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
        output: redact(&format!("Process exited with code 1\nOutput:\n{why}"))
            .0
            .into(),
        step,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn call(name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            call_id: "call_1".into(),
            name: name.into(),
            input: ToolInput::Function {
                arguments: arguments.to_string(),
            },
        }
    }

    fn names(tools: &TaskTools) -> Vec<String> {
        tools
            .definitions()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect()
    }

    fn png(path: &Path) {
        image::RgbImage::from_pixel(3, 2, image::Rgb([200, 10, 10]))
            .save(path)
            .unwrap();
    }

    #[test]
    fn view_image_is_offered_only_to_a_model_that_takes_images() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(names(&TaskTools::new(dir.path(), None)), ["apply_patch"]);
        let tools = TaskTools::new(dir.path(), None).with_images(true);
        assert_eq!(names(&tools), ["apply_patch", "view_image"]);
    }

    #[tokio::test]
    async fn view_image_sends_an_image_of_the_copy_as_an_input_image() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        png(&dir.path().join("docs/shot.png"));
        let tools = TaskTools::new(dir.path(), None).with_images(true);
        let ran = tools
            .run(&call("view_image", json!({"path": "docs/shot.png"})))
            .await;
        let ToolOutput::Image { data_url } = &ran.output else {
            panic!("not an image: {:?}", ran.output)
        };
        assert!(data_url.starts_with("data:image/png;base64,"), "{data_url}");
        assert_eq!(
            ran.output.to_value(),
            json!([{"type": "input_image", "image_url": data_url}])
        );
        assert_eq!(ran.step.command, "docs/shot.png");
        assert_eq!(ran.step.exit_code, Some(0));
        // Not offered: not run either.
        let without = TaskTools::new(dir.path(), None);
        let ran = without
            .run(&call("view_image", json!({"path": "docs/shot.png"})))
            .await;
        assert!(ran.output.text().unwrap().contains("no tool `view_image`"));
    }

    #[tokio::test]
    async fn view_image_never_reads_outside_the_copy() {
        let outside = tempfile::tempdir().unwrap();
        png(&outside.path().join("secret.png"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            outside.path().join("secret.png"),
            dir.path().join("link.png"),
        )
        .unwrap();
        let tools = TaskTools::new(dir.path(), None).with_images(true);
        let absolute = outside.path().join("secret.png").display().to_string();
        let mut paths = vec![
            "../secret.png".to_owned(),
            absolute,
            "notes.txt".to_owned(),
            "missing.png".to_owned(),
            "data:image/png;base64,iVBORw0KGgo=".to_owned(),
        ];
        if cfg!(unix) {
            paths.push("link.png".to_owned());
        }
        for path in paths {
            let ran = tools.run(&call("view_image", json!({"path": path}))).await;
            let text = ran.output.text().unwrap_or_else(|| panic!("{path}: sent"));
            assert!(
                text.starts_with("Process exited with code 1"),
                "{path}: {text}"
            );
            assert_eq!(ran.step.exit_code, None, "{path}");
        }
    }
}
