//! The one error type of the core library. Every message says what happened and what to do;
//! [`Error::kind`] says which of the few things a person can do about it (sign in again, try again
//! later, change the input, nothing but read the message), once for every front end, and
//! [`Error::is_transient`] whether a program may retry the same call by itself.

use std::path::PathBuf;

use chrono::{DateTime, Local, Utc};

mod code;

pub use code::{ErrorCode, Refusal};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with the OS keychain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    /// No keychain service on this machine or session (e.g. no D-Bus session, no Secret Service).
    #[error("no keychain is available: {0}")]
    Unavailable(String),
    /// The keychain exists but is locked, or access was refused.
    #[error("the keychain is locked or refused access: {0}")]
    Locked(String),
    /// The keychain did not answer within the time limit.
    #[error("the keychain did not answer within {0} s")]
    TimedOut(u64),
    /// Anything else the platform reported.
    #[error("the keychain failed: {0}")]
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting has a bad value. `origin` names the file or the environment variable.
    #[error("{origin}: bad value for `{key}`: {reason}")]
    Config {
        key: String,
        origin: String,
        reason: String,
    },

    /// A token that is not a well-formed JWT (or lacks a claim we need).
    #[error("malformed token: {0}")]
    Jwt(String),

    #[error(
        "not signed in (profile `{profile}`): sign in with `codex-mcp-bridge login` or from the tray app"
    )]
    NotSignedIn { profile: String },

    /// The refresh token is dead (expired, reused, revoked): only a new sign-in helps.
    #[error("session expired: sign in again ({reason})")]
    SessionExpired { reason: String },

    /// A stored record could not be parsed. It was moved aside, never overwritten.
    #[error("{what} was corrupt ({reason}); it was kept aside as {moved_to}; sign in again")]
    Corrupt {
        what: String,
        moved_to: String,
        reason: String,
    },

    /// A kept conversation (`codex_query`'s `conversation_id`) could not be read. It was moved
    /// aside; the other conversations are untouched.
    #[error(
        "the conversation {id} could not be read ({reason}); its file was kept aside as {moved_to}; start a new conversation (omit conversation_id)"
    )]
    ConversationCorrupt {
        id: String,
        moved_to: String,
        reason: String,
    },

    #[error(transparent)]
    Keychain(#[from] KeychainError),

    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "another codex-oauth process has held the store lock {path} for over {seconds} s; try again in a moment"
    )]
    LockTimeout { path: PathBuf, seconds: u64 },

    /// The network failed (connection refused, DNS, TLS, timeout). Transient.
    #[error("cannot reach {what}: {detail}; check the network connection and try again")]
    Network { what: String, detail: String },

    /// A server answered with an HTTP error that is neither a sign-in problem nor a usage limit.
    #[error("{what} answered HTTP {status}: {message}{}", http_hint(*status))]
    Http {
        what: String,
        status: u16,
        message: String,
    },

    /// A server answered 200 with something we cannot use (garbage, missing fields). Transient.
    #[error("{what} gave an unusable answer: {detail}; try again later")]
    BadResponse { what: String, detail: String },

    /// The OAuth server refused a request (not a dead session: e.g. a bad code).
    #[error("the sign-in server refused the request: {message}")]
    OAuth {
        code: Option<String>,
        message: String,
    },

    #[error("sign-in was cancelled")]
    LoginCancelled,

    #[error("sign-in timed out after {minutes} minutes without an answer; start it again")]
    LoginTimedOut { minutes: u64 },

    /// A pasted final redirect that is not this sign-in's (another address, another sign-in's
    /// `state`): it was ignored and the sign-in still waits.
    #[error("the pasted address was not used: {reason}; the sign-in is still waiting")]
    RedirectRefused { reason: String },

    /// A pasted final redirect came after its sign-in ended (finished, cancelled, timed out).
    #[error("this sign-in has ended; start a new one")]
    SignInEnded,

    /// A pasted final redirect, but no browser sign-in of this process is waiting for one.
    #[error(
        "no browser sign-in is waiting in this process; start one first, then paste the address its last page shows"
    )]
    NoBrowserSignIn,

    /// A pasted final redirect ended its sign-in with a failure (`kind` is the failure's own).
    #[error("the sign-in failed: {message}")]
    SignInFailed { message: String, kind: ErrorKind },

    #[error(
        "cannot listen for the sign-in callback: {detail}; close the other program that uses the port (often another `codex login`), or set CODEX_OAUTH_CALLBACK_PORT, or sign in with a device code (`login --device`)"
    )]
    PortBusy { detail: String },

    #[error(
        "Codex is not enabled for this ChatGPT workspace: ask the workspace admin to enable Codex, or sign in with another account"
    )]
    NoCodexEntitlement,

    #[error("the sign-in was refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    AuthorizeDenied {
        error: String,
        description: Option<String>,
    },

    #[error(
        "device-code sign-in is not enabled for this account or server: enable \"Device code authorization for Codex\" in ChatGPT's security settings, or use the browser sign-in (`codex-mcp-bridge login`)"
    )]
    DeviceCodeUnavailable,

    #[error("the device code expired after 15 minutes without approval; start the sign-in again")]
    DeviceCodeExpired,

    /// No Codex CLI login to import.
    #[error(
        "no Codex CLI login found ({0}); sign in with `codex login` first, or pass --codex-home"
    )]
    ImportNotFound(String),

    /// Input that makes no sense (a bad argument, a record of the wrong kind, a request this
    /// sign-in cannot serve): the message says what to change.
    #[error("{0}")]
    Input(String),

    /// A call passed its time limit and was stopped.
    #[error(
        "stopped after {seconds} s, its time limit (timeout_seconds, or the setting job_timeout_minutes); give it more time or ask for less"
    )]
    TimedOut { seconds: u64 },

    /// A use case refused the input before sending anything (a prompt too large, an unknown
    /// conversation, files that cannot go): `message` says what to change.
    #[error("{message}")]
    Refused { why: Refusal, message: String },

    /// Something in this program or its machine failed that no input explains (a task that
    /// panicked, a built-in value that does not parse).
    #[error("{0}")]
    Internal(String),

    /// The Codex usage limit of the plan is used up (HTTP 429 `usage_limit_reached`). Not retried.
    #[error("{}", usage_limit_message(plan.as_deref(), *resets_at))]
    UsageLimit {
        resets_at: Option<DateTime<Utc>>,
        plan: Option<String>,
    },

    /// The Codex backend refused the request (a 4xx, or a 5xx that outlasted the retries).
    #[error("the Codex backend answered HTTP {status}: {message}")]
    Backend { status: u16, message: String },

    /// The backend reported a failure inside the answer stream (`response.failed`, `error`).
    #[error("Codex could not answer: {message}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    ResponseFailed {
        code: Option<String>,
        message: String,
    },

    /// The catalog lists no model this client release may use.
    #[error(
        "the Codex backend listed no model for client version {client_version} ({detail}); if a newer Codex CLI has been released, set `codex_version` in config.toml (or CODEX_OAUTH_CODEX_VERSION) to its version"
    )]
    NoModels {
        client_version: String,
        detail: String,
    },

    /// A model that is not in the catalog (or needs a newer client release).
    #[error(
        "the model `{model}` is not available to this account{}",
        available_hint(available)
    )]
    UnknownModel {
        model: String,
        available: Vec<String>,
    },

    /// A reasoning effort the model does not list.
    #[error(
        "the model `{model}` does not take the reasoning effort `{effort}`; it takes: {}",
        allowed.join(", ")
    )]
    UnsupportedEffort {
        model: String,
        effort: String,
        allowed: Vec<String>,
    },

    /// The backend would refuse the model: it needs a newer client release than `codex_version`.
    #[error(
        "the Codex backend refused the model `{model}` for client version {client_version} ({message}); set `codex_version` (CODEX_OAUTH_CODEX_VERSION) to the current Codex CLI release, or pick another model from codex_models"
    )]
    ModelRefused {
        model: String,
        client_version: String,
        message: String,
    },

    /// A 400/404 about the model that is not a version matter: the backend does not take this
    /// model for this account or request.
    #[error(
        "the Codex backend did not accept the model `{model}` ({message}); pick another model from codex_models"
    )]
    ModelRejected { model: String, message: String },

    /// `claude_budget_percent` reached: the bridge does not use more of the weekly window.
    #[error(
        "Codex has used {used:.0}% of the weekly window, past the budget of {cap}% set by `claude_budget_percent` in {config_file}; raise the budget or remove the setting to go on (the window resets {resets})"
    )]
    BudgetReached {
        used: f64,
        cap: u8,
        config_file: String,
        resets: String,
    },

    /// Sign-out could not clear the keychain; nothing was changed, so the sign-in still works.
    #[error(
        "not signed out: {what} could not be cleared ({detail}); unlock the keychain (or start its service) and sign out again"
    )]
    SignOutIncomplete { what: String, detail: String },

    /// HTTP 429 `usage_not_included`: the plan does not include Codex. Permanent.
    #[error(
        "Codex is not included in {}: upgrade the plan, or sign in with an account whose plan includes Codex",
        plan.as_deref().map(|p| format!("your {p} plan")).unwrap_or_else(|| "this account's plan".into())
    )]
    PlanExcludesCodex { plan: Option<String> },

    /// A Cloudflare challenge page (HTML 403) instead of an answer: the network or IP is blocked.
    #[error(
        "{what} answered with a Cloudflare block page (HTTP {status}): this network or IP address is blocked by OpenAI's edge; try another network, or turn off the VPN or proxy"
    )]
    NetworkBlocked { what: String, status: u16 },

    /// The store cannot take a record now (disk full, read-only folder): nothing was changed.
    #[error("{detail}")]
    StoreNotWritable { detail: String },

    /// The answer stream ended or broke before `response.completed`. Transient.
    #[error("the Codex answer stream ended before the answer was complete ({detail}); try again")]
    StreamEnded { detail: String },
}

