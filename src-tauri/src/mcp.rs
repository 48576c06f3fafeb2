//! The snippet that adds `codex-mcp-bridge` to Claude Code (`.mcp.json`, or
//! `claude mcp add-json codex '<server>'`).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// The bridge beside this executable when it is there (an install puts them together), else the
/// name, found on PATH.
pub fn bridge_command(current_exe: Option<&Path>) -> String {
    let name = if cfg!(windows) {
        "codex-mcp-bridge.exe"
    } else {
        "codex-mcp-bridge"
    };
    current_exe
        .and_then(Path::parent)
        .map(|dir| dir.join(name))
        .filter(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "codex-mcp-bridge".to_string())
}

/// `{"mcpServers": {"codex": {...}}}`, with the profile and the store folder when they are not the
/// defaults, so the bridge reads the same credentials as this app.
pub fn mcp_config(command: &str, profile: &str, home: Option<&PathBuf>) -> String {
    let mut env = Map::new();
    if let Some(h) = home {
        env.insert(
            "CODEX_OAUTH_HOME".into(),
            Value::String(h.to_string_lossy().into_owned()),
        );
    }
    if profile != codex_oauth_core::config::DEFAULT_PROFILE {
        env.insert("CODEX_OAUTH_PROFILE".into(), Value::String(profile.into()));
    }
    let mut server = json!({"type": "stdio", "command": command, "args": []});
    if !env.is_empty() {
        server["env"] = Value::Object(env);
    }
    let config = json!({"mcpServers": {"codex": server}});
    serde_json::to_string_pretty(&config).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_default_config_is_just_the_command() {
        let v: Value =
            serde_json::from_str(&mcp_config("codex-mcp-bridge", "default", None)).unwrap();
        assert_eq!(
            v,
            json!({"mcpServers": {"codex": {"type": "stdio", "command": "codex-mcp-bridge", "args": []}}})
        );
    }

    #[test]
    fn a_custom_home_and_profile_are_passed_on() {
        let home = PathBuf::from("/tmp/store");
        let v: Value = serde_json::from_str(&mcp_config(
            "/opt/bin/codex-mcp-bridge",
            "work",
            Some(&home),
        ))
        .unwrap();
        let s = &v["mcpServers"]["codex"];
        assert_eq!(s["command"], "/opt/bin/codex-mcp-bridge");
        assert_eq!(s["env"]["CODEX_OAUTH_HOME"], "/tmp/store");
        assert_eq!(s["env"]["CODEX_OAUTH_PROFILE"], "work");
    }

    #[test]
    fn the_bridge_beside_the_app_is_preferred() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("codex-oauth-tray");
        assert_eq!(bridge_command(Some(&app)), "codex-mcp-bridge");
        let bridge = dir.path().join("codex-mcp-bridge");
        std::fs::write(&bridge, b"").unwrap();
        assert_eq!(bridge_command(Some(&app)), bridge.to_string_lossy());
        assert_eq!(bridge_command(None), "codex-mcp-bridge");
    }
}
