//! The real `codex-mcp-bridge` binary over stdio, driven by real MCP clients (rmcp's, and the
//! official Python SDK), against fake-openai.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use fake_openai::Faults;
use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::*;

#[derive(Clone, Default)]
struct Client {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Client {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _cx: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

pub(crate) struct Bridge {
    client: RunningService<RoleClient, Client>,
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl Bridge {
    pub(crate) async fn spawn(home: &Home) -> Self {
        let std_cmd = home.cmd(&bin("codex-mcp-bridge"));
        let mut cmd = tokio::process::Command::from(std_cmd);
        cmd.stderr(Stdio::null());
        let transport = TokioChildProcess::new(cmd).unwrap();
        let handler = Client::default();
        let progress = handler.progress.clone();
        let client = handler
            .serve(transport)
            .await
            .expect("the bridge completes initialize");
        Self { client, progress }
    }

    /// Close the bridge's stdin and wait for the session to end (the process exits).
    pub(crate) async fn stop(self) {
        let _ = self.client.cancel().await;
    }

    pub(crate) async fn call(
        &self,
        tool: &str,
        args: Value,
    ) -> Result<CallToolResult, rmcp::ServiceError> {
        let mut p = CallToolRequestParams::new(tool.to_owned());
        if let Value::Object(m) = args {
            p = p.with_arguments(m);
        }
        self.client.call_tool(p).await
    }

    /// A successful tool result: its text and structured content.
    pub(crate) async fn ok(&self, tool: &str, args: Value) -> (String, Value) {
        let r = self
            .call(tool, args)
            .await
            .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"));
        let t = text(&r);
        assert_ne!(r.is_error, Some(true), "{tool} failed: {t}");
        (t, r.structured_content.unwrap_or(Value::Null))
    }

    async fn tool_error(&self, tool: &str, args: Value) -> String {
        let r = self
            .call(tool, args)
            .await
            .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"));
        assert_eq!(
            r.is_error,
            Some(true),
            "{tool} should have failed: {}",
            text(&r)
        );
        text(&r)
    }
}

#[tokio::test]
async fn the_real_bridge_serves_twelve_tools_and_a_whole_conversation() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let bridge = Bridge::spawn(&home).await;

    let info = bridge.client.peer_info().expect("server info");
    assert_eq!(info.server_info.as_ref().unwrap().name, "codex-oauth");
    assert!(
        info.instructions
            .as_deref()
            .is_some_and(|i| i.contains("Codex"))
    );

    let tools = bridge.client.list_all_tools().await.unwrap();
    let mut names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "codex_apply",
            "codex_cancel",
            "codex_clear",
            "codex_jobs",
            "codex_login",
            "codex_models",
            "codex_query",
            "codex_result",
            "codex_review",
            "codex_status",
            "codex_task",
            "codex_usage"
        ]
    );
    for t in &tools {
        assert_eq!(
            t.input_schema.get("type"),
            Some(&json!("object")),
            "{}",
            t.name
        );
        assert!(
            t.description.as_deref().is_some_and(|d| d.len() > 20),
            "{}",
            t.name
        );
        let a = t
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no annotations", t.name));
        let read_only = matches!(
            t.name.as_ref(),
            "codex_status" | "codex_models" | "codex_usage" | "codex_jobs" | "codex_result"
        );
        assert_eq!(a.read_only_hint, Some(read_only), "{}", t.name);
        if t.name == "codex_clear" {
            assert_eq!(a.destructive_hint, Some(true));
        }
    }
    let query = tools.iter().find(|t| t.name == "codex_query").unwrap();
    assert_eq!(query.input_schema["required"], json!(["prompt"]));

    // Signed out: status says so; a query is a tool error that says what to do.
    let (_, st) = bridge.ok("codex_status", json!({})).await;
    assert_eq!(st["signed_in"], false);
    let err = bridge
        .tool_error("codex_query", json!({"prompt": "hi"}))
        .await;
    assert!(
        err.contains("/codex-config") || err.contains("codex_login"),
        "{err}"
    );
    assert_eq!(fake.stats().responses, 0);

