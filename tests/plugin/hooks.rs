//! `plugin/hooks/hooks.json`: one `Stop` hook, the review gate, whose command runs the plugin's
//! launcher with `gate`; run as Claude Code runs it (`${CLAUDE_PLUGIN_ROOT}` replaced, the
//! command through the shell, the hook's JSON on stdin), it reaches the real bridge's gate.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::support::*;

/// The one command hook of `hooks.json`: its command and its timeout.
fn stop_hook() -> (String, u64) {
    let hooks = read_json(&plugin_dir().join("hooks").join("hooks.json"));
    let obj = hooks.as_object().expect("hooks.json must be an object");
    let mut keys: Vec<_> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["description", "hooks"]);
    let events = hooks["hooks"].as_object().expect("`hooks` is an object");
    assert_eq!(events.keys().collect::<Vec<_>>(), ["Stop"], "only Stop");
    let groups = events["Stop"].as_array().expect("Stop is a list");
    assert_eq!(groups.len(), 1);
    assert!(groups[0].get("matcher").is_none(), "Stop takes no matcher");
    let list = groups[0]["hooks"].as_array().expect("a list of hooks");
    assert_eq!(list.len(), 1);
    let hook = &list[0];
    assert_eq!(hook["type"], json!("command"));
    let timeout = hook["timeout"].as_u64().expect("a timeout in seconds");
    (hook["command"].as_str().unwrap().to_owned(), timeout)
}

/// The hook's command as Claude Code runs it, in `store`'s isolation, with `input` on stdin.
fn run_hook(env: &[(&str, &str)], store: &Path, input: &Value) -> (Option<i32>, String) {
    let (command, _) = stop_hook();
    let root = plugin_dir().to_string_lossy().into_owned();
    let command = command.replace("${CLAUDE_PLUGIN_ROOT}", &root);
    let mut cmd = isolated(Path::new("sh"), store);
    cmd.arg("-c")
        .arg(&command)
        .env("CLAUDE_PLUGIN_ROOT", &root)
        .env("CODEX_MCP_BRIDGE", bridge_bin())
        .env_remove("CLAUDE_PLUGIN_OPTION_REVIEW_GATE")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn the_stop_hook_runs_the_launcher_with_gate_and_outlasts_the_reviews_limit() {
    let (command, timeout) = stop_hook();
    assert_eq!(
        command, "\"${CLAUDE_PLUGIN_ROOT}/scripts/codex-mcp-bridge.sh\" gate",
        "the launcher finds the bridge as .mcp.json does"
    );
    assert!(
        plugin_dir().join("scripts/codex-mcp-bridge.sh").is_file(),
        "the launcher exists"
    );
    // The gate stops its review after 5 minutes; Claude Code must not kill it first.
    assert!((330..=600).contains(&timeout), "{timeout}");
}

#[test]
fn the_hook_reaches_the_gate_which_is_off_until_the_plugin_option_turns_it_on() {
    let store = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let input = json!({
        "session_id": "not/a/name",
        "transcript_path": project.path().join("t.jsonl"),
        "cwd": project.path(),
        "hook_event_name": "Stop",
        "stop_hook_active": false,
    });
    let (code, out) = run_hook(&[], store.path(), &input);
    assert_eq!((code, out.as_str()), (Some(0), ""), "off by default");

    // userConfig `review_gate`, as Claude Code passes it to a plugin's hooks: on. The bad session
    // id shows that the gate read the hook's input.
    let on = [("CLAUDE_PLUGIN_OPTION_REVIEW_GATE", "true")];
    let (code, out) = run_hook(&on, store.path(), &input);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let m = v["systemMessage"].as_str().unwrap();
    assert!(m.contains("not a plain name"), "{m}");

    let stop_again = json!({"session_id": "s", "cwd": project.path(), "stop_hook_active": true});
    let (code, out) = run_hook(&on, store.path(), &stop_again);
    assert_eq!((code, out.as_str()), (Some(0), ""));
}

/// Without a bridge installed, the Stop hook lets the stop through: silently when the gate is
/// off (a plugin installed before its bridge reports no hook error at every stop), with a line
/// that says what to install when the user turned it on.
#[test]
fn without_a_bridge_the_hook_lets_the_stop_through_and_says_why_only_when_the_gate_is_on() {
    let installed = [
        "/usr/bin/codex-mcp-bridge",
        "/usr/local/bin/codex-mcp-bridge",
    ];
    if let Some(p) = installed.iter().find(|p| Path::new(p).exists()) {
        eprintln!("skipped: a bridge is installed at {p}, where the launcher always looks");
        return;
    }
    let store = tempfile::tempdir().unwrap();
    let (command, _) = stop_hook();
    let root = plugin_dir().to_string_lossy().into_owned();
    let command = command.replace("${CLAUDE_PLUGIN_ROOT}", &root);
    let run = |env: &[(&str, &str)]| {
        let mut cmd = isolated(Path::new("/bin/sh"), store.path());
        cmd.arg("-c")
            .arg(&command)
            .env_remove("CODEX_MCP_BRIDGE")
            .env_remove("CLAUDE_PLUGIN_OPTION_REVIEW_GATE")
            .env_remove("CARGO_HOME")
            // No bridge on PATH or under HOME; the shell's own tools only.
            .env("PATH", store.path())
            .env("HOME", store.path())
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, out, err) = run(&[]);
    assert_eq!((code, out.as_str(), err.as_str()), (Some(0), "", ""));
    for on in [
        ("CLAUDE_PLUGIN_OPTION_REVIEW_GATE", " True "),
        ("CODEX_OAUTH_REVIEW_GATE", "1"),
    ] {
        let (code, out, _) = run(&[on]);
        assert_eq!(code, Some(0), "{on:?}");
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        let m = v["systemMessage"].as_str().unwrap();
        assert!(
            m.contains("not installed") && m.contains("went through"),
            "{m}"
        );
    }
    // Anything else that is not a gate still says what to install, and fails.
    let mut cmd = isolated(Path::new("/bin/sh"), store.path());
    let launcher = plugin_dir().join("scripts/codex-mcp-bridge.sh");
    let out = cmd
        .arg(launcher)
        .arg("--version")
        .env_remove("CODEX_MCP_BRIDGE")
        .env("PATH", store.path())
        .env("HOME", store.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}
