//! Codex's `apply_patch` tool, run in the bridge on the task's private copy: the Codex CLI's
//! patch format applied all or nothing (every hunk is placed before anything is written), and
//! confined to the copy (relative paths only, no `..` out of it, never through a symbolic
//! link). The tool's answer has the CLI's shape.

use std::collections::BTreeMap;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use super::confine::{no_link_along, relative};
use super::hunks::apply_hunks;
use super::patch_parse::{Op, parse};
use crate::error::{Error, Result};

/// The lark grammar `apply_patch` is offered with (a freeform tool's `format.definition`).
pub const APPLY_PATCH_GRAMMAR: &str = include_str!("apply_patch.lark");

/// The tool's description, as Codex reads it.
pub const APPLY_PATCH_DESCRIPTION: &str = "Edit files with a patch. The input is the whole patch: \
`*** Begin Patch`, then one or more file operations, then `*** End Patch`. `*** Add File: <path>` \
is followed by the new file's lines, each starting with `+`. `*** Delete File: <path>` deletes a \
file. `*** Update File: <path>` (optionally followed by `*** Move to: <new path>`) is followed by \
hunks: a line `@@` (or `@@ <a line above the change, such as a function's signature>`), then the \
changed lines with a few lines of context: ` ` (a space) starts an unchanged line, `-` a removed \
line, `+` an added line; `*** End of File` ends a hunk that reaches the end of the file. Paths are \
relative to the project's folder. Either every change applies or none does.";

/// The files a patch changed, by the path the patch gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PatchOutcome {
    pub added: Vec<String>,
    /// Updated files (a moved file by its new path).
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
}

impl PatchOutcome {
    /// The Codex CLI's success text: "Success. Updated the following files:" and a line a file.
    pub fn summary(&self) -> String {
        let mut out = String::from("Success. Updated the following files:");
        for (mark, paths) in [
            ("A", &self.added),
            ("M", &self.modified),
            ("D", &self.deleted),
        ] {
            for p in paths {
                out.push_str(&format!("\n{mark} {p}"));
            }
        }
        out
    }
}

/// The tool call's exit code and output text for an `apply_patch` result (0 and the summary,
/// or 1 and the error).
pub fn tool_output(result: &Result<PatchOutcome>) -> (i32, String) {
    match result {
        Ok(outcome) => (0, outcome.summary()),
        Err(e) => (1, e.to_string()),
    }
}

/// The freeform tool object offered to Codex: `{"type":"custom","name":"apply_patch",...}`.
pub fn apply_patch_tool() -> serde_json::Value {
    serde_json::json!({
        "type": "custom",
        "name": "apply_patch",
        "description": APPLY_PATCH_DESCRIPTION,
        "format": {"type": "grammar", "syntax": "lark", "definition": APPLY_PATCH_GRAMMAR},
    })
}

/// Applies `patch` (the Codex CLI's format) to the files under `root`, all or nothing.
pub fn apply_patch(root: &Path, patch: &str) -> Result<PatchOutcome> {
    let refused = |msg: String| Error::Input(format!("{msg}\nNothing was written."));
    let ops = parse(patch).map_err(refused)?;
    if ops.is_empty() {
        return Err(refused(
            "No files were modified: the patch has no file operation.".into(),
        ));
    }
    let root = root
        .canonicalize()
        .map_err(|e| Error::io("open the project's folder", root, e))?;
    let mut plan = Plan {
        root: &root,
        now: BTreeMap::new(),
        before: BTreeMap::new(),
        order: Vec::new(),
    };
    let mut outcome = PatchOutcome::default();
    for (n, op) in ops.iter().enumerate() {
        plan.op(op, &mut outcome).map_err(|why| {
            refused(format!(
                "apply_patch failed at file operation {} ({}): {why}",
                n + 1,
                op.title()
            ))
        })?;
    }
    plan.write()?;
    Ok(outcome)
}

/// The files as the patch leaves them, worked out in memory before anything is written.
struct Plan<'r> {
    root: &'r Path,
    /// Each touched path's text after the operations so far (None: deleted).
    now: BTreeMap<PathBuf, Option<String>>,
    /// Each touched path's bytes before the patch (None: absent), to put back on a failure.
    before: BTreeMap<PathBuf, Option<Vec<u8>>>,
    /// Touched paths, in the order first touched.
    order: Vec<PathBuf>,
}

