//! Background jobs: long calls that run in a detached runner process, outlive the process that
//! started them, and always end (a deadline, a cancel, or a reader that finds the runner gone).

mod alive;
mod record;
mod store;

pub use alive::{alive, detach, process_start, this_process};
pub use record::{Job, JobError, JobProgress, JobState, Runner};
pub use store::{
    HEARTBEAT, JobStore, KEEP_FOR, KEEP_JOBS, MAX_RUNNING, NewJob, STALE_AFTER, cancelled_error,
};

#[cfg(test)]
mod tests;
