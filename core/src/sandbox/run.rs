//! The caller's side: start the launcher for one command in its own process group, capture its
//! output up to the cap, enforce the time limit, and kill the whole tree at the end.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::SandboxError;
use super::output::{Capture, Output};
use super::platform::{Availability, availability};
use super::spec::{
    ALLOWED_ENV, DEFAULT_OUTPUT_CAP, DEFAULT_TIME_LIMIT, Enforced, LAUNCHER_ARG,
    SETUP_ERROR_PREFIX, SETUP_FAILED_EXIT, SYSTEM_READ_ONLY, Spec, clean_env,
};

/// How long output is still read after the launcher ended (its tree is dead by then).
const DRAIN_LIMIT: Duration = Duration::from_millis(500);

/// The program that enters the sandbox: started as `<program> <args…> <spec JSON>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launcher {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl Launcher {
    /// The bridge binary as launcher: `<program> __sandbox-exec <spec JSON>`.
    pub fn bridge(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: vec![LAUNCHER_ARG.into()],
        }
    }
}

/// The sandbox of one task: its copy, its temp folder, what else it may read, its limits.
#[derive(Debug, Clone)]
pub struct Sandbox {
    launcher: Launcher,
    root: PathBuf,
    temp: PathBuf,
    read_only: Vec<PathBuf>,
    env: BTreeMap<String, String>,
    time_limit: Duration,
    output_cap: usize,
}

impl Sandbox {
    /// A sandbox over the copy `root` with the private `temp` folder, the default limits, and
    /// the clean environment made from this process's `PATH` and `LANG`.
    pub fn new(launcher: Launcher, root: impl Into<PathBuf>, temp: impl Into<PathBuf>) -> Self {
        let temp = temp.into();
        Self {
            env: clean_env(std::env::vars(), &temp),
            launcher,
            root: root.into(),
            temp,
            read_only: Vec::new(),
            time_limit: DEFAULT_TIME_LIMIT,
            output_cap: DEFAULT_OUTPUT_CAP,
        }
    }

    /// More read-only folders (toolchains; see [`toolchain_paths`](super::toolchain_paths)).
    pub fn read_only(mut self, paths: impl IntoIterator<Item = PathBuf>) -> Self {
        self.read_only.extend(paths);
        self
    }

    /// Each command's time limit.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }

    /// Each command's output cap in bytes.
    pub fn output_cap(mut self, cap: usize) -> Self {
        self.output_cap = cap;
        self
    }

    /// The clean environment made from `caller`'s variables instead of this process's.
    pub fn caller_env(mut self, caller: impl IntoIterator<Item = (String, String)>) -> Self {
        self.env = clean_env(caller, &self.temp);
        self
    }

    /// What commands run under here, for a task's result.
    pub fn enforced(&self) -> Enforced {
        let (mechanism, network) = match availability() {
            Availability::Available { landlock_abi } => (
                format!(
                    "linux: user, mount, network, PID and IPC namespaces; Landlock ABI \
                     {landlock_abi}; no capabilities"
                ),
                if landlock_abi >= 4 {
                    "none: a network namespace with no interface up; TCP also denied by Landlock"
                } else {
                    "none: a network namespace with no interface up"
                },
            ),
            Availability::Unavailable { reason } => (
                format!("none: {reason}"),
                "not confined: commands do not run",
            ),
        };
        let mut readable: Vec<PathBuf> = SYSTEM_READ_ONLY
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect();
        readable.extend(self.read_only.iter().cloned());
        Enforced {
            mechanism,
            network: network.into(),
            writable: vec![self.root.clone(), self.temp.clone()],
            readable,
            env: ALLOWED_ENV.iter().map(|s| (*s).to_owned()).collect(),
            time_limit_seconds: self.time_limit.as_secs(),
            output_cap_bytes: self.output_cap,
        }
    }

    /// The spec of `command` started in `workdir` (relative to the copy).
    pub fn spec(&self, command: &str, workdir: &Path) -> Spec {
        Spec {
            root: self.root.clone(),
            temp: self.temp.clone(),
            read_only: self.read_only.clone(),
            command: command.to_owned(),
            workdir: workdir.to_owned(),
            time_limit_ms: u64::try_from(self.time_limit.as_millis()).unwrap_or(u64::MAX),
            env: self.env.clone(),
        }
    }

    /// Run `command` at the copy's top.
    pub async fn run(&self, command: &str) -> Result<Output, SandboxError> {
        self.run_in(command, Path::new("")).await
    }

    /// Check that a command can really run here (a real `exit 0` in the sandbox); the error
    /// says why not.
    pub async fn probe(&self) -> Result<(), SandboxError> {
        if let Availability::Unavailable { reason } = availability() {
            return Err(SandboxError::Unavailable { reason });
        }
        let out = self.run("exit 0").await?;
        if out.success() {
            return Ok(());
        }
        Err(SandboxError::Unavailable {
            reason: format!("a test command failed in the sandbox: {}", out.text.trim()),
        })
    }

    /// Run `command` in `workdir` (relative to the copy). A command that fails is an `Ok`
    /// output with its exit code; an `Err` means the sandbox itself failed (the command never
    /// ran unconfined).
    pub async fn run_in(&self, command: &str, workdir: &Path) -> Result<Output, SandboxError> {
        if let Availability::Unavailable { reason } = availability() {
            return Err(SandboxError::Unavailable { reason });
        }
        let spec = self.spec(command, workdir);
        spec.check()?;
        let launcher_err = |detail: String| SandboxError::Launcher {
            program: self.launcher.program.clone(),
            detail,
        };
        let (reader, writer) = std::io::pipe().map_err(|e| launcher_err(e.to_string()))?;
        let mut cmd = tokio::process::Command::new(&self.launcher.program);
        cmd.args(&self.launcher.args)
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
        let watched = watch(child, reader, self.time_limit, self.output_cap).await;
        let (status, capture, timed_out) = watched.map_err(|e| launcher_err(e.to_string()))?;
        finish(status, capture, timed_out, started.elapsed())
    }
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