impl Plan<'_> {
    fn op(&mut self, op: &Op, outcome: &mut PatchOutcome) -> Result<(), String> {
        match op {
            Op::Add { path, contents } => {
                let rel = self.checked(path)?;
                self.text(&rel)?;
                self.now.insert(rel, Some(contents.clone()));
                outcome.added.push(path.clone());
            }
            Op::Delete { path } => {
                let rel = self.checked(path)?;
                if self.text(&rel)?.is_none() {
                    return Err(format!("cannot delete {path}: it does not exist"));
                }
                self.now.insert(rel, None);
                outcome.deleted.push(path.clone());
            }
            Op::Update {
                path,
                move_to,
                hunks,
            } => {
                let rel = self.checked(path)?;
                let Some(text) = self.text(&rel)? else {
                    return Err(format!("cannot update {path}: it does not exist"));
                };
                let new = apply_hunks(&text, hunks, path)?;
                match move_to {
                    Some(dest) => {
                        let dest_rel = self.checked(dest)?;
                        self.text(&dest_rel)?;
                        self.now.insert(rel.clone(), None);
                        self.now.insert(dest_rel, Some(new));
                        outcome.modified.push(dest.clone());
                    }
                    None => {
                        self.now.insert(rel, Some(new));
                        outcome.modified.push(path.clone());
                    }
                }
            }
        }
        Ok(())
    }

    /// `path` as a clean relative path that leads through no symbolic link.
    fn checked(&self, path: &str) -> Result<PathBuf, String> {
        let rel = relative(path)?;
        no_link_along(self.root, &rel, false)?;
        Ok(rel)
    }

    /// The text at `rel` as the operations so far left it (None: no file), read from disk the
    /// first time.
    fn text(&mut self, rel: &Path) -> Result<Option<String>, String> {
        if let Some(now) = self.now.get(rel) {
            return Ok(now.clone());
        }
        let at = self.root.join(rel);
        let shown = rel.display();
        let bytes = match fs::symlink_metadata(&at) {
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {shown}: {e}")),
            Ok(meta) if !meta.is_file() => {
                return Err(format!("{shown} is not a file (a folder?)"));
            }
            Ok(_) => Some(fs::read(&at).map_err(|e| format!("cannot read {shown}: {e}"))?),
        };
        let text =
            match &bytes {
                None => None,
                Some(b) => Some(String::from_utf8(b.clone()).map_err(|_| {
                    format!("{shown} is not UTF-8 text: apply_patch edits text files")
                })?),
            };
        self.before.insert(rel.to_path_buf(), bytes);
        self.now.insert(rel.to_path_buf(), text.clone());
        self.order.push(rel.to_path_buf());
        Ok(text)
    }

    /// Writes the planned state; on a failure puts back what was already written.
    fn write(&self) -> Result<()> {
        for (done, rel) in self.order.iter().enumerate() {
            let Some(now) = self.now.get(rel) else {
                continue;
            };
            if let Err(e) = put(self.root, rel, now.as_deref().map(str::as_bytes)) {
                for back in &self.order[..=done] {
                    if let Some(bytes) = self.before.get(back) {
                        let _ = put(self.root, back, bytes.as_deref());
                    }
                }
                return Err(e);
            }
        }
        Ok(())
    }
}

/// Writes `bytes` at `root/rel` (None: removes the file), checking again that no symbolic link
/// lies along the path, and never opening the file through one.
fn put(root: &Path, rel: &Path, bytes: Option<&[u8]>) -> Result<()> {
    let at = root.join(rel);
    no_link_along(root, rel, false)
        .map_err(|why| Error::Input(format!("apply_patch stopped: {why}")))?;
    let Some(bytes) = bytes else {
        return match fs::remove_file(&at) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(Error::io("delete", at, e)),
            _ => Ok(()),
        };
    };
    if let Some(parent) = at.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("create the folder", parent, e))?;
    }
    let mut open = fs::OpenOptions::new();
    open.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut open, libc::O_NOFOLLOW);
    let mut file = open.open(&at).map_err(|e| Error::io("write", &at, e))?;
    file.write_all(bytes)
        .map_err(|e| Error::io("write", &at, e))
}
