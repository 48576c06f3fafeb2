//! The cross-process lock (`<profile>/lock`) held around every read-modify-write of the store and
//! every refresh. An OS file lock: released by the kernel when the holder exits or crashes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::store::fsutil;

/// How long to wait for another process before giving up with a clear error. Longer than a slow
/// token request (30 s) so that a waiter does not give up while the holder refreshes.
pub const LOCK_WAIT: Duration = Duration::from_secs(45);

/// Proof that the store lock is held; released on drop.
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    path: PathBuf,
}

impl LockGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Err(e) = self.file.unlock() {
            tracing::warn!(path = %self.path.display(), error = %e, "could not release the store lock");
        }
    }
}

/// One wait for the lock: each step tries once, and says how long to pause before the next.
/// The blocking and the async acquire differ only in how they pause.
struct Waiter {
    file: Option<File>,
    path: PathBuf,
    start: Instant,
    wait: Duration,
    attempt: u32,
}

enum Step {
    Got(LockGuard),
    Pause(Duration),
}

impl Waiter {
    fn new(path: &Path, wait: Duration) -> Result<Self> {
        Ok(Self {
            file: Some(fsutil::open_private(path)?),
            path: path.to_path_buf(),
            start: Instant::now(),
            wait,
            attempt: 0,
        })
    }

    fn step(&mut self) -> Result<Step> {
        let file = self.file.as_ref().ok_or_else(|| {
            Error::Internal("the store lock was asked for again after it was taken".into())
        })?;
        match file.try_lock() {
            Ok(()) => {
                let file = self.file.take().ok_or_else(|| {
                    Error::Internal("the store lock file went away while locking".into())
                })?;
                return Ok(Step::Got(LockGuard {
                    file,
                    path: self.path.clone(),
                }));
            }
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io("lock", &self.path, e)),
        }
        if self.start.elapsed() >= self.wait {
            return Err(Error::LockTimeout {
                path: self.path.clone(),
                seconds: self.wait.as_secs(),
            });
        }
        // 2, 4, 8, 16, then 25 ms.
        let pause = Duration::from_millis((2u64 << self.attempt.min(4)).min(25));
        self.attempt += 1;
        Ok(Step::Pause(pause))
    }
}

/// Take the lock, waiting up to `wait` (blocking the thread).
pub fn acquire(path: &Path, wait: Duration) -> Result<LockGuard> {
    let mut w = Waiter::new(path, wait)?;
    loop {
        match w.step()? {
            Step::Got(g) => return Ok(g),
            Step::Pause(d) => std::thread::sleep(d),
        }
    }
}

/// Take the lock, waiting up to `wait` without blocking the async runtime.
pub async fn acquire_async(path: &Path, wait: Duration) -> Result<LockGuard> {
    let mut w = Waiter::new(path, wait)?;
    loop {
        match w.step()? {
            Step::Got(g) => return Ok(g),
            Step::Pause(d) => tokio::time::sleep(d).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_and_times_out_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let g = acquire(&p, Duration::from_secs(1)).unwrap();
        let err = acquire(&p, Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, Error::LockTimeout { .. }), "{err}");
        drop(g);
        acquire(&p, Duration::from_millis(50)).unwrap();
    }

    #[tokio::test]
    async fn async_acquire_gets_the_lock_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let g = acquire(&p, Duration::from_secs(1)).unwrap();
        let p2 = p.clone();
        let waiter = tokio::spawn(async move {
            acquire_async(&p2, Duration::from_secs(10))
                .await
                .map(|_| ())
        });
        // The waiter cannot finish while the lock is held.
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(g);
        waiter.await.unwrap().unwrap();
    }
}
