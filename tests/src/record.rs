//! What the fake keeps of each request it serves: method, path, headers with secret values
//! redacted, and (set by the handler) the body with secrets redacted and why it was refused.

use std::collections::HashMap;
use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One request as the fake saw it. Secret values (tokens, codes, verifiers) are redacted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HashMap<String, String>,
    pub body: Value,
    /// Why the fake refused it, when it did.
    pub rejected: Option<String>,
}

/// A handler takes the record of its request as an extractor: method, path and redacted
/// headers filled in, no query, no body, not refused.
impl<S: Send + Sync> FromRequestParts<S> for RecordedRequest {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: None,
            headers: record_headers(&parts.headers),
            body: Value::Null,
            rejected: None,
        })
    }
}

/// Header map as recorded: lower-case names, secret values redacted.
fn record_headers(h: &HeaderMap) -> HashMap<String, String> {
    h.iter()
        .map(|(k, v)| {
            let name = k.as_str().to_ascii_lowercase();
            let value = if name == "authorization" || name == "cookie" {
                "[redacted]".to_string()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}
