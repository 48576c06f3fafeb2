//! From the hub's snapshot of every account to what the tray, the window and the notifications
//! show. Pure functions of the snapshot and the time, so every mapping is tested without a desktop.

mod menu;
mod notice;
mod snapshot;
mod window;

#[cfg(test)]
mod fixtures;

#[cfg(test)]
pub(crate) use menu::jobs_line;
pub use menu::{AccountItem, TrayModel, tray_model};
pub use notice::{Notice, notices};
pub use snapshot::{AccountSnapshot, IconState, JobSummary, Snapshot};
pub use window::{AccountView, WindowModel, window_model};
