//! What we read from the id and access tokens (PROTOCOL.md §4). The signature is not checked
//! (the tokens come straight from the issuer over TLS, and the backend checks them); a malformed
//! token is a typed error, never a panic.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::lenient::Lenient;

/// A JWT larger than this is not one of ours.
const MAX_JWT_LEN: usize = 64 * 1024;

/// The claims this project uses. Unknown plan strings are kept as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub email: Option<String>,
    pub account_id: Option<String>,
    pub plan: Option<String>,
    pub user_id: Option<String>,
    pub organization_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// `chatgpt_account_is_fedramp`: backend calls then carry `X-OpenAI-Fedramp: true`.
    #[serde(default)]
    pub fedramp: bool,
}

/// Decode the payload of a JWT (header.payload.signature) into JSON.
pub fn decode_payload(jwt: &str) -> Result<Value> {
    if jwt.len() > MAX_JWT_LEN {
        return Err(Error::Jwt(format!("token is {} bytes long", jwt.len())));
    }
    let mut parts = jwt.split('.');
    let (Some(header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Jwt("expected three dot-separated parts".into()));
    };
    if header.is_empty() || payload.is_empty() {
        return Err(Error::Jwt("empty header or payload".into()));
    }
    // Some issuers pad; accept both.
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| Error::Jwt(format!("payload is not base64url: {e}")))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Jwt(format!("payload is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::Jwt("payload is not a JSON object".into()));
    }
    Ok(value)
}

/// The payload fields we read; anything else is ignored, a field of another shape is absent.
#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    email: Lenient<String>,
    #[serde(default, rename = "https://api.openai.com/profile")]
    profile: Lenient<ProfileClaim>,
    #[serde(default, rename = "https://api.openai.com/auth")]
    auth: Lenient<AuthClaim>,
    /// Kept as written: a non-number is an error, not an absent expiry.
    #[serde(default)]
    exp: Option<Value>,
}

#[derive(Deserialize)]
struct ProfileClaim {
    #[serde(default)]
    email: Lenient<String>,
}

#[derive(Default, Deserialize)]
struct AuthClaim {
    #[serde(default)]
    chatgpt_account_id: Lenient<String>,
    #[serde(default)]
    chatgpt_plan_type: Lenient<String>,
    #[serde(default)]
    chatgpt_user_id: Lenient<String>,
    #[serde(default)]
    user_id: Lenient<String>,
    #[serde(default)]
    organization_id: Lenient<String>,
    #[serde(default)]
    chatgpt_account_is_fedramp: Lenient<bool>,
}

/// The claims of a token (id token or access token).
pub fn decode(jwt: &str) -> Result<Claims> {
    let payload = Payload::deserialize(decode_payload(jwt)?)
        .map_err(|e| Error::Jwt(format!("unreadable payload: {e}")))?;
    let expires_at = match payload.exp {
        None | Some(Value::Null) => None,
        Some(v) => {
            let secs = v
                .as_i64()
                .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                .ok_or_else(|| Error::Jwt("`exp` is not a number".into()))?;
            Some(
                DateTime::from_timestamp(secs, 0)
                    .ok_or_else(|| Error::Jwt("`exp` is out of range".into()))?,
            )
        }
    };
    let auth = payload.auth.into_inner().unwrap_or_default();
    Ok(Claims {
        email: payload
            .email
            .into_inner()
            .or_else(|| payload.profile.into_inner()?.email.into_inner()),
        account_id: auth.chatgpt_account_id.into_inner(),
        plan: auth.chatgpt_plan_type.into_inner(),
        user_id: auth
            .chatgpt_user_id
            .into_inner()
            .or(auth.user_id.into_inner()),
        organization_id: auth.organization_id.into_inner(),
        expires_at,
        fedramp: auth
            .chatgpt_account_is_fedramp
            .into_inner()
            .unwrap_or(false),
    })
}

/// The expiry of an access token, which drives refresh.
pub fn expiry(jwt: &str) -> Result<DateTime<Utc>> {
    decode(jwt)?
        .expires_at
        .ok_or_else(|| Error::Jwt("the access token has no `exp` claim".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH_CLAIM: &str = "https://api.openai.com/auth";
    const PROFILE_CLAIM: &str = "https://api.openai.com/profile";
    use serde_json::json;

    fn jwt(payload: &Value) -> String {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap());
        format!("{h}.{p}.sig")
    }

    #[test]
    fn reads_email_account_plan_user_and_expiry() {
        let t = jwt(&json!({
            "email": "ada@example.com",
            "exp": 1_900_000_000,
            AUTH_CLAIM: {"chatgpt_account_id": "acc-1", "chatgpt_plan_type": "pro", "chatgpt_user_id": "u-1", "organization_id": "org-1"}
        }));
        let c = decode(&t).unwrap();
        assert_eq!(c.email.as_deref(), Some("ada@example.com"));
        assert_eq!(c.account_id.as_deref(), Some("acc-1"));
        assert_eq!(c.plan.as_deref(), Some("pro"));
        assert_eq!(c.user_id.as_deref(), Some("u-1"));
        assert_eq!(c.organization_id.as_deref(), Some("org-1"));
        assert_eq!(c.expires_at.unwrap().timestamp(), 1_900_000_000);
    }

    #[test]
    fn email_falls_back_to_the_profile_claim_and_unknown_plans_are_kept() {
        let t = jwt(
            &json!({PROFILE_CLAIM: {"email": "b@example.com"}, AUTH_CLAIM: {"chatgpt_plan_type": "galaxy"}}),
        );
        let c = decode(&t).unwrap();
        assert_eq!(c.email.as_deref(), Some("b@example.com"));
        assert_eq!(c.plan.as_deref(), Some("galaxy"));
        assert!(c.expires_at.is_none());
        assert!(expiry(&t).is_err());
    }

    #[test]
    fn malformed_tokens_are_errors_not_panics() {
        let long = "a".repeat(MAX_JWT_LEN + 1);
        for bad in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "..",
            "x.!!!.y",
            &long,
            &format!("h.{}.s", URL_SAFE_NO_PAD.encode(b"not json")),
            &format!("h.{}.s", URL_SAFE_NO_PAD.encode(b"[1,2]")),
            &format!("h.{}.s", URL_SAFE_NO_PAD.encode(br#"{"exp":"soon"}"#)),
            &format!("h.{}.s", URL_SAFE_NO_PAD.encode(br#"{"exp":1e300}"#)),
        ] {
            assert!(matches!(decode(bad), Err(Error::Jwt(_))), "{bad:?}");
        }
    }
}
