//! The Codex CLI's patch format read into file operations (nothing is checked against the
//! disk here). Lenient as the CLI is: markers may carry spaces around them, a patch wrapped in
//! a `<<'EOF'` heredoc is unwrapped, blank lines between hunks are skipped, and the first hunk
//! of an update may start without its `@@` line.

const BEGIN: &str = "*** Begin Patch";
const END: &str = "*** End Patch";
const ADD: &str = "*** Add File:";
const DELETE: &str = "*** Delete File:";
const UPDATE: &str = "*** Update File:";
const MOVE_TO: &str = "*** Move to:";
const END_OF_FILE: &str = "*** End of File";

/// One file operation of a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Op {
    Add {
        path: String,
        contents: String,
    },
    Delete {
        path: String,
    },
    Update {
        path: String,
        move_to: Option<String>,
        hunks: Vec<Hunk>,
    },
}

impl Op {
    /// How the operation is named in a message: "Update File: src/a.rs".
    pub(super) fn title(&self) -> String {
        match self {
            Op::Add { path, .. } => format!("Add File: {path}"),
            Op::Delete { path } => format!("Delete File: {path}"),
            Op::Update { path, .. } => format!("Update File: {path}"),
        }
    }
}

/// One `@@` hunk of an update: the lines it replaces (`old`, context and `-` lines) and what
/// replaces them (`new`, context and `+` lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hunk {
    /// The text after `@@ `: a line found first, the hunk's lines coming after it.
    pub context: Option<String>,
    pub old: Vec<String>,
    pub new: Vec<String>,
    /// `*** End of File`: the old lines end the file.
    pub end_of_file: bool,
}

/// The patch's operations, or why it does not parse (with the line, counted from 1).
pub(super) fn parse(text: &str) -> Result<Vec<Op>, String> {
    let all: Vec<&str> = text.trim().lines().collect();
    let lines = unwrap_heredoc(&all);
    match (lines.first(), lines.last()) {
        (Some(first), _) if first.trim() != BEGIN => {
            return Err(format!(
                "invalid patch: the first line of the patch must be '{BEGIN}'"
            ));
        }
        (Some(_), Some(last)) if lines.len() >= 2 && last.trim() == END => {}
        _ => {
            return Err(format!(
                "invalid patch: the last line of the patch must be '{END}'"
            ));
        }
    }
    let body = &lines[1..lines.len() - 1];
    let mut ops = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let line = body[i].trim();
        let number = i + 2;
        if line.is_empty() {
            i += 1;
        } else if let Some(path) = marker_path(line, ADD, number)? {
            i += 1;
            let mut contents = String::new();
            while let Some(added) = body.get(i).and_then(|l| l.strip_prefix('+')) {
                contents.push_str(added);
                contents.push('\n');
                i += 1;
            }
            ops.push(Op::Add { path, contents });
        } else if let Some(path) = marker_path(line, DELETE, number)? {
            i += 1;
            ops.push(Op::Delete { path });
        } else if let Some(path) = marker_path(line, UPDATE, number)? {
            i += 1;
            let mut move_to = None;
            if let Some(next) = body.get(i) {
                move_to = marker_path(next.trim(), MOVE_TO, i + 2)?;
                if move_to.is_some() {
                    i += 1;
                }
            }
            let hunks = parse_hunks(body, &mut i)?;
            if hunks.is_empty() && move_to.is_none() {
                return Err(format!(
                    "invalid hunk at line {number}: the update of '{path}' has no hunk (give `@@` hunks, or `*** Move to:` to rename)"
                ));
            }
            ops.push(Op::Update {
                path,
                move_to,
                hunks,
            });
        } else {
            return Err(format!(
                "invalid hunk at line {number}: '{line}' is not a valid hunk header; valid hunk headers: '*** Add File: {{path}}', '*** Delete File: {{path}}', '*** Update File: {{path}}'"
            ));
        }
    }
    Ok(ops)
}

/// The lines inside a `<<EOF` ... `EOF` heredoc when the patch came wrapped in one.
fn unwrap_heredoc<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    match lines {
        [first, .., last]
            if lines.len() >= 4
                && matches!(first.trim(), "<<EOF" | "<<'EOF'" | "<<\"EOF\"")
                && last.trim().ends_with("EOF") =>
        {
            &lines[1..lines.len() - 1]
        }
        _ => lines,
    }
}

/// The path after `marker` when `line` starts with it.
fn marker_path(line: &str, marker: &str, number: usize) -> Result<Option<String>, String> {
    let Some(rest) = line.strip_prefix(marker) else {
        return Ok(None);
    };
    let path = rest.trim();
    if path.is_empty() {
        return Err(format!(
            "invalid hunk at line {number}: '{marker}' names no path"
        ));
    }
    Ok(Some(path.to_owned()))
}

/// The `@@` hunks of an update, from `body[*i]` up to the next `***` line.
fn parse_hunks(body: &[&str], i: &mut usize) -> Result<Vec<Hunk>, String> {
    let mut hunks: Vec<Hunk> = Vec::new();
    while let Some(raw) = body.get(*i) {
        if raw.trim().is_empty() {
            *i += 1;
            continue;
        }
        if raw.trim_start().starts_with('*') {
            break;
        }
        let number = *i + 2;
        let head = raw.trim();
        let context = if head == "@@" {
            *i += 1;
            None
        } else if let Some(text) = head.strip_prefix("@@ ") {
            *i += 1;
            Some(text.to_owned())
        } else if hunks.is_empty() {
            None
        } else {
            return Err(format!(
                "invalid hunk at line {number}: expected a hunk to start with '@@', got '{raw}'"
            ));
        };
        hunks.push(parse_hunk_lines(body, i, context, number)?);
    }
    Ok(hunks)
}

/// The ` `, `-` and `+` lines of one hunk, and its `*** End of File` if it has one.
fn parse_hunk_lines(
    body: &[&str],
    i: &mut usize,
    context: Option<String>,
    number: usize,
) -> Result<Hunk, String> {
    let mut hunk = Hunk {
        context,
        old: Vec::new(),
        new: Vec::new(),
        end_of_file: false,
    };
    let mut count = 0;
    while let Some(raw) = body.get(*i) {
        if raw.trim() == END_OF_FILE {
            if count == 0 {
                break;
            }
            hunk.end_of_file = true;
            *i += 1;
            break;
        }
        match raw.chars().next() {
            None => {
                hunk.old.push(String::new());
                hunk.new.push(String::new());
            }
            Some(' ') => {
                hunk.old.push(raw[1..].to_owned());
                hunk.new.push(raw[1..].to_owned());
            }
            Some('-') => hunk.old.push(raw[1..].to_owned()),
            Some('+') => hunk.new.push(raw[1..].to_owned()),
            Some(_) if count == 0 => {
                return Err(format!(
                    "invalid hunk at line {}: unexpected line '{raw}'; every line of a hunk starts with ' ' (context), '+' (added) or '-' (removed)",
                    *i + 2
                ));
            }
            Some(_) => break,
        }
        count += 1;
        *i += 1;
    }
    if count == 0 {
        return Err(format!(
            "invalid hunk at line {number}: the hunk has no lines"
        ));
    }
    Ok(hunk)
}
