//! A ChatGPT workspace (an organisation or the personal account) a sign-in can use, with the
//! backend origin and routing override a residency-constrained one requires (PROTOCOL.md §6).
//! Read once per account by `codex` and kept in state.json (`workspace`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// One workspace of a sign-in, as routing needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_type: Option<String>,
    /// `personal`, `workspace`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structure: Option<String>,
    /// The origin requests must go to (`https://…`); `None`: the configured `api_base`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_origin: Option<String>,
    /// `us`, `us_cr`: sent as `x-openai-account-routing-override`; `None`: not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_override: Option<String>,
    pub checked_at: DateTime<Utc>,
}

impl Workspace {
    /// `url` moved to the workspace's backend origin (path and query kept).
    pub fn route(&self, url: &Url) -> Url {
        let Some(origin) = self
            .backend_origin
            .as_deref()
            .and_then(|o| Url::parse(o).ok())
        else {
            return url.clone();
        };
        let mut routed = url.clone();
        // Both are http(s) URLs with a host (checked when parsed), so these cannot fail.
        let moved = routed.set_scheme(origin.scheme()).is_ok()
            && routed.set_host(origin.host_str()).is_ok()
            && routed.set_port(origin.port()).is_ok();
        if moved { routed } else { url.clone() }
    }
}
