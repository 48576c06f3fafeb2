#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;

use super::patch_parse::{Hunk, Op, parse};
use super::test_support::{read, snapshot, write};
use super::*;

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", b"one\ntwo\nthree\n");
    write(
        dir.path(),
        "src/code.rs",
        b"fn main() {\n    let x = 1;\n    println!(\"{x}\");\n}\n",
    );
    write(dir.path(), "old.txt", b"to be deleted\n");
    dir
}

fn patch(body: &str) -> String {
    format!("*** Begin Patch\n{body}\n*** End Patch\n")
}

#[test]
fn add_update_delete_and_move_are_applied_and_reported_as_the_cli_does() {
    let dir = folder();
    let p = patch(
        "*** Add File: new/hello.txt\n+hello\n+world\n\
         *** Update File: a.txt\n@@\n one\n-two\n+TWO\n three\n\
         *** Delete File: old.txt\n\
         *** Update File: src/code.rs\n*** Move to: src/main.rs\n@@ fn main() {\n-    let x = 1;\n+    let x = 2;",
    );
    let outcome = apply_patch(dir.path(), &p).unwrap();
    assert_eq!(read(dir.path(), "new/hello.txt"), "hello\nworld\n");
    assert_eq!(read(dir.path(), "a.txt"), "one\nTWO\nthree\n");
    assert!(!dir.path().join("old.txt").exists());
    assert!(!dir.path().join("src/code.rs").exists());
    assert_eq!(
        read(dir.path(), "src/main.rs"),
        "fn main() {\n    let x = 2;\n    println!(\"{x}\");\n}\n"
    );
    assert_eq!(
        outcome.summary(),
        "Success. Updated the following files:\nA new/hello.txt\nM a.txt\nM src/main.rs\nD old.txt"
    );
    assert_eq!(tool_output(&Ok(outcome)).0, 0);
}

#[test]
fn hunks_are_found_with_whitespace_and_typographic_differences() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "f.txt",
        "a  \n\u{201C}quoted\u{201D} \u{2014} x\nend\n".as_bytes(),
    );
    let p = patch("*** Update File: f.txt\n@@\n a\n-\"quoted\" - x\n+plain\n end");
    apply_patch(dir.path(), &p).unwrap();
    // As in the CLI, the matched lines are replaced by the hunk's, context lines included.
    assert_eq!(read(dir.path(), "f.txt"), "a\nplain\nend\n");
}

#[test]
fn end_of_file_hunks_and_crlf_files_keep_their_shape() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "w.txt", b"x\r\ny\r\nx\r\n");
    let p = patch("*** Update File: w.txt\n@@\n-x\n+z\n*** End of File");
    apply_patch(dir.path(), &p).unwrap();
    assert_eq!(read(dir.path(), "w.txt"), "x\r\ny\r\nz\r\n");
}

#[test]
fn a_context_mismatch_fails_with_nothing_written() {
    let dir = folder();
    let before = snapshot(dir.path());
    // The first operation is fine; the second cannot be placed: nothing of either is written.
    let p = patch(
        "*** Add File: fresh.txt\n+new\n\
         *** Update File: a.txt\n@@\n-not in the file\n+x",
    );
    let e = apply_patch(dir.path(), &p).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("file operation 2 (Update File: a.txt)"),
        "{text}"
    );
    assert!(
        text.contains("hunk 1: cannot find these lines in a.txt"),
        "{text}"
    );
    assert!(text.contains("Nothing was written."), "{text}");
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(tool_output(&Err(e)).0, 1);
}

#[test]
fn a_patch_that_does_not_parse_says_where() {
    let dir = folder();
    let e = apply_patch(dir.path(), "*** Update File: a.txt\n").unwrap_err();
    assert!(e.to_string().contains("must be '*** Begin Patch'"), "{e}");
    let e = apply_patch(dir.path(), &patch("*** Frobnicate: a.txt")).unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
    let e = apply_patch(dir.path(), &patch("*** Delete File: missing.txt")).unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
}

