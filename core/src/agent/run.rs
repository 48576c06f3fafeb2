//! The loop itself: ask with the tools offered; run each call the answer makes and send its
//! output back with the whole conversation (the backend keeps nothing); until an answer makes no
//! call, the turn limit, or an error.

use std::future::Future;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::codex::{Answer, CodexClient, ResponseRequest, ToolCall};
use crate::error::Result;

/// The tools a loop offers and runs.
pub trait ToolBox: Send + Sync {
    /// The tool definitions offered (PROTOCOL.md §9).
    fn definitions(&self) -> Vec<Value>;
    /// Run one call: the text sent back to the model, and the step as the result lists it.
    fn run(&self, call: &ToolCall) -> impl Future<Output = ToolRun> + Send;
}

/// One call run.
#[derive(Debug, Clone)]
pub struct ToolRun {
    /// What goes back to the model (already through the secret filter).
    pub output: ToolOutput,
    pub step: Step,
}

/// What a tool gives back to the model.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutput {
    /// A text (a command's output, a patch's result, a refusal).
    Text(String),
    /// An image the model looks at (`view_image`), as a data URL: sent as the output's one
    /// `input_image` content item, as the Codex CLI sends it.
    Image { data_url: String },
}

impl ToolOutput {
    /// The `output` of the call's output item: a string, or a list of content items.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Text(t) => Value::String(t.clone()),
            Self::Image { data_url } => {
                serde_json::json!([{"type": "input_image", "image_url": data_url}])
            }
        }
    }

    /// The text, when it is one.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            Self::Image { .. } => None,
        }
    }
}

impl From<String> for ToolOutput {
    fn from(t: String) -> Self {
        Self::Text(t)
    }
}

impl From<&str> for ToolOutput {
    fn from(t: &str) -> Self {
        Self::Text(t.to_owned())
    }
}

/// A step of a task as its result lists it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Step {
    /// `exec_command`, `apply_patch`, …
    pub tool: String,
    /// The command run, or what the call did, in a line.
    pub command: String,
    /// The command's exit code (`None`: it did not exit by itself, or the tool is no command).
    pub exit_code: Option<i32>,
    pub seconds: f64,
}

/// How far a loop is, for progress.
#[derive(Debug, Clone, Copy)]
pub enum LoopEvent<'a> {
    /// Asking the model (turn `n`, from 1).
    Asking(usize),
    /// Running a tool for the model.
    Running { turn: usize, tool: &'a str },
    /// Characters of the model's text received in this turn.
    Received(usize),
}

/// Bounds of a loop.
#[derive(Debug, Clone, Copy)]
pub struct LoopLimits {
    /// The most requests to the model.
    pub max_turns: usize,
}

impl Default for LoopLimits {
    fn default() -> Self {
        Self { max_turns: 100 }
    }
}

/// How a loop ended.
#[derive(Debug)]
pub struct Finished {
    /// The last answer (its text is the model's summary when it made no call).
    pub answer: Answer,
    pub steps: Vec<Step>,
    pub turns: usize,
    /// The loop stopped at the turn limit with calls unanswered.
    pub turn_limit: bool,
    /// Time spent outside the model's answers (running tools, building requests).
    pub overhead_seconds: f64,
}

/// Run the loop from `req` (its input the task; `tools` are offered on every request).
pub async fn run_loop<T: ToolBox>(
    codex: &CodexClient,
    mut req: ResponseRequest,
    tools: &T,
    limits: LoopLimits,
    on_event: &(dyn Fn(LoopEvent<'_>) + Send + Sync),
) -> Result<Finished> {
    req.tools = tools.definitions();
    let mut steps = Vec::new();
    let mut overhead = 0.0f64;
    let mut turn = 0;
    loop {
        turn += 1;
        on_event(LoopEvent::Asking(turn));
        let mut received = 0usize;
        let mut on_delta = |d: &str| {
            received += d.chars().count();
            on_event(LoopEvent::Received(received));
        };
        let answer = codex.respond(&req, &mut on_delta).await?;
        let started = Instant::now();
        req.items.extend(answer.items.iter().cloned());
        let calls = answer.calls.clone();
        if calls.is_empty() || turn >= limits.max_turns {
            return Ok(Finished {
                turn_limit: !calls.is_empty(),
                answer,
                steps,
                turns: turn,
                overhead_seconds: overhead + started.elapsed().as_secs_f64(),
            });
        }
        for call in &calls {
            on_event(LoopEvent::Running {
                turn,
                tool: &call.name,
            });
            let ran = tools.run(call).await;
            req.items.push(call.output_item(ran.output.to_value()));
            steps.push(ran.step);
        }
        overhead += started.elapsed().as_secs_f64();
    }
}
