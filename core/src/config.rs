//! Settings, from one place: defaults < `config.toml` < environment.
//!
//! Every endpoint is derived from `issuer`, `api_base`, `usage_url` and `openai_api_base`, so
//! tests point the whole program at a local server with a few variables.

use std::collections::HashMap;
use std::path::PathBuf;

use url::Url;

mod raw;

use crate::error::{Error, Result};
use raw::{Origin, RawSettings, RawValue, parse_config_text, read_config_file};

pub const DEFAULT_ISSUER: &str = "https://auth.openai.com";
pub const DEFAULT_CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
pub const DEFAULT_API_BASE: &str = "https://chatgpt.com/backend-api/codex";
pub const DEFAULT_USAGE_URL: &str = "https://chatgpt.com/backend-api/wham/usage";
pub const DEFAULT_OPENAI_API_BASE: &str = "https://api.openai.com/v1";
pub const DEFAULT_CALLBACK_PORT: u16 = 1455;
/// The only other redirect port registered for the public client id.
pub const FALLBACK_CALLBACK_PORT: u16 = 1457;
pub const DEFAULT_PROFILE: &str = "default";
/// Sent as `originator` to the Codex backend (and in `User-Agent`): this project names itself.
pub const ORIGINATOR: &str = "codex_oauth";
/// The `originator` of the authorize URL: auth.openai.com allow-lists it per client id, and
/// answers an unknown one with an error page (PROTOCOL.md §1).
pub const DEFAULT_AUTHORIZE_ORIGINATOR: &str = "codex_cli_rs";
/// The Codex CLI release this build matches: sent as `client_version` on `/models` and as the
/// `version` header on every backend call (PROTOCOL.md §6). Raise it (setting `codex_version`)
/// when the catalog hides new models or the backend answers "requires a newer version".
pub const DEFAULT_CODEX_VERSION: &str = "0.171.0";
/// `usage_alerts` when config.toml sets none.
pub const DEFAULT_USAGE_ALERTS: [u8; 2] = [80, 95];
/// `codex_query`'s `files`: the most of one file and of all, in KB. About 150k tokens in all, a
/// large share of today's context windows (272k) with room for the conversation and the answer.
pub const DEFAULT_FILES_MAX_FILE_KB: u32 = 256;
pub const DEFAULT_FILES_MAX_TOTAL_KB: u32 = 600;
/// `job_timeout_minutes`: a call's time limit when it names none.
pub const DEFAULT_JOB_TIMEOUT_MINUTES: u32 = 30;
pub const APP_NAME: &str = "codex-oauth";
/// Keychain service name; the profile is the user.
pub const KEYCHAIN_SERVICE: &str = "codex-oauth";

/// Where the secret record lives.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum StoreMode {
    /// The OS keychain, else the file (with the reason recorded).
    Auto,
    /// Only the OS keychain.
    Keyring,
    /// Only the 0600 file.
    File,
}

impl StoreMode {
    fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "keyring" | "keychain" => Some(Self::Keyring),
            "file" => Some(Self::File),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Root of every profile folder.
    pub home: PathBuf,
    /// `home` was set by `CODEX_OAUTH_HOME` (not the platform default): another process must be
    /// given the same variable to find the same store.
    pub home_from_env: bool,
    /// The config file that was (or would be) read.
    pub config_file: PathBuf,
    pub store: StoreMode,
    pub profile: String,
    /// The default profile was chosen (`profile` in config.toml or `CODEX_OAUTH_PROFILE`), not
    /// left at `default`: a first sign-in elsewhere does not take its place.
    pub profile_chosen: bool,
    /// The default profile was chosen by `CODEX_OAUTH_PROFILE` (which wins over config.toml).
    pub profile_from_env: bool,
    pub issuer: Url,
    pub client_id: String,
    pub api_base: Url,
    pub usage_url: Url,
    pub openai_api_base: Url,
    pub callback_port: u16,
    /// The user chose the port: use it alone, no fallback.
    pub callback_port_explicit: bool,
    pub open_browser: bool,
    /// `x.y.z`: the Codex CLI release whose protocol this build speaks.
    pub codex_version: String,
    /// `originator` of the authorize URL only.
    pub authorize_originator: String,
    /// Percentages of a usage window at which the tray tells the user (config.toml only).
    pub usage_alerts: Vec<u8>,
    /// The most of the weekly window `codex_query` may use, in percent; `None`: no cap
    /// (config.toml only).
    pub claude_budget_percent: Option<u8>,
    /// A call's time limit when it names none (`timeout_seconds`), in minutes (config.toml only).
    pub job_timeout_minutes: u32,
    /// The model of a call that names none (`model` in config.toml, `CODEX_OAUTH_MODEL`, the
    /// plugin's userConfig); `None`: the catalog's default.
    pub model: Option<String>,
    /// The reasoning effort of a call that names none, when its model takes it; `None`: the
    /// model's own default.
    pub reasoning_effort: Option<String>,
    /// The most of one file `codex_query` sends with `files`, in KB (config.toml only).
    pub files_max_file_kb: u32,
    /// The most of all files of one `codex_query`, in KB (config.toml only).
    pub files_max_total_kb: u32,
    /// The plugin's Stop-hook review gate (`codex-mcp-bridge gate`) reviews the change before
    /// Claude stops; off unless set.
    pub review_gate: bool,
}

