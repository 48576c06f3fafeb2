//! What the CLI prints. Results go to stdout; messages for people go to stderr. With `--json`,
//! stdout holds exactly one object: the outcome, or `{"error": {"kind", "message"}}`.

use std::io::{Write, stderr, stdout};
use std::process::ExitCode;

use codex_oauth_core::app::DefaultFrom;
use codex_oauth_core::model::Remaining;
use codex_oauth_core::status::StoreInfo;
use codex_oauth_core::store::{AuthMode, PendingLogin};
use codex_oauth_core::{Error, ErrorKind, Status};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

/// How a command reports: for people, or one JSON object on stdout.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// Whether the command reports as JSON.
    pub fn json(self) -> bool {
        self.json
    }

    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// A person reads the output, at a terminal they can answer on (no `--json`, stdin and
    /// stderr both terminals).
    pub fn interactive(self) -> bool {
        use std::io::IsTerminal;
        !self.json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    /// Something the person must act on (a URL, a device code): a line on stdout of its own, or on
    /// stderr under `--json`, where stdout carries only the final object.
    pub fn value(self, text: &str) {
        if self.json {
            info(text);
        } else {
            result_line(text);
        }
    }

    /// The outcome of a command that reports on stderr: the human line, or the object on stdout.
    pub fn done(self, human: &str, object: Value) -> ExitCode {
        if self.json {
            result_line(&object.to_string());
        } else {
            info(human);
        }
        ExitCode::SUCCESS
    }

    /// A report that is itself the result (`status`): the text, or the object, on stdout.
    pub fn report(self, text: &str, object: &Value) {
        if self.json {
            result_line(&object.to_string());
        } else {
            result_line(text);
        }
    }

    /// `text`, or under `--json` the typed `object`.
    pub fn report_typed<T: Serialize>(self, text: &str, object: &T) {
        match serde_json::to_value(object) {
            Ok(v) => self.report(text, &v),
            Err(e) => {
                self.fail(&Error::Internal(format!(
                    "the answer could not be written as JSON: {e}"
                )));
            }
        }
    }

    /// A failure with exit code 1.
    pub fn fail(self, e: &Error) -> ExitCode {
        self.fail_with(e, 1)
    }

    /// A failure: the one line on stderr, or the error object on stdout; the same exit code either way.
    pub fn fail_with(self, e: &Error, code: u8) -> ExitCode {
        if self.json {
            result_line(&error_json(e).to_string());
        } else {
            fail_line(&e.to_string());
        }
        ExitCode::from(code)
    }
}

/// `{"error": {"kind", "code", "message"}}`: `kind` says what to do (core's `ErrorKind`), `code`
/// what failed (core's `ErrorCode`, as the tools' errors carry it); both snake_case.
pub fn error_json(e: &Error) -> Value {
    json!({"error": {"kind": e.kind(), "code": e.code(), "message": e.to_string()}})
}

/// One line on stdout (a URL, a code, a token, JSON).
pub fn result_line(text: &str) {
    let mut out = stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Bytes as they are on stdout (a completion script, a man page).
pub fn result_bytes(bytes: &[u8]) {
    let mut out = stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// A message for people on stderr.
pub fn info(text: &str) {
    let _ = writeln!(stderr().lock(), "{text}");
}

/// The one-line failure message: what happened and what to do. `error:` is red on a terminal.
pub fn fail_line(text: &str) {
    let one_line = text.replace('\n', " ");
    let label = if crate::term::stderr_colour() {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    let _ = writeln!(stderr().lock(), "{label}: {one_line}");
}

/// `accounts --json`: the default, where it came from, and every account.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AccountsJson {
    pub default: String,
    pub default_from: DefaultFrom,
    pub accounts: Vec<AccountJson>,
}

/// One account of `accounts --json`: its `status --json` object, and whether it is the default.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AccountJson {
    #[serde(flatten)]
    pub status: StatusJson,
    pub default: bool,
}

/// `status --json`: one account's sign-in as the CLI prints it and `codex_status` carries it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusJson {
    pub signed_in: bool,
    pub email: Option<String>,
    pub plan: Option<String>,
    pub account_id: Option<String>,
    /// When the access token expires (RFC 3339).
    pub expires_at: Option<String>,
    /// Where the credentials are stored, and why there.
    pub store: StoreInfo,
    pub last_error: Option<String>,
    /// What the user can do about `last_error`.
    pub last_error_kind: Option<ErrorKind>,
    pub profile: String,
    pub auth_mode: Option<AuthMode>,
    pub user_id: Option<String>,
    /// When the tokens were last refreshed (RFC 3339).
    pub last_refresh: Option<String>,
    pub pending_login: Option<PendingLogin>,
    /// The effective remaining usage, from the rate limits last seen.
    pub usage: Option<Remaining>,
    /// The stored sign-in could not be read: whether the profile is signed in is not known.
    pub unreadable: bool,
    /// The name of the ChatGPT workspace, when known.
    pub workspace: Option<String>,
}

impl StatusJson {
    pub fn of(s: &Status) -> Self {
        let time =
            |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self {
            signed_in: s.signed_in,
            email: s.email.clone(),
            plan: s.plan.clone(),
            account_id: s.account_id.clone(),
            expires_at: s.expires_at.map(time),
            store: s.store.clone(),
            last_error: s.last_error.clone(),
            last_error_kind: s.last_error_kind,
            profile: s.profile.clone(),
            auth_mode: s.auth_mode,
            user_id: s.user_id.clone(),
            last_refresh: s.last_refresh.map(time),
            pending_login: s.pending_login.clone(),
            usage: s.remaining().cloned(),
            unreadable: s.unreadable,
            workspace: s.workspace.clone(),
        }
    }
}

/// `status --json` as a JSON object.
pub fn status_json(s: &Status) -> Value {
    serde_json::to_value(StatusJson::of(s)).unwrap_or_else(
        |e| json!({"error": {"kind": ErrorKind::Internal, "message": e.to_string()}}),
    )
}

/// `status`: the headline with the profile, how to sign in when signed out, then the details
/// in aligned columns.
pub fn status_text(s: &Status) -> String {
    let mut head = format!("{} (profile {}).", s.headline(), s.profile);
    if s.unreadable {
        head.push_str(" Unlock the keychain (or fix what the last error names), then try again.");
    } else if !s.signed_in {
        head.push_str(" Sign in with `codex-mcp-bridge login`.");
    }
    let mut lines = vec![head];
    lines.extend(
        s.details()
            .into_iter()
            .map(|(d, text)| format!("{:<14}{text}", format!("{}:", d.label()))),
    );
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_object_carries_the_kind_in_snake_case_and_the_message() {
        let table = [
            (
                Error::NotSignedIn {
                    profile: "default".into(),
                },
                "sign_in",
            ),
            (Error::LoginCancelled, "cancelled"),
            (Error::Input("no API key".into()), "input"),
            (Error::Internal("task failed".into()), "internal"),
        ];
        for (e, kind) in table {
            let v = error_json(&e);
            assert_eq!(v["error"]["kind"], kind, "{e:?}");
            assert_eq!(v["error"]["message"], e.to_string(), "{e:?}");
            assert_eq!(v.as_object().map(serde_json::Map::len), Some(1));
        }
    }
}
