//! What the server says about itself, and how it answers input it cannot use.

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn the_server_introduces_itself_as_codex_oauth_with_instructions() {
    let h = signed_out().await;
    let info = h.client.peer_info().expect("initialized");
    let me = info.server_info.clone().expect("serverInfo");
    assert_eq!(me.name, "codex-oauth");
    assert_eq!(me.version, env!("CARGO_PKG_VERSION"));
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(instructions.contains("codex_query"), "{instructions}");
    assert!(instructions.contains("codex_login"), "{instructions}");
    assert!(info.capabilities.tools.is_some());
    h.stop().await;
}

#[tokio::test]
async fn twelve_tools_are_listed_with_schemas_descriptions_and_annotations() {
    let h = signed_out().await;
    let tools = h.client.list_all_tools().await.unwrap();
    let mut names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "codex_apply",
            "codex_cancel",
            "codex_clear",
            "codex_jobs",
            "codex_login",
            "codex_models",
            "codex_query",
            "codex_result",
            "codex_review",
            "codex_status",
            "codex_task",
            "codex_usage"
        ]
    );
    let tool = |n: &str| tools.iter().find(|t| t.name == n).unwrap();
    for t in &tools {
        assert!(
            t.description.as_deref().is_some_and(|d| d.len() > 40),
            "{} needs a description",
            t.name
        );
        assert_eq!(
            t.input_schema.get("type"),
            Some(&json!("object")),
            "{}",
            t.name
        );
        assert!(t.annotations.is_some(), "{} needs annotations", t.name);
    }

    let q = Value::Object(tool("codex_query").input_schema.as_ref().clone());
    assert_eq!(q["required"], json!(["prompt"]));
    assert!(
        q["properties"].get("temperature").is_none(),
        "no temperature: the ChatGPT backend refuses it"
    );
    for p in [
        "prompt",
        "model",
        "system_prompt",
        "reasoning_effort",
        "conversation_id",
        "max_output_chars",
    ] {
        assert!(
            q["properties"].get(p).is_some(),
            "codex_query lacks `{p}`: {q}"
        );
    }
    let login = Value::Object(tool("codex_login").input_schema.as_ref().clone());
    let schema_text = login.to_string();
    assert!(
        schema_text.contains("browser") && schema_text.contains("device"),
        "{schema_text}"
    );

    for read_only in ["codex_status", "codex_models", "codex_usage"] {
        let a = tool(read_only).annotations.clone().unwrap();
        assert_eq!(a.read_only_hint, Some(true), "{read_only}");
    }
    let clear = tool("codex_clear").annotations.clone().unwrap();
    assert_eq!(clear.destructive_hint, Some(true));
    assert_eq!(clear.read_only_hint, Some(false));
    let review = Value::Object(tool("codex_review").input_schema.as_ref().clone());
    for p in [
        "base",
        "paths",
        "focus",
        "model",
        "reasoning_effort",
        "account",
        "staged",
        "commit",
    ] {
        assert!(
            review["properties"].get(p).is_some(),
            "codex_review lacks `{p}`: {review}"
        );
    }
    assert!(
        q["properties"].get("files").is_some(),
        "codex_query lacks `files`: {q}"
    );
    let query = tool("codex_query").annotations.clone().unwrap();
    assert_eq!(query.read_only_hint, Some(false));
    assert_eq!(query.destructive_hint, Some(false));
    h.stop().await;
}

#[tokio::test]
async fn the_tools_whose_answers_can_be_large_declare_the_result_size_claude_code_keeps() {
    let h = signed_out().await;
    let tools = h.client.list_all_tools().await.unwrap();
    let mut large = Vec::new();
    for t in &tools {
        // As it goes over the wire: `_meta` of the tool in `tools/list`.
        let wire = serde_json::to_value(t).unwrap();
        if let Some(meta) = wire.get("_meta") {
            assert_eq!(
                meta,
                &json!({"anthropic/maxResultSizeChars": 400_000}),
                "{}",
                t.name
            );
            large.push(t.name.to_string());
        }
    }
    large.sort();
    assert_eq!(
        large,
        ["codex_query", "codex_result", "codex_review", "codex_task"]
    );
    h.stop().await;
}

#[tokio::test]
async fn an_answer_longer_than_a_result_carries_is_cut_to_it_with_a_note() {
    let h = signed_in().await;
    h.fake.set_faults(fake_openai::Faults {
        answer: Some("é".repeat(450_000)),
        ..Default::default()
    });
    let (text, data) = h
        .ok(
            "codex_query",
            json!({"prompt": "long", "max_output_chars": 1_000_000}),
        )
        .await;
    let chars = text.chars().count();
    assert!((390_000..=400_000).contains(&chars), "{chars}");
    assert!(
        text.contains("characters shown; the most a result carries"),
        "{}",
        &text[text.len() - 400..]
    );
    assert_eq!(data["truncated"], json!(true));
    assert_eq!(data["answer_chars"], json!(450_000));
    h.stop().await;
}

#[tokio::test]
async fn an_unknown_tool_is_a_json_rpc_error() {
    let h = signed_in().await;
    let (code, message) = h.protocol_error("codex_explode", json!({})).await;
    assert_eq!(code, -32602);
    assert!(message.contains("tool not found"), "{message}");
    h.stop().await;
}

#[tokio::test]
async fn bad_arguments_are_json_rpc_errors_that_name_the_problem() {
    let h = signed_in().await;
    let cases = [
        (json!({}), "prompt"),
        (json!({"prompt": 5}), "expected a string"),
        // The ChatGPT backend refuses a temperature, so the tool has none.
        (json!({"prompt": "hi", "temperature": 0.3}), "temperature"),
        (
            json!({"prompt": "hi", "reasoning_effort": 5}),
            "reasoning_effort",
        ),
        (json!({"prompt": "hi", "promt": "typo"}), "promt"),
        (json!({"prompt": "   "}), "prompt"),
        (
            json!({"prompt": "hi", "max_output_chars": -1}),
            "max_output_chars",
        ),
        (
            json!({"prompt": "hi", "max_output_chars": 0}),
            "max_output_chars",
        ),
    ];
    for (args, needle) in cases {
        let (code, message) = h.protocol_error("codex_query", args.clone()).await;
        assert_eq!(code, -32602, "{args}");
        assert!(message.contains(needle), "{args}: {message}");
    }
    let (code, message) = h
        .protocol_error("codex_login", json!({"method": "carrier-pigeon"}))
        .await;
    assert_eq!(code, -32602);
    assert!(message.contains("carrier-pigeon"), "{message}");
    assert_eq!(h.fake.stats().responses, 0, "nothing reached the backend");
    // The server is still fine.
    h.ok("codex_status", json!({})).await;
    h.stop().await;
}

#[tokio::test]
async fn a_huge_prompt_is_refused_without_reaching_the_backend() {
    let h = signed_in().await;
    let prompt = "x".repeat(5 * 1024 * 1024);
    let (text, data) = h.tool_error("codex_query", json!({"prompt": prompt})).await;
    assert!(text.contains("MB"), "{text}");
    assert_eq!(data["kind"], "prompt_too_large");
    assert_eq!(h.fake.stats().responses, 0);
    h.stop().await;
}
