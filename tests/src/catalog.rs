//! The model catalog the fake serves: entries in the shape the backend sends today.

use serde_json::{Value, json};

/// One catalog entry in the shape the backend sends today (PROTOCOL.md §6), with every field the
/// reference client requires to accept the catalog (it drops the whole answer over one bad
/// entry and falls back to its built-in list).
pub fn catalog_model(
    slug: &str,
    name: &str,
    priority: u32,
    lite: bool,
    efforts: &[&str],
    minimal_client_version: Value,
) -> Value {
    let describe = |e: &str| match e {
        "low" => "Fast responses with lighter reasoning",
        "medium" => "Balances speed and reasoning depth",
        "high" => "Greater reasoning depth",
        "xhigh" => "Extra high reasoning depth",
        "max" => "Maximum reasoning depth",
        "ultra" => "Maximum reasoning with automatic task delegation",
        _ => "Reasoning effort",
    };
    json!({
        "slug": slug,
        "display_name": name,
        "description": format!("{name} (fake-openai)"),
        "priority": priority,
        "visibility": "list",
        "use_responses_lite": lite,
        "minimal_client_version": minimal_client_version,
        "default_reasoning_level": "medium",
        "supported_reasoning_levels": efforts.iter().map(|e| json!({"effort": e, "description": describe(e)})).collect::<Vec<_>>(),
        "support_verbosity": true,
        "default_verbosity": "low",
        "truncation_policy": {"mode": "tokens", "limit": 10000},
        "shell_type": "shell_command",
        "supported_in_api": true,
        "experimental_supported_tools": [],
        "input_modalities": ["text", "image"],
        "context_window": 272000,
        "available_in_plans": ["plus", "pro", "business", "enterprise"],
        "model_messages": {"instructions_template": format!("You are {name}, served by fake-openai.")},
    })
}

/// Today's catalog: a lite default, more lite models (one text-only), the standard gpt-5.5, a
/// model gated above 0.171.0, and a hidden one.
pub fn todays_catalog() -> Vec<Value> {
    let all = ["low", "medium", "high", "xhigh", "max", "ultra"];
    let mut luna = catalog_model(
        "gpt-6-luna",
        "GPT-6 Luna",
        5,
        true,
        &["low", "medium", "high"],
        json!("0.150.0"),
    );
    luna["input_modalities"] = json!(["text"]);
    let mut hidden = catalog_model(
        "codex-auto-review",
        "Codex Auto Review",
        0,
        true,
        &all,
        json!("0.160.0"),
    );
    hidden["visibility"] = json!("hide");
    // Its default effort differs from the others', as in the real catalog.
    let mut sol = catalog_model(
        "gpt-6.2-sol",
        "GPT-6.2 Sol",
        1,
        true,
        &all,
        json!("0.166.0"),
    );
    sol["default_reasoning_level"] = json!("low");
    vec![
        catalog_model(
            "gpt-5.5",
            "GPT-5.5",
            13,
            false,
            &["low", "medium", "high", "xhigh", "max"],
            json!([0, 124, 0]),
        ),
        catalog_model(
            "gpt-6.3-nova",
            "GPT-6.3 Nova",
            0,
            true,
            &all,
            json!("0.180.0"),
        ),
        hidden,
        catalog_model(
            "gpt-6.2-astra",
            "GPT-6.2 Astra",
            2,
            true,
            &all,
            json!("0.166.0"),
        ),
        sol,
        luna,
    ]
}
