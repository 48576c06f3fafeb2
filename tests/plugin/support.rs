//! Shared helpers: the repository's files, the bridge binary, and an MCP client on a command.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use rmcp::RoleClient;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use serde_json::Value;

/// The plugin's name, as in `plugin/.claude-plugin/plugin.json`.
pub const PLUGIN: &str = "codex-oauth";

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn plugin_dir() -> PathBuf {
    repo().join("plugin")
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

/// The `codex-mcp-bridge` binary of this build, beside this package's own binaries.
pub fn bridge_bin() -> PathBuf {
    let own = PathBuf::from(env!("CARGO_BIN_EXE_race-client"));
    let path = own
        .parent()
        .unwrap()
        .join(format!("codex-mcp-bridge{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build the workspace first (`cargo build --workspace`)",
        path.display()
    );
    path
}

/// A command with none of the user's codex-oauth settings, and a private empty store.
pub fn isolated(program: &Path, home: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(program);
    for (k, _) in std::env::vars() {
        if k.starts_with("CODEX_OAUTH_") || k == "CODEX_HOME" || k == "CODEX_MCP_BRIDGE" {
            c.env_remove(k);
        }
    }
    c.env("CODEX_OAUTH_HOME", home)
        .env("CODEX_OAUTH_STORE", "file")
        .env("CODEX_OAUTH_NO_BROWSER", "1")
        .env("RUST_LOG", "warn");
    c
}

pub type Client = RunningService<RoleClient, ()>;

/// Start `cmd` as an MCP server and complete `initialize` (within 30 s).
pub async fn connect(cmd: std::process::Command) -> Client {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.stderr(Stdio::null());
    let transport =
        TokioChildProcess::new(cmd).unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    match tokio::time::timeout(std::time::Duration::from_secs(30), ().serve(transport)).await {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => panic!("{program} did not complete initialize: {e}"),
        Err(_) => panic!("{program} did not complete initialize within 30 s"),
    }
}

/// The sorted names of the tools the server lists.
pub async fn tool_names(client: &Client) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    names
}

/// The tools the real bridge lists (started on an empty private store).
pub async fn bridge_tools() -> Vec<String> {
    let home = tempfile::tempdir().unwrap();
    let client = connect(isolated(&bridge_bin(), home.path())).await;
    let names = tool_names(&client).await;
    client.cancel().await.unwrap();
    assert!(!names.is_empty(), "the bridge lists no tools");
    names
}

pub async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let mut p = CallToolRequestParams::new(tool.to_owned());
    if let Value::Object(m) = args {
        p = p.with_arguments(m);
    }
    client
        .call_tool(p)
        .await
        .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"))
}

pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Claude Code's MCP tool name: `mcp__<server>__<tool>`, every character outside
/// `[A-Za-z0-9_-]` replaced by `_`; a plugin's server is called `plugin:<plugin>:<server>`.
pub fn claude_tool_name(plugin: &str, server: &str, tool: &str) -> String {
    fn normalize(s: &str) -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
    format!(
        "mcp__{}__{}",
        normalize(&format!("plugin:{plugin}:{server}")),
        normalize(tool)
    )
}

#[test]
fn claude_tool_names_follow_claude_codes_normalization() {
    assert_eq!(
        claude_tool_name("codex-oauth", "codex", "codex_query"),
        "mcp__plugin_codex-oauth_codex__codex_query"
    );
    assert_eq!(
        claude_tool_name("my.plugin", "a b", "t/x"),
        "mcp__plugin_my_plugin_a_b__t_x"
    );
}
