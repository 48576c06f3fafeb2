//! codex-oauth-tray: the tray icon, its menu and the window, a thin front end over
//! codex-oauth-core. State flows one way: core's status (re-read when state.json changes) →
//! the hub → tray, window, notifications and the refresh timer.

mod app;
mod commands;
mod error;
mod hub;
mod model;
mod refresh;
mod schedule;
mod signin;
mod tray;
mod usage;
mod watch;
mod window;

pub use app::run;
pub use error::{CommandError, ErrorKind};
pub use model::{IconState, Snapshot, TrayModel, WindowModel, tray_model, window_model};
