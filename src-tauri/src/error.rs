//! The one error type of the commands: serializable, with core's [`ErrorKind`] (what the window
//! offers: "sign in" is not "try again") and a message a person can act on. Built from core's
//! errors, whose messages never carry a secret.

pub use codex_oauth_core::ErrorKind;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CommandError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Input,
            message: message.into(),
        }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }
}

impl From<codex_oauth_core::Error> for CommandError {
    fn from(e: codex_oauth_core::Error) -> Self {
        let kind = e.kind();
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
        assert_eq!(e.kind, ErrorKind::SignIn);
        let e = CommandError::from(Error::SessionExpired {
            reason: "refresh_token_reused".into(),
        });
        assert_eq!(e.kind, ErrorKind::SignIn);
        assert!(e.message.contains("sign in again"));
        let e = CommandError::from(Error::Network {
            what: "the sign-in server".into(),
            detail: "connection refused".into(),
        });
        assert_eq!(e.kind, ErrorKind::Retry);
        assert_eq!(
            CommandError::from(Error::LoginCancelled).kind,
            ErrorKind::Cancelled
        );
        assert_eq!(
            CommandError::from(Error::DeviceCodeUnavailable).kind,
            ErrorKind::Input
        );
        let json = serde_json::to_value(CommandError::from(Error::LoginCancelled)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "cancelled", "message": "sign-in was cancelled"})
        );
    }
}
