//! `login`: the browser flow (with a pasted redirect), the device code and an API key from
//! stdin; then the workspace and the profile the sign-in lands in, and what is said of it.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use codex_oauth_core::accounts::{self, Placed};
use codex_oauth_core::model::Workspace;
use codex_oauth_core::oauth::{BrowserLoginOptions, PasteHandle, SignInCancel, SignInResult};
use codex_oauth_core::store::AuthRecord;
use codex_oauth_core::{Error, Secret, Session};

use serde_json::{Value, json};

use super::commands::{ctrl_c, saved_json};
use super::output::{Output, info};

fn workspace_json(w: &Workspace) -> Value {
    json!({"id": w.account_id, "name": w.name, "plan": w.plan_type, "structure": w.structure})
}

/// The outcome of a sign-in: the line for people, or `{"signed_in", "profile", "method", "email",
/// "plan", "account_id", "store"}` (with `workspace` and `workspaces` when it can use several).
fn signed_in(method: &str, r: &SignInResult, placed: &Placed, out: Output) -> ExitCode {
    let mut object = json!({
        "signed_in": true,
        "profile": placed.profile,
        "method": method,
        "email": r.email,
        "plan": r.plan,
        "account_id": r.account_id,
        "store": saved_json(&r.saved),
    });
    // Only a sign-in that can use several: the documented shape stays as it was otherwise.
    if placed.workspaces.len() > 1 {
        object["workspace"] = placed
            .workspace
            .as_ref()
            .map_or(Value::Null, workspace_json);
        object["workspaces"] = placed.workspaces.iter().map(workspace_json).collect();
    }
    let place = match &r.saved.reason {
        Some(why) => format!("in {} — {why}", r.saved.location),
        None => format!("in the {}", r.saved.backend.label()),
    };
    out.done(
        &format!("Signed in as {}; credentials stored {place}.", r.who()),
        object,
    )
}

/// How `login` runs the browser flow.
pub(super) struct BrowserFlags<'a> {
    pub(super) no_browser: bool,
    /// Read a pasted final redirect from stdin (`--paste`; also at a terminal without it).
    pub(super) paste: bool,
    pub(super) workspace: Option<&'a str>,
}

pub(super) async fn login_browser(
    session: &Arc<Session>,
    flags: BrowserFlags<'_>,
    out: Output,
) -> ExitCode {
    let mut opts = BrowserLoginOptions::from_settings(session.settings());
    opts.open_browser = opts.open_browser && !flags.no_browser;
    opts.workspace = flags.workspace.map(str::to_owned);
    let (login, _) = match session.start_browser_sign_in(opts).await {
        Ok(l) => l,
        Err(e) => return out.fail(&e),
    };
    if login.browser_opened() {
        info("Your browser was opened to sign in. If it did not open, open this URL:");
    } else {
        info("Open this URL in a browser to sign in:");
    }
    out.value(login.auth_url().as_str());
    info(&format!(
        "Waiting for the sign-in (callback on http://127.0.0.1:{}; Ctrl-C to cancel)…",
        login.port()
    ));
    let cancel = login.cancel_handle();
    let ending = Ending {
        method: "browser",
        cancel: cancel.into(),
        workspace: flags.workspace,
    };
    // At a terminal the pasted address is read even without --paste: the person may only find
    // out now that the browser runs elsewhere.
    if flags.paste || out.interactive() {
        info(
            "If the browser is on another machine, its last page will not load: paste that page's address here and press Enter.",
        );
        let pasted = login.paste_handle();
        let waiting = with_pasted(pasted, login.wait());
        return finish_login(session, ending, waiting, out).await;
    }
    finish_login(session, ending, login.wait(), out).await
}

