//! The sign-in server's failures, read: network errors without URLs, error bodies in every shape
//! servers use, and which refusals mean "sign in again" (PROTOCOL.md §2).

use oauth2::RequestTokenError;
use oauth2::basic::BasicErrorResponse;

use crate::error::Error;
use crate::oauth::wire::ErrorBody;

/// Refresh error codes after which only a new sign-in helps (PROTOCOL.md §2).
const PERMANENT_CODES: &[&str] = &[
    "refresh_token_expired",
    "refresh_token_reused",
    "refresh_token_invalidated",
    "invalid_grant",
];

/// What a token request was for: a refused refresh can mean "sign in again".
pub(super) enum Ctx {
    Exchange,
    Refresh,
}

/// A reqwest error without the URL's query (never holds secrets here, but be safe) .
pub(super) fn redact_reqwest(e: &reqwest::Error) -> String {
    let mut s = e.without_url_ref_string();
    if s.is_empty() {
        s = "request failed".into();
    }
    s
}

trait WithoutUrl {
    fn without_url_ref_string(&self) -> String;
}
impl WithoutUrl for reqwest::Error {
    fn without_url_ref_string(&self) -> String {
        let mut parts = vec![];
        if self.is_timeout() {
            parts.push("timed out".to_string());
        } else if self.is_connect() {
            parts.push("connection failed".to_string());
        }
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(self);
        while let Some(e) = src {
            parts.push(e.to_string());
            src = e.source();
        }
        parts.join(": ")
    }
}

pub(crate) fn network(what: &str, e: &reqwest::Error) -> Error {
    Error::Network {
        what: what.to_owned(),
        detail: redact_reqwest(e),
    }
}

/// The error code and message of an error body in any of the shapes servers use: OpenAI's
/// `{"error":{"code","message"}}`, RFC 6749 `{"error","error_description"}`, RFC 9457 problem+json.
pub(crate) fn error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    serde_json::from_slice::<ErrorBody>(body)
        .map(ErrorBody::code_and_message)
        .unwrap_or((None, None))
}

pub(super) fn short(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text.to_string()
    }
}

pub(crate) fn http_error(what: &str, status: u16, body: &[u8]) -> Error {
    let (code, msg) = error_body(body);
    let message = match (code, msg) {
        (Some(c), Some(m)) => format!("{m} ({c})"),
        (None, Some(m)) => m,
        (Some(c), None) => c,
        (None, None) if body.is_empty() => "(empty answer)".into(),
        (None, None) => short(body),
    };
    Error::Http {
        what: what.to_owned(),
        status,
        message,
    }
}

pub(super) fn classify(
    e: RequestTokenError<oauth2::HttpClientError<reqwest::Error>, BasicErrorResponse>,
    status: Option<u16>,
    ctx: Ctx,
) -> Error {
    let what = "the sign-in server";
    let (code, message, body) = match e {
        RequestTokenError::Request(e) => {
            let detail = match &e {
                oauth2::HttpClientError::Reqwest(r) => redact_reqwest(r),
                other => other.to_string(),
            };
            return Error::Network {
                what: what.into(),
                detail,
            };
        }
        RequestTokenError::ServerResponse(r) => (
            Some(r.error().to_string()),
            r.error_description().cloned(),
            Vec::new(),
        ),
        RequestTokenError::Parse(_, body) => {
            let (c, m) = error_body(&body);
            (c, m, body)
        }
        RequestTokenError::Other(s) => (None, Some(s), Vec::new()),
    };
    let status = status.unwrap_or(0);
    if status == 429 || status >= 500 {
        return http_error(what, status, &body).or_message(message);
    }
    if status == 200 {
        return Error::BadResponse {
            what: what.into(),
            detail: format!(
                "unusable token answer: {}",
                message.unwrap_or_else(|| short(&body))
            ),
        };
    }
    let permanent = code
        .as_deref()
        .is_some_and(|c| PERMANENT_CODES.contains(&c))
        || status == 401;
    match ctx {
        Ctx::Refresh if permanent => Error::SessionExpired {
            reason: code.unwrap_or_else(|| format!("HTTP {status}")),
        },
        _ => Error::OAuth {
            message: match (&code, &message) {
                (Some(c), Some(m)) => format!("{m} ({c})"),
                (Some(c), None) => c.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => format!("HTTP {status}: {}", short(&body)),
            },
            code,
        },
    }
}

trait OrMessage {
    fn or_message(self, m: Option<String>) -> Error;
}
impl OrMessage for Error {
    fn or_message(self, m: Option<String>) -> Error {
        match (self, m) {
            (
                Error::Http {
                    what,
                    status,
                    message,
                },
                Some(m),
            ) if message == "(empty answer)" => Error::Http {
                what,
                status,
                message: m,
            },
            (e, _) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_every_shape_give_code_and_message() {
        let openai = br#"{"error":{"message":"Your refresh token has already been used","type":"invalid_request_error","code":"refresh_token_reused"}}"#;
        assert_eq!(
            error_body(openai),
            (
                Some("refresh_token_reused".into()),
                Some("Your refresh token has already been used".into())
            )
        );
        let rfc = br#"{"error":"invalid_grant","error_description":"bad code"}"#;
        assert_eq!(
            error_body(rfc),
            (Some("invalid_grant".into()), Some("bad code".into()))
        );
        let problem = br#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"token expired"}"#;
        assert_eq!(
            error_body(problem),
            (Some("Unauthorized".into()), Some("token expired".into()))
        );
        assert_eq!(error_body(b"<html>"), (None, None));
    }
}
