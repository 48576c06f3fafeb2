//! The model catalog: asked with the client version, revalidated with the cached ETag, kept on
//! disk, and the cache when the network fails (PROTOCOL.md §6).

use std::time::Instant;

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::ETAG;
use serde::Deserialize;
use serde_json::Value;

use super::{API_KEY_DEFAULT_MODEL, CodexClient, JSON_BODY_MAX};
use crate::codex::models::{Model, ModelCache, ModelList, ModelSource};
use crate::error::{Error, Result};
use crate::store::{AuthMode, layout};

/// The answer of `GET models`: `{"models": [...]}`. Each entry is kept as the backend wrote it
/// (the cache stores it so), and read into a [`Model`] by the catalog.
#[derive(Deserialize)]
struct ModelsAnswer {
    models: Vec<Value>,
}

impl CodexClient {
    /// The model catalog: fetched (revalidated with the cached ETag), else the cache.
    pub async fn models(&self) -> Result<ModelList> {
        let mut memo = self.models.lock().await;
        let list = self.fetch_models().await?;
        *memo = Some((Instant::now(), list.clone()));
        Ok(list)
    }

    /// The catalog entry of `slug` (listed or hidden), or of the default model when `None`, from
    /// a catalog at most `models_ttl` old; a slug it lacks is looked up once more in a fresh
    /// catalog, then refused with the slugs that can be used.
    pub async fn model(&self, slug: Option<&str>) -> Result<Model> {
        let slug = slug.map(str::trim).filter(|s| !s.is_empty());
        let mut memo = self.models.lock().await;
        let fresh_enough = memo
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < self.options.models_ttl);
        if !fresh_enough {
            let list = self.fetch_models().await?;
            *memo = Some((Instant::now(), list));
        }
        for attempt in 0..2 {
            let Some((_, list)) = memo.as_ref() else {
                break;
            };
            if list.source == ModelSource::ApiKey {
                return Ok(Model::bare(slug.unwrap_or(&list.default_model)));
            }
            let found = match slug {
                Some(s) => list.get(s),
                None => list.default(),
            };
            if let Some(m) = found {
                return Ok(m.clone());
            }
            if attempt == 0 && fresh_enough {
                let list = self.fetch_models().await?;
                *memo = Some((Instant::now(), list));
            } else {
                return Err(Error::UnknownModel {
                    model: slug.unwrap_or_default().to_owned(),
                    available: list.slugs(),
                });
            }
        }
        Err(Error::UnknownModel {
            model: slug.unwrap_or_default().to_owned(),
            available: Vec::new(),
        })
    }

    async fn fetch_models(&self) -> Result<ModelList> {
        let settings = self.session.settings();
        let version = settings.codex_version.clone();
        let path = layout::catalog_file(&settings.profile_dir());
        let p = path.clone();
        let cache = tokio::task::spawn_blocking(move || ModelCache::read(&p))
            .await
            .ok()
            .flatten();
        let token = match self.session.access_token().await {
            Ok(t) => t,
            Err(e) => return stale(cache, e, &version),
        };
        if token.mode == AuthMode::ApiKey {
            return Ok(ModelList::api_key(API_KEY_DEFAULT_MODEL, &version));
        }
        let mut url = settings.models_url();
        url.query_pairs_mut()
            .append_pair("client_version", &version);
        // A cache asked for another client version is not revalidated: its ETag is not ours.
        let etag = cache
            .as_ref()
            .filter(|c| c.client_version == version)
            .and_then(|c| c.etag.clone());
        let resp = match self.get(token, url, etag.as_deref()).await {
            Ok(r) => r,
            Err(e) => return stale(cache, e, &version),
        };
        if resp.status() == StatusCode::NOT_MODIFIED {
            if let Some(c) = cache {
                return c.list(ModelSource::Revalidated, &version);
            }
            return Err(Error::BadResponse {
                what: "the Codex models endpoint".into(),
                detail: "it answered 304 Not Modified to a request without a cached catalog".into(),
            });
        }
        let new_etag = resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = match self.read_body(resp, JSON_BODY_MAX).await {
            Ok(b) => b,
            Err(e) => return stale(cache, e, &version),
        };
        let models = match serde_json::from_slice::<ModelsAnswer>(&body) {
            Ok(a) => a.models,
            Err(_) => {
                let e = Error::BadResponse {
                    what: "the Codex models endpoint".into(),
                    detail: "the answer has no `models` list".into(),
                };
                return stale(cache, e, &version);
            }
        };
        let fresh = ModelCache {
            etag: new_etag,
            fetched_at: Utc::now(),
            client_version: version.clone(),
            models,
        };
        let list = match fresh.list(ModelSource::Network, &version) {
            Ok(l) => l,
            // An empty catalog: the cache, when it has models, else the error.
            Err(e) => return stale(cache, e, &version),
        };
        let write = tokio::task::spawn_blocking(move || fresh.write(&path)).await;
        match write {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot write the model cache"),
            Err(e) => tracing::warn!(error = %e, "cannot write the model cache"),
        }
        Ok(list)
    }
}

/// The cached catalog (saying why it is not fresh), else the error.
fn stale(cache: Option<ModelCache>, error: Error, version: &str) -> Result<ModelList> {
    match cache.map(|c| c.list(ModelSource::Cache, version)) {
        Some(Ok(mut list)) => {
            list.note = Some(format!("could not refresh the model catalog: {error}"));
            Ok(list)
        }
        _ => Err(error),
    }
}
