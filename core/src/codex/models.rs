//! The model catalog of `GET {api_base}/models?client_version=…` (PROTOCOL.md §6): parsed leniently
//! (unknown fields ignored, old field names and shapes accepted), models above our client version
//! left out, hidden ones kept for callers who name them, the default the first listed by priority,
//! cached on disk with its ETag (`<profile>/models.json`). There is no built-in model slug: an
//! empty catalog is an error the user sees.

use std::path::Path;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::config::parse_version;
use crate::error::{Error, Result};
use crate::store::write_atomic;

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
        let (effort, description) = match Raw::deserialize(d)? {
            Raw::Name(effort) => (effort, None),
            Raw::Full {
                effort,
                description,
            } => (effort, description),
        };
        Ok(Self {
            effort: effort.trim().to_ascii_lowercase(),
            description,
        })
    }
}

/// The model a catalog entry suggests moving to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Upgrade {
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

// A slug, or `{"model" (or "slug"), "migration_markdown" (or "message")}`.
impl<'de> Deserialize<'de> for Upgrade {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Slug(String),
            Full {
                #[serde(alias = "slug")]
                model: String,
                #[serde(default, alias = "migration_markdown", alias = "description")]
                message: Option<String>,
            },
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Slug(model) => Self {
                model,
                message: None,
            },
            Raw::Full { model, message } => Self { model, message },
        })
    }
}

/// `minimal_client_version`: `"0.166.0"`, or in older catalogs `[0, 99, 0]`. Normalised to `x.y.z`;
/// a value that is neither is kept as written (and never hides the model).
fn version_field<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(Value::Array(parts)) => {
            let nums: Vec<u64> = parts.iter().filter_map(Value::as_u64).collect();
            (nums.len() == parts.len() && !nums.is_empty()).then(|| {
                let at = |i: usize| nums.get(i).copied().unwrap_or(0);
                format!("{}.{}.{}", at(0), at(1), at(2))
            })
        }
        _ => None,
    })
}

/// The model's own instructions: `model_messages.instructions_template`, else `base_instructions`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
struct ModelMessages {
    #[serde(default)]
    instructions_template: Option<String>,
}

fn default_modalities() -> Vec<String> {
    // The Codex CLI's default when a catalog entry does not say.
    vec!["text".into(), "image".into()]
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
    /// The oldest client release the backend serves this model to (`x.y.z`).
    #[serde(
        default,
        deserialize_with = "version_field",
        skip_serializing_if = "Option::is_none"
    )]
    pub minimal_client_version: Option<String>,
    /// Asked in the Responses-Lite shape (PROTOCOL.md §6), not the standard one.
    #[serde(default)]
    pub use_responses_lite: bool,
    /// `text`, `image`.
    #[serde(default = "default_modalities")]
    pub input_modalities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub available_in_plans: Vec<String>,
    /// The backend sends `text.verbosity` only to models that support it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_verbosity: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_verbosity: Option<String>,
    /// `reasoning.summary` to ask for; absent: `auto`, `none`: not asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_reasoning_summary: Option<String>,
    #[serde(default, skip_serializing)]
    model_messages: Option<ModelMessages>,
    #[serde(default, skip_serializing)]
    base_instructions: Option<String>,
}

impl Model {
    /// An entry with only a slug, in the standard request shape (API-key mode: no catalog).
    pub fn bare(slug: impl Into<String>) -> Self {
        Self {
            slug: slug.into(),
            display_name: None,
            description: None,
            default_reasoning_level: None,
            supported_reasoning_levels: Vec::new(),
            visibility: None,
            priority: None,
            context_window: None,
            minimal_client_version: None,
            use_responses_lite: false,
            input_modalities: default_modalities(),
            upgrade: None,
            available_in_plans: Vec::new(),
            support_verbosity: None,
            default_verbosity: None,
            default_reasoning_summary: None,
            model_messages: None,
            base_instructions: None,
        }
    }

