//! The real bridge under faults and bad input: usage limits, expired tokens, several processes
//! at token expiry, malformed JSON-RPC, huge prompts, a client that vanishes mid-call.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fake_openai::Faults;
use serde_json::{Value, json};

use crate::support::*;

/// A bridge spoken to in raw JSON lines, its stdout read on a thread.
pub(crate) struct Raw {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// stderr, read as it comes (a chatty log must never fill the pipe and stall the bridge).
    stderr: std::thread::JoinHandle<String>,
}

impl Raw {
    pub(crate) fn spawn(home: &Home) -> Self {
        Self::spawn_cmd(home.cmd(&bin("codex-mcp-bridge")))
    }

    pub(crate) fn spawn_cmd(mut cmd: std::process::Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::io::Read::read_to_end(&mut err, &mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        });
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut raw = Self {
            child,
            stdin,
            lines,
            stderr,
        };
        raw.send_line(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}).to_string());
        assert!(raw.answer(0).get("result").is_some());
        raw.send_line(
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
        );
        raw
    }

    pub(crate) fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// The next stdout message (every line must be JSON-RPC).
    pub(crate) fn next(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(30))
            .expect("an answer within 30 s");
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("non-JSON on stdout ({e}): {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{line}");
        v
    }

    /// The answer to request `id`, skipping notifications.
    pub(crate) fn answer(&self, id: i64) -> Value {
        loop {
            let v = self.next();
            if v.get("id") == Some(&json!(id)) {
                return v;
            }
            assert!(
                v.get("method").is_some() || v.get("id").is_none_or(Value::is_null),
                "unexpected message {v}"
            );
        }
    }

    pub(crate) fn call(&mut self, id: i64, tool: &str, args: Value) -> Value {
        self.send_line(
            &json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": args}})
                .to_string(),
        );
        self.answer(id)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Close stdin and wait for the exit: (code, stderr).
    pub(crate) fn finish(mut self) -> (Option<i32>, String) {
        drop(self.stdin.take());
        let (tx, rx) = mpsc::channel();
        let mut child = self.child;
        let stderr = self.stderr;
        std::thread::spawn(move || {
            let st = child.wait().unwrap();
            let err = stderr.join().unwrap();
            let _ = tx.send((st.code(), err));
        });
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the bridge exits within 30 s of stdin closing")
    }
}

pub(crate) fn tool_text(answer: &Value) -> String {
    answer["result"]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_usage_limit_is_a_tool_error_with_the_local_reset_time() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    fake.set_faults(Faults {
        usage_limit: true,
        ..Faults::default()
    });
    let mut b = Raw::spawn(&home);
    let a = b.call(
        1,
        "codex_query",
        json!({"prompt": "hi", "model": "gpt-6.2-sol"}),
    );
    assert_eq!(a["result"]["isError"], true, "{a}");
    let t = tool_text(&a);
    assert!(
        t.to_lowercase().contains("usage limit") && t.contains("resets"),
        "{t}"
    );
    assert_eq!(fake.stats().responses, 1, "a usage limit is not retried");
    let (code, err) = b.finish();
    assert_eq!(code, Some(0), "{err}");
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_without_the_caller_noticing() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, -5).await;
    let mut b = Raw::spawn(&home);
    let a = b.call(1, "codex_query", json!({"prompt": "still there?"}));
    assert_ne!(a["result"]["isError"], true, "{a}");
    assert!(tool_text(&a).starts_with("Echo #1: still there?"));
    assert_eq!(fake.stats().refreshes, 1);
    // And a token revoked behind our back (401 once): refreshed once, retried once.
    fake.set_faults(Faults {
        backend_status_once: Some(401),
        ..Faults::default()
    });
    let a = b.call(
        2,
        "codex_query",
        json!({"prompt": "again", "model": "gpt-6.2-sol"}),
    );
    assert_ne!(a["result"]["isError"], true, "{a}");
    assert_eq!(fake.stats().refreshes, 2);
    b.finish();
}

#[tokio::test]
async fn two_bridges_and_the_cli_at_token_expiry_cause_one_refresh() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 60).await; // inside the 5-minute margin: everyone wants a refresh
    let mut b1 = Raw::spawn(&home);
    let mut b2 = Raw::spawn(&home);
    fake.set_faults(Faults {
        token_delay_ms: 500,
        ..Faults::default()
    });
    let q = |id: i64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "codex_query",
            "arguments": {"prompt": format!("race {id}"), "model": "gpt-6.2-sol"}}})
        .to_string()
    };
    b1.send_line(&q(1));
    b2.send_line(&q(2));
    let mut cli = home.cmd(&bin("codex-mcp-bridge"));
    cli.arg("token");
    let cli = tokio::task::spawn_blocking(move || cli.output().unwrap());
    let (a1, a2) = (b1.answer(1), b2.answer(2));
    let cli = cli.await.unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert_ne!(a1["result"]["isError"], true, "{a1}");
    assert_ne!(a2["result"]["isError"], true, "{a2}");
    let s = fake.stats();
    assert_eq!(
        (s.refresh_attempts, s.refreshes, s.reuse_rejections),
        (1, 1, 0),
        "{s:?}"
    );
    b1.finish();
    b2.finish();
}

