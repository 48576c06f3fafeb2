//! Large answers kept whole: the tools whose answers can be long declare in their `_meta` how
//! long a result they return (Claude Code 2.1.91+ keeps a result up to that in the conversation
//! instead of spilling one over 50,000 characters to a file), and their text stays within it.

use std::ops::Range;

use rmcp::model::MetaObject;

/// The `_meta` key Claude Code reads: the longest result of the tool, in characters, that it
/// keeps whole (at most 500,000).
pub const MAX_RESULT_SIZE_KEY: &str = "anthropic/maxResultSizeChars";

/// The longest result a large-answer tool returns, in characters (its `_meta` says so).
pub const MAX_RESULT_CHARS: usize = 400_000;

/// What a tool's main text may take: the declared bound less room for what comes after it
/// (the line codex_result adds with the job's id and state, the files and images lines).
pub const MAX_TEXT_CHARS: usize = MAX_RESULT_CHARS - 2_000;

/// The `_meta` of a tool whose answers can be large (`codex_query`, `codex_review`,
/// `codex_result`, `codex_task`).
pub fn large_answer_meta() -> MetaObject {
    let mut meta = MetaObject::new();
    meta.insert(MAX_RESULT_SIZE_KEY.to_owned(), MAX_RESULT_CHARS.into());
    meta
}

/// `text` within [`MAX_TEXT_CHARS`]: see [`bound_to`].
pub fn bound(text: &mut String, part: Range<usize>, rest: &str) {
    bound_to(text, part, rest, MAX_TEXT_CHARS);
}

/// `text` within `max` characters: when longer, `part` (a byte range of it on character
/// boundaries: the long answer, the patch) loses its end, and a note in its place says how much
/// was left out and where the rest is (`rest`); what follows the part (the closing lines) is
/// kept. When that is not enough, the text's own end goes too.
pub fn bound_to(text: &mut String, part: Range<usize>, rest: &str, max: usize) {
    let total = text.chars().count();
    if total <= max {
        return;
    }
    let part = part.start.min(text.len())..part.end.min(text.len());
    let Some(in_part) = text.get(part.clone()) else {
        return cut_end(text, max, rest);
    };
    let part_chars = in_part.chars().count();
    // The note's length with the most digits it can take, so the cut is never short.
    let longest = note(part_chars, rest).chars().count();
    let cut = (total - max + longest).min(part_chars);
    let keep = part_chars - cut;
    let at = in_part
        .char_indices()
        .nth(keep)
        .map_or(part.end, |(i, _)| part.start + i);
    text.replace_range(at..part.end, &note(cut, rest));
    if text.chars().count() > max {
        cut_end(text, max, rest);
    }
}

/// The note that stands where `cut` characters were left out.
fn note(cut: usize, rest: &str) -> String {
    format!(
        "\n\n[cut here: {cut} characters left out, past the {MAX_RESULT_CHARS} characters a result carries; {rest}]\n"
    )
}

/// `text` cut at its end to `max` characters, the note included.
fn cut_end(text: &mut String, max: usize, rest: &str) {
    let total = text.chars().count();
    let longest = note(total, rest).chars().count();
    let keep = max.saturating_sub(longest);
    if let Some((at, _)) = text.char_indices().nth(keep) {
        let cut = text[at..].chars().count();
        text.truncate(at);
        text.push_str(&note(cut, rest));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_text_within_the_bound_is_left_as_it_is() {
        let mut t = "é".repeat(100);
        let all = 0..t.len();
        bound_to(&mut t, all, "nowhere", 100);
        assert_eq!(t, "é".repeat(100));
    }

    #[test]
    fn a_long_part_loses_its_end_and_the_closing_lines_stay() {
        let head = "Changed 1 file:\n```diff\n";
        let body = "✓é".repeat(5_000);
        let tail = "```\n[codex · model m]";
        let mut t = format!("{head}{body}{tail}");
        let part = head.len()..head.len() + body.len();
        bound_to(&mut t, part, "the whole patch is in `patch`", 2_000);
        assert!(t.chars().count() <= 2_000, "{}", t.chars().count());
        assert!(t.chars().count() > 1_900, "not cut more than needed");
        assert!(t.starts_with(head) && t.ends_with(tail), "{t}");
        assert!(
            t.contains("characters left out, past the 400000 characters a result carries; the whole patch is in `patch`]"),
            "{t}"
        );
        let shown = t.matches('✓').count() + t.matches('é').count();
        let left_out: usize = t
            .split("[cut here: ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(shown + left_out, 10_000, "the note counts what is missing");
    }

    #[test]
    fn when_the_rest_alone_is_too_long_the_end_goes_too() {
        let mut t = format!("{}{}", "a".repeat(10), "ü".repeat(3_000));
        bound_to(&mut t, 0..10, "see the structured content", 1_000);
        assert!(t.chars().count() <= 1_000, "{}", t.chars().count());
        assert!(t.ends_with("see the structured content]\n"), "{t}");
    }

    #[test]
    fn the_meta_declares_the_bound_claude_code_reads() {
        let meta = large_answer_meta();
        assert_eq!(
            serde_json::to_value(&meta).unwrap(),
            serde_json::json!({"anthropic/maxResultSizeChars": 400_000})
        );
    }
}
