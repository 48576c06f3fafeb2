//! The rate-limit windows of a ChatGPT plan in one shape, whichever answer they came from (the
//! `x-<limit>-*` response headers, the `codex.rate_limits` event, the usage endpoint: read in
//! `codex`), kept in state.json (`rate_limits`) for the tray and status; and the effective
//! remaining: the smallest share left among the windows that apply, and when it comes back.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The limit family of the Codex plan itself (`x-codex-*`).
pub const CODEX_LIMIT: &str = "codex";

/// One window (primary ≈ 5 hours, secondary ≈ a week).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Window {
    pub used_percent: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<DateTime<Utc>>,
}

impl Window {
    /// "5-hour", "weekly", "3-day", ...
    pub fn label(&self) -> String {
        match self.window_minutes {
            Some(10_080) => "weekly".into(),
            Some(1_440) => "daily".into(),
            Some(m) if m >= 1_440 && m % 1_440 == 0 => format!("{}-day", m / 1_440),
            Some(m) if m >= 60 && m % 60 == 0 => format!("{}-hour", m / 60),
            Some(m) if m > 0 => format!("{m}-minute"),
            _ => "usage".into(),
        }
    }

    fn left(&self) -> f64 {
        (100.0 - self.used_percent).clamp(0.0, 100.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Credits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_credits: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlimited: Option<bool>,
    /// As the backend wrote it (a decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<String>,
}

/// The windows of a limit other than the plan's own (a per-model bucket, `x-<name>-*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NamedLimit {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<Window>,
}

/// The effective remaining: the window that leaves the least, among those that apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Remaining {
    /// 0–100: what is left of the tightest window.
    pub percent_left: f64,
    /// The limit family (`codex`, or a per-model bucket).
    pub limit: String,
    /// "5-hour", "weekly", ...
    pub window: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<DateTime<Utc>>,
    /// Nothing is left: calls fail until `resets_at`.
    pub blocked: bool,
}

impl Remaining {
    /// "62% left (weekly window, resets 2026-12-03 14:00 UTC)", "blocked by the 5-hour window until ...".
    pub fn describe(&self) -> String {
        let limit = if self.limit == CODEX_LIMIT {
            String::new()
        } else {
            format!(" of the {} limit", self.limit)
        };
        let when = self
            .resets_at
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M %Z")
                    .to_string()
            })
            .unwrap_or_else(|| "an unknown time".into());
        if self.blocked {
            format!(
                "none left: the {} window{limit} blocks until {when}",
                self.window
            )
        } else {
            format!(
                "{:.0}% left ({} window{limit}, resets {when})",
                self.percent_left, self.window
            )
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RateLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<Credits>,
    /// Other limit families (per-model buckets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional: Vec<NamedLimit>,
    /// The family that applies now (`x-codex-active-limit`, the usage answer's
    /// `rate_limit_reached_type`); `None`: the plan's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_limit: Option<String>,
    /// Derived from the windows when they were seen (kept so every reader shows the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<Remaining>,
    /// When these numbers were seen.
    pub observed_at: DateTime<Utc>,
}

impl RateLimits {
    pub fn has_data(&self) -> bool {
        self.primary.is_some()
            || self.secondary.is_some()
            || self.credits.is_some()
            || !self.additional.is_empty()
    }

    /// The windows that apply: the plan's own, and the active family's when it names another.
    fn applying(&self) -> Vec<(&str, &Window)> {
        let mut out: Vec<(&str, &Window)> = [&self.primary, &self.secondary]
            .into_iter()
            .flatten()
            .map(|w| (CODEX_LIMIT, w))
            .collect();
        if let Some(active) = self.active_limit.as_deref()
            && let Some(n) = self.additional.iter().find(|n| n.name == active)
        {
            out.extend(
                [&n.primary, &n.secondary]
                    .into_iter()
                    .flatten()
                    .map(|w| (n.name.as_str(), w)),
            );
        }
        out
    }

    /// The tightest applying window. Of two that leave the same, the one that resets later.
    pub fn compute_effective(&self) -> Option<Remaining> {
        let (limit, w) = self.applying().into_iter().min_by(|(_, a), (_, b)| {
            a.left()
                .total_cmp(&b.left())
                .then_with(|| b.resets_at.cmp(&a.resets_at))
        })?;
        Some(Remaining {
            percent_left: w.left(),
            limit: limit.to_owned(),
            window: w.label(),
            resets_at: w.resets_at,
            blocked: w.left() <= 0.0,
        })
    }

    /// The plan's weekly window (the one `claude_budget_percent` caps): the secondary window, or
    /// whichever of the two lasts a week.
    pub fn weekly(&self) -> Option<&Window> {
        [&self.secondary, &self.primary]
            .into_iter()
            .flatten()
            .find(|w| w.window_minutes == Some(10_080))
            .or(self.secondary.as_ref())
    }

    /// The same numbers, whenever they were seen.
    pub(crate) fn same_numbers(&self, other: &Self) -> bool {
        self.primary == other.primary
            && self.secondary == other.secondary
            && self.credits == other.credits
            && self.additional == other.additional
            && self.active_limit == other.active_limit
    }
}
