//! End-to-end suites: the real binaries against fake-openai, each test in its own temp home.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod accounts;
mod agent_loop;
mod bridge;
mod bridge_faults;
mod cli_generate;
mod cli_output;
mod conformance;
mod conformance_tools;
mod conversations;
mod crash_safety;
mod defaults;
mod files;
mod gate;
mod hardening;
mod hostile_files;
mod hostile_input;
mod interop;
mod jobs;
mod login;
mod refresh;
mod review;
mod rotation;
mod sandbox;
mod secret_corpus;
mod strict;
mod task;