/// Wait for the callback while reading pasted addresses from stdin, a line each, until one
/// ends the flow; a refused one is said and the next is read. EOF only means nothing is pasted.
async fn with_pasted(
    pasted: PasteHandle,
    waiting: impl std::future::Future<Output = codex_oauth_core::Result<SignInResult>>,
) -> codex_oauth_core::Result<SignInResult> {
    tokio::pin!(waiting);
    let mut lines = stdin_lines().lock().await;
    loop {
        tokio::select! {
            r = &mut waiting => return r,
            line = lines.recv() => {
                let Some(line) = line else { return waiting.await };
                if line.expose().trim().is_empty() {
                    continue;
                }
                // The flow's end (signed in, or how it failed) comes through `waiting`.
                if let Err(e) = pasted.complete(line.expose()).await
                    && !pasted.has_ended()
                {
                    info(&e.to_string());
                }
                if pasted.has_ended() {
                    return waiting.await;
                }
            }
        }
    }
}

/// Lines of stdin, read on a thread of their own (a blocking read must hold up neither the
/// callback nor the exit); closed at EOF or on a read error. A line may hold a code: a `Secret`.
/// One reader for the process, started on first use: the paste loop and the workspace
/// question read the same lines.
fn stdin_lines() -> &'static tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Secret>> {
    static LINES: std::sync::OnceLock<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Secret>>> =
        std::sync::OnceLock::new();
    LINES.get_or_init(|| tokio::sync::Mutex::new(read_stdin_lines()))
}

fn read_stdin_lines() -> tokio::sync::mpsc::Receiver<Secret> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        loop {
            let mut line = String::new();
            match stdin.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.blocking_send(Secret::new(line)).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

pub(super) async fn login_device(
    session: &Arc<Session>,
    workspace: Option<&str>,
    out: Output,
) -> ExitCode {
    let (login, _) = match session.start_device_sign_in().await {
        Ok(l) => l,
        Err(e) => return out.fail(&e),
    };
    info("To sign in, open this page on any device and enter the code (it expires in 15 minutes).");
    info("Never share this code: anyone who has it can sign in as you.");
    out.value(login.verification_url().as_str());
    out.value(login.user_code());
    info("Waiting for approval (Ctrl-C to cancel)…");
    let cancel = login.cancel_handle();
    let ending = Ending {
        method: "device",
        cancel: cancel.into(),
        workspace,
    };
    finish_login(session, ending, login.wait(), out).await
}

/// What `finish_login` needs of the flow besides its result.
struct Ending<'a> {
    method: &'static str,
    cancel: SignInCancel,
    /// The workspace asked for with `--workspace`.
    workspace: Option<&'a str>,
}

/// Wait for the flow (Ctrl-C cancels it), let the session record how it ended, then settle the
/// workspace (the one asked for, or asked at a terminal when there are several) and the profile
/// (one account is one profile), and say so.
async fn finish_login(
    session: &Arc<Session>,
    ending: Ending<'_>,
    waiting: impl std::future::Future<Output = codex_oauth_core::Result<SignInResult>>,
    out: Output,
) -> ExitCode {
    tokio::pin!(waiting);
    let result = tokio::select! {
        r = &mut waiting => r,
        _ = ctrl_c() => {
            ending.cancel.cancel();
            waiting.await
        }
    };
    session.end_sign_in(&result).await;
    let mut r = match result {
        Ok(r) => r,
        Err(e) => return out.fail(&e),
    };
    let profile = session.settings().profile.clone();
    let listed = match accounts::workspaces(session).await {
        Ok(l) => Some(l),
        Err(e) if ending.workspace.is_none() => {
            info(&format!(
                "Signed in, but could not list the workspaces of this sign-in: {e}"
            ));
            Some(Vec::new())
        }
        // Asked again (and said) by place_sign_in.
        Err(_) => None,
    };
    let asked;
    let wanted = match (ending.workspace, &listed) {
        (Some(w), _) => Some(w),
        (None, Some(list)) if list.len() > 1 && out.interactive() => {
            asked = ask_workspace(list, r.account_id.as_deref(), &profile).await;
            asked.as_deref()
        }
        _ => None,
    };
    let placed = match accounts::place_sign_in(session, wanted, listed).await {
        Ok(p) => p,
        Err(e) => {
            let e = Error::Input(format!(
                "signed in to profile {profile}, but {e}. It uses the sign-in's default workspace; to use another, sign in again with `codex-mcp-bridge login --workspace ID`"
            ));
            return out.fail(&e);
        }
    };
    if placed.merged {
        info(&format!(
            "This account is already profile {}: its sign-in was renewed there, and profile {profile} was not kept.",
            placed.profile
        ));
        let there = accounts::settings_of(session.settings(), &placed.profile);
        if let Ok(s) = Session::open(there) {
            r.saved.location = s.status().await.store.location.unwrap_or(r.saved.location);
        }
    }
    if let Some(w) = &placed.workspace {
        r.account_id = Some(w.account_id.clone());
        if placed.workspaces.len() > 1 {
            info(&format!(
                "Profile {} uses workspace {}.",
                placed.profile,
                accounts::workspace_label(w)
            ));
        }
    }
    if placed.workspaces.len() > 1 && wanted.is_none() && !out.interactive() {
        info(&format!(
            "This sign-in can use {} workspaces: {}. To use another one, sign in again with `codex-mcp-bridge login --workspace ID`.",
            placed.workspaces.len(),
            accounts::describe_workspaces(&placed.workspaces)
        ));
    }
    signed_in(ending.method, &r, &placed, out)
}

