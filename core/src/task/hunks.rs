//! An update's hunks applied to a file's text, as the Codex CLI does: each hunk's old lines are
//! found at or after the previous hunk (after its `@@` context line when it has one), first
//! exactly, then ignoring trailing spaces, then ignoring spaces at both ends, then with
//! typographic dashes, quotes and spaces read as their ASCII forms. The text keeps its line
//! ending (`\r\n` when every line has it) and ends with one.

use super::patch_parse::Hunk;

/// The file's new text, or why a hunk cannot be placed (the hunk counted from 1).
pub(super) fn apply_hunks(text: &str, hunks: &[Hunk], path: &str) -> Result<String, String> {
    let crlf = uses_crlf(text);
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|l| {
            if crlf {
                l.strip_suffix('\r').unwrap_or(l).to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let mut replacements: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let mut at = 0;
    for (n, hunk) in hunks.iter().enumerate() {
        let n = n + 1;
        if let Some(context) = &hunk.context {
            let Some(found) = seek(&lines, std::slice::from_ref(context), at, false) else {
                return Err(format!(
                    "hunk {n}: cannot find the context line '{context}' (after @@) in {path}"
                ));
            };
            at = found + 1;
        }
        if hunk.old.is_empty() {
            // Only added lines: after the context line when there is one, else at the end.
            let place = if hunk.context.is_some() {
                at
            } else {
                lines.len()
            };
            replacements.push((place, 0, hunk.new.clone()));
            continue;
        }
        let (mut old, mut new) = (&hunk.old[..], &hunk.new[..]);
        let mut found = seek(&lines, old, at, hunk.end_of_file);
        if found.is_none() && old.last().is_some_and(String::is_empty) {
            // A last empty line stands for the file's final newline.
            old = &old[..old.len() - 1];
            if new.last().is_some_and(String::is_empty) {
                new = &new[..new.len() - 1];
            }
            found = seek(&lines, old, at, hunk.end_of_file);
        }
        let Some(start) = found else {
            return Err(format!(
                "hunk {n}: cannot find these lines in {path}:\n{}",
                hunk.old.join("\n")
            ));
        };
        replacements.push((start, old.len(), new.to_vec()));
        at = start + old.len();
    }
    replacements.sort_by_key(|r| r.0);
    for (start, len, new) in replacements.into_iter().rev() {
        let end = (start + len).min(lines.len());
        lines.splice(start.min(lines.len())..end, new);
    }
    if lines.is_empty() {
        return Ok(String::new());
    }
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut out = lines.join(eol);
    out.push_str(eol);
    Ok(out)
}

/// Whether every line of `text` ends with `\r\n` (and it has at least one line end).
fn uses_crlf(text: &str) -> bool {
    let ends = text.matches('\n').count();
    ends > 0 && text.matches("\r\n").count() == ends
}

/// Where `pattern` starts in `lines`, at or after `start`; with `end_of_file` the end of the
/// file is tried first. Each way of comparing is tried over the whole range before a looser one.
pub(super) fn seek(
    lines: &[String],
    pattern: &[String],
    start: usize,
    end_of_file: bool,
) -> Option<usize> {
    if pattern.is_empty() {
        return Some(start);
    }
    let last = lines.len().checked_sub(pattern.len())?;
    let ways: [fn(&str, &str) -> bool; 4] = [
        |a, b| a == b,
        |a, b| a.trim_end() == b.trim_end(),
        |a, b| a.trim() == b.trim(),
        |a, b| plain(a).eq(plain(b)),
    ];
    let matches_at = |i: usize, same: fn(&str, &str) -> bool| {
        lines[i..i + pattern.len()]
            .iter()
            .zip(pattern)
            .all(|(a, b)| same(a, b))
    };
    if end_of_file && last >= start && ways.iter().any(|&same| matches_at(last, same)) {
        return Some(last);
    }
    ways.iter()
        .find_map(|&same| (start..=last).find(|&i| matches_at(i, same)))
}

/// A line trimmed, with typographic dashes, quotes and spaces as their ASCII forms.
fn plain(line: &str) -> impl Iterator<Item = char> + '_ {
    line.trim().chars().map(|c| match c {
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        '\u{2018}'..='\u{201B}' => '\'',
        '\u{201C}'..='\u{201F}' => '"',
        '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
        other => other,
    })
}
