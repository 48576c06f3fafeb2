//! The change a review is about, collected: the repository opened, the diff made and read, and
//! the full text of the touched files in what the total cap leaves.

use super::change::{Change, Scope};
use super::deltas::{Text, read_deltas};
use super::repository::{Compared, Repo, compare, diff_options, display, open_repository};
use crate::error::Result;
use crate::files::{self, Bundle, Limits, Project, SkippedFile};

/// The change `scope` names in the repository that holds the workspace's first root. The diff
/// and the files come only from inside the roots.
pub fn collect(ws: &Project, scope: &Scope, limits: &Limits) -> Result<Change> {
    scope.check()?;
    let repo = open_repository(ws)?;
    let mut opts = diff_options(&repo.inside, scope, limits)?;
    let Compared {
        diff,
        what,
        from_blobs: from_tree,
    } = compare(&repo.repo, scope, &mut opts)?;
    let (mut change, texts) = read_deltas(ws, &repo, &diff, from_tree, limits, what)?;
    change.diff_bytes = change.diff.len();
    change.files = full_texts(ws, &repo, &texts, from_tree, limits, change.diff.len());
    Ok(change)
}

/// The full text of the touched files, in what the total cap leaves after the diff: from the
/// working tree, or from the blobs of the new side (`from_tree`: a commit's tree, the index).
fn full_texts(
    ws: &Project,
    repo: &Repo,
    texts: &[Text],
    from_tree: bool,
    limits: &Limits,
    diff_bytes: usize,
) -> Bundle {
    let room = limits.max_total_bytes.saturating_sub(diff_bytes);
    let text_limits = Limits {
        max_total_bytes: room,
        ..*limits
    };
    if from_tree {
        texts_from_tree(repo, texts, limits, &text_limits)
    } else {
        let patterns: Vec<String> = texts
            .iter()
            .map(|(p, _)| repo.workdir.join(p).to_string_lossy().into_owned())
            .collect();
        files::gather(ws, &patterns, &text_limits)
    }
}

/// The files' text from their blobs on the new side (a commit's tree, the index), within
/// `text_limits`' total.
fn texts_from_tree(repo: &Repo, texts: &[Text], limits: &Limits, text_limits: &Limits) -> Bundle {
    let mut bundle = Bundle::default();
    let mut total = 0usize;
    for (path, id) in texts {
        let shown = display(&repo.inside, path);
        let left = text_limits.max_total_bytes.saturating_sub(total);
        if left == 0 || bundle.sent.len() >= limits.max_files {
            bundle.skipped.push(SkippedFile {
                path: shown,
                reason: "over the size limit of the review".into(),
            });
            continue;
        }
        let Some(blob) = id.and_then(|id| repo.repo.find_blob(id).ok()) else {
            continue;
        };
        let cap = limits.max_file_bytes.min(left);
        let content = blob.content();
        let whole = content.len() <= cap;
        let bytes = &content[..content.len().min(cap)];
        match bundle.add_text(&shown, bytes, whole, cap, text_limits) {
            Ok(n) => total += n,
            Err(why) => bundle.skipped.push(SkippedFile {
                path: shown,
                reason: why,
            }),
        }
    }
    bundle
}
