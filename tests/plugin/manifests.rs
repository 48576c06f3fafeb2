//! `plugin.json`, `marketplace.json`, and the command and skill files, against the fields Claude
//! Code documents (plugins reference, marketplace reference, slash commands, skills), and their
//! tool names against the tools the real bridge lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::frontmatter::{self, Field};
use crate::support::*;

/// Top-level keys of `.claude-plugin/plugin.json` in Claude Code's manifest reference.
const PLUGIN_FIELDS: &[&str] = &[
    "$schema",
    "name",
    "displayName",
    "version",
    "description",
    "author",
    "homepage",
    "repository",
    "license",
    "keywords",
    "defaultEnabled",
    "dependencies",
    "commands",
    "agents",
    "skills",
    "hooks",
    "mcpServers",
    "outputStyles",
    "lspServers",
    "monitors",
    "userConfig",
    "channels",
    "settings",
];

/// Top-level keys of `.claude-plugin/marketplace.json` in the marketplace reference.
const MARKETPLACE_FIELDS: &[&str] = &[
    "$schema",
    "name",
    "version",
    "description",
    "owner",
    "plugins",
    "metadata",
    "forceRemoveDeletedPlugins",
    "allowCrossMarketplaceDependenciesOn",
    "renames",
];

/// Keys a marketplace plugin entry may have besides the plugin manifest's own.
const ENTRY_FIELDS: &[&str] = &["source", "category", "tags", "strict"];

/// Frontmatter of a command file (`commands/*.md`), as documented for slash commands.
const COMMAND_FIELDS: &[&str] = &[
    "description",
    "argument-hint",
    "allowed-tools",
    "model",
    "disable-model-invocation",
];

/// Frontmatter of a skill (`skills/<name>/SKILL.md`), as documented for skills.
const SKILL_FIELDS: &[&str] = &[
    "name",
    "description",
    "allowed-tools",
    "argument-hint",
    "disable-model-invocation",
    "user-invocable",
    "model",
    "when_to_use",
];

/// The MCP server of the plugin, as named in `plugin/.mcp.json`.
const SERVER: &str = "codex";

fn unknown_keys(obj: &serde_json::Map<String, Value>, known: &[&[&str]]) -> Vec<String> {
    obj.keys()
        .filter(|k| !known.iter().any(|list| list.contains(&k.as_str())))
        .cloned()
        .collect()
}

fn string<'a>(obj: &'a Value, key: &str, what: &str) -> &'a str {
    let s = obj[key]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: `{key}` must be a string, got {}", obj[key]));
    assert!(!s.trim().is_empty(), "{what}: `{key}` is empty");
    s
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

fn check_author(author: &Value, what: &str) {
    let a = author
        .as_object()
        .unwrap_or_else(|| panic!("{what}: `author`/`owner` must be an object"));
    assert!(
        a.keys()
            .all(|k| ["name", "email", "url"].contains(&k.as_str())),
        "{what}: author keys {:?}",
        a.keys().collect::<Vec<_>>()
    );
    string(author, "name", what);
    for k in ["email", "url"] {
        if a.contains_key(k) {
            string(author, k, what);
        }
    }
}

fn plugin_json() -> Value {
    read_json(&plugin_dir().join(".claude-plugin/plugin.json"))
}

fn marketplace_json() -> Value {
    read_json(&repo().join(".claude-plugin/marketplace.json"))
}

