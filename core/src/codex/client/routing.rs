//! Workspace routing: which backend origin and routing override an account's requests go to
//! (PROTOCOL.md §6, `accounts/check`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::{CodexClient, JSON_BODY_MAX, WHAT};
use crate::codex::workspace::parse_accounts_check;
use crate::config::ORIGINATOR;
use crate::error::{Error, Result};
use crate::model::Workspace;
use crate::oauth::network;
use crate::session::AccessToken;

/// How long a failed `accounts/check` is not asked again.
const ROUTING_RETRY: Duration = Duration::from_secs(5 * 60);

impl CodexClient {
    /// The routing of the token's workspace: from memory, else state.json, else asked once of
    /// `accounts/check` and kept in state.json. A failure to ask routes nowhere special, and is
    /// not asked again for `ROUTING_RETRY` (a network that blocks the endpoint must not cost
    /// every request a timeout).
    pub(super) async fn workspace(&self, token: &AccessToken) -> Option<Workspace> {
        let account = token.account_id.clone()?;
        let mut memo = self.workspace.lock().await;
        if let Some(w) = memo.as_ref().filter(|w| w.account_id == account) {
            return Some(w.clone());
        }
        let failed_lately = self
            .routing_failed
            .lock()
            .ok()
            .and_then(|f| f.clone())
            .is_some_and(|(a, at)| a == account && at.elapsed() < ROUTING_RETRY);
        if failed_lately {
            return None;
        }
        let store = Arc::clone(self.session.store());
        let kept = tokio::task::spawn_blocking(move || store.state().workspace)
            .await
            .ok()
            .flatten()
            .filter(|w| w.account_id == account);
        if let Some(w) = kept {
            *memo = Some(w.clone());
            return Some(w);
        }
        let found = self.accounts_check(token, &account).await.map(|ws| {
            ws.into_iter()
                .find(|w| w.account_id == account)
                .unwrap_or(Workspace {
                    account_id: account.clone(),
                    name: None,
                    plan_type: None,
                    structure: None,
                    backend_origin: None,
                    routing_override: None,
                    checked_at: Utc::now(),
                })
        });
        let w = match found {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the workspace routing; using the default backend");
                if let Ok(mut f) = self.routing_failed.lock() {
                    *f = Some((account, Instant::now()));
                }
                return None;
            }
        };
        *memo = Some(w.clone());
        let store = Arc::clone(self.session.store());
        let keep = w.clone();
        let saved = async move {
            let guard = store.lock_async().await?;
            tokio::task::spawn_blocking(move || {
                store.update_state(&guard, |s| s.workspace = Some(keep))
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
        };
        if let Err(e) = saved.await {
            tracing::warn!(error = %e, "cannot record the workspace routing");
        }
        Some(w)
    }

    /// Every workspace the signed-in account can use (`accounts/check`, asked now), in the
    /// order the server lists them; none for an API key (its token names no account).
    pub async fn workspaces(&self) -> Result<Vec<Workspace>> {
        let token = self.session.access_token_for_a_moment().await?;
        let Some(account) = token.account_id.clone() else {
            return Ok(Vec::new());
        };
        self.accounts_check(&token, &account).await
    }

    /// `GET accounts/check` with the token, for `account`.
    async fn accounts_check(&self, token: &AccessToken, account: &str) -> Result<Vec<Workspace>> {
        let mut req = crate::http::client()?
            .get(self.session.settings().accounts_check_url())
            .timeout(self.options.request_timeout)
            .bearer_auth(token.token.expose())
            .header("originator", ORIGINATOR)
            .header("version", &self.session.settings().codex_version)
            .header("ChatGPT-Account-ID", account);
        if token.fedramp {
            req = req.header("X-OpenAI-Fedramp", "true");
        }
        let asked = req.send().await;
        match asked {
            Ok(resp) if resp.status().is_success() => {
                let body = self.read_body(resp, JSON_BODY_MAX).await?;
                parse_accounts_check(&body)
            }
            Ok(resp) => Err(Error::Backend {
                status: resp.status().as_u16(),
                message: "accounts/check".into(),
            }),
            Err(e) => Err(network(WHAT, &e)),
        }
    }
}
