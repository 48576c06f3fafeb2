//! The tool loop's wire against the reference client (PROTOCOL.md §8, §9): the Codex CLI answers
//! a tool call as our loop answers it.

use std::collections::BTreeSet;

use fake_openai::{FakeConfig, FakeOpenAi, RecordedRequest};
use serde_json::{Value, json};

use crate::conformance::{RefHome, all_accepted};

/// An item's keys, the reference's own turn metadata aside: it adds
/// `internal_chat_message_metadata_passthrough: {turn_id}` to the items it sends, and the backend
/// needs none of it.
fn item_keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "internal_chat_message_metadata_passthrough")
        .cloned()
        .collect()
}

/// The tool loop's wire (PROTOCOL.md §9): the reference client, answered first with a
/// `function_call` of `exec_command`, runs it (or fails to) and sends the output back; the
/// fake checks the call/output pairing. Our loop, on the same script, sends the same items.
#[tokio::test]
#[ignore = "needs the reference client (tests/conformance, npm): run by scripts/test"]
async fn a_tool_call_is_answered_by_the_reference_client_as_our_loop_answers_it() {
    use codex_oauth_core::agent::{LoopLimits, Step, ToolBox, ToolRun, run_loop};
    use codex_oauth_core::codex::{CodexClient, ResponseRequest, ToolCall, Turn};

    let script = || {
        vec![
            json!({"function_call": {"name": "exec_command", "arguments": {"cmd": "echo conformance"}}}),
            json!({"answer": "Ran it."}),
        ]
    };
    let fake = FakeOpenAi::start(FakeConfig::default()).await.unwrap();
    fake.set_faults(fake_openai::Faults {
        script: script(),
        ..Default::default()
    });
    let home = RefHome::new(
        json!({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-conformance-0001"}),
        &format!("openai_base_url = \"{}/v1\"\n", fake.base_url()),
    );
    let (code, out, err) = home
        .run(&["exec", "--skip-git-repo-check", "-m", "gpt-5.5", "run echo"])
        .await;
    assert_eq!(code, Some(0), "codex exec failed:\n{out}\n{err}");
    let theirs = all_accepted(&fake, "/v1/responses");
    assert_eq!(theirs.len(), 2, "the call, then its output");
    let tool_items = |r: &RecordedRequest| -> Vec<Value> {
        r.body["input"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["type"] == "function_call" || i["type"] == "function_call_output")
            .cloned()
            .collect()
    };
    let their_items = tool_items(&theirs[1]);

    // Ours, with a tool box whose exec_command answers a fixed text.
    struct Fixed;
    impl ToolBox for Fixed {
        fn definitions(&self) -> Vec<Value> {
            vec![
                json!({"type": "function", "name": "exec_command", "description": "Run a command.",
                "strict": false, "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}},
                "required": ["cmd"]}}),
            ]
        }
        async fn run(&self, call: &ToolCall) -> ToolRun {
            ToolRun {
                output: "Process exited with code 0\nOutput:\nconformance\n".into(),
                step: Step {
                    tool: call.name.clone(),
                    command: "echo conformance".into(),
                    exit_code: Some(0),
                    seconds: 0.0,
                },
            }
        }
    }
    let ours_fake = FakeOpenAi::start(FakeConfig::default()).await.unwrap();
    ours_fake.set_faults(fake_openai::Faults {
        script: script(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let mut env: std::collections::HashMap<String, String> = ours_fake.env().into_iter().collect();
    env.insert("CODEX_OAUTH_HOME".into(), dir.path().display().to_string());
    env.insert("CODEX_OAUTH_STORE".into(), "file".into());
    let settings = codex_oauth_core::Settings::from_env(&env).unwrap();
    let session = codex_oauth_core::Session::open(settings).unwrap();
    let t = ours_fake.mint_tokens(3600);
    session
        .save_record(codex_oauth_core::store::AuthRecord::from_tokens(
            codex_oauth_core::Secret::new(t.id_token),
            codex_oauth_core::Secret::new(t.access_token),
            codex_oauth_core::Secret::new(t.refresh_token),
            None,
        ))
        .await
        .unwrap();
    let codex = CodexClient::new(session).unwrap();
    let model = codex.model(Some("gpt-5.5")).await.unwrap();
    let req = ResponseRequest::new(&model, vec![Turn::user("run echo")]);
    run_loop(&codex, req, &Fixed, LoopLimits::default(), &|_| {})
        .await
        .unwrap();
    let ours = all_accepted(&ours_fake, "/backend-api/codex/responses");
    assert_eq!(ours.len(), 2);
    let our_items = tool_items(&ours[1]);
    let kinds = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .map(|i| i["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        kinds(&their_items),
        ["function_call", "function_call_output"]
    );
    assert_eq!(kinds(&our_items), kinds(&their_items));
    let keys = item_keys;
    assert_eq!(
        keys(&our_items[0]),
        keys(&their_items[0]),
        "the echoed call: {} / {}",
        our_items[0],
        their_items[0]
    );
    assert_eq!(
        keys(&our_items[1]),
        keys(&their_items[1]),
        "the output: {} / {}",
        our_items[1],
        their_items[1]
    );
    assert!(their_items[1]["output"].is_string(), "{}", their_items[1]);
}

/// `view_image` (PROTOCOL.md §9): the reference client offers it to a model that takes images
/// and answers a call with the image as the output's content items; our task tools offer it with
/// the same name and parameter, and answer with the same shape.
#[tokio::test]
#[ignore = "needs the reference client (tests/conformance, npm): run by scripts/test"]
async fn a_view_image_call_is_answered_by_the_reference_client_as_our_task_tools_answer_it() {
    use codex_oauth_core::agent::{TaskTools, ToolBox};
    use codex_oauth_core::codex::{ToolCall, ToolInput};

    let script = vec![
        json!({"function_call": {"name": "view_image", "arguments": {"path": "pixel.png"}}}),
        json!({"answer": "A red pixel."}),
    ];
    let fake = FakeOpenAi::start(FakeConfig::default()).await.unwrap();
    fake.set_faults(fake_openai::Faults {
        script,
        ..Default::default()
    });
    let home = RefHome::new(
        json!({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-conformance-0001"}),
        &format!("openai_base_url = \"{}/v1\"\n", fake.base_url()),
    );
    let pixel = |dir: &std::path::Path| {
        image::RgbImage::from_pixel(1, 1, image::Rgb([255, 0, 0]))
            .save(dir.join("pixel.png"))
            .unwrap();
    };
    pixel(home.dir());
    let (code, out, err) = home
        .run(&[
            "exec",
            "--skip-git-repo-check",
            "-m",
            "gpt-5.5",
            "look at pixel.png",
        ])
        .await;
    assert_eq!(code, Some(0), "codex exec failed:\n{out}\n{err}");
    let theirs = all_accepted(&fake, "/v1/responses");
    assert_eq!(theirs.len(), 2, "the call, then its output");
    let their_tool = theirs[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "view_image")
        .cloned()
        .expect("the reference offers view_image");
    let their_output = theirs[1].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call_output")
        .cloned()
        .unwrap();

    let ours_dir = tempfile::tempdir().unwrap();
    pixel(ours_dir.path());
    let tools = TaskTools::new(ours_dir.path(), None).with_images(true);
    let our_tool = tools
        .definitions()
        .into_iter()
        .find(|t| t["name"] == "view_image")
        .unwrap();
    assert_eq!(our_tool["type"], their_tool["type"]);
    assert_eq!(
        our_tool["parameters"]["required"], their_tool["parameters"]["required"],
        "{their_tool}"
    );
    assert!(their_tool["parameters"]["properties"]["path"].is_object());
    let call = ToolCall {
        call_id: their_output["call_id"].as_str().unwrap().to_owned(),
        name: "view_image".into(),
        input: ToolInput::Function {
            arguments: json!({"path": "pixel.png"}).to_string(),
        },
    };
    let ran = tools.run(&call).await;
    let our_output = call.output_item(ran.output.to_value());
    let keys = item_keys;
    assert_eq!(keys(&our_output), keys(&their_output), "{their_output}");
    let (ours, theirs) = (
        our_output["output"].as_array().expect("content items"),
        their_output["output"].as_array().expect("content items"),
    );
    assert_eq!(ours.len(), theirs.len(), "{their_output}");
    for (o, t) in ours.iter().zip(theirs) {
        assert_eq!(o["type"], t["type"], "{t}");
        // `detail` is optional (the backend's default is `auto`); ours leaves it out.
        let t_keys: BTreeSet<String> = keys(t).into_iter().filter(|k| k != "detail").collect();
        assert_eq!(keys(o), t_keys, "{t}");
        for url in [&o["image_url"], &t["image_url"]] {
            assert!(
                url.as_str().unwrap().starts_with("data:image/png;base64,"),
                "{url}"
            );
        }
    }
}
