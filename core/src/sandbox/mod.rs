//! Running a command with no network, no local service, no secrets, and writes only where
//! allowed (per platform): what a task's `exec_command` runs in.
