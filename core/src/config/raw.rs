//! The raw layer of the settings: values as the config file and the environment give them,
//! checked one by one (with the key and where it came from in every error), then completed with
//! the defaults.

use std::path::{Path, PathBuf};

use url::Url;

use super::{
    DEFAULT_API_BASE, DEFAULT_AUTHORIZE_ORIGINATOR, DEFAULT_CALLBACK_PORT, DEFAULT_CLIENT_ID,
    DEFAULT_CODEX_VERSION, DEFAULT_FILES_MAX_FILE_KB, DEFAULT_FILES_MAX_TOTAL_KB, DEFAULT_ISSUER,
    DEFAULT_JOB_TIMEOUT_MINUTES, DEFAULT_OPENAI_API_BASE, DEFAULT_PROFILE, DEFAULT_USAGE_ALERTS,
    DEFAULT_USAGE_URL, KEYS, Settings, StoreMode, parse_version, validate_profile,
};
use crate::error::{Error, Result};

#[derive(Clone, Copy)]
pub(super) enum Origin<'a> {
    File(&'a Path),
    Env(&'a str),
}

impl Origin<'_> {
    fn describe(&self) -> String {
        match self {
            Origin::File(p) => p.display().to_string(),
            Origin::Env(v) => format!("environment variable {v}"),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) enum RawValue {
    Str(String),
    Int(i64),
    Bool(bool),
    /// A list of whole numbers (`usage_alerts = [80, 95]`).
    Ints(Vec<i64>),
}

/// The settings of config.toml that have no environment variable.
const CONFIG_FILE_ONLY: &[&str] = &[
    "usage_alerts",
    "claude_budget_percent",
    "files_max_file_kb",
    "files_max_total_kb",
    "job_timeout_minutes",
];

#[derive(Default)]
pub(super) struct RawSettings {
    store: Option<StoreMode>,
    profile: Option<String>,
    issuer: Option<Url>,
    client_id: Option<String>,
    api_base: Option<Url>,
    usage_url: Option<Url>,
    openai_api_base: Option<Url>,
    callback_port: Option<u16>,
    open_browser: Option<bool>,
    codex_version: Option<String>,
    authorize_originator: Option<String>,
    usage_alerts: Option<Vec<u8>>,
    claude_budget_percent: Option<u8>,
    files_max_file_kb: Option<u32>,
    files_max_total_kb: Option<u32>,
    job_timeout_minutes: Option<u32>,
    review_gate: Option<bool>,
    model: Option<String>,
    reasoning_effort: Option<String>,
}

impl RawSettings {
    pub(super) fn set(&mut self, key: &str, value: RawValue, origin: Origin<'_>) -> Result<()> {
        let set = match key {
            "store"
            | "profile"
            | "codex_version"
            | "authorize_originator"
            | "client_id"
            | "model"
            | "reasoning_effort" => text(&value).and_then(|s| self.set_word(key, s)),
            "issuer" | "api_base" | "usage_url" | "openai_api_base" => {
                text(&value).and_then(|s| self.set_endpoint(key, &s))
            }
            "usage_alerts" => self.set_usage_alerts(&value),
            "claude_budget_percent" => self.set_claude_budget_percent(&value),
            "files_max_file_kb" | "files_max_total_kb" => self.set_files_kb(key, &value),
            "job_timeout_minutes" => self.set_job_timeout(&value),
            "review_gate" => self.set_review_gate(&value),
            "callback_port" => self.set_callback_port(&value),
            "open_browser" => self.set_open_browser(value, origin),
            other => return Err(unknown_setting(other, origin)),
        };
        set.map_err(|reason| Error::Config {
            key: key.to_string(),
            origin: origin.describe(),
            reason,
        })
    }

    /// A setting whose value is a word or a name, checked.
    fn set_word(&mut self, key: &str, s: String) -> Checked {
        match key {
            "store" => {
                self.store = Some(
                    StoreMode::parse(&s)
                        .ok_or_else(|| format!("`{s}` is not one of auto, keyring, file"))?,
                );
            }
            "profile" => {
                validate_profile(&s)?;
                self.profile = Some(s);
            }
            "codex_version" => {
                if parse_version(&s).is_none() {
                    return Err(format!(
                        "`{s}` is not a version like 0.171.0 (three numbers separated by dots)"
                    ));
                }
                self.codex_version = Some(s);
            }
            "model" => {
                if s.is_empty()
                    || s.len() > 128
                    || !s
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-:".contains(c))
                {
                    return Err(
                        "must be a model slug (letters, digits, '.', '_', '-', ':'), as codex_models lists them"
                            .into(),
                    );
                }
                self.model = Some(s);
            }
            "reasoning_effort" => {
                if s.is_empty() || s.len() > 32 || !s.chars().all(|c| c.is_ascii_lowercase()) {
                    return Err(
                        "must be an effort the model lists in codex_models, such as low, medium or high"
                            .into(),
                    );
                }
                self.reasoning_effort = Some(s);
            }
            "authorize_originator" => {
                if s.is_empty()
                    || !s
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err("must be a non-empty word of letters, digits, '_' or '-'".into());
                }
                self.authorize_originator = Some(s);
            }
            _ => {
                if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err("must be a non-empty string without spaces".into());
                }
                self.client_id = Some(s);
            }
        }
        Ok(())
    }

    /// One of the endpoints: `issuer`, `api_base`, `usage_url`, `openai_api_base`.
    fn set_endpoint(&mut self, key: &str, text: &str) -> Checked {
        let url = parse_endpoint(text)?;
        match key {
            "issuer" => self.issuer = Some(url),
            "api_base" => self.api_base = Some(url),
            "usage_url" => self.usage_url = Some(url),
            _ => self.openai_api_base = Some(url),
        }
        Ok(())
    }

    fn set_usage_alerts(&mut self, value: &RawValue) -> Checked {
        let RawValue::Ints(list) = value else {
            return Err("expected a list of percentages, e.g. [80, 95]".into());
        };
        let mut alerts = Vec::new();
        for n in list {
            match u8::try_from(*n) {
                Ok(p) if (1..=100).contains(&p) => alerts.push(p),
                _ => return Err(format!("{n} is not a percentage (1-100)")),
            }
        }
        alerts.sort_unstable();
        alerts.dedup();
        self.usage_alerts = Some(alerts);
        Ok(())
    }

    fn set_claude_budget_percent(&mut self, value: &RawValue) -> Checked {
        let n = match value {
            RawValue::Int(n) => *n,
            _ => return Err("expected a percentage (1-100)".into()),
        };
        match u8::try_from(n) {
            Ok(p) if (1..=100).contains(&p) => self.claude_budget_percent = Some(p),
            _ => return Err(format!("{n} is not a percentage (1-100)")),
        }
        Ok(())
    }

    /// `job_timeout_minutes`: 1 minute to a day.
    fn set_job_timeout(&mut self, value: &RawValue) -> Checked {
        let n = match value {
            RawValue::Int(n) => *n,
            _ => return Err("expected a number of minutes (1-1440)".into()),
        };
        match u32::try_from(n) {
            Ok(m) if (1..=1440).contains(&m) => self.job_timeout_minutes = Some(m),
            _ => return Err(format!("{n} is not a number of minutes from 1 to 1440")),
        }
        Ok(())
    }

    /// `review_gate`: true or false (a TOML boolean, or the word in the environment).
    fn set_review_gate(&mut self, value: &RawValue) -> Checked {
        let on = match value {
            RawValue::Bool(b) => *b,
            RawValue::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(format!("`{s}` is not true or false")),
            },
            other => return Err(format!("expected true or false, got {other:?}")),
        };
        self.review_gate = Some(on);
        Ok(())
    }

    /// `files_max_file_kb` or `files_max_total_kb`.
    fn set_files_kb(&mut self, key: &str, value: &RawValue) -> Checked {
        let n = match value {
            RawValue::Int(n) => *n,
            _ => return Err("expected a size in KB (1-65536)".into()),
        };
        let kb = match u32::try_from(n) {
            Ok(kb) if (1..=65536).contains(&kb) => kb,
            _ => return Err(format!("{n} is not a size in KB (1-65536)")),
        };
        if key == "files_max_file_kb" {
            self.files_max_file_kb = Some(kb);
        } else {
            self.files_max_total_kb = Some(kb);
        }
        Ok(())
    }

    fn set_callback_port(&mut self, value: &RawValue) -> Checked {
        let n = match value {
            RawValue::Int(n) => *n,
            RawValue::Str(s) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("`{s}` is not a port number"))?,
            RawValue::Bool(_) | RawValue::Ints(_) => {
                return Err("expected a port number".into());
            }
        };
        if !(1..=65535).contains(&n) {
            return Err(format!("{n} is not a port number (1-65535)"));
        }
        self.callback_port = Some(n as u16);
        Ok(())
    }

    fn set_open_browser(&mut self, value: RawValue, origin: Origin<'_>) -> Checked {
        match value {
            // In the environment the variable is CODEX_OAUTH_NO_BROWSER, already inverted to "off".
            RawValue::Bool(b) => {
                self.open_browser = Some(if matches!(origin, Origin::Env(_)) {
                    !b
                } else {
                    b
                });
                Ok(())
            }
            other => Err(format!("expected true or false, got {other:?}")),
        }
    }

    pub(super) fn finish(self, home: PathBuf, config_file: PathBuf) -> Result<Settings> {
        let default_url =
            |s: &str| Url::parse(s).map_err(|e| Error::Internal(format!("built-in URL {s}: {e}")));
        Ok(Settings {
            home,
            home_from_env: false,
            config_file,
            store: self.store.unwrap_or(StoreMode::Auto),
            profile_chosen: self.profile.is_some(),
            profile_from_env: false,
            profile: self.profile.unwrap_or_else(|| DEFAULT_PROFILE.to_string()),
            issuer: match self.issuer {
                Some(u) => u,
                None => default_url(DEFAULT_ISSUER)?,
            },
            client_id: self
                .client_id
                .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_string()),
            api_base: match self.api_base {
                Some(u) => u,
                None => default_url(DEFAULT_API_BASE)?,
            },
            usage_url: match self.usage_url {
                Some(u) => u,
                None => default_url(DEFAULT_USAGE_URL)?,
            },
            openai_api_base: match self.openai_api_base {
                Some(u) => u,
                None => default_url(DEFAULT_OPENAI_API_BASE)?,
            },
            callback_port_explicit: self.callback_port.is_some(),
            callback_port: self.callback_port.unwrap_or(DEFAULT_CALLBACK_PORT),
            open_browser: self.open_browser.unwrap_or(true),
            codex_version: self
                .codex_version
                .unwrap_or_else(|| DEFAULT_CODEX_VERSION.to_string()),
            usage_alerts: self
                .usage_alerts
                .unwrap_or_else(|| DEFAULT_USAGE_ALERTS.to_vec()),
            claude_budget_percent: self.claude_budget_percent,
            job_timeout_minutes: self
                .job_timeout_minutes
                .unwrap_or(DEFAULT_JOB_TIMEOUT_MINUTES),
            model: self.model,
            reasoning_effort: self.reasoning_effort,
            files_max_file_kb: self.files_max_file_kb.unwrap_or(DEFAULT_FILES_MAX_FILE_KB),
            files_max_total_kb: self
                .files_max_total_kb
                .unwrap_or(DEFAULT_FILES_MAX_TOTAL_KB),
            authorize_originator: self
                .authorize_originator
                .unwrap_or_else(|| DEFAULT_AUTHORIZE_ORIGINATOR.to_string()),
            review_gate: self.review_gate.unwrap_or(false),
        })
    }
}

