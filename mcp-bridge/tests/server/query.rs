//! `codex_query`: answers, conversations, progress, cancellation, and every way it can fail.

use std::time::Duration;

use codex_oauth_core::Secret;
use codex_oauth_core::store::AuthRecord;
use fake_openai::{FakeConfig, Faults};
use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_query_returns_the_streamed_answer_whole_with_model_usage_and_rate_limits() {
    let h = signed_in().await;
    let (text, data) = h
        .ok(
            "codex_query",
            json!({"prompt": "What is 2+2? Answer briefly, please."}),
        )
        .await;
    let expected = "Echo #1: What is 2+2? Answer briefly, please.";
    assert!(text.starts_with(expected), "{text}");
    assert_eq!(data["answer"], expected);
    assert_eq!(
        data["model"], "gpt-6.2-sol",
        "the default: first visible model by priority"
    );
    assert_eq!(data["truncated"], false);
    assert!(
        data["usage"]["total_tokens"].as_u64().unwrap() > 0,
        "{data}"
    );
    assert_eq!(data["rate_limits"]["primary"]["used_percent"], 12.5);
    assert_eq!(data["rate_limits"]["secondary"]["window_minutes"], 10080);
    let conversation = data["conversation_id"].as_str().unwrap();
    assert!(
        text.contains(conversation),
        "the text names the conversation: {text}"
    );

    // What the backend saw.
    let reqs = h.fake.requests_to("/backend-api/codex/responses");
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.rejected, None);
    assert_eq!(r.headers["chatgpt-account-id"], "acc-1234");
    assert_eq!(r.headers["originator"], "codex_oauth");
    assert_eq!(r.headers["accept"], "text/event-stream");
    assert!(r.headers["user-agent"].starts_with("codex_oauth/"));
    let conv = r.headers["session-id"].as_str();
    assert_eq!(uuid::Uuid::parse_str(conv).unwrap().get_version_num(), 7);
    assert_eq!(r.headers["thread-id"], conv);
    assert_eq!(r.headers["x-client-request-id"], conv);
    assert_eq!(r.headers["version"], "0.171.0");
    assert_eq!(
        r.headers["x-openai-internal-codex-responses-lite"], "true",
        "the default is a lite model"
    );
    assert_eq!(r.body["store"], false);
    assert_eq!(r.body["stream"], true);
    assert!(r.body.get("temperature").is_none());
    assert!(r.body.get("instructions").is_none());
    assert!(r.body.get("tools").is_none(), "no tools key in a lite body");
    assert_eq!(
        r.body["reasoning"]["effort"], "low",
        "the model's own default"
    );
    assert_eq!(r.body["reasoning"]["context"], "all_turns");
    assert_eq!(r.body["prompt_cache_key"], conv);
    assert!(
        !data["answer"]
            .as_str()
            .unwrap()
            .contains("Reading the question"),
        "commentary is not the answer"
    );
    assert_eq!(data["commentary"], "Reading the question first.");

    // The rate limits reach state.json for the tray and status (written in the background).
    eventually("rate limits in state.json", || {
        h.state_json()["rate_limits"]["primary"]["used_percent"] == json!(12.5)
    })
    .await;
    h.stop().await;
}

#[tokio::test]
async fn the_answer_streams_as_progress_notifications() {
    let h = signed_in().await;
    h.fake.set_faults(Faults {
        delta_delay_ms: 30,
        ..Faults::default()
    });
    let prompt = "Tell me something long enough to arrive in several pieces.";
    let (text, _) = h.ok("codex_query", json!({ "prompt": prompt })).await;
    assert!(text.starts_with(&format!("Echo #1: {prompt}")));
    let progress = h.progress.lock().unwrap().clone();
    assert!(progress.len() >= 3, "{progress:?}");
    let values: Vec<f64> = progress.iter().map(|p| p.progress).collect();
    assert!(
        values.windows(2).all(|w| w[0] < w[1]),
        "progress must increase: {values:?}"
    );
    let last = progress.last().unwrap().message.clone().unwrap_or_default();
    assert!(last.contains("characters received"), "{last}");
    h.stop().await;
}

