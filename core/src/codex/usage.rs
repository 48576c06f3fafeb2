//! The plan's usage without a model call: `GET {usage_url}` (PROTOCOL.md §6).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codex::wire::UsageAnswer;
use crate::error::{Error, Result};
use crate::model::RateLimits;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Usage {
    pub plan_type: Option<String>,
    pub rate_limits: RateLimits,
}

impl Usage {
    pub(crate) fn parse(body: &[u8]) -> Result<Self> {
        let bad = |detail: String| Error::BadResponse {
            what: "the Codex usage endpoint".into(),
            detail,
        };
        let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("not JSON ({e})")))?;
        if !v.is_object() {
            return Err(bad("not a JSON object".into()));
        }
        let answer =
            UsageAnswer::deserialize(v).map_err(|e| bad(format!("unreadable answer ({e})")))?;
        Ok(Self {
            plan_type: answer.plan_type.clone().into_inner(),
            rate_limits: RateLimits::from_usage(answer),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_usage_answer_parses_into_plan_windows_and_credits() {
        let body = br#"{"plan_type":"plus","rate_limit":{"allowed":true,"primary_window":{"used_percent":20,"limit_window_seconds":18000,"reset_after_seconds":60,"reset_at":1900000000},"secondary_window":null},"credits":{"has_credits":false,"unlimited":false,"balance":"0"}}"#;
        let u = Usage::parse(body).unwrap();
        assert_eq!(u.plan_type.as_deref(), Some("plus"));
        assert_eq!(u.rate_limits.primary.unwrap().used_percent, 20.0);
        assert!(u.rate_limits.secondary.is_none());
        assert_eq!(u.rate_limits.credits.unwrap().has_credits, Some(false));
    }

    #[test]
    fn garbage_is_a_bad_response_not_a_panic() {
        assert!(matches!(
            Usage::parse(b"<html>").unwrap_err(),
            Error::BadResponse { .. }
        ));
        assert!(matches!(
            Usage::parse(b"[1,2]").unwrap_err(),
            Error::BadResponse { .. }
        ));
        let u = Usage::parse(b"{}").unwrap();
        assert!(!u.rate_limits.has_data());
    }
}
