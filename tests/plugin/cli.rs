//! `codex-mcp-bridge plugin-config`: the `claude mcp add` line and the `.mcp.json` snippet for
//! users who add the bridge without the plugin, naming the running binary by its absolute path.

use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::support::*;

fn run(home: &Path, args: &[&str]) -> Output {
    isolated(&bridge_bin(), home)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn plugin_config_prints_one_claude_mcp_add_line_with_the_absolute_binary_path() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["plugin-config"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let bin = bridge_bin().canonicalize().unwrap();
    let home_path = home.path().to_string_lossy();
    // The isolated environment sets CODEX_OAUTH_HOME: the bridge Claude starts must get it too.
    let want = format!(
        "claude mcp add --scope user codex -e CODEX_OAUTH_HOME={home_path} -- {}",
        bin.display()
    );
    if !home_path.contains(' ') && !bin.to_string_lossy().contains(' ') {
        assert_eq!(lines[0], want);
    }
    assert!(Path::new(lines[0].rsplit(" -- ").next().unwrap()).is_absolute());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plugin-config --json"), "{err}");
    // It only prints: no store, no log, nothing written.
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn plugin_config_json_names_this_binary_and_the_profile_and_that_config_serves() {
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &["--profile", "work", "plugin-config", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout(&out)).expect("plugin-config --json prints JSON");
    let servers = v["mcpServers"].as_object().unwrap();
    assert_eq!(servers.keys().collect::<Vec<_>>(), ["codex"]);
    let s = &v["mcpServers"]["codex"];
    assert_eq!(s["type"], "stdio");
    assert_eq!(s["args"], serde_json::json!([]));
    let command = Path::new(s["command"].as_str().unwrap());
    assert_eq!(
        command.canonicalize().unwrap(),
        bridge_bin().canonicalize().unwrap()
    );
    assert_eq!(s["env"]["CODEX_OAUTH_PROFILE"], "work");
    assert_eq!(
        s["env"]["CODEX_OAUTH_HOME"],
        home.path().to_string_lossy().as_ref()
    );

    // Start it as Claude Code would: the command with its env.
    let mut cmd = isolated(command, home.path());
    for (k, val) in s["env"].as_object().unwrap() {
        cmd.env(k, val.as_str().unwrap());
    }
    let client = connect(cmd).await;
    let status = call(&client, "codex_status", serde_json::json!({})).await;
    assert!(text(&status).contains("profile work"), "{}", text(&status));
    client.cancel().await.unwrap();
}

#[test]
fn plugin_config_has_help_and_refuses_a_bad_profile() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["plugin-config", "--help"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("claude mcp add"));
    assert!(stdout(&out).contains("--json"));
    let out = run(home.path(), &["--profile", "../evil", "plugin-config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
