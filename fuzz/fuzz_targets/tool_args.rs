//! The MCP tools' argument decoding (`decode_args`, what the `Args<T>` extractor runs) for
//! `codex_query` and `codex_login`, on any JSON text.
//!
//! Beyond "no panic": decoding agrees with plain serde (the path-reporting wrapper changes only
//! the message); decoded arguments are exactly the ones sent; unknown arguments are refused; an
//! error is an `invalid params` error that names the argument; decoding refuses more than plain
//! serde only for a limit the input schema declares.
#![no_main]

use codex_mcp_bridge::server::{LoginArgs, LoginMethod, QueryArgs, decode_args};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const QUERY_KEYS: &[&str] = &[
    "prompt",
    "model",
    "system_prompt",
    "reasoning_effort",
    "conversation_id",
    "max_output_chars",
];

fn opt_str(o: &Map<String, Value>, k: &str) -> Option<String> {
    o.get(k).and_then(Value::as_str).map(str::to_owned)
}

fn check_error(e: &rmcp::ErrorData) {
    assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_PARAMS);
    assert!(e.message.starts_with("invalid argument"), "{}", e.message);
}

/// An error for one of the limits the input schema declares (plain serde does not check them).
fn is_schema_limit(e: &rmcp::ErrorData) -> bool {
    [
        "over the limit of",
        "must not be empty",
        "fewer than",
        "under the least allowed",
        "over the most allowed",
    ]
    .iter()
    .any(|p| e.message.contains(p))
}

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let plain_query = serde_json::from_value::<QueryArgs>(Value::Object(obj.clone()));
    match decode_args::<QueryArgs>(Some(obj.clone())) {
        Ok(a) => {
            assert!(plain_query.is_ok());
            assert!(
                obj.keys().all(|k| QUERY_KEYS.contains(&k.as_str())),
                "{obj:?}"
            );
            assert_eq!(Some(a.prompt), opt_str(&obj, "prompt"));
            assert_eq!(a.model, opt_str(&obj, "model"));
            assert_eq!(a.system_prompt, opt_str(&obj, "system_prompt"));
            assert_eq!(a.conversation_id, opt_str(&obj, "conversation_id"));
            assert_eq!(a.reasoning_effort, opt_str(&obj, "reasoning_effort"));
            assert_eq!(
                a.max_output_chars.map(u64::from),
                obj.get("max_output_chars").and_then(Value::as_u64)
            );
        }
        Err(e) => {
            assert!(plain_query.is_err() || is_schema_limit(&e), "{}", e.message);
            check_error(&e);
        }
    }
    let plain_login = serde_json::from_value::<LoginArgs>(Value::Object(obj.clone()));
    match decode_args::<LoginArgs>(Some(obj.clone())) {
        Ok(a) => {
            assert!(plain_login.is_ok());
            let expected = match obj.get("method").and_then(Value::as_str) {
                Some("device") => LoginMethod::Device,
                _ => LoginMethod::Browser,
            };
            assert_eq!(a.method, expected);
        }
        Err(e) => {
            assert!(plain_login.is_err() || is_schema_limit(&e), "{}", e.message);
            check_error(&e);
        }
    }
});