/// A value checked, or why it is refused (the error adds the key and where it came from).
type Checked = std::result::Result<(), String>;

/// The text of a setting that takes a string, trimmed.
fn text(v: &RawValue) -> std::result::Result<String, String> {
    match v {
        RawValue::Str(s) => Ok(s.trim().to_string()),
        other => Err(format!("expected a string, got {other:?}")),
    }
}

fn unknown_setting(key: &str, origin: Origin<'_>) -> Error {
    Error::Config {
        key: key.to_string(),
        origin: origin.describe(),
        reason: format!(
            "unknown setting; the known ones are {}",
            KEYS.iter()
                .map(|(_, k)| *k)
                .chain(CONFIG_FILE_ONLY.iter().copied())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The text of the config file; `None` when there is none.
pub(super) fn read_config_file(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read the config file", path, e)),
    }
}

/// The settings a config file sets, in file order. `path` names the file in errors.
pub(super) fn parse_config_text(text: &str, path: &Path) -> Result<Vec<(String, RawValue)>> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| Error::Config {
        key: "(file)".into(),
        origin: path.display().to_string(),
        reason: format!("not valid TOML: {}", e.message()),
    })?;
    let mut out = Vec::new();
    for (key, value) in table {
        let raw = match value {
            toml::Value::String(s) => RawValue::Str(s),
            toml::Value::Integer(i) => RawValue::Int(i),
            toml::Value::Boolean(b) => RawValue::Bool(b),
            toml::Value::Array(items) if items.iter().all(toml::Value::is_integer) => {
                RawValue::Ints(items.iter().filter_map(toml::Value::as_integer).collect())
            }
            other => {
                return Err(Error::Config {
                    key,
                    origin: path.display().to_string(),
                    reason: format!("unsupported value type {}", other.type_str()),
                });
            }
        };
        out.push((key, raw));
    }
    Ok(out)
}

/// An endpoint must be https, or http on a loopback host (tests, local proxies).
pub(super) fn parse_endpoint(text: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{text}` must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "`{text}` uses plain http on a non-loopback host; use https (http is allowed for 127.0.0.1, ::1 and localhost only)"
        )),
        s => Err(format!("`{text}`: scheme `{s}` is not http(s)")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
