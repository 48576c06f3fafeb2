//! The tool loop: Codex calls tools, the loop runs them in the private copy and sends the
//! outputs back, until an answer with no call.

mod run;

pub use run::{Finished, LoopEvent, LoopLimits, Step, ToolBox, ToolRun, run_loop};
