//! How Claude Code turns a plugin's `.mcp.json` server into a process to start (as in Claude Code
//! 2.1.x, and its docs' "Environment variable expansion in .mcp.json"):
//!
//! 1. `${CLAUDE_PLUGIN_ROOT}`, `${CLAUDE_PLUGIN_DATA}` and `${CLAUDE_PROJECT_DIR}` are replaced by
//!    the plugin's folder, its data folder and the project folder;
//!    and `${user_config.KEY}` by the value of the plugin's userConfig option KEY;
//! 2. then `${VAR}` becomes the value of the environment variable VAR, and `${VAR:-default}` that
//!    value or, when VAR is not set, `default` (a variable set to "" counts as set, unlike the
//!    shell's `:-`); the default runs to the first `}`, so defaults do not nest; an unset `${VAR}`
//!    without a default stays as it is and is reported missing; `$VAR` is never expanded.
//!
//! This applies to `command`, each of `args`, and each `env` value. The process also gets
//! `CLAUDE_PLUGIN_ROOT` and `CLAUDE_PLUGIN_DATA` in its environment (the server's own `env` wins).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde_json::Value;

/// Where the plugin runs, and the environment Claude Code runs in.
pub struct Context {
    pub plugin_root: PathBuf,
    pub plugin_data: PathBuf,
    pub project_dir: PathBuf,
    pub env: HashMap<String, String>,
    /// The plugin's userConfig values (`${user_config.KEY}`), as the user set them or their
    /// defaults.
    pub user_config: BTreeMap<String, String>,
}

/// A stdio server, ready to start.
#[derive(Debug, PartialEq)]
pub struct StdioServer {
    pub command: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// Step 2 on one string: the expanded text and the names of the unset variables left in it.
pub fn expand_env(text: &str, env: &HashMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match reference(after) {
            Some((name, default, len)) => {
                match (env.get(name), default) {
                    (Some(value), _) => out.push_str(value),
                    (None, Some(d)) => out.push_str(d),
                    (None, None) => {
                        out.push_str(&rest[start..start + 2 + len]);
                        missing.push(name.to_owned());
                    }
                }
                rest = &after[len..];
            }
            None => {
                // Not a reference here: keep the `$` and look again from the next character.
                out.push('$');
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    (out, missing)
}

/// `NAME}` or `NAME:-default}` at the start of `s` (just after `${`): name, default, length
/// including the closing brace.
fn reference(s: &str) -> Option<(&str, Option<&str>, usize)> {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, c)) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return None,
    }
    let name_end = s
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let name = &s[..name_end];
    let tail = &s[name_end..];
    if tail.starts_with('}') {
        return Some((name, None, name_end + 1));
    }
    let default_and_rest = tail.strip_prefix(":-")?;
    let close = default_and_rest.find('}')?;
    Some((
        name,
        Some(&default_and_rest[..close]),
        name_end + 2 + close + 1,
    ))
}

/// Steps 1 and 2 on one string.
pub fn expand(text: &str, ctx: &Context) -> (String, Vec<String>) {
    let with_paths = text
        .replace("${CLAUDE_PLUGIN_ROOT}", &ctx.plugin_root.to_string_lossy())
        .replace("${CLAUDE_PROJECT_DIR}", &ctx.project_dir.to_string_lossy())
        .replace("${CLAUDE_PLUGIN_DATA}", &ctx.plugin_data.to_string_lossy());
    let with_options = ctx.user_config.iter().fold(with_paths, |t, (k, v)| {
        t.replace(&format!("${{user_config.{k}}}"), v)
    });
    expand_env(&with_options, &ctx.env)
}

