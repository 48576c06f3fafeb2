//! Sign-in from the app, in any profile: start a browser or device-code flow of core, record it as
//! pending in state.json (so the tray, the window and other processes see it), finish it in the
//! background, complete a browser one from its final redirect pasted by hand, and let one cancel
//! it. One sign-in runs in the app at a time (there is one callback port): starting one cancels
//! any other, of this profile or another. One account is one profile: a sign-in of an account
//! another profile holds renews that profile instead (core's `accounts::place_sign_in`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use codex_oauth_core::accounts::place_sign_in;
use codex_oauth_core::oauth::SignInResult;
use codex_oauth_core::signin::{Again, OnEnd, Started};
use codex_oauth_core::store::{SignInMethod, ensure_private_dir};
use serde::Serialize;

use crate::error::CommandError;
use crate::hub::Hub;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BrowserStarted {
    pub profile: String,
    pub url: String,
    /// False when the browser could not be opened (or opening is off): show the URL.
    pub browser_opened: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeviceStarted {
    pub profile: String,
    pub user_code: String,
    pub verification_url: String,
    pub expires_at: DateTime<Utc>,
}

/// How a flow ended (event `signin-ended`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SignInEnded {
    pub ok: bool,
    /// The profile the sign-in was for.
    pub profile: String,
    /// When the account was already another profile's: that profile, which now holds the
    /// sign-in (`profile` was not kept).
    pub merged_into: Option<String>,
    pub email: Option<String>,
    /// What to tell the user ("Signed in as …", "… is already profile work: …").
    pub message: Option<String>,
    pub error: Option<CommandError>,
}

/// A sign-in of this app that has not ended yet, for the profile it is for.
pub fn running_profile(hub: &Hub) -> Option<String> {
    hub.opened()
        .into_iter()
        .find(|a| a.flows.running().is_some())
        .map(|a| a.session.settings().profile.clone())
}

/// Cancel every sign-in of the app but `profile`'s, and wait until they have freed the port.
async fn cancel_others(hub: &Hub, profile: &str) {
    for a in hub.opened() {
        if a.session.settings().profile != profile {
            a.flows.cancel_and_wait().await;
        }
    }
}

/// After core has recorded the end: keep one profile per account, read the accounts again,
/// then tell `on_end`.
fn ended(
    hub: Arc<Hub>,
    profile: String,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> OnEnd {
    Box::new(move |result: codex_oauth_core::Result<SignInResult>| {
        Box::pin(async move {
            let ended = match result {
                Ok(r) => {
                    // The sign-in's workspace is recorded (its name for the card) and one
                    // account stays one profile.
                    let placed = match hub.account(&profile) {
                        Ok(a) => place_sign_in(&a.session, None, None).await,
                        Err(e) => Err(e),
                    };
                    let merged_into = match placed {
                        Ok(p) => p.merged.then_some(p.profile),
                        Err(e) => {
                            tracing::warn!(error = %e, %profile, "signed in, but could not check for the same account in another profile");
                            None
                        }
                    };
                    let message = match &merged_into {
                        Some(holder) => format!(
                            "{} is already profile {holder}: its sign-in was renewed there, and profile {profile} was not kept.",
                            r.who()
                        ),
                        None => format!("Signed in as {}.", r.who()),
                    };
                    SignInEnded {
                        ok: true,
                        profile: profile.clone(),
                        merged_into,
                        email: r.email,
                        message: Some(message),
                        error: None,
                    }
                }
                Err(e) => SignInEnded {
                    ok: false,
                    profile: profile.clone(),
                    merged_into: None,
                    email: None,
                    message: None,
                    error: Some(CommandError::from(e)),
                },
            };
            if ended.merged_into.is_some() {
                hub.rescan().await;
            } else {
                hub.reload(&profile).await;
            }
            on_end(ended);
        })
    })
}

/// Start a sign-in in `profile`; one running already (of any profile) is cancelled first.
async fn start(
    hub: &Arc<Hub>,
    profile: &str,
    method: SignInMethod,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> Result<Started, CommandError> {
    cancel_others(hub, profile).await;
    let account = hub.account(profile)?;
    // Its folder may have gone since it was opened (a merged or discarded profile, `logout`
    // elsewhere): the sign-in records and saves there.
    ensure_private_dir(account.session.store().dir())?;
    let end = ended(Arc::clone(hub), profile.to_owned(), on_end);
    let started = account
        .flows
        .start(method, Again::Replace, Some(end))
        .await?;
    // The pending sign-in is in state.json: show it now (a new profile is listed with it).
    hub.reload(profile).await;
    Ok(started)
}

/// Start the browser sign-in: the callback server listens, the browser opens (unless it cannot).
pub async fn start_browser(
    hub: &Arc<Hub>,
    profile: &str,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> Result<BrowserStarted, CommandError> {
    let s = start(hub, profile, SignInMethod::Browser, on_end).await?;
    Ok(BrowserStarted {
        profile: profile.to_owned(),
        url: s.info.url,
        browser_opened: s.browser_opened,
    })
}

/// Start the device-code sign-in: returns the code and the page to type it on.
pub async fn start_device(
    hub: &Arc<Hub>,
    profile: &str,
    on_end: impl FnOnce(SignInEnded) + Send + 'static,
) -> Result<DeviceStarted, CommandError> {
    let s = start(hub, profile, SignInMethod::Device, on_end).await?;
    Ok(DeviceStarted {
        profile: profile.to_owned(),
        user_code: s.info.user_code.unwrap_or_default(),
        verification_url: s.info.url,
        expires_at: s.info.expires_at,
    })
}

/// A browser sign-in completed from a pasted final redirect.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pasted {
    pub profile: String,
    pub email: Option<String>,
}

/// Complete the browser sign-in of `profile` with its final redirect, pasted by hand (the browser
/// ran on another machine). A wrong address or state is refused and the sign-in keeps waiting;
/// the end itself (saved, merged, how it failed) comes as for the callback.
pub async fn paste(hub: &Hub, profile: &str, pasted: &str) -> Result<Pasted, CommandError> {
    let account = hub.account(profile)?;
    let done = account.flows.paste(pasted).await?;
    Ok(Pasted {
        profile: profile.to_owned(),
        email: done.email,
    })
}
