//! What the fake did not expect: a method and path no route serves, a method a route does not
//! take, a query, body or control request a handler cannot make sense of. Each is kept (method,
//! path and a short reason; never a header value or a body) and answered as the real server
//! would (404, 405, 4xx), and a test fails on it at the end (`FakeOpenAi`'s drop,
//! `GET /_fake/unexpected` for the standalone binary), the way gh's `httpmock` fails on an
//! unmatched request.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::Shared;

/// Longest path kept in the record (a fuzzed or runaway path stays readable).
const MAX_PATH: usize = 200;

/// One line of the record: `GET /path: reason`.
pub(crate) fn entry(method: &Method, path: &str, why: &str) -> String {
    let mut shown: String = path.chars().take(MAX_PATH).collect();
    if shown.len() < path.len() {
        shown.push('…');
    }
    format!("{method} {shown}: {why}")
}

/// Which of the fake's servers a path belongs to, for the reason.
fn server(path: &str) -> &'static str {
    if path.starts_with("/_fake/") || path == "/_fake" {
        "the control API"
    } else if path.starts_with("/backend-api/") || path.starts_with("/v1/") {
        "the backend"
    } else {
        "the issuer"
    }
}

fn detail(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"detail": text}).to_string(),
    )
        .into_response()
}

/// The router's fallback: no route serves this path.
pub(crate) async fn no_route(State(s): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    let why = format!("no route of {} serves this path", server(uri.path()));
    s.unexpected(entry(&method, uri.path(), &why));
    detail(StatusCode::NOT_FOUND, "Not Found")
}

/// A route serves this path, but not with this method.
pub(crate) async fn method_not_allowed(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
) -> Response {
    let why = format!("{} serves this path, not with {method}", server(uri.path()));
    s.unexpected(entry(&method, uri.path(), &why));
    detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// A request body read whole. One that cannot be read (too large, cut off) is unexpected.
pub(crate) struct Body(pub Bytes);

impl FromRequest<Arc<Shared>> for Body {
    type Rejection = Response;

    async fn from_request(req: Request, s: &Arc<Shared>) -> Result<Self, Response> {
        let (method, path) = (req.method().clone(), req.uri().path().to_owned());
        match Bytes::from_request(req, s).await {
            Ok(b) => Ok(Self(b)),
            Err(e) => {
                let why = format!("the body could not be read ({})", e.status());
                s.unexpected(entry(&method, &path, &why));
                Err(e.into_response())
            }
        }
    }
}

/// A query string parsed into `T`. One that does not parse is unexpected.
pub(crate) struct Params<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<Arc<Shared>> for Params<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Shared>) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, s).await {
            Ok(Query(q)) => Ok(Self(q)),
            Err(e) => {
                let e: QueryRejection = e;
                s.unexpected(entry(
                    &parts.method,
                    parts.uri.path(),
                    "the query string does not parse",
                ));
                Err(e.into_response())
            }
        }
    }
}

/// A JSON body (of the control API) parsed into `T`. One that does not parse, or has a field
/// `T` does not know, is unexpected: a test's typo must not pass as a healthy default.
pub(crate) struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<Shared>> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, s: &Arc<Shared>) -> Result<Self, Response> {
        let (method, path) = (req.method().clone(), req.uri().path().to_owned());
        match Json::<T>::from_request(req, s).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(e) => {
                let why = match &e {
                    JsonRejection::MissingJsonContentType(_) => {
                        "the body is not declared application/json"
                    }
                    JsonRejection::JsonSyntaxError(_) => "the body is not JSON",
                    JsonRejection::JsonDataError(_) => {
                        "the body does not have the expected fields (see the answer)"
                    }
                    _ => "the body could not be read",
                };
                s.unexpected(entry(&method, &path, why));
                Err(e.into_response())
            }
        }
    }
}
