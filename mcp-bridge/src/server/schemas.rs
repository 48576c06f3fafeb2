//! The tools' input and output schemas, generated from their types and kept, as generated, in
//! `schemas.json`: deriving them all with schemars took 2 of a cold start's 6.5 ms, reading
//! the file takes a fraction of that. A schema missing from the file is derived as before, and
//! the test below fails whenever the file differs from what the types derive
//! (`CODEX_OAUTH_WRITE_SCHEMAS=1 cargo test -p codex-mcp-bridge schemas` writes it again).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rmcp::handler::server::common::{schema_for_empty_input, schema_for_input};
use rmcp::handler::server::tool::schema_for_output;
use rmcp::model::JsonObject;
use schemars::JsonSchema;

/// The generated schemas: `input <type>` and `output <type>` to the schema.
const KEPT: &str = include_str!("schemas.json");

/// The input schema of `T` (an object schema; never panics).
pub fn input<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    kept_or("input", std::any::type_name::<T>(), || {
        schema_for_input::<T>().unwrap_or_else(|_| schema_for_empty_input())
    })
}

/// The `outputSchema` of a tool whose structured content is a `T`.
pub fn output<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    kept_or("output", std::any::type_name::<T>(), schema_for_output::<T>)
}

fn kept_or(
    side: &str,
    type_name: &str,
    derive: impl FnOnce() -> Arc<JsonObject>,
) -> Arc<JsonObject> {
    if derived_only() {
        let schema = derive();
        #[cfg(test)]
        tests::record(key(side, type_name), &schema);
        return schema;
    }
    match kept().get(&key(side, type_name)) {
        Some(schema) => schema.clone(),
        None => derive(),
    }
}

fn key(side: &str, type_name: &str) -> String {
    format!("{side} {type_name}")
}

fn kept() -> &'static HashMap<String, Arc<JsonObject>> {
    static KEPT_SCHEMAS: OnceLock<HashMap<String, Arc<JsonObject>>> = OnceLock::new();
    KEPT_SCHEMAS.get_or_init(|| {
        // A file that does not parse (it is checked by the test below) only costs the time.
        serde_json::from_str::<HashMap<String, JsonObject>>(KEPT)
            .map(|all| all.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
            .unwrap_or_default()
    })
}

#[cfg(not(test))]
fn derived_only() -> bool {
    false
}

#[cfg(test)]
fn derived_only() -> bool {
    tests::DERIVED_ONLY.with(std::cell::Cell::get)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::BTreeMap;

    use super::*;
    use crate::server::CodexServer;

    thread_local! {
        pub(super) static DERIVED_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    /// Every tool's schemas as `key` → schema, derived from the types or read from the file.
    fn schemas(derived: bool) -> BTreeMap<String, serde_json::Value> {
        DERIVED_ONLY.with(|d| d.set(derived));
        let tools = CodexServer::tools_for_tests();
        DERIVED_ONLY.with(|d| d.set(false));
        let mut all = BTreeMap::new();
        for tool in tools {
            all.insert(
                format!("{} input", tool.name),
                serde_json::Value::Object((*tool.input_schema).clone()),
            );
            if let Some(out) = tool.output_schema {
                all.insert(
                    format!("{} output", tool.name),
                    serde_json::Value::Object((*out).clone()),
                );
            }
        }
        all
    }

    #[test]
    fn the_kept_schemas_are_what_the_types_derive() {
        let derived = schemas(true);
        if std::env::var_os("CODEX_OAUTH_WRITE_SCHEMAS").is_some() {
            write_file();
        }
        let served = schemas(false);
        assert_eq!(
            served, derived,
            "schemas.json differs from the tools' types: write it again with \
             CODEX_OAUTH_WRITE_SCHEMAS=1 cargo test -p codex-mcp-bridge schemas"
        );
    }

    #[test]
    fn every_kept_schema_is_used_by_a_tool() {
        let kept: HashMap<String, JsonObject> = serde_json::from_str(KEPT).unwrap();
        let served: Vec<serde_json::Value> = schemas(false).into_values().collect();
        for (k, schema) in kept {
            assert!(
                served.contains(&serde_json::Value::Object(schema)),
                "{k} in schemas.json is no tool's: write the file again"
            );
        }
    }

    /// The file, from the types: each key once, sorted, one schema a line.
    fn write_file() {
        let mut all = BTreeMap::new();
        RECORD.with(|r| r.set(true));
        DERIVED_ONLY.with(|d| d.set(true));
        let _ = CodexServer::tools_for_tests();
        DERIVED_ONLY.with(|d| d.set(false));
        RECORD.with(|r| r.set(false));
        RECORDED.with(|r| all.append(&mut r.borrow_mut()));
        let mut text = String::from("{\n");
        let n = all.len();
        for (i, (k, v)) in all.into_iter().enumerate() {
            let comma = if i + 1 < n { "," } else { "" };
            text.push_str(&format!(
                "{}: {}{comma}\n",
                serde_json::to_string(&k).unwrap(),
                serde_json::to_string(&v).unwrap()
            ));
        }
        text.push_str("}\n");
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/server/schemas.json");
        std::fs::write(path, text).unwrap();
    }

    thread_local! {
        static RECORD: Cell<bool> = const { Cell::new(false) };
        static RECORDED: std::cell::RefCell<BTreeMap<String, JsonObject>> =
            const { std::cell::RefCell::new(BTreeMap::new()) };
    }

    pub(super) fn record(key: String, schema: &JsonObject) {
        if RECORD.with(Cell::get) {
            RECORDED.with(|r| r.borrow_mut().insert(key, schema.clone()));
        }
    }
}
