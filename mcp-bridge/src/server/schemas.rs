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
    use std::cell::{Cell, RefCell};
    use std::collections::BTreeMap;

    use super::*;
    use crate::server::CodexServer;

    thread_local! {
        pub(super) static DERIVED_ONLY: Cell<bool> = const { Cell::new(false) };
        static DERIVED: RefCell<BTreeMap<String, JsonObject>> = const { RefCell::new(BTreeMap::new()) };
    }

    pub(super) fn record(key: String, schema: &JsonObject) {
        DERIVED.with(|d| d.borrow_mut().insert(key, schema.clone()));
    }

    /// Every schema the tools use, by key, derived from the types now.
    fn derived() -> BTreeMap<String, JsonObject> {
        DERIVED_ONLY.with(|d| d.set(true));
        let _ = CodexServer::tools_for_tests();
        DERIVED_ONLY.with(|d| d.set(false));
        DERIVED.with(|d| std::mem::take(&mut *d.borrow_mut()))
    }

    #[test]
    fn the_kept_schemas_are_what_the_types_derive() {
        let derived = derived();
        if std::env::var_os("CODEX_OAUTH_WRITE_SCHEMAS").is_some() {
            write_file(&derived);
        }
        let kept: BTreeMap<String, JsonObject> = serde_json::from_str(KEPT).unwrap();
        assert_eq!(
            kept, derived,
            "schemas.json differs from the tools' types: write it again with \
             CODEX_OAUTH_WRITE_SCHEMAS=1 cargo test -p codex-mcp-bridge schemas"
        );
    }

    #[test]
    fn the_tools_serve_the_kept_schemas() {
        let kept: BTreeMap<String, JsonObject> = serde_json::from_str(KEPT).unwrap();
        for tool in CodexServer::tools_for_tests() {
            // A tool without arguments has rmcp's empty schema, made without schemars.
            let empty = rmcp::handler::server::common::schema_for_empty_input();
            let mut schemas: Vec<_> = Some(tool.input_schema)
                .filter(|s| *s != empty)
                .into_iter()
                .collect();
            schemas.extend(tool.output_schema);
            for schema in schemas {
                assert!(
                    kept.values().any(|k| *k == *schema),
                    "{}: a schema not kept in schemas.json",
                    tool.name
                );
            }
        }
    }

    /// The file, from the types: each key once, sorted, one schema a line.
    fn write_file(all: &BTreeMap<String, JsonObject>) {
        let lines: Vec<String> = all
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}: {}",
                    serde_json::to_string(k).unwrap(),
                    serde_json::to_string(v).unwrap()
                )
            })
            .collect();
        let text = format!("{{\n{}\n}}\n", lines.join(",\n"));
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/server/schemas.json");
        std::fs::write(path, text).unwrap();
    }
}