    // Sign in from another process (as the CLI would), and the running bridge sees it.
    home.seed(&fake, 3600).await;
    let (_, st) = bridge.ok("codex_status", json!({})).await;
    assert_eq!(st["signed_in"], true);
    assert_eq!(st["email"], "ada@example.com");

    // A streamed answer arrives whole and exact, with progress notifications on the way.
    fake.set_faults(Faults {
        delta_delay_ms: 40,
        ..Faults::default()
    });
    let prompt = "Explain the borrow checker in one long sentence, please.";
    let (t, data) = bridge.ok("codex_query", json!({"prompt": prompt})).await;
    assert_eq!(data["answer"], format!("Echo #1: {prompt}"));
    assert!(t.starts_with(&format!("Echo #1: {prompt}")), "{t}");
    assert!(
        bridge.progress.lock().unwrap().len() >= 2,
        "progress while streaming"
    );
    fake.set_faults(Faults::default());

    // A follow-up re-sends the earlier turns: the fake sees all of them.
    let conv = data["conversation_id"].as_str().unwrap().to_string();
    let (_, data2) = bridge
        .ok(
            "codex_query",
            json!({"prompt": "And shorter?", "conversation_id": conv}),
        )
        .await;
    assert_eq!(data2["answer"], "Echo #2: And shorter?");
    let last = fake
        .requests_to("/backend-api/codex/responses")
        .pop()
        .unwrap();
    let roles: Vec<_> = last.body["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["role"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        roles,
        ["developer", "developer", "user", "assistant", "user"],
        "the model's instructions and the framing, then the turns"
    );
    assert_eq!(
        last.body["input"][3]["content"][0]["text"],
        format!("Echo #1: {prompt}")
    );

    // Models from the fake, the hidden one left out; usage windows.
    let (_, models) = bridge.ok("codex_models", json!({})).await;
    let slugs: Vec<_> = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        ["gpt-6.2-sol", "gpt-6.2-astra", "gpt-6-luna", "gpt-5.5"]
    );
    assert_eq!(models["default_model"], "gpt-6.2-sol");
    let (usage_text, _) = bridge.ok("codex_usage", json!({})).await;
    assert!(usage_text.contains("12"), "{usage_text}");
    // The effective remaining (the weekly window, 40% used) reaches `status` too, through
    // state.json; the usage call wrote it before answering, or a query wrote it just before.
    let mut shown = None;
    for _ in 0..100 {
        let (status, _) = home.status();
        if !status["usage"].is_null() {
            shown = Some(status["usage"].clone());
            break;
        }
        std::thread::park_timeout(std::time::Duration::from_millis(50));
    }
    let usage = shown.expect("status --json shows the usage");
    assert_eq!(usage["percent_left"], 60.0);
    assert_eq!(usage["window"], "weekly");
    let text = String::from_utf8_lossy(&home.cli(&["status"]).stdout).into_owned();
    assert!(
        text.contains("Usage:        60% left (weekly window"),
        "{text}"
    );

    // Protocol errors stay protocol errors.
    assert!(bridge.call("codex_frobnicate", json!({})).await.is_err());
    assert!(
        bridge
            .call("codex_query", json!({"prompt": 42}))
            .await
            .is_err()
    );

    // Clear: revoked, deleted, and state.json says so at once (the tray watches it).
    bridge.ok("codex_clear", json!({})).await;
    assert_eq!(fake.stats().revokes, 1);
    let state: Value =
        serde_json::from_slice(&std::fs::read(home.profile_dir().join("state.json")).unwrap())
            .unwrap();
    assert_eq!(state["signed_in"], false);
    let (st, code) = home.status();
    assert_eq!((st["signed_in"].clone(), code), (json!(false), 1));
    bridge.client.cancel().await.unwrap();
}

#[tokio::test]
async fn codex_login_returns_at_once_and_the_sign_in_completes_in_the_background() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let bridge = Bridge::spawn(&home).await;
    let (t, data) = bridge.ok("codex_login", json!({"method": "browser"})).await;
    let url = data["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", fake.issuer())),
        "{url}"
    );
    assert!(t.contains(&url));
    // A second call while pending returns the same sign-in.
    let (_, again) = bridge.ok("codex_login", json!({"method": "browser"})).await;
    assert_eq!(again["url"], url);
    assert_eq!(again["new"], false);
    let (_, st) = bridge.ok("codex_status", json!({})).await;
    assert_eq!(st["signed_in"], false);
    // The user opens the URL.
    let page = browser().get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Signed in"));
    // The success page is served only after the save: status is signed in now.
    let (_, st) = bridge.ok("codex_status", json!({})).await;
    assert_eq!(st["signed_in"], true, "{st}");
    assert_eq!(st["email"], "ada@example.com");
    bridge.client.cancel().await.unwrap();
}