const ENV_HOME: &str = "CODEX_OAUTH_HOME";

/// (env var, config key) for every setting.
const KEYS: &[(&str, &str)] = &[
    ("CODEX_OAUTH_STORE", "store"),
    ("CODEX_OAUTH_PROFILE", "profile"),
    ("CODEX_OAUTH_ISSUER", "issuer"),
    ("CODEX_OAUTH_CLIENT_ID", "client_id"),
    ("CODEX_OAUTH_API_BASE", "api_base"),
    ("CODEX_OAUTH_USAGE_URL", "usage_url"),
    ("CODEX_OAUTH_OPENAI_API_BASE", "openai_api_base"),
    ("CODEX_OAUTH_CALLBACK_PORT", "callback_port"),
    ("CODEX_OAUTH_NO_BROWSER", "open_browser"),
    ("CODEX_OAUTH_CODEX_VERSION", "codex_version"),
    ("CODEX_OAUTH_AUTHORIZE_ORIGINATOR", "authorize_originator"),
    ("CODEX_OAUTH_REVIEW_GATE", "review_gate"),
    ("CODEX_OAUTH_MODEL", "model"),
    ("CODEX_OAUTH_REASONING_EFFORT", "reasoning_effort"),
];

/// The variables the plugin's `.mcp.json` sets from its userConfig, empty when the user chose
/// nothing there: empty, they leave the setting to config.toml. (Elsewhere an empty value is an
/// error that names the variable.)
const EMPTY_IS_UNSET: &[&str] = &[
    "CODEX_OAUTH_PROFILE",
    "CODEX_OAUTH_MODEL",
    "CODEX_OAUTH_REASONING_EFFORT",
];

