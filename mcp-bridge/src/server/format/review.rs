//! The answer of `codex_review`: the findings, what was sent, or that there was nothing to review.

use codex_oauth_core::app::Reviewed;
use rmcp::model::CallToolResult;

use super::bound::bound;
use super::{answers, typed};

/// The result of a review: the findings for a person and as structured content, with what was
/// sent (the changed files, the redactions, what was withheld), or Codex's own words when it
/// did not answer in the review's format; or that there was nothing to review.
pub fn review(reviewed: &Reviewed, paths: &[String]) -> CallToolResult {
    let (a, parsed, change, profile) = match reviewed {
        Reviewed::Nothing { compared } => {
            let narrowed = if paths.is_empty() {
                String::new()
            } else {
                format!(" under {}", paths.join(", "))
            };
            return typed(
                format!("Nothing to review: no change{narrowed} ({compared})."),
                &answers::Review {
                    empty: true,
                    compared: compared.clone(),
                    findings: Some(Vec::new()),
                    reviewed: None,
                },
            );
        }
        Reviewed::Done(d) => (&d.answer, &d.review, &d.change, &d.profile),
    };
    let n = change.changed.len();
    let mut text = format!(
        "Codex review of {} ({n} changed file{}):\n\n",
        change.compared,
        if n == 1 { "" } else { "s" }
    );
    let start = text.len();
    match parsed {
        Some(r) => text.push_str(&r.describe()),
        None => {
            text.push_str("Codex did not answer in the review format; its answer:\n\n");
            text.push_str(&a.text);
        }
    }
    let review_part = start..text.len();
    let mut sent = vec![format!(
        "the diff ({} KB{})",
        change.diff_bytes.div_ceil(1024),
        if change.diff_truncated {
            ", cut at the size limit"
        } else {
            ""
        }
    )];
    if !change.files.sent.is_empty() || !change.files.skipped.is_empty() {
        sent.push(format!("full text: {}", change.files.summary()));
    }
    if !change.diff_redactions.is_empty() {
        let r: Vec<String> = change
            .diff_redactions
            .iter()
            .map(|r| format!("{}:{} {}", r.path, r.line, r.kind))
            .collect();
        sent.push(format!("redacted in the diff: {}", r.join(", ")));
    }
    if !change.withheld.is_empty() {
        let w: Vec<String> = change
            .withheld
            .iter()
            .map(|w| format!("{} ({})", w.path, w.reason))
            .collect();
        sent.push(format!("not sent: {}", w.join("; ")));
    }
    text.push_str(&format!("\n\nSent: {}.", sent.join("; ")));
    text.push_str(&format!("\n\n[codex · model {}]", a.model));
    bound(
        &mut text,
        review_part,
        "the whole review is in the structured content (`findings`, or `answer`)",
    );
    typed(
        text,
        &answers::Review {
            empty: false,
            compared: change.compared.clone(),
            findings: parsed.as_ref().map(|r| r.findings.clone()),
            reviewed: Some(answers::Reviewed {
                summary: parsed.as_ref().map(|r| r.summary.clone()),
                parsed: parsed.is_some(),
                answer: parsed.is_none().then(|| a.text.clone()),
                changed: change.changed.clone(),
                withheld: change.withheld.clone(),
                diff_bytes: change.diff_bytes,
                diff_truncated: change.diff_truncated,
                diff_redactions: change.diff_redactions.clone(),
                files: answers::FilesSent::of(&change.files),
                model: a.model.clone(),
                account: answers::AccountRef {
                    profile: profile.clone(),
                    email: None,
                },
                usage: a.usage,
                rate_limits: a.rate_limits.clone(),
            }),
        },
    )
}
