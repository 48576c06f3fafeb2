//! Hostile input to the real bridge gets an answer and bounded resources: a request line over the
//! transport's limit.

use serde_json::{Value, json};

use crate::bridge_faults::Raw;
use crate::support::*;

/// rmcp's (and so the bridge's) limit on one message line, its newline included.
const LINE_LIMIT: usize = 16 * 1024 * 1024;

/// A `tools/call` of `codex_query` whose line (its newline included) is exactly `len` bytes, with
/// `id` (if any) after the arguments, where only a scan of the whole line finds it.
fn call_line_of(len: usize, id: Option<i64>) -> String {
    let head = r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"codex_query","arguments":{"prompt":""#;
    let tail = match id {
        Some(id) => format!(r#""}}}},"id":{id}}}"#),
        None => r#""}}}"#.to_owned(),
    };
    let pad = len - 1 - head.len() - tail.len();
    let line = format!("{head}{}{tail}", "x".repeat(pad));
    assert_eq!(line.len() + 1, len);
    serde_json::from_str::<Value>(&line).expect("the line is valid JSON");
    line
}

#[tokio::test]
async fn a_request_line_over_the_transport_limit_is_answered_with_the_limit_and_the_next_is_served()
{
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let mut b = Raw::spawn(&home);

    // 20 MB, the id at the very end: an error that names the limit, for that id.
    b.send_line(&call_line_of(20_000_000, Some(41)));
    let a = b.answer(41);
    assert_eq!(a["error"]["code"], -32600, "{a}");
    assert_eq!(a["error"]["data"]["limit_bytes"], LINE_LIMIT, "{a}");
    assert_eq!(a["error"]["data"]["bytes"], 20_000_000 - 1, "{a}");
    let message = a["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("over the limit of 16777216 bytes (16 MiB)"),
        "{message}"
    );
    // The next request is served.
    b.send_line(&json!({"jsonrpc": "2.0", "id": 42, "method": "tools/list"}).to_string());
    let a = b.answer(42);
    assert!(!a["result"]["tools"].as_array().unwrap().is_empty(), "{a}");

    // Without an id anywhere in it: answered with a null id.
    b.send_line(&call_line_of(LINE_LIMIT + 1000, None));
    let a = b.next();
    assert!(a.get("id").is_some_and(Value::is_null), "{a}");
    assert_eq!(a["error"]["code"], -32600, "{a}");

    // At the limit exactly, the line is read and the tool answers (a prompt over 4 MB is
    // refused); one byte more, and the transport's error answers instead: prompts over 4 MB are
    // refused at every size.
    b.send_line(&call_line_of(LINE_LIMIT, Some(43)));
    let a = b.answer(43);
    assert_eq!(a["result"]["isError"], true, "{a}");
    assert_eq!(a["result"]["structuredContent"]["kind"], "prompt_too_large");
    b.send_line(&call_line_of(LINE_LIMIT + 1, Some(44)));
    let a = b.answer(44);
    assert_eq!(a["error"]["data"]["bytes"], LINE_LIMIT, "{a}");
    b.send_line(&json!({"jsonrpc": "2.0", "id": 45, "method": "tools/list"}).to_string());
    assert!(b.answer(45).get("result").is_some());

    assert_eq!(fake.stats().responses, 0, "nothing reached the backend");
    let (code, err) = b.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
