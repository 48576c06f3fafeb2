//! Property tests of every parser that reads untrusted input: whatever the bytes, an error or a
//! value, never a panic; and what we write, we read back the same.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use codex_oauth_core::store::{AuthRecord, State};
use codex_oauth_core::{Secret, Settings, claims};
use proptest::prelude::*;

fn jwt_of(payload: &[u8]) -> String {
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(b"{\"alg\":\"none\"}"),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn claims_decoding_never_panics_on_any_text(s in ".{0,400}") {
        let _ = claims::decode(&s);
    }

    #[test]
    fn claims_decoding_never_panics_on_any_payload_bytes(p in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = claims::decode(&jwt_of(&p));
    }

    #[test]
    fn claims_come_back_as_encoded(email in "[a-z]{1,12}@[a-z]{1,8}\\.com", acc in "[a-zA-Z0-9-]{1,20}", exp in 0i64..4_000_000_000) {
        let payload = serde_json::json!({"email": email, "exp": exp, "https://api.openai.com/auth": {"chatgpt_account_id": acc}});
        let c = claims::decode(&jwt_of(payload.to_string().as_bytes())).unwrap();
        prop_assert_eq!(c.email.as_deref(), Some(email.as_str()));
        prop_assert_eq!(c.account_id.as_deref(), Some(acc.as_str()));
        prop_assert_eq!(c.expires_at.unwrap().timestamp(), exp);
    }

    #[test]
    fn credential_record_parsing_never_panics(b in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = AuthRecord::from_json(&b);
    }

    #[test]
    fn credential_record_parsing_never_panics_on_json_shaped_input(s in r#"\{("(auth_mode|tokens|OPENAI_API_KEY|last_refresh|id_token)":(null|"[a-z]{0,5}"|\{\}|\[\]|[0-9]{1,3}),?){0,5}\}"#) {
        let _ = AuthRecord::from_json(s.as_bytes());
    }

    #[test]
    fn records_round_trip(a in "[A-Za-z0-9._-]{1,200}", r in "[A-Za-z0-9_-]{1,80}", key in proptest::option::of("sk-[a-z0-9]{1,30}")) {
        let rec = AuthRecord::from_tokens(Secret::new(jwt_of(b"{}")), Secret::new(a), Secret::new(r), key.map(Secret::new));
        let back = AuthRecord::from_json(&rec.to_json().unwrap()).unwrap();
        prop_assert_eq!(back, rec);
    }

    #[test]
    fn state_parsing_never_panics(b in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = serde_json::from_slice::<State>(&b);
    }

    #[test]
    fn config_files_of_any_content_give_settings_or_an_error_naming_the_file(text in ".{0,200}") {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), &text).unwrap();
        let mut env = HashMap::new();
        env.insert("CODEX_OAUTH_HOME".to_string(), dir.path().to_string_lossy().into_owned());
        if let Err(e) = Settings::from_env(&env) {
            prop_assert!(e.to_string().contains("config.toml"), "{}", e);
        }
    }

    #[test]
    fn environment_values_of_any_content_never_panic(key in prop::sample::select(vec![
        "CODEX_OAUTH_STORE", "CODEX_OAUTH_PROFILE", "CODEX_OAUTH_ISSUER", "CODEX_OAUTH_CLIENT_ID",
        "CODEX_OAUTH_API_BASE", "CODEX_OAUTH_CALLBACK_PORT", "CODEX_OAUTH_NO_BROWSER"]), value in ".{0,80}") {
        let dir = tempfile::tempdir().unwrap();
        let mut env = HashMap::new();
        env.insert("CODEX_OAUTH_HOME".to_string(), dir.path().to_string_lossy().into_owned());
        env.insert(key.to_string(), value);
        if let Err(e) = Settings::from_env(&env) {
            prop_assert!(e.to_string().contains(key), "{}", e);
        }
    }
}
