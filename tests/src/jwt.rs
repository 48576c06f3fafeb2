//! Tokens the fake issues: JWTs shaped like OpenAI's (claims as PROTOCOL.md §4), signed with
//! random bytes (clients decode claims without verifying, like the Codex CLI), and opaque
//! refresh tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::{Value, json};

use crate::FakeConfig;

/// A random URL-safe string with `bytes` bytes of entropy.
pub fn random(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

fn encode(claims: &Value) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "fake-openai"});
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        random(64)
    )
}

fn auth_claims(cfg: &FakeConfig) -> Value {
    json!({
        "chatgpt_account_id": cfg.account_id,
        "chatgpt_plan_type": cfg.plan,
        "chatgpt_user_id": cfg.user_id,
        "user_id": cfg.user_id,
        "organization_id": "org-fake",
        "chatgpt_account_is_fedramp": cfg.fedramp,
    })
}

pub fn id_token(cfg: &FakeConfig, issuer: &str, now: i64) -> String {
    encode(&json!({
        "iss": issuer,
        "aud": [cfg.client_id],
        "sub": format!("auth0|{}", cfg.user_id),
        "email": cfg.email,
        "email_verified": true,
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        "jti": uuid::Uuid::new_v4().to_string(),
        "https://api.openai.com/auth": auth_claims(cfg),
        "https://api.openai.com/profile": {"email": cfg.email, "email_verified": true},
    }))
}

pub fn access_token(cfg: &FakeConfig, issuer: &str, now: i64, ttl: i64) -> String {
    encode(&json!({
        "iss": issuer,
        "aud": ["https://api.openai.com/v1"],
        "client_id": cfg.client_id,
        "sub": format!("auth0|{}", cfg.user_id),
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": uuid::Uuid::new_v4().to_string(),
        "scp": ["openid", "profile", "email", "offline_access"],
        "https://api.openai.com/auth": auth_claims(cfg),
        "https://api.openai.com/profile": {"email": cfg.email, "email_verified": true},
    }))
}

/// An access token that is not a JWT (as many OAuth servers issue): its lifetime is known only from
/// the token answer's `expires_in`.
pub fn opaque_access_token() -> String {
    format!("at_{}", random(48))
}

pub fn refresh_token() -> String {
    format!("rt_{}", random(48))
}
