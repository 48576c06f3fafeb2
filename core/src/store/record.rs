//! The credential record: the Codex CLI `auth.json` schema (PROTOCOL.md §5), so our files and the
//! Codex CLI's are interchangeable. Fields we do not know are kept as they are.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::claims;
use crate::error::{Error, Result, json_problem};
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    #[serde(rename = "chatgpt")]
    ChatGpt,
    #[serde(rename = "apikey")]
    ApiKey,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenData {
    pub id_token: Secret,
    pub access_token: Secret,
    pub refresh_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<AuthMode>,
    #[serde(rename = "OPENAI_API_KEY", default)]
    pub openai_api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// When the access token expires, for a server whose access tokens are opaque (not JWTs with
    /// `exp`): from the token answer's `expires_in`. Not part of the Codex CLI schema, so it is
    /// kept as `state.json`'s `expires_at`, valid while that file's `last_refresh` is this record's.
    #[serde(skip)]
    pub access_expires_hint: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for TokenData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenData")
            .field("id_token", &self.id_token)
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("account_id", &self.account_id)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl std::fmt::Debug for AuthRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRecord")
            .field("auth_mode", &self.auth_mode)
            .field("openai_api_key", &self.openai_api_key)
            .field("tokens", &self.tokens)
            .field("last_refresh", &self.last_refresh)
            .field("access_expires_hint", &self.access_expires_hint)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl AuthRecord {
    /// A ChatGPT sign-in. The account id comes from the id token (else the access token).
    pub fn from_tokens(
        id_token: Secret,
        access_token: Secret,
        refresh_token: Secret,
        api_key: Option<Secret>,
    ) -> Self {
        let account_id = claims::decode(id_token.expose())
            .ok()
            .and_then(|c| c.account_id)
            .or_else(|| {
                claims::decode(access_token.expose())
                    .ok()
                    .and_then(|c| c.account_id)
            });
        AuthRecord {
            auth_mode: Some(AuthMode::ChatGpt),
            openai_api_key: api_key,
            tokens: Some(TokenData {
                id_token,
                access_token,
                refresh_token,
                account_id,
                extra: Map::new(),
            }),
            last_refresh: Some(Utc::now()),
            extra: Map::new(),
            access_expires_hint: None,
        }
    }

    /// An API-key record (`auth_mode: apikey`).
    pub fn from_api_key(key: Secret) -> Self {
        AuthRecord {
            auth_mode: Some(AuthMode::ApiKey),
            openai_api_key: Some(key),
            tokens: None,
            last_refresh: None,
            extra: Map::new(),
            access_expires_hint: None,
        }
    }

    /// Until when the access token is good: its JWT `exp`, else what the token answer said
    /// (`access_expires_hint`), else unknown (the session then refreshes rather than guess).
    pub fn access_expiry(&self) -> Option<DateTime<Utc>> {
        let t = self.tokens.as_ref()?;
        claims::expiry(t.access_token.expose())
            .ok()
            .or(self.access_expires_hint)
    }

    /// Record the token answer's `expires_in` (seconds from `last_refresh`) for an access token
    /// that carries no readable `exp`; a JWT's own `exp` always wins.
    pub fn set_expires_in(&mut self, expires_in: Option<u64>) {
        let opaque = self
            .tokens
            .as_ref()
            .is_some_and(|t| claims::expiry(t.access_token.expose()).is_err());
        self.access_expires_hint = match (opaque, expires_in, self.last_refresh) {
            (true, Some(secs), Some(from)) => i64::try_from(secs)
                .ok()
                .and_then(chrono::Duration::try_seconds)
                .and_then(|d| from.checked_add_signed(d)),
            _ => None,
        };
    }

    /// The mode, inferred as the Codex CLI does when the field is missing (older files).
    pub fn mode(&self) -> AuthMode {
        match self.auth_mode {
            Some(m) => m,
            None if self.tokens.is_none() && self.openai_api_key.is_some() => AuthMode::ApiKey,
            None => AuthMode::ChatGpt,
        }
    }

    /// Parse and check that the record can be used.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let rec: AuthRecord = serde_json::from_slice(bytes)
            .map_err(|e| Error::Input(format!("not a credential record: {}", json_problem(&e))))?;
        rec.validate()?;
        Ok(rec)
    }

    pub fn to_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("cannot encode the credential record: {e}")))
    }

    pub fn validate(&self) -> Result<()> {
        match self.mode() {
            AuthMode::ChatGpt => {
                let t = self
                    .tokens
                    .as_ref()
                    .ok_or_else(|| Error::Input("a ChatGPT record without tokens".into()))?;
                if t.access_token.is_empty() || t.refresh_token.is_empty() || t.id_token.is_empty()
                {
                    return Err(Error::Input("a ChatGPT record with an empty token".into()));
                }
                Ok(())
            }
            AuthMode::ApiKey => match &self.openai_api_key {
                Some(k) if !k.is_empty() => Ok(()),
                _ => Err(Error::Input("an API-key record without a key".into())),
            },
        }
    }

    /// Claims of the id token (who), with the access token's expiry (until when).
    pub fn claims(&self) -> claims::Claims {
        let Some(t) = &self.tokens else {
            return claims::Claims::default();
        };
        let mut c = claims::decode(t.id_token.expose()).unwrap_or_default();
        let access = claims::decode(t.access_token.expose()).unwrap_or_default();
        c.expires_at = access.expires_at.or(self.access_expires_hint);
        c.fedramp |= access.fedramp;
        if c.account_id.is_none() {
            c.account_id = t.account_id.clone().or(access.account_id);
        }
        if c.email.is_none() {
            c.email = access.email;
        }
        if c.plan.is_none() {
            c.plan = access.plan;
        }
        c
    }

    /// The account id to send as `ChatGPT-Account-ID`.
    pub fn account_id(&self) -> Option<String> {
        self.tokens
            .as_ref()
            .and_then(|t| t.account_id.clone())
            .or_else(|| self.claims().account_id)
    }

    /// A FedRAMP account (a claim of the id or access token).
    pub fn is_fedramp(&self) -> bool {
        self.claims().fedramp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODEX_FILE: &str = r#"{
  "auth_mode": "chatgpt",
  "OPENAI_API_KEY": null,
  "tokens": {
    "id_token": "h.eyJlbWFpbCI6ImFkYUBleGFtcGxlLmNvbSJ9.s",
    "access_token": "h.eyJleHAiOjE5MDAwMDAwMDB9.s",
    "refresh_token": "rt_abc",
    "account_id": "acc-9"
  },
  "last_refresh": "2026-05-01T12:34:56.789Z",
  "future_field": {"x": 1}
}"#;

    #[test]
    fn reads_a_codex_cli_file_and_writes_it_back_with_unknown_fields_kept() {
        let rec = AuthRecord::from_json(CODEX_FILE.as_bytes()).unwrap();
        assert_eq!(rec.mode(), AuthMode::ChatGpt);
        assert_eq!(rec.account_id().as_deref(), Some("acc-9"));
        assert_eq!(rec.claims().email.as_deref(), Some("ada@example.com"));
        assert_eq!(rec.claims().expires_at.unwrap().timestamp(), 1_900_000_000);
        let out: Value = serde_json::from_slice(&rec.to_json().unwrap()).unwrap();
        let orig: Value = serde_json::from_str(CODEX_FILE).unwrap();
        assert_eq!(out, orig);
    }

    #[test]
    fn api_key_records_are_recognised_with_or_without_auth_mode() {
        let rec = AuthRecord::from_json(br#"{"OPENAI_API_KEY":"sk-proj-123"}"#).unwrap();
        assert_eq!(rec.mode(), AuthMode::ApiKey);
        let rec = AuthRecord::from_api_key(Secret::new("sk-x"));
        let v: Value = serde_json::from_slice(&rec.to_json().unwrap()).unwrap();
        assert_eq!(v["auth_mode"], "apikey");
        assert_eq!(v["OPENAI_API_KEY"], "sk-x");
    }

    #[test]
    fn incomplete_records_are_refused() {
        assert!(AuthRecord::from_json(b"{}").is_err());
        assert!(AuthRecord::from_json(br#"{"auth_mode":"chatgpt","tokens":{"id_token":"","access_token":"a","refresh_token":"r"}}"#).is_err());
        assert!(AuthRecord::from_json(b"[]").is_err());
    }

    #[test]
    fn debug_shows_no_secret() {
        let rec = AuthRecord::from_json(CODEX_FILE.as_bytes()).unwrap();
        let dbg = format!("{rec:?}");
        assert!(!dbg.contains("rt_abc") && !dbg.contains("eyJ"), "{dbg}");
    }
}
