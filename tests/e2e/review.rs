//! `codex_review` through the real bridge on a temp repository (made with libgit2: no git CLI):
//! the change bundled from the repository, not pasted; the findings of Codex's answer as
//! structured content; an empty change and a folder that is no repository said plainly.

use fake_openai::Faults;
use git2::{IndexAddOption, Repository, Signature};
use rmcp::RoleClient;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use serde_json::{Value, json};

use crate::support::*;

fn commit_all(repo: &Repository, msg: &str) {
    let mut idx = repo.index().unwrap();
    idx.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    idx.write().unwrap();
    let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &parents)
        .unwrap();
}

/// A signed-in home, and a repository whose one commit holds `file` with `body`.
async fn signed_in_with_repo(
    file: &str,
    body: &str,
) -> (fake_openai::FakeOpenAi, Home, tempfile::TempDir) {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    std::fs::write(dir.path().join(file), body).unwrap();
    commit_all(&repo, "one");
    (fake, home, dir)
}

async fn review(s: &RunningService<RoleClient, ()>, args: Value) -> CallToolResult {
    let Value::Object(m) = args else { panic!() };
    s.call_tool(CallToolRequestParams::new("codex_review").with_arguments(m))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_review_of_the_working_tree_sends_the_change_and_returns_structured_findings() {
    let (fake, home, dir) =
        signed_in_with_repo("calc.py", "def add(a, b):\n    return a + b\n").await;
    std::fs::write(
        dir.path().join("calc.py"),
        "def add(a, b):\n    return a - b\n\nTOKEN = 'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".env"), "SECRET=hunter2hunter2\n").unwrap();
    fake.set_faults(Faults {
        answer: Some(
            "```json\n{\"summary\": \"add subtracts.\", \"findings\": [{\"file\": \"calc.py\", \"line\": 2, \"severity\": \"high\", \"title\": \"add subtracts\", \"detail\": \"a - b is not a sum\", \"suggestion\": \"return a + b\"}]}\n```".into(),
        ),
        ..Faults::default()
    });
    let s = bridge_in(&home, dir.path()).await;
    let r = review(&s, json!({"focus": "correctness"})).await;
    let t = text(&r);
    assert_ne!(r.is_error, Some(true), "{t}");
    let data = r.structured_content.clone().unwrap();
    assert_eq!(data["parsed"], json!(true));
    assert_eq!(
        data["findings"],
        json!([{"file": "calc.py", "line": 2, "severity": "high", "title": "add subtracts",
                "detail": "a - b is not a sum", "suggestion": "return a + b"}])
    );
    assert_eq!(
        data["changed"],
        json!([{"path": "calc.py", "status": "modified"}])
    );
    assert_eq!(data["withheld"][0]["path"], json!(".env"));
    assert_eq!(
        data["diff_redactions"],
        json!([{"path": "calc.py", "line": 4, "kind": "github_token"}])
    );
    assert!(t.contains("1. [high] calc.py:2: add subtracts"), "{t}");
    assert!(
        t.contains("not sent: .env (an .env file: never sent)"),
        "{t}"
    );

    // What reached the backend: the diff and the file, without the secrets, and the review's
    // instructions.
    let body = fake
        .requests_to("/responses")
        .last()
        .unwrap()
        .body
        .to_string();
    assert!(
        body.contains("-    return a + b") && body.contains("+    return a - b"),
        "{body}"
    );
    assert!(body.contains("Focus on: correctness"), "{body}");
    assert!(body.contains("You review a code change"), "{body}");
    for secret in ["ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "hunter2hunter2"] {
        assert!(!body.contains(secret), "{secret} left the machine");
    }
    s.cancel().await.unwrap();
}

#[tokio::test]
async fn an_empty_change_and_a_folder_outside_a_repository_are_said_plainly_and_send_nothing() {
    let (fake, home, dir) = signed_in_with_repo("a.txt", "a\n").await;
    let s = bridge_in(&home, dir.path()).await;
    let r = review(&s, json!({})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert!(
        text(&r).starts_with("Nothing to review: no change (HEAD → the working tree"),
        "{}",
        text(&r)
    );
    assert_eq!(r.structured_content.unwrap()["empty"], json!(true));
    let r = review(&s, json!({"base": "no-such-branch"})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r).contains("`no-such-branch` is not a branch, tag or commit"),
        "{}",
        text(&r)
    );
    s.cancel().await.unwrap();

    let plain = tempfile::tempdir().unwrap();
    let s = bridge_in(&home, plain.path()).await;
    let r = review(&s, json!({})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r).contains("is not in a git repository"),
        "{}",
        text(&r)
    );
    s.cancel().await.unwrap();
    assert!(
        fake.requests_to("/responses").is_empty(),
        "nothing was sent"
    );
}

#[tokio::test]
async fn an_answer_outside_the_review_format_is_returned_as_it_is() {
    let (fake, home, dir) = signed_in_with_repo("a.txt", "a\n").await;
    std::fs::write(dir.path().join("a.txt"), "b\n").unwrap();
    fake.set_faults(Faults {
        answer: Some("Looks fine to me.".into()),
        ..Faults::default()
    });
    let s = bridge_in(&home, dir.path()).await;
    let r = review(&s, json!({})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert!(
        text(&r).contains(
            "Codex did not answer in the review format; its answer:\n\nLooks fine to me."
        ),
        "{}",
        text(&r)
    );
    let data = r.structured_content.unwrap();
    assert_eq!(
        (data["parsed"].clone(), data["findings"].clone()),
        (json!(false), Value::Null)
    );
    assert_eq!(data["answer"], json!("Looks fine to me."));
    s.cancel().await.unwrap();
}

/// A repository whose last commit changed `committed.txt`, with a change of `staged.txt` staged
/// and one of `unstaged.txt` left on disk; the last commit's short id.
async fn committed_staged_and_unstaged()
-> (fake_openai::FakeOpenAi, Home, tempfile::TempDir, String) {
    let (fake, home, dir) = signed_in_with_repo("committed.txt", "one\n").await;
    for f in ["staged.txt", "unstaged.txt"] {
        std::fs::write(dir.path().join(f), "one\n").unwrap();
    }
    let repo = Repository::open(dir.path()).unwrap();
    commit_all(&repo, "two files more");
    std::fs::write(dir.path().join("committed.txt"), "one\nCOMMITTED\n").unwrap();
    commit_all(&repo, "the committed change");
    let last = repo
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id()
        .to_string()[..7]
        .to_owned();
    std::fs::write(dir.path().join("staged.txt"), "one\nSTAGED\n").unwrap();
    let mut idx = repo.index().unwrap();
    idx.add_path(std::path::Path::new("staged.txt")).unwrap();
    idx.write().unwrap();
    std::fs::write(dir.path().join("unstaged.txt"), "one\nUNSTAGED\n").unwrap();
    (fake, home, dir, last)
}

/// The paths a review's result names as changed, and the last request's user message.
fn changed_and_sent(r: &CallToolResult, fake: &fake_openai::FakeOpenAi) -> (Vec<String>, String) {
    assert_ne!(r.is_error, Some(true), "{}", text(r));
    let data = r.structured_content.clone().unwrap();
    let changed = data["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap().to_owned())
        .collect();
    let body = fake
        .requests_to("/responses")
        .last()
        .unwrap()
        .body
        .to_string();
    (changed, body)
}

#[tokio::test]
async fn staged_sends_only_the_staged_change_and_commit_only_that_commits() {
    let (fake, home, dir, last) = committed_staged_and_unstaged().await;
    let s = bridge_in(&home, dir.path()).await;

    let r = review(&s, json!({"staged": true})).await;
    let (changed, body) = changed_and_sent(&r, &fake);
    assert_eq!(changed, ["staged.txt"]);
    assert!(
        body.contains("+STAGED") && !body.contains("UNSTAGED") && !body.contains("COMMITTED"),
        "{body}"
    );
    assert!(
        text(&r).starts_with("Codex review of HEAD → the index (staged changes only)"),
        "{}",
        text(&r)
    );
    assert_eq!(
        r.structured_content.unwrap()["compared"],
        json!("HEAD → the index (staged changes only)")
    );

    // On disk the committed file has changed since: the commit's text is what is sent.
    std::fs::write(
        dir.path().join("committed.txt"),
        "one\nCOMMITTED\nAND LATER\n",
    )
    .unwrap();
    for rev in [last.clone(), "HEAD".to_owned()] {
        let r = review(&s, json!({"commit": rev})).await;
        let (changed, body) = changed_and_sent(&r, &fake);
        assert_eq!(changed, ["committed.txt"]);
        assert!(
            body.contains("+COMMITTED") && !body.contains("STAGED") && !body.contains("AND LATER"),
            "{body}"
        );
        let compared = r.structured_content.unwrap()["compared"].clone();
        assert!(
            compared
                .as_str()
                .unwrap()
                .starts_with(&format!("{last}^ → {last} (one commit")),
            "{compared}"
        );
    }

    let r = review(&s, json!({})).await;
    let (changed, body) = changed_and_sent(&r, &fake);
    assert_eq!(changed, ["committed.txt", "staged.txt", "unstaged.txt"]);
    for line in ["+AND LATER", "+STAGED", "+UNSTAGED"] {
        assert!(body.contains(line), "{line}: {body}");
    }
    assert_eq!(fake.requests_to("/responses").len(), 4);
    s.cancel().await.unwrap();
}

#[tokio::test]
async fn base_staged_and_commit_together_are_refused_before_anything_is_sent() {
    let (fake, home, dir, _) = committed_staged_and_unstaged().await;
    let s = bridge_in(&home, dir.path()).await;
    let cases = [
        (
            json!({"staged": true, "base": "main"}),
            "`base` and `staged` exclude each other",
        ),
        (
            json!({"staged": true, "commit": "HEAD"}),
            "`staged` and `commit` exclude each other",
        ),
        (
            json!({"commit": "HEAD", "base": "HEAD~1"}),
            "`base` and `commit` exclude each other",
        ),
        (
            json!({"commit": "HEAD", "staged": true, "background": true}),
            "`staged` and `commit` exclude each other",
        ),
        (json!({"commit": "HEAD~1..HEAD"}), "is not one commit"),
    ];
    for (args, needle) in cases {
        let r = review(&s, args.clone()).await;
        assert_eq!(r.is_error, Some(true), "{args}: {}", text(&r));
        assert!(text(&r).contains(needle), "{args}: {}", text(&r));
        assert_eq!(
            r.structured_content.unwrap()["category"],
            json!("input"),
            "{args}"
        );
    }
    s.cancel().await.unwrap();
    assert!(
        fake.requests_to("/responses").is_empty(),
        "nothing was sent"
    );
}
