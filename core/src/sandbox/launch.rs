//! Starting the launcher for one command (Unix): in its own process group, stdout and stderr
//! into one pipe read up to the cap, the time limit enforced, and the whole tree killed at the
//! end.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::SandboxError;
use super::output::{Capture, Output};
use super::spec::{SETUP_ERROR_PREFIX, SETUP_FAILED_EXIT, Spec};

/// How long output is still read after the launcher ended (its tree is dead by then).
const DRAIN_LIMIT: Duration = Duration::from_millis(500);

/// Run `spec` through the launcher: `<program> <args…> <spec JSON>`, with no environment.
pub async fn launch(
    program: &Path,
    args: &[OsString],
    spec: &Spec,
    limit: Duration,
    cap: usize,
) -> Result<Output, SandboxError> {
    let launcher_err = |detail: String| SandboxError::Launcher {
        program: program.to_owned(),
        detail,
    };
    let (reader, writer) = std::io::pipe().map_err(|e| launcher_err(e.to_string()))?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .arg(spec.to_arg()?)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(
            writer
                .try_clone()
                .map_err(|e| launcher_err(e.to_string()))?,
        )
        .stderr(writer)
        .process_group(0)
        .kill_on_drop(true);
    let started = Instant::now();
    let child = cmd.spawn().map_err(|e| launcher_err(e.to_string()))?;
    // The parent's copies of the pipe's write end go with `cmd`: EOF comes when the
    // sandbox's processes are all gone.
    drop(cmd);
    let reader = tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into())
        .map_err(|e| launcher_err(e.to_string()))?;
    let watched = watch(child, reader, limit, cap).await;
    let (status, capture, timed_out) = watched.map_err(|e| launcher_err(e.to_string()))?;
    finish(status, capture, timed_out, started.elapsed())
}

/// Read output and wait, killing the whole process group at the time limit and at the end.
async fn watch(
    mut child: tokio::process::Child,
    mut reader: tokio::net::unix::pipe::Receiver,
    limit: Duration,
    cap: usize,
) -> std::io::Result<(std::process::ExitStatus, Capture, bool)> {
    let group = child.id();
    let mut capture = Capture::new(cap);
    let mut buf = vec![0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + limit;
    let mut timed_out = false;
    let mut open = true;
    let status = loop {
        tokio::select! {
            n = reader.read(&mut buf), if open => match n? {
                0 => open = false,
                n => capture.push(&buf[..n]),
            },
            status = child.wait() => break status?,
            () = tokio::time::sleep_until(deadline), if !timed_out => {
                timed_out = true;
                kill_group(group);
            }
        }
    };
    kill_group(group);
    let drain = async {
        while open {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => open = false,
                Ok(n) => capture.push(&buf[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_LIMIT, drain).await;
    Ok((status, capture, timed_out))
}

/// SIGKILL the launcher's process group: the launcher, the sandbox's pid 1 (whose death takes
/// every process of its PID namespace with it) and anything left in the group.
#[allow(unsafe_code)]
fn kill_group(group: Option<u32>) {
    let Some(pgid) = group.and_then(|g| libc::pid_t::try_from(g).ok()) else {
        return;
    };
    // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
}

/// The output from how the launcher ended; a set-up failure is an error, not an output.
fn finish(
    status: std::process::ExitStatus,
    capture: Capture,
    timed_out: bool,
    wall_time: Duration,
) -> Result<Output, SandboxError> {
    use std::os::unix::process::ExitStatusExt;
    let (text, truncated) = capture.finish();
    if !timed_out
        && status.code() == Some(SETUP_FAILED_EXIT)
        && let Some(line) = text
            .lines()
            .find_map(|l| l.strip_prefix(SETUP_ERROR_PREFIX))
    {
        return Err(SandboxError::Unavailable {
            reason: line.to_owned(),
        });
    }
    Ok(Output {
        exit_code: status.code(),
        signal: status.signal(),
        text,
        truncated,
        timed_out,
        wall_time,
    })
}
