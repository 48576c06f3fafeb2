//! `codex-mcp-bridge gate`, the plugin's Stop hook, as Claude Code runs it: the hook's JSON on
//! stdin, the verdict as JSON on stdout, always exit 0. Off by default; never blocks twice in a
//! row nor more than 3 times a session; fails open with a one-line reason; blocks on a high
//! finding of Codex's review (fake-openai answering it) and only shows lower ones.

use std::path::Path;
use std::process::Stdio;

use fake_openai::{FakeOpenAi, Faults};
use git2::{IndexAddOption, Repository, Signature};
use serde_json::{Value, json};

use crate::support::*;

const HIGH: &str = "{\"summary\": \"add subtracts.\", \"findings\": [{\"file\": \"calc.py\", \"line\": 2, \"severity\": \"high\", \"title\": \"add subtracts\", \"detail\": \"a - b is not a sum\", \"suggestion\": \"return a + b\"}, {\"file\": \"calc.py\", \"line\": 1, \"severity\": \"low\", \"title\": \"no docstring\", \"detail\": \"\", \"suggestion\": null}]}";
const LOW: &str = "{\"summary\": \"fine.\", \"findings\": [{\"file\": \"calc.py\", \"line\": 1, \"severity\": \"low\", \"title\": \"no docstring\", \"detail\": \"say what add does\", \"suggestion\": \"add one\"}]}";

/// A repository whose one commit holds calc.py, changed in the working tree.
fn changed_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("calc.py"),
        "def add(a, b):\n    return a + b\n",
    )
    .unwrap();
    let mut idx = repo.index().unwrap();
    idx.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    idx.write().unwrap();
    let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "one", &tree, &[])
        .unwrap();
    std::fs::write(
        dir.path().join("calc.py"),
        "def add(a, b):\n    return a - b\n",
    )
    .unwrap();
    dir
}

/// A signed-in home with the gate on (by the variable) and Codex answering `answer`.
async fn gate_on(answer: &str) -> (FakeOpenAi, Home) {
    let fake = fake().await;
    let mut home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    home.env
        .insert("CODEX_OAUTH_REVIEW_GATE".into(), "true".into());
    fake.set_faults(Faults {
        answer: Some(answer.into()),
        ..Faults::default()
    });
    (fake, home)
}

/// The Stop hook's input, as Claude Code sends it.
fn stop(session: &str, cwd: &Path, active: bool) -> Value {
    json!({
        "session_id": session,
        "transcript_path": cwd.join("transcript.jsonl"),
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "Stop",
        "stop_hook_active": active,
    })
}

/// `gate` (with `args`) given `input`: its stdout (it must exit 0).
fn gate(home: &Home, input: &Value, args: &[&str]) -> String {
    let mut cmd = home.cmd(&bin("codex-mcp-bridge"));
    cmd.env_remove("CLAUDE_PLUGIN_OPTION_REVIEW_GATE");
    gate_with(cmd, input, args)
}

fn gate_with(mut cmd: std::process::Command, input: &Value, args: &[&str]) -> String {
    let mut child = cmd
        .arg("gate")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = serde_json::to_vec(input).unwrap();
    // The gate may not read its input at all (off): a closed pipe is not an error here.
    let _ = std::io::Write::write_all(child.stdin.as_mut().unwrap(), &bytes);
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "gate must always exit 0; stdout {stdout}; stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// stdout as the one JSON object Claude Code reads.
fn verdict(stdout: &str) -> Value {
    assert_eq!(stdout.lines().count(), 1, "one line of JSON: {stdout}");
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[tokio::test]
async fn the_gate_is_off_by_default_and_says_nothing() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let repo = changed_repo();
    let out = gate(&home, &stop("s-off", repo.path(), false), &[]);
    assert_eq!(out, "");
    // Not even bad input or a bad session id makes it speak while it is off.
    let out = gate(&home, &json!("not a hook input"), &[]);
    assert_eq!(out, "");
    assert!(
        fake.requests_to("/responses").is_empty(),
        "nothing was sent"
    );
    assert!(!home.path().join("gate").exists());
}

#[tokio::test]
async fn a_high_finding_blocks_the_stop_and_names_the_finding() {
    let (fake, mut home) = gate_on(HIGH).await;
    // On by config.toml this time, not the variable.
    home.env.remove("CODEX_OAUTH_REVIEW_GATE");
    std::fs::write(home.path().join("config.toml"), "review_gate = true\n").unwrap();
    let repo = changed_repo();
    let out = gate(&home, &stop("s-high", repo.path(), false), &[]);
    let v = verdict(&out);
    assert_eq!(v["decision"], json!("block"), "{v}");
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.contains("1. [high] calc.py:2: add subtracts")
            && reason.contains("a - b is not a sum")
            && reason.contains("Suggestion: return a + b"),
        "{reason}"
    );
    assert!(
        !reason.contains("no docstring"),
        "only high and critical: {reason}"
    );
    assert!(reason.contains("block 1 of at most 3"), "{reason}");
    // The change went to Codex, as codex_review sends it.
    let body = fake.requests_to("/responses")[0].body.to_string();
    assert!(body.contains("+    return a - b"), "{body}");

    let record = home.path().join("gate").join("s-high.json");
    let counted: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert_eq!(counted["blocks"], json!(1));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&record).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn the_stop_after_a_block_goes_through_without_a_review() {
    let (fake, home) = gate_on(HIGH).await;
    let repo = changed_repo();
    let out = gate(&home, &stop("s-active", repo.path(), true), &[]);
    assert_eq!(out, "");
    assert!(fake.requests_to("/responses").is_empty(), "no review ran");
}