#[test]
fn plugin_json_has_the_documented_fields_with_the_right_types_and_no_others() {
    let p = plugin_json();
    let obj = p.as_object().expect("plugin.json must be an object");
    assert_eq!(unknown_keys(obj, &[PLUGIN_FIELDS]), Vec::<String>::new());
    let what = "plugin.json";
    assert_eq!(string(&p, "name", what), PLUGIN);
    assert!(is_kebab(PLUGIN));
    // The plugin ships with the bridge: one version for both.
    assert_eq!(string(&p, "version", what), env!("CARGO_PKG_VERSION"));
    assert!(string(&p, "description", what).len() >= 40);
    check_author(&p["author"], what);
    for k in ["homepage", "repository"] {
        let url = string(&p, k, what);
        assert!(url.starts_with("https://"), "{k}: {url}");
        url::Url::parse(url).unwrap_or_else(|e| panic!("{k}: {url}: {e}"));
    }
    assert_eq!(string(&p, "license", what), "MIT");
    let keywords = p["keywords"].as_array().expect("keywords must be a list");
    assert!(!keywords.is_empty());
    assert!(keywords.iter().all(|k| k.as_str().is_some_and(is_kebab)));
    // The components sit in their default places, so the manifest does not name them.
    for k in ["commands", "skills", "mcpServers"] {
        assert!(!obj.contains_key(k), "plugin.json should not set `{k}`");
    }
    // Every other file of the plugin sits outside .claude-plugin/.
    let inside: Vec<_> = std::fs::read_dir(plugin_dir().join(".claude-plugin"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(inside, ["plugin.json"]);
}

#[test]
fn the_marketplace_lists_the_plugin_from_its_folder_with_the_same_metadata() {
    let m = marketplace_json();
    let obj = m.as_object().expect("marketplace.json must be an object");
    assert_eq!(
        unknown_keys(obj, &[MARKETPLACE_FIELDS]),
        Vec::<String>::new()
    );
    let what = "marketplace.json";
    let name = string(&m, "name", what);
    assert!(is_kebab(name), "marketplace name {name}");
    for reserved in ["inline", "builtin", "skills-dir", "claude-plugins-official"] {
        assert_ne!(name, reserved);
    }
    check_author(&m["owner"], what);
    let plugins = m["plugins"].as_array().expect("`plugins` must be a list");
    assert_eq!(plugins.len(), 1);
    let entry = &plugins[0];
    let e = entry.as_object().expect("a plugin entry must be an object");
    assert_eq!(
        unknown_keys(e, &[PLUGIN_FIELDS, ENTRY_FIELDS]),
        Vec::<String>::new()
    );
    assert_eq!(string(entry, "name", what), PLUGIN);
    let source = string(entry, "source", what);
    assert_eq!(source, "./plugin");
    let folder = repo().join(source.trim_start_matches("./"));
    assert_eq!(folder, plugin_dir());
    let p = plugin_json();
    assert!(folder.join(".claude-plugin/plugin.json").is_file());
    for k in ["version", "license", "homepage", "repository"] {
        assert_eq!(
            entry[k], p[k],
            "marketplace entry `{k}` differs from plugin.json"
        );
    }
    check_author(&entry["author"], what);
    string(entry, "description", what);
}

#[test]
fn the_readme_installs_the_plugin_by_the_real_marketplace_name() {
    let readme = read(&repo().join("README.md"));
    let name = marketplace_json()["name"].as_str().unwrap().to_owned();
    let install = format!("/plugin install {PLUGIN}@{name}");
    assert!(readme.contains(&install), "README lacks `{install}`");
    assert!(readme.contains("/plugin marketplace add"));
}

/// `allowed-tools` as Claude Code reads it: a list, or one string split at commas and spaces
/// outside parentheses.
fn allowed_tools(field: &Field, what: &str) -> Vec<String> {
    let parts: Vec<String> = match field {
        Field::List(items) => items.clone(),
        Field::Str(s) => {
            let mut out = Vec::new();
            let mut cur = String::new();
            let mut depth = 0;
            for c in s.chars() {
                match c {
                    '(' => {
                        depth += 1;
                        cur.push(c);
                    }
                    ')' => {
                        depth -= 1;
                        cur.push(c);
                    }
                    ',' | ' ' if depth == 0 => {
                        if !cur.trim().is_empty() {
                            out.push(cur.trim().to_owned());
                        }
                        cur.clear();
                    }
                    c => cur.push(c),
                }
            }
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_owned());
            }
            out
        }
        Field::Bool(_) => panic!("{what}: `allowed-tools` must be a string or a list"),
    };
    assert!(!parts.is_empty(), "{what}: `allowed-tools` is empty");
    parts
}

/// The tool of a name in `allowed-tools`, which must be one of this plugin's server and listed
/// by the bridge.
fn our_tool<'a>(name: &'a str, tools: &[String], what: &str) -> &'a str {
    let prefix = crate::support::claude_tool_name(PLUGIN, SERVER, "");
    let tool = name.strip_prefix(&prefix).unwrap_or_else(|| {
        panic!("{what}: `{name}` is not a tool of this plugin ({prefix}<tool>)")
    });
    assert!(
        tools.iter().any(|t| t == tool),
        "{what}: `{name}` names `{tool}`, which the bridge does not list ({tools:?})"
    );
    assert_eq!(name, crate::support::claude_tool_name(PLUGIN, SERVER, tool));
    tool
}

/// Every `mcp__…` name in a text.
fn mentioned_tools(body: &str) -> BTreeSet<String> {
    body.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| w.starts_with("mcp__"))
        .map(str::to_owned)
        .collect()
}

struct Doc {
    path: PathBuf,
    fields: BTreeMap<String, Field>,
    body: String,
}