#[tokio::test]
async fn progress_notifications_are_throttled() {
    let mut options = test_options();
    options.progress_interval = Duration::from_millis(200);
    let h = start(FakeConfig::default(), options, Some(3600)).await;
    h.fake.set_faults(Faults {
        delta_delay_ms: 10,
        ..Faults::default()
    });
    // About 60 deltas, 10 ms apart.
    let prompt = "y".repeat(350);
    let started = std::time::Instant::now();
    h.ok("codex_query", json!({ "prompt": prompt })).await;
    let allowed = started.elapsed().as_millis() / 200 + 1;
    let n = h.progress.lock().unwrap().len() as u128;
    assert!(
        (1..=allowed).contains(&n),
        "at most one notification per 200 ms: {n} in {:?}",
        started.elapsed()
    );
    h.stop().await;
}

#[tokio::test]
async fn a_follow_up_re_sends_the_earlier_turns_of_its_conversation() {
    let h = signed_in().await;
    let (_, first) = h
        .ok("codex_query", json!({"prompt": "first question", "model": "gpt-6.2-astra", "system_prompt": "Be terse."}))
        .await;
    let id = first["conversation_id"].as_str().unwrap().to_owned();
    let (_, second) = h
        .ok(
            "codex_query",
            json!({"prompt": "second question", "conversation_id": id}),
        )
        .await;
    assert_eq!(second["answer"], "Echo #2: second question");
    assert_eq!(second["conversation_id"], id.as_str());
    assert_eq!(
        second["model"], "gpt-6.2-astra",
        "the conversation keeps its model"
    );

    let reqs = h.fake.requests_to("/backend-api/codex/responses");
    assert_eq!(reqs.len(), 2);
    let input = reqs[1].body["input"].as_array().unwrap();
    let developer: Vec<&str> = input
        .iter()
        .filter(|m| m["role"] == "developer")
        .map(|m| m["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        developer,
        [
            "You are GPT-6.2 Astra, served by fake-openai.",
            codex_oauth_core::codex::FRAMING,
            "Be terse."
        ],
        "the model's instructions, the framing, the caller's system prompt"
    );
    let turns: Vec<(String, String)> = input
        .iter()
        .filter(|m| m["role"] != "developer")
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"][0]["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        turns,
        vec![
            ("user".to_owned(), "first question".to_owned()),
            ("assistant".to_owned(), "Echo #1: first question".to_owned()),
            ("user".to_owned(), "second question".to_owned()),
        ]
    );
    assert_eq!(
        input[4]["phase"], "final_answer",
        "earlier answers carry their phase"
    );
    assert_eq!(
        reqs[0].headers["session-id"], reqs[1].headers["session-id"],
        "one conversation id per conversation"
    );

    // A new conversation starts afresh.
    let (_, other) = h.ok("codex_query", json!({"prompt": "unrelated"})).await;
    assert_eq!(other["answer"], "Echo #1: unrelated");
    assert_ne!(other["conversation_id"], id.as_str());
    h.stop().await;
}

