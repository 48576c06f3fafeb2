//! The caller's side: start the launcher for one command in its own process group, capture its
//! output up to the cap, enforce the time limit, and kill the whole tree at the end.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::SandboxError;
use super::output::Output;
use super::platform::{Availability, availability};
use super::spec::{
    ALLOWED_ENV, DEFAULT_OUTPUT_CAP, DEFAULT_TIME_LIMIT, Enforced, LAUNCHER_ARG, SYSTEM_READ_ONLY,
    Spec, clean_env,
};

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
            env: clean_env(utf8_vars(), &temp),
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
        #[cfg(unix)]
        {
            let (program, args) = (&self.launcher.program, &self.launcher.args);
            super::launch::launch(program, args, &spec, self.time_limit, self.output_cap).await
        }
        #[cfg(not(unix))]
        {
            Err(SandboxError::Unavailable {
                reason: "commands can be sandboxed only on Linux for now".into(),
            })
        }
    }
}

/// This process's variables that are UTF-8 (`std::env::vars` would panic on the others).
fn utf8_vars() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
}