fn load(path: &Path) -> Doc {
    let (fields, body) =
        frontmatter::parse(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Doc {
        path: path.to_owned(),
        fields,
        body,
    }
}

fn commands() -> Vec<Doc> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(plugin_dir().join("commands"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files
            .iter()
            .all(|f| f.extension().is_some_and(|x| x == "md")),
        "{files:?}"
    );
    files.iter().map(|f| load(f)).collect()
}

fn agents() -> Vec<Doc> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(plugin_dir().join("agents"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| load(f)).collect()
}

/// Frontmatter of an agent (`agents/*.md`), as documented for subagents (a plugin's agent
/// ignores `permissionMode`, `mcpServers` and `hooks`, so they are not used).
const AGENT_FIELDS: &[&str] = &["name", "description", "tools", "model", "color"];

#[tokio::test]
async fn the_agent_hands_tasks_to_codex_with_real_tools_and_never_applies() {
    let tools = bridge_tools().await;
    let agents = agents();
    assert_eq!(agents.len(), 1, "one agent: codex-worker");
    let a = &agents[0];
    let what = a.path.display().to_string();
    check_fields(a, AGENT_FIELDS);
    assert_eq!(
        a.fields.get("name"),
        Some(&Field::Str("codex-worker".into())),
        "{what}"
    );
    let allowed: BTreeSet<String> = allowed_tools(a.fields.get("tools").expect("tools"), &what)
        .into_iter()
        .collect();
    for name in &allowed {
        our_tool(name, &tools, &what);
    }
    assert_eq!(mentioned_tools(&a.body), allowed, "{what}");
    let apply = crate::support::claude_tool_name(PLUGIN, SERVER, "codex_apply");
    assert!(
        !allowed.contains(&apply),
        "the agent must not apply patches"
    );
    for t in ["codex_task", "codex_result"] {
        let name = crate::support::claude_tool_name(PLUGIN, SERVER, t);
        assert!(allowed.contains(&name), "{what} lacks {t}");
    }
}

fn skills() -> Vec<(String, Doc)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(plugin_dir().join("skills")).unwrap() {
        let dir = e.unwrap().path();
        assert!(dir.is_dir(), "{} is not a skill folder", dir.display());
        let folder = dir.file_name().unwrap().to_string_lossy().into_owned();
        out.push((folder, load(&dir.join("SKILL.md"))));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn check_fields(doc: &Doc, known: &[&str]) {
    let what = doc.path.display();
    for (k, v) in &doc.fields {
        assert!(known.contains(&k.as_str()), "{what}: unknown field `{k}`");
        let ok = match k.as_str() {
            "allowed-tools" => matches!(v, Field::Str(_) | Field::List(_)),
            "disable-model-invocation" | "user-invocable" => matches!(v, Field::Bool(_)),
            _ => matches!(v, Field::Str(s) if !s.trim().is_empty()),
        };
        assert!(ok, "{what}: `{k}` has the wrong type ({})", v.kind());
    }
    assert!(
        doc.fields.contains_key("description"),
        "{what}: no description"
    );
}

#[tokio::test]
async fn every_command_has_documented_frontmatter_and_allows_only_real_bridge_tools() {
    let tools = bridge_tools().await;
    let cmds = commands();
    let mut names: Vec<_> = cmds
        .iter()
        .map(|c| c.path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "codex",
            "codex-apply",
            "codex-clear",
            "codex-config",
            "codex-jobs",
            "codex-review",
            "codex-task"
        ]
    );
    for c in &cmds {
        let what = c.path.display().to_string();
        check_fields(c, COMMAND_FIELDS);
        let allowed: BTreeSet<String> =
            allowed_tools(c.fields.get("allowed-tools").expect("allowed-tools"), &what)
                .into_iter()
                .collect();
        for name in &allowed {
            our_tool(name, &tools, &what);
        }
        // A step that calls a tool must not stop at a permission prompt: the tools named in the
        // text are exactly the allowed ones.
        assert_eq!(mentioned_tools(&c.body), allowed, "{what}");
        // Arguments: a command that reads them shows a hint, and one that has a hint reads them.
        assert_eq!(
            c.body.contains("$ARGUMENTS"),
            c.fields.contains_key("argument-hint"),
            "{what}: `argument-hint` and `$ARGUMENTS` go together"
        );
    }
}

#[test]
fn each_command_calls_the_tools_its_name_promises() {
    let by_name: BTreeMap<String, Doc> = commands()
        .into_iter()
        .map(|c| {
            (
                c.path.file_stem().unwrap().to_string_lossy().into_owned(),
                c,
            )
        })
        .collect();
    let uses = |cmd: &str, tool: &str| {
        let name = crate::support::claude_tool_name(PLUGIN, SERVER, tool);
        assert!(
            by_name[cmd].body.contains(&name),
            "/{cmd} does not call {tool}"
        );
    };
    uses("codex", "codex_status");
    uses("codex", "codex_query");
    for t in ["codex_status", "codex_login", "codex_models", "codex_usage"] {
        uses("codex-config", t);
    }
    uses("codex-clear", "codex_clear");
    uses("codex-review", "codex_status");
    uses("codex-review", "codex_review");
    for t in ["codex_jobs", "codex_result", "codex_cancel"] {
        uses("codex-jobs", t);
    }
    uses("codex-task", "codex_task");
    for t in ["codex_result", "codex_apply"] {
        uses("codex-apply", t);
    }
    // Applying a patch to the user's tree is for the user to ask, never for the model to decide.
    assert_eq!(
        by_name["codex-apply"]
            .fields
            .get("disable-model-invocation"),
        Some(&Field::Bool(true))
    );
    // /codex-review passes its argument on as `base`, and Claude pastes no code.
    let review = &by_name["codex-review"].body;
    assert_eq!(review.matches("$ARGUMENTS").count(), 1);
    assert!(review.contains("as `base`") && review.contains("Do not read, paste"));
    // … or `--staged` as `staged: true`, or `--commit <rev>` as `commit`.
    assert!(review.contains("`staged: true`") && review.contains("as `commit`"));
    // /codex passes the user's words on unchanged.
    let codex = &by_name["codex"].body;
    assert_eq!(codex.matches("$ARGUMENTS").count(), 1);
    assert!(codex.contains("verbatim") && codex.contains("exactly as"));
    // Signing out is for the user to ask, never for the model to decide.
    assert_eq!(
        by_name["codex-clear"]
            .fields
            .get("disable-model-invocation"),
        Some(&Field::Bool(true))
    );
    let before = by_name["codex-clear"]
        .body
        .find("what happens")
        .expect("/codex-clear says what it does");
    let clear = by_name["codex-clear"]
        .body
        .find(&crate::support::claude_tool_name(
            PLUGIN,
            SERVER,
            "codex_clear",
        ))
        .unwrap();
    let status = by_name["codex-clear"]
        .body
        .find(&crate::support::claude_tool_name(
            PLUGIN,
            SERVER,
            "codex_status",
        ))
        .unwrap();
    assert!(
        status < before && before < clear,
        "/codex-clear explains before it signs out"
    );
}

#[tokio::test]
async fn the_skill_is_named_after_its_folder_and_says_when_and_how_to_use_codex() {
    let tools = bridge_tools().await;
    let skills = skills();
    assert_eq!(
        skills.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["codex-integration"]
    );
    for (folder, doc) in &skills {
        let what = doc.path.display().to_string();
        check_fields(doc, SKILL_FIELDS);
        assert_eq!(
            doc.fields.get("name"),
            Some(&Field::Str(folder.clone())),
            "{what}: `name` must be the folder name"
        );
        assert!(is_kebab(folder) && folder.len() <= 64, "{folder}");
        let Some(Field::Str(description)) = doc.fields.get("description") else {
            unreachable!("checked above")
        };
        assert!(
            (100..=1024).contains(&description.len()),
            "{what}: a description of {} characters",
            description.len()
        );
        for when in ["second opinion", "review", "alternative implementation"] {
            assert!(
                description.contains(when),
                "{what}: description lacks `{when}`"
            );
        }
        if let Some(f) = doc.fields.get("allowed-tools") {
            for name in allowed_tools(f, &what) {
                let tool = our_tool(&name, &tools, &what);
                // Sending code away stays a question for the user.
                assert!(
                    !["codex_query", "codex_review"].contains(&tool),
                    "{what} pre-approves {tool}"
                );
            }
        }
        for name in mentioned_tools(&doc.body) {
            our_tool(&name, &tools, &what);
        }
        let query = crate::support::claude_tool_name(PLUGIN, SERVER, "codex_query");
        assert!(doc.body.contains(&query), "{what}: says how to call Codex");
        assert!(doc.body.contains("conversation_id"));
        assert!(doc.body.to_lowercase().contains("secret"));
    }
}

#[tokio::test]
async fn every_tool_the_bridge_lists_is_reachable_from_the_plugin() {
    let tools = bridge_tools().await;
    let mut text = String::new();
    for c in commands() {
        text.push_str(&c.body);
    }
    for (_, s) in skills() {
        text.push_str(&s.body);
    }
    for a in agents() {
        text.push_str(&a.body);
    }
    for tool in &tools {
        let name = crate::support::claude_tool_name(PLUGIN, SERVER, tool);
        assert!(text.contains(&name), "no command or skill uses {tool}");
    }
}