#[tokio::test]
async fn three_blocks_in_a_session_then_the_gate_lets_go() {
    let (fake, home) = gate_on(HIGH).await;
    let repo = changed_repo();
    for n in 1..=3 {
        let out = gate(&home, &stop("s-cap", repo.path(), false), &[]);
        let v = verdict(&out);
        assert_eq!(v["decision"], json!("block"), "block {n}: {v}");
        assert!(
            v["reason"]
                .as_str()
                .unwrap()
                .contains(&format!("block {n} of at most 3")),
            "{v}"
        );
    }
    let out = gate(&home, &stop("s-cap", repo.path(), false), &[]);
    assert_eq!(out, "", "the fourth stop goes through");
    assert_eq!(
        fake.requests_to("/responses").len(),
        1,
        "the unchanged change was reviewed once: blocks 2 and 3 repeat its findings, and the \
         fourth stop costs no review"
    );
    // Another session starts from zero.
    let out = gate(&home, &stop("s-other", repo.path(), false), &[]);
    assert_eq!(verdict(&out)["decision"], json!("block"));
}

#[tokio::test]
async fn lower_findings_are_shown_and_the_stop_proceeds() {
    let (_fake, mut home) = gate_on(LOW).await;
    // On by the plugin's userConfig this time, as Claude Code passes it to the hook.
    home.env.remove("CODEX_OAUTH_REVIEW_GATE");
    let repo = changed_repo();
    let mut cmd = home.cmd(&bin("codex-mcp-bridge"));
    cmd.env("CLAUDE_PLUGIN_OPTION_REVIEW_GATE", "true");
    let out = gate_with(cmd, &stop("s-low", repo.path(), false), &[]);
    let v = verdict(&out);
    assert!(v.get("decision").is_none(), "{v}");
    let m = v["systemMessage"].as_str().unwrap();
    assert!(
        m.contains("1 other finding: [low] calc.py:1: no docstring") && !m.contains('\n'),
        "{m}"
    );
}

#[tokio::test]
async fn signed_out_the_stop_goes_through_with_the_way_to_sign_in() {
    let fake = fake().await;
    let mut home = Home::new(&fake);
    home.env
        .insert("CODEX_OAUTH_REVIEW_GATE".into(), "true".into());
    let repo = changed_repo();
    let out = gate(&home, &stop("s-out", repo.path(), false), &[]);
    let v = verdict(&out);
    assert!(v.get("decision").is_none(), "{v}");
    let m = v["systemMessage"].as_str().unwrap();
    assert!(
        m.starts_with("Codex review gate let the stop through without a review: not signed in")
            && m.contains("codex-mcp-bridge login")
            && !m.contains('\n'),
        "{m}"
    );
}