/// "usage limit reached, resets at <local time>", with what to do.
fn usage_limit_message(plan: Option<&str>, resets_at: Option<DateTime<Utc>>) -> String {
    let plan = plan
        .map(|p| format!(" of your {p} plan"))
        .unwrap_or_default();
    match resets_at {
        Some(t) => format!(
            "the Codex usage limit{plan} is reached; it resets at {}; try again then, or sign in with another account",
            t.with_timezone(&Local).format("%Y-%m-%d %H:%M %Z")
        ),
        None => format!(
            "the Codex usage limit{plan} is reached; try again later, or sign in with another account"
        ),
    }
}

/// What a person can do about an error: the one classification every front end uses (the tray's
/// buttons, the bridge's `category`, the CLI's `--json` errors).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Only a (new) sign-in helps.
    SignIn,
    /// The same thing may work later: the network, a busy server, a limit that resets.
    Retry,
    /// Change what was asked: an argument, a setting, the account or the plan.
    Input,
    /// The user stopped it.
    Cancelled,
    /// The machine or this program failed (a file, the keychain, a port, a bug): the message says
    /// what and what to do.
    Internal,
}

impl Error {
    /// A refusal of the input ([`Error::Refused`]).
    pub fn refused(why: Refusal, message: impl Into<String>) -> Self {
        Error::Refused {
            why,
            message: message.into(),
        }
    }

