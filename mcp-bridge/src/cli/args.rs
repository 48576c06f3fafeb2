//! The command line as clap reads it: the global options and the commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "codex-mcp-bridge",
    version,
    about = "Codex for Claude Code: an MCP server over your ChatGPT sign-in, and a headless sign-in CLI",
    long_about = "With no command, serves MCP over stdio (Claude Code starts it). The commands manage the \
sign-in shared with the codex-oauth tray app."
)]
pub struct Args {
    /// Profile (account) to use; default: CODEX_OAUTH_PROFILE, the config file, or `default`.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Log to stderr too: -v info, -vv debug, -vvv trace (logs always go to the log file).
    ///
    /// `RUST_LOG` also puts logs on stderr, with its own filter (`-v` wins over it).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Sign in with your ChatGPT account (browser, device code, or an API key from stdin).
    Login {
        /// Sign in with a device code (for SSH, WSL and machines without a browser).
        #[arg(long, conflicts_with = "with_api_key")]
        device: bool,
        /// Do not open a browser; print the URL to open instead.
        #[arg(long)]
        no_browser: bool,
        /// For a browser on another machine: print the URL (as --no-browser), and also read the
        /// address its last page shows (the one that fails to load) pasted on standard input.
        #[arg(long, conflicts_with_all = ["device", "with_api_key"])]
        paste: bool,
        /// Read an OpenAI API key from standard input and store it instead of signing in.
        #[arg(long)]
        with_api_key: bool,
        /// The workspace to use (its id or name), for a sign-in that can use several (a
        /// personal plan and a team, say). Without it, a terminal asks; otherwise the
        /// sign-in's default workspace is used and the others are listed.
        #[arg(long, value_name = "ID", conflicts_with = "with_api_key")]
        workspace: Option<String>,
        /// Print the outcome as one JSON object on stdout (the URL and code go to stderr).
        #[arg(long)]
        json: bool,
    },
    /// Show whether you are signed in, as whom, until when, and where the credentials are.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a valid access token (refreshing it if needed), like `gh auth token`.
    Token,
    /// Revoke and delete the stored credentials of the profile (or of every profile).
    Logout {
        /// Sign out of every account, not only the profile's.
        #[arg(long, conflicts_with = "profile")]
        all: bool,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List every account (profile): who, plan, signed in or not, the usage left; `*` marks the default.
    #[command(visible_alias = "profiles")]
    Accounts {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make NAME the default account (`profile` in config.toml).
    Use {
        /// The profile name.
        name: String,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import the login of the Codex CLI (its auth.json or keychain item).
    ImportCodex {
        /// The Codex home folder (default: $CODEX_HOME, else ~/.codex).
        #[arg(long, value_name = "DIR")]
        codex_home: Option<PathBuf>,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the `claude mcp add` line that adds this binary to Claude Code without the plugin.
    PluginConfig {
        /// Print the JSON for a .mcp.json file instead.
        #[arg(long)]
        json: bool,
    },
    /// List the background jobs (of the profile), newest first; `jobs show ID`, `jobs cancel ID`.
    Jobs {
        #[command(subcommand)]
        action: Option<JobsAction>,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Give Codex a task in a private, sandboxed copy of the project in the working folder; the
    /// result is a patch (`jobs apply ID` applies it). Runs as a background job.
    Task {
        /// What Codex is to do, and how to check it.
        task: String,
        /// Wait for the task to end and print its result.
        #[arg(long)]
        wait: bool,
        /// The model (see codex_models); default: the catalog's default standard model.
        #[arg(long, value_name = "SLUG")]
        model: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The plugin's Stop hook: reads the hook's JSON on stdin and, when the review gate is on
    /// (`review_gate = true`), has Codex review the change; a high or critical finding keeps
    /// Claude working. Always exits 0: any failure lets the stop through, with a message.
    /// Hidden: Claude Code runs it (plugin/hooks/hooks.json), people do not.
    #[command(hide = true)]
    Gate {
        /// The review's time limit in seconds (default 300).
        #[arg(long, value_name = "SECONDS",
              value_parser = clap::value_parser!(u64).range(1..=3600))]
        timeout_seconds: Option<u64>,
    },
    /// Run a background job (the MCP server starts this; not for people).
    #[command(hide = true)]
    RunJob {
        /// The job's id.
        id: String,
    },
    /// Print a shell completion script.
    ///
    /// For example `codex-mcp-bridge completions bash > ~/.local/share/bash-completion/completions/codex-mcp-bridge`,
    /// `codex-mcp-bridge completions zsh > ~/.zfunc/_codex-mcp-bridge`, or
    /// `codex-mcp-bridge completions fish > ~/.config/fish/completions/codex-mcp-bridge.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `codex-mcp-bridge man | man -l -`.
    #[command(hide = true)]
    Man {
        /// Write every page (this one and one per command, `codex-mcp-bridge-<command>.1`) into DIR
        /// instead, for packages (created 0600 like every file of this program: install them 0644).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum JobsAction {
    /// Show a job: its result once it ended (exactly what the tool call returns), else its
    /// progress.
    Show {
        /// The job's id (from `jobs` or the tool call).
        id: String,
        /// Wait up to this many seconds for a running job to end.
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=86400))]
        wait: Option<u64>,
    },
    /// Cancel a running job: its process closes the request and records it cancelled.
    Cancel {
        /// The job's id.
        id: String,
    },
    /// Apply a finished task's patch to the working tree, all or nothing (your other
    /// uncommitted changes are kept; nothing is staged).
    Apply {
        /// The task's job id.
        id: String,
    },
}

impl Command {
    /// Whether the command reports as JSON (`plugin-config --json` is a snippet, not a report).
    pub(super) fn json(&self) -> bool {
        match self {
            Command::Login { json, .. }
            | Command::Status { json }
            | Command::Logout { json, .. }
            | Command::Accounts { json }
            | Command::Use { json, .. }
            | Command::ImportCodex { json, .. }
            | Command::Jobs { json, .. }
            | Command::Task { json, .. } => *json,
            Command::Token
            | Command::Gate { .. }
            | Command::RunJob { .. }
            | Command::PluginConfig { .. }
            | Command::Completions { .. }
            | Command::Man { .. } => false,
        }
    }
}
