//! The rate limits as the backend writes them, read into [`RateLimits`]: the `x-<limit>-*`
//! response headers, the `codex.rate_limits` event and the usage answer.

use chrono::{DateTime, TimeZone, Utc};
use reqwest::header::HeaderMap;

use crate::codex::wire::{Balance, RateLimitsEvent, UsageAnswer, WireCredits, WireWindow};
use crate::lenient::Lenient;
use crate::model::{CODEX_LIMIT, Credits, NamedLimit, RateLimits, Window};

impl WireWindow {
    fn into_window(self) -> Option<Window> {
        self.used_percent.is_finite().then(|| Window {
            used_percent: self.used_percent,
            window_minutes: self
                .window_minutes
                .into_inner()
                .or(self.limit_window_seconds.into_inner().map(|s| s / 60)),
            resets_at: self
                .resets_at
                .into_inner()
                .and_then(unix)
                .or_else(|| self.reset_after_seconds.into_inner().and_then(from_now)),
        })
    }
}

fn window_of(w: Lenient<WireWindow>) -> Option<Window> {
    w.into_inner()?.into_window()
}

fn credits_of(c: Lenient<WireCredits>) -> Option<Credits> {
    let c = c.into_inner()?;
    let credits = Credits {
        has_credits: c.has_credits.into_inner(),
        unlimited: c.unlimited.into_inner(),
        balance: c.balance.into_inner().map(|b| match b {
            Balance::Text(s) => s,
            Balance::Number(n) => n.to_string(),
        }),
    };
    credits.is_some().then_some(credits)
}

impl RateLimits {
    fn new(primary: Option<Window>, secondary: Option<Window>, credits: Option<Credits>) -> Self {
        Self {
            primary,
            secondary,
            credits,
            additional: Vec::new(),
            active_limit: None,
            effective: None,
            observed_at: Utc::now(),
        }
    }

