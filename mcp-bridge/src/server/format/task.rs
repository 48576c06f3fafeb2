//! The answer of a finished task: Codex's summary, a diffstat, the patch, whether it applies to
//! the user's tree now, the commands run and what the sandbox enforced.

use codex_oauth_core::app::TaskDone;
use rmcp::model::CallToolResult;

use super::super::answers;
use super::bound::bound;
use super::typed;

/// The result of `codex_task` once its job ended well.
pub fn task(done: &TaskDone) -> CallToolResult {
    let mut text = format!("{}\n", done.summary.trim());
    if done.turn_limit {
        text.push_str("\n[the task stopped at its turn limit before Codex finished]\n");
    }
    if let Some(why) = &done.sandbox_missing {
        text.push_str(&format!(
            "\n[no command could run: {why}; Codex could only read and patch the copy]\n"
        ));
    }
    // The long part: the patch, else Codex's summary.
    let mut long_part = 0..text.len();
    if done.patch.patch.is_empty() {
        text.push_str("\nNo change: the copy is as it was.\n");
    } else {
        let (added, removed) = done
            .patch
            .files
            .iter()
            .fold((0, 0), |(a, r), f| (a + f.added, r + f.removed));
        text.push_str(&format!(
            "\nChanged {} file{} (+{added} −{removed}):\n",
            done.patch.files.len(),
            if done.patch.files.len() == 1 { "" } else { "s" }
        ));
        for f in &done.patch.files {
            text.push_str(&format!("  {} (+{} −{})\n", f.path, f.added, f.removed));
        }
        text.push_str(&match (&done.applies.applies, &done.applies.reason) {
            (true, _) => "The patch applies to your working tree now: codex_apply with this job_id puts it there.\n".to_owned(),
            (false, why) => format!(
                "The patch does not apply to your working tree as it is now ({}).\n",
                why.as_deref().unwrap_or("it changed since the task started")
            ),
        });
        text.push_str("\n```diff\n");
        let start = text.len();
        text.push_str(&done.patch.patch);
        long_part = start..text.len();
        text.push_str("```\n");
    }
    let ran = done.commands.len();
    text.push_str(&format!(
        "\n[codex · model {} · {} turn{} · {ran} tool call{}]",
        done.model,
        done.turns,
        if done.turns == 1 { "" } else { "s" },
        if ran == 1 { "" } else { "s" }
    ));
    bound(
        &mut text,
        long_part,
        "the whole summary and patch are in the structured content (`summary`, `patch`), and codex_apply applies all of the patch",
    );
    typed(
        text,
        &answers::Task {
            summary: done.summary.clone(),
            patch: done.patch.patch.clone(),
            files: done.patch.files.clone(),
            applies: done.applies.applies,
            applies_reason: done.applies.reason.clone(),
            commands: done.commands.clone(),
            sandbox: done.sandbox.clone(),
            sandbox_missing: done.sandbox_missing.clone(),
            copy: answers::TaskCopy {
                files: done.copy.files,
                bytes: done.copy.bytes,
                left_out: done.copy.left_out.clone(),
                seconds: done.copy_seconds,
            },
            model: done.model.clone(),
            turns: done.turns,
            turn_limit: done.turn_limit,
            loop_seconds: done.loop_seconds,
            account: answers::AccountRef {
                profile: done.profile.clone(),
                email: None,
            },
        },
    )
}