#[tokio::test]
async fn bad_json_rpc_gets_clear_errors_and_the_bridge_keeps_serving() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let mut b = Raw::spawn(&home);
    // Unknown method.
    b.send_line(&json!({"jsonrpc": "2.0", "id": 1, "method": "frobnicate/now"}).to_string());
    let a = b.answer(1);
    assert_eq!(a["error"]["code"], -32601, "{a}");
    // Unknown tool, wrong argument type, missing required argument.
    for (id, tool, args) in [
        (2, "codex_nope", json!({})),
        (3, "codex_query", json!({"prompt": ["not", "a", "string"]})),
        (4, "codex_query", json!({})),
        (5, "codex_login", json!({"method": "carrier-pigeon"})),
    ] {
        let a = b.call(id, tool, args);
        let err = &a["error"];
        assert!(err.is_object(), "{tool}: {a}");
        assert_eq!(err["code"], -32602, "{a}");
        assert!(!err["message"].as_str().unwrap().is_empty());
    }
    // A 10 MB prompt: refused with words, never sent upstream.
    let huge = "x".repeat(10 * 1024 * 1024);
    let a = b.call(6, "codex_query", json!({"prompt": huge}));
    let msg = if a["result"]["isError"] == true {
        tool_text(&a)
    } else {
        a["error"]["message"].as_str().unwrap_or("").to_string()
    };
    assert!(
        msg.contains("too long") || msg.contains("too large") || msg.contains("MB"),
        "{msg}"
    );
    assert_eq!(fake.stats().responses, 0);
    // A line that is not JSON at all, then a valid request: still answered.
    b.send_line("{this is not json");
    b.send_line(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}).to_string());
    let a = loop {
        let v = b.next();
        if v.get("id") == Some(&json!(7)) {
            break v;
        }
        // A parse error answer (id null) is fine; anything else is not.
        assert!(
            v["error"]["code"] == -32700 || v.get("method").is_some(),
            "{v}"
        );
    };
    assert_eq!(a["result"]["tools"].as_array().unwrap().len(), 12);
    let (code, err) = b.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test]
async fn a_client_that_vanishes_mid_call_leaves_a_bridge_that_exits_cleanly() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    fake.set_faults(Faults {
        delta_delay_ms: 300,
        ..Faults::default()
    });
    let mut b = Raw::spawn(&home);
    b.send_line(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "codex_query",
            "arguments": {"prompt": "a long answer that streams slowly, piece by piece, for a while", "model": "gpt-6.2-sol"}}})
        .to_string(),
    );
    // Wait until the request reached the backend, then vanish.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while fake.stats().responses == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the query never reached the fake"
        );
        std::thread::park_timeout(Duration::from_millis(10));
    }
    let (code, err) = b.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_text_browser_never_writes_into_the_json_rpc_stream_nor_blocks_the_sign_in() {
    // BROWSER names a text browser (here a script that talks on stdout and waits): it must run
    // with no access to the bridge's stdout and must not hold up codex_login's answer.
    use std::os::unix::fs::PermissionsExt;
    let fake = fake().await;
    let mut home = Home::new(&fake);
    home.env.remove("CODEX_OAUTH_NO_BROWSER");
    let done = home.path().join("browser-may-exit");
    let opened = home.path().join("browser-was-started");
    // Named like one: the opener treats a known text browser differently from a GUI one.
    let script = home.path().join("w3m");
    std::fs::write(
        &script,
        format!(
            // Written aside and moved in: the test never reads a file the shell has only created.
            "#!/bin/sh\necho \"$1\" > '{0}.part' && mv '{0}.part' '{0}'\necho 'TEXT BROWSER SCREEN'\nwhile [ ! -e '{1}' ] && [ -d '{2}' ]; do sleep 0.05; done\n",
            opened.display(),
            done.display(),
            home.path().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = home.cmd(&bin("codex-mcp-bridge"));
    cmd.env("BROWSER", &script);
    let mut b = Raw::spawn_cmd(cmd);
    let r = b.call(1, "codex_login", json!({"method": "browser"}));
    assert!(
        !done.exists(),
        "codex_login answered while the browser still runs"
    );
    let url = r["result"]["structuredContent"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    // The browser was started with the sign-in URL (it may still be starting: ask again, bounded).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !opened.exists() && std::time::Instant::now() < deadline {
        std::thread::park_timeout(Duration::from_millis(20));
    }
    assert_eq!(std::fs::read_to_string(&opened).unwrap().trim(), url);
    // Another request still gets a clean JSON-RPC answer (Raw::next fails on any other line).
    let s = b.call(2, "codex_status", json!({}));
    assert!(s["result"]["structuredContent"].is_object(), "{s}");
    std::fs::write(&done, b"").unwrap();
    let (code, err) = b.finish();
    assert_eq!(code, Some(0), "{err}");
}
