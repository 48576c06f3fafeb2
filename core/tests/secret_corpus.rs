//! The secret filter measured both ways on a corpus of realistic project files
//! (`tests/corpus/secrets/`, see its README): every secret listed in its manifest stays home
//! and every look-alike reaches Codex intact, through `files` (what `codex_query` sends) and
//! through `codex_review`'s change as added, removed and context lines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use codex_oauth_core::files::{self, Limits, Project};
use codex_oauth_core::review::{self, Scope};
use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature};
use serde::Deserialize;

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
    kind: String,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/secrets")
}

fn manifest() -> Manifest {
    let text = fs::read_to_string(corpus().join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Caps wide enough for the whole corpus in one request.
fn wide() -> Limits {
    Limits {
        max_file_bytes: 4 << 20,
        max_total_bytes: 64 << 20,
        max_files: 1000,
        ..Limits::default()
    }
}

/// What of the manifest went wrong in `sent`: secrets found in it, look-alikes missing from it.
fn judge(m: &Manifest, sent: &str, lookalikes: bool) -> Vec<String> {
    let mut wrong = Vec::new();
    for (path, e) in &m.files {
        for s in &e.secrets {
            if let Some(line) = sent.lines().find(|l| l.contains(&s.value)) {
                wrong.push(format!("sent: {path}: {}: `{}`", s.kind, line.trim()));
            }
        }
        if lookalikes {
            for l in &e.lookalikes {
                // A look-alike of several lines is judged line by line (what is sent numbers
                // its lines or prefixes them).
                if !l.lines().all(|part| sent.contains(part.trim())) {
                    let first = l.lines().next().unwrap_or_default();
                    let now = sent.lines().find(|s| s.contains(first.trim())).or_else(|| {
                        sent.lines()
                            .find(|s| s.contains(&first[..first.len().min(12)]))
                    });
                    wrong.push(format!(
                        "changed: {path}: `{l}` is sent as `{}`",
                        now.unwrap_or("(none)").trim()
                    ));
                }
            }
        }
    }
    wrong
}

/// Fails with every wrong item when `sent` (what `what` sent) holds a secret of the manifest,
/// or (with `lookalikes`) lacks one of its look-alikes.
fn assert_clean(m: &Manifest, what: &str, sent: &str, lookalikes: bool) {
    let wrong = judge(m, sent, lookalikes);
    assert!(
        wrong.is_empty(),
        "{what}, {} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn the_corpus_is_big_enough_to_mean_something() {
    let m = manifest();
    let secrets: usize = m.files.values().map(|e| e.secrets.len()).sum();
    let lookalikes: usize = m.files.values().map(|e| e.lookalikes.len()).sum();
    assert!(secrets >= 150, "{secrets} secrets");
    assert!(lookalikes >= 50, "{lookalikes} look-alikes");
    for path in m.files.keys() {
        assert!(corpus().join("files").join(path).is_file(), "{path}");
    }
}

#[test]
fn no_secret_of_the_corpus_is_sent_with_files_and_every_lookalike_is_intact() {
    let m = manifest();
    let root = corpus().join("files");
    let ws = Project::new([root], &[]);
    let patterns: Vec<String> = m.files.keys().cloned().collect();
    let bundle = files::gather(&ws, &patterns, &wide());
    assert_eq!(bundle.sent.len(), m.files.len(), "{:?}", bundle.skipped);
    assert_clean(&m, "files", &bundle.text(), true);
}

fn init(dir: &Path) -> Repository {
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main");
    Repository::init_opts(dir, &opts).unwrap()
}

fn commit_all(repo: &Repository) {
    let mut idx = repo.index().unwrap();
    idx.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    idx.update_all(["*"], None).unwrap();
    idx.write().unwrap();
    let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, "corpus", &tree, &parents)
        .unwrap();
}

/// Every file of the tree, rewritten by `f`.
fn rewrite(root: &Path, m: &Manifest, f: impl Fn(&str) -> String) {
    for path in m.files.keys() {
        let p = root.join(path);
        let text = fs::read_to_string(&p).unwrap();
        fs::write(&p, f(&text)).unwrap();
    }
}

/// What the review sends: the diff and the full texts.
fn review_of(root: &Path) -> (String, String) {
    let ws = Project::new([root.to_path_buf()], &[]);
    let change = review::collect(&ws, &Scope::default(), &wide()).unwrap();
    assert!(!change.diff_truncated);
    (change.diff, change.files.text())
}

#[test]
fn no_secret_of_the_corpus_is_sent_by_a_review_of_it_added() {
    let m = manifest();
    let d = tempfile::tempdir().unwrap();
    let repo = init(d.path());
    fs::write(d.path().join("README.txt"), "start\n").unwrap();
    commit_all(&repo);
    copy_tree(&corpus().join("files"), d.path());
    let (diff, texts) = review_of(d.path());
    assert_clean(&m, "diff", &diff, true);
    assert_clean(&m, "texts", &texts, true);
}

#[test]
fn no_secret_of_the_corpus_is_sent_by_a_review_that_removes_it() {
    let m = manifest();
    let d = tempfile::tempdir().unwrap();
    let repo = init(d.path());
    copy_tree(&corpus().join("files"), d.path());
    commit_all(&repo);
    // Every line goes: the whole corpus is in removed lines.
    rewrite(d.path(), &m, |_| "rewritten\n".to_owned());
    let (diff, _) = review_of(d.path());
    assert_clean(&m, "diff", &diff, true);
}

#[test]
fn no_secret_of_the_corpus_is_sent_by_a_review_that_modifies_it() {
    let m = manifest();
    let d = tempfile::tempdir().unwrap();
    let repo = init(d.path());
    copy_tree(&corpus().join("files"), d.path());
    // The base has every other line; the change adds the rest back: added lines between
    // context lines.
    rewrite(d.path(), &m, |t| {
        t.split_inclusive('\n')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, l)| l)
            .collect()
    });
    commit_all(&repo);
    copy_tree(&corpus().join("files"), d.path());
    let (diff, texts) = review_of(d.path());
    // The diff's context is git's three lines around each change: the whole file here.
    assert_clean(&m, "diff", &diff, false);
    assert_clean(&m, "texts", &texts, true);
}
