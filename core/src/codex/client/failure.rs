//! A non-2xx answer of the backend, read and classified: retry, refresh once, or a named error.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};

use super::WHAT;
use crate::codex::sse::one_line;
use crate::codex::wire::{ErrorBody, ErrorField, ErrorObject};
use crate::error::Error;

/// Why an attempt failed, as the retry loop needs to know it.
pub(super) enum Failure {
    /// HTTP 401, with the backend's message.
    Unauthorized(String),
    Other(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Other(e)
    }
}

pub(super) fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/html"))
}

/// A non-2xx answer of the backend, classified for the retry loop. `html`: the answer is a web
/// page (a 403 page of Cloudflare's means the network is blocked).
pub(super) fn classify(status: StatusCode, html: bool, body: &[u8]) -> Failure {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    if status == StatusCode::FORBIDDEN && parsed.is_none() {
        let text = String::from_utf8_lossy(body).to_ascii_lowercase();
        if html
            && (text.contains("cloudflare")
                || text.contains("cf-ray")
                || text.contains("challenge"))
        {
            return Failure::Other(Error::NetworkBlocked {
                what: WHAT.into(),
                status: 403,
            });
        }
    }
    let parsed = parsed.unwrap_or_default();
    let (error, error_text) = match parsed.error.into_inner() {
        Some(ErrorField::Object(e)) => (e, None),
        Some(ErrorField::Text(t)) => (ErrorObject::default(), Some(t)),
        None => (ErrorObject::default(), None),
    };
    let message = parsed
        .detail
        .into_inner()
        .or_else(|| error.message.as_ref().cloned())
        .or(error_text)
        .or(parsed.message.into_inner())
        .map(|m| one_line(&m))
        .unwrap_or_else(|| {
            let text = one_line(&String::from_utf8_lossy(body));
            if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("(empty answer)")
                    .to_owned()
            } else {
                text
            }
        });
    let plan = error.plan_type.as_ref().cloned();
    match status.as_u16() {
        401 => Failure::Unauthorized(message),
        429 if error.is("usage_not_included") => Failure::Other(Error::PlanExcludesCodex { plan }),
        429 if error.is("usage_limit_reached") => Failure::Other(Error::UsageLimit {
            resets_at: error.resets(),
            plan,
        }),
        status => Failure::Other(Error::Backend { status, message }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use chrono::{TimeZone, Utc};

    fn other(f: Failure) -> Error {
        match f {
            Failure::Other(e) => e,
            Failure::Unauthorized(m) => panic!("401: {m}"),
        }
    }

    #[test]
    fn a_400_shows_the_backend_detail() {
        let e = other(classify(
            StatusCode::BAD_REQUEST,
            false,
            br#"{"error":{"message":"Unsupported parameter: temperature","type":"invalid_request_error"}}"#,
        ));
        assert!(
            e.to_string()
                .ends_with("Unsupported parameter: temperature")
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn a_usage_limit_is_not_retried_and_names_the_local_reset_time() {
        let e = other(classify(
            StatusCode::TOO_MANY_REQUESTS,
            false,
            br#"{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_at":1900000000}}"#,
        ));
        assert!(!e.is_transient());
        let local = Utc
            .timestamp_opt(1_900_000_000, 0)
            .unwrap()
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string();
        let text = e.to_string();
        assert!(text.contains(&local), "{text}");
        assert!(text.contains("plus plan"), "{text}");
        assert!(!text.contains('\n'));
        // A reset time that overflows is left out, not a panic.
        let e = other(classify(
            StatusCode::TOO_MANY_REQUESTS,
            false,
            br#"{"error":{"type":"usage_limit_reached","resets_in_seconds":9223372036854775807}}"#,
        ));
        assert!(matches!(
            e,
            Error::UsageLimit {
                resets_at: None,
                ..
            }
        ));
    }

    #[test]
    fn a_plan_without_codex_is_permanent_and_says_so() {
        let e = other(classify(
            StatusCode::TOO_MANY_REQUESTS,
            false,
            br#"{"error":{"type":"usage_not_included","plan_type":"free","message":"no"}}"#,
        ));
        assert!(matches!(e, Error::PlanExcludesCodex { .. }), "{e}");
        assert!(!e.is_transient());
        assert!(e.to_string().contains("free plan"), "{e}");
    }

    #[test]
    fn a_cloudflare_block_page_is_named_as_a_network_block() {
        let page = b"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>cf-ray: 8a1</body></html>";
        let e = other(classify(StatusCode::FORBIDDEN, true, page));
        assert!(matches!(e, Error::NetworkBlocked { .. }), "{e}");
        assert!(e.to_string().contains("network"), "{e}");
        // A JSON 403 is not a block page.
        let e = other(classify(
            StatusCode::FORBIDDEN,
            false,
            br#"{"detail":"wrong account"}"#,
        ));
        assert!(matches!(e, Error::Backend { status: 403, .. }));
    }

    #[test]
    fn other_429s_and_5xx_are_transient() {
        assert!(
            other(classify(
                StatusCode::TOO_MANY_REQUESTS,
                false,
                br#"{"error":{"type":"rate_limit_exceeded","message":"slow down"}}"#
            ))
            .is_transient()
        );
        let e = other(classify(StatusCode::BAD_GATEWAY, false, b""));
        assert!(e.is_transient());
        assert_eq!(
            e.to_string(),
            "the Codex backend answered HTTP 502: Bad Gateway"
        );
    }

    #[test]
    fn a_401_is_told_apart() {
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, false, br#"{"detail":"expired"}"#),
            Failure::Unauthorized(m) if m == "expired"
        ));
    }

    #[test]
    fn an_html_error_page_becomes_one_short_line() {
        let page = format!("<html>\n<body>{}</body>\n</html>", "x".repeat(2000));
        let e = other(classify(StatusCode::BAD_GATEWAY, true, page.as_bytes()));
        let text = e.to_string();
        assert!(!text.contains('\n'));
        assert!(text.chars().count() < 500, "{}", text.len());
    }
}
