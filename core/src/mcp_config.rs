//! How to add `codex-mcp-bridge` to Claude Code by hand (without the plugin): the `.mcp.json`
//! snippet and the `claude mcp add` line, with the variables the server needs to read the same
//! store as the program that prints them. The CLI's `plugin-config` and the tray's "Copy MCP
//! config" both print these.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::config::{DEFAULT_PROFILE, Settings};

/// The MCP server name, the same as the plugin's (`plugin/.mcp.json`).
pub const SERVER_NAME: &str = "codex";

/// The bridge's file name on this platform.
pub const BRIDGE_NAME: &str = if cfg!(windows) {
    "codex-mcp-bridge.exe"
} else {
    "codex-mcp-bridge"
};

/// The bridge beside `exe` when it is there (an install puts them together), else the bare name,
/// found on PATH.
pub fn bridge_beside(exe: Option<&Path>) -> String {
    exe.and_then(Path::parent)
        .map(|dir| dir.join(BRIDGE_NAME))
        .filter(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "codex-mcp-bridge".to_string())
}

/// The variables the server needs to read the same credentials: the store folder when it was
/// set, the profile when it is not the default. Everything else comes from the same config.toml.
pub fn server_env(settings: &Settings) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if settings.home_from_env {
        env.push((
            "CODEX_OAUTH_HOME".to_owned(),
            settings.home.to_string_lossy().into_owned(),
        ));
    }
    if settings.profile != DEFAULT_PROFILE {
        env.push(("CODEX_OAUTH_PROFILE".to_owned(), settings.profile.clone()));
    }
    env
}

/// `{"mcpServers": {"codex": {"type": "stdio", "command": <command>, "args": [], "env": {...}}}}`.
pub fn mcp_json(command: &str, env: &[(String, String)]) -> String {
    let mut server = json!({
        "type": "stdio",
        "command": command,
        "args": [],
    });
    if !env.is_empty() {
        let vars: Map<String, Value> = env
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        server["env"] = Value::Object(vars);
    }
    let config = json!({ "mcpServers": { SERVER_NAME: server } });
    serde_json::to_string_pretty(&config).unwrap_or_default()
}

/// `claude mcp add --scope user codex [-e K=V ...] -- <command>`, quoted for the shell.
pub fn mcp_add_line(command: &str, env: &[(String, String)]) -> String {
    let mut words = vec![
        "claude".to_owned(),
        "mcp".to_owned(),
        "add".to_owned(),
        "--scope".to_owned(),
        "user".to_owned(),
        SERVER_NAME.to_owned(),
    ];
    for (k, v) in env {
        words.push("-e".to_owned());
        words.push(shell_quote(&format!("{k}={v}")));
    }
    words.push("--".to_owned());
    words.push(shell_quote(command));
    words.join(" ")
}

/// `word` as one shell word: as it is when that is safe, else quoted (POSIX single quotes; on
/// Windows double quotes, which cmd and PowerShell both read).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c) || (cfg!(windows) && c == '\\')
        });
    if plain {
        word.to_owned()
    } else if cfg!(windows) {
        format!("\"{}\"", word.replace('"', "\\\""))
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;

    use super::*;

    fn settings(home: Option<&str>, profile: Option<&str>) -> Settings {
        let mut env = HashMap::new();
        if let Some(h) = home {
            env.insert("CODEX_OAUTH_HOME".to_owned(), h.to_owned());
        }
        if let Some(p) = profile {
            env.insert("CODEX_OAUTH_PROFILE".to_owned(), p.to_owned());
        }
        Settings::from_env_and_config_text(&env, None).unwrap()
    }

    #[test]
    fn the_default_profile_and_home_need_no_variables() {
        assert!(server_env(&settings(None, None)).is_empty());
        let exe = "/opt/bin/codex-mcp-bridge";
        let v: Value = serde_json::from_str(&mcp_json(exe, &[])).unwrap();
        assert_eq!(
            v,
            json!({"mcpServers": {"codex": {"type": "stdio", "command": "/opt/bin/codex-mcp-bridge", "args": []}}})
        );
        assert_eq!(
            mcp_add_line(exe, &[]),
            "claude mcp add --scope user codex -- /opt/bin/codex-mcp-bridge"
        );
    }

    #[test]
    fn a_set_home_and_another_profile_are_passed_on() {
        let env = server_env(&settings(Some("/tmp/store"), Some("work")));
        assert_eq!(
            env,
            [
                ("CODEX_OAUTH_HOME".to_owned(), "/tmp/store".to_owned()),
                ("CODEX_OAUTH_PROFILE".to_owned(), "work".to_owned()),
            ]
        );
        let exe = "/opt/bin/codex-mcp-bridge";
        let v: Value = serde_json::from_str(&mcp_json(exe, &env)).unwrap();
        let server = &v["mcpServers"]["codex"];
        assert_eq!(server["env"]["CODEX_OAUTH_PROFILE"], "work");
        assert_eq!(server["env"]["CODEX_OAUTH_HOME"], "/tmp/store");
        assert_eq!(
            mcp_add_line(exe, &env),
            "claude mcp add --scope user codex -e CODEX_OAUTH_HOME=/tmp/store -e CODEX_OAUTH_PROFILE=work -- /opt/bin/codex-mcp-bridge"
        );
    }

    #[test]
    fn the_bridge_beside_the_app_is_preferred() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("codex-oauth-tray");
        assert_eq!(bridge_beside(Some(&app)), "codex-mcp-bridge");
        let bridge = dir.path().join(BRIDGE_NAME);
        std::fs::write(&bridge, b"").unwrap();
        assert_eq!(bridge_beside(Some(&app)), bridge.to_string_lossy());
        assert_eq!(bridge_beside(None), "codex-mcp-bridge");
    }

    #[cfg(unix)]
    #[test]
    fn paths_with_spaces_and_quotes_stay_one_shell_word() {
        assert_eq!(shell_quote("/a/b-c_d.e"), "/a/b-c_d.e");
        assert_eq!(shell_quote("/My Apps/bridge"), "'/My Apps/bridge'");
        assert_eq!(shell_quote("/it's/here"), r"'/it'\''s/here'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote(""), "''");
    }
}
