//! The rate-limit windows of a ChatGPT plan: from the `x-codex-*` response headers and from the
//! usage endpoint, in one shape, kept in state.json (`rate_limits`) for the tray and status.

use chrono::{DateTime, TimeZone, Utc};
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One window (primary ≈ 5 hours, secondary ≈ a week).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub used_percent: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_credits: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlimited: Option<bool>,
    /// As the backend wrote it (a decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<Credits>,
    /// When these numbers were seen.
    pub observed_at: DateTime<Utc>,
}

impl RateLimits {
    /// The windows in the `x-codex-*` headers of a backend answer; `None` when there are none.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let window = |which: &str| -> Option<Window> {
            let used_percent = get(&format!("x-codex-{which}-used-percent"))?
                .parse::<f64>()
                .ok()
                .filter(|p| p.is_finite())?;
            let window_minutes =
                get(&format!("x-codex-{which}-window-minutes")).and_then(|v| v.parse().ok());
            let resets_at = get(&format!("x-codex-{which}-reset-at"))
                .and_then(|v| v.parse::<i64>().ok())
                .and_then(unix)
                .or_else(|| {
                    get(&format!("x-codex-{which}-reset-after-seconds"))
                        .and_then(|v| v.parse::<i64>().ok())
                        .map(|s| Utc::now() + chrono::Duration::seconds(s))
                });
            Some(Window {
                used_percent,
                window_minutes,
                resets_at,
            })
        };
        let flag = |name: &str| get(name).and_then(parse_bool);
        let credits = Credits {
            has_credits: flag("x-codex-credits-has-credits"),
            unlimited: flag("x-codex-credits-unlimited"),
            balance: get("x-codex-credits-balance").map(str::to_owned),
        };
        let limits = Self {
            primary: window("primary"),
            secondary: window("secondary"),
            credits: credits.is_some().then_some(credits),
            observed_at: Utc::now(),
        };
        limits.has_data().then_some(limits)
    }

    /// The `rate_limit` and `credits` objects of a usage answer.
    pub(crate) fn from_usage(rate_limit: Option<&Value>, credits: Option<&Value>) -> Self {
        let window = |v: Option<&Value>| -> Option<Window> {
            let v = v?;
            let used_percent = v.get("used_percent").and_then(Value::as_f64)?;
            let window_minutes = v
                .get("limit_window_seconds")
                .and_then(Value::as_u64)
                .map(|s| s / 60)
                .or_else(|| v.get("window_minutes").and_then(Value::as_u64));
            let resets_at = v
                .get("reset_at")
                .and_then(Value::as_i64)
                .and_then(unix)
                .or_else(|| {
                    v.get("reset_after_seconds")
                        .and_then(Value::as_i64)
                        .map(|s| Utc::now() + chrono::Duration::seconds(s))
                });
            Some(Window {
                used_percent,
                window_minutes,
                resets_at,
            })
        };
        let credits = credits.filter(|c| c.is_object()).map(|c| Credits {
            has_credits: c.get("has_credits").and_then(Value::as_bool),
            unlimited: c.get("unlimited").and_then(Value::as_bool),
            balance: match c.get("balance") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            },
        });
        Self {
            primary: rate_limit.and_then(|r| window(r.get("primary_window"))),
            secondary: rate_limit.and_then(|r| window(r.get("secondary_window"))),
            credits,
            observed_at: Utc::now(),
        }
    }

    pub fn has_data(&self) -> bool {
        self.primary.is_some() || self.secondary.is_some() || self.credits.is_some()
    }

    /// The same numbers, whenever they were seen.
    pub(crate) fn same_numbers(&self, other: &Self) -> bool {
        self.primary == other.primary
            && self.secondary == other.secondary
            && self.credits == other.credits
    }
}

impl Credits {
    fn is_some(&self) -> bool {
        self.has_credits.is_some() || self.unlimited.is_some() || self.balance.is_some()
    }
}

fn unix(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0).single()
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};
    use serde_json::json;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn codex_headers_become_windows_and_credits() {
        let h = headers(&[
            ("x-codex-primary-used-percent", "12.5"),
            ("x-codex-primary-window-minutes", "300"),
            ("x-codex-primary-reset-at", "1900000000"),
            ("x-codex-secondary-used-percent", "40"),
            ("x-codex-secondary-window-minutes", "10080"),
            ("x-codex-secondary-reset-at", "1900500000"),
            ("x-codex-credits-has-credits", "False"),
            ("x-codex-credits-unlimited", "false"),
            ("x-codex-credits-balance", "0"),
            ("content-type", "text/event-stream"),
        ]);
        let l = RateLimits::from_headers(&h).unwrap();
        let p = l.primary.unwrap();
        assert_eq!(p.used_percent, 12.5);
        assert_eq!(p.window_minutes, Some(300));
        assert_eq!(p.resets_at.unwrap().timestamp(), 1_900_000_000);
        let s = l.secondary.unwrap();
        assert_eq!(s.used_percent, 40.0);
        assert_eq!(s.window_minutes, Some(10080));
        let c = l.credits.unwrap();
        assert_eq!(c.has_credits, Some(false));
        assert_eq!(c.unlimited, Some(false));
        assert_eq!(c.balance.as_deref(), Some("0"));
    }

    #[test]
    fn no_codex_headers_means_no_rate_limits() {
        let h = headers(&[("content-type", "text/event-stream")]);
        assert!(RateLimits::from_headers(&h).is_none());
        // A garbage percentage is not a window.
        let h = headers(&[("x-codex-primary-used-percent", "lots")]);
        assert!(RateLimits::from_headers(&h).is_none());
    }

    #[test]
    fn a_reset_after_header_counts_from_now() {
        let h = headers(&[
            ("x-codex-primary-used-percent", "1"),
            ("x-codex-primary-reset-after-seconds", "600"),
        ]);
        let at = RateLimits::from_headers(&h)
            .unwrap()
            .primary
            .unwrap()
            .resets_at
            .unwrap();
        let left = (at - Utc::now()).num_seconds();
        assert!((590..=600).contains(&left), "{left}");
    }

    #[test]
    fn usage_windows_convert_seconds_to_minutes() {
        let rl = json!({
            "primary_window": {"used_percent": 5.0, "limit_window_seconds": 18000, "reset_after_seconds": 100, "reset_at": 1900000000},
            "secondary_window": {"used_percent": 50, "limit_window_seconds": 604800, "reset_at": 1900600000}
        });
        let credits = json!({"has_credits": true, "unlimited": false, "balance": 12.5});
        let l = RateLimits::from_usage(Some(&rl), Some(&credits));
        assert_eq!(l.primary.as_ref().unwrap().window_minutes, Some(300));
        assert_eq!(
            l.primary.as_ref().unwrap().resets_at.unwrap().timestamp(),
            1_900_000_000
        );
        assert_eq!(l.secondary.as_ref().unwrap().window_minutes, Some(10080));
        assert_eq!(l.credits.unwrap().balance.as_deref(), Some("12.5"));
    }

    #[test]
    fn the_state_json_form_round_trips() {
        let h = headers(&[("x-codex-primary-used-percent", "3")]);
        let l = RateLimits::from_headers(&h).unwrap();
        let v = serde_json::to_value(&l).unwrap();
        assert!(v.get("secondary").is_none());
        let back: RateLimits = serde_json::from_value(v).unwrap();
        assert!(back.same_numbers(&l));
    }
}
