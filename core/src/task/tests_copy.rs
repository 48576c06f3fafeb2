#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use git2::Repository;

use super::test_support::{read, snapshot, user_project, write};
use super::*;

fn left_out_paths(copy: &PrivateCopy) -> Vec<&str> {
    copy.left_out.iter().map(|l| l.path.as_str()).collect()
}

#[test]
fn the_copy_holds_the_working_tree_as_it_is_now_without_ignored_files_or_secrets() {
    let (user, _repo) = user_project();
    let dest = tempfile::tempdir().unwrap();
    let dest_dir = dest.path().join("copy");
    let copy = make_copy(&user.path().join("src"), &dest_dir).unwrap();
    let at = copy.dir.as_path();
    assert_eq!(
        read(at, "src/lib.rs"),
        "pub fn one() -> u32 {\n    1 // changed\n}\n"
    );
    assert_eq!(read(at, "src/staged.rs"), "new staged\n");
    assert_eq!(read(at, "src/keep.rs"), "// kept as committed\n");
    assert_eq!(read(at, "notes/todo.md"), "untracked\n");
    assert_eq!(read(at, ".gitignore"), "target/\n*.log\n");
    for absent in ["gone.txt", ".env", ".env.local", "target", "run.log"] {
        assert!(!at.join(absent).exists(), "{absent} was copied");
    }
    let mut left = left_out_paths(&copy);
    left.sort_unstable();
    assert_eq!(left, [".env", ".env.local"]);
    assert!(
        copy.left_out.iter().all(|l| l.why.contains(".env")),
        "{:?}",
        copy.left_out
    );
    assert_eq!(copy.files, 5);
    let expected_bytes: u64 = [
        "src/lib.rs",
        "src/staged.rs",
        "src/keep.rs",
        "notes/todo.md",
        ".gitignore",
    ]
    .iter()
    .map(|p| fs::metadata(at.join(p)).unwrap().len())
    .sum();
    assert_eq!(copy.bytes, expected_bytes);
    assert_eq!(copy.source, user.path().canonicalize().unwrap());
}

#[test]
fn the_copy_is_a_fresh_repository_with_one_commit_of_that_state() {
    let (user, _repo) = user_project();
    let dest = tempfile::tempdir().unwrap();
    let copy = make_copy(user.path(), dest.path()).unwrap();
    let repo = Repository::open(&copy.dir).unwrap();
    assert!(
        copy.dir.join(".git").is_dir(),
        "the copy's .git is its own folder"
    );
    assert!(!copy.dir.join(".git/objects/info/alternates").exists());
    assert!(repo.worktrees().unwrap().is_empty());
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.id().to_string(), copy.first_commit);
    assert_eq!(head.parent_count(), 0);
    assert_eq!(head.author().name().unwrap(), COPY_AUTHOR);
    assert_eq!(head.committer().name().unwrap(), COPY_AUTHOR);
    let mut names = Vec::new();
    head.tree()
        .unwrap()
        .walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                names.push(format!("{dir}{}", entry.name().unwrap()));
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
    names.sort();
    assert_eq!(
        names,
        [
            ".gitignore",
            "notes/todo.md",
            "src/keep.rs",
            "src/lib.rs",
            "src/staged.rs"
        ]
    );
    let statuses = repo.statuses(None).unwrap();
    assert!(
        statuses.is_empty(),
        "the copy is clean after its first commit"
    );
    assert!(
        changed_files(&copy.dir, &copy.first_commit)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn making_the_copy_leaves_the_users_repository_byte_identical() {
    let (user, repo) = user_project();
    let head = repo.head().unwrap().target().unwrap();
    let before = snapshot(user.path());
    let dest = tempfile::tempdir().unwrap();
    let copy = make_copy(user.path(), dest.path()).unwrap();
    // Working in the copy (a commit there) does not reach the user's repository either.
    write(&copy.dir, "src/lib.rs", b"changed in the copy\n");
    super::test_support::commit_all(&Repository::open(&copy.dir).unwrap(), "in the copy");
    assert_eq!(
        snapshot(user.path()),
        before,
        "files, HEAD, index and refs unchanged"
    );
    assert_eq!(repo.head().unwrap().target().unwrap(), head);
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_is_copied_as_a_link_not_followed() {
    let (user, repo) = user_project();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.txt", b"outside\n");
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), user.path().join("link"))
        .unwrap();
    super::test_support::stage(&repo, "link");
    let dest = tempfile::tempdir().unwrap();
    let copy = make_copy(user.path(), dest.path()).unwrap();
    let link = copy.dir.join("link");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_link(&link).unwrap(),
        outside.path().join("secret.txt")
    );
}

#[test]
fn a_folder_that_is_not_empty_or_inside_the_project_is_refused() {
    let (user, _repo) = user_project();
    let busy = tempfile::tempdir().unwrap();
    write(busy.path(), "x", b"x");
    let e = make_copy(user.path(), busy.path()).unwrap_err();
    assert!(e.to_string().contains("is not empty"), "{e}");
    let before = snapshot(user.path());
    let e = make_copy(user.path(), &user.path().join("inside")).unwrap_err();
    assert!(e.to_string().contains("overlap"), "{e}");
    let _ = fs::remove_dir(user.path().join("inside"));
    assert_eq!(snapshot(user.path()), before);
}

#[test]
fn a_folder_outside_any_repository_is_refused() {
    let plain = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let e = make_copy(plain.path(), dest.path()).unwrap_err();
    assert!(e.to_string().contains("not in a git repository"), "{e}");
}

/// The bench figure: making the private copy of this repository (run with `--ignored`).
#[test]
#[ignore = "a timing, not a check: run with --ignored --nocapture"]
fn bench_copy_of_this_repository() {
    let this = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dest = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let copy = make_copy(&this, &dest.path().join("copy")).unwrap();
    let took = started.elapsed();
    println!(
        "private copy of {}: {} files, {} bytes, {} left out, in {:.3} s",
        copy.source.display(),
        copy.files,
        copy.bytes,
        copy.left_out.len(),
        took.as_secs_f64()
    );
}