    pub fn is_hidden(&self) -> bool {
        self.visibility
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("hide") || v.eq_ignore_ascii_case("hidden"))
    }

    /// The model's own instructions, sent as the first developer message.
    pub fn instructions(&self) -> Option<&str> {
        self.model_messages
            .as_ref()
            .and_then(|m| m.instructions_template.as_deref())
            .or(self.base_instructions.as_deref())
            .filter(|s| !s.trim().is_empty())
    }

    pub fn accepts_images(&self) -> bool {
        self.input_modalities
            .iter()
            .any(|m| m.eq_ignore_ascii_case("image"))
    }

    /// True when a client of release `version` may use this model.
    pub fn serves_client(&self, version: &str) -> bool {
        match (
            self.minimal_client_version
                .as_deref()
                .and_then(parse_version),
            parse_version(version),
        ) {
            (Some(min), Some(ours)) => min <= ours,
            _ => true,
        }
    }

    /// The efforts this model takes, in the catalog's order.
    pub fn efforts(&self) -> Vec<&str> {
        self.supported_reasoning_levels
            .iter()
            .map(|l| l.effort.as_str())
            .collect()
    }

    /// The effort to send: `asked` when the model lists it (any effort when the catalog lists
    /// none), else an error naming the allowed ones; without `asked`, the model's default.
    pub fn effort(&self, asked: Option<&str>) -> Result<Option<String>> {
        let Some(asked) = asked.map(|a| a.trim().to_ascii_lowercase()) else {
            return Ok(self
                .default_reasoning_level
                .as_ref()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty()));
        };
        let allowed = self.efforts();
        if allowed.is_empty() || allowed.contains(&asked.as_str()) {
            return Ok(Some(asked));
        }
        Err(Error::UnsupportedEffort {
            model: self.slug.clone(),
            effort: asked,
            allowed: allowed.into_iter().map(str::to_owned).collect(),
        })
    }
}

/// Where a model list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModelSource {
    /// Fetched just now.
    Network,
    /// The backend said the cached list is current (HTTP 304).
    Revalidated,
    /// The cached list, because the backend could not be asked.
    Cache,
    /// Signed in with an API key: no catalog applies.
    ApiKey,
}

/// The catalog as this client may use it: the listed models best first, the default among them,
/// and the hidden ones (usable when named, never listed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelList {
    pub models: Vec<Model>,
    /// The first listed model by priority.
    pub default_model: String,
    pub source: ModelSource,
    /// When the list was fetched from the backend.
    pub fetched_at: Option<DateTime<Utc>>,
    /// The `client_version` the catalog was asked for.
    pub client_version: String,
    /// Why the list may be stale (the error that prevented a fetch).
    pub note: Option<String>,
    #[serde(skip)]
    pub hidden: Vec<Model>,
}

impl ModelList {
    /// The usable models of `all` for a client of release `client_version`: those it may use,
    /// the listed ones sorted by priority (stable), the default the first of them. A catalog with
    /// no listed model is an error that says which version was sent.
    pub fn from_models(
        all: Vec<Model>,
        source: ModelSource,
        fetched_at: Option<DateTime<Utc>>,
        client_version: &str,
    ) -> Result<Self> {
        let total = all.len();
        let (hidden, mut models): (Vec<Model>, Vec<Model>) = all
            .into_iter()
            .filter(|m| m.serves_client(client_version))
            .partition(Model::is_hidden);
        models.sort_by_key(|m| m.priority.unwrap_or(i64::MAX));
        let Some(first) = models.first() else {
            return Err(Error::NoModels {
                client_version: client_version.to_owned(),
                detail: if total == 0 {
                    "the catalog is empty".into()
                } else {
                    format!("none of its {total} models is listed for this version")
                },
            });
        };
        Ok(Self {
            default_model: first.slug.clone(),
            models,
            source,
            fetched_at,
            client_version: client_version.to_owned(),
            note: None,
            hidden,
        })
    }

