//! What one sandboxed command is (the spec the launcher gets as one JSON argument), its clean
//! environment, and the description of what the sandbox enforces.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::SandboxError;

/// A command's default time limit.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(120);
/// A command's default output cap (stdout and stderr together), in bytes.
pub const DEFAULT_OUTPUT_CAP: usize = 64 * 1024;
/// The hidden first argument that makes the bridge binary the sandbox launcher:
/// `codex-mcp-bridge __sandbox-exec <spec JSON>`.
pub const LAUNCHER_ARG: &str = "__sandbox-exec";
/// The exit code of a launcher whose sandbox could not be set up (the command never ran).
pub const SETUP_FAILED_EXIT: i32 = 125;
/// How a launcher that could not set the sandbox up starts its one line on stderr.
pub const SETUP_ERROR_PREFIX: &str = "codex-oauth sandbox: ";
/// The only environment variables a command gets.
pub const ALLOWED_ENV: [&str; 5] = ["PATH", "LANG", "TERM", "HOME", "TMPDIR"];
/// The system's locations, readable (never writable) in the sandbox where they exist.
pub const SYSTEM_READ_ONLY: [&str; 9] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
];
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One command for the launcher. Paths are absolute; `workdir` is relative to `root`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The task's copy folder: readable and writable.
    pub root: PathBuf,
    /// The private temp folder: readable and writable (`HOME` and `TMPDIR` are inside it).
    pub temp: PathBuf,
    /// More read-only folders (toolchains), beside [`SYSTEM_READ_ONLY`].
    pub read_only: Vec<PathBuf>,
    /// The shell command (`/bin/sh -c <command>`).
    pub command: String,
    /// Where the command starts, relative to `root` (empty: `root` itself).
    pub workdir: PathBuf,
    /// The time limit in milliseconds (the launcher's own backstop; the runner enforces it).
    pub time_limit_ms: u64,
    /// The whole environment of the command: only names in [`ALLOWED_ENV`].
    pub env: BTreeMap<String, String>,
}

impl Spec {
    /// The spec as the launcher's last argument.
    pub fn to_arg(&self) -> Result<String, SandboxError> {
        serde_json::to_string(self).map_err(|e| SandboxError::BadSpec(e.to_string()))
    }

    /// Read and check the launcher's argument.
    pub fn from_arg(arg: &str) -> Result<Self, SandboxError> {
        let spec: Spec =
            serde_json::from_str(arg).map_err(|e| SandboxError::BadSpec(e.to_string()))?;
        spec.check()?;
        Ok(spec)
    }

    /// Refuse a spec the sandbox cannot honour: relative or root paths, a workdir that leaves the
    /// copy, a variable outside the allow-list, an empty command.
    pub fn check(&self) -> Result<(), SandboxError> {
        for (what, path) in [("root", &self.root), ("temp", &self.temp)] {
            if !path.is_absolute() || path.parent().is_none() {
                return Err(SandboxError::BadSpec(format!(
                    "{what} must be an absolute folder other than /, not {}",
                    path.display()
                )));
            }
        }
        if let Some(p) = self.read_only.iter().find(|p| !p.is_absolute()) {
            return Err(SandboxError::BadSpec(format!(
                "read-only paths must be absolute, not {}",
                p.display()
            )));
        }
        if !self
            .workdir
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(SandboxError::BadSpec(format!(
                "workdir must stay inside the copy (relative, no ..), not {}",
                self.workdir.display()
            )));
        }
        if let Some(name) = self.env.keys().find(|k| !ALLOWED_ENV.contains(&k.as_str())) {
            return Err(SandboxError::BadSpec(format!(
                "variable {name} is not in the allow-list ({})",
                ALLOWED_ENV.join(", ")
            )));
        }
        if self.command.trim().is_empty() || self.command.contains('\0') {
            return Err(SandboxError::BadSpec(
                "the command is empty or holds a NUL byte".into(),
            ));
        }
        Ok(())
    }

    /// The folder the command starts in.
    pub fn cwd(&self) -> PathBuf {
        self.root.join(&self.workdir)
    }

    /// The time limit.
    pub fn time_limit(&self) -> Duration {
        Duration::from_millis(self.time_limit_ms)
    }
}

/// The private `HOME` inside the temp folder.
pub(crate) fn private_home(temp: &Path) -> PathBuf {
    temp.join("home")
}

/// The private `TMPDIR` inside the temp folder.
pub(crate) fn private_tmp(temp: &Path) -> PathBuf {
    temp.join("tmp")
}

/// The clean environment of a command: `PATH` and `LANG` from the caller's (or defaults),
/// `TERM=dumb`, `HOME` and `TMPDIR` inside `temp`. Nothing else of `caller` gets through.
pub fn clean_env(
    caller: impl IntoIterator<Item = (String, String)>,
    temp: &Path,
) -> BTreeMap<String, String> {
    let caller: BTreeMap<String, String> = caller.into_iter().collect();
    let mut env = BTreeMap::new();
    let path = caller
        .get("PATH")
        .filter(|p| !p.is_empty())
        .map_or(DEFAULT_PATH, String::as_str);
    env.insert("PATH".into(), path.into());
    let lang = caller
        .get("LANG")
        .filter(|l| !l.is_empty())
        .map_or("C.UTF-8", String::as_str);
    env.insert("LANG".into(), lang.into());
    env.insert("TERM".into(), "dumb".into());
    env.insert(
        "HOME".into(),
        private_home(temp).to_string_lossy().into_owned(),
    );
    env.insert(
        "TMPDIR".into(),
        private_tmp(temp).to_string_lossy().into_owned(),
    );
    env
}

