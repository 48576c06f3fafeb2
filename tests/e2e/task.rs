//! `codex_task` end to end: the real bridge, fake-openai scripted to call tools, a repository
//! with a failing test. Codex (scripted) runs the test, patches the bug, runs it again; the
//! user's repository stays byte for byte as it was until `codex_apply`, which puts the fix in
//! and keeps the user's own uncommitted change.

use std::collections::BTreeMap;
use std::path::Path;

use fake_openai::Faults;
use git2::Repository;
use serde_json::{Value, json};

use crate::support::*;

const SECRET: &str = "sk-proj-Tq8ZkWm3RbX9cV2nL5pJ7hG4dF1sA6eY0uI3oK8wE2rT5yU9iO1pL4kJ7hG2fD";

/// Every file under `dir` (the `.git` folder too) with its bytes: the repository's whole state.
fn tree_state(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                let key = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(key, std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

/// A repository whose test fails: `add.sh` subtracts. One commit, then the user's own
/// uncommitted change to README.md, an untracked `.env`, and a tracked file holding a key.
fn repo_with_a_bug() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("add.sh"), "echo $(($1 - $2))\n").unwrap();
    std::fs::write(
        p.join("test.sh"),
        "if [ \"$(sh add.sh 2 3)\" = 5 ]; then echo PASS; else echo FAIL; exit 1; fi\n",
    )
    .unwrap();
    std::fs::write(p.join("README.md"), "# adder\n").unwrap();
    std::fs::write(p.join("config.py"), format!("API_KEY = \"{SECRET}\"\n")).unwrap();
    let repo = Repository::init(p).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("u", "u@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "adder", &tree, &[])
        .unwrap();
    std::fs::write(
        p.join("README.md"),
        "# adder\n\nMy own note, not committed.\n",
    )
    .unwrap();
    std::fs::write(p.join(".env"), format!("OPENAI_API_KEY={SECRET}\n")).unwrap();
    dir
}

fn data(r: &rmcp::model::CallToolResult) -> Value {
    r.structured_content.clone().unwrap_or(Value::Null)
}

/// The outputs the fake received for the calls, in order.
fn tool_outputs(fake: &fake_openai::FakeOpenAi) -> Vec<String> {
    let reqs = fake.requests_to("/backend-api/codex/responses");
    let last = reqs.last().expect("requests");
    last.body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "function_call_output" || i["type"] == "custom_tool_call_output")
        .map(|i| i["output"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_task_fixes_the_bug_in_its_copy_and_codex_apply_puts_the_fix_in_the_users_tree() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let repo = repo_with_a_bug();
    let user = repo.path().display().to_string();
    let escape = format!(
        "echo pwned > {user}/add.sh; git -C {user} commit -qam pwned; cat .env; cat config.py; env"
    );
    let patch = "*** Begin Patch\n*** Update File: add.sh\n@@\n-echo $(($1 - $2))\n+echo $(($1 + $2))\n*** End Patch\n";
    fake.set_faults(Faults {
        script: vec![
            json!({"function_call": {"name": "exec_command", "arguments": {"cmd": "sh test.sh"}}}),
            json!({"custom_tool_call": {"name": "apply_patch", "input": patch}}),
            json!({"function_call": {"name": "exec_command", "arguments": {"cmd": "sh test.sh"}}}),
            json!({"function_call": {"name": "exec_command", "arguments": {"cmd": escape}}}),
            json!({"answer": "Fixed add.sh: it subtracted instead of adding. The test passes."}),
        ],
        ..Faults::default()
    });
    let before = tree_state(repo.path());
    let s = bridge_in(&home, repo.path()).await;
    let started = call_tool(&s, "codex_task", json!({"task": "Make the test pass."})).await;
    assert_ne!(started.is_error, Some(true), "{}", text(&started));
    let id = data(&started)["job_id"].as_str().unwrap().to_owned();
    let r = call_tool(
        &s,
        "codex_result",
        json!({"job_id": id, "wait_seconds": 120}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let d = data(&r);
    assert_eq!(d["state"], "completed", "{d}");
    assert!(
        d["sandbox"].is_object(),
        "the commands ran in the sandbox: {d}"
    );
    assert_eq!(d["applies"], true, "{d}");
    let patch_text = d["patch"].as_str().unwrap();
    assert!(patch_text.contains("+echo $(($1 + $2))"), "{patch_text}");
    assert!(
        !patch_text.contains("README"),
        "the user's own change is no part of the patch"
    );
    let files: Vec<&str> = d["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["add.sh"]);
    let exits: Vec<Value> = d["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["exit_code"].clone())
        .collect();
    assert_eq!(exits[0], 1, "the test failed first: {d}");
    assert_eq!(exits[1], 0, "the patch applied: {d}");
    assert_eq!(exits[2], 0, "then the test passed: {d}");

    // What Codex was told: the runs, and nothing it must not see.
    let outputs = tool_outputs(&fake);
    assert_eq!(outputs.len(), 4);
    assert!(
        outputs[0].contains("FAIL") && outputs[0].contains("exited with code 1"),
        "{}",
        outputs[0]
    );
    assert!(outputs[2].contains("PASS"), "{}", outputs[2]);
    let escaped = &outputs[3];
    assert!(
        !escaped.contains(SECRET),
        "a secret reached Codex: {escaped}"
    );
    assert!(
        escaped.contains("[REDACTED"),
        "config.py's key is redacted: {escaped}"
    );
    assert!(escaped.contains(".env"), "no .env in the copy: {escaped}");
    assert!(
        !escaped.contains("CODEX_OAUTH_"),
        "the bridge's environment leaked: {escaped}"
    );

    // Until codex_apply, the user's repository is as it was, byte for byte.
    let after = tree_state(repo.path());
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(
        changed.is_empty(),
        "the task touched the user's repository: {changed:?}"
    );

    let applied = call_tool(&s, "codex_apply", json!({"job_id": id})).await;
    assert_ne!(applied.is_error, Some(true), "{}", text(&applied));
    assert_eq!(data(&applied)["files"], json!(["add.sh"]));
    assert_eq!(
        std::fs::read_to_string(repo.path().join("add.sh")).unwrap(),
        "echo $(($1 + $2))\n"
    );
    assert!(
        std::fs::read_to_string(repo.path().join("README.md"))
            .unwrap()
            .contains("My own note"),
        "the user's own change is kept"
    );
    let git = Repository::open(repo.path()).unwrap();
    let staged = git
        .statuses(None)
        .unwrap()
        .iter()
        .filter(|e| e.status().is_index_modified() || e.status().is_index_new())
        .count();
    assert_eq!(staged, 0, "nothing staged");
    // Applied once: a second time it no longer applies, and says so.
    let again = call_tool(&s, "codex_apply", json!({"job_id": id})).await;
    assert_eq!(again.is_error, Some(true), "{}", text(&again));
    s.cancel().await.unwrap();
}

#[tokio::test]
async fn apply_patch_refuses_to_leave_the_copy() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let repo = repo_with_a_bug();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("escaped.txt");
    // A tracked symlink in the user's repository that points outside it.
    std::os::unix::fs::symlink(outside.path(), repo.path().join("link")).unwrap();
    let add =
        |path: &str| format!("*** Begin Patch\n*** Add File: {path}\n+escaped\n*** End Patch\n");
    fake.set_faults(Faults {
        script: vec![
            json!({"custom_tool_call": {"name": "apply_patch", "input": add(&target.display().to_string())}}),
            json!({"custom_tool_call": {"name": "apply_patch", "input": add("../../escaped.txt")}}),
            json!({"custom_tool_call": {"name": "apply_patch", "input": add("link/escaped.txt")}}),
            json!({"answer": "Could not."}),
        ],
        ..Faults::default()
    });
    let s = bridge_in(&home, repo.path()).await;
    let started = call_tool(
        &s,
        "codex_task",
        json!({"task": "Write outside.", "background": false}),
    )
    .await;
    assert_ne!(started.is_error, Some(true), "{}", text(&started));
    let d = data(&started);
    assert_eq!(d["state"], "completed", "{d}");
    let outputs = tool_outputs(&fake);
    assert_eq!(outputs.len(), 3);
    for o in &outputs {
        assert!(o.contains("Exit code: 1"), "refused: {o}");
    }
    assert!(!target.exists(), "apply_patch wrote outside the copy");
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    assert_eq!(d["patch"], "", "nothing changed in the copy");
    s.cancel().await.unwrap();
}

#[tokio::test]
async fn the_cli_runs_a_task_in_the_working_folder_and_applies_its_patch() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let repo = repo_with_a_bug();
    let patch = "*** Begin Patch\n*** Update File: add.sh\n@@\n-echo $(($1 - $2))\n+echo $(($1 + $2))\n*** End Patch\n";
    fake.set_faults(Faults {
        script: vec![
            json!({"custom_tool_call": {"name": "apply_patch", "input": patch}}),
            json!({"answer": "Fixed."}),
        ],
        ..Faults::default()
    });
    let run = |args: &[&str]| {
        home.cmd(&bin("codex-mcp-bridge"))
            .args(args)
            .current_dir(repo.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(&["task", "Make the test pass.", "--wait", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state"], "completed", "{v}");
    assert_eq!(v["applies"], true, "{v}");
    let id = v["job_id"].as_str().unwrap().to_owned();
    assert_eq!(
        std::fs::read_to_string(repo.path().join("add.sh")).unwrap(),
        "echo $(($1 - $2))\n",
        "not applied before `jobs apply`"
    );
    let out = run(&["jobs", "apply", &id, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"], json!(["add.sh"]), "{v}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("add.sh")).unwrap(),
        "echo $(($1 + $2))\n"
    );
}

/// `view_image` (for a model that takes images): Codex looks at an image of the copy, sent back
/// as the output's `input_image`, as the Codex CLI sends it; a path out of the copy is refused.
#[tokio::test]
async fn view_image_shows_codex_an_image_of_the_copy_and_nothing_outside_it() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let repo = repo_with_a_bug();
    std::fs::create_dir(repo.path().join("docs")).unwrap();
    image::RgbImage::from_pixel(4, 3, image::Rgb([0, 90, 200]))
        .save(repo.path().join("docs/plot.png"))
        .unwrap();
    let outside = tempfile::tempdir().unwrap();
    image::RgbImage::from_pixel(2, 2, image::Rgb([1, 2, 3]))
        .save(outside.path().join("private.png"))
        .unwrap();
    let escape = outside.path().join("private.png").display().to_string();
    fake.set_faults(Faults {
        script: vec![
            json!({"function_call": {"name": "view_image", "arguments": {"path": "docs/plot.png"}}}),
            json!({"function_call": {"name": "view_image", "arguments": {"path": escape}}}),
            json!({"answer": "The plot is blue."}),
        ],
        ..Faults::default()
    });
    let s = bridge_in(&home, repo.path()).await;
    let r = call_tool(
        &s,
        "codex_task",
        json!({"task": "Look at the plot.", "background": false}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let d = data(&r);
    assert_eq!(d["state"], "completed", "{d}");
    let reqs = fake.requests_to("/backend-api/codex/responses");
    let offered: Vec<&str> = reqs[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(offered.contains(&"view_image"), "{offered:?}");
    let outputs: Vec<Value> = reqs.last().unwrap().body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| i["output"].clone())
        .collect();
    assert_eq!(outputs.len(), 2, "{outputs:?}");
    let parts = outputs[0].as_array().expect("content items");
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0]["type"], "input_image");
    assert!(
        parts[0]["image_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"),
        "{}",
        parts[0]
    );
    let refused = outputs[1].as_str().expect("a text");
    assert!(refused.contains("unable to view the image"), "{refused}");
    let commands: Vec<&str> = d["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tool"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["view_image", "view_image"], "{d}");
    s.cancel().await.unwrap();
}
