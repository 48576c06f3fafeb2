//! `plugin-config`: how to add this very binary to Claude Code without the plugin, as a
//! `claude mcp add` line or as the JSON of a `.mcp.json` file. Reads no credentials, writes
//! nothing.

use std::path::Path;
use std::process::ExitCode;

use codex_oauth_core::Settings;
use codex_oauth_core::config::DEFAULT_PROFILE;
use serde_json::{Map, Value, json};

use super::output::{fail_line, info, result_line};

/// The MCP server name, the same as the plugin's (`plugin/.mcp.json`).
pub const SERVER_NAME: &str = "codex";

/// Print the `claude mcp add` line (or, with `json`, the `.mcp.json` snippet) for the running binary.
pub fn run(settings: &Settings, json: bool) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            fail_line(&format!(
                "cannot tell where this program is ({e}); use the path of codex-mcp-bridge yourself"
            ));
            return ExitCode::from(1);
        }
    };
    let home_set = std::env::var_os("CODEX_OAUTH_HOME").is_some_and(|v| !v.is_empty());
    let env = server_env(settings, home_set);
    if json {
        info(
            "Put this in .mcp.json (a project) or pass the \"codex\" object to `claude mcp add-json codex`:",
        );
        result_line(&mcp_json(&exe, &env));
    } else {
        info(
            "Add codex-mcp-bridge to Claude Code for all your projects (use this or the plugin, not both):",
        );
        result_line(&mcp_add_line(&exe, &env));
        info("For a project's .mcp.json instead: codex-mcp-bridge plugin-config --json");
    }
    ExitCode::SUCCESS
}

/// The variables the server needs to read the same credentials as this command: the store
/// folder when it was set, the profile when it is not the default. Everything else comes from
/// the same config.toml.
pub fn server_env(settings: &Settings, home_set: bool) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if home_set {
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

/// `{"mcpServers": {"codex": {"type": "stdio", "command": <exe>, "args": [], "env": {...}}}}`.
pub fn mcp_json(exe: &Path, env: &[(String, String)]) -> String {
    let mut server = json!({
        "type": "stdio",
        "command": exe.to_string_lossy(),
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

/// `claude mcp add --scope user codex [-e K=V ...] -- <exe>`, quoted for the shell.
pub fn mcp_add_line(exe: &Path, env: &[(String, String)]) -> String {
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
    words.push(shell_quote(&exe.to_string_lossy()));
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
    use std::path::PathBuf;

    use super::*;

    fn settings(profile: Option<&str>) -> Settings {
        let mut env = HashMap::new();
        env.insert("CODEX_OAUTH_HOME".to_owned(), "/tmp/store".to_owned());
        if let Some(p) = profile {
            env.insert("CODEX_OAUTH_PROFILE".to_owned(), p.to_owned());
        }
        Settings::from_env(&env).unwrap()
    }

    #[test]
    fn the_default_profile_and_home_need_no_variables() {
        assert!(server_env(&settings(None), false).is_empty());
        let exe = PathBuf::from("/opt/bin/codex-mcp-bridge");
        let v: Value = serde_json::from_str(&mcp_json(&exe, &[])).unwrap();
        assert_eq!(
            v,
            json!({"mcpServers": {"codex": {"type": "stdio", "command": "/opt/bin/codex-mcp-bridge", "args": []}}})
        );
        assert_eq!(
            mcp_add_line(&exe, &[]),
            "claude mcp add --scope user codex -- /opt/bin/codex-mcp-bridge"
        );
    }

    #[test]
    fn a_set_home_and_another_profile_are_passed_on() {
        let env = server_env(&settings(Some("work")), true);
        assert_eq!(
            env,
            [
                ("CODEX_OAUTH_HOME".to_owned(), "/tmp/store".to_owned()),
                ("CODEX_OAUTH_PROFILE".to_owned(), "work".to_owned()),
            ]
        );
        let exe = PathBuf::from("/opt/bin/codex-mcp-bridge");
        let v: Value = serde_json::from_str(&mcp_json(&exe, &env)).unwrap();
        assert_eq!(
            v["mcpServers"]["codex"]["env"]["CODEX_OAUTH_PROFILE"],
            "work"
        );
        assert_eq!(
            v["mcpServers"]["codex"]["env"]["CODEX_OAUTH_HOME"],
            "/tmp/store"
        );
        assert_eq!(
            mcp_add_line(&exe, &env),
            "claude mcp add --scope user codex -e CODEX_OAUTH_HOME=/tmp/store -e CODEX_OAUTH_PROFILE=work -- /opt/bin/codex-mcp-bridge"
        );
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