#[tokio::test]
async fn a_conversation_is_kept_in_the_profile_folder_without_secrets() {
    let h = signed_in().await;
    let (_, data) = h
        .ok("codex_query", json!({"prompt": "first question"}))
        .await;
    assert_eq!(data["dropped_turns"], 0);
    let id = data["conversation_id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    let path = h
        .home
        .path()
        .join("default/conversations")
        .join(format!("{id}.json"));
    let kept = std::fs::read_to_string(&path).unwrap();
    assert!(kept.contains("Echo #1: first question"), "{kept}");
    let auth = std::fs::read_to_string(h.home.path().join("default/auth.json")).unwrap();
    let auth: serde_json::Value = serde_json::from_str(&auth).unwrap();
    for token in ["access_token", "refresh_token", "id_token"] {
        let t = auth["tokens"][token].as_str().unwrap();
        assert!(!kept.contains(t), "{token} in the conversation file");
    }
    assert!(!kept.contains("acc-1234"), "no account id: {kept}");
    h.stop().await;
}

#[tokio::test]
async fn a_conversation_past_its_size_leaves_out_its_oldest_turns_and_says_so() {
    let mut options = test_options();
    options.conversations.max_chars = 60;
    let h = start(FakeConfig::default(), options, Some(3600)).await;
    // 20 + 29 characters kept; the next 20 would make 69.
    let (_, first) = h
        .ok("codex_query", json!({"prompt": "a first question ..."}))
        .await;
    assert_eq!(first["dropped_turns"], 0);
    let id = first["conversation_id"].as_str().unwrap().to_owned();
    let (text, second) = h
        .ok(
            "codex_query",
            json!({"prompt": "a second question ..", "conversation_id": id}),
        )
        .await;
    assert_eq!(second["dropped_turns"], 2);
    assert!(text.contains("its 2 oldest turns were left out"), "{text}");
    assert_eq!(second["answer"], "Echo #1: a second question ..");
    let reqs = h.fake.requests_to("/backend-api/codex/responses");
    let turns: Vec<&str> = reqs[1].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] != "developer")
        .map(|m| m["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(turns, ["a second question .."]);
    h.stop().await;
}

#[tokio::test]
async fn a_corrupt_conversation_is_a_clear_error_and_others_go_on() {
    let h = signed_in().await;
    let (_, a) = h.ok("codex_query", json!({"prompt": "one"})).await;
    let (_, b) = h.ok("codex_query", json!({"prompt": "two"})).await;
    let (a, b) = (
        a["conversation_id"].as_str().unwrap(),
        b["conversation_id"].as_str().unwrap(),
    );
    let dir = h.home.path().join("default/conversations");
    std::fs::write(dir.join(format!("{a}.json")), b"{\"turns\": [").unwrap();
    let (text, data) = h
        .tool_error(
            "codex_query",
            json!({"prompt": "go on", "conversation_id": a}),
        )
        .await;
    assert_eq!(data["kind"], "corrupt_conversation");
    assert!(
        text.contains("kept aside") && text.contains("omit conversation_id"),
        "{text}"
    );
    let (_, next) = h
        .ok(
            "codex_query",
            json!({"prompt": "go on", "conversation_id": b}),
        )
        .await;
    assert_eq!(next["answer"], "Echo #2: go on");
    h.stop().await;
}

#[tokio::test]
async fn an_unknown_conversation_is_an_error_not_a_silent_fresh_start() {
    let h = signed_in().await;
    let (text, data) = h
        .tool_error(
            "codex_query",
            json!({"prompt": "go on", "conversation_id": "nope"}),
        )
        .await;
    assert_eq!(data["kind"], "unknown_conversation");
    assert!(text.contains("omit conversation_id"), "{text}");
    assert_eq!(h.fake.stats().responses, 0);
    h.stop().await;
}

#[tokio::test]
async fn a_standard_model_is_asked_in_the_standard_shape_with_the_effort_given() {
    let h = signed_in().await;
    let (_, data) = h
        .ok(
            "codex_query",
            json!({"prompt": "p", "model": "gpt-5.5", "reasoning_effort": "max"}),
        )
        .await;
    assert_eq!(data["model"], "gpt-5.5");
    let r = &h.fake.requests_to("/responses")[0];
    assert_eq!(r.rejected, None);
    assert_eq!(r.body["model"], "gpt-5.5");
    assert_eq!(r.body["reasoning"]["effort"], "max");
    assert!(r.body["reasoning"].get("context").is_none());
    assert_eq!(r.body["tools"], json!([]));
    assert!(
        !r.headers
            .contains_key("x-openai-internal-codex-responses-lite"),
        "never the lite header on a standard model"
    );
    h.stop().await;
}

#[tokio::test]
async fn an_effort_the_model_lacks_is_a_tool_error_that_lists_the_allowed_ones() {
    let h = signed_in().await;
    let (text, data) = h
        .tool_error(
            "codex_query",
            json!({"prompt": "p", "model": "gpt-5.5", "reasoning_effort": "ultra"}),
        )
        .await;
    assert_eq!(data["kind"], "reasoning_effort");
    assert!(
        text.contains("gpt-5.5") && text.contains("low, medium, high, xhigh, max"),
        "{text}"
    );
    // `ultra` on a model that lists it goes through.
    let (_, data) = h
        .ok(
            "codex_query",
            json!({"prompt": "p", "reasoning_effort": "ultra"}),
        )
        .await;
    assert_eq!(data["model"], "gpt-6.2-sol");
    let reqs = h.fake.requests_to("/responses");
    assert_eq!(reqs.len(), 1, "the refused effort never left the machine");
    assert_eq!(reqs[0].body["reasoning"]["effort"], "ultra");
    h.stop().await;
}

#[tokio::test]
async fn a_long_answer_is_cut_at_max_output_chars_and_says_so() {
    let h = signed_in().await;
    let prompt = "z".repeat(500);
    let (text, data) = h
        .ok(
            "codex_query",
            json!({"prompt": prompt, "max_output_chars": 100}),
        )
        .await;
    assert_eq!(data["truncated"], true);
    assert_eq!(data["answer"].as_str().unwrap().chars().count(), 100);
    assert_eq!(data["answer_chars"], 509);
    assert!(text.contains("answer cut: 100 of 509 characters"), "{text}");

    // The default limit is 20,000 characters.
    let prompt = "w".repeat(25_000);
    let (_, data) = h.ok("codex_query", json!({ "prompt": prompt })).await;
    assert_eq!(data["truncated"], true);
    assert_eq!(data["answer"].as_str().unwrap().chars().count(), 20_000);
    h.stop().await;
}

#[tokio::test]
async fn signed_out_a_query_says_how_to_sign_in() {
    let h = signed_out().await;
    let (text, data) = h.tool_error("codex_query", json!({"prompt": "hi"})).await;
    assert!(text.contains("/codex-config"), "{text}");
    assert_eq!(data["kind"], "not_signed_in");
    assert_eq!(h.fake.stats().responses, 0);
    h.stop().await;
}

#[tokio::test]
async fn an_unknown_model_is_refused_before_sending_with_the_models_that_can_be_used() {
    let h = signed_in().await;
    // The catalog first: a fault below is meant for the query, not the catalog fetch.
    h.ok("codex_models", json!({})).await;
    let (text, data) = h
        .tool_error(
            "codex_query",
            json!({"prompt": "hi", "model": "gpt-9-ultra"}),
        )
        .await;
    assert!(
        text.contains("`gpt-9-ultra` is not available") && text.contains("gpt-6.2-sol, "),
        "{text}"
    );
    assert_eq!(data["kind"], "model");
    assert_eq!(data["retryable"], false);
    assert_eq!(h.fake.stats().responses, 0, "nothing was sent");
    assert_eq!(
        h.fake.stats().models,
        2,
        "a slug the catalog in memory lacks is looked up once more in a fresh catalog"
    );
    // A hidden model is not listed but can be named.
    let (_, data) = h
        .ok(
            "codex_query",
            json!({"prompt": "hi", "model": "codex-auto-review"}),
        )
        .await;
    assert_eq!(data["model"], "codex-auto-review");
    h.stop().await;
}

#[tokio::test]
async fn a_usage_limit_names_the_reset_time_and_is_not_retried() {
    let h = signed_in().await;
    // The catalog first: a fault below is meant for the query, not the catalog fetch.
    h.ok("codex_models", json!({})).await;
    h.fake.set_faults(Faults {
        usage_limit: true,
        ..Faults::default()
    });
    let (text, data) = h.tool_error("codex_query", json!({"prompt": "hi"})).await;
    assert!(text.contains("usage limit"), "{text}");
    assert!(text.contains("plus plan"), "{text}");
    assert!(text.contains("resets at"), "{text}");
    assert_eq!(data["kind"], "usage_limit");
    assert!(data["resets_at"].is_string(), "{data}");
    assert_eq!(h.fake.stats().responses, 1);
    h.stop().await;
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_without_the_caller_noticing() {
    let h = start(FakeConfig::default(), test_options(), Some(-60)).await;
    let (_, data) = h.ok("codex_query", json!({"prompt": "still there?"})).await;
    assert_eq!(data["answer"], "Echo #1: still there?");
    assert_eq!(h.fake.stats().refreshes, 1);
    h.stop().await;
}

#[tokio::test]
async fn a_401_from_the_backend_refreshes_once_and_retries() {
    let h = signed_in().await;
    // The catalog first: a fault below is meant for the query, not the catalog fetch.
    h.ok("codex_models", json!({})).await;
    h.fake.set_faults(Faults {
        backend_status_once: Some(401),
        ..Faults::default()
    });
    let (_, data) = h
        .ok(
            "codex_query",
            json!({"prompt": "again", "model": "gpt-6.2-sol"}),
        )
        .await;
    assert_eq!(data["answer"], "Echo #1: again");
    let stats = h.fake.stats();
    assert_eq!(stats.refreshes, 1);
    assert_eq!(stats.responses, 2);
    h.stop().await;
}

#[tokio::test]
async fn a_backend_that_keeps_answering_401_after_a_refresh_means_sign_in_again() {
    let h = signed_in().await;
    // The catalog first: a fault below is meant for the query, not the catalog fetch.
    h.ok("codex_models", json!({})).await;
    h.fake.set_faults(Faults {
        responses_status: Some(401),
        ..Faults::default()
    });
    let (text, data) = h
        .tool_error(
            "codex_query",
            json!({"prompt": "hi", "model": "gpt-6.2-sol"}),
        )
        .await;
    assert_eq!(data["kind"], "session_expired", "{text}");
    assert!(text.contains("/codex-config"), "{text}");
    let stats = h.fake.stats();
    assert_eq!(stats.refreshes, 1, "exactly one refresh, no loop");
    assert_eq!(stats.responses, 2);
    h.stop().await;
}

#[tokio::test]
async fn a_passing_server_error_is_retried() {
    let h = signed_in().await;
    // The catalog first: a fault below is meant for the query, not the catalog fetch.
    h.ok("codex_models", json!({})).await;
    h.fake.set_faults(Faults {
        backend_status_once: Some(503),
        ..Faults::default()
    });
    let (_, data) = h
        .ok(
            "codex_query",
            json!({"prompt": "hello", "model": "gpt-6.2-sol"}),
        )
        .await;
    assert_eq!(data["answer"], "Echo #1: hello");
    assert_eq!(h.fake.stats().responses, 2);
    h.stop().await;
}

#[tokio::test]
async fn a_lasting_server_error_fails_after_bounded_retries() {
    let h = signed_in().await;
    // The catalog first: a fault below is meant for the query, not the catalog fetch.
    h.ok("codex_models", json!({})).await;
    h.fake.set_faults(Faults {
        responses_status: Some(502),
        ..Faults::default()
    });
    let (text, data) = h
        .tool_error(
            "codex_query",
            json!({"prompt": "hello", "model": "gpt-6.2-sol"}),
        )
        .await;
    assert!(text.contains("HTTP 502"), "{text}");
    assert_eq!(data["retryable"], true);
    assert_eq!(
        h.fake.stats().responses,
        3,
        "one try and max_retries = 2 retries"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_stream_cut_mid_answer_is_an_error_and_not_replayed() {
    let h = signed_in().await;
    // Paced, so the first deltas reach the client before the cut.
    h.fake.set_faults(Faults {
        sse_drop_after: Some(2),
        delta_delay_ms: 30,
        ..Faults::default()
    });
    let (text, data) = h
        .tool_error(
            "codex_query",
            json!({"prompt": "a prompt long enough for several deltas"}),
        )
        .await;
    assert!(
        text.contains("ended before the answer was complete"),
        "{text}"
    );
    assert_eq!(data["kind"], "network");
    assert_eq!(
        h.fake.stats().responses,
        1,
        "text was already handed on: no retry"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_stream_cut_before_any_text_is_retried_a_bounded_number_of_times() {
    let h = signed_in().await;
    // The catalog first: a fault below is meant for the query, not the catalog fetch.
    h.ok("codex_models", json!({})).await;
    h.fake.set_faults(Faults {
        sse_drop_after: Some(0),
        ..Faults::default()
    });
    let (text, data) = h
        .tool_error(
            "codex_query",
            json!({"prompt": "hi", "model": "gpt-6.2-sol"}),
        )
        .await;
    assert!(text.contains("try again"), "{text}");
    assert_eq!(data["retryable"], true);
    assert_eq!(h.fake.stats().responses, 3);
    h.stop().await;
}

#[tokio::test]
async fn a_failed_response_carries_the_reason_and_what_to_do() {
    let h = signed_in().await;
    h.fake.set_faults(Faults {
        sse_failed: Some("context_length_exceeded".into()),
        ..Faults::default()
    });
    let (text, data) = h.tool_error("codex_query", json!({"prompt": "hi"})).await;
    assert!(text.contains("context window"), "{text}");
    assert!(text.contains("new conversation"), "{text}");
    assert_eq!(data["kind"], "context_length_exceeded");
    h.stop().await;
}

#[tokio::test]
async fn a_backend_that_never_answers_hits_the_idle_limit() {
    let mut options = test_options();
    options.codex.idle_timeout = Duration::from_millis(300);
    options.codex.max_retries = 1;
    let h = start(FakeConfig::default(), options, Some(3600)).await;
    h.fake.set_faults(Faults {
        responses_delay_ms: 3_000,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let (text, data) = h.tool_error("codex_query", json!({"prompt": "hi"})).await;
    assert!(text.contains("no answer within"), "{text}");
    assert_eq!(data["retryable"], true);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    h.stop().await;
}

#[tokio::test]
async fn a_silent_stream_hits_the_idle_limit() {
    let mut options = test_options();
    options.codex.idle_timeout = Duration::from_millis(300);
    let h = start(FakeConfig::default(), options, Some(3600)).await;
    h.fake.set_faults(Faults {
        delta_delay_ms: 2_000,
        ..Faults::default()
    });
    let (text, _) = h.tool_error("codex_query", json!({"prompt": "hi"})).await;
    assert!(text.contains("silent"), "{text}");
    h.stop().await;
}

#[tokio::test]
async fn cancelling_a_query_stops_it_and_the_server_carries_on() {
    let h = signed_in().await;
    h.fake.set_faults(Faults {
        delta_delay_ms: 100,
        ..Faults::default()
    });
    let prompt = "q".repeat(600); // ~100 deltas: 10 s if nobody stops it
    let params = CallToolRequestParams::new("codex_query")
        .with_arguments(json!({ "prompt": prompt }).as_object().unwrap().clone());
    let handle = h
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let progress = h.progress.clone();
    eventually("text to stream", || {
        progress.lock().unwrap().iter().any(|p| {
            p.message
                .as_deref()
                .is_some_and(|m| m.contains("characters received"))
        })
    })
    .await;
    handle.cancel(Some("changed my mind".into())).await.unwrap();
    // Once the handler has stopped, no more progress comes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = progress.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        progress.lock().unwrap().len(),
        seen,
        "the upstream answer must not go on streaming after the cancel"
    );
    h.fake.set_faults(Faults::default());
    let (_, data) = h.ok("codex_query", json!({"prompt": "next"})).await;
    assert_eq!(data["answer"], "Echo #1: next");
    h.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_queries_all_succeed() {
    let h = signed_in().await;
    let calls = (0..50).map(|i| {
        let h = &h;
        async move {
            let (_, data) = h
                .ok("codex_query", json!({ "prompt": format!("question {i}") }))
                .await;
            assert_eq!(data["answer"], format!("Echo #1: question {i}"));
        }
    });
    futures::future::join_all(calls).await;
    assert_eq!(h.fake.stats().responses, 50);
    assert_eq!(
        h.fake.stats().models,
        1,
        "the default model is looked up once"
    );
    h.stop().await;
}

#[tokio::test]
async fn with_an_api_key_queries_go_to_the_api_without_the_account_header() {
    let h = signed_out().await;
    h.session
        .save_record(AuthRecord::from_api_key(Secret::new(
            "sk-test-0123456789abcdef",
        )))
        .await
        .unwrap();
    let (_, data) = h
        .ok(
            "codex_query",
            json!({"prompt": "via the API", "model": "gpt-5.5"}),
        )
        .await;
    assert_eq!(data["answer"], "Echo #1: via the API");
    let reqs = h.fake.requests_to("/v1/responses");
    assert_eq!(reqs.len(), 1);
    assert!(!reqs[0].headers.contains_key("chatgpt-account-id"));
    assert_eq!(reqs[0].body["store"], false);
    assert!(
        h.fake
            .requests_to("/backend-api/codex/responses")
            .is_empty()
    );

    let (text, _) = h.tool_error("codex_usage", json!({})).await;
    assert!(text.contains("API key"), "{text}");
    let (text, _) = h.ok("codex_models", json!({})).await;
    assert!(text.contains("API key"), "{text}");
    h.stop().await;
}

#[tokio::test]
async fn a_401_while_the_issuer_is_down_says_try_again_not_sign_in_again() {
    let h = signed_in().await;
    h.ok("codex_models", json!({})).await;
    h.fake.set_faults(Faults {
        responses_status: Some(401),
        token_status: Some(503),
        ..Faults::default()
    });
    let (text, data) = h.tool_error("codex_query", json!({"prompt": "hi"})).await;
    assert_eq!(data["retryable"], true, "{text}");
    assert_eq!(data["kind"], "network", "{text}");
    assert!(!text.contains("sign in again"), "{text}");
    assert!(text.contains("try again"), "{text}");
    assert!(h.session.status().await.signed_in, "the sign-in is kept");
    assert_eq!(
        h.fake.stats().responses,
        1,
        "the refused token is not sent again"
    );
    h.fake.set_faults(Faults::default());
    h.stop().await;
}

/// `claude_budget_percent`: past that much of the weekly window, `codex_query` refuses before
/// sending anything and says how to raise or lift the cap.
#[tokio::test]
async fn past_the_budget_a_query_is_refused_with_how_to_raise_it() {
    let h = start_with_config(
        FakeConfig::default(),
        test_options(),
        Some(3600),
        "claude_budget_percent = 40\n",
    )
    .await;
    let (_, data) = h
        .ok("codex_query", json!({"prompt": "under the budget"}))
        .await;
    assert!(data["answer"].is_string(), "{data}");
    let store = h.session.store();
    let g = store.lock().unwrap();
    store
        .update_state(&g, |s| {
            s.rate_limits = Some(
                serde_json::from_value(json!({
                    "secondary": {"used_percent": 41.0, "window_minutes": 10080},
                    "observed_at": "2026-12-01T00:00:00Z",
                }))
                .unwrap(),
            )
        })
        .unwrap();
    drop(g);
    let before = h.fake.stats().responses;
    let (text, data) = h
        .tool_error("codex_query", json!({"prompt": "over it"}))
        .await;
    assert_eq!(data["kind"], "budget", "{data}");
    assert!(
        text.contains("claude_budget_percent") && text.contains("41%"),
        "{text}"
    );
    assert_eq!(h.fake.stats().responses, before, "nothing was sent");
    // Under the cap it is sent.
    let g = store.lock().unwrap();
    store
        .update_state(&g, |s| {
            if let Some(w) = s.rate_limits.as_mut().and_then(|l| l.secondary.as_mut()) {
                w.used_percent = 39.0;
            }
        })
        .unwrap();
    drop(g);
    let (_, data) = h.ok("codex_query", json!({"prompt": "under it"})).await;
    assert!(data["answer"].is_string(), "{data}");
    h.stop().await;
}

/// A second ChatGPT account ("work") beside the harness's own.
async fn add_work_account(h: &Harness) {
    let t = h.fake.mint_tokens(3600);
    let work = codex_oauth_core::Session::open(codex_oauth_core::accounts::settings_of(
        h.session.settings(),
        "work",
    ))
    .unwrap();
    work.save_record(AuthRecord::from_tokens(
        Secret::new(t.id_token),
        Secret::new(t.access_token),
        Secret::new(t.refresh_token),
        None,
    ))
    .await
    .unwrap();
}

/// `account` picks the account that answers, and every answer names it; a usage limit on one
/// lists the others with room and the argument that would use one (never switching by itself).
#[tokio::test]
async fn the_account_argument_picks_who_answers_and_a_limit_lists_the_others() {
    let h = signed_in().await;
    add_work_account(&h).await;
    let (_, data) = h.ok("codex_query", json!({"prompt": "hi"})).await;
    assert_eq!(data["account"]["profile"], "default", "{data}");
    let (_, data) = h
        .ok("codex_query", json!({"prompt": "hi", "account": "work"}))
        .await;
    assert_eq!(data["account"]["profile"], "work", "{data}");
    assert_eq!(data["account"]["email"], "ada@example.com");
    let (_, models) = h.ok("codex_models", json!({"account": "work"})).await;
    assert!(models["models"].is_array(), "{models}");
    let (text, data) = h
        .tool_error("codex_query", json!({"prompt": "hi", "account": "nobody"}))
        .await;
    assert!(text.contains("default, work"), "{text}");
    assert_eq!(data["category"], "input");

    h.fake.set_faults(Faults {
        usage_limit: true,
        ..Faults::default()
    });
    let before = h.fake.stats().responses;
    let (text, data) = h.tool_error("codex_query", json!({"prompt": "hi"})).await;
    assert_eq!(data["kind"], "usage_limit", "{data}");
    assert!(
        text.contains("Other signed-in accounts with room: work"),
        "{text}"
    );
    assert!(text.contains("\"account\": \"work\""), "{text}");
    assert_eq!(data["other_accounts"][0]["profile"], "work");
    assert_eq!(
        h.fake.stats().responses,
        before + 1,
        "it did not switch by itself"
    );
    h.stop().await;
}
