//! The instructions of a review and Codex's answer read back into findings.

use serde::{Deserialize, Serialize};

/// The instructions of a review, and the shape of the answer.
pub const REVIEW_INSTRUCTIONS: &str = "You review a code change for its author. Report only \
problems worth fixing: bugs, security holes, data loss, races, wrong error handling, broken \
edge cases, misleading names or docs, missing tests for risky logic. No praise, no style nits \
a formatter would fix. Answer with one JSON object and nothing else: {\"summary\": \"<two \
sentences at most>\", \"findings\": [{\"file\": \"<path as in the diff>\", \"line\": <line in \
the new version, or null>, \"severity\": \"critical|high|medium|low|info\", \"title\": \"<one \
line>\", \"detail\": \"<why it is a problem>\", \"suggestion\": \"<the change to make, code or \
words, or null>\"}]}. An empty findings list is a fine answer when the change is sound.";

/// Severity of a finding, most severe first.
pub const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "info"];

/// One finding of a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub file: String,
    pub line: Option<u64>,
    pub severity: String,
    pub title: String,
    pub detail: String,
    pub suggestion: Option<String>,
}

/// Codex's review, read from its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Review {
    pub summary: String,
    pub findings: Vec<Finding>,
}

/// The review in `answer`: its JSON object (alone, or in a fenced block, or among words), with
/// fields of another type tolerated (a line written as "12", a severity in capitals). `None`
/// when there is no such object.
pub fn parse_review(answer: &str) -> Option<Review> {
    let start = answer.find('{')?;
    let end = answer.rfind('}')?;
    let v: serde_json::Value = serde_json::from_str(answer.get(start..=end)?).ok()?;
    let obj = v.as_object()?;
    let findings = obj.get("findings")?.as_array()?;
    let text = |v: &serde_json::Value, k: &str| -> Option<String> {
        match v.get(k)? {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut out: Vec<Finding> = findings
        .iter()
        .filter(|f| f.is_object())
        .map(|f| {
            let severity = text(f, "severity")
                .map(|s| s.to_ascii_lowercase())
                .filter(|s| SEVERITIES.contains(&s.as_str()))
                .unwrap_or_else(|| "info".into());
            Finding {
                file: text(f, "file").unwrap_or_default(),
                line: f.get("line").and_then(|l| {
                    l.as_u64()
                        .or_else(|| l.as_str().and_then(|s| s.trim().parse().ok()))
                }),
                severity,
                title: text(f, "title").unwrap_or_else(|| "(no title)".into()),
                detail: text(f, "detail").unwrap_or_default(),
                suggestion: text(f, "suggestion"),
            }
        })
        .collect();
    out.sort_by_key(|f| SEVERITIES.iter().position(|s| *s == f.severity));
    Some(Review {
        summary: text(&v, "summary").unwrap_or_default(),
        findings: out,
    })
}

impl Review {
    /// The review for a person to read.
    pub fn describe(&self) -> String {
        let mut t = match self.findings.len() {
            0 => "No findings.".to_owned(),
            1 => "1 finding:".to_owned(),
            n => format!("{n} findings:"),
        };
        for (i, f) in self.findings.iter().enumerate() {
            let at = match f.line {
                Some(l) => format!("{}:{l}", f.file),
                None => f.file.clone(),
            };
            t.push_str(&format!(
                "\n\n{}. [{}] {at}: {}",
                i + 1,
                f.severity,
                f.title
            ));
            if !f.detail.is_empty() {
                t.push_str(&format!("\n   {}", f.detail));
            }
            if let Some(s) = &f.suggestion {
                t.push_str(&format!("\n   Suggestion: {s}"));
            }
        }
        if !self.summary.is_empty() {
            t.push_str(&format!("\n\nSummary: {}", self.summary));
        }
        t
    }
}
