//! The tool loop: Codex calls tools, the loop runs them in the private copy and sends the
//! outputs back, until an answer with no call.

mod run;
mod task_tools;

pub use run::{Finished, LoopEvent, LoopLimits, Step, ToolBox, ToolOutput, ToolRun, run_loop};
pub use task_tools::{TaskTools, exec_command_tool, view_image_tool};