    /// What a person can do about this error.
    pub fn kind(&self) -> ErrorKind {
        if self.needs_sign_in() {
            return ErrorKind::SignIn;
        }
        if self.is_transient() {
            return ErrorKind::Retry;
        }
        match self {
            Error::SignInFailed { kind, .. } => *kind,
            Error::LoginCancelled
            | Error::Refused {
                why: Refusal::Cancelled,
                ..
            } => ErrorKind::Cancelled,
            Error::Refused { .. } | Error::TimedOut { .. } => ErrorKind::Input,
            Error::UsageLimit { .. }
            | Error::LoginTimedOut { .. }
            | Error::DeviceCodeExpired
            | Error::SignOutIncomplete { .. }
            | Error::BudgetReached { .. } => ErrorKind::Retry,
            Error::Config { .. }
            | Error::Jwt(_)
            | Error::AuthorizeDenied { .. }
            | Error::NoCodexEntitlement
            | Error::DeviceCodeUnavailable
            | Error::ImportNotFound(_)
            | Error::RedirectRefused { .. }
            | Error::SignInEnded
            | Error::NoBrowserSignIn
            | Error::Input(_)
            | Error::ConversationCorrupt { .. }
            | Error::NoModels { .. }
            | Error::UnknownModel { .. }
            | Error::UnsupportedEffort { .. }
            | Error::ModelRefused { .. }
            | Error::ModelRejected { .. }
            | Error::PlanExcludesCodex { .. } => ErrorKind::Input,
            _ => ErrorKind::Internal,
        }
    }

    /// True when the same call may succeed later without the user doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Network { .. } | Error::LockTimeout { .. } | Error::BadResponse { .. } => true,
            Error::Keychain(KeychainError::TimedOut(_)) => true,
            Error::Http { status, .. } | Error::Backend { status, .. } => {
                *status == 429 || *status >= 500
            }
            Error::StreamEnded { .. } => true,
            Error::ResponseFailed { code, .. } => matches!(
                code.as_deref(),
                Some("server_is_overloaded" | "rate_limit_exceeded" | "server_error")
            ),
            _ => false,
        }
    }

    /// True when asking again cannot help until something changes (a setting, the sign-in, a
    /// release): an OAuth refusal that is not "sign in again", a token that cannot be read, bad
    /// input. A background retry loop stops on these instead of trying forever.
    pub fn retry_cannot_help(&self) -> bool {
        matches!(
            self,
            Error::OAuth { .. } | Error::Jwt(_) | Error::Config { .. } | Error::Input(_)
        )
    }

    /// True when the user must sign in (again) before anything works.
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            Error::NotSignedIn { .. } | Error::SessionExpired { .. } | Error::Corrupt { .. }
        )
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