    /// The windows in the `x-<limit>-*` headers of a backend answer; `None` when there are none.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let window = |family: &str, which: &str| -> Option<Window> {
            let used_percent = get(&format!("x-{family}-{which}-used-percent"))?
                .parse::<f64>()
                .ok()
                .filter(|p| p.is_finite())?;
            let window_minutes =
                get(&format!("x-{family}-{which}-window-minutes")).and_then(|v| v.parse().ok());
            let resets_at = get(&format!("x-{family}-{which}-reset-at"))
                .and_then(|v| v.parse::<i64>().ok())
                .and_then(unix)
                .or_else(|| {
                    get(&format!("x-{family}-{which}-reset-after-seconds"))
                        .and_then(|v| v.parse::<i64>().ok())
                        .and_then(from_now)
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
        let mut limits = Self::new(
            window(CODEX_LIMIT, "primary"),
            window(CODEX_LIMIT, "secondary"),
            credits.is_some().then_some(credits),
        );
        // Every other family: `x-<name>-primary-used-percent` (or secondary).
        let mut families: Vec<&str> = headers
            .keys()
            .filter_map(|k| {
                let name = k.as_str().strip_prefix("x-")?;
                name.strip_suffix("-primary-used-percent")
                    .or_else(|| name.strip_suffix("-secondary-used-percent"))
            })
            .filter(|f| *f != CODEX_LIMIT && !f.is_empty())
            .collect();
        families.sort_unstable();
        families.dedup();
        limits.additional = families
            .into_iter()
            .map(|f| NamedLimit {
                name: f.to_owned(),
                primary: window(f, "primary"),
                secondary: window(f, "secondary"),
            })
            .filter(|n| n.primary.is_some() || n.secondary.is_some())
            .collect();
        limits.active_limit = get("x-codex-active-limit").map(str::to_owned);
        limits.finish()
    }

    /// The `codex.rate_limits` event of an answer stream.
    pub(crate) fn from_event(event: RateLimitsEvent) -> Option<Self> {
        let rl = event.rate_limits.into_inner().unwrap_or_default();
        let credits = if event.credits.as_ref().is_some() {
            event.credits
        } else {
            rl.credits
        };
        let limits = Self::new(
            window_of(rl.primary),
            window_of(rl.secondary),
            credits_of(credits),
        );
        limits.finish()
    }

    /// A usage answer's `rate_limit`, `credits`, `additional_rate_limits` and
    /// `rate_limit_reached_type`.
    pub(crate) fn from_usage(answer: UsageAnswer) -> Self {
        let rl = answer.rate_limit.into_inner().unwrap_or_default();
        let mut limits = Self::new(
            window_of(rl.primary_window),
            window_of(rl.secondary_window),
            credits_of(answer.credits),
        );
        limits.additional = answer
            .additional_rate_limits
            .into_inner()
            .unwrap_or_default()
            .into_iter()
            .filter_map(Lenient::into_inner)
            .filter_map(|n| {
                let r = n.rate_limit.into_inner().unwrap_or_default();
                Some(NamedLimit {
                    name: n
                        .limit_name
                        .into_inner()
                        .or(n.metered_feature.into_inner())?,
                    primary: window_of(r.primary_window),
                    secondary: window_of(r.secondary_window),
                })
            })
            .filter(|n| n.primary.is_some() || n.secondary.is_some())
            .collect();
        limits.active_limit = answer
            .rate_limit_reached_type
            .into_inner()
            .filter(|s| !s.is_empty());
        limits.effective = limits.compute_effective();
        limits
    }

    /// With the effective remaining set; `None` when there is nothing in it.
    fn finish(mut self) -> Option<Self> {
        self.effective = self.compute_effective();
        self.has_data().then_some(self)
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

/// Now plus `secs`, when that is a time (a server-supplied number never overflows into a panic).
fn from_now(secs: i64) -> Option<DateTime<Utc>> {
    Utc::now().checked_add_signed(chrono::Duration::try_seconds(secs)?)
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
    use serde_json::{Value, json};

    fn from_usage(answer: &Value) -> RateLimits {
        RateLimits::from_usage(serde_json::from_value(answer.clone()).unwrap())
    }

    fn from_event(event: &Value) -> Option<RateLimits> {
        RateLimits::from_event(serde_json::from_value(event.clone()).unwrap())
    }

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
        let l = from_usage(&json!({"rate_limit": rl, "credits": credits}));
        assert_eq!(l.primary.as_ref().unwrap().window_minutes, Some(300));
        assert_eq!(
            l.primary.as_ref().unwrap().resets_at.unwrap().timestamp(),
            1_900_000_000
        );
        assert_eq!(l.secondary.as_ref().unwrap().window_minutes, Some(10080));
        assert_eq!(l.credits.unwrap().balance.as_deref(), Some("12.5"));
    }

    #[test]
    fn every_limit_family_is_read_and_the_active_one_counts_in_the_effective_remaining() {
        let h = headers(&[
            ("x-codex-primary-used-percent", "20"),
            ("x-codex-primary-window-minutes", "300"),
            ("x-codex-primary-reset-at", "1900000000"),
            ("x-codex-secondary-used-percent", "70"),
            ("x-codex-secondary-window-minutes", "10080"),
            ("x-codex-secondary-reset-at", "1900500000"),
            ("x-gpt-6-2-sol-primary-used-percent", "95"),
            ("x-gpt-6-2-sol-primary-window-minutes", "300"),
            ("x-gpt-6-2-sol-primary-reset-at", "1900001000"),
            ("x-codex-active-limit", "gpt-6-2-sol"),
        ]);
        let l = RateLimits::from_headers(&h).unwrap();
        assert_eq!(l.additional.len(), 1);
        assert_eq!(l.additional[0].name, "gpt-6-2-sol");
        let e = l.effective.clone().unwrap();
        assert_eq!(e.limit, "gpt-6-2-sol");
        assert_eq!(e.percent_left, 5.0);
        assert_eq!(e.window, "5-hour");
        assert!(!e.blocked);
        assert!(e.describe().contains("5% left"), "{}", e.describe());
        // Without the active header, the plan's own tightest window: the weekly one.
        let mut plain = l;
        plain.active_limit = None;
        let e = plain.compute_effective().unwrap();
        assert_eq!((e.limit.as_str(), e.window.as_str()), ("codex", "weekly"));
        assert_eq!(e.percent_left, 30.0);
    }

    #[test]
    fn the_usage_answer_gives_additional_limits_and_the_reached_type() {
        let answer = json!({
            "plan_type": "plus",
            "rate_limit": {"allowed": false, "limit_reached": true,
                "primary_window": {"used_percent": 100, "limit_window_seconds": 18000, "reset_at": 1900000000},
                "secondary_window": {"used_percent": 60, "limit_window_seconds": 604800, "reset_at": 1900500000}},
            "additional_rate_limits": [{"limit_name": "gpt-6-sol", "rate_limit": {"primary_window": {"used_percent": 10, "limit_window_seconds": 18000}}}],
            "rate_limit_reached_type": "codex"
        });
        let l = from_usage(&answer);
        assert_eq!(l.additional[0].name, "gpt-6-sol");
        let e = l.effective.unwrap();
        assert!(e.blocked);
        assert_eq!(e.window, "5-hour");
        assert_eq!(e.resets_at.unwrap().timestamp(), 1_900_000_000);
        assert!(e.describe().contains("blocks until"), "{}", e.describe());
    }

    #[test]
    fn server_numbers_that_overflow_time_are_left_out_not_a_panic() {
        let h = headers(&[
            ("x-codex-primary-used-percent", "1"),
            ("x-codex-primary-reset-after-seconds", "9223372036854775807"),
            ("x-codex-secondary-used-percent", "1"),
            ("x-codex-secondary-reset-at", "-9223372036854775808"),
        ]);
        let l = RateLimits::from_headers(&h).unwrap();
        assert!(l.primary.unwrap().resets_at.is_none());
        let ev =
            json!({"rate_limits": {"primary": {"used_percent": 1, "resets_in_seconds": i64::MAX}}});
        assert!(
            from_event(&ev)
                .unwrap()
                .primary
                .unwrap()
                .resets_at
                .is_none()
        );
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
