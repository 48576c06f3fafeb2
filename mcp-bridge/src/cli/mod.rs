//! The headless CLI. Each command is a thin function over core; exit codes: 0 success / signed in,
//! 1 failure / not signed in, 2 usage or configuration error.

mod accounts;
mod args;
mod commands;
mod gate;
mod generate;
mod jobs;
mod login;
pub(crate) mod output;
mod plugin_config;
mod run;

pub use args::{Args, Command};
pub use run::run;