    /// The list of an API-key sign-in: no catalog, any model of the OpenAI API may be named.
    pub fn api_key(default_model: &str, client_version: &str) -> Self {
        Self {
            models: vec![Model::bare(default_model)],
            default_model: default_model.to_owned(),
            source: ModelSource::ApiKey,
            fetched_at: None,
            client_version: client_version.to_owned(),
            note: Some(
                "signed in with an API key: the ChatGPT catalog does not apply; name any model of the OpenAI API".into(),
            ),
            hidden: Vec::new(),
        }
    }

    /// The model `slug`, listed or hidden.
    pub fn get(&self, slug: &str) -> Option<&Model> {
        self.models
            .iter()
            .chain(&self.hidden)
            .find(|m| m.slug == slug)
    }

    pub fn default(&self) -> Option<&Model> {
        self.get(&self.default_model)
    }

    /// The slugs a caller may choose from (the listed ones).
    pub fn slugs(&self) -> Vec<String> {
        self.models.iter().map(|m| m.slug.clone()).collect()
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
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Internal(e.to_string()))?;
        write_atomic(path, &bytes)
    }

    /// The cached catalog as a client of `client_version` may use it.
    pub fn list(&self, source: ModelSource, client_version: &str) -> Result<ModelList> {
        ModelList::from_models(
            parse_models(&self.models),
            source,
            Some(self.fetched_at),
            client_version,
        )
    }
}

