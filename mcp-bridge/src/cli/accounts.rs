//! The commands over every account rather than the served one: `accounts`, `use NAME` and
//! `logout --all`.

use std::process::ExitCode;

use codex_oauth_core::Error;
use codex_oauth_core::app::Accounts;

use serde_json::json;

use super::commands::not_settled;
use super::output::{AccountJson, AccountsJson, Output, StatusJson};

/// `accounts`: one line per profile, the default marked `*`; under `--json` the default, where it
/// came from, and each account as its `status --json` object with `default`.
pub(super) async fn list_accounts(accounts: &Accounts, out: Output) -> ExitCode {
    let list = accounts.list().await;
    let width = list.iter().map(|a| a.profile.len()).max().unwrap_or(0);
    let lines: Vec<String> = list
        .iter()
        .map(|a| {
            let usage = a
                .status
                .details()
                .into_iter()
                .find(|(d, _)| *d == codex_oauth_core::status::Detail::Usage)
                .map(|(_, text)| format!(" · {text}"))
                .unwrap_or_default();
            let workspace = a
                .status
                .workspace
                .as_deref()
                .map(|w| format!(" · workspace {w}"))
                .unwrap_or_default();
            format!(
                "{} {:<width$}  {}{workspace}{usage}",
                if a.default { "*" } else { " " },
                a.profile,
                a.status.headline()
            )
        })
        .collect();
    let object = AccountsJson {
        default: accounts.default_profile().to_owned(),
        default_from: accounts.default_from(),
        accounts: list
            .iter()
            .map(|a| AccountJson {
                status: StatusJson::of(&a.status),
                default: a.default,
            })
            .collect(),
    };
    out.report_typed(&lines.join("\n"), &object);
    ExitCode::SUCCESS
}

/// `use NAME`: the default profile, in config.toml.
pub(super) fn use_profile(accounts: &Accounts, name: &str, out: Output) -> ExitCode {
    if let Err(reason) = codex_oauth_core::config::validate_profile(name) {
        return out.fail_with(&Error::Input(reason), 2);
    }
    let settings = accounts.settings();
    let known = accounts.names();
    if !known.iter().any(|p| p == name) {
        return out.fail(&Error::Input(format!(
            "there is no profile `{name}` (there are: {}); sign in to it first with `codex-mcp-bridge login --profile {name}`",
            known.join(", ")
        )));
    }
    if let Err(e) = codex_oauth_core::accounts::set_default(settings, name) {
        return out.fail(&e);
    }
    let mut human = format!(
        "The default account is now profile {name} (set in {}).",
        settings.config_file.display()
    );
    if std::env::var_os("CODEX_OAUTH_PROFILE").is_some_and(|v| !v.is_empty()) {
        human.push_str(" CODEX_OAUTH_PROFILE is set in this environment and still wins over it.");
    }
    out.done(
        &human,
        json!({"default": name, "config_file": settings.config_file.display().to_string()}),
    )
}

/// `logout --all`: every profile signed out; one line each, `{"profiles": [...]}` under `--json`.
/// A profile that could not be signed out is said so, the others still are; the exit code is 1 then.
pub(super) async fn logout_all(accounts: &Accounts, out: Output) -> ExitCode {
    let mut lines = Vec::new();
    let mut objects = Vec::new();
    let mut failed = false;
    for profile in accounts.names() {
        let outcome = match accounts.session(Some(&profile)) {
            Ok(session) => session.sign_out().await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(done) => {
                lines.push(if done.was_signed_in {
                    format!("Signed out of profile {profile}.")
                } else {
                    format!("Profile {profile} was not signed in.")
                });
                objects.push(json!({"profile": profile, "was_signed_in": done.was_signed_in, "revoked": done.revoked}));
            }
            Err(e) => {
                failed = true;
                lines.push(format!("Profile {profile} could not be signed out: {e}"));
                objects.push(json!({"profile": profile, "error": {"kind": e.kind(), "message": e.to_string()}}));
            }
        }
    }
    if !accounts.settle().await {
        not_settled();
    }
    let code = out.done(&lines.join("\n"), json!({"profiles": objects}));
    if failed { ExitCode::from(1) } else { code }
}