/// Ask at the terminal which workspace the profile uses; Enter (or the end of input) keeps the
/// sign-in's own. Returns the id chosen, `None` to keep it.
async fn ask_workspace(list: &[Workspace], current: Option<&str>, profile: &str) -> Option<String> {
    info(&format!("This sign-in can use {} workspaces:", list.len()));
    for (i, w) in list.iter().enumerate() {
        let mark = if current == Some(w.account_id.as_str()) {
            "  (its default)"
        } else {
            ""
        };
        info(&format!(
            "  {}. {}{mark}",
            i + 1,
            accounts::workspace_label(w)
        ));
    }
    let default = list
        .iter()
        .position(|w| current == Some(w.account_id.as_str()))
        .unwrap_or(0)
        + 1;
    let mut lines = stdin_lines().lock().await;
    loop {
        {
            use std::io::Write;
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "Which one should profile {profile} use? [{default}] ");
            let _ = err.flush();
        }
        let line = lines.recv().await?;
        let answer = line.expose().trim();
        if answer.is_empty() {
            return list.get(default - 1).map(|w| w.account_id.clone());
        }
        if let Some(w) = answer
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| list.get(i))
        {
            return Some(w.account_id.clone());
        }
        if let Ok(w) = accounts::pick(list, answer) {
            return Some(w.account_id.clone());
        }
        info(&format!(
            "Type a number from 1 to {}, or press Enter for {default}.",
            list.len()
        ));
    }
}

pub(super) async fn login_api_key(session: &Arc<Session>, out: Output) -> ExitCode {
    info("Reading an OpenAI API key from standard input…");
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        let e = Error::Input(format!("cannot read the API key from standard input: {e}"));
        return out.fail_with(&e, 2);
    }
    let key = Secret::new(input.trim().to_string());
    drop(input);
    if key.is_empty() || key.expose().chars().any(char::is_whitespace) {
        let e = Error::Input(
            "no API key on standard input: pipe it in, e.g. `printenv OPENAI_API_KEY | codex-mcp-bridge login --with-api-key`".into(),
        );
        return out.fail_with(&e, 2);
    }
    match session.save_record(AuthRecord::from_api_key(key)).await {
        Ok(saved) => {
            if let Err(e) = codex_oauth_core::accounts::adopt_as_default(
                session.settings(),
                &session.settings().profile,
            ) {
                tracing::warn!(error = %e, "cannot make the first account the default");
            }
            out.done(
                &format!("API key stored ({}).", saved.location),
                json!({
                    "signed_in": true,
                    "profile": session.settings().profile,
                    "method": "api_key",
                    "email": null,
                    "plan": null,
                    "account_id": null,
                    "store": saved_json(&saved),
                }),
            )
        }
        Err(e) => out.fail(&e),
    }
}
