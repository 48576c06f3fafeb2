//! The issuer's routes.

use std::sync::Arc;

use axum::Router;
use axum::response::Html;
use axum::routing::{get, post};

use super::{authorize::authorize, device, revoke::revoke, token::token};
use crate::Shared;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route("/api/accounts/deviceauth/usercode", post(device::usercode))
        .route("/api/accounts/deviceauth/token", post(device::token))
        .route(
            "/codex/device",
            get(|| async { Html("<h1>Enter the code shown in your terminal</h1>") }),
        )
}