#[tokio::test]
async fn a_usage_limit_a_timeout_and_bad_settings_fail_open_with_a_reason() {
    let (fake, home) = gate_on(HIGH).await;
    let repo = changed_repo();
    fake.set_faults(Faults {
        usage_limit: true,
        ..Faults::default()
    });
    let out = gate(&home, &stop("s-limit", repo.path(), false), &[]);
    let m = verdict(&out)["systemMessage"].as_str().unwrap().to_owned();
    assert!(m.contains("usage limit"), "{m}");

    fake.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let out = gate(
        &home,
        &stop("s-slow", repo.path(), false),
        &["--timeout-seconds", "2"],
    );
    let m = verdict(&out)["systemMessage"].as_str().unwrap().to_owned();
    assert!(m.contains("took longer than 2 s"), "{m}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // A bad value of the gate's own setting: said, and never exit 2 (which would block).
    let mut cmd = home.cmd(&bin("codex-mcp-bridge"));
    cmd.env("CODEX_OAUTH_REVIEW_GATE", "yes");
    let out = gate_with(cmd, &stop("s-bad", repo.path(), false), &[]);
    let m = verdict(&out)["systemMessage"].as_str().unwrap().to_owned();
    assert!(
        m.contains("CODEX_OAUTH_REVIEW_GATE") && m.contains("review_gate"),
        "{m}"
    );
    assert!(!home.path().join("gate").join("s-limit.json").exists());
}

#[tokio::test]
async fn nothing_to_review_means_nothing_said() {
    let (fake, home) = gate_on(HIGH).await;
    let repo = changed_repo();
    std::fs::write(
        repo.path().join("calc.py"),
        "def add(a, b):\n    return a + b\n",
    )
    .unwrap();
    let out = gate(&home, &stop("s-clean", repo.path(), false), &[]);
    assert_eq!(out, "", "no change");
    let plain = tempfile::tempdir().unwrap();
    let out = gate(&home, &stop("s-plain", plain.path(), false), &[]);
    assert_eq!(out, "", "no repository");
    assert!(fake.requests_to("/responses").is_empty());
    // A session id that is no plain name is refused before it names a file.
    let out = gate(&home, &stop("../escape", repo.path(), false), &[]);
    let m = verdict(&out)["systemMessage"].as_str().unwrap().to_owned();
    assert!(m.contains("not a plain name"), "{m}");
    assert!(!home.path().join("escape.json").exists());
}

/// The change Codex reviewed at an earlier stop of the session is not reviewed again: its
/// verdict stands (a stop let through goes through in silence, a block blocks again), and no
/// usage is spent; a changed file is reviewed anew.
#[tokio::test]
async fn an_unchanged_change_is_not_reviewed_again_in_a_session() {
    let (fake, home) = gate_on(LOW).await;
    let repo = changed_repo();
    let first = gate(&home, &stop("s-same", repo.path(), false), &[]);
    assert!(verdict(&first)["systemMessage"].is_string(), "{first}");
    let again = gate(&home, &stop("s-same", repo.path(), false), &[]);
    assert_eq!(again, "", "already reviewed: nothing said");
    assert_eq!(fake.requests_to("/responses").len(), 1, "no second review");
    // Another session reviews it for itself.
    let other = gate(&home, &stop("s-else", repo.path(), false), &[]);
    assert!(verdict(&other)["systemMessage"].is_string(), "{other}");
    assert_eq!(fake.requests_to("/responses").len(), 2);
    // A change to the change: reviewed again.
    std::fs::write(
        repo.path().join("calc.py"),
        "def add(a, b):\n    return b - a\n",
    )
    .unwrap();
    let changed = gate(&home, &stop("s-same", repo.path(), false), &[]);
    assert!(verdict(&changed)["systemMessage"].is_string(), "{changed}");
    assert_eq!(fake.requests_to("/responses").len(), 3);

    // A block stands while the change does not move, counted toward the cap.
    let (fake, home) = gate_on(HIGH).await;
    let repo = changed_repo();
    let one = verdict(&gate(&home, &stop("s-b", repo.path(), false), &[]));
    let two = verdict(&gate(&home, &stop("s-b", repo.path(), false), &[]));
    assert_eq!(two["decision"], json!("block"), "{two}");
    let reason = two["reason"].as_str().unwrap();
    assert!(
        reason.contains("add subtracts") && reason.contains("block 2 of at most 3"),
        "{reason}"
    );
    assert_eq!(
        one["reason"]
            .as_str()
            .unwrap()
            .replace("block 1 of", "block 2 of"),
        reason
    );
    assert_eq!(fake.requests_to("/responses").len(), 1);
}
