//! Workspace routing (PROTOCOL.md §6): `GET …/wham/accounts/check` lists the workspaces of a
//! sign-in, with the backend origin and routing override a residency-constrained one requires.
//! Read once per account and kept in state.json (`workspace`).

use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};
use crate::model::Workspace;

/// "No constraint": the default backend, no override header.
const NO_CONSTRAINT: &str = "NO_CONSTRAINT";

#[derive(Debug, Deserialize)]
struct WireAccount {
    #[serde(alias = "account_id")]
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    plan_type: Option<String>,
    #[serde(default)]
    structure: Option<String>,
    #[serde(default)]
    workspace_backend_origin: Option<String>,
    #[serde(default)]
    account_routing_override: Option<String>,
}

/// The workspaces of an `accounts/check` answer. `accounts` is a list, or a map of
/// `{"account": {...}}`. A backend origin that is not https (or http on loopback) is refused.
pub fn parse_accounts_check(body: &[u8]) -> Result<Vec<Workspace>> {
    let bad = |detail: String| Error::BadResponse {
        what: "the ChatGPT accounts endpoint".into(),
        detail,
    };
    let v: Value =
        serde_json::from_slice(body).map_err(|_| bad("the answer is not JSON".into()))?;
    let entries: Vec<&Value> = match v.get("accounts") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(Value::Object(map)) => map
            .values()
            .map(|e| e.get("account").unwrap_or(e))
            .collect(),
        _ => return Err(bad("the answer has no `accounts`".into())),
    };
    let now = Utc::now();
    let mut out = Vec::new();
    for e in entries {
        let Ok(a) = WireAccount::deserialize(e) else {
            continue;
        };
        let constraint = |v: Option<String>| v.filter(|s| !s.is_empty() && s != NO_CONSTRAINT);
        let origin = constraint(a.workspace_backend_origin);
        if let Some(o) = &origin
            && !is_acceptable_origin(o)
        {
            return Err(bad(format!(
                "workspace {} names a backend origin that is not https: {o}",
                a.id
            )));
        }
        out.push(Workspace {
            account_id: a.id,
            name: a.name,
            plan_type: a.plan_type,
            structure: a.structure,
            backend_origin: origin,
            routing_override: constraint(a.account_routing_override),
            checked_at: now,
        });
    }
    Ok(out)
}

fn is_acceptable_origin(origin: &str) -> bool {
    let Ok(url) = Url::parse(origin) else {
        return false;
    };
    let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    url.host_str().is_some() && (url.scheme() == "https" || (url.scheme() == "http" && loopback))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn no_constraint_changes_nothing_and_a_residency_workspace_moves_the_url() {
        let body = br#"{"accounts":[
            {"id":"acc-1","plan_type":"plus","workspace_backend_origin":"NO_CONSTRAINT","account_routing_override":"NO_CONSTRAINT","structure":"personal"},
            {"id":"acc-2","name":"Acme","plan_type":"enterprise","workspace_backend_origin":"https://us.chatgpt.com","account_routing_override":"us_cr"}
        ],"default_account_id":"acc-1"}"#;
        let ws = parse_accounts_check(body).unwrap();
        assert_eq!(ws.len(), 2);
        assert_eq!(ws[0].backend_origin, None);
        assert_eq!(ws[0].routing_override, None);
        let url = Url::parse("https://chatgpt.com/backend-api/codex/responses").unwrap();
        assert_eq!(ws[0].route(&url), url);
        assert_eq!(ws[1].routing_override.as_deref(), Some("us_cr"));
        assert_eq!(
            ws[1].route(&url).as_str(),
            "https://us.chatgpt.com/backend-api/codex/responses"
        );
    }

    #[test]
    fn the_map_form_is_read_and_a_plain_http_origin_is_refused() {
        let body = br#"{"accounts":{"acc-3":{"account":{"account_id":"acc-3","workspace_backend_origin":"http://127.0.0.1:9","account_routing_override":"us"}}}}"#;
        let ws = parse_accounts_check(body).unwrap();
        assert_eq!(ws[0].account_id, "acc-3");
        assert_eq!(ws[0].routing_override.as_deref(), Some("us"));
        let evil = br#"{"accounts":[{"id":"a","workspace_backend_origin":"http://evil.example"}]}"#;
        assert!(parse_accounts_check(evil).is_err());
        assert!(parse_accounts_check(b"<html>").is_err());
        assert!(parse_accounts_check(b"{}").is_err());
    }
}