/// The models of a `{"models": [...]}` answer; entries that are not models are skipped.
pub(crate) fn parse_models(raw: &[Value]) -> Vec<Model> {
    raw.iter()
        .filter_map(|v| match Model::deserialize(v) {
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

    const V: &str = "0.171.0";

    /// A catalog in today's shape (PROTOCOL.md §6), with older shapes mixed in.
    fn raw() -> Vec<Value> {
        json!([
            {"slug": "gpt-5.5", "display_name": "GPT-5.5", "visibility": "list", "priority": 9,
             "use_responses_lite": false, "minimal_client_version": [0, 99, 0],
             "supported_reasoning_levels": [{"effort": "low", "description": "fast"}, {"effort": "high"}],
             "base_instructions": "You are GPT-5.5."},
            {"slug": "secret-hidden-model", "visibility": "hide", "priority": 0},
            {"slug": "gpt-7-future", "visibility": "list", "priority": 0, "minimal_client_version": "0.180.0"},
            {"slug": "gpt-6.2-astra", "visibility": "list", "priority": 2, "supported_reasoning_levels": ["Medium", "max"],
             "input_modalities": ["text"], "use_responses_lite": true},
            {"slug": "gpt-6.2-sol", "visibility": "list", "priority": 1, "context_window": 272000,
             "default_reasoning_level": "medium", "use_responses_lite": true,
             "minimal_client_version": "0.166.0",
             "supported_reasoning_levels": [{"effort": "low"}, {"effort": "medium"}, {"effort": "max"}, {"effort": "ultra"}],
             "model_messages": {"instructions_template": "You are Sol."},
             "upgrade": {"model": "gpt-7-future", "migration_markdown": "Try gpt-7."},
             "available_in_plans": ["plus", "pro"], "some_new_field": {"x": 1}},
            {"display_name": "no slug"},
            {"slug": "", "priority": -5},
            {"slug": "unranked"}
        ])
        .as_array()
        .unwrap()
        .clone()
    }

    fn list() -> ModelList {
        ModelList::from_models(parse_models(&raw()), ModelSource::Network, None, V).unwrap()
    }

    #[test]
    fn hidden_and_too_new_models_are_not_listed_and_the_default_is_the_first_by_priority() {
        let list = list();
        assert_eq!(
            list.slugs(),
            vec!["gpt-6.2-sol", "gpt-6.2-astra", "gpt-5.5", "unranked"]
        );
        assert_eq!(list.default_model, "gpt-6.2-sol");
        assert!(
            list.get("secret-hidden-model").is_some(),
            "hidden, yet usable by name"
        );
        assert!(list.get("gpt-7-future").is_none(), "needs a newer client");
        let newer =
            ModelList::from_models(parse_models(&raw()), ModelSource::Network, None, "0.180.0")
                .unwrap();
        assert_eq!(newer.default_model, "gpt-7-future");
    }

    #[test]
    fn every_catalog_field_is_read_in_its_old_and_new_forms() {
        let list = list();
        let sol = list.get("gpt-6.2-sol").unwrap();
        assert!(sol.use_responses_lite);
        assert_eq!(sol.instructions(), Some("You are Sol."));
        assert_eq!(sol.efforts(), vec!["low", "medium", "max", "ultra"]);
        assert_eq!(sol.context_window, Some(272000));
        assert!(sol.accepts_images(), "no input_modalities: text and image");
        assert_eq!(sol.upgrade.as_ref().unwrap().model, "gpt-7-future");
        assert_eq!(
            sol.upgrade.as_ref().unwrap().message.as_deref(),
            Some("Try gpt-7.")
        );
        assert_eq!(sol.available_in_plans, vec!["plus", "pro"]);
        let five = list.get("gpt-5.5").unwrap();
        assert!(!five.use_responses_lite);
        assert_eq!(five.minimal_client_version.as_deref(), Some("0.99.0"));
        assert_eq!(five.instructions(), Some("You are GPT-5.5."));
        let astra = list.get("gpt-6.2-astra").unwrap();
        assert_eq!(astra.efforts(), vec!["medium", "max"]);
        assert!(!astra.accepts_images());
    }

    #[test]
    fn efforts_are_checked_against_the_model_and_default_to_its_own() {
        let list = list();
        let sol = list.get("gpt-6.2-sol").unwrap();
        assert_eq!(sol.effort(None).unwrap().as_deref(), Some("medium"));
        assert_eq!(sol.effort(Some("MAX")).unwrap().as_deref(), Some("max"));
        assert_eq!(sol.effort(Some("ultra")).unwrap().as_deref(), Some("ultra"));
        let e = sol.effort(Some("minimal")).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("gpt-6.2-sol") && text.contains("low, medium, max, ultra"),
            "{text}"
        );
        let five = list.get("gpt-5.5").unwrap();
        assert!(five.effort(Some("max")).is_err());
        assert_eq!(
            five.effort(None).unwrap(),
            None,
            "no default in the catalog"
        );
        assert_eq!(
            Model::bare("x").effort(Some("xhigh")).unwrap().as_deref(),
            Some("xhigh"),
            "no catalog, no check"
        );
    }

    #[test]
    fn an_empty_catalog_is_an_error_that_names_the_version_sent() {
        for raw in [
            json!([]),
            json!([{"slug": "x", "visibility": "hide"}]),
            json!([{"slug": "y", "minimal_client_version": "9.0.0"}]),
        ] {
            let e = ModelList::from_models(
                parse_models(raw.as_array().unwrap()),
                ModelSource::Network,
                None,
                V,
            )
            .unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("0.171.0") && text.contains("codex_version"),
                "{text}"
            );
        }
    }

    #[test]
    fn the_cache_round_trips_and_a_corrupt_one_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.json");
        assert!(ModelCache::read(&path).is_none());
        let c = ModelCache {
            etag: Some("\"v1\"".into()),
            fetched_at: Utc::now(),
            client_version: V.into(),
            models: raw(),
        };
        c.write(&path).unwrap();
        let back = ModelCache::read(&path).unwrap();
        assert_eq!(back.etag.as_deref(), Some("\"v1\""));
        assert_eq!(
            back.list(ModelSource::Cache, V).unwrap().default_model,
            "gpt-6.2-sol"
        );
        std::fs::write(&path, b"{not json").unwrap();
        assert!(ModelCache::read(&path).is_none());
    }
}
