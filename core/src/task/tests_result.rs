#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use super::test_support::{read, snapshot, user_project, write};
use super::*;

/// A copy of the user's project, and the task's work in it: an edit, a new file, a deletion,
/// a binary file.
fn worked_copy(user: &Path, dest: &Path) -> PrivateCopy {
    let copy = make_copy(user, dest).unwrap();
    let at = copy.dir.as_path();
    write(
        at,
        "src/lib.rs",
        b"pub fn one() -> u32 {\n    1 // changed\n}\n\npub fn two() -> u32 {\n    2\n}\n",
    );
    write(at, "src/new.rs", b"pub const NEW: bool = true;\n");
    fs::remove_file(at.join("src/keep.rs")).unwrap();
    write(at, "img.bin", &[0, 159, 146, 150, 0, 1, 2, 3]);
    write(at, "target/ignored.o", b"build output, ignored\n");
    copy
}

fn stat<'a>(files: &'a [FileStat], path: &str) -> &'a FileStat {
    files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} in {files:?}"))
}

#[test]
fn the_final_patch_has_every_change_with_its_counts() {
    let (user, _repo) = user_project();
    let dest = tempfile::tempdir().unwrap();
    let copy = worked_copy(user.path(), dest.path());
    let fp = final_patch(&copy.dir, &copy.first_commit).unwrap();
    assert!(
        fp.patch.contains("diff --git a/src/lib.rs b/src/lib.rs"),
        "{}",
        fp.patch
    );
    assert!(fp.patch.contains("new file mode 100644"), "{}", fp.patch);
    assert!(
        fp.patch.contains("deleted file mode 100644"),
        "{}",
        fp.patch
    );
    assert!(fp.patch.contains("GIT binary patch"), "{}", fp.patch);
    assert!(!fp.patch.contains("ignored"), "{}", fp.patch);
    let lib = stat(&fp.files, "src/lib.rs");
    assert_eq!(
        (lib.status, lib.added, lib.removed),
        (FileStatus::Modified, 4, 0)
    );
    let new = stat(&fp.files, "src/new.rs");
    assert_eq!(
        (new.status, new.added, new.removed),
        (FileStatus::Added, 1, 0)
    );
    let gone = stat(&fp.files, "src/keep.rs");
    assert_eq!(
        (gone.status, gone.added, gone.removed),
        (FileStatus::Deleted, 0, 1)
    );
    let bin = stat(&fp.files, "img.bin");
    assert!(bin.binary && bin.status == FileStatus::Added);
    assert_eq!(fp.files.len(), 4, "{:?}", fp.files);
    assert_eq!(
        changed_files(&copy.dir, &copy.first_commit).unwrap(),
        fp.files
    );
}

#[test]
fn the_patch_applies_to_the_users_tree_and_keeps_their_other_change() {
    let (user, repo) = user_project();
    let dest = tempfile::tempdir().unwrap();
    let copy = worked_copy(user.path(), dest.path());
    let fp = final_patch(&copy.dir, &copy.first_commit).unwrap();
    // The user goes on working meanwhile, in another file.
    write(
        user.path(),
        "notes/todo.md",
        b"untracked, edited by the user since\n",
    );
    let index_before = fs::read(user.path().join(".git/index")).unwrap();
    let head_before = repo.head().unwrap().target().unwrap();
    let check = applies_to(user.path(), &fp.patch).unwrap();
    assert_eq!(
        check,
        Applies {
            applies: true,
            reason: None
        }
    );
    let applied = apply_to(&user.path().join("src"), &fp.patch).unwrap();
    let mut files = applied.files;
    files.sort();
    assert_eq!(
        files,
        ["img.bin", "src/keep.rs", "src/lib.rs", "src/new.rs"]
    );
    for same in ["src/lib.rs", "src/new.rs"] {
        assert_eq!(read(user.path(), same), read(&copy.dir, same), "{same}");
    }
    assert_eq!(
        fs::read(user.path().join("img.bin")).unwrap(),
        fs::read(copy.dir.join("img.bin")).unwrap()
    );
    assert!(!user.path().join("src/keep.rs").exists());
    assert_eq!(
        read(user.path(), "notes/todo.md"),
        "untracked, edited by the user since\n"
    );
    assert_eq!(read(user.path(), "src/staged.rs"), "new staged\n");
    assert!(!user.path().join("target/ignored.o").exists());
    assert_eq!(
        fs::read(user.path().join(".git/index")).unwrap(),
        index_before,
        "index untouched"
    );
    assert_eq!(repo.head().unwrap().target().unwrap(), head_before);
}

