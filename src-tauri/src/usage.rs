//! The usage bars of the window, from the `rate_limits` that core keeps in state.json
//! (`{primary, secondary: {used_percent, window_minutes, resets_at}, credits, observed_at}`).
//! Read leniently: a window that cannot be read is left out, never an error.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageBar {
    /// "5-hour limit", "Weekly limit", ...
    pub label: String,
    /// 0–100.
    pub used_percent: f64,
    pub resets_at: Option<DateTime<Utc>>,
}

fn label(minutes: Option<u64>, fallback: &str) -> String {
    match minutes {
        Some(10_080) => "Weekly limit".into(),
        Some(1_440) => "Daily limit".into(),
        Some(m) if m >= 1_440 && m % 1_440 == 0 => format!("{}-day limit", m / 1_440),
        Some(m) if m >= 60 && m % 60 == 0 => format!("{}-hour limit", m / 60),
        Some(m) if m > 0 => format!("{m}-minute limit"),
        _ => fallback.into(),
    }
}

fn time(v: Option<&Value>) -> Option<DateTime<Utc>> {
    match v? {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        Value::Number(n) => n
            .as_i64()
            .and_then(|secs| DateTime::<Utc>::from_timestamp(secs, 0)),
        _ => None,
    }
}

fn bar(v: Option<&Value>, fallback: &str) -> Option<UsageBar> {
    let v = v?;
    let used = v
        .get("used_percent")
        .and_then(Value::as_f64)
        .filter(|p| p.is_finite())?;
    let minutes = v.get("window_minutes").and_then(Value::as_u64).or_else(|| {
        v.get("limit_window_seconds")
            .and_then(Value::as_u64)
            .map(|s| s / 60)
    });
    Some(UsageBar {
        label: label(minutes, fallback),
        used_percent: used.clamp(0.0, 100.0),
        resets_at: time(v.get("resets_at")).or_else(|| time(v.get("reset_at"))),
    })
}

pub fn usage_bars(rate_limits: &Value) -> Vec<UsageBar> {
    let mut bars: Vec<UsageBar> = [
        bar(rate_limits.get("primary"), "Short-term limit"),
        bar(rate_limits.get("secondary"), "Long-term limit"),
    ]
    .into_iter()
    .flatten()
    .collect();
    // Per-model limits (`x-<name>-*`): their bars, named.
    for named in rate_limits
        .get("additional")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = named.get("name").and_then(Value::as_str) else {
            continue;
        };
        for w in ["primary", "secondary"] {
            if let Some(mut b) = bar(named.get(w), "limit") {
                b.label = format!("{name}: {}", b.label);
                bars.push(b);
            }
        }
    }
    bars
}

/// The effective remaining core keeps with the windows (`effective`), in words: "62% left
/// (weekly window, resets …)".
pub fn remaining(rate_limits: &Value) -> Option<String> {
    let effective = rate_limits.get("effective")?.clone();
    serde_json::from_value::<codex_oauth_core::codex::Remaining>(effective)
        .ok()
        .map(|r| r.describe())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn both_windows_become_labelled_bars_with_reset_times() {
        let v = json!({
            "primary": {"used_percent": 42.5, "window_minutes": 300, "resets_at": "2026-05-01T15:00:00Z"},
            "secondary": {"used_percent": 7.0, "window_minutes": 10080, "resets_at": "2026-05-06T00:00:00Z"},
            "credits": {"has_credits": false},
            "observed_at": "2026-05-01T12:00:00Z"
        });
        let bars = usage_bars(&v);
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
    fn per_model_limits_get_bars_and_the_effective_remaining_is_told() {
        let v = json!({
            "primary": {"used_percent": 10.0, "window_minutes": 300},
            "additional": [{"name": "gpt-6-2-sol", "primary": {"used_percent": 90.0, "window_minutes": 300}}],
            "effective": {"percent_left": 10.0, "limit": "gpt-6-2-sol", "window": "5-hour", "blocked": false}
        });
        let bars = usage_bars(&v);
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[1].label, "gpt-6-2-sol: 5-hour limit");
        let r = remaining(&v).unwrap();
        assert!(
            r.starts_with("10% left (5-hour window of the gpt-6-2-sol limit"),
            "{r}"
        );
        assert_eq!(remaining(&json!({"primary": {"used_percent": 1.0}})), None);
    }

    #[test]
    fn odd_values_are_clamped_or_left_out() {
        let v = json!({
            "primary": {"used_percent": 140.0, "limit_window_seconds": 3600, "reset_at": 1_777_777_777},
            "secondary": {"used_percent": "lots"}
        });
        let bars = usage_bars(&v);
        assert_eq!(bars.len(), 1);
        assert_eq!(bars[0].used_percent, 100.0);
        assert_eq!(bars[0].label, "1-hour limit");
        assert!(bars[0].resets_at.is_some());
        assert!(usage_bars(&json!(null)).is_empty());
        assert!(usage_bars(&json!({"primary": {}})).is_empty());
    }
}
