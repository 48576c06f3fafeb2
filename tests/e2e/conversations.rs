//! Conversations kept on disk: continued by a bridge process that did not start them, and
//! appended to by two bridge processes at once.

use fake_openai::Faults;
use serde_json::{Value, json};

use crate::bridge::Bridge;
use crate::support::*;

/// The turns of a recorded request (role, text), the developer messages left out.
fn turns(body: &Value) -> Vec<(String, String)> {
    body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] != "developer")
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"][0]["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_conversation_started_by_one_bridge_is_continued_by_a_new_bridge_process() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;

    let first = Bridge::spawn(&home).await;
    let (_, data) = first
        .ok(
            "codex_query",
            json!({"prompt": "Remember the number 7.", "model": "gpt-6.2-astra", "system_prompt": "Be terse."}),
        )
        .await;
    let id = data["conversation_id"].as_str().unwrap().to_owned();
    first.stop().await;

    let second = Bridge::spawn(&home).await;
    let (_, data) = second
        .ok(
            "codex_query",
            json!({"prompt": "Which number?", "conversation_id": id}),
        )
        .await;
    assert_eq!(data["answer"], "Echo #2: Which number?");
    assert_eq!(data["conversation_id"], id.as_str());
    assert_eq!(data["model"], "gpt-6.2-astra", "the conversation's model");

    let reqs = fake.requests_to("/backend-api/codex/responses");
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        turns(&reqs[1].body),
        [
            ("user".to_owned(), "Remember the number 7.".to_owned()),
            (
                "assistant".to_owned(),
                "Echo #1: Remember the number 7.".to_owned()
            ),
            ("user".to_owned(), "Which number?".to_owned()),
        ],
        "the earlier turns, from the first process"
    );
    let developer: Vec<&str> = reqs[1].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "developer")
        .map(|m| m["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(developer.last(), Some(&"Be terse."), "the system prompt");
    assert_eq!(
        reqs[0].headers["session-id"], reqs[1].headers["session-id"],
        "one backend conversation"
    );
    second.stop().await;
}

#[tokio::test]
async fn two_bridge_processes_appending_to_one_conversation_lose_no_turn() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let (a, b) = tokio::join!(Bridge::spawn(&home), Bridge::spawn(&home));
    let (_, data) = a.ok("codex_query", json!({"prompt": "start"})).await;
    let id = data["conversation_id"].as_str().unwrap().to_owned();

    // Slow answers: both bridges read the conversation before either adds to it.
    fake.set_faults(Faults {
        delta_delay_ms: 10,
        ..Faults::default()
    });
    const ROUNDS: usize = 3;
    for round in 0..ROUNDS {
        let ask = |who: &'static str| json!({"prompt": format!("from {who} #{round}"), "conversation_id": id});
        tokio::join!(a.ok("codex_query", ask("a")), b.ok("codex_query", ask("b")));
    }
    fake.set_faults(Faults::default());

    let (_, last) = b
        .ok(
            "codex_query",
            json!({"prompt": "last", "conversation_id": id}),
        )
        .await;
    let reqs = fake.requests_to("/backend-api/codex/responses");
    let sent = turns(&reqs.last().unwrap().body);
    assert_eq!(sent.len(), 2 + 4 * ROUNDS + 1, "{sent:?}");
    let mut users: Vec<&str> = sent
        .iter()
        .filter(|(role, _)| role == "user")
        .map(|(_, t)| t.as_str())
        .collect();
    users.sort();
    let mut expected = vec!["start".to_owned(), "last".to_owned()];
    for round in 0..ROUNDS {
        expected.push(format!("from a #{round}"));
        expected.push(format!("from b #{round}"));
    }
    expected.sort();
    assert_eq!(users, expected, "every exchange of both processes");
    for pair in sent[..sent.len() - 1].chunks(2) {
        assert_eq!(pair[0].0, "user");
        assert_eq!(pair[1].0, "assistant");
        assert!(
            pair[1].1.ends_with(&format!(": {}", pair[0].1)),
            "each answer follows its question: {pair:?}"
        );
    }
    assert_eq!(last["answer"], format!("Echo #{}: last", 2 + 2 * ROUNDS));

    // The file is whole, private and alone (no temp file left behind).
    let dir = home.profile_dir().join("conversations");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lock")
        .collect();
    assert_eq!(names, [format!("{id}.json")]);
    let kept: Value = serde_json::from_slice(&std::fs::read(dir.join(&names[0])).unwrap()).unwrap();
    assert_eq!(kept["turns"].as_array().unwrap().len(), 2 + 4 * ROUNDS + 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(&names[0])), 0o600);
    }
    a.stop().await;
    b.stop().await;
}
