//! `plugin/.mcp.json`, expanded as Claude Code expands it, starts a bridge that completes
//! `initialize` and `tools/list`, and answers a question (fake-openai standing in for OpenAI).

use std::collections::HashMap;
use std::path::Path;

use fake_openai::{FakeConfig, FakeOpenAi};
use serde_json::{Value, json};

use crate::expand::{Context, StdioServer, expand_server};
use crate::support::*;

const TOOLS: [&str; 12] = [
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
    "codex_usage",
];

/// The one server of `plugin/.mcp.json`, expanded with `env` as Claude Code's environment.
fn expanded(env: HashMap<String, String>, scratch: &Path) -> StdioServer {
    let config = read_json(&plugin_dir().join(".mcp.json"));
    let servers = config["mcpServers"]
        .as_object()
        .expect("`mcpServers` must be an object");
    assert_eq!(
        servers.keys().collect::<Vec<_>>(),
        ["codex"],
        "one server, `codex`"
    );
    // The userConfig options at their defaults, as a user who never opened /config has them.
    let manifest = read_json(&plugin_dir().join(".claude-plugin/plugin.json"));
    let user_config = manifest["userConfig"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let d = &v["default"];
                    (
                        k.clone(),
                        d.as_str().map_or_else(|| d.to_string(), str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let ctx = Context {
        user_config,
        plugin_root: plugin_dir(),
        plugin_data: scratch.join("plugin-data"),
        project_dir: scratch.to_path_buf(),
        env,
    };
    expand_server(&servers["codex"], &ctx).unwrap_or_else(|e| panic!(".mcp.json: {e}"))
}

/// The expanded server as a process: its command, args and env over an isolated environment.
fn command(server: &StdioServer, store: &Path) -> std::process::Command {
    let mut c = isolated(Path::new(&server.command), store);
    c.args(&server.args).envs(&server.env);
    c
}

#[tokio::test]
async fn the_expanded_config_starts_the_bridge_named_by_codex_mcp_bridge() {
    let scratch = tempfile::tempdir().unwrap();
    let bin = bridge_bin();
    let env = HashMap::from([(
        "CODEX_MCP_BRIDGE".to_owned(),
        bin.to_string_lossy().into_owned(),
    )]);
    let server = expanded(env, scratch.path());
    assert_eq!(Path::new(&server.command), bin);
    assert_eq!(
        server.env["CLAUDE_PLUGIN_ROOT"],
        plugin_dir().to_string_lossy()
    );

    let store = tempfile::tempdir().unwrap();
    let client = connect(command(&server, store.path())).await;
    let info = client.peer_info().expect("initialize result");
    assert_eq!(info.server_info.as_ref().unwrap().name, "codex-oauth");
    assert!(info.capabilities.tools.is_some());
    assert_eq!(tool_names(&client).await, TOOLS);
    let status = call(&client, "codex_status", json!({})).await;
    assert_ne!(status.is_error, Some(true));
    assert!(
        text(&status).starts_with("Not signed in"),
        "{}",
        text(&status)
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn without_codex_mcp_bridge_the_config_runs_the_launcher_which_finds_the_bridge_on_path() {
    let scratch = tempfile::tempdir().unwrap();
    let server = expanded(HashMap::new(), scratch.path());
    let launcher = plugin_dir().join("scripts").join("codex-mcp-bridge.sh");
    assert_eq!(Path::new(&server.command), launcher);

    // PATH holds only the folder `cargo install` would have put the binary in; HOME is empty, so
    // the launcher's usual places under it hold nothing.
    let bin_dir = tempfile::tempdir().unwrap();
    let installed = bin_dir.path().join(bridge_bin().file_name().unwrap());
    std::fs::copy(bridge_bin(), &installed).unwrap();
    let store = tempfile::tempdir().unwrap();
    let isolate = |c: &mut std::process::Command| {
        c.env("HOME", scratch.path()).env_remove("CARGO_HOME");
    };

    let system_wide = [
        "/usr/bin/codex-mcp-bridge",
        "/usr/local/bin/codex-mcp-bridge",
    ];
    if !system_wide.iter().any(|p| Path::new(p).exists()) {
        let mut without = command(&server, store.path());
        without.env("PATH", scratch.path());
        isolate(&mut without);
        let out = tokio::process::Command::from(without)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(
            !out.status.success(),
            "started without any codex-mcp-bridge"
        );
        assert!(out.stdout.is_empty(), "the launcher wrote on stdout");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("codex-mcp-bridge not found"), "{err}");
    }

    let mut with = command(&server, store.path());
    with.env("PATH", bin_dir.path());
    isolate(&mut with);
    let client = connect(with).await;
    assert_eq!(tool_names(&client).await, TOOLS);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_plugins_server_answers_a_question_when_signed_in() {
    let fake = FakeOpenAi::start(FakeConfig::default()).await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let mut vars = HashMap::from([
        (
            "CODEX_OAUTH_HOME".to_owned(),
            store.path().to_string_lossy().into_owned(),
        ),
        ("CODEX_OAUTH_STORE".to_owned(), "file".to_owned()),
    ]);
    vars.extend(fake.env());
    let settings = codex_oauth_core::Settings::from_env(&vars).unwrap();
    let t = fake.mint_tokens(3600);
    let session = codex_oauth_core::Session::open(settings).unwrap();
    session
        .save_record(codex_oauth_core::store::AuthRecord::from_tokens(
            codex_oauth_core::Secret::new(t.id_token),
            codex_oauth_core::Secret::new(t.access_token),
            codex_oauth_core::Secret::new(t.refresh_token),
            None,
        ))
        .await
        .unwrap();

    let scratch = tempfile::tempdir().unwrap();
    let env = HashMap::from([(
        "CODEX_MCP_BRIDGE".to_owned(),
        bridge_bin().to_string_lossy().into_owned(),
    )]);
    let server = expanded(env, scratch.path());
    let mut cmd = command(&server, store.path());
    cmd.envs(fake.env());
    let client = connect(cmd).await;

    // What /codex does: status, then the question as the user typed it.
    let status = call(&client, "codex_status", json!({})).await;
    assert!(
        text(&status).starts_with("Signed in as ada@example.com"),
        "{}",
        text(&status)
    );
    let question = "Explain PKCE in one sentence: why S256?";
    let r = call(&client, "codex_query", json!({"prompt": question})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let data = r.structured_content.clone().unwrap_or(Value::Null);
    assert_eq!(data["answer"], format!("Echo #1: {question}"));
    assert!(text(&r).contains("conversation_id"), "{}", text(&r));
    let sent = fake.requests_to("/backend-api/codex/responses");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body["input"]
            .as_array()
            .and_then(|i| i.iter().rfind(|m| m["role"] == "user"))
            .map(|m| m["content"][0]["text"].clone())
            .unwrap_or_default(),
        question,
        "the question reaches Codex verbatim"
    );
    client.cancel().await.unwrap();
}
