//! codex-oauth-tray: the tray icon, its menu and the window, a thin front end over
//! codex-oauth-core. State flows one way: core's status of every account (profile), re-read when
//! the store changes → the hub → tray, window, notifications and the refresh timers.

mod app;
mod commands;
mod error;
mod hub;
mod model;
mod refresh;
mod schedule;
mod signin;
#[cfg(test)]
mod testing;
mod tray;
mod usage;
mod watch;
mod window;

pub use app::run;
pub use error::{CommandError, ErrorKind};
pub use model::{
    AccountItem, AccountSnapshot, AccountView, IconState, Snapshot, TrayModel, WindowModel,
    tray_model, window_model,
};
