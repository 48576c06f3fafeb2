//! Running a command line: the commands that need no settings first, then the accounts, the
//! server (no command) or a command on a runtime of its own.

use std::process::ExitCode;

use codex_oauth_core::Settings;
use codex_oauth_core::app::Accounts;
use codex_oauth_core::codex::CodexOptions;

use super::{Args, Command, commands, generate, output, plugin_config};
use crate::logging::{Mode, Plan};

pub fn run(args: Args) -> ExitCode {
    // These need no settings: a broken config.toml must not break them.
    match args.command {
        Some(Command::Completions { shell }) => return generate::completions(shell),
        Some(Command::Man { out_dir }) => return generate::man(out_dir.as_deref()),
        _ => {}
    }
    let out = output::Output::new(args.command.as_ref().is_some_and(Command::json));
    let accounts = match accounts(args.profile.as_deref()) {
        Ok(a) => a,
        // A Stop hook's exit 2 would block the stop: the gate fails open.
        Err(e) if matches!(args.command, Some(Command::Gate { .. })) => {
            return super::gate::unreadable_settings(&e);
        }
        Err(e) => return out.fail_with(&e, 2),
    };
    let command = match args.command {
        None => return crate::server::run(accounts, args.verbose),
        // Needs no store and no runtime: it only prints.
        Some(Command::PluginConfig { json }) => {
            return plugin_config::run(&accounts.settings_of(accounts.served()), json);
        }
        // A job's runner: detached, with its own logging and runtime.
        Some(Command::RunJob { id }) => return crate::server::run_job(accounts, &id),
        Some(command) => command,
    };
    crate::logging::init(
        &accounts.settings().home,
        Mode::Cli,
        &Plan::from_env(Mode::Cli, args.verbose),
    );
    let runtime = match crate::runtime::multi_thread() {
        Ok(r) => r,
        Err(e) => {
            return out.fail(&codex_oauth_core::Error::Internal(format!(
                "cannot start: {e}"
            )));
        }
    };
    runtime.block_on(commands::run(accounts, command, out))
}

/// The accounts of the home the settings name, serving `--profile`'s when given (else the
/// default). Nothing is opened yet.
fn accounts(profile: Option<&str>) -> codex_oauth_core::Result<Accounts> {
    let settings = Settings::load()?;
    let options = CodexOptions::default();
    match profile {
        Some(p) => Accounts::serving(settings, p, options),
        None => Ok(Accounts::new(settings, options)),
    }
}
