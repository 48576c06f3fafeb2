//! What the issuer sends, as typed structs: each format stated once, with the aliases servers use
//! (PROTOCOL.md §1–§3), unknown fields tolerated. Token fields are [`Secret`]s from the moment they
//! are read, so no `Debug` of these can show one.

use serde::{Deserialize, Deserializer};

use crate::secret::Secret;

/// `POST /api/accounts/deviceauth/usercode`.
#[derive(Debug, Deserialize)]
pub(crate) struct UserCodeAnswer {
    pub device_auth_id: String,
    #[serde(alias = "usercode")]
    pub user_code: String,
    /// Seconds between polls; servers write it as a number or as a string.
    #[serde(default, deserialize_with = "number_or_string")]
    pub interval: Option<f64>,
}

/// `POST /api/accounts/deviceauth/token` once approved: the code to exchange, with the verifier
/// the server made for it.
#[derive(Debug, Deserialize)]
pub(crate) struct DeviceApproval {
    pub authorization_code: Secret,
    pub code_verifier: Secret,
}

/// A token answer (`POST /oauth/token`), read leniently: empty strings count as absent.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenAnswer {
    #[serde(default, deserialize_with = "non_empty")]
    pub access_token: Option<Secret>,
    #[serde(default, deserialize_with = "non_empty")]
    pub id_token: Option<Secret>,
    #[serde(default, deserialize_with = "non_empty")]
    pub refresh_token: Option<Secret>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// An error body in any of the shapes servers use: OpenAI's `{"error": {"code", "message"}}`,
/// RFC 6749's `{"error", "error_description"}`, RFC 9457's problem+json `{"title", "detail"}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    error: Option<ErrorField>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ErrorField {
    Object {
        #[serde(default)]
        code: Option<String>,
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
    Code(String),
    /// Any other shape: matched so the rest of the body still reads, never looked into.
    Other(#[allow(dead_code)] serde::de::IgnoredAny),
}

impl ErrorBody {
    /// The error code and message, whichever shape carried them.
    pub fn code_and_message(self) -> (Option<String>, Option<String>) {
        match self.error {
            Some(ErrorField::Object {
                code,
                kind,
                message,
            }) => (code.or(kind), message),
            Some(ErrorField::Code(code)) => (Some(code), self.error_description),
            Some(ErrorField::Other(_)) | None => (
                self.code.or_else(|| self.title.clone()),
                self.detail.or(self.message).or(self.title),
            ),
        }
    }
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        Number(f64),
        Text(String),
        Other(#[allow(dead_code)] serde::de::IgnoredAny),
    }
    Ok(match Option::<N>::deserialize(d)? {
        Some(N::Number(n)) => Some(n),
        Some(N::Text(s)) => s.trim().parse().ok(),
        Some(N::Other(_)) | None => None,
    })
}

fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<Secret>::deserialize(d)?.filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_user_code_answer_takes_both_spellings_and_both_interval_forms() {
        let a: UserCodeAnswer = serde_json::from_str(
            r#"{"device_auth_id": "d", "usercode": "AB-12", "interval": "7"}"#,
        )
        .unwrap();
        assert_eq!((a.user_code.as_str(), a.interval), ("AB-12", Some(7.0)));
        let a: UserCodeAnswer = serde_json::from_str(
            r#"{"device_auth_id": "d", "user_code": "AB-12", "interval": 2.5, "extra": 1}"#,
        )
        .unwrap();
        assert_eq!(a.interval, Some(2.5));
        let a: UserCodeAnswer =
            serde_json::from_str(r#"{"device_auth_id": "d", "user_code": "X", "interval": null}"#)
                .unwrap();
        assert_eq!(a.interval, None);
        assert!(serde_json::from_str::<UserCodeAnswer>(r#"{"user_code": "X"}"#).is_err());
    }

    #[test]
    fn error_bodies_of_every_shape_give_code_and_message() {
        let read = |s: &str| {
            serde_json::from_str::<ErrorBody>(s)
                .unwrap()
                .code_and_message()
        };
        assert_eq!(
            read(r#"{"error": {"code": "refresh_token_reused", "message": "used"}}"#),
            (Some("refresh_token_reused".into()), Some("used".into()))
        );
        assert_eq!(
            read(r#"{"error": {"type": "invalid_request_error", "message": "m"}}"#),
            (Some("invalid_request_error".into()), Some("m".into()))
        );
        assert_eq!(
            read(r#"{"error": "invalid_grant", "error_description": "expired"}"#),
            (Some("invalid_grant".into()), Some("expired".into()))
        );
        assert_eq!(
            read(r#"{"title": "Bad Request", "detail": "no"}"#),
            (Some("Bad Request".into()), Some("no".into()))
        );
        assert_eq!(
            read(r#"{"title": "Teapot"}"#),
            (Some("Teapot".into()), Some("Teapot".into()))
        );
        assert_eq!(read(r#"{"error": 42}"#), (None, None));
    }

    #[test]
    fn token_answers_keep_their_tokens_secret_and_drop_empty_ones() {
        let t: TokenAnswer = serde_json::from_str(
            r#"{"access_token": "at-SECRET", "id_token": "", "expires_in": 3600, "scope": "x"}"#,
        )
        .unwrap();
        assert_eq!(t.access_token.as_ref().unwrap().expose(), "at-SECRET");
        assert!(t.id_token.is_none());
        assert_eq!(t.expires_in, Some(3600));
        assert!(!format!("{t:?}").contains("SECRET"));
    }
}
