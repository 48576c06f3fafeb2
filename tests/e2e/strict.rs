//! fake-openai fails on what it did not expect: a path or method no route serves, a request a
//! handler cannot make sense of. Each is answered as the real server would and kept (method,
//! path, reason; no header value, no body), and a test that leaves one fails.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use fake_openai::Faults;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn a_path_no_route_serves_is_answered_404_and_kept_without_its_secrets() {
    let fake = fake().await;
    let r = reqwest::Client::new()
        .get(format!(
            "{}/backend-api/codex/nope?code=query-SECRET",
            fake.base_url()
        ))
        .header("authorization", "Bearer header-SECRET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"detail": "Not Found"})
    );
    let seen = fake.unexpected();
    assert_eq!(
        seen,
        ["GET /backend-api/codex/nope: no route of the backend serves this path"]
    );
    assert!(
        seen.iter().all(|l| !l.contains("SECRET")),
        "no query, header value or body is kept: {seen:?}"
    );
    assert!(fake.requests().is_empty(), "not a request of the protocol");
    // This test sent it on purpose: it takes the record, and the drop finds it empty.
    assert_eq!(fake.take_unexpected(), seen);
    assert!(fake.unexpected().is_empty());
    fake.assert_no_unexpected();
}

#[tokio::test]
async fn a_method_a_route_does_not_take_is_answered_405_and_kept() {
    let fake = fake().await;
    let r = reqwest::get(format!("{}/oauth/token", fake.issuer()))
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        fake.take_unexpected(),
        ["GET /oauth/token: the issuer serves this path, not with GET"]
    );
}

#[tokio::test]
async fn a_get_of_responses_that_is_no_websocket_handshake_is_kept() {
    let fake = fake().await;
    let r = reqwest::get(format!("{}/responses", fake.api_base()))
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        fake.take_unexpected(),
        [
            "GET /backend-api/codex/responses: a GET that is not a websocket handshake (responses are POSTed)"
        ]
    );
}

#[tokio::test]
async fn a_fault_with_a_misspelt_field_is_refused_and_kept_not_taken_for_no_fault() {
    let fake = fake().await;
    let r = reqwest::Client::new()
        .put(format!("{}/_fake/faults", fake.base_url()))
        .json(&json!({"token_dely_ms": 400}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(
        r.text().await.unwrap().contains("token_dely_ms"),
        "the answer names the field"
    );
    assert_eq!(fake.faults(), Faults::default());
    assert_eq!(
        fake.take_unexpected(),
        ["PUT /_fake/faults: the body does not have the expected fields (see the answer)"]
    );
}

#[tokio::test]
async fn dropping_a_fake_that_holds_an_unexpected_request_fails_the_test() {
    let fake = fake().await;
    let r = reqwest::get(format!("{}/backend-api/wham/nope", fake.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(fake)));
    let payload = dropped.expect_err("the drop must fail the test");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("GET /backend-api/wham/nope: no route of the backend serves this path")
            && message.contains("take_unexpected"),
        "{message}"
    );
}

/// The standalone binary (the tray suite's, the benchmarks'): `GET /_fake/unexpected` reads the
/// record, `DELETE` takes it; one left at exit is printed and the exit code says so.
#[tokio::test]
async fn the_fake_openai_binary_keeps_the_record_at_its_control_endpoint() {
    let mut child = Command::new(own_bin("fake-openai"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let urls: Value = serde_json::from_str(&line).unwrap();
    let base = urls["base_url"].as_str().unwrap().to_owned();
    assert_eq!(urls["env"]["CODEX_OAUTH_ISSUER"], urls["issuer"]);
    assert_eq!(urls["env"]["CODEX_OAUTH_API_BASE"], urls["api_base"]);
    assert_eq!(urls["env"]["CODEX_OAUTH_USAGE_URL"], urls["usage_url"]);
    assert_eq!(
        urls["env"]["CODEX_OAUTH_OPENAI_API_BASE"],
        urls["openai_api_base"]
    );

    let http = reqwest::Client::new();
    let record = |method: reqwest::Method| {
        let req = http.request(method, format!("{base}/_fake/unexpected"));
        async move {
            req.send()
                .await
                .unwrap()
                .json::<Vec<String>>()
                .await
                .unwrap()
        }
    };
    assert!(record(reqwest::Method::GET).await.is_empty());
    let r = http.get(format!("{base}/v1/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let want = ["GET /v1/nope: no route of the backend serves this path"];
    assert_eq!(record(reqwest::Method::GET).await, want, "read");
    assert_eq!(record(reqwest::Method::GET).await, want, "reading keeps it");
    assert_eq!(record(reqwest::Method::DELETE).await, want, "taken");
    assert!(record(reqwest::Method::GET).await.is_empty());

    // One left at exit (stdin closes).
    let r = http.get(format!("{base}/_fake/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    drop(child.stdin.take());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("GET /_fake/nope: no route of the control API serves this path"),
        "{err}"
    );
}

#[tokio::test]
async fn a_query_without_reasoning_gets_an_answer_not_a_dropped_connection() {
    // The backend takes a body without `reasoning` (its default effort applies); the fake once
    // panicked on it and closed the connection.
    let fake = fake().await;
    let t = fake.mint_tokens(3600);
    let claims: Value = {
        use base64::Engine;
        let payload = t.id_token.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let account = claims["https://api.openai.com/auth"]["chatgpt_account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = reqwest::Client::new()
        .post(format!("{}/responses", fake.api_base()))
        .bearer_auth(&t.access_token)
        .header("chatgpt-account-id", account)
        .header("version", "0.171.0")
        .header("session-id", "s-1")
        .header("originator", "codex_oauth")
        .header("user-agent", "codex_oauth/0.1.0 (linux; x86_64)")
        .header("accept", "text/event-stream")
        .json(&json!({
            "model": "gpt-5.5", "instructions": "", "store": false, "stream": true,
            "input": [{"type": "message", "role": "user",
                       "content": [{"type": "input_text", "text": "hi"}]}]
        }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("response.completed"), "{text}");
}
