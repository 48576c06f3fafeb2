//! The usage bars of the window, from the typed rate limits core keeps with the status.

use chrono::{DateTime, Utc};
use codex_oauth_core::model::{RateLimits, Window};
use codex_oauth_core::status::capitalized;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageBar {
    /// "5-hour limit", "Weekly limit", ...
    pub label: String,
    /// 0–100.
    pub used_percent: f64,
    pub resets_at: Option<DateTime<Utc>>,
}

fn bar(w: Option<&Window>, fallback: &str) -> Option<UsageBar> {
    let w = w?;
    if !w.used_percent.is_finite() {
        return None;
    }
    let label = match w.window_minutes {
        Some(m) if m > 0 => format!("{} limit", capitalized(&w.label())),
        _ => fallback.to_owned(),
    };
    Some(UsageBar {
        label,
        used_percent: w.used_percent.clamp(0.0, 100.0),
        resets_at: w.resets_at,
    })
}

pub fn usage_bars(limits: &RateLimits) -> Vec<UsageBar> {
    let mut bars: Vec<UsageBar> = [
        bar(limits.primary.as_ref(), "Short-term limit"),
        bar(limits.secondary.as_ref(), "Long-term limit"),
    ]
    .into_iter()
    .flatten()
    .collect();
    // Per-model limits (`x-<name>-*`): their bars, named.
    for named in &limits.additional {
        for w in [named.primary.as_ref(), named.secondary.as_ref()] {
            if let Some(mut b) = bar(w, "limit") {
                b.label = format!("{}: {}", named.name, b.label);
                bars.push(b);
            }
        }
    }
    bars
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    fn limits(v: serde_json::Value) -> RateLimits {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn both_windows_become_labelled_bars_with_reset_times() {
        let l = limits(json!({
            "primary": {"used_percent": 42.5, "window_minutes": 300, "resets_at": "2026-05-01T15:00:00Z"},
            "secondary": {"used_percent": 7.0, "window_minutes": 10080, "resets_at": "2026-05-06T00:00:00Z"},
            "credits": {"has_credits": false},
            "observed_at": "2026-05-01T12:00:00Z"
        }));
        let bars = usage_bars(&l);
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].label, "5-hour limit");
        assert_eq!(bars[0].used_percent, 42.5);
        assert_eq!(
            bars[0].resets_at.unwrap().to_rfc3339(),
            "2026-05-01T15:00:00+00:00"
        );
        assert_eq!(bars[1].label, "Weekly limit");
    }

    #[test]
    fn per_model_limits_get_bars_named_after_their_limit() {
        let l = limits(json!({
            "primary": {"used_percent": 10.0, "window_minutes": 300},
            "additional": [{"name": "gpt-6-2-sol", "primary": {"used_percent": 90.0, "window_minutes": 300}}],
            "observed_at": "2026-05-01T12:00:00Z"
        }));
        let bars = usage_bars(&l);
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[1].label, "gpt-6-2-sol: 5-hour limit");
    }

    #[test]
    fn odd_values_are_clamped_and_windows_without_a_length_get_a_general_name() {
        let l = limits(json!({
            "primary": {"used_percent": 140.0, "window_minutes": 60},
            "secondary": {"used_percent": 3.0},
            "observed_at": "2026-05-01T12:00:00Z"
        }));
        let bars = usage_bars(&l);
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].used_percent, 100.0);
        assert_eq!(bars[0].label, "1-hour limit");
        assert_eq!(bars[1].label, "Long-term limit");
        let none = limits(json!({"observed_at": "2026-05-01T12:00:00Z"}));
        assert!(usage_bars(&none).is_empty());
    }
}
