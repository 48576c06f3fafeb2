//! JWT claim decoding (`claims::decode`, `decode_payload`, `expiry`) on any text, and on tokens
//! whose payload segment is any bytes (so the fuzzer explores JSON, not base64).
//!
//! Beyond "no panic": decode agrees with decode_payload and expiry; the claims read are the ones in
//! the payload; a padded payload reads the same; claims survive a JSON round trip; an error never
//! quotes the token's payload or signature.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use codex_oauth_core::claims;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const AUTH: &str = "https://api.openai.com/auth";

/// A part that looks like a real token segment: 8 or more base64url characters mixing digits,
/// capitals and small letters. (Plain words are left out: the fixed wording of the messages,
/// "malformed token: expected three dot-separated parts", may hold any word the fuzzer tries.)
fn looks_secret(part: &str) -> bool {
    part.len() >= 8
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && part.bytes().any(|b| b.is_ascii_digit())
        && part.bytes().any(|b| b.is_ascii_uppercase())
        && part.bytes().any(|b| b.is_ascii_lowercase())
}

fn check(jwt: &str) {
    let decoded = claims::decode(jwt);
    let payload = claims::decode_payload(jwt);
    match (&decoded, &payload) {
        (Ok(c), Ok(p)) => {
            let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
            let auth = p.get(AUTH);
            assert_eq!(
                c.account_id,
                s(auth.and_then(|a| a.get("chatgpt_account_id")))
            );
            assert_eq!(c.plan, s(auth.and_then(|a| a.get("chatgpt_plan_type"))));
            if let Some(email) = s(p.get("email")) {
                assert_eq!(c.email.as_deref(), Some(email.as_str()));
            }
            match c.expires_at {
                Some(t) => assert_eq!(claims::expiry(jwt).ok(), Some(t)),
                None => assert!(claims::expiry(jwt).is_err()),
            }
            let json = serde_json::to_string(c).expect("claims serialize");
            let back: claims::Claims = serde_json::from_str(&json).expect("claims read back");
            assert_eq!(&back, c);
        }
        (Err(e), _) => {
            assert!(matches!(e, codex_oauth_core::Error::Jwt(_)), "{e}");
            let msg = e.to_string();
            for part in jwt.split('.').skip(1).filter(|p| looks_secret(p)) {
                assert!(!msg.contains(part), "the error quotes the token: {msg}");
            }
        }
        (Ok(_), Err(e)) => panic!("claims decoded from a payload that does not decode: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        // Any text as a token.
        let text = String::from_utf8_lossy(rest);
        check(&text);
    } else {
        // A well-formed token around any payload bytes, unpadded and padded.
        let p = URL_SAFE_NO_PAD.encode(rest);
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{p}.c2lnbmF0dXJlLXNpZ25hdHVyZQ");
        check(&jwt);
        let pad = "=".repeat((4 - p.len() % 4) % 4);
        let padded = format!("eyJhbGciOiJSUzI1NiJ9.{p}{pad}.c2lnbmF0dXJlLXNpZ25hdHVyZQ");
        assert_eq!(
            claims::decode(&jwt).ok(),
            claims::decode(&padded).ok(),
            "padding changed the claims"
        );
    }
});
