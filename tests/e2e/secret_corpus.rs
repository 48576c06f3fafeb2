//! The secret corpus (core/tests/corpus/secrets) through the real bridge: what reaches
//! fake-openai for `codex_query` with every corpus file, and for `codex_review` of a change that
//! adds them all, holds none of the manifest's secrets and every one of its look-alikes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{IndexAddOption, Repository, Signature};
use rmcp::RoleClient;
use rmcp::service::RunningService;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::*;

#[derive(Deserialize)]
struct Manifest {
    files: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
struct Entry {
    secrets: Vec<Secret>,
    lookalikes: Vec<String>,
}

#[derive(Deserialize)]
struct Secret {
    value: String,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/corpus/secrets")
}

fn manifest() -> Manifest {
    serde_json::from_str(&std::fs::read_to_string(corpus().join("manifest.json")).unwrap()).unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every string of a request body, joined: the text Codex was given.
fn strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn sent_text(fake: &fake_openai::FakeOpenAi) -> String {
    let r = fake.requests_to("/responses");
    let mut out = String::new();
    strings(
        &r.last().expect("a request reached the backend").body,
        &mut out,
    );
    out
}

/// Fails when `sent` holds a secret of the manifest or lacks one of its look-alikes.
fn assert_clean(m: &Manifest, sent: &str) {
    let wrong = wrong(m, sent);
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The manifest's secrets found in `sent`, and its look-alikes missing from it.
fn wrong(m: &Manifest, sent: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    for (path, e) in &m.files {
        for s in &e.secrets {
            if sent.contains(&s.value) {
                wrong.push(format!("sent: {path}: {}", s.value));
            }
        }
        for l in &e.lookalikes {
            if !l.lines().all(|part| sent.contains(part.trim())) {
                wrong.push(format!("changed: {path}: {l}"));
            }
        }
    }
    wrong
}

async fn call(s: &RunningService<RoleClient, ()>, tool: &'static str, args: Value) -> Value {
    let r = call_tool(s, tool, args).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    r.structured_content.unwrap_or_default()
}

#[tokio::test]
async fn codex_query_with_every_corpus_file_sends_no_secret_and_every_lookalike() {
    let m = manifest();
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let ws = tempfile::tempdir().unwrap();
    copy_tree(&corpus().join("files"), ws.path());
    let s = bridge_in(&home, ws.path()).await;
    let files: Vec<&String> = m.files.keys().collect();
    let data = call(
        &s,
        "codex_query",
        json!({"prompt": "Review the configuration.", "files": files}),
    )
    .await;
    assert_eq!(
        data["files"]["sent"].as_array().map(Vec::len),
        Some(m.files.len()),
        "{}",
        data["files"]["skipped"]
    );
    assert_clean(&m, &sent_text(&fake));
    s.cancel().await.unwrap();
}

#[tokio::test]
async fn codex_review_of_a_change_that_adds_the_corpus_sends_no_secret_and_every_lookalike() {
    let m = manifest();
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let ws = tempfile::tempdir().unwrap();
    let repo = Repository::init(ws.path()).unwrap();
    std::fs::write(ws.path().join("START.txt"), "start\n").unwrap();
    let mut idx = repo.index().unwrap();
    idx.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    idx.write().unwrap();
    let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "start", &tree, &[])
        .unwrap();
    copy_tree(&corpus().join("files"), ws.path());
    let s = bridge_in(&home, ws.path()).await;
    let data = call(&s, "codex_review", json!({})).await;
    assert_eq!(data["diff_truncated"], json!(false), "{data}");
    assert_clean(&m, &sent_text(&fake));
    s.cancel().await.unwrap();
}