/// One server of `.mcp.json` (`mcpServers.<name>`), expanded. Fails on a server that is not a
/// stdio one, on fields of the wrong type, and on variables left unset.
pub fn expand_server(server: &Value, ctx: &Context) -> Result<StdioServer, String> {
    let obj = server.as_object().ok_or("a server must be an object")?;
    match obj.get("type").map(|t| t.as_str()) {
        None | Some(Some("stdio")) => {}
        other => return Err(format!("not a stdio server: type {other:?}")),
    }
    let mut missing = Vec::new();
    let mut exp = |s: &str| {
        let (v, m) = expand(s, ctx);
        missing.extend(m);
        v
    };
    let command = obj
        .get("command")
        .and_then(Value::as_str)
        .ok_or("`command` must be a string")?;
    let command = exp(command);
    let mut args = Vec::new();
    if let Some(a) = obj.get("args") {
        for item in a.as_array().ok_or("`args` must be an array")? {
            args.push(exp(item
                .as_str()
                .ok_or("each of `args` must be a string")?));
        }
    }
    let mut env = BTreeMap::new();
    env.insert(
        "CLAUDE_PLUGIN_ROOT".to_owned(),
        ctx.plugin_root.to_string_lossy().into_owned(),
    );
    env.insert(
        "CLAUDE_PLUGIN_DATA".to_owned(),
        ctx.plugin_data.to_string_lossy().into_owned(),
    );
    if let Some(e) = obj.get("env") {
        for (k, v) in e.as_object().ok_or("`env` must be an object")? {
            let v = v.as_str().ok_or("each `env` value must be a string")?;
            let v = if k == "CLAUDE_PLUGIN_ROOT" || k == "CLAUDE_PLUGIN_DATA" {
                v.to_owned()
            } else {
                exp(v)
            };
            env.insert(k.clone(), v);
        }
    }
    if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        return Err(format!(
            "Missing environment variables: {}",
            missing.join(", ")
        ));
    }
    Ok(StdioServer { command, args, env })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_set_variable_wins_over_its_default_and_an_unset_one_takes_it() {
        let e = env(&[("A", "/opt/a"), ("EMPTY", "")]);
        let cases = [
            ("${A}", "/opt/a", vec![]),
            ("${A:-x}", "/opt/a", vec![]),
            ("${B:-codex-mcp-bridge}", "codex-mcp-bridge", vec![]),
            ("${B:-}", "", vec![]),
            // Set to "": set (the shell's `:-` would take the default here; Claude Code does not).
            ("${EMPTY:-dflt}", "", vec![]),
            ("pre-${A}/bin/${B:-x}-post", "pre-/opt/a/bin/x-post", vec![]),
            ("${B}", "${B}", vec!["B"]),
            ("${B} and ${C:-c}", "${B} and c", vec!["B"]),
        ];
        for (input, want, missing) in cases {
            let (got, m) = expand_env(input, &e);
            assert_eq!(got, want, "{input}");
            assert_eq!(m, missing, "{input}");
        }
    }

    #[test]
    fn only_the_braced_forms_are_references() {
        let e = env(&[("A", "a"), ("HOME", "/h")]);
        let cases = [
            ("$A", "$A"),
            ("$HOME/x", "$HOME/x"),
            ("${", "${"),
            ("${A", "${A"),
            ("${1A}", "${1A}"),
            ("${A-b}", "${A-b}"),
            ("${A:b}", "${A:b}"),
            ("${ A}", "${ A}"),
            ("$${A}", "$a"),
            ("${user_config.key}", "${user_config.key}"),
            ("€${A}€", "€a€"),
        ];
        for (input, want) in cases {
            assert_eq!(expand_env(input, &e).0, want, "{input}");
        }
    }

    #[test]
    fn defaults_run_to_the_first_closing_brace_and_do_not_nest() {
        let e = env(&[("B", "b")]);
        // As in Claude Code: the default of A is "x${B" and the last "}" stays.
        assert_eq!(expand_env("${A:-x${B}}", &e).0, "x${B}");
        assert_eq!(expand_env("${A:-a:-b}", &e).0, "a:-b");
    }

    #[test]
    fn plugin_paths_come_first_and_a_server_is_expanded_field_by_field() {
        let ctx = Context {
            user_config: BTreeMap::new(),
            plugin_root: "/plugins/codex".into(),
            plugin_data: "/data/codex".into(),
            project_dir: "/work/proj".into(),
            env: env(&[("TOKEN", "t0k"), ("CODEX_MCP_BRIDGE", "/bin/bridge")]),
        };
        let server = json!({
            "command": "${CODEX_MCP_BRIDGE:-codex-mcp-bridge}",
            "args": ["--root", "${CLAUDE_PLUGIN_ROOT}/x", "${CLAUDE_PROJECT_DIR}", "${CLAUDE_PLUGIN_DATA}"],
            "env": {"T": "${TOKEN}", "D": "${NOPE:-d}", "CLAUDE_PLUGIN_ROOT": "${TOKEN}"}
        });
        let s = expand_server(&server, &ctx).unwrap();
        assert_eq!(s.command, "/bin/bridge");
        assert_eq!(
            s.args,
            ["--root", "/plugins/codex/x", "/work/proj", "/data/codex"]
        );
        assert_eq!(s.env["T"], "t0k");
        assert_eq!(s.env["D"], "d");
        // The server's own value wins, and is not expanded.
        assert_eq!(s.env["CLAUDE_PLUGIN_ROOT"], "${TOKEN}");
        assert_eq!(s.env["CLAUDE_PLUGIN_DATA"], "/data/codex");

        let mut no_bridge = ctx;
        no_bridge.env.remove("CODEX_MCP_BRIDGE");
        let s = expand_server(&server, &no_bridge).unwrap();
        assert_eq!(s.command, "codex-mcp-bridge");
    }

    #[test]
    fn unset_variables_bad_types_and_other_transports_are_refused() {
        let ctx = Context {
            user_config: BTreeMap::new(),
            plugin_root: "/p".into(),
            plugin_data: "/d".into(),
            project_dir: "/w".into(),
            env: HashMap::new(),
        };
        let err =
            expand_server(&json!({"command": "${BRIDGE}", "args": ["${X}"]}), &ctx).unwrap_err();
        assert_eq!(err, "Missing environment variables: BRIDGE, X");
        assert!(expand_server(&json!({"command": 1}), &ctx).is_err());
        assert!(expand_server(&json!({"command": "x", "args": "y"}), &ctx).is_err());
        assert!(expand_server(&json!({"command": "x", "env": {"A": 1}}), &ctx).is_err());
        assert!(expand_server(&json!({"type": "http", "url": "https://x"}), &ctx).is_err());
        assert!(expand_server(&json!("codex-mcp-bridge"), &ctx).is_err());
    }
}