#[test]
fn absolute_paths_and_paths_out_of_the_folder_are_refused_with_nothing_written() {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("copy");
    fs::create_dir(&root).unwrap();
    write(&root, "a.txt", b"a\n");
    let outside = parent.path().join("outside.txt");
    let before = snapshot(parent.path());
    for p in [
        patch(&format!("*** Add File: {}\n+x", outside.display())),
        patch("*** Add File: ../outside.txt\n+x"),
        patch("*** Add File: sub/../../outside.txt\n+x"),
        patch("*** Update File: a.txt\n*** Move to: ../outside.txt\n@@\n-a\n+b"),
    ] {
        let e = apply_patch(&root, &p).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("absolute path") || text.contains("leaves the project"),
            "{text}"
        );
        assert_eq!(snapshot(parent.path()), before, "{p}");
    }
    // `..` that stays inside is folded.
    apply_patch(&root, &patch("*** Add File: sub/../inside.txt\n+x")).unwrap();
    assert_eq!(read(&root, "inside.txt"), "x\n");
}

#[cfg(unix)]
#[test]
fn a_tracked_symlink_pointing_outside_is_never_written_through() {
    let (user, repo) = super::test_support::user_project();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "target.txt", b"outside\n");
    write(outside.path(), "dir/inner.txt", b"inner\n");
    std::os::unix::fs::symlink(outside.path().join("target.txt"), user.path().join("link"))
        .unwrap();
    std::os::unix::fs::symlink(outside.path().join("dir"), user.path().join("linkdir")).unwrap();
    super::test_support::stage(&repo, "link");
    super::test_support::stage(&repo, "linkdir");
    let dest = tempfile::tempdir().unwrap();
    let copy = make_copy(user.path(), dest.path()).unwrap();
    let before = snapshot(outside.path());
    let copy_before = snapshot(&copy.dir);
    for p in [
        patch("*** Update File: link\n@@\n-outside\n+written"),
        patch("*** Add File: link\n+written"),
        patch("*** Delete File: link"),
        patch("*** Add File: linkdir/new.txt\n+written"),
        patch("*** Update File: linkdir/inner.txt\n@@\n-inner\n+written"),
        patch(
            "*** Update File: src/keep.rs\n*** Move to: linkdir/moved.rs\n@@\n-// kept as committed\n+x",
        ),
    ] {
        let e = apply_patch(&copy.dir, &p).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(snapshot(outside.path()), before, "{p}");
        assert_eq!(snapshot(&copy.dir), copy_before, "{p}");
    }
}

#[test]
fn the_parser_reads_the_cli_format_leniently() {
    let ops = parse(
        "<<'EOF'\n*** Begin Patch \n*** Update File: f.py\n import foo\n+bar\n\n@@ def g():\n-    pass\n+    return 1\n*** End of File\n  *** End Patch\nEOF\n",
    )
    .unwrap();
    assert_eq!(
        ops,
        [Op::Update {
            path: "f.py".into(),
            move_to: None,
            hunks: vec![
                Hunk {
                    context: None,
                    old: vec!["import foo".into(), String::new()],
                    new: vec!["import foo".into(), "bar".into(), String::new()],
                    end_of_file: false,
                },
                Hunk {
                    context: Some("def g():".into()),
                    old: vec!["    pass".into()],
                    new: vec!["    return 1".into()],
                    end_of_file: true,
                },
            ],
        }]
    );
}

#[test]
fn the_tool_is_offered_as_a_freeform_lark_grammar() {
    let tool = apply_patch_tool();
    assert_eq!(tool["type"], "custom");
    assert_eq!(tool["name"], "apply_patch");
    assert_eq!(tool["format"]["syntax"], "lark");
    let grammar = tool["format"]["definition"].as_str().unwrap();
    for marker in [
        "*** Begin Patch",
        "*** Add File: ",
        "*** Update File: ",
        "*** Move to: ",
        "*** End of File",
        "*** End Patch",
    ] {
        assert!(grammar.contains(marker), "{marker}");
    }
}
