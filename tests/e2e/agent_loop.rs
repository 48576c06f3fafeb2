//! core's tool loop against fake-openai scripted to call tools: each call's output goes back
//! with the whole conversation (the call echoed, then its output), the loop ends on an answer
//! with no call, and the turn limit stops it.

use std::sync::Mutex;

use codex_oauth_core::agent::{LoopLimits, Step, ToolBox, ToolRun, run_loop};
use codex_oauth_core::codex::{CodexClient, ResponseRequest, ToolCall, ToolInput, Turn};
use fake_openai::Faults;
use serde_json::{Value, json};

use crate::support::*;

/// A tool box whose one function tool, `shout`, answers its `text` in capitals.
#[derive(Default)]
struct Shout {
    seen: Mutex<Vec<String>>,
}

impl ToolBox for Shout {
    fn definitions(&self) -> Vec<Value> {
        vec![
            json!({"type": "function", "name": "shout", "description": "Say it louder.",
            "strict": false, "parameters": {"type": "object", "properties": {"text": {"type": "string"}},
            "required": ["text"]}}),
        ]
    }

    async fn run(&self, call: &ToolCall) -> ToolRun {
        let ToolInput::Function { arguments } = &call.input else {
            panic!("shout is a function tool")
        };
        let v: Value = serde_json::from_str(arguments).unwrap();
        let text = v["text"].as_str().unwrap().to_owned();
        self.seen.lock().unwrap().push(text.clone());
        ToolRun {
            output: text.to_uppercase().into(),
            step: Step {
                tool: call.name.clone(),
                command: text,
                exit_code: Some(0),
                seconds: 0.0,
            },
        }
    }
}

async fn client(home: &Home) -> CodexClient {
    let session = codex_oauth_core::Session::open(home.settings()).unwrap();
    CodexClient::new(session).unwrap()
}

#[tokio::test]
async fn each_call_is_answered_with_the_conversation_and_the_loop_ends_on_an_answer() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    fake.set_faults(Faults {
        script: vec![
            json!({"function_call": {"name": "shout", "arguments": {"text": "one"}}}),
            json!({"function_call": {"name": "shout", "arguments": {"text": "two"}}}),
            json!({"answer": "Shouted twice."}),
        ],
        ..Faults::default()
    });
    let codex = client(&home).await;
    let model = codex.model(Some("gpt-5.5")).await.unwrap();
    let req = ResponseRequest::new(&model, vec![Turn::user("Shout one, then two.")]);
    let tools = Shout::default();
    let done = run_loop(&codex, req, &tools, LoopLimits::default(), &|_| {})
        .await
        .unwrap();
    assert_eq!(done.answer.text, "Shouted twice.");
    assert_eq!(done.turns, 3);
    assert!(!done.turn_limit);
    assert_eq!(*tools.seen.lock().unwrap(), ["one", "two"]);
    assert_eq!(done.steps.len(), 2);
    // What the backend got: the tools offered each time, and the third request carries both
    // calls, each followed by its output.
    let reqs = fake.requests_to("/backend-api/codex/responses");
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(r.body["tools"][0]["name"], "shout", "{}", r.body);
    }
    let items: Vec<&Value> = reqs[2].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] != "message")
        .collect();
    let kinds: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "function_call",
            "function_call_output",
            "function_call",
            "function_call_output"
        ]
    );
    assert_eq!(items[0]["call_id"], items[1]["call_id"]);
    assert_eq!(items[1]["output"], "ONE");
    assert_eq!(items[3]["output"], "TWO");
}

#[tokio::test]
async fn the_turn_limit_stops_a_loop_that_keeps_calling() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let call = json!({"function_call": {"name": "shout", "arguments": {"text": "again"}}});
    fake.set_faults(Faults {
        script: vec![call.clone(), call.clone(), call],
        ..Faults::default()
    });
    let codex = client(&home).await;
    let model = codex.model(Some("gpt-5.5")).await.unwrap();
    let req = ResponseRequest::new(&model, vec![Turn::user("Keep going.")]);
    let done = run_loop(
        &codex,
        req,
        &Shout::default(),
        LoopLimits { max_turns: 2 },
        &|_| {},
    )
    .await
    .unwrap();
    assert!(done.turn_limit);
    assert_eq!(done.turns, 2);
    assert_eq!(fake.requests_to("/backend-api/codex/responses").len(), 2);
}
