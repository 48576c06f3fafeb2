//! Helpers of the task tests: a user's repository with every kind of file, and a snapshot of a
//! whole folder (its `.git` included) to prove it was not touched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature};

pub(super) fn write(root: &Path, rel: &str, body: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, body).unwrap();
}

pub(super) fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).unwrap()
}

pub(super) fn init(dir: &Path) -> Repository {
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main");
    Repository::init_opts(dir, &opts).unwrap()
}

pub(super) fn commit_all(repo: &Repository, msg: &str) {
    let mut idx = repo.index().unwrap();
    idx.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    idx.update_all(["*"], None).unwrap();
    idx.write().unwrap();
    let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &parents)
        .unwrap();
}

pub(super) fn stage(repo: &Repository, rel: &str) {
    let mut idx = repo.index().unwrap();
    idx.add_path(Path::new(rel)).unwrap();
    idx.write().unwrap();
}

/// A user's project: committed files (one then modified, one then staged, one deleted),
/// a tracked `.env`, an untracked file, an untracked `.env.local`, ignored files.
pub(super) fn user_project() -> (tempfile::TempDir, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let repo = init(dir.path());
    let root = dir.path();
    write(root, ".gitignore", b"target/\n*.log\n");
    write(root, "src/lib.rs", b"pub fn one() -> u32 {\n    1\n}\n");
    write(root, "src/keep.rs", b"// kept as committed\n");
    write(root, "src/staged.rs", b"old\n");
    write(root, "gone.txt", b"bye\n");
    write(root, ".env", b"TOKEN=committed-secret\n");
    commit_all(&repo, "first");
    write(
        root,
        "src/lib.rs",
        b"pub fn one() -> u32 {\n    1 // changed\n}\n",
    );
    write(root, "src/staged.rs", b"new staged\n");
    stage(&repo, "src/staged.rs");
    fs::remove_file(root.join("gone.txt")).unwrap();
    write(root, "notes/todo.md", b"untracked\n");
    write(root, ".env.local", b"TOKEN=untracked-secret\n");
    write(root, "target/big.bin", &[0u8; 4096]);
    write(root, "run.log", b"ignored\n");
    (dir, repo)
}

/// Every file under `root` (`.git` included) with its bytes; links by their target.
pub(super) fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap();
                out.insert(rel, target.to_string_lossy().as_bytes().to_vec());
            } else if meta.is_dir() {
                stack.push(path);
            } else {
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    out
}