#[test]
fn a_conflicting_change_makes_it_refuse_with_nothing_written() {
    let (user, _repo) = user_project();
    let dest = tempfile::tempdir().unwrap();
    let copy = make_copy(user.path(), dest.path()).unwrap();
    write(
        &copy.dir,
        "src/lib.rs",
        b"pub fn one() -> u32 {\n    111\n}\n",
    );
    write(&copy.dir, "src/other.rs", b"// new\n");
    let fp = final_patch(&copy.dir, &copy.first_commit).unwrap();
    // The user changed the same line since.
    write(
        user.path(),
        "src/lib.rs",
        b"pub fn one() -> u32 {\n    42\n}\n",
    );
    let before = snapshot(user.path());
    let check = applies_to(user.path(), &fp.patch).unwrap();
    assert!(!check.applies);
    let reason = check.reason.unwrap();
    assert!(reason.contains("no longer applies"), "{reason}");
    let e = apply_to(user.path(), &fp.patch).unwrap_err();
    assert!(e.to_string().contains("no longer applies"), "{e}");
    assert_eq!(snapshot(user.path()), before, "nothing written");
}

#[test]
fn a_rename_in_the_copy_round_trips() {
    let (user, _repo) = user_project();
    let dest = tempfile::tempdir().unwrap();
    let copy = make_copy(user.path(), dest.path()).unwrap();
    fs::rename(copy.dir.join("src/keep.rs"), copy.dir.join("src/kept.rs")).unwrap();
    let fp = final_patch(&copy.dir, &copy.first_commit).unwrap();
    let moved = stat(&fp.files, "src/kept.rs");
    assert_eq!(moved.status, FileStatus::Renamed);
    assert_eq!(moved.old_path.as_deref(), Some("src/keep.rs"));
    apply_to(user.path(), &fp.patch).unwrap();
    assert!(!user.path().join("src/keep.rs").exists());
    assert_eq!(read(user.path(), "src/kept.rs"), "// kept as committed\n");
}

#[test]
fn a_patch_naming_a_path_out_of_the_tree_is_refused() {
    let (user, _repo) = user_project();
    let before = snapshot(user.path());
    let evil = "diff --git a/../evil.txt b/../evil.txt\nnew file mode 100644\n--- /dev/null\n+++ b/../evil.txt\n@@ -0,0 +1 @@\n+x\n";
    match applies_to(user.path(), evil) {
        Ok(check) => assert!(!check.applies, "{check:?}"),
        Err(e) => assert!(e.to_string().contains("patch"), "{e}"),
    }
    assert!(apply_to(user.path(), evil).is_err());
    assert_eq!(snapshot(user.path()), before);
}

#[test]
fn a_text_file_that_is_not_utf8_round_trips_exactly() {
    let (user, repo) = user_project();
    write(user.path(), "latin1.txt", b"caf\xe9\nna\xefve\n");
    super::test_support::commit_all(&repo, "latin-1");
    let dest = tempfile::tempdir().unwrap();
    let copy = make_copy(user.path(), dest.path()).unwrap();
    write(&copy.dir, "latin1.txt", b"caf\xe9\nna\xefve\nd\xe9j\xe0\n");
    write(&copy.dir, "src/lib.rs", b"text stays text\n");
    let fp = final_patch(&copy.dir, &copy.first_commit).unwrap();
    assert!(fp.patch.contains("GIT binary patch"), "{}", fp.patch);
    assert!(fp.patch.contains("+text stays text"), "{}", fp.patch);
    apply_to(user.path(), &fp.patch).unwrap();
    assert_eq!(
        fs::read(user.path().join("latin1.txt")).unwrap(),
        b"caf\xe9\nna\xefve\nd\xe9j\xe0\n"
    );
    assert_eq!(read(user.path(), "src/lib.rs"), "text stays text\n");
}

#[test]
fn checking_that_the_patch_applies_writes_nothing_to_the_users_repository() {
    let (user, _repo) = user_project();
    let dest = tempfile::tempdir().unwrap();
    let copy = worked_copy(user.path(), dest.path());
    let fp = final_patch(&copy.dir, &copy.first_commit).unwrap();
    let before = snapshot(user.path());
    assert!(applies_to(user.path(), &fp.patch).unwrap().applies);
    let after = snapshot(user.path());
    let changed: Vec<_> = after
        .keys()
        .chain(before.keys())
        .filter(|k| after.get(*k) != before.get(*k))
        .collect();
    assert!(
        changed.is_empty(),
        "files and .git (objects too) unchanged: {changed:?}"
    );
}
