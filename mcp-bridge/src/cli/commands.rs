//! The commands: each parses nothing itself, calls core, and maps the answer to output + exit code.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use codex_oauth_core::oauth::{BrowserLoginOptions, SignInCancel, SignInResult};
use codex_oauth_core::store::AuthRecord;
use codex_oauth_core::{Error, SETTLE_LIMIT, Secret, Session, Settings};

use super::Command;
use super::output::{fail_line, info, result_line, status_json, status_text};

pub async fn run(settings: Settings, command: Command) -> ExitCode {
    let session = match Session::open(settings) {
        Ok(s) => s,
        Err(e) => return failed(&e),
    };
    let code = match command {
        Command::Login {
            device,
            no_browser,
            with_api_key,
        } => {
            if with_api_key {
                login_api_key(&session).await
            } else if device {
                login_device(&session).await
            } else {
                login_browser(&session, no_browser).await
            }
        }
        Command::Status { json } => status(&session, json).await,
        Command::Token => token(&session).await,
        Command::Logout => logout(&session).await,
        Command::ImportCodex { codex_home } => import(&session, codex_home).await,
        Command::PluginConfig { json } => super::plugin_config::run(session.settings(), json),
    };
    settle(&session).await;
    code
}

/// Before exiting: let a refresh in flight finish its save (a rotated token dropped here would
/// sign the user out at the next refresh), and say so when one could not be saved.
async fn settle(session: &Session) {
    if !session.settle(SETTLE_LIMIT).await {
        fail_line(
            "a refreshed sign-in could not be saved before exit (see `codex-mcp-bridge status`); free disk space or unlock the keychain, then sign in again if asked",
        );
    }
}

fn failed(e: &Error) -> ExitCode {
    fail_line(&e.to_string());
    ExitCode::from(1)
}

fn signed_in(r: &SignInResult) {
    let who = r.email.as_deref().unwrap_or("your account");
    let plan = r
        .plan
        .as_deref()
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    let place = match &r.saved.reason {
        Some(why) => format!("in {} — {why}", r.saved.location),
        None => format!("in the {}", r.saved.backend.label()),
    };
    info(&format!(
        "Signed in as {who}{plan}; credentials stored {place}."
    ));
}

/// Ctrl-C while waiting: cancel the flow cleanly.
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn login_browser(session: &Arc<Session>, no_browser: bool) -> ExitCode {
    let mut opts = BrowserLoginOptions::from_settings(session.settings());
    opts.open_browser = opts.open_browser && !no_browser;
    let (login, _) = match session.start_browser_sign_in(opts).await {
        Ok(l) => l,
        Err(e) => return failed(&e),
    };
    if login.browser_opened() {
        info("Your browser was opened to sign in. If it did not open, open this URL:");
    } else {
        info("Open this URL in a browser to sign in:");
    }
    result_line(login.auth_url().as_str());
    info(&format!(
        "Waiting for the sign-in (callback on http://127.0.0.1:{}; Ctrl-C to cancel)…",
        login.port()
    ));
    let cancel = login.cancel_handle();
    finish_login(session, cancel.into(), login.wait()).await
}

async fn login_device(session: &Arc<Session>) -> ExitCode {
    let (login, _) = match session.start_device_sign_in().await {
        Ok(l) => l,
        Err(e) => return failed(&e),
    };
    info("To sign in, open this page on any device and enter the code (it expires in 15 minutes).");
    info("Never share this code: anyone who has it can sign in as you.");
    result_line(login.verification_url().as_str());
    result_line(login.user_code());
    info("Waiting for approval (Ctrl-C to cancel)…");
    let cancel = login.cancel_handle();
    finish_login(session, cancel.into(), login.wait()).await
}

/// Wait for the flow (Ctrl-C cancels it), let the session record how it ended, and say so.
async fn finish_login(
    session: &Arc<Session>,
    cancel: SignInCancel,
    waiting: impl std::future::Future<Output = codex_oauth_core::Result<SignInResult>>,
) -> ExitCode {
    tokio::pin!(waiting);
    let result = tokio::select! {
        r = &mut waiting => r,
        _ = ctrl_c() => {
            cancel.cancel();
            waiting.await
        }
    };
    session.end_sign_in(&result).await;
    match result {
        Ok(r) => {
            signed_in(&r);
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e),
    }
}

