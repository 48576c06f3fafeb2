//! The model list of `GET {api_base}/models`: parsed leniently, hidden models left out, the default
//! chosen by priority, cached on disk with its ETag (`<profile>/models.json`).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::store::write_atomic;

/// The model used only when no list was ever fetched (and none can be).
pub const FALLBACK_MODEL: &str = "gpt-5.1-codex";

/// A reasoning effort a model supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasoningLevel {
    pub effort: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

// Either `{"effort", "description"}` or a bare string.
impl<'de> Deserialize<'de> for ReasoningLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Full {
                effort: String,
                #[serde(default)]
                description: Option<String>,
            },
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Name(effort) => Self {
                effort,
                description: None,
            },
            Raw::Full {
                effort,
                description,
            } => Self {
                effort,
                description,
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_reasoning_level: Option<String>,
    #[serde(default)]
    pub supported_reasoning_levels: Vec<ReasoningLevel>,
    /// `list` or `hide`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// Lower comes first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
}

impl Model {
    pub fn is_hidden(&self) -> bool {
        self.visibility
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("hide") || v.eq_ignore_ascii_case("hidden"))
    }
}

/// Where a model list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelSource {
    /// Fetched just now.
    Network,
    /// The backend said the cached list is current (HTTP 304).
    Revalidated,
    /// The cached list, because the backend could not be asked.
    Cache,
    /// Nothing was ever fetched: the one built-in slug.
    Fallback,
}

/// The visible models, best first, with the default.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelList {
    pub models: Vec<Model>,
    /// The first visible model by priority.
    pub default_model: String,
    pub source: ModelSource,
    /// When the list was fetched from the backend.
    pub fetched_at: Option<DateTime<Utc>>,
    /// Why the list may be stale (the error that prevented a fetch).
    pub note: Option<String>,
}

impl ModelList {
    /// The visible models of `all`, sorted by priority (stable), and the default among them.
    pub fn from_models(
        all: Vec<Model>,
        source: ModelSource,
        fetched_at: Option<DateTime<Utc>>,
    ) -> Self {
        let mut models: Vec<Model> = all.into_iter().filter(|m| !m.is_hidden()).collect();
        models.sort_by_key(|m| m.priority.unwrap_or(i64::MAX));
        match models.first() {
            Some(first) => Self {
                default_model: first.slug.clone(),
                models,
                source,
                fetched_at,
                note: None,
            },
            None => Self::fallback(Some("the backend listed no visible model".into())),
        }
    }

    /// The last resort: one built-in slug.
    pub fn fallback(note: Option<String>) -> Self {
        Self {
            models: vec![Model {
                slug: FALLBACK_MODEL.into(),
                display_name: None,
                description: None,
                default_reasoning_level: None,
                supported_reasoning_levels: Vec::new(),
                visibility: None,
                priority: None,
                context_window: None,
            }],
            default_model: FALLBACK_MODEL.into(),
            source: ModelSource::Fallback,
            fetched_at: None,
            note,
        }
    }

    pub fn get(&self, slug: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.slug == slug)
    }
}

/// `models.json`: the raw list as the backend sent it, with its ETag.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ModelCache {
    #[serde(default)]
    pub etag: Option<String>,
    pub fetched_at: DateTime<Utc>,
    #[serde(default)]
    pub client_version: String,
    pub models: Vec<Value>,
}

impl ModelCache {
    /// The cache at `path`; `None` when absent or unreadable (a bad cache is only a cache).
    pub fn read(path: &Path) -> Option<Self> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read the model cache");
                return None;
            }
        };
        match serde_json::from_slice(&bytes) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring a malformed model cache");
                None
            }
        }
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Invalid(e.to_string()))?;
        write_atomic(path, &bytes)
    }

    pub fn list(&self, source: ModelSource) -> ModelList {
        ModelList::from_models(parse_models(&self.models), source, Some(self.fetched_at))
    }
}

/// The models of a `{"models": [...]}` answer; entries that are not models are skipped.
pub(crate) fn parse_models(raw: &[Value]) -> Vec<Model> {
    raw.iter()
        .filter_map(|v| match serde_json::from_value::<Model>(v.clone()) {
            Ok(m) if !m.slug.trim().is_empty() => Some(m),
            Ok(_) => None,
            Err(e) => {
                tracing::debug!(error = %e, "skipping a model entry that does not parse");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn raw() -> Vec<Value> {
        json!([
            {"slug": "gpt-5.1", "display_name": "GPT-5.1", "visibility": "list", "priority": 3,
             "supported_reasoning_levels": [{"effort": "low", "description": "fast"}, {"effort": "high"}]},
            {"slug": "secret-hidden-model", "visibility": "hide", "priority": 0},
            {"slug": "gpt-5.1-codex-mini", "visibility": "list", "priority": 2, "supported_reasoning_levels": ["medium"]},
            {"slug": "gpt-5.1-codex", "visibility": "list", "priority": 1, "context_window": 272000,
             "default_reasoning_level": "medium", "some_new_field": {"x": 1}},
            {"display_name": "no slug"},
            {"slug": "", "priority": -5},
            {"slug": "unranked"}
        ])
        .as_array()
        .unwrap()
        .clone()
    }

    #[test]
    fn hidden_models_are_left_out_and_the_default_is_the_first_by_priority() {
        let list = ModelList::from_models(parse_models(&raw()), ModelSource::Network, None);
        let slugs: Vec<_> = list.models.iter().map(|m| m.slug.as_str()).collect();
        assert_eq!(
            slugs,
            vec!["gpt-5.1-codex", "gpt-5.1-codex-mini", "gpt-5.1", "unranked"]
        );
        assert_eq!(list.default_model, "gpt-5.1-codex");
        assert!(list.get("secret-hidden-model").is_none());
        let m = list.get("gpt-5.1").unwrap();
        assert_eq!(m.supported_reasoning_levels.len(), 2);
        assert_eq!(
            list.get("gpt-5.1-codex-mini")
                .unwrap()
                .supported_reasoning_levels[0]
                .effort,
            "medium"
        );
        assert_eq!(
            list.get("gpt-5.1-codex").unwrap().context_window,
            Some(272000)
        );
    }

    #[test]
    fn the_default_follows_the_list_not_a_hard_coded_slug() {
        let raw = json!([{"slug": "b", "priority": 9}, {"slug": "a-new-model", "priority": 4}]);
        let list = ModelList::from_models(
            parse_models(raw.as_array().unwrap()),
            ModelSource::Network,
            None,
        );
        assert_eq!(list.default_model, "a-new-model");
    }

    #[test]
    fn a_list_with_nothing_visible_falls_back_and_says_why() {
        let raw = json!([{"slug": "x", "visibility": "hide"}]);
        let list = ModelList::from_models(
            parse_models(raw.as_array().unwrap()),
            ModelSource::Network,
            None,
        );
        assert_eq!(list.source, ModelSource::Fallback);
        assert_eq!(list.default_model, FALLBACK_MODEL);
        assert!(list.note.is_some());
    }

    #[test]
    fn the_cache_round_trips_and_a_corrupt_one_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.json");
        assert!(ModelCache::read(&path).is_none());
        let c = ModelCache {
            etag: Some("\"v1\"".into()),
            fetched_at: Utc::now(),
            client_version: "0.1.0".into(),
            models: raw(),
        };
        c.write(&path).unwrap();
        let back = ModelCache::read(&path).unwrap();
        assert_eq!(back.etag.as_deref(), Some("\"v1\""));
        assert_eq!(back.list(ModelSource::Cache).default_model, "gpt-5.1-codex");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(ModelCache::read(&path).is_none());
    }
}