/// Raw JSON-RPC: stdout carries JSON only, every request is answered, and the bridge exits 0
/// when stdin closes (malformed lines are covered by bridge_faults).
#[tokio::test]
async fn stdout_is_json_only_and_stdin_eof_ends_the_bridge_cleanly() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let mut child = home
        .cmd(&bin("codex-mcp-bridge"))
        .env("RUST_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}});
    writeln!(stdin, "{init}").unwrap();
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
    )
    .unwrap();
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    )
    .unwrap();
    writeln!(stdin, "{}", json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "codex_status", "arguments": {}}})).unwrap();
    drop(stdin);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut ids = Vec::new();
    for line in BufReader::new(&out.stdout[..]).lines() {
        let line = line.unwrap();
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("non-JSON on stdout ({e}): {line}"));
        assert_eq!(v["jsonrpc"], "2.0");
        if let Some(id) = v.get("id") {
            ids.push(
                id.as_i64()
                    .unwrap_or_else(|| panic!("id is not a number: {line}")),
            );
        }
    }
    // Requests are served concurrently, so answers may come in any order (JSON-RPC allows it);
    // each must come exactly once.
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3], "every request answered once before exit");
    // Logs went to stderr and the log file, with trace on.
    assert!(!out.stderr.is_empty());
}

#[tokio::test]
async fn sigterm_ends_the_bridge_with_exit_0() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let mut child = home
        .cmd(&bin("codex-mcp-bridge"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}});
    writeln!(stdin, "{init}").unwrap();
    // Wait for the answer: the server is up.
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("\"id\":1"), "{first}");
    let pid = child.id() as libc::pid_t;
    #[allow(unsafe_code)]
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    drop(stdin);
    assert_eq!(status.code(), Some(0));
}

/// The official Python MCP SDK (PyPI `mcp`, in the venv scripts/test makes) drives the bridge.
#[tokio::test]
#[ignore = "needs the Python MCP SDK venv (tests/py/.venv): run by scripts/test"]
async fn the_python_mcp_sdk_drives_the_real_bridge() {
    let python = std::env::var("CODEX_OAUTH_TEST_PYTHON").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/py/.venv/bin/python").to_string()
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} is missing: run scripts/test, which makes the venv"
    );
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    fake.set_faults(Faults {
        delta_delay_ms: 40,
        ..Faults::default()
    });
    // The bridge's working folder: a repository with one change, for `files` and the review.
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(repo_dir.path()).unwrap();
    std::fs::write(
        repo_dir.path().join("calc.py"),
        "def add(a, b):\n    return a + b\n",
    )
    .unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(std::path::Path::new("calc.py")).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "one", &tree, &[])
        .unwrap();
    std::fs::write(
        repo_dir.path().join("calc.py"),
        "def add(a, b):\n    return a - b\n",
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/py/mcp_client_check.py");
    let mut c = home.cmd(std::path::Path::new(&python));
    c.arg(script)
        .env("BRIDGE", bin("codex-mcp-bridge"))
        .current_dir(repo_dir.path());
    let out = tokio::task::spawn_blocking(move || c.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["answer"], "Echo #1: Hello from Python");
    assert_eq!(summary["follow_up"], "Echo #2: And once more");
    assert!(summary["progress"].as_u64().unwrap() >= 2, "{summary}");
    // What the fake saw, independently of the client.
    let reqs = fake.requests_to("/backend-api/codex/responses");
    assert_eq!(
        reqs.len(),
        6,
        "the conversation's two, the query with files, the review, the background job, the query with a 300,000-character answer"
    );
    assert_eq!(summary["long_answer"], 300_000, "{summary}");
    let turns = reqs[1].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["role"] != "developer")
        .count();
    assert_eq!(turns, 3, "the follow-up re-sent the first exchange");
}