/// The toolchain folders under `home` worth offering read-only, those that exist: the installed
/// tools and caches (`~/.cargo/bin`, `~/.cargo/registry`, `~/.rustup`, `~/.local/bin`), never
/// whole `~/.cargo` (its `credentials.toml`) nor any other part of the home folder.
pub fn toolchain_paths(home: &Path) -> Vec<PathBuf> {
    [
        ".cargo/bin",
        ".cargo/registry",
        ".cargo/git",
        ".rustup",
        ".local/bin",
    ]
    .iter()
    .map(|p| home.join(p))
    .filter(|p| p.is_dir())
    .collect()
}

/// What the sandbox enforced for a task's commands, to show in its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Enforced {
    /// How (e.g. "linux: user, mount, network, PID and IPC namespaces; Landlock ABI 7").
    pub mechanism: String,
    /// The network the command has ("none": a network namespace with no interface up).
    pub network: String,
    /// The only folders it can write.
    pub writable: Vec<PathBuf>,
    /// The folders it can read (besides the writable ones); nothing else exists for it.
    pub readable: Vec<PathBuf>,
    /// Its environment variables' names.
    pub env: Vec<String>,
    /// The time limit of one command, in seconds.
    pub time_limit_seconds: u64,
    /// The output cap of one command, in bytes.
    pub output_cap_bytes: usize,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec {
            root: "/jobs/1/copy".into(),
            temp: "/jobs/1/tmp".into(),
            read_only: vec!["/root/.rustup".into()],
            command: "cargo test".into(),
            workdir: "core".into(),
            time_limit_ms: 5000,
            env: clean_env([], Path::new("/jobs/1/tmp")),
        }
    }

    #[test]
    fn a_spec_survives_the_launcher_argument() {
        let s = spec();
        assert_eq!(Spec::from_arg(&s.to_arg().unwrap()).unwrap(), s);
        assert_eq!(s.cwd(), PathBuf::from("/jobs/1/copy/core"));
    }

    #[test]
    fn a_spec_with_a_workdir_out_of_the_copy_is_refused() {
        for w in ["../x", "/etc", "a/../../b"] {
            let mut s = spec();
            s.workdir = w.into();
            let err = Spec::from_arg(&s.to_arg().unwrap()).unwrap_err();
            assert!(err.to_string().contains("workdir"), "{w}: {err}");
        }
    }

    #[test]
    fn a_spec_with_a_relative_or_root_folder_is_refused() {
        for r in ["copy", "/"] {
            let mut s = spec();
            s.root = r.into();
            assert!(s.check().is_err(), "{r}");
        }
        let mut s = spec();
        s.read_only.push("rel".into());
        assert!(s.check().is_err());
    }

    #[test]
    fn a_spec_with_a_variable_outside_the_allow_list_is_refused() {
        let mut s = spec();
        s.env.insert("OPENAI_API_KEY".into(), "sk-x".into());
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains("OPENAI_API_KEY"), "{err}");
    }

    #[test]
    fn unknown_fields_and_empty_commands_are_refused() {
        assert!(Spec::from_arg(r#"{"root":"/a"}"#).is_err());
        let mut s = spec();
        s.command = "  ".into();
        assert!(s.check().is_err());
    }

    #[test]
    fn the_clean_env_keeps_only_the_allow_list_with_a_private_home() {
        let caller = [
            ("PATH", "/usr/bin:/bin"),
            ("LANG", "fr_FR.UTF-8"),
            ("HOME", "/home/me"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("SSH_AUTH_SOCK", "/run/user/1000/ssh"),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let env = clean_env(caller, Path::new("/t"));
        assert_eq!(env.keys().collect::<Vec<_>>(), {
            let mut names = ALLOWED_ENV.to_vec();
            names.sort_unstable();
            names
        });
        assert_eq!(env["PATH"], "/usr/bin:/bin");
        assert_eq!(env["LANG"], "fr_FR.UTF-8");
        assert_eq!(env["HOME"], "/t/home");
        assert_eq!(env["TMPDIR"], "/t/tmp");
        assert_eq!(env["TERM"], "dumb");
    }

    #[test]
    fn the_clean_env_has_defaults_when_the_caller_has_none() {
        let env = clean_env([], Path::new("/t"));
        assert!(env["PATH"].contains("/usr/bin"));
        assert_eq!(env["LANG"], "C.UTF-8");
    }

    #[test]
    fn toolchains_never_offer_the_whole_cargo_home() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".cargo/bin")).unwrap();
        std::fs::create_dir_all(home.path().join(".ssh")).unwrap();
        let paths = toolchain_paths(home.path());
        assert_eq!(paths, vec![home.path().join(".cargo/bin")]);
    }
}