fn available_hint(available: &[String]) -> String {
    if available.is_empty() {
        "; call codex_models for the models it can use".into()
    } else {
        format!("; it can use: {}", available.join(", "))
    }
}

/// What to do after an HTTP error, for the statuses where the answer is "wait".
fn http_hint(status: u16) -> &'static str {
    match status {
        429 | 500..=599 => "; the server is busy or down, try again in a moment",
        _ => "",
    }
}

/// What is wrong with a JSON document, in words that never quote it: serde_json's own messages
/// quote the offending value (`invalid type: string "sk-…"`), and a credential file's values are
/// secrets. The kind of problem and where it is, nothing more.
pub(crate) fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "it could not be read",
        Category::Syntax => "it is not valid JSON",
        Category::Data => "a field is missing or has a value of the wrong kind",
        Category::Eof => "it ends too early",
    };
    if e.line() == 0 {
        what.to_owned()
    } else {
        format!("{what} (line {}, column {})", e.line(), e.column())
    }
}

#[cfg(test)]
mod json_problem_tests {
    use super::json_problem;

    #[test]
    fn a_json_problem_names_the_kind_and_place_but_never_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct R {
            mode: Mode,
            n: u8,
        }
        #[derive(Debug, serde::Deserialize)]
        enum Mode {
            A,
        }
        let cases: [(&str, &str); 4] = [
            (
                r#"{"mode": "sk-secret-value-123", "n": 1}"#,
                "a field is missing",
            ),
            (
                r#"{"mode": "A", "n": "sk-secret-value-123"}"#,
                "a field is missing",
            ),
            (r#"{"mode": "A", "n": 1"#, "ends too early"),
            (r#"{"mode": sk-secret-value-123}"#, "not valid JSON"),
        ];
        for (text, kind) in cases {
            let e = serde_json::from_str::<R>(text).unwrap_err();
            assert!(e.to_string().contains("sk-secret") || kind != "a field is missing");
            let msg = json_problem(&e);
            assert!(msg.contains(kind), "{msg}");
            assert!(msg.contains("line 1, column"), "{msg}");
            assert!(!msg.contains("sk-secret"), "{msg}");
        }
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn every_error_says_what_a_person_can_do() {
        let cases = [
            (
                Error::NotSignedIn {
                    profile: "p".into(),
                },
                ErrorKind::SignIn,
            ),
            (
                Error::SessionExpired {
                    reason: "refresh_token_reused".into(),
                },
                ErrorKind::SignIn,
            ),
            (
                Error::Network {
                    what: "x".into(),
                    detail: "refused".into(),
                },
                ErrorKind::Retry,
            ),
            (
                Error::UsageLimit {
                    resets_at: None,
                    plan: None,
                },
                ErrorKind::Retry,
            ),
            (
                Error::Backend {
                    status: 503,
                    message: "busy".into(),
                },
                ErrorKind::Retry,
            ),
            (
                Error::Backend {
                    status: 400,
                    message: "bad".into(),
                },
                ErrorKind::Internal,
            ),
            (Error::Input("no".into()), ErrorKind::Input),
            (
                Error::UnsupportedEffort {
                    model: "m".into(),
                    effort: "none".into(),
                    allowed: vec![],
                },
                ErrorKind::Input,
            ),
            (Error::Internal("task failed".into()), ErrorKind::Internal),
            (
                Error::Keychain(KeychainError::Locked("x".into())),
                ErrorKind::Internal,
            ),
            (
                Error::Keychain(KeychainError::TimedOut(3)),
                ErrorKind::Retry,
            ),
            (Error::LoginCancelled, ErrorKind::Cancelled),
            (Error::SignInEnded, ErrorKind::Input),
            (
                Error::ConversationCorrupt {
                    id: "c".into(),
                    moved_to: "c.json.corrupt-1".into(),
                    reason: "it is not valid JSON".into(),
                },
                ErrorKind::Input,
            ),
            (
                Error::SignInFailed {
                    message: "x".into(),
                    kind: ErrorKind::Retry,
                },
                ErrorKind::Retry,
            ),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{e:?}");
        }
        assert_eq!(
            serde_json::to_value(ErrorKind::SignIn).unwrap_or_default(),
            "sign_in"
        );
    }
}
