//! The one error type of the commands: serializable, with the kind the window needs to choose what
//! to offer ("sign in" is not "try again"), and a message a person can act on. Built from core's
//! errors, whose messages never carry a secret.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Only a (new) sign-in helps.
    SignInRequired,
    /// The same action may work in a moment.
    Transient,
    /// The user cancelled.
    Cancelled,
    /// The request made no sense (a bad argument).
    Invalid,
    /// Anything else; the message says what to do.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CommandError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Invalid,
            message: message.into(),
        }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Failed,
            message: message.into(),
        }
    }
}

impl From<codex_oauth_core::Error> for CommandError {
    fn from(e: codex_oauth_core::Error) -> Self {
        let kind = if matches!(e, codex_oauth_core::Error::LoginCancelled) {
            ErrorKind::Cancelled
        } else if e.needs_sign_in() {
            ErrorKind::SignInRequired
        } else if e.is_transient() {
            ErrorKind::Transient
        } else if matches!(e, codex_oauth_core::Error::Invalid(_)) {
            ErrorKind::Invalid
        } else {
            ErrorKind::Failed
        };
        Self {
            kind,
            message: e.to_string(),
        }
    }
}

impl From<tauri::Error> for CommandError {
    fn from(e: tauri::Error) -> Self {
        Self::failed(format!("the window system failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use codex_oauth_core::Error;

    #[test]
    fn core_errors_keep_their_retry_meaning_and_serialize_as_kind_and_message() {
        let e = CommandError::from(Error::NotSignedIn {
            profile: "default".into(),
        });
        assert_eq!(e.kind, ErrorKind::SignInRequired);
        let e = CommandError::from(Error::SessionExpired {
            reason: "refresh_token_reused".into(),
        });
        assert_eq!(e.kind, ErrorKind::SignInRequired);
        assert!(e.message.contains("sign in again"));
        let e = CommandError::from(Error::Network {
            what: "the sign-in server".into(),
            detail: "connection refused".into(),
        });
        assert_eq!(e.kind, ErrorKind::Transient);
        assert_eq!(
            CommandError::from(Error::LoginCancelled).kind,
            ErrorKind::Cancelled
        );
        assert_eq!(
            CommandError::from(Error::DeviceCodeUnavailable).kind,
            ErrorKind::Failed
        );
        let json = serde_json::to_value(CommandError::from(Error::LoginCancelled)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "cancelled", "message": "sign-in was cancelled"})
        );
    }
}