async fn login_api_key(session: &Arc<Session>) -> ExitCode {
    info("Reading an OpenAI API key from standard input…");
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        fail_line(&format!("cannot read the API key from standard input: {e}"));
        return ExitCode::from(2);
    }
    let key = Secret::new(input.trim().to_string());
    drop(input);
    if key.is_empty() || key.expose().chars().any(char::is_whitespace) {
        fail_line(
            "no API key on standard input: pipe it in, e.g. `printenv OPENAI_API_KEY | codex-mcp-bridge login --with-api-key`",
        );
        return ExitCode::from(2);
    }
    match session.save_record(AuthRecord::from_api_key(key)).await {
        Ok(saved) => {
            info(&format!("API key stored ({}).", saved.location));
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e),
    }
}

async fn status(session: &Arc<Session>, json: bool) -> ExitCode {
    let s = session.status().await;
    if json {
        result_line(&status_json(&s).to_string());
    } else {
        result_line(&status_text(&s));
    }
    if s.signed_in {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Ctrl-C stops the wait, never the refresh: its save finishes before the process exits.
async fn token(session: &Arc<Session>) -> ExitCode {
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
        Err(e) => failed(&e),
    }
}

async fn logout(session: &Arc<Session>) -> ExitCode {
    match session.sign_out().await {
        Ok(out) if out.was_signed_in => {
            let revoked = if out.revoked {
                "the refresh token was revoked"
            } else {
                "the server could not be told (revoke failed), the local copy is gone"
            };
            info(&format!(
                "Signed out of profile {}: {revoked}.",
                session.settings().profile
            ));
            ExitCode::SUCCESS
        }
        Ok(_) => {
            info(&format!(
                "Profile {} was not signed in; nothing to do.",
                session.settings().profile
            ));
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e),
    }
}

async fn import(session: &Arc<Session>, codex_home: Option<PathBuf>) -> ExitCode {
    let Some(home) = codex_oauth_core::import::codex_home(codex_home) else {
        fail_line("cannot find the Codex home folder; pass --codex-home DIR");
        return ExitCode::from(2);
    };
    let h = home.clone();
    let rec = match tokio::task::spawn_blocking(move || {
        codex_oauth_core::import::read_codex_login(&h, None)
    })
    .await
    {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return failed(&e),
        Err(e) => return failed(&Error::Internal(e.to_string())),
    };
    let chatgpt = rec.tokens.is_some();
    let saved = match session.save_record(rec).await {
        Ok(saved) => saved,
        Err(e) => return failed(&e),
    };
    let s = session.status().await;
    let who = s.email.unwrap_or_else(|| "an API key".into());
    info(&format!(
        "Imported the Codex CLI login from {} ({who}); stored in {}.",
        home.display(),
        saved.location
    ));
    if !chatgpt {
        return ExitCode::SUCCESS;
    }
    // A refresh token may have one holder: two programs refreshing one lineage sign each other
    // out. Refresh now, so the Codex CLI's copy is the one that ends.
    match session.take_over_lineage().await {
        Ok(true) => info(
            "codex-oauth now holds this login alone: the Codex CLI will ask you to sign in again (`codex login`). Two programs cannot share one refresh token.",
        ),
        Ok(false) => info(
            "Could not refresh the login now; until codex-oauth refreshes it, the Codex CLI still shares it, and whichever refreshes second is signed out. Run `codex-mcp-bridge token` when the network is back.",
        ),
        Err(e) if e.needs_sign_in() => return failed(&e),
        Err(e) => {
            info(&format!(
                "Could not take the login over from the Codex CLI ({e}); until codex-oauth refreshes it, the two share it, and whichever refreshes second is signed out."
            ));
        }
    }
    ExitCode::SUCCESS
}
