//! The plan's usage and the rate limits every answer carries, noted in state.json when they
//! change.

use std::sync::Arc;

use super::{CodexClient, JSON_BODY_MAX};
use crate::codex::usage::Usage;
use crate::error::{Error, Result};
use crate::model::RateLimits;
use crate::store::AuthMode;

impl CodexClient {
    /// The plan's rate-limit windows and credits (ChatGPT sign-ins only).
    pub async fn usage(&self) -> Result<Usage> {
        let token = self.session.access_token().await?;
        if token.mode == AuthMode::ApiKey {
            return Err(Error::Input(
                "usage limits belong to ChatGPT sign-ins; this profile uses an API key, whose usage is shown on the OpenAI platform's usage page".into(),
            ));
        }
        let url = self.session.settings().usage_url.clone();
        let resp = self.get(token, url, None).await?;
        let body = self.read_body(resp, JSON_BODY_MAX).await?;
        let usage = Usage::parse(&body)?;
        // Asked for on purpose: state.json has the numbers when this returns, so a front end
        // that reloads its status next shows them (the effective remaining) at once.
        if usage.rate_limits.has_data() && self.limits_changed(&usage.rate_limits) {
            write_limits(Arc::clone(self.session.store()), usage.rate_limits.clone()).await;
        }
        Ok(usage)
    }

    /// Note rate limits in state.json when they changed, in the background (never delays an answer).
    pub(super) fn remember_limits(&self, limits: &RateLimits) {
        if !self.limits_changed(limits) {
            return;
        }
        let store = Arc::clone(self.session.store());
        let value = limits.clone();
        tokio::spawn(write_limits(store, value));
    }

    /// Whether `limits` differ from the last ones noted (and note them).
    fn limits_changed(&self, limits: &RateLimits) -> bool {
        let Ok(mut last) = self.last_limits.lock() else {
            return false;
        };
        if last.as_ref().is_some_and(|l| l.same_numbers(limits)) {
            return false;
        }
        *last = Some(limits.clone());
        true
    }
}

/// Write rate limits into state.json under the store lock; a failure is only logged.
async fn write_limits(store: Arc<crate::store::Store>, limits: RateLimits) {
    let guard = match store.lock_async().await {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "cannot record the rate limits");
            return;
        }
    };
    let written = tokio::task::spawn_blocking(move || {
        store.update_state(&guard, |s| s.rate_limits = Some(limits))
    })
    .await;
    if let Ok(Err(e)) = written {
        tracing::warn!(error = %e, "cannot record the rate limits");
    }
}
