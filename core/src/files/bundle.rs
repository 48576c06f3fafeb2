//! What goes to Codex and the account of it: the files sent, each a section with line numbers,
//! and the paths named but not sent, with why.

use serde::Serialize;

use super::limits::Limits;
use super::secrets::{Redaction, redact_file};
use super::sections::{Boundary, Section};

/// A file that was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SentFile {
    pub path: String,
    /// Lines sent.
    pub lines: usize,
    /// Bytes sent (of the file as it is on disk, before redaction).
    pub bytes: usize,
    /// The file is longer: only its first `lines` lines went.
    pub truncated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redactions: Vec<Redaction>,
}

/// A path that was named but not sent, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// What goes to Codex and the account of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bundle {
    /// The files sent, each a section with line numbers (written out with a boundary by
    /// [`Bundle::prompt`] or [`Bundle::write_sections`]).
    #[serde(skip)]
    sections: Vec<Section>,
    pub sent: Vec<SentFile>,
    pub skipped: Vec<SkippedFile>,
}

impl Bundle {
    /// The user message of a request about these files: what they are and how they are
    /// delimited, the files, then `request`. One boundary, found in none of it.
    pub fn prompt(&self, request: &str) -> String {
        let boundary = Boundary::avoiding(
            self.boundary_texts()
                .iter()
                .map(String::as_str)
                .chain([request]),
        );
        let mut out = format!(
            "Files from the user's workspace for this request (as on disk, with line numbers; values that look like secrets are replaced by [REDACTED kind] markers). {}\n\n",
            boundary.explained()
        );
        self.write_sections(&boundary, &mut out);
        out.push_str(request);
        out
    }

    /// The files as sections between lines that carry `boundary`; nothing when none was sent.
    pub fn write_sections(&self, boundary: &Boundary, out: &mut String) {
        for s in &self.sections {
            s.write(boundary, out);
        }
    }

    /// Everything the sections hold as they are written (names quoted): what a boundary of a
    /// prompt that holds them must not occur in.
    pub fn boundary_texts(&self) -> Vec<String> {
        self.sections.iter().flat_map(Section::texts).collect()
    }

    /// The files as sections, with a boundary of their own (for a look at what is sent).
    pub fn text(&self) -> String {
        let texts = self.boundary_texts();
        let boundary = Boundary::avoiding(texts.iter().map(String::as_str));
        let mut out = String::new();
        self.write_sections(&boundary, &mut out);
        out
    }

    /// Redactions over all files.
    pub fn redaction_count(&self) -> usize {
        self.sent.iter().map(|f| f.redactions.len()).sum()
    }

    /// One paragraph for a person: what was sent, redacted and skipped.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let cut = self.sent.iter().filter(|f| f.truncated).count();
        let mut sent = format!(
            "{} file{} sent",
            self.sent.len(),
            if self.sent.len() == 1 { "" } else { "s" }
        );
        if cut > 0 {
            sent.push_str(&format!(" ({cut} cut at the size limit)"));
        }
        parts.push(sent);
        let redactions: Vec<String> = self
            .sent
            .iter()
            .flat_map(|f| {
                f.redactions
                    .iter()
                    .map(move |r| format!("{}:{} {}", f.path, r.line, r.kind))
            })
            .collect();
        if !redactions.is_empty() {
            parts.push(format!("redacted: {}", redactions.join(", ")));
        }
        if !self.skipped.is_empty() {
            let skipped: Vec<String> = self
                .skipped
                .iter()
                .map(|s| format!("{} ({})", s.path, s.reason))
                .collect();
            parts.push(format!("not sent: {}", skipped.join("; ")));
        }
        parts.join("; ")
    }
}

impl Bundle {
    /// Add `bytes` (the start of a file, at most `cap`; `whole`: all of it) as a section named
    /// `shown`, checked and redacted; the bytes of the file sent, or why it is not sent.
    pub fn add_text(
        &mut self,
        shown: &str,
        bytes: &[u8],
        whole: bool,
        cap: usize,
        limits: &Limits,
    ) -> Result<usize, String> {
        let text = text_of(bytes, whole).ok_or("binary (not text)")?;
        let (kept, truncated) = if whole {
            (text, false)
        } else {
            // Cut at the last line end, so no line goes half.
            match text.rfind('\n') {
                Some(i) => (&text[..=i], true),
                None if cap < limits.max_file_bytes => {
                    return Err(format!(
                        "over the total limit of {}",
                        size(limits.max_total_bytes)
                    ));
                }
                None => return Err(format!("its first line is longer than {}", size(cap))),
            }
        };
        let (clean, redactions) = redact_file(kept, shown);
        let lines = clean.lines().count();
        let about = if truncated {
            format!("lines 1-{lines}, cut at the size limit")
        } else {
            format!("{lines} lines")
        };
        let width = lines.max(1).to_string().len();
        let mut body = String::with_capacity(clean.len() + lines * (width + 3));
        for (i, line) in clean.lines().enumerate() {
            body.push_str(&format!("{:>width$} | {line}\n", i + 1));
        }
        // The name is quoted and the section delimited when it is written (sections.rs).
        self.sections.push(Section {
            name: shown.to_owned(),
            about,
            body,
        });
        self.sent.push(SentFile {
            path: shown.to_owned(),
            lines,
            bytes: kept.len(),
            truncated,
            redactions,
        });
        Ok(kept.len())
    }
}

/// The bytes a binary check looks at.
const SNIFF: usize = 8 * 1024;

/// "150 bytes", "600 KB".
pub(crate) fn size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else {
        format!("{} KB", bytes / 1024)
    }
}

/// The bytes as text, unless they look binary: a NUL in the first 8 KB, or not UTF-8 (a
/// character cut by the size cap at the end is allowed).
fn text_of(bytes: &[u8], whole: bool) -> Option<&str> {
    if bytes[..bytes.len().min(SNIFF)].contains(&0) {
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(t) => Some(t),
        Err(e) if !whole && e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    }
}
