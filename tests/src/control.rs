//! The control API under `/_fake/`, for tests that run the fake as a process (the tray suite,
//! the benchmarks): stats, faults, requests, mint, secrets, device approval, and the record of
//! unexpected requests (`GET` reads it, `DELETE` takes it: a test that sends one on purpose).

use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Json, Router, extract::State, http::StatusCode};
use serde::Deserialize;

use crate::unexpected::{JsonBody, Params};
use crate::{Faults, Shared, oauth};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mint {
    access_ttl_secs: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Approve {
    user_code: String,
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/_fake/stats",
            get(|State(s): State<Arc<Shared>>| async move { Json(s.lock().stats.clone()) }),
        )
        .route(
            "/_fake/faults",
            get(|State(s): State<Arc<Shared>>| async move { Json(s.lock().faults.clone()) }).put(
                |State(s): State<Arc<Shared>>, JsonBody(f): JsonBody<Faults>| async move {
                    s.lock().faults = f.clone();
                    Json(f)
                },
            ),
        )
        .route(
            "/_fake/requests",
            get(|State(s): State<Arc<Shared>>| async move { Json(s.lock().requests.clone()) }),
        )
        .route(
            "/_fake/mint",
            get(
                |State(s): State<Arc<Shared>>, Params(q): Params<Mint>| async move {
                    Json(s.issue(q.access_ttl_secs.unwrap_or(s.cfg.access_ttl_secs)))
                },
            ),
        )
        .route(
            "/_fake/secrets",
            get(|State(s): State<Arc<Shared>>| async move { Json(s.lock().secrets.clone()) }),
        )
        .route(
            "/_fake/device/approve",
            post(
                |State(s): State<Arc<Shared>>, JsonBody(a): JsonBody<Approve>| async move {
                    if oauth::approve_device(&s, &a.user_code) {
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::NOT_FOUND
                    }
                },
            ),
        )
        .route(
            "/_fake/unexpected",
            get(|State(s): State<Arc<Shared>>| async move { Json(s.lock().unexpected.clone()) })
                .delete(|State(s): State<Arc<Shared>>| async move {
                    Json(std::mem::take(&mut s.lock().unexpected))
                }),
        )
}
