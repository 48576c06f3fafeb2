//! The commands: each parses nothing itself, calls core, and maps the answer to output + exit code.
//! The sign-in commands are in `login`, the ones over every account in `accounts`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use codex_oauth_core::app::Accounts;
use codex_oauth_core::store::SaveOutcome;
use codex_oauth_core::{Error, Session};

use serde_json::{Value, json};

use super::Command;
use super::accounts::{list_accounts, logout_all, use_profile};
use super::login::{BrowserFlags, login_api_key, login_browser, login_device};
use super::output::{Output, fail_line, info, result_line, status_json, status_text};

pub async fn run(accounts: Accounts, command: Command, out: Output) -> ExitCode {
    // These work on every profile, not the served one.
    match command {
        Command::Accounts { json: _ } => return list_accounts(&accounts, out).await,
        Command::Use { name, json: _ } => return use_profile(&accounts, &name, out),
        Command::Logout { all: true, json: _ } => return logout_all(&accounts, out).await,
        Command::Task {
            task,
            wait,
            model,
            json: _,
        } => {
            let code = super::jobs::task(&accounts, task, model, wait, out).await;
            if !accounts.settle().await {
                not_settled();
            }
            return code;
        }
        Command::Gate { timeout_seconds } => {
            let code = super::gate::run(&accounts, timeout_seconds).await;
            if !accounts.settle().await {
                not_settled();
            }
            return code;
        }
        Command::Jobs { action, json: _ } => {
            let code = super::jobs::run(&accounts, action, out).await;
            if !accounts.settle().await {
                not_settled();
            }
            return code;
        }
        _ => {}
    }
    let session = match accounts.session(None) {
        Ok(s) => s,
        Err(e) => return out.fail(&e),
    };
    let code = match command {
        Command::Login {
            device,
            no_browser,
            paste,
            with_api_key,
            workspace,
            json: _,
        } => {
            if with_api_key {
                login_api_key(&session, out).await
            } else if device {
                login_device(&session, workspace.as_deref(), out).await
            } else {
                let flags = BrowserFlags {
                    no_browser: no_browser || paste,
                    paste,
                    workspace: workspace.as_deref(),
                };
                login_browser(&session, flags, out).await
            }
        }
        Command::Status { json: _ } => status(&session, out).await,
        Command::Token => token(&session, out).await,
        Command::Logout { .. } => logout(&session, out).await,
        Command::Accounts { .. }
        | Command::Use { .. }
        | Command::Jobs { .. }
        | Command::Task { .. }
        | Command::Gate { .. }
        | Command::RunJob { .. } => unreachable_command(out),
        Command::ImportCodex {
            codex_home,
            json: _,
        } => import(&session, codex_home, out).await,
        Command::PluginConfig { json } => super::plugin_config::run(session.settings(), json),
        Command::Completions { shell } => super::generate::completions(shell),
        Command::Man { out_dir } => super::generate::man(out_dir.as_deref()),
    };
    if !accounts.settle().await {
        not_settled();
    }
    code
}

/// Said when, before exiting, a refresh in flight could not finish its save (a rotated token
/// dropped here would sign the user out at the next refresh).
pub(super) fn not_settled() {
    fail_line(
        "a refreshed sign-in could not be saved before exit (see `codex-mcp-bridge status`); free disk space or unlock the keychain, then sign in again if asked",
    );
}

/// Where the secret went, for `--json`.
pub(super) fn saved_json(saved: &SaveOutcome) -> Value {
    json!({"backend": saved.backend, "location": saved.location, "reason": saved.reason})
}

