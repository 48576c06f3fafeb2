//! A task's private copy of the user's project, the patches Codex applies inside it, and the
//! final patch handed back (and applied to the user's tree only when asked).
//!
//! All of it is blocking code (libgit2 and the file system): call it from a blocking thread.

mod apply;
mod apply_patch;
mod confine;
mod copy;
mod hunks;
mod patch_parse;
mod result;

pub use apply::{Applied, Applies, applies_to, apply_to};
pub use apply_patch::{
    APPLY_PATCH_DESCRIPTION, APPLY_PATCH_GRAMMAR, PatchOutcome, apply_patch, apply_patch_tool,
    tool_output,
};
pub use copy::{COPY_AUTHOR, LeftOut, PrivateCopy, make_copy};
pub use result::{FileStat, FileStatus, FinalPatch, changed_files, final_patch};

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests_apply_patch;
#[cfg(test)]
mod tests_copy;
#[cfg(test)]
mod tests_result;
