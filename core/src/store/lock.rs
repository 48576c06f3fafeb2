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

fn try_once(file: &File, path: &Path) -> Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io("lock", path, e)),
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((2u64 << attempt.min(4)).min(25))
}

/// Take the lock, waiting up to `wait` (blocking the thread).
pub fn acquire(path: &Path, wait: Duration) -> Result<LockGuard> {
    let file = fsutil::open_private(path)?;
    let start = Instant::now();
    let mut attempt = 0;
    loop {
        if try_once(&file, path)? {
            return Ok(LockGuard {
                file,
                path: path.to_path_buf(),
            });
        }
        if start.elapsed() >= wait {
            return Err(Error::LockTimeout {
                path: path.to_path_buf(),
                seconds: wait.as_secs(),
            });
        }
        std::thread::sleep(backoff(attempt));
        attempt += 1;
    }
}

/// Take the lock, waiting up to `wait` without blocking the async runtime.
pub async fn acquire_async(path: &Path, wait: Duration) -> Result<LockGuard> {
    let file = fsutil::open_private(path)?;
    let start = Instant::now();
    let mut attempt = 0;
    loop {
        if try_once(&file, path)? {
            return Ok(LockGuard {
                file,
                path: path.to_path_buf(),
            });
        }
        if start.elapsed() >= wait {
            return Err(Error::LockTimeout {
                path: path.to_path_buf(),
                seconds: wait.as_secs(),
            });
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
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
