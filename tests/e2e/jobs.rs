//! Background jobs through the real binaries: a job outlives the bridge that started it, a cancel
//! closes the request, a time limit ends a hanging one, and a runner killed outright is found
//! and recorded by the next reader. Never a job `running` forever.

use std::time::{Duration, Instant};

use fake_openai::Faults;
use serde_json::{Value, json};

use crate::support::*;

/// Wait for `check` to hold, up to `limit` (a condition with a deadline, not a sleep).
async fn until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn data(r: &rmcp::model::CallToolResult) -> Value {
    r.structured_content.clone().unwrap_or(Value::Null)
}

/// Start `prompt` as a background `codex_query` (with `extra` arguments); its job id.
async fn start(
    s: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    prompt: &str,
    extra: Value,
) -> String {
    let mut args = json!({"prompt": prompt, "background": true});
    if let (Some(a), Value::Object(e)) = (args.as_object_mut(), extra) {
        a.extend(e);
    }
    let r = call_tool(s, "codex_query", args).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let d = data(&r);
    assert_eq!(d["state"], "running", "{d}");
    assert!(text(&r).contains("codex_result"), "{}", text(&r));
    d["job_id"].as_str().unwrap().to_owned()
}

fn job_file(home: &Home, id: &str) -> Value {
    let path = home.profile_dir().join("jobs").join(id).join("job.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn a_job_outlives_the_bridge_that_started_it_and_another_bridge_returns_its_answer() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    fake.set_faults(Faults {
        delta_delay_ms: 50,
        ..Faults::default()
    });
    let work = tempfile::tempdir().unwrap();
    let first = bridge_in(&home, work.path()).await;
    let id = start(&first, "Take your time", json!({})).await;
    // The bridge that started it goes away at once (Claude Code closed).
    first.cancel().await.unwrap();

    let second = bridge_in(&home, work.path()).await;
    let listed = call_tool(&second, "codex_jobs", json!({})).await;
    let jobs = data(&listed)["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["job_id"], json!(id));
    assert_eq!(jobs[0]["tool"], "codex_query");
    assert_eq!(jobs[0]["title"], "Take your time");
    let r = call_tool(
        &second,
        "codex_result",
        json!({"job_id": id, "wait_seconds": 60}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let d = data(&r);
    assert_eq!(d["state"], "completed", "{d}");
    assert_eq!(d["job_id"], json!(id));
    // Exactly what the synchronous call returns: the answer, its conversation, the account.
    assert_eq!(d["answer"], "Echo #1: Take your time");
    assert!(d["conversation_id"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(d["account"]["profile"], "default");
    assert!(
        text(&r).starts_with("Echo #1: Take your time"),
        "{}",
        text(&r)
    );
    second.cancel().await.unwrap();

    // The CLI sees the same job.
    let out = home.cli(&["jobs", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["jobs"][0]["job_id"], json!(id));
    assert_eq!(v["jobs"][0]["state"], "completed");
    assert_eq!(v["running"], 0);
    let out = home.cli(&["jobs", "show", &id, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["answer"], "Echo #1: Take your time");
    assert_eq!(
        fake.stats().responses,
        1,
        "one request, by the job's runner"
    );
}

#[tokio::test]
async fn a_cancel_closes_the_hanging_request_and_records_the_job_cancelled() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    fake.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let work = tempfile::tempdir().unwrap();
    let s = bridge_in(&home, work.path()).await;
    let id = start(&s, "Never answered", json!({})).await;
    until(
        "the request to reach the backend",
        Duration::from_secs(20),
        || fake.stats().responses == 1,
    )
    .await;
    let st = call_tool(&s, "codex_status", json!({})).await;
    assert_eq!(data(&st)["running_jobs"], 1, "{}", text(&st));
    assert!(
        text(&st).contains("Background jobs: 1 running"),
        "{}",
        text(&st)
    );
    let r = call_tool(&s, "codex_cancel", json!({"job_id": id})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert_eq!(data(&r)["state"], "cancelled", "{}", text(&r));
    until(
        "the backend to see the connection closed",
        Duration::from_secs(10),
        || fake.stats().responses_abandoned == 1,
    )
    .await;
    let r = call_tool(&s, "codex_result", json!({"job_id": id})).await;
    assert_eq!(data(&r)["state"], "cancelled");
    assert!(text(&r).contains("was cancelled"), "{}", text(&r));
    assert_eq!(job_file(&home, &id)["state"], "cancelled");
    assert_eq!(fake.stats().responses, 1, "no request follows a cancel");
    // A second cancel is harmless.
    let r = call_tool(&s, "codex_cancel", json!({"job_id": id})).await;
    assert!(text(&r).contains("already ended"), "{}", text(&r));
    s.cancel().await.unwrap();
}

#[tokio::test]
async fn a_time_limit_ends_a_hanging_job_and_a_hanging_call_with_an_error_naming_it() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    fake.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let work = tempfile::tempdir().unwrap();
    let s = bridge_in(&home, work.path()).await;
    let id = start(&s, "Hangs", json!({"timeout_seconds": 3})).await;
    let r = call_tool(
        &s,
        "codex_result",
        json!({"job_id": id, "wait_seconds": 60}),
    )
    .await;
    assert_eq!(r.is_error, Some(true), "{}", text(&r));
    let d = data(&r);
    assert_eq!(d["state"], "failed", "{d}");
    assert_eq!(d["kind"], "timed_out", "{d}");
    assert!(text(&r).contains("3 s"), "{}", text(&r));
    // A call that waits for its answer obeys its limit too.
    let r = call_tool(
        &s,
        "codex_query",
        json!({"prompt": "Hangs too", "timeout_seconds": 2}),
    )
    .await;
    assert_eq!(r.is_error, Some(true), "{}", text(&r));
    assert_eq!(data(&r)["kind"], "timed_out");
    until("both requests closed", Duration::from_secs(10), || {
        fake.stats().responses_abandoned == 2
    })
    .await;
    s.cancel().await.unwrap();
}

#[tokio::test]
async fn a_runner_killed_outright_is_recorded_failed_by_the_next_reader() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    fake.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let work = tempfile::tempdir().unwrap();
    let s = bridge_in(&home, work.path()).await;
    let id = start(&s, "Killed", json!({})).await;
    until(
        "the request to reach the backend",
        Duration::from_secs(20),
        || fake.stats().responses == 1,
    )
    .await;
    let pid = job_file(&home, &id)["runner"]["pid"].as_u64().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // Whoever looks next records it: here the CLI.
    let mut state = Value::Null;
    let end = Instant::now() + Duration::from_secs(10);
    while state != "failed" && Instant::now() < end {
        let out = home.cli(&["jobs", "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        state = v["jobs"][0]["state"].clone();
        if state == "failed" {
            assert_eq!(v["jobs"][0]["error"]["code"], "job_stopped", "{v}");
            assert_eq!(v["running"], 0);
        }
    }
    assert_eq!(state, "failed", "the job stayed {state}");
    assert_eq!(
        job_file(&home, &id)["state"],
        "failed",
        "recorded, not only shown"
    );
    let r = call_tool(&s, "codex_result", json!({"job_id": id})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("process stopped"), "{}", text(&r));
    s.cancel().await.unwrap();
}
