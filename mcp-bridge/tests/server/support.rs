//! One bridge server in this process, an rmcp client talking to it over an in-memory pipe, and a
//! fake-openai behind it; each in its own temporary CODEX_OAUTH_HOME.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_mcp_bridge::server::{CodexServer, ServerOptions};
use codex_oauth_core::codex::CodexOptions;
use codex_oauth_core::store::AuthRecord;
use codex_oauth_core::{Secret, Session, Settings, StoreMode};
use fake_openai::{FakeConfig, FakeOpenAi};
use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RunningService, ServiceError};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::Value;

/// A client that keeps the progress notifications it receives.
#[derive(Clone, Default)]
pub struct TestClient {
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for TestClient {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

pub struct Harness {
    pub fake: FakeOpenAi,
    pub session: Arc<Session>,
    pub client: RunningService<RoleClient, TestClient>,
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    pub home: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

/// Production settings but short waits, so failure paths finish quickly.
pub fn test_options() -> ServerOptions {
    ServerOptions {
        codex: CodexOptions {
            idle_timeout: Duration::from_secs(5),
            max_retries: 2,
            retry_base: Duration::from_millis(10),
            request_timeout: Duration::from_secs(5),
            ..CodexOptions::default()
        },
        progress_interval: Duration::from_millis(20),
        ..ServerOptions::default()
    }
}

pub async fn signed_out() -> Harness {
    start(FakeConfig::default(), test_options(), None).await
}

pub async fn signed_in() -> Harness {
    start(FakeConfig::default(), test_options(), Some(3600)).await
}

/// A harness whose stored access token lives `access_ttl` seconds (`None`: signed out).
pub async fn start(cfg: FakeConfig, options: ServerOptions, access_ttl: Option<i64>) -> Harness {
    start_with_config(cfg, options, access_ttl, "").await
}

/// [`start`] with `config_toml` as the home's config.toml.
pub async fn start_with_config(
    cfg: FakeConfig,
    options: ServerOptions,
    access_ttl: Option<i64>,
    config_toml: &str,
) -> Harness {
    let fake = FakeOpenAi::start(cfg).await.expect("fake-openai starts");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), config_toml).unwrap();
    let env: HashMap<String, String> = [
        (
            "CODEX_OAUTH_HOME",
            home.path().to_string_lossy().into_owned(),
        ),
        ("CODEX_OAUTH_STORE", "file".into()),
        ("CODEX_OAUTH_NO_BROWSER", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .chain(fake.env())
    .collect();
    let mut settings = Settings::from_env(&env).unwrap();
    assert_eq!(settings.store, StoreMode::File);
    settings.callback_port = 0;
    settings.callback_port_explicit = true;
    let session = Session::open(settings).unwrap();
    if let Some(ttl) = access_ttl {
        let t = fake.mint_tokens(ttl);
        let rec = AuthRecord::from_tokens(
            Secret::new(t.id_token),
            Secret::new(t.access_token),
            Secret::new(t.refresh_token),
            None,
        );
        session.save_record(rec).await.unwrap();
    }
    let server = CodexServer::with_session(Arc::clone(&session), options).unwrap();
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let server = tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let handler = TestClient::default();
    let progress = Arc::clone(&handler.progress);
    let client = handler.serve(client_io).await.expect("client initializes");
    Harness {
        fake,
        session,
        client,
        progress,
        home,
        server,
    }
}

impl Harness {
    /// Call a tool with JSON arguments.
    pub async fn call(&self, tool: &str, args: Value) -> Result<CallToolResult, ServiceError> {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        self.client.call_tool(params).await
    }

    /// Call a tool that must answer with a result (success or `isError`).
    pub async fn result(&self, tool: &str, args: Value) -> CallToolResult {
        match self.call(tool, args).await {
            Ok(r) => r,
            Err(e) => panic!("{tool} answered a protocol error: {e}"),
        }
    }

    /// Call a tool that must succeed; its text and structured content.
    pub async fn ok(&self, tool: &str, args: Value) -> (String, Value) {
        let r = self.result(tool, args).await;
        let text = text(&r);
        assert_ne!(r.is_error, Some(true), "{tool} failed: {text}");
        (text, r.structured_content.unwrap_or(Value::Null))
    }

    /// Call a tool that must fail with `isError: true`; its text and structured content.
    pub async fn tool_error(&self, tool: &str, args: Value) -> (String, Value) {
        let r = self.result(tool, args).await;
        let text = text(&r);
        assert_eq!(r.is_error, Some(true), "{tool} should have failed: {text}");
        (text, r.structured_content.unwrap_or(Value::Null))
    }

    /// Call a tool that must be refused with a JSON-RPC error; its code and message.
    pub async fn protocol_error(&self, tool: &str, args: Value) -> (i32, String) {
        match self.call(tool, args).await {
            Err(ServiceError::McpError(e)) => (e.code.0, e.message.to_string()),
            Err(other) => panic!("{tool}: expected a JSON-RPC error, got {other}"),
            Ok(r) => panic!(
                "{tool}: expected a JSON-RPC error, got a result: {}",
                text(&r)
            ),
        }
    }

    pub fn state_json(&self) -> Value {
        let path = self.home.path().join("default").join("state.json");
        std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null)
    }

    pub async fn stop(self) {
        let _ = self.client.cancel().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.server).await;
    }
}

/// All the text content of a result.
pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Wait (up to 10 s) until `check` holds.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