/// Ctrl-C while waiting: cancel the flow cleanly.
pub(super) async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn status(session: &Arc<Session>, out: Output) -> ExitCode {
    let s = session.status().await;
    out.report(&status_text(&s), &status_json(&s));
    if s.signed_in {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Ctrl-C stops the wait, never the refresh: its save finishes before the process exits.
async fn token(session: &Arc<Session>, out: Output) -> ExitCode {
    let got = tokio::select! {
        r = session.access_token() => r,
        _ = ctrl_c() => {
            info("Interrupted; finishing the refresh in flight before exiting…");
            return ExitCode::from(130);
        }
    };
    match got {
        Ok(t) => {
            result_line(t.token.expose());
            ExitCode::SUCCESS
        }
        Err(e) => out.fail(&e),
    }
}

/// `{"profile", "was_signed_in", "revoked"}` under `--json`.
async fn logout(session: &Arc<Session>, out: Output) -> ExitCode {
    let profile = &session.settings().profile;
    match session.sign_out().await {
        Ok(done) => {
            let human = match (done.was_signed_in, done.revoked) {
                (true, true) => {
                    format!("Signed out of profile {profile}: the refresh token was revoked.")
                }
                (true, false) => format!(
                    "Signed out of profile {profile}: the server could not be told (revoke failed), the local copy is gone."
                ),
                (false, _) => format!("Profile {profile} was not signed in; nothing to do."),
            };
            out.done(
                &human,
                json!({
                    "profile": profile,
                    "was_signed_in": done.was_signed_in,
                    "revoked": done.revoked,
                }),
            )
        }
        Err(e) => out.fail(&e),
    }
}

/// Commands answered before a session exists never reach the per-session match.
fn unreachable_command(out: Output) -> ExitCode {
    out.fail(&Error::Internal(
        "this command has no single profile".into(),
    ))
}

/// `{"profile", "imported_from", "auth_mode", "email", "plan", "account_id", "store"}` under `--json`.
async fn import(session: &Arc<Session>, codex_home: Option<PathBuf>, out: Output) -> ExitCode {
    let Some(home) = codex_oauth_core::import::codex_home(codex_home) else {
        let e = Error::Input("cannot find the Codex home folder; pass --codex-home DIR".into());
        return out.fail_with(&e, 2);
    };
    let h = home.clone();
    let rec = match tokio::task::spawn_blocking(move || {
        codex_oauth_core::import::read_codex_login(&h, None)
    })
    .await
    {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return out.fail(&e),
        Err(e) => return out.fail(&Error::Internal(e.to_string())),
    };
    let chatgpt = rec.tokens.is_some();
    let saved = match session.save_record(rec).await {
        Ok(saved) => saved,
        Err(e) => return out.fail(&e),
    };
    // A refresh token may have one holder: two programs refreshing one lineage sign each other
    // out. Refresh now, so the Codex CLI's copy is the one that ends.
    let (taken_over, note) = if chatgpt {
        match session.take_over_lineage().await {
            Ok(true) => (
                true,
                " codex-oauth now holds this login alone: the Codex CLI will ask you to sign in again (`codex login`); two programs cannot share one refresh token.".to_owned(),
            ),
            Ok(false) => (
                false,
                " It could not be refreshed now: until codex-oauth refreshes it, the Codex CLI still shares it, and whichever refreshes second is signed out. Run `codex-mcp-bridge token` when the network is back.".to_owned(),
            ),
            Err(e) if e.needs_sign_in() => return out.fail(&e),
            Err(e) => (
                false,
                format!(
                    " It could not be taken over from the Codex CLI ({e}): until codex-oauth refreshes it, the two share it, and whichever refreshes second is signed out."
                ),
            ),
        }
    } else {
        (false, String::new())
    };
    let s = session.status().await;
    let object = json!({
        "profile": s.profile,
        "imported_from": home.display().to_string(),
        "auth_mode": s.auth_mode,
        "email": s.email,
        "plan": s.plan,
        "account_id": s.account_id,
        "store": saved_json(&saved),
        "taken_over": taken_over,
    });
    let who = s.email.as_deref().unwrap_or("an API key");
    out.done(
        &format!(
            "Imported the Codex CLI login from {} ({who}); stored in {}.{note}",
            home.display(),
            saved.location
        ),
        object,
    )
}