impl Settings {
    /// Settings from the process environment and the config file.
    pub fn load() -> Result<Self> {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("CODEX_OAUTH_"))
            .collect();
        Self::from_env(&env)
    }

    /// Settings from the given variables (not the process environment) and the config file they lead to.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Self> {
        let (home, config_file) = locate(env)?;
        let text = read_config_file(&config_file)?;
        Self::from_parts(env, home, config_file, text.as_deref())
    }

    /// Settings from the given variables and config file text (`None`: no file) instead of the
    /// file itself; nothing is read from disk. For the fuzz targets and property tests.
    #[doc(hidden)]
    pub fn from_env_and_config_text(
        env: &HashMap<String, String>,
        config_text: Option<&str>,
    ) -> Result<Self> {
        let (home, config_file) = locate(env)?;
        Self::from_parts(env, home, config_file, config_text)
    }

    fn from_parts(
        env: &HashMap<String, String>,
        home: PathBuf,
        config_file: PathBuf,
        config_text: Option<&str>,
    ) -> Result<Self> {
        let file_values = match config_text {
            Some(text) => parse_config_text(text, &config_file)?,
            None => Vec::new(),
        };
        let mut raw = RawSettings::default();
        for (key, value) in &file_values {
            raw.set(key, value.clone(), Origin::File(&config_file))?;
        }
        for (var, key) in KEYS {
            // The variables a plugin's userConfig fills: set to nothing, they are no choice.
            let empty_is_unset = EMPTY_IS_UNSET.contains(var);
            if let Some(value) = env
                .get(*var)
                .filter(|v| !(empty_is_unset && v.trim().is_empty()))
            {
                let value = if *var == "CODEX_OAUTH_NO_BROWSER" {
                    // Any value but "", "0" or "false" disables the browser.
                    let disabled = !matches!(
                        value.trim().to_ascii_lowercase().as_str(),
                        "" | "0" | "false" | "no"
                    );
                    RawValue::Bool(disabled)
                } else {
                    RawValue::Str(value.clone())
                };
                raw.set(key, value, Origin::Env(var))?;
            }
        }
        let mut settings = raw.finish(home, config_file)?;
        settings.home_from_env = env.get(ENV_HOME).is_some_and(|v| !v.trim().is_empty());
        settings.profile_from_env = env
            .get("CODEX_OAUTH_PROFILE")
            .is_some_and(|v| !v.trim().is_empty());
        Ok(settings)
    }

    /// Settings for tests and embedders: everything at its default, under `home`.
    pub fn for_home(home: impl Into<PathBuf>) -> Result<Self> {
        let home = home.into();
        let mut env = HashMap::new();
        env.insert(ENV_HOME.to_string(), home.to_string_lossy().into_owned());
        Self::from_env(&env)
    }

    /// The default profile as it is now: config.toml read again (another process may have run
    /// `use` since these settings were loaded), unless the environment chose it (the
    /// environment does not change while a process runs).
    pub fn current_profile(&self) -> Result<String> {
        if self.profile_from_env {
            return Ok(self.profile.clone());
        }
        let text = read_config_file(&self.config_file)?;
        let now = Self::from_parts(
            &HashMap::new(),
            self.home.clone(),
            self.config_file.clone(),
            text.as_deref(),
        )?;
        Ok(now.profile)
    }

    pub fn profile_dir(&self) -> PathBuf {
        self.home.join(&self.profile)
    }

    pub fn authorize_url(&self) -> Url {
        join(&self.issuer, "oauth/authorize")
    }
    pub fn token_url(&self) -> Url {
        join(&self.issuer, "oauth/token")
    }
    pub fn revoke_url(&self) -> Url {
        join(&self.issuer, "oauth/revoke")
    }
    pub fn device_usercode_url(&self) -> Url {
        join(&self.issuer, "api/accounts/deviceauth/usercode")
    }
    pub fn device_token_url(&self) -> Url {
        join(&self.issuer, "api/accounts/deviceauth/token")
    }
    /// The page where the user types the device code.
    pub fn device_verification_url(&self) -> Url {
        join(&self.issuer, "codex/device")
    }
    pub fn device_redirect_uri(&self) -> Url {
        join(&self.issuer, "deviceauth/callback")
    }
    pub fn responses_url(&self) -> Url {
        join(&self.api_base, "responses")
    }
    pub fn models_url(&self) -> Url {
        join(&self.api_base, "models")
    }
    pub fn openai_responses_url(&self) -> Url {
        join(&self.openai_api_base, "responses")
    }
    /// `wham/accounts/check`, beside the usage endpoint (`…/wham/usage`).
    pub fn accounts_check_url(&self) -> Url {
        let mut base = self.usage_url.clone();
        let parent = match base.path().trim_end_matches('/').rsplit_once('/') {
            Some((parent, _)) => parent.to_owned(),
            None => String::new(),
        };
        base.set_path(&parent);
        join(&base, "accounts/check")
    }
}

/// The home folder and the config file the variables lead to.
fn locate(env: &HashMap<String, String>) -> Result<(PathBuf, PathBuf)> {
    let home_env = env.get(ENV_HOME).filter(|v| !v.trim().is_empty());
    let found = match home_env {
        Some(h) => {
            let home = PathBuf::from(h.trim());
            let file = home.join("config.toml");
            (home, file)
        }
        None => {
            let dirs =
                directories::ProjectDirs::from("", "", APP_NAME).ok_or_else(|| Error::Config {
                    key: ENV_HOME.into(),
                    origin: "environment".into(),
                    reason: "no home folder could be determined; set CODEX_OAUTH_HOME".into(),
                })?;
            (
                dirs.data_dir().to_path_buf(),
                dirs.config_dir().join("config.toml"),
            )
        }
    };
    Ok(found)
}

/// `base` + "/" + `path`, whatever the trailing slash of `base`.
fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}/{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url
}

/// `x.y.z` as three numbers, for comparing versions; `None` when it is not one.
pub fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.trim().split('.');
    let mut next = || parts.next()?.parse::<u64>().ok();
    let v = (next()?, next()?, next()?);
    parts.next().is_none().then_some(v)
}

/// A profile name becomes a folder name and a keychain user: keep it plain.
pub fn validate_profile(name: &str) -> std::result::Result<(), String> {
    let ok_len = (1..=64).contains(&name.len());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let ok_start = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok_len && ok_chars && ok_start {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid profile name: use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests;
