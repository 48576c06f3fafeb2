//! A task's private copy of the user's project, the patches Codex applies inside it, and the
//! final patch handed back (and applied to the user's tree only when asked).
