//! The credential record (`AuthRecord::from_json`, the Codex CLI `auth.json` schema) on any bytes.
//!
//! Beyond "no panic": a record that parses is valid, writes out and reads back equal, and writes
//! out the same bytes the second time (unknown fields kept); reading its claims never panics;
//! `Debug` never shows a token; a refusal never quotes a token-looking string of the input.
#![no_main]

use codex_oauth_core::store::AuthRecord;
use libfuzzer_sys::fuzz_target;

/// Runs of token characters in the input that look like a token: a JWT, an API key or a refresh
/// token, at least 12 characters long.
fn token_like(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .filter(|w| w.len() >= 12)
        .filter(|w| w.starts_with("eyJ") || w.starts_with("sk-") || w.starts_with("rt_"))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    match AuthRecord::from_json(data) {
        Ok(rec) => {
            rec.validate().expect("a parsed record is valid");
            let _ = rec.claims();
            let _ = rec.account_id();
            let json = rec.to_json().expect("a parsed record writes out");
            let back = AuthRecord::from_json(&json).expect("what we write, we read");
            assert_eq!(back, rec);
            assert_eq!(back.to_json().expect("writes out"), json, "not stable");
            let dbg = format!("{rec:?}");
            if let Some(t) = &rec.tokens {
                let visible = format!(
                    "{:?} {:?}",
                    t.account_id,
                    rec.extra.keys().chain(t.extra.keys()).collect::<Vec<_>>()
                );
                for s in [&t.id_token, &t.access_token, &t.refresh_token] {
                    let s = s.expose();
                    assert!(
                        s.len() < 8 || visible.contains(s) || !dbg.contains(s),
                        "Debug shows a token: {dbg}"
                    );
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for t in token_like(&String::from_utf8_lossy(data)) {
                assert!(!msg.contains(t), "the error quotes a token: {msg}");
            }
        }
    }
});
